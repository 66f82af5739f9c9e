/*
 * session: the control session of a host attached to a gateway ('qmtl run --world-id W
 * --gateway-url URL'): submission, decision, activation, the event stream and its
 * reconnects, live orders. The data comes from the runner's data pump (runner_pump) on
 * the same event loop (host/loop.h); the summary lines are the report room's
 * (host/report/report_session.h).
 *
 * The caller sets the runner up exactly as offline (plugins loaded, data sources added,
 * runner_start done). session_run() then:
 *   1. submits each strategy's DAG to POST /strategies (a refusal is logged; the strategy
 *      keeps computing with its gate closed);
 *   2. GET /worlds/{W}/decide -> effective_mode -> execution domain (control.h; unknown,
 *      missing or stale -> backtest + safe_mode), asked again every poll interval and on
 *      policy_updated;
 *   3. GET /worlds/{W}/activation for the initial state;
 *   4. POST /events/subscribe and opens the WebSocket stream with the token, applying
 *      activation_updated events (ordered by etag version) to the strategies' gates and
 *      calling each plugin's on_activation;
 *   5. runs r->loop (runner_replay): the data pump replays the data sources as the live
 *      feed, in batches ('pace' events per second, 0 = as fast as possible), so the
 *      session's own events are served between batches.
 * Between steps 2 and 3 (before any gate can open) each strategy's book is rebuilt from
 * the gateway's stored orders and fills (fill_events.h), and the stream later resumes from
 * the event seen before that; `fill` / `order_updated` events then keep the books
 * current, `world_killed` runs host_kill. A live world with historical data (always, for
 * now: CSV and synthetic sources) needs allow_live_replay: without it the run stops at
 * start, and orders are blocked if the world turns live later.
 * Before step 1 nothing has answered yet: a gateway that does not answer is asked again
 * with backoff for the start-up retry budget, then the run fails (see session_run).
 * The stream has a heartbeat: the host pings every third of the receive timeout and the
 * gateway pings on its own; nothing received for the receive timeout (a silent partition)
 * counts as a lost stream at once, without a closing handshake.
 * A lost stream marks every gate stale (closed); the host keeps computing and reconnects
 * with backoff (resuming after the last seq_no; bounded by the reconnect budget, then one
 * attempt per poll interval), and re-fetches the activation before the gate reopens.
 * When the data ends (or on SIGINT/SIGTERM) the loop stops: the session closes the stream
 * and the loop waits for its requests in flight; with 'follow' it keeps running after the
 * data until SIGINT/SIGTERM.
 *
 * With a bus (host/online/bus.h), each submission answer plans which nodes are published or
 * consumed, and the bus starts on the loop before the data flows.
 *
 * Orders: dryrun -> simulated broker and the order log; live -> POST /orders on the
 * gateway, asynchronously on the loop (live_orders.h: idempotent client_order_id, one
 * retry; the gateway re-checks the gate, a 409 is counted as refused); backtest and
 * shadow -> none leave (counted as blocked). While many live orders are in flight the
 * feed waits.
 */
#ifndef QMTL_HOST_SESSION_H
#define QMTL_HOST_SESSION_H

#include "config.h"
#include "host/runner.h"

struct reload;

struct session_options {
    const char *world_id;
    const char *gateway_url;  /* http://host:port */
    const char *token;        /* submitter bearer: submission, subscription, world reads */
    const char *host_token;   /* host bearer: live orders ("" = none) */
    double pace;              /* events per second; 0 = as fast as possible */
    int follow;               /* keep running after the data ends */
    struct host_bus *bus;     /* NULL = in process; else planned from each submission */
    int allow_live_replay;    /* the data is history: may it trade in a live world? */
    const struct cfg_runtime *budgets;
    struct reload *reload;    /* hot reload (NULL: none): changed strategies are resubmitted */
};

/* What the attached run saw (for the summary: host/report/report_session.h). */
struct session_stats {
    const char *domain; /* static name of the execution domain */
    int safe_mode;
    const char *reason; /* downgrade reason or NULL */
    int submitted, refused; /* strategies */
    long connects, disconnects, events_applied;
    long orders_sent, orders_blocked; /* live: sent = stored by the gateway */
    long orders_live;                 /* live orders handed to the gateway sink */
    long orders_refused;              /* ... refused by the gateway's gate (409) */
    long orders_failed;               /* ... failed (transport, timeout, other status) */
    long fills_received, fills_repeated; /* fill events applied / seen before */
    long rebuilt_fills, rebuilt_open;     /* the book rebuild at start */
    long orders_held;                     /* re-decided while catching up: not sent again */
    int interrupted; /* stopped by a signal before the data ended */
    int unreachable; /* the gateway never answered at start: nothing ran */
};

/* Run attached on r->loop. 0 when the run completed (data ended or signal), -1 with err
 * on a data error, when the session cannot be set up on the loop, or (out->unreachable
 * set, nothing computed) when no start-up request got an answer from the gateway within
 * the start-up retry budget (runtime.start_retry_total_s). Every event the session put on
 * the loop is gone when it returns. */
int session_run(struct runner *r, const struct session_options *o, struct session_stats *out,
                char *err, size_t errlen);

#endif
