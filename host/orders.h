/*
 * orders: order execution of the host, its own room (issue 12): what happens between a
 * signal reaching an order publisher and an order leaving the process.
 *
 * The scheduler calls two hooks (scheduler.h, struct sched_hooks), installed by
 * host_finalize():
 *   orders_hook_signal  a signal node emitted: every strategy owning the node that has
 *                       no order publisher reading it hears it through on_signal (a
 *                       publisher reports its own signals). Linear in the node's owners
 *                       and children: a per-strategy stamp replaces the pairwise scans.
 *   orders_hook_order   an order publisher ran: mark the price, turn the signal's target
 *                       into an order (sizing), ask the gate, hand the order to the
 *                       domain's sink (simulated broker, order log, live sink).
 * Both take the host as 'arg'. Neither allocates per event.
 *
 * The order log (h->order_log, optional) gets one line per order, fill and blocked order,
 * in a deterministic text:
 *     <ts> order <strategy> <symbol> buy|sell qty=<q> price=<p>
 *     <ts> fill <strategy> <symbol> buy|sell qty=<q> price=<p> fee=<f>
 *     <ts> blocked <strategy> <symbol> buy|sell qty=<q> (<reason>)
 * Numbers are written as the shortest text that reads back to the same double.
 */
#ifndef QMTL_HOST_ORDERS_H
#define QMTL_HOST_ORDERS_H

#include <qmtl/qmtl.h>
#include <stdint.h>

#include "host/graph.h"

void orders_hook_signal(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_signal *sg);
void orders_hook_order(void *arg, struct graph_node *n, int64_t ts, int price_in, int signal_in,
                       struct qmtl_value *out);

#endif
