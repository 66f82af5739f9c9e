/* world_client_explain: why 'qmtl world decide' says no_active_strategies, and the
 * warning before activating a strategy the world has never seen (see
 * world_client_internal.h). Both only read (quiet GETs) and never change the exit code. */
#include "world_client_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* What the gateway knows of a world's strategies; each part NULL when unreadable. */
struct known {
    json_t *bindings;   /* {strategies: [id...], names: {id: name}} */
    json_t *decisions;  /* {strategies: [...]} */
    json_t *activation; /* {state: {sid: {side: entry}}, version} */
};

static json_t *get_json(struct world_client *wc, const char *world, const char *suffix)
{
    char path[1024];
    struct wc_reply rep;
    if (wc_world_path_(wc, path, sizeof(path), world, suffix) < 0 ||
        wc_get_quiet_(wc, path, &rep) < 0)
        return NULL;
    json_t *j = json_incref(rep.j);
    wc_reply_release_(&rep);
    return j;
}

static void known_load(struct world_client *wc, const char *world, struct known *k)
{
    k->bindings = get_json(wc, world, "/bindings");
    k->decisions = get_json(wc, world, "/decisions");
    k->activation = get_json(wc, world, "/activation");
}

static void known_release(struct known *k)
{
    json_decref(k->bindings);
    json_decref(k->decisions);
    json_decref(k->activation);
}

static int in_strings(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i,
                       v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return 1;
    return 0;
}

/* 1 known, 0 unknown, -1 nothing could be read. */
static int known_has(const struct known *k, const char *sid)
{
    if (!k->bindings && !k->decisions && !k->activation)
        return -1;
    const json_t *names = json_object_get(k->bindings, "names");
    const char *id;
    json_t *name;
    json_object_foreach((json_t *)names, id, name)
    {
        if (json_is_string(name) && !strcmp(json_string_value(name), sid))
            return 1;
    }
    return in_strings(json_object_get(k->bindings, "strategies"), sid) ||
           in_strings(json_object_get(k->decisions, "strategies"), sid) ||
           json_object_get(json_object_get(k->activation, "state"), sid) != NULL;
}

/* The bound strategies as "name (id), id2, ..." (names where known); malloc'ed. */
static char *bound_list(const struct known *k, size_t *count)
{
    const json_t *ids = json_object_get(k->bindings, "strategies");
    const json_t *names = json_object_get(k->bindings, "names");
    size_t cap = 256, used = 0, i;
    char *out = calloc(1, cap);
    json_t *v;
    *count = 0;
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        const char *name = json_string_value(json_object_get(names, id ? id : ""));
        if (!id || !out)
            continue;
        size_t need = strlen(id) + (name ? strlen(name) + 3 : 0) + 3;
        if (used + need >= cap) {
            char *nb = realloc(out, cap = 2 * (used + need));
            if (!nb) {
                free(out);
                out = NULL;
                continue;
            }
            out = nb;
        }
        used += (size_t)sprintf(out + used, "%s%s%s%s%s", *count ? ", " : "", name ? name : "",
                                name ? " (" : "", id, name ? ")" : "");
        (*count)++;
    }
    return out;
}

/* A strategy to name in the suggested command: an activated one, else a bound one. */
static const char *some_strategy(const struct known *k)
{
    const char *sid;
    json_t *e;
    json_object_foreach(json_object_get(k->activation, "state"), sid, e) return sid;
    const json_t *ids = json_object_get(k->bindings, "strategies");
    const char *id = json_string_value(json_array_get(ids, 0));
    const char *name =
        json_string_value(json_object_get(json_object_get(k->bindings, "names"), id ? id : ""));
    return name ? name : id ? id : "STRATEGY";
}

/* The newest apply_completed or decisions_set audit entry of the world as it exists now
 * (the log outlives a deleted world: stop at its creation) when it left the decisions
 * empty; else NULL. Borrowed from 'audit'. */
static const json_t *last_change(const json_t *audit)
{
    const json_t *entries = json_object_get(audit, "entries");
    for (size_t i = json_array_size(entries); i-- > 0;) {
        const json_t *e = json_array_get(entries, i);
        const char *ev = json_string_value(json_object_get(e, "event"));
        const json_t *d = json_object_get(e, "details");
        if (!ev || !strcmp(ev, "world_created"))
            return NULL;
        if (!strcmp(ev, "apply_completed"))
            return json_array_size(json_object_get(d, "active")) == 0 ? e : NULL;
        if (!strcmp(ev, "decisions_set"))
            return json_array_size(json_object_get(d, "strategies")) == 0 ? e : NULL;
    }
    return NULL;
}

void wc_explain_no_active_(struct world_client *wc, const char *world)
{
    struct known k;
    known_load(wc, world, &k);
    json_t *policies = get_json(wc, world, "/policies");
    json_t *audit = get_json(wc, world, "/audit?limit=200");
    FILE *o = wc->out;
    fprintf(o,
            "why: no strategy of world '%s' is decided active (its decision list is "
            "empty), so /decide reports validate\n",
            world);
    int no_policy = 0, policy_failed = 0;
    if (policies) {
        json_int_t dv = json_integer_value(json_object_get(policies, "default_version"));
        no_policy = dv <= 0;
        if (no_policy)
            fprintf(o,
                    "  - no default policy: 'qmtl world apply --metrics' has nothing to "
                    "evaluate (qmtl world policy set %s FILE)\n",
                    world);
        else
            fprintf(o, "  - default policy: version %lld (qmtl world policy get %s)\n",
                    (long long)dv, world);
    }
    if (k.bindings) {
        size_t n;
        char *list = bound_list(&k, &n);
        if (n == 0)
            fprintf(o,
                    "  - no strategy is bound: none was submitted for this world (a host "
                    "run with --world-id %s --gateway-url URL submits its strategies)\n",
                    world);
        else
            fprintf(o, "  - bound (submitted) but not decided: %s\n", list ? list : "?");
        free(list);
    }
    const json_t *state = json_object_get(k.activation, "state");
    if (json_object_size(state) > 0) {
        fprintf(o, "  - activation entries exist (");
        const char *sid;
        json_t *e;
        int first = 1;
        json_object_foreach((json_t *)state, sid, e)
        {
            fprintf(o, "%s%s", first ? "" : ", ", sid);
            first = 0;
        }
        fprintf(o, "), but activation alone does not put a strategy in the decisions\n");
    }
    const json_t *last = last_change(audit);
    if (last) {
        const json_t *d = json_object_get(last, "details");
        const char *ev = json_string_value(json_object_get(last, "event"));
        const char *basis = json_string_value(json_object_get(d, "basis"));
        const char *run = json_string_value(json_object_get(d, "run_id"));
        if (!strcmp(ev, "decisions_set"))
            fprintf(o, "  - the decisions were last set to an empty list (POST /decisions)\n");
        else if (basis && !strcmp(basis, "policy")) {
            policy_failed = 1;
            fprintf(o,
                    "  - the last apply (run '%s') evaluated the policy over %lld "
                    "strateg%s and none passed its thresholds\n",
                    run ? run : "?",
                    (long long)json_integer_value(json_object_get(d, "candidates")),
                    json_integer_value(json_object_get(d, "candidates")) == 1 ? "y" : "ies");
        } else
            fprintf(o,
                    "  - the last apply (run '%s') left no strategy active (its plan "
                    "deactivated them)\n",
                    run ? run : "?");
    }
    const char *s = some_strategy(&k);
    if (policy_failed)
        fprintf(o,
                "fix: qmtl world apply %s --run-id RUN --metrics FILE (metrics that pass the "
                "policy), or qmtl world apply %s --run-id RUN --activate %s\n",
                world, world, s);
    else
        fprintf(o, "fix: qmtl world apply %s --run-id RUN --activate %s%s\n", world, s,
                no_policy ? "" : "   (or --metrics FILE, evaluated by the default policy)");
    json_decref(policies);
    json_decref(audit);
    known_release(&k);
}

void wc_warn_unseen_(struct world_client *wc, const char *world, const char *strategy)
{
    struct known k;
    known_load(wc, world, &k);
    if (known_has(&k, strategy) == 0) {
        fprintf(wc->err,
                "qmtl world: WARN: world '%s' has never seen strategy '%s' (no submission bound "
                "to it, not in its decisions, no activation entry); activating it anyway: check "
                "the name\n",
                world, strategy);
        size_t n;
        char *list = bound_list(&k, &n);
        if (n > 0)
            fprintf(wc->err, "  bound strategies: %s\n", list ? list : "?");
        free(list);
    }
    known_release(&k);
}
