/*
 * cli: the qmtl command table and the helpers every subcommand shares.
 *
 * Each subcommand lives in its own cli/cmd_<name>.c and exports one entry point
 * 'int cmd_<name>(int argc, char **argv)' where argv[0] is the subcommand word
 * (e.g. "run"). Exit codes, used by every subcommand:
 *   0 success, 1 failure while doing the work, 2 usage error (bad flag, unknown
 *   subcommand), 3 not built yet in this version.
 */
#ifndef QMTL_CLI_H
#define QMTL_CLI_H

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2
#define CLI_UNAVAILABLE 3

struct cli_command {
    const char *name;    /* first word after 'qmtl' */
    const char *summary; /* one line for 'qmtl --help' */
    const char *usage;   /* full usage text for 'qmtl <name> --help' */
    int (*run)(int argc, char **argv);
};

/* The table, terminated by an entry with name == NULL. */
extern const struct cli_command cli_commands[];

/* Look a command up by name; NULL if unknown. */
const struct cli_command *cli_find(const char *name);

/* Print 'qmtl <cmd->name>' usage to stdout (help) or stderr (errors). */
void cli_print_usage(const struct cli_command *cmd, int to_stderr);

/* True when argv[1..argc) holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/*
 * The unknown-option branch of every command: prints "qmtl <where>: unknown option
 * '--ofline' (did you mean '--offline'?)" (or "option '--x' does not apply here" when the
 * usage names it for another subcommand) and a pointer to --help on stderr, and returns
 * CLI_USAGE. 'where' is the command as typed ("run", "service gateway"); its first word
 * names the table entry whose usage text lists the known options: every "--word" in
 * that text is a candidate, so an option documented in the usage is suggested without
 * any list to maintain. A "--opt=value" form is matched on "--opt".
 */
int cli_unknown_option(const char *where, const char *opt);

/* An option given last, without its value: "needs a value" when the usage text names
 * it, else the same as cli_unknown_option(). Returns CLI_USAGE. */
int cli_missing_value(const char *where, const char *opt);

/* A usage error: "qmtl <cmd>: " + fmt (with one string argument) on stderr, then the
 * command's usage; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);

/* Print "qmtl <what>: not built yet in this version" and return CLI_UNAVAILABLE. */
int cli_unavailable(const char *what);

int cmd_project(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_plugin(int argc, char **argv);
int cmd_world(int argc, char **argv);
int cmd_node_id(int argc, char **argv);
int cmd_sdk(int argc, char **argv);

#endif
