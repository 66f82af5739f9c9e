/*
 * bus_lease: the lease requests of a bus (renew, take, and the stream's last output after
 * a take; release; deleting a durable consumer no longer used) run on a worker thread of
 * their own, so a slow JetStream or key-value request never holds the host's loop. The
 * loop thread hands over a batch of jobs; the worker runs the batches in the order they
 * came, each job in order, against the bus connection (libnats is thread-safe); the
 * results of each batch come back on the loop thread through a pipe watched by the loop,
 * in one call of the done function per batch.
 *
 * Two ways in: bus_lease_submit (the periodic renewals) takes one batch at a time: while
 * one is in flight bus_lease_busy is 1 and the caller waits for its results before
 * deciding anything (no decision is taken on data older than the batch).
 * bus_lease_push (claims, releases, deletions decided on the loop) always queues, busy or
 * not, behind what is already queued. Each request is bounded by the client's request
 * timeout.
 *
 * Threads: every function below is called on the loop thread only.
 */
#ifndef QMTL_HOST_BUS_LEASE_H
#define QMTL_HOST_BUS_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bus_conn;

/* RELEASE: give 'key' up (bus_conn_lease_release; rc 1). FORGET: delete the durable
 * consumer 'name' of the queue 'key' (bus_conn_delete_consumer: rc 0 deleted, 1 none). */
enum { BUS_LEASE_RENEW = 1, BUS_LEASE_TAKE, BUS_LEASE_RELEASE, BUS_LEASE_FORGET };

struct bus_lease_job {
    /* in */
    uint32_t idx;  /* the caller's: which node */
    int tag;       /* the caller's: e.g. the node's role when submitted */
    int op;        /* BUS_LEASE_RENEW or BUS_LEASE_TAKE */
    char *key;     /* the lease key, malloc'd: owned by the batch from bus_lease_submit on */
    uint64_t held; /* renew: the revision held when submitted */
    char name[32]; /* forget: the durable consumer */
    /* out */
    int rc;        /* as bus_conn_lease_renew / bus_conn_lease_take: 1, 0, -1 */
    uint64_t rev;  /* rc 1: the entry's revision now */
    int last_rc;   /* take with rc 1: as bus_conn_last_output (0, 1 empty, -1) */
    int64_t last_ts;
    uint64_t last_seq;
    char err[200]; /* rc or last_rc -1: why */
};

/* The results of one batch, on the loop thread. 'jobs' is freed (keys too) on return. */
typedef void (*bus_lease_done_fn)(void *arg, struct bus_lease_job *jobs, size_t n);

struct bus_lease;

/* A worker for the leases of 'holder' on 'c' (lease bucket already open: bus_conn_lease_open),
 * its results handed to fn(arg, ...) on 'base''s loop. NULL with err. 'c' must outlive it. */
struct bus_lease *bus_lease_new(struct event_base *base, struct bus_conn *c, const char *holder,
                                bus_lease_done_fn fn, void *arg, char *err, size_t errlen);

/* 1 while a batch is in flight (submitted, its results not yet handed over). */
int bus_lease_busy(const struct bus_lease *l);

/* Hand a batch of n jobs (malloc'd array) to the worker; the batch is owned by 'l' from
 * here on, also on failure. 0, or -1 (a batch already in flight, or n == 0: freed). */
int bus_lease_submit(struct bus_lease *l, struct bus_lease_job *jobs, size_t n);

/* Queue a batch of n jobs (malloc'd array, owned by 'l' from here on, also on failure)
 * behind every batch already handed over, whether one is in flight or not. 0, or -1 (n ==
 * 0, out of memory: freed, nothing asked). */
int bus_lease_push(struct bus_lease *l, struct bus_lease_job *jobs, size_t n);

/* Stop the worker: waits for the request in progress (bounded by the client's request
 * timeout), does not ask the rest of its batch nor the batches queued behind it (a release
 * not asked lets its entry expire after the TTL), drops results not yet handed over. NULL is
 * a no-op. */
void bus_lease_free(struct bus_lease *l);

#endif
