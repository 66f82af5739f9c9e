/*
 * route: where a data item goes in the host's DAG.
 *
 * A route is one set of data tags and the stream inputs that take items carrying them
 * (every tag of the item is among the stream's tags), in evaluation order so that equal
 * timestamps replay deterministically. Routes are data the host keeps: a data source
 * resolves its tags to a route once, when it is bound (host_route_id), and then feeds by
 * route index (host_feed_route), with no tag comparison per item. The index stays valid
 * for the host's life; what it reaches is recomputed by host_rebuild_routes() whenever the
 * set of streams changes (host_finalize does it; a DAG that changes while it runs calls it
 * after each change, between two events).
 *
 *     int r = host_route_id(h, tags, n_tags);     // at bind time (before or after finalize)
 *     ...
 *     host_feed_route(h, r, ts, &value);           // per item, after host_finalize
 *
 * host_feed() (host_api.h) is the same with a lookup by tags (the testkit, tests).
 */
#ifndef QMTL_HOST_ROUTE_H
#define QMTL_HOST_ROUTE_H

#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>

struct host;

struct host_route {
    char **tags; /* the data item's tags (owned copies) */
    size_t n_tags;
    uint32_t *streams; /* graph indices of the stream inputs it reaches */
    size_t n;
};

#define HOST_ROUTE_MAX_TAGS 64

/* The route of 'tags' (at most HOST_ROUTE_MAX_TAGS; none reaches nothing): the same index
 * for the same tags in the same order. Resolved now when the host is finalized, else by
 * host_finalize. >= 0, or -1 (too many tags, out of memory). */
int host_route_id(struct host *h, const char *const *tags, size_t n_tags);

/* Feed one item along a route and run the DAG: the number of streams that received it
 * (0 = none, counted as unrouted), or -1 (not finalized, no such route). */
int host_feed_route(struct host *h, int route, int64_t ts, const struct qmtl_value *v);

/* Recompute what every route reaches from the current graph. 0, or -1 out of memory
 * (the routes then reach nothing until a rebuild succeeds). Requires a finalized graph. */
int host_rebuild_routes(struct host *h);

/* Free every route (host_release). */
void host_routes_release(struct host *h);

#endif
