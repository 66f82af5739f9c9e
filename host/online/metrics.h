/*
 * metrics: what a running host counts for operators, rendered as Prometheus text
 * (GET /metrics) and as a JSON health document (GET /health); served by
 * host/online/metrics_http.h. The metric names are listed in docs/operations.md
 * ("Monitoring a host").
 *
 * 'struct host_metrics' lives inside 'struct host' (h->metrics) and is plain counters:
 * whoever does the thing bumps its counter directly (the host's single thread, no locks):
 *
 *     h->metrics.reloads[HOST_RELOAD_REPLACED]++;        // the reload room
 *     h->metrics.quarantined = n;                        // plugins skipped now
 *     h->metrics.stream_connected = 1; h->metrics.reconnects++;   // the control session
 *     h->metrics.last_seq_no = seq;
 *     host_metrics_order_blocked(&h->metrics, st->name, "not active");  // the order room
 *
 * Data sources register once (host_metrics_source) and bump their entry by index on every
 * item. The rest (node computes and compute time per strategy, gate state per strategy and
 * side, orders sent) is read from the host when a scrape renders it, so the hot path pays
 * nothing for it.
 */
#ifndef QMTL_HOST_METRICS_H
#define QMTL_HOST_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct host;

/* One data source (a live input, a followed file). */
struct host_metrics_source {
    char *name;                 /* owned: "tcp:127.0.0.1:9100", "stdin", "follow:x.csv" */
    uint64_t events;            /* items routed into the host */
    uint64_t bad_lines;         /* lines refused (logged with their line number) */
    long connections;           /* publishers connected now (socket inputs) */
    uint64_t connections_total; /* publishers accepted so far */
    uint64_t rotations;         /* followed file: rotations and truncations seen */
    uint64_t reconnects;        /* NATS input: reconnections to the server */
    uint64_t dropped;           /* NATS input: messages the client dropped (host behind) */
    int64_t last_ts_ms;         /* event time of the newest item, ms (0 = none yet) */
    double lag_s;               /* wall clock minus event time of the newest item, s */
};

enum host_reload_outcome {
    HOST_RELOAD_ADDED = 0, /* a new plugin joined the running host */
    HOST_RELOAD_REPLACED,  /* a new version of a loaded plugin took over */
    HOST_RELOAD_REMOVED,   /* a plugin's file went away: its strategy was torn down */
    HOST_RELOAD_FAILED,    /* a change was refused: the old version (if any) kept running */
    HOST_RELOAD_N
};

struct host_metrics_blocked {
    char *strategy, *reason; /* owned */
    uint64_t n;
};

struct host_metrics {
    struct host_metrics_source *src;
    size_t n_src, cap_src;
    uint64_t reloads[HOST_RELOAD_N];
    long quarantined;      /* plugins quarantined now (gauge) */
    uint64_t quarantines;  /* plugins quarantined so far */
    uint64_t order_price_missed; /* signals priced without the bar of their bucket
                                  * (host/orders/order_align.h: no longer held) */
    int stream_connected;  /* attached: the gateway's event stream is up */
    uint64_t reconnects;   /* attached: stream reconnections */
    int64_t last_seq_no;   /* attached: seq_no of the last stream event (-1: none) */
    struct host_metrics_blocked *blocked; /* orders refused, by strategy and reason */
    size_t n_blocked, cap_blocked;
    double started; /* wall clock at init (uptime) */
    int time_computes; /* custom computes are timed (compute_ns): set by a metrics endpoint */
};

void host_metrics_init(struct host_metrics *m);
void host_metrics_release(struct host_metrics *m);

/* Register a data source by name (copied); the same name twice gives the same entry.
 * Its index, or -1 when out of memory. Entries never move index; use
 * host_metrics_src(m, i) to reach one (the array may move when another registers). */
long host_metrics_source(struct host_metrics *m, const char *name);
static inline struct host_metrics_source *host_metrics_src(struct host_metrics *m, long i)
{
    return &m->src[i];
}

/* One item of source i arrived with event time ts_ms: counts it and sets its lag against
 * 'now_s' (wall clock, seconds since the epoch). */
void host_metrics_event(struct host_metrics *m, long i, int64_t ts_ms, double now_s);

/* An order of 'strategy' refused before it left, for 'reason' (short text, e.g. the gate's
 * "not active"; spaces become '_' in the label). */
void host_metrics_order_blocked(struct host_metrics *m, const char *strategy, const char *reason);

/* Prometheus text (format 0.0.4) of everything, malloc'd; NULL when out of memory. */
char *host_metrics_render(const struct host *h);

/* GET /health: {"status": "ok"|"degraded", "uptime_s", "strategies": {name: "running" |
 * "stopped: why"}, "events", "sources": {name: {...}}, "stream_connected"?}. "degraded"
 * when a strategy stopped or none runs. New reference, NULL when out of memory. */
json_t *host_metrics_health(const struct host *h, int attached);

/* Wall clock, seconds since the epoch (the time lag is measured against). */
double host_metrics_now(void);

#endif
