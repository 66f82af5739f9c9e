/*
 * explain: print the host's DAG ('qmtl run --explain'): every node in evaluation order
 * with its NodeID, type, name, interval, period, inputs, and the strategies that
 * declared it (a node declared by several strategies is computed once for all).
 */
#ifndef QMTL_HOST_EXPLAIN_H
#define QMTL_HOST_EXPLAIN_H

#include <jansson.h>
#include <stdio.h>

#include "host/host_api.h"

/* Requires host_finalize(). */
void explain_text(FILE *out, const struct host *h);
json_t *explain_json(const struct host *h);
/* Nodes declared by more than one strategy. */
size_t explain_shared_count(const struct host *h);

#endif
