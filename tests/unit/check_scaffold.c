/* Unit tests: cli/project/scaffold (locating, catalog, project creation, refusals) and
 * cli/project/sample_data (invariants, determinism, CSV files), plus the CLI's exit codes. */
#include "cli/project/sample_data.h"
#include "cli/project/scaffold.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *build_dir(void)
{
    const char *b = getenv("QMTL_BUILD");
    return b && *b ? b : "build";
}

static void qmtl_exe(char *out, size_t len)
{
    snprintf(out, len, "%s/bin/qmtl", build_dir());
}

static void make_tmpdir(char *out, size_t len)
{
    snprintf(out, len, "/tmp/qmtl-scaffold-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static void rm_rf(const char *path)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int exists(const char *dir, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    struct stat st;
    return stat(p, &st) == 0;
}

static void locate(struct scaffold_paths *p)
{
    char exe[PATH_MAX], err[1024] = "";
    qmtl_exe(exe, sizeof(exe));
    ck_assert_msg(scaffold_locate(exe, p, err, sizeof(err)) == 0, "locate: %s", err);
}

/* ------------------------------------------------------------ sample data */

struct collect {
    long n[SAMPLE_MAX_SERIES];
    int64_t last_ts[SAMPLE_MAX_SERIES];
    double last_close[SAMPLE_MAX_SERIES];
    double sum_r2[SAMPLE_MAX_SERIES], sum_vol[SAMPLE_MAX_SERIES];
    double min_close[SAMPLE_MAX_SERIES], max_close[SAMPLE_MAX_SERIES];
    int bad;
    uint64_t hash;
};

static int collect_bar(void *arg, size_t s, int64_t ts, const struct qmtl_bar *b)
{
    struct collect *c = arg;
    if (!(b->low <= fmin(b->open, b->close) && fmax(b->open, b->close) <= b->high) ||
        !(b->low > 0) || !(b->volume > 0))
        c->bad++;
    if (c->n[s] > 0) {
        if (ts != c->last_ts[s] + 60 || b->open != c->last_close[s])
            c->bad++;
        double r = log(b->close / c->last_close[s]);
        c->sum_r2[s] += r * r;
    } else {
        c->min_close[s] = c->max_close[s] = b->close;
    }
    c->min_close[s] = fmin(c->min_close[s], b->close);
    c->max_close[s] = fmax(c->max_close[s], b->close);
    c->sum_vol[s] += b->volume;
    c->n[s]++;
    c->last_ts[s] = ts;
    c->last_close[s] = b->close;
    const double f[5] = {b->open, b->high, b->low, b->close, b->volume};
    const unsigned char *bytes = (const unsigned char *)f;
    for (size_t i = 0; i < sizeof(f); i++)
        c->hash = (c->hash ^ bytes[i]) * 1099511628211ull;
    return 0;
}

START_TEST(sample_default_is_realistic)
{
    struct sample_spec spec;
    sample_spec_default(&spec);
    ck_assert_uint_ge(spec.n_series, 2);
    ck_assert_int_ge(spec.count, 10000);
    ck_assert_int_eq(spec.interval_s, 60);
    struct collect c;
    memset(&c, 0, sizeof(c));
    c.hash = 1469598103934665603ull;
    char err[256] = "";
    ck_assert_int_eq(sample_generate(&spec, collect_bar, &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.bad, 0);
    for (size_t s = 0; s < spec.n_series; s++) {
        const struct sample_series *ss = &spec.series[s];
        ck_assert_int_eq(c.n[s], spec.count);
        /* prices stay plausible over a week */
        ck_assert_double_gt(c.min_close[s], ss->start_price * 0.6);
        ck_assert_double_lt(c.max_close[s], ss->start_price * 1.6);
        /* realised volatility near the configured one */
        double annual = sqrt(c.sum_r2[s] / (double)(c.n[s] - 1) * 525600.0);
        ck_assert_double_gt(annual, ss->annual_vol * 0.7);
        ck_assert_double_lt(annual, ss->annual_vol * 1.3);
        double mean_vol = c.sum_vol[s] / (double)c.n[s];
        ck_assert_double_gt(mean_vol, ss->mean_volume * 0.5);
        ck_assert_double_lt(mean_vol, ss->mean_volume * 1.5);
    }
}
END_TEST

START_TEST(sample_is_deterministic_per_seed)
{
    struct sample_spec spec;
    sample_spec_default(&spec);
    spec.count = 2000;
    struct collect a, b, d;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&d, 0, sizeof(d));
    char err[256];
    ck_assert_int_eq(sample_generate(&spec, collect_bar, &a, err, sizeof(err)), 0);
    ck_assert_int_eq(sample_generate(&spec, collect_bar, &b, err, sizeof(err)), 0);
    ck_assert(a.hash == b.hash);
    spec.seed = 7;
    ck_assert_int_eq(sample_generate(&spec, collect_bar, &d, err, sizeof(err)), 0);
    ck_assert(a.hash != d.hash);
}
END_TEST

static int stop_early(void *arg, size_t s, int64_t ts, const struct qmtl_bar *b)
{
    (void)s;
    (void)ts;
    (void)b;
    return ++*(int *)arg >= 3;
}

START_TEST(sample_rejects_bad_specs)
{
    struct sample_spec spec;
    char err[256];
    int n = 0;
    sample_spec_default(&spec);
    spec.n_series = 0;
    ck_assert_int_eq(sample_generate(&spec, stop_early, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "series"));
    sample_spec_default(&spec);
    spec.count = 0;
    ck_assert_int_eq(sample_generate(&spec, stop_early, &n, err, sizeof(err)), -1);
    const struct sample_series bad_price[] = {{"X", -1.0, 0.5, 10}};
    sample_spec_default(&spec);
    spec.series = bad_price;
    spec.n_series = 1;
    ck_assert_int_eq(sample_generate(&spec, stop_early, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "'X'"));
    const struct sample_series bad_sym[] = {{"a/b", 10.0, 0.5, 10}};
    spec.series = bad_sym;
    ck_assert_int_eq(sample_generate(&spec, stop_early, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "symbol"));
    sample_spec_default(&spec);
    ck_assert_int_eq(sample_generate(&spec, stop_early, &n, err, sizeof(err)), -1);
    ck_assert_int_eq(n, 3);
    ck_assert_ptr_nonnull(strstr(err, "stopped"));
}
END_TEST

START_TEST(sample_writes_csv_files)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    struct sample_spec spec;
    sample_spec_default(&spec);
    char names[SAMPLE_MAX_SERIES][64], err[512] = "";
    ck_assert_msg(sample_write_csv(&spec, dir, names, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(names[0], "BTC_1m.csv");
    ck_assert_str_eq(names[1], "ETH_1m.csv");
    char path[256];
    snprintf(path, sizeof(path), "%s/BTC_1m.csv", dir);
    char *text = slurp(path);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(
        strncmp(text, "timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,", 58), 0);
    long lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, spec.count + 1);
    ck_assert_ptr_nonnull(strstr(text, "\n2024-01-07T23:59:00Z,")); /* the last bar of the week */
    free(text);
    /* no temporary files left behind */
    snprintf(path, sizeof(path), "%s/.BTC_1m.csv.tmp", dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    /* a directory that does not exist: the message names the file */
    snprintf(path, sizeof(path), "%s/missing", dir);
    ck_assert_int_eq(sample_write_csv(&spec, path, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "missing/BTC_1m.csv"));
    rm_rf(dir);
}
END_TEST

START_TEST(sample_skip_mask_writes_only_the_rest)
{
    char full[64], part[64], path[256], err[512] = "";
    make_tmpdir(full, sizeof(full));
    make_tmpdir(part, sizeof(part));
    struct sample_spec spec;
    sample_spec_default(&spec);
    spec.count = 500;
    ck_assert_msg(sample_write_csv(&spec, full, NULL, err, sizeof(err)) == 0, "%s", err);
    spec.skip_mask = 1u << 1; /* ETH */
    char names[SAMPLE_MAX_SERIES][64];
    ck_assert_msg(sample_write_csv(&spec, part, names, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(names[1], "ETH_1m.csv"); /* named, not written */
    snprintf(path, sizeof(path), "%s/ETH_1m.csv", part);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/.ETH_1m.csv.tmp", part);
    ck_assert_int_ne(access(path, F_OK), 0);
    /* the written series is byte-identical to the one of a full run */
    snprintf(path, sizeof(path), "%s/BTC_1m.csv", full);
    char *a = slurp(path);
    snprintf(path, sizeof(path), "%s/BTC_1m.csv", part);
    char *b = slurp(path);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    spec.skip_mask = 3;
    ck_assert_int_eq(sample_write_csv(&spec, part, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "every series is skipped"));
    rm_rf(full);
    rm_rf(part);
}
END_TEST

/* ------------------------------------------------------------ locating, catalog */

START_TEST(locate_build_tree)
{
    struct scaffold_paths p;
    locate(&p);
    ck_assert_int_eq(p.installed, 0);
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof(probe), "%s/qmtl/testkit.h", p.include_dir);
    ck_assert_int_eq(access(probe, R_OK), 0);
    snprintf(probe, sizeof(probe), "%s/libqmtl_testkit.a", p.lib_dir);
    ck_assert_int_eq(access(probe, R_OK), 0);
    snprintf(probe, sizeof(probe), "%s/templates.list", p.data_dir);
    ck_assert_int_eq(access(probe, R_OK), 0);
    ck_assert_ptr_nonnull(strstr(p.data_dir, "/scaffold"));
    ck_assert_int_eq(p.exe[0], '/');
}
END_TEST

START_TEST(locate_installed_layout_and_failure)
{
    char dir[64], path[256], err[1024];
    make_tmpdir(dir, sizeof(dir));
    const char *mk[] = {"bin", "include", "include/qmtl", "lib", "share", "share/qmtl"};
    for (size_t i = 0; i < sizeof(mk) / sizeof(mk[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, mk[i]);
        ck_assert_int_eq(mkdir(path, 0755), 0);
    }
    const char *files[] = {"bin/qmtl", "include/qmtl/qmtl.h"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
    }
    struct scaffold_paths p;
    snprintf(path, sizeof(path), "%s/bin/qmtl", dir);
    /* no templates yet: not an installation, and no source tree above a /tmp dir */
    ck_assert_int_eq(scaffold_locate(path, &p, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot find the qmtl SDK"));
    char list[256];
    snprintf(list, sizeof(list), "%s/share/qmtl/templates.list", dir);
    FILE *f = fopen(list, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_msg(scaffold_locate(path, &p, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(p.installed, 1);
    char want[256];
    snprintf(want, sizeof(want), "%s/include", dir);
    ck_assert_str_eq(p.include_dir, want);
    snprintf(want, sizeof(want), "%s/share/qmtl", dir);
    ck_assert_str_eq(p.data_dir, want);
    snprintf(want, sizeof(want), "%s/lib", dir);
    ck_assert_str_eq(p.lib_dir, want);
    ck_assert_str_eq(p.prefix, dir);
    rm_rf(dir);
}
END_TEST

START_TEST(catalog_lists_every_template_in_order)
{
    struct scaffold_paths p;
    locate(&p);
    struct scaffold_catalog cat;
    char err[1024];
    ck_assert_msg(scaffold_catalog_load(p.data_dir, &cat, err, sizeof(err)) == 0, "%s", err);
    const char *want[] = {"general",       "single_indicator", "multi_indicator", "branching",
                          "state_machine", "order_pipeline",   "tag_query"};
    ck_assert_uint_eq(cat.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < cat.n; i++) {
        ck_assert_str_eq(cat.items[i].name, want[i]);
        ck_assert_uint_gt(strlen(cat.items[i].description), 10);
        ck_assert_ptr_null(strchr(cat.items[i].description, '\n'));
        char probe[PATH_MAX * 2];
        snprintf(probe, sizeof(probe), "%s/templates/%s/tests/test_strategy.c", p.data_dir,
                 want[i]);
        ck_assert_msg(access(probe, R_OK) == 0, "no test for template '%s'", want[i]);
    }
    ck_assert_ptr_nonnull(scaffold_catalog_find(&cat, "branching"));
    ck_assert_ptr_null(scaffold_catalog_find(&cat, "nope"));
    /* the data each template reads: tag_query both symbols, the others BTC only */
    for (size_t i = 0; i < cat.n; i++) {
        int tq = strcmp(cat.items[i].name, "tag_query") == 0;
        ck_assert_str_eq(cat.items[i].symbols, tq ? "BTC,ETH" : "BTC");
        ck_assert(scaffold_template_reads(&cat.items[i], "BTC"));
        ck_assert_int_eq(scaffold_template_reads(&cat.items[i], "ETH"), tq);
        ck_assert(!scaffold_template_reads(&cat.items[i], "BT"));
        struct sample_spec spec;
        ck_assert_msg(scaffold_sample_spec(&cat.items[i], &spec, err, sizeof(err)) == 0, "%s",
                      err);
        ck_assert_uint_eq(spec.skip_mask, tq ? 0 : 2u); /* series 1 is ETH */
    }
    char names[512];
    scaffold_catalog_names(&cat, names, sizeof(names));
    ck_assert_str_eq(names, "general, single_indicator, multi_indicator, branching, "
                            "state_machine, order_pipeline, tag_query");
    scaffold_catalog_release(&cat);
}
END_TEST

static void write_file(const char *dir, const char *rel, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(catalog_rejects_bad_lists)
{
    char dir[64], err[1024], p[256];
    make_tmpdir(dir, sizeof(dir));
    struct scaffold_catalog cat;
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "templates.list"));
    snprintf(p, sizeof(p), "%s/templates", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/templates/a", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_file(dir, "templates/a/strategy.c", "/* a */\n");

    write_file(dir, "templates.list", "# only comments\n\n");
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "no templates"));
    write_file(dir, "templates.list", "a  BTC  the a template\nb  BTC  no such directory\n");
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "template 'b' has no"));
    write_file(dir, "templates.list", "a BTC first\na BTC again\n");
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "listed twice"));
    write_file(dir, "templates.list", "a\n");
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "entry 1"));
    ck_assert_ptr_nonnull(strstr(err, "NAME SYMBOLS DESCRIPTION"));
    write_file(dir, "templates.list", "a BTC\n"); /* no description */
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "entry 1"));
    const char *bad_symbols[] = {"a B/C text\n", "a BTC,,ETH text\n", "a BTC, text\n",
                                 "a ,BTC text\n"};
    for (size_t i = 0; i < sizeof(bad_symbols) / sizeof(bad_symbols[0]); i++) {
        write_file(dir, "templates.list", bad_symbols[i]);
        ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, "SYMBOLS") != NULL, "%s: %s", bad_symbols[i], err);
    }
    write_file(dir, "templates.list", "# c\n  a  BTC,ETH   described here  \n");
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), 0);
    ck_assert_uint_eq(cat.n, 1);
    ck_assert_str_eq(cat.items[0].description, "described here");
    ck_assert_str_eq(cat.items[0].symbols, "BTC,ETH");
    scaffold_catalog_release(&cat);
    /* a symbol the sample data set lacks */
    write_file(dir, "templates.list", "a DOGE text\n");
    ck_assert_int_eq(scaffold_catalog_load(dir, &cat, err, sizeof(err)), 0);
    struct sample_spec spec;
    ck_assert_int_eq(scaffold_sample_spec(&cat.items[0], &spec, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "reads 'DOGE'"));
    scaffold_catalog_release(&cat);
    rm_rf(dir);
}
END_TEST

/* ------------------------------------------------------------ create */

static int create(const char *path, const char *tmpl, int sample, int force, char *err,
                  size_t errlen)
{
    struct scaffold_paths p;
    locate(&p);
    struct scaffold_options o = {.path = path,
                                 .template_name = tmpl,
                                 .with_sample_data = sample,
                                 .force = force,
                                 .qmtl_exe = "/opt/x/bin/qmtl"};
    return scaffold_create(&p, &o, err, errlen);
}

static void assert_no_placeholders(const char *dir, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    char *text = slurp(p);
    ck_assert_msg(text != NULL, "missing %s", rel);
    const char *names[] = {"@PROJECT@", "@TEMPLATE@", "@DESCRIPTION@", "@QMTL@", "@DATA_SOURCES@"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_msg(strstr(text, names[i]) == NULL, "%s left in %s", names[i], rel);
    free(text);
}

START_TEST(create_writes_the_project)
{
    char dir[64], proj[128], err[1024] = "";
    make_tmpdir(dir, sizeof(dir));
    snprintf(proj, sizeof(proj), "%s/deep/my proj", dir); /* parents created; name sanitized */
    ck_assert_msg(create(proj, "branching", 1, 0, err, sizeof(err)) == SCAFFOLD_OK, "%s", err);
    const char *files[] = {"strategy.c",
                           "nodes.h",
                           "Makefile",
                           "qmtl.yml",
                           "README.md",
                           ".gitignore",
                           "generators/price_stream.c",
                           "generators/README.md",
                           "indicators/momentum.c",
                           "indicators/README.md",
                           "transforms/hysteresis.c",
                           "transforms/README.md",
                           "tests/test_strategy.c"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        assert_no_placeholders(proj, files[i]);
    ck_assert(exists(proj, "data/BTC_1m.csv"));
    ck_assert(!exists(proj, "data/ETH_1m.csv")); /* branching reads BTC only */
    ck_assert(!exists(proj, "gitignore"));

    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/strategy.c", proj);
    char *text = slurp(p);
    ck_assert_ptr_nonnull(strstr(text, ".name = \"my_proj\""));
    ck_assert_ptr_nonnull(strstr(text, "risk_adjusted")); /* the branching template */
    free(text);
    snprintf(p, sizeof(p), "%s/Makefile", proj);
    text = slurp(p);
    ck_assert_ptr_nonnull(strstr(text, "QMTL ?= /opt/x/bin/qmtl\n"));
    ck_assert_ptr_nonnull(strstr(text, "sdk --cflags"));
    free(text);
    snprintf(p, sizeof(p), "%s/qmtl.yml", proj);
    text = slurp(p);
    ck_assert_ptr_nonnull(strstr(text, "path: data/BTC_1m.csv"));
    ck_assert_ptr_null(strstr(text, "ETH_1m.csv"));
    ck_assert_ptr_null(strstr(text, "tags: [ETH]"));
    ck_assert_ptr_nonnull(strstr(text, "# gateway_url:"));
    ck_assert_ptr_nonnull(strstr(text, "# world_id:"));
    ck_assert_ptr_null(strstr(text, "\ngateway_url"));
    free(text);
    snprintf(p, sizeof(p), "%s/.gitignore", proj);
    text = slurp(p);
    ck_assert_ptr_nonnull(strstr(text, "/build/"));
    free(text);
    rm_rf(dir);
}
END_TEST

START_TEST(create_default_template_without_data)
{
    char dir[64], err[1024] = "";
    make_tmpdir(dir, sizeof(dir));
    ck_assert_msg(create(dir, NULL, 0, 0, err, sizeof(err)) == SCAFFOLD_OK, "%s", err);
    ck_assert(!exists(dir, "data"));
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/qmtl.yml", dir);
    char *text = slurp(p);
    ck_assert_ptr_nonnull(strstr(text, "synthetic:"));
    ck_assert_ptr_null(strstr(text, "path: data/"));
    ck_assert_ptr_nonnull(strstr(text, "tags: [BTC]"));
    ck_assert_ptr_null(strstr(text, "tags: [ETH]")); /* general reads BTC only */
    ck_assert_ptr_null(strstr(text, "seed: 43"));    /* nor any line of ETH's block */
    free(text);
    snprintf(p, sizeof(p), "%s/strategy.c", dir);
    text = slurp(p);
    ck_assert_ptr_nonnull(strstr(text, "price -> momentum -> signal -> orders"));
    free(text);
    rm_rf(dir);
}
END_TEST

START_TEST(create_wires_every_symbol_of_the_template)
{
    char dir[64], proj[128], p[PATH_MAX], err[1024] = "";
    make_tmpdir(dir, sizeof(dir));
    for (int sample = 0; sample <= 1; sample++) {
        snprintf(proj, sizeof(proj), "%s/tq%d", dir, sample);
        ck_assert_msg(create(proj, "tag_query", sample, 0, err, sizeof(err)) == SCAFFOLD_OK, "%s",
                      err);
        snprintf(p, sizeof(p), "%s/qmtl.yml", proj);
        char *text = slurp(p);
        ck_assert_ptr_nonnull(strstr(text, "tags: [BTC]"));
        ck_assert_ptr_nonnull(strstr(text, "tags: [ETH]"));
        ck_assert_ptr_nonnull(strstr(text, sample ? "path: data/ETH_1m.csv" : "seed: 43"));
        free(text);
        ck_assert_int_eq(exists(proj, "data/ETH_1m.csv"), sample);
    }
    rm_rf(dir);
}
END_TEST

/* A template directory of one template 'a' reading 'symbols', with 'synthetic' as its
 * data-synthetic.yml snippet. */
static void fake_data_dir(const char *dir, const char *symbols, const char *synthetic)
{
    char p[PATH_MAX], line[128];
    const char *sub[] = {"templates", "templates/a", "project", "snippets"};
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
        ck_assert(mkdir(p, 0755) == 0 || errno == EEXIST);
    }
    snprintf(line, sizeof(line), "a %s the a template\n", symbols);
    write_file(dir, "templates.list", line);
    write_file(dir, "templates/a/strategy.c", "/* a */\n");
    write_file(dir, "project/qmtl.yml", "host:\n  data:\n@DATA_SOURCES@\n");
    write_file(dir, "snippets/data-synthetic.yml", synthetic);
}

START_TEST(create_refuses_unwired_data_snippets)
{
    char dir[64], proj[128], err[1024] = "";
    make_tmpdir(dir, sizeof(dir));
    struct scaffold_paths paths;
    memset(&paths, 0, sizeof(paths));
    snprintf(paths.data_dir, sizeof(paths.data_dir), "%s/tpl", dir);
    ck_assert_int_eq(mkdir(paths.data_dir, 0755), 0);
    struct scaffold_options o = {.path = proj, .template_name = "a"};

    /* the template reads ETH, the snippet has no ETH source */
    fake_data_dir(paths.data_dir, "BTC,ETH", "    # hdr\n    - tags: [BTC]\n      count: 1\n");
    snprintf(proj, sizeof(proj), "%s/p1", dir);
    ck_assert_int_eq(scaffold_create(&paths, &o, err, sizeof(err)), SCAFFOLD_EFAIL);
    ck_assert_msg(strstr(err, "data-synthetic.yml") && strstr(err, "reads BTC,ETH"), "%s", err);
    /* a block that does not say which symbol it feeds */
    fake_data_dir(paths.data_dir, "BTC", "    # hdr\n    - path: x.csv\n");
    snprintf(proj, sizeof(proj), "%s/p2", dir);
    ck_assert_int_eq(scaffold_create(&paths, &o, err, sizeof(err)), SCAFFOLD_EFAIL);
    ck_assert_msg(strstr(err, "data-synthetic.yml:2:") && strstr(err, "- tags: [SYMBOL]"), "%s",
                  err);
    /* filtering keeps the header and the template's blocks, in order */
    fake_data_dir(paths.data_dir, "ETH",
                  "    # hdr\n    - tags: [BTC]\n      seed: 1\n    - tags: [ETH]\n"
                  "      seed: 2\n      # eth note\n");
    snprintf(proj, sizeof(proj), "%s/p3", dir);
    ck_assert_msg(scaffold_create(&paths, &o, err, sizeof(err)) == SCAFFOLD_OK, "%s", err);
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/qmtl.yml", proj);
    char *text = slurp(p);
    ck_assert_str_eq(text, "host:\n  data:\n    # hdr\n    - tags: [ETH]\n      seed: 2\n"
                           "      # eth note\n");
    free(text);
    rm_rf(dir);
}
END_TEST

START_TEST(create_refuses_non_empty_unless_forced)
{
    char dir[64], err[1024] = "";
    make_tmpdir(dir, sizeof(dir));
    write_file(dir, "mine.txt", "keep me\n");
    ck_assert_int_eq(create(dir, "general", 0, 0, err, sizeof(err)), SCAFFOLD_ENOTEMPTY);
    ck_assert_ptr_nonnull(strstr(err, "not empty"));
    ck_assert_ptr_nonnull(strstr(err, "--force"));
    ck_assert(!exists(dir, "strategy.c")); /* nothing written */
    ck_assert_int_eq(create(dir, "general", 0, 1, err, sizeof(err)), SCAFFOLD_OK);
    ck_assert(exists(dir, "strategy.c"));
    ck_assert(exists(dir, "mine.txt"));
    /* forcing again over an existing project works and keeps the user's file */
    ck_assert_int_eq(create(dir, "state_machine", 0, 1, err, sizeof(err)), SCAFFOLD_OK);
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/strategy.c", dir);
    char *text = slurp(p);
    ck_assert_ptr_nonnull(strstr(text, "trend_state"));
    free(text);
    rm_rf(dir);
}
END_TEST

START_TEST(create_refuses_unknown_template)
{
    char dir[64], proj[128], err[1024] = "";
    make_tmpdir(dir, sizeof(dir));
    snprintf(proj, sizeof(proj), "%s/p", dir);
    ck_assert_int_eq(create(proj, "nope", 0, 0, err, sizeof(err)), SCAFFOLD_ETEMPLATE);
    ck_assert_ptr_nonnull(strstr(err, "unknown template 'nope'"));
    ck_assert_ptr_nonnull(strstr(err, "general, single_indicator"));
    ck_assert_ptr_nonnull(strstr(err, "tag_query"));
    ck_assert(!exists(proj, "."));
    rm_rf(dir);
}
END_TEST

START_TEST(create_refuses_unusable_paths)
{
    char dir[64], p[256], err[1024] = "";
    make_tmpdir(dir, sizeof(dir));
    write_file(dir, "afile", "x\n");
    snprintf(p, sizeof(p), "%s/afile", dir);
    ck_assert_int_eq(create(p, "general", 0, 0, err, sizeof(err)), SCAFFOLD_EPATH);
    ck_assert_ptr_nonnull(strstr(err, "not a directory"));
    snprintf(p, sizeof(p), "%s/afile/sub", dir);
    ck_assert_int_eq(create(p, "general", 0, 0, err, sizeof(err)), SCAFFOLD_EPATH);
    ck_assert_ptr_nonnull(strstr(err, "cannot create"));
    ck_assert_int_eq(create("/proc/qmtl-no/x", "general", 0, 0, err, sizeof(err)), SCAFFOLD_EPATH);
    ck_assert_int_eq(create("", "general", 0, 0, err, sizeof(err)), SCAFFOLD_EPATH);
    if (geteuid() != 0) { /* root may write anywhere */
        snprintf(p, sizeof(p), "%s/ro", dir);
        ck_assert_int_eq(mkdir(p, 0555), 0);
        ck_assert_int_eq(create(p, "general", 0, 0, err, sizeof(err)), SCAFFOLD_EPATH);
        ck_assert_ptr_nonnull(strstr(err, "cannot write"));
    }
    rm_rf(dir);
}
END_TEST

START_TEST(project_names_are_sanitized)
{
    char out[80];
    scaffold_project_name("/nonexistent/a/my proj!", out, sizeof(out));
    ck_assert_str_eq(out, "my_proj_");
    scaffold_project_name("/nonexistent/alpha-1.2/", out, sizeof(out));
    ck_assert_str_eq(out, "alpha-1.2");
    scaffold_project_name("/", out, sizeof(out));
    ck_assert_str_eq(out, "strategy");
    scaffold_project_name("..", out, sizeof(out));
    ck_assert_str_ne(out, "..");
}
END_TEST

/* ------------------------------------------------------------ the CLI */

/* Run 'qmtl ARGS' with stdout+stderr captured into out; returns the exit code. */
static int run_cli(const char *args, char *out, size_t len)
{
    char exe[PATH_MAX], cmd[PATH_MAX * 2];
    qmtl_exe(exe, sizeof(exe));
    snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", exe, args);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(cli_exit_codes)
{
    char out[8192], dir[64], args[256];
    ck_assert_int_eq(run_cli("project init --list-templates", out, sizeof(out)), 0);
    ck_assert_ptr_nonnull(strstr(out, "general "));
    ck_assert_ptr_nonnull(strstr(out, "tag_query "));
    ck_assert_int_eq(run_cli("project init", out, sizeof(out)), 2);
    ck_assert_ptr_nonnull(strstr(out, "--path is required"));
    ck_assert_int_eq(run_cli("project init --bogus", out, sizeof(out)), 2);
    ck_assert_int_eq(run_cli("project nope", out, sizeof(out)), 2);
    make_tmpdir(dir, sizeof(dir));
    snprintf(args, sizeof(args), "project init --path %s/p --strategy nope", dir);
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 2);
    ck_assert_ptr_nonnull(strstr(out, "valid templates: general"));
    snprintf(args, sizeof(args), "project init --path %s", dir);
    write_file(dir, "x", "x");
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 1);
    ck_assert_ptr_nonnull(strstr(out, "not empty"));
    snprintf(args, sizeof(args), "project init --path=%s/q --strategy=single_indicator", dir);
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 0);
    ck_assert_ptr_nonnull(strstr(out, "template 'single_indicator'"));
    ck_assert_int_eq(run_cli("sdk --cflags", out, sizeof(out)), 0);
    ck_assert_int_eq(strncmp(out, "-I/", 3), 0);
    ck_assert_int_eq(run_cli("sdk --libs", out, sizeof(out)), 0);
    ck_assert_ptr_nonnull(strstr(out, "-lqmtl_testkit"));
    ck_assert_int_eq(run_cli("sdk", out, sizeof(out)), 2);
    ck_assert_int_eq(run_cli("sdk --nope", out, sizeof(out)), 2);
    rm_rf(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scaffold");
    TCase *tc = tcase_create("sample_data");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sample_default_is_realistic);
    tcase_add_test(tc, sample_is_deterministic_per_seed);
    tcase_add_test(tc, sample_rejects_bad_specs);
    tcase_add_test(tc, sample_writes_csv_files);
    tcase_add_test(tc, sample_skip_mask_writes_only_the_rest);
    suite_add_tcase(s, tc);
    tc = tcase_create("catalog");
    tcase_add_test(tc, locate_build_tree);
    tcase_add_test(tc, locate_installed_layout_and_failure);
    tcase_add_test(tc, catalog_lists_every_template_in_order);
    tcase_add_test(tc, catalog_rejects_bad_lists);
    suite_add_tcase(s, tc);
    tc = tcase_create("create");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, create_writes_the_project);
    tcase_add_test(tc, create_default_template_without_data);
    tcase_add_test(tc, create_wires_every_symbol_of_the_template);
    tcase_add_test(tc, create_refuses_unwired_data_snippets);
    tcase_add_test(tc, create_refuses_non_empty_unless_forced);
    tcase_add_test(tc, create_refuses_unknown_template);
    tcase_add_test(tc, create_refuses_unusable_paths);
    tcase_add_test(tc, project_names_are_sanitized);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cli_exit_codes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
