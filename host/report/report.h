/*
 * report: the end-of-run results of 'qmtl run --offline'.
 *
 * report_json() builds THE results document: per strategy its status, counters (bars,
 * signals, orders, fills, round trips), headline figures, every statistic of
 * host/report/stats.h ("stats"), the equity curve with its benchmark ("equity": columns ts,
 * equity, benchmark, in_market) and the closed round trips ("round_trips"); then the
 * portfolio of all strategies (same "stats" and "equity"), the run figures and the load
 * problems. Everything else is derived from that document: the text summary, the HTML
 * report (report_html.h) and the CSV exports (report_csv.h), so a saved '--json' run
 * gives the same report as the run itself. docs/backtest.md describes the fields.
 * A strategy's status is ok, failed (the run stopped before the end of the data:
 * runner.run_error), stopped (its own error) or setup_failed.
 */
#ifndef QMTL_HOST_REPORT_H
#define QMTL_HOST_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "host/runner.h"

/* A new JSON object (caller decrefs); NULL when out of memory. Without 'series' the
 * equity curves and round-trip lists are left out (enough for report_text). */
json_t *report_json(const struct runner *r, int series);

/* The terminal summary of a results document (one row per strategy, then the
 * portfolio total row, the run line and the problems). */
void report_text(FILE *out, const json_t *doc);

#endif
