/*
 * gw_hub_internal: what the rooms of the event stream share (gw_hub.c: connections, relay,
 * tokens, keepalive; gw_hub_queue.c: queue_update snapshots and the DAG manager's dropped
 * queues). Not for other modules: gw_hub.h is the hub's interface.
 */
#ifndef QMTL_GATEWAY_GW_HUB_INTERNAL_H
#define QMTL_GATEWAY_GW_HUB_INTERNAL_H

#include "gw_hub.h"
#include "jwt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;
struct gw_store;
struct gw_metrics;
struct cfg_gateway;
struct ws_conn;
struct gw_hub_queue;

enum {
    TOPIC_QUEUE = 1,
    TOPIC_ACTIVATION = 2,
    TOPIC_POLICY = 4,
    TOPIC_DEPRECATION = 8,
    TOPIC_ORDERS = 16,
    TOPIC_NONE = 0x100, /* a filter that matches no topic (only untyped events pass) */
};

struct hub_client {
    struct hub_client *prev, *next;
    struct gw_hub *hub;
    struct ws_conn *ws;
    char *world_id;      /* NULL: every world */
    char *cred;          /* credential that subscribed (token claim "cred") */
    unsigned topics;     /* TOPIC_* mask; 0: every topic */
    int64_t exp;         /* token expiry (Unix seconds) */
    int64_t last_sent;   /* seq_no of the last event sent or skipped by the filters */
    int lagging;         /* live events paused; catch up from the log on drain */
    double tokens;       /* rate limit bucket */
    int64_t bucket_ms;
    long flood;          /* messages dropped by the rate limit in a row */
    uint64_t id;         /* unique in this hub (a reply that finds it gone is dropped) */
};

struct gw_hub {
    struct gw_server *srv;
    struct event_base *base;
    struct gw_store *store;
    struct gw_metrics *metrics;
    const struct cfg_gateway *cfg;
    unsigned char secret[64];
    size_t secret_len;
    struct jwt_key key;
    struct hub_client *clients;
    size_t n_clients;
    int64_t published;   /* highest seq_no handed to listeners */
    struct event *tick;
    uint64_t next_id;
    struct gw_hub_queue *queue; /* queue_update handling (gw_hub_queue.c) */
};

/* Send obj (consumed) as one text message. */
void gw_hub_send_json(struct hub_client *c, json_t *obj);
/* A random UUID (version 4) as text. */
void gw_hub_uuid4(char out[37]);
/* The client of 'id', or NULL when it is gone or its stream is not open. */
struct hub_client *gw_hub_client_by_id(struct gw_hub *h, uint64_t id);

/*
 * gw_hub_queue.c. Start: with a DAG manager and gateway.queue_poll_interval_s > 0, a timer
 * asks it for the queues it dropped (GET /queue_updates?after=N) and publishes one
 * queue_update event per tag query that lost one. NULL when out of memory (logged).
 */
struct gw_hub_queue *gw_hub_queue_new(struct gw_hub *h);
/* Stop the timer; a request in flight finds the hub gone and is dropped. NULL no-op. */
void gw_hub_queue_free(struct gw_hub_queue *q);
/* A client that wants the queue topic just connected (or resumed): send it, from the DAG
 * manager (GET /tag_queries), one queue_update per tag query of its world, as they are
 * now ("snapshot": true, the current seq_no). No DAG manager or no world: nothing. */
void gw_hub_queue_snapshot(struct gw_hub *h, struct hub_client *c);

#endif
