/* qmtl world: argument parsing and defaults; the client itself is cli/world/world_client. */
#include "cli.h"

#include "common/config.h"
#include "common/http_client.h"
#include "cli/world/world_client.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    F_NAME = 1 << 0,
    F_MODE = 1 << 1,
    F_ALLOW_LIVE = 1 << 2,
    F_SIDE = 1 << 3,
    F_WEIGHT = 1 << 4,
    F_INACTIVE = 1 << 5,
    F_FREEZE = 1 << 6,
    F_DRAIN = 1 << 7,
    F_RUN_ID = 1 << 8,
    F_ACTIVATE = 1 << 9,
    F_DEACTIVATE = 1 << 10,
    F_METRICS = 1 << 11,
    F_LIMIT = 1 << 12,
    F_VERSION = 1 << 13,
    F_STATUS = 1 << 14,
    F_REASON = 1 << 15,
    F_RELEASE = 1 << 16,
};

#define MAX_LIST 256

struct world_args {
    const char *url, *token, *config;
    double timeout_s;
    int json;
    unsigned flags;
    const char *pos[4];
    int npos;
    const char *name, *mode, *side, *run_id, *metrics_file, *status, *reason;
    double weight;
    long limit, version;
    const char *activate[MAX_LIST + 1], *deactivate[MAX_LIST + 1];
    int nact, ndeact;
};

struct verb {
    const char *name;
    int min_pos, max_pos; /* positional arguments after the verb */
    unsigned allowed;
    const char *args;     /* for usage errors */
};

static const struct verb verbs[] = {
    {"list", 0, 0, 0, ""},
    {"get", 1, 1, 0, "WORLD"},
    {"create", 1, 1, F_NAME | F_MODE | F_ALLOW_LIVE, "WORLD [--name N] [--mode M] [--allow-live]"},
    {"delete", 1, 1, F_ALLOW_LIVE, "WORLD [--allow-live]"},
    {"decide", 1, 1, 0, "WORLD"},
    {"activation", 1, 2, F_SIDE, "WORLD [STRATEGY [--side long|short|both]]"},
    {"activate", 2, 2,
     F_SIDE | F_WEIGHT | F_INACTIVE | F_FREEZE | F_DRAIN | F_MODE | F_ALLOW_LIVE,
     "WORLD STRATEGY [--side long|short|both] [--weight X] [--inactive] [--freeze] [--drain] "
     "[--mode M] [--allow-live]"},
    {"apply", 1, 1, F_RUN_ID | F_ACTIVATE | F_DEACTIVATE | F_METRICS | F_ALLOW_LIVE,
     "WORLD --run-id R [--activate S]... [--deactivate S]... | --metrics FILE [--allow-live]"},
    {"audit", 1, 1, F_LIMIT, "WORLD [--limit N]"},
    {"policy set", 2, 2, 0, "WORLD FILE"},
    {"policy get", 1, 1, F_VERSION, "WORLD [--version N]"},
    {"orders", 1, 1, F_STATUS | F_LIMIT, "WORLD [--status S] [--limit N]"},
    {"kill", 1, 1, F_REASON | F_RELEASE | F_ALLOW_LIVE,
     "WORLD [--reason TEXT | --release] [--allow-live]"},
    {NULL, 0, 0, 0, NULL},
};

static const char *const flag_names[] = {"--name",     "--mode",   "--allow-live", "--side",
                                         "--weight",   "--inactive", "--freeze",   "--drain",
                                         "--run-id",   "--activate", "--deactivate",
                                         "--metrics",  "--limit",    "--version",
                                         "--status",   "--reason",   "--release"};

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "qmtl world: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    cli_print_usage(cli_find("world"), 1);
    return CLI_USAGE;
}

static int valid_mode(const char *m)
{
    static const char *const modes[] = {"validate", "compute-only", "paper", "live", "shadow"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (!strcmp(m, modes[i]))
            return 1;
    return 0;
}

/* Value of "--opt V" or "--opt=V"; advances *i. NULL if argv[*i] is not opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, int *missing)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* An integer > 0 from all of 'v'. 0, or -1. */
static int positive_long(const char *v, long *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtol(v, &end, 10);
    return end == v || *end || errno || *out <= 0 ? -1 : 0;
}

static int parse(int argc, char **argv, struct world_args *a)
{
    int dashdash = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        int missing = 0;
        if (dashdash || arg[0] != '-' || !strcmp(arg, "-")) {
            if (a->npos >= (int)(sizeof(a->pos) / sizeof(a->pos[0])))
                return usage_error("unexpected argument '%s'%s", arg, "");
            a->pos[a->npos++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            dashdash = 1;
        } else if (!strcmp(arg, "--json")) {
            a->json = 1;
        } else if ((v = opt_value(argc, argv, &i, "--gateway-url", &missing))) {
            a->url = v;
        } else if ((v = opt_value(argc, argv, &i, "--token", &missing))) {
            a->token = v;
        } else if ((v = opt_value(argc, argv, &i, "--config", &missing))) {
            a->config = v;
        } else if ((v = opt_value(argc, argv, &i, "--timeout", &missing))) {
            char *end = NULL;
            a->timeout_s = strtod(v, &end);
            if (end == v || *end || !isfinite(a->timeout_s) || a->timeout_s <= 0)
                return usage_error("--timeout: expected seconds > 0, got '%s'%s", v, "");
        } else if ((v = opt_value(argc, argv, &i, "--name", &missing))) {
            a->name = v;
            a->flags |= F_NAME;
        } else if ((v = opt_value(argc, argv, &i, "--mode", &missing))) {
            if (!valid_mode(v))
                return usage_error("--mode: expected validate, compute-only, paper, live or "
                                   "shadow, got '%s'%s",
                                   v, "");
            a->mode = v;
            a->flags |= F_MODE;
        } else if (!strcmp(arg, "--allow-live")) {
            a->flags |= F_ALLOW_LIVE;
        } else if ((v = opt_value(argc, argv, &i, "--side", &missing))) {
            if (strcmp(v, "long") && strcmp(v, "short") && strcmp(v, "both"))
                return usage_error("--side: expected long, short or both, got '%s'%s", v, "");
            a->side = v;
            a->flags |= F_SIDE;
        } else if ((v = opt_value(argc, argv, &i, "--weight", &missing))) {
            char *end = NULL;
            a->weight = strtod(v, &end);
            if (end == v || *end || !(a->weight >= 0.0 && a->weight <= 1.0))
                return usage_error("--weight: expected a number in [0, 1], got '%s'%s", v, "");
            a->flags |= F_WEIGHT;
        } else if ((v = opt_value(argc, argv, &i, "--reason", &missing))) {
            a->reason = v;
            a->flags |= F_REASON;
        } else if (!strcmp(arg, "--release")) {
            a->flags |= F_RELEASE;
        } else if (!strcmp(arg, "--inactive")) {
            a->flags |= F_INACTIVE;
        } else if (!strcmp(arg, "--freeze")) {
            a->flags |= F_FREEZE;
        } else if (!strcmp(arg, "--drain")) {
            a->flags |= F_DRAIN;
        } else if ((v = opt_value(argc, argv, &i, "--run-id", &missing))) {
            if (!*v)
                return usage_error("--run-id: expected a non-empty id%s%s", "", "");
            a->run_id = v;
            a->flags |= F_RUN_ID;
        } else if ((v = opt_value(argc, argv, &i, "--activate", &missing))) {
            if (a->nact >= MAX_LIST)
                return usage_error("too many --activate (at most 256)%s%s", "", "");
            a->activate[a->nact++] = v;
            a->flags |= F_ACTIVATE;
        } else if ((v = opt_value(argc, argv, &i, "--deactivate", &missing))) {
            if (a->ndeact >= MAX_LIST)
                return usage_error("too many --deactivate (at most 256)%s%s", "", "");
            a->deactivate[a->ndeact++] = v;
            a->flags |= F_DEACTIVATE;
        } else if ((v = opt_value(argc, argv, &i, "--metrics", &missing))) {
            a->metrics_file = v;
            a->flags |= F_METRICS;
        } else if ((v = opt_value(argc, argv, &i, "--limit", &missing))) {
            if (positive_long(v, &a->limit) < 0)
                return usage_error("--limit: expected an integer > 0, got '%s'%s", v, "");
            a->flags |= F_LIMIT;
        } else if ((v = opt_value(argc, argv, &i, "--version", &missing))) {
            if (positive_long(v, &a->version) < 0)
                return usage_error("--version: expected an integer > 0, got '%s'%s", v, "");
            a->flags |= F_VERSION;
        } else if ((v = opt_value(argc, argv, &i, "--status", &missing))) {
            static const char *const st[] = {"new",      "acked",    "open",
                                             "accepted", "rejected", "canceled",
                                             "expired",  "filled",   "partially_filled"};
            size_t k = 0;
            while (k < sizeof(st) / sizeof(st[0]) && strcmp(v, st[k]))
                k++;
            if (k == sizeof(st) / sizeof(st[0]))
                return usage_error("--status: expected new, acked, open, accepted, "
                                   "partially_filled, filled, rejected, canceled or expired, "
                                   "got '%s'%s",
                                   v, "");
            a->status = v;
            a->flags |= F_STATUS;
        } else if (missing) {
            return usage_error("option '%s' needs a value%s", arg, "");
        } else {
            return cli_unknown_option("world", arg);
        }
        if (missing)
            return usage_error("option '%s' needs a value%s", arg, "");
    }
    return 0;
}

static char *read_file(const char *path)
{
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (16u << 20)) {
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        buf[len] = '\0';
        if (n == 0)
            break;
    }
    if (f != stdin)
        fclose(f);
    return buf;
}

static int run_verb(const struct verb *vb, struct world_args *a, struct world_client *wc)
{
    const char *w = a->pos[1];
    int live = (a->flags & F_ALLOW_LIVE) != 0;
    if (!strcmp(vb->name, "list"))
        return wc_list(wc);
    if (!strcmp(vb->name, "get"))
        return wc_get(wc, w);
    if (!strcmp(vb->name, "create"))
        return wc_create(wc, w, a->name, a->mode, live);
    if (!strcmp(vb->name, "delete"))
        return wc_delete(wc, w, live);
    if (!strcmp(vb->name, "kill"))
        return wc_kill(wc, w, a->reason, (a->flags & F_RELEASE) != 0, live);
    if (!strcmp(vb->name, "decide"))
        return wc_decide(wc, w);
    if (!strcmp(vb->name, "activation"))
        return wc_activation(wc, w, a->npos > 2 ? a->pos[2] : NULL, a->side);
    if (!strcmp(vb->name, "activate")) {
        struct wc_activate act = {.strategy = a->pos[2],
                                  .side = a->side ? a->side : "long",
                                  .active = !(a->flags & F_INACTIVE),
                                  .has_weight = (a->flags & F_WEIGHT) != 0,
                                  .weight = a->weight,
                                  .freeze = (a->flags & F_FREEZE) != 0,
                                  .drain = (a->flags & F_DRAIN) != 0,
                                  .mode = a->mode,
                                  .allow_live = live};
        return wc_activate(wc, w, &act);
    }
    if (!strcmp(vb->name, "apply")) {
        char *metrics = NULL;
        if (a->metrics_file) {
            metrics = read_file(a->metrics_file);
            if (!metrics) {
                fprintf(stderr, "qmtl world: cannot read metrics file '%s': %s\n",
                        a->metrics_file, strerror(errno ? errno : EINVAL));
                return CLI_USAGE;
            }
        }
        a->activate[a->nact] = NULL;
        a->deactivate[a->ndeact] = NULL;
        int rc = wc_apply(wc, w, a->run_id, a->activate, a->deactivate, metrics, live);
        free(metrics);
        return rc;
    }
    if (!strcmp(vb->name, "policy set")) {
        char *text = read_file(a->pos[2]);
        if (!text) {
            fprintf(stderr, "qmtl world: cannot read policy file '%s': %s\n", a->pos[2],
                    strerror(errno ? errno : EINVAL));
            return CLI_USAGE;
        }
        int rc = wc_policy_set(wc, w, text, a->pos[2]);
        free(text);
        return rc;
    }
    if (!strcmp(vb->name, "policy get"))
        return wc_policy_get(wc, w, (a->flags & F_VERSION) ? a->version : 0);
    if (!strcmp(vb->name, "orders"))
        return wc_orders(wc, w, a->status, (a->flags & F_LIMIT) ? a->limit : 0);
    return wc_audit(wc, w, (a->flags & F_LIMIT) ? a->limit : 0);
}

int cmd_world(int argc, char **argv)
{
    struct world_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc;
    if (a.npos == 0)
        return usage_error("missing verb (list, get, create, delete, decide, activation, "
                           "activate, apply, audit, policy, orders)%s%s",
                           "", "");
    /* "policy set|get": a verb of two words; the rest shifts left by one */
    char two[32];
    const char *verb = a.pos[0];
    if (!strcmp(a.pos[0], "policy")) {
        if (a.npos < 2 || (strcmp(a.pos[1], "set") && strcmp(a.pos[1], "get")))
            return usage_error("policy: expected 'policy set WORLD FILE' or 'policy get WORLD "
                               "[--version N]'%s%s",
                               "", "");
        snprintf(two, sizeof(two), "policy %s", a.pos[1]);
        verb = two;
        for (int k = 1; k + 1 < a.npos; k++)
            a.pos[k] = a.pos[k + 1];
        a.npos--;
    }
    const struct verb *vb = verbs;
    while (vb->name && strcmp(vb->name, verb) != 0)
        vb++;
    if (!vb->name)
        return usage_error("unknown verb '%s'%s", verb, "");
    int nargs = a.npos - 1;
    if (nargs < vb->min_pos || nargs > vb->max_pos) {
        fprintf(stderr, "qmtl world: usage: qmtl world %s %s\n", vb->name, vb->args);
        return CLI_USAGE;
    }
    unsigned bad = a.flags & ~vb->allowed;
    if (bad) {
        int bit = 0;
        while (!(bad & (1u << bit)))
            bit++;
        fprintf(stderr, "qmtl world %s: option '%s' does not apply; usage: qmtl world %s %s\n",
                vb->name, flag_names[bit], vb->name, vb->args);
        return CLI_USAGE;
    }
    if (!strcmp(vb->name, "kill") && (a.flags & F_REASON) && (a.flags & F_RELEASE)) {
        fprintf(stderr, "qmtl world kill: --reason and --release contradict each other\n");
        return CLI_USAGE;
    }
    if (!strcmp(vb->name, "apply")) {
        if (!a.run_id) {
            fprintf(stderr, "qmtl world apply: --run-id is required\n");
            return CLI_USAGE;
        }
        if (!(a.flags & (F_ACTIVATE | F_DEACTIVATE | F_METRICS)) ||
            ((a.flags & F_METRICS) && (a.flags & (F_ACTIVATE | F_DEACTIVATE)))) {
            fprintf(stderr, "qmtl world apply: give a plan (--activate/--deactivate) or "
                            "--metrics FILE, not both\n");
            return CLI_USAGE;
        }
    }

    /* Defaults from the config: --config, else the discovered file, else built-in. */
    struct qmtl_config cfg;
    struct cfg_error cerr;
    int crc = config_load(a.config, &cfg, &cerr);
    if (crc != 0) {
        if (crc == -2)
            fprintf(stderr, "qmtl world: cannot read the config file '%s'\n",
                    a.config ? a.config : config_discover() ? config_discover() : "?");
        else
            fprintf(stderr, "qmtl world: %s\n", cerr.msg);
        config_release(&cfg);
        return CLI_USAGE;
    }
    char url[600];
    if (a.url)
        snprintf(url, sizeof(url), "%s", a.url);
    else if (cfg.host.gateway_url && *cfg.host.gateway_url)
        snprintf(url, sizeof(url), "%s", cfg.host.gateway_url);
    else {
        const char *h = cfg.gateway.host;
        if (!h || !*h || !strcmp(h, "0.0.0.0"))
            h = "127.0.0.1";
        int v6 = strchr(h, ':') != NULL && strcmp(h, "::") != 0;
        if (!strcmp(h, "::"))
            h = "::1", v6 = 1;
        snprintf(url, sizeof(url), "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
                 cfg.gateway.port ? cfg.gateway.port : 8000);
    }
    struct http_url parsed;
    char uerr[700];
    if (http_url_parse(url, &parsed, uerr, sizeof(uerr)) < 0) {
        fprintf(stderr, "qmtl world: %s\n", uerr);
        config_release(&cfg);
        return CLI_USAGE;
    }
    const char *token = a.token;
    if (!token)
        token = getenv("QMTL_OPERATOR_TOKEN");
    if (!token)
        token = cfg.gateway.operator_token;
    struct world_client wc = {.url = url,
                              .token = token,
                              .timeout_s = a.timeout_s > 0 ? a.timeout_s
                                                           : config_budgets(&cfg)->http_timeout_s,
                              .json = a.json,
                              .out = stdout,
                              .err = stderr};
    rc = run_verb(vb, &a, &wc);
    config_release(&cfg);
    return rc;
}
