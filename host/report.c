/* report: per-strategy backtest summary and run figures (see report.h). */
#include "host/report.h"

#include <string.h>

#include "host/explain.h"

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

json_t *report_json(const struct runner *r)
{
    const struct host *h = &r->h;
    json_t *root = json_object();
    json_t *arr = json_array();
    for (size_t i = 0; i < h->n_st; i++) {
        const struct host_strategy *st = h->st[i];
        struct broker_stats bs;
        broker_stats(st->broker, &bs);
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
        json_object_set_new(o, "trades", json_integer(bs.trades));
        json_object_set_new(o, "pnl", json_real(bs.pnl));
        json_object_set_new(o, "return", json_real(bs.ret));
        json_object_set_new(o, "sharpe", json_real(bs.sharpe));
        json_object_set_new(o, "max_drawdown", json_real(bs.max_drawdown));
        json_object_set_new(o, "fees", json_real(bs.fees));
        json_object_set_new(o, "final_equity", json_real(bs.equity));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "strategies", arr);
    json_t *run = json_object();
    json_object_set_new(run, "events", json_integer((json_int_t)r->events));
    json_object_set_new(run, "sources", json_integer((json_int_t)r->n_sources));
    json_object_set_new(run, "skipped_rows", json_integer(r->skipped_rows));
    json_object_set_new(run, "unrouted", json_integer((json_int_t)h->unrouted));
    json_object_set_new(run, "seconds", json_real(r->replay_s));
    json_object_set_new(run, "events_per_s", json_real(rate((double)r->events, r->replay_s)));
    json_object_set_new(run, "nodes", json_integer((json_int_t)graph_count(h->g)));
    json_object_set_new(run, "shared_nodes", json_integer((json_int_t)explain_shared_count(h)));
    json_object_set_new(run, "node_computations",
                        json_integer(h->s ? (json_int_t)sched_computes(h->s) : 0));
    json_object_set_new(root, "run", run);
    json_t *probs = json_array();
    for (size_t i = 0; i < r->n_problems; i++)
        json_array_append_new(probs, json_string(r->problems[i]));
    json_object_set_new(root, "problems", probs);
    return root;
}

void report_text(FILE *out, const struct runner *r)
{
    const struct host *h = &r->h;
    fprintf(out, "%-20s %-12s %9s %8s %7s %14s %9s %8s %8s\n", "strategy", "status", "bars",
            "signals", "trades", "pnl", "return", "sharpe", "max_dd");
    for (size_t i = 0; i < h->n_st; i++) {
        const struct host_strategy *st = h->st[i];
        struct broker_stats bs;
        broker_stats(st->broker, &bs);
        fprintf(out, "%-20s %-12s %9ld %8ld %7ld %14.2f %8.2f%% %8.3f %7.2f%%\n", st->name,
                status_of(r, st), host_strategy_bars(h, (uint32_t)i), st->signals, bs.trades, bs.pnl,
                100 * bs.ret, bs.sharpe, 100 * bs.max_drawdown);
    }
    fprintf(out,
            "\nrun: %llu events from %zu source(s) in %.3f s (%.0f events/s); %zu nodes, %zu "
            "shared; %llu node computations\n",
            (unsigned long long)r->events, r->n_sources, r->replay_s,
            rate((double)r->events, r->replay_s), graph_count(h->g), explain_shared_count(h),
            h->s ? (unsigned long long)sched_computes(h->s) : 0ull);
    if (r->skipped_rows)
        fprintf(out, "data: %ld malformed row(s) skipped\n", r->skipped_rows);
    if (h->unrouted)
        fprintf(out, "data: %llu event(s) matched no stream input\n",
                (unsigned long long)h->unrouted);
    for (size_t i = 0; i < h->n_st; i++)
        if (h->st[i]->stopped)
            fprintf(out, "error: %s\n", h->st[i]->error);
    for (size_t i = 0; i < r->n_problems; i++)
        fprintf(out, "error: %s\n", r->problems[i]);
    if (r->run_error[0])
        fprintf(out, "error: the run stopped early: %s\n", r->run_error);
}
