/*
 * gw_guard: per-connection request-size guard in front of evhttp.
 *
 * libevent 2.1's evhttp answers oversized heads and bodies itself with an HTML 413
 * page and offers no hook to change that. The guard watches the bytes arriving in each
 * connection's input buffer (an evbuffer callback, which runs as data is appended and
 * before evhttp's read callback parses it) with a small incremental parser of request
 * heads:
 *   - a head longer than max_header_bytes -> 431
 *   - a Content-Length larger than max_body_bytes -> 413
 *   - any Transfer-Encoding (chunked bodies) -> 411 (bodies must declare their length)
 *   - a malformed request line or header line -> 400
 * A rejected request is replaced in the buffer by a synthetic
 * "GET /.qmtl-reject/<code>" with "Connection: close", which the router answers with a
 * JSON error; everything the client sends afterwards on that connection is discarded.
 * After the head of a WebSocket handshake (GET /ws or /ws/evt with an Upgrade header and
 * no body) the guard stops looking (WebSocket frames follow); any other request with an
 * Upgrade header is guarded like every request.
 *
 * Time: from the first byte of a request head until its body is complete, at most
 * gateway.read_timeout_s may pass (evhttp's own timeout, gateway.read_idle_timeout_s,
 * bounds the silences); a client that trickles bytes is disconnected when it runs out.
 *
 * Each guard is freed by the evhttp connection's close callback, when it stops looking
 * (after an Upgrade head), or at shutdown. The bufferevent evhttp uses is the plain socket
 * bufferevent: whoever takes a connection over (the WebSocket hub) uses it directly.
 */
#include "gw_routes.h"

#include "log.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum guard_mode { G_HEAD, G_BODY, G_PASS, G_DISCARD };

#define LINE_KEEP 96

struct gw_guard {
    struct gw_guard_set *set;
    struct gw_guard *prev, *next;
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* once bound */
    struct evbuffer_cb_entry *entry;
    int bound; /* close callback installed */
    int busy;  /* inside our own buffer modification */
    enum guard_mode mode;
    uint64_t body_left;
    /* head parser */
    size_t head_bytes;
    size_t line_len;
    char line[LINE_KEEP];
    int lines;
    int line_spaces, line_colon;
    char tail[10]; /* last bytes of the request line (its HTTP version) */
    int chunked, upgrade, bad_length;
    int ws_target; /* request line is GET /ws or GET /ws/evt */
    uint64_t content_length;
    struct event *timer; /* read_timeout_s, armed while a request arrives */
};

static void stop_timer(struct gw_guard *g)
{
    if (g->timer)
        event_del(g->timer);
}

static void free_guard(struct gw_guard *g)
{
    if (g->timer)
        event_free(g->timer);
    free(g);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_guard *g = arg;
    LOG_WARN("gateway",
             "request not received within %.3g s (gateway.read_timeout_s): closing "
             "the connection",
             g->set->read_timeout_s);
    if (g->evcon)
        evhttp_connection_free(g->evcon); /* on_close frees the guard */
}

static void start_timer(struct gw_guard *g)
{
    if (!g->set->base || g->set->read_timeout_s <= 0)
        return;
    if (!g->timer && !(g->timer = evtimer_new(g->set->base, on_timeout, g)))
        return;
    if (evtimer_pending(g->timer, NULL))
        return;
    double t = g->set->read_timeout_s;
    struct timeval tv = {(time_t)t, (suseconds_t)((t - (double)(time_t)t) * 1e6)};
    evtimer_add(g->timer, &tv);
}

static void unlink_guard(struct gw_guard *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        g->set->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    struct gw_guard *g = arg;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    if (bev && g->entry)
        evbuffer_remove_cb_entry(bufferevent_get_input(bev), g->entry);
    unlink_guard(g);
    free_guard(g);
}

static void reset_head(struct gw_guard *g)
{
    g->head_bytes = 0;
    g->line_len = 0;
    g->lines = 0;
    g->line_spaces = g->line_colon = 0;
    memset(g->tail, 0, sizeof(g->tail));
    g->chunked = g->upgrade = g->bad_length = 0;
    g->ws_target = 0;
    g->content_length = 0;
}

static const char *const methods[] = {"GET",     "POST",  "HEAD",    "PUT",  "DELETE",
                                      "OPTIONS", "TRACE", "CONNECT", "PATCH"};

/* "METHOD SP target SP HTTP/d.d" as evhttp accepts it. */
static int request_line_ok(const struct gw_guard *g)
{
    size_t m = 0;
    while (m < g->line_len && m < LINE_KEEP && g->line[m] != ' ')
        m++;
    int known = 0;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i]) == m && strncmp(g->line, methods[i], m) == 0)
            known = 1;
    if (!known || g->line_spaces != 2)
        return 0;
    const char *t = g->tail;
    size_t n = sizeof(g->tail);
    if (t[n - 1] == '\r')
        n--;
    if (n < 9)
        return 0;
    t += n - 9; /* " HTTP/d.d" */
    return t[0] == ' ' && strncmp(t + 1, "HTTP/", 5) == 0 && isdigit((unsigned char)t[6]) &&
           t[7] == '.' && isdigit((unsigned char)t[8]);
}

/* A complete, non-empty line of the head: 0, or 400 when evhttp would refuse it. */
static int end_line(struct gw_guard *g)
{
    if (g->lines == 0 && !request_line_ok(g))
        return 400;
    if (g->lines == 0) {
        size_t m = g->line_len < LINE_KEEP ? g->line_len : LINE_KEEP;
        for (size_t k = 0; k < 2 && !g->ws_target; k++) {
            const char *t = k ? "GET /ws/evt" : "GET /ws";
            size_t n = strlen(t);
            g->ws_target =
                m > n && !memcmp(g->line, t, n) && (g->line[n] == ' ' || g->line[n] == '?');
        }
    }
    if (g->lines > 0 && g->line[0] != ' ' && g->line[0] != '\t' && !g->line_colon)
        return 400; /* a header line without a colon */
    size_t n = g->line_len < LINE_KEEP ? g->line_len : LINE_KEEP - 1;
    g->line[n] = '\0';
    if (n && g->line[n - 1] == '\r')
        g->line[--n] = '\0';
    const char *l = g->line;
    if (strncasecmp(l, "content-length:", 15) == 0) {
        const char *v = l + 15;
        while (*v == ' ' || *v == '\t')
            v++;
        uint64_t x = 0;
        int digits = 0;
        while (isdigit((unsigned char)*v) && digits < 19) {
            x = x * 10 + (uint64_t)(*v - '0');
            v++;
            digits++;
        }
        while (*v == ' ' || *v == '\t')
            v++;
        if (!digits || *v)
            g->bad_length = 1;
        else
            g->content_length = x;
    } else if (strncasecmp(l, "transfer-encoding:", 18) == 0) {
        g->chunked = 1;
    } else if (strncasecmp(l, "upgrade:", 8) == 0) {
        g->upgrade = 1;
    }
    g->lines++;
    g->line_len = 0;
    g->line_spaces = g->line_colon = 0;
    return 0;
}

/* 'mid_head': evhttp already consumed the request line of the current head (it parses
 * complete lines as they arrive), so the rejection is completed as header lines
 * instead of a new request. */
static void reject(struct gw_guard *g, struct evbuffer *buf, int code, int mid_head)
{
    char req[160];
    int n;
    if (mid_head)
        n = snprintf(req, sizeof(req), GW_REJECT_HEADER ": %d\r\nConnection: close\r\n\r\n", code);
    else
        n = snprintf(req, sizeof(req),
                     "GET " GW_REJECT_PREFIX "%d HTTP/1.1\r\nHost: guard\r\n"
                     "Connection: close\r\n\r\n",
                     code);
    g->busy = 1;
    evbuffer_drain(buf, evbuffer_get_length(buf));
    evbuffer_add(buf, req, (size_t)n);
    g->busy = 0;
    g->mode = G_DISCARD;
    stop_timer(g);
}

/* Feed 'n' new bytes (the last n of the buffer). Returns a rejection code or 0. */
static int feed(struct gw_guard *g, struct evbuffer *buf, size_t n, int *mid_head)
{
    *mid_head = g->mode == G_HEAD && g->lines > 0;
    size_t len = evbuffer_get_length(buf);
    size_t off = len - n;
    const long max_head = g->set->max_header_bytes;
    while (off < len) {
        if (g->mode == G_PASS || g->mode == G_DISCARD)
            return 0;
        if (g->mode == G_BODY) {
            uint64_t take = len - off;
            if (take > g->body_left)
                take = g->body_left;
            off += (size_t)take;
            g->body_left -= take;
            if (g->body_left == 0) {
                g->mode = G_HEAD;
                stop_timer(g);
            }
            continue;
        }
        /* G_HEAD: copy a chunk and scan it byte by byte (heads are small). */
        char chunk[512];
        size_t want = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
        struct evbuffer_ptr p;
        evbuffer_ptr_set(buf, &p, off, EVBUFFER_PTR_SET);
        ev_ssize_t got = evbuffer_copyout_from(buf, &p, chunk, want);
        if (got <= 0)
            return 0;
        size_t i;
        for (i = 0; i < (size_t)got; i++) {
            char c = chunk[i];
            if (g->head_bytes == 0)
                start_timer(g);
            g->head_bytes++;
            if ((long)g->head_bytes > max_head)
                return 431;
            if (c != '\n') {
                if (g->line_len < LINE_KEEP)
                    g->line[g->line_len] = c;
                g->line_len++;
                g->line_spaces += c == ' ';
                g->line_colon |= c == ':';
                if (g->lines == 0) {
                    memmove(g->tail, g->tail + 1, sizeof(g->tail) - 1);
                    g->tail[sizeof(g->tail) - 1] = c;
                }
                continue;
            }
            int empty = g->line_len == 0 || (g->line_len == 1 && g->line[0] == '\r');
            if (empty && g->lines == 0) {
                /* blank line before a request: not a head end */
                g->line_len = 0;
                g->line_spaces = g->line_colon = 0;
                memset(g->tail, 0, sizeof(g->tail));
                continue;
            }
            if (!empty) {
                int bad = end_line(g);
                if (bad)
                    return bad;
                continue;
            }
            /* end of head */
            i++;
            int code = 0;
            if (g->chunked)
                code = 411;
            else if (!g->bad_length && g->content_length > (uint64_t)g->set->max_body_bytes)
                code = 413;
            if (code)
                return code;
            if ((g->upgrade && g->ws_target && g->content_length == 0) || g->bad_length)
                g->mode = G_PASS; /* WebSocket, or evhttp answers 400 and closes */
            else if (g->content_length > 0) {
                g->mode = G_BODY;
                g->body_left = g->content_length;
            }
            if (g->mode != G_BODY)
                stop_timer(g);
            reset_head(g);
            *mid_head = 0;
            break;
        }
        off += i;
    }
    return 0;
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct gw_guard *g = arg;
    if (g->busy || info->n_added == 0)
        return;
    if (!g->bound) {
        /* evhttp set its callbacks before any byte could arrive: cbarg is the connection. */
        bufferevent_data_cb rcb, wcb;
        bufferevent_event_cb ecb;
        void *cbarg = NULL;
        bufferevent_getcb(g->bev, &rcb, &wcb, &ecb, &cbarg);
        if (cbarg) {
            g->evcon = cbarg;
            evhttp_connection_set_closecb(cbarg, on_close, g);
            g->bound = 1;
        }
    }
    if (g->mode == G_DISCARD) {
        g->busy = 1;
        evbuffer_drain(buf, evbuffer_get_length(buf));
        g->busy = 0;
        return;
    }
    int mid_head = 0;
    int code = feed(g, buf, info->n_added, &mid_head);
    if (code)
        reject(g, buf, code, mid_head);
    else if (g->mode == G_PASS && g->evcon) {
        /* An Upgrade (WebSocket) or a head evhttp will refuse: nothing more to guard on
         * this connection. Detach now, so the new owner of the connection (the event
         * stream) is free to install its own close callback. */
        evhttp_connection_set_closecb(g->evcon, NULL, NULL);
        evbuffer_remove_cb_entry(buf, g->entry);
        unlink_guard(g);
        free_guard(g);
    }
}

struct bufferevent *gw_guard_bevcb(struct event_base *base, void *arg)
{
    struct gw_guard_set *set = arg;
    struct gw_guard *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        free(g);
        return NULL;
    }
    g->set = set;
    g->bev = bev;
    g->entry = evbuffer_add_cb(bufferevent_get_input(bev), on_input, g);
    if (!g->entry) {
        bufferevent_free(bev);
        free(g);
        return NULL;
    }
    g->next = set->head;
    if (set->head)
        set->head->prev = g;
    set->head = g;
    return bev;
}

void gw_guard_set_release(struct gw_guard_set *set)
{
    struct gw_guard *g = set->head;
    while (g) {
        struct gw_guard *next = g->next;
        free_guard(g);
        g = next;
    }
    set->head = NULL;
}

int gw_guard_simulate(long max_header_bytes, long max_body_bytes, const char *data, size_t len,
                      size_t chunk)
{
    struct gw_guard_set set = {max_header_bytes, max_body_bytes, NULL, 0, NULL};
    struct gw_guard g;
    memset(&g, 0, sizeof(g));
    g.set = &set;
    g.bound = 1; /* no connection to bind to */
    struct evbuffer *buf = evbuffer_new();
    if (!buf)
        return -1;
    g.entry = evbuffer_add_cb(buf, on_input, &g);
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len && g.mode != G_DISCARD; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        evbuffer_add(buf, data + off, n);
    }
    int code = 0;
    if (g.mode == G_DISCARD) {
        /* the buffer holds the synthetic rejection (request or header lines) */
        char head[64];
        ev_ssize_t n = evbuffer_copyout(buf, head, sizeof(head) - 1);
        head[n > 0 ? n : 0] = '\0';
        const char *p = strstr(head, GW_REJECT_PREFIX);
        if (p)
            code = atoi(p + strlen(GW_REJECT_PREFIX));
        else if ((p = strstr(head, GW_REJECT_HEADER ": ")) != NULL)
            code = atoi(p + strlen(GW_REJECT_HEADER) + 2);
        else
            code = -1;
    }
    evbuffer_free(buf);
    return code;
}
