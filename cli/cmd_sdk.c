#include "cli.h"

int cmd_sdk(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_unavailable("sdk");
}
