/* session: the control session of a host attached to a gateway (see session.h). */
#include "host/online/session.h"
#include "host/online/bus.h"

#include <event2/event.h>
#include <event2/http.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_domain.h"
#include "http_client.h"
#include "host/online/control.h"
#include "host/plugin/reload.h"
#include "host/online/session_internal.h"
#include "host/orders/fill_events.h"
#include "host/loop.h"
#include "host/orders/live_orders.h"
#include "host/orders/orders.h"
#include "log.h"
#include "ws.h"

#define MAX_ORDERS_INFLIGHT 128 /* live: the data pump waits while more are in flight */
#define RX_LATE_S 0.25  /* a receive check this late means the loop itself was held up */
#define RX_GRACE_S 0.01 /* ... then pending reads run before the stream is judged silent */
#define PING_MIN_S 0.05


static struct timeval tv_of(double s)
{
    struct timeval tv = {(time_t)s, (suseconds_t)((s - floor(s)) * 1e6)};
    return tv;
}

/* ------------------------------------------------------------------ activation */

static int strategy_of(const struct session *a, const char *sid)
{
    if (!sid)
        return -1;
    for (size_t i = 0; i < a->r->h.n_st && i < a->n_sid; i++)
        if ((a->refused[i] != SESSION_SID_ONLY && !strcmp(a->r->h.st[i]->name, sid)) ||
            (a->gw_sid[i][0] && !strcmp(a->gw_sid[i], sid)))
            return (int)i;
    return -1;
}

/* Apply one entry for (strategy id, side name). Returns the number of sides applied. */
static int apply_entry(struct session *a, const char *sid, const char *side_name, const json_t *data)
{
    int k = strategy_of(a, sid);
    if (k < 0 || a->refused[k] == SESSION_REFUSED)
        return 0;
    int side = ctl_side_parse(side_name);
    int sides[2] = {side, 0}, n = 1;
    if (!side) { /* "all" or none: both sides */
        sides[0] = QMTL_SIDE_BUY;
        sides[1] = QMTL_SIDE_SELL;
        n = 2;
    }
    int applied = 0;
    for (int i = 0; i < n; i++) {
        struct qmtl_activation act;
        if (ctl_activation_parse(data, sides[i], exec_domain_name(a->domain), &act))
            continue;
        if (ctl_apply(&a->r->h, (uint32_t)k, &act) == 1) {
            applied++;
            LOG_INFO("attached",
                     "strategy '%s' %s: active=%d freeze=%d drain=%d weight=%g (etag '%s')",
                     a->r->h.st[k]->name, sides[i] == QMTL_SIDE_BUY ? "long" : "short",
                     act.active, act.frozen, act.draining, act.weight, act.etag ? act.etag : "");
        }
    }
    a->st->events_applied += applied;
    return applied;
}

void session_apply_state_(struct session *a, const json_t *reply)
{
    const char *sid, *side;
    json_t *sides, *entry;
    json_object_foreach((json_t *)json_object_get(reply, "state"), sid, sides)
        json_object_foreach(sides, side, entry) apply_entry(a, sid, side, entry);
}

static void lost(struct session *a, const char *why)
{
    if (a->confirmed) {
        LOG_WARN("attached", "gateway lost (%s): computing on with every gate closed", why);
        ctl_mark_stale(&a->r->h);
        a->confirmed = 0;
        a->lost_at = ctl_now_s();
        a->budget_spent = 0;
    }
}

/* ------------------------------------------------------------------ loop hooks */

/* The loop stops (data ended, signal, error): close the stream; no retry starts now. */
static void session_stop(void *arg)
{
    struct session *a = arg;
    a->stopping = 1;
    if (a->ws) {
        ws_conn_abort(a->ws, WS_CLOSE_NORMAL);
        a->ws = NULL;
    }
}

/* Requests in flight (start-up re-fetches, decisions, live orders): the loop waits. */
static int session_busy(void *arg)
{
    return ((struct session *)arg)->http_pending > 0;
}

static void session_data_end(void *arg, int why)
{
    struct session *a = arg;
    if (why == LOOP_END_SIGNAL)
        a->st->interrupted = 1;
    if (a->o->follow && why == LOOP_END_DATA)
        LOG_INFO("attached", "data ended after %llu events; following until SIGINT/SIGTERM",
                 (unsigned long long)a->r->events);
}

/* Back-pressure: the data pump waits while many live orders are in flight. */
static int orders_backlog(void *arg)
{
    struct session *a = arg;
    struct live_orders_stats ls;
    live_orders_stats(a->orders, &ls);
    return ls.inflight >= MAX_ORDERS_INFLIGHT;
}

/* ------------------------------------------------------------------ stream */

static void schedule_retry(struct session *a);
static void subscribe(struct session *a);
static void refresh_decision(struct session *a);
static void arm_rx_check(struct session *a, double delay);

static void fetch_done(void *arg, int status, const json_t *reply, const char *err)
{
    struct session *a = arg;
    a->http_pending--;
    if (a->stopping)
        return;
    if (status == 200 && json_is_object(reply)) {
        session_apply_state_(a, reply);
        a->confirmed = 1;
        a->backoff = 0;
        LOG_INFO("attached", "activation state confirmed (version %lld)",
                 (long long)json_integer_value(json_object_get(reply, "version")));
        return;
    }
    LOG_WARN("attached", "activation re-fetch failed (%d%s%s): gate stays closed", status,
             err && *err ? ", " : "", err ? err : "");
    if (a->ws)
        ws_conn_close(a->ws, WS_CLOSE_GOING_AWAY, "activation unavailable", 500);
}

static void on_open(struct ws_conn *c, void *arg)
{
    (void)c;
    struct session *a = arg;
    a->ws_opened = 1;
    a->st->connects++;
    struct host_metrics *m = &a->r->h.metrics;
    if (a->st->connects > 1)
        m->reconnects++;
    m->stream_connected = 1;
    LOG_INFO("attached", "event stream connected%s", a->have_seq ? " (resuming)" : "");
    if (a->confirmed)
        return;
    char path[400], err[256];
    snprintf(path, sizeof(path), "/worlds/%s/activation", a->world_q);
    if (http_json_start(a->base, a->o->gateway_url, "GET", path, NULL, a->o->token,
                        a->o->budgets->http_timeout_s, fetch_done, a, err, sizeof(err)) == 0)
        a->http_pending++;
    else
        LOG_WARN("attached", "%s", err);
}

static void on_message(struct ws_conn *c, int binary, const unsigned char *msg, size_t len,
                       void *arg)
{
    (void)c;
    struct session *a = arg;
    if (binary)
        return;
    json_t *ev = json_loadb((const char *)msg, len, 0, NULL);
    if (!json_is_object(ev)) {
        json_decref(ev);
        LOG_WARN("attached", "event stream: a message that is not a JSON object was ignored");
        return;
    }
    const json_t *seq = json_object_get(ev, "seq_no");
    if (json_is_integer(seq) && json_integer_value(seq) > a->last_seq) {
        a->last_seq = json_integer_value(seq);
        a->have_seq = 1;
        a->r->h.metrics.last_seq_no = a->last_seq;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    const json_t *data = json_object_get(ev, "data");
    if (type && !strcmp(type, "policy_updated"))
        refresh_decision(a);
    if (type && json_is_object(data)) /* fills, order updates, the kill switch */
        fill_events_on_stream(a->fe, a->o->world_id, type, data,
                              strategy_of(a, json_string_value(json_object_get(data, "strategy_id"))));
    if (type && !strcmp(type, "activation_updated") && json_is_object(data)) {
        const char *w = json_string_value(json_object_get(data, "world_id"));
        if (!w || !strcmp(w, a->o->world_id))
            apply_entry(a, json_string_value(json_object_get(data, "strategy_id")),
                        json_string_value(json_object_get(data, "side")), data);
    }
    json_decref(ev);
}

static void on_close(struct ws_conn *c, int code, void *arg)
{
    struct session *a = arg;
    if (a->ws != c)
        return;
    a->ws = NULL;
    a->st->disconnects++;
    a->r->h.metrics.stream_connected = 0;
    int http = ws_conn_http_status(c);
    char why[96];
    if (http && http != 101)
        snprintf(why, sizeof(why), "stream refused with HTTP %d", http);
    else
        snprintf(why, sizeof(why), "stream closed with %d", code);
    if (!a->confirmed)
        LOG_WARN("attached", "event stream: %s", why);
    lost(a, why);
    if (!a->stopping)
        schedule_retry(a);
}

static const struct ws_handlers stream_handlers = {
    .on_open = on_open,
    .on_message = on_message,
    .on_close = on_close,
};

static void connect_stream(struct session *a, const char *url, const char *token)
{
    char host[256], path[1024], err[256];
    int port;
    if (ws_url_parse(url, host, sizeof(host), &port, path, sizeof(path), err, sizeof(err))) {
        LOG_ERROR("attached", "stream_url '%s': %s", url, err);
        schedule_retry(a);
        return;
    }
    size_t pl = strlen(path);
    if (a->have_seq)
        snprintf(path + pl, sizeof(path) - pl, "%slast_seq_no=%lld", strchr(path, '?') ? "&" : "?",
                 (long long)a->last_seq);
    size_t hlen = strlen(token) + 40;
    char *hdr = malloc(hlen);
    if (!hdr) {
        schedule_retry(a);
        return;
    }
    snprintf(hdr, hlen, "Authorization: Bearer %s\r\n", token);
    a->ws = ws_client_connect(a->base, host, port, path, hdr, &stream_handlers, a, 0, err,
                              sizeof(err));
    free(hdr);
    if (!a->ws) {
        LOG_WARN("attached", "event stream: %s", err);
        schedule_retry(a);
        return;
    }
    /* the handshake, like the open stream, must show life within the receive timeout */
    a->ws_opened = 0;
    arm_rx_check(a, a->o->budgets->ws_receive_timeout_s);
}

static void subscribe_done(void *arg, int status, const json_t *reply, const char *err)
{
    struct session *a = arg;
    a->http_pending--;
    if (a->stopping)
        return;
    const char *url = json_string_value(json_object_get(reply, "stream_url"));
    const char *token = json_string_value(json_object_get(reply, "token"));
    if (status != 200 || !url || !token) {
        if (!a->retry_logged++)
            LOG_WARN("attached", "POST /events/subscribe failed (%d%s%s); retrying quietly",
                     status, err && *err ? ", " : "", err ? err : "");
        lost(a, "subscription failed");
        schedule_retry(a);
        return;
    }
    a->retry_logged = 0;
    connect_stream(a, url, token);
}

static void subscribe(struct session *a)
{
    json_t *body = json_pack("{ss s[sss]}", "world_id", a->o->world_id, "topics", "activation",
                             "policy", "orders");
    char err[256];
    int rc =
        http_json_start(a->base, a->o->gateway_url, "POST", "/events/subscribe", body, a->o->token,
                        a->o->budgets->http_timeout_s, subscribe_done, a, err, sizeof(err));
    json_decref(body);
    if (rc == 0)
        a->http_pending++;
    else {
        LOG_ERROR("attached", "%s", err);
        schedule_retry(a);
    }
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct session *a = arg;
    if (!a->stopping && !a->ws)
        subscribe(a);
}

static void schedule_retry(struct session *a)
{
    if (a->stopping)
        return;
    const struct cfg_runtime *b = a->o->budgets;
    double delay;
    if (b->ws_reconnect_total_s > 0 && a->lost_at > 0 && ctl_now_s() - a->lost_at > b->ws_reconnect_total_s) {
        if (!a->budget_spent)
            LOG_WARN("attached",
                     "reconnect budget (%g s) spent: retrying every %g s, gate closed meanwhile",
                     b->ws_reconnect_total_s, b->poll_interval_s);
        a->budget_spent = 1;
        delay = b->poll_interval_s > 0 ? b->poll_interval_s : 10;
    } else {
        a->backoff = a->backoff > 0 ? fmin(a->backoff * 2, 2.0) : 0.1;
        delay = a->backoff;
    }
    struct timeval tv = tv_of(delay);
    evtimer_add(a->retry_ev, &tv);
}

/* Keepalive: a ping every third of the receive timeout keeps pongs coming back even from a
 * gateway that sends no pings of its own. */
static void ping_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct session *a = arg;
    if (a->ws && ws_conn_is_open(a->ws))
        ws_conn_ping(a->ws, NULL, 0);
}

static void arm_rx_check(struct session *a, double delay)
{
    a->rx_due = ctl_now_s() + delay;
    struct timeval tv = tv_of(delay);
    evtimer_add(a->rx_ev, &tv);
}

/*
 * Nothing received within the receive timeout. A silent partition never resets the
 * connection, so this is the only sign of it: every gate closes now, the connection is
 * dropped without a closing handshake nobody would answer, and reconnecting starts.
 */
static void stream_silent(struct session *a, double silent_s)
{
    struct ws_conn *c = a->ws;
    char why[96];
    snprintf(why, sizeof(why), "%s for %.2f s",
             a->ws_opened ? "event stream silent" : "no stream handshake", silent_s);
    if (!a->confirmed)
        LOG_WARN("attached", "event stream: %s: reconnecting", why);
    lost(a, why);
    a->ws = NULL;
    if (a->ws_opened)
        a->st->disconnects++;
    a->r->h.metrics.stream_connected = 0;
    ws_conn_abort(c, WS_CLOSE_GOING_AWAY);
    schedule_retry(a);
}

/* The receive deadline: fires when the stream would have been silent for the receive
 * timeout, and re-arms itself for the last byte received otherwise. */
static void rx_check_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct session *a = arg;
    if (!a->ws || a->stopping)
        return;
    if (ctl_now_s() - a->rx_due > RX_LATE_S && !a->rx_grace) {
        a->rx_grace = 1;
        arm_rx_check(a, RX_GRACE_S);
        return;
    }
    a->rx_grace = 0;
    double limit = a->o->budgets->ws_receive_timeout_s;
    double silent = (double)(ws_now_ms() - ws_conn_last_rx_ms(a->ws)) / 1000.0;
    if (silent >= limit)
        stream_silent(a, silent);
    else
        arm_rx_check(a, limit - silent);
}

/* ------------------------------------------------------------------ decision */

static void set_domain(struct session *a, const struct ctl_decision *d, int initial)
{
    int changed = initial || d->domain != a->domain || d->safe_mode != a->st->safe_mode;
    a->domain = d->domain;
    a->decision_expires = d->expires;
    a->st->domain = exec_domain_name(d->domain);
    a->st->safe_mode = d->safe_mode;
    a->st->reason = d->reason;
    a->r->h.opt.domain = ctl_host_domain(d->domain);
    if (!changed)
        return;
    LOG_INFO("attached", "world '%s': effective_mode '%s' -> domain %s%s%s", a->o->world_id,
             d->mode, exec_domain_name(d->domain), d->safe_mode ? ", safe_mode: " : "",
             d->safe_mode ? d->reason : "");
    if (d->domain == EXEC_LIVE)
        LOG_INFO("attached", "live domain: orders that pass the gate go to the gateway (POST "
                             "/orders)");
    if (d->domain == EXEC_SHADOW)
        LOG_INFO("attached", "shadow domain: orders are hard-blocked");
}

static void decide_done(void *arg, int status, const json_t *reply, const char *err)
{
    (void)err;
    struct session *a = arg;
    a->http_pending--;
    a->decide_pending = 0;
    if (a->stopping)
        return;
    struct ctl_decision d;
    if (status == 200) {
        ctl_decision_check(reply, time(NULL), &d);
        set_domain(a, &d, 0);
    } else if (a->decision_expires && time(NULL) > a->decision_expires) {
        ctl_decision_check(NULL, time(NULL), &d);
        d.reason = "stale_decision";
        set_domain(a, &d, 0);
    }
}

static void refresh_decision(struct session *a)
{
    if (a->decide_pending || a->stopping)
        return;
    char path[400], err[256];
    snprintf(path, sizeof(path), "/worlds/%s/decide", a->world_q);
    if (http_json_start(a->base, a->o->gateway_url, "GET", path, NULL, a->o->token,
                        a->o->budgets->http_timeout_s, decide_done, a, err, sizeof(err)) == 0) {
        a->http_pending++;
        a->decide_pending = 1;
    }
}

static void decide_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    refresh_decision(arg);
}

/* ------------------------------------------------------------------ start-up */

/* Submit every running strategy (stops early when the gateway never answered). */
static void submit_all(struct session *a)
{
    struct host *h = &a->r->h;
    for (size_t i = 0; i < h->n_st; i++) {
        struct host_strategy *s = h->st[i];
        if (s->stopped)
            continue;
        char err[512];
        json_t *body = ctl_strategy_submission(h, (uint32_t)i, a->o->world_id, err, sizeof(err));
        json_t *reply = NULL;
        int status = 0;
        if (body)
            status = ctl_retry_fetch(&a->start, a->o->gateway_url, "POST", "/strategies", body,
                                     a->o->token, a->o->budgets->http_timeout_s, &reply, err,
                                     sizeof(err));
        json_decref(body);
        if (body && !a->start.answered) {
            json_decref(reply);
            return;
        }
        const char *sid = json_string_value(json_object_get(reply, "strategy_id"));
        char berr[256];
        if ((status == 202 || status == 200) && sid && a->o->bus &&
            host_bus_plan(a->o->bus, (uint32_t)i, a->o->world_id, reply, berr, sizeof(berr)) < 0)
            LOG_WARN("attached", "strategy '%s': %s; its nodes stay in process", s->name, berr);
        if ((status == 202 || status == 200) && sid) {
            snprintf(a->gw_sid[i], 64, "%s", sid);
            a->st->submitted++;
            LOG_INFO("attached", "strategy '%s' submitted as '%s'%s", s->name, sid,
                     json_is_true(json_object_get(reply, "downgraded")) ? " (downgraded)" : "");
        } else {
            const char *m = json_string_value(json_object_get(reply, "message"));
            if (!m)
                m = json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
            LOG_ERROR("attached",
                      "strategy '%s': not submitted (%d: %s); it computes with its gate "
                      "closed",
                      s->name, status, m ? m : err);
            a->refused[i] = SESSION_REFUSED;
            a->st->refused++;
        }
        json_decref(reply);
    }
}

static void decide(struct session *a)
{
    char path[400], err[256];
    snprintf(path, sizeof(path), "/worlds/%s/decide", a->world_q);
    json_t *reply = NULL;
    int status = ctl_retry_fetch(&a->start, a->o->gateway_url, "GET", path, NULL, a->o->token,
                                 a->o->budgets->http_timeout_s, &reply, err, sizeof(err));
    struct ctl_decision d;
    ctl_decision_check(status == 200 ? reply : NULL, time(NULL), &d);
    if (status != 200)
        LOG_WARN("attached", "world '%s': no decision (%d%s%s)", a->o->world_id, status,
                 *err ? ": " : "", err);
    json_decref(reply);
    set_domain(a, &d, 1);
}

static void initial_activation(struct session *a)
{
    char path[400], err[256];
    snprintf(path, sizeof(path), "/worlds/%s/activation", a->world_q);
    json_t *reply = NULL;
    int status = http_json_fetch(a->o->gateway_url, "GET", path, NULL, a->o->token,
                                 a->o->budgets->http_timeout_s, &reply, err, sizeof(err));
    if (status == 200 && json_is_object(reply)) {
        session_apply_state_(a, reply);
        a->confirmed = 1;
    } else {
        LOG_WARN("attached", "world '%s': activation unavailable (%d%s%s): gates closed",
                 a->o->world_id, status, *err ? ": " : "", err);
    }
    json_decref(reply);
}

/* host live sink: hand an order that passed the gate to the gateway (asynchronously) */
static int live_sink(void *arg, const char *strategy, const char *symbol, int64_t ts,
                     const struct qmtl_order *o, const char *coid)
{
    struct session *a = arg;
    if (a->stopping) /* the loop may be gone: nothing can be sent any more */
        return -1;
    int k = strategy_of(a, strategy);
    if (!a->o->allow_live_replay) { /* historical data must not trade live by accident */
        if (!a->replay_warned++)
            LOG_ERROR("attached", "world '%s' is live and the data is a replay of history: "
                                  "orders are blocked (--allow-live-replay sends them)",
                      a->o->world_id);
        return -1;
    }
    if (k >= 0 && fill_events_hold(a->fe, (uint32_t)k, ts))
        return -1; /* sent before the restart */
    live_orders_send(a->orders, strategy, k >= 0 ? a->gw_sid[k] : NULL, symbol, ts, o, coid);
    return 0; /* counted by live_orders (accepted / refused / failed) */
}

/* A live order the gateway did not store is no longer open in the host's book. */
static void live_result(void *arg, const char *strategy, const char *coid, int outcome)
{
    struct session *a = arg;
    int k = strategy_of(a, strategy);
    if (outcome == 1 || k < 0)
        return;
    struct host_order_update u = {.client_order_id = coid, .status = HOST_ORDER_REJECTED,
                                  .reason = outcome == 0 ? "refused by the gateway's gate"
                                                         : "not delivered to the gateway"};
    host_order_update(&a->r->h, (uint32_t)k, &u);
}

static void release(struct session *a)
{
    if (a->ws)
        ws_conn_abort(a->ws, WS_CLOSE_NORMAL);
    struct event **evs[] = {&a->retry_ev, &a->ping_ev, &a->rx_ev, &a->decide_ev};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (*evs[i])
            event_free(*evs[i]);
    host_bus_stop(a->o->bus);
    if (a->base) /* deferred frees of finished requests and of the stream, while 'a' lives */
        event_base_loop(a->base, EVLOOP_NONBLOCK);
    live_orders_free(a->orders);
    fill_events_free(a->fe);
    if (a->base)
        loop_set_hold(a->r->loop, NULL, NULL);
    a->r->h.live_sink = NULL;
    a->r->h.live_arg = NULL;
    if (a->o->reload)
        reload_on_change(a->o->reload, NULL, NULL);
    if (a->gw_sid)
        for (size_t i = 0; i < a->n_sid; i++)
            free(a->gw_sid[i]);
    free(a->gw_sid);
    free(a->refused);
}

/* The session's events, hooks and the live sink on r->loop. 0 or -1. */
static int attach(struct session *a)
{
    struct runner *r = a->r;
    const struct session_options *o = a->o;
    struct loop_source *pump = runner_pump(r);
    a->base = loop_base(r->loop);
    a->retry_ev = evtimer_new(a->base, retry_cb, a);
    a->ping_ev = event_new(a->base, -1, EV_PERSIST, ping_cb, a);
    a->rx_ev = evtimer_new(a->base, rx_check_cb, a);
    a->decide_ev = event_new(a->base, -1, EV_PERSIST, decide_cb, a);
    a->orders = live_orders_new(a->base, o->gateway_url, o->host_token, o->world_id,
                                o->budgets->http_timeout_s, &a->http_pending, &a->stopping);
    if (!pump || !a->retry_ev || !a->ping_ev || !a->rx_ev || !a->decide_ev || !a->orders ||
        loop_on_data_end(r->loop, session_data_end, a) ||
        loop_on_stop(r->loop, session_stop, session_busy, a))
        return -1;
    loop_source_pace(pump, o->pace);
    loop_set_hold(r->loop, orders_backlog, a);
    loop_follow(r->loop, o->follow);
    r->h.live_sink = live_sink;
    r->h.live_arg = a;
    live_orders_on_result(a->orders, live_result, a);
    double rt = o->budgets->ws_receive_timeout_s;
    struct timeval ptv = tv_of(fmax(rt / 3, PING_MIN_S));
    event_add(a->ping_ev, &ptv);
    double pi = o->budgets->poll_interval_s;
    struct timeval dtv = tv_of(pi > 0 ? pi : 10);
    event_add(a->decide_ev, &dtv);
    return 0;
}

int session_run(struct runner *r, const struct session_options *o, struct session_stats *out,
                char *err, size_t errlen)
{
    struct session a;
    memset(&a, 0, sizeof(a));
    memset(out, 0, sizeof(*out));
    a.r = r;
    a.o = o;
    a.st = out;
    out->domain = "backtest";
    size_t n = r->h.n_st;
    a.gw_sid = calloc(n ? n : 1, sizeof(*a.gw_sid));
    a.refused = calloc(n ? n : 1, sizeof(*a.refused));
    int ok = a.gw_sid && a.refused;
    for (size_t i = 0; ok && i < n; i++)
        ok = (a.gw_sid[i] = calloc(1, 64)) != NULL && ++a.n_sid;
    char *wq = evhttp_uriencode(o->world_id, -1, 0);
    if (!ok || !wq || strlen(wq) >= sizeof(a.world_q)) {
        free(wq);
        snprintf(err, errlen, "out of memory (or world id too long)");
        release(&a);
        return -1;
    }
    snprintf(a.world_q, sizeof(a.world_q), "%s", wq);
    free(wq);
    signal(SIGPIPE, SIG_IGN);

    a.start.budget_s = o->budgets->start_retry_total_s;
    submit_all(&a);
    if (a.start.answered || !a.start.attempts)
        decide(&a);
    if (!a.start.answered) {
        snprintf(err, errlen,
                 "gateway %s never answered: %s; %d attempt(s) in %.1f s (start-up retry "
                 "budget %g s)",
                 o->gateway_url, a.start.last_err, a.start.attempts, ctl_now_s() - a.start.t0,
                 o->budgets->start_retry_total_s);
        out->unreachable = 1;
        release(&a);
        return -1;
    }
    if (a.domain == EXEC_LIVE && !o->allow_live_replay) {
        snprintf(err, errlen,
                 "world '%s' is live and the data is a replay of history (CSV or synthetic): "
                 "its orders would go to a live broker; pass --allow-live-replay to do that on "
                 "purpose",
                 o->world_id);
        release(&a);
        return -1;
    }
    if (!(a.fe = fill_events_new(&r->h))) {
        snprintf(err, errlen, "out of memory");
        release(&a);
        return -1;
    }
    /* before any gate can open; the stream resumes from the event seen before it */
    if (o->host_token && *o->host_token)
        a.st->refused += fill_events_start(a.fe, o->gateway_url, o->host_token, o->world_id,
                                          (const char *const *)a.gw_sid, a.refused,
                                          o->budgets->http_timeout_s, &a.last_seq, &a.have_seq);
    initial_activation(&a);

    if (attach(&a)) {
        snprintf(err, errlen, "cannot set up the control session on the event loop");
        release(&a);
        return -1;
    }
    if (o->bus && host_bus_start(o->bus, a.base, err, errlen) < 0) {
        release(&a);
        return -1;
    }
    if (!a.confirmed)
        a.lost_at = ctl_now_s();
    if (o->reload) /* strategies added, replaced, removed while attached: resubmitted */
        reload_on_change(o->reload, session_reloaded_, &a);
    subscribe(&a);
    int rc = runner_replay(r, err, errlen);

    for (size_t i = 0; i < r->h.n_st; i++) {
        out->orders_sent += r->h.st[i]->orders;
        out->orders_blocked += r->h.st[i]->blocked;
    }
    struct live_orders_stats ls;
    live_orders_stats(a.orders, &ls);
    /* live orders count as sent only once the gateway stored them */
    out->orders_sent += ls.accepted - ls.queued;
    out->orders_live = ls.queued;
    out->orders_refused = ls.refused;
    out->orders_failed = ls.failed + ls.inflight;
    struct fill_events_stats fs;
    fill_events_stats(a.fe, &fs);
    out->fills_received = fs.fills;
    out->fills_repeated = fs.duplicates;
    out->rebuilt_fills = fs.rebuilt_fills;
    out->rebuilt_open = fs.rebuilt_open;
    out->orders_held = fs.held;
    release(&a);
    return rc;
}
