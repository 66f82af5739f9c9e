/*
 * runner: the offline host behind 'qmtl run --offline'.
 *
 * Loads every plugin of a directory (host/plugin/loader: the directory and each file must be
 * owned by this user or root and not group/world-writable; each plugin is preflighted in
 * a child process, host/plugin/preflight.h; a name declared by two files refuses both), runs each
 * setup() into one host (host_api.h), binds data sources (host/data/feed: CSV files and
 * seeded synthetic series) to stream inputs by tags (one route per source, resolved once:
 * host/dag/route.h), replays the data in full in timestamp order on the process's event loop
 * (host/loop.h: the data pump is a pull source fed in batches), and collects what the
 * report prints. A plugin that fails to load or
 * to set up, or whose compute fails during the run, is reported and stopped; the
 * others go on.
 *
 *     struct runner r;
 *     runner_init(&r, &host_options);
 *     runner_load_dir(&r, "plugins", err, len);    // -1 only when nothing can be loaded
 *     runner_add_data(&r, &source, base_dir, FEED_FAIL_ON_ERROR, err, len);
 *     runner_start(&r, err, len);                  // finalize the DAG, on_start
 *     runner_replay(&r, err, len);                 // run the loop: feed everything, on_finish
 *     ... report_*(&r, ...)
 *     runner_release(&r);
 */
#ifndef QMTL_HOST_RUNNER_H
#define QMTL_HOST_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "host/data/feed.h"
#include "host/host_api.h"
#include "host/plugin/loader.h"
#include "host/loop.h"
#include "host/plugin/preflight.h"
#include "host/report/sweep.h"

/* A live input to start on the loop (a live_in_add() spec, its tags and flags). */
struct runner_live {
    char *spec;  /* "tcp:H:P", "unix:P", "stdin", "follow:PATH" or "nats://H:P/SUBJECT" */
    char **tags; /* NULL-terminated (follow:, and nats:// given with tags) */
    size_t n_tags;
    unsigned flags; /* LIVE_* */
    int route;      /* the route of its tags (host/dag/route.h); inputs without tags: -1 */
};

struct runner {
    struct host h;
    struct plugin **plugins;
    size_t n_plugins;
    char **problems; /* one line per plugin refused at load (not a strategy) */
    size_t n_problems;
    struct feed *feed;
    struct runner_live *live; /* live inputs (host/data/live_in.h), started by live_run() */
    size_t n_live;
    struct loop *loop;         /* the process's event loop (owned) */
    struct loop_source *pump;  /* the data pump on it (runner_pump) */
    size_t n_sources;
    int *source_route;       /* per source: its route (host/dag/route.h) */
    double load_s, replay_s; /* wall time */
    uint64_t events;         /* data items replayed */
    long skipped_rows;       /* malformed CSV rows skipped */
    /* Why the replay stopped before the end of the data (a bad row with --csv-errors
     * fail, a read error...); "" when it ran to the end. Every strategy not stopped for
     * its own reason then reports the status "failed" (host/report/report.h). */
    char run_error[512];
    struct preflight_options pf; /* every plugin is preflighted (timeout_s: 5 s default) */
    /* options, set by the caller before loading / replaying */
    const struct sweep *sweep; /* borrowed; NULL = no sweep (see runner_load) */
    int64_t from, to;          /* replay only items with from <= ts <= to ... */
    int have_from, have_to;    /* ... when set */
    int progress;              /* progress line on stderr (the caller checks it is a TTY) */
    uint64_t out_of_range;     /* items outside from/to, not replayed */
    uint64_t expected;         /* items the sources hold, estimated for the progress line */
    int interrupted;           /* the signal that stopped the replay before the end, or 0 */
    uint64_t read;             /* items taken from the feed (pump) */
    double t0, shown;          /* pump: replay start, last progress line (s after t0) */
    /* asked before each plugin file is opened (NULL: all are): -1 refuses it with err
     * (recorded as a problem), e.g. quarantine_admit_hook (host/plugin/quarantine.h) */
    int (*admit)(void *arg, const char *path, char *err, size_t errlen);
    void *admit_arg;
};

int runner_init(struct runner *r, const struct host_options *opt);
void runner_release(struct runner *r);

/* Load one plugin file and set it up. 0, or -1 with the problem in err (also recorded).
 * A name already loaded refuses the newcomer; the loaded one stays. A strategy swept by r->sweep is loaded once per parameter set (a private copy of the
 * file each time) under its instance names; its own parameters are copied to each. */
int runner_load(struct runner *r, const char *path, char *err, size_t errlen);
/* Load every plugin of 'dir'. Returns the number set up; -1 when the directory cannot be
 * read or others could write to it (err names the chmod/chown to run). */
int runner_load_dir(struct runner *r, const char *dir, char *err, size_t errlen);

/* Add a data source (CSV path, resolved against base_dir when relative, or synthetic).
 * flags: FEED_* (host/data/feed.h) for every source; the source's own sort and
 * allow_nonpositive_prices keys add FEED_SORT and FEED_ALLOW_NONPOSITIVE. A live input
 * (ds->live) or a followed CSV (ds->follow) is only recorded in r->live: live_run()
 * starts it on the loop (runner_replay() cannot run those). */
int runner_add_data(struct runner *r, const struct cfg_data_source *ds, const char *base_dir,
                    unsigned flags, char *err, size_t errlen);

/*
 * Streams that no data source feeds (a source feeds a stream when every tag of the source
 * is among the stream's tags: the source's route reaches it, host/dag/route.h). Each is logged as a warning naming the strategy and tags;
 * with 'fail' the first one is returned as an error instead. Returns the number of
 * unfed streams, or -1 (fail) with err. Call after runner_start().
 */
int runner_check_streams(struct runner *r, int fail, char *err, size_t errlen);

/*
 * Parameters nothing read: a key of host.strategies (or --param) that its strategy did
 * not read during setup, or a strategy name that no loaded strategy has. Each is logged
 * as a warning; with 'strict' the first is returned as an error instead. Returns the
 * count, or -1 (strict) with err. Call after loading.
 */
int runner_check_params(struct runner *r, int strict, char *err, size_t errlen);

/* Parse a --from/--to time: seconds since the epoch, "YYYY-MM-DD" or
 * "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC). A date alone is its first second, or with
 * end_of_day its last. 0 or -1. */
int runner_parse_time(const char *s, int end_of_day, int64_t *out);

/* Finalize the DAG and call on_start. 0 or -1. */
int runner_start(struct runner *r, char *err, size_t errlen);

/*
 * The data pump: a pull source on r->loop that takes items from the feed in batches and
 * feeds each along its source's route (within from/to). Created on the first call (NULL
 * when out of memory); when the data ends (or a signal or an error stops the loop) it
 * records the replay time and calls on_finish. Set its pace with loop_source_pace().
 */
struct loop_source *runner_pump(struct runner *r);

/* Run the loop (runner_pump and whatever else is registered on r->loop: an attached
 * session, live inputs...) until it stops: offline, when every data item is replayed;
 * on SIGINT/SIGTERM before that, r->interrupted is set (on_finish still runs). 0, or -1 on
 * a data error (fail mode) with err, also kept in r->run_error. With r->progress, a
 * progress line (items done/expected, rate, ETA) is rewritten on stderr after the first
 * second, and ended with a newline. */
int runner_replay(struct runner *r, char *err, size_t errlen);

/* Parse a --data argument: "TAG[,TAG...]=PATH", "TAGS=gbm|random_walk[:k=v,...]"
 * (keys count, interval, seed, start, drift, vol, start_ts), "PATH" (the tag is the
 * file name without directory and extension), "TAGS=follow:PATH" (a CSV followed as it
 * grows), "TAGS=nats://HOST:PORT/SUBJECT" (a NATS subject, live_nats.h), or a live
 * line-JSON input without tags: "tcp:HOST:PORT", "unix:PATH", "-", "nats://HOST:PORT/SUBJECT".
 * Fills *ds with heap strings (release with
 * runner_data_release). 0 or -1 with err. */
int runner_parse_data_arg(const char *arg, struct cfg_data_source *ds, char *err, size_t errlen);
void runner_data_release(struct cfg_data_source *ds);

#endif
