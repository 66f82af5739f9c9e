/* bus_batcher: node outputs into version 2 bus messages, per topic (see bus_batcher.h). */
#include "bus_batcher.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The open batch of one topic. */
struct batch {
    char *topic;
    char subject[BUS_NAME_MAX];
    char node_id[BUS_NODE_ID_MAX + 1];
    uint64_t first, next; /* sequence of the first output, and of the one that continues it */
    uint32_t count;       /* outputs in buf (0: no open batch) */
    int dirty;            /* on the dirty list */
    unsigned char *buf;
    size_t len, cap;
    unsigned char *state; /* the state given with the last output (state_len bytes) */
    size_t state_len, state_cap;
};

struct bus_batcher {
    struct event *ev; /* end of the loop batch */
    int armed;
    bus_send_fn send;
    void *arg;
    struct batch **slot; /* open addressing by topic; cap_slot is a power of 2 */
    size_t n, cap_slot;
    struct batch **dirty; /* batches holding outputs, in the order they opened */
    size_t n_dirty, cap_dirty;
    struct batch *last; /* outputs of one node often come in a row */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct batch **find_slot(struct batch **slot, size_t cap, const char *topic)
{
    size_t i = (size_t)hash(topic) & (cap - 1);
    while (slot[i] && strcmp(slot[i]->topic, topic) != 0)
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

static int grow_slots(struct bus_batcher *b)
{
    size_t cap = b->cap_slot ? b->cap_slot * 2 : 16;
    struct batch **slot = calloc(cap, sizeof(*slot));
    if (!slot)
        return -1;
    for (size_t i = 0; i < b->cap_slot; i++)
        if (b->slot[i])
            *find_slot(slot, cap, b->slot[i]->topic) = b->slot[i];
    free(b->slot);
    b->slot = slot;
    b->cap_slot = cap;
    return 0;
}

/* The batch of 'topic', created when missing; NULL with err. */
static struct batch *lookup(struct bus_batcher *b, const char *topic, char *err, size_t errlen)
{
    if (b->last && strcmp(b->last->topic, topic) == 0)
        return b->last;
    if ((b->n + 1) * 2 > b->cap_slot && grow_slots(b) < 0)
        goto oom;
    struct batch **s = find_slot(b->slot, b->cap_slot, topic);
    if (!*s) {
        struct batch *bt = calloc(1, sizeof(*bt));
        if (!bt)
            goto oom;
        if (bus_subject(topic, bt->subject, sizeof(bt->subject)) < 0) {
            free(bt);
            snprintf(err, errlen, "bus: topic '%.200s' gives no valid subject", topic);
            return NULL;
        }
        if (!(bt->topic = strdup(topic))) {
            free(bt);
            goto oom;
        }
        *s = bt;
        b->n++;
    }
    return b->last = *s;
oom:
    snprintf(err, errlen, "out of memory");
    return NULL;
}

/* Hand the open batch over (if any); 0, or -1 when the send function refused it. The
 * batch is closed either way. */
static int send_batch(struct bus_batcher *b, struct batch *bt)
{
    if (!bt->count)
        return 0;
    char id[BUS_MSG_ID_MAX];
    bus_batch_msg_id(bt->node_id, bt->first, bt->first + bt->count - 1, id, sizeof(id));
    if (bt->state_len) { /* room was made by bus_batcher_put_state */
        char err[8];
        size_t len = bus_batch_set_state(bt->buf, bt->len, bt->cap, bt->state, bt->state_len,
                                         err, sizeof(err));
        if (len)
            bt->len = len;
        bt->state_len = 0;
    }
    int rc = b->send(b->arg, bt->subject, id, bt->buf, bt->len, bt->count);
    bt->count = 0;
    bt->len = 0;
    return rc < 0 ? -1 : 0;
}

int bus_batcher_flush(struct bus_batcher *b)
{
    int refused = 0;
    for (size_t i = 0; i < b->n_dirty; i++) {
        refused -= send_batch(b, b->dirty[i]);
        b->dirty[i]->dirty = 0;
    }
    b->n_dirty = 0;
    return refused;
}

static void on_loop_batch_end(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct bus_batcher *b = arg;
    b->armed = 0;
    bus_batcher_flush(b);
}

struct bus_batcher *bus_batcher_new(struct event_base *base, bus_send_fn send, void *arg)
{
    struct bus_batcher *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->send = send;
    b->arg = arg;
    if (!(b->ev = event_new(base, -1, 0, on_loop_batch_end, b))) {
        free(b);
        return NULL;
    }
    return b;
}

void bus_batcher_free(struct bus_batcher *b)
{
    if (!b)
        return;
    event_free(b->ev);
    for (size_t i = 0; i < b->cap_slot; i++)
        if (b->slot[i]) {
            free(b->slot[i]->topic);
            free(b->slot[i]->buf);
            free(b->slot[i]->state);
            free(b->slot[i]);
        }
    free(b->slot);
    free(b->dirty);
    free(b);
}

/* *buf holds at least 'need' bytes (grown when *cap is smaller); -1 with err. */
static int room(unsigned char **buf, size_t *cap, size_t need, char *err, size_t errlen)
{
    if (*cap >= need)
        return 0;
    unsigned char *p = realloc(*buf, need);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *buf = p;
    *cap = need;
    return 0;
}

/* Open a batch on bt for node_id from seq, with room for one entry of e bytes. */
static int open_batch(struct bus_batcher *b, struct batch *bt, const char *node_id, uint64_t seq,
                      size_t e, char *err, size_t errlen)
{
    size_t need = BUS_BATCH_HEADER_LEN(BUS_NODE_ID_MAX) + e;
    if (need < BUS_BATCHER_BYTES)
        need = BUS_BATCHER_BYTES;
    if (room(&bt->buf, &bt->cap, need, err, errlen) < 0)
        return -1;
    if (!bt->dirty) {
        if (b->n_dirty == b->cap_dirty) {
            size_t cap = b->cap_dirty ? b->cap_dirty * 2 : 16;
            struct batch **d = realloc(b->dirty, cap * sizeof(*d));
            if (!d) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            b->dirty = d;
            b->cap_dirty = cap;
        }
        b->dirty[b->n_dirty++] = bt;
        bt->dirty = 1;
    }
    if (!(bt->len = bus_batch_begin(node_id, seq, bt->buf, bt->cap, err, errlen)))
        return -1;
    snprintf(bt->node_id, sizeof(bt->node_id), "%s", node_id);
    bt->first = seq;
    if (!b->armed) {
        event_active(b->ev, EV_TIMEOUT, 1);
        b->armed = 1;
    }
    return 0;
}

int bus_batcher_put(struct bus_batcher *b, const char *topic, const char *node_id, int64_t ts,
                    uint64_t seq, const struct qmtl_value *v, char *err, size_t errlen)
{
    return bus_batcher_put_state(b, topic, node_id, ts, seq, v, NULL, 0, err, errlen);
}

int bus_batcher_put_state(struct bus_batcher *b, const char *topic, const char *node_id,
                          int64_t ts, uint64_t seq, const struct qmtl_value *v, const void *state,
                          size_t state_len, char *err, size_t errlen)
{
    if (!state)
        state_len = 0;
    if (state_len > BUS_STATE_MAX) {
        snprintf(err, errlen, "bus message: state of %zu bytes, at most %u are carried",
                 state_len, BUS_STATE_MAX);
        return -1;
    }
    struct batch *bt = lookup(b, topic, err, errlen);
    if (!bt)
        return -1;
    size_t e = bus_batch_entry_size(v);
    if (!e) { /* let the codec say why, touching nothing */
        bus_batch_add(bt->buf, bt->len, 0, ts, v, err, errlen);
        return -1;
    }
    if (bt->count && (seq != bt->next || bt->len + e > BUS_BATCHER_BYTES ||
                      strcmp(bt->node_id, node_id) != 0))
        send_batch(b, bt);
    if (!bt->count && open_batch(b, bt, node_id, seq, e + (state_len ? 4 + state_len : 0), err,
                                 errlen) < 0)
        return -1;
    if (state_len && (room(&bt->buf, &bt->cap, bt->len + e + 4 + state_len, err, errlen) < 0 ||
                      room(&bt->state, &bt->state_cap, state_len, err, errlen) < 0))
        return -1;
    size_t len = bus_batch_add(bt->buf, bt->len, bt->cap, ts, v, err, errlen);
    if (!len) /* not expected: open_batch made room for it */
        return -1;
    bt->len = len;
    bt->count++;
    bt->next = seq + 1;
    if (state_len)
        memcpy(bt->state, state, state_len);
    bt->state_len = state_len;
    if (bt->count >= BUS_BATCHER_OUTPUTS)
        send_batch(b, bt);
    return 0;
}
