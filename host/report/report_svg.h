/*
 * report_svg: the inline SVG charts of the HTML report (no script, no external
 * resource). Every chart is one <svg class="chart" data-chart="ID"> element sized by
 * its viewBox; long series are reduced to the minimum and maximum of each of about 400
 * buckets, so the shape and the extremes survive.
 */
#ifndef QMTL_HOST_REPORT_SVG_H
#define QMTL_HOST_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct svg_series {
    const double *y; /* n values; NaN = no value */
    const char *color;
    const char *label;
};

/* Lines over time (ts: seconds). pct: the y axis is a fraction shown as percent.
 * area: fill between the first series and zero (drawdown). */
void svg_line_chart(FILE *out, const char *id, const int64_t *ts, size_t n,
                    const struct svg_series *s, size_t n_series, int pct, int area);

/* A grid of values (rows x cols, row-major, NaN = no value) coloured from red (lowest)
 * to green (highest), each cell labelled with its value. */
void svg_heatmap(FILE *out, const char *id, const char *const *row_labels, size_t rows,
                 const char *const *col_labels, size_t cols, const double *v,
                 const char *row_title, const char *col_title);

/* Text with &, <, >, " and ' escaped. */
void html_escape(FILE *out, const char *s);

#endif
