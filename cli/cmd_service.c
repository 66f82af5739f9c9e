#include "cli.h"
#include "dagmanager/dm_server.h"

#include <string.h>

int cmd_service(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "dagmanager") == 0)
        return dm_cmd_server(argc - 1, argv + 1);
    return cli_unavailable("service");
}
