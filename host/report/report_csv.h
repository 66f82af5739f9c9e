/*
 * report_csv: CSV exports of a results document (report.h), numbers as the shortest
 * text that reads back to the same double (common/numfmt.h), fields quoted when they
 * hold a comma, a quote or a line break.
 *
 *   equity: strategy,ts,equity,benchmark,in_market   one row per bar and strategy, then
 *           the portfolio's rows under the name "(portfolio)"
 *   trades: strategy,symbol,side,entry_ts,exit_ts,qty,entry_price,exit_price,pnl,fees,bars
 *           one row per round trip (host/orders/trades.h)
 */
#ifndef QMTL_HOST_REPORT_CSV_H
#define QMTL_HOST_REPORT_CSV_H

#include <jansson.h>
#include <stdio.h>

/* 0, or -1 with err (a write error, or a document without the expected fields). */
int report_equity_csv(FILE *out, const json_t *doc, char *err, size_t errlen);
int report_trades_csv(FILE *out, const json_t *doc, char *err, size_t errlen);

#endif
