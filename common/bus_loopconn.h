/*
 * bus_loopconn: a NATS connection whose socket the process's event loop reads and writes
 * (libnats' external event-loop mode), so that a message from the server reaches the code
 * that handles it on the loop thread without passing through the library's reader thread
 * and a subscription's delivery thread (each hand-over between threads is one more
 * wake-up, and the bus latency's tail is made of slow wake-ups: docs/scale-out.md).
 *
 * Use: synchronous (core) subscriptions on bus_loopconn_nc(); after every read from the
 * socket, 'on_read' runs on the loop thread and drains them (natsSubscription_GetPending,
 * natsSubscription_NextMsg). Publishing on it from the loop thread is fine (what is
 * written leaves on the loop's next write event). Never make a request that waits for an
 * answer (natsConnection_Flush, js_* management, key-value calls) on the loop thread: the
 * answer is read by the loop itself, which is waiting. Use another connection for those.
 *
 * Threads: created on, used from and freed on the thread that runs 'base'. The library's
 * own threads (PINGs, reconnection) may ask for read/write interest or attach a new socket;
 * those requests are handed to the loop through a pipe (libevent is not built with locking).
 * A lost connection reconnects on its own (subscriptions are sent again).
 */
#ifndef QMTL_COMMON_BUS_LOOPCONN_H
#define QMTL_COMMON_BUS_LOOPCONN_H

#include <nats/nats.h>

#include <stddef.h>

struct event_base;
struct bus_loopconn;

typedef void (*bus_loopconn_read_fn)(void *arg);

/* The options of every bus connection (this one and bus_nats' own): 'url', 'name', at most
 * 'timeout_ms' (2000 when <= 0) for the first connection, reconnecting forever every
 * 250 ms, writes sent by the writing thread at once (SendAsap). The caller destroys *o
 * (NULL or made) whatever the result. */
natsStatus bus_options_new(natsOptions **o, const char *url, const char *name, int timeout_ms);

/* Connect to 'url' (as bus_conn_new: comma-separated servers, 'timeout_ms' for the first
 * connection, reconnects forever), its socket on 'base' (borrowed: it must outlive the
 * connection). 'on_read(arg)' runs on the loop after each read. NULL with err on failure. */
struct bus_loopconn *bus_loopconn_new(struct event_base *base, const char *url, const char *name,
                                      int timeout_ms, bus_loopconn_read_fn on_read, void *arg,
                                      char *err, size_t errlen);

/* The connection (owned by lc). */
natsConnection *bus_loopconn_nc(struct bus_loopconn *lc);

/* Write what is buffered now instead of at the loop's next write event (loop thread). */
void bus_loopconn_send(struct bus_loopconn *lc);

/* Write what is buffered (acknowledgements, unsubscriptions), close, free. NULL is a no-op.
 * Destroy the subscriptions made on the connection first. */
void bus_loopconn_free(struct bus_loopconn *lc);

#endif
