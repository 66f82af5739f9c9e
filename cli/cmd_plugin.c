/* qmtl plugin check: load one plugin in isolation and report what it is. */
#include "cli.h"
#include "config.h"
#include "host/dag/explain.h"
#include "host/host_api.h"
#include "host/plugin/loader.h"
#include "host/plugin/preflight.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int plugin_check(const char *path, int json)
{
    char err[1024];
    struct plugin *p = NULL;
    /* the same checks as qmtl run: file, preflight child (time limit and node cap from
     * the discovered config or its environment overrides), then the mapping */
    struct qmtl_config cfg;
    struct cfg_error cerr;
    memset(&cerr, 0, sizeof(cerr));
    if (config_load(NULL, &cfg, &cerr) != 0) {
        config_release(&cfg);
        config_init_defaults(&cfg);
    }
    struct host_options opt;
    host_options_default(&opt);
    opt.max_nodes_per_strategy = cfg.host.max_nodes_per_strategy;
    struct host pf_host;
    if (host_init(&pf_host, &opt) < 0) {
        config_release(&cfg);
        fprintf(stderr, "plugin '%s': cannot create a host\n", path);
        return CLI_FAIL;
    }
    struct preflight_options pf = {.timeout_s = cfg.host.preflight_timeout_s, .host = &pf_host};
    config_release(&cfg);
    int orc = plugin_open_checked(path, preflight_run, &pf, &p, err, sizeof(err));
    host_release(&pf_host);
    if (orc < 0) {
        if (json) {
            json_t *o = json_pack("{s:s, s:b, s:s}", "path", path, "ok", 0, "error", err);
            json_dumpf(o, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(o);
        }
        fprintf(stderr, "%s\n", err);
        return CLI_FAIL;
    }
    const struct qmtl_plugin *d = p->desc;
    char cbs[256];
    plugin_describe_callbacks(d, cbs, sizeof(cbs));

    /* Run setup() in a host of its own to build and check the strategy's DAG. */
    struct host h;
    int rc = CLI_OK;
    char setup_err[512] = "";
    if (host_init(&h, &opt) < 0) {
        fprintf(stderr, "plugin '%s' (%s): cannot create a host\n", d->name, path);
        plugin_close(p);
        return CLI_FAIL;
    }
    /* the host logs refusals itself; plugin check reports them once, below */
    enum log_level old = log_set_level((enum log_level)(LOG_LEVEL_ERROR + 1));
    size_t idx;
    if (host_add_strategy(&h, d, path, &idx, err, sizeof(err)) < 0 ||
        host_finalize(&h, err, sizeof(err)) < 0) {
        if (strncmp(err, "plugin '", 8) == 0)
            snprintf(setup_err, sizeof(setup_err), "%s", err);
        else
            snprintf(setup_err, sizeof(setup_err), "plugin '%s' (%s): %s", d->name, path, err);
        rc = CLI_FAIL;
    }
    log_set_level(old);
    char abi[32];
    snprintf(abi, sizeof(abi), "%u.%u", d->abi_major, d->abi_minor);

    if (json) {
        json_t *o = json_pack("{s:s, s:b, s:s, s:s?, s:s?, s:s, s:s}", "path", path, "ok",
                              rc == CLI_OK, "name", d->name, "version", d->version,
                              "description", d->description, "abi", abi, "callbacks", cbs);
        if (rc == CLI_OK) {
            json_t *dag = explain_json(&h);
            json_object_set(o, "nodes", json_object_get(dag, "nodes"));
            json_decref(dag);
        } else {
            json_object_set_new(o, "error", json_string(setup_err));
        }
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else {
        printf("plugin:      %s\n", path);
        printf("name:        %s\n", d->name);
        printf("version:     %s\n", d->version ? d->version : "(none)");
        if (d->description)
            printf("description: %s\n", d->description);
        printf("abi:         %s (host %d.%d)\n", abi, QMTL_ABI_MAJOR, QMTL_ABI_MINOR);
        printf("callbacks:   %s\n", cbs);
        if (rc == CLI_OK) {
            printf("nodes:       %zu\n", graph_count(h.g));
            explain_text(stdout, &h);
            printf("result:      OK, loadable\n");
        }
    }
    if (rc != CLI_OK)
        fprintf(stderr, "%s\n", setup_err);
    host_release(&h);
    plugin_close(p);
    return rc;
}

int cmd_plugin(int argc, char **argv)
{
    const struct cli_command *self = cli_find("plugin");
    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        if (argc >= 2)
            fprintf(stderr, "qmtl plugin: unknown subcommand '%s'\n", argv[1]);
        cli_print_usage(self, 1);
        return CLI_USAGE;
    }
    int json = 0;
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_unknown_option("plugin check", argv[i]);
        } else if (path) {
            fprintf(stderr, "qmtl plugin check: one plugin at a time ('%s' and '%s')\n", path,
                    argv[i]);
            return CLI_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "qmtl plugin check: missing PLUGIN.so\n");
        cli_print_usage(self, 1);
        return CLI_USAGE;
    }
    return plugin_check(path, json);
}
