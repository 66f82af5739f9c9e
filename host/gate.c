/* gate: the activation gate (see gate.h). */
#include "host/gate.h"

#include <stdio.h>
#include <string.h>

void gate_init(struct gate *g)
{
    memset(g, 0, sizeof(*g));
}

static int side_index(int side)
{
    return side == QMTL_SIDE_BUY ? 0 : side == QMTL_SIDE_SELL ? 1 : -1;
}

int gate_update(struct gate *g, const struct qmtl_activation *a)
{
    int k = a ? side_index(a->side) : -1;
    if (k < 0)
        return -1;
    struct gate_side *s = &g->side[k];
    const char *etag = a->etag ? a->etag : "";
    const char *run_id = a->run_id ? a->run_id : "";
    if (s->known && !s->a.stale) {
        if (a->ts < s->a.ts)
            return 0;
        if (a->ts == s->a.ts && strcmp(etag, s->etag) == 0 && strcmp(run_id, s->run_id) == 0)
            return 0;
    }
    s->known = 1;
    s->a = *a;
    s->a.size = sizeof(s->a);
    snprintf(s->etag, sizeof(s->etag), "%s", etag);
    snprintf(s->run_id, sizeof(s->run_id), "%s", run_id);
    snprintf(s->domain, sizeof(s->domain), "%s", a->domain ? a->domain : "");
    s->a.etag = s->etag;
    s->a.run_id = s->run_id;
    s->a.domain = s->domain;
    return 1;
}

void gate_mark_stale(struct gate *g)
{
    for (int k = 0; k < 2; k++)
        if (g->side[k].known)
            g->side[k].a.stale = 1;
}

int gate_get(const struct gate *g, int side, struct qmtl_activation *out)
{
    int k = side_index(side);
    if (k < 0 || !g->side[k].known)
        return QMTL_ENOENT;
    if (out)
        *out = g->side[k].a;
    return QMTL_OK;
}

int gate_allows(const struct gate *g, int domain, int side, const char **why)
{
    const char *w = NULL;
    int k = side_index(side);
    if (domain != 1 && domain != 2)
        w = "domain does not send orders";
    else if (k < 0)
        w = "invalid side";
    else if (!g->side[k].known)
        w = "activation unknown";
    else if (g->side[k].a.stale)
        w = "activation stale";
    else if (g->side[k].a.frozen)
        w = "frozen";
    else if (g->side[k].a.draining)
        w = "draining";
    else if (!g->side[k].a.active)
        w = "not active";
    if (why)
        *why = w;
    return w == NULL;
}
