/* route: data tags -> stream inputs, resolved once per source (see route.h). */
#include "host/dag/route.h"

#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"

static int route_is(const struct host_route *r, const char *const *tags, size_t n_tags)
{
    if (r->n_tags != n_tags)
        return 0;
    for (size_t i = 0; i < n_tags; i++)
        if (r->tags[i] != tags[i] && strcmp(r->tags[i], tags[i]) != 0)
            return 0;
    return 1;
}

/* A stream takes the route's items when every tag of the route is among its own. */
static int stream_takes(const struct graph_node *x, const struct host_route *r)
{
    if (!r->n_tags)
        return 0; /* an item without tags reaches nothing */
    for (size_t i = 0; i < r->n_tags; i++) {
        uint32_t j = 0;
        while (j < x->n_tags && strcmp(r->tags[i], x->tags[j]) != 0)
            j++;
        if (j == x->n_tags)
            return 0;
    }
    return 1;
}

static int resolve(struct host *h, struct host_route *r)
{
    size_t n = graph_count(h->g);
    uint32_t *s = realloc(r->streams, (n ? n : 1) * sizeof(*s));
    r->n = 0;
    if (!s)
        return -1;
    r->streams = s;
    /* in evaluation order, so equal timestamps replay deterministically */
    for (uint32_t p = 0; p < n; p++) {
        struct graph_node *x = graph_at(h->g, p);
        if (x->kind == GRAPH_STREAM && stream_takes(x, r))
            s[r->n++] = x->idx;
    }
    return 0;
}

int host_route_id(struct host *h, const char *const *tags, size_t n_tags)
{
    if (h->last_route < h->n_routes && route_is(&h->routes[h->last_route], tags, n_tags))
        return (int)h->last_route;
    for (size_t i = 0; i < h->n_routes; i++)
        if (route_is(&h->routes[i], tags, n_tags)) {
            h->last_route = i;
            return (int)i;
        }
    if (n_tags > HOST_ROUTE_MAX_TAGS || h->n_routes >= (size_t)INT32_MAX)
        return -1;
    struct host_route *v = realloc(h->routes, (h->n_routes + 1) * sizeof(*v));
    if (!v)
        return -1;
    h->routes = v;
    struct host_route *r = &h->routes[h->n_routes];
    memset(r, 0, sizeof(*r));
    if (!(r->tags = calloc(n_tags ? n_tags : 1, sizeof(*r->tags))))
        return -1;
    for (size_t i = 0; i < n_tags; i++) {
        if (!(r->tags[i] = strdup(tags[i])))
            goto oom;
        r->n_tags++;
    }
    if (h->finalized && resolve(h, r))
        goto oom;
    h->last_route = h->n_routes;
    return (int)h->n_routes++;
oom:
    for (size_t i = 0; i < r->n_tags; i++)
        free(r->tags[i]);
    free(r->tags);
    free(r->streams);
    return -1;
}

static int feed_along(struct host *h, const struct host_route *r, int64_t ts,
                      const struct qmtl_value *v)
{
    h->events++;
    if (!r->n)
        h->unrouted++;
    for (size_t i = 0; i < r->n; i++)
        sched_feed(h->s, r->streams[i], ts, v);
    return (int)r->n;
}

int host_feed_route(struct host *h, int route, int64_t ts, const struct qmtl_value *v)
{
    if (!h->finalized || route < 0 || (size_t)route >= h->n_routes)
        return -1;
    return feed_along(h, &h->routes[route], ts, v);
}

int host_feed(struct host *h, const char *const *tags, size_t n_tags, int64_t ts,
              const struct qmtl_value *v)
{
    if (!h->finalized)
        return -1;
    int route = host_route_id(h, tags, n_tags);
    return route < 0 ? -1 : feed_along(h, &h->routes[route], ts, v);
}

int host_rebuild_routes(struct host *h)
{
    int rc = 0;
    for (size_t i = 0; i < h->n_routes; i++)
        if (resolve(h, &h->routes[i]))
            rc = -1;
    return rc;
}

void host_routes_release(struct host *h)
{
    for (size_t i = 0; i < h->n_routes; i++) {
        for (size_t j = 0; j < h->routes[i].n_tags; j++)
            free(h->routes[i].tags[j]);
        free(h->routes[i].tags);
        free(h->routes[i].streams);
    }
    free(h->routes);
    h->routes = NULL;
    h->n_routes = h->last_route = 0;
}
