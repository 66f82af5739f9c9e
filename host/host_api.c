/* host_api: the plugin services table and the strategies' host (see host_api.h). */
#include "host/host_api.h"
#include "host/orders/orders.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define NAME_MAX_LEN 200
#define TAGS_MAX 32
#define PERIOD_MAX 10000
#define SPEC_WORD 8

/* ------------------------------------------------------------------ errors */

static int set_err(struct qmtl_err *e, int code, const char *fmt, ...) QMTL_PRINTF(3, 4);
static int set_err(struct qmtl_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------------ context helpers */

/* The strategy a context belongs to (it is embedded in it): also right while a strategy
 * is being set up outside h->st (host/dag/dag_swap.h). */
static struct host_strategy *ctx_strategy(struct qmtl_ctx *ctx)
{
    return (struct host_strategy *)((char *)ctx - offsetof(struct host_strategy, ctx));
}

static int ctx_add_handle(struct qmtl_ctx *ctx, uint32_t idx, const char *name)
{
    if (ctx->n == ctx->cap) {
        size_t nc = ctx->cap ? ctx->cap * 2 : 8;
        uint32_t *nn = realloc(ctx->nodes, nc * sizeof(*nn));
        if (!nn)
            return -1;
        ctx->nodes = nn;
        char **nm = realloc(ctx->names, nc * sizeof(*nm));
        if (!nm)
            return -1;
        ctx->names = nm;
        ctx->cap = nc;
    }
    /* most handles are named like their node: share the node's label then */
    const char *label = graph_node(ctx->h->g, idx)->label;
    char *copy = NULL;
    if (strcmp(name ? name : "", label) != 0 && !(copy = strdup(name ? name : "")))
        return -1;
    ctx->nodes[ctx->n] = idx;
    ctx->names[ctx->n] = copy;
    ctx->n++;
    return (int)ctx->n; /* handle */
}

const char *host_handle_name(const struct qmtl_ctx *ctx, size_t i)
{
    if (i >= ctx->n)
        return "";
    return ctx->names[i] ? ctx->names[i] : graph_node(ctx->h->g, ctx->nodes[i])->label;
}

static struct graph_node *ctx_node(struct qmtl_ctx *ctx, qmtl_node handle)
{
    if (handle <= 0 || (size_t)handle > ctx->n)
        return NULL;
    return graph_node(ctx->h->g, ctx->nodes[handle - 1]);
}

/*
 * Common checks of every node-creating call, and the spec read into 'local' (the host's
 * layout, 'have' bytes). A spec built against an older header has a smaller 'size': the
 * fields it does not cover read as zero, their default. The size is taken in whole
 * 8-byte words (every spec holds pointers, so a real sizeof is one), so a bogus size
 * never hands the host half a pointer.
 */
static int begin(struct qmtl_ctx *ctx, const void *spec, void *local, size_t have,
                 const char *what, struct qmtl_err *err)
{
    if (!ctx || !ctx->h)
        return set_err(err, QMTL_EINVAL, "%s: no context", what);
    if (!ctx->in_setup)
        return set_err(err, QMTL_ESTATE, "%s: nodes can only be declared inside setup()", what);
    if (!spec)
        return set_err(err, QMTL_EINVAL, "%s: spec is NULL", what);
    uint32_t size;
    memcpy(&size, spec, sizeof(size));
    size_t take = size & ~(size_t)(SPEC_WORD - 1);
    if (take < SPEC_WORD)
        return set_err(err, QMTL_EINVAL,
                       "%s: spec size %u is smaller than %d (start it with QMTL_SPEC())", what,
                       size, SPEC_WORD);
    if (take > have)
        take = have;
    memset(local, 0, have);
    memcpy(local, spec, take);
    return 0;
}

static int check_name(const char *name, const char *what, struct qmtl_err *err)
{
    if (name && strlen(name) > NAME_MAX_LEN)
        return set_err(err, QMTL_EINVAL, "%s: name longer than %d characters", what, NAME_MAX_LEN);
    return 0;
}

static int resolve_inputs(struct qmtl_ctx *ctx, const qmtl_node *in, uint32_t max, uint32_t *out,
                          uint32_t *n, const char *what, struct qmtl_err *err)
{
    uint32_t k = 0;
    for (; k < max && in[k] != 0; k++) {
        struct graph_node *u = ctx_node(ctx, in[k]);
        if (!u)
            return set_err(err, QMTL_EINVAL, "%s: unknown input handle %d", what, (int)in[k]);
        out[k] = u->idx;
    }
    *n = k;
    return 0;
}

static int resolve_interval(const char *text, struct graph_node *first, int64_t *out,
                            const char *what, struct qmtl_err *err)
{
    char e[128];
    if (!text) {
        if (!first)
            return set_err(err, QMTL_EINVAL, "%s: interval is required", what);
        *out = first->interval;
        return 0;
    }
    if (host_parse_interval(text, out, e, sizeof(e)))
        return set_err(err, QMTL_EINVAL, "%s: %s", what, e);
    return 0;
}

static int check_period(int32_t p, const char *what, struct qmtl_err *err)
{
    if (p < 0 || p > PERIOD_MAX)
        return set_err(err, QMTL_EINVAL, "%s: period %d out of range (1..%d)", what, (int)p,
                       PERIOD_MAX);
    return 0;
}

/* ------------------------------------------------------------------ custom node names */

/* A strategy's custom node names: an open-addressing set, so setup() stays linear. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int names_has(const struct qmtl_ctx *ctx, const char *name)
{
    if (!ctx->cap_custom)
        return 0;
    size_t m = ctx->cap_custom - 1;
    for (size_t i = name_hash(name) & m; ctx->custom[i]; i = (i + 1) & m)
        if (strcmp(ctx->custom[i], name) == 0)
            return 1;
    return 0;
}

static void names_put(char **slots, size_t cap, char *name)
{
    size_t i = name_hash(name) & (cap - 1);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = name;
}

static int names_add(struct qmtl_ctx *ctx, const char *name)
{
    if (2 * (ctx->n_custom + 1) > ctx->cap_custom) {
        size_t nc = ctx->cap_custom ? ctx->cap_custom * 2 : 64;
        char **ns = calloc(nc, sizeof(*ns));
        if (!ns)
            return -1;
        for (size_t i = 0; i < ctx->cap_custom; i++)
            if (ctx->custom[i])
                names_put(ns, nc, ctx->custom[i]);
        free(ctx->custom);
        ctx->custom = ns;
        ctx->cap_custom = nc;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    names_put(ctx->custom, ctx->cap_custom, copy);
    ctx->n_custom++;
    return 0;
}

void host_ctx_release_names(struct qmtl_ctx *ctx)
{
    for (size_t i = 0; i < ctx->cap_custom; i++)
        free(ctx->custom[i]);
    free(ctx->custom);
    ctx->custom = NULL;
    ctx->n_custom = ctx->cap_custom = 0;
}

/* Add to the graph and hand out a handle. Returns the handle or a negative code. */
static qmtl_node add_node(struct qmtl_ctx *ctx, const struct graph_desc *d, const char *name,
                          struct graph_node **node_out, int *created, const char *what,
                          struct qmtl_err *err)
{
    char e[256];
    uint32_t idx;
    long max = ctx->h->opt.max_nodes_per_strategy;
    if (max > 0 && ctx->n >= (size_t)max)
        return set_err(err, QMTL_EINVAL,
                       "%s: more than %ld nodes in one strategy (host.max_nodes_per_strategy)",
                       what, max);
    if (graph_add(ctx->h->g, d, ctx->strat, &idx, created, e, sizeof(e)))
        return set_err(err, QMTL_EINVAL, "%s: %s", what, e);
    int h = ctx_add_handle(ctx, idx, name);
    if (h < 0)
        return set_err(err, QMTL_ENOMEM, "%s: out of memory", what);
    *node_out = graph_node(ctx->h->g, idx);
    return h;
}

/* ------------------------------------------------------------------ services */

static void api_log(struct qmtl_ctx *ctx, int level, const char *fmt, ...)
{
    char raw[1024], buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* one line of the plugin's own: no newline to forge another component's line */
    log_escape(raw, sizeof(raw), buf, sizeof(buf));
    if (level < QMTL_LOG_DEBUG || level > QMTL_LOG_ERROR)
        level = QMTL_LOG_INFO;
    const char *name = ctx && ctx->h ? ctx_strategy(ctx)->name : "plugin";
    log_msg((enum log_level)level, name, "%s", buf);
}

/* The 'nt' tags sorted into 'sorted' (TAGS_MAX slots) and as a new JSON array. */
static json_t *sorted_tags(const char *const *tags, size_t nt, const char **sorted)
{
    memcpy(sorted, tags, nt * sizeof(*sorted));
    qsort(sorted, nt, sizeof(*sorted), cmp_str);
    json_t *arr = json_array();
    for (size_t i = 0; i < nt; i++)
        json_array_append_new(arr, json_string(sorted[i]));
    return arr;
}

static qmtl_node api_stream_input(struct qmtl_ctx *ctx, const struct qmtl_stream_spec *spec,
                                  struct qmtl_err *err)
{
    const char *what = "stream_input";
    struct qmtl_stream_spec local;
    int rc = begin(ctx, spec, &local, sizeof(local), what, err);
    if (rc)
        return rc;
    spec = &local;
    char e[200];
    size_t nt;
    if (host_check_tags(spec->tags, &nt, e, sizeof(e)))
        return set_err(err, QMTL_EINVAL, "%s: %s", what, e);
    if ((rc = check_name(spec->name, what, err)))
        return rc;
    int64_t iv;
    if ((rc = resolve_interval(spec->interval, NULL, &iv, what, err)))
        return rc;
    if ((rc = check_period(spec->period, what, err)))
        return rc;
    const char *sorted[TAGS_MAX];
    json_t *params = json_object();
    json_object_set_new(params, "tags", sorted_tags(spec->tags, nt, sorted));
    struct graph_desc d = {
        .kind = GRAPH_STREAM,
        .node_type = "StreamInput",
        .label = spec->name ? spec->name : sorted[0],
        .params = params,
        .code_hash = "builtin:stream_input:1",
        .interval = iv,
        .period = spec->period ? spec->period : 1,
        .tags = spec->tags,
        .n_tags = (uint32_t)nt,
    };
    struct graph_node *n;
    int created;
    qmtl_node h =
        add_node(ctx, &d, spec->name ? spec->name : "stream_input", &n, &created, what, err);
    json_decref(params);
    return h;
}

static qmtl_node api_tag_query(struct qmtl_ctx *ctx, const struct qmtl_tag_query_spec *spec,
                               struct qmtl_err *err)
{
    const char *what = "tag_query";
    struct qmtl_tag_query_spec local;
    int rc = begin(ctx, spec, &local, sizeof(local), what, err);
    if (rc)
        return rc;
    spec = &local;
    char e[200];
    size_t nt;
    if (host_check_tags(spec->query_tags, &nt, e, sizeof(e)))
        return set_err(err, QMTL_EINVAL, "%s: %s", what, e);
    if (spec->match_mode != QMTL_MATCH_ANY && spec->match_mode != QMTL_MATCH_ALL)
        return set_err(err, QMTL_EINVAL, "%s: match_mode %d is neither any (0) nor all (1)", what,
                       (int)spec->match_mode);
    if ((rc = check_name(spec->name, what, err)))
        return rc;
    int64_t iv;
    if ((rc = resolve_interval(spec->interval, NULL, &iv, what, err)))
        return rc;
    if ((rc = check_period(spec->period, what, err)))
        return rc;
    const char *sorted[TAGS_MAX];
    json_t *params = json_object();
    json_t *arr = sorted_tags(spec->query_tags, nt, sorted);
    json_object_set_new(params, "interval", json_integer(iv));
    json_object_set_new(params, "match_mode",
                        json_string(spec->match_mode == QMTL_MATCH_ALL ? "all" : "any"));
    json_object_set_new(params, "query_tags", arr);
    struct graph_desc d = {
        .kind = GRAPH_TAG_QUERY,
        .node_type = "TagQueryNode",
        .label = spec->name ? spec->name : "tag_query",
        .params = params,
        .code_hash = "builtin:tag_query:1",
        .interval = iv,
        .period = spec->period ? spec->period : 1,
    };
    struct graph_node *n;
    int created;
    qmtl_node h = add_node(ctx, &d, spec->name ? spec->name : "tag_query", &n, &created, what, err);
    json_decref(params);
    if (h > 0 && created) {
        n->query_tags = calloc(nt, sizeof(char *));
        if (!n->query_tags)
            return set_err(err, QMTL_ENOMEM, "%s: out of memory", what);
        for (size_t i = 0; i < nt; i++)
            if (!(n->query_tags[n->n_query_tags++] = strdup(sorted[i])))
                return set_err(err, QMTL_ENOMEM, "%s: out of memory", what);
        n->match_mode = spec->match_mode;
    }
    return h;
}

static qmtl_node api_indicator(struct qmtl_ctx *ctx, const struct qmtl_indicator_spec *spec,
                               struct qmtl_err *err)
{
    const char *what = "indicator";
    struct qmtl_indicator_spec local;
    int rc = begin(ctx, spec, &local, sizeof(local), what, err);
    if (rc)
        return rc;
    spec = &local;
    int kind = builtin_kind_from_name(spec->kind);
    if (kind < 0)
        return set_err(err, QMTL_EINVAL, "%s: unknown kind '%.60s'", what,
                       spec->kind ? spec->kind : "(null)");
    char wbuf[96];
    snprintf(wbuf, sizeof(wbuf), "indicator '%s'", builtin_kind_name(kind));
    what = wbuf;
    if ((rc = check_name(spec->name, what, err)))
        return rc;
    uint32_t in[QMTL_MAX_INPUTS], nin;
    if ((rc = resolve_inputs(ctx, spec->inputs, QMTL_MAX_INPUTS, in, &nin, what, err)))
        return rc;
    if (nin != builtin_inputs(kind))
        return set_err(err, QMTL_EINVAL, "%s: takes %u input(s), got %u", what,
                       builtin_inputs(kind), nin);
    int32_t window = spec->window;
    if (window == 0 && (kind == BI_RETURNS || kind == BI_ROC || kind == BI_CROSSOVER))
        window = 1;
    if (window < 1 || window > PERIOD_MAX)
        return set_err(err, QMTL_EINVAL, "%s: window %d out of range (1..%d)", what, (int)window,
                       PERIOD_MAX);
    if (kind == BI_EMA && (spec->alpha < 0 || spec->alpha > 1 || isnan(spec->alpha)))
        return set_err(err, QMTL_EINVAL, "%s: alpha %g not in (0, 1]", what, spec->alpha);
    int field = builtin_field_from_name(spec->field);
    if (field < 0)
        return set_err(err, QMTL_EINVAL, "%s: unknown field '%.40s'", what, spec->field);
    struct graph_node *first = graph_node(ctx->h->g, in[0]);
    int64_t iv;
    if ((rc = resolve_interval(spec->interval, first, &iv, what, err)))
        return rc;
    json_t *params = json_object();
    if (kind != BI_CROSSOVER)
        json_object_set_new(params, "window", json_integer(window));
    double alpha = kind == BI_EMA ? (spec->alpha > 0 ? spec->alpha : 2.0 / (window + 1.0)) : 0;
    if (kind == BI_EMA)
        json_object_set_new(params, "alpha", json_real(alpha));
    json_object_set_new(params, "field", json_string(builtin_field_name(field)));
    char code[64];
    snprintf(code, sizeof(code), "builtin:%s:1", builtin_kind_name(kind));
    struct graph_desc d = {
        .kind = GRAPH_INDICATOR,
        .node_type = builtin_kind_name(kind),
        .label = spec->name ? spec->name : builtin_kind_name(kind),
        .params = params,
        .code_hash = code,
        .inputs = in,
        .n_inputs = nin,
        .interval = iv,
        .period = builtin_period(kind, window),
    };
    struct graph_node *n;
    int created;
    qmtl_node h = add_node(ctx, &d, spec->name ? spec->name : builtin_kind_name(kind), &n, &created,
                           what, err);
    json_decref(params);
    if (h > 0 && created) { /* the state is the runtime's, made from these */
        n->has_builtin = 1;
        n->builtin = (struct graph_builtin){kind, window, alpha, field};
    }
    return h;
}

static qmtl_node api_node(struct qmtl_ctx *ctx, const struct qmtl_node_spec *spec,
                          struct qmtl_err *err)
{
    const char *what = "node";
    struct qmtl_node_spec local;
    int rc = begin(ctx, spec, &local, sizeof(local), what, err);
    if (rc)
        return rc;
    spec = &local;
    if (!spec->name || !*spec->name)
        return set_err(err, QMTL_EINVAL, "node: a name is required");
    char wbuf[QMTL_ERR_MSG_MAX];
    snprintf(wbuf, sizeof(wbuf), "node '%.60s'", spec->name);
    what = wbuf;
    if ((rc = check_name(spec->name, what, err)))
        return rc;
    if (names_has(ctx, spec->name))
        return set_err(err, QMTL_EINVAL, "%s: name already used in this strategy", what);
    if (!spec->compute)
        return set_err(err, QMTL_EINVAL, "%s: compute is required", what);
    uint32_t in[QMTL_MAX_INPUTS], nin;
    if ((rc = resolve_inputs(ctx, spec->inputs, QMTL_MAX_INPUTS, in, &nin, what, err)))
        return rc;
    if (nin == 0)
        return set_err(err, QMTL_EINVAL, "%s: at least one input is required", what);
    struct graph_node *first = graph_node(ctx->h->g, in[0]);
    int64_t iv;
    if ((rc = resolve_interval(spec->interval, first, &iv, what, err)))
        return rc;
    if ((rc = check_period(spec->period, what, err)))
        return rc;
    if (spec->flags & ~QMTL_FIRE_ON_ANY)
        return set_err(err, QMTL_EINVAL, "%s: unknown flags 0x%x", what, spec->flags);
    if (spec->on_missing != QMTL_MISSING_SKIP && spec->on_missing != QMTL_MISSING_FAIL)
        return set_err(err, QMTL_EINVAL, "%s: on_missing %d is neither skip nor fail", what,
                       (int)spec->on_missing);
    if (spec->on_late < QMTL_LATE_RECOMPUTE || spec->on_late > QMTL_LATE_SIDE_OUTPUT)
        return set_err(err, QMTL_EINVAL, "%s: on_late %d is not recompute|ignore|side_output", what,
                       (int)spec->on_late);
    if (spec->allowed_lateness < 0 || spec->allowed_lateness > 86400L * 366)
        return set_err(err, QMTL_EINVAL, "%s: allowed_lateness %lld out of range", what,
                       (long long)spec->allowed_lateness);
    if (spec->state_size > HOST_STATE_MAX)
        return set_err(err, QMTL_EINVAL, "%s: state_size %zu larger than %zu", what,
                       spec->state_size, HOST_STATE_MAX);
    size_t nt = 0;
    if (spec->tags && spec->tags[0]) {
        char e[200];
        if (host_check_tags(spec->tags, &nt, e, sizeof(e)))
            return set_err(err, QMTL_EINVAL, "%s: %s", what, e);
    }
    json_t *params = NULL;
    if (spec->params_json) {
        json_error_t je;
        params = json_loads(spec->params_json, JSON_REJECT_DUPLICATES, &je);
        if (!params || !json_is_object(params)) {
            json_decref(params);
            return set_err(err, QMTL_EINVAL, "%s: params_json is not a JSON object: %.80s", what,
                           params ? "wrong type" : je.text);
        }
    } else {
        params = json_object();
    }
    /* policies change behaviour, so they are part of identity when not the default */
    if (spec->flags & QMTL_FIRE_ON_ANY)
        json_object_set_new(params, "qmtl_fire_on_any", json_true());
    if (spec->on_missing == QMTL_MISSING_FAIL)
        json_object_set_new(params, "qmtl_on_missing", json_string("fail"));
    if (spec->on_late != QMTL_LATE_RECOMPUTE)
        json_object_set_new(
            params, "qmtl_on_late",
            json_string(spec->on_late == QMTL_LATE_IGNORE ? "ignore" : "side_output"));
    if (spec->allowed_lateness)
        json_object_set_new(params, "qmtl_allowed_lateness", json_integer(spec->allowed_lateness));
    if (spec->state_size)
        json_object_set_new(params, "qmtl_state_size", json_integer((json_int_t)spec->state_size));
    char code[200];
    host_code_hash(spec->compute, spec->code_version, code, sizeof(code));
    struct graph_desc d = {
        .kind = GRAPH_CUSTOM,
        .node_type = "CustomNode",
        .label = spec->name,
        .params = params,
        .code_hash = code,
        .inputs = in,
        .n_inputs = nin,
        .interval = iv,
        .period = spec->period ? spec->period : first->period,
        .tags = spec->tags,
        .n_tags = (uint32_t)nt,
    };
    struct graph_node *n;
    int created;
    qmtl_node h = add_node(ctx, &d, spec->name, &n, &created, what, err);
    json_decref(params);
    if (h > 0 && names_add(ctx, spec->name) < 0)
        return set_err(err, QMTL_ENOMEM, "%s: out of memory", what);
    struct graph_bind bind = {.owner = ctx->strat,
                              .compute = spec->compute,
                              .user = spec->user,
                              .ctx = ctx,
                              .pi = ctx_strategy(ctx)->pi};
    if (h > 0 && graph_bind_add(n, &bind) < 0)
        return set_err(err, QMTL_ENOMEM, "%s: out of memory", what);
    if (h > 0 && created) {
        n->flags = spec->flags;
        n->on_missing = spec->on_missing;
        n->on_late = spec->on_late;
        n->allowed_lateness = spec->allowed_lateness;
        n->state_size = spec->state_size; /* allocated by the runtime */
    }
    return h;
}

static qmtl_node api_signal(struct qmtl_ctx *ctx, const struct qmtl_signal_spec *spec,
                            struct qmtl_err *err)
{
    const char *what = "signal";
    struct qmtl_signal_spec local;
    int rc = begin(ctx, spec, &local, sizeof(local), what, err);
    if (rc)
        return rc;
    spec = &local;
    if ((rc = check_name(spec->name, what, err)))
        return rc;
    struct graph_node *u = ctx_node(ctx, spec->input);
    if (!u)
        return set_err(err, QMTL_EINVAL, "signal: unknown input handle %d", (int)spec->input);
    if (isnan(spec->buy_above) || isnan(spec->sell_below) || spec->buy_above < spec->sell_below)
        return set_err(err, QMTL_EINVAL, "signal: buy_above %g is below sell_below %g",
                       spec->buy_above, spec->sell_below);
    double size = spec->target_size == 0 ? 1.0 : spec->target_size;
    if (!(size > 0 && size <= 1))
        return set_err(err, QMTL_EINVAL, "signal: target_size %g not in (0, 1]", size);
    json_t *params = json_object();
    json_object_set_new(params, "buy_above", json_real(spec->buy_above));
    json_object_set_new(params, "sell_below", json_real(spec->sell_below));
    json_object_set_new(params, "target_size", json_real(size));
    json_object_set_new(params, "long_only", json_boolean(spec->long_only));
    uint32_t in = u->idx;
    struct graph_desc d = {
        .kind = GRAPH_SIGNAL,
        .node_type = "SignalNode",
        .label = spec->name ? spec->name : "signal",
        .params = params,
        .code_hash = "builtin:signal:1",
        .inputs = &in,
        .n_inputs = 1,
        .interval = u->interval,
        .period = 1,
    };
    struct graph_node *n;
    int created;
    qmtl_node h = add_node(ctx, &d, spec->name ? spec->name : "signal", &n, &created, what, err);
    json_decref(params);
    if (h > 0 && created) {
        n->sig_buy_above = spec->buy_above;
        n->sig_sell_below = spec->sell_below;
        n->sig_size = size;
        n->sig_long_only = spec->long_only != 0;
    }
    return h;
}

/* The first stream found upstream of 'n' (breadth-first, input order). */
static struct graph_node *first_stream(struct graph *g, struct graph_node *n)
{
    uint32_t queue[256];
    size_t qh = 0, qt = 0;
    queue[qt++] = n->idx;
    while (qh < qt) {
        struct graph_node *x = graph_node(g, queue[qh++]);
        if (x->kind == GRAPH_STREAM)
            return x;
        for (uint32_t i = 0; i < x->n_in && qt < 256; i++)
            queue[qt++] = x->in[i];
    }
    return NULL;
}

static qmtl_node api_order_publisher(struct qmtl_ctx *ctx, const struct qmtl_order_spec *spec,
                                     struct qmtl_err *err)
{
    const char *what = "order_publisher";
    struct qmtl_order_spec local;
    int rc = begin(ctx, spec, &local, sizeof(local), what, err);
    if (rc)
        return rc;
    spec = &local;
    if ((rc = check_name(spec->name, what, err)))
        return rc;
    struct graph_node *sig = ctx_node(ctx, spec->signal);
    if (!sig)
        return set_err(err, QMTL_EINVAL, "order_publisher: unknown signal handle %d",
                       (int)spec->signal);
    struct graph_node *px = spec->price ? ctx_node(ctx, spec->price) : first_stream(ctx->h->g, sig);
    if (!px)
        return set_err(err, QMTL_EINVAL, "order_publisher: %s",
                       spec->price ? "unknown price handle" : "no stream upstream of the signal");
    const char *symbol = spec->symbol;
    if (!symbol)
        symbol = px->n_tags ? px->tags[0] : NULL;
    if (!symbol || !*symbol)
        return set_err(err, QMTL_EINVAL, "order_publisher: a symbol is required");
    if (!(spec->quantity >= 0) || isinf(spec->quantity))
        return set_err(err, QMTL_EINVAL, "order_publisher: quantity %g is negative",
                       spec->quantity);
    json_t *params = json_object();
    json_object_set_new(params, "symbol", json_string(symbol));
    json_object_set_new(params, "quantity", json_real(spec->quantity));
    uint32_t in[2] = {sig->idx, px->idx};
    struct graph_desc d = {
        .kind = GRAPH_ORDER,
        .node_type = "OrderPublisher",
        .label = spec->name ? spec->name : "order_publisher",
        .params = params,
        .code_hash = "builtin:order_publisher:1",
        .inputs = in,
        .n_inputs = 2,
        .interval = sig->interval,
        .period = 1,
        .is_private = 1,
    };
    struct graph_node *n;
    int created;
    qmtl_node h =
        add_node(ctx, &d, spec->name ? spec->name : "order_publisher", &n, &created, what, err);
    json_decref(params);
    if (h > 0) {
        n->order_quantity = spec->quantity;
        n->order_strategy = ctx->strat;
        n->flags = QMTL_FIRE_ON_ANY;
        if (!(n->order_symbol = strdup(symbol)))
            return set_err(err, QMTL_ENOMEM, "%s: out of memory", what);
    }
    return h;
}

static const char *api_config_string(struct qmtl_ctx *ctx, const char *key, const char *dflt)
{
    if (!ctx || !ctx->h || !key)
        return dflt;
    const char *name = ctx_strategy(ctx)->name;
    for (size_t i = 0; i < ctx->h->n_params; i++) {
        struct host_param *p = &ctx->h->params[i];
        if (strcmp(p->strategy, name) == 0 && strcmp(p->key, key) == 0) {
            p->used = 1;
            return p->value;
        }
    }
    return dflt;
}

static double api_config_number(struct qmtl_ctx *ctx, const char *key, double dflt)
{
    const char *s = api_config_string(ctx, key, NULL);
    if (!s || !*s)
        return dflt;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end ? dflt : v;
}

static int api_activation(struct qmtl_ctx *ctx, int side, struct qmtl_activation *out)
{
    if (!ctx || !ctx->h)
        return QMTL_EINVAL;
    return gate_get(&ctx_strategy(ctx)->gate, side, out); /* offline: never known */
}

static int64_t api_now(struct qmtl_ctx *ctx)
{
    if (!ctx || !ctx->h || !ctx->h->s)
        return 0;
    return sched_now(ctx->h->s);
}

static const char *api_node_id(struct qmtl_ctx *ctx, qmtl_node node)
{
    if (!ctx || !ctx->h)
        return NULL;
    struct graph_node *n = ctx_node(ctx, node);
    return n ? n->id : NULL;
}

static void *api_strategy_state(struct qmtl_ctx *ctx)
{
    if (!ctx || !ctx->h)
        return NULL;
    return ctx_strategy(ctx)->state;
}

size_t host_desc_state_size(const struct qmtl_plugin *desc)
{
    if (desc->size < offsetof(struct qmtl_plugin, state_size) + sizeof(desc->state_size))
        return 0;
    return desc->state_size;
}

static const struct qmtl_host api_table = {
    .abi_major = QMTL_ABI_MAJOR,
    .abi_minor = QMTL_ABI_MINOR,
    .size = sizeof(struct qmtl_host),
    .log = api_log,
    .stream_input = api_stream_input,
    .tag_query = api_tag_query,
    .indicator = api_indicator,
    .node = api_node,
    .signal = api_signal,
    .order_publisher = api_order_publisher,
    .config_string = api_config_string,
    .config_number = api_config_number,
    .activation = api_activation,
    .now = api_now,
    .node_id = api_node_id,
    .strategy_state = api_strategy_state,
    .position = orders_api_position,
    .submit_order = orders_api_submit,
    .cancel_order = orders_api_cancel,
};

const struct qmtl_host *host_api_table(void)
{
    return &api_table;
}
