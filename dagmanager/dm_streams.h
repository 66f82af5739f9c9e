/*
 * dm_streams: the JetStream streams of a diff's queues, made sure of together. A stream
 * with more than one replica takes a leader election in the cluster to create (a few
 * hundred milliseconds each on loopback): the streams of one diff are checked and created
 * in parallel, one thread per queue (at most DM_STREAMS_PARALLEL at a time), so a diff
 * waits about as long as its slowest stream, not their sum.
 *
 * Blocking: returns when every stream is there (or failed). The threads only call
 * bus_conn_ensure_stream, which is safe from any thread.
 */
#ifndef QMTL_DAGMANAGER_DM_STREAMS_H
#define QMTL_DAGMANAGER_DM_STREAMS_H

#include <stddef.h>
#include <stdint.h>

struct bus_conn;

#define DM_STREAMS_PARALLEL 16

/* bus_conn_ensure_stream for each of the n 'topics' (borrowed) with retention 'max_age_s'.
 * Each stream created is logged and counted in *created. 0, or -1 with the first failure
 * (in the order of 'topics') in err; the other streams are still made sure of. */
int dm_streams_ensure(struct bus_conn *bus, const char *const *topics, size_t n, int64_t max_age_s,
                      unsigned long *created, char *err, size_t errlen);

#endif
