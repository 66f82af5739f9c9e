/*
 * metrics_http: the host's monitoring endpoint, a small evhttp server on the host's
 * event loop (so a scrape sees a consistent host: it runs between two events).
 *
 *   GET /metrics -> 200, Prometheus text format 0.0.4 (host_metrics_render)
 *   GET /health  -> 200 {"status":"ok",...}, or 503 when "degraded" (host_metrics_health)
 *   anything else -> 404; a method other than GET/HEAD -> 405
 *
 * It binds 127.0.0.1 unless told otherwise (host.metrics_host): the counters name the
 * strategies and inputs, which is no one else's business. No authentication.
 */
#ifndef QMTL_HOST_METRICS_HTTP_H
#define QMTL_HOST_METRICS_HTTP_H

#include <stddef.h>

struct event_base;
struct host;
struct metrics_http;

/* Listen on addr:port (port 0 = any free port) on 'base'. The host is borrowed and must
 * outlive the server. 'attached': the host follows a gateway (health then also needs the
 * event stream up). NULL with err set ("metrics endpoint 127.0.0.1:9100: cannot bind:
 * Address already in use"). */
struct metrics_http *metrics_http_new(struct event_base *base, struct host *h, const char *addr,
                                      int port, int attached, char *err, size_t errlen);

/* The port it listens on (the chosen one when asked for 0). */
int metrics_http_port(const struct metrics_http *s);

/* Stop listening and free. NULL is a no-op. */
void metrics_http_free(struct metrics_http *s);

#endif
