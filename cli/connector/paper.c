/* paper: the paper broker connector (see paper.h and docs/connectors.md). */
#include "cli/connector/paper.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/http_client.h"
#include "host/data/feed.h"
#include "log.h"

/* ------------------------------------------------------------------ prices */

struct series {
    char *symbol;
    int64_t interval; /* the source's bar interval (0 = not declared) */
    int64_t *ts;
    double *open, *close;
    size_t n, cap;
};

struct paper_prices {
    struct series *s;
    size_t n;
};

static struct series *series_of(struct paper_prices *p, const char *symbol, int create)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->s[i].symbol, symbol))
            return &p->s[i];
    if (!create)
        return NULL;
    struct series *ns = realloc(p->s, (p->n + 1) * sizeof(*ns));
    if (!ns)
        return NULL;
    p->s = ns;
    memset(&ns[p->n], 0, sizeof(ns[p->n]));
    if (!(ns[p->n].symbol = strdup(symbol)))
        return NULL;
    return &ns[p->n++];
}

static int series_add(struct series *s, int64_t ts, double open, double close)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        int64_t *t = realloc(s->ts, cap * sizeof(*t));
        if (t)
            s->ts = t;
        double *o = t ? realloc(s->open, cap * sizeof(*o)) : NULL;
        if (o)
            s->open = o;
        double *c = o ? realloc(s->close, cap * sizeof(*c)) : NULL;
        if (!c)
            return -1;
        s->close = c;
        s->cap = cap;
    }
    s->ts[s->n] = ts;
    s->open[s->n] = open;
    s->close[s->n] = close;
    s->n++;
    return 0;
}

void paper_prices_free(struct paper_prices *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->s[i].symbol);
        free(p->s[i].ts);
        free(p->s[i].open);
        free(p->s[i].close);
    }
    free(p->s);
    free(p);
}

struct paper_prices *paper_prices_load(const struct cfg_data_source *ds, size_t n,
                                       const char *base_dir, unsigned flags, char *err,
                                       size_t errlen)
{
    struct paper_prices *p = calloc(1, sizeof(*p));
    struct feed *f = feed_new();
    int ok = p && f;
    for (size_t i = 0; ok && i < n; i++)
        ok = feed_add_source(f, &ds[i], base_dir, flags, NULL, 0, err, errlen) == 0;
    if (!p || !f)
        snprintf(err, errlen, "out of memory");
    struct feed_event ev;
    int rc = 0;
    long bars = 0;
    while (ok && (rc = feed_next(f, &ev, err, errlen)) == 1) {
        for (size_t t = 0; ok && t < ev.n_tags; t++) {
            struct series *s = series_of(p, ev.tags[t], 1);
            if (s && !s->n)
                s->interval = ev.interval_s;
            ok = s && series_add(s, ev.ts, ev.bar.open, ev.bar.close) == 0;
            if (!ok)
                snprintf(err, errlen, "out of memory reading the prices");
        }
        bars++;
    }
    if (rc < 0)
        ok = 0;
    if (ok && bars == 0) {
        snprintf(err, errlen, "the price data holds no bar");
        ok = 0;
    }
    feed_free(f);
    if (!ok) {
        paper_prices_free(p);
        return NULL;
    }
    return p;
}

size_t paper_prices_count(const struct paper_prices *p, const char *symbol)
{
    const struct series *s = series_of((struct paper_prices *)p, symbol, 0);
    return s ? s->n : 0;
}

/* The bucket a bar falls in: an order's time is the start of the bucket (of the data's
 * interval) it was decided in, as the host's nodes bucket bars (ts - ts % interval). */
static int64_t bucket(const struct series *s, int64_t ts)
{
    return s->interval > 0 ? ts - ts % s->interval : ts;
}

/* Index of the first bar whose bucket starts after t (s->n when none). */
static size_t first_after(const struct series *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bucket(s, s->ts[mid]) <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int paper_fill_order(const struct paper_prices *p, const struct paper_model *m, const char *symbol,
                     int side, double qty, int64_t order_ts, struct paper_fill *out)
{
    const struct series *s = symbol ? series_of((struct paper_prices *)p, symbol, 0) : NULL;
    if (!s || !s->n)
        return -1;
    size_t i = first_after(s, order_ts);
    if (m->fill_at == PAPER_CLOSE) {
        if (i == 0)
            return 0;
        out->ts = s->ts[i - 1];
        out->ref = s->close[i - 1];
    } else {
        if (i == s->n)
            return 0;
        out->ts = s->ts[i];
        out->ref = s->open[i];
    }
    /* the simulated broker's arithmetic, operation for operation (host/orders/broker.c) */
    double slip_rate = m->slippage_bps / 1e4, fee_rate = m->fee_bps / 1e4;
    out->price = out->ref * (1.0 + side * slip_rate);
    out->fee = qty * out->price * fee_rate;
    return 1;
}

/* ------------------------------------------------------------------ the gateway */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

struct pctx {
    const struct paper_options *o;
    const struct paper_prices *p;
    struct paper_stats *st;
    char world_q[512];
    int retry; /* a report did not reach the gateway: finish the claimed orders again */
};

static int call(struct pctx *c, const char *method, const char *path, const json_t *body,
                json_t **reply)
{
    char err[512];
    *reply = NULL;
    int status = http_json_fetch(c->o->gateway_url, method, path, body, c->o->token,
                                 c->o->http_timeout_s, reply, err, sizeof(err));
    if (status == 0)
        LOG_WARN("paper", "%s %s: %s", method, path, err);
    return status;
}

static const char *error_text(const json_t *reply)
{
    const char *m = json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
    return m ? m : "";
}

static int post_status(struct pctx *c, int64_t id, const char *status, const char *reason)
{
    char path[64];
    snprintf(path, sizeof(path), "/orders/%lld/status", (long long)id);
    json_t *body = json_pack("{ss ss?}", "status", status, "reason", reason), *reply = NULL;
    int code = call(c, "POST", path, body, &reply);
    if (code == 0 || code >= 500) { /* not answered: finished later (the order stays ours) */
        c->retry = 1;
    } else if (code != 200) {
        LOG_WARN("paper", "order %lld: status %s not recorded (%d %s)", (long long)id, status, code,
                 error_text(reply));
        c->st->errors++;
    }
    json_decref(body);
    json_decref(reply);
    return code == 200 ? 0 : -1;
}

/* Fill the rest of a claimed order in one fill (seq = number of fills so far + 1, which
 * the gateway counts for us through filled_quantity: a paper fill is always whole). */
static void handle(struct pctx *c, const json_t *order)
{
    int64_t id = (int64_t)json_integer_value(json_object_get(order, "id"));
    const char *sym = json_string_value(json_object_get(order, "symbol"));
    const char *side = json_string_value(json_object_get(order, "side"));
    const char *status = json_string_value(json_object_get(order, "status"));
    double qty = json_number_value(json_object_get(order, "quantity"));
    double done = json_number_value(json_object_get(order, "filled_quantity"));
    int64_t ts = (int64_t)json_integer_value(json_object_get(order, "ts"));
    int sgn = side && !strcasecmp(side, "buy") ? 1 : -1;
    double rest = qty - done;
    if (!(rest > 0)) {
        c->st->skipped++;
        return;
    }
    struct paper_fill f;
    int rc = paper_fill_order(c->p, &c->o->model, sym, sgn, rest, ts, &f);
    char why[200];
    if (rc < 0) {
        snprintf(why, sizeof(why), "no price data for symbol '%s'", sym ? sym : "");
        if (post_status(c, id, "rejected", why) == 0)
            c->st->rejected++;
        return;
    }
    if (rc == 0) {
        snprintf(why, sizeof(why), "no bar to fill at for time %lld in the price data",
                 (long long)ts);
        if (post_status(c, id, "expired", why) == 0)
            c->st->expired++;
        return;
    }
    if (status && (!strcmp(status, "new") || !strcmp(status, "acked")) &&
        post_status(c, id, "accepted", NULL) < 0)
        return;
    char ceid[96];
    snprintf(ceid, sizeof(ceid), "paper-%s-%lld-1", c->o->claim_id, (long long)id);
    json_t *env = json_pack(
        "{ss ss ss ss ss s{sI sO ss ss sf sf sf sf sf ss sI ss sI}}", "specversion", "1.0", "id",
        ceid, "source", "qmtl/connector/paper", "type", "qmtl.execution.fill", "datacontenttype",
        "application/json", "data", "order_id", (json_int_t)id, "client_order_id",
        json_object_get(order, "client_order_id"), "symbol", sym, "side", sgn > 0 ? "BUY" : "SELL",
        "quantity", rest, "price", f.price, "commission", f.fee, "slippage", f.price - f.ref,
        "market_impact", 0.0, "tif", "DAY", "fill_time", (json_int_t)f.ts * 1000, "status",
        "filled", "seq", (json_int_t)1);
    json_t *reply = NULL;
    int code = env ? call(c, "POST", "/fills", env, &reply) : -1;
    if (code == 202 || code == 200) {
        c->st->filled++;
        LOG_INFO("paper", "order %lld (%s): %s %.12g %s at %.12g (bar %lld), fee %.12g",
                 (long long)id, json_string_value(json_object_get(order, "client_order_id")),
                 sgn > 0 ? "bought" : "sold", rest, sym, f.price, (long long)f.ts, f.fee);
    } else if (code == 0 || code >= 500) {
        c->retry = 1; /* the same fill (seq 1) is posted again later: idempotent */
    } else {
        c->st->errors++;
        LOG_WARN("paper", "order %lld: fill refused (%d %s)", (long long)id, code,
                 error_text(reply));
    }
    json_decref(reply);
    json_decref(env);
}

/* Claim an order (exactly once across connectors): 1 ours, 0 someone else's, -1 error. */
static int claim(struct pctx *c, int64_t id)
{
    char path[64];
    snprintf(path, sizeof(path), "/orders/%lld/ack", (long long)id);
    json_t *body = json_pack("{ss}", "claim_id", c->o->claim_id), *reply = NULL;
    int code = call(c, "POST", path, body, &reply);
    json_decref(body);
    json_decref(reply);
    if (code == 200)
        return 1;
    if (code == 409)
        return 0;
    c->st->errors++;
    return -1;
}

/* One page of orders with 'status' after *after. Returns how many were listed, -1 on a
 * transport error, -2 when the gateway refused the request (fatal: err set). */
static int page(struct pctx *c, const char *status, int64_t *after, char *err, size_t errlen)
{
    char path[700];
    snprintf(path, sizeof(path), "/orders?world_id=%s&status=%s&after=%lld&limit=100", c->world_q,
             status, (long long)*after);
    json_t *reply = NULL;
    int code = call(c, "GET", path, NULL, &reply);
    if (code != 200) {
        int fatal = code == 401 || code == 403 || code == 404 || code == 422;
        if (fatal)
            snprintf(err, errlen, "GET /orders refused: %d %s", code, error_text(reply));
        json_decref(reply);
        return fatal ? -2 : -1;
    }
    json_t *orders = json_object_get(reply, "orders");
    size_t i;
    json_t *o;
    int n = 0;
    json_array_foreach(orders, i, o)
    {
        if (stop_flag)
            break;
        int64_t id = (int64_t)json_integer_value(json_object_get(o, "id"));
        int mine = claim(c, id);
        if (mine < 0) { /* not answered: this order is listed again next time */
            n = -1;
            break;
        }
        if (id > *after)
            *after = id;
        n++;
        if (mine) {
            c->st->claimed += !strcmp(status, "new");
            handle(c, o);
        }
    }
    json_decref(reply);
    return n;
}

/* Finish the orders this claim_id holds (claimed, not filled or closed): after a restart,
 * or when a report did not reach the gateway. 0, or -1 when the gateway refused us. */
static int finish_claimed(struct pctx *c, char *err, size_t errlen)
{
    static const char *const unfinished[] = {"acked", "accepted", "partially_filled"};
    c->retry = 0;
    for (size_t k = 0; k < 3 && !stop_flag; k++) {
        int64_t after = 0;
        int n;
        while ((n = page(c, unfinished[k], &after, err, errlen)) > 0 && !stop_flag)
            ;
        if (n == -2)
            return -1;
        if (n == -1)
            c->retry = 1;
    }
    return 0;
}

static void pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL); /* a signal cuts it short */
}

int paper_run(const struct paper_options *o, const struct paper_prices *p, struct paper_stats *st,
              char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    struct pctx c = {.o = o, .p = p, .st = st};
    if (http_url_escape(o->world_id, c.world_q, sizeof(c.world_q)) < 0) {
        snprintf(err, errlen, "world id too long");
        return -1;
    }
    stop_flag = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends a pause at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* first, what this claim_id took before a restart and did not finish */
    int rc = finish_claimed(&c, err, errlen);
    int64_t after = 0;
    double backoff = o->poll_s;
    while (!rc && !stop_flag) {
        int n = page(&c, "new", &after, err, errlen);
        if (n == -2) {
            rc = -1;
            break;
        }
        if (n > 0) {
            backoff = o->poll_s;
            continue;
        }
        if (n == 0 && c.retry) {
            if (finish_claimed(&c, err, errlen) < 0) {
                rc = -1;
                break;
            }
            if (!c.retry)
                continue;
        }
        if (o->once && n == 0)
            break;
        /* nothing new (or the gateway away: back off up to 2 s) */
        backoff = n < 0 ? fmin(fmax(backoff * 2, o->poll_s), fmax(2.0, o->poll_s)) : o->poll_s;
        pause_s(backoff);
    }
    return rc;
}
