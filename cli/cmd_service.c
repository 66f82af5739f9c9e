#include "cli.h"

int cmd_service(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_unavailable("service");
}
