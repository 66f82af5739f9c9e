/*
 * gw_metrics: the gateway's counters, gauges and latency histograms, rendered in the
 * Prometheus text exposition format (version 0.0.4) by GET /metrics.
 *
 * Single-threaded (the gateway's event loop). Request metrics are labelled by route
 * template ("/worlds/{id}/activation"), method and status code, so the label set stays
 * bounded whatever paths clients send.
 */
#ifndef QMTL_GATEWAY_GW_METRICS_H
#define QMTL_GATEWAY_GW_METRICS_H

#include <stddef.h>

struct gw_metrics;

/* Fixed gateway-wide metrics. */
enum gw_metric {
    GW_M_WS_CONNECTIONS,    /* gauge: open WebSocket connections (add +1 / -1) */
    GW_M_WS_CONNECTS,       /* counter: WebSocket connections accepted */
    GW_M_WS_DISCONNECTS,    /* counter */
    GW_M_WS_IDLE_DROPS,     /* counter: streams closed for silence (keepalive timeout) */
    GW_M_WS_MESSAGES_IN,    /* counter: client messages received */
    GW_M_EVENTS_PUBLISHED,  /* counter: events published (persisted) */
    GW_M_EVENTS_RELAYED,    /* counter: event deliveries to WebSocket clients */
    GW_M_EVENTS_DROPPED,    /* counter: deliveries dropped or coalesced (slow consumer) */
    GW_M_AUTH_FAILURES,     /* counter: rejected credentials (HTTP and WebSocket) */
    GW_M_STORE_ERRORS,      /* counter: failed store operations */
    GW_M_LIMIT_REJECTIONS,  /* counter: requests refused by size limits (411/413/431) */
    GW_M_DAGMANAGER_ERRORS, /* counter: failed or timed-out DAG manager calls */
    GW_M_ORDERS_ACCEPTED,   /* counter: live orders stored by POST /orders (new ones) */
    GW_M_ORDERS_REFUSED,    /* counter: POST /orders refused (validation or closed gate) */
    GW_M_FILLS_ACCEPTED,    /* counter: new fills stored by POST /fills */
    GW_M_COUNT
};

/* Why POST /fills refused a fill (label "reason" of qmtl_gateway_fills_rejected_total). */
enum gw_fill_reject {
    GW_FR_AUTH,          /* no or bad credential / signature */
    GW_FR_INVALID_JSON,  /* body empty or not JSON */
    GW_FR_CE_REQUIRED,   /* not a CloudEvents 1.0 envelope */
    GW_FR_SCHEMA,        /* data is not an ExecutionFillEvent */
    GW_FR_UNKNOWN_ORDER, /* no such order */
    GW_FR_MISMATCH,      /* symbol or side differ from the order, or a conflicting repeat */
    GW_FR_ORDER_CLOSED,  /* the order was rejected, canceled or expired */
    GW_FR_OVERFILL,      /* quantity beyond the order */
    GW_FR_COUNT
};
void gw_metrics_fill_rejected(struct gw_metrics *m, enum gw_fill_reject why);
long gw_metrics_fill_rejected_get(const struct gw_metrics *m, enum gw_fill_reject why);

struct gw_metrics *gw_metrics_new(void);
void gw_metrics_free(struct gw_metrics *m);

/* Add 'delta' to a fixed metric (gauges accept negative deltas). */
void gw_metrics_add(struct gw_metrics *m, enum gw_metric which, long delta);
long gw_metrics_get(const struct gw_metrics *m, enum gw_metric which);

/* Record one HTTP request: route template (borrowed string literal or stable string),
 * method ("GET"...), status code, and latency in seconds. */
void gw_metrics_request(struct gw_metrics *m, const char *route, const char *method, int code,
                        double seconds);
/* Count of requests recorded for (route, method, code); 0 if none. For tests. */
long gw_metrics_request_count(const struct gw_metrics *m, const char *route, const char *method,
                              int code);

/* Render every metric as Prometheus text into a malloc'd NUL-terminated string. */
char *gw_metrics_render(const struct gw_metrics *m);

/* Map a request path to its route template for labelling ("/worlds/w1/activation" ->
 * "/worlds/{id}/activation"; unknown paths -> "other"). Returns a string literal. */
const char *gw_metrics_route_label(const char *path);

#endif
