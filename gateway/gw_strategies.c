/*
 * gw_strategies: POST /strategies, POST /strategies/dry-run, GET /strategies/{id}/status.
 * The submission ack's queue_map follows the reference's shape (see reference_queue_map);
 * the dry run answers the diff's full per-node list.
 *
 * Pipeline: decode the DAG (base64 or raw JSON), schema check, node identity (required
 * fields, CRC-32 over node ids, every node id recomputed with the node identity
 * library), compute context from the first world's decision, dedup by DAG hash
 * (resubmission returns the same strategy_id), persist, then ask the DAG manager for the
 * diff (gw_dagmanager.c). Without a DAG manager the ack is downgraded with reason
 * "dagmanager_unavailable" and an empty queue_map.
 */
#include "config.h"
#include "gw_auth.h"
#include "gw_dagmanager.h"
#include "common/base64.h"
#include "gw_routes.h"
#include "gw_store.h"
#include "gw_util.h"
#include "log.h"
#include "nodeid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const required_fields[] = {"node_type",   "code_hash",        "config_hash",
                                              "schema_hash", "schema_compat_id", "node_id"};

json_t *gw_strategy_decode_dag(const json_t *dag_json, char *err, size_t errlen)
{
    if (json_is_object(dag_json))
        return json_incref((json_t *)dag_json);
    if (!json_is_string(dag_json)) {
        snprintf(err, errlen, "field 'dag_json': expected a base64 or JSON string");
        return NULL;
    }
    const char *text = json_string_value(dag_json);
    size_t len = json_string_length(dag_json);
    json_error_t jerr;
    json_t *dag = NULL;
    size_t dlen = 0;
    unsigned char *raw = base64_decode(text, len, &dlen, BASE64_STD);
    if (raw) {
        dag = json_loadb((const char *)raw, dlen, 0, &jerr);
        free(raw);
    }
    if (!dag)
        dag = json_loadb(text, len, 0, &jerr);
    if (!dag) {
        snprintf(err, errlen, "field 'dag_json': neither base64 JSON nor JSON (line %d: %s)",
                 jerr.line, jerr.text);
        return NULL;
    }
    if (!json_is_object(dag)) {
        json_decref(dag);
        snprintf(err, errlen, "field 'dag_json': the DAG must be a JSON object");
        return NULL;
    }
    return dag;
}

static int schema_version_ok(const json_t *v)
{
    if (!v)
        return 1;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return !strcmp(s, "v1") || !strcmp(s, "1") || !strcmp(s, "1.0");
    }
    return json_is_number(v) && json_number_value(v) == 1.0;
}

static json_t *err_detail(const char *code, const char *message)
{
    return json_pack("{ssss}", "code", code, "message", message);
}

static int is_sentinel(const json_t *node)
{
    const char *t = json_string_value(json_object_get(node, "node_type"));
    return t && !strcmp(t, "VersionSentinel");
}

int gw_strategy_verify(const json_t *dag, const json_t *crc, json_t **error)
{
    *error = NULL;
    char msg[400];
    if (!schema_version_ok(json_object_get(dag, "schema_version"))) {
        *error = err_detail("E_SCHEMA_INVALID", "unsupported schema_version (expected v1)");
        return 400;
    }
    const json_t *nodes = json_object_get(dag, "nodes");
    if (!json_is_array(nodes)) {
        *error = err_detail("E_SCHEMA_INVALID", "DAG field 'nodes': expected an array");
        return 400;
    }
    size_t n = json_array_size(nodes), i;
    json_t *node;
    json_array_foreach(nodes, i, node)
    {
        if (!json_is_object(node)) {
            snprintf(msg, sizeof(msg), "DAG node %zu: expected an object", i);
            *error = err_detail("E_SCHEMA_INVALID", msg);
            return 400;
        }
        if (!schema_version_ok(json_object_get(node, "schema_version"))) {
            snprintf(msg, sizeof(msg), "DAG node %zu: unsupported schema_version (expected v1)", i);
            *error = err_detail("E_SCHEMA_INVALID", msg);
            return 400;
        }
    }
    /* 1. required fields */
    json_t *missing_all = json_array();
    json_array_foreach(nodes, i, node)
    {
        if (is_sentinel(node))
            continue;
        json_t *missing = json_array();
        for (size_t k = 0; k < sizeof(required_fields) / sizeof(required_fields[0]); k++) {
            const json_t *v = json_object_get(node, required_fields[k]);
            if (!json_is_string(v) || json_string_length(v) == 0)
                json_array_append_new(missing, json_string(required_fields[k]));
        }
        if (json_array_size(missing)) {
            json_t *e = json_pack("{sI so}", "index", (json_int_t)i, "missing", missing);
            const json_t *id = json_object_get(node, "node_id");
            if (json_is_string(id))
                json_object_set(e, "node_id", (json_t *)id);
            json_array_append_new(missing_all, e);
        } else
            json_decref(missing);
    }
    if (json_array_size(missing_all)) {
        *error = json_pack("{ss ss so ss}", "code", "E_NODE_ID_FIELDS", "message",
                           "nodes are missing fields required for node identity", "missing_fields",
                           missing_all, "hint",
                           "send node_type, code_hash, config_hash, schema_hash, "
                           "schema_compat_id and node_id for every node");
        return 400;
    }
    json_decref(missing_all);
    /* 2. CRC over the node ids in DAG order */
    const char **ids = calloc(n ? n : 1, sizeof(*ids));
    if (!ids) {
        *error = err_detail("E_INTERNAL", "out of memory");
        return 500;
    }
    json_array_foreach(nodes, i, node) ids[i] = json_string_value(json_object_get(node, "node_id"));
    uint32_t computed = nodeid_crc32_ids(ids, n);
    free(ids);
    if (!json_is_integer(crc) || json_integer_value(crc) < 0 ||
        (uint64_t)json_integer_value(crc) != computed) {
        snprintf(msg, sizeof(msg), "node_ids_crc32 %s does not match the node ids (%u)",
                 json_is_integer(crc) ? "value" : "missing or not an integer", computed);
        *error = json_pack("{ss ss sI}", "code", "E_CHECKSUM_MISMATCH", "message", msg, "expected",
                           (json_int_t)computed);
        if (json_is_integer(crc))
            json_object_set(*error, "received", (json_t *)crc);
        return 400;
    }
    /* 3. every node id recomputed */
    json_t *mism = json_array();
    json_array_foreach(nodes, i, node)
    {
        if (is_sentinel(node))
            continue;
        char want[NODEID_LEN + 1], nerr[200];
        if (nodeid_from_json(node, want, NULL, nerr, sizeof(nerr)) < 0) {
            json_decref(mism);
            snprintf(msg, sizeof(msg), "DAG node %zu: %s", i, nerr);
            *error = err_detail("E_SCHEMA_INVALID", msg);
            return 400;
        }
        const char *got = json_string_value(json_object_get(node, "node_id"));
        if (strcmp(got, want) != 0)
            json_array_append_new(mism, json_pack("{sI ss ss}", "index", (json_int_t)i, "node_id",
                                                  got, "expected", want));
    }
    if (json_array_size(mism)) {
        *error = json_pack("{ss ss so ss}", "code", "E_NODE_ID_MISMATCH", "message",
                           "node_id does not match the node's canonical spec", "node_id_mismatch",
                           mism, "hint",
                           "recompute node ids with the current node identity rules "
                           "(qmtl node-id)");
        return 400;
    }
    json_decref(mism);
    return 0;
}

/* ------------------------------------------------------------------ submission */

struct submit {
    struct gw_server *s;
    struct evhttp_request *req;
    int dry_run;
    json_t *dag;
    char strategy_id[64];
    char diff_as[64]; /* dry run: the id this DAG was submitted as (the diff's view), or "" */
    uint32_t crc;
    char *world;
    char *domain;
    char *as_of;
    char *partition;
    const char *reason; /* downgrade reason or NULL */
    int safe_mode;
};

static void submit_free(struct submit *sb)
{
    json_decref(sb->dag);
    free(sb->world);
    free(sb->domain);
    free(sb->as_of);
    free(sb->partition);
    free(sb);
}

/*
 * The submission's queue_map in the reference's shape, from the DAG manager's diff: a node
 * this submission computes (its queue is new, or its own from an earlier submission) is
 * absent; a node another strategy already computes maps to its topic string (consume it,
 * do not compute); a tag-query node maps to its list of matching upstream queues
 * [{queue, global}]. Every other node's topic also goes to *node_queues (node_id ->
 * topic), which our host reads to know where it publishes, and each tag-query upstream's
 * node to *queue_nodes (topic -> {node_id, tags, interval}), which our host reads to
 * consume it. All new references.
 */
static json_t *reference_queue_map(const json_t *diff, json_t **node_queues, json_t **queue_nodes)
{
    json_t *out = json_object();
    *node_queues = json_object();
    *queue_nodes = json_object();
    const json_t *tq = json_object_get(diff, "tag_queues");
    const char *id;
    json_t *list;
    json_object_foreach((json_t *)json_object_get(diff, "queue_map"), id, list)
    {
        const json_t *matches = json_object_get(tq, id);
        if (json_is_array(matches)) {
            json_object_set_new(out, id, gw_dm_reference_queues(matches, *queue_nodes));
            continue;
        }
        const json_t *e = json_array_get(list, 0);
        const json_t *topic = json_object_get(e, "queue");
        if (!json_is_string(topic))
            continue;
        json_object_set(*node_queues, id, (json_t *)topic);
        if (json_is_true(json_object_get(e, "global")))
            json_object_set(out, id, (json_t *)topic);
    }
    return out;
}

/* 'diff' is the DAG manager's reply (borrowed), NULL when it did not answer. */
static void submit_reply(struct submit *sb, const json_t *diff)
{
    char fallback[80];
    const char *sentinel = json_string_value(json_object_get(diff, "sentinel_id"));
    if (!sentinel) {
        if (sb->dry_run)
            snprintf(fallback, sizeof(fallback), "dryrun:%08x", sb->crc);
        else
            snprintf(fallback, sizeof(fallback), "%s-sentinel", sb->strategy_id);
        sentinel = fallback;
    }
    const char *reason = sb->reason;
    if (!diff && !reason)
        reason = "dagmanager_unavailable";
    json_t *nq = NULL, *qn = NULL, *qm;
    if (!diff)
        qm = json_object();
    else if (sb->dry_run) /* the full per-node list, as the diff gives it */
        qm = json_incref(json_object_get(diff, "queue_map"));
    else
        qm = reference_queue_map(diff, &nq, &qn);
    json_t *ack =
        json_pack("{ss so ss sI sb ss* sb}", "strategy_id", sb->strategy_id, "queue_map", qm,
                  "sentinel_id", sentinel, "node_ids_crc32", (json_int_t)sb->crc, "downgraded",
                  reason != NULL, "downgrade_reason", reason, "safe_mode", sb->safe_mode);
    if (!sb->dry_run) {
        json_object_set_new(ack, "node_queues", nq ? nq : json_object());
        json_object_set_new(ack, "queue_nodes", qn ? qn : json_object());
        const json_t *gen = json_object_get(diff, "queue_generation");
        if (json_is_integer(gen)) /* what the tag queries' lists are as of */
            json_object_set(ack, "queue_generation", (json_t *)gen);
        const json_t *dom = json_object_get(diff, "execution_domain");
        if (json_is_string(dom)) /* the domain the queues were resolved in */
            json_object_set(ack, "execution_domain", (json_t *)dom);
    }
    if (!sb->dry_run && diff)
        gw_store_strategy_set_status(gw_server_store(sb->s), sb->strategy_id, "completed");
    gw_reply_json(sb->req, sb->dry_run ? 200 : 202, ack);
}

static void diff_done(void *arg, int ok, json_t *reply)
{
    struct submit *sb = arg;
    if (ok && !json_is_object(json_object_get(reply, "queue_map")))
        ok = 0;
    const json_t *dm_crc = ok ? json_object_get(reply, "crc32") : NULL;
    if (json_is_integer(dm_crc) && (uint32_t)json_integer_value(dm_crc) != sb->crc)
        /* The DAG manager hashes the ids in its topological order: a different order in the
         * submitted DAG gives a different CRC without anything being wrong. */
        LOG_INFO("strategies", "strategy '%s': DAG manager crc32 %lld differs from %u (node order)",
                 sb->strategy_id, (long long)json_integer_value(dm_crc), sb->crc);
    if (ok && !sb->dry_run) /* tag queries elsewhere that the new queues join */
        gw_dm_publish_queue_updates(sb->s, reply);
    submit_reply(sb, ok ? reply : NULL);
    submit_free(sb);
}

static char *dup_str(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* Compute context: meta, then the first world's decision (see the notes, section 4.2).
 * A decision's as_of counts for the domain rule (dryrun needs one) and stays in the
 * compute context only in the backtest domain; see docs/scale-out.md. */
static void compute_context(struct submit *sb, const json_t *body)
{
    const json_t *meta = json_object_get(body, "meta");
    int as_of_decided = 0; /* as_of is the decision's time, not a snapshot the author named */
    sb->domain = dup_str(json_object_get(meta, "execution_domain"));
    sb->as_of = dup_str(json_object_get(meta, "as_of"));
    sb->partition = dup_str(json_object_get(meta, "partition"));
    const json_t *w = json_object_get(body, "world_id");
    if (!json_is_string(w)) {
        const json_t *ws = json_object_get(body, "world_ids");
        w = json_is_array(ws) ? json_array_get(ws, 0) : NULL;
    }
    sb->world = json_is_string(w) ? strdup(json_string_value(w)) : NULL;
    if (sb->world) {
        json_t *doc = NULL;
        json_t *dec = NULL;
        if (gw_store_world_get(gw_server_store(sb->s), sb->world, &doc) == 1)
            dec = gw_worlds_decide(sb->s, sb->world, doc);
        json_decref(doc);
        if (dec) {
            free(sb->domain);
            sb->domain = dup_str(json_object_get(dec, "execution_domain"));
            if (!sb->as_of) {
                sb->as_of = dup_str(json_object_get(dec, "as_of"));
                as_of_decided = 1;
            }
            json_decref(dec);
        } else {
            int keep_dry = sb->domain && !strcmp(sb->domain, "dryrun");
            free(sb->domain);
            sb->domain = strdup(keep_dry ? "dryrun" : "backtest");
            sb->reason = "decision_unavailable";
            sb->safe_mode = 1;
        }
    }
    if (!sb->domain || !*sb->domain || !strcmp(sb->domain, "default")) {
        free(sb->domain);
        sb->domain = strdup("backtest");
        sb->reason = "decision_unavailable";
        sb->safe_mode = 1;
    } else if ((!strcmp(sb->domain, "backtest") || !strcmp(sb->domain, "dryrun")) && !sb->as_of) {
        free(sb->domain);
        sb->domain = strdup("backtest");
        if (!sb->reason)
            sb->reason = "missing_as_of";
        sb->safe_mode = 1;
    } else if (as_of_decided && strcmp(sb->domain, "backtest") != 0) {
        /* dryrun, live, shadow: the decision's as_of is the time it was made, not a data
         * snapshot; in the compute context it would give every submission (each second)
         * queues of its own, and hosts in a paper or live world would never share a node */
        free(sb->as_of);
        sb->as_of = NULL;
    }
}

/* Per-credential quota (gateway.max_strategies_per_token, max_strategy_bytes_per_token)
 * after expiring the unused submissions older than gateway.strategy_ttl_s. 0 within
 * the quota, 1 over it (msg filled), -1 on a store error. */
static int over_quota(struct submit *sb, const char *owner, size_t bytes, char *msg, size_t len)
{
    struct gw_store *st = gw_server_store(sb->s);
    const struct cfg_gateway *g = &gw_server_config(sb->s)->gateway;
    long ttl = g->strategy_ttl_s > 0 ? g->strategy_ttl_s : 604800;
    long gone = gw_store_strategy_expire(st, (int64_t)time(NULL) - ttl);
    if (gone < 0)
        return -1;
    if (gone > 0)
        LOG_INFO("strategies", "%ld unused submission(s) expired", gone);
    long count = 0, used = 0;
    if (gw_store_strategy_usage(st, owner, &count, &used) < 0)
        return -1;
    if (g->max_strategies_per_token > 0 && count + 1 > g->max_strategies_per_token) {
        snprintf(msg, len,
                 "submission quota reached: the %s credential has %ld stored strategies "
                 "(gateway.max_strategies_per_token)",
                 owner, count);
        return 1;
    }
    if (g->max_strategy_bytes_per_token > 0 &&
        used + (long)bytes > g->max_strategy_bytes_per_token) {
        snprintf(msg, len,
                 "submission quota reached: the %s credential would store %ld bytes of DAGs "
                 "(gateway.max_strategy_bytes_per_token = %ld)",
                 owner, used + (long)bytes, g->max_strategy_bytes_per_token);
        return 1;
    }
    return 0;
}

/* 0 stored (or found), -1 store error, -2 over quota (quota_msg filled). */
/* The DAG's identity in the store: SHA-256 of its canonical JSON. 0, or -1 out of memory. */
static int dag_hash(const json_t *dag, char hash[65])
{
    char *canon = json_dumps(dag, JSON_COMPACT | JSON_SORT_KEYS);
    if (!canon)
        return -1;
    gw_sha256_hex(canon, strlen(canon), hash);
    free(canon);
    return 0;
}

static int persist(struct submit *sb, const json_t *body, char *quota_msg, size_t qlen)
{
    struct gw_store *st = gw_server_store(sb->s);
    const char *owner = gw_auth_principal(gw_server_request_creds(sb->s));
    char hash[65];
    if (dag_hash(sb->dag, hash) < 0)
        return -1;
    int rc = gw_store_strategy_find_by_hash(st, hash, sb->strategy_id, sizeof(sb->strategy_id));
    if (rc != 0) /* resubmission: same strategy_id, its expiry starts again */
        return rc < 0 || gw_store_strategy_touch(st, sb->strategy_id) < 0 ? -1 : 0;
    gw_uuid4(sb->strategy_id);
    json_t *stored = json_deep_copy(sb->dag);
    char sentinel[80];
    snprintf(sentinel, sizeof(sentinel), "%s-sentinel", sb->strategy_id);
    json_array_append_new(json_object_get(stored, "nodes"),
                          json_pack("{ssss}", "node_type", "VersionSentinel", "node_id", sentinel));
    char *text = json_dumps(stored, JSON_COMPACT);
    json_decref(stored);
    char *meta =
        json_dumps(json_object_get(body, "meta") ? json_object_get(body, "meta") : json_null(),
                   JSON_COMPACT | JSON_ENCODE_ANY);
    int q = over_quota(sb, owner, text ? strlen(text) : 2, quota_msg, qlen);
    if (q != 0) {
        free(text);
        free(meta);
        return q < 0 ? -1 : -2;
    }
    rc = gw_server_txn_begin(sb->s);
    if (rc == 0)
        rc = gw_store_strategy_put(st, sb->strategy_id, hash, text ? text : "{}", sb->crc, "queued",
                                   meta, owner);
    /* A binding per existing world named in the submission. */
    json_t *worlds = json_array();
    if (json_is_string(json_object_get(body, "world_id")))
        json_array_append(worlds, json_object_get(body, "world_id"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, "world_ids"), i, v) if (json_is_string(v))
        json_array_append(worlds, v);
    json_array_foreach(worlds, i, v)
    {
        json_t *doc = NULL;
        if (rc == 0 && gw_store_world_get(st, json_string_value(v), &doc) == 1) {
            json_t *one = json_pack("[s]", sb->strategy_id);
            rc = gw_store_bindings_add(st, json_string_value(v), one);
            json_decref(one);
        }
        json_decref(doc);
    }
    json_decref(worlds);
    if (rc == 0)
        rc = gw_server_txn_commit(sb->s);
    else if (gw_store_in_txn(st))
        gw_server_txn_rollback(sb->s);
    free(text);
    free(meta);
    if (rc == 0)
        LOG_INFO("strategies", "strategy '%s' stored (%zu nodes)", sb->strategy_id,
                 json_array_size(json_object_get(sb->dag, "nodes")));
    return rc;
}

static void submit_route(struct evhttp_request *req, const char *rest, void *arg, int dry_run)
{
    (void)rest;
    struct gw_server *s = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    char err[300];
    json_t *dag = gw_strategy_decode_dag(json_object_get(body, "dag_json"), err, sizeof(err));
    if (!dag) {
        gw_reply_error(req, 400, "E_SCHEMA_INVALID", err, err_detail("E_SCHEMA_INVALID", err));
        json_decref(body);
        return;
    }
    json_t *detail = NULL;
    int code = gw_strategy_verify(dag, json_object_get(body, "node_ids_crc32"), &detail);
    if (code) {
        const char *c = json_string_value(json_object_get(detail, "code"));
        const char *m = json_string_value(json_object_get(detail, "message"));
        gw_reply_error(req, code, c ? c : "E_INTERNAL", m ? m : "error", detail);
        json_decref(dag);
        json_decref(body);
        return;
    }
    struct submit *sb = calloc(1, sizeof(*sb));
    if (!sb) {
        gw_reply_error(req, 500, "E_INTERNAL", "out of memory", NULL);
        json_decref(dag);
        json_decref(body);
        return;
    }
    sb->s = s;
    sb->req = req;
    sb->dry_run = dry_run;
    sb->dag = dag;
    sb->crc = (uint32_t)json_integer_value(json_object_get(body, "node_ids_crc32"));
    compute_context(sb, body);
    char hash[65];
    if (dry_run) {
        snprintf(sb->strategy_id, sizeof(sb->strategy_id), "dryrun");
        /* a DAG submitted before is diffed as that strategy: its own queues are not
         * "reused", as in the answer a submission would get */
        if (dag_hash(sb->dag, hash) == 0 &&
            gw_store_strategy_find_by_hash(gw_server_store(s), hash, sb->diff_as,
                                           sizeof(sb->diff_as)) != 1)
            sb->diff_as[0] = '\0';
    } else if ((code = persist(sb, body, err, sizeof(err))) < 0) {
        if (code == -2)
            gw_reply_error(req, 429, "E_QUOTA", err, NULL);
        else
            gw_reply_error(req, 500, "E_STORE", "store operation failed", NULL);
        submit_free(sb);
        json_decref(body);
        return;
    }
    json_decref(body);
    char *dag_text = json_dumps(sb->dag, JSON_COMPACT);
    json_t *req_body =
        json_pack("{ss ss ss* ss ss* ss* sb}", "strategy_id",
                  sb->diff_as[0] ? sb->diff_as : sb->strategy_id, "dag_json",
                  dag_text ? dag_text : "{}", "world_id", sb->world, "execution_domain", sb->domain,
                  "as_of", sb->as_of, "partition", sb->partition, "dry_run", dry_run);
    free(dag_text);
    gw_server_defer(s, req);
    gw_dm_call(s, "POST", "/diff", req_body, diff_done, sb);
}

static void strategies_root(struct evhttp_request *req, const char *rest, void *arg)
{
    submit_route(req, rest, arg, 0);
}

static void dry_run_route(struct evhttp_request *req, const char *rest, void *arg)
{
    submit_route(req, rest, arg, 1);
}

static void strategies_prefix(struct evhttp_request *req, const char *rest, void *arg)
{
    struct gw_server *s = arg;
    const char *slash = strchr(rest, '/');
    if (!slash || strcmp(slash, "/status") != 0 || slash == rest) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "no such strategy resource", NULL);
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    char id[128], status[32];
    size_t n = (size_t)(slash - rest);
    if (n >= sizeof(id)) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "strategy not found", NULL);
        return;
    }
    memcpy(id, rest, n);
    id[n] = '\0';
    int rc = gw_store_strategy_status(gw_server_store(s), id, status, sizeof(status));
    if (rc < 0)
        gw_reply_error(req, 500, "E_STORE", "store operation failed", NULL);
    else if (rc == 0)
        gw_reply_error(req, 404, "E_NOT_FOUND", "strategy not found", NULL);
    else
        gw_reply_json(req, 200, json_pack("{ss}", "status", status));
}

int gw_strategies_register(struct gw_server *s)
{
    if (gw_server_add_route(s, "/strategies", strategies_root, s) < 0 ||
        gw_server_add_route(s, "/strategies/dry-run", dry_run_route, s) < 0 ||
        gw_server_add_route(s, "/strategies/", strategies_prefix, s) < 0 ||
        gw_server_add_route(s, "/queues/by_tag", gw_queues_by_tag_route, s) < 0)
        return -1;
    return 0;
}
