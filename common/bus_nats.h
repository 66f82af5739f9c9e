/*
 * bus_nats: one NATS JetStream connection of a qmtl process (host or DAG manager), with
 * what they need of it: check or create a queue's stream, publish node outputs (batched:
 * bus_batcher.h, version 2 of the bus_codec format, Nats-Msg-Id "<NodeID>:<first>-<last>"),
 * consume a queue through a durable consumer. Every name derives from the queue's topic
 * (bus_codec.h).
 *
 * Threads and connections: two NATS connections. Requests (streams, consumers, leases,
 * reports) and publishes use one whose socket the C client (libnats) reads on a thread of
 * its own; a publish leaves from the calling thread at once (SendAsap). Deliveries come on
 * a second one, opened by the first bus_conn_consume, whose socket the process's event
 * loop reads itself (bus_loopconn.h): a message goes from the socket to the consumer
 * callback on the thread that runs 'base' with no hand-over between threads, never
 * concurrently with the rest of the process. Each consumer is a plain subscription on its
 * durable consumer's delivery subject on that connection.
 *
 * Publishing is asynchronous with a bounded window: at most 1024 messages in flight
 * (sent, not yet acknowledged by the stream); a publish beyond it waits up to 1 s for room,
 * then the batch is dropped, logged and counted in publish_errors.
 *
 * Delivery is at-least-once: the consumers acknowledge all (AckAll), once per read of the
 * delivery connection, on the last message delivered, after the callbacks of every output
 * before it returned (at most 64 messages delivered and not acknowledged; a durable
 * consumer made with explicit acks by an earlier build is kept and each of its messages
 * acknowledged); what the process never acknowledged (it died) comes again to the same
 * durable consumer. Consumers drop duplicates with the per-node sequence.
 *
 * Errors: functions return 0 or -1 with one line in 'err' (what failed, the server's
 * reason when there is one).
 */
#ifndef QMTL_COMMON_BUS_NATS_H
#define QMTL_COMMON_BUS_NATS_H

#include "bus_codec.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bus_conn;

/* 0 when 'url' names NATS servers ("nats://" or "tls://" URLs, comma-separated); else -1
 * with "<key>: ..." in err. */
int bus_url_check(const char *key, const char *url, char *err, size_t errlen);

/* Connect to 'url' ("nats://HOST:PORT"; several separated by commas), waiting at most
 * 'timeout_ms' for the first connection; later losses reconnect on their own. 'name' is
 * the connection name the server shows. Borrows 'base' (it must outlive the connection).
 * NULL with err on failure. */
struct bus_conn *bus_conn_new(struct event_base *base, const char *url, const char *name,
                              int timeout_ms, char *err, size_t errlen);

/* Send the open batches, wait (at most 2 s) for publishes still unacknowledged,
 * unsubscribe, close. NULL is a no-op. Consumer callbacks never run after this returns. */
void bus_conn_free(struct bus_conn *c);

/* Make sure the stream of 'topic' exists: created with a file store, the topic's subject,
 * limits retention of 'max_age_s' seconds (0 = unlimited) and a 2-minute duplicate window
 * when missing; checked (same subject) when present. *created (may be NULL) says which. */
int bus_conn_ensure_stream(struct bus_conn *c, const char *topic, int64_t max_age_s, int *created,
                           char *err, size_t errlen);

/* Publish output 'seq' of node 'node_id' to the stream of 'topic': added to the topic's
 * open batch, which goes at the end of the current loop batch, when full, or before an
 * output that does not continue it (bus_batcher.h); its acknowledgement is awaited in the
 * background (a failed one is counted and logged). Loop thread only. -1 when the topic or
 * the value cannot be encoded (nothing is published then). */
int bus_conn_publish(struct bus_conn *c, const char *topic, const char *node_id, int64_t ts,
                     uint64_t seq, const struct qmtl_value *v, char *err, size_t errlen);

/* The last output stored in the stream of 'topic' (the last of its last message): its
 * bucket timestamp and sequence
 * (how a restarted publisher continues). 0 with *ts / *seq, 1 when the stream holds none,
 * -1 with err (a message that does not decode is an error too). */
int bus_conn_last_output(struct bus_conn *c, const char *topic, int64_t *ts, uint64_t *seq,
                         char *err, size_t errlen);

/* Send the open batches, then wait at most 'timeout_ms' for every publish so far to be
 * acknowledged. 0, or -1 (err). */
int bus_conn_flush(struct bus_conn *c, int timeout_ms, char *err, size_t errlen);

/*
 * Called on the loop thread for every output of a consumed queue, in order (a message
 * holds one or a batch of them). 'm' is borrowed for the call (a JSON value points into
 * the message). A message that does not decode entirely is logged (naming the field) and
 * acknowledged without a call for any of its outputs: it can never decode.
 */
typedef void (*bus_msg_fn)(void *arg, const struct bus_msg *m);

/* Consume the stream of 'topic' through the durable consumer 'durable' (created when
 * missing, delivering from the stream's first message; an existing one resumes after the
 * last acknowledged message). 'durable' uses [A-Za-z0-9_-] only. On the loop thread only.
 * When it returns 0 the server shows the consumer bound (in use); -1 when another
 * subscription reads that consumer already, or it did not become bound within the
 * connection timeout. */
int bus_conn_consume(struct bus_conn *c, const char *topic, const char *durable, bus_msg_fn fn,
                     void *arg, char *err, size_t errlen);

/*
 * What the stream of 'topic' holds and who reads it, for the DAG manager's reports:
 *   {"stream", "messages", "bytes", "first_seq", "last_seq", "last_ts",
 *    "consumers": [{"name", "delivered", "acknowledged", "lag", "ack_pending",
 *                   "redelivered", "active"}]}
 * (delivered / acknowledged: stream sequences; lag: messages not yet delivered; last_ts:
 * when the newest message was stored, epoch seconds, 0 when the stream holds none;
 * active: a process is subscribed to that consumer now).
 * 0 with *out a new reference, 1 when the stream does not exist (*out NULL), -1 with err.
 * Blocks for one JetStream request per call (at most the connection timeout).
 */
int bus_conn_queue_report(struct bus_conn *c, const char *topic, json_t **out, char *err,
                          size_t errlen);

/*
 * Leases: who computes a shared node. One key-value bucket, QMTL_LEASES (created when
 * missing), whose entries expire 'ttl_ms' after their last write; the key is the node's
 * queue topic, the value the holder's name. bus_conn_lease_open binds (once per
 * connection) before the other two.
 */
int bus_conn_lease_open(struct bus_conn *c, int ttl_ms, char *err, size_t errlen);
/* Take 'key' for 'holder' if nobody holds it (or 'holder' already does): 1 taken (*rev
 * is the entry's revision), 0 held by another, -1 error (err). */
int bus_conn_lease_take(struct bus_conn *c, const char *key, const char *holder, uint64_t *rev,
                        char *err, size_t errlen);
/* Renew a lease taken at revision *rev: 1 renewed (*rev updated), 0 lost (it expired and
 * someone else took it, or it changed), -1 error. */
int bus_conn_lease_renew(struct bus_conn *c, const char *key, const char *holder, uint64_t *rev,
                         char *err, size_t errlen);

/* Give a lease up (delete the entry) if 'holder' holds it, so another host takes it at
 * once instead of after the TTL. Errors are ignored: the entry expires anyway. */
void bus_conn_lease_release(struct bus_conn *c, const char *key, const char *holder);

/* Who holds the lease 'key' now, without taking it: 1 with the holder's name in 'holder'
 * (truncated to len), 0 nobody (or no bucket yet: it is never created here), -1 error
 * (err). Works with or without bus_conn_lease_open. */
int bus_conn_lease_holder(struct bus_conn *c, const char *key, char *holder, size_t len,
                          char *err, size_t errlen);

/* Delete the stream of 'topic' (its messages and consumers go with it): 0 deleted, 1 there
 * was none, -1 with err. */
int bus_conn_delete_stream(struct bus_conn *c, const char *topic, char *err, size_t errlen);

/* Stop the subscriptions whose callback argument is 'arg' (bus_conn_consume): no
 * callback of theirs runs after this returns (outputs already delivered and not yet
 * handed over are dropped); their durable consumers stay on the server with their place
 * (bus_conn_delete_consumer removes one). Loop thread only. The number stopped. */
int bus_conn_cancel(struct bus_conn *c, void *arg);

/* Delete the durable consumer 'durable' of the stream of 'topic': 0 deleted, 1 there was
 * none, -1 with err. One JetStream request (any thread; blocks up to the request
 * timeout). */
int bus_conn_delete_consumer(struct bus_conn *c, const char *topic, const char *durable,
                             char *err, size_t errlen);

/* Counters (any thread): outputs handed to the stream, outputs whose publish failed (not
 * sent, or not acknowledged), outputs delivered to callbacks, messages refused by the
 * decoder. */
struct bus_conn_stats {
    uint64_t published, publish_errors, delivered, refused;
};
void bus_conn_stats(const struct bus_conn *c, struct bus_conn_stats *out);

#endif
