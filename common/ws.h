/*
 * ws: RFC 6455 WebSocket connections over a libevent bufferevent, server and client side.
 *
 * Frames are encoded and decoded by wslay (an I/O-free library); this module drives it from
 * the bufferevent callbacks, does the opening handshake (Sec-WebSocket-Accept =
 * base64(SHA-1(key + GUID)) with libcrypto), client masking, the closing handshake with a
 * timeout, and the message size limit (close 1009). Everything runs on the bufferevent's
 * event loop thread; nothing here is thread-safe. The process must ignore SIGPIPE (a peer
 * that vanished makes a write fail with EPIPE instead).
 *
 * Ownership: a struct ws_conn owns its transport (the bufferevent, or the evhttp connection
 * it was taken from) and frees itself after calling on_close exactly once. Handlers may call
 * any ws_conn_* function on the connection they are called for, including ws_conn_close;
 * the memory stays valid until the handler returns. Outside handlers, a connection pointer
 * is valid until its on_close has been called.
 */
#ifndef QMTL_COMMON_WS_H
#define QMTL_COMMON_WS_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct event_base;
struct evhttp_request;

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1 digest */
#define WS_KEY_LEN 24    /* base64 of 16 random bytes */
#define WS_MAX_HEADERS 64
#define WS_MAX_HEAD_BYTES 16384

/* Close codes used by qmtl (RFC 6455 section 7.4.1). */
enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_NO_STATUS = 1005,
    WS_CLOSE_ABNORMAL = 1006, /* never sent: reported when the TCP connection just ended */
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011,
};

/* ------------------------------------------------------------ handshake helpers (pure) */

/* Sec-WebSocket-Accept for a client key. 0, or -1 when libcrypto fails. */
int ws_accept_for_key(const char *key, char out[WS_ACCEPT_LEN + 1]);
/* 1 when 'key' is the base64 encoding of exactly 16 bytes (RFC 6455 4.2.1 item 5). */
int ws_key_valid(const char *key);
/* A fresh random client key. 0, or -1 when the random source fails. */
int ws_make_client_key(char out[WS_KEY_LEN + 1]);
/* 1 when the comma-separated header value contains 'token' (case-insensitive, OWS trimmed). */
int ws_header_has_token(const char *value, const char *token);

/* A parsed HTTP/1.x message head (request line or status line plus header fields). */
struct ws_http_head {
    int is_response;
    char method[16];        /* request: method */
    const char *target;     /* request: request-target (points into buf) */
    int status;             /* response: status code */
    int minor;              /* HTTP/1.<minor> */
    size_t n_headers;
    struct {
        const char *name;   /* points into buf */
        const char *value;  /* trimmed; points into buf */
    } headers[WS_MAX_HEADERS];
    char *buf;              /* owned copy of the head */
};

/*
 * Parse an HTTP/1.x head from data[0..len). Returns the number of bytes the head used
 * (through the blank line), 0 when more bytes are needed, or -1 with a message in err when
 * the head is malformed, has more than WS_MAX_HEADERS fields or exceeds max_len bytes.
 * On success 'out' must be released with ws_http_head_release; on 0 or -1 it holds nothing.
 */
long ws_http_parse_head(const char *data, size_t len, int is_response, size_t max_len,
                        struct ws_http_head *out, char *err, size_t errlen);
/* First value of header 'name' (case-insensitive) or NULL. */
const char *ws_http_head_get(const struct ws_http_head *h, const char *name);
void ws_http_head_release(struct ws_http_head *h);

/* Look up a request header by name; returns NULL when absent. */
typedef const char *(*ws_header_get_fn)(void *arg, const char *name);

/*
 * Check that a request is a valid WebSocket opening handshake (GET, Host, Upgrade: websocket,
 * Connection: upgrade, Sec-WebSocket-Version: 13, a valid Sec-WebSocket-Key). On success
 * returns 0 and the accept value. On failure returns -1, the HTTP status to answer with in
 * *status (400, 405, or 426 for a wrong version; answer 426 with "Sec-WebSocket-Version: 13")
 * and a message in err.
 */
int ws_upgrade_check(const char *method, ws_header_get_fn get, void *arg,
                     char accept[WS_ACCEPT_LEN + 1], int *status, char *err, size_t errlen);

/*
 * Parse a raw request head and check it as an upgrade. Returns the bytes used (> 0) with
 * the accept value and the request target copied into target (truncated to targetlen), 0 when
 * incomplete, or -1 with *status and err.
 */
long ws_upgrade_parse_request(const char *data, size_t len, char accept[WS_ACCEPT_LEN + 1],
                              char *target, size_t targetlen, int *status, char *err,
                              size_t errlen);

/* Client side: check a server's response head against the key we sent. 0 or -1 with err. */
int ws_client_check_response(const struct ws_http_head *h, const char *key, char *err,
                             size_t errlen);

/*
 * Split "ws://host[:port][/path][?query]" (also http://). IPv6 literals in brackets.
 * Port defaults to 80. 0, or -1 with err (wss:// is refused: no TLS support).
 */
int ws_url_parse(const char *url, char *host, size_t hostlen, int *port, char *path,
                 size_t pathlen, char *err, size_t errlen);

/* ------------------------------------------------------------ connections */

struct ws_conn;

struct ws_handlers {
    /* Client only: the opening handshake succeeded. May be NULL. */
    void (*on_open)(struct ws_conn *c, void *arg);
    /* A complete text (binary == 0) or binary message. 'msg' is valid during the call. */
    void (*on_message)(struct ws_conn *c, int binary, const unsigned char *msg, size_t len,
                       void *arg);
    /* A pong arrived. May be NULL. */
    void (*on_pong)(struct ws_conn *c, void *arg);
    /* The output buffer was fully flushed to the socket. May be NULL. */
    void (*on_drain)(struct ws_conn *c, void *arg);
    /*
     * Last call: the connection is over. 'code' is the peer's close code, the code we sent
     * if the peer never answered, or WS_CLOSE_ABNORMAL when the transport just ended (or the
     * client handshake failed: see ws_conn_http_status). c is freed after this returns.
     */
    void (*on_close)(struct ws_conn *c, int code, void *arg);
};

/*
 * Take over the connection of an evhttp request that ws_upgrade_check accepted: the 101
 * response is written, libevent's HTTP callbacks and timeouts are detached from the
 * bufferevent, and the evhttp connection (and request) become owned by the returned
 * connection, which frees them with evhttp_connection_free when it ends. The caller must
 * not reply to 'req'. If the evhttp server is freed first, the connection ends with
 * on_close(WS_CLOSE_ABNORMAL) without touching the freed transport.
 * 'max_msg' bounds incoming messages (0 = 1 MiB); larger ones close with 1009.
 * NULL on failure (then the request is still the caller's to answer).
 */
struct ws_conn *ws_conn_accept_evhttp(struct evhttp_request *req, const char *accept,
                                      const struct ws_handlers *h, void *arg, uint64_t max_msg);

/*
 * Server side over a plain bufferevent whose request head was already consumed (tests,
 * custom listeners): writes the 101 response. The bufferevent is freed with the connection.
 */
struct ws_conn *ws_conn_accept_bev(struct bufferevent *bev, const char *accept,
                                   const struct ws_handlers *h, void *arg, uint64_t max_msg);

/*
 * Client side: connect to host:port (numeric or resolved with getaddrinfo, blocking), send
 * the opening handshake for 'path' (path and query) with optional 'extra_headers' (each line
 * ending in "\r\n"), verify the answer, then call on_open. Failures are reported through
 * on_close(WS_CLOSE_ABNORMAL), never synchronously, except a NULL return with err when the
 * connection cannot even be started (bad address, out of memory).
 */
struct ws_conn *ws_client_connect(struct event_base *base, const char *host, int port,
                                  const char *path, const char *extra_headers,
                                  const struct ws_handlers *h, void *arg, uint64_t max_msg,
                                  char *err, size_t errlen);

/* Same from a URL "ws://host:port/path?query" (see ws_url_parse), e.g. the stream_url of
 * POST /events/subscribe. */
struct ws_conn *ws_client_connect_url(struct event_base *base, const char *url,
                                      const char *extra_headers, const struct ws_handlers *h,
                                      void *arg, uint64_t max_msg, char *err, size_t errlen);

/* Queue a text message. 0, or -1 when the connection is not open. */
int ws_conn_send_text(struct ws_conn *c, const char *data, size_t len);
/* Queue a ping with an optional payload (<= 125 bytes). 0 or -1. */
int ws_conn_ping(struct ws_conn *c, const void *data, size_t len);
/*
 * Start the closing handshake with 'code' and a reason (<= 123 bytes, may be NULL). The peer
 * has 'timeout_ms' (0 = 2000) to answer before the transport is dropped. Idempotent.
 */
void ws_conn_close(struct ws_conn *c, uint16_t code, const char *reason, int timeout_ms);
/*
 * Free the connection now without calling on_close: a close frame with 'code' is attempted
 * with one non-blocking write. Must not be called from inside this connection's handlers.
 */
void ws_conn_abort(struct ws_conn *c, uint16_t code);

/*
 * A server text frame encoded once and shared by many connections (fan-out). Reference
 * counted; ws_frame_unref after handing it to every connection.
 */
struct ws_frame;
struct ws_frame *ws_frame_text(const char *data, size_t len);
void ws_frame_unref(struct ws_frame *f);
size_t ws_frame_len(const struct ws_frame *f);
/* Queue a shared frame without copying it. Server connections only. 0 or -1. */
int ws_conn_send_frame(struct ws_conn *c, struct ws_frame *f);

/* Bytes waiting in the output buffer (not yet accepted by the kernel). */
size_t ws_conn_outbuf_len(const struct ws_conn *c);
/* 1 while the connection is open (handshake done, no close started). */
int ws_conn_is_open(const struct ws_conn *c);
/* Client: the HTTP status of a refused handshake (0 if none was received). */
int ws_conn_http_status(const struct ws_conn *c);
/* Monotonic milliseconds of the last bytes received. */
int64_t ws_conn_last_rx_ms(const struct ws_conn *c);
/* Peer address as text ("127.0.0.1:50000"), or "" when unknown. */
const char *ws_conn_peer(const struct ws_conn *c);
/* wslay parser contexts currently allocated (server connections hold one only while
 * parsing frames or closing; clients always). For tests and metrics. */
long ws_parsers_alive(void);
/* Monotonic clock in milliseconds (the same clock as ws_conn_last_rx_ms). */
int64_t ws_now_ms(void);

#endif
