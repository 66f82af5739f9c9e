/* live_orders: POST the live domain's orders to the gateway (see live_orders.h). */
#include "host/orders/live_orders.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "log.h"

#define MAX_ATTEMPTS 2

struct seq_slot {
    char *name;
    long seq;
};

struct live_orders {
    struct event_base *base;
    char *url, *token, *world;
    double timeout_s;
    int *pending;
    const int *stopping;
    struct seq_slot *seqs;
    size_t n_seqs;
    struct live_orders_stats st;
    live_orders_result_fn on_result;
    void *result_arg;
};

struct order_req {
    struct live_orders *lo;
    json_t *body;
    char coid[160];
    char name[128];
    int attempts;
};

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

struct live_orders *live_orders_new(struct event_base *base, const char *gateway_url,
                                    const char *token, const char *world_id, double timeout_s,
                                    int *pending, const int *stopping)
{
    struct live_orders *lo = calloc(1, sizeof(*lo));
    if (!lo)
        return NULL;
    lo->base = base;
    lo->url = dup_or_empty(gateway_url);
    lo->token = dup_or_empty(token);
    lo->world = dup_or_empty(world_id);
    lo->timeout_s = timeout_s;
    lo->pending = pending;
    lo->stopping = stopping;
    if (!lo->url || !lo->token || !lo->world) {
        live_orders_free(lo);
        return NULL;
    }
    return lo;
}

void live_orders_free(struct live_orders *lo)
{
    if (!lo)
        return;
    for (size_t i = 0; i < lo->n_seqs; i++)
        free(lo->seqs[i].name);
    free(lo->seqs);
    free(lo->url);
    free(lo->token);
    free(lo->world);
    free(lo);
}

void live_orders_stats(const struct live_orders *lo, struct live_orders_stats *out)
{
    *out = lo->st;
}

void live_order_client_id(char *out, size_t outlen, const char *name, int64_t ts, long seq)
{
    snprintf(out, outlen, "%.100s-%lld-%ld", name, (long long)ts, seq);
}

/* Next sequence number of strategy 'name' (from 1); -1 on out of memory. */
static long next_seq(struct live_orders *lo, const char *name)
{
    for (size_t i = 0; i < lo->n_seqs; i++)
        if (!strcmp(lo->seqs[i].name, name))
            return ++lo->seqs[i].seq;
    struct seq_slot *n = realloc(lo->seqs, (lo->n_seqs + 1) * sizeof(*n));
    if (!n)
        return -1;
    lo->seqs = n;
    if (!(n[lo->n_seqs].name = strdup(name)))
        return -1;
    n[lo->n_seqs].seq = 1;
    return n[lo->n_seqs++].seq;
}

static void order_done(void *arg, int status, const json_t *reply, const char *err);

void live_orders_on_result(struct live_orders *lo, live_orders_result_fn fn, void *arg)
{
    lo->on_result = fn;
    lo->result_arg = arg;
}

static int start(struct order_req *q)
{
    struct live_orders *lo = q->lo;
    char err[256];
    if (http_json_start(lo->base, lo->url, "POST", "/orders", q->body, lo->token, lo->timeout_s,
                        order_done, q, err, sizeof(err)) < 0) {
        LOG_WARN("orders", "order '%s' not sent: %s", q->coid, err);
        return -1;
    }
    q->attempts++;
    lo->st.inflight++;
    (*lo->pending)++;
    return 0;
}

static void finish(struct order_req *q)
{
    json_decref(q->body);
    free(q);
}

static void order_done(void *arg, int status, const json_t *reply, const char *err)
{
    struct order_req *q = arg;
    struct live_orders *lo = q->lo;
    lo->st.inflight--;
    (*lo->pending)--;
    int outcome = -1;
    if (status == 200 || status == 201) {
        lo->st.accepted++;
        outcome = 1;
        LOG_DEBUG("orders", "order '%s' accepted (%d)", q->coid, status);
    } else if ((status == 0 || status >= 500) && q->attempts < MAX_ATTEMPTS && !*lo->stopping &&
               start(q) == 0) {
        return; /* retried with the same client_order_id */
    } else {
        const char *msg =
            json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
        if (status == 409) {
            lo->st.refused++;
            outcome = 0;
            LOG_WARN("orders", "order '%s' refused by the gateway: %s", q->coid,
                     msg ? msg : "gate closed");
        } else {
            lo->st.failed++;
            LOG_WARN("orders", "order '%s' failed (HTTP %d%s%s)", q->coid, status,
                     (msg || (err && *err)) ? ": " : "", msg ? msg : (err ? err : ""));
        }
    }
    if (lo->on_result)
        lo->on_result(lo->result_arg, q->name, q->coid, outcome);
    finish(q);
}

int live_orders_send(struct live_orders *lo, const char *name, const char *strategy_id,
                     const char *symbol, int64_t ts, const struct qmtl_order *o,
                     const char *client_order_id)
{
    lo->st.queued++;
    long seq = client_order_id ? 1 : next_seq(lo, name);
    struct order_req *q = seq > 0 ? calloc(1, sizeof(*q)) : NULL;
    if (!q) {
        lo->st.failed++;
        return -1;
    }
    q->lo = lo;
    if (client_order_id)
        snprintf(q->coid, sizeof(q->coid), "%s", client_order_id);
    else
        live_order_client_id(q->coid, sizeof(q->coid), name, ts, seq);
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->body = json_pack("{ss ss ss ss ss sf sf sI}", "world_id", lo->world, "strategy", name,
                        "client_order_id", q->coid, "symbol", symbol ? symbol : "", "side",
                        o->side > 0 ? "buy" : "sell", "quantity", o->quantity, "price", o->price,
                        "ts", (json_int_t)ts);
    if (q->body && strategy_id && *strategy_id)
        json_object_set_new(q->body, "strategy_id", json_string(strategy_id));
    if (!q->body || start(q) < 0) {
        lo->st.failed++;
        json_decref(q->body);
        free(q);
        return -1;
    }
    return 0;
}
