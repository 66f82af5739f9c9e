#include "cli.h"

int cmd_node_id(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_unavailable("node-id");
}
