/* qmtl connector: broker connectors; the paper one lives in cli/connector/paper. */
#include "cli.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/connector/paper.h"
#include "common/config.h"
#include "common/log.h"
#include "host/data/feed.h"
#include "host/runner.h"

struct conn_args {
    const char *config, *url, *world, *token, *claim_id, *fill_at;
    const char **data;
    size_t n_data;
    double fee_bps, slippage_bps, poll_s;
    int have_fee, have_slip, once;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "qmtl connector paper: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    cli_print_usage(cli_find("connector"), 1);
    return CLI_USAGE;
}

static int parse_number(const char *s, double lo, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end == s || *end || !(*out >= lo) ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct conn_args *a)
{
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--once")) {
            a->once = 1;
            continue;
        }
        if (!val)
            return cli_missing_value("connector paper", o);
        if (!strcmp(o, "--config"))
            a->config = val;
        else if (!strcmp(o, "--gateway-url"))
            a->url = val;
        else if (!strcmp(o, "--world-id"))
            a->world = val;
        else if (!strcmp(o, "--token"))
            a->token = val;
        else if (!strcmp(o, "--claim-id"))
            a->claim_id = val;
        else if (!strcmp(o, "--data"))
            a->data[a->n_data++] = val;
        else if (!strcmp(o, "--fill-at")) {
            if (strcmp(val, "next_open") && strcmp(val, "close"))
                return usage_error("--fill-at must be next_open or close, not '%s'", val);
            a->fill_at = val;
        } else if (!strcmp(o, "--fee-bps")) {
            if (parse_number(val, 0, &a->fee_bps))
                return usage_error("--fee-bps must be a number >= 0, not '%s'", val);
            a->have_fee = 1;
        } else if (!strcmp(o, "--slippage-bps")) {
            if (parse_number(val, 0, &a->slippage_bps))
                return usage_error("--slippage-bps must be a number >= 0, not '%s'", val);
            a->have_slip = 1;
        } else if (!strcmp(o, "--poll")) {
            if (parse_number(val, 0.001, &a->poll_s) || a->poll_s > 3600)
                return usage_error("--poll must be seconds in 0.001..3600, not '%s'", val);
        } else
            return cli_unknown_option("connector paper", o);
        i++;
    }
    return 0;
}

/* The price sources: --data, else host.data of the config (paths relative to it). */
static struct paper_prices *load_prices(const struct conn_args *a, const struct qmtl_config *cfg,
                                        char *err, size_t errlen)
{
    if (!a->n_data) {
        char dir[PATH_MAX] = "";
        if (cfg->source_path) {
            snprintf(dir, sizeof(dir), "%s", cfg->source_path);
            char *d = dirname(dir);
            memmove(dir, d, strlen(d) + 1);
        }
        return paper_prices_load(cfg->host.data, cfg->host.n_data, dir, 0, err, errlen);
    }
    struct cfg_data_source *ds = calloc(a->n_data, sizeof(*ds));
    struct paper_prices *p = NULL;
    size_t parsed = 0;
    if (!ds)
        snprintf(err, errlen, "out of memory");
    for (; ds && parsed < a->n_data; parsed++)
        if (runner_parse_data_arg(a->data[parsed], &ds[parsed], err, errlen))
            break;
    if (ds && parsed == a->n_data)
        p = paper_prices_load(ds, a->n_data, NULL, 0, err, errlen);
    for (size_t i = 0; ds && i < parsed; i++)
        runner_data_release(&ds[i]);
    free(ds);
    return p;
}

static int run_paper(int argc, char **argv)
{
    struct conn_args a;
    memset(&a, 0, sizeof(a));
    a.poll_s = 0.2;
    a.data = calloc((size_t)argc + 1, sizeof(*a.data));
    if (!a.data)
        return CLI_FAIL;
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.data);
        return rc;
    }
    struct qmtl_config cfg;
    struct cfg_error cerr;
    int crc = config_load(a.config, &cfg, &cerr);
    if (crc) {
        fprintf(stderr, "qmtl connector paper: %s\n",
                crc == -2 ? "cannot read the config file" : cerr.msg);
        config_release(&cfg);
        free(a.data);
        return CLI_FAIL;
    }
    const char *url = a.url ? a.url : cfg.host.gateway_url;
    const char *world = a.world ? a.world : cfg.host.world_id;
    const char *token = a.token ? a.token : getenv("QMTL_CONNECTOR_TOKEN");
    if (!token)
        token = cfg.gateway.connector_token;
    char claim[160], err[1024];
    snprintf(claim, sizeof(claim), "%s", a.claim_id ? a.claim_id : "");
    if (!*claim)
        snprintf(claim, sizeof(claim), "paper-%.100s", world ? world : "");
    struct paper_prices *p = NULL;
    rc = CLI_FAIL;
    if (!url || !*url)
        rc = usage_error("%s", "needs a gateway: give --gateway-url (or host.gateway_url)");
    else if (!world || !*world)
        rc = usage_error("%s", "needs a world: give --world-id (or host.world_id)");
    else if (!a.n_data && !cfg.host.n_data)
        rc = usage_error("%s", "needs prices: give --data SPEC (or host.data)");
    else if (strlen(claim) > 128)
        rc = usage_error("--claim-id '%s': at most 128 bytes", claim);
    else if (!(p = load_prices(&a, &cfg, err, sizeof(err))))
        fprintf(stderr, "qmtl connector paper: %s\n", err);
    if (!p)
        goto out;
    struct paper_options o = {
        .gateway_url = url,
        .world_id = world,
        .token = token,
        .claim_id = claim,
        .model = {.fee_bps = a.have_fee ? a.fee_bps : cfg.broker.fee_bps,
                  .slippage_bps = a.have_slip ? a.slippage_bps : cfg.broker.slippage_bps,
                  .fill_at = !strcmp(a.fill_at ? a.fill_at : cfg.broker.fill_at, "close")
                                 ? PAPER_CLOSE
                                 : PAPER_NEXT_OPEN},
        .poll_s = a.poll_s,
        .http_timeout_s = config_budgets(&cfg)->http_timeout_s,
        .once = a.once,
    };
    LOG_INFO("paper", "world '%s' on %s: claim id '%s', fill at %s, fee %g bps, slippage %g bps",
             world, url, claim, o.model.fill_at == PAPER_CLOSE ? "close" : "next_open",
             o.model.fee_bps, o.model.slippage_bps);
    struct paper_stats st;
    int run = paper_run(&o, p, &st, err, sizeof(err));
    printf("paper connector: %ld claimed, %ld filled, %ld rejected, %ld expired, %ld errors\n",
           st.claimed, st.filled, st.rejected, st.expired, st.errors);
    if (run < 0)
        fprintf(stderr, "qmtl connector paper: %s\n", err);
    rc = run < 0 || st.errors ? CLI_FAIL : CLI_OK;
out:
    paper_prices_free(p);
    config_release(&cfg);
    free(a.data);
    return rc;
}

int cmd_connector(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "paper")) {
        if (argc >= 2)
            fprintf(stderr, "qmtl connector: unknown connector '%s' (there is: paper)\n", argv[1]);
        cli_print_usage(cli_find("connector"), 1);
        return CLI_USAGE;
    }
    return run_paper(argc, argv);
}
