/* testkit: the real runtime, in process, for strategy unit tests (see qmtl/testkit.h). */
#include <qmtl/testkit.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "host/embed.h"

struct tk_item {
    int64_t ts;
    struct qmtl_value v;
};

struct tk_series {
    struct tk_item *items;
    size_t n, cap;
};

struct qmtl_testkit {
    struct embed *e;          /* the runtime, strategy 0 the one under test */
    struct tk_series *series; /* by node (embed_node_count) */
    size_t n_series;
    struct tk_item *orders;
    size_t n_orders, cap_orders;
    int finished;
    int oom;
};

static int tk_err(struct qmtl_err *e, int code, const char *fmt, ...) QMTL_PRINTF(3, 4);
static int tk_err(struct qmtl_err *e, int code, const char *fmt, ...)
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

static int push(struct tk_item **arr, size_t *n, size_t *cap, int64_t ts,
                const struct qmtl_value *v)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct tk_item *p = realloc(*arr, nc * sizeof(*p));
        if (!p)
            return -1;
        *arr = p;
        *cap = nc;
    }
    struct tk_item *it = &(*arr)[(*n)++];
    it->ts = ts;
    it->v = *v;
    if (v->type == QMTL_T_JSON) {
        it->v.as.json = strdup(v->as.json ? v->as.json : "null");
        if (!it->v.as.json) {
            (*n)--;
            return -1;
        }
    }
    return 0;
}

static void on_output(void *arg, uint32_t node, int is_order, int64_t ts,
                      const struct qmtl_value *v)
{
    struct qmtl_testkit *tk = arg;
    if (node < tk->n_series) {
        struct tk_series *s = &tk->series[node];
        if (push(&s->items, &s->n, &s->cap, ts, v))
            tk->oom = 1;
    }
    if (is_order && push(&tk->orders, &tk->n_orders, &tk->cap_orders, ts, v))
        tk->oom = 1;
}

/* params_yaml: a mapping of scalar keys to scalar values. */
static int load_params(struct qmtl_testkit *tk, const char *name, const char *yaml,
                       struct qmtl_err *err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    if (!yaml_parser_initialize(&p))
        return tk_err(err, QMTL_ENOMEM, "testkit: out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, strlen(yaml));
    int depth = 0, rc = QMTL_OK;
    char *key = NULL;
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = tk_err(err, QMTL_EINVAL, "testkit: params_yaml:%zu: %s", p.problem_mark.line + 1,
                        p.problem ? p.problem : "parse error");
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT) {
            depth++;
            if (depth > 1 || t == YAML_SEQUENCE_START_EVENT) {
                rc = tk_err(err, QMTL_EINVAL, "testkit: params_yaml must map keys to scalars");
                yaml_event_delete(&ev);
                break;
            }
        } else if (t == YAML_SCALAR_EVENT && depth == 1) {
            const char *val = (const char *)ev.data.scalar.value;
            if (!key) {
                key = strdup(val);
            } else {
                if (embed_set_param(tk->e, name, key, val))
                    rc = tk_err(err, QMTL_ENOMEM, "testkit: out of memory");
                free(key);
                key = NULL;
            }
        } else if (t == YAML_SCALAR_EVENT && depth == 0 && ev.data.scalar.length) {
            rc = tk_err(err, QMTL_EINVAL, "testkit: params_yaml must be a mapping");
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT || rc)
            break;
    }
    free(key);
    yaml_parser_delete(&p);
    return rc;
}

/* A testkit around strategy 'plugin' (linked) or the plugin file 'path' (plugin NULL). */
static struct qmtl_testkit *create(const struct qmtl_plugin *plugin, const char *path,
                                   const struct qmtl_testkit_options *opt, struct qmtl_err *err)
{
    struct qmtl_testkit *tk = calloc(1, sizeof(*tk));
    char e[512];
    struct embed_options eo = {0};
    if (opt) {
        eo.initial_cash = opt->initial_cash;
        eo.fee_bps = opt->fee_bps;
        eo.slippage_bps = opt->slippage_bps;
    }
    if (!tk || !(tk->e = embed_new(&eo, e, sizeof(e)))) {
        free(tk);
        tk_err(err, QMTL_ENOMEM, "testkit: out of memory");
        return NULL;
    }
    embed_on_output(tk->e, on_output, tk);
    int rc = path ? embed_open(tk->e, path, &plugin, e, sizeof(e)) : QMTL_OK;
    if (rc) {
        tk_err(err, rc, "%s", e);
        goto fail;
    }
    /* parameters go in first: setup() reads them */
    if (opt && opt->params_yaml && load_params(tk, plugin->name, opt->params_yaml, err))
        goto fail;
    if ((rc = embed_add(tk->e, plugin, e, sizeof(e)))) {
        tk_err(err, rc, "%s", e);
        goto fail;
    }
    if ((rc = embed_start(tk->e, e, sizeof(e)))) {
        tk_err(err, rc, "%s", e);
        goto fail;
    }
    tk->n_series = embed_node_count(tk->e);
    tk->series = calloc(tk->n_series ? tk->n_series : 1, sizeof(*tk->series));
    if (!tk->series) {
        tk_err(err, QMTL_ENOMEM, "testkit: out of memory");
        goto fail;
    }
    return tk;
fail:
    qmtl_testkit_free(tk);
    return NULL;
}

struct qmtl_testkit *qmtl_testkit_new(const struct qmtl_plugin *plugin,
                                      const struct qmtl_testkit_options *opt, struct qmtl_err *err)
{
    if (!plugin) {
        tk_err(err, QMTL_EINVAL, "testkit: not a valid plugin descriptor");
        return NULL;
    }
    return create(plugin, NULL, opt, err);
}

struct qmtl_testkit *qmtl_testkit_load(const char *so_path, const struct qmtl_testkit_options *opt,
                                       struct qmtl_err *err)
{
    if (!so_path) {
        tk_err(err, QMTL_EINVAL, "testkit: no path");
        return NULL;
    }
    return create(NULL, so_path, opt, err);
}

static void free_items(struct tk_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (it[i].v.type == QMTL_T_JSON)
            free((char *)it[i].v.as.json);
    free(it);
}

void qmtl_testkit_free(struct qmtl_testkit *tk)
{
    if (!tk)
        return;
    embed_free(tk->e);
    for (size_t i = 0; i < tk->n_series; i++)
        free_items(tk->series[i].items, tk->series[i].n);
    free(tk->series);
    free_items(tk->orders, tk->n_orders);
    free(tk);
}

static int feed(struct qmtl_testkit *tk, const char *tag, int64_t ts, const struct qmtl_value *v,
                struct qmtl_err *err)
{
    if (!tk || !tag)
        return tk_err(err, QMTL_EINVAL, "testkit: no testkit or tag");
    if (tk->finished)
        return tk_err(err, QMTL_ESTATE, "testkit: already finished");
    struct embed_strategy_info st;
    embed_strategy_info(tk->e, 0, &st);
    if (st.stopped)
        return tk_err(err, QMTL_ESTATE, "testkit: strategy stopped: %s", st.error);
    int n = embed_feed(tk->e, tag, ts, v);
    if (n < 0)
        return tk_err(err, n, "testkit: out of memory");
    if (n == 0)
        return tk_err(err, QMTL_ENOENT, "testkit: no stream input has tag '%s'", tag);
    embed_strategy_info(tk->e, 0, &st);
    if (st.stopped)
        return tk_err(err, QMTL_ERR, "%s", st.error);
    if (tk->oom)
        return tk_err(err, QMTL_ENOMEM, "testkit: out of memory recording outputs");
    return QMTL_OK;
}

int qmtl_testkit_feed_bar(struct qmtl_testkit *tk, const char *tag, int64_t ts,
                          const struct qmtl_bar *bar, struct qmtl_err *err)
{
    if (!bar)
        return tk_err(err, QMTL_EINVAL, "testkit: bar is NULL");
    struct qmtl_value v = qmtl_none();
    v.type = QMTL_T_BAR;
    v.as.bar = *bar;
    return feed(tk, tag, ts, &v, err);
}

int qmtl_testkit_feed_value(struct qmtl_testkit *tk, const char *tag, int64_t ts, double value,
                            struct qmtl_err *err)
{
    struct qmtl_value v = qmtl_number(value);
    return feed(tk, tag, ts, &v, err);
}

int qmtl_testkit_feed_closes(struct qmtl_testkit *tk, const char *tag, int64_t ts0,
                             int64_t interval, const double *closes, size_t n, struct qmtl_err *err)
{
    if (n && !closes)
        return tk_err(err, QMTL_EINVAL, "testkit: closes is NULL");
    for (size_t i = 0; i < n; i++) {
        double prev = i ? closes[i - 1] : closes[i];
        struct qmtl_bar b = {
            .open = prev,
            .high = fmax(prev, closes[i]),
            .low = fmin(prev, closes[i]),
            .close = closes[i],
            .volume = 0,
        };
        int rc = qmtl_testkit_feed_bar(tk, tag, ts0 + (int64_t)i * interval, &b, err);
        if (rc)
            return rc;
    }
    return QMTL_OK;
}

static const struct tk_series *find_series(const struct qmtl_testkit *tk, const char *name)
{
    long node = tk ? embed_node_find(tk->e, 0, name) : -1;
    return node >= 0 && (size_t)node < tk->n_series ? &tk->series[node] : NULL;
}

size_t qmtl_testkit_output_count(const struct qmtl_testkit *tk, const char *node_name)
{
    const struct tk_series *s = find_series(tk, node_name);
    return s ? s->n : 0;
}

int qmtl_testkit_output(const struct qmtl_testkit *tk, const char *node_name, size_t i, int64_t *ts,
                        struct qmtl_value *out)
{
    const struct tk_series *s = find_series(tk, node_name);
    if (!s || i >= s->n)
        return QMTL_ENOENT;
    if (ts)
        *ts = s->items[i].ts;
    if (out)
        *out = s->items[i].v;
    return QMTL_OK;
}

double qmtl_testkit_last_number(const struct qmtl_testkit *tk, const char *node_name)
{
    const struct tk_series *s = find_series(tk, node_name);
    if (!s || !s->n)
        return NAN;
    return qmtl_value_number(&s->items[s->n - 1].v);
}

/* Strategy 0's counters; all zero (equity NaN) without a testkit. */
static struct embed_strategy_info info(const struct qmtl_testkit *tk)
{
    struct embed_strategy_info st = {.equity = NAN};
    if (tk)
        embed_strategy_info(tk->e, 0, &st);
    return st;
}

size_t qmtl_testkit_signal_count(const struct qmtl_testkit *tk)
{
    return (size_t)info(tk).signals;
}

size_t qmtl_testkit_order_count(const struct qmtl_testkit *tk)
{
    return tk ? tk->n_orders : 0;
}

int qmtl_testkit_order(const struct qmtl_testkit *tk, size_t i, int64_t *ts, struct qmtl_order *out)
{
    if (!tk || i >= tk->n_orders)
        return QMTL_ENOENT;
    if (ts)
        *ts = tk->orders[i].ts;
    if (out)
        *out = tk->orders[i].v.as.order;
    return QMTL_OK;
}

size_t qmtl_testkit_fill_count(const struct qmtl_testkit *tk)
{
    return (size_t)info(tk).fills;
}

double qmtl_testkit_equity(const struct qmtl_testkit *tk)
{
    return info(tk).equity;
}

int qmtl_testkit_finish(struct qmtl_testkit *tk, struct qmtl_err *err)
{
    if (!tk)
        return tk_err(err, QMTL_EINVAL, "testkit: no testkit");
    if (tk->finished)
        return tk_err(err, QMTL_ESTATE, "testkit: already finished");
    tk->finished = 1;
    embed_finish(tk->e);
    return QMTL_OK;
}
