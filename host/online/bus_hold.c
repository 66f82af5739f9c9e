/* bus_hold: outputs kept until the bus knows where they go (see bus_hold.h). */
#include "host/online/bus_hold.h"

#include <stdlib.h>
#include <string.h>

struct held {
    int64_t ts;
    struct qmtl_value v; /* a JSON value points to its own malloc'd copy */
};

struct bus_hold {
    struct held *items;
    size_t n, cap;
    size_t json_bytes;
    int over;
};

struct bus_hold *bus_hold_new(void)
{
    return calloc(1, sizeof(struct bus_hold));
}

int bus_hold_add(struct bus_hold *h, int64_t ts, const struct qmtl_value *v)
{
    size_t len = v->type == QMTL_T_JSON && v->as.json ? strlen(v->as.json) + 1 : 0;
    if (h->over || h->n >= BUS_HOLD_MAX || h->json_bytes + len > BUS_HOLD_MAX_BYTES) {
        h->over = 1;
        return -1;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        struct held *p = realloc(h->items, cap * sizeof(*p));
        if (!p) {
            h->over = 1;
            return -1;
        }
        h->items = p;
        h->cap = cap;
    }
    struct held *x = &h->items[h->n];
    x->ts = ts;
    x->v = *v;
    if (len) {
        char *copy = malloc(len);
        if (!copy) {
            h->over = 1;
            return -1;
        }
        memcpy(copy, v->as.json, len);
        x->v.as.json = copy;
        h->json_bytes += len;
    }
    h->n++;
    return 0;
}

int bus_hold_over(const struct bus_hold *h)
{
    return h->over;
}

size_t bus_hold_count(const struct bus_hold *h)
{
    return h->n;
}

void bus_hold_get(const struct bus_hold *h, size_t i, int64_t *ts, struct qmtl_value *v)
{
    *ts = h->items[i].ts;
    *v = h->items[i].v;
}

void bus_hold_free(struct bus_hold *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        if (h->items[i].v.type == QMTL_T_JSON)
            free((char *)h->items[i].v.as.json);
    free(h->items);
    free(h);
}
