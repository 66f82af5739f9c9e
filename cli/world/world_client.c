/* world_client: see world_client.h. */
#include "world_client.h"
#include "world_client_internal.h"

#include "http_client.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ requests */

void wc_reply_release_(struct wc_reply *rep)
{
    http_response_release(&rep->r);
    json_decref(rep->j);
    rep->j = NULL;
}

void wc_print_body_(struct world_client *wc, const struct wc_reply *rep)
{
    size_t n = rep->r.body_len;
    while (n > 0 && (rep->r.body[n - 1] == '\n' || rep->r.body[n - 1] == '\r' ||
                     rep->r.body[n - 1] == ' '))
        n--;
    if (n > 0)
        fprintf(wc->out, "%.*s\n", (int)n, rep->r.body);
}

/*
 * Send one request and parse the JSON body. 0 with *rep filled (rep->j NULL when the body
 * is empty, or not JSON on a non-2xx status), or WC_UNREACHABLE with the reason in 'why'
 * and *rep released. Prints nothing.
 */
static int fetch(struct world_client *wc, const char *method, const char *path,
                 const json_t *body, int allow_live, const char *if_match, struct wc_reply *rep,
                 char *why, size_t whylen)
{
    memset(rep, 0, sizeof(*rep));
    const char *hdrs[4];
    size_t nh = 0;
    char auth[1200], im[600];
    if (wc->token && *wc->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", wc->token);
        hdrs[nh++] = auth;
    }
    if (allow_live)
        hdrs[nh++] = "X-Allow-Live: true";
    if (if_match) {
        snprintf(im, sizeof(im), "If-Match: %s", if_match);
        hdrs[nh++] = im;
    }
    hdrs[nh] = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) {
        snprintf(why, whylen, "out of memory");
        return WC_UNREACHABLE;
    }
    struct http_request rq = {.method = method,
                              .url = wc->url,
                              .path = path,
                              .headers = hdrs,
                              .body = text,
                              .body_len = text ? strlen(text) : 0,
                              .timeout_s = wc->timeout_s};
    char err[512];
    int rc = http_fetch(&rq, &rep->r, err, sizeof(err));
    free(text);
    if (rc == HTTP_EURL) {
        snprintf(why, whylen, "%s", err);
        return WC_UNREACHABLE;
    }
    if (rc != 0) {
        snprintf(why, whylen, "gateway %s unreachable: %s", wc->url, err);
        return WC_UNREACHABLE;
    }
    if (rep->r.body_len > 0) {
        json_error_t jerr;
        rep->j = json_loadb(rep->r.body, rep->r.body_len, JSON_DECODE_ANY, &jerr);
        if (!rep->j && rep->r.status < 300) {
            snprintf(why, whylen,
                     "malformed response from %s: invalid JSON at line %d, column %d: %s",
                     wc->url, jerr.line, jerr.column, jerr.text);
            wc_reply_release_(rep);
            return WC_UNREACHABLE;
        }
    }
    return 0;
}

int wc_get_quiet_(struct world_client *wc, const char *path, struct wc_reply *rep)
{
    char why[700];
    if (fetch(wc, "GET", path, NULL, 0, NULL, rep, why, sizeof(why)) != 0)
        return -1;
    if (rep->r.status < 200 || rep->r.status >= 300 || !rep->j) {
        wc_reply_release_(rep);
        return -1;
    }
    return 0;
}

int wc_call_(struct world_client *wc, const char *method, const char *path, const json_t *body,
             int allow_live, const char *if_match, int allow_404, struct wc_reply *rep)
{
    char why[700];
    if (fetch(wc, method, path, body, allow_live, if_match, rep, why, sizeof(why)) != 0) {
        fprintf(wc->err, "qmtl world: %s\n", why);
        return WC_UNREACHABLE;
    }
    int status = rep->r.status;
    if ((status >= 200 && status < 300) || (allow_404 && status == 404))
        return WC_OK;
    if (wc->json)
        wc_print_body_(wc, rep);
    const json_t *e = json_object_get(rep->j, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(rep->j, "detail"));
    if (code || msg)
        fprintf(wc->err, "qmtl world: %d %s: %s\n", status, code ? code : "-", msg ? msg : "-");
    else
        fprintf(wc->err, "qmtl world: %d: the gateway answered without an error body\n", status);
    if (status == 401 && !(wc->token && *wc->token))
        fprintf(wc->err, "  hint: no operator token was sent (--token, $QMTL_OPERATOR_TOKEN "
                         "or gateway.operator_token)\n");
    else if (status == 403 && code && !strcmp(code, "E_PERMISSION_DENIED") && !allow_live)
        fprintf(wc->err, "  hint: changes to a live world need --allow-live\n");
    wc_reply_release_(rep);
    return WC_REFUSED;
}

/* "/worlds/<escaped world><suffix>" */
int wc_world_path_(struct world_client *wc, char *buf, size_t n, const char *world,
                      const char *suffix)
{
    snprintf(buf, n, "/worlds/");
    if (http_url_escape(world, buf, n) < 0 || strlen(buf) + strlen(suffix) >= n) {
        fprintf(wc->err, "qmtl world: world id '%.40s...' is too long\n", world);
        return -1;
    }
    strcat(buf, suffix);
    return 0;
}

/* ------------------------------------------------------------------ text output */

/* A value as table text; malloc'ed. */
char *wc_text_of_(const json_t *v)
{
    char buf[64];
    if (!v || json_is_null(v))
        return strdup("-");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_true(v))
        return strdup("true");
    if (json_is_false(v))
        return strdup("false");
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%g", json_real_value(v));
        return strdup(buf);
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return s ? s : strdup("?");
}

void wc_table_row_(struct wc_table *t, const char *const *vals)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, ncap * t->ncol * sizeof(char *));
        if (!nc)
            return;
        t->cells = nc;
        t->cap = ncap;
    }
    for (size_t c = 0; c < t->ncol; c++)
        t->cells[t->nrows * t->ncol + c] = strdup(vals[c] ? vals[c] : "-");
    t->nrows++;
}

/* Adds a row of JSON values (borrowed). */
void wc_table_row_json_(struct wc_table *t, const json_t *const *vals)
{
    char *s[16];
    for (size_t c = 0; c < t->ncol; c++)
        s[c] = wc_text_of_(vals[c]);
    wc_table_row_(t, (const char *const *)s);
    for (size_t c = 0; c < t->ncol; c++)
        free(s[c]);
}

void wc_table_free_(struct wc_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncol; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void wc_table_print_(struct wc_table *t, FILE *out)
{
    size_t w[16] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncol; c++) {
            const char *s = t->cells[r * t->ncol + c];
            size_t n = s ? strlen(s) : 0;
            if (n > w[c])
                w[c] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncol; c++) {
            const char *s = t->cells[r * t->ncol + c];
            if (c + 1 < t->ncol)
                fprintf(out, "%-*s  ", (int)w[c], s ? s : "");
            else
                fprintf(out, "%s\n", s ? s : "");
        }
    }
    wc_table_free_(t);
}

/* "key: value" lines for keys of obj (in the given order first, then the rest). */
void wc_print_fields_(FILE *out, const json_t *obj, const char *const *order)
{
    struct wc_table t = {.ncol = 2};
    for (const char *const *k = order; k && *k; k++) {
        const json_t *v = json_object_get(obj, *k);
        if (!v)
            continue;
        char key[128];
        snprintf(key, sizeof(key), "%s:", *k);
        char *s = wc_text_of_(v);
        wc_table_row_(&t, (const char *const[]){key, s});
        free(s);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int seen = 0;
        for (const char *const *o = order; o && *o; o++)
            seen |= strcmp(*o, k) == 0;
        if (seen)
            continue;
        char key[128];
        snprintf(key, sizeof(key), "%.120s:", k);
        char *s = wc_text_of_(v);
        wc_table_row_(&t, (const char *const[]){key, s});
        free(s);
    }
    wc_table_print_(&t, out);
}

/* ------------------------------------------------------------------ verbs */

int wc_list(struct world_client *wc)
{
    struct wc_reply rep;
    int rc = wc_call_(wc, "GET", "/worlds", NULL, 0, NULL, 0, &rep);
    if (rc)
        return rc;
    if (wc->json) {
        wc_print_body_(wc, &rep);
    } else if (!json_is_array(rep.j)) {
        fprintf(wc->err, "qmtl world: malformed response from %s: expected a list\n", wc->url);
        rc = WC_UNREACHABLE;
    } else if (json_array_size(rep.j) == 0) {
        fprintf(wc->out, "no worlds\n");
    } else {
        struct wc_table t = {.ncol = 3};
        wc_table_row_(&t, (const char *const[]){"ID", "NAME", "MODE"});
        size_t i;
        json_t *w;
        json_array_foreach(rep.j, i, w)
        {
            const json_t *mode = json_object_get(w, "mode");
            json_t *dflt = json_string("validate");
            wc_table_row_json_(&t, (const json_t *const[]){json_object_get(w, "id"),
                                                       json_object_get(w, "name"),
                                                       mode ? mode : dflt});
            json_decref(dflt);
        }
        wc_table_print_(&t, wc->out);
    }
    wc_reply_release_(&rep);
    return rc;
}

int wc_get(struct world_client *wc, const char *world)
{
    char path[1024];
    struct wc_reply rep;
    if (wc_world_path_(wc, path, sizeof(path), world, "") < 0)
        return WC_REFUSED;
    int rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 0, &rep);
    if (rc)
        return rc;
    if (wc->json)
        wc_print_body_(wc, &rep);
    else
        wc_print_fields_(wc->out, rep.j, (const char *const[]){"id", "name", "mode", NULL});
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_create(struct world_client *wc, const char *world, const char *name, const char *mode,
              int allow_live)
{
    json_t *body = json_pack("{ss}", "id", world);
    if (name)
        json_object_set_new(body, "name", json_string(name));
    if (mode)
        json_object_set_new(body, "mode", json_string(mode));
    struct wc_reply rep;
    int rc = wc_call_(wc, "POST", "/worlds", body, allow_live, NULL, 0, &rep);
    json_decref(body);
    if (rc)
        return rc;
    if (wc->json)
        wc_print_body_(wc, &rep);
    else
        fprintf(wc->out, "created world '%s' (mode %s)\n", world,
                mode ? mode : "validate");
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_delete(struct world_client *wc, const char *world, int allow_live)
{
    char path[1024];
    struct wc_reply rep;
    if (wc_world_path_(wc, path, sizeof(path), world, "") < 0)
        return WC_REFUSED;
    int rc = wc_call_(wc, "DELETE", path, NULL, allow_live, NULL, 0, &rep);
    if (rc)
        return rc;
    if (wc->json)
        wc_print_body_(wc, &rep);
    else
        fprintf(wc->out, "deleted world '%s'\n", world);
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_kill(struct world_client *wc, const char *world, const char *reason, int release,
            int allow_live)
{
    char path[1024];
    struct wc_reply rep;
    if (wc_world_path_(wc, path, sizeof(path), world, "/kill") < 0)
        return WC_REFUSED;
    json_t *body = !release && reason ? json_pack("{ss}", "reason", reason) : NULL;
    int rc = wc_call_(wc, release ? "DELETE" : "POST", path, body, allow_live, NULL, 0, &rep);
    json_decref(body);
    if (rc)
        return rc;
    if (wc->json) {
        wc_print_body_(wc, &rep);
    } else if (json_is_true(json_object_get(rep.j, "killed"))) {
        const char *r = json_string_value(json_object_get(rep.j, "reason"));
        const char *at = json_string_value(json_object_get(rep.j, "killed_at"));
        fprintf(wc->out,
                "world '%s' killed at %s (%s): its hosts flatten and stop trading; the gateway "
                "takes only orders that reduce a position\n",
                world, at ? at : "?", r ? r : "");
    } else {
        fprintf(wc->out, "world '%s': kill switch released (restart its hosts to trade again)\n",
                world);
    }
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_decide(struct world_client *wc, const char *world)
{
    char path[1024];
    struct wc_reply rep;
    if (wc_world_path_(wc, path, sizeof(path), world, "/decide") < 0)
        return WC_REFUSED;
    int rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 0, &rep);
    if (rc)
        return rc;
    if (wc->json) {
        wc_print_body_(wc, &rep);
    } else {
        json_t *flat = json_deep_copy(rep.j);
        const json_t *cc = json_object_get(rep.j, "compute_context");
        json_object_del(flat, "compute_context");
        if (json_is_object(cc)) {
            json_object_set(flat, "safe_mode", json_object_get(cc, "safe_mode"));
            json_object_set(flat, "downgraded", json_object_get(cc, "downgraded"));
            json_object_set(flat, "downgrade_reason", json_object_get(cc, "downgrade_reason"));
        }
        wc_print_fields_(wc->out, flat,
                     (const char *const[]){"world_id", "effective_mode", "execution_domain",
                                           "reason", "policy_version", "as_of", "ttl", "etag",
                                           "safe_mode", "downgraded", "downgrade_reason", NULL});
        json_decref(flat);
        const char *reason = json_string_value(json_object_get(rep.j, "reason"));
        if (reason && !strcmp(reason, "no_active_strategies"))
            wc_explain_no_active_(wc, world);
    }
    wc_reply_release_(&rep);
    return WC_OK;
}

static const char *const act_header[] = {"STRATEGY", "SIDE", "ACTIVE", "WEIGHT", "FREEZE",
                                         "DRAIN",    "MODE", "RUN_ID", "ETAG"};

static void act_row(struct wc_table *t, const char *sid, const char *side, const json_t *e)
{
    json_t *s = json_string(sid), *d = json_string(side);
    wc_table_row_json_(t, (const json_t *const[]){s, d, json_object_get(e, "active"),
                                              json_object_get(e, "weight"),
                                              json_object_get(e, "freeze"),
                                              json_object_get(e, "drain"),
                                              json_object_get(e, "effective_mode"),
                                              json_object_get(e, "run_id"),
                                              json_object_get(e, "etag")});
    json_decref(s);
    json_decref(d);
}

static const char *const both_sides[] = {"long", "short", NULL};

static const char *const *sides_of(const char *side, const char *one[2])
{
    if (!side || !strcmp(side, "both"))
        return both_sides;
    one[0] = side;
    one[1] = NULL;
    return one;
}

int wc_activation(struct world_client *wc, const char *world, const char *strategy,
                  const char *side)
{
    char path[2048];
    struct wc_reply rep;
    struct wc_table t = {.ncol = 9};
    wc_table_row_(&t, act_header);
    if (!strategy) {
        if (wc_world_path_(wc, path, sizeof(path), world, "/activation") < 0)
            return WC_REFUSED;
        int rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 0, &rep);
        if (rc) {
            wc_table_free_(&t);
            return rc;
        }
        if (wc->json) {
            wc_print_body_(wc, &rep);
        } else {
            const json_t *state = json_object_get(rep.j, "state");
            char *ver = wc_text_of_(json_object_get(rep.j, "version"));
            fprintf(wc->out, "world: %s  version: %s\n", world, ver);
            free(ver);
            const char *sid;
            json_t *per;
            json_object_foreach((json_t *)state, sid, per)
            {
                const char *sd;
                json_t *e;
                json_object_foreach(per, sd, e) act_row(&t, sid, sd, e);
            }
            if (t.nrows == 1)
                fprintf(wc->out, "no activation entries\n");
            else
                wc_table_print_(&t, wc->out);
        }
        wc_reply_release_(&rep);
        wc_table_free_(&t);
        return WC_OK;
    }
    const char *one[2];
    const char *const *sides = sides_of(side, one);
    int found = 0, rc = WC_OK;
    for (const char *const *sd = sides; *sd && rc == WC_OK; sd++) {
        if (wc_world_path_(wc, path, sizeof(path), world, "/activation?strategy_id=") < 0) {
            rc = WC_REFUSED;
            break;
        }
        if (http_url_escape(strategy, path, sizeof(path) - 16) < 0) {
            fprintf(wc->err, "qmtl world: strategy id is too long\n");
            rc = WC_REFUSED;
            break;
        }
        strcat(path, "&side=");
        strcat(path, *sd);
        rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 1, &rep);
        if (rc)
            break;
        if (rep.r.status == 200) {
            found++;
            if (wc->json)
                wc_print_body_(wc, &rep);
            else
                act_row(&t, strategy, *sd, rep.j);
        }
        wc_reply_release_(&rep);
    }
    if (rc == WC_OK && !found) {
        fprintf(wc->err, "qmtl world: 404 E_NOT_FOUND: no activation for strategy '%s' (%s) in "
                         "world '%s'\n",
                strategy, side ? side : "both", world);
        rc = WC_REFUSED;
    }
    if (rc == WC_OK && !wc->json)
        wc_table_print_(&t, wc->out);
    wc_table_free_(&t);
    return rc;
}

/* The etag without surrounding quotes, into buf. */
static const char *unquote(const char *etag, char *buf, size_t n)
{
    size_t len = etag ? strlen(etag) : 0;
    if (len >= 2 && etag[0] == '"' && etag[len - 1] == '"' && len - 2 < n) {
        memcpy(buf, etag + 1, len - 2);
        buf[len - 2] = '\0';
        return buf;
    }
    snprintf(buf, n, "%s", etag ? etag : "");
    return buf;
}

static int activate_side(struct world_client *wc, const char *world, const struct wc_activate *a,
                         const char *side)
{
    char path[2048], etag[600] = "", sent[600] = "";
    struct wc_reply rep;
    /* 1. the current entry and its ETag (none yet: 404) */
    if (wc_world_path_(wc, path, sizeof(path), world, "/activation?strategy_id=") < 0)
        return WC_REFUSED;
    size_t base = strlen(path);
    if (http_url_escape(a->strategy, path, sizeof(path) - 16) < 0) {
        fprintf(wc->err, "qmtl world: strategy id is too long\n");
        return WC_REFUSED;
    }
    strcat(path, "&side=");
    strcat(path, side);
    int rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 1, &rep);
    if (rc)
        return rc;
    if (rep.r.status == 200 && rep.r.etag) {
        snprintf(etag, sizeof(etag), "%s", rep.r.etag);
        unquote(etag, sent, sizeof(sent));
    }
    wc_reply_release_(&rep);
    /* 2. the change, conditional on that ETag */
    path[base - strlen("?strategy_id=")] = '\0';
    json_t *body = json_pack("{ss ss sb sb sb}", "strategy_id", a->strategy, "side", side,
                             "active", a->active, "freeze", a->freeze, "drain", a->drain);
    if (a->has_weight)
        json_object_set_new(body, "weight", json_real(a->weight));
    if (a->mode)
        json_object_set_new(body, "effective_mode", json_string(a->mode));
    rc = wc_call_(wc, "PUT", path, body, a->allow_live, *etag ? etag : NULL, 0, &rep);
    json_decref(body);
    if (rc)
        return rc;
    int applied = json_is_true(json_object_get(rep.j, "applied"));
    const char *now = json_string_value(json_object_get(rep.j, "etag"));
    if (wc->json)
        wc_print_body_(wc, &rep);
    if (!applied && *sent && now && strcmp(now, sent) != 0) {
        fprintf(wc->err,
                "qmtl world: activation of '%s' (%s) in world '%s' was changed by someone else "
                "(etag '%s', now '%s'); nothing applied: check it and retry\n",
                a->strategy, side, world, sent, now);
        wc_reply_release_(&rep);
        return WC_REFUSED;
    }
    if (!wc->json) {
        char *w = wc_text_of_(json_object_get(rep.j, "weight"));
        fprintf(wc->out, "%s %s %s: %s weight %s%s%s (etag %s)\n", world, a->strategy, side,
                json_is_true(json_object_get(rep.j, "active")) ? "active" : "inactive", w,
                json_is_true(json_object_get(rep.j, "freeze")) ? " frozen" : "",
                json_is_true(json_object_get(rep.j, "drain")) ? " draining" : "",
                now ? now : "-");
        if (!applied)
            fprintf(wc->out, "  unchanged: it already was in that state\n");
        free(w);
    }
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_activate(struct world_client *wc, const char *world, const struct wc_activate *a)
{
    const char *one[2];
    const char *const *sides = sides_of(a->side, one);
    if (a->active)
        wc_warn_unseen_(wc, world, a->strategy);
    for (const char *const *sd = sides; *sd; sd++) {
        int rc = activate_side(wc, world, a, *sd);
        if (rc)
            return rc;
    }
    return WC_OK;
}

static json_t *string_array(const char *const *list)
{
    json_t *a = json_array();
    for (const char *const *p = list; p && *p; p++)
        json_array_append_new(a, json_string(*p));
    return a;
}

int wc_apply(struct world_client *wc, const char *world, const char *run_id,
             const char *const *activate, const char *const *deactivate, const char *metrics,
             int allow_live)
{
    char path[1024];
    if (wc_world_path_(wc, path, sizeof(path), world, "/apply") < 0)
        return WC_REFUSED;
    json_t *body = json_pack("{ss}", "run_id", run_id);
    if ((activate && *activate) || (deactivate && *deactivate) || !metrics) {
        json_object_set_new(body, "plan",
                            json_pack("{so so}", "activate", string_array(activate),
                                      "deactivate", string_array(deactivate)));
    } else {
        json_error_t jerr;
        json_t *m = json_loads(metrics, 0, &jerr);
        if (!json_is_object(m)) {
            fprintf(wc->err, "qmtl world: metrics: expected a JSON object {strategy: {metric: "
                             "value}}%s%s\n",
                    m ? "" : ": ", m ? "" : jerr.text);
            json_decref(m);
            json_decref(body);
            return WC_REFUSED;
        }
        json_object_set_new(body, "metrics", m);
    }
    struct wc_reply rep;
    int rc = wc_call_(wc, "POST", path, body, allow_live, NULL, 0, &rep);
    json_decref(body);
    if (rc)
        return rc;
    if (wc->json) {
        wc_print_body_(wc, &rep);
    } else {
        fprintf(wc->out, "run '%s': %s\nactive:", run_id,
                json_string_value(json_object_get(rep.j, "phase"))
                    ? json_string_value(json_object_get(rep.j, "phase"))
                    : "?");
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(rep.j, "active"), i, s)
            fprintf(wc->out, "%s%s", i ? ", " : " ", json_string_value(s));
        if (json_array_size(json_object_get(rep.j, "active")) == 0)
            fprintf(wc->out, " (none)");
        fputc('\n', wc->out);
    }
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_audit(struct world_client *wc, const char *world, long limit)
{
    char path[1024], suffix[64] = "/audit";
    if (limit > 0)
        snprintf(suffix, sizeof(suffix), "/audit?limit=%ld", limit);
    if (wc_world_path_(wc, path, sizeof(path), world, suffix) < 0)
        return WC_REFUSED;
    struct wc_reply rep;
    int rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 0, &rep);
    if (rc)
        return rc;
    const json_t *entries = json_object_get(rep.j, "entries");
    if (wc->json) {
        wc_print_body_(wc, &rep);
    } else if (json_array_size(entries) == 0) {
        fprintf(wc->out, "no audit entries\n");
    } else {
        struct wc_table t = {.ncol = 4};
        wc_table_row_(&t, (const char *const[]){"ID", "TS", "EVENT", "DETAILS"});
        size_t i;
        json_t *e;
        json_array_foreach(entries, i, e)
            wc_table_row_json_(&t, (const json_t *const[]){json_object_get(e, "id"),
                                                       json_object_get(e, "ts"),
                                                       json_object_get(e, "event"),
                                                       json_object_get(e, "details")});
        wc_table_print_(&t, wc->out);
    }
    wc_reply_release_(&rep);
    return WC_OK;
}
