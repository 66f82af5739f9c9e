/* fill_events: gateway fills and order updates into the books (see fill_events.h). */
#include "host/orders/fill_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/http_client.h"
#include "host/orders/book.h"
#include "host/host_api.h"
#include "host/orders/orders.h"
#include "log.h"

struct fill_events {
    struct host *h;
    int64_t *resume_after; /* per strategy: orders decided at or before this were sent */
    int *catching_up;
    struct fill_events_stats st;
};

struct fill_events *fill_events_new(struct host *h)
{
    struct fill_events *fe = calloc(1, sizeof(*fe));
    size_t n = h->n_st ? h->n_st : 1;
    if (fe) {
        fe->h = h;
        fe->resume_after = calloc(n, sizeof(*fe->resume_after));
        fe->catching_up = calloc(n, sizeof(*fe->catching_up));
    }
    if (!fe || !fe->resume_after || !fe->catching_up) {
        fill_events_free(fe);
        return NULL;
    }
    return fe;
}

void fill_events_free(struct fill_events *fe)
{
    if (!fe)
        return;
    free(fe->resume_after);
    free(fe->catching_up);
    free(fe);
}

static int side_of(const char *s)
{
    if (s && !strcasecmp(s, "buy"))
        return QMTL_SIDE_BUY;
    if (s && !strcasecmp(s, "sell"))
        return QMTL_SIDE_SELL;
    return 0;
}

/* The gateway's order id as text (it is an integer on the wire). */
static const char *id_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(buf, len, "%s", json_string_value(v) ? json_string_value(v) : "");
    return buf;
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* A `fill` event's data (or a stored fill) as a host_fill; -1 when a field is missing. */
static int parse_fill(const json_t *d, struct host_fill *f, char *idbuf, size_t idlen)
{
    memset(f, 0, sizeof(*f));
    f->client_order_id = json_string_value(json_object_get(d, "client_order_id"));
    f->order_id = id_text(json_object_get(d, "order_id"), idbuf, idlen);
    f->symbol = json_string_value(json_object_get(d, "symbol"));
    f->side = side_of(json_string_value(json_object_get(d, "side")));
    f->quantity = num(d, "quantity");
    f->price = num(d, "price");
    f->commission = num(d, "commission");
    const json_t *t = json_object_get(d, "fill_time"), *seq = json_object_get(d, "seq");
    if (!f->symbol || !f->side || !json_is_integer(t) || !json_is_integer(seq))
        return -1;
    f->ts = (int64_t)(json_integer_value(t) / 1000);
    f->seq = (int64_t)json_integer_value(seq);
    return 0;
}

static int apply_fill(struct fill_events *fe, uint32_t k, const json_t *d)
{
    struct host_fill f;
    char id[32];
    if (parse_fill(d, &f, id, sizeof(id)) < 0)
        return -1;
    return host_apply_fill(fe->h, k, &f);
}

int fill_events_apply(struct fill_events *fe, uint32_t k, const char *type, const json_t *data)
{
    if (k >= fe->h->n_st || !type || !json_is_object(data)) {
        fe->st.invalid++;
        return -1;
    }
    int rc = 1;
    const char *name = fe->h->st[k]->name;
    if (!strcmp(type, "fill")) {
        rc = apply_fill(fe, k, data);
        if (rc == 0)
            fe->st.fills++;
        else if (rc == 1)
            fe->st.duplicates++;
    } else if (!strcmp(type, "order_updated")) {
        char id[32];
        struct host_order_update u = {
            .client_order_id = json_string_value(json_object_get(data, "client_order_id")),
            .order_id = id_text(json_object_get(data, "order_id"), id, sizeof(id)),
            .symbol = json_string_value(json_object_get(data, "symbol")),
            .side = side_of(json_string_value(json_object_get(data, "side"))),
            .status = host_order_status_parse(json_string_value(json_object_get(data, "status"))),
            .reason = json_string_value(json_object_get(data, "reason")),
            .filled_quantity = num(data, "filled_quantity"),
            .quantity = num(data, "quantity"),
        };
        rc = u.status < 0 ? -1 : host_order_update(fe->h, k, &u);
        if (rc == 0)
            fe->st.updates++;
    }
    if (rc < 0) {
        fe->st.invalid++;
        LOG_WARN("fills", "strategy '%s': a '%s' event that cannot be applied was ignored", name,
                 type);
    }
    return rc;
}

int fill_events_reconcile(struct fill_events *fe, uint32_t k, const json_t *orders,
                          const json_t *fills, char *err, size_t errlen)
{
    if (k >= fe->h->n_st || !json_is_array(orders) || !json_is_array(fills)) {
        snprintf(err, errlen, "rebuild: expected the arrays of orders and fills");
        return -1;
    }
    struct host_strategy *st = fe->h->st[k];
    struct book *bk = broker_book(st->broker);
    int64_t last = INT64_MIN;
    long n_orders = 0, n_open = 0, n_fills = 0;
    size_t i;
    json_t *o;
    /* open orders first, so that the fills below reduce what remains of them */
    json_array_foreach(orders, i, o)
    {
        const char *coid = json_string_value(json_object_get(o, "client_order_id"));
        const char *sym = json_string_value(json_object_get(o, "symbol"));
        const char *status = json_string_value(json_object_get(o, "status"));
        int side = side_of(json_string_value(json_object_get(o, "side")));
        const json_t *ts = json_object_get(o, "ts");
        if (!coid || !sym || !status || !side || !json_is_integer(ts)) {
            snprintf(err, errlen, "rebuild: order %zu of strategy '%s' lacks a field", i, st->name);
            return -1;
        }
        n_orders++;
        if (json_integer_value(ts) > last)
            last = (int64_t)json_integer_value(ts);
        int open = !strcmp(status, "new") || !strcmp(status, "acked") ||
                   !strcmp(status, "accepted") || !strcmp(status, "partially_filled");
        if (!open || book_order_find(bk, coid, NULL))
            continue;
        char id[32];
        if (book_order_sent(bk, coid, sym, side, num(o, "quantity"), json_integer_value(ts)) ||
            (strcmp(status, "new") &&
             book_order_acked(bk, coid, id_text(json_object_get(o, "id"), id, sizeof(id))))) {
            snprintf(err, errlen, "rebuild: order '%s' of strategy '%s' cannot be booked", coid,
                     st->name);
            return -1;
        }
        n_open++;
    }
    json_array_foreach(fills, i, o)
    {
        int rc = apply_fill(fe, k, o);
        if (rc < 0) {
            snprintf(err, errlen, "rebuild: fill %zu of strategy '%s' cannot be applied", i,
                     st->name);
            return -1;
        }
        n_fills += rc == 0;
    }
    if (n_orders > st->order_seq)
        st->order_seq = n_orders;
    fe->resume_after[k] = last;
    fe->catching_up[k] = n_orders > 0;
    fe->st.rebuilt_fills += n_fills;
    fe->st.rebuilt_open += n_open;
    if (n_orders)
        LOG_INFO("fills",
                 "strategy '%s': book rebuilt from the gateway: %ld order(s) (%ld open), %ld "
                 "fill(s), position follows; orders decided up to %" PRId64 " were sent before",
                 st->name, n_orders, n_open, n_fills, last);
    return 0;
}

/* Every page of GET 'what' (orders or fills) of (world, sid) into one array (new ref). */
static json_t *fetch_all(const char *what, const char *url, const char *token, const char *world,
                         const char *sid, double timeout_s, char *err, size_t errlen)
{
    char wq[512] = "", sq[512] = "";
    if (http_url_escape(world, wq, sizeof(wq)) || http_url_escape(sid, sq, sizeof(sq))) {
        snprintf(err, errlen, "world or strategy id too long");
        return NULL;
    }
    json_t *all = json_array();
    long long after = 0;
    for (;;) {
        char path[1200];
        snprintf(path, sizeof(path), "/%s?world_id=%s&strategy_id=%s&after=%lld&limit=1000", what,
                 wq, sq, after);
        json_t *reply = NULL;
        char e[256] = "";
        int status =
            http_json_fetch(url, "GET", path, NULL, token, timeout_s, &reply, e, sizeof(e));
        json_t *arr = json_object_get(reply, what);
        if (status != 200 || !json_is_array(arr)) {
            const char *m =
                json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
            snprintf(err, errlen, "GET /%s: %d %s", what, status, m ? m : e);
            json_decref(reply);
            json_decref(all);
            return NULL;
        }
        size_t n = json_array_size(arr);
        json_array_extend(all, arr);
        after = (long long)json_integer_value(json_object_get(reply, "next_after"));
        json_decref(reply);
        if (n < 1000)
            return all;
    }
}

int fill_events_rebuild(struct fill_events *fe, uint32_t k, const char *gateway_url,
                        const char *token, const char *world, const char *sid, double timeout_s,
                        char *err, size_t errlen)
{
    json_t *orders = fetch_all("orders", gateway_url, token, world, sid, timeout_s, err, errlen);
    json_t *fills =
        orders ? fetch_all("fills", gateway_url, token, world, sid, timeout_s, err, errlen) : NULL;
    int rc = fills ? fill_events_reconcile(fe, k, orders, fills, err, errlen) : -1;
    json_decref(orders);
    json_decref(fills);
    return rc;
}

int fill_events_start(struct fill_events *fe, const char *gateway_url, const char *token,
                      const char *world, const char *const *gw_sid, int *refused, double timeout_s,
                      int64_t *last_seq, int *have_seq)
{
    json_t *reply = NULL;
    char err[512];
    int status = http_json_fetch(gateway_url, "GET", "/status", NULL, NULL, timeout_s, &reply, err,
                                 sizeof(err));
    const json_t *seq = json_object_get(reply, "last_seq_no");
    if (status == 200 && json_is_integer(seq)) {
        *last_seq = (int64_t)json_integer_value(seq);
        *have_seq = 1;
    }
    json_decref(reply);
    int n = 0;
    for (size_t i = 0; i < fe->h->n_st; i++) {
        if (refused[i] || !gw_sid[i][0] || fe->h->st[i]->stopped)
            continue;
        if (status != 200 || fill_events_rebuild(fe, (uint32_t)i, gateway_url, token, world,
                                                 gw_sid[i], timeout_s, err, sizeof(err)) < 0) {
            LOG_ERROR("fills",
                      "strategy '%s': book not rebuilt from the gateway (%s); its gate "
                      "stays closed",
                      fe->h->st[i]->name, status != 200 ? "GET /status failed" : err);
            refused[i] = 1;
            n++;
        }
    }
    return n;
}

void fill_events_on_stream(struct fill_events *fe, const char *world, const char *type,
                           const json_t *data, int k)
{
    const char *w = json_string_value(json_object_get(data, "world_id"));
    if (!w || strcmp(w, world))
        return;
    if ((!strcmp(type, "fill") || !strcmp(type, "order_updated")) && k >= 0)
        fill_events_apply(fe, (uint32_t)k, type, data);
    else if (!strcmp(type, "world_killed")) {
        const char *why = json_string_value(json_object_get(data, "reason"));
        LOG_WARN("fills", "world '%s' killed by the operator (%s): flattening, then no more orders",
                 w, why ? why : "no reason given");
        host_kill(fe->h, why ? why : "world killed by the operator");
    }
}

int fill_events_hold(struct fill_events *fe, uint32_t k, int64_t ts)
{
    if (k >= fe->h->n_st || !fe->catching_up[k])
        return 0;
    if (ts > fe->resume_after[k]) {
        fe->catching_up[k] = 0;
        LOG_INFO("fills", "strategy '%s': caught up with the orders sent before the restart",
                 fe->h->st[k]->name);
        return 0;
    }
    fe->st.held++;
    return 1;
}

void fill_events_stats(const struct fill_events *fe, struct fill_events_stats *out)
{
    *out = fe->st;
}
