/* reload: the plugins directory of a running host, applied to its DAG (see reload.h). */
#include "host/plugin/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/loop.h"
#include "host/online/metrics.h"
#include "host/plugin/plugin_instance.h"
#include "host/plugin/quarantine.h"
#include "host/runner.h"
#include "log.h"

struct reload {
    struct runner *r;
    struct quarantine *q;
    struct plugin_watch *w;
    struct reload_stats st;
    reload_change_fn fn;
    void *arg;
};

static double clock_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Wall and CPU time of a DAG change: the wall time is the pause the loop saw, the CPU
 * time what the change cost without the machine's other load. */
struct pause {
    double wall, cpu;
};

static struct pause pause_start(void)
{
    struct pause p = {clock_us(CLOCK_MONOTONIC), clock_us(CLOCK_THREAD_CPUTIME_ID)};
    return p;
}

static struct pause pause_end(struct pause p)
{
    struct pause e = {clock_us(CLOCK_MONOTONIC) - p.wall,
                      clock_us(CLOCK_THREAD_CPUTIME_ID) - p.cpu};
    return e;
}

/* The strategy loaded from 'path', or -1. */
static int strategy_from(const struct host *h, const char *path)
{
    for (size_t i = 0; i < h->n_st; i++)
        if (h->st[i]->path && !strcmp(h->st[i]->path, path))
            return (int)i;
    return -1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Distinct graph nodes strategy idx holds. */
static uint32_t strategy_nodes(const struct host *h, size_t idx)
{
    const struct qmtl_ctx *c = &h->st[idx]->ctx;
    if (!c->n)
        return 0;
    uint32_t *v = malloc(c->n * sizeof(*v));
    if (!v)
        return 0;
    memcpy(v, c->nodes, c->n * sizeof(*v));
    qsort(v, c->n, sizeof(*v), cmp_u32);
    uint32_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        k += i == 0 || v[i] != v[i - 1];
    free(v);
    return k;
}

static const char *ver(const char *v)
{
    return v && *v ? v : "(no version)";
}

static void done(struct reload *rl, enum reload_change kind, const char *name, size_t idx,
                 const char *from, const char *to, const struct host_swap_result *res,
                 struct pause pause, const char *path)
{
    rl->st.last_pause_us = pause.wall;
    if (pause.wall > rl->st.max_pause_us)
        rl->st.max_pause_us = pause.wall;
    LOG_INFO("reload", "reload: strategy '%s' %s -> %s: nodes added %u, kept %u, removed %u; "
                       "pause %.0f us, cpu %.0f us (%s)",
             name, from, to, res->added, res->kept, res->removed, pause.wall, pause.cpu, path);
    if (rl->fn)
        rl->fn(rl->arg, kind, name, idx);
}

static void removed(struct reload *rl, const char *path)
{
    struct host *h = &rl->r->h;
    int idx = strategy_from(h, path);
    if (idx < 0)
        return; /* nothing runs from it (refused or quarantined at load) */
    char name[256], from[128], err[512];
    snprintf(name, sizeof(name), "%s", h->st[idx]->name);
    snprintf(from, sizeof(from), "%s", ver(h->st[idx]->desc->version));
    uint32_t had = strategy_nodes(h, (size_t)idx);
    struct host_swap_result res = {0, 0, 0};
    struct pause t0 = pause_start();
    if (host_remove_strategy(h, (size_t)idx, &res, err, sizeof(err))) {
        rl->st.failed++;
        h->metrics.reloads[HOST_RELOAD_FAILED]++;
        LOG_ERROR("reload", "reload: '%s' removed, but strategy '%s' %s could not be taken out: "
                            "%s; it keeps running",
                  path, name, from, err);
        return;
    }
    rl->st.removed++;
    h->metrics.reloads[HOST_RELOAD_REMOVED]++;
    res.kept = had > res.removed ? had - res.removed : 0; /* shared nodes that stay */
    struct pause pause = pause_end(t0);
    done(rl, RELOAD_REMOVED, name, (size_t)idx, from, "removed", &res, pause, path);
}

/* Load 'path' and add or replace its strategy. 0, or -1 with why. */
static int changed(struct reload *rl, const char *path, char *what, size_t whatlen, char *why,
                   size_t whylen)
{
    struct runner *r = rl->r;
    struct host *h = &r->h;
    int idx = strategy_from(h, path);
    snprintf(what, whatlen, "version not read");
    if (rl->q) {
        int refused = quarantine_admit(rl->q, path, why, whylen);
        h->metrics.quarantined = (long)rl->q->n; /* a new version may have lifted one */
        if (refused)
            return -2;
    }
    struct plugin *p = NULL;
    if (plugin_check_owner(path, 0, why, whylen) ||
        plugin_open_checked(path, preflight_run, &r->pf, &p, why, whylen))
        return -1;
    const char *name = p->desc->name;
    snprintf(what, whatlen, "strategy '%s' %s", name, ver(p->desc->version));
    int other = host_find_strategy(h, name);
    if (other >= 0 && other != idx) {
        snprintf(why, whylen, "strategy '%s' already runs from '%s'", name, h->st[other]->path);
        plugin_close(p);
        return -1;
    }
    if (idx >= 0 && strcmp(h->st[idx]->name, name)) {
        snprintf(why, whylen,
                 "the running version of this file is strategy '%s': a file changes strategy "
                 "only by removing it and dropping the new one in",
                 h->st[idx]->name);
        plugin_close(p);
        return -1;
    }
    struct plugin_instance *pi = plugin_instance_new(p);
    if (!pi) {
        snprintf(why, whylen, "out of memory");
        plugin_close(p);
        return -1;
    }
    char nm[256], from[128], to[128];
    snprintf(nm, sizeof(nm), "%s", name);
    snprintf(to, sizeof(to), "%s", ver(p->desc->version));
    snprintf(from, sizeof(from), "%s", idx >= 0 ? ver(h->st[idx]->desc->version) : "new");
    struct host_swap_result res = {0, 0, 0};
    size_t at = idx >= 0 ? (size_t)idx : 0;
    struct pause t0 = pause_start();
    int rc = idx >= 0 ? host_replace_strategy(h, at, pi, p->desc, path, &res, why, whylen)
                      : host_add_strategy_from(h, pi, p->desc, NULL, path, &at, &res, why, whylen);
    struct pause pause = pause_end(t0);
    plugin_instance_unref(pi); /* the strategy keeps its own references (none on failure) */
    if (rc)
        return -1;
    uint32_t has = strategy_nodes(h, at);
    res.kept = has > res.added ? has - res.added : 0; /* its nodes that were there before */
    if (idx >= 0)
        rl->st.replaced++;
    else
        rl->st.added++;
    h->metrics.reloads[idx >= 0 ? HOST_RELOAD_REPLACED : HOST_RELOAD_ADDED]++;
    done(rl, idx >= 0 ? RELOAD_REPLACED : RELOAD_ADDED, nm, at, from, to, &res, pause, path);
    return 0;
}

static int on_watch(void *arg, const struct plugin_watch_event *ev)
{
    struct reload *rl = arg;
    if (ev->kind == PLUGIN_WATCH_REMOVED) {
        removed(rl, ev->path);
        return 0;
    }
    char what[320], why[1024] = "";
    int rc = changed(rl, ev->path, what, sizeof(what), why, sizeof(why));
    if (rc == 0 || !ev->final)
        return rc ? -1 : 0;
    struct host *h = &rl->r->h;
    int idx = strategy_from(h, ev->path);
    char keeps[400] = "nothing of it runs";
    if (idx >= 0)
        snprintf(keeps, sizeof(keeps), "strategy '%s' %s keeps running", h->st[idx]->name,
                 ver(h->st[idx]->desc->version));
    rl->st.failed++;
    h->metrics.reloads[HOST_RELOAD_FAILED]++;
    if (rc == -2)
        rl->st.quarantined++;
    LOG_ERROR("reload", "reload: '%s' (%s) not loaded: %s; %s", ev->path, what, why, keeps);
    return -1;
}

static void on_sighup(void *arg)
{
    LOG_INFO("reload", "SIGHUP: rescanning the plugins directory");
    reload_rescan(arg);
}

struct reload *reload_new(struct runner *r, const char *dir, struct quarantine *q,
                          const struct plugin_watch_options *o, char *err, size_t errlen)
{
    struct reload *rl = calloc(1, sizeof(*rl));
    if (!rl) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rl->r = r;
    rl->q = q;
    struct plugin_watch_options wo = {0};
    if (o)
        wo = *o;
    wo.adopt = 1;
    if (!(rl->w = plugin_watch_new(loop_base(r->loop), dir, &wo, on_watch, rl, err, errlen))) {
        free(rl);
        return NULL;
    }
    loop_on_sighup(r->loop, on_sighup, rl);
    LOG_INFO("reload", "watching '%s' for new, replaced and removed plugins (SIGHUP rescans)",
             dir);
    return rl;
}

void reload_free(struct reload *rl)
{
    if (!rl)
        return;
    loop_on_sighup(rl->r->loop, NULL, NULL);
    plugin_watch_free(rl->w);
    free(rl);
}

void reload_rescan(struct reload *rl)
{
    plugin_watch_rescan(rl->w);
}

const struct reload_stats *reload_get_stats(const struct reload *rl)
{
    return &rl->st;
}

const struct plugin_watch *reload_watch(const struct reload *rl)
{
    return rl->w;
}

void reload_on_change(struct reload *rl, reload_change_fn fn, void *arg)
{
    rl->fn = fn;
    rl->arg = arg;
}
