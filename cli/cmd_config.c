#include "cli.h"

int cmd_config(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_unavailable("config");
}
