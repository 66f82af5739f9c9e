/* qmtl project init: list templates, scaffold a strategy project (see cli/project/scaffold.h). */
#include "cli.h"

#include "cli/project/sample_data.h"
#include "cli/project/scaffold.h"

#include <stdio.h>
#include <string.h>

struct init_args {
    const char *path;
    const char *template_name;
    int list, with_sample_data, force;
};

/* "--opt VALUE" or "--opt=VALUE"; advances *i. 1 matched, 0 not this option, -1 no value. */
static int take_value(int argc, char **argv, int *i, const char *opt, const char **out)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

static int parse(int argc, char **argv, struct init_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 2; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--list-templates") == 0) {
            a->list = 1;
        } else if (strcmp(argv[i], "--with-sample-data") == 0) {
            a->with_sample_data = 1;
        } else if (strcmp(argv[i], "--force") == 0) {
            a->force = 1;
        } else if ((r = take_value(argc, argv, &i, "--path", &a->path)) != 0 ||
                   (r = take_value(argc, argv, &i, "--strategy", &a->template_name)) != 0 ||
                   (r = take_value(argc, argv, &i, "--template", &a->template_name)) != 0) {
            if (r < 0) {
                fprintf(stderr, "qmtl project init: option '%s' needs a value\n", argv[i]);
                return -1;
            }
        } else {
            cli_unknown_option("project init", argv[i]);
            return -1;
        }
    }
    return 0;
}

static int list_templates(const struct scaffold_paths *p)
{
    struct scaffold_catalog cat;
    char err[1024];
    if (scaffold_catalog_load(p->data_dir, &cat, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmtl project init: %s\n", err);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < cat.n; i++)
        printf("%-17s %s [data: %s]%s\n", cat.items[i].name, cat.items[i].description,
               cat.items[i].symbols, i == 0 ? " (default)" : "");
    scaffold_catalog_release(&cat);
    return CLI_OK;
}

/* The sample data files scaffold_create wrote for template 'name' (one line). */
static void print_sample_files(const struct scaffold_paths *p, const char *name)
{
    struct scaffold_catalog cat;
    char err[1024];
    struct sample_spec spec;
    if (scaffold_catalog_load(p->data_dir, &cat, err, sizeof(err)) < 0)
        return;
    const struct scaffold_template *t = scaffold_catalog_find(&cat, name);
    if (t && scaffold_sample_spec(t, &spec, err, sizeof(err)) == 0) {
        printf("sample data:");
        for (size_t i = 0; i < spec.n_series; i++) {
            char f[64];
            if (spec.skip_mask & (1u << i))
                continue;
            sample_csv_name(&spec, i, f);
            printf(" data/%s", f);
        }
        printf(" (%ld bars each, every %llds)\n", spec.count, (long long)spec.interval_s);
    }
    scaffold_catalog_release(&cat);
}

int cmd_project(int argc, char **argv)
{
    const struct cli_command *self = cli_find("project");
    if (argc < 2 || strcmp(argv[1], "init") != 0) {
        if (argc >= 2)
            fprintf(stderr, "qmtl project: unknown subcommand '%s'\n", argv[1]);
        cli_print_usage(self, 1);
        return CLI_USAGE;
    }
    struct init_args a;
    if (parse(argc, argv, &a) < 0) {
        cli_print_usage(self, 1);
        return CLI_USAGE;
    }
    char err[2048], exe[PATH_MAX];
    struct scaffold_paths p;
    if (scaffold_self_exe(exe, sizeof(exe), err, sizeof(err)) < 0 ||
        scaffold_locate(exe, &p, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmtl project init: %s\n", err);
        return CLI_FAIL;
    }
    if (a.list)
        return list_templates(&p);
    if (!a.path || !*a.path) {
        fprintf(stderr, "qmtl project init: --path is required (or --list-templates)\n");
        cli_print_usage(self, 1);
        return CLI_USAGE;
    }
    char default_name[128] = "";
    if (!a.template_name) {
        struct scaffold_catalog cat;
        if (scaffold_catalog_load(p.data_dir, &cat, err, sizeof(err)) < 0) {
            fprintf(stderr, "qmtl project init: %s\n", err);
            return CLI_FAIL;
        }
        snprintf(default_name, sizeof(default_name), "%s", cat.items[0].name);
        scaffold_catalog_release(&cat);
        a.template_name = default_name;
    }
    struct scaffold_options opt = {
        .path = a.path,
        .template_name = a.template_name,
        .with_sample_data = a.with_sample_data,
        .force = a.force,
        .qmtl_exe = p.exe,
    };
    int rc = scaffold_create(&p, &opt, err, sizeof(err));
    if (rc == SCAFFOLD_ETEMPLATE) {
        fprintf(stderr, "qmtl project init: %s\n", err);
        return CLI_USAGE;
    }
    if (rc != SCAFFOLD_OK) {
        fprintf(stderr, "qmtl project init: %s\n", err);
        return CLI_FAIL;
    }
    char name[80];
    scaffold_project_name(a.path, name, sizeof(name));
    printf("created project '%s' (template '%s') in %s\n", name, opt.template_name, a.path);
    if (a.with_sample_data)
        print_sample_files(&p, opt.template_name);
    printf("next: cd %s && make && make run && make test\n", a.path);
    return CLI_OK;
}
