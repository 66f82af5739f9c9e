/* control: control-plane client pieces of the attached host (see control.h). */
#include "host/online/control.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exec_domain.h"
#include "http_client.h"
#include "log.h"
#include "nodeid.h"

/* ------------------------------------------------------------------ domains */

int ctl_host_domain(int domain)
{
    return domain == EXEC_DRYRUN ? HOST_DRYRUN : domain == EXEC_LIVE ? HOST_LIVE : HOST_BLOCKED;
}

int64_t ctl_parse_iso(const char *s)
{
    if (!s)
        return -1;
    int Y, M, D, h, m, sec, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &used) != 6 || used != 19)
        return -1;
    const char *p = s + used;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (strcmp(p, "Z") && strcmp(p, "+00:00"))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    /* days from civil (proleptic Gregorian) */
    int y = Y - (M <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + m * 60 + sec;
}

static double ttl_seconds(const json_t *ttl)
{
    if (!ttl)
        return 300;
    if (json_is_number(ttl))
        return json_number_value(ttl);
    const char *s = json_string_value(ttl);
    if (!s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || (*end && strcmp(end, "s")))
        return 0;
    return v;
}

void ctl_decision_check(const json_t *env, time_t now, struct ctl_decision *out)
{
    memset(out, 0, sizeof(*out));
    out->domain = EXEC_BACKTEST;
    const char *mode = json_string_value(json_object_get(env, "effective_mode"));
    if (!mode)
        mode = json_string_value(json_object_get(env, "execution_domain"));
    if (!json_is_object(env) || !mode) {
        out->safe_mode = 1;
        out->reason = "decision_unavailable";
        return;
    }
    snprintf(out->mode, sizeof(out->mode), "%s", mode);
    int d = exec_mode_to_domain(mode);
    if (d < 0) {
        out->safe_mode = 1;
        out->reason = "unknown_mode";
        return;
    }
    int64_t as_of = ctl_parse_iso(json_string_value(json_object_get(env, "as_of")));
    if (as_of < 0 && (d == EXEC_BACKTEST || d == EXEC_DRYRUN)) {
        out->safe_mode = 1;
        out->reason = "missing_as_of";
        return;
    }
    double ttl = ttl_seconds(json_object_get(env, "ttl"));
    if (as_of >= 0)
        out->expires = as_of + (int64_t)ttl;
    if (as_of >= 0 && (double)as_of + ttl < (double)now) {
        out->safe_mode = 1;
        out->reason = "stale_decision";
        return;
    }
    out->domain = d;
}

/* ------------------------------------------------------------------ activation */

int64_t ctl_etag_version(const char *etag)
{
    if (!etag)
        return -1;
    size_t n = strlen(etag);
    if (n && etag[n - 1] == '"')
        n--;
    size_t e = n;
    while (n && isdigit((unsigned char)etag[n - 1]))
        n--;
    if (n == e || !n || etag[n - 1] != ':' || e - n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = n; i < e; i++)
        v = v * 10 + (etag[i] - '0');
    return v;
}

int ctl_activation_newer(const struct gate *g, int side, const char *etag)
{
    struct qmtl_activation cur;
    if (gate_get(g, side, &cur) != QMTL_OK || cur.stale)
        return 1;
    int64_t held = ctl_etag_version(cur.etag), got = ctl_etag_version(etag);
    if (held < 0 || got < 0)
        return 1;
    return got > held;
}

int ctl_side_parse(const char *s)
{
    if (!s)
        return 0;
    if (!strcasecmp(s, "long") || !strcasecmp(s, "buy"))
        return QMTL_SIDE_BUY;
    if (!strcasecmp(s, "short") || !strcasecmp(s, "sell"))
        return QMTL_SIDE_SELL;
    return 0;
}

int ctl_activation_parse(const json_t *j, int side, const char *domain, struct qmtl_activation *a)
{
    memset(a, 0, sizeof(*a));
    a->size = sizeof(*a);
    const json_t *act = json_object_get(j, "active");
    if (!json_is_boolean(act))
        return -1;
    a->side = side;
    a->active = json_is_true(act);
    a->frozen = json_is_true(json_object_get(j, "freeze"));
    a->draining = json_is_true(json_object_get(j, "drain"));
    const json_t *w = json_object_get(j, "weight");
    a->weight = json_is_number(w) ? json_number_value(w) : a->active ? 1.0 : 0.0;
    if (a->weight < 0)
        a->weight = 0;
    if (a->weight > 1)
        a->weight = 1;
    int64_t ts = ctl_parse_iso(json_string_value(json_object_get(j, "ts")));
    a->ts = ts < 0 ? 0 : ts;
    a->etag = json_string_value(json_object_get(j, "etag"));
    a->run_id = json_string_value(json_object_get(j, "run_id"));
    a->domain = domain;
    return 0;
}

int ctl_apply(struct host *h, uint32_t strat, const struct qmtl_activation *a)
{
    if (strat >= h->n_st)
        return -1;
    if (!ctl_activation_newer(&h->st[strat]->gate, a->side, a->etag))
        return 0;
    return host_set_activation(h, strat, a);
}

void ctl_mark_stale(struct host *h)
{
    for (size_t i = 0; i < h->n_st; i++) {
        struct host_strategy *st = h->st[i];
        gate_mark_stale(&st->gate);
        if (st->stopped || !st->desc->on_activation)
            continue;
        static const int sides[2] = {QMTL_SIDE_BUY, QMTL_SIDE_SELL};
        for (int k = 0; k < 2; k++) {
            struct qmtl_activation cur;
            if (gate_get(&st->gate, sides[k], &cur) == QMTL_OK)
                st->desc->on_activation(&st->ctx, host_api_table(), &cur);
        }
    }
}

/* ------------------------------------------------------------------ submission */

static json_t *wire_node(const struct graph_node *x, const char *const *deps, uint32_t n_deps,
                         char id[NODEID_LEN + 1], char *err, size_t errlen)
{
    json_t *params = x->params_json ? json_loads(x->params_json, 0, NULL) : NULL;
    json_t *o = json_object();
    json_t *dj = json_array();
    json_t *tags = json_array();
    if (!o || !dj || !tags || (x->params_json && !params)) {
        json_decref(params);
        json_decref(o);
        json_decref(dj);
        json_decref(tags);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < n_deps; i++)
        json_array_append_new(dj, json_string(deps[i]));
    for (uint32_t i = 0; i < x->n_tags; i++)
        json_array_append_new(tags, json_string(x->tags[i]));
    struct nodeid_fields f = {
        .node_type = x->node_type,
        .interval = x->interval,
        .period = x->period,
        .params = params,
        .deps = deps,
        .n_deps = n_deps,
        .schema_compat_id = GRAPH_SCHEMA_COMPAT,
        .code_hash = x->code_hash,
    };
    size_t clen = 0;
    char *canon = nodeid_canonical_len(&f, &clen, err, errlen);
    if (!canon) {
        json_decref(params);
        json_decref(o);
        json_decref(dj);
        json_decref(tags);
        return NULL;
    }
    nodeid_from_canonical(canon, clen, id);
    const char *pj = x->params_json;
    char hex[65];
    nodeid_blake3_hex(pj ? pj : "null", pj ? strlen(pj) : 4, hex);
    free(canon);
    char config_hash[80];
    snprintf(config_hash, sizeof(config_hash), "blake3:%s", hex);
    json_object_set_new(o, "node_type", json_string(x->node_type));
    json_object_set_new(o, "name", json_string(x->label));
    json_object_set_new(o, "interval", json_integer(x->interval));
    json_object_set_new(o, "period", json_integer(x->period));
    json_object_set_new(o, "params", params ? params : json_null());
    json_object_set_new(o, "dependencies", dj);
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "code_hash", json_string(*x->code_hash ? x->code_hash : "none"));
    json_object_set_new(o, "config_hash", json_string(config_hash));
    json_object_set_new(o, "schema_hash", json_string(GRAPH_SCHEMA_COMPAT));
    json_object_set_new(o, "schema_compat_id", json_string(GRAPH_SCHEMA_COMPAT));
    json_object_set_new(o, "node_id", json_string(id));
    return o;
}

json_t *ctl_strategy_submission(const struct host *h, uint32_t strat, const char *world,
                                char *err, size_t errlen)
{
    size_t n = graph_count(h->g);
    char (*ids)[NODEID_LEN + 1] = calloc(n ? n : 1, sizeof(*ids)); /* by graph index */
    const char **order = calloc(n ? n : 1, sizeof(*order));
    json_t *nodes = json_array();
    if (!ids || !order || !nodes) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    size_t k = 0;
    for (uint32_t p = 0; p < n; p++) {
        const struct graph_node *x = graph_at(h->g, p);
        if (!graph_owned_by(x, strat))
            continue;
        if (!*x->code_hash && x->kind != GRAPH_STREAM) {
            snprintf(err, errlen, "node '%s': no code hash", x->label);
            goto fail;
        }
        const char *deps[QMTL_MAX_INPUTS];
        uint32_t nd = 0;
        /* a tag query's inputs are resolved after its identity was fixed: none on the wire */
        for (uint32_t i = 0; x->kind != GRAPH_TAG_QUERY && i < x->n_in && i < QMTL_MAX_INPUTS;
             i++) {
            const char *d = ids[x->in[i]];
            if (!*d) {
                snprintf(err, errlen, "node '%s': input outside the strategy", x->label);
                goto fail;
            }
            deps[nd++] = d;
        }
        json_t *o = wire_node(x, deps, nd, ids[x->idx], err, errlen);
        if (!o)
            goto fail;
        json_array_append_new(nodes, o);
        order[k++] = ids[x->idx];
    }
    uint32_t crc = nodeid_crc32_ids(order, k);
    json_t *body = json_pack("{s{ss ss so} sI ss s{ss}}", "dag_json", "schema_version", "v1",
                             "name", h->st[strat]->name, "nodes", nodes, "node_ids_crc32",
                             (json_int_t)crc, "world_id", world, "meta", "strategy",
                             h->st[strat]->name);
    free(ids);
    free(order);
    if (!body)
        snprintf(err, errlen, "out of memory");
    return body;
fail:
    free(ids);
    free(order);
    json_decref(nodes);
    return NULL;
}

/* ------------------------------------------------------------------ start-up requests */

double ctl_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int ctl_retry_fetch(struct ctl_retry *rs, const char *base_url, const char *method,
                    const char *path, const json_t *body, const char *token, double timeout_s,
                    json_t **reply, char *err, size_t errlen)
{
    if (!rs->attempts)
        rs->t0 = ctl_now_s();
    double backoff = 0.1;
    for (;;) {
        rs->attempts++;
        char why[256];
        int status = http_json_fetch(base_url, method, path, body, token, timeout_s, reply, why,
                                     sizeof(why));
        if (status) {
            rs->answered = 1;
            return status;
        }
        snprintf(err, errlen, "%s %s: %s", method, path, why);
        snprintf(rs->last_err, sizeof(rs->last_err), "%s", err);
        double left = rs->budget_s - (ctl_now_s() - rs->t0);
        if (rs->answered || left <= 0)
            return 0;
        if (rs->attempts == 1)
            LOG_WARN("control", "gateway %s does not answer (%s): retrying for up to %g s",
                     base_url, err, rs->budget_s);
        json_decref(*reply);
        *reply = NULL;
        double d = fmin(backoff, left);
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
        backoff = fmin(backoff * 2, 2.0);
    }
}
