/* bus_standby: what a host keeps of a node it does not publish (see bus_standby.h). */
#include "host/online/bus_standby.h"

#include "host/dag/builtins.h"
#include "host/dag/node_cache.h"
#include "host/dag/runtime.h"
#include "host/dag/scheduler.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    uint32_t slot;
    uint64_t wave;
    int64_t ts;
    struct qmtl_value v; /* JSON text owned */
};

struct bus_standby {
    size_t limit;
    /* inputs mode: the node's input windows and built-in state as of the last confirmed
     * bucket (n_in > 0) */
    uint32_t n_in;
    int64_t confirmed, interval; /* the last bucket the stream delivered, the node's interval */
    struct nc_ring **rings;
    char **up_ids; /* the rings' upstream NodeIDs (owned: the graph may be swapped) */
    struct builtin *bi;
    /* the log: a FIFO of entries */
    struct entry *e;
    size_t head, len, cap;
    /* items that left the log unconfirmed (its limit): their bucket range */
    uint64_t lost_n;
    int64_t lost_from, lost_to;
    /* outputs mode: the state after the newest output */
    unsigned char *state;
    size_t state_len, state_cap;
};

/* The node's bucket an input item of 'ts' counts for. */
static int64_t node_bucket(int64_t ts, int64_t interval)
{
    return interval > 0 ? nc_bucket(ts, interval) : ts;
}

static struct entry *at(const struct bus_standby *s, size_t k)
{
    return &s->e[(s->head + k) % s->cap];
}

static void entry_release(struct entry *x)
{
    if (x->v.type == QMTL_T_JSON)
        free((char *)x->v.as.json);
    x->v = qmtl_none();
}

static void note_lost(struct bus_standby *s, int64_t ts)
{
    if (!s->lost_n || ts < s->lost_from)
        s->lost_from = ts;
    if (!s->lost_n || ts > s->lost_to)
        s->lost_to = ts;
    s->lost_n++;
}

/* Append one item to ring slot of the windows (and the built-in state). */
static void absorb(struct bus_standby *s, uint32_t slot, int64_t ts, const struct qmtl_value *v)
{
    struct nc_ring *r = s->rings[slot];
    enum nc_status st = nc_ring_append(r, ts, v);
    if (st == NC_LATE) {
        enum nc_status li = nc_ring_insert_late(r, ts, v);
        if (s->bi && (li == NC_OK || li == NC_DUP))
            builtin_rebuild(s->bi, &r->w);
        return;
    }
    if (s->bi && st != NC_ERR)
        builtin_absorb(s->bi, slot, st, &r->w, r->has_evicted ? &r->evicted : NULL);
}

/* The oldest entry leaves the log (into the windows in inputs mode). */
static void pop(struct bus_standby *s, int into_windows)
{
    struct entry *x = at(s, 0);
    if (into_windows && s->n_in)
        absorb(s, x->slot, x->ts, &x->v);
    entry_release(x);
    s->head = (s->head + 1) % s->cap;
    s->len--;
}

/* Room for one more entry: grown, or the oldest leaves unconfirmed. -1 out of memory. */
static int make_room(struct bus_standby *s)
{
    if (s->len == s->limit) {
        note_lost(s, at(s, 0)->ts);
        pop(s, 1);
    }
    if (s->len < s->cap)
        return 0;
    size_t cap = s->cap ? s->cap * 2 : 64;
    if (cap > s->limit)
        cap = s->limit;
    struct entry *e = malloc(cap * sizeof(*e));
    if (!e)
        return -1;
    for (size_t k = 0; k < s->len; k++)
        e[k] = *at(s, k);
    free(s->e);
    s->e = e;
    s->cap = cap;
    s->head = 0;
    return 0;
}

static int push(struct bus_standby *s, uint32_t slot, uint64_t wave, int64_t ts,
                const struct qmtl_value *v)
{
    if (make_room(s) < 0) {
        note_lost(s, ts);
        return -1;
    }
    struct entry x = {.slot = slot, .wave = wave, .ts = ts, .v = *v};
    if (v->type == QMTL_T_JSON && !(x.v.as.json = strdup(v->as.json ? v->as.json : "null"))) {
        note_lost(s, ts);
        return -1;
    }
    *at(s, s->len) = x;
    s->len++;
    return 0;
}

static struct bus_standby *alloc_log(size_t limit)
{
    struct bus_standby *s = calloc(1, sizeof(*s));
    if (s) {
        s->limit = limit ? limit : 1;
        s->confirmed = INT64_MIN;
    }
    return s;
}

struct bus_standby *bus_standby_inputs(const struct rt_node *x, size_t limit)
{
    struct bus_standby *s = alloc_log(limit);
    if (!s)
        return NULL;
    s->n_in = x->n_in;
    s->rings = calloc(x->n_in ? x->n_in : 1, sizeof(*s->rings));
    s->up_ids = calloc(x->n_in ? x->n_in : 1, sizeof(*s->up_ids));
    if (!s->rings || !s->up_ids)
        goto oom;
    if (x->bi) {
        const struct builtin *b = x->bi;
        if (!(s->bi = calloc(1, sizeof(*s->bi))) ||
            builtin_init(s->bi, b->kind, b->window, b->alpha, b->field) < 0) {
            free(s->bi);
            s->bi = NULL;
            goto oom;
        }
    }
    for (uint32_t i = 0; i < x->n_in; i++) {
        const struct qmtl_window *w = rt_input(x, i);
        if (!(s->up_ids[i] = strdup(w->upstream_id ? w->upstream_id : "")) ||
            !(s->rings[i] = nc_ring_new(w->cap, w->interval, s->up_ids[i])))
            goto oom;
    }
    /* what the live windows hold now is where the log starts (a node consumed after it
     * was computed here for a while) */
    for (uint32_t i = 0; i < x->n_in; i++) {
        const struct qmtl_window *w = rt_input(x, i);
        for (uint32_t k = w->count; k-- > 0;) {
            uint32_t h = (w->head + w->cap - k) % w->cap;
            absorb(s, i, w->ts[h], &w->values[h]);
        }
    }
    return s;
oom:
    bus_standby_free(s);
    return NULL;
}

struct bus_standby *bus_standby_outputs(size_t limit)
{
    return alloc_log(limit);
}

void bus_standby_free(struct bus_standby *s)
{
    if (!s)
        return;
    while (s->len)
        pop(s, 0);
    for (uint32_t i = 0; s->rings && i < s->n_in; i++)
        nc_ring_free(s->rings[i]);
    for (uint32_t i = 0; s->up_ids && i < s->n_in; i++)
        free(s->up_ids[i]);
    if (s->bi) {
        builtin_release(s->bi);
        free(s->bi);
    }
    free(s->rings);
    free(s->up_ids);
    free(s->e);
    free(s->state);
    free(s);
}

int bus_standby_input(struct bus_standby *s, uint32_t slot, uint64_t wave, int64_t ts,
                      const struct qmtl_value *v)
{
    if (slot >= s->n_in)
        return -1;
    if (s->confirmed != INT64_MIN && node_bucket(ts, s->interval) <= s->confirmed) {
        absorb(s, slot, ts, v); /* the stream holds that bucket already (data behind) */
        return 0;
    }
    return push(s, slot, wave, ts, v);
}

void bus_standby_confirm(struct bus_standby *s, int64_t bucket, int64_t interval)
{
    s->interval = interval;
    if (bucket > s->confirmed)
        s->confirmed = bucket;
    while (s->len && node_bucket(at(s, 0)->ts, interval) <= bucket)
        pop(s, 1);
    if (s->lost_n && s->lost_to <= bucket)
        s->lost_n = 0; /* the stream holds those buckets: nothing is missing */
}

long bus_standby_replay(struct bus_standby *s, struct sched *sch, uint32_t idx, int64_t after,
                        int64_t interval)
{
    struct rt_node *x = runtime_node(sched_runtime(sch), idx);
    if (!x || x->n_in != s->n_in)
        return -1;
    bus_standby_confirm(s, after, interval);
    struct sched_item *items = malloc((s->len ? s->len : 1) * sizeof(*items));
    struct nc_ring **live = malloc((s->n_in ? s->n_in : 1) * sizeof(*live));
    if (!items || !live) {
        free(items);
        free(live);
        return -1;
    }
    struct nc_ring *live1 = x->in_ring1;
    struct builtin *live_bi = x->bi;
    for (uint32_t i = 0; i < s->n_in; i++) {
        live[i] = x->in_rings[i];
        x->in_rings[i] = s->rings[i];
    }
    x->in_ring1 = s->n_in ? s->rings[0] : NULL;
    if (live_bi && s->bi)
        x->bi = s->bi;
    long waves = 0;
    int rc = 0;
    while (s->len && rc == 0) {
        uint64_t wave = at(s, 0)->wave;
        size_t n = 0;
        for (size_t k = 0; k < s->len && at(s, k)->wave == wave; k++) {
            const struct entry *e = at(s, k);
            items[n++] = (struct sched_item){.slot = e->slot, .ts = e->ts, .value = e->v};
        }
        rc = sched_feed_inputs(sch, idx, items, n);
        waves += rc == 0;
        while (n--)
            pop(s, 0);
    }
    for (uint32_t i = 0; i < s->n_in; i++)
        x->in_rings[i] = live[i];
    x->in_ring1 = live1;
    x->bi = live_bi;
    free(live);
    free(items);
    return rc < 0 ? -1 : waves;
}

int bus_standby_output(struct bus_standby *s, int64_t ts, const struct qmtl_value *v,
                       const void *state, size_t state_len)
{
    if (push(s, 0, 0, ts, v) < 0)
        return -1;
    if (!state)
        state_len = 0;
    if (state_len > s->state_cap) {
        unsigned char *p = realloc(s->state, state_len);
        if (!p) {
            s->state_len = 0;
            return -1;
        }
        s->state = p;
        s->state_cap = state_len;
    }
    if (state_len)
        memcpy(s->state, state, state_len);
    s->state_len = state_len;
    return 0;
}

size_t bus_standby_each_after(const struct bus_standby *s, int64_t after, bus_standby_fn fn,
                              void *arg)
{
    size_t n = 0;
    for (size_t k = 0; k < s->len; k++) {
        const struct entry *e = at(s, k);
        if (e->ts <= after)
            continue;
        int newest = k + 1 == s->len;
        fn(arg, e->ts, &e->v, newest && s->state_len ? s->state : NULL,
           newest ? s->state_len : 0);
        n++;
    }
    return n;
}

size_t bus_standby_count_after(const struct bus_standby *s, int64_t after, int64_t interval)
{
    size_t n = 0;
    for (size_t k = 0; k < s->len; k++)
        n += node_bucket(at(s, k)->ts, interval) > after;
    return n;
}

uint64_t bus_standby_lost(const struct bus_standby *s, int64_t after, int64_t interval)
{
    if (!s->lost_n || s->lost_to <= after)
        return 0;
    if (interval <= 0)
        return s->lost_n;
    int64_t from = s->lost_from > after ? s->lost_from : after + interval;
    uint64_t n = from > s->lost_to ? 1 : (uint64_t)((s->lost_to - from) / interval) + 1;
    return n < s->lost_n ? n : s->lost_n;
}

size_t bus_standby_len(const struct bus_standby *s)
{
    return s->len;
}
