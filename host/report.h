/*
 * report: the end-of-run summary of 'qmtl run --offline', per strategy (status, bars
 * processed, signals, orders, trades, PnL, return, Sharpe, max drawdown, fees) plus the
 * run (events, wall time, throughput, nodes, shared nodes, node computations), as a
 * text table or as one JSON document. A strategy's status is ok, failed (the run stopped
 * before the end of the data: runner.run_error), stopped (its own error) or setup_failed.
 */
#ifndef QMTL_HOST_REPORT_H
#define QMTL_HOST_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "host/runner.h"

/* A new JSON object (caller decrefs); NULL when out of memory. */
json_t *report_json(const struct runner *r);
void report_text(FILE *out, const struct runner *r);

#endif
