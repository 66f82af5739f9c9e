/* embed: one host run in the caller's process (see embed.h). */
#include "host/embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/orders/orders.h"
#include "host/plugin/loader.h"

struct embed {
    struct host h;
    struct plugin **plugins; /* mapped by embed_load, closed after the host is released */
    size_t n_plugins;
    embed_output_fn on_output;
    void *output_arg;
    int started, finished;
};

static void forward_output(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    struct embed *e = arg;
    e->on_output(e->output_arg, n->idx, n->kind == GRAPH_ORDER, ts, v);
}

struct embed *embed_new(const struct embed_options *o, char *err, size_t errlen)
{
    struct embed *e = calloc(1, sizeof(*e));
    struct host_options ho;
    host_options_default(&ho);
    if (o) {
        if (o->initial_cash > 0)
            ho.initial_cash = o->initial_cash;
        ho.fee_bps = o->fee_bps;
        ho.slippage_bps = o->slippage_bps;
    }
    if (!e || host_init(&e->h, &ho)) {
        free(e);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return e;
}

void embed_free(struct embed *e)
{
    if (!e)
        return;
    host_release(&e->h);
    for (size_t i = 0; i < e->n_plugins; i++)
        plugin_close(e->plugins[i]);
    free(e->plugins);
    free(e);
}

int embed_set_param(struct embed *e, const char *strategy, const char *key, const char *value)
{
    return host_set_param(&e->h, strategy, key, value) ? QMTL_ENOMEM : QMTL_OK;
}

int embed_open(struct embed *e, const char *so_path, const struct qmtl_plugin **desc, char *err,
               size_t errlen)
{
    if (!so_path) {
        snprintf(err, errlen, "no plugin path");
        return QMTL_EINVAL;
    }
    struct plugin **grown = realloc(e->plugins, (e->n_plugins + 1) * sizeof(*grown));
    if (!grown) {
        snprintf(err, errlen, "out of memory");
        return QMTL_ENOMEM;
    }
    e->plugins = grown;
    struct plugin *p;
    if (plugin_open(so_path, &p, err, errlen))
        return QMTL_EINVAL;
    e->plugins[e->n_plugins++] = p;
    *desc = p->desc;
    return QMTL_OK;
}

/* The file embed_open mapped 'desc' from, or NULL for a linked descriptor. */
static const char *path_of(const struct embed *e, const struct qmtl_plugin *desc)
{
    for (size_t i = 0; i < e->n_plugins; i++)
        if (e->plugins[i]->desc == desc)
            return e->plugins[i]->path;
    return NULL;
}

int embed_add(struct embed *e, const struct qmtl_plugin *desc, char *err, size_t errlen)
{
    if (!desc) {
        snprintf(err, errlen, "plugin '(linked)': no descriptor");
        return QMTL_EINVAL;
    }
    const char *path = path_of(e, desc);
    if (!path && plugin_validate(desc, "(linked)", err, errlen) < 0)
        return desc->magic == QMTL_PLUGIN_MAGIC &&
                       (desc->abi_major != QMTL_ABI_MAJOR || desc->abi_minor > QMTL_ABI_MINOR)
                   ? QMTL_EABI
                   : QMTL_EINVAL;
    if (e->started) {
        snprintf(err, errlen, "plugin '%s': strategies are added before the start", desc->name);
        return QMTL_ESTATE;
    }
    size_t before = e->h.n_st;
    if (host_add_strategy(&e->h, desc, path, NULL, err, errlen))
        return e->h.n_st > before ? QMTL_ERR : QMTL_EINVAL;
    return QMTL_OK;
}

void embed_on_output(struct embed *e, embed_output_fn fn, void *arg)
{
    e->on_output = fn;
    e->output_arg = arg;
    e->h.on_output = fn ? forward_output : NULL;
    e->h.output_arg = fn ? e : NULL;
}

int embed_start(struct embed *e, char *err, size_t errlen)
{
    if (e->started) {
        snprintf(err, errlen, "already started");
        return QMTL_ESTATE;
    }
    if (host_finalize(&e->h, err, errlen))
        return QMTL_EINVAL;
    e->started = 1;
    return QMTL_OK;
}

size_t embed_node_count(const struct embed *e)
{
    return e->started ? graph_count(e->h.g) : 0;
}

long embed_node_find(const struct embed *e, size_t strat, const char *name)
{
    if (!e->started || strat >= e->h.n_st || !name)
        return -1;
    const struct qmtl_ctx *ctx = &e->h.st[strat]->ctx;
    for (size_t i = 0; i < ctx->n; i++)
        if (strcmp(host_handle_name(ctx, i), name) == 0)
            return (long)ctx->nodes[i];
    return -1;
}

int embed_feed(struct embed *e, const char *tag, int64_t ts, const struct qmtl_value *v)
{
    if (!e->started || e->finished)
        return QMTL_ESTATE;
    const char *tags[1] = {tag};
    int n = host_feed(&e->h, tags, 1, ts, v);
    return n < 0 ? QMTL_ENOMEM : n;
}

void embed_finish(struct embed *e)
{
    if (e->finished)
        return;
    e->finished = 1;
    if (e->started) {
        orders_flush(&e->h);
        host_finish(&e->h);
    }
}

int embed_strategy_info(const struct embed *e, size_t strat, struct embed_strategy_info *out)
{
    if (strat >= e->h.n_st)
        return QMTL_ENOENT;
    const struct host_strategy *st = e->h.st[strat];
    *out = (struct embed_strategy_info){.stopped = st->stopped,
                                        .error = st->stopped ? st->error : "",
                                        .signals = st->signals,
                                        .orders = st->orders,
                                        .fills = st->fills,
                                        .equity = broker_equity(st->broker)};
    return QMTL_OK;
}
