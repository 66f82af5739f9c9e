/* ws: WebSocket connections over bufferevents, frames by wslay (see ws.h). */
#include "ws.h"
#include "ws_internal.h"

#include "log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <wslay/wslay.h>

#define DEFAULT_MAX_MSG (1u << 20)
#define DEFAULT_CLOSE_TIMEOUT_MS 2000

struct ws_frame {
    int refs;
    size_t len;
    unsigned char data[];
};

int64_t ws_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ wslay callbacks */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
    (void)flags;
    struct ws_conn *c = user;
    if (!c->client) {
        if (c->feed == 0) {
            wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
            return -1;
        }
        if (len > c->feed)
            len = c->feed;
    }
    int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
    if (n > 0 && !c->client)
        c->feed -= (size_t)n;
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    struct ws_conn *c = user;
    if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)user;
    if (RAND_bytes(buf, (int)len) != 1) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *user)
{
    (void)ctx;
    struct ws_conn *c = user;
    if (c->state >= ST_FLUSHING)
        return;
    switch (a->opcode) {
    case WSLAY_TEXT_FRAME:
    case WSLAY_BINARY_FRAME:
        if (c->state == ST_OPEN && c->h.on_message)
            c->h.on_message(c, a->opcode == WSLAY_BINARY_FRAME, a->msg, a->msg_length, c->arg);
        break;
    case WSLAY_PONG:
        if (c->h.on_pong)
            c->h.on_pong(c, c->arg);
        break;
    case WSLAY_CONNECTION_CLOSE:
        c->final_code = a->status_code ? a->status_code : WS_CLOSE_NO_STATUS;
        if (c->state == ST_OPEN)
            c->state = ST_CLOSING;
        break;
    default:
        break;
    }
}

static const struct wslay_event_callbacks wslay_cbs = {recv_cb, send_cb, genmask_cb, NULL,
                                                       NULL, NULL, msg_cb};
static long parsers_alive;

long ws_parsers_alive(void)
{
    return parsers_alive;
}

/* The wslay context. Clients keep theirs; servers create one only while frames are being
 * parsed or a close handshake runs (an idle wslay context costs ~9 KB per connection). */
static int ensure_ctx(struct ws_conn *c)
{
    if (c->ctx)
        return 0;
    int rc = c->client ? wslay_event_context_client_init(&c->ctx, &wslay_cbs, c)
                       : wslay_event_context_server_init(&c->ctx, &wslay_cbs, c);
    if (rc != 0) {
        c->ctx = NULL;
        return -1;
    }
    parsers_alive++;
    wslay_event_config_set_max_recv_msg_length(c->ctx, c->max_msg);
    return 0;
}

void ws_conn_drop_parser_(struct ws_conn *c)
{
    if (c->ctx) {
        wslay_event_context_free(c->ctx);
        c->ctx = NULL;
        parsers_alive--;
    }
}

/* ------------------------------------------------------------ lifecycle */

static void destroy(struct ws_conn *c)
{
    c->busy++;
    if (c->h.on_close)
        c->h.on_close(c, c->final_code ? c->final_code : WS_CLOSE_ABNORMAL, c->arg);
    if (!c->transport_gone) {
        if (c->evcon) {
            evhttp_connection_set_closecb(c->evcon, NULL, NULL);
            evhttp_connection_free(c->evcon);
        } else if (c->bev) {
            bufferevent_free(c->bev);
        }
    }
    ws_conn_drop_parser_(c);
    free(c);
}

static void enter(struct ws_conn *c)
{
    c->busy++;
}

/* Returns 1 when c was freed. */
static int leave(struct ws_conn *c)
{
    if (--c->busy == 0 && c->state == ST_DONE) {
        destroy(c);
        return 1;
    }
    return 0;
}

static void set_done(struct ws_conn *c, int code)
{
    if (c->state == ST_DONE)
        return;
    if (!c->final_code)
        c->final_code = code;
    c->state = ST_DONE;
    if (c->bev && !c->transport_gone)
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

/* Everything is said: drop the transport once the output is written. */
static void finish(struct ws_conn *c, int code)
{
    if (c->state >= ST_FLUSHING)
        return;
    if (!c->final_code)
        c->final_code = code;
    if (c->transport_gone || evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        set_done(c, code);
        return;
    }
    c->state = ST_FLUSHING;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_enable(c->bev, EV_WRITE);
}

/* Let wslay write what it has queued, then see whether the connection is over. */
static void pump(struct ws_conn *c)
{
    if (c->state < ST_OPEN || c->state >= ST_FLUSHING || !c->ctx)
        return;
    if (wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0) {
        finish(c, WS_CLOSE_ABNORMAL);
        return;
    }
    if (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx)) {
        int code = wslay_event_get_close_received(c->ctx)
                       ? wslay_event_get_status_code_received(c->ctx)
                       : wslay_event_get_status_code_sent(c->ctx);
        if (code == 0)
            code = WS_CLOSE_NO_STATUS;
        finish(c, code);
    }
}

static void fail_handshake(struct ws_conn *c, const char *msg)
{
    LOG_WARN("ws", "connection to %s: %s", c->peer, msg);
    set_done(c, WS_CLOSE_ABNORMAL);
}

/* Client: parse the 101 response. Returns 0 when open (or waiting for more), -1 on failure. */
static int read_handshake(struct ws_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t avail = evbuffer_get_length(in);
    size_t take = avail < WS_MAX_HEAD_BYTES ? avail : WS_MAX_HEAD_BYTES;
    const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)take);
    struct ws_http_head h;
    char err[200];
    long n = ws_http_parse_head(data, take, 1, WS_MAX_HEAD_BYTES, &h, err, sizeof(err));
    if (n == 0)
        return 0;
    if (n < 0) {
        fail_handshake(c, err);
        return -1;
    }
    c->http_status = h.status;
    int rc = ws_client_check_response(&h, c->key, err, sizeof(err));
    ws_http_head_release(&h);
    if (rc != 0) {
        fail_handshake(c, err);
        return -1;
    }
    evbuffer_drain(in, (size_t)n);
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    c->state = ST_OPEN;
    if (c->h.on_open)
        c->h.on_open(c, c->arg);
    return 0;
}

/*
 * Server: measure the complete frames at the front of the input. Returns their total
 * length; *fin_state tracks whether a fragmented data message is open after them; *now is
 * set when a frame must be handed to wslay before it is complete (its declared length is
 * over the limit, so wslay closes with 1009 without buffering it).
 */
static size_t complete_frames(struct ws_conn *c, int *frag_open, int *now)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t avail = evbuffer_get_length(in), off = 0;
    *now = 0;
    while (avail - off >= 2) {
        unsigned char h[14];
        struct evbuffer_ptr p;
        evbuffer_ptr_set(in, &p, off, EVBUFFER_PTR_SET);
        size_t hn = avail - off < sizeof(h) ? avail - off : sizeof(h);
        evbuffer_copyout_from(in, &p, h, hn);
        size_t need = 2 + ((h[1] & 0x80) ? 4 : 0);
        uint64_t len = h[1] & 0x7f;
        if (len == 126)
            need += 2;
        else if (len == 127)
            need += 8;
        if (hn < need)
            break;
        if (len == 126) {
            len = ((uint64_t)h[2] << 8) | h[3];
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | h[2 + i];
        }
        if (len > c->max_msg) {
            *now = 1;
            return avail;
        }
        if (avail - off < need + len)
            break;
        unsigned op = h[0] & 0x0f;
        if (op < 8)
            *frag_open = !(h[0] & 0x80);
        off += need + (size_t)len;
    }
    return off;
}

static void server_read(struct ws_conn *c)
{
    int frag = c->frag_open, now = 0;
    size_t n = complete_frames(c, &frag, &now);
    if (n == 0 && !c->ctx)
        return;
    if (ensure_ctx(c) != 0) {
        finish(c, WS_CLOSE_ABNORMAL);
        return;
    }
    c->feed = n;
    c->frag_open = frag;
    if (wslay_event_recv(c->ctx) != 0) {
        finish(c, WS_CLOSE_ABNORMAL);
        return;
    }
    pump(c);
    /* back at a frame boundary with nothing pending: release the parser */
    if (c->state == ST_OPEN && !c->frag_open && !now && c->ctx &&
        !wslay_event_want_write(c->ctx) && wslay_event_get_read_enabled(c->ctx))
        ws_conn_drop_parser_(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct ws_conn *c = arg;
    enter(c);
    c->last_rx_ms = ws_now_ms();
    if (c->state == ST_HANDSHAKE && read_handshake(c) != 0)
        goto out;
    if (c->state == ST_OPEN || c->state == ST_CLOSING) {
        if (c->client) {
            if (wslay_event_recv(c->ctx) != 0)
                finish(c, WS_CLOSE_ABNORMAL);
            else
                pump(c);
        } else {
            server_read(c);
        }
    } else if (c->state == ST_FLUSHING || c->state == ST_DONE) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
    }
out:
    leave(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct ws_conn *c = arg;
    enter(c);
    if (c->state == ST_FLUSHING) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            set_done(c, c->final_code);
    } else if (c->state == ST_OPEN && c->h.on_drain) {
        c->h.on_drain(c, c->arg);
    }
    leave(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

void ws_conn_attach_(struct ws_conn *c)
{
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct ws_conn *c = arg;
    enter(c);
    if (what & BEV_EVENT_CONNECTED) {
        c->state = ST_HANDSHAKE;
        bufferevent_enable(bev, EV_READ | EV_WRITE);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE)
            LOG_DEBUG("ws", "connection to %s failed before the handshake", c->peer);
        int code = WS_CLOSE_ABNORMAL;
        if (c->ctx && wslay_event_get_close_received(c->ctx))
            code = wslay_event_get_status_code_received(c->ctx);
        else if (c->state == ST_CLOSING && c->ctx && wslay_event_get_close_sent(c->ctx) &&
                 (what & BEV_EVENT_TIMEOUT))
            code = wslay_event_get_status_code_sent(c->ctx);
        set_done(c, code ? code : WS_CLOSE_NO_STATUS);
    }
    leave(c);
}

/* evhttp is freeing the connection (server shutdown): forget the transport. */
static void evcon_closed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct ws_conn *c = arg;
    c->transport_gone = 1;
    c->bev = NULL;
    enter(c);
    set_done(c, WS_CLOSE_ABNORMAL);
    leave(c);
}

struct ws_conn *ws_conn_alloc_(struct bufferevent *bev, int client, const struct ws_handlers *h,
                               void *arg, uint64_t max_msg)
{
    struct ws_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->client = client;
    c->max_msg = max_msg ? max_msg : DEFAULT_MAX_MSG;
    if (client && ensure_ctx(c) != 0) {
        free(c);
        return NULL;
    }
    c->bev = bev;
    c->fd = -1;
    c->h = *h;
    c->arg = arg;
    c->last_rx_ms = ws_now_ms();
    return c;
}

static int start_server(struct ws_conn *c, const char *accept)
{
    struct bufferevent *bev = c->bev;
    /* the only step that can fail comes first, before anything of evhttp's is changed */
    if (evbuffer_add_printf(bufferevent_get_output(bev),
                            "HTTP/1.1 101 Switching Protocols\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: %s\r\n\r\n",
                            accept) < 0)
        return -1;
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_setwatermark(bev, EV_READ | EV_WRITE, 0, 0);
    c->state = ST_OPEN;
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    /* bytes the client sent right after its request: handle them from the loop */
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    return 0;
}

struct ws_conn *ws_conn_accept_evhttp(struct evhttp_request *req, const char *accept,
                                      const struct ws_handlers *h, void *arg, uint64_t max_msg)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    if (!bev)
        return NULL;
    struct bufferevent *under = bufferevent_get_underlying(bev);
    if (under) {
        /*
         * evhttp reads through a filtering bufferevent (an input guard). Frames bypass it:
         * the connection drives the socket bufferevent underneath directly, so output
         * accounting and drain callbacks see the real socket buffer. Enabling the filter
         * lifts any read suspension it put on the socket; bytes that already passed it
         * go back in front of the socket's input. The filter stays owned by evhttp and is
         * freed (with the socket) by evhttp_connection_free.
         */
        bufferevent_flush(bev, EV_WRITE, BEV_FLUSH);
        bufferevent_enable(bev, EV_READ | EV_WRITE);
        struct evbuffer *fin = bufferevent_get_input(bev);
        if (evbuffer_get_length(fin) > 0)
            evbuffer_prepend_buffer(bufferevent_get_input(under), fin);
        bev = under;
    }
    struct ws_conn *c = ws_conn_alloc_(bev, 0, h, arg, max_msg);
    if (!c)
        return NULL;
    c->evcon = evcon;
    char *addr = NULL;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(evcon, &addr, &port);
    snprintf(c->peer, sizeof(c->peer), "%s:%u", addr ? addr : "?", (unsigned)port);
    if (start_server(c, accept) != 0) {
        /* give the bufferevent back to evhttp untouched enough for an error reply */
        ws_conn_drop_parser_(c);
        free(c);
        return NULL;
    }
    evhttp_connection_set_closecb(evcon, evcon_closed, c);
    return c;
}

struct ws_conn *ws_conn_accept_bev(struct bufferevent *bev, const char *accept,
                                   const struct ws_handlers *h, void *arg, uint64_t max_msg)
{
    struct ws_conn *c = ws_conn_alloc_(bev, 0, h, arg, max_msg);
    if (!c)
        return NULL;
    if (start_server(c, accept) != 0) {
        ws_conn_drop_parser_(c);
        free(c);
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------ sending */

/* Server: append one unmasked frame (opcode, payload) to the output. */
static int server_frame(struct ws_conn *c, unsigned opcode, const void *data, size_t len)
{
    unsigned char h[10];
    size_t hl = 0;
    h[hl++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[hl++] = (unsigned char)len;
    } else if (len < 65536) {
        h[hl++] = 126;
        h[hl++] = (unsigned char)(len >> 8);
        h[hl++] = (unsigned char)len;
    } else {
        h[hl++] = 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->ctx && wslay_event_want_write(c->ctx))
        pump(c);
    size_t sent = 0;
    if (evbuffer_get_length(out) == 0) {
        /* nothing queued: try the socket directly (see ws_conn_send_frame) */
        evutil_socket_t fd = bufferevent_getfd(c->bev);
        struct iovec iov[2] = {{h, hl}, {(void *)(uintptr_t)data, len}};
        struct msghdr mh;
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = iov;
        mh.msg_iovlen = len ? 2 : 1;
        ssize_t n = fd >= 0 ? sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
        if (n > 0)
            sent = (size_t)n;
        if (sent == hl + len)
            return 0;
    }
    if (sent < hl && evbuffer_add(out, h + sent, hl - sent) != 0)
        return -1;
    size_t doff = sent > hl ? sent - hl : 0;
    if (len > doff && evbuffer_add(out, (const char *)data + doff, len - doff) != 0)
        return -1;
    return 0;
}

int ws_conn_send_text(struct ws_conn *c, const char *data, size_t len)
{
    if (c->state != ST_OPEN)
        return -1;
    if (!c->client)
        return server_frame(c, WSLAY_TEXT_FRAME, data, len);
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)data, len};
    if (wslay_event_queue_msg(c->ctx, &m) != 0)
        return -1;
    enter(c);
    pump(c);
    leave(c);
    return 0;
}

int ws_conn_ping(struct ws_conn *c, const void *data, size_t len)
{
    if (c->state != ST_OPEN || len > 125)
        return -1;
    if (!c->client)
        return server_frame(c, WSLAY_PING, data, len);
    struct wslay_event_msg m = {WSLAY_PING, data, len};
    if (wslay_event_queue_msg(c->ctx, &m) != 0)
        return -1;
    enter(c);
    pump(c);
    leave(c);
    return 0;
}

void ws_conn_close(struct ws_conn *c, uint16_t code, const char *reason, int timeout_ms)
{
    if (c->state != ST_OPEN && c->state != ST_CLOSING)
        return;
    if (c->state == ST_OPEN) {
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > 123)
            rl = 123;
        if (ensure_ctx(c) != 0) {
            enter(c);
            finish(c, code);
            leave(c);
            return;
        }
        wslay_event_queue_close(c->ctx, code, (const uint8_t *)reason, rl);
        c->state = ST_CLOSING;
    }
    struct timeval tv = {0, 0};
    int ms = timeout_ms > 0 ? timeout_ms : DEFAULT_CLOSE_TIMEOUT_MS;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    enter(c);
    pump(c);
    leave(c);
}

void ws_conn_abort(struct ws_conn *c, uint16_t code)
{
    if (c->state == ST_OPEN) {
        if (!c->client) {
            unsigned char b[2] = {(unsigned char)(code >> 8), (unsigned char)code};
            server_frame(c, WSLAY_CONNECTION_CLOSE, b, 2);
        } else {
            wslay_event_queue_close(c->ctx, code, NULL, 0);
            wslay_event_send(c->ctx);
        }
    }
    if (!c->transport_gone && c->bev) {
        evutil_socket_t fd = bufferevent_getfd(c->bev);
        if (fd >= 0) {
            /* bufferevents freeze the start of their output; lift it for one last write */
            struct evbuffer *out = bufferevent_get_output(c->bev);
            evbuffer_unfreeze(out, 1);
            evbuffer_write(out, fd);
            evbuffer_freeze(out, 1);
        }
    }
    c->h.on_close = NULL;
    c->state = ST_DONE;
    if (c->busy == 0)
        destroy(c);
}

static void frame_ref_cleanup(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    ws_frame_unref(arg);
}

struct ws_frame *ws_frame_text(const char *data, size_t len)
{
    struct ws_frame *f = malloc(sizeof(*f) + len + 10);
    if (!f)
        return NULL;
    size_t h = 0;
    f->data[h++] = 0x81; /* FIN + text */
    if (len < 126) {
        f->data[h++] = (unsigned char)len;
    } else if (len < 65536) {
        f->data[h++] = 126;
        f->data[h++] = (unsigned char)(len >> 8);
        f->data[h++] = (unsigned char)len;
    } else {
        f->data[h++] = 127;
        for (int i = 7; i >= 0; i--)
            f->data[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(f->data + h, data, len);
    f->len = h + len;
    f->refs = 1;
    return f;
}

void ws_frame_unref(struct ws_frame *f)
{
    if (f && --f->refs == 0)
        free(f);
}

size_t ws_frame_len(const struct ws_frame *f)
{
    return f->len;
}

int ws_conn_send_frame(struct ws_conn *c, struct ws_frame *f)
{
    if (c->state != ST_OPEN || c->client)
        return -1;
    /* wslay's send callback always takes whole frames, so nothing of its own is pending
     * between our calls and a raw frame cannot interleave with one of its frames. */
    if (c->ctx && wslay_event_want_write(c->ctx))
        pump(c);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t off = 0;
    if (c->fd < 0)
        c->fd = bufferevent_getfd(c->bev);
    if (evbuffer_get_length(out) == 0) {
        /*
         * Fan-out fast path: nothing is queued, so write straight to the socket; a full
         * write costs one syscall instead of arming, polling and disarming the write event.
         * Whatever the kernel does not take goes to the output buffer as usual, and errors
         * are left for the bufferevent to discover on its own write.
         */
        ssize_t n = c->fd >= 0 ? send(c->fd, f->data, f->len, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
        if (n == (ssize_t)f->len)
            return 0;
        if (n > 0)
            off = (size_t)n;
    }
    f->refs++;
    if (evbuffer_add_reference(out, f->data + off, f->len - off, frame_ref_cleanup, f) != 0) {
        f->refs--;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ accessors */

size_t ws_conn_outbuf_len(const struct ws_conn *c)
{
    if (c->transport_gone || !c->bev)
        return 0;
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

int ws_conn_is_open(const struct ws_conn *c)
{
    return c->state == ST_OPEN;
}

int ws_conn_http_status(const struct ws_conn *c)
{
    return c->http_status;
}

int64_t ws_conn_last_rx_ms(const struct ws_conn *c)
{
    return c->last_rx_ms;
}

const char *ws_conn_peer(const struct ws_conn *c)
{
    return c->peer;
}
