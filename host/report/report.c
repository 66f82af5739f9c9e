/* report: the results document of an offline run (see report.h). */
#include "host/report/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/dag/explain.h"
#include "host/orders/orders.h"
#include "host/report/stats.h"
#include "host/orders/trades.h"

static const char *status_of(const struct runner *r, const struct host_strategy *st)
{
    if (st->setup_failed)
        return "setup_failed";
    if (st->stopped)
        return "stopped";
    return r->run_error[0] ? "failed" : "ok"; /* the data did not reach its end */
}

static double rate(double n, double s)
{
    return s > 0 ? n / s : 0;
}

/* A number, or null when it has no JSON form (NaN, infinities). */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *stats_obj(const struct stats_result *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "bars", json_integer(s->points));
    json_object_set_new(o, "interval_s", json_integer(s->interval_s));
    json_object_set_new(o, "final_equity", num(s->final_equity));
    json_object_set_new(o, "pnl", num(s->pnl));
    json_object_set_new(o, "total_return", num(s->total_return));
    json_object_set_new(o, "cagr", num(s->cagr));
    json_object_set_new(o, "volatility", num(s->volatility));
    json_object_set_new(o, "sharpe", num(s->sharpe));
    json_object_set_new(o, "sortino", num(s->sortino));
    json_object_set_new(o, "calmar", num(s->calmar));
    json_object_set_new(o, "max_drawdown", num(s->max_drawdown));
    json_object_set_new(o, "max_drawdown_bars", json_integer(s->max_dd_bars));
    json_object_set_new(o, "max_drawdown_seconds",
                        json_integer((json_int_t)s->max_dd_bars * s->interval_s));
    json_object_set_new(o, "exposure", num(s->exposure));
    json_object_set_new(o, "turnover", num(s->turnover));
    json_object_set_new(o, "fees", num(s->fees));
    json_object_set_new(o, "round_trips", json_integer(s->round_trips));
    json_object_set_new(o, "wins", json_integer(s->wins));
    json_object_set_new(o, "losses", json_integer(s->losses));
    json_object_set_new(o, "win_rate", num(s->win_rate));
    json_object_set_new(o, "profit_factor", num(s->profit_factor));
    json_object_set_new(o, "avg_win", num(s->avg_win));
    json_object_set_new(o, "avg_loss", num(s->avg_loss));
    json_object_set_new(o, "max_losing_streak", json_integer(s->max_losing_streak));
    json_object_set_new(o, "benchmark_return", num(s->bench_return));
    json_object_set_new(o, "excess_return", num(s->excess_return));
    return o;
}

static json_t *equity_obj(const struct stats_point *p, size_t n)
{
    json_t *ts = json_array(), *eq = json_array(), *bm = json_array(), *im = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(ts, json_integer(p[i].ts));
        json_array_append_new(eq, num(p[i].equity));
        json_array_append_new(bm, num(p[i].bench));
        json_array_append_new(im, json_integer(p[i].in_market != 0));
    }
    json_t *o = json_object();
    json_object_set_new(o, "ts", ts);
    json_object_set_new(o, "equity", eq);
    json_object_set_new(o, "benchmark", bm);
    json_object_set_new(o, "in_market", im);
    return o;
}

static json_t *trips_arr(const struct trade_trip *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "symbol", json_string(t[i].symbol));
        json_object_set_new(o, "side", json_string(t[i].side > 0 ? "long" : "short"));
        json_object_set_new(o, "entry_ts", json_integer(t[i].entry_ts));
        json_object_set_new(o, "exit_ts", json_integer(t[i].exit_ts));
        json_object_set_new(o, "qty", num(t[i].qty));
        json_object_set_new(o, "entry_price", num(t[i].entry_px));
        json_object_set_new(o, "exit_price", num(t[i].exit_px));
        json_object_set_new(o, "pnl", num(t[i].pnl));
        json_object_set_new(o, "fees", num(t[i].fees));
        json_object_set_new(o, "bars", json_integer(t[i].bars));
        json_array_append_new(a, o);
    }
    return a;
}

/* One strategy's statistics and round trips (*trips: heap, caller frees). */
static int strategy_stats(const struct broker *b, struct stats_result *res,
                          struct trade_trip **trips, size_t *nt)
{
    size_t n, nf;
    const struct stats_point *p = broker_points(b, &n);
    const struct trade_fill *f = broker_fills(b, &nf);
    struct broker_stats bs;
    broker_stats(b, &bs);
    if (trades_build(f, nf, bs.interval_s, trips, nt) < 0)
        return -1;
    struct stats_input in = {.pts = p,
                             .n = n,
                             .initial = bs.initial_cash,
                             .interval_s = bs.interval_s,
                             .trips = *trips,
                             .n_trips = *nt,
                             .fees = bs.fees,
                             .traded_notional = bs.turnover};
    stats_compute(&in, res);
    return 0;
}

static int cmp_exit(const void *a, const void *b)
{
    const struct trade_trip *x = a, *y = b;
    return (x->exit_ts > y->exit_ts) - (x->exit_ts < y->exit_ts);
}

/* The portfolio of every strategy: merged curve, all round trips by exit time. */
static json_t *portfolio_obj(const struct host *h, int series)
{
    size_t k = h->n_st;
    const struct stats_point **curves = calloc(k ? k : 1, sizeof(*curves));
    size_t *lens = calloc(k ? k : 1, sizeof(*lens));
    double *init = calloc(k ? k : 1, sizeof(*init));
    struct trade_trip *all = NULL;
    size_t n_all = 0;
    double initial = 0, fees = 0, notional = 0;
    json_t *o = NULL;
    struct stats_point *m = NULL;
    size_t nm = 0;
    if (!curves || !lens || !init)
        goto out;
    for (size_t i = 0; i < k; i++) {
        const struct broker *b = h->st[i]->broker;
        struct broker_stats bs;
        broker_stats(b, &bs);
        curves[i] = broker_points(b, &lens[i]);
        init[i] = bs.initial_cash;
        initial += bs.initial_cash;
        fees += bs.fees;
        notional += bs.turnover;
        size_t nf, nt;
        struct trade_trip *t;
        const struct trade_fill *f = broker_fills(b, &nf);
        if (trades_build(f, nf, bs.interval_s, &t, &nt) < 0)
            goto out;
        struct trade_trip *na = realloc(all, (n_all + nt + 1) * sizeof(*na));
        if (!na) {
            free(t);
            goto out;
        }
        all = na;
        if (nt)
            memcpy(all + n_all, t, nt * sizeof(*t));
        n_all += nt;
        free(t);
    }
    if (n_all)
        qsort(all, n_all, sizeof(*all), cmp_exit); /* closing order (ties: any, deterministic) */
    if (stats_merge(curves, lens, init, k, &m, &nm))
        goto out;
    int64_t interval = 0;
    for (size_t i = 0; i < k; i++) {
        struct broker_stats bs;
        broker_stats(h->st[i]->broker, &bs);
        if (bs.interval_s > 0 && (interval == 0 || bs.interval_s < interval))
            interval = bs.interval_s;
    }
    struct stats_input in = {.pts = m,
                             .n = nm,
                             .initial = initial > 0 ? initial : 1,
                             .interval_s = interval,
                             .trips = all,
                             .n_trips = n_all,
                             .fees = fees,
                             .traded_notional = notional};
    struct stats_result res;
    stats_compute(&in, &res);
    o = json_object();
    json_object_set_new(o, "initial_cash", num(initial));
    json_object_set_new(o, "stats", stats_obj(&res));
    if (series)
        json_object_set_new(o, "equity", equity_obj(m, nm));
out:
    free(m);
    free(all);
    free(curves);
    free(lens);
    free(init);
    return o;
}

/* The strategy's orders and book: rejections by reason, open orders, final positions. */
static json_t *book_obj(const struct host *h, uint32_t i)
{
    struct orders_counters c;
    host_order_counters(h, i, &c);
    json_t *o = json_object();
    json_t *rej = json_object();
    for (int k = 1; k < RISK_N; k++)
        json_object_set_new(rej, risk_reason_name(k), json_integer(c.rejected[k]));
    json_object_set_new(rej, "broker", json_integer(c.rejected_broker));
    json_object_set_new(o, "rejections", rej);
    json_object_set_new(o, "expired_orders", json_integer(c.expired));
    json_object_set_new(o, "open_orders", json_integer((json_int_t)c.open_orders));
    const struct book *bk = broker_book(h->st[i]->broker);
    json_object_set_new(o, "cash", num(book_cash(bk)));
    json_t *pos = json_array();
    for (size_t k = 0; k < book_count(bk); k++) {
        struct book_line l;
        book_at(bk, k, &l);
        json_t *p = json_object();
        json_object_set_new(p, "symbol", json_string(l.symbol));
        json_object_set_new(p, "position", num(l.position));
        json_object_set_new(p, "avg_cost", num(l.avg_cost));
        json_object_set_new(p, "open", num(l.open_buy - l.open_sell));
        json_object_set_new(p, "realized_pnl", num(l.realized));
        json_object_set_new(p, "unrealized_pnl",
                            num(l.position ? l.position * (l.mark - l.avg_cost) : 0));
        json_array_append_new(pos, p);
    }
    json_object_set_new(o, "positions", pos);
    return o;
}

static json_t *strategy_obj(const struct runner *r, size_t i, int series)
{
    const struct host *h = &r->h;
    const struct host_strategy *st = h->st[i];
    struct broker_stats bs;
    broker_stats(st->broker, &bs);
    struct stats_result res;
    struct trade_trip *trips = NULL;
    size_t nt = 0;
    if (strategy_stats(st->broker, &res, &trips, &nt))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(st->name));
    json_object_set_new(o, "version", json_string(st->desc->version ? st->desc->version : ""));
    json_object_set_new(o, "plugin", json_string(st->path));
    json_object_set_new(o, "status", json_string(status_of(r, st)));
    if (st->stopped)
        json_object_set_new(o, "error", json_string(st->error));
    else if (r->run_error[0])
        json_object_set_new(o, "error", json_string(r->run_error));
    json_object_set_new(o, "bars", json_integer(host_strategy_bars(h, (uint32_t)i)));
    json_object_set_new(o, "signals", json_integer(st->signals));
    json_object_set_new(o, "orders", json_integer(st->orders));
    json_object_set_new(o, "blocked_orders", json_integer(st->blocked));
    json_object_set_new(o, "fills", json_integer(bs.trades));
    json_object_set_new(o, "round_trips", json_integer((json_int_t)nt));
    json_object_set_new(o, "pnl", num(bs.pnl));
    json_object_set_new(o, "return", num(bs.ret));
    json_object_set_new(o, "sharpe", num(bs.sharpe));
    json_object_set_new(o, "max_drawdown", num(bs.max_drawdown));
    json_object_set_new(o, "fees", num(bs.fees));
    json_object_set_new(o, "final_equity", num(bs.equity));
    json_object_set_new(o, "initial_cash", num(bs.initial_cash));
    json_object_set_new(o, "stats", stats_obj(&res));
    json_object_set_new(o, "book", book_obj(h, (uint32_t)i));
    if (series) {
        size_t n;
        const struct stats_point *p = broker_points(st->broker, &n);
        json_object_set_new(o, "equity", equity_obj(p, n));
        json_object_set_new(o, "trades", trips_arr(trips, nt));
    }
    free(trips);
    return o;
}

json_t *report_json(const struct runner *r, int series)
{
    const struct host *h = &r->h;
    json_t *root = json_object();
    json_t *arr = json_array();
    if (!root || !arr)
        goto oom;
    for (size_t i = 0; i < h->n_st; i++) {
        json_t *o = strategy_obj(r, i, series);
        if (!o || json_array_append_new(arr, o))
            goto oom;
    }
    json_object_set_new(root, "strategies", arr);
    arr = NULL;
    json_t *pf = portfolio_obj(h, series);
    if (!pf)
        goto oom;
    json_object_set_new(root, "portfolio", pf);
    json_t *run = json_object();
    uint64_t live_events = 0, bad_lines = 0; /* live inputs (host/data/live_in.h) */
    for (size_t i = 0; i < h->metrics.n_src; i++) {
        live_events += h->metrics.src[i].events;
        bad_lines += h->metrics.src[i].bad_lines;
    }
    uint64_t events = r->events + live_events;
    json_object_set_new(run, "events", json_integer((json_int_t)events));
    json_object_set_new(run, "sources", json_integer((json_int_t)(r->n_sources + r->n_live)));
    json_object_set_new(run, "skipped_rows", json_integer(r->skipped_rows));
    if (r->n_live) {
        json_object_set_new(run, "live_events", json_integer((json_int_t)live_events));
        json_object_set_new(run, "bad_lines", json_integer((json_int_t)bad_lines));
    }
    json_object_set_new(run, "unrouted", json_integer((json_int_t)h->unrouted));
    json_object_set_new(run, "seconds", json_real(r->replay_s));
    json_object_set_new(run, "events_per_s", json_real(rate((double)events, r->replay_s)));
    json_object_set_new(run, "nodes", json_integer((json_int_t)graph_count(h->g)));
    json_object_set_new(run, "shared_nodes", json_integer((json_int_t)explain_shared_count(h)));
    json_object_set_new(run, "node_computations",
                        json_integer(h->s ? (json_int_t)sched_computes(h->s) : 0));
    json_object_set_new(run, "fill_at",
                        json_string(h->opt.fill_at == HOST_FILL_CLOSE ? "close" : "next_open"));
    if (h->killed)
        json_object_set_new(run, "kill_switch", json_string(h->kill_reason));
    if (r->run_error[0])
        json_object_set_new(run, "error", json_string(r->run_error));
    json_object_set_new(root, "run", run);
    json_t *probs = json_array();
    for (size_t i = 0; i < r->n_problems; i++)
        json_array_append_new(probs, json_string(r->problems[i]));
    json_object_set_new(root, "problems", probs);
    return root;
oom:
    json_decref(arr);
    json_decref(root);
    return NULL;
}

/* ------------------------------------------------------------------ text */

static double jnum(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static long jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void row(FILE *out, int w, const char *name, const char *status, long bars, long signals,
                long fills, const json_t *stats)
{
    fprintf(out, "%-*s %-12s %9ld %8ld %7ld %6ld %14.2f %8.2f%% %8.3f %7.2f%% %10.2f\n", w, name,
            status, bars, signals, fills, jint(stats, "round_trips"), jnum(stats, "pnl"),
            100 * jnum(stats, "total_return"), jnum(stats, "sharpe"),
            100 * jnum(stats, "max_drawdown"), jnum(stats, "fees"));
}

/* The fill model, then per strategy with orders: orders, fills, refusals by reason, what
 * is still open and the final positions. */
static void orders_text(FILE *out, const json_t *arr, const json_t *run)
{
    const char *fa = jstr(run, "fill_at");
    if (*fa)
        fprintf(out, "fills: market orders at %s (broker.fill_at %s)\n",
                strcmp(fa, "close") ? "the next bar's open" : "the decision bar's close", fa);
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s)
    {
        const json_t *bk = json_object_get(s, "book");
        long refused = 0;
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)json_object_get(bk, "rejections"), key, v)
        {
            refused += (long)json_integer_value(v);
        }
        if (!bk ||
            !(jint(s, "orders") || jint(s, "blocked_orders") || jint(s, "fills") || refused))
            continue;
        fprintf(out, "orders %s: %ld sent, %ld filled, %ld blocked by the gate", jstr(s, "name"),
                jint(s, "orders"), jint(s, "fills"), jint(s, "blocked_orders"));
        int any = 0;
        json_object_foreach((json_t *)json_object_get(bk, "rejections"), key, v)
        {
            if (json_integer_value(v))
                fprintf(out, "%s %s %ld", any++ ? "," : "; rejected:", key,
                        (long)json_integer_value(v));
        }
        if (jint(bk, "expired_orders"))
            fprintf(out, "; %ld expired", jint(bk, "expired_orders"));
        if (jint(bk, "open_orders"))
            fprintf(out, "; %ld open", jint(bk, "open_orders"));
        any = 0;
        const json_t *p;
        size_t k;
        json_array_foreach(json_object_get(bk, "positions"), k, p)
        {
            if (jnum(p, "position") != 0)
                fprintf(out, "%s %s %.10g", any++ ? "," : "; position", jstr(p, "symbol"),
                        jnum(p, "position"));
        }
        fprintf(out, "%s\n", any ? "" : "; flat");
    }
    if (json_object_get(run, "kill_switch"))
        fprintf(out, "kill switch: %s\n", jstr(run, "kill_switch"));
}

void report_text(FILE *out, const json_t *doc)
{
    const json_t *arr = json_object_get(doc, "strategies");
    int w = 20;
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s)
    {
        int len = (int)strlen(jstr(s, "name"));
        if (len > w && len <= 80)
            w = len;
    }
    fprintf(out, "%-*s %-12s %9s %8s %7s %6s %14s %9s %8s %8s %10s\n", w, "strategy", "status",
            "bars", "signals", "fills", "trips", "pnl", "return", "sharpe", "max_dd", "fees");
    long signals = 0, fills = 0;
    json_array_foreach(arr, i, s)
    {
        signals += jint(s, "signals");
        fills += jint(s, "fills");
        row(out, w, jstr(s, "name"), jstr(s, "status"), jint(s, "bars"), jint(s, "signals"),
            jint(s, "fills"), json_object_get(s, "stats"));
    }
    const json_t *pf = json_object_get(doc, "portfolio");
    if (json_array_size(arr) > 1 && pf) {
        const json_t *ps = json_object_get(pf, "stats");
        row(out, w, "TOTAL (portfolio)", "", jint(ps, "bars"), signals, fills, ps);
    }
    const json_t *run = json_object_get(doc, "run");
    fprintf(out,
            "\nrun: %ld events from %ld source(s) in %.3f s (%.0f events/s); %ld nodes, %ld "
            "shared; %ld node computations\n",
            jint(run, "events"), jint(run, "sources"), jnum(run, "seconds"),
            jnum(run, "events_per_s"), jint(run, "nodes"), jint(run, "shared_nodes"),
            jint(run, "node_computations"));
    orders_text(out, arr, run);
    if (jint(run, "skipped_rows"))
        fprintf(out, "data: %ld malformed row(s) skipped\n", jint(run, "skipped_rows"));
    if (jint(run, "bad_lines"))
        fprintf(out, "data: %ld bad line(s) on live inputs skipped\n", jint(run, "bad_lines"));
    if (jint(run, "unrouted"))
        fprintf(out, "data: %ld event(s) matched no stream input\n", jint(run, "unrouted"));
    json_array_foreach(arr, i, s)
    {
        /* its own error; the run's is printed once below */
        if (json_object_get(s, "error") && strcmp(jstr(s, "status"), "failed"))
            fprintf(out, "error: %s\n", jstr(s, "error"));
    }
    json_array_foreach(json_object_get(doc, "problems"), i, s)
    {
        fprintf(out, "error: %s\n", json_string_value(s) ? json_string_value(s) : "");
    }
    if (json_object_get(run, "error"))
        fprintf(out, "error: the run stopped early: %s\n", jstr(run, "error"));
}
