/* qmtl: main() and subcommand dispatch only; each subcommand is in cli/cmd_*.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: qmtl <command> [options]\n\ncommands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n'qmtl <command> --help' shows the usage of one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && cli_find(argv[2])) {
            cli_print_usage(cli_find(argv[2]), 0);
            return CLI_OK;
        }
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("qmtl 0.1.0\n");
        return CLI_OK;
    }
    const struct cli_command *cmd = cli_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "qmtl: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_wants_help(argc - 1, argv + 1)) {
        cli_print_usage(cmd, 0);
        return CLI_OK;
    }
    return cmd->run(argc - 1, argv + 1);
}
