/*
 * gw_apply: POST /worlds/{id}/apply, the 2-phase activation switch.
 *
 * Body: {run_id (required), plan?: {activate[], deactivate[]}, metrics?: {sid: {metric: v}},
 * policy?}. The target set is the plan applied to the current decisions, or the policy
 * (the body's, else the world's default) evaluated over the metrics (thresholds, then
 * top_k). Stages, all in one store transaction so a failure anywhere rolls everything
 * back and a crash leaves the previous state:
 *   freeze   every activation entry -> active false, freeze, drain (phase "freeze",
 *            requires_ack, sequence n)
 *   switch   decisions := target; policy_updated
 *   unfreeze every entry -> active iff in target, weight kept (or 1.0 / 0.0), freeze and
 *            drain off; new targets without an entry get a long entry, weight 1.0
 * The run is recorded; the same run_id again returns the stored ack without doing
 * anything. A rolled-back run may be retried with the same run_id.
 */
#include "config.h"
#include "gw_routes.h"
#include "gw_store.h"
#include "gw_util.h"
#include "log.h"
#include "nodeid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gw_apply_fail_stage;

static int in_list(const json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i,
                       v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return 1;
    return 0;
}

static int strs_only(const json_t *v)
{
    size_t i;
    json_t *e;
    if (!v)
        return 1;
    if (!json_is_array(v))
        return 0;
    json_array_foreach(v, i, e) if (!json_is_string(e)) return 0;
    return 1;
}

struct scored {
    const char *sid;
    double score;
};

static int by_score_desc(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return strcmp(x->sid, y->sid);
}

/* Strategies passing the policy over metrics {sid: {metric: value}}. */
static json_t *evaluate(const json_t *policy, const json_t *metrics)
{
    json_t *pass = json_array();
    const char *sid;
    json_t *m;
    const json_t *th = json_object_get(policy, "thresholds");
    json_object_foreach((json_t *)metrics, sid, m)
    {
        int ok = json_is_object(m);
        const char *name;
        json_t *t;
        if (ok && th)
            json_object_foreach((json_t *)th, name, t)
            {
                const char *metric = json_string_value(json_object_get(t, "metric"));
                const json_t *v = json_object_get(m, metric ? metric : name);
                const json_t *mn = json_object_get(t, "min"), *mx = json_object_get(t, "max");
                if (!json_is_number(v)) {
                    ok = 0;
                    break;
                }
                double x = json_number_value(v);
                if ((json_is_number(mn) && x < json_number_value(mn)) ||
                    (json_is_number(mx) && x > json_number_value(mx)))
                    ok = 0;
            }
        if (ok)
            json_array_append_new(pass, json_string(sid));
    }
    const json_t *tk = json_object_get(policy, "top_k");
    if (json_is_object(tk) && json_array_size(pass) > 0) {
        const char *metric = json_string_value(json_object_get(tk, "metric"));
        size_t k = (size_t)json_integer_value(json_object_get(tk, "k"));
        size_t n = json_array_size(pass);
        struct scored *sc = calloc(n, sizeof(*sc));
        if (!sc)
            return pass;
        for (size_t i = 0; i < n; i++) {
            sc[i].sid = json_string_value(json_array_get(pass, i));
            const json_t *v = json_object_get(json_object_get(metrics, sc[i].sid), metric);
            sc[i].score = json_is_number(v) ? json_number_value(v) : -INFINITY;
        }
        qsort(sc, n, sizeof(*sc), by_score_desc);
        json_t *top = json_array();
        for (size_t i = 0; i < n && i < k; i++)
            json_array_append_new(top, json_string(sc[i].sid));
        free(sc);
        json_decref(pass);
        pass = top;
    }
    return pass;
}

static int fail_at(const char *stage)
{
    return gw_apply_fail_stage && strcmp(gw_apply_fail_stage, stage) == 0;
}

/* Runs the three stages inside an open transaction. 0 or -1 with err. */
static int run_stages(struct gw_server *s, const char *world, const char *run_id,
                      const json_t *target, char *err, size_t errlen)
{
    struct gw_store *st = gw_server_store(s);
    json_t *entries = gw_store_activation_list(st, world);
    if (!entries) {
        snprintf(err, errlen, "freeze: %s", gw_store_errmsg(st));
        return -1;
    }
    int rc = -1;
    json_int_t seq = 0;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        const char *sid = json_string_value(json_object_get(e, "strategy_id"));
        const char *side = json_string_value(json_object_get(e, "side"));
        json_t *f =
            json_pack("{sb sf sb sb ss sO}", "active", 0, "weight",
                      json_number_value(json_object_get(e, "weight")), "freeze", 1, "drain", 1,
                      "run_id", run_id, "effective_mode",
                      json_object_get(e, "effective_mode") ? json_object_get(e, "effective_mode")
                                                           : json_null());
        json_t *x =
            json_pack("{ss sb sI}", "phase", "freeze", "requires_ack", 1, "sequence", ++seq);
        json_t *env = gw_activation_write(s, world, sid, side, f, x);
        json_decref(f);
        json_decref(x);
        if (!env) {
            snprintf(err, errlen, "freeze: %s", gw_store_errmsg(st));
            goto out;
        }
        json_decref(env);
    }
    if (fail_at("freeze")) {
        snprintf(err, errlen, "freeze: injected failure");
        goto out;
    }
    int64_t pv = gw_store_world_default_policy(st, world);
    char now[32], hex[65], sum[80];
    gw_iso_now(now, 0);
    json_t *sorted = json_deep_copy(target);
    char *text = json_dumps(sorted, JSON_COMPACT);
    json_decref(sorted);
    nodeid_blake3_hex(text ? text : "", text ? strlen(text) : 0, hex);
    free(text);
    snprintf(sum, sizeof(sum), "blake3:%s", hex);
    if (pv < 0 || gw_store_decisions_set(st, world, target) < 0 ||
        gw_server_publish_event(s, "policy_updated", world,
                                json_pack("{ss sI ss ss ss ss}", "world_id", world,
                                          "policy_version", (json_int_t)(pv < 0 ? 0 : pv),
                                          "checksum", sum, "status", "ACTIVE", "ts", now, "run_id",
                                          run_id)) < 0) {
        snprintf(err, errlen, "switch: %s", gw_store_errmsg(st));
        goto out;
    }
    if (fail_at("switch")) {
        snprintf(err, errlen, "switch: injected failure");
        goto out;
    }
    json_array_foreach(entries, i, e)
    {
        const char *sid = json_string_value(json_object_get(e, "strategy_id"));
        const char *side = json_string_value(json_object_get(e, "side"));
        int act = in_list(target, sid);
        double w = json_number_value(json_object_get(e, "weight"));
        if (act && w <= 0.0)
            w = 1.0;
        if (!act)
            w = 0.0;
        json_t *f =
            json_pack("{sb sf sb sb ss sO}", "active", act, "weight", w, "freeze", 0, "drain", 0,
                      "run_id", run_id, "effective_mode",
                      json_object_get(e, "effective_mode") ? json_object_get(e, "effective_mode")
                                                           : json_null());
        json_t *x = json_pack("{ss sI}", "phase", "unfreeze", "sequence", ++seq);
        json_t *env = gw_activation_write(s, world, sid, side, f, x);
        json_decref(f);
        json_decref(x);
        if (!env) {
            snprintf(err, errlen, "unfreeze: %s", gw_store_errmsg(st));
            goto out;
        }
        json_decref(env);
    }
    json_array_foreach(target, i, e)
    {
        const char *sid = json_string_value(e);
        int have = 0;
        size_t k;
        json_t *x;
        json_array_foreach(
            entries, k, x) if (!strcmp(json_string_value(json_object_get(x, "strategy_id")), sid))
            have = 1;
        if (have)
            continue;
        json_t *f = json_pack("{sb sf sb sb ss}", "active", 1, "weight", 1.0, "freeze", 0, "drain",
                              0, "run_id", run_id);
        json_t *xx = json_pack("{ss sI}", "phase", "unfreeze", "sequence", ++seq);
        json_t *env = gw_activation_write(s, world, sid, "long", f, xx);
        json_decref(f);
        json_decref(xx);
        if (!env) {
            snprintf(err, errlen, "unfreeze: %s", gw_store_errmsg(st));
            goto out;
        }
        json_decref(env);
    }
    if (fail_at("unfreeze")) {
        snprintf(err, errlen, "unfreeze: injected failure");
        goto out;
    }
    rc = 0;
out:
    json_decref(entries);
    return rc;
}

void gw_apply_route(struct gw_server *s, struct evhttp_request *req, const char *world,
                    const json_t *doc)
{
    struct gw_store *st = gw_server_store(s);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    const char *wmode = json_string_value(json_object_get(doc, "mode"));
    if (wmode && !strcmp(wmode, "live") && !gw_live_allowed(s, req)) {
        gw_reply_error(req, 403, "E_PERMISSION_DENIED", "live trading not allowed",
                       json_pack("{ssss}", "code", "E_PERMISSION_DENIED", "message",
                                 "live trading not allowed"));
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    json_t *target = NULL, *prev = NULL, *result = NULL;
    int by_policy = 0;
    char err[300], stage[32];
    const char *run_id = json_string_value(json_object_get(body, "run_id"));
    const json_t *plan = json_object_get(body, "plan");
    const json_t *metrics = json_object_get(body, "metrics");
    if (!run_id || !*run_id || strlen(run_id) > 200) {
        gw_reply_error(req, 422, "E_VALIDATION", "field 'run_id': expected a non-empty string",
                       NULL);
        goto done;
    }
    int rc = gw_store_run_get(st, world, run_id, stage, sizeof(stage), &result);
    if (rc < 0)
        goto store_fail;
    if (rc == 1 && strcmp(stage, "completed") == 0) {
        gw_reply_json(req, 200, result);
        result = NULL;
        goto done;
    }
    json_decref(result);
    result = NULL;
    prev = gw_store_decisions_get(st, world);
    if (!prev)
        goto store_fail;
    if (plan && !json_is_null(plan)) {
        const json_t *act = json_object_get(plan, "activate");
        const json_t *deact = json_object_get(plan, "deactivate");
        if (!json_is_object(plan) || !strs_only(act) || !strs_only(deact)) {
            gw_reply_error(req, 422, "E_VALIDATION",
                           "field 'plan': expected {activate: [string], deactivate: [string]}",
                           NULL);
            goto done;
        }
        target = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(prev, i, v) if (!in_list(deact, json_string_value(v)) &&
                                           !in_list(target, json_string_value(v)))
            json_array_append(target, v);
        json_array_foreach(act, i, v) if (!in_list(target, json_string_value(v)))
            json_array_append(target, v);
    } else if (json_is_object(metrics)) {
        json_t *policy = json_incref(json_object_get(body, "policy"));
        if (!policy || json_is_null(policy)) {
            json_decref(policy);
            policy = NULL;
            int64_t pv = gw_store_world_default_policy(st, world);
            if (pv > 0 && gw_store_policy_get(st, world, pv, &policy) < 0)
                goto store_fail;
        }
        if (!policy || gw_policy_validate(policy, err, sizeof(err)) < 0) {
            gw_reply_error(req, 422, "E_VALIDATION",
                           policy ? err : "no policy: give 'policy' or set a default policy", NULL);
            json_decref(policy);
            goto done;
        }
        target = evaluate(policy, metrics);
        by_policy = 1;
        json_decref(policy);
    } else {
        gw_reply_error(req, 422, "E_VALIDATION", "give 'plan' or 'metrics' to choose the target",
                       NULL);
        goto done;
    }
    if (gw_server_txn_begin(s) < 0)
        goto store_fail;
    if (run_stages(s, world, run_id, target, err, sizeof(err)) == 0) {
        result = json_pack("{sb ss sO ss ss}", "ok", 1, "run_id", run_id, "active", target,
                           "phase", "completed", "basis", by_policy ? "policy" : "plan");
        if (by_policy) /* how many strategies the policy was evaluated over */
            json_object_set_new(result, "candidates",
                                json_integer((json_int_t)json_object_size(metrics)));
        if (gw_store_run_put(st, world, run_id, "completed", result) == 0 &&
            gw_store_audit_add(st, world, "apply_completed", result) == 0 &&
            gw_server_txn_commit(s) == 0) {
            LOG_INFO("apply", "world '%s' run '%s' completed", world, run_id);
            gw_reply_json(req, 200, result);
            result = NULL;
            goto done;
        }
        snprintf(err, sizeof(err), "commit: %s", gw_store_errmsg(st));
    }
    /* Rollback: nothing of the run is kept; the previous activation and decisions stay. */
    if (gw_store_in_txn(st))
        gw_server_txn_rollback(s);
    LOG_WARN("apply", "world '%s' run '%s' rolled back: %s", world, run_id, err);
    json_t *failed =
        json_pack("{sb ss ss ss}", "ok", 0, "run_id", run_id, "phase", "rolled_back", "error", err);
    gw_store_run_put(st, world, run_id, "rolled_back", failed);
    gw_store_audit_add(st, world, "apply_rolled_back", failed);
    json_decref(failed);
    gw_reply_error(req, 500, "E_APPLY_FAILED", err, json_string("apply failed"));
    goto done;
store_fail:
    gw_reply_error(req, 500, "E_STORE", "store operation failed", json_string(gw_store_errmsg(st)));
done:
    json_decref(result);
    json_decref(target);
    json_decref(prev);
    json_decref(body);
}
