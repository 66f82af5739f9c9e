/*
 * paper: the paper broker connector ('qmtl connector paper'), a separate process that
 * fills a world's live orders against a price feed and reports back to the gateway. It
 * is the reference for real broker connectors; the protocol it follows (claim exactly
 * once, status, fill) is docs/connectors.md.
 *
 * Prices: every bar of the data sources (the same specs as 'qmtl run --data': CSV files,
 * seeded synthetic series), read whole at start, per tag; an order's symbol is a tag.
 *
 * Fill model, the simulated broker's (host/orders/broker.c), so that a live run filled by this
 * connector books what the same run offline books:
 *   fill_at next_open  market orders fill at the open of the first bar after the bar the
 *                      order was decided on
 *   fill_at close      at the close of the bar the order was decided on
 * An order's time is the start of the bucket it was decided in (the host's nodes bucket
 * bars as ts - ts % interval), so with a declared data interval a bar belongs to the
 * order's bucket when ts - ts % interval equals it (without one, when ts <= the order's
 * time). A fill's time is the bar's own time.
 *   price = ref * (1 + side * slippage_bps / 1e4), fee = quantity * price * fee_bps / 1e4
 * An order whose symbol has no data is rejected; one with no bar after it in the data is
 * expired (the data is finite).
 *
 * Single-threaded, blocking HTTP (common/http_client.h's http_json_fetch).
 */
#ifndef QMTL_CLI_CONNECTOR_PAPER_H
#define QMTL_CLI_CONNECTOR_PAPER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct paper_prices;

/* Read every bar of the sources (base_dir for relative CSV paths, may be NULL; flags as
 * feed_add_csv). NULL with err on a data error or when the sources hold no bar. */
struct paper_prices *paper_prices_load(const struct cfg_data_source *ds, size_t n,
                                       const char *base_dir, unsigned flags, char *err,
                                       size_t errlen);
void paper_prices_free(struct paper_prices *p);
/* Bars read for 'symbol' (0 when none). */
size_t paper_prices_count(const struct paper_prices *p, const char *symbol);

enum paper_fill_at { PAPER_NEXT_OPEN = 0, PAPER_CLOSE = 1 };

struct paper_model {
    double fee_bps, slippage_bps; /* >= 0 (broker.fee_bps, broker.slippage_bps) */
    int fill_at;                  /* enum paper_fill_at */
};

struct paper_fill {
    int64_t ts;   /* the bar's time, seconds */
    double ref;   /* the bar's open (next_open) or close (close) */
    double price; /* ref with slippage against the order */
    double fee;
};

/* Fill 'qty' of a market order on 'side' (+1 buy, -1 sell) decided at 'order_ts': 1 and
 * *out, 0 no bar to fill at (none after the order / none at or before it), -1 no data
 * for the symbol. */
int paper_fill_order(const struct paper_prices *p, const struct paper_model *m, const char *symbol,
                     int side, double qty, int64_t order_ts, struct paper_fill *out);

struct paper_options {
    const char *gateway_url; /* http://host:port */
    const char *world_id;
    const char *token;    /* connector bearer ("" = none: an insecure loopback gateway) */
    const char *claim_id; /* names this connector in its claims (retries stay idempotent) */
    struct paper_model model;
    double poll_s; /* pause between polls that found nothing */
    double http_timeout_s;
    int once; /* one pass over what is there, then return */
};

struct paper_stats {
    long claimed, filled, rejected, expired, skipped, errors;
};

/* Serve the world until SIGINT/SIGTERM (or, with 'once', until no claimable order is
 * left). Orders claimed by this claim_id before a restart are finished first. 0, or -1
 * with err when the world is unknown or the credential refused. SIGINT and SIGTERM stay
 * caught after the return (they only set a flag): a signal sent twice,
 * to the process and to its group, must not kill the process while it reports. */
int paper_run(const struct paper_options *o, const struct paper_prices *p, struct paper_stats *st,
              char *err, size_t errlen);

#endif
