/*
 * testkit.h: unit-test a strategy without a host process.
 *
 * The testkit runs the real qmtl DAG runtime in-process (backtest domain, simulated
 * broker). Either link the strategy's objects into the test and pass the descriptor:
 *
 *     extern const struct qmtl_plugin qmtl_plugin_descriptor;
 *     struct qmtl_err err;
 *     struct qmtl_testkit *tk = qmtl_testkit_new(&qmtl_plugin_descriptor, &err);
 *
 * or load the built .so with qmtl_testkit_load(). Then feed data to the strategy's
 * stream inputs by tag, and read what each node produced, the signals and the orders.
 * Link with the library 'qmtl_testkit' (see 'qmtl sdk --libs').
 *
 * All functions that can fail return QMTL_OK / a negative QMTL_E* code (or NULL) and
 * fill 'err' when it is not NULL. Pointers returned are borrowed from the testkit and
 * valid until the next call that feeds data, or until qmtl_testkit_free().
 */
#ifndef QMTL_TESTKIT_H
#define QMTL_TESTKIT_H

#include "qmtl.h"

#ifdef __cplusplus
extern "C" {
#endif

struct qmtl_testkit;

/* Options; pass NULL for the defaults (fee 0, slippage 0, cash 100000). */
struct qmtl_testkit_options {
    uint32_t size;
    double initial_cash;
    double fee_bps;
    double slippage_bps;
    const char *params_yaml; /* strategy parameters, as under host.strategies.<name> */
};

/* Wire a strategy linked into the test. Runs its setup(). NULL on failure. */
struct qmtl_testkit *qmtl_testkit_new(const struct qmtl_plugin *plugin,
                                      const struct qmtl_testkit_options *opt,
                                      struct qmtl_err *err);

/* Load a strategy .so (validated like the host does) and run its setup(). */
struct qmtl_testkit *qmtl_testkit_load(const char *so_path, const struct qmtl_testkit_options *opt,
                                       struct qmtl_err *err);

void qmtl_testkit_free(struct qmtl_testkit *tk);

/*
 * Feed one item to every stream input whose tags include 'tag', at time 'ts'
 * (seconds since the epoch), and run the DAG to completion for it.
 */
int qmtl_testkit_feed_bar(struct qmtl_testkit *tk, const char *tag, int64_t ts,
                          const struct qmtl_bar *bar, struct qmtl_err *err);
int qmtl_testkit_feed_value(struct qmtl_testkit *tk, const char *tag, int64_t ts, double value,
                            struct qmtl_err *err);

/* Feed 'n' bars spaced 'interval' seconds apart starting at 'ts0' whose close is closes[i]. */
int qmtl_testkit_feed_closes(struct qmtl_testkit *tk, const char *tag, int64_t ts0,
                             int64_t interval, const double *closes, size_t n,
                             struct qmtl_err *err);

/* Outputs of the node named 'node_name' (as declared), oldest first. */
size_t qmtl_testkit_output_count(const struct qmtl_testkit *tk, const char *node_name);
/* The i-th output; returns QMTL_ENOENT when there is none. 'ts' may be NULL. */
int qmtl_testkit_output(const struct qmtl_testkit *tk, const char *node_name, size_t i,
                        int64_t *ts, struct qmtl_value *out);
/* The newest output as a number (qmtl_value_number); NaN when there is none. */
double qmtl_testkit_last_number(const struct qmtl_testkit *tk, const char *node_name);

/* Signals seen by on_signal, orders that passed the gate, and simulated fills. */
size_t qmtl_testkit_signal_count(const struct qmtl_testkit *tk);
size_t qmtl_testkit_order_count(const struct qmtl_testkit *tk);
int qmtl_testkit_order(const struct qmtl_testkit *tk, size_t i, int64_t *ts,
                       struct qmtl_order *out);
size_t qmtl_testkit_fill_count(const struct qmtl_testkit *tk);

/* Equity of the simulated account (cash + marked positions). */
double qmtl_testkit_equity(const struct qmtl_testkit *tk);

/* Call on_finish (once); further feeds fail with QMTL_ESTATE. */
int qmtl_testkit_finish(struct qmtl_testkit *tk, struct qmtl_err *err);

#ifdef __cplusplus
}
#endif

#endif /* QMTL_TESTKIT_H */
