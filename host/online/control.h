/*
 * control: the host's control-plane client pieces (DESIGN section 7, 8).
 *
 * Pure parts (no network; unit-tested): the decision envelope check (effective_mode ->
 * domain through common/exec_domain; missing, unknown or stale -> backtest + safe_mode),
 * activation envelopes/events -> struct qmtl_activation,
 * ordering by the etag's version ("act:{world}:{strategy}:{side}:{version}": an older or
 * equal version is a no-op unless the held state is stale, which a re-fetch re-confirms),
 * and the DAG a strategy submits to POST /strategies.
 *
 * HTTP: every request goes through common/http_client; here only the start-up retry
 * policy for a gateway that does not answer yet (ctl_retry_fetch).
 */
#ifndef QMTL_HOST_CONTROL_H
#define QMTL_HOST_CONTROL_H

#include <jansson.h>
#include <qmtl/qmtl.h>
#include <stdint.h>
#include <time.h>

#include "exec_domain.h"
#include "host/orders/gate.h"
#include "host/host_api.h"

/* The host domain an execution domain (enum exec_domain, common/exec_domain.h: the one
 * effective_mode -> domain table) runs in: dryrun and live send orders; backtest and
 * shadow in attached mode send none (HOST_BLOCKED). */
int ctl_host_domain(int domain);

/* The result of checking a decision envelope. */
struct ctl_decision {
    int domain;        /* enum exec_domain */
    int safe_mode;     /* downgraded to backtest */
    const char *reason; /* static: NULL, "decision_unavailable", "missing_as_of",
                         * "stale_decision", "unknown_mode" */
    char mode[32];     /* effective_mode as received ("" when none) */
    int64_t expires;   /* as_of + ttl (epoch seconds); 0 when unknown */
};

/*
 * Check a DecisionEnvelope (NULL = the gateway gave none). The domain comes from
 * effective_mode (execution_domain when the mode is absent). Missing/unknown -> backtest
 * + safe_mode; dryrun or backtest without as_of -> backtest + safe_mode; as_of + ttl
 * older than 'now' -> backtest + safe_mode ("stale_decision"). ttl is "<n>s" or a number;
 * a missing ttl means 300 s.
 */
void ctl_decision_check(const json_t *env, time_t now, struct ctl_decision *out);

/* ISO-8601 UTC ("2026-11-25T09:00:00Z", fraction allowed) -> epoch seconds, or -1. */
int64_t ctl_parse_iso(const char *s);

/* Version at the end of an activation etag ("act:w:s:long:7" -> 7); -1 when none. */
int64_t ctl_etag_version(const char *etag);

/*
 * Whether an activation with 'etag' should be applied over what the gate holds for
 * 'side': 1 when nothing is held, the held state is stale (re-confirmation), or the new
 * version is greater; 0 when it is older or the same (a no-op). When either etag has no
 * version the gate's own rules (ts, etag, run_id) decide: 1.
 */
int ctl_activation_newer(const struct gate *g, int side, const char *etag);

/*
 * One activation entry (event data or a state entry) -> *a for side 'side' (QMTL_SIDE_BUY
 * for "long", QMTL_SIDE_SELL for "short"). The strings point into 'j' (borrowed). The
 * domain is set to 'domain'. 0, or -1 when 'active' is missing or not a boolean.
 */
int ctl_activation_parse(const json_t *j, int side, const char *domain, struct qmtl_activation *a);
/* "long"/"buy" -> QMTL_SIDE_BUY, "short"/"sell" -> QMTL_SIDE_SELL, else 0 (e.g. "all"). */
int ctl_side_parse(const char *s);

/*
 * Apply one activation (with ordering) to strategy 'strat' of h: 1 applied (the plugin's
 * on_activation was called), 0 no-op, -1 invalid.
 */
int ctl_apply(struct host *h, uint32_t strat, const struct qmtl_activation *a);

/*
 * Mark every strategy's gate stale and tell each plugin (on_activation with stale=1 for
 * each known side). The gate stays closed until the state is re-confirmed.
 */
void ctl_mark_stale(struct host *h);

/*
 * The StrategySubmit body for strategy 'strat': {"dag_json": {"schema_version": "v1",
 * "name", "nodes": [...]}, "node_ids_crc32", "world_id", "meta"}. Nodes are the strategy's
 * own, in evaluation order, each with node_type, interval, period, params, dependencies,
 * tags, code_hash, config_hash, schema_hash, schema_compat_id (GRAPH_SCHEMA_COMPAT) and the
 * node_id the gateway recomputes from them. NULL with err.
 */
json_t *ctl_strategy_submission(const struct host *h, uint32_t strat, const char *world,
                                char *err, size_t errlen);

/* ------------------------------------------------------------------ start-up requests */

/* Start-up retry state shared by a sequence of ctl_retry_fetch calls. Zero it, then set
 * budget_s. */
struct ctl_retry {
    double budget_s;    /* retry while less than this has passed since the first attempt */
    double t0;          /* monotonic seconds of the first attempt (set by the first call) */
    int attempts;       /* requests made */
    int answered;       /* some request got an HTTP answer: no more retries after that */
    char last_err[256]; /* the last unanswered request's error */
};

/*
 * http_json_fetch for a peer that may not be up yet: while no request of 'rs' has been
 * answered, an unanswered one (refused, reset, timed out) is made again after a backoff
 * (0.1 s doubling to 2 s, sleeping) until rs->budget_s has passed since the first attempt.
 * The first miss is logged once. Returns the HTTP status, 0 when unanswered (err and
 * rs->last_err say why: "METHOD PATH: cannot connect to HOST:PORT: ...", "... timed out
 * after N s"). *reply as for http_json_fetch.
 */
int ctl_retry_fetch(struct ctl_retry *rs, const char *base_url, const char *method,
                    const char *path, const json_t *body, const char *token, double timeout_s,
                    json_t **reply, char *err, size_t errlen);
/* Monotonic clock, seconds. */
double ctl_now_s(void);

#endif
