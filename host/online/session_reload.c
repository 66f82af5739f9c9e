/*
 * session_reload: an attached host's strategies change under a hot reload.
 *
 * The session's per-strategy arrays follow the host's strategy indices (a removal moves
 * the later ones down). A new or replaced strategy is submitted again (POST /strategies,
 * asynchronously on the loop): the gateway gives the same strategy_id to the same DAG, so
 * only the new node ids are new to it. A replaced strategy's gate closes at the swap; when
 * the gateway answers with the same strategy_id, the gate state from before comes back
 * (sides no activation event changed meanwhile); with a new strategy_id the gate starts
 * closed and unknown, and opens only on the activation of the new submission (the state
 * is fetched again, then the stream's events). A new strategy's gate is closed until its
 * activation arrives, as at start.
 *
 * With a bus (host/online/bus.h), the bus follows every swap at once (host_bus_swapped:
 * kept nodes keep their role, nodes gone stop) and places the changed strategy's new
 * nodes when the gateway answers its resubmission (host_bus_replan).
 */
#include <stdlib.h>
#include <string.h>

#include "host/online/bus.h"
#include "http_client.h"
#include "host/orders/gate.h"
#include "host/online/session_internal.h"
#include "log.h"

struct resubmit {
    struct session *a;
    char name[256];
    char old_sid[64];
    struct gate saved; /* the gate before the swap (replaced) */
    int replaced;
};

static void state_done(void *arg, int status, const json_t *reply, const char *err)
{
    struct session *a = arg;
    a->http_pending--;
    if (a->stopping)
        return;
    if (status == 200 && json_is_object(reply))
        session_apply_state_(a, reply);
    else
        LOG_WARN("attached", "activation fetch after a reload failed (%d%s%s): the gate waits "
                             "for the stream's events",
                 status, err && *err ? ", " : "", err ? err : "");
}

/* Keep each side the stream did not change since the swap as it was before it. */
static void restore_gate(struct gate *now, const struct gate *before)
{
    for (int k = 0; k < 2; k++) {
        const struct gate_side *b = &before->side[k];
        struct gate_side *n = &now->side[k];
        if (n->known == b->known && !strcmp(n->etag, b->etag) && !strcmp(n->run_id, b->run_id)) {
            *n = *b;
            n->a.etag = n->etag; /* the copied pointers pointed into 'before' */
            n->a.run_id = n->run_id;
            n->a.domain = n->domain;
        }
    }
}

static void resubmit_done(void *arg, int status, const json_t *reply, const char *err)
{
    struct resubmit *q = arg;
    struct session *a = q->a;
    a->http_pending--;
    struct host *h = &a->r->h;
    int k = host_find_strategy(h, q->name);
    if (a->stopping || k < 0 || (size_t)k >= a->n_sid) {
        free(q);
        return;
    }
    struct host_strategy *st = h->st[k];
    const char *sid = json_string_value(json_object_get(reply, "strategy_id"));
    if (!((status == 202 || status == 200) && sid && strlen(sid) < 64)) {
        const char *m = json_string_value(json_object_get(reply, "message"));
        LOG_ERROR("attached", "strategy '%s': not resubmitted after the reload (%d: %s); it "
                              "computes with its gate closed",
                  q->name, status, m ? m : err ? err : "");
        a->refused[k] = SESSION_REFUSED;
        gate_init(&st->gate);
        free(q);
        return;
    }
    if (a->refused[k] == SESSION_REFUSED)
        a->refused[k] = 0;
    char berr[300];
    if (a->o->bus && host_bus_replan(a->o->bus, (uint32_t)k, reply, berr, sizeof(berr)) < 0)
        LOG_WARN("attached", "strategy '%s': bus after the reload: %s; its new nodes are computed "
                             "here, not shared",
                 q->name, berr);
    if (q->replaced && !strcmp(sid, q->old_sid)) {
        restore_gate(&st->gate, &q->saved);
        LOG_INFO("attached", "strategy '%s' resubmitted after the reload: same strategy id '%s', "
                             "its activation carries over",
                 q->name, sid);
        free(q);
        return;
    }
    snprintf(a->gw_sid[k], 64, "%s", sid);
    if (q->replaced) /* an activation keyed by its name was the old version's */
        a->refused[k] = SESSION_SID_ONLY;
    gate_init(&st->gate); /* unknown: closed until the new submission's activation */
    LOG_INFO("attached", "strategy '%s' submitted after the reload as '%s'%s%s%s: its gate stays "
                         "closed until its activation is confirmed",
             q->name, sid, q->old_sid[0] ? " (was '" : "", q->old_sid,
             q->old_sid[0] ? "')" : "");
    char path[400], e[256];
    snprintf(path, sizeof(path), "/worlds/%s/activation", a->world_q);
    if (http_json_start(a->base, a->o->gateway_url, "GET", path, NULL, a->o->token,
                        a->o->budgets->http_timeout_s, state_done, a, e, sizeof(e)) == 0)
        a->http_pending++;
    free(q);
}

static void resubmit(struct session *a, size_t k, int replaced)
{
    struct host *h = &a->r->h;
    struct host_strategy *st = h->st[k];
    struct resubmit *q = calloc(1, sizeof(*q));
    if (!q)
        return;
    q->a = a;
    q->replaced = replaced;
    snprintf(q->name, sizeof(q->name), "%s", st->name);
    snprintf(q->old_sid, sizeof(q->old_sid), "%s", a->gw_sid[k]);
    q->saved = st->gate;
    gate_mark_stale(&st->gate); /* closed from the swap until the gateway answers */
    char err[512];
    json_t *body = ctl_strategy_submission(h, (uint32_t)k, a->o->world_id, err, sizeof(err));
    if (!body ||
        http_json_start(a->base, a->o->gateway_url, "POST", "/strategies", body, a->o->token,
                        a->o->budgets->http_timeout_s, resubmit_done, q, err, sizeof(err))) {
        LOG_ERROR("attached", "strategy '%s': cannot resubmit after the reload: %s; its gate "
                              "stays closed",
                  q->name, err);
        a->refused[k] = SESSION_REFUSED;
        json_decref(body);
        free(q);
        return;
    }
    json_decref(body);
    a->http_pending++;
}

void session_reloaded_(void *arg, enum reload_change kind, const char *name, size_t idx)
{
    struct session *a = arg;
    char berr[300];
    if (a->o->bus && host_bus_swapped(a->o->bus, berr, sizeof(berr)) < 0)
        LOG_ERROR("attached", "bus: %s", berr);
    if (kind == RELOAD_REMOVED) {
        if (idx >= a->n_sid)
            return;
        free(a->gw_sid[idx]);
        memmove(&a->gw_sid[idx], &a->gw_sid[idx + 1], (a->n_sid - idx - 1) * sizeof(*a->gw_sid));
        memmove(&a->refused[idx], &a->refused[idx + 1],
                (a->n_sid - idx - 1) * sizeof(*a->refused));
        a->n_sid--;
        return;
    }
    if (kind == RELOAD_ADDED) {
        char **sid = realloc(a->gw_sid, (a->n_sid + 1) * sizeof(*sid));
        if (sid)
            a->gw_sid = sid;
        int *ref = realloc(a->refused, (a->n_sid + 1) * sizeof(*ref));
        if (ref)
            a->refused = ref;
        char *slot = calloc(1, 64);
        if (!sid || !ref || !slot || idx > a->n_sid) {
            /* cannot track it: keep it out of the gateway's reach (gate closed for good) */
            free(slot);
            LOG_ERROR("attached", "strategy '%s': out of memory tracking it; its gate stays "
                                  "closed",
                      name);
            gate_init(&a->r->h.st[idx]->gate);
            return;
        }
        memmove(&a->gw_sid[idx + 1], &a->gw_sid[idx], (a->n_sid - idx) * sizeof(*a->gw_sid));
        memmove(&a->refused[idx + 1], &a->refused[idx], (a->n_sid - idx) * sizeof(*a->refused));
        a->gw_sid[idx] = slot;
        a->refused[idx] = 0;
        a->n_sid++;
    }
    if (!a->stopping && idx < a->n_sid)
        resubmit(a, idx, kind == RELOAD_REPLACED);
}
