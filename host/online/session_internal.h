/*
 * session_internal: the attached control session's state, shared by host/online/session.c (the
 * session) and host/online/session_reload.c (what a hot reload changes in it). Not an API.
 */
#ifndef QMTL_HOST_SESSION_INTERNAL_H
#define QMTL_HOST_SESSION_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "host/online/control.h"
#include "host/plugin/reload.h"
#include "host/online/session.h"

/* session.refused[k]: 0, the submission was refused (no activation applies), or a reload
 * gave the strategy a new strategy_id: only activations for that id apply, not those
 * keyed by its name. */
enum { SESSION_REFUSED = 1, SESSION_SID_ONLY = 2 };

struct fill_events;

struct session {
    struct runner *r;
    const struct session_options *o;
    struct session_stats *st;
    struct event_base *base; /* r->loop's */
    struct event *retry_ev, *ping_ev, *rx_ev, *decide_ev;
    struct ws_conn *ws;
    struct live_orders *orders; /* live domain: POST /orders */
    struct fill_events *fe;     /* fills and order updates from the gateway */
    int replay_warned;          /* a live world refused historical data once */
    char world_q[256]; /* world id, URI-escaped */
    char **gw_sid;     /* per strategy: the gateway's strategy_id ("" = none) */
    int *refused;      /* per strategy: SESSION_REFUSED (gate stays closed), SESSION_SID_ONLY */
    size_t n_sid;      /* entries of gw_sid and refused (follows h->n_st across reloads) */
    int64_t last_seq;
    int have_seq;
    int domain; /* enum exec_domain (common/exec_domain.h) */
    int64_t decision_expires; /* as_of + ttl of the decision in force (0 = none) */
    int decide_pending;
    int stopping, confirmed, http_pending, budget_spent, retry_logged;
    double lost_at, backoff;
    double rx_due;  /* when rx_ev should fire (monotonic s) */
    int rx_grace;   /* rx_ev re-armed once after firing late */
    int ws_opened;  /* the current stream finished its handshake */
    struct ctl_retry start; /* start-up requests: retried until the gateway answers */
};

/* Apply the full activation state {"version", "state": {sid: {side: entry}}}. */
void session_apply_state_(struct session *a, const json_t *reply);

/* A reload_change_fn (host/plugin/reload.h): keep the per-strategy arrays aligned with the
 * host's strategies and resubmit a new or replaced strategy (host/online/session_reload.c). */
void session_reloaded_(void *arg, enum reload_change kind, const char *name, size_t idx);

#endif
