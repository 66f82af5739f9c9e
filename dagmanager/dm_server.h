/*
 * dm_server: the DAG manager's HTTP+JSON service on libevent evhttp (one event loop, one
 * thread), backed by dm_store and dm_diff. Routes (see docs/dagmanager.md):
 *
 *   POST /diff            diff a strategy DAG (dm_diff.h)       -> 200 | 400 | 413 | 500
 *   GET  /queues/by_tag   ?tags=a,b&interval=60&match_mode=any|all&world_id=w
 *                         [&execution_domain=d]                  -> 200 {queues: [...]}
 *   GET  /nodes/{id}      one node, its queues and strategies    -> 200 | 404
 *   GET  /tag_queries     ?world_id=w: every remembered tag query's queues now -> 200
 *   GET  /queue_updates   [?after=N]: the tag queries that lost a queue dropped after
 *                         generation N, and the generation                  -> 200 | 400
 *   GET  /status          {status, store, dagmanager, counts}    -> 200
 *   GET  /health          200 {status: ok} | 503 when the store fails
 *   GET  /metrics         Prometheus text
 *
 * Every error reply is JSON {"error": {"code", "message"}}; the process keeps serving.
 */
#ifndef QMTL_DAGMANAGER_DM_SERVER_H
#define QMTL_DAGMANAGER_DM_SERVER_H

#include <stddef.h>

struct event_base;
struct cfg_dagmanager;
struct dm_server;

#define DM_MAX_BODY_BYTES (16L * 1024 * 1024)
#define DM_MAX_HEADER_BYTES 16384L

/*
 * Open the store (cfg->store_path) and listen on cfg->host:cfg->port (0 = any free port)
 * on 'base' (borrowed; it must outlive the server). NULL on failure with a message in err
 * ("cannot listen on 127.0.0.1:8001: ..."). cfg is only read during the call.
 */
struct dm_server *dm_server_new(struct event_base *base, const struct cfg_dagmanager *cfg,
                                char *err, size_t errlen);
/* The bound port (useful with port 0). */
int dm_server_port(const struct dm_server *s);
/* Stop listening, close the store. NULL is a no-op. */
void dm_server_free(struct dm_server *s);

#endif
