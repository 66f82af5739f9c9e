/*
 * report_sweep: the sweep part of the HTML report. Strategies named
 * "BASE[k1=v1,k2=v2]" (host/report/sweep.h) are grouped by BASE; each group gets a ranking of
 * its parameter sets by Sharpe and the parameter surface: a heat map of Sharpe over
 * the first two swept keys (one row for a single key; with more keys, each cell shows
 * the best set with those two values).
 */
#ifndef QMTL_HOST_REPORT_SWEEP_H
#define QMTL_HOST_REPORT_SWEEP_H

#include <jansson.h>
#include <stdio.h>

/* Write the sweep sections for the strategies of 'arr' (none when nothing was swept).
 * 0, or -1 when out of memory. */
int report_sweeps(FILE *out, const json_t *arr);

#endif
