#include "cli.h"

int cmd_plugin(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_unavailable("plugin");
}
