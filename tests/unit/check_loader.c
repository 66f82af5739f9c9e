/* Loader: one fixture plugin per outcome, each refusal checked to the exact line. */
#include "host/plugin/loader.h"

#include "host/plugin/elf_desc.h"
#include "host/host_api.h"

#include <qmtl/testkit.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fixture_path[512];

static const char *fixture(const char *name)
{
    const char *b = getenv("QMTL_BUILD");
    snprintf(fixture_path, sizeof(fixture_path), "%s/fixtures/%s.so", b && *b ? b : "build", name);
    return fixture_path;
}

/* Open 'name' expecting failure; return the message (static buffer). */
static const char *refusal(const char *name)
{
    static char err[512];
    struct plugin *p = NULL;
    err[0] = '\0';
    int rc = plugin_open(fixture(name), &p, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(p);
    return err;
}

static void expect(const char *name, const char *fmt)
{
    char want[1024];
    const char *got = refusal(name);
    snprintf(want, sizeof(want), fmt, fixture_path);
    ck_assert_str_eq(got, want);
}

START_TEST(test_ok)
{
    char err[256] = "";
    struct plugin *p = NULL;
    ck_assert_int_eq(plugin_open(fixture("ok"), &p, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->desc->name, "ok");
    ck_assert_str_eq(p->desc->version, "1.2.3");
    ck_assert_uint_eq(p->desc->abi_major, QMTL_ABI_MAJOR);
    ck_assert_ptr_nonnull(p->desc->setup);
    /* the private copy is a different file and is already gone */
    ck_assert_str_ne(p->private_path, p->path);
    ck_assert_int_ne(access(p->private_path, F_OK), 0);
    char cbs[128];
    plugin_describe_callbacks(p->desc, cbs, sizeof(cbs));
    ck_assert_str_eq(cbs, "setup, on_start");
    plugin_close(p);
}
END_TEST

START_TEST(test_missing_file)
{
    expect("does_not_exist", "plugin '%s': cannot open: No such file or directory");
}
END_TEST

START_TEST(test_no_descriptor)
{
    expect("no_descriptor", "plugin '%s': no descriptor: symbol 'qmtl_plugin_descriptor' not "
                            "found (define it with QMTL_PLUGIN())");
}
END_TEST

START_TEST(test_wrong_magic)
{
    expect("wrong_magic", "plugin '%s': bad descriptor magic 0xdeadbeef (expected 0x4c544d51; "
                          "define it with QMTL_PLUGIN())");
}
END_TEST

START_TEST(test_newer_minor)
{
    char fmt[256];
    snprintf(fmt, sizeof(fmt), "plugin '%%s': ABI %d.%d is newer than the host's %d.%d",
             QMTL_ABI_MAJOR, QMTL_ABI_MINOR + 1, QMTL_ABI_MAJOR, QMTL_ABI_MINOR);
    expect("newer_minor", fmt);
}
END_TEST

START_TEST(test_other_major)
{
    char fmt[256];
    snprintf(fmt, sizeof(fmt), "plugin '%%s': ABI %d.0, host supports %d.x", QMTL_ABI_MAJOR + 1,
             QMTL_ABI_MAJOR);
    expect("other_major", fmt);
}
END_TEST

START_TEST(test_short_size)
{
    char fmt[256];
    snprintf(fmt, sizeof(fmt),
             "plugin '%%s': descriptor size 16 is smaller than the ABI 1.0 layout (%zu)",
             offsetof(struct qmtl_plugin, on_signal) + sizeof(void (*)(void))); /* 1.0 ends there */
    expect("short_size", fmt);
}
END_TEST

START_TEST(test_missing_setup)
{
    expect("missing_setup", "plugin 'missing_setup' (%s): missing required callback 'setup'");
}
END_TEST

START_TEST(test_bad_name)
{
    expect("bad_name", "plugin '%s': descriptor name is missing or invalid (1-100 characters of "
                       "[A-Za-z0-9_.-])");
}
END_TEST

START_TEST(test_not_elf)
{
    expect("not_elf", "plugin '%s': not an ELF file");
}
END_TEST

START_TEST(test_truncated)
{
    const char *got = refusal("truncated");
    char want[600];
    snprintf(want, sizeof(want), "plugin '%s': truncated file (600 bytes, headers need ",
             fixture_path);
    ck_assert_msg(strncmp(got, want, strlen(want)) == 0, "got: %s", got);
}
END_TEST

START_TEST(test_unresolved)
{
    const char *got = refusal("unresolved");
    char want[600];
    snprintf(want, sizeof(want), "plugin '%s': cannot load: %s: undefined symbol: "
             "qmtl_fixture_missing_symbol (check with 'ldd -r %s')",
             fixture_path, fixture_path, fixture_path);
    ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_setup_not_called_by_loader)
{
    /* the loader only validates; setup_fails loads fine (its setup fails later) */
    char err[256];
    struct plugin *p = NULL;
    ck_assert_int_eq(plugin_open(fixture("setup_fails"), &p, err, sizeof(err)), 0);
    struct qmtl_err e = {0, ""};
    ck_assert_int_eq(p->desc->setup(NULL, NULL, &e), QMTL_EINVAL);
    ck_assert_str_eq(e.msg, "parameter 'window' is required");
    plugin_close(p);
}
END_TEST

START_TEST(test_duplicate_name)
{
    char err[512], a_path[512];
    struct plugin *a = NULL, *b = NULL;
    ck_assert_int_eq(plugin_open(fixture("dup_a"), &a, err, sizeof(err)), 0);
    snprintf(a_path, sizeof(a_path), "%s", fixture_path);
    ck_assert_int_eq(plugin_open(fixture("dup_b"), &b, err, sizeof(err)), 0);
    struct plugin *loaded[] = {a};
    ck_assert_int_eq(plugin_check_duplicate(loaded, 1, a, err, sizeof(err)), 0);
    ck_assert_int_eq(plugin_check_duplicate(loaded, 1, b, err, sizeof(err)), -1);
    char want[1200];
    snprintf(want, sizeof(want), "plugin 'dup' (%s): duplicate name, already loaded from %s",
             fixture_path, a_path);
    ck_assert_str_eq(err, want);
    plugin_close(a);
    plugin_close(b);
}
END_TEST

START_TEST(test_same_path_reloads)
{
    /* a file replaced at the same path is really loaded again (private copies) */
    char dir[] = "/tmp/qmtl-loader-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[600], cmd[1400], err[512];
    snprintf(path, sizeof(path), "%s/s.so", dir);
    snprintf(cmd, sizeof(cmd), "cp %s %s", fixture("dup_a"), path);
    ck_assert_int_eq(system(cmd), 0);
    struct plugin *a = NULL, *b = NULL;
    ck_assert_int_eq(plugin_open(path, &a, err, sizeof(err)), 0);
    ck_assert_str_eq(a->desc->version, "a");
    snprintf(cmd, sizeof(cmd), "cp %s %s.tmp && mv %s.tmp %s", fixture("dup_b"), path, path, path);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(plugin_open(path, &b, err, sizeof(err)), 0);
    ck_assert_str_eq(b->desc->version, "b");
    ck_assert_str_eq(a->desc->version, "a");
    plugin_close(a);
    plugin_close(b);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_scan_dir)
{
    char dir[] = "/tmp/qmtl-scan-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *names[] = {"b.so", "a.so", ".hidden.so", "c.so.tmp", "notes.txt"};
    char p[600];
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
    }
    snprintf(p, sizeof(p), "%s/sub.so", dir);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    char **paths = NULL, err[256];
    size_t n = 0;
    ck_assert_int_eq(plugin_scan_dir(dir, &paths, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 2);
    snprintf(p, sizeof(p), "%s/a.so", dir);
    ck_assert_str_eq(paths[0], p);
    snprintf(p, sizeof(p), "%s/b.so", dir);
    ck_assert_str_eq(paths[1], p);
    plugin_free_paths(paths, n);
    snprintf(p, sizeof(p), "rm -rf %s", dir);
    ck_assert_int_eq(system(p), 0);
    ck_assert_int_eq(plugin_scan_dir("/nonexistent-qmtl", &paths, &n, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "plugins directory '/nonexistent-qmtl': No such file or directory");
}
END_TEST


START_TEST(test_constructor_not_run_before_check)
{
    /* its constructor calls exit(3): the descriptor is refused from the file first */
    expect("ctor_exit_bad_magic", "plugin '%s': bad descriptor magic 0xdeadbeef (expected "
                                  "0x4c544d51; define it with QMTL_PLUGIN())");
}
END_TEST

START_TEST(test_foreign_machine)
{
    char fmt[256];
    snprintf(fmt, sizeof(fmt),
             "plugin '%%s': built for another machine (ELF machine 40, this host is %d)",
             elf_host_machine());
    expect("foreign_machine", fmt);
    expect("elf32", "plugin '%s': built for another machine (ELF class 1, byte order 1; this "
                    "host needs 64-bit little-endian)");
}
END_TEST

/* A private TMPDIR, so that the test can see every copy the loader leaves behind. */
static char tmpdir[64];

static void private_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/qmtl-ldtmp-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    setenv("TMPDIR", tmpdir, 1);
}

static int tmpdir_entries(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", tmpdir);
    return system(cmd) == 0 ? 0 : 1;
}

static int refuse_check(const char *copy, const char *path, void *arg, char *err, size_t errlen)
{
    ck_assert_int_eq(access(copy, R_OK), 0); /* the copy exists while the check runs */
    *(int *)arg += 1;
    snprintf(err, errlen, "plugin '%s': refused by the test", path);
    return -1;
}

START_TEST(test_copies_removed_in_every_case)
{
    private_tmpdir();
    char err[512];
    struct plugin *p = NULL;
    int calls = 0;
    ck_assert_int_eq(plugin_open_checked(fixture("ok"), refuse_check, &calls, &p, err,
                                         sizeof(err)),
                     -1);
    ck_assert_int_eq(calls, 1);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(tmpdir_entries(), 0);
    ck_assert_int_eq(plugin_open(fixture("unresolved"), &p, err, sizeof(err)), -1);
    ck_assert_int_eq(tmpdir_entries(), 0);
    ck_assert_int_eq(plugin_open(fixture("missing_setup"), &p, err, sizeof(err)), -1);
    ck_assert_int_eq(tmpdir_entries(), 0);
    ck_assert_int_eq(plugin_open(fixture("ok"), &p, err, sizeof(err)), 0);
    ck_assert_int_eq(tmpdir_entries(), 0);
    plugin_close(p);
    rmdir(tmpdir);
    unsetenv("TMPDIR");
}
END_TEST

START_TEST(test_large_sparse_file_not_copied)
{
    private_tmpdir();
    char path[128], cmd[700], err[512], want[700];
    snprintf(path, sizeof(path), "%s.so", tmpdir);
    snprintf(cmd, sizeof(cmd), "cp %s %s && truncate -s 1G %s", fixture("ok"), path, path);
    ck_assert_int_eq(system(cmd), 0);
    struct plugin *p = NULL;
    ck_assert_int_eq(plugin_open(path, &p, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "plugin '%s': file is 1073741824 bytes, larger than the 256 MiB a plugin may be",
             path);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(tmpdir_entries(), 0);
    unlink(path);
    rmdir(tmpdir);
    unsetenv("TMPDIR");
}
END_TEST

static char reported[4][2048];
static int n_reported;

static void collect(void *arg, const char *line)
{
    (void)arg;
    snprintf(reported[n_reported++], sizeof(reported[0]), "%s", line);
}

START_TEST(test_refuse_duplicates)
{
    char err[512], paths[3][512];
    struct plugin *v[4] = {NULL};
    const char *names[] = {"dup_a", "ok", "dup_b"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(plugin_open(fixture(names[i]), &v[i], err, sizeof(err)), 0);
        snprintf(paths[i], sizeof(paths[i]), "%s", fixture_path);
    }
    n_reported = 0;
    ck_assert_uint_eq(plugin_refuse_duplicates(v, 3, collect, NULL), 2);
    ck_assert_int_eq(n_reported, 1);
    char want[2048];
    snprintf(want, sizeof(want), "plugin 'dup': duplicate name in %s and %s; both refused",
             paths[0], paths[2]);
    ck_assert_str_eq(reported[0], want);
    ck_assert_ptr_null(v[0]);
    ck_assert_ptr_nonnull(v[1]);
    ck_assert_ptr_null(v[2]);
    /* three of a name: one line, all refused */
    ck_assert_int_eq(plugin_open(fixture("dup_a"), &v[0], err, sizeof(err)), 0);
    ck_assert_int_eq(plugin_open(fixture("dup_b"), &v[2], err, sizeof(err)), 0);
    ck_assert_int_eq(plugin_open(fixture("dup_a"), &v[3], err, sizeof(err)), 0);
    n_reported = 0;
    ck_assert_uint_eq(plugin_refuse_duplicates(v, 4, collect, NULL), 3);
    ck_assert_int_eq(n_reported, 1);
    ck_assert_ptr_nonnull(strstr(reported[0], "; all refused"));
    ck_assert_ptr_null(v[3]);
    plugin_close(v[1]);
}
END_TEST

START_TEST(test_check_owner)
{
    char dir[] = "/tmp/qmtl-owner-XXXXXX", path[128], err[512], want[700];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/p.so", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(plugin_check_owner(path, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(plugin_check_owner(dir, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(chmod(path, 0646), 0);
    ck_assert_int_eq(plugin_check_owner(path, 0, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "plugin '%s' is writable by everyone; others could replace it: run 'chmod go-w %s'",
             path, path);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(chmod(dir, 0770), 0);
    ck_assert_int_eq(plugin_check_owner(dir, 1, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "plugins directory '%s' is writable by its group; others could replace it: run "
             "'chmod go-w %s'",
             dir, dir);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(chmod(path, 0644), 0);
    if (geteuid() == 0) { /* only root can give a file away */
        ck_assert_int_eq(chown(path, 65534, 65534), 0);
        ck_assert_int_eq(plugin_check_owner(path, 0, err, sizeof(err)), -1);
        snprintf(want, sizeof(want),
                 "plugin '%s' is owned by uid 65534, not by this user (uid 0) or root; others "
                 "could replace it: run 'chown root %s'",
                 path, path);
        ck_assert_str_eq(err, want);
    }
    unlink(path);
    rmdir(dir);
}
END_TEST

/* A plugin built against the frozen 1.0 header loads through the real loader and runs. */
START_TEST(test_abi10_plugin_runs)
{
    char err[512] = "";
    struct plugin *p = NULL;
    ck_assert_msg(plugin_open(fixture("legacy"), &p, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(p->desc->abi_major, 1);
    ck_assert_uint_eq(p->desc->abi_minor, 0);
    ck_assert_uint_lt(p->desc->size, sizeof(struct qmtl_plugin)); /* no state_size field */
    ck_assert_uint_eq(host_desc_state_size(p->desc), 0);
    plugin_close(p);

    struct qmtl_err e = {0};
    struct qmtl_testkit *tk = qmtl_testkit_load(fixture("legacy"), NULL, &e);
    ck_assert_msg(tk != NULL, "%s", e.msg);
    const double closes[] = {100, 102, 104};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(qmtl_testkit_feed_value(tk, "LEGACY", 60 * (i + 1), closes[i], &e),
                         QMTL_OK);
    /* counted = close + bars seen (node state); sma2 = mean of the last two closes */
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "counted"), 3);
    ck_assert_double_eq(qmtl_testkit_last_number(tk, "counted"), 107.0);
    ck_assert_double_eq(qmtl_testkit_last_number(tk, "sma2"), 103.0);
    ck_assert_uint_ge(qmtl_testkit_signal_count(tk), 1);
    ck_assert_int_eq(qmtl_testkit_finish(tk, &e), QMTL_OK);
    qmtl_testkit_free(tk);
}
END_TEST

/* A plugin built against the frozen 1.1 header (state, an order publisher) loads and trades
 * on a 1.2 host. */
START_TEST(test_abi11_plugin_runs)
{
    char err[512] = "";
    struct plugin *p = NULL;
    ck_assert_msg(plugin_open(fixture("legacy11"), &p, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(p->desc->abi_major, 1);
    ck_assert_uint_eq(p->desc->abi_minor, 1);
    ck_assert_uint_eq(host_desc_state_size(p->desc), sizeof(double));
    plugin_close(p);

    struct qmtl_err e = {0};
    struct qmtl_testkit *tk = qmtl_testkit_load(fixture("legacy11"), NULL, &e);
    ck_assert_msg(tk != NULL, "%s", e.msg);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(qmtl_testkit_feed_value(tk, "LEGACY", 60 * (i + 1), 100 + i, &e),
                         QMTL_OK);
    /* +2, then -2 twice... : buy 2, sell 4, buy 4, sell 4; the last waits for a bar */
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 4);
    ck_assert_uint_eq(qmtl_testkit_fill_count(tk), 3);
    ck_assert_int_eq(qmtl_testkit_finish(tk, &e), QMTL_OK);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("refusals");
    tcase_add_test(tc, test_ok);
    tcase_add_test(tc, test_abi10_plugin_runs);
    tcase_add_test(tc, test_abi11_plugin_runs);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_no_descriptor);
    tcase_add_test(tc, test_wrong_magic);
    tcase_add_test(tc, test_newer_minor);
    tcase_add_test(tc, test_other_major);
    tcase_add_test(tc, test_short_size);
    tcase_add_test(tc, test_missing_setup);
    tcase_add_test(tc, test_bad_name);
    tcase_add_test(tc, test_not_elf);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_unresolved);
    tcase_add_test(tc, test_setup_not_called_by_loader);
    tcase_add_test(tc, test_duplicate_name);
    tcase_add_test(tc, test_same_path_reloads);
    tcase_add_test(tc, test_scan_dir);
    tcase_add_test(tc, test_constructor_not_run_before_check);
    tcase_add_test(tc, test_foreign_machine);
    tcase_add_test(tc, test_copies_removed_in_every_case);
    tcase_add_test(tc, test_large_sparse_file_not_copied);
    tcase_add_test(tc, test_refuse_duplicates);
    tcase_add_test(tc, test_check_owner);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
