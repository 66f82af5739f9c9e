/* qmtl config: validate a qmtl.yml, show the effective values, print the key schema. */
#include "cli.h"
#include "config.h"
#include "cli/config/config_check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts {
    const char *config;
    unsigned targets;
    int offline, json;
};

static int parse_opts(int argc, char **argv, struct opts *o, int allow_target)
{
    memset(o, 0, sizeof(*o));
    o->targets = CFG_TARGET_ALL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "--config") || !strcmp(a, "--target")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "qmtl config: option '%s' needs a value\n", a);
                return -1;
            }
            val = argv[++i];
        } else if (!strncmp(a, "--config=", 9) || !strncmp(a, "--target=", 9)) {
            val = a + 9;
        }
        if (!strncmp(a, "--config", 8)) {
            o->config = val;
        } else if (allow_target && !strncmp(a, "--target", 8)) {
            o->targets = config_check_parse_target(val);
            if (!o->targets) {
                fprintf(stderr,
                        "qmtl config: unknown target '%s' (expected gateway, dagmanager, host "
                        "or all)\n",
                        val);
                return -1;
            }
        } else if (allow_target && !strcmp(a, "--offline")) {
            o->offline = 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else {
            char where[48];
            snprintf(where, sizeof(where), "config %s", argv[0]);
            cli_unknown_option(where, a);
            return -1;
        }
    }
    return 0;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

/* Load as validate/show do: exit code 2 with a message when the file is missing or bad. */
static int load(const struct opts *o, struct qmtl_config *c)
{
    struct cfg_error err;
    int rc = config_load(o->config, c, &err);
    if (rc == 0)
        return 0;
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s?, s:s, s:s, s:i, s:i, s:s}", "status", "error", "config",
                              o->config ? o->config : config_discover(), "error",
                              rc == -2 ? "missing" : "invalid", "message", err.msg, "line",
                              err.line, "column", err.column, "key", err.key);
        if (j)
            print_json(j);
    }
    fprintf(stderr, "qmtl config: %s\n", err.msg);
    return 2;
}

static int validate(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o, 1) != 0)
        return CLI_USAGE;
    struct qmtl_config c;
    int rc = load(&o, &c);
    if (rc != 0) {
        config_release(&c);
        return rc;
    }
    struct cfg_report r;
    enum cfg_severity worst = config_check(&c, o.targets, o.offline, &r);
    if (o.json) {
        json_t *results = json_object();
        for (size_t i = 0; i < r.n; i++) {
            const struct cfg_check *ck = &r.checks[i];
            json_t *t = json_object_get(results, ck->target);
            if (!t) {
                t = json_object();
                json_object_set_new(results, ck->target, t);
            }
            json_object_set_new(t, ck->name,
                                json_pack("{s:s, s:s}", "severity",
                                          config_severity_json(ck->severity), "hint", ck->hint));
        }
        json_t *j = json_pack("{s:s, s:s?, s:o}", "status", worst == CFG_SEV_ERROR ? "error" : "ok",
                              "config", c.source_path, "results", results);
        if (j)
            print_json(j);
    } else {
        int wt = 6, wc = 5;
        for (size_t i = 0; i < r.n; i++) {
            int a = (int)strlen(r.checks[i].target), b = (int)strlen(r.checks[i].name);
            wt = a > wt ? a : wt;
            wc = b > wc ? b : wc;
        }
        printf("%-*s  %-*s  %-6s %s\n", wt, "TARGET", wc, "CHECK", "STATUS", "HINT");
        for (size_t i = 0; i < r.n; i++)
            printf("%-*s  %-*s  %-6s %s\n", wt, r.checks[i].target, wc, r.checks[i].name,
                   config_severity_name(r.checks[i].severity), r.checks[i].hint);
    }
    config_report_release(&r);
    config_release(&c);
    return worst == CFG_SEV_ERROR ? CLI_FAIL : CLI_OK;
}

static int show(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o, 0) != 0)
        return CLI_USAGE;
    struct qmtl_config c;
    int rc = load(&o, &c);
    if (rc != 0) {
        config_release(&c);
        return rc;
    }
    size_t n;
    const struct cfg_schema_entry *s = config_schema(&n);
    char buf[512];
    json_t *j = o.json ? json_object() : NULL;
    if (!o.json)
        printf("# source: %s\n", c.source_path ? c.source_path : "built-in defaults");
    for (size_t i = 0; i < n; i++) {
        if (strchr(s[i].section, '.'))
            continue;
        config_format_value(&c, &s[i], 1, buf, sizeof(buf));
        if (j) {
            json_t *sec = json_object_get(j, s[i].section);
            if (!sec) {
                sec = json_object();
                json_object_set_new(j, s[i].section, sec);
            }
            json_object_set_new(sec, s[i].key, json_string(buf));
        } else {
            printf("%s.%s = %s\n", s[i].section, s[i].key, buf);
        }
    }
    const struct cfg_host *h = &c.host;
    for (size_t i = 0; i < h->n_data; i++) {
        const struct cfg_data_source *d = &h->data[i];
        json_t *tags = json_array();
        for (size_t t = 0; t < d->n_tags; t++)
            json_array_append_new(tags, json_string(d->tags[t]));
        json_t *src = json_pack(
            "{s:o, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:I, s:I, s:b, s:b}", "tags", tags, "path",
            d->path, "synthetic", d->synthetic, "interval_s", (json_int_t)d->interval_s, "count",
            (json_int_t)d->count, "start_price", d->start_price, "drift", d->drift, "volatility",
            d->volatility, "seed", (json_int_t)d->seed, "start_ts", (json_int_t)d->start_ts,
            "sort", d->sort, "allow_nonpositive_prices", d->allow_nonpositive_prices);
        if (j) {
            json_t *host = json_object_get(j, "host");
            json_t *arr = json_object_get(host, "data_sources");
            if (!arr) {
                arr = json_array();
                json_object_set_new(host, "data_sources", arr);
            }
            json_array_append_new(arr, src);
        } else {
            char *line = json_dumps(src, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("host.data[%zu] = %s\n", i, line ? line : "?");
            free(line);
            json_decref(src);
        }
    }
    for (size_t i = 0; i < h->n_strategy_params; i++) {
        const struct cfg_kv *kv = &h->strategy_params[i];
        if (j) {
            json_t *host = json_object_get(j, "host");
            json_t *st = json_object_get(host, "strategy_params");
            if (!st) {
                st = json_object();
                json_object_set_new(host, "strategy_params", st);
            }
            json_t *one = json_object_get(st, kv->strategy);
            if (!one) {
                one = json_object();
                json_object_set_new(st, kv->strategy, one);
            }
            json_object_set_new(one, kv->key, json_string(kv->value));
        } else {
            printf("host.strategies.%s.%s = %s\n", kv->strategy, kv->key, kv->value);
        }
    }
    if (j)
        print_json(j);
    config_release(&c);
    return CLI_OK;
}

/* The key table as Markdown (what docs/configuration.md carries) or JSON. */
static int schema(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o, 0) != 0 || o.config)
        return CLI_USAGE;
    size_t n;
    const struct cfg_schema_entry *s = config_schema(&n);
    char env[128], range[96];
    json_t *arr = o.json ? json_array() : NULL;
    if (!arr)
        printf("| key | type | default | env | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        config_env_name(&s[i], env, sizeof(env));
        range[0] = '\0';
        if (s[i].type == CFG_ENUM)
            snprintf(range, sizeof(range), "%s", s[i].choices);
        else if (s[i].min <= s[i].max && s[i].type == CFG_DOUBLE)
            snprintf(range, sizeof(range), "%g..%g", s[i].min, s[i].max);
        else if (s[i].min <= s[i].max)
            snprintf(range, sizeof(range), "%.0f..%.0f", s[i].min, s[i].max);
        if (arr) {
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "section",
                                                 s[i].section, "key", s[i].key, "type",
                                                 config_type_name(s[i].type), "default", s[i].def,
                                                 "range", range, "env", env, "doc", s[i].doc));
            continue;
        }
        printf("| `%s.%s` | %s%s%s%s | `%s` | %s%s%s | %s |\n", s[i].section, s[i].key,
               config_type_name(s[i].type), range[0] ? " (" : "", range, range[0] ? ")" : "",
               s[i].def[0] ? s[i].def : "\"\"", env[0] ? "`" : "", env[0] ? env : "-",
               env[0] ? "`" : "", s[i].doc);
    }
    if (arr)
        print_json(arr);
    return CLI_OK;
}

int cmd_config(int argc, char **argv)
{
    if (argc < 2) {
        cli_print_usage(cli_find("config"), 1);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "validate"))
        return validate(argc - 1, argv + 1);
    if (!strcmp(argv[1], "show"))
        return show(argc - 1, argv + 1);
    if (!strcmp(argv[1], "schema"))
        return schema(argc - 1, argv + 1);
    fprintf(stderr, "qmtl config: unknown subcommand '%s'\n", argv[1]);
    cli_print_usage(cli_find("config"), 1);
    return CLI_USAGE;
}
