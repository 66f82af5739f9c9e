/*
 * bus_retry: node outputs published again, in order, when their stream could not store
 * them for a while (bus_nats.h). In a NATS cluster a stream whose leader's server dies has
 * no leader for a few seconds: every publish to it fails ("no responders", or no answer).
 * Dropping them would leave a gap in the node's queue, so such a message is kept and sent
 * again (every RETRY_EVERY_MS, on the loop) until the stream stores it.
 *
 * Order: every message names the one the stream must hold last before it (JetStream's
 * Nats-Expected-Last-Msg-Id: the previous message published to the same subject, "the
 * chain"). A message sent while an earlier one is still waiting to be sent again is
 * refused by the stream ("wrong last msg ID") and kept in turn, so the stream stores them
 * in their order whatever the timing. (Refused that way while nothing before it is on its
 * way, it is sent again without the expectation: the stream's last message is another
 * writer's, or one the stream forgot on a restart.) A message stored twice (its answer was lost) is
 * dropped by the stream's duplicate window (Nats-Msg-Id). A publisher that starts on a
 * subject (a start, a takeover) sets the chain from the stream's last message
 * (bus_retry_set_last).
 *
 * Bounds: a message not stored RETRY_FOR_MS after its first failure (a stream without a
 * quorum for that long, or a publisher fenced off by another one), or waiting beyond
 * RETRY_MAX messages, is given up with every later message of its subject (they could
 * not be stored in order): each is counted through 'lost', and the subject's chain
 * restarts (the next publish expects nothing).
 *
 * Threads: bus_retry_take runs on the C client's threads (the publish error handler),
 * bus_retry_set_last on any thread; the rest on the loop thread that runs 'base'.
 */
#ifndef QMTL_COMMON_BUS_RETRY_H
#define QMTL_COMMON_BUS_RETRY_H

#include <nats/nats.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bus_retry;

#define RETRY_EVERY_MS 100
#define RETRY_FOR_MS 30000
#define RETRY_MAX 4096

/* Called (on any thread) for a message given up ('m' borrowed, destroyed after). */
typedef void (*bus_retry_lost_fn)(void *arg, natsMsg *m, const char *why);

/* A retrier sending through 'js' on 'base' (both borrowed; they outlive it). NULL when out
 * of memory. */
struct bus_retry *bus_retry_new(struct event_base *base, jsCtx *js, bus_retry_lost_fn lost,
                                void *arg);

/* Destroy what still waits, each counted through 'lost'. NULL is a no-op. */
void bus_retry_free(struct bus_retry *r);

/* Loop thread, before publishing 'msg_id' to 'subject': the id the stream must hold last
 * (copied to 'prev', "" when unknown: no expectation), and 'msg_id' becomes the last. */
void bus_retry_chain(struct bus_retry *r, const char *subject, const char *msg_id, char *prev,
                     size_t len);

/* The stream of 'subject' holds 'msg_id' last ("" or NULL: nothing, or unknown). */
void bus_retry_set_last(struct bus_retry *r, const char *subject, const char *msg_id);

/* Publish error handler: 1 when the failure is temporary (no responders, no answer in
 * time, the stream's leader changing, an earlier message still waiting): the message is
 * taken (pae->Msg cleared) and will be sent again; 0 when it is not this module's. */
int bus_retry_take(struct bus_retry *r, jsPubAckErr *pae);

/* Loop thread: send what waits now, then wait until every publish is acknowledged and
 * nothing waits, or 'timeout_ms' passed. 0, or -1 when something still waits. */
int bus_retry_drain(struct bus_retry *r, int timeout_ms);

/* Messages waiting now (any thread). */
size_t bus_retry_waiting(struct bus_retry *r);

#endif
