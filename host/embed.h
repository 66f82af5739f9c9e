/*
 * embed: the runtime's front door for a program that runs strategies inside its own
 * process (the testkit: testkit/ includes this header and nothing else of host/). One
 * embed is one host in the backtest domain, each strategy with its simulated broker,
 * driven by the caller: no event loop, no data feeds, no control plane.
 *
 *     struct embed *e = embed_new(&opt, err, sizeof(err));
 *     embed_set_param(e, "my_strategy", "fast", "5");   // before the strategy is added
 *     embed_add(e, &qmtl_plugin_descriptor, err, sizeof(err));  // linked into the program,
 *     embed_open(e, "x.so", &desc, err, sizeof(err));   // ... or a plugin file, then
 *     embed_add(e, desc, err, sizeof(err));
 *     embed_on_output(e, record, arg);                  // optional: every value emitted
 *     embed_start(e, err, sizeof(err));                 // wiring, caches, on_start
 *     embed_feed(e, "BTC", ts, &value);                 // many times, in time order
 *     embed_finish(e);                                  // on_finish, once
 *     embed_free(e);
 *
 * Functions that can fail return QMTL_OK or a negative QMTL_E* code (qmtl/qmtl.h) and,
 * when they take one, write one line saying why into the caller's 'err' buffer.
 * Strategies are numbered 0, 1, ... in the order they were added; nodes are numbered
 * 0 .. embed_node_count() - 1 once started (a node shared by strategies is one node).
 * Single-threaded: one caller at a time.
 */
#ifndef QMTL_HOST_EMBED_H
#define QMTL_HOST_EMBED_H

#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>

struct embed;

/* Simulated account of every strategy. NULL options = the host's defaults (cash 100000,
 * no fee, no slippage). */
struct embed_options {
    double initial_cash; /* <= 0: the default */
    double fee_bps;
    double slippage_bps;
};

/* A new embedded host. NULL with err on out of memory. */
struct embed *embed_new(const struct embed_options *o, char *err, size_t errlen);

/* Release the host and its strategies, unmap the plugins embed_open mapped, free. NULL
 * is a no-op. Does not call on_finish (embed_finish does). */
void embed_free(struct embed *e);

/* A strategy parameter (as under host.strategies.<strategy>.<key> in qmtl.yml), read by
 * the strategy's setup() through config_string/config_number: set it before embed_add.
 * QMTL_OK or QMTL_ENOMEM. */
int embed_set_param(struct embed *e, const char *strategy, const char *key, const char *value);

/*
 * Map the plugin file 'so_path', opened and validated by the host's loader (the same
 * checks as 'qmtl run'), and point *desc at its descriptor (borrowed from the mapping,
 * which stays until embed_free). Nothing of it runs yet: pass *desc to embed_add.
 * QMTL_OK, or QMTL_EINVAL with the loader's one line in err.
 */
int embed_open(struct embed *e, const char *so_path, const struct qmtl_plugin **desc, char *err,
               size_t errlen);

/*
 * Add a strategy and run its setup(): 'desc' is a descriptor linked into the program
 * (borrowed: it must outlive the embed) or one embed_open returned. A linked descriptor
 * is checked as the loader checks one: QMTL_EABI for an ABI this host does not run,
 * QMTL_EINVAL for anything else wrong (magic, name, missing setup), also for a duplicate
 * strategy name: nothing is added then. QMTL_ERR when setup() failed: the strategy is
 * added, stopped, with the reason in err (and in embed_strategy_info). Only before
 * embed_start (else QMTL_ESTATE).
 */
int embed_add(struct embed *e, const struct qmtl_plugin *desc, char *err, size_t errlen);

/*
 * Called for every value a node emits, during embed_feed: 'node' in
 * [0, embed_node_count()), 'is_order' for the order node's values (v->type QMTL_T_ORDER).
 * 'v' is borrowed for the call (copy a QMTL_T_JSON string to keep it).
 */
typedef void (*embed_output_fn)(void *arg, uint32_t node, int is_order, int64_t ts,
                                const struct qmtl_value *v);
void embed_on_output(struct embed *e, embed_output_fn fn, void *arg);

/* Wire the strategies into one DAG (tag queries, evaluation order, caches) and call
 * on_start. QMTL_OK, or QMTL_EINVAL with err (e.g. a tag query cycle); QMTL_ESTATE when
 * already started. */
int embed_start(struct embed *e, char *err, size_t errlen);

/* Number of nodes of the started DAG (0 before embed_start). */
size_t embed_node_count(const struct embed *e);

/* The node strategy 'strat' declared under handle name 'name' (as given to the node's
 * spec), or -1 (no such strategy or name, or not started). */
long embed_node_find(const struct embed *e, size_t strat, const char *name);

/*
 * Feed one item to every stream input whose tags include 'tag' and run the DAG for it.
 * Returns the number of streams that received it (0: no stream has the tag), or
 * QMTL_ESTATE (not started, or finished), QMTL_ENOMEM.
 */
int embed_feed(struct embed *e, const char *tag, int64_t ts, const struct qmtl_value *v);

/* Call on_finish of every strategy still running (once; nothing runs when the embed was
 * never started). Later feeds give QMTL_ESTATE. */
void embed_finish(struct embed *e);

/* What a strategy did so far. */
struct embed_strategy_info {
    int stopped;       /* its setup or one of its nodes failed: nothing of it runs any more */
    const char *error; /* why it stopped ("" while running); borrowed until the next call */
    long signals;      /* signals its on_signal saw */
    long orders;       /* orders that passed its gate */
    long fills;        /* simulated fills */
    double equity;     /* its simulated account: cash + marked positions */
};

/* QMTL_OK and *out, or QMTL_ENOENT when there is no strategy 'strat'. */
int embed_strategy_info(const struct embed *e, size_t strat, struct embed_strategy_info *out);

#endif
