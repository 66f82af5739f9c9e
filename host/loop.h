/*
 * loop: the one event loop of a host process (a libevent event_base).
 *
 * Everything a running host does happens in callbacks of this loop: the data pump
 * (offline replay of CSV and synthetic data, in batches), the attached control session
 * (HTTP requests, the event stream, its timers), and whatever else registers on the base
 * (network inputs, the plugins-directory watcher, a metrics server). Nothing runs in
 * parallel with anything else: a callback runs to its end before the next one starts.
 * host_feed() is synchronous (one item = one whole scheduler wave), so no callback ever
 * runs inside a wave; code that changes the DAG runs between two events by construction,
 * and loop_defer() schedules it "as soon as the current callback returns".
 *
 *     struct loop *l = loop_new(err, len);
 *     struct loop_source *s = loop_add_pull(l, "replay", pump_fn, arg);
 *     loop_on_data_end(l, finish_fn, arg);     // every source ended (or a signal)
 *     loop_on_stop(l, close_fn, busy_fn, arg);  // the loop is about to exit
 *     if (loop_run(l) < 0) ... loop_error(l)    // until stopped
 *     loop_free(l);
 *
 * Sources. A pull source (offline replay) is called repeatedly with the most items it
 * may take in one call (LOOP_BATCH, or fewer when paced); it returns LOOP_MORE, LOOP_END
 * or LOOP_FAIL (err filled). A push source (a socket, a followed file) has events of its
 * own on loop_base() and only tells the loop when it ends (loop_source_end). When every
 * source has ended, the data-end hooks run once (why = LOOP_END_DATA); then, unless the
 * loop follows (loop_follow), it stops. A loop without sources never reaches data end:
 * it runs until loop_stop() or a signal.
 *
 * Stopping. loop_stop(), SIGINT or SIGTERM (why = LOOP_END_SIGNAL), or a failing source
 * (LOOP_END_ERROR): if the data had not ended, every source is ended and the data-end
 * hooks run with that reason; then the stop hooks run once each, newest first, and the
 * loop exits as soon as no stop hook reports busy work (requests in flight, each bounded
 * by its own timeout), checked every LOOP_STOP_POLL_MS. A second SIGINT or SIGTERM while
 * stopping exits at once. SIGHUP calls the hook set with loop_on_sighup(): the signal keeps
 * its default action while no hook is set; once one is set, a SIGHUP that comes before
 * loop_run is handled when the loop runs, and one after it is ignored.
 *
 * SIGINT and SIGTERM are caught only while loop_run() runs (libevent's evsignal); one loop
 * per process handles signals at a time. Not thread-safe.
 */
#ifndef QMTL_HOST_LOOP_H
#define QMTL_HOST_LOOP_H

#include <stddef.h>

struct event_base;
struct loop;
struct loop_source;

#define LOOP_BATCH 1024      /* items a pull source may feed per call (unpaced) */
#define LOOP_PACE_TICK_MS 10 /* a paced or held pull source is looked at this often */
#define LOOP_PACE_MAX_BATCH 4096
#define LOOP_STOP_POLL_MS 10

/* pull source results */
enum { LOOP_FAIL = -1, LOOP_END = 0, LOOP_MORE = 1 };

/* why the data ended */
enum { LOOP_END_DATA = 0, LOOP_END_SIGNAL, LOOP_END_ERROR, LOOP_END_STOPPED };

/* Take 'max' items (max >= 1) and feed them: LOOP_MORE when all 'max' were taken and more
 * may follow (pacing counts on it), LOOP_END when the source ran out (after taking fewer
 * or none), LOOP_FAIL with err. */
typedef int (*loop_pull_fn)(void *arg, size_t max, char *err, size_t errlen);
typedef void (*loop_end_fn)(void *arg, int why);
typedef void (*loop_fn)(void *arg);
/* Work still in flight (nonzero): the loop waits before exiting. */
typedef int (*loop_busy_fn)(void *arg);
/* A deferred call; 'cancelled' is 1 when the loop is freed before it ran (release 'arg'). */
typedef void (*loop_deferred_fn)(void *arg, int cancelled);

/* A new loop with its own event_base. NULL with err. */
struct loop *loop_new(char *err, size_t errlen);
/* Pending deferred calls are called with cancelled = 1. Events other modules created on
 * the base must be freed before. NULL is a no-op. */
void loop_free(struct loop *l);

/* The event_base (borrowed, lives as long as the loop): add your own events to it. */
struct event_base *loop_base(const struct loop *l);

/* Register a pull source ('name' copied, for messages). NULL when out of memory. Owned by
 * the loop. Pull sources added while the loop runs start at the next turn. */
struct loop_source *loop_add_pull(struct loop *l, const char *name, loop_pull_fn pull, void *arg);
/* Register a push source: it feeds from events of its own and calls loop_source_end. */
struct loop_source *loop_add_push(struct loop *l, const char *name);
/* A push source has ended: err NULL (clean end) or the reason, which fails the run
 * (LOOP_END_ERROR). Ending an ended source is a no-op. */
void loop_source_end(struct loop_source *s, const char *err);
/* Pace a pull source: at most per_s items per second on average (0 = as fast as it can). */
void loop_source_pace(struct loop_source *s, double per_s);

/* While busy(arg) is nonzero pull sources wait (back-pressure, e.g. orders in flight). */
void loop_set_hold(struct loop *l, loop_busy_fn busy, void *arg);
/* 1 while the hold set above reports busy work (push sources, e.g. live inputs, look at
 * it to stop reading too), else 0. */
int loop_held(const struct loop *l);
/* Keep running after the data ended, until loop_stop() or a signal. */
void loop_follow(struct loop *l, int follow);
/* 1 when the loop keeps running after the data ended (loop_follow), else 0. */
int loop_following(const struct loop *l);

/* Hooks. 0, or -1 when out of memory. Data-end hooks run in registration order. */
int loop_on_data_end(struct loop *l, loop_end_fn fn, void *arg);
/* stop(arg) runs once when the loop stops; busy (optional) is polled until it returns 0. */
int loop_on_stop(struct loop *l, loop_fn stop, loop_busy_fn busy, void *arg);
/* SIGHUP -> fn(arg) on the loop, caught from this call on (NULL: default action again). */
void loop_on_sighup(struct loop *l, loop_fn fn, void *arg);

/* Run fn(arg, 0) on the loop once the current callback has returned, before the next
 * pull batch; a call made from a deferred call runs after the next batch instead (or at
 * the next turn when none is due), so a call that defers itself cannot starve the data.
 * Safe to call from any callback (not from a signal handler). 0 or -1 (out of memory). */
int loop_defer(struct loop *l, loop_deferred_fn fn, void *arg);

/*
 * Dispatch until the loop stops. 0 when the data ended (or the loop was stopped), -1 when
 * a source failed (loop_error says why) or the loop could not start (err filled). A
 * loop runs once.
 */
int loop_run(struct loop *l, char *err, size_t errlen);
/* Stop (see above). Safe from any callback; a no-op once stopping. */
void loop_stop(struct loop *l);

/* What ended the data: LOOP_END_*, or -1 while it has not ended. */
int loop_end_reason(const struct loop *l);
/* The signal that stopped the loop (SIGINT, SIGTERM), or 0. */
int loop_signal(const struct loop *l);
/* The first source error ("" when none). */
const char *loop_error(const struct loop *l);
/* 1 once stopping (stop hooks run or running). */
int loop_stopping(const struct loop *l);

#endif
