/* world_client_policy: 'qmtl world policy set/get' and 'qmtl world orders' (see
 * world_client.h). Policies use the gateway's routes POST/GET /worlds/{id}/policies,
 * GET /worlds/{id}/policies/{version} and POST /worlds/{id}/set-default; orders GET
 * /orders?world_id=. */
#include "world_client.h"
#include "world_client_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int wc_policy_set(struct world_client *wc, const char *world, const char *policy_text,
                  const char *source)
{
    json_error_t jerr;
    json_t *policy = json_loads(policy_text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(policy)) {
        if (policy)
            fprintf(wc->err, "qmtl world: %s: expected a JSON object (the policy)\n", source);
        else
            fprintf(wc->err, "qmtl world: %s:%d:%d: invalid JSON: %s\n", source, jerr.line,
                    jerr.column, jerr.text);
        json_decref(policy);
        return WC_REFUSED;
    }
    char path[1024];
    if (wc_world_path_(wc, path, sizeof(path), world, "/policies") < 0) {
        json_decref(policy);
        return WC_REFUSED;
    }
    json_t *body = json_pack("{so}", "policy", policy);
    struct wc_reply rep;
    int rc = wc_call_(wc, "POST", path, body, 0, NULL, 0, &rep);
    json_decref(body);
    if (rc)
        return rc;
    json_int_t version = json_integer_value(json_object_get(rep.j, "version"));
    wc_reply_release_(&rep);
    if (version <= 0) {
        fprintf(wc->err, "qmtl world: malformed response from %s: no policy version\n", wc->url);
        return WC_UNREACHABLE;
    }
    wc_world_path_(wc, path, sizeof(path), world, "/set-default");
    body = json_pack("{sI}", "version", version);
    rc = wc_call_(wc, "POST", path, body, 0, NULL, 0, &rep);
    json_decref(body);
    if (rc) {
        fprintf(wc->err, "qmtl world: policy version %lld was stored but is not the default\n",
                (long long)version);
        return rc;
    }
    if (wc->json)
        wc_print_body_(wc, &rep);
    else
        fprintf(wc->out, "world '%s': policy version %lld is the default\n", world,
                (long long)version);
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_policy_get(struct world_client *wc, const char *world, long version)
{
    char path[1024];
    struct wc_reply rep;
    int rc;
    long dflt = 0;
    if (wc_world_path_(wc, path, sizeof(path), world, "/policies") < 0)
        return WC_REFUSED;
    rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 0, &rep);
    if (rc)
        return rc;
    dflt = (long)json_integer_value(json_object_get(rep.j, "default_version"));
    wc_reply_release_(&rep);
    if (version <= 0) {
        if (dflt <= 0) {
            fprintf(wc->err,
                    "qmtl world: world '%s' has no default policy; set one with: qmtl world "
                    "policy set %s FILE\n",
                    world, world);
            return WC_REFUSED;
        }
        version = dflt;
    }
    char suffix[48];
    snprintf(suffix, sizeof(suffix), "/policies/%ld", version);
    if (wc_world_path_(wc, path, sizeof(path), world, suffix) < 0)
        return WC_REFUSED;
    rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 0, &rep);
    if (rc)
        return rc;
    if (wc->json) {
        wc_print_body_(wc, &rep);
    } else {
        /* the policy itself, as 'policy set' takes it */
        char *text = json_dumps(json_object_get(rep.j, "policy"), JSON_INDENT(2) | JSON_SORT_KEYS);
        fprintf(wc->out, "# world '%s', policy version %ld%s\n%s\n", world, version,
                version == dflt ? " (the default)" : "", text ? text : "{}");
        free(text);
    }
    wc_reply_release_(&rep);
    return WC_OK;
}

int wc_orders(struct world_client *wc, const char *world, const char *status, long limit)
{
    char path[1024] = "/orders?world_id=";
    if (http_url_escape(world, path, sizeof(path) - 64) < 0) {
        fprintf(wc->err, "qmtl world: world id '%.40s...' is too long\n", world);
        return WC_REFUSED;
    }
    size_t n = strlen(path);
    if (status)
        n += (size_t)snprintf(path + n, sizeof(path) - n, "&status=%s", status);
    if (limit > 0)
        snprintf(path + n, sizeof(path) - n, "&limit=%ld", limit);
    struct wc_reply rep;
    int rc = wc_call_(wc, "GET", path, NULL, 0, NULL, 0, &rep);
    if (rc)
        return rc;
    const json_t *orders = json_object_get(rep.j, "orders");
    if (wc->json) {
        wc_print_body_(wc, &rep);
    } else if (!json_is_array(orders)) {
        fprintf(wc->err, "qmtl world: malformed response from %s: expected an order list\n",
                wc->url);
        rc = WC_UNREACHABLE;
    } else if (json_array_size(orders) == 0) {
        fprintf(wc->out, "no %s%sorders in world '%s'\n", status ? status : "", status ? " " : "",
                world);
    } else {
        struct wc_table t = {.ncol = 9};
        wc_table_row_(&t, (const char *const[]){"ID", "STATUS", "STRATEGY", "SIDE", "SYMBOL",
                                                "QUANTITY", "PRICE", "CLIENT_ORDER_ID", "TS"});
        size_t i;
        json_t *o;
        json_array_foreach(orders, i, o)
        {
            const json_t *sid = json_object_get(o, "strategy_id");
            wc_table_row_json_(&t, (const json_t *const[]){
                                       json_object_get(o, "id"), json_object_get(o, "status"),
                                       sid ? sid : json_object_get(o, "strategy"),
                                       json_object_get(o, "side"), json_object_get(o, "symbol"),
                                       json_object_get(o, "quantity"), json_object_get(o, "price"),
                                       json_object_get(o, "client_order_id"),
                                       json_object_get(o, "ts")});
        }
        wc_table_print_(&t, wc->out);
        size_t page = limit > 0 ? (size_t)limit : 100; /* the gateway's default */
        if (json_array_size(orders) == page)
            fprintf(wc->out, "(the oldest %zu shown; more may follow: --limit N, up to 1000)\n",
                    page);
    }
    wc_reply_release_(&rep);
    return rc;
}
