/*
 * gw_metrics: counters and histograms in Prometheus text format (see gw_metrics.h).
 */
#include "gw_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const route_labels[] = {
    "/status",
    "/health",
    "/metrics",
    "/strategies",
    "/strategies/dry-run",
    "/strategies/{id}/status",
    "/queues/by_tag",
    "/events/subscribe",
    "/events/jwks",
    "/events/schema",
    "/ws/evt",
    "/ws",
    "/worlds",
    "/worlds/{id}",
    "/worlds/{id}/policies",
    "/worlds/{id}/policies/{version}",
    "/worlds/{id}/set-default",
    "/worlds/{id}/bindings",
    "/worlds/{id}/decisions",
    "/worlds/{id}/decide",
    "/worlds/{id}/activation",
    "/worlds/{id}/apply",
    "/worlds/{id}/audit",
    "/orders",
    "/orders/{id}/ack",
    "/orders/{id}/status",
    "/fills",
    "/worlds/{id}/kill",
    "other",
};
#define N_ROUTES (sizeof(route_labels) / sizeof(route_labels[0]))

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OTHER"};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct req_count {
    unsigned short route, method;
    int code;
    long n;
};

struct histo {
    long counts[N_BUCKETS + 1]; /* last = +Inf */
    long n;
    double sum;
};

static const char *const fill_reject_names[GW_FR_COUNT] = {
    [GW_FR_AUTH] = "auth",
    [GW_FR_INVALID_JSON] = "invalid_json",
    [GW_FR_CE_REQUIRED] = "ce_required",
    [GW_FR_SCHEMA] = "schema_invalid",
    [GW_FR_UNKNOWN_ORDER] = "unknown_order",
    [GW_FR_MISMATCH] = "mismatch",
    [GW_FR_ORDER_CLOSED] = "order_closed",
    [GW_FR_OVERFILL] = "overfill",
};

struct gw_metrics {
    long fixed[GW_M_COUNT];
    long fill_rejects[GW_FR_COUNT];
    struct req_count *reqs;
    size_t n_reqs, cap_reqs;
    struct histo lat[N_ROUTES];
};

static const struct {
    const char *name, *help, *type;
} fixed_desc[GW_M_COUNT] = {
    [GW_M_WS_CONNECTIONS] = {"qmtl_gateway_ws_connections", "Open WebSocket connections", "gauge"},
    [GW_M_WS_CONNECTS] = {"qmtl_gateway_ws_connections_total", "WebSocket connections accepted",
                          "counter"},
    [GW_M_WS_DISCONNECTS] = {"qmtl_gateway_ws_disconnects_total", "WebSocket disconnects",
                             "counter"},
    [GW_M_WS_IDLE_DROPS] = {"qmtl_gateway_ws_keepalive_drops_total",
                            "WebSocket streams closed after a keepalive timeout", "counter"},
    [GW_M_WS_MESSAGES_IN] = {"qmtl_gateway_ws_messages_received_total",
                             "WebSocket client messages received", "counter"},
    [GW_M_EVENTS_PUBLISHED] = {"qmtl_gateway_events_published_total",
                               "Events published to the event log", "counter"},
    [GW_M_EVENTS_RELAYED] = {"qmtl_gateway_events_relayed_total",
                             "Event deliveries to WebSocket subscribers", "counter"},
    [GW_M_EVENTS_DROPPED] = {"qmtl_gateway_events_dropped_total",
                             "Event deliveries dropped or coalesced for slow consumers", "counter"},
    [GW_M_AUTH_FAILURES] = {"qmtl_gateway_auth_failures_total", "Rejected credentials", "counter"},
    [GW_M_STORE_ERRORS] = {"qmtl_gateway_store_errors_total", "Failed store operations", "counter"},
    [GW_M_LIMIT_REJECTIONS] = {"qmtl_gateway_limit_rejections_total",
                               "Requests refused by header or body size limits", "counter"},
    [GW_M_DAGMANAGER_ERRORS] = {"qmtl_gateway_dagmanager_errors_total",
                                "Failed or timed-out DAG manager calls", "counter"},
    [GW_M_ORDERS_ACCEPTED] = {"qmtl_gateway_orders_accepted_total",
                              "Live orders accepted and stored", "counter"},
    [GW_M_ORDERS_REFUSED] = {"qmtl_gateway_orders_refused_total",
                             "Live orders refused (invalid or gate closed)", "counter"},
    [GW_M_FILLS_ACCEPTED] = {"qmtl_gateway_fills_accepted_total",
                             "Fills accepted and stored by POST /fills", "counter"},
};

void gw_metrics_fill_rejected(struct gw_metrics *m, enum gw_fill_reject why)
{
    if (m && why >= 0 && why < GW_FR_COUNT)
        m->fill_rejects[why]++;
}

long gw_metrics_fill_rejected_get(const struct gw_metrics *m, enum gw_fill_reject why)
{
    return (m && why >= 0 && why < GW_FR_COUNT) ? m->fill_rejects[why] : 0;
}

struct gw_metrics *gw_metrics_new(void)
{
    return calloc(1, sizeof(struct gw_metrics));
}

void gw_metrics_free(struct gw_metrics *m)
{
    if (!m)
        return;
    free(m->reqs);
    free(m);
}

void gw_metrics_add(struct gw_metrics *m, enum gw_metric which, long delta)
{
    if (m && which >= 0 && which < GW_M_COUNT)
        m->fixed[which] += delta;
}

long gw_metrics_get(const struct gw_metrics *m, enum gw_metric which)
{
    return (m && which >= 0 && which < GW_M_COUNT) ? m->fixed[which] : 0;
}

static size_t route_index(const char *route)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        if (route_labels[i] == route || strcmp(route_labels[i], route) == 0)
            return i;
    return N_ROUTES - 1;
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < N_METHODS; i++)
        if (strcmp(methods[i], method) == 0)
            return i;
    return N_METHODS - 1;
}

void gw_metrics_request(struct gw_metrics *m, const char *route, const char *method, int code,
                        double seconds)
{
    if (!m)
        return;
    size_t r = route_index(route ? route : "other");
    size_t me = method_index(method ? method : "OTHER");
    size_t i;
    for (i = 0; i < m->n_reqs; i++)
        if (m->reqs[i].route == r && m->reqs[i].method == me && m->reqs[i].code == code)
            break;
    if (i == m->n_reqs) {
        if (m->n_reqs == m->cap_reqs) {
            size_t cap = m->cap_reqs ? m->cap_reqs * 2 : 32;
            struct req_count *n = realloc(m->reqs, cap * sizeof(*n));
            if (!n)
                return;
            m->reqs = n;
            m->cap_reqs = cap;
        }
        m->reqs[i] = (struct req_count){(unsigned short)r, (unsigned short)me, code, 0};
        m->n_reqs++;
    }
    m->reqs[i].n++;
    struct histo *h = &m->lat[r];
    size_t b = 0;
    while (b < N_BUCKETS && seconds > buckets[b])
        b++;
    h->counts[b]++;
    h->n++;
    h->sum += seconds;
}

long gw_metrics_request_count(const struct gw_metrics *m, const char *route, const char *method,
                              int code)
{
    size_t r = route_index(route), me = method_index(method);
    for (size_t i = 0; i < m->n_reqs; i++)
        if (m->reqs[i].route == r && m->reqs[i].method == me && m->reqs[i].code == code)
            return m->reqs[i].n;
    return 0;
}

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

char *gw_metrics_render(const struct gw_metrics *m)
{
    struct sbuf b = {malloc(4096), 0, 4096, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    for (int i = 0; i < GW_M_COUNT; i++) {
        sb_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %ld\n", fixed_desc[i].name,
                  fixed_desc[i].help, fixed_desc[i].name, fixed_desc[i].type, fixed_desc[i].name,
                  m->fixed[i]);
    }
    sb_printf(&b, "# HELP qmtl_gateway_fills_rejected_total Fills refused by POST /fills, by "
                  "reason\n# TYPE qmtl_gateway_fills_rejected_total counter\n");
    for (int i = 0; i < GW_FR_COUNT; i++)
        sb_printf(&b, "qmtl_gateway_fills_rejected_total{reason=\"%s\"} %ld\n",
                  fill_reject_names[i], m->fill_rejects[i]);
    sb_printf(&b, "# HELP qmtl_gateway_requests_total HTTP requests by route, method and "
                  "status code\n# TYPE qmtl_gateway_requests_total counter\n");
    for (size_t i = 0; i < m->n_reqs; i++)
        sb_printf(&b, "qmtl_gateway_requests_total{route=\"%s\",method=\"%s\",code=\"%d\"} %ld\n",
                  route_labels[m->reqs[i].route], methods[m->reqs[i].method], m->reqs[i].code,
                  m->reqs[i].n);
    sb_printf(&b, "# HELP qmtl_gateway_request_duration_seconds HTTP request latency by route\n"
                  "# TYPE qmtl_gateway_request_duration_seconds histogram\n");
    for (size_t r = 0; r < N_ROUTES; r++) {
        const struct histo *h = &m->lat[r];
        if (!h->n)
            continue;
        long cum = 0;
        for (size_t k = 0; k < N_BUCKETS; k++) {
            cum += h->counts[k];
            sb_printf(&b,
                      "qmtl_gateway_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %ld\n",
                      route_labels[r], buckets[k], cum);
        }
        cum += h->counts[N_BUCKETS];
        sb_printf(&b,
                  "qmtl_gateway_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %ld\n"
                  "qmtl_gateway_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                  "qmtl_gateway_request_duration_seconds_count{route=\"%s\"} %ld\n",
                  route_labels[r], cum, route_labels[r], h->sum, route_labels[r], h->n);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static const char *const world_subs[] = {"policies", "set-default", "bindings", "decisions",
                                         "decide",   "activation",  "apply",    "audit",
                                         "kill"};
static const char *const world_labels[] = {"/worlds/{id}/policies", "/worlds/{id}/set-default",
                                           "/worlds/{id}/bindings", "/worlds/{id}/decisions",
                                           "/worlds/{id}/decide",   "/worlds/{id}/activation",
                                           "/worlds/{id}/apply",    "/worlds/{id}/audit",
                                           "/worlds/{id}/kill"};

const char *gw_metrics_route_label(const char *path)
{
    if (!path)
        return "other";
    for (size_t i = 0; i < N_ROUTES - 1; i++)
        if (!strchr(route_labels[i], '{') && strcmp(route_labels[i], path) == 0)
            return route_labels[i];
    if (strncmp(path, "/strategies/", 12) == 0) {
        const char *slash = strchr(path + 12, '/');
        if (slash && slash != path + 12 && strcmp(slash, "/status") == 0)
            return "/strategies/{id}/status";
        return "other";
    }
    if (strncmp(path, "/orders/", 8) == 0) {
        const char *slash = strchr(path + 8, '/');
        if (slash && slash != path + 8 && strcmp(slash, "/ack") == 0)
            return "/orders/{id}/ack";
        if (slash && slash != path + 8 && strcmp(slash, "/status") == 0)
            return "/orders/{id}/status";
        return "other";
    }
    if (strncmp(path, "/worlds/", 8) == 0) {
        const char *id = path + 8;
        const char *slash = strchr(id, '/');
        if (slash == id || *id == '\0')
            return "other";
        if (!slash)
            return "/worlds/{id}";
        const char *sub = slash + 1;
        if (strncmp(sub, "policies/", 9) == 0 && sub[9] && !strchr(sub + 9, '/'))
            return "/worlds/{id}/policies/{version}";
        for (size_t i = 0; i < sizeof(world_subs) / sizeof(world_subs[0]); i++)
            if (strcmp(sub, world_subs[i]) == 0)
                return world_labels[i];
    }
    return "other";
}
