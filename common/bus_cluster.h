/*
 * bus_cluster: what a NATS cluster adds to a bus connection (bus_nats.h): the number of
 * replicas of the JetStream streams it creates (queue streams, the lease bucket's stream),
 * bringing an existing stream to that number, and the connection's moves between the
 * servers of the cluster, logged.
 *
 * Who decides: the DAG manager (dagmanager.bus_replicas, bus_conn_set_replicas). Hosts
 * never change a stream's replicas; the lease bucket a host creates when none exists has
 * one replica until the DAG manager starts and brings it to its count.
 *
 * Errors: functions return 0 or -1 with one line in 'err' naming the stream and the
 * server's reason.
 */
#ifndef QMTL_COMMON_BUS_CLUSTER_H
#define QMTL_COMMON_BUS_CLUSTER_H

#include <nats/nats.h>

#include <stddef.h>

#define BUS_REPLICAS_MAX 5 /* JetStream's own limit */

/* 'want' replicas (1..BUS_REPLICAS_MAX) for the stream 'si' describes (borrowed): nothing
 * when it has them, else its configuration updated (JetStream moves or adds the copies in
 * the background) and one line logged with the old and new count. */
int bus_cluster_fit(jsCtx *js, const jsStreamInfo *si, int want, char *err, size_t errlen);

/* The same for the stream named 'stream', looked up first (one request). */
int bus_cluster_fit_named(jsCtx *js, const char *stream, int want, char *err, size_t errlen);

/* 1 when 's' says the server or the stream did not answer (no responders, a timeout, the
 * connection down: a stream without a leader for a moment), not that it refused. */
int bus_cluster_unreachable(natsStatus s);

/* The servers of 'url' ("nats://a:4222,nats://b:4222": comma-separated, blanks around
 * each ignored; bus_url_check has checked them) set on the options as the connection's
 * server list: it connects to any of them and reconnects to another when it loses one.
 * NATS_INVALID_ARG for an empty list (or more than 32 URLs). */
natsStatus bus_cluster_servers(natsOptions *o, const char *url);

/* Log the connection's moves: a lost server (WARN, naming it) and the server reconnected
 * to (INFO "bus: reconnected to nats://..."). Set on the options before connecting. */
natsStatus bus_cluster_watch(natsOptions *o);

/* Log the server 'nc' is connected to now (INFO "bus: connected to nats://..."). */
void bus_cluster_log_connected(natsConnection *nc);

#endif
