/*
 * bus_explain: what 'qmtl run --explain' adds for a host attached with a bus
 * (docs/scale-out.md): the role each node would have, without running anything.
 *
 * Every running strategy is dry-run at the gateway (POST /strategies/dry-run: the DAG
 * manager's diff, as the strategy this DAG was submitted as if it was; nothing stored, no
 * queue created) and the lease bucket on the bus is read, then each node gets the role
 * host_bus_start would give it:
 *   local      computed here and not shared (a stream, tag query, signal, order node, a
 *              node without a queue, or every node when the gateway degraded the
 *              submission because its DAG manager did not answer);
 *   published  computed here, its outputs go to its queue (no other host holds its lease);
 *   standby    computed here, not published: another host holds its lease (named);
 *   remote     another strategy computes it: consumed from its queue, from the host
 *              holding the lease (named; none while no host holds it).
 * A node one strategy here computes and another consumes is computed here (as on a run).
 */
#ifndef QMTL_HOST_BUS_EXPLAIN_H
#define QMTL_HOST_BUS_EXPLAIN_H

#include <jansson.h>
#include <stdio.h>

#include "host/host_api.h"

struct bus_explain_opts {
    const char *gateway_url;
    const char *token; /* submit token (may be NULL) */
    const char *world;
    const char *bus_url;
    double timeout_s; /* per HTTP request */
};

/*
 * The roles of h's nodes (h finalized): {"bus": url, "world": W, "degraded": [names of
 * the strategies the gateway could not plan: its DAG manager did not answer], "nodes": {NodeID:
 * {"role", "queue" (string or null), "holder" (string or null)}}}. New reference, or NULL with err
 * (the gateway refused or did not answer a dry run, the bus cannot be reached).
 */
json_t *bus_explain_roles(const struct host *h, const struct bus_explain_opts *o, char *err,
                          size_t errlen);

/* One line per node, in evaluation order, after explain_text's listing. */
void bus_explain_text(FILE *out, const struct host *h, const json_t *roles);

/* Add "bus": {role, queue, holder} to each node of an explain_json document, and the
 * document's "bus": {url, world, degraded}. */
void bus_explain_merge(json_t *doc, const json_t *roles);

#endif
