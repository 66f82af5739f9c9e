/* orders: sizing, gate, sinks and the order log (see orders.h). */
#include "host/orders/orders.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/orders/live_orders.h"
#include "log.h"
#include "numfmt.h"

static void notify_signal(struct host_strategy *st, int64_t ts, const struct qmtl_signal *sg)
{
    st->signals++;
    if (st->desc->on_signal)
        st->desc->on_signal(&st->ctx, host_api_table(), sg, ts);
}

/* A signal node emitted: owners without an order publisher on it hear it here. One pass
 * over the node's children stamps the strategies whose publisher reads it (they report
 * the signal themselves), one pass over its owners notifies the others, each once (a
 * strategy that declared the node twice is stamped after its first notification). */
void orders_hook_signal(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_signal *sg)
{
    struct host *h = arg;
    uint64_t stamp = ++h->signal_stamp;
    for (uint32_t e = 0; e < n->n_out; e++) {
        const struct graph_node *c = graph_node(h->g, n->out[e].node);
        if (c->kind == GRAPH_ORDER && n->out[e].slot == 0 && c->order_strategy < h->n_st)
            h->st[c->order_strategy]->signal_stamp = stamp;
    }
    for (uint32_t i = 0; i < n->n_owners; i++) {
        struct host_strategy *st = h->st[n->owners[i]];
        if (st->signal_stamp == stamp || st->stopped)
            continue;
        st->signal_stamp = stamp;
        notify_signal(st, ts, sg);
    }
}

/* Shortest round-trip text of a finite number for the order log ("nan" otherwise). */
static const char *fmt_num(double v, char buf[NUMFMT_DOUBLE_MAX])
{
    if (numfmt_double(v, buf, NUMFMT_DOUBLE_MAX) < 0)
        snprintf(buf, NUMFMT_DOUBLE_MAX, "%g", v);
    return buf;
}

static const char *side_word(int side)
{
    return side > 0 ? "buy" : "sell";
}

/* A fill reached the strategy (simulated or real): counted, logged, handed to on_fill. */
static void filled(struct host *h, struct host_strategy *st, const struct qmtl_fill *f)
{
    st->fills++;
    if (h->order_log) {
        char q[NUMFMT_DOUBLE_MAX], pr[NUMFMT_DOUBLE_MAX], fe[NUMFMT_DOUBLE_MAX];
        fprintf(h->order_log, "%lld fill %s %s %s qty=%s price=%s fee=%s\n", (long long)f->ts,
                st->name, f->symbol, side_word(f->side), fmt_num(f->quantity, q),
                fmt_num(f->price, pr), fmt_num(f->fee, fe));
    }
    if (!st->stopped && st->desc->on_fill) {
        struct qmtl_fill copy = *f;
        copy.size = sizeof(copy);
        st->desc->on_fill(&st->ctx, host_api_table(), &copy);
    }
}

/* broker_bar's report for one resting order of strategy 'arg'. */
static void sim_event(void *arg, const char *coid, const struct qmtl_fill *f, double remaining)
{
    struct host_strategy *st = arg;
    struct host *h = st->ctx.h;
    struct book *bk = broker_book(st->broker);
    if (f) {
        book_order_filled(bk, coid, f->quantity);
        filled(h, st, f);
        return;
    }
    book_order_canceled(bk, coid);
    st->expired++;
    if (h->order_log) {
        char q[NUMFMT_DOUBLE_MAX];
        fprintf(h->order_log, "%lld expired %s %s qty=%s\n", (long long)sched_now(h->s), st->name,
                coid, fmt_num(remaining, q));
    }
}

void orders_blocked(struct host *h, struct host_strategy *st, const char *symbol, int64_t ts,
                    double qty, const char *why)
{
    st->blocked++;
    host_metrics_order_blocked(&h->metrics, st->name, why);
    if (h->order_log) {
        char q[NUMFMT_DOUBLE_MAX];
        fprintf(h->order_log, "%lld blocked %s %s %s qty=%s (%s)\n", (long long)ts, st->name,
                symbol, side_word(qty > 0 ? 1 : -1), fmt_num(fabs(qty), q), why);
    }
}

/* Decimal digits of v at p (no NUL); returns the end. Two digits per division. */
static char *put_int(char *p, long long v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char tmp[24];
    int n = 24;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        tmp[--n] = pairs[d + 1];
        tmp[--n] = pairs[d];
    }
    if (u >= 10) {
        tmp[--n] = pairs[u * 2 + 1];
        tmp[--n] = pairs[u * 2];
    } else {
        tmp[--n] = (char)('0' + u);
    }
    if (v < 0)
        *p++ = '-';
    memcpy(p, tmp + n, (size_t)(24 - n));
    return p + (24 - n);
}

/* live_order_client_id()'s "<name>-<ts>-<seq>" (name cut at 100 bytes), without stdio:
 * it is made for every order on the hot path. */
static void client_id(char *out, size_t len, const char *name, int64_t ts, long seq)
{
    if (len < 160) {
        live_order_client_id(out, len, name, ts, seq);
        return;
    }
    size_t n = strnlen(name, 100);
    memcpy(out, name, n);
    char *p = out + n;
    *p++ = '-';
    p = put_int(p, ts);
    *p++ = '-';
    p = put_int(p, seq);
    *p = 0;
}

int orders_send(struct host *h, struct host_strategy *st, const struct orders_req *rq,
                char *coid, size_t coid_len)
{
    struct book *bk = broker_book(st->broker);
    struct qmtl_order o = {.side = rq->side, .quantity = rq->quantity, .price = rq->price};
    client_id(coid, coid_len, st->name, rq->ts, st->order_seq + 1);
    if (h->opt.domain == HOST_LIVE) {
        if (rq->type != BROKER_MARKET) {
            orders_blocked(h, st, rq->symbol, rq->ts, rq->side * rq->quantity,
                           "limit and stop orders are simulated only");
            return -1;
        }
        if (!h->live_sink ||
            h->live_sink(h->live_arg, st->name, rq->symbol, rq->ts, &o, coid) != 0) {
            st->blocked++;
            host_metrics_order_blocked(&h->metrics, st->name, "sink refused");
            return -1;
        }
        st->order_seq++;
        book_order_sent(bk, coid, rq->symbol, rq->side, rq->quantity, rq->ts);
        st->orders++;
        return 0;
    }
    st->order_seq++;
    if (book_order_sent(bk, coid, rq->symbol, rq->side, rq->quantity, rq->ts))
        return -1;
    st->orders++;
    if (h->order_log) {
        char q[NUMFMT_DOUBLE_MAX], pr[NUMFMT_DOUBLE_MAX], lv[NUMFMT_DOUBLE_MAX];
        fprintf(h->order_log, "%lld order %s %s %s qty=%s price=%s", (long long)rq->ts, st->name,
                rq->symbol, side_word(rq->side), fmt_num(rq->quantity, q),
                fmt_num(rq->price, pr));
        if (rq->type == BROKER_LIMIT)
            fprintf(h->order_log, " limit=%s", fmt_num(rq->limit_price, lv));
        else if (rq->type == BROKER_STOP)
            fprintf(h->order_log, " stop=%s", fmt_num(rq->stop_price, lv));
        fputc('\n', h->order_log);
    }
    if (rq->type == BROKER_MARKET && h->opt.fill_at == HOST_FILL_CLOSE) {
        struct qmtl_fill f;
        if (broker_submit(st->broker, rq->symbol, rq->ts, &o, &f) == 0) {
            book_order_filled(bk, coid, f.quantity);
            filled(h, st, &f);
        } else {
            book_order_rejected(bk, coid);
        }
        return 0;
    }
    struct broker_order bo = {.client_order_id = coid,
                              .symbol = rq->symbol,
                              .side = rq->side,
                              .quantity = rq->quantity,
                              .type = rq->type,
                              .limit_price = rq->limit_price,
                              .stop_price = rq->stop_price,
                              .tif = rq->tif,
                              .ts = rq->ts};
    if (broker_place(st->broker, &bo)) {
        book_order_rejected(bk, coid);
        return -1;
    }
    return 0;
}

/* The strategy's risk state, set up at its first use from the host-wide limits and its
 * own overrides. NULL when out of memory (then no order leaves). */
static struct risk *risk_of(struct host *h, struct host_strategy *st)
{
    if (st->risk_ready)
        return &st->risk;
    struct risk_limits lim = h->opt.risk;
    for (size_t i = 0; i < h->n_risk_overrides; i++)
        if (strcmp(h->risk_overrides[i].strategy, st->name) == 0)
            risk_limit_set(&lim, h->risk_overrides[i].key, h->risk_overrides[i].value);
    if (risk_init(&st->risk, &lim))
        return NULL;
    st->risk_ready = 1;
    return &st->risk;
}

int host_set_risk_limit(struct host *h, const char *strategy, const char *key, const char *value)
{
    struct risk_limits probe = {0};
    if (!strategy || !key || risk_limit_set(&probe, key, value))
        return -1;
    return host_param_push_(&h->risk_overrides, &h->n_risk_overrides, strategy, key, value);
}

/* Count (and log) an order the risk checks refused. */
static void rejected(struct host *h, struct host_strategy *st, const char *symbol, int64_t ts,
                     double qty, int reason)
{
    host_metrics_order_blocked(&h->metrics, st->name, risk_reason_name(reason));
    if (h->order_log) {
        char q[NUMFMT_DOUBLE_MAX];
        fprintf(h->order_log, "%lld rejected %s %s %s qty=%s (%s)\n", (long long)ts, st->name,
                symbol, side_word(qty > 0 ? 1 : -1), fmt_num(fabs(qty), q),
                risk_reason_name(reason));
    }
}

int orders_check(struct host *h, struct host_strategy *st, const char *symbol, int64_t ts,
                 double pos, double delta, double price, const char **why)
{
    struct risk *r = risk_of(h, st);
    int rr = r ? risk_check(r, pos, delta, price, ts, h->killed) : RISK_KILL_SWITCH;
    if (rr != RISK_OK) {
        rejected(h, st, symbol, ts, delta, rr);
        *why = risk_reason_name(rr);
        return 1;
    }
    if (h->opt.domain != HOST_BACKTEST) {
        double pass = gate_clip(&st->gate, h->opt.domain, pos, delta, why);
        if (pass != delta) {
            orders_blocked(h, st, symbol, ts, delta, *why);
            return 1;
        }
    }
    *why = NULL;
    return 0;
}

void orders_sent(struct host_strategy *st, int64_t ts)
{
    if (st->risk_ready)
        risk_sent(&st->risk, ts);
}

/* The latest price input as a bar (a number is a bar with open = high = low = close). */
static int read_bar(const struct qmtl_window *w, struct qmtl_bar *bar)
{
    const struct qmtl_value *v = qmtl_window_latest(w);
    if (!v)
        return -1;
    if (v->type == QMTL_T_BAR) {
        *bar = v->as.bar;
    } else {
        double x = qmtl_value_number(v);
        *bar = (struct qmtl_bar){.open = x, .high = x, .low = x, .close = x};
    }
    return bar->close > 0 && isfinite(bar->close) ? 0 : -1;
}

/* The position a target asks for, before the gate: target * weight of its side (dryrun,
 * live) times the publisher's quantity, or of equity / price. A side that is deactivated
 * flattens what it holds. */
static double wanted(const struct host *h, const struct host_strategy *st, const struct graph_node *n,
                     double target, double cur, double price)
{
    double w = 1;
    if (h->opt.domain != HOST_BACKTEST) {
        if (target != 0)
            w = gate_weight(&st->gate, target > 0 ? QMTL_SIDE_BUY : QMTL_SIDE_SELL);
        /* a deactivated side: what it holds goes (its target is flat) */
        if (cur != 0 && (target > 0) == (cur > 0) &&
            gate_deactivated(&st->gate, cur > 0 ? QMTL_SIDE_BUY : QMTL_SIDE_SELL))
            w = 0;
    }
    double t = target * w;
    return n->order_quantity > 0 ? t * n->order_quantity
                                 : t * broker_equity(st->broker) / price;
}

/* One run of a publisher: what its bar and signal handlers need. */
struct pub_run {
    struct host *h;
    struct host_strategy *st;
    const struct graph_node *n;
    const char *sym; /* the symbol, or the book's copy of it once taken */
    struct qmtl_value *out;
};

/* A bar handed over (order_align.h): orders resting from earlier bars trade on it first
 * (no look-ahead), then it marks the book and the risk state. */
static void pub_bar(void *arg, int64_t ts, const struct qmtl_bar *bar)
{
    struct pub_run *r = arg;
    struct host *h = r->h;
    struct host_strategy *st = r->st;
    if (st->stopped)
        return;
    /* the symbol's text is compared at most once per tick: when more than the mark needs
     * it, the book's own copy is taken (book_symbol adds it, as marking it would) and
     * found by its address from then on */
    if (broker_resting(st->broker)) {
        const char *own = book_symbol(broker_book(st->broker), r->sym);
        if (own)
            r->sym = own;
        broker_bar(st->broker, r->sym, ts, bar, sim_event, st);
    }
    broker_mark(st->broker, r->sym, ts, bar->close);
    struct risk *rk = risk_of(h, st);
    if (rk && risk_mark(rk, ts, broker_equity(st->broker))) {
        char why[300];
        snprintf(why, sizeof(why),
                 "risk: equity %.2f is more than risk.max_daily_loss %.2f below the day's "
                 "start (%.2f)",
                 broker_equity(st->broker), rk->lim.max_daily_loss, rk->day_start);
        host_stop_strategy(h, r->n->order_strategy, QMTL_ESTATE, why);
    }
}

/* A signal handed over: sizing, risk checks, gate, sink, priced at 'bar' (the bar of its
 * bucket, or the newest one when that was no longer held: 'missed'). */
static void pub_signal(void *arg, int64_t ts, const struct qmtl_value *sv,
                       const struct qmtl_bar *bar, int missed)
{
    struct pub_run *r = arg;
    struct host *h = r->h;
    struct host_strategy *st = r->st;
    const struct graph_node *n = r->n;
    if (!bar || st->stopped)
        return;
    if (missed) {
        h->metrics.order_price_missed++;
        LOG_WARN("orders",
                 "strategy '%s': publisher '%s': the bar of the signal's bucket %lld is no "
                 "longer held; priced at the newest bar (%.17g)",
                 st->name, n->label, (long long)ts, bar->close);
    }
    double price = bar->close;
    double target = sv->type == QMTL_T_SIGNAL ? sv->as.signal.target : qmtl_value_number(sv);
    if (isnan(target))
        return;
    /* every signal reaching a publisher is the strategy's signal (from a signal node or a
     * custom node alike) */
    struct qmtl_signal sg = {.action = target > 0   ? QMTL_BUY
                                       : target < 0 ? QMTL_SELL
                                                    : QMTL_HOLD,
                             .target = target};
    if (sv->type == QMTL_T_SIGNAL)
        sg = sv->as.signal;
    notify_signal(st, ts, &sg);
    if (st->stopped)
        return; /* on_signal may not stop it, but be safe */
    if (target > 1)
        target = 1;
    if (target < -1)
        target = -1;
    struct book *bk = broker_book(st->broker);
    double cur = book_position(bk, r->sym) + book_open(bk, r->sym);
    double delta = wanted(h, st, n, target, cur, price) - cur;
    if (!(fabs(delta) > 1e-9))
        return;
    struct risk *rk = risk_of(h, st);
    int rr = rk ? risk_check(rk, cur, delta, price, ts, h->killed) : RISK_KILL_SWITCH;
    if (rr != RISK_OK) {
        rejected(h, st, n->order_symbol, ts, delta, rr);
        return;
    }
    if (h->opt.domain != HOST_BACKTEST) {
        const char *why = NULL;
        double pass = gate_clip(&st->gate, h->opt.domain, cur, delta, &why);
        if (why)
            orders_blocked(h, st, n->order_symbol, ts, delta - pass, why);
        delta = pass;
        if (!(fabs(delta) > 1e-9))
            return;
    }
    struct orders_req rq = {.symbol = r->sym,
                            .side = delta > 0 ? QMTL_SIDE_BUY : QMTL_SIDE_SELL,
                            .quantity = fabs(delta),
                            .price = price,
                            .type = BROKER_MARKET,
                            .ts = ts};
    char coid[160];
    if (orders_send(h, st, &rq, coid, sizeof(coid)) == 0) {
        orders_sent(st, ts);
        r->out->type = QMTL_T_ORDER;
        r->out->as.order = (struct qmtl_order){.side = rq.side, .quantity = rq.quantity,
                                               .price = price};
    }
}

/* The publisher's alignment state, made at its first run; NULL when out of memory. Found
 * by address while the runtime is the one it was found in, else by NodeID (a DAG swap). */
static struct order_align *align_of(struct host_strategy *st, const struct graph_node *n,
                                    uint64_t gen)
{
    for (size_t i = 0; i < st->n_aligns; i++) {
        struct order_align *a = st->aligns[i];
        if (a->node == n && a->node_gen == gen)
            return a;
        if (strcmp(a->node_id, n->id) == 0) {
            a->node = n;
            a->node_gen = gen;
            return a;
        }
    }
    struct order_align **grown = realloc(st->aligns, (st->n_aligns + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    st->aligns = grown;
    struct order_align *a = oa_new(n->id);
    if (!a)
        return NULL;
    a->node = n;
    a->node_gen = gen;
    st->aligns[st->n_aligns++] = a;
    return a;
}

void orders_hook_order(void *arg, struct graph_node *n, const struct qmtl_window *in, int64_t ts,
                       int price_in, int signal_in, struct qmtl_value *out)
{
    struct host *h = arg;
    struct host_strategy *st = h->st[n->order_strategy];
    if (st->stopped)
        return;
    struct pub_run r = {.h = h, .st = st, .n = n, .sym = n->order_symbol, .out = out};
    struct oa_ops ops = {.arg = &r, .bar = pub_bar, .signal = pub_signal};
    struct qmtl_bar bar;
    int have_bar = read_bar(&in[1], &bar) == 0;
    const struct qmtl_value *sv = signal_in ? qmtl_window_latest(&in[0]) : NULL;
    const struct runtime *rt = sched_runtime(h->s);
    struct order_align *a = rt ? align_of(st, n, rt->gen) : NULL;
    int64_t progress = a ? oa_progress(a, h->g, rt, n) : INT64_MAX;
    if (!a || !a->n_src) { /* nothing remote upstream (or no memory): as it comes */
        if (a && oa_held(a))
            oa_flush(a, &ops); /* held while it was remote */
        if (price_in && have_bar)
            pub_bar(&r, ts, &bar);
        if (sv)
            pub_signal(&r, ts, sv, have_bar ? &bar : NULL, 0);
        return;
    }
    int64_t price_ts = qmtl_window_ts_at(&in[1], 0);
    oa_step(a, price_in && have_bar ? &bar : NULL, price_ts, sv, sched_wave_ts(h->s), ts,
            in[1].count ? price_ts : INT64_MIN, progress, &ops);
}

void orders_flush(struct host *h)
{
    for (size_t i = 0; i < h->n_st; i++) {
        struct host_strategy *st = h->st[i];
        for (size_t k = 0; k < st->n_aligns; k++) {
            struct order_align *a = st->aligns[k];
            if (!oa_held(a))
                continue;
            const struct graph_node *n = h->g ? graph_find(h->g, a->node_id) : NULL;
            struct qmtl_value none = qmtl_none();
            struct pub_run r = {.h = h, .st = st, .n = n, .out = &none};
            struct oa_ops ops = {.arg = &r, .bar = pub_bar, .signal = pub_signal};
            if (!n || n->kind != GRAPH_ORDER || st->stopped) {
                a->bars.n = a->sigs.n = 0; /* its publisher is gone: nothing to hand over */
                continue;
            }
            r.sym = n->order_symbol;
            oa_flush(a, &ops);
        }
    }
}

/* ------------------------------------------------------------------ fills from outside */

int host_apply_fill(struct host *h, uint32_t strat, const struct host_fill *f)
{
    if (strat >= h->n_st || !f || !f->symbol || !*f->symbol)
        return -1;
    struct host_strategy *st = h->st[strat];
    const char *key = f->client_order_id && *f->client_order_id ? f->client_order_id
                                                                 : f->order_id;
    if (!key || !*key || f->seq < 1)
        return -1;
    struct book *bk = broker_book(st->broker);
    int seen = book_fill_seen(bk, key, f->seq);
    if (seen)
        return seen > 0 ? 1 : -1;
    struct qmtl_fill out;
    if (broker_fill(st->broker, f->symbol, f->side, f->quantity, f->price, f->commission, f->ts,
                    &out))
        return -1;
    const struct book_order *o = book_order_find(bk, f->client_order_id && *f->client_order_id
                                                         ? f->client_order_id
                                                         : NULL,
                                                 f->order_id);
    if (o) {
        char coid[160];
        snprintf(coid, sizeof(coid), "%s", o->client_order_id);
        book_order_filled(bk, coid, f->quantity);
    }
    filled(h, st, &out);
    return 0;
}

int host_order_status_parse(const char *s)
{
    static const char *const names[] = {"accepted", "rejected",         "canceled",
                                        "expired",  "partially_filled", "filled"};
    for (int i = 0; s && i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int host_order_update(struct host *h, uint32_t strat, const struct host_order_update *u)
{
    if (strat >= h->n_st || !u)
        return -1;
    struct host_strategy *st = h->st[strat];
    struct book *bk = broker_book(st->broker);
    const struct book_order *o = book_order_find(
        bk, u->client_order_id && *u->client_order_id ? u->client_order_id : NULL, u->order_id);
    if (!o)
        return 1; /* not open here (already closed, or from before a restart) */
    char coid[160];
    snprintf(coid, sizeof(coid), "%s", o->client_order_id);
    switch (u->status) {
    case HOST_ORDER_ACCEPTED:
    case HOST_ORDER_PARTIALLY_FILLED:
    case HOST_ORDER_FILLED: /* the fills move the position, not the status */
        return book_order_acked(bk, coid, u->order_id) ? -1 : 0;
    case HOST_ORDER_REJECTED:
        book_order_rejected(bk, coid);
        st->rejected_broker++;
        LOG_WARN("orders", "strategy '%s': order '%s' rejected%s%s", st->name, coid,
                 u->reason ? ": " : "", u->reason ? u->reason : "");
        return 0;
    case HOST_ORDER_CANCELED:
    case HOST_ORDER_EXPIRED:
        book_order_canceled(bk, coid);
        st->expired++;
        return 0;
    default:
        return -1;
    }
}

/* ------------------------------------------------------------------ kill switch, counters */

int host_kill(struct host *h, const char *reason)
{
    if (h->killed)
        return 0;
    h->killed = 1;
    snprintf(h->kill_reason, sizeof(h->kill_reason), "%s", reason ? reason : "");
    LOG_WARN("orders", "kill switch: %s: flattening every position, no new order leaves",
             h->kill_reason[0] ? h->kill_reason : "no reason given");
    int64_t ts = h->s ? sched_now(h->s) : 0;
    int sent = 0;
    for (size_t i = 0; i < h->n_st; i++) {
        struct host_strategy *st = h->st[i];
        if (st->setup_failed)
            continue;
        struct book *bk = broker_book(st->broker);
        /* resting simulated orders go first (live ones are the gateway's to cancel) */
        for (size_t k = book_open_orders(bk); k-- > 0;) {
            const struct book_order *o = book_order_at(bk, k);
            char coid[160];
            snprintf(coid, sizeof(coid), "%s", o->client_order_id);
            if (broker_cancel(st->broker, coid) == 0) {
                book_order_canceled(bk, coid);
                st->expired++;
            }
        }
        for (size_t k = 0; k < book_count(bk); k++) {
            struct book_line l;
            book_at(bk, k, &l);
            double q = l.position + l.open_buy - l.open_sell;
            if (!(fabs(q) > 1e-9) || !(l.mark > 0))
                continue;
            char sym[256], coid[160];
            snprintf(sym, sizeof(sym), "%s", l.symbol);
            struct orders_req rq = {.symbol = sym,
                                    .side = q > 0 ? QMTL_SIDE_SELL : QMTL_SIDE_BUY,
                                    .quantity = fabs(q),
                                    .price = l.mark,
                                    .type = BROKER_MARKET,
                                    .ts = ts};
            if (orders_send(h, st, &rq, coid, sizeof(coid)) == 0)
                sent++;
        }
    }
    return sent;
}

int host_order_counters(const struct host *h, uint32_t strat, struct orders_counters *out)
{
    memset(out, 0, sizeof(*out));
    if (strat >= h->n_st)
        return -1;
    const struct host_strategy *st = h->st[strat];
    out->signals = st->signals;
    out->orders = st->orders;
    out->fills = st->fills;
    out->blocked = st->blocked;
    for (int k = 1; k < RISK_N; k++)
        out->rejected[k] = st->risk.rejected[k];
    out->rejected_broker = st->rejected_broker;
    out->expired = st->expired;
    out->open_orders = book_open_orders(broker_book(st->broker));
    return 0;
}

void orders_carry(struct host_strategy *to, struct host_strategy *from)
{
    struct order_align **al = to->aligns; /* swapped too: held bars and signals carry over */
    size_t nal = to->n_aligns;
    to->aligns = from->aligns;
    to->n_aligns = from->n_aligns;
    from->aligns = al;
    from->n_aligns = nal;
    to->order_seq = from->order_seq;
    to->expired = from->expired;
    to->rejected_broker = from->rejected_broker;
    struct risk r = to->risk; /* swapped: each side frees what it holds */
    int ready = to->risk_ready;
    to->risk = from->risk;
    to->risk_ready = from->risk_ready;
    from->risk = r;
    from->risk_ready = ready;
}
