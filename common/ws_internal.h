/*
 * ws_internal: the connection structure shared by ws.c (core, server side) and ws_client.c
 * (client connect). Not for use outside common/ws*.c.
 */
#ifndef QMTL_COMMON_WS_INTERNAL_H
#define QMTL_COMMON_WS_INTERNAL_H

#include "ws.h"

#include <event2/util.h>
#include <wslay/wslay.h>

struct bufferevent;
struct evhttp_connection;

enum ws_state {
    ST_CONNECTING, /* client: TCP connect in progress */
    ST_HANDSHAKE,  /* client: request sent, waiting for 101 */
    ST_OPEN,
    ST_CLOSING,    /* close frame sent or received; waiting for the handshake to finish */
    ST_FLUSHING,   /* finished; writing what is left before dropping the transport */
    ST_DONE,       /* on_close pending or running; freed when the last caller leaves */
};

struct ws_conn {
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* non-NULL when taken over from evhttp */
    wslay_event_context_ptr ctx;
    int client;
    enum ws_state state;
    struct ws_handlers h;
    void *arg;
    int busy;           /* nesting depth of our callbacks / handlers on the stack */
    int final_code;
    int transport_gone; /* evhttp freed the transport under us */
    int http_status;
    int64_t last_rx_ms;
    evutil_socket_t fd; /* server: the socket, cached for direct sends (-1 until known) */
    uint64_t max_msg;
    size_t feed;        /* server: bytes of complete frames wslay may read now */
    int frag_open;      /* server: a fragmented message is in progress */
    char key[WS_KEY_LEN + 1];
    char peer[80];
};

/* A connection over 'bev' (not yet attached to it); clients get their wslay context now,
 * servers lazily. NULL when out of memory. */
struct ws_conn *ws_conn_alloc_(struct bufferevent *bev, int client, const struct ws_handlers *h,
                               void *arg, uint64_t max_msg);
/* Free the wslay context, if any. */
void ws_conn_drop_parser_(struct ws_conn *c);
/* Install the connection's read/write/event callbacks on its bufferevent. */
void ws_conn_attach_(struct ws_conn *c);

#endif
