/* ws_client: the client side of common/ws.h (connect and opening handshake request). */
#include "ws_internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct ws_conn *ws_client_connect(struct event_base *base, const char *host, int port,
                                  const char *path, const char *extra_headers,
                                  const struct ws_handlers *h, void *arg, uint64_t max_msg,
                                  char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(gai));
        return NULL;
    }
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct ws_conn *c = bev ? ws_conn_alloc_(bev, 1, h, arg, max_msg) : NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        if (bev)
            bufferevent_free(bev);
        freeaddrinfo(res);
        return NULL;
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
    c->state = ST_CONNECTING;
    ws_conn_attach_(c);
    int ok = ws_make_client_key(c->key) == 0 &&
             evbuffer_add_printf(bufferevent_get_output(bev),
                                 "GET %s HTTP/1.1\r\n"
                                 "Host: %s:%d\r\n"
                                 "Upgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: %s\r\n"
                                 "Sec-WebSocket-Version: 13\r\n"
                                 "%s\r\n",
                                 path && *path ? path : "/", host, port, c->key,
                                 extra_headers ? extra_headers : "") > 0;
    if (ok && bufferevent_socket_connect(bev, res->ai_addr, (int)res->ai_addrlen) != 0) {
        snprintf(err, errlen, "cannot connect to %s:%d", host, port);
        ok = 0;
    } else if (!ok) {
        snprintf(err, errlen, "cannot prepare the WebSocket handshake");
    }
    freeaddrinfo(res);
    if (!ok) {
        ws_conn_drop_parser_(c);
        free(c);
        bufferevent_free(bev);
        return NULL;
    }
    struct timeval tv = {10, 0}; /* connect + handshake budget; cleared once open */
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    return c;
}

struct ws_conn *ws_client_connect_url(struct event_base *base, const char *url,
                                      const char *extra_headers, const struct ws_handlers *h,
                                      void *arg, uint64_t max_msg, char *err, size_t errlen)
{
    char host[256], path[2048];
    int port;
    if (ws_url_parse(url, host, sizeof(host), &port, path, sizeof(path), err, errlen) != 0)
        return NULL;
    return ws_client_connect(base, host, port, path, extra_headers, h, arg, max_msg, err,
                             errlen);
}

