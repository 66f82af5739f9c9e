/*
 * plugin_watch: watch a plugins directory for *.so files that appear, change or go away.
 *
 * Runs on the caller's libevent event_base: inotify on the directory (read from the loop,
 * never blocking), plus a periodic stat rescan of the directory as a safety net, which is
 * also what recovers from an inotify queue overflow (IN_Q_OVERFLOW) or a kernel without
 * inotify. Only regular files named "*.so" that do not start with '.' count: a deploy that
 * writes ".x.so.tmp" and renames it to "x.so" shows one change, of x.so.
 *
 * A file is identified by a fingerprint (device, inode, size, mtime in ns). What the
 * watcher hands to its callback:
 *   - PLUGIN_WATCH_CHANGED: the file has a fingerprint never handed over before. Tried at
 *     once after IN_MOVED_TO or IN_CLOSE_WRITE (a rename or a writer that closed); after
 *     anything else (a rescan found it, IN_CREATE, IN_MODIFY, IN_ATTRIB) only once the
 *     file has been stable (same fingerprint, no write seen) for settle_s.
 *   - PLUGIN_WATCH_REMOVED: a file handed over before (or adopted at start) is gone.
 * Events that arrive within coalesce_s of each other are handled together, so a file
 * replaced twice within milliseconds is loaded once, in its last version (at most twice).
 *
 * Failures and the settle rule: the callback returns -1 when the version it was given
 * could not be loaded. When that attempt came before the file had settled, the event has
 * final = 0: the callback must not report it; the watcher tries the same file again once
 * it has been stable for settle_s (a half-written file, a copy in place still running)
 * with final = 1. A final failure is not retried until the file changes again: the
 * callback reports it once (one line), not per retry. A success is never retried.
 *
 * The callback runs from the loop, between two of the loop's other callbacks (never inside
 * a data event), and may take its time (load, preflight); it must not free the watcher.
 */
#ifndef QMTL_HOST_PLUGIN_WATCH_H
#define QMTL_HOST_PLUGIN_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct plugin_watch;

enum plugin_watch_kind { PLUGIN_WATCH_CHANGED = 1, PLUGIN_WATCH_REMOVED };

struct plugin_watch_event {
    enum plugin_watch_kind kind;
    const char *path; /* "dir/name.so" (borrowed for the call) */
    int final;        /* CHANGED: 1 = a failure now is reported (no retry until it changes) */
};

/* 0 = handled (CHANGED: this version is loaded), -1 = this version failed. REMOVED
 * ignores the return value. */
typedef int (*plugin_watch_fn)(void *arg, const struct plugin_watch_event *ev);

struct plugin_watch_options {
    double settle_s;   /* a file must be stable this long before a retry (<= 0: 0.3) */
    double rescan_s;   /* periodic stat rescan (<= 0: 2) */
    double coalesce_s; /* events this close are handled together (<= 0: 0.01) */
    int no_inotify;    /* 1: rescans only (tests; a kernel without inotify does the same) */
    int adopt;         /* 1: the files present at plugin_watch_new() count as handed over
                        * (the caller loads them itself); 0: they are reported as CHANGED */
};

#define PLUGIN_WATCH_SETTLE_S 0.3
#define PLUGIN_WATCH_RESCAN_S 2.0
#define PLUGIN_WATCH_COALESCE_S 0.01

struct plugin_watch_stats {
    uint64_t inotify_events; /* events read (all names, ignored ones included) */
    uint64_t overflows;      /* IN_Q_OVERFLOW seen (each one rescans) */
    uint64_t rescans;        /* directory scans (periodic, overflow, plugin_watch_rescan) */
    uint64_t attempts;       /* CHANGED handed to the callback */
    uint64_t failures;       /* ... that returned -1 (final or not) */
    uint64_t removals;       /* REMOVED handed to the callback */
};

/*
 * Start watching 'dir' on 'base'. 'fn' is called with 'arg' for each change. Returns a
 * new watcher (plugin_watch_free), or NULL with one line in err (the directory cannot be
 * read, out of memory). Without inotify (init fails) it logs one warning and rescans.
 */
struct plugin_watch *plugin_watch_new(struct event_base *base, const char *dir,
                                      const struct plugin_watch_options *o, plugin_watch_fn fn,
                                      void *arg, char *err, size_t errlen);

/* Stop watching and free. NULL is a no-op. */
void plugin_watch_free(struct plugin_watch *w);

/*
 * Rescan the directory now (SIGHUP). Every file whose fingerprint is new is tried at
 * once, settled or not (an operator asked for it). Runs the callback before returning.
 */
void plugin_watch_rescan(struct plugin_watch *w);

/* Counters since plugin_watch_new. */
void plugin_watch_get_stats(const struct plugin_watch *w, struct plugin_watch_stats *out);

/* The directory watched (borrowed, valid until plugin_watch_free). */
const char *plugin_watch_dir(const struct plugin_watch *w);

/* 1 when 'name' (no directory) is a plugin file name: "*.so", not starting with '.'. */
int plugin_watch_name_ok(const char *name);

#endif
