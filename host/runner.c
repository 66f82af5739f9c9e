/* runner: offline replay of data through every plugin of a directory (see runner.h). */
#include "host/runner.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/plugin/plugin_instance.h"
#include "host/data/live_in.h"
#include "log.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int runner_init(struct runner *r, const struct host_options *opt)
{
    memset(r, 0, sizeof(*r));
    if (host_init(&r->h, opt))
        return -1;
    r->pf.timeout_s = PREFLIGHT_DEFAULT_TIMEOUT_S;
    r->pf.host = &r->h;
    char err[128];
    r->feed = feed_new();
    r->loop = loop_new(err, sizeof(err));
    return r->feed && r->loop ? 0 : -1;
}

void runner_release(struct runner *r)
{
    loop_free(r->loop); /* first: deferred calls still pending are cancelled */
    host_release(&r->h); /* calls teardown: plugins must still be mapped */
    for (size_t i = 0; i < r->n_plugins; i++)
        plugin_close(r->plugins[i]);
    free(r->plugins);
    for (size_t i = 0; i < r->n_problems; i++)
        free(r->problems[i]);
    free(r->problems);
    for (size_t i = 0; i < r->n_live; i++) {
        for (size_t k = 0; k < r->live[i].n_tags; k++)
            free(r->live[i].tags[k]);
        free(r->live[i].tags);
        free(r->live[i].spec);
    }
    free(r->live);
    free(r->source_route);
    feed_free(r->feed);
    memset(r, 0, sizeof(*r));
}

static void add_problem(struct runner *r, const char *msg)
{
    char **p = realloc(r->problems, (r->n_problems + 1) * sizeof(*p));
    if (!p)
        return;
    r->problems = p;
    if ((p[r->n_problems] = strdup(msg)))
        r->n_problems++;
}

/* Check, preflight and map one file; a refusal is recorded and logged. */
static int open_one(struct runner *r, const char *path, struct plugin **p, char *err, size_t errlen)
{
    if ((!r->admit || r->admit(r->admit_arg, path, err, errlen) == 0) &&
        plugin_check_owner(path, 0, err, errlen) == 0 &&
        plugin_open_checked(path, preflight_run, &r->pf, p, err, errlen) == 0)
        return 0;
    add_problem(r, err);
    LOG_ERROR("runner", "%s", err);
    return -1;
}

static int keep_plugin(struct runner *r, struct plugin *p, char *err, size_t errlen)
{
    struct plugin **pp = realloc(r->plugins, (r->n_plugins + 1) * sizeof(*pp));
    if (!pp) {
        snprintf(err, errlen, "plugin '%s': out of memory", p->path);
        plugin_close(p);
        return -1;
    }
    r->plugins = pp;
    r->plugins[r->n_plugins++] = p;
    return 0;
}

/* One strategy per parameter set of the sweep, each from its own copy of the file (the
 * file was checked and preflighted once; every copy is checked from the file again). */
static int load_sweep(struct runner *r, struct plugin *first, size_t sets, char *err,
                      size_t errlen)
{
    const char *base = first->desc->name;
    struct host *h = &r->h;
    size_t n_base = h->n_params;
    for (size_t i = 0; i < n_base; i++)
        if (!strcmp(h->params[i].strategy, base))
            h->params[i].used = 1; /* consumed: copied to every instance */
    const char *keys[64], *vals[64];
    if (r->sweep->n > 64) {
        snprintf(err, errlen, "--sweep: at most 64 axes");
        return -1;
    }
    int failed = 0;
    for (size_t k = 0; k < sets; k++) {
        struct plugin *p = first;
        if (k > 0) {
            if (plugin_open(first->path, &p, err, errlen) || keep_plugin(r, p, err, errlen)) {
                add_problem(r, err);
                return -1;
            }
        }
        char name[256];
        size_t n_kv;
        if (sweep_set(r->sweep, base, k, name, sizeof(name), keys, vals, &n_kv)) {
            snprintf(err, errlen, "--sweep: instance name of '%s' longer than %zu bytes", base,
                     sizeof(name) - 1);
            add_problem(r, err);
            return -1;
        }
        for (size_t i = 0; i < n_base; i++)
            if (!strcmp(h->params[i].strategy, base) &&
                !sweep_has_key(r->sweep, base, h->params[i].key) &&
                host_set_param(h, name, h->params[i].key, h->params[i].value))
                goto oom;
        for (size_t j = 0; j < n_kv; j++)
            if (host_set_param(h, name, keys[j], vals[j]))
                goto oom;
        if (host_add_strategy_as(h, p->desc, name, p->path, NULL, err, errlen)) {
            LOG_ERROR("runner", "%s", err);
            failed = 1;
        }
    }
    LOG_INFO("runner", "loaded '%s' %zu times (sweep) from %s", base, sets, first->path);
    return failed ? -1 : 0;
oom:
    snprintf(err, errlen, "plugin '%s': out of memory", base);
    return -1;
}

/* Hand an open plugin to the host (runs setup(), once per sweep set). A swept plugin is
 * kept mapped by the runner; any other one belongs to its strategy (a plugin instance:
 * unmapped when a reload replaces or removes it, host/plugin/plugin_instance.h). */
static int add_one(struct runner *r, struct plugin *p, char *err, size_t errlen)
{
    size_t sets = r->sweep ? sweep_count(r->sweep, p->desc->name) : 0;
    if (sets) {
        if (keep_plugin(r, p, err, errlen))
            return -1;
        return load_sweep(r, p, sets, err, errlen);
    }
    struct plugin_instance *pi = plugin_instance_new(p);
    if (!pi) {
        snprintf(err, errlen, "plugin '%s': out of memory", p->path);
        plugin_close(p);
        return -1;
    }
    int rc = host_add_strategy_from(&r->h, pi, p->desc, NULL, p->path, NULL, NULL, err, errlen);
    if (rc)
        LOG_ERROR("runner", "%s", err);
    else
        LOG_INFO("runner", "loaded '%s' %s (%s)", p->desc->name,
                 p->desc->version ? p->desc->version : "", p->path);
    plugin_instance_unref(pi); /* the strategy holds its own references */
    return rc;
}

int runner_load(struct runner *r, const char *path, char *err, size_t errlen)
{
    double t0 = now_s();
    struct plugin *p;
    if (open_one(r, path, &p, err, errlen))
        return -1;
    int other = host_find_strategy(&r->h, p->desc->name);
    if (other >= 0) {
        snprintf(err, errlen, "plugin '%s' (%s): duplicate name, already loaded from %s",
                 p->desc->name, p->path, r->h.st[other]->path);
        add_problem(r, err);
        LOG_ERROR("runner", "%s", err);
        plugin_close(p);
        return -1;
    }
    int rc = add_one(r, p, err, errlen);
    r->load_s += now_s() - t0;
    return rc;
}

int runner_check_params(struct runner *r, int strict, char *err, size_t errlen)
{
    int n = 0;
    const struct host *h = &r->h;
    for (size_t i = 0; i < h->n_params; i++) {
        const struct host_param *p = &h->params[i];
        if (p->used)
            continue;
        int known = 0;
        for (size_t k = 0; k < h->n_st && !known; k++)
            known = !strcmp(h->st[k]->name, p->strategy) ? 1 + h->st[k]->setup_failed : 0;
        if (known == 2)
            continue; /* its setup failed (reported): it may not have read its keys */
        char msg[512];
        if (known)
            snprintf(msg, sizeof(msg), "parameter '%s.%s': strategy '%s' does not read '%s'",
                     p->strategy, p->key, p->strategy, p->key);
        else
            snprintf(msg, sizeof(msg),
                     "parameter '%s.%s': no strategy named '%s' is loaded (host.strategies, "
                     "--param)",
                     p->strategy, p->key, p->strategy);
        if (strict) {
            snprintf(err, errlen, "%s", msg);
            return -1;
        }
        LOG_WARN("runner", "%s", msg);
        n++;
    }
    return n;
}

static void report_duplicate(void *arg, const char *line)
{
    add_problem(arg, line);
    LOG_ERROR("runner", "%s", line);
}

int runner_load_dir(struct runner *r, const char *dir, char *err, size_t errlen)
{
    double t0 = now_s();
    char **paths;
    size_t n;
    if (plugin_check_owner(dir, 1, err, errlen) || plugin_scan_dir(dir, &paths, &n, err, errlen))
        return -1;
    struct plugin **open = calloc(n ? n : 1, sizeof(*open));
    if (!open) {
        plugin_free_paths(paths, n);
        snprintf(err, errlen, "plugins directory '%s': out of memory", dir);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char e[1024];
        if (open_one(r, paths[i], &open[i], e, sizeof(e)))
            open[i] = NULL;
    }
    plugin_free_paths(paths, n);
    /* all names are known before any setup(): no file wins a name by sorting first */
    plugin_refuse_duplicates(open, n, report_duplicate, r);
    int ok = 0;
    for (size_t i = 0; i < n; i++) {
        char e[1024];
        if (open[i] && add_one(r, open[i], e, sizeof(e)) == 0)
            ok++;
    }
    free(open);
    r->load_s += now_s() - t0;
    return ok;
}

/* Data rows of a CSV file (lines after the header), for the progress line only. */
static uint64_t count_rows(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char buf[65536];
    uint64_t lines = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        for (char *c = buf; (c = memchr(c, '\n', n - (size_t)(c - buf))); c++)
            lines++;
    fclose(f);
    return lines ? lines - 1 : 0;
}

/* Record a live input for live_run(). */
static int add_live(struct runner *r, const struct cfg_data_source *ds, const char *path,
                    int route, char *err, size_t errlen)
{
    struct runner_live *nl = realloc(r->live, (r->n_live + 1) * sizeof(*nl));
    if (!nl)
        goto oom;
    r->live = nl;
    struct runner_live *l = &nl[r->n_live];
    memset(l, 0, sizeof(*l));
    size_t n = strlen(path) + 8;
    if (!(l->spec = malloc(n)))
        goto oom;
    int json = ds->live && *ds->live;
    if (json)
        snprintf(l->spec, n, "%s", ds->live);
    else
        snprintf(l->spec, n, "follow:%s", path);
    l->flags = ds->allow_nonpositive_prices ? LIVE_ALLOW_NONPOSITIVE : 0;
    l->route = route;
    if (!json || ds->n_tags) { /* a followed file, or a NATS subject with tags */
        if (!(l->tags = calloc(ds->n_tags + 1, sizeof(*l->tags)))) {
            free(l->spec);
            goto oom;
        }
        r->n_live++; /* owns what it holds from here on */
        for (size_t i = 0; i < ds->n_tags; i++) {
            if (!(l->tags[i] = strdup(ds->tags[i])))
                goto oom;
            l->n_tags++;
        }
        return 0;
    }
    r->n_live++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int runner_add_data(struct runner *r, const struct cfg_data_source *ds, const char *base_dir,
                    unsigned flags, char *err, size_t errlen)
{
    if (ds->live && *ds->live && !ds->n_tags)
        return add_live(r, ds, ds->live, -1, err, errlen);
    const char *const *tags = (const char *const *)ds->tags;
    /* the source's route, resolved once: the pump feeds by index (host/dag/route.h) */
    int route = host_route_id(&r->h, tags, ds->n_tags);
    if (route < 0) {
        snprintf(err, errlen, "data source: out of memory (or more than %d tags)",
                 HOST_ROUTE_MAX_TAGS);
        return -1;
    }
    if (ds->live && *ds->live)
        return add_live(r, ds, ds->live, route, err, errlen); /* NATS with tags */
    char path[PATH_MAX] = "";
    if (ds->follow && !(ds->synthetic && *ds->synthetic)) { /* a CSV followed as it grows */
        if (ds->path && ds->path[0] != '/' && base_dir && *base_dir)
            snprintf(path, sizeof(path), "%s/%s", base_dir, ds->path);
        else
            snprintf(path, sizeof(path), "%s", ds->path ? ds->path : "");
        return add_live(r, ds, path, route, err, errlen); /* a live input, not a feed source */
    }
    int rc = feed_add_source(r->feed, ds, base_dir, flags, path, sizeof(path), err, errlen);
    if (rc)
        return rc;
    if (ds->synthetic && *ds->synthetic) {
        if (ds->count > 0)
            r->expected += (uint64_t)ds->count;
    } else if (r->progress) {
        r->expected += count_rows(path);
    }
    int *sr = realloc(r->source_route, (r->n_sources + 1) * sizeof(*sr));
    if (!sr) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->source_route = sr;
    sr[r->n_sources++] = route;
    return 0;
}

/* Whether a data source's route reaches stream node 'idx' (routes: host/dag/route.h). */
static int route_feeds(const struct runner *r, int route, uint32_t idx)
{
    const struct host_route *rt = &r->h.routes[route];
    for (size_t i = 0; i < rt->n; i++)
        if (rt->streams[i] == idx)
            return 1;
    return 0;
}

int runner_check_streams(struct runner *r, int fail, char *err, size_t errlen)
{
    int unfed = 0;
    for (size_t i = 0; i < r->n_live; i++)
        if (!r->live[i].n_tags)
            return 0; /* JSON lines name their tags: any stream may be fed */
    for (uint32_t i = 0; i < graph_count(r->h.g); i++) {
        const struct graph_node *x = graph_node(r->h.g, i);
        const struct rt_node *rx = sched_node(r->h.s, i);
        if (x->kind != GRAPH_STREAM || (rx && !rx->live_owners))
            continue;
        int fed = 0;
        for (size_t k = 0; k < r->n_sources && !fed; k++)
            fed = route_feeds(r, r->source_route[k], x->idx);
        for (size_t k = 0; k < r->n_live && !fed; k++)
            fed = route_feeds(r, r->live[k].route, x->idx); /* a followed file */
        if (fed)
            continue;
        unfed++;
        char tags[256] = "";
        size_t len = 0;
        for (uint32_t j = 0; j < x->n_tags && len < sizeof(tags); j++)
            len +=
                (size_t)snprintf(tags + len, sizeof(tags) - len, "%s%s", j ? "," : "", x->tags[j]);
        const char *who = r->h.st[x->owners[0]]->name;
        if (fail) {
            snprintf(err, errlen, "stream '%s' (tags %s) of strategy '%s': no data source",
                     x->label, tags, who);
            return -1;
        }
        LOG_WARN("runner", "stream '%s' (tags %s) of strategy '%s': no data source, it stays idle",
                 x->label, tags, who);
    }
    return unfed;
}

int runner_start(struct runner *r, char *err, size_t errlen)
{
    return host_finalize(&r->h, err, errlen);
}

int runner_parse_time(const char *s, int end_of_day, int64_t *out)
{
    char *end;
    if (*s >= '0' && *s <= '9' && !strchr(s, '-')) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return -1;
        *out = v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (!end)
        return -1;
    int date_only = *end == 0;
    if (!date_only) {
        if (*end != 'T' && *end != ' ')
            return -1;
        char *e2 = strptime(end + 1, "%H:%M:%S", &tm);
        if (!e2)
            e2 = strptime(end + 1, "%H:%M", &tm);
        if (!e2 || (*e2 && strcmp(e2, "Z")))
            return -1;
    }
    int year = tm.tm_year, mon = tm.tm_mon, mday = tm.tm_mday;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_year != year || tm.tm_mon != mon || tm.tm_mday != mday)
        return -1; /* normalized: no such day (2024-02-30) */
    *out = (int64_t)t + (date_only && end_of_day ? 86399 : 0);
    return 0;
}

/* ------------------------------------------------------------------ --data */

void runner_data_release(struct cfg_data_source *ds)
{
    for (size_t i = 0; i < ds->n_tags; i++)
        free(ds->tags[i]);
    free(ds->tags);
    free(ds->path);
    free(ds->synthetic);
    free(ds->live);
    memset(ds, 0, sizeof(*ds));
}

static int split_tags(const char *s, size_t len, struct cfg_data_source *ds)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        if (i > start) {
            char **t = realloc(ds->tags, (ds->n_tags + 2) * sizeof(*t));
            if (!t)
                return -1;
            ds->tags = t;
            if (!(t[ds->n_tags] = strndup(s + start, i - start)))
                return -1;
            t[++ds->n_tags] = NULL;
        }
        start = i + 1;
    }
    return 0;
}

static int parse_num(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno)
        return -1;
    *out = d;
    return 0;
}

static int synth_options(const char *opts, struct cfg_data_source *ds, char *err, size_t errlen)
{
    char *copy = strdup(opts), *save = NULL;
    if (!copy)
        return -1;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        double d;
        if (!eq || parse_num(eq + 1, &d)) {
            snprintf(err, errlen, "data: bad synthetic option '%s' (expected key=number)", kv);
            free(copy);
            return -1;
        }
        *eq = 0;
        if (strcmp(kv, "count") == 0)
            ds->count = (long)d;
        else if (strcmp(kv, "interval") == 0)
            ds->interval_s = (int64_t)d;
        else if (strcmp(kv, "seed") == 0)
            ds->seed = (uint64_t)d;
        else if (strcmp(kv, "start") == 0)
            ds->start_price = d;
        else if (strcmp(kv, "drift") == 0)
            ds->drift = d;
        else if (strcmp(kv, "vol") == 0)
            ds->volatility = d;
        else if (strcmp(kv, "start_ts") == 0)
            ds->start_ts = (int64_t)d;
        else {
            snprintf(err, errlen,
                     "data: unknown synthetic option '%s' (count, interval, seed, start, drift, "
                     "vol, start_ts)",
                     kv);
            free(copy);
            return -1;
        }
    }
    free(copy);
    return 0;
}

int runner_parse_data_arg(const char *arg, struct cfg_data_source *ds, char *err, size_t errlen)
{
    memset(ds, 0, sizeof(*ds));
    ds->interval_s = 60;
    ds->count = 10000;
    ds->start_price = 100;
    ds->volatility = 0.02;
    ds->seed = 42;
    ds->start_ts = 1700000000;
    if (live_in_is_spec(arg) && strncmp(arg, "follow:", 7)) {
        ds->interval_s = 0;
        if (!(ds->live = strdup(!strcmp(arg, "-") ? "stdin" : arg)))
            goto oom;
        return 0;
    }
    const char *eq = strchr(arg, '=');
    const char *rhs = eq ? eq + 1 : arg;
    if (eq && !strncmp(rhs, "nats://", 7)) { /* a NATS subject with tags of its own */
        ds->interval_s = 0;
        if (split_tags(arg, (size_t)(eq - arg), ds) || !(ds->live = strdup(rhs)))
            goto oom;
        if (!ds->n_tags) {
            snprintf(err, errlen, "data '%s': no tag (use TAGS=%s or %s)", arg, rhs, rhs);
            runner_data_release(ds);
            return -1;
        }
        return 0;
    }
    if (eq && live_in_is_spec(rhs) && strncmp(rhs, "follow:", 7)) {
        snprintf(err, errlen, "data '%s': a live input takes its tags from each line: give '%s'",
                 arg, rhs);
        runner_data_release(ds);
        return -1;
    }
    if (!strncmp(rhs, "follow:", 7)) {
        if (!eq) {
            snprintf(err, errlen, "data '%s': a followed CSV file needs tags: TAGS=%s", arg, arg);
            runner_data_release(ds);
            return -1;
        }
        ds->follow = 1;
        rhs += 7;
    }
    if (eq) {
        if (split_tags(arg, (size_t)(eq - arg), ds))
            goto oom;
    } else {
        const char *base = strrchr(arg, '/');
        base = base ? base + 1 : arg;
        const char *dot = strrchr(base, '.');
        size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        if (split_tags(base, len, ds))
            goto oom;
    }
    if (!ds->n_tags) {
        snprintf(err, errlen, "data '%s': no tag (use TAG=PATH)", arg);
        runner_data_release(ds);
        return -1;
    }
    const char *colon = strchr(rhs, ':');
    size_t klen = colon ? (size_t)(colon - rhs) : strlen(rhs);
    char kind[32];
    if (klen < sizeof(kind)) {
        memcpy(kind, rhs, klen);
        kind[klen] = 0;
        if (eq && !ds->follow && feed_synth_kind_parse(kind) >= 0) {
            if (!(ds->synthetic = strdup(kind)))
                goto oom;
            if (colon && synth_options(colon + 1, ds, err, errlen)) {
                runner_data_release(ds);
                return -1;
            }
            return 0;
        }
    }
    ds->interval_s = 0;
    if (!*rhs) {
        snprintf(err, errlen, "data '%s': empty path", arg);
        runner_data_release(ds);
        return -1;
    }
    if (!(ds->path = strdup(rhs)))
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    runner_data_release(ds);
    return -1;
}
