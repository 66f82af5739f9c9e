/*
 * live_nats: market data from a NATS subject ('nats://HOST:PORT/SUBJECT' inputs,
 * host/data/live_in.h; docs/data.md "Market data from NATS").
 *
 * A core NATS subscription (no JetStream) on one subject: every message holds one or more
 * lines of the live line-JSON format (host/data/linejson.h, one bar or tick per line,
 * separated by newlines). The spec:
 *
 *     nats://HOST:PORT/SUBJECT          every line names its tags
 *     TAGS=nats://HOST:PORT/SUBJECT     the input's tags: a line without "tags" gets them,
 *                                       a line with other tags is refused
 *
 * SUBJECT: tokens of [A-Za-z0-9_-] separated by dots ("md.BTC.1m"); the wildcards '*' and
 * '>' are refused (one input, one subject). No user or password in the URL (it is the
 * input's name in logs and metrics).
 *
 * "...SUBJECT?stream=S&durable=D": through JetStream instead, when stream S captures the
 * subject: the durable consumer D (created when missing: from the stream's first message,
 * at most LIVE_NATS_QUEUE messages not acknowledged, each redelivered after 5 minutes
 * without acknowledgement), each message acknowledged once its lines are delivered; a
 * restarted host resumes after the last one, and nothing is dropped while it is behind.
 *
 * Threads: libnats reads the socket on its own threads; each message is handed to the
 * loop through a pipe (at most LIVE_NATS_QUEUE messages waiting there). Lines are parsed
 * and delivered on the loop thread only, at most LIVE_BATCH lines per loop turn.
 *
 * Back-pressure (core NATS): a publisher cannot be slowed down. While the host is behind (the
 * hold hook, live_in_set_behind) messages wait, first in the hand-off queue, then in the
 * client's own buffer (LIVE_NATS_PENDING_MSGS messages or LIVE_NATS_PENDING_BYTES); beyond
 * that the client drops them (a "slow consumer"): counted in the source's 'dropped'
 * metric and logged. Bad lines are counted and logged as
 *     live input nats://127.0.0.1:4222/md.BTC.1m: subject md.BTC.1m message 17 line 2: ...
 * Losing the server is logged; the client reconnects on its own (every 250 ms, forever),
 * each reconnection counted in 'reconnects'; 'connections' is 1 while connected.
 */
#ifndef QMTL_HOST_LIVE_NATS_H
#define QMTL_HOST_LIVE_NATS_H

#include <nats/nats.h>
#include <stddef.h>

#include "host/data/live_in.h"

#define LIVE_NATS_QUEUE 1024               /* messages handed to the loop, not yet read */
#define LIVE_NATS_PENDING_MSGS 65536       /* then buffered by the client, at most */
#define LIVE_NATS_PENDING_BYTES (64 << 20) /* ... and this many bytes */
#define LIVE_NATS_MSG_MAX (1 << 20)        /* longest message (NATS' default max_payload) */
#define LIVE_NATS_SUBJECT_MAX 256

struct live_nats;

/* 1 when 'spec' starts with "nats://". */
int live_nats_is_spec(const char *spec);

#define LIVE_NATS_NAME_MAX 64 /* a stream or durable name, with its NUL */

/* A spec taken apart. */
struct live_nats_spec {
    char url[512];                       /* "nats://HOST:PORT" */
    char subject[LIVE_NATS_SUBJECT_MAX]; /* "md.BTC.1m" */
    char stream[LIVE_NATS_NAME_MAX];     /* ?stream=NAME ("" = core NATS) */
    char durable[LIVE_NATS_NAME_MAX];    /* ?durable=NAME (set with stream) */
};

/* Take "nats://HOST:PORT/SUBJECT[?stream=S&durable=D]" apart. 0, or -1 with err
 * ("SPEC: expected nats://HOST:PORT/SUBJECT", ...). */
int live_nats_parse(const char *spec, struct live_nats_spec *sp, char *err, size_t errlen);

/* Connect (2 s at most), subscribe and start delivering on li's loop. 'name' is the
 * source's spec (copied), tags (may be 0) are copied. NULL with err set ("live input
 * nats://...: cannot connect to nats://127.0.0.1:4222: ..."). */
struct live_nats *live_nats_new(struct live_in *li, const char *name, const char *spec,
                                const char *const *tags, size_t n_tags, unsigned flags, char *err,
                                size_t errlen);

/* Deliver again now (after the host stopped being behind). */
void live_nats_kick(struct live_nats *n);

/* Unsubscribe, close the connection, free (messages not delivered yet are lost: core
 * NATS keeps nothing). NULL is a no-op. */
void live_nats_free(struct live_nats *n);

/* ---- for live_nats_pub.c (the same connection options and error text) ---- */

/* Options of a connection to 'url' named conn_name: 2 s to connect, reconnecting every
 * 250 ms forever. */
natsStatus live_nats_options_(natsOptions **o, const char *url, const char *conn_name);
/* "live input NAME: WHAT: status (detail)" (input 0: "NAME: WHAT: ..."). -1. */
int live_nats_fail_(char *err, size_t errlen, int input, const char *name, const char *what,
                    natsStatus s);

#endif
