/* Fuzz the WebSocket opening-handshake parsers: raw request heads (server side), response
 * heads (client side), header token lists and stream URLs; and, after an accepted
 * handshake, the server's frame reader (frame scanning, lazy wslay parser, close handling)
 * over an in-process bufferevent pair. The first byte picks the target. */
#include "ws.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct frame_run {
    int closed;
};

static void fz_msg(struct ws_conn *c, int binary, const unsigned char *m, size_t n, void *arg)
{
    (void)arg;
    (void)binary;
    if (n > 0 && m[0] == 'c')
        ws_conn_close(c, WS_CLOSE_NORMAL, "bye", 10);
    else
        ws_conn_send_text(c, (const char *)m, n);
}

static void fz_close(struct ws_conn *c, int code, void *arg)
{
    (void)c;
    (void)code;
    ((struct frame_run *)arg)->closed = 1;
}

/* Feed raw client bytes to a server connection, in two chunks to split frames. */
static void fuzz_frames(const uint8_t *p, size_t n)
{
    static struct event_base *base;
    if (!base)
        base = event_base_new();
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(base, 0, pair) != 0)
        return;
    static const struct ws_handlers h = {NULL, fz_msg, NULL, NULL, fz_close};
    struct frame_run run = {0};
    struct ws_conn *c = ws_conn_accept_bev(pair[0], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &h, &run,
                                           256);
    if (!c) {
        bufferevent_free(pair[0]);
        bufferevent_free(pair[1]);
        return;
    }
    bufferevent_enable(pair[1], EV_READ | EV_WRITE);
    size_t half = n > 1 ? p[0] % n : n;
    bufferevent_write(pair[1], p, half);
    for (int i = 0; i < 4; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    if (!run.closed) {
        bufferevent_write(pair[1], p + half, n - half);
        for (int i = 0; i < 4; i++)
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    if (!run.closed)
        ws_conn_abort(c, WS_CLOSE_GOING_AWAY);
    bufferevent_free(pair[1]);
    for (int i = 0; i < 2; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    if (ws_parsers_alive() != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] & 7;
    if (mode >= 4) {
        fuzz_frames(data + 1, size - 1);
        return 0;
    }
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    char err[256], accept[WS_ACCEPT_LEN + 1], target[128];
    int status = 0;
    if (mode == 0) {
        long r = ws_upgrade_parse_request(p, n, accept, target, sizeof(target), &status, err,
                                          sizeof(err));
        if (r > 0 && (size_t)r > n)
            abort();
        if (r > 0 && strlen(accept) != WS_ACCEPT_LEN)
            abort();
    } else if (mode == 1) {
        struct ws_http_head h;
        long r = ws_http_parse_head(p, n, 1, WS_MAX_HEAD_BYTES, &h, err, sizeof(err));
        if (r > 0) {
            if ((size_t)r > n)
                abort();
            ws_client_check_response(&h, "dGhlIHNhbXBsZSBub25jZQ==", err, sizeof(err));
            for (size_t i = 0; i < h.n_headers; i++)
                ws_header_has_token(h.headers[i].value, "upgrade");
            ws_http_head_release(&h);
        }
    } else {
        char *s = malloc(n + 1);
        if (!s)
            return 0;
        memcpy(s, p, n);
        s[n] = '\0';
        if (mode == 2) {
            char host[64], path[256];
            int port;
            ws_url_parse(s, host, sizeof(host), &port, path, sizeof(path), err, sizeof(err));
        } else {
            ws_header_has_token(s, "websocket");
            if (ws_key_valid(s) && ws_accept_for_key(s, accept) != 0)
                abort();
        }
        free(s);
    }
    return 0;
}
