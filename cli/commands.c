#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "common/suggest.h"

const struct cli_command cli_commands[] = {
    {"project", "scaffold a strategy project",
     "usage: qmtl project init --list-templates\n"
     "       qmtl project init --path DIR [--strategy TEMPLATE] [--with-sample-data] [--force]\n"
     "  --list-templates    print each template with a one-line description and the\n"
     "                      data it reads ([data: BTC])\n"
     "  --path DIR          create the project in DIR (created if missing; must be empty)\n"
     "  --strategy T        template to start from (default: the first listed, 'general')\n"
     "  --with-sample-data  add data/ with seeded one-minute OHLCV for the symbols the\n"
     "                      template reads (without it: seeded synthetic data for them)\n"
     "  --force             write into a non-empty DIR (project files are overwritten)\n"
     "exit codes: 0 created (or listed); 1 refused or failed: DIR not empty, DIR not\n"
     "  creatable or writable, I/O error, templates not found; 2 usage error: unknown\n"
     "  option, missing --path, unknown template (the valid ones are listed)\n",
     cmd_project},
    {"run", "run the strategy host (offline backtest or attached to a gateway)",
     "usage: qmtl run [--offline] [--config F] [--plugins DIR] [--data SPEC]... [--json]\n"
     "                [--explain] [--cash N] [--fee-bps N] [--slippage-bps N]\n"
     "                [--csv-errors skip|fail] [--sort] [--allow-nonpositive-prices]\n"
     "                [--order-log FILE]\n"
     "                [--from T] [--to T] [--param S.K=V]... [--sweep S.K=V1,V2,...]...\n"
     "                [--strict] [--quiet] [--report F.html] [--equity-csv F]\n"
     "                [--trades-csv F] [--metrics-port N] [--restart-on-crash]\n"
     "                [--pace N] [--follow]\n"
     "                [--world-id W --gateway-url URL [--bus nats://HOST:PORT]\n"
     "                 [--allow-live-replay]]\n"
     "  Without a gateway configured, or with --offline, the host runs offline (backtest\n"
     "  domain): every plugin in DIR (default host.plugins_dir) is loaded, the data is\n"
     "  replayed in full in timestamp order, orders go to the simulated broker, and a\n"
     "  summary per strategy is printed, with the portfolio of all strategies (--json: one\n"
     "  JSON document with the statistics, equity curves and round trips). --explain\n"
     "  prints the DAG and exits.\n"
     "  --order-log FILE writes every order and fill, one line each (the same input gives\n"
     "  the same bytes).\n"
     "  Offline results (docs/backtest.md):\n"
     "    --report F.html    one self-contained HTML report (charts, statistics, trades)\n"
     "    --equity-csv F     the equity curves (one row per bar and strategy)\n"
     "    --trades-csv F     the round trips (one row each)\n"
     "    --from T, --to T   replay only data with from <= ts <= to; T is seconds since\n"
     "                       the epoch or YYYY-MM-DD[THH:MM[:SS]] (UTC; a date alone for\n"
     "                       --to means the end of that day)\n"
     "    --param S.K=V      strategy S's parameter K (over host.strategies)\n"
     "    --sweep S.K=V1,..  run strategy S once per value (several keys: every\n"
     "                       combination) in one host, named S[K=V,...]\n"
     "    --strict           a parameter no strategy reads is an error, not a warning\n"
     "    --quiet            no progress line (shown on a terminal after one second)\n"
     "  --data SPEC (repeatable; replaces host.data from the config):\n"
     "    TAG[,TAG...]=PATH            a CSV file bound to those tags\n"
     "    PATH                         a CSV file; the tag is the file name stem\n"
     "                                 (data/BTC.csv -> BTC)\n"
     "    TAGS=gbm|random_walk[:OPTS]  seeded synthetic bars; OPTS = key=value,... of\n"
     "                                 count, interval, seed, start, drift, vol, start_ts\n"
     "    TAGS=follow:PATH             a CSV file read, then followed as it grows\n"
     "                                 (tail -F: survives rotation and truncation)\n"
     "    tcp:HOST:PORT, unix:PATH     listen for publishers of line-delimited JSON\n"
     "                                 bars/ticks, each line with its tags\n"
     "    -                            the same JSON lines on standard input\n"
     "    [TAGS=]nats://HOST:PORT/SUBJECT  the same JSON lines as messages of a NATS\n"
     "                                 subject (with TAGS: lines may omit their tags);\n"
     "                                 ?stream=S&durable=D: through a JetStream durable\n"
     "                                 consumer of stream S (resumes after a restart)\n"
     "    Live inputs deliver while the finite sources replay; the host runs until\n"
     "    standard input ends (when it is the only live input) or SIGINT/SIGTERM, the\n"
     "    normal way to stop a live host (exit 0), then prints the summary (docs/data.md,\n"
     "    Live inputs). Offline or attached.\n"
     "  --metrics-port N  serve GET /metrics (Prometheus) and /health on\n"
     "                host.metrics_host (127.0.0.1) port N while the host runs (default\n"
     "                host.metrics_port; 0 = off; docs/operations.md)\n"
     "  --csv-errors  a bad CSV row (malformed, a NUL byte, prices <= 0 or not finite,\n"
     "                high < low, negative volume, out of time order) is skipped and\n"
     "                counted, or fails the run (default host.csv_errors, skip). A file\n"
     "                sorted newest first is refused.\n"
     "  --sort        read each CSV file whole and sort it by time (stable) first\n"
     "  --allow-nonpositive-prices  accept prices <= 0 (spreads and the like)\n"
     "  Attached (--gateway-url or host.gateway_url, with --world-id or host.world_id; a\n"
     "  world without a gateway URL is a usage error):\n"
     "  each strategy's DAG is submitted to the gateway, the world's decision sets the\n"
     "  domain (paper -> dryrun, live -> live, else no order leaves), activation events\n"
     "  open and close each strategy's gate (closed by default and whenever the gateway is\n"
     "  lost), and the data is replayed as the live feed: --pace N events per second\n"
     "  (default as fast as possible). At the data end the summary (plus gate figures) is\n"
     "  printed, unless --follow keeps the host running until SIGINT/SIGTERM.\n"
     "  --follow      keep running after the data ends, until SIGINT/SIGTERM (offline or\n"
     "                attached); --pace N replays N events per second. A host that keeps\n"
     "                running (attached, --follow, a live input) applies new, replaced\n"
     "                and removed plugins of its plugins directory as they change, and\n"
     "                rescans it on SIGHUP (host.hot_reload; a finite offline replay\n"
     "                never reloads).\n"
     "  --restart-on-crash  run the host in a child process and start it again (1 s\n"
     "                backoff, doubling up to 30 s) when it dies of SIGSEGV, SIGBUS,\n"
     "                SIGFPE, SIGILL or SIGABRT; the plugin file that crashed it is\n"
     "                quarantined until a new version of it is dropped in (also without\n"
     "                this option, at the next start). SIGTERM, SIGINT and SIGHUP are\n"
     "                passed on to the host (docs/operations.md).\n"
     "  --bus URL (attached; default host.bus): share node outputs with hosts on other\n"
     "  machines through NATS JetStream: indicators and custom nodes this host computes\n"
     "  are published to their queues, those another host computes are consumed instead\n"
     "  of computed (docs/scale-out.md). With a bus, --explain also prints each node's\n"
     "  role (local, published, standby, remote) and the host computing it, from the\n"
     "  gateway's dry run and the lease bucket (nothing is submitted). URL may list\n"
     "  several servers of a NATS cluster: nats://A:4222,nats://B:4222.\n"
     "  In a live world the data (a replay of history) trades only with\n"
     "  --allow-live-replay; without it the run stops at start, and orders are blocked if\n"
     "  the world turns live later. Before any gate opens the host rebuilds each\n"
     "  strategy's book from the gateway (its orders and fills); orders it decides again\n"
     "  while replaying up to its latest stored order are not sent twice. Fills and order\n"
     "  updates arrive as stream events (docs/connectors.md).\n"
     "  SIGINT or SIGTERM during an offline replay stops it between two batches: on_finish\n"
     "  runs and the summary covers the data replayed so far (exit 1, 'interrupted').\n"
     "  Exit 0 when every strategy ran cleanly, 1 when one failed (it is reported).\n",
     cmd_run},
    {"feed", "replay a CSV file as JSON lines into a host's live input, at a given pace",
     "usage: qmtl feed --to tcp:HOST:PORT|unix:PATH|nats://HOST:PORT/SUBJECT|- [--rate N]\n"
     "                 [--tags T[,T...]] FILE.csv\n"
     "  Read FILE.csv (the CSV format of docs/data.md) and send each row as one line of\n"
     "  JSON, {\"tags\":[...],\"ts\":...,\"open\":...,\"close\":...}, to a host started with\n"
     "  'qmtl run --data tcp:HOST:PORT' (or unix:PATH; '-' writes to standard output, for\n"
     "  'qmtl feed --to - F.csv | qmtl run --data -'), to test the live path. To\n"
     "  nats://HOST:PORT/SUBJECT the lines are published on that NATS subject, the lines\n"
     "  of one write in one message (one line each when --rate paces them).\n"
     "    --rate N   N lines per second (default 0: as fast as the host takes them)\n"
     "    --tags T   the tags every line carries (default: the file name stem,\n"
     "               data/BTC.csv -> BTC)\n"
     "  Bad rows are skipped (counted). At the end one line on stderr: lines sent, time.\n"
     "  Exit status: 0 sent, 1 cannot read the file or reach the host (or the NATS\n"
     "  server), 2 usage error.\n",
     cmd_feed},
    {"report", "build the HTML report of a saved backtest (qmtl run --offline --json)",
     "usage: qmtl report RUN.json -o OUT.html\n"
     "  Write the same self-contained HTML report as 'qmtl run --offline --report' from a\n"
     "  document saved with 'qmtl run --offline --json > RUN.json'. The document is\n"
     "  checked first; a missing or malformed field is named.\n"
     "  Exit status: 0 written, 1 unreadable or invalid document or write error, 2 usage.\n",
     cmd_report},
    {"service", "start a service: gateway or dagmanager",
     "usage: qmtl service gateway [--config F]\n"
     "       qmtl service dagmanager server [--config F]\n"
     "  Services (each runs in the foreground until SIGINT or SIGTERM):\n"
     "    gateway             the control plane: worlds, activation, strategy submission,\n"
     "                        the WebSocket event stream, live orders; listens on\n"
     "                        gateway.host:gateway.port (docs/operations.md)\n"
     "    dagmanager server   the global node and queue registry (diffs, tag queries);\n"
     "                        listens on dagmanager.host:dagmanager.port (docs/dagmanager.md)\n"
     "  Options (both services):\n"
     "    --config F          the qmtl.yml to load (default $QMTL_CONFIG_FILE, ./qmtl.yml,\n"
     "                        ./qmtl.yaml, else the built-in defaults)\n"
     "  Exit 0 after a clean stop, 1 when the config is invalid or the service cannot\n"
     "  start (e.g. the port is taken), 2 usage error.\n",
     cmd_service},
    {"config", "check a qmtl.yml",
     "usage: qmtl config validate [--config F] [--target gateway|dagmanager|host|all] [--offline] "
     "[--json]\n"
     "       qmtl config show [--config F] [--json]\n"
     "       qmtl config schema [--json]\n"
     "  validate: load the file (else $QMTL_CONFIG_FILE, ./qmtl.yml, ./qmtl.yaml, defaults),\n"
     "  check it and, unless --offline, probe what it points at (URLs, SQLite stores, plugins\n"
     "  dir). Exit 0 ok (warnings allowed), 1 a check failed, 2 file missing or invalid.\n"
     "  show: the effective value of every key (secrets masked). schema: every key, its type,\n"
     "  default and environment variable.\n",
     cmd_config},
    {"plugin", "inspect a strategy plugin",
     "usage: qmtl plugin check [--json] PLUGIN.so\n"
     "  Load one plugin in isolation and report its ABI version, name, version, callbacks\n"
     "  and nodes. Exit 0 only if the plugin is loadable.\n",
     cmd_plugin},
    {"world", "operator client for the gateway's world API",
     "usage: qmtl world [--gateway-url URL] [--token T] [--json] [--config F] [--timeout S]\n"
     "                  <verb> ...\n"
     "  Operator client for the gateway's world API. Verbs:\n"
     "    list                                  the worlds (ID, NAME, MODE)\n"
     "    get W                                 one world document\n"
     "    create W [--name N] [--mode M] [--allow-live]\n"
     "                                          M: validate (default), compute-only, paper,\n"
     "                                          live, shadow\n"
     "    delete W [--allow-live]               delete the world (its hosts hear every\n"
     "                                          strategy switched off first)\n"
     "    decide W                              the decision envelope (effective_mode, domain);\n"
     "                                          with no_active_strategies, why and the fix\n"
     "    activation W [STRATEGY [--side S]]    the activation table, or one strategy's entries\n"
     "    activate W STRATEGY [--side long|short|both] [--weight X] [--inactive] [--freeze]\n"
     "             [--drain] [--mode M] [--allow-live]\n"
     "                                          set one strategy's activation (side default\n"
     "                                          long); the change is conditional on the ETag\n"
     "                                          read just before, so a concurrent change is\n"
     "                                          reported (exit 1), never overwritten; warns\n"
     "                                          when the world has never seen STRATEGY\n"
     "    apply W --run-id R [--activate S]... [--deactivate S]... [--allow-live]\n"
     "    apply W --run-id R --metrics FILE [--allow-live]\n"
     "                                          2-phase apply of a plan, or of the world's\n"
     "                                          default policy over FILE's metrics\n"
     "                                          ({strategy: {metric: value}}, '-' = stdin)\n"
     "    audit W [--limit N]                   the world's audit log\n"
     "    policy set W FILE                     store FILE's JSON policy ('-' = stdin) as a\n"
     "                                          new version and make it the default\n"
     "    policy get W [--version N]            a policy (default: the world's default one)\n"
     "    orders W [--status S] [--limit N]     the world's live orders, oldest first; S:\n"
     "                                          new, acked, open (not final yet),\n"
     "                                          accepted, partially_filled, filled,\n"
     "                                          rejected, canceled, expired\n"     "    kill W [--reason TEXT] [--allow-live] the kill switch: the world's hosts flatten\n"
     "                                          and stop trading, the gateway takes only\n"
     "                                          orders that reduce a position\n"
     "    kill W --release [--allow-live]       release it (hosts stay stopped until they\n"
     "                                          are restarted)\n"
     "  --gateway-url  default host.gateway_url, else http://gateway.host:gateway.port\n"
     "                 from the config (http://127.0.0.1:8000)\n"
     "  --token        operator token; default $QMTL_OPERATOR_TOKEN, else\n"
     "                 gateway.operator_token from the config\n"
     "  --allow-live   send X-Allow-Live: true (needed for changes to live worlds)\n"
     "  --json         print the gateway's JSON instead of tables\n"
     "  --timeout S    per request; default the config's HTTP budget (2 s)\n"
     "  Exit status: 0 ok; 1 the gateway refused (its status, error code and message are\n"
     "  printed, e.g. '401 E_UNAUTHORIZED: ...') or an activation changed concurrently;\n"
     "  2 usage error or unreadable config; 3 gateway unreachable (connect failed, timed\n"
     "  out, or the answer was not HTTP/JSON).\n",
     cmd_world},
    {"connector", "broker connectors that fill a world's live orders (paper)",
     "usage: qmtl connector paper --gateway-url URL --world-id W --data SPEC [--data SPEC]...\n"
     "                            [--config F] [--token T] [--claim-id ID] [--fee-bps N]\n"
     "                            [--slippage-bps N] [--fill-at next_open|close] [--poll S]\n"
     "                            [--once]\n"
     "  The paper connector: claims the world's live orders from the gateway (each exactly\n"
     "  once), fills them against the price data the way the simulated broker does (a\n"
     "  market order at the open of the next bar, or with --fill-at close at the close of\n"
     "  its bar; slippage against the order, fee on the notional) and posts the fills back\n"
     "  (POST /fills); an order whose symbol has no data is rejected, one with no bar to\n"
     "  fill at is expired. Runs until SIGINT/SIGTERM; --once stops when no order is left.\n"
     "  The protocol, for writing real connectors: docs/connectors.md.\n"
     "  --gateway-url   default host.gateway_url; --world-id default host.world_id\n"
     "  --data SPEC     price data, as 'qmtl run --data' (default host.data); an order's\n"
     "                  symbol is a data tag\n"
     "  --token         connector token; default $QMTL_CONNECTOR_TOKEN, else\n"
     "                  gateway.connector_token from the config\n"
     "  --claim-id ID   names this connector in its claims (default paper-<world>); a\n"
     "                  restarted connector with the same ID finishes what it had claimed\n"
     "  --fee-bps, --slippage-bps, --fill-at   default broker.fee_bps,\n"
     "                  broker.slippage_bps and broker.fill_at (as the simulated broker)\n"
     "  --poll S        pause when nothing is new (default 0.2 s)\n"
     "  Prints one line of counts at the end. Exit status: 0 ok; 1 bad data, refused by\n"
     "  the gateway (credential, unknown world) or a report that was not recorded; 2 usage.\n",
     cmd_connector},
    {"node-id", "compute canonical node specs, NodeIDs and the CRC-32 handshake",
     "usage: qmtl node-id [--json] [FILE|-]\n"
     "  Read one node object, or an array of them, as JSON from FILE (or stdin when FILE is\n"
     "  '-' or absent) and print each node's canonical form and NodeID; for an array also\n"
     "  the CRC-32 over the ids in order (the submission handshake value).\n"
     "  A node has node_type (required), interval, period, params (or config),\n"
     "  dependencies (or inputs), schema_compat_id (or schema_id) and code_hash.\n"
     "  --json   machine output: {\"canonical\", \"node_id\"} for a node,\n"
     "           {\"nodes\": [...], \"crc32\": N} for an array\n"
     "  Exit status: 0 ok, 1 unreadable file, invalid JSON (file:line:column) or a bad node\n"
     "  (the message names the field), 2 usage error.\n",
     cmd_node_id},
    {"sdk", "print compiler flags for building strategies against this qmtl",
     "usage: qmtl sdk [--cflags] [--libs] [--prefix] [--datadir]\n"
     "  --cflags   compiler flags for the SDK headers (qmtl/qmtl.h, qmtl/testkit.h)\n"
     "  --libs     linker flags for a test program using the testkit\n"
     "  --prefix   the installation prefix (or the build directory when run from it)\n"
     "  --datadir  where the project templates are\n"
     "  Works from the build tree and from 'make install PREFIX=...'.\n",
     cmd_sdk},
    {NULL, NULL, NULL, NULL},
};

const struct cli_command *cli_find(const char *name)
{
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void cli_print_usage(const struct cli_command *cmd, int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    fprintf(f, "qmtl %s: %s\n%s", cmd->name, cmd->summary, cmd->usage);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "qmtl %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    cli_print_usage(cli_find(cmd), 1);
    return CLI_USAGE;
}

int cli_unavailable(const char *what)
{
    fprintf(stderr, "qmtl %s: not built yet in this version\n", what);
    return CLI_UNAVAILABLE;
}

#define CLI_MAX_OPTS 128
#define CLI_OPT_LEN 40

/* The table name of 'where' ("service gateway" -> "service") into cmd. */
static const struct cli_command *command_of(const char *where, char *cmd, size_t len)
{
    size_t cl = strcspn(where, " ");
    snprintf(cmd, len, "%.*s", (int)(cl < len ? cl : len - 1), where);
    return cli_find(cmd);
}

/*
 * The known option closest to 'opt' (without its dashes and "=value"), copied into
 * best; the distance is returned (0: 'opt' is in the usage text), or -1 when no known
 * option is close enough to suggest.
 */
static int closest_option(const struct cli_command *c, const char *opt, char *best, size_t len)
{
    char word[CLI_OPT_LEN];
    const char *w = opt + strspn(opt, "-");
    snprintf(word, sizeof(word), "%.*s", (int)strcspn(w, "="), w);
    char known[CLI_MAX_OPTS][CLI_OPT_LEN];
    size_t n = 0;
    struct suggest sg;
    suggest_init(&sg, word);
    suggest_add(&sg, "help");
    for (const char *p = c ? c->usage : ""; (p = strstr(p, "--")) != NULL;) {
        p += 2;
        size_t l = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
        if (l && l < CLI_OPT_LEN && *p != '-' && n < CLI_MAX_OPTS) {
            memcpy(known[n], p, l);
            known[n][l] = '\0';
            suggest_add(&sg, known[n++]);
        }
        p += l;
    }
    if (opt[0] != '-' || opt[1] != '-')
        return -1;
    const char *b = suggest_best(&sg);
    int d = sg.bestd;
    size_t wl = strlen(word);
    for (size_t i = 0; !b && wl >= 3 && i < n; i++) {
        if (strncmp(known[i], word, wl) == 0) /* an abbreviation: the first option it starts */
            b = known[i], d = 1;
    }
    if (!b)
        return -1;
    snprintf(best, len, "%s", b);
    return d;
}

int cli_unknown_option(const char *where, const char *opt)
{
    char cmd[32], best[CLI_OPT_LEN];
    const struct cli_command *c = command_of(where, cmd, sizeof(cmd));
    int d = closest_option(c, opt, best, sizeof(best));
    if (d == 0 && strchr(opt, '='))
        fprintf(stderr, "qmtl %s: option '--%s' is not written '%s' here\n", where, best, opt);
    else if (d == 0)
        fprintf(stderr, "qmtl %s: option '%s' does not apply here\n", where, opt);
    else if (d > 0)
        fprintf(stderr, "qmtl %s: unknown option '%s' (did you mean '--%s'?)\n", where, opt, best);
    else
        fprintf(stderr, "qmtl %s: unknown option '%s'\n", where, opt);
    fprintf(stderr, "'qmtl %s --help' lists the options\n", cmd);
    return CLI_USAGE;
}

int cli_missing_value(const char *where, const char *opt)
{
    char cmd[32], best[CLI_OPT_LEN];
    const struct cli_command *c = command_of(where, cmd, sizeof(cmd));
    if (strchr(opt, '=') || closest_option(c, opt, best, sizeof(best)) != 0)
        return cli_unknown_option(where, opt);
    fprintf(stderr, "qmtl %s: option '%s' needs a value\n", where, opt);
    fprintf(stderr, "'qmtl %s --help' lists the options\n", cmd);
    return CLI_USAGE;
}
