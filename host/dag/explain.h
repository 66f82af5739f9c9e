/*
 * explain: print the host's DAG ('qmtl run --explain'): every node in evaluation order
 * with its NodeID, type, name, interval, period, identity parameters, inputs, and the
 * strategies that declared it (a node declared by several strategies is computed once
 * for all).
 *
 * Nodes that look alike (same kind, node type and name) but are separate nodes get a
 * "not shared with [p]" line naming each identity field in which they differ from the
 * first such node p: code hash, params, interval, period, inputs, or "private" (order
 * publishers are never shared). A node declared under the same name by two strategies
 * with, say, another lookback thus says why it is computed twice.
 */
#ifndef QMTL_HOST_EXPLAIN_H
#define QMTL_HOST_EXPLAIN_H

#include <jansson.h>
#include <stdio.h>

#include "host/host_api.h"

/* Requires host_finalize(). */
void explain_text(FILE *out, const struct host *h);
/* {"nodes": [{pos, rank, id, kind, node_type, name, interval, period, code_hash, params
 * (object or null), inputs, strategies, shared, not_shared? {pos, id, reasons: [..],
 * detail}}], "shared"}. New reference, NULL when out of memory. */
json_t *explain_json(const struct host *h);
/* Nodes declared by more than one strategy. */
size_t explain_shared_count(const struct host *h);

/* Why nodes 'a' and 'b' of h's graph are two nodes: the differing identity fields as
 * text ("params {"n":5} vs {"n":10}; interval 60s vs 300s") into out. Returns a bit set
 * of EXPLAIN_DIFF_* (0 when no identity field differs). */
enum {
    EXPLAIN_DIFF_TYPE = 1 << 0,
    EXPLAIN_DIFF_CODE = 1 << 1,
    EXPLAIN_DIFF_PARAMS = 1 << 2,
    EXPLAIN_DIFF_INTERVAL = 1 << 3,
    EXPLAIN_DIFF_PERIOD = 1 << 4,
    EXPLAIN_DIFF_INPUTS = 1 << 5,
    EXPLAIN_DIFF_PRIVATE = 1 << 6,
};
unsigned explain_diff(const struct host *h, const struct graph_node *a, const struct graph_node *b,
                      char *out, size_t len);

#endif
