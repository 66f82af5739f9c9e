/*
 * gw_hub: the gateway's event stream.
 *
 * Registers POST /events/subscribe (mints an HS256 stream token) and GET /ws/evt (plus the
 * alias /ws): a WebSocket that relays every event gw_server_publish_event() emits, as the
 * CloudEvents 1.0 JSON text it was persisted as, to the connections whose filters match.
 *
 * Per connection: token from "Authorization: Bearer" or ?token= (bad or expired: close
 * 1008); topic filter from the token's "topics" claim, narrowed by ?topics=a,b; world filter
 * from the "world_id" claim (or ?world_id= when the token has none); ?last_seq_no=N replays
 * the events after N from the event log, or sends an activation snapshot when they were
 * trimmed; a stream of the queue topic also gets, on every connect, one queue_update per
 * tag query of its world as the DAG manager has it now (gw_hub_queue.c, which also
 * publishes the queues the DAG manager dropped); keepalive pings every
 * gateway.ws_ping_interval_s (no traffic for two intervals
 * + 1 s: close 1011, counted in GW_M_WS_IDLE_DROPS; 0 = no pings, no check); incoming
 * messages limited to gateway.ws_max_message_bytes (close 1009) and
 * gateway.ws_rate_limit_per_s (excess dropped; a sustained flood: close 1008); a slow
 * consumer whose output would exceed gateway.ws_outbuf_limit_bytes stops receiving live
 * events (counted as dropped) and is caught up from the event log once its buffer drains.
 * Client messages: {"type":"ack",...} is answered with {"type":"ack","ts",...};
 * {"type":"refresh","token":...} swaps the filters (bad token: close 1008) and is answered
 * with {"type":"refresh_ack","ts"}. See docs/event-stream.md.
 *
 * gw_hub_new also raises RLIMIT_NOFILE to its hard maximum (one descriptor per subscriber)
 * and ignores SIGPIPE process-wide (writes to vanished peers must fail, not kill).
 * Single-threaded: runs on the server's event loop.
 */
#ifndef QMTL_GATEWAY_GW_HUB_H
#define QMTL_GATEWAY_GW_HUB_H

#include <stddef.h>
#include <stdint.h>

struct gw_server;
struct gw_hub;

/* Create the hub for 's' (borrowed; must outlive the hub) and register its routes and its
 * event listener. Call before the server runs. NULL on failure (logged). */
struct gw_hub *gw_hub_new(struct gw_server *s);
/* Close every stream (close frame 1001, best effort) and free the hub. Call before
 * gw_server_free. NULL is a no-op. */
void gw_hub_free(struct gw_hub *h);

/* Open WebSocket streams. */
size_t gw_hub_clients(const struct gw_hub *h);

/* Mint a stream token for tests and tools: claims aud "controlbus", sub/strategy_id,
 * world_id, topics (NULL-terminated list, may be NULL), jti, iat now, exp now+ttl_s.
 * Returns a malloc'd token or NULL. */
char *gw_hub_mint_token(struct gw_hub *h, const char *world_id, const char *strategy_id,
                        const char *const *topics, int64_t ttl_s);

#endif
