#include "cli.h"

int cmd_world(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_unavailable("world");
}
