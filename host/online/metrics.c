/* metrics: a running host's counters as Prometheus text and JSON health (see metrics.h). */
#include "host/online/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/host_api.h"

double host_metrics_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void host_metrics_init(struct host_metrics *m)
{
    memset(m, 0, sizeof(*m));
    m->last_seq_no = -1;
    m->started = host_metrics_now();
}

void host_metrics_release(struct host_metrics *m)
{
    for (size_t i = 0; i < m->n_src; i++)
        free(m->src[i].name);
    free(m->src);
    for (size_t i = 0; i < m->n_blocked; i++) {
        free(m->blocked[i].strategy);
        free(m->blocked[i].reason);
    }
    free(m->blocked);
    memset(m, 0, sizeof(*m));
}

long host_metrics_source(struct host_metrics *m, const char *name)
{
    for (size_t i = 0; i < m->n_src; i++)
        if (!strcmp(m->src[i].name, name))
            return (long)i;
    if (m->n_src == m->cap_src) {
        size_t ncap = m->cap_src ? m->cap_src * 2 : 4;
        struct host_metrics_source *ns = realloc(m->src, ncap * sizeof(*ns));
        if (!ns)
            return -1;
        m->src = ns;
        m->cap_src = ncap;
    }
    struct host_metrics_source *s = &m->src[m->n_src];
    memset(s, 0, sizeof(*s));
    if (!(s->name = strdup(name)))
        return -1;
    return (long)m->n_src++;
}

void host_metrics_event(struct host_metrics *m, long i, int64_t ts_ms, double now_s)
{
    struct host_metrics_source *s = &m->src[i];
    s->events++;
    if (ts_ms >= s->last_ts_ms) {
        s->last_ts_ms = ts_ms;
        s->lag_s = now_s - (double)ts_ms / 1000.0;
    }
}

void host_metrics_order_blocked(struct host_metrics *m, const char *strategy, const char *reason)
{
    char label_[64];
    snprintf(label_, sizeof(label_), "%s", reason ? reason : "unknown");
    for (char *c = label_; *c; c++)
        if (*c == ' ')
            *c = '_';
    reason = label_;
    for (size_t i = 0; i < m->n_blocked; i++)
        if (!strcmp(m->blocked[i].strategy, strategy) && !strcmp(m->blocked[i].reason, reason)) {
            m->blocked[i].n++;
            return;
        }
    if (m->n_blocked == m->cap_blocked) {
        size_t ncap = m->cap_blocked ? m->cap_blocked * 2 : 8;
        struct host_metrics_blocked *nb = realloc(m->blocked, ncap * sizeof(*nb));
        if (!nb)
            return;
        m->blocked = nb;
        m->cap_blocked = ncap;
    }
    struct host_metrics_blocked *b = &m->blocked[m->n_blocked];
    b->strategy = strdup(strategy);
    b->reason = strdup(reason);
    if (!b->strategy || !b->reason) {
        free(b->strategy);
        free(b->reason);
        return;
    }
    b->n = 1;
    m->n_blocked++;
}

/* ------------------------------------------------------------------ Prometheus text */

/* A label value, escaped as the text format wants (backslash, quote, newline). */
static void label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Per strategy: computes and plugin compute time summed over the nodes it owns (a node
 * shared by several strategies counts for each). */
static void strategy_nodes(const struct host *h, uint32_t s, uint64_t *computes, uint64_t *ns)
{
    *computes = 0;
    *ns = 0;
    for (uint32_t i = 0; i < graph_count(h->g); i++) {
        const struct graph_node *x = graph_node(h->g, i);
        const struct rt_node *rx = sched_node(h->s, i);
        for (uint32_t k = 0; rx && k < x->n_owners; k++)
            if (x->owners[k] == s) {
                *computes += (uint64_t)rx->c.computes;
                *ns += rx->c.compute_ns;
                break;
            }
    }
}

static void render_sources(FILE *f, const struct host_metrics *m)
{
    static const struct {
        const char *name, *type, *help;
    } col[] = {
        {"qmtl_host_events_in_total", "counter", "Items a data source routed into the host"},
        {"qmtl_host_bad_lines_total", "counter", "Input lines refused (logged with their line)"},
        {"qmtl_host_live_connections", "gauge", "Publishers connected to a socket input"},
        {"qmtl_host_live_connections_total", "counter", "Publishers accepted by a socket input"},
        {"qmtl_host_follow_rotations_total", "counter",
         "Rotations and truncations of a followed file"},
        {"qmtl_host_live_reconnects_total", "counter", "Reconnections of a NATS input"},
        {"qmtl_host_live_dropped_total", "counter",
         "Messages of a NATS input dropped while the host was behind"},
        {"qmtl_host_live_last_event_timestamp_seconds", "gauge",
         "Event time of the newest item of a source"},
        {"qmtl_host_live_lag_seconds", "gauge",
         "Wall clock minus event time of the newest item of a source"},
    };
    for (size_t c = 0; c < sizeof(col) / sizeof(col[0]); c++) {
        if (!m->n_src)
            break;
        head(f, col[c].name, col[c].type, col[c].help);
        for (size_t i = 0; i < m->n_src; i++) {
            const struct host_metrics_source *s = &m->src[i];
            fprintf(f, "%s{source=\"", col[c].name);
            label(f, s->name);
            fputs("\"} ", f);
            switch (c) {
            case 0: fprintf(f, "%llu\n", (unsigned long long)s->events); break;
            case 1: fprintf(f, "%llu\n", (unsigned long long)s->bad_lines); break;
            case 2: fprintf(f, "%ld\n", s->connections); break;
            case 3: fprintf(f, "%llu\n", (unsigned long long)s->connections_total); break;
            case 4: fprintf(f, "%llu\n", (unsigned long long)s->rotations); break;
            case 5: fprintf(f, "%llu\n", (unsigned long long)s->reconnects); break;
            case 6: fprintf(f, "%llu\n", (unsigned long long)s->dropped); break;
            case 7: fprintf(f, "%.3f\n", (double)s->last_ts_ms / 1000.0); break;
            default: fprintf(f, "%.3f\n", s->last_ts_ms ? s->lag_s : 0.0); break;
            }
        }
    }
}

static void render_strategies(FILE *f, const struct host *h)
{
    head(f, "qmtl_host_strategy_running", "gauge", "1 while a strategy runs, 0 once stopped");
    for (size_t i = 0; i < h->n_st; i++) {
        fputs("qmtl_host_strategy_running{strategy=\"", f);
        label(f, h->st[i]->name);
        fprintf(f, "\"} %d\n", !h->st[i]->stopped);
    }
    head(f, "node_processed_total", "counter",
         "Node computations of the nodes a strategy owns (shared nodes count for each owner)");
    uint64_t *comp = calloc(h->n_st ? h->n_st : 1, sizeof(*comp));
    uint64_t *ns = calloc(h->n_st ? h->n_st : 1, sizeof(*ns));
    for (size_t i = 0; comp && ns && i < h->n_st; i++)
        strategy_nodes(h, (uint32_t)i, &comp[i], &ns[i]);
    for (size_t i = 0; comp && i < h->n_st; i++) {
        fputs("node_processed_total{strategy=\"", f);
        label(f, h->st[i]->name);
        fprintf(f, "\"} %llu\n", (unsigned long long)comp[i]);
    }
    head(f, "qmtl_host_compute_seconds_total", "counter",
         "Time spent in a strategy's own compute functions");
    for (size_t i = 0; ns && i < h->n_st; i++) {
        fputs("qmtl_host_compute_seconds_total{strategy=\"", f);
        label(f, h->st[i]->name);
        fprintf(f, "\"} %.6f\n", (double)ns[i] / 1e9);
    }
    free(comp);
    free(ns);
    head(f, "qmtl_host_gate_open", "gauge",
         "1 when an order of a strategy on a side may leave the host now");
    for (size_t i = 0; i < h->n_st; i++)
        for (int side = 1; side >= -1; side -= 2) {
            fputs("qmtl_host_gate_open{strategy=\"", f);
            label(f, h->st[i]->name);
            fprintf(f, "\",side=\"%s\"} %d\n", side > 0 ? "buy" : "sell",
                    !h->st[i]->stopped && gate_allows(&h->st[i]->gate, h->opt.domain, side, NULL));
        }
    head(f, "orders_published_total", "counter", "Orders a strategy sent to its sink");
    for (size_t i = 0; i < h->n_st; i++) {
        fputs("orders_published_total{strategy=\"", f);
        label(f, h->st[i]->name);
        fprintf(f, "\"} %ld\n", h->st[i]->orders);
    }
    head(f, "orders_rejected_total", "counter", "Orders refused before they left, by reason");
    for (size_t i = 0; i < h->metrics.n_blocked; i++) {
        const struct host_metrics_blocked *b = &h->metrics.blocked[i];
        fputs("orders_rejected_total{strategy=\"", f);
        label(f, b->strategy);
        fputs("\",reason=\"", f);
        label(f, b->reason);
        fprintf(f, "\"} %llu\n", (unsigned long long)b->n);
    }
}

char *host_metrics_render(const struct host *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const struct host_metrics *m = &h->metrics;
    head(f, "qmtl_host_uptime_seconds", "gauge", "Seconds since the host started");
    fprintf(f, "qmtl_host_uptime_seconds %.3f\n", host_metrics_now() - m->started);
    head(f, "qmtl_host_events_total", "counter", "Data items fed to the DAG (every source)");
    fprintf(f, "qmtl_host_events_total %llu\n", (unsigned long long)h->events);
    head(f, "qmtl_host_events_unrouted_total", "counter", "Items that matched no stream");
    fprintf(f, "qmtl_host_events_unrouted_total %llu\n", (unsigned long long)h->unrouted);
    render_sources(f, m);
    render_strategies(f, h);
    static const char *const outcome[HOST_RELOAD_N] = {"added", "replaced", "removed", "failed"};
    head(f, "qmtl_host_reloads_total", "counter", "Plugin reloads, by outcome");
    for (int i = 0; i < HOST_RELOAD_N; i++)
        fprintf(f, "qmtl_host_reloads_total{outcome=\"%s\"} %llu\n", outcome[i],
                (unsigned long long)m->reloads[i]);
    head(f, "qmtl_host_plugins_quarantined", "gauge", "Plugins quarantined now");
    fprintf(f, "qmtl_host_plugins_quarantined %ld\n", m->quarantined);
    head(f, "qmtl_host_quarantines_total", "counter", "Plugins quarantined so far");
    fprintf(f, "qmtl_host_quarantines_total %llu\n", (unsigned long long)m->quarantines);
    head(f, "qmtl_host_order_price_missed_total", "counter",
         "Signals priced without the bar of their bucket (no longer held)");
    fprintf(f, "qmtl_host_order_price_missed_total %llu\n",
            (unsigned long long)m->order_price_missed);
    head(f, "qmtl_host_stream_connected", "gauge", "1 while the gateway's event stream is up");
    fprintf(f, "qmtl_host_stream_connected %d\n", m->stream_connected);
    head(f, "qmtl_host_stream_reconnects_total", "counter", "Event stream reconnections");
    fprintf(f, "qmtl_host_stream_reconnects_total %llu\n", (unsigned long long)m->reconnects);
    head(f, "qmtl_host_stream_last_seq_no", "gauge", "seq_no of the last event stream event");
    fprintf(f, "qmtl_host_stream_last_seq_no %lld\n", (long long)m->last_seq_no);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ------------------------------------------------------------------ health */

json_t *host_metrics_health(const struct host *h, int attached)
{
    const struct host_metrics *m = &h->metrics;
    json_t *doc = json_object(), *st = json_object(), *src = json_object();
    if (!doc || !st || !src) {
        json_decref(doc);
        json_decref(st);
        json_decref(src);
        return NULL;
    }
    size_t running = 0;
    int degraded = 0;
    for (size_t i = 0; i < h->n_st; i++) {
        const struct host_strategy *s = h->st[i];
        if (s->stopped) {
            char why[400];
            snprintf(why, sizeof(why), "stopped: %s", s->error);
            json_object_set_new(st, s->name, json_string(why));
            degraded = 1;
        } else {
            json_object_set_new(st, s->name, json_string("running"));
            running++;
        }
    }
    for (size_t i = 0; i < m->n_src; i++) {
        const struct host_metrics_source *s = &m->src[i];
        json_object_set_new(src, s->name,
                            json_pack("{s:I,s:I,s:I,s:f}", "events", (json_int_t)s->events,
                                      "bad_lines", (json_int_t)s->bad_lines, "connections",
                                      (json_int_t)s->connections, "lag_s",
                                      s->last_ts_ms ? s->lag_s : 0.0));
    }
    if (attached && !m->stream_connected)
        degraded = 1;
    json_object_set_new(doc, "status", json_string(degraded || !running ? "degraded" : "ok"));
    json_object_set_new(doc, "uptime_s", json_real(host_metrics_now() - m->started));
    json_object_set_new(doc, "events", json_integer((json_int_t)h->events));
    json_object_set_new(doc, "strategies", st);
    json_object_set_new(doc, "sources", src);
    if (attached) {
        json_object_set_new(doc, "stream_connected", json_boolean(m->stream_connected));
        json_object_set_new(doc, "last_seq_no", json_integer((json_int_t)m->last_seq_no));
    }
    return doc;
}
