/*
 * reload: hot reload of a running host's plugins directory.
 *
 * Built on the watcher (host/plugin/plugin_watch.h) on the runner's event loop (host/loop.h) and
 * the mutable DAG (host_add_strategy_from / host_replace_strategy / host_remove_strategy,
 * host_api.h). For each file the watcher hands over, between two events:
 *   - new file: quarantine check (host/plugin/quarantine.h), owner and mode check, the loader's
 *     checks, private copy and preflight in a child (host/plugin/loader.h, host/plugin/preflight.h),
 *     then the strategy joins the running DAG;
 *   - replaced file (a strategy was loaded from that path): the same, then the strategy is
 *     replaced: nodes whose NodeID stays keep their state, the strategy keeps its name,
 *     gate (activation), broker (positions) and counters; the old .so is unmapped when its
 *     last reference goes;
 *   - removed file: the strategy is taken out (on_finish, teardown); its orders stop.
 * Each change prints one line:
 *     reload: strategy 'S' 1.0.0 -> 1.1.0: nodes added 3, kept 47, removed 3; pause 412 us, cpu 300 us (DIR/x.so)
 * ("new" / "removed" stand for the missing side; added: nodes of the strategy that are new
 * in the graph, kept: its nodes that were there before and keep their state, shared ones
 * included, removed: nodes freed; the pause is the wall time the DAG change held the loop,
 * cpu the thread CPU time it took). Any failure keeps what runs and prints one line naming the file, the version
 * (when the file could be read that far) and why:
 *     reload: 'DIR/x.so' (strategy 'S' 1.1.0) not loaded: WHY; 'S' 1.0.0 keeps running
 * A failure the watcher will retry once the file has settled is not printed (see
 * plugin_watch.h); each version fails once in the log.
 *
 * A file declaring a strategy name that another file already runs is refused (the running
 * one stays), and so is a new version of a file that declares another strategy name than
 * the one running from it (remove the file, then drop the new one in).
 *
 * The load (checks, copy, preflight child) also runs on the loop: while it runs (tens of
 * milliseconds) the data inputs wait; nothing is lost (pull sources resume, sockets push
 * back). The pause printed is the DAG change alone.
 */
#ifndef QMTL_HOST_RELOAD_H
#define QMTL_HOST_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "host/plugin/plugin_watch.h"

struct runner;
struct quarantine;
struct reload;

struct reload_stats {
    uint64_t added;       /* new strategies that joined */
    uint64_t replaced;    /* strategies replaced by a new version */
    uint64_t removed;     /* strategies taken out (file gone) */
    uint64_t failed;      /* versions refused (each counted once, as printed) */
    uint64_t quarantined; /* ... of which refused because quarantined */
    double last_pause_us; /* the last DAG change */
    double max_pause_us;
};

enum reload_change { RELOAD_ADDED = 1, RELOAD_REPLACED, RELOAD_REMOVED };

/* Told after each change (attached mode resubmits): the strategy's name and its index
 * now (RELOAD_REMOVED: the index it had; later strategies moved down one). */
typedef void (*reload_change_fn)(void *arg, enum reload_change kind, const char *name,
                                 size_t idx);

/*
 * Watch 'dir' for runner 'r' on r->loop; SIGHUP rescans it now. Call it before the runner
 * loads the directory: the files present now count as loaded by the runner, and a change
 * made while it loads them is seen. Nothing is applied before the loop runs (runner_start
 * done). 'q' (may be NULL) is asked before every load. 'o' (may be NULL) tunes the watcher.
 * Returns a new reload, or NULL with err.
 */
struct reload *reload_new(struct runner *r, const char *dir, struct quarantine *q,
                          const struct plugin_watch_options *o, char *err, size_t errlen);

/* Stop watching (before runner_release). NULL is a no-op. */
void reload_free(struct reload *rl);

/* Rescan now (what SIGHUP does). */
void reload_rescan(struct reload *rl);

/* Counters (borrowed; valid until reload_free). */
const struct reload_stats *reload_get_stats(const struct reload *rl);

/* The watcher (its counters). */
const struct plugin_watch *reload_watch(const struct reload *rl);

/* Set the change hook (NULL: none). */
void reload_on_change(struct reload *rl, reload_change_fn fn, void *arg);

#endif
