/*
 * bus_internal: what host/online/bus.c (publish, consume), bus_owner.c (claims, leases),
 * bus_replan.c (the re-plan after a hot reload) and bus_takeover.c share. Not an API:
 * the contract is host/online/bus.h.
 */
#ifndef QMTL_HOST_BUS_INTERNAL_H
#define QMTL_HOST_BUS_INTERNAL_H

#include "host/online/bus.h"
#include "nodeid.h"

#include <event2/util.h>

struct bus_lease_job;
struct bus_msg;
struct bus_standby;
struct graph_node;

/*
 * ROLE_PUBLISHED  computed here, lease held: outputs go to the queue
 * ROLE_STANDBY    computed here (a strategy here was told to), lease held elsewhere: not
 *                 published, taken over when that lease lapses
 * ROLE_REMOTE     consumed: never computed here, fed from the queue
 * ROLE_TAKEOVER   consumed, lease just taken: still fed until the queue is drained and
 *                 the local data has passed the last stored bucket, then computed here
 * ROLE_CLAIMING   computed here, told to publish, the lease asked for on the lease thread:
 *                 its outputs are held (bus_hold.h) until the answer (published, or
 *                 standby: dropped)
 * ROLE_SWITCH     consumed, now told to compute (a reload's answer): still fed until one
 *                 of its inputs delivers a bucket after the last one fed, then computed
 *                 here (standby; published if its lease comes free meanwhile)
 */
enum {
    ROLE_LOCAL = 0,
    ROLE_PUBLISHED,
    ROLE_STANDBY,
    ROLE_REMOTE,
    ROLE_TAKEOVER,
    ROLE_CLAIMING,
    ROLE_SWITCH
};

#define LEASE_TTL_MS BUS_LEASE_TTL_MS /* an entry expires this long after its last write */
#define LEASE_TICK_MS 250 /* renewed (and lapsed ones taken) this often */

struct remote_sub {
    struct host_bus *b;
    uint32_t idx; /* the node's graph index; GRAPH_NONE: no longer declared (ignored) */
    char durable[18]; /* its durable consumer's name */
};

struct bus_node {
    char id[NODEID_LEN + 1]; /* the node's NodeID: how a DAG swap finds it again */
    uint8_t compute_here;    /* some strategy here was told to compute it */
    uint8_t role;
    int kind;          /* the node's kind before it became remote */
    char *topic;       /* its queue (node_queues or the queue_map topic) */
    char *consumers;   /* "|"-joined names of this host's strategies that consume it */
    char *computers;   /* "|"-joined names of this host's strategies told to compute it */
    struct bus_hold *hold; /* outputs kept until the bus knows whether they go out */
    uint8_t asking;        /* ROLE_CLAIMING: a claim is on the lease thread */
    uint64_t seq;      /* published: last sequence sent; remote: last fed */
    int64_t resume_ts; /* published: outputs up to this bucket are already stored */
    uint64_t lease_rev;
    int64_t fed_ts;      /* remote: bucket of the last value fed */
    int64_t skip_ts;     /* remote after computing here: buckets up to it were emitted */
    int64_t out_ts;      /* bucket of the last output emitted here (INT64_MIN: none) */
    uint64_t target_seq; /* takeover: the last output stored when the lease was taken */
    int64_t target_ts;
    struct remote_sub *sub; /* remote: its subscription (owned by host_bus.subs) */
    int warned;
    struct bus_standby *log; /* remote: its inputs; standby: its outputs (bus_standby.h) */
    unsigned char *state;    /* remote custom node: its state as of output state_seq */
    uint64_t state_seq;
};

struct host_bus {
    struct host *h;
    char *url;
    char world[128];
    struct bus_conn *conn;
    struct bus_node *nodes; /* by graph index */
    size_t n;
    struct remote_sub **subs; /* each stays where it is: the connection holds it */
    size_t n_subs;
    char *scratch; /* NUL-terminated copy of a remote JSON value */
    size_t scratch_cap;
    host_output_fn prev_out;
    void *prev_arg;
    uint64_t fed, duplicates, gaps, refused, takeovers;
    char holder[160]; /* this process's name in the lease bucket */
    char instance[320]; /* this host instance in durable consumer names (host_bus_set_name) */
    struct event *tick;
    struct bus_lease *lease; /* the lease requests' worker thread (bus_lease.h) */
    size_t n_takeover; /* nodes in ROLE_TAKEOVER */
    size_t n_switch;   /* nodes in ROLE_SWITCH */
    struct bus_tagq *tq; /* other hosts' queues joining tag queries here (bus_tagq.h) */
    size_t n_logs;         /* nodes with a log (bus_standby.h) */
    uint64_t unrecomputed; /* buckets a takeover could not recompute (a log's limit) */
};

/* Indicator and custom nodes are shared; streams, tag queries, signals, orders never. */
int bus_shareable_(int kind);

/* Apply strategy 'strat''s answer to node i (it owns it): told to consume (queue_map
 * topic) or to compute (its node_queues topic, if any). 0, or -1 out of memory. */
int bus_plan_node_(struct host_bus *b, uint32_t i, const char *strategy, const json_t *qm,
                   const json_t *nq);

/* Node i is computed here and has a queue: it becomes ROLE_CLAIMING (its outputs held)
 * and its lease is asked for on the lease thread; the answer publishes it (the held
 * outputs first, continuing after what its stream holds) or makes it standby. 0, or -1
 * with err (out of memory: the node stays as it was). */
int bus_claim_node_(struct host_bus *b, uint32_t i, char *err, size_t errlen);

/* Queue one job on the lease thread (bus_lease_push): op on 'key' for node idx (GRAPH_NONE
 * for none), 'name' the durable consumer of a BUS_LEASE_FORGET. 0, or -1 (out of memory,
 * not started: nothing asked). */
int bus_push_(struct host_bus *b, int op, uint32_t idx, int tag, const char *key,
              const char *name);

/* host/online/bus_owner.c: claims, leases and their answers. */

/* The lease thread's answers to a batch of jobs (bus_lease_done_fn), on the loop thread:
 * a node whose role, queue or revision changed since its request was made is left
 * alone (a lease taken for nothing is given up). */
void bus_lease_done_(void *arg, struct bus_lease_job *jobs, size_t n_jobs);
/* Every lease tick (the timer's callback, arg the host_bus): renew what this host holds,
 * ask for what lapsed, on the lease thread. */
void bus_lease_tick_(evutil_socket_t fd, short what, void *arg);
/* Stopping with node i still claiming: its lease is asked on the calling thread, so what
 * it held is published or dropped. */
void bus_claim_now_(struct host_bus *b, uint32_t i);
/* bus.c: the lease of node i was taken: the outputs it held go to its queue first, in
 * order (the node's state with the newest); the hold is freed. */
void bus_flush_hold_(struct host_bus *b, uint32_t i);

/* Stop consuming node bn (its subscription is cancelled) and delete its durable consumer
 * on the lease thread. */
void bus_unconsume_(struct host_bus *b, struct bus_node *bn);

/* Node 'up' emitted bucket ts: a node in ROLE_SWITCH it feeds, past the last bucket fed,
 * is computed here from this wave on (standby), its consumer stopped and deleted. */
void bus_switch_(struct host_bus *b, const struct graph_node *up, int64_t ts);

/* "|"-joined name lists: add 'name' unless there, remove it. 0, or -1 out of memory. */
int bus_list_add_(char **list, const char *name);
void bus_list_remove_(char *list, const char *name);

/* Node i is consumed: it becomes GRAPH_REMOTE and its durable consumer starts. 0, or -1
 * with err (the node is left as it was). */
int bus_consume_node_(struct host_bus *b, uint32_t i, char *err, size_t errlen);

/* host/online/bus_takeover.c: what a host keeps of a node it does not publish, and how it
 * continues exactly after the last stored output when it takes the node over. */

/* Node i just became remote or standby: its log starts (inputs or outputs). */
void bus_log_start_(struct host_bus *b, uint32_t i);
/* Forget node bn's log and carried state. */
void bus_log_stop_(struct host_bus *b, struct bus_node *bn);
/* Every output of node n (the output hook, inside a wave): logged for the nodes that
 * keep a log; a node taking over whose queue is drained and whose inputs pass the last
 * stored bucket is computed here from this wave on. */
void bus_log_output_(struct host_bus *b, struct graph_node *n, int64_t ts,
                     const struct qmtl_value *v);
/* Remote node i was fed output m from its queue (outside a wave): its log confirms that
 * bucket, the state it carries is kept (refused unless it is the node's state_size), and a
 * takeover whose queue is now drained completes. */
void bus_remote_fed_(struct host_bus *b, uint32_t i, const struct bus_msg *m);
/* Node i's takeover (ROLE_TAKEOVER), outside a wave: once its queue is drained, the node
 * recomputes what its log holds after the last stored bucket and is computed here. */
void bus_takeover_try_(struct host_bus *b, uint32_t i);
/* Standby node i took the lease (publishing continues after the stored output): the
 * outputs it computed after the last stored bucket are published now. */
void bus_standby_catch_up_(struct host_bus *b, uint32_t i);

#endif
