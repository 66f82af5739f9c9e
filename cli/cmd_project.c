#include "cli.h"

int cmd_project(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_unavailable("project");
}
