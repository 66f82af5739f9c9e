/*
 * live_in: live data into a running host (docs/data.md, "Live inputs").
 *
 * A set of inputs on the host's event loop, each one a data source spec:
 *   tcp:HOST:PORT   listen on TCP (HOST a name or an address; PORT 0 = any free port)
 *   unix:PATH       listen on a Unix-domain stream socket (created owner-only; a stale
 *                   socket file left by a dead host is replaced, any other file refused)
 *   -  or  stdin    read standard input
 * Every publisher connected to a listener, and standard input, sends line-delimited JSON
 * bars or ticks (host/data/linejson.h); any number of publishers at once. And
 *   follow:PATH     a CSV file (host/data/csv.h format) read from its start and then followed
 *                   as it grows (host/data/live_follow.h), tagged with the source's tags.
 *   nats://HOST:PORT/SUBJECT  line-JSON messages of a core NATS subject
 *                   (host/data/live_nats.h); tags optional (a line without tags gets them).
 *
 * Each item goes to the sink (by default: fed to the host along the route of its tags,
 * host/dag/route.h, resolved once per distinct tag set, at most LIVE_MAX_TAG_SETS), then counts in the
 * host's metrics under the source's name (host/online/metrics.h). A bad line (malformed, refused
 * by host/data/datacheck.h, longer than LIVE_LINE_MAX) is counted and logged as
 *   live input tcp:127.0.0.1:9100: publisher 127.0.0.1:50312 line 17: no close (line skipped)
 * (at most LIVE_LOG_PER_S lines per second per source; the rest are counted and summed up
 * in one line); the host keeps running.
 *
 * Back-pressure, never unbounded buffering: each connection has one buffer of
 * LIVE_LINE_MAX + 1 bytes and is read only while that buffer has room; lines are handed
 * to the sink at most LIVE_BATCH per connection per loop turn, so publishers take turns
 * and timers and the monitoring endpoint still run. A publisher faster than the host
 * fills the kernel's socket buffer and blocks in write(). live_in_set_behind() and the hold
 * hook (live_in_set_hold) stop reading and delivering on every input while the host is
 * behind.
 * At most LIVE_MAX_CONNS publishers per listener; more are closed at once (logged).
 *
 * Single-threaded: everything runs on 'base'.
 */
#ifndef QMTL_HOST_LIVE_IN_H
#define QMTL_HOST_LIVE_IN_H

#include <stddef.h>
#include <stdint.h>

#include <qmtl/qmtl.h>

#define LIVE_LINE_MAX 65536 /* longest line, bytes (the newline not counted) */
#define LIVE_BATCH 1024     /* lines per connection per loop turn */
#define LIVE_MAX_CONNS 256  /* publishers per listener */
#define LIVE_LOG_PER_S 10   /* bad lines logged per source per second */
#define LIVE_MAX_TAG_SETS 4096 /* distinct tag sets the inputs may route (then refused) */
#define LIVE_HOLD_POLL_MS 10   /* while the hold hook says busy, looked at this often */

struct event_base;
struct host;
struct live_in;

/* One item as the sink gets it. Pointers are borrowed for the call. */
struct live_item {
    const char *const *tags; /* NULL-terminated */
    size_t n_tags;
    int64_t ts;    /* seconds since the epoch */
    int64_t ts_ms; /* the same in milliseconds (lag) */
    struct qmtl_bar bar;
    int is_bar; /* 0: a price tick (the value is bar.close) */
};

/* Where items go: 0, or -1 to refuse the item (counted as a bad line with 'why' set). */
typedef int (*live_sink_fn)(void *arg, const struct live_item *it, char *why, size_t whylen);

/* live_in_add() flags */
#define LIVE_ALLOW_NONPOSITIVE 0x1u /* prices <= 0 pass (host/data/datacheck.h) */

/* An empty set on 'base' feeding 'h' (borrowed; both must outlive the set). h may be NULL
 * when a sink is set before any item arrives. NULL when out of memory. */
struct live_in *live_in_new(struct event_base *base, struct host *h);

/* Replace the default sink (host_feed on the host). */
void live_in_set_sink(struct live_in *li, live_sink_fn fn, void *arg);

/* 1 when 'spec' names a live input (tcp:, unix:, -, stdin, follow:, nats://), else 0. */
int live_in_is_spec(const char *spec);

/*
 * Add an input and start it now (listen, open the file, subscribe). tags: the follow:
 * source's tags (required there; optional for nats://; socket and stdin inputs take theirs
 * from each line and refuse tags).
 * 0, or -1 with err ("live input tcp:127.0.0.1:9100: cannot listen: Address already in
 * use", "live input follow:x.csv: cannot open ...").
 */
int live_in_add(struct live_in *li, const char *spec, const char *const *tags, size_t n_tags,
                unsigned flags, char *err, size_t errlen);

/* Stop (1) or resume (0) reading and delivering on every input. */
void live_in_set_behind(struct live_in *li, int behind);

/* fn(arg, i) is called once when input i (order of addition) can deliver no more: standard
 * input reached its end. Listeners and followed files never end. */
void live_in_set_on_end(struct live_in *li, void (*fn)(void *arg, size_t input), void *arg);

/* While held(arg) returns nonzero every input is stalled as by live_in_set_behind(), and
 * held() is asked again every LIVE_HOLD_POLL_MS (qmtl run: the loop's hold, orders in
 * flight). It is asked before each batch. */
void live_in_set_hold(struct live_in *li, int (*held)(void *arg), void *arg);

/* The port a tcp: input listens on (the chosen one for port 0), by order of addition
 * among all inputs; -1 when input i is not tcp:. */
int live_in_port(const struct live_in *li, size_t i);

/* Inputs added. */
size_t live_in_count(const struct live_in *li);

/* Bytes held in connection buffers now, over every connection (tests, health). */
size_t live_in_buffered(const struct live_in *li);

/* Close every input (a unix: socket file it created is removed) and free. NULL: no-op. */
void live_in_free(struct live_in *li);

/* ---- for the input kinds' own files (live_follow.c) ---- */

/* Per-source bad-line logging state. */
struct live_src_log {
    const char *name; /* the source's spec (borrowed) */
    long metric;      /* index in h->metrics (or -1) */
    double window;    /* start of the current one-second window (monotonic) */
    long logged, suppressed;
};

/* Deliver one item of source 'log' to the sink and count it. 0, or -1 (counted bad). */
int live_in_deliver_(struct live_in *li, struct live_src_log *log, const char *who, long line,
                     const struct live_item *it);
/* Count and (rate-limited) log one bad line: "live input NAME: WHO line N: WHY" (who ""
 * for a file: "live input NAME: line N: WHY"). */
void live_in_bad_line_(struct live_in *li, struct live_src_log *log, const char *who, long line,
                       const char *why);
/* Read the wall clock once for the batch about to be delivered (the lag metric). */
void live_in_stamp_(struct live_in *li);
int live_in_behind_(const struct live_in *li);
/* Ask the hold hook before a batch: 1 when the inputs are stalled (hook or behind). */
int live_in_hold_check_(struct live_in *li);
struct host *live_in_host_(const struct live_in *li);
struct event_base *live_in_base_(const struct live_in *li);

#endif
