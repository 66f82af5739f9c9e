/* qmtl run: the strategy host, offline (backtest replay) or attached to a gateway. */
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "host/plugin/crash_report.h"
#include "host/online/bus.h"
#include "host/online/bus_explain.h"
#include "host/report/report_session.h"
#include "host/dag/explain.h"
#include "host/orders/orders.h"
#include "host/plugin/quarantine.h"
#include "host/plugin/reload.h"
#include "host/data/live_in.h"
#include "host/data/live_run.h"
#include "host/report/report.h"
#include "host/report/report_csv.h"
#include "host/report/report_html.h"
#include "host/runner.h"
#include "host/plugin/supervisor.h"
#include "log.h"

struct run_args {
    const char *config, *plugins, *world_id, *gateway_url, *csv_errors, *order_log, *bus;
    const char *report, *equity_csv, *trades_csv;
    const char **data, **params;
    size_t n_data, n_params;
    struct sweep sweep;
    int64_t from, to;
    int have_from, have_to;
    int offline, json, explain, follow, strict, quiet, sort, allow_nonpositive, allow_live_replay;
    int restart_on_crash;
    double pace;
    int metrics_port, have_metrics_port;
    double cash, fee_bps, slippage_bps;
    int have_cash, have_fee, have_slip;
};

static int usage_error(const char *fmt, const char *arg)
{
    return cli_usage_error("run", fmt, arg);
}

static int parse_double(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end == s || *end ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(o, "--offline")) {
            a->offline = 1;
            takes = 0;
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
            takes = 0;
        } else if (!strcmp(o, "--explain")) {
            a->explain = 1;
            takes = 0;
        } else if (!strcmp(o, "--follow")) {
            a->follow = 1;
            takes = 0;
        } else if (!strcmp(o, "--allow-live-replay")) {
            a->allow_live_replay = 1;
            takes = 0;
        } else if (!strcmp(o, "--sort")) {
            a->sort = 1;
            takes = 0;
        } else if (!strcmp(o, "--allow-nonpositive-prices")) {
            a->allow_nonpositive = 1;
            takes = 0;
        } else if (!strcmp(o, "--strict")) {
            a->strict = 1;
            takes = 0;
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = 1;
            takes = 0;
        } else if (!strcmp(o, "--restart-on-crash")) {
            a->restart_on_crash = 1;
            takes = 0;
        } else if (!val) {
            return cli_missing_value("run", o);
        } else if (!strcmp(o, "--config")) {
            a->config = val;
        } else if (!strcmp(o, "--plugins")) {
            a->plugins = val;
        } else if (!strcmp(o, "--data")) {
            a->data[a->n_data++] = val;
        } else if (!strcmp(o, "--order-log")) {
            a->order_log = val;
        } else if (!strcmp(o, "--report")) {
            a->report = val;
        } else if (!strcmp(o, "--equity-csv")) {
            a->equity_csv = val;
        } else if (!strcmp(o, "--trades-csv")) {
            a->trades_csv = val;
        } else if (!strcmp(o, "--param")) {
            if (!strchr(val, '=') || !strchr(val, '.'))
                return usage_error("--param '%s': expected STRATEGY.KEY=VALUE", val);
            a->params[a->n_params++] = val;
        } else if (!strcmp(o, "--sweep")) {
            char e[512];
            if (sweep_add(&a->sweep, val, e, sizeof(e)))
                return usage_error("%s", e);
        } else if (!strcmp(o, "--from")) {
            if (runner_parse_time(val, 0, &a->from))
                return usage_error("--from '%s': expected YYYY-MM-DD[THH:MM[:SS]] (UTC) or "
                                   "seconds since the epoch",
                                   val);
            a->have_from = 1;
        } else if (!strcmp(o, "--to")) {
            if (runner_parse_time(val, 1, &a->to))
                return usage_error("--to '%s': expected YYYY-MM-DD[THH:MM[:SS]] (UTC) or "
                                   "seconds since the epoch",
                                   val);
            a->have_to = 1;
        } else if (!strcmp(o, "--pace")) {
            if (parse_double(val, &a->pace) || !(a->pace >= 0))
                return usage_error("--pace must be a number of events per second >= 0, not '%s'",
                                   val);
        } else if (!strcmp(o, "--metrics-port")) {
            char *end;
            long p = strtol(val, &end, 10);
            if (end == val || *end || p < 0 || p > 65535)
                return usage_error("--metrics-port must be a port number 0..65535, not '%s'",
                                   val);
            a->metrics_port = (int)p;
            a->have_metrics_port = 1;
        } else if (!strcmp(o, "--world-id")) {
            a->world_id = val;
        } else if (!strcmp(o, "--gateway-url")) {
            a->gateway_url = val;
        } else if (!strcmp(o, "--bus")) {
            a->bus = val;
        } else if (!strcmp(o, "--csv-errors")) {
            if (strcmp(val, "skip") && strcmp(val, "fail"))
                return usage_error("--csv-errors must be skip or fail, not '%s'", val);
            a->csv_errors = val;
        } else if (!strcmp(o, "--cash")) {
            if (parse_double(val, &a->cash) || !(a->cash > 0))
                return usage_error("--cash must be a positive number, not '%s'", val);
            a->have_cash = 1;
        } else if (!strcmp(o, "--fee-bps")) {
            if (parse_double(val, &a->fee_bps) || a->fee_bps < 0)
                return usage_error("--fee-bps must be a number >= 0, not '%s'", val);
            a->have_fee = 1;
        } else if (!strcmp(o, "--slippage-bps")) {
            if (parse_double(val, &a->slippage_bps) || a->slippage_bps < 0)
                return usage_error("--slippage-bps must be a number >= 0, not '%s'", val);
            a->have_slip = 1;
        } else {
            return cli_unknown_option("run", o);
        }
        i += takes;
    }
    if (a->have_from && a->have_to && a->from > a->to)
        return usage_error("%s", "--from is after --to");
    return 0;
}

/* The files the results are exported to (--report, --equity-csv, --trades-csv). */
static int export_results(const struct run_args *a, const json_t *doc)
{
    struct {
        const char *path, *what;
        int (*write)(FILE *, const json_t *, char *, size_t);
    } out[] = {{a->report, "report", report_html_write},
               {a->equity_csv, "equity CSV", report_equity_csv},
               {a->trades_csv, "trades CSV", report_trades_csv}};
    int rc = 0;
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
        if (!out[i].path)
            continue;
        char err[512] = "";
        FILE *f = fopen(out[i].path, "w");
        int w = f ? out[i].write(f, doc, err, sizeof(err)) : -1;
        if (f && fclose(f))
            w = -1;
        if (w) {
            fprintf(stderr, "qmtl run: cannot write %s '%s'%s%s\n", out[i].what, out[i].path,
                    *err ? ": " : "", err);
            rc = -1;
        } else if (!a->json) {
            char abs[PATH_MAX];
            fprintf(stderr, "qmtl run: %s written to %s\n", out[i].what,
                    realpath(out[i].path, abs) ? abs : out[i].path);
        }
    }
    return rc;
}

/* A host that keeps running until a signal: attached, --follow, or a live input (a
 * socket, standard input, a followed file, a NATS subject) among its data. */
static int keeps_running(const struct run_args *a, const struct qmtl_config *cfg, int attached)
{
    if (attached || a->follow)
        return 1;
    for (size_t i = 0; i < a->n_data; i++)
        if (live_in_is_spec(a->data[i]) || strstr(a->data[i], "=follow:") ||
            strstr(a->data[i], "=nats://"))
            return 1;
    if (a->n_data)
        return 0;
    for (size_t i = 0; i < cfg->host.n_data; i++)
        if ((cfg->host.data[i].live && *cfg->host.data[i].live) || cfg->host.data[i].follow)
            return 1;
    return 0;
}

static void sighup_ignored(void *arg)
{
    (void)arg;
    LOG_INFO("run", "SIGHUP: hot reload is off for this run (host.hot_reload; a finite replay); "
                    "ignored");
}

/* --param values (after the config's, so they win), then the sweep's consumers. */
static int apply_params(struct runner *r, const struct run_args *a)
{
    for (size_t i = 0; i < a->n_params; i++) {
        char *st, *key, *val, e[256];
        if (sweep_split_kv(a->params[i], &st, &key, &val, e, sizeof(e))) {
            fprintf(stderr, "qmtl run: --param %s\n", e);
            return CLI_USAGE;
        }
        int rc = host_set_param(&r->h, st, key, val);
        free(st);
        free(key);
        free(val);
        if (rc) {
            fprintf(stderr, "qmtl run: out of memory\n");
            return CLI_FAIL;
        }
    }
    return 0;
}

static int add_sources(struct runner *r, const struct run_args *a, const struct qmtl_config *cfg,
                       unsigned feed_flags)
{
    char err[512];
    if (a->n_data) {
        for (size_t i = 0; i < a->n_data; i++) {
            struct cfg_data_source ds;
            if (runner_parse_data_arg(a->data[i], &ds, err, sizeof(err))) {
                fprintf(stderr, "qmtl run: %s\n", err);
                return CLI_USAGE;
            }
            int rc = runner_add_data(r, &ds, NULL, feed_flags, err, sizeof(err));
            runner_data_release(&ds);
            if (rc) {
                fprintf(stderr, "qmtl run: %s\n", err);
                return CLI_FAIL;
            }
        }
        return 0;
    }
    char dirbuf[PATH_MAX] = "";
    if (cfg->source_path) {
        snprintf(dirbuf, sizeof(dirbuf), "%s", cfg->source_path);
        char *d = dirname(dirbuf);
        memmove(dirbuf, d, strlen(d) + 1);
    }
    for (size_t i = 0; i < cfg->host.n_data; i++)
        if (runner_add_data(r, &cfg->host.data[i], dirbuf, feed_flags, err, sizeof(err))) {
            fprintf(stderr, "qmtl run: %s\n", err);
            return CLI_FAIL;
        }
    if (!cfg->host.n_data) {
        fprintf(stderr, "qmtl run: no data: give --data or host.data in qmtl.yml\n");
        return CLI_USAGE;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    memset(&a, 0, sizeof(a));
    a.data = calloc((size_t)argc + 1, sizeof(*a.data));
    a.params = calloc((size_t)argc + 1, sizeof(*a.params));
    if (!a.data || !a.params) {
        free(a.data);
        free(a.params);
        return CLI_FAIL;
    }
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.data);
        free(a.params);
        sweep_release(&a.sweep);
        return rc;
    }
    struct qmtl_config cfg;
    struct cfg_error cerr;
    memset(&cerr, 0, sizeof(cerr));
    int crc = config_load(a.config, &cfg, &cerr);
    if (crc == -2 && a.config) {
        fprintf(stderr, "qmtl run: cannot read config '%s'\n", a.config);
        rc = CLI_FAIL;
        goto out_cfg;
    }
    if (crc == -1) {
        fprintf(stderr, "qmtl run: %s\n", cerr.msg);
        rc = CLI_FAIL;
        goto out_cfg;
    }
    const char *gw = a.gateway_url ? a.gateway_url : cfg.host.gateway_url;
    const char *world = a.world_id ? a.world_id : cfg.host.world_id;
    int attached = !a.offline && gw && *gw;
    if (a.world_id && a.offline) {
        fprintf(stderr, "qmtl run: --world-id and --offline contradict each other\n");
        rc = CLI_USAGE;
        goto out_cfg;
    }
    if (!a.offline && world && *world && !attached) {
        fprintf(stderr,
                "qmtl run: world '%s' needs a gateway URL: give --gateway-url or "
                "host.gateway_url (or --offline to run a backtest)\n",
                world);
        rc = CLI_USAGE;
        goto out_cfg;
    }
    const char *bus_url = a.bus ? a.bus : cfg.host.bus;
    if (!attached && a.bus)
        fprintf(stderr, "qmtl run: --bus applies to attached mode only; ignored\n");
    if (!attached && a.allow_live_replay)
        fprintf(stderr, "qmtl run: --allow-live-replay applies to attached mode only; ignored\n");
    if (attached && (a.sweep.n || a.have_from || a.have_to || a.report || a.equity_csv ||
                     a.trades_csv)) {
        fprintf(stderr, "qmtl run: --sweep, --from, --to, --report, --equity-csv and --trades-csv "
                        "apply to offline runs only\n");
        rc = CLI_USAGE;
        goto out_cfg;
    }
    if (attached && (!world || !*world)) {
        fprintf(stderr, "qmtl run: attached mode (gateway '%s') needs a world: give --world-id "
                        "or host.world_id\n",
                gw);
        rc = CLI_USAGE;
        goto out_cfg;
    }

    if (a.restart_on_crash) {
        /* the parent supervises until the host is done; the child goes on as the host */
        struct supervisor_options so = {.prefix = "qmtl run"};
        int code;
        int s = supervisor_run(&so, &code, cerr.msg, sizeof(cerr.msg));
        if (s <= 0) {
            if (s < 0)
                fprintf(stderr, "qmtl run: %s\n", cerr.msg);
            rc = s < 0 ? CLI_FAIL : code;
            goto out_cfg;
        }
    }

    struct host_options ho;
    host_options_default(&ho);
    ho.initial_cash = a.have_cash ? a.cash : cfg.broker.initial_cash;
    ho.fee_bps = a.have_fee ? a.fee_bps : cfg.broker.fee_bps;
    ho.slippage_bps = a.have_slip ? a.slippage_bps : cfg.broker.slippage_bps;
    ho.domain = HOST_BACKTEST;
    ho.max_nodes_per_strategy = cfg.host.max_nodes_per_strategy;
    ho.fill_at = cfg.broker.fill_at && !strcmp(cfg.broker.fill_at, "close") ? HOST_FILL_CLOSE
                                                                            : HOST_FILL_NEXT_OPEN;
    ho.risk = (struct risk_limits){.max_position = cfg.risk.max_position,
                                   .max_position_notional = cfg.risk.max_position_notional,
                                   .max_order_notional = cfg.risk.max_order_notional,
                                   .max_orders_per_minute = cfg.risk.max_orders_per_minute,
                                   .max_daily_loss = cfg.risk.max_daily_loss};
    const char *csv_errors = a.csv_errors ? a.csv_errors : cfg.host.csv_errors;
    unsigned feed_flags = (csv_errors && !strcmp(csv_errors, "fail") ? FEED_FAIL_ON_ERROR : 0) |
                          (a.sort ? FEED_SORT : 0) | (a.allow_nonpositive ? FEED_ALLOW_NONPOSITIVE : 0);

    struct runner r;
    struct host_bus *bus = NULL;
    char err[512];
    if (runner_init(&r, &ho)) {
        fprintf(stderr, "qmtl run: out of memory\n");
        rc = CLI_FAIL;
        goto out_cfg;
    }
    r.pf.timeout_s = cfg.host.preflight_timeout_s;
    host_install_crash_report(&r.h, "qmtl run");
    const char *dir = a.plugins ? a.plugins : cfg.host.plugins_dir;
    struct quarantine quar;
    int have_quar = quarantine_open(&quar, dir, err, sizeof(err)) == 0;
    if (!have_quar)
        LOG_WARN("run", "%s: running without crash quarantine", err);
    else {
        r.admit = quarantine_admit_hook;
        r.admit_arg = &quar;
    }
    /* hot reload: a host that keeps running (attached, --follow); never a finite replay,
     * whose results must not depend on when a file changed (docs/operations.md) */
    struct reload *rl = NULL;
    if (cfg.host.hot_reload && keeps_running(&a, &cfg, attached) && !a.sweep.n && !a.explain) {
        if (!(rl = reload_new(&r, dir, have_quar ? &quar : NULL, NULL, err, sizeof(err)))) {
            fprintf(stderr, "qmtl run: %s\n", err);
            rc = CLI_FAIL;
            goto out;
        }
    } else {
        loop_on_sighup(r.loop, sighup_ignored, NULL);
    }
    for (size_t i = 0; i < cfg.host.n_strategy_params; i++) {
        const struct cfg_kv *kv = &cfg.host.strategy_params[i];
        host_set_param(&r.h, kv->strategy, kv->key, kv->value);
    }
    for (size_t i = 0; i < cfg.risk.n_strategy_limits; i++) {
        const struct cfg_kv *kv = &cfg.risk.strategy_limits[i];
        if (host_set_risk_limit(&r.h, kv->strategy, kv->key, kv->value)) {
            fprintf(stderr, "qmtl run: risk.strategies.%s.%s: out of memory\n", kv->strategy,
                    kv->key);
            rc = CLI_FAIL;
            goto out;
        }
    }
    if ((rc = apply_params(&r, &a)))
        goto out;
    r.sweep = a.sweep.n ? &a.sweep : NULL;
    r.from = a.from;
    r.to = a.to;
    r.have_from = a.have_from;
    r.have_to = a.have_to;
    r.progress = !attached && !a.quiet && !a.json && !a.explain && isatty(STDERR_FILENO);
    int loaded = runner_load_dir(&r, dir, err, sizeof(err));
    if (loaded < 0) {
        fprintf(stderr, "qmtl run: %s\n", err);
        rc = CLI_FAIL;
        goto out;
    }
    if (have_quar) { /* the metrics endpoint's quarantine figures */
        r.h.metrics.quarantined = (long)quar.n;
        r.h.metrics.quarantines += quar.taken;
    }
    if (r.h.n_st == 0) {
        fprintf(stderr, "qmtl run: no plugin loaded from '%s'\n", dir);
        for (size_t i = 0; i < r.n_problems; i++)
            fprintf(stderr, "  %s\n", r.problems[i]);
        rc = CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < a.sweep.n; i++) {
        const char *base = a.sweep.ax[i].strategy;
        size_t len = strlen(base), k;
        for (k = 0; k < r.h.n_st; k++)
            if (!strncmp(r.h.st[k]->name, base, len) && r.h.st[k]->name[len] == '[')
                break;
        if (k == r.h.n_st) {
            fprintf(stderr, "qmtl run: --sweep %s.%s: no plugin named '%s' in '%s'\n", base,
                    a.sweep.ax[i].key, base, dir);
            rc = CLI_FAIL;
            goto out;
        }
    }
    if (runner_check_params(&r, a.strict, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmtl run: %s (--strict)\n", err);
        rc = CLI_FAIL;
        goto out;
    }
    if ((rc = add_sources(&r, &a, &cfg, feed_flags)))
        goto out;
    /* before runner_start: the bus hooks every node output */
    if (attached && bus_url && *bus_url &&
        (!(bus = host_bus_new(&r.h, bus_url, a.bus ? "--bus" : "host.bus", err, sizeof(err))) ||
         host_bus_set_name(bus, cfg.host.name, dir, err, sizeof(err)) < 0)) {
        fprintf(stderr, "qmtl run: %s\n", err);
        rc = CLI_USAGE;
        goto out;
    }
    if (runner_start(&r, err, sizeof(err))) {
        fprintf(stderr, "qmtl run: %s\n", err);
        rc = CLI_FAIL;
        goto out;
    }
    int fail_missing = cfg.host.on_missing && !strcmp(cfg.host.on_missing, "fail");
    if (runner_check_streams(&r, fail_missing, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmtl run: %s\n", err);
        rc = CLI_FAIL;
        goto out;
    }
    if (a.explain) {
        /* attached with a bus: each node's role, from dry runs (nothing is submitted) */
        json_t *roles = NULL;
        struct bus_explain_opts bo = {.gateway_url = gw, .token = cfg.host.submit_token,
                                      .world = world, .bus_url = bus_url,
                                      .timeout_s = config_budgets(&cfg)->http_timeout_s};
        if (bus && !(roles = bus_explain_roles(&r.h, &bo, err, sizeof(err)))) {
            fprintf(stderr, "qmtl run: --explain: %s\n", err);
            rc = CLI_FAIL;
            goto out;
        }
        if (a.json) {
            json_t *j = explain_json(&r.h);
            if (roles)
                bus_explain_merge(j, roles);
            json_dumpf(j, stdout, JSON_INDENT(2));
            fputc('\n', stdout);
            json_decref(j);
        } else {
            explain_text(stdout, &r.h);
            if (roles)
                bus_explain_text(stdout, &r.h, roles);
        }
        json_decref(roles);
        rc = CLI_OK;
        goto out;
    }
    FILE *olog = NULL;
    if (a.order_log) {
        if (!(olog = fopen(a.order_log, "w"))) {
            fprintf(stderr, "qmtl run: cannot write order log '%s'\n", a.order_log);
            rc = CLI_FAIL;
            goto out;
        }
        r.h.order_log = olog;
    }
    struct session_stats ast;
    int replay_rc;
    struct live_run_options lo = {
        .metrics_host = cfg.host.metrics_host,
        .metrics_port = a.have_metrics_port ? a.metrics_port : cfg.host.metrics_port,
        .attached = attached};
    struct live_run *lr = NULL;
    if ((r.n_live || lo.metrics_port > 0) && !(lr = live_run_start(&r, &lo, err, sizeof(err)))) {
        fprintf(stderr, "qmtl run: %s\n", err);
        if (olog)
            fclose(olog);
        r.h.order_log = NULL;
        rc = CLI_FAIL;
        goto out;
    }
    if (attached) {
        if (olog)
            setvbuf(olog, NULL, _IOLBF, 0);
        struct session_options ao = {.world_id = world,
                                      .gateway_url = gw,
                                      .token = cfg.host.submit_token,
                                      .host_token = cfg.host.host_token,
                                      .pace = a.pace,
                                      .follow = a.follow,
                                      .allow_live_replay = a.allow_live_replay,
                                      .bus = bus,
                                      .budgets = config_budgets(&cfg),
                                      .reload = rl};
        replay_rc = session_run(&r, &ao, &ast, err, sizeof(err));
    } else {
        struct loop_source *pump = runner_pump(&r);
        if (pump)
            loop_source_pace(pump, a.pace);
        loop_follow(r.loop, a.follow);
        replay_rc = runner_replay(&r, err, sizeof(err));
        /* the results cover only part of the data; a live host stops only that way */
        if (!replay_rc && r.interrupted && !r.n_live) {
            snprintf(err, sizeof(err), "interrupted by %s after %llu event(s)",
                     r.interrupted == SIGINT ? "SIGINT" : "SIGTERM",
                     (unsigned long long)r.events);
            replay_rc = -1;
        }
    }
    live_run_free(lr);
    if (olog) {
        r.h.order_log = NULL;
        if (fclose(olog)) {
            fprintf(stderr, "qmtl run: cannot write order log '%s'\n", a.order_log);
            replay_rc = -1;
        }
    }
    if (replay_rc) {
        fprintf(stderr, "qmtl run: %s\n", err);
        if (!r.run_error[0])
            snprintf(r.run_error, sizeof(r.run_error), "%s", err);
    }
    if (attached && ast.unreachable) { /* nothing ran: no report */
        rc = CLI_FAIL;
        goto out;
    }
    json_t *doc = report_json(&r, a.json || a.report || a.equity_csv || a.trades_csv);
    if (!doc) {
        fprintf(stderr, "qmtl run: out of memory building the report\n");
        rc = CLI_FAIL;
        goto out;
    }
    int export_rc = attached ? 0 : export_results(&a, doc);
    if (a.json) {
        json_t *j = doc;
        if (replay_rc)
            json_object_set_new(j, "data_error", json_string(err));
        if (attached)
            json_object_set_new(j, "attached", report_session_json(&ast));
        json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12));
        fputc('\n', stdout);
    } else {
        report_text(stdout, doc);
        if (attached)
            report_session_text(stdout, &ast);
    }
    json_decref(doc);
    rc = CLI_OK;
    if (replay_rc || r.n_problems || export_rc)
        rc = CLI_FAIL;
    for (size_t i = 0; i < r.h.n_st; i++)
        if (r.h.st[i]->stopped)
            rc = CLI_FAIL;
out:
    reload_free(rl);
    runner_release(&r);
    crash_report_set_record(NULL);
    crash_report_clear_notes();
    quarantine_release(&quar);
    host_bus_free(bus);
out_cfg:
    config_release(&cfg);
    free(a.data);
    free(a.params);
    sweep_release(&a.sweep);
    return rc;
}
