/* plugin_instance: a loaded plugin with a reference count (see plugin_instance.h). */
#include "host/plugin/plugin_instance.h"

#include <stdlib.h>

struct plugin_instance *plugin_instance_new(struct plugin *p)
{
    struct plugin_instance *pi = calloc(1, sizeof(*pi));
    if (!pi)
        return NULL;
    pi->plugin = p;
    pi->refs = 1;
    return pi;
}

struct plugin_instance *plugin_instance_ref(struct plugin_instance *pi)
{
    if (pi)
        pi->refs++;
    return pi;
}

void plugin_instance_unref(struct plugin_instance *pi)
{
    if (!pi || --pi->refs > 0)
        return;
    plugin_close(pi->plugin);
    free(pi);
}
