/*
 * dm_server: routes of the DAG manager (see dm_server.h).
 */
#include "dagmanager/dm_server.h"

#include "bearer.h"
#include "bus_nats.h"
#include "config.h"
#include "dagmanager/dm_diff.h"
#include "dagmanager/dm_gc.h"
#include "dagmanager/dm_queues.h"
#include "dagmanager/dm_store.h"
#include "dagmanager/dm_streams.h"
#include "dagmanager/dm_tagq.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum route {
    R_DIFF,
    R_BY_TAG,
    R_NODES,
    R_STATUS,
    R_HEALTH,
    R_METRICS,
    R_QUEUES,
    R_TAG_QUERIES,
    R_QUEUE_UPDATES,
    R_OTHER,
    R_COUNT
};
static const char *const route_names[R_COUNT] = {
    "diff",   "queues_by_tag", "nodes",       "status",        "health",
    "metrics", "queues",       "tag_queries", "queue_updates", "other"};

struct dm_server {
    struct event_base *base;
    struct evhttp *http;
    struct dm_store *store;
    int port;
    time_t started;
    unsigned long requests[R_COUNT];
    unsigned long errors_4xx, errors_5xx;
    unsigned long diffs, diff_failures, diff_new, diff_reused;
    char *token;   /* dagmanager.token ("" = every route but status/health/metrics refused) */
    int anonymous; /* dagmanager.insecure_allow_anonymous */
    struct bus_conn *bus; /* dagmanager.bus (NULL = none) */
    long bus_retention_s;
    unsigned long streams_created, bus_errors;
    struct dm_gc *gc; /* with a bus, a retention and dagmanager.bus_gc_interval_s */
};

/* ---------------------------------------------------------------- replies */

static void reply_json(struct dm_server *s, struct evhttp_request *req, int code, json_t *body)
{
    struct evbuffer *out = evbuffer_new();
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (code >= 500)
        s->errors_5xx++;
    else if (code >= 400)
        s->errors_4xx++;
    if (!out || !text) {
        free(text);
        if (out)
            evbuffer_free(out);
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evbuffer_add(out, text, strlen(text));
    evbuffer_add(out, "\n", 1);
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", out);
    evbuffer_free(out);
}

static void reply_error(struct dm_server *s, struct evhttp_request *req, int code,
                        const char *ecode, const char *msg)
{
    if (code >= 500)
        LOG_ERROR("dm-http", "%s %s: %s", ecode, evhttp_request_get_uri(req), msg);
    reply_json(s, req, code, json_pack("{s:{s:s, s:s}}", "error", "code", ecode, "message", msg));
}

/* ---------------------------------------------------------------- POST /diff */

/* The DAG manager owns the queues: with a bus, each queue of the diff (tag queries aside:
 * they consume, nothing is published under their name) has its stream, created with the
 * retention or checked. 0, or -1 with err. */
static int ensure_streams(struct dm_server *s, const json_t *reply, char *err, size_t errlen)
{
    const json_t *tq = json_object_get(reply, "tag_queues");
    const json_t *qm = json_object_get(reply, "queue_map");
    const char **topics = calloc(json_object_size(qm) + 1, sizeof(*topics));
    size_t n = 0;
    const char *id;
    json_t *list;
    if (!topics) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_object_foreach((json_t *)qm, id, list)
    {
        const char *topic = json_string_value(json_object_get(json_array_get(list, 0), "queue"));
        if (!json_object_get(tq, id) && topic)
            topics[n++] = topic;
    }
    int rc =
        dm_streams_ensure(s->bus, topics, n, s->bus_retention_s, &s->streams_created, err, errlen);
    free(topics);
    return rc;
}

static void route_diff(struct dm_server *s, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *data = len ? (const char *)evbuffer_pullup(in, -1) : "";
    json_error_t je;
    char err[512];
    s->diffs++;
    json_t *body = json_loadb(data, len, 0, &je);
    if (!body) {
        s->diff_failures++;
        snprintf(err, sizeof(err), "invalid JSON body at line %d column %d: %s", je.line, je.column,
                 je.text);
        reply_error(s, req, 400, "bad_json", err);
        return;
    }
    json_t *reply = NULL;
    struct dm_diff_stats st;
    int rc = dm_diff(s->store, body, &reply, &st, err, sizeof(err));
    json_decref(body);
    if (rc == 0 && s->bus && !json_is_true(json_object_get(reply, "dry_run")) &&
        ensure_streams(s, reply, err, sizeof(err)) < 0) {
        /* stored, but a host cannot publish yet: the gateway degrades, a retry ensures again */
        json_decref(reply);
        s->bus_errors++;
        s->diff_failures++;
        reply_error(s, req, 503, "bus_error", err);
        return;
    }
    if (rc == 0) {
        s->diff_new += st.new_nodes;
        s->diff_reused += st.reused_nodes;
        reply_json(s, req, 200, reply);
        return;
    }
    s->diff_failures++;
    if (rc == DM_DIFF_EBADREQ)
        reply_error(s, req, 400, "bad_request", err);
    else
        reply_error(s, req, 500, "store_error", err);
}

/* ---------------------------------------------------------------- GET /queues/by_tag */

/* Split "a, b,,a" into unique trimmed tags (pointers into buf). Returns the count. */
static size_t split_tags(char *buf, const char **tags, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t')
            t++;
        char *e = t + strlen(t);
        while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        int dup = !*t;
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(tags[i], t) == 0;
        if (!dup && n < max)
            tags[n++] = t;
    }
    return n;
}

static void route_by_tag(struct dm_server *s, struct evhttp_request *req)
{
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (evhttp_parse_query_str(query ? query : "", &q) < 0) {
        reply_error(s, req, 400, "bad_request", "malformed query string");
        return;
    }
    const char *tags_s = evhttp_find_header(&q, "tags");
    const char *interval_s = evhttp_find_header(&q, "interval");
    const char *mode = evhttp_find_header(&q, "match_mode");
    const char *world = evhttp_find_header(&q, "world_id");
    const char *domain = evhttp_find_header(&q, "execution_domain");
    char *buf = strdup(tags_s ? tags_s : "");
    const char *tags[DM_MAX_TAGS];
    size_t n_tags = buf ? split_tags(buf, tags, DM_MAX_TAGS) : 0;
    long long interval = 0;
    char *end = NULL;
    if (interval_s && *interval_s)
        interval = strtoll(interval_s, &end, 10);
    if (!n_tags) {
        reply_error(s, req, 400, "bad_request", "query parameter 'tags' is required (tags=a,b)");
    } else if (end && (*end || interval < 0)) {
        reply_error(s, req, 400, "bad_request",
                    "query parameter 'interval': expected a non-negative integer (seconds)");
    } else if (mode && *mode && strcmp(mode, "any") != 0 && strcmp(mode, "all") != 0) {
        reply_error(s, req, 400, "bad_request", "query parameter 'match_mode': expected any|all");
    } else {
        struct dm_queue *qs = NULL;
        size_t n = 0;
        const char *dom = domain && *domain ? dm_normalize_domain(domain) : "";
        if (dm_store_queues_by_tag(s->store, tags, n_tags, mode && strcmp(mode, "all") == 0,
                                   interval, world ? world : "", dom, &qs, &n) < 0) {
            reply_error(s, req, 500, "store_error", dm_store_last_error(s->store));
        } else {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr,
                                      json_pack("{s:s, s:b, s:s, s:I, s:s, s:s}", "queue",
                                                qs[i].topic, "global", 0, "node_id", qs[i].node_id,
                                                "interval", (json_int_t)qs[i].interval, "world_id",
                                                qs[i].world, "execution_domain", qs[i].domain));
            dm_queues_free(qs, n);
            reply_json(s, req, 200, json_pack("{s:o}", "queues", arr));
        }
    }
    free(buf);
    evhttp_clear_headers(&q);
}

/* ------------------------------------------- GET /tag_queries, GET /queue_updates */

/* The value of query parameter 'name' (NULL when absent); *q cleared by the caller. */
static const char *query_param(struct evhttp_request *req, struct evkeyvalq *q, const char *name)
{
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (evhttp_parse_query_str(query ? query : "", q) < 0)
        return NULL;
    return evhttp_find_header(q, name);
}

/* ?world_id=w: the current list of every remembered tag query of the world (what a
 * gateway sends a stream that connects). */
static void route_tag_queries(struct dm_server *s, struct evhttp_request *req)
{
    struct evkeyvalq q;
    const char *world = query_param(req, &q, "world_id");
    json_t *out = json_array();
    int64_t gen = 0;
    if (!out || dm_store_queue_generation(s->store, &gen) < 0 ||
        dm_tagq_snapshot(s->store, world ? world : "", out) < 0) {
        json_decref(out);
        reply_error(s, req, 500, "store_error", dm_store_last_error(s->store));
    } else {
        reply_json(s, req, 200, json_pack("{s:o, s:I}", "updates", out, "generation",
                                          (json_int_t)gen));
    }
    evhttp_clear_headers(&q);
}

/* ?after=N: the queries that lost a queue dropped after generation N (the gateway polls
 * it and publishes each as a queue_update); without 'after' only the generation. */
static void route_queue_updates(struct dm_server *s, struct evhttp_request *req)
{
    struct evkeyvalq q;
    const char *after_s = query_param(req, &q, "after");
    char *end = NULL;
    long long after = after_s ? strtoll(after_s, &end, 10) : -1;
    json_t *out = json_array();
    int64_t last = 0;
    if (after_s && (!*after_s || *end || after < 0)) {
        json_decref(out);
        reply_error(s, req, 400, "bad_request",
                    "query parameter 'after': expected a generation (an integer >= 0)");
    } else if (!out || (after >= 0 ? dm_tagq_dropped(s->store, after, out, &last)
                                   : dm_store_queue_generation(s->store, &last)) < 0) {
        json_decref(out);
        reply_error(s, req, 500, "store_error", dm_store_last_error(s->store));
    } else {
        reply_json(s, req, 200, json_pack("{s:o, s:I}", "updates", out, "generation",
                                          (json_int_t)last));
    }
    evhttp_clear_headers(&q);
}

/* ---------------------------------------------------------------- GET /nodes/{id} */

/* A queue's stream for GET /nodes/{id}: the stream's figures, its publisher (the strategy
 * that created the queue computes it) and its consumers with their lag; null when the
 * stream does not exist, {"error": ...} when the bus does not answer. */
static json_t *bus_report(struct dm_server *s, const char *topic)
{
    json_t *r = NULL;
    char err[300];
    int rc = bus_conn_queue_report(s->bus, topic, &r, err, sizeof(err));
    if (rc < 0)
        return json_pack("{s:s}", "error", err);
    return rc == 1 ? json_null() : r;
}

static void route_node(struct dm_server *s, struct evhttp_request *req, const char *raw_id)
{
    char *id = evhttp_uridecode(raw_id, 0, NULL);
    struct dm_node n;
    int rc = id && *id ? dm_store_get_node(s->store, id, &n) : 0;
    if (rc < 0) {
        reply_error(s, req, 500, "store_error", dm_store_last_error(s->store));
    } else if (rc == 0) {
        char msg[DM_MAX_ID_LEN + 32];
        snprintf(msg, sizeof(msg), "unknown node '%.256s'", id ? id : "");
        reply_error(s, req, 404, "not_found", msg);
    } else {
        struct dm_queue *qs = NULL;
        char **strats = NULL;
        size_t nq = 0, ns = 0;
        if (dm_store_node_queues(s->store, id, &qs, &nq) < 0 ||
            dm_store_node_strategies(s->store, id, &strats, &ns) < 0) {
            reply_error(s, req, 500, "store_error", dm_store_last_error(s->store));
        } else {
            json_t *tags = json_array(), *queues = json_array(), *sa = json_array();
            for (size_t i = 0; i < n.n_tags; i++)
                json_array_append_new(tags, json_string(n.tags[i]));
            for (size_t i = 0; i < ns; i++)
                json_array_append_new(sa, json_string(strats[i]));
            for (size_t i = 0; i < nq; i++) {
                json_t *q =
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "queue", qs[i].topic,
                              "world_id", qs[i].world, "execution_domain", qs[i].domain, "as_of",
                              qs[i].as_of, "partition", qs[i].partition, "compute_key",
                              qs[i].compute_key, "version", qs[i].version, "created_by",
                              qs[i].created_by, "created_at", (json_int_t)qs[i].created_at);
                if (s->bus)
                    json_object_set_new(q, "bus", bus_report(s, qs[i].topic));
                json_array_append_new(queues, q);
            }
            reply_json(s, req, 200,
                       json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:o, s:o}", "node_id",
                                 n.node_id, "node_type", n.node_type, "interval",
                                 (json_int_t)n.interval, "period", (json_int_t)n.period,
                                 "code_hash", n.code_hash, "schema_compat_id", n.schema_compat_id,
                                 "tags", tags, "queues", queues, "strategies", sa));
        }
        dm_queues_free(qs, nq);
        dm_strings_free(strats, ns);
        dm_node_release(&n);
    }
    free(id);
}

/* ---------------------------------------------------------------- GET /queues */

static void route_queues(struct dm_server *s, struct evhttp_request *req)
{
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (evhttp_parse_query_str(query ? query : "", &q) < 0) {
        reply_error(s, req, 400, "bad_request", "malformed query string");
        return;
    }
    const char *world = evhttp_find_header(&q, "world_id");
    const char *domain = evhttp_find_header(&q, "execution_domain");
    char err[300];
    json_t *r = dm_queues_report(s->store, s->bus, world,
                                 domain && *domain ? dm_normalize_domain(domain) : "", err,
                                 sizeof(err));
    if (r)
        reply_json(s, req, 200, r);
    else
        reply_error(s, req, 500, "store_error", err);
    evhttp_clear_headers(&q);
}

/* ---------------------------------------------------------------- status, health, metrics */

static void route_status(struct dm_server *s, struct evhttp_request *req)
{
    int ok = dm_store_ping(s->store) == 0;
    reply_json(s, req, 200,
               json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "status",
                         ok ? "ok" : "degraded", "store", ok ? "ok" : "error", "dagmanager",
                         "running", "bus", s->bus ? "nats" : "off", "schema_version",
                         dm_store_schema_version(s->store), "nodes",
                         (json_int_t)dm_store_count(s->store, "nodes"), "queues",
                         (json_int_t)dm_store_count(s->store, "queues"), "strategies",
                         (json_int_t)dm_store_count(s->store, "strategies"), "uptime_s",
                         (json_int_t)(time(NULL) - s->started)));
}

static void route_health(struct dm_server *s, struct evhttp_request *req)
{
    if (dm_store_ping(s->store) == 0)
        reply_json(s, req, 200, json_pack("{s:s}", "status", "ok"));
    else
        reply_json(
            s, req, 503,
            json_pack("{s:s, s:s}", "status", "error", "store", dm_store_last_error(s->store)));
}

static void route_metrics(struct dm_server *s, struct evhttp_request *req)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evbuffer_add_printf(b, "# HELP dagmanager_http_requests_total HTTP requests by route.\n"
                           "# TYPE dagmanager_http_requests_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        evbuffer_add_printf(b, "dagmanager_http_requests_total{route=\"%s\"} %lu\n", route_names[r],
                            s->requests[r]);
    evbuffer_add_printf(b,
                        "# HELP dagmanager_http_errors_total Error replies by class.\n"
                        "# TYPE dagmanager_http_errors_total counter\n"
                        "dagmanager_http_errors_total{class=\"4xx\"} %lu\n"
                        "dagmanager_http_errors_total{class=\"5xx\"} %lu\n",
                        s->errors_4xx, s->errors_5xx);
    evbuffer_add_printf(b,
                        "# HELP dagmanager_diff_requests_total Diff requests received.\n"
                        "# TYPE dagmanager_diff_requests_total counter\n"
                        "dagmanager_diff_requests_total %lu\n"
                        "# HELP dagmanager_diff_failures_total Diff requests that failed.\n"
                        "# TYPE dagmanager_diff_failures_total counter\n"
                        "dagmanager_diff_failures_total %lu\n"
                        "# HELP dagmanager_diff_nodes_total Nodes diffed, by outcome.\n"
                        "# TYPE dagmanager_diff_nodes_total counter\n"
                        "dagmanager_diff_nodes_total{outcome=\"new\"} %lu\n"
                        "dagmanager_diff_nodes_total{outcome=\"reused\"} %lu\n",
                        s->diffs, s->diff_failures, s->diff_new, s->diff_reused);
    evbuffer_add_printf(b,
                        "# HELP dagmanager_nodes Nodes in the registry.\n"
                        "# TYPE dagmanager_nodes gauge\n"
                        "dagmanager_nodes %ld\n"
                        "# HELP dagmanager_queues Queues in the registry.\n"
                        "# TYPE dagmanager_queues gauge\n"
                        "dagmanager_queues %ld\n"
                        "# HELP dagmanager_strategies Registered strategies.\n"
                        "# TYPE dagmanager_strategies gauge\n"
                        "dagmanager_strategies %ld\n",
                        dm_store_count(s->store, "nodes"), dm_store_count(s->store, "queues"),
                        dm_store_count(s->store, "strategies"));
    evbuffer_add_printf(b,
                        "# HELP dagmanager_store_errors_total Store operations that failed.\n"
                        "# TYPE dagmanager_store_errors_total counter\n"
                        "dagmanager_store_errors_total %ld\n",
                        dm_store_errors(s->store));
    if (s->bus)
        evbuffer_add_printf(b,
                            "# HELP dagmanager_bus_streams_created_total Queue streams created.\n"
                            "# TYPE dagmanager_bus_streams_created_total counter\n"
                            "dagmanager_bus_streams_created_total %lu\n"
                            "# HELP dagmanager_bus_errors_total Diffs whose streams failed.\n"
                            "# TYPE dagmanager_bus_errors_total counter\n"
                            "dagmanager_bus_errors_total %lu\n",
                            s->streams_created, s->bus_errors);
    if (s->gc) {
        struct dm_gc_stats g;
        dm_gc_stats(s->gc, &g);
        evbuffer_add_printf(b,
                            "# HELP dagmanager_bus_gc_runs_total Passes of the stream collector.\n"
                            "# TYPE dagmanager_bus_gc_runs_total counter\n"
                            "dagmanager_bus_gc_runs_total %llu\n"
                            "# HELP dagmanager_bus_streams_deleted_total Streams of unused "
                            "queues deleted.\n"
                            "# TYPE dagmanager_bus_streams_deleted_total counter\n"
                            "dagmanager_bus_streams_deleted_total %llu\n"
                            "# HELP dagmanager_bus_gc_errors_total Streams the collector could "
                            "not look at or delete.\n"
                            "# TYPE dagmanager_bus_gc_errors_total counter\n"
                            "dagmanager_bus_gc_errors_total %llu\n",
                            (unsigned long long)g.runs, (unsigned long long)g.deleted,
                            (unsigned long long)g.errors);
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/* ---------------------------------------------------------------- dispatch */

static void dispatch(struct evhttp_request *req, void *arg)
{
    struct dm_server *s = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    enum route r = R_OTHER;
    int want_post = 0;
    if (!path)
        path = "";
    if (strcmp(path, "/diff") == 0)
        r = R_DIFF, want_post = 1;
    else if (strcmp(path, "/queues/by_tag") == 0)
        r = R_BY_TAG;
    else if (strcmp(path, "/queues") == 0)
        r = R_QUEUES;
    else if (strcmp(path, "/tag_queries") == 0)
        r = R_TAG_QUERIES;
    else if (strcmp(path, "/queue_updates") == 0)
        r = R_QUEUE_UPDATES;
    else if (strncmp(path, "/nodes/", 7) == 0 && path[7])
        r = R_NODES;
    else if (strcmp(path, "/status") == 0)
        r = R_STATUS;
    else if (strcmp(path, "/health") == 0)
        r = R_HEALTH;
    else if (strcmp(path, "/metrics") == 0)
        r = R_METRICS;
    s->requests[r]++;
    /* Authenticate before any lookup: only status, health and metrics are public. */
    if (r != R_STATUS && r != R_HEALTH && r != R_METRICS) {
        const char *hdr =
            evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        if (!(s->anonymous && !hdr) && !bearer_equal(bearer_from_header(hdr), s->token)) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
            reply_error(s, req, 401, "unauthorized",
                        !*s->token ? "this route is disabled: dagmanager.token is not set"
                        : hdr      ? "invalid token"
                                   : "missing bearer token (Authorization: Bearer <token>)");
            return;
        }
    }
    if (r == R_OTHER) {
        reply_error(s, req, 404, "not_found", "no such route");
        return;
    }
    if (m != (want_post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          want_post ? "POST" : "GET");
        reply_error(s, req, 405, "method_not_allowed",
                    want_post ? "this route takes POST" : "this route takes GET");
        return;
    }
    switch (r) {
    case R_DIFF:
        route_diff(s, req);
        break;
    case R_BY_TAG:
        route_by_tag(s, req);
        break;
    case R_NODES:
        route_node(s, req, path + 7);
        break;
    case R_QUEUES:
        route_queues(s, req);
        break;
    case R_TAG_QUERIES:
        route_tag_queries(s, req);
        break;
    case R_QUEUE_UPDATES:
        route_queue_updates(s, req);
        break;
    case R_STATUS:
        route_status(s, req);
        break;
    case R_HEALTH:
        route_health(s, req);
        break;
    case R_METRICS:
        route_metrics(s, req);
        break;
    default:
        break;
    }
}

struct dm_server *dm_server_new(struct event_base *base, const struct cfg_dagmanager *cfg,
                                char *err, size_t errlen)
{
    struct dm_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base = base;
    s->started = time(NULL);
    s->token = strdup(cfg->token ? cfg->token : "");
    s->anonymous = cfg->insecure_allow_anonymous;
    if (!s->token) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (s->anonymous && !bearer_host_is_loopback(cfg->host)) {
        snprintf(err, errlen,
                 "dagmanager.insecure_allow_anonymous is refused: dagmanager.host '%.100s' is "
                 "not a loopback address (use 127.0.0.1 or ::1, or set dagmanager.token)",
                 cfg->host ? cfg->host : "");
        goto fail;
    }
    if (!*s->token && !s->anonymous) {
        snprintf(err, errlen,
                 "no credential configured: set the token the gateway sends (the same value as "
                 "gateway.dagmanager_token), for example:\n"
                 "  export QMTL__DAGMANAGER__TOKEN=$(openssl rand -hex 32)\n"
                 "  export QMTL__GATEWAY__DAGMANAGER_TOKEN=$QMTL__DAGMANAGER__TOKEN\n"
                 "or, for a local experiment only, dagmanager.insecure_allow_anonymous: true with "
                 "dagmanager.host: 127.0.0.1");
        goto fail;
    }
    if (s->anonymous)
        LOG_WARN("dagmanager", "INSECURE: dagmanager.insecure_allow_anonymous is on: requests "
                               "without a token are served (loopback only; never in production)");
    s->store = dm_store_open(cfg->store_path, err, errlen);
    if (!s->store)
        goto fail;
    if (cfg->bus && *cfg->bus) {
        if (bus_url_check("dagmanager.bus", cfg->bus, err, errlen) < 0 ||
            !(s->bus = bus_conn_new(base, cfg->bus, "qmtl-dagmanager", 2000, err, errlen)))
            goto fail;
        s->bus_retention_s = cfg->bus_retention_s;
        /* the DAG manager decides the replicas: the lease bucket has them before any host */
        bus_conn_set_replicas(s->bus, cfg->bus_replicas);
        if (bus_conn_lease_open(s->bus, BUS_LEASE_TTL_MS, err, errlen) < 0) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (dagmanager.bus_replicas %d%s)", cfg->bus_replicas,
                     cfg->bus_replicas > 1 ? ": needs a JetStream cluster of at least that many "
                                             "servers"
                                           : "");
            goto fail;
        }
        LOG_INFO("dagmanager",
                 "bus %s: queues get JetStream streams (retention %ld s, %d replica(s))", cfg->bus,
                 s->bus_retention_s, cfg->bus_replicas);
        if (s->bus_retention_s > 0 && cfg->bus_gc_interval_s > 0) {
            if (!(s->gc = dm_gc_new(base, s->store, s->bus, s->bus_retention_s,
                                    cfg->bus_gc_interval_s))) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            LOG_INFO("dagmanager",
                     "streams of queues unused for %ld s are deleted (looked for every %d s)",
                     s->bus_retention_s, cfg->bus_gc_interval_s);
        }
    }
    s->http = evhttp_new(base);
    if (!s->http) {
        snprintf(err, errlen, "cannot create the HTTP server");
        goto fail;
    }
    evhttp_set_max_body_size(s->http, DM_MAX_BODY_BYTES);
    evhttp_set_max_headers_size(s->http, DM_MAX_HEADER_BYTES);
    evhttp_set_timeout(s->http, 30);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(s->http, dispatch, s);
    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(s->http, cfg->host, (ev_uint16_t)cfg->port);
    if (!bs) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->host, cfg->port,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    s->port = cfg->port;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
        s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return s;
fail:
    dm_server_free(s);
    return NULL;
}

int dm_server_port(const struct dm_server *s)
{
    return s->port;
}

void dm_server_free(struct dm_server *s)
{
    if (!s)
        return;
    if (s->http)
        evhttp_free(s->http);
    dm_gc_free(s->gc);
    dm_store_close(s->store);
    bus_conn_free(s->bus);
    free(s->token);
    free(s);
}
