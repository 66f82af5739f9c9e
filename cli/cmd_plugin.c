/* qmtl plugin check: load one plugin in isolation and report what it is. */
#include "cli.h"
#include "host/loader.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int plugin_check(const char *path, int json)
{
    char err[1024];
    struct plugin *p = NULL;
    if (plugin_open(path, &p, err, sizeof(err)) < 0) {
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
    if (json) {
        json_t *o = json_pack("{s:s, s:b, s:s, s:s?, s:s?, s:s, s:s}", "path", path, "ok", 1, "name",
                              d->name, "version", d->version, "description", d->description,
                              "abi", "", "callbacks", cbs);
        char abi[32];
        snprintf(abi, sizeof(abi), "%u.%u", d->abi_major, d->abi_minor);
        json_object_set_new(o, "abi", json_string(abi));
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else {
        printf("plugin:      %s\n", path);
        printf("name:        %s\n", d->name);
        printf("version:     %s\n", d->version ? d->version : "(none)");
        if (d->description)
            printf("description: %s\n", d->description);
        printf("abi:         %u.%u (host %d.%d)\n", d->abi_major, d->abi_minor, QMTL_ABI_MAJOR,
               QMTL_ABI_MINOR);
        printf("callbacks:   %s\n", cbs);
        printf("result:      OK, loadable\n");
    }
    plugin_close(p);
    return CLI_OK;
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
            fprintf(stderr, "qmtl plugin check: unknown option '%s'\n", argv[i]);
            cli_print_usage(self, 1);
            return CLI_USAGE;
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
