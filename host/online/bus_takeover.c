/*
 * bus_takeover: how a host that takes a shared node's lease over continues exactly after
 * the last output its stream holds (see bus_internal.h, bus_standby.h and
 * docs/scale-out.md, "Ownership"):
 *  - a consumed node keeps a log of its inputs; once its queue is drained, it recomputes
 *    every bucket after the last stored one from that log (even buckets its inputs here
 *    have passed), from the state the stream carried (a custom node's), publishing each
 *    output and feeding its children in order, then it is computed here;
 *  - a standby node keeps a log of its outputs; it publishes those after the last stored
 *    bucket, then goes on.
 * Each node continues from its own last stored bucket, so a node and its child taken
 * over together (the owner died between their publishes of one wave) miss nothing.
 */
#include "host/online/bus_internal.h"
#include "host/online/bus_standby.h"

#include "bus_nats.h"
#include "host/dag/graph.h"
#include "host/dag/runtime.h"
#include "host/dag/scheduler.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

static struct rt_node *rt_of(const struct host_bus *b, uint32_t i)
{
    return runtime_node(sched_runtime(b->h->s), i);
}

void bus_log_start_(struct host_bus *b, uint32_t i)
{
    struct bus_node *bn = &b->nodes[i];
    const struct rt_node *x = rt_of(b, i);
    if (bn->log || !x)
        return;
    if (bn->role == ROLE_STANDBY)
        bn->log = bus_standby_outputs(BUS_STANDBY_LOG_MAX);
    else if (bn->role == ROLE_REMOTE)
        bn->log = bus_standby_inputs(x, BUS_STANDBY_LOG_MAX);
    else
        return;
    if (bn->log)
        b->n_logs++;
    else
        LOG_WARN("bus",
                 "node '%s': out of memory for its log; a takeover will not recompute what "
                 "its owner had not stored",
                 graph_node(b->h->g, i)->label);
}

void bus_log_stop_(struct host_bus *b, struct bus_node *bn)
{
    if (bn->log) {
        bus_standby_free(bn->log);
        bn->log = NULL;
        b->n_logs--;
    }
    free(bn->state);
    bn->state = NULL;
    bn->state_seq = 0;
}

/* Where node bn continues: after the later of what was stored and what was fed. */
static int64_t resume_bucket(const struct bus_node *bn)
{
    return bn->fed_ts > bn->target_ts ? bn->fed_ts : bn->target_ts;
}

static int64_t node_bucket(const struct graph_node *t, int64_t ts)
{
    return t->interval > 0 ? ts - ts % t->interval : ts;
}

static void warn_lost(struct host_bus *b, const struct graph_node *t, uint64_t lost, int64_t after)
{
    if (!lost)
        return;
    b->unrecomputed += lost;
    LOG_WARN("bus",
             "node '%s' (%s): %llu bucket(s) after %lld could not be recomputed (its log "
             "keeps %d items at most); its consumers miss them",
             t->label, t->id, (unsigned long long)lost, (long long)after, BUS_STANDBY_LOG_MAX);
}

/* Takeover of node i completes: computed (and published) here; with 'replay', what its
 * log holds after the last stored bucket is recomputed first (outside a wave). */
static void go_live(struct host_bus *b, uint32_t i, int replay)
{
    struct bus_node *bn = &b->nodes[i];
    struct graph_node *t = graph_node(b->h->g, i);
    t->kind = bn->kind;
    runtime_refresh(sched_runtime(b->h->s), i);
    bn->role = ROLE_PUBLISHED;
    if (bn->seq < bn->target_seq)
        bn->seq = bn->target_seq;
    bn->resume_ts = resume_bucket(bn);
    b->n_takeover--;
    b->takeovers++;
    struct rt_node *x = rt_of(b, i);
    if (x && x->state && t->state_size && bn->seq) {
        if (bn->state && bn->state_seq == bn->seq)
            memcpy(x->state, bn->state, t->state_size);
        else
            LOG_WARN("bus",
                     "node '%s' (%s): its queue carries no state as of sequence %llu; "
                     "computed on from the state it has here",
                     t->label, t->id, (unsigned long long)bn->seq);
    }
    long waves = 0;
    if (bn->log) {
        warn_lost(b, t, bus_standby_lost(bn->log, bn->resume_ts, t->interval), bn->resume_ts);
        if (replay && (waves = bus_standby_replay(bn->log, b->h->s, i, bn->resume_ts,
                                                  t->interval)) < 0)
            LOG_WARN("bus", "node '%s' (%s): its log could not be replayed", t->label, t->id);
    }
    bus_log_stop_(b, bn);
    LOG_INFO("bus",
             "node '%s' (%s): computed here after bucket %lld (%ld wave(s) of its inputs "
             "recomputed), published after sequence %llu",
             t->label, t->id, (long long)bn->resume_ts, waves > 0 ? waves : 0,
             (unsigned long long)bn->seq);
}

void bus_takeover_try_(struct host_bus *b, uint32_t i)
{
    struct bus_node *bn = &b->nodes[i];
    if (bn->role != ROLE_TAKEOVER || bn->seq < bn->target_seq || sched_in_wave(b->h->s))
        return;
    const struct graph_node *t = graph_node(b->h->g, i);
    /* inputs already past the last stored bucket: recompute them now; otherwise the node
     * is computed from the first wave that passes it (bus_log_output_) */
    if (bn->log && bus_standby_count_after(bn->log, resume_bucket(bn), t->interval))
        go_live(b, i, 1);
}

void bus_log_output_(struct host_bus *b, struct graph_node *n, int64_t ts,
                     const struct qmtl_value *v)
{
    if (n->idx < b->n) {
        struct bus_node *bn = &b->nodes[n->idx];
        const struct rt_node *x = bn->log && bn->role == ROLE_STANDBY ? rt_of(b, n->idx) : NULL;
        int carried = x && x->state && n->state_size <= BUS_STATE_MAX; /* as published */
        if (x)
            bus_standby_output(bn->log, ts, v, carried ? x->state : NULL,
                               carried ? n->state_size : 0);
    }
    for (uint32_t k = 0; k < n->n_out; k++) {
        uint32_t c = n->out[k].node;
        struct bus_node *cn = c < b->n ? &b->nodes[c] : NULL;
        if (!cn || (cn->role != ROLE_REMOTE && cn->role != ROLE_TAKEOVER))
            continue;
        if (cn->role == ROLE_TAKEOVER && cn->seq >= cn->target_seq &&
            node_bucket(graph_node(b->h->g, c), ts) > resume_bucket(cn) &&
            (!cn->log || !bus_standby_count_after(cn->log, resume_bucket(cn),
                                                  graph_node(b->h->g, c)->interval))) {
            /* nothing logged after the stored bucket: this wave is the first to pass it,
             * and the live windows hold what the node needs */
            go_live(b, c, 0);
            continue;
        }
        if (cn->log)
            bus_standby_input(cn->log, n->out[k].slot, sched_waves(b->h->s), ts, v);
    }
}

void bus_remote_fed_(struct host_bus *b, uint32_t i, const struct bus_msg *m)
{
    struct bus_node *bn = &b->nodes[i];
    const struct graph_node *t = graph_node(b->h->g, i);
    if (bn->log)
        bus_standby_confirm(bn->log, m->ts, t->interval);
    if (m->state) {
        if (m->state_len != t->state_size) {
            b->refused++;
            free(bn->state);
            bn->state = NULL;
            bn->state_seq = 0;
            LOG_WARN("bus",
                     "node '%s' (%s): field 'state': %u bytes at sequence %llu, its state_size "
                     "is %zu; refused",
                     t->label, t->id, (unsigned)m->state_len, (unsigned long long)m->seq,
                     t->state_size);
        } else {
            if (!bn->state)
                bn->state = malloc(t->state_size);
            if (bn->state) {
                memcpy(bn->state, m->state, t->state_size);
                bn->state_seq = m->seq;
            }
        }
    }
    bus_takeover_try_(b, i);
}

struct catch_up {
    struct host_bus *b;
    struct bus_node *bn;
    const struct graph_node *t;
    int64_t last;
};

static void publish_logged(void *arg, int64_t ts, const struct qmtl_value *v, const void *state,
                           size_t state_len)
{
    struct catch_up *cu = arg;
    char err[300];
    if (bus_conn_publish_state(cu->b->conn, cu->bn->topic, cu->t->id, ts, cu->bn->seq + 1, v,
                               state, state_len, err, sizeof(err)) == 0) {
        cu->bn->seq++;
        cu->last = ts;
    } else if (!cu->bn->warned++) {
        LOG_WARN("bus", "node '%s' (%s): output not published: %s", cu->t->label, cu->t->id, err);
    }
}

void bus_standby_catch_up_(struct host_bus *b, uint32_t i)
{
    struct bus_node *bn = &b->nodes[i];
    const struct graph_node *t = graph_node(b->h->g, i);
    if (bn->log && b->conn && bn->role == ROLE_PUBLISHED) {
        warn_lost(b, t, bus_standby_lost(bn->log, bn->resume_ts, t->interval), bn->resume_ts);
        struct catch_up cu = {b, bn, t, bn->resume_ts};
        size_t n = bus_standby_each_after(bn->log, bn->resume_ts, publish_logged, &cu);
        if (n)
            LOG_INFO("bus",
                     "node '%s' (%s): %zu output(s) computed here after bucket %lld published "
                     "(up to sequence %llu)",
                     t->label, t->id, n, (long long)bn->resume_ts, (unsigned long long)bn->seq);
        bn->resume_ts = cu.last;
    }
    bus_log_stop_(b, bn);
}
