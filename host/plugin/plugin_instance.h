/*
 * plugin_instance: one loaded plugin (.so) with a reference count.
 *
 * Everything that points into a plugin's mapping holds a reference: the strategy that
 * runs its descriptor, and every custom node binding (compute, user, ctx) declared by
 * it (host/dag/graph.h, struct graph_bind). The mapping is closed (plugin_close, i.e.
 * dlclose unless QMTL_NO_DLCLOSE=1) exactly when the last reference is dropped, so a
 * plugin taken out of a running DAG is unmapped as soon as nothing can call into it.
 *
 * The count is not atomic: the host runs one thread.
 */
#ifndef QMTL_HOST_PLUGIN_INSTANCE_H
#define QMTL_HOST_PLUGIN_INSTANCE_H

#include "host/plugin/loader.h"

struct plugin_instance {
    struct plugin *plugin; /* owned: closed when refs drops to 0 */
    unsigned long refs;
};

/*
 * Wrap an opened plugin. On success the instance owns 'p' and the caller holds the one
 * reference (drop it with plugin_instance_unref when done). NULL when out of memory; 'p'
 * then stays the caller's.
 */
struct plugin_instance *plugin_instance_new(struct plugin *p);

/* Take a reference; returns 'pi' (NULL is passed through). */
struct plugin_instance *plugin_instance_ref(struct plugin_instance *pi);

/* Drop a reference; at zero the plugin is closed and the instance freed. NULL: no-op. */
void plugin_instance_unref(struct plugin_instance *pi);

#endif
