/* gate: the activation gate (see gate.h). */
#include "host/orders/gate.h"

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

/* Why 'side' refuses an opening (reduce = 0) or reducing (reduce = 1) order; NULL: passes. */
static const char *side_refuses(const struct gate *g, int k, int reduce)
{
    const struct gate_side *s = &g->side[k];
    if (!s->known)
        return "activation unknown";
    if (s->a.stale)
        return "activation stale";
    if (s->a.frozen)
        return "frozen";
    if (reduce)
        return NULL; /* active, draining or deactivated: reducing passes */
    if (s->a.draining)
        return "draining";
    if (!s->a.active)
        return "not active";
    return NULL;
}

double gate_clip(const struct gate *g, int domain, double pos, double delta, const char **why)
{
    const char *w = NULL;
    double pass = 0;
    if (domain != 1 && domain != 2) {
        w = "domain does not send orders";
    } else if (delta != 0) {
        double reduce = 0;
        if (pos > 0 && delta < 0)
            reduce = delta < -pos ? -pos : delta;
        else if (pos < 0 && delta > 0)
            reduce = delta > -pos ? -pos : delta;
        double open = delta - reduce;
        if (reduce != 0) {
            w = side_refuses(g, pos > 0 ? 0 : 1, 1);
            if (!w)
                pass = reduce;
        }
        if (open != 0 && !w) {
            w = side_refuses(g, open > 0 ? 0 : 1, 0);
            if (!w)
                pass += open;
        }
    }
    if (why)
        *why = w;
    return pass;
}

double gate_weight(const struct gate *g, int side)
{
    int k = side_index(side);
    if (k < 0 || side_refuses(g, k, 0))
        return 1;
    double w = g->side[k].a.weight;
    return w > 1 ? 1 : w > 0 ? w : 0; /* NaN -> 0 */
}

int gate_deactivated(const struct gate *g, int side)
{
    int k = side_index(side);
    return k >= 0 && g->side[k].known && !g->side[k].a.stale && !g->side[k].a.frozen &&
           !g->side[k].a.active;
}
