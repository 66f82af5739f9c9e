/* config: load qmtl.yml with libyaml's document API and check it against the schema. */
#include "config.h"
#include "config_internal.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_FILE_BYTES (4L * 1024 * 1024)
#define MAX_DATA_SOURCES 4096
#define MAX_TAGS 256
#define MAX_STRATEGY_PARAMS 16384
#define MAX_MAPPING_PAIRS 1024 /* strategies, and parameters of one strategy */
#define MAX_DEPTH 64           /* nested mappings and sequences */

/* Deprecated or renamed keys: loaded into 'canonical' with a warning. */
struct cfg_alias {
    const char *section, *alias, *canonical;
    int dsn; /* value may be a sqlite:/// DSN */
};
static const struct cfg_alias aliases[] = {
    {"gateway", "database_dsn", "store_path", 1},
    {"gateway", "database_url", "store_path", 1},
    {"gateway", "database_uri", "store_path", 1},
    {"gateway", "enforce_live_guard", "live_guard", 0},
    {"dagmanager", "database_dsn", "store_path", 1},
    {"dagmanager", "database_url", "store_path", 1},
    {"dagmanager", "database_uri", "store_path", 1},
    {"dagmanager", "http_host", "host", 0},
    {"dagmanager", "http_port", "port", 0},
};

struct loader {
    yaml_document_t doc;
    const char *file;     /* name used in messages */
    const char *base_dir; /* resolve relative paths against it; NULL = keep */
    struct qmtl_config *c;
    struct cfg_error *err;
};

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}
static int col_of(const yaml_node_t *n)
{
    return (int)n->start_mark.column + 1;
}

static const char *kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_SCALAR_NODE:
        return "a scalar";
    default:
        return "nothing";
    }
}

static const char *text_of(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = text_of(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* A scalar with an embedded NUL would be silently cut: refuse it. */
static int has_nul(const yaml_node_t *n)
{
    return strlen(text_of(n)) != n->data.scalar.length;
}

static yaml_node_t *node(struct loader *L, int id)
{
    return yaml_document_get_node(&L->doc, id);
}

static int fail_at(struct loader *L, const yaml_node_t *n, const char *key, const char *fmt,
                   const char *a, const char *b)
{
    return cfg_fail_(L->err, L->file, line_of(n), col_of(n), key, fmt, a, b);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        LOG_ERROR("config", "out of memory");
        abort();
    }
    return d;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        LOG_ERROR("config", "out of memory");
        abort();
    }
    return q;
}

/* Key of a mapping pair as text, or fail (keys must be non-null scalars). */
static const char *pair_key(struct loader *L, const yaml_node_t *k, const char *where)
{
    if (k->type != YAML_SCALAR_NODE || has_nul(k) || !*text_of(k)) {
        fail_at(L, k, where, "%s%skeys must be non-empty strings", where, *where ? ": " : "");
        return NULL;
    }
    return text_of(k);
}

/* Reject a key already seen at an earlier pair of the same mapping. */
static int check_dup(struct loader *L, yaml_node_pair_t *start, yaml_node_pair_t *cur,
                     const char *path)
{
    const char *k = text_of(node(L, cur->key));
    for (yaml_node_pair_t *p = start; p < cur; p++) {
        yaml_node_t *pk = node(L, p->key);
        if (pk->type == YAML_SCALAR_NODE && strcmp(text_of(pk), k) == 0) {
            char first[32];
            snprintf(first, sizeof(first), "%d", line_of(pk));
            return fail_at(L, node(L, cur->key), path,
                           "duplicate key '%s' (first defined at line %s)", path, first);
        }
    }
    return 0;
}

static char *resolve_path(const char *base_dir, const char *v)
{
    if (!base_dir || !*v || v[0] == '/' || strcmp(v, ":memory:") == 0)
        return xstrdup(v);
    size_t bl = strlen(base_dir);
    size_t n = bl + strlen(v) + 2;
    char *out = xrealloc(NULL, n);
    snprintf(out, n, "%s%s%s", base_dir, bl && base_dir[bl - 1] == '/' ? "" : "/", v);
    return out;
}

/* Set one scalar entry from a node; base is the config or a data source. */
static int set_scalar(struct loader *L, void *base, const struct cfg_schema_entry *e,
                      const yaml_node_t *v, const char *path, int dsn)
{
    char why[300];
    if (v->type != YAML_SCALAR_NODE) {
        snprintf(why, sizeof(why), "expected %s %s, got %s", config_type_article(e->type),
                 e->type == CFG_ENUM ? e->choices : config_type_name(e->type), kind(v));
        return fail_at(L, v, path, "%s: %s", path, why);
    }
    if (has_nul(v))
        return fail_at(L, v, path, "%s: %s", path, "value contains a NUL byte");
    const char *text = text_of(v);
    if (dsn && !is_null(v)) {
        if (strncmp(text, "sqlite:///", 10) == 0)
            text += 10;
        else if (strstr(text, "://"))
            return fail_at(L, v, path, "%s: only SQLite stores are supported, got '%s'", path,
                           text);
    }
    if (cfg_set_value_(base, e, text, is_null(v), why, sizeof(why)) != 0)
        return fail_at(L, v, path, "%s: %s", path, why);
    if (e->type == CFG_PATH) {
        char **slot = (char **)(void *)((char *)base + e->offset);
        char *r = resolve_path(L->base_dir, *slot);
        free(*slot);
        *slot = r;
    }
    return 0;
}

static int load_tags(struct loader *L, struct cfg_data_source *d, yaml_node_t *v, const char *path)
{
    yaml_node_item_t *items = NULL;
    size_t n = 1;
    if (v->type == YAML_SEQUENCE_NODE) {
        items = v->data.sequence.items.start;
        n = (size_t)(v->data.sequence.items.top - items);
    } else if (v->type != YAML_SCALAR_NODE || is_null(v)) {
        return fail_at(L, v, path, "%s: expected a string or a sequence of strings, got %s", path,
                       is_null(v) ? "null" : kind(v));
    }
    if (n == 0)
        return fail_at(L, v, path, "%s: %s", path, "at least one tag is required");
    if (n > MAX_TAGS)
        return fail_at(L, v, path, "%s: too many tags (limit %s)", path, "256");
    for (size_t i = 0; i < d->n_tags; i++)
        free(d->tags[i]);
    free(d->tags);
    d->tags = xrealloc(NULL, n * sizeof(char *));
    d->n_tags = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *t = items ? node(L, items[i]) : v;
        if (t->type != YAML_SCALAR_NODE || is_null(t) || !*text_of(t) || has_nul(t))
            return fail_at(L, t, path, "%s: each tag must be a non-empty string, got %s", path,
                           t->type == YAML_SCALAR_NODE ? "an empty value" : kind(t));
        d->tags[d->n_tags++] = xstrdup(text_of(t));
    }
    return 0;
}

static int load_data_source(struct loader *L, struct cfg_data_source *d, yaml_node_t *m,
                            const char *prefix)
{
    char path[128];
    cfg_apply_defaults_(d, "host.data[]");
    if (m->type != YAML_MAPPING_NODE)
        return fail_at(L, m, prefix, "%s: expected a mapping, got %s", prefix, kind(m));
    int have_tags = 0;
    yaml_node_pair_t *start = m->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = start; p < m->data.mapping.pairs.top; p++) {
        const char *k = pair_key(L, node(L, p->key), prefix);
        if (!k)
            return -1;
        snprintf(path, sizeof(path), "%s.%s", prefix, k);
        if (check_dup(L, start, p, path) != 0)
            return -1;
        const struct cfg_schema_entry *e = cfg_find_entry_("host.data[]", k);
        if (!e) {
            const char *s = cfg_suggest_("host.data[]", k);
            char hint[96] = "";
            if (s)
                snprintf(hint, sizeof(hint), " (did you mean '%s.%s'?)", prefix, s);
            return fail_at(L, node(L, p->key), path, "unknown key '%s'%s", path, hint);
        }
        yaml_node_t *v = node(L, p->value);
        if (e->type == CFG_STRLIST) {
            if (load_tags(L, d, v, path) != 0)
                return -1;
            have_tags = 1;
        } else if (set_scalar(L, d, e, v, path, 0) != 0) {
            return -1;
        }
    }
    if (!!*d->path + !!*d->synthetic + !!*d->live != 1)
        return fail_at(L, m, prefix, "%s: %s", prefix,
                       "exactly one of 'path', 'synthetic' and 'live' must be set");
    if (*d->live) {
        int nats = !strncmp(d->live, "nats://", 7); /* may have tags of its own */
        if (have_tags && !nats)
            return fail_at(L, m, prefix, "%s: %s", prefix,
                           "a live input takes its tags from each line: drop 'tags'");
        if (strncmp(d->live, "tcp:", 4) && strncmp(d->live, "unix:", 5) &&
            strcmp(d->live, "stdin") && !nats)
            return fail_at(L, m, prefix,
                           "%s.live: '%s' is not tcp:HOST:PORT, unix:PATH, stdin or "
                           "nats://HOST:PORT/SUBJECT",
                           prefix, d->live);
    } else if (!have_tags) {
        return fail_at(L, m, prefix, "%s: missing required key '%s'", prefix, "tags");
    }
    if (d->follow && !*d->path)
        return fail_at(L, m, prefix, "%s: %s", prefix, "'follow' applies to a CSV 'path'");
    return 0;
}

static int load_data(struct loader *L, yaml_node_t *v)
{
    struct qmtl_config *c = L->c;
    if (is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail_at(L, v, "host.data", "%s: expected a sequence of mappings, got %s",
                       "host.data", kind(v));
    yaml_node_item_t *it = v->data.sequence.items.start;
    size_t n = (size_t)(v->data.sequence.items.top - it);
    if (n > MAX_DATA_SOURCES)
        return fail_at(L, v, "host.data", "%s: too many data sources (limit %s)", "host.data",
                       "4096");
    for (size_t i = 0; i < c->host.n_data; i++)
        cfg_data_source_release_(&c->host.data[i]);
    free(c->host.data);
    c->host.data = n ? xrealloc(NULL, n * sizeof(*c->host.data)) : NULL;
    c->host.n_data = 0;
    for (size_t i = 0; i < n; i++) {
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "host.data[%zu]", i);
        struct cfg_data_source *d = &c->host.data[c->host.n_data++];
        memset(d, 0, sizeof(*d));
        if (load_data_source(L, d, node(L, it[i]), prefix) != 0)
            return -1;
    }
    return 0;
}

/* A risk.strategies value: one of the limit names, a number >= 0. */
static int check_risk_limit(struct loader *L, yaml_node_t *val, const char *kpath, const char *k)
{
    int known = 0;
    for (const char *const *n = config_risk_keys; *n && !known; n++)
        known = strcmp(*n, k) == 0;
    if (!known)
        return fail_at(L, val, kpath, "%s: unknown risk limit '%s' (max_position, "
                       "max_position_notional, max_order_notional, max_orders_per_minute, "
                       "max_daily_loss)", kpath, k);
    char *end;
    const char *t = text_of(val);
    double d = strtod(t, &end);
    if (end == t || *end || !isfinite(d) || d < 0)
        return fail_at(L, val, kpath, "%s: expected a number >= 0, got '%s'", kpath, t);
    return 0;
}

/* host.strategies (strategy parameters) or risk.strategies (per-strategy risk limits):
 * name -> mapping key -> scalar, appended to *arr as (strategy, key, value). */
static int load_strategies(struct loader *L, yaml_node_t *v, const char *what,
                           struct cfg_kv **arr, size_t *n_arr)
{
    int risk = strcmp(what, "risk.strategies") == 0;
    char path[200];
    if (is_null(v))
        return 0;
    if (v->type != YAML_MAPPING_NODE)
        return fail_at(L, v, what, "%s: expected a mapping, got %s", what, kind(v));
    yaml_node_pair_t *start = v->data.mapping.pairs.start;
    if (v->data.mapping.pairs.top - start > MAX_MAPPING_PAIRS)
        return fail_at(L, v, what, "%s: too many strategies (limit %s)", what, "1024");
    for (yaml_node_pair_t *p = start; p < v->data.mapping.pairs.top; p++) {
        const char *name = pair_key(L, node(L, p->key), what);
        if (!name)
            return -1;
        snprintf(path, sizeof(path), "%s.%s", what, name);
        if (check_dup(L, start, p, path) != 0)
            return -1;
        yaml_node_t *m = node(L, p->value);
        if (is_null(m))
            continue;
        if (m->type != YAML_MAPPING_NODE)
            return fail_at(L, m, path, "%s: expected a mapping of parameters, got %s", path,
                           kind(m));
        yaml_node_pair_t *s2 = m->data.mapping.pairs.start;
        if (m->data.mapping.pairs.top - s2 > MAX_MAPPING_PAIRS)
            return fail_at(L, m, path, "%s: too many parameters (limit %s)", path, "1024");
        for (yaml_node_pair_t *q = s2; q < m->data.mapping.pairs.top; q++) {
            const char *k = pair_key(L, node(L, q->key), path);
            if (!k)
                return -1;
            char kpath[300];
            snprintf(kpath, sizeof(kpath), "%s.%s", path, k);
            if (check_dup(L, s2, q, kpath) != 0)
                return -1;
            yaml_node_t *val = node(L, q->value);
            if (val->type != YAML_SCALAR_NODE || has_nul(val))
                return fail_at(L, val, kpath, "%s: expected a scalar, got %s", kpath,
                               val->type == YAML_SCALAR_NODE ? "a NUL byte" : kind(val));
            if (risk && check_risk_limit(L, val, kpath, k) != 0)
                return -1;
            if (*n_arr >= MAX_STRATEGY_PARAMS)
                return fail_at(L, val, kpath, "%s: too many strategy parameters (limit %s)", kpath,
                               "16384");
            *arr = xrealloc(*arr, (*n_arr + 1) * sizeof(**arr));
            struct cfg_kv *kv = &(*arr)[(*n_arr)++];
            kv->strategy = xstrdup(name);
            kv->key = xstrdup(k);
            kv->value = xstrdup(is_null(val) ? "" : text_of(val));
        }
    }
    return 0;
}

/* The schema entry (or alias of one) for section.key; NULL when unknown. */
static const struct cfg_schema_entry *lookup(const char *section, const char *key,
                                             const struct cfg_alias **alias)
{
    *alias = NULL;
    const struct cfg_schema_entry *e = cfg_find_entry_(section, key);
    if (e)
        return e;
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (!strcmp(aliases[i].section, section) && !strcmp(aliases[i].alias, key)) {
            *alias = &aliases[i];
            return cfg_find_entry_(section, aliases[i].canonical);
        }
    }
    return NULL;
}

static int load_section(struct loader *L, const char *section, yaml_node_t *m)
{
    char path[160];
    if (is_null(m))
        return 0;
    if (m->type != YAML_MAPPING_NODE)
        return fail_at(L, m, section, "section '%s' must be a mapping, got %s", section, kind(m));
    yaml_node_pair_t *start = m->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(L, p->key);
        const char *k = pair_key(L, kn, section);
        if (!k)
            return -1;
        snprintf(path, sizeof(path), "%s.%s", section, k);
        const struct cfg_alias *alias;
        const struct cfg_schema_entry *e = lookup(section, k, &alias);
        if (!e) {
            const char *s = cfg_suggest_(section, k);
            char hint[160] = "";
            if (s) {
                snprintf(hint, sizeof(hint), " (did you mean '%s.%s'?)", section, s);
            } else {
                /* the right key in the wrong section */
                size_t n;
                const struct cfg_schema_entry *all = config_schema(&n);
                for (size_t i = 0; i < n && !hint[0]; i++)
                    if (!strcmp(all[i].key, k) && !strchr(all[i].section, '.'))
                        snprintf(hint, sizeof(hint), " (it belongs in section '%s': '%s.%s')",
                                 all[i].section, all[i].section, k);
            }
            return fail_at(L, kn, path, "unknown key '%s'%s", path, hint);
        }
        /* duplicates, counting an alias and its canonical key as the same key */
        for (yaml_node_pair_t *q = start; q < p; q++) {
            const struct cfg_alias *qa;
            if (lookup(section, text_of(node(L, q->key)), &qa) == e) {
                char canon[160], first[32];
                snprintf(canon, sizeof(canon), "%s.%s", section, e->key);
                snprintf(first, sizeof(first), "%d", line_of(node(L, q->key)));
                if (!alias && !qa)
                    return fail_at(L, kn, canon, "duplicate key '%s' (first defined at line %s)",
                                   canon, first);
                return cfg_fail_(L->err, L->file, line_of(kn), col_of(kn), canon,
                                 "duplicate key '%s' (also set as '%s' at line %s)", canon,
                                 text_of(node(L, q->key)), first);
            }
        }
        if (alias)
            cfg_warn_(L->c, "%s:%d:%d: '%s' is deprecated, use '%s.%s'", L->file, line_of(kn),
                      col_of(kn), path, section, e->key);
        yaml_node_t *v = node(L, p->value);
        int rc;
        if (e->type == CFG_DATA)
            rc = load_data(L, v);
        else if (e->type == CFG_STRATEGY && strcmp(section, "risk") == 0)
            rc = load_strategies(L, v, "risk.strategies", &L->c->risk.strategy_limits,
                                 &L->c->risk.n_strategy_limits);
        else if (e->type == CFG_STRATEGY)
            rc = load_strategies(L, v, "host.strategies", &L->c->host.strategy_params,
                                 &L->c->host.n_strategy_params);
        else
            rc = set_scalar(L, L->c, e, v, path, alias ? alias->dsn : 0);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int load_root(struct loader *L)
{
    yaml_node_t *root = yaml_document_get_root_node(&L->doc);
    if (!root || is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(L, root, "", "the top level must be a mapping of sections, got %s%s",
                       kind(root), "");
    yaml_node_pair_t *start = root->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(L, p->key);
        const char *k = pair_key(L, kn, "");
        if (!k)
            return -1;
        if (!cfg_is_section_(k)) {
            const char *s = cfg_suggest_(NULL, k);
            char hint[96] = "";
            if (s)
                snprintf(hint, sizeof(hint), " (did you mean '%s'?)", s);
            return fail_at(L, kn, k, "unknown section '%s'%s", k, hint);
        }
        if (check_dup(L, start, p, k) != 0)
            return -1;
        if (load_section(L, k, node(L, p->value)) != 0)
            return -1;
    }
    return 0;
}

static int yaml_fail(struct loader *L, yaml_parser_t *parser)
{
    const char *problem = parser->problem ? parser->problem : "cannot parse";
    char text[300];
    if (parser->context)
        snprintf(text, sizeof(text), "%s (%s)", problem, parser->context);
    else
        snprintf(text, sizeof(text), "%s", problem);
    if (parser->error == YAML_MEMORY_ERROR)
        snprintf(text, sizeof(text), "out of memory");
    return cfg_fail_(L->err, L->file, (int)parser->problem_mark.line + 1,
                     (int)parser->problem_mark.column + 1, "", "malformed YAML: %s", text);
}

/*
 * Refuse nesting deeper than MAX_DEPTH before any document is built: libyaml's scanner
 * does work proportional to the depth for every token, so a 200 KB file of nested
 * brackets would cost tens of seconds of CPU. This pass reads events and stops at the
 * first level too deep, so it stays linear in the size of the file. Syntax errors are
 * left to the loader, which reports them. 0, or -1 with err filled.
 */
static int check_depth(struct loader *L, const char *yaml, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cfg_fail_(L->err, L->file, 0, 0, "", "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    int depth = 0, rc = 0;
    yaml_event_type_t t = YAML_NO_EVENT;
    while (t != YAML_STREAM_END_EVENT) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break;
        t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > MAX_DEPTH) {
                rc = cfg_fail_(L->err, L->file, (int)ev.start_mark.line + 1,
                               (int)ev.start_mark.column + 1, "",
                               "malformed YAML: nested deeper than %d levels", MAX_DEPTH);
                t = YAML_STREAM_END_EVENT;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* Parse the text into L->c (which holds defaults). 0 or -1. */
static int load_text(struct loader *L, const char *yaml, size_t len)
{
    if (check_depth(L, yaml, len) != 0)
        return -1;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cfg_fail_(L->err, L->file, 0, 0, "", "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    int rc;
    if (!yaml_parser_load(&parser, &L->doc)) {
        rc = yaml_fail(L, &parser);
        yaml_parser_delete(&parser);
        return rc;
    }
    rc = load_root(L);
    yaml_document_delete(&L->doc);
    if (rc == 0) {
        /* a second document is a mistake (a stray '---'), not something to ignore */
        yaml_document_t extra;
        if (!yaml_parser_load(&parser, &extra)) {
            rc = yaml_fail(L, &parser);
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&extra);
            if (r)
                rc = cfg_fail_(L->err, L->file, (int)r->start_mark.line + 1,
                               (int)r->start_mark.column + 1, "",
                               "malformed YAML: more than one document in the file");
            yaml_document_delete(&extra);
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

static int finish(struct qmtl_config *c, struct cfg_error *err, int use_env)
{
    if (use_env && cfg_apply_env_(c, err) != 0)
        return -1;
    if (c->test.test_mode) {
        c->runtime = c->test.budgets;
        c->gateway.ws_ping_interval_s = c->test.ws_ping_interval_s;
    }
    return 0;
}

static struct cfg_error scratch_err;

static int load_buffer(const char *yaml, size_t len, const char *name, const char *base_dir,
                       struct qmtl_config *c, struct cfg_error *err, int use_env)
{
    if (!err)
        err = &scratch_err;
    memset(err, 0, sizeof(*err));
    struct loader L = {.file = name ? name : "<string>", .base_dir = base_dir, .c = c, .err = err};
    if (load_text(&L, yaml, len) != 0)
        return -1;
    return finish(c, err, use_env);
}

int config_load_string(const char *yaml, const char *name, struct qmtl_config *c,
                       struct cfg_error *err)
{
    config_init_defaults(c);
    return load_buffer(yaml, strlen(yaml), name, NULL, c, err, 1);
}

int config_load_string_noenv(const char *yaml, size_t len, const char *name, struct qmtl_config *c,
                             struct cfg_error *err)
{
    config_init_defaults(c);
    return load_buffer(yaml, len, name, NULL, c, err, 0);
}

const char *config_discover(void)
{
    const char *env = getenv("QMTL_CONFIG_FILE");
    if (env && *env)
        return env;
    if (access("qmtl.yml", F_OK) == 0)
        return "qmtl.yml";
    if (access("qmtl.yaml", F_OK) == 0)
        return "qmtl.yaml";
    return NULL;
}

static char *read_file(const char *path, size_t *len, struct cfg_error *err, int *rc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = -2;
        cfg_fail_(err, path, 0, 0, "", "cannot read config file: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        *rc = -2;
        cfg_fail_(err, path, 0, 0, "", "cannot read config file: %s", "is a directory");
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > (size_t)MAX_FILE_BYTES) {
            fclose(f);
            free(buf);
            *rc = -1;
            cfg_fail_(err, path, 0, 0, "", "config file is larger than %ld bytes", MAX_FILE_BYTES);
            return NULL;
        }
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        *rc = -2;
        cfg_fail_(err, path, 0, 0, "", "cannot read config file: %s", "read error");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int config_load(const char *path, struct qmtl_config *c, struct cfg_error *err)
{
    config_init_defaults(c);
    if (!err)
        err = &scratch_err;
    memset(err, 0, sizeof(*err));
    if (!path)
        path = config_discover();
    if (!path)
        return finish(c, err, 1);
    int rc = 0;
    size_t len = 0;
    char *text = read_file(path, &len, err, &rc);
    if (!text)
        return rc;
    c->source_path = xstrdup(path);
    char *dir = NULL;
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        dir = xrealloc(NULL, dl + 1);
        memcpy(dir, path, dl);
        dir[dl] = '\0';
    }
    rc = load_buffer(text, len, path, dir, c, err, 1);
    free(dir);
    free(text);
    return rc;
}

const struct cfg_runtime *config_budgets(const struct qmtl_config *c)
{
    return c->test.test_mode ? &c->test.budgets : &c->runtime;
}

const char *config_strategy_param(const struct qmtl_config *c, const char *strategy,
                                  const char *key)
{
    for (size_t i = 0; i < c->host.n_strategy_params; i++) {
        const struct cfg_kv *kv = &c->host.strategy_params[i];
        if (!strcmp(kv->strategy, strategy) && !strcmp(kv->key, key))
            return kv->value;
    }
    return NULL;
}
