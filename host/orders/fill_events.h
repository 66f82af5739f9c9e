/*
 * fill_events: what the gateway says about an attached host's live orders, applied to
 * the strategies' books (orders.h: host_apply_fill, host_order_update).
 *
 * Two ways in:
 *   - the stream: `fill` and `order_updated` events (docs/connectors.md for the data);
 *     fills are de-duplicated by the book on (client_order_id, seq), so an event seen
 *     twice (a replay after a reconnect, or a fill also read at start) counts once;
 *   - the start: before a strategy's gate may open, its book is rebuilt from the gateway
 *     (GET /orders?world_id&strategy_id: every order, the open ones go back into the book
 *     as open; GET /fills?world_id&strategy_id: every fill, applied). The strategy's
 *     order sequence continues after the stored orders, and the orders it decides again
 *     while the data is replayed up to its latest stored order are held back (they were
 *     sent before the restart; sending them again would duplicate them).
 *
 * Single-threaded (the host's loop). Strings in events are borrowed for the call.
 */
#ifndef QMTL_HOST_FILL_EVENTS_H
#define QMTL_HOST_FILL_EVENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct host;
struct fill_events;

struct fill_events_stats {
    long fills, duplicates, updates, invalid; /* stream events applied / seen before / bad */
    long rebuilt_fills, rebuilt_open;         /* start-up rebuild */
    long held;                                /* orders held back while catching up */
};

/* For host 'h' (borrowed; its strategies must not change while this lives). NULL on out
 * of memory. */
struct fill_events *fill_events_new(struct host *h);
void fill_events_free(struct fill_events *fe);

/*
 * Rebuild strategy k's book from the gateway (blocking): its orders and fills under the
 * gateway's strategy id 'sid' in 'world', with the host credential 'token'. 0, or -1 with
 * err when an answer is missing or malformed (the caller keeps the strategy's gate
 * closed: its book is not known).
 */
int fill_events_rebuild(struct fill_events *fe, uint32_t k, const char *gateway_url,
                        const char *token, const char *world, const char *sid, double timeout_s,
                        char *err, size_t errlen);
/*
 * The start of an attached run, before any gate can open: note the gateway's newest event
 * (GET /status: *last_seq and *have_seq, so that the stream resumes from there and no fill
 * falls between the rebuild and the stream), then rebuild every strategy k that has a
 * gateway id (gw_sid[k] non-empty) and is not refused (refused[k] == 0). A strategy whose
 * book cannot be rebuilt gets refused[k] = 1 (its gate stays closed; logged). Returns the
 * number of strategies refused here.
 */
int fill_events_start(struct fill_events *fe, const char *gateway_url, const char *token,
                      const char *world, const char *const *gw_sid, int *refused, double timeout_s,
                      int64_t *last_seq, int *have_seq);
/* The rebuild from answers already fetched: 'orders' and 'fills' are the arrays of
 * GET /orders and GET /fills. 0 or -1 with err (an element that cannot be read). */
int fill_events_reconcile(struct fill_events *fe, uint32_t k, const json_t *orders,
                          const json_t *fills, char *err, size_t errlen);

/* Apply one stream event of strategy k: 'type' "fill" or "order_updated" (others: 1).
 * 0 applied, 1 nothing to do (a duplicate fill, an order not open here), -1 invalid
 * (logged). */
int fill_events_apply(struct fill_events *fe, uint32_t k, const char *type, const json_t *data);

/* One stream event of the host's world 'world' (events of other worlds are ignored):
 * "fill" / "order_updated" of strategy k (k < 0: not one of ours, ignored) through
 * fill_events_apply; "world_killed": host_kill (flatten, then no order). Others: nothing. */
void fill_events_on_stream(struct fill_events *fe, const char *world, const char *type,
                           const json_t *data, int k);

/* 1 when an order of strategy k decided at 'ts' was decided before the restart (held back
 * and counted), else 0. */
int fill_events_hold(struct fill_events *fe, uint32_t k, int64_t ts);

void fill_events_stats(const struct fill_events *fe, struct fill_events_stats *out);

#endif
