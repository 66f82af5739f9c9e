/*
 * bus_batcher: turns a publisher's node outputs into version 2 bus messages (bus_codec.h),
 * one open batch per queue topic, so that one JetStream message (and one stored entry,
 * one acknowledgement) carries many outputs under load and exactly one when the load is
 * low. A batch is handed to the send function:
 *   - at the end of the current event-loop batch: the first output of a batch makes an
 *     event active; it runs once the callbacks already due on the loop have run (so every
 *     output of a wave, and of all the data read in one go, goes together), never on a
 *     timer: a lone output waits for nothing;
 *   - at once when it holds BUS_BATCHER_OUTPUTS outputs or BUS_BATCHER_BYTES bytes, or
 *     when the next output of its topic is not its continuation (another NodeID, or a
 *     sequence that is not the next one);
 *   - on bus_batcher_flush.
 * A batch is one node's consecutive outputs: sequences first..last, Nats-Msg-Id
 * "<NodeID>:<first>-<last>" (bus_batch_msg_id); with the node's state after the last one
 * when the publisher gave it (bus_batcher_put_state: version 3).
 *
 * Loop thread only (the thread that runs 'base'); no locking.
 */
#ifndef QMTL_COMMON_BUS_BATCHER_H
#define QMTL_COMMON_BUS_BATCHER_H

#include "bus_codec.h"

#include <stddef.h>
#include <stdint.h>

#define BUS_BATCHER_OUTPUTS 1024       /* outputs in one message, at most */
#define BUS_BATCHER_BYTES (64u * 1024) /* bytes of one message before it goes (one larger
                                          output still goes alone) */

struct event_base;
struct bus_batcher;

/* Hand one finished message to the bus: 'subject' and 'msg_id' are borrowed for the
 * call, 'data' too (the message is copied or sent before returning). 'outputs' is the
 * count of outputs it holds. Returns 0, or -1 when the message was not taken (the
 * function logs and counts it: the batcher drops the batch). */
typedef int (*bus_send_fn)(void *arg, const char *subject, const char *msg_id,
                           const unsigned char *data, size_t len, uint32_t outputs);

/* A batcher whose end-of-loop-batch event lives on 'base' (borrowed; it must outlive the
 * batcher). NULL when out of memory. */
struct bus_batcher *bus_batcher_new(struct event_base *base, bus_send_fn send, void *arg);

/* Send what every open batch holds. Returns the number of messages the send function
 * refused (0: all went). */
int bus_batcher_flush(struct bus_batcher *b);

/* Forget open batches without sending them (call bus_batcher_flush first to send them);
 * NULL is a no-op. */
void bus_batcher_free(struct bus_batcher *b);

/*
 * Add output 'seq' (bucket 'ts', value 'v') of node 'node_id' to the batch of 'topic'.
 * 0, or -1 with err when the topic gives no subject, the NodeID or the value cannot be
 * encoded, or memory runs out (nothing was added then). Sending happens later (see
 * above); a send that fails is the send function's to report.
 */
int bus_batcher_put(struct bus_batcher *b, const char *topic, const char *node_id, int64_t ts,
                    uint64_t seq, const struct qmtl_value *v, char *err, size_t errlen);

/* bus_batcher_put with the node's state after this output ('state_len' bytes, copied;
 * NULL or 0: none). When the batch goes, the state given with its last output (if any)
 * closes it (format version 3, bus_batch_set_state); a state over BUS_STATE_MAX is
 * refused (-1 with err, nothing added). */
int bus_batcher_put_state(struct bus_batcher *b, const char *topic, const char *node_id,
                          int64_t ts, uint64_t seq, const struct qmtl_value *v, const void *state,
                          size_t state_len, char *err, size_t errlen);

#endif
