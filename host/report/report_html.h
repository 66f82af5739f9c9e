/*
 * report_html: one self-contained HTML file from a results document (report.h), for
 * 'qmtl run --offline --report F' and 'qmtl report RUN.json -o F'.
 *
 * Contents: a comparison of every strategy and the portfolio (sortable), for each swept
 * strategy the ranking of its parameter sets (by Sharpe) and the parameter surface
 * (a heat map over one or two swept keys), then the portfolio and one section per
 * strategy: equity curve with the buy-and-hold benchmark, drawdown (underwater) chart,
 * monthly returns, the statistics table and the round trips (sortable, first 1000).
 * Charts are inline SVG; the only script is inline (table sorting; it marks
 * <body data-rendered="ok"> when done and writes any script error into
 * <pre id="qmtl-errors">). Nothing is fetched from the network.
 */
#ifndef QMTL_HOST_REPORT_HTML_H
#define QMTL_HOST_REPORT_HTML_H

#include <jansson.h>
#include <stdio.h>

/* Check that a document (from a file: untrusted) has what the report reads: 0, or -1
 * with err naming the first bad field ("strategies[2].equity.ts: ..."). */
int report_doc_check(const json_t *doc, char *err, size_t errlen);

/* report_doc_check, then write the report. 0, or -1 with err. */
int report_html_write(FILE *out, const json_t *doc, char *err, size_t errlen);

#endif
