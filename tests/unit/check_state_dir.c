/* state_dir: the default store location and creating a store's directory. */
#include "state_dir.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/qmtl-state-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    return st.st_mode & 07777;
}

START_TEST(test_dir_from_env)
{
    char out[PATH_MAX], err[256];
    setenv("XDG_STATE_HOME", "/srv/state", 1);
    setenv("HOME", "/home/u", 1);
    ck_assert_int_eq(state_dir_path(out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_str_eq(out, "/srv/state/qmtl");
    /* a relative XDG_STATE_HOME is ignored, as the XDG rules say */
    setenv("XDG_STATE_HOME", "rel/state", 1);
    ck_assert_int_eq(state_dir_path(out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_str_eq(out, "/home/u/.local/state/qmtl");
    unsetenv("XDG_STATE_HOME");
    ck_assert_int_eq(state_dir_path(out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_str_eq(out, "/home/u/.local/state/qmtl");
    unsetenv("HOME");
    ck_assert_int_eq(state_dir_path(out, sizeof(out), err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "XDG_STATE_HOME"));
    ck_assert_int_eq(state_dir_path(out, 4, err, sizeof(err)), -1);
    setenv("HOME", "/home/u", 1);
    ck_assert_int_eq(state_dir_path(out, 8, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

START_TEST(test_store_path)
{
    char err[512];
    setenv("XDG_STATE_HOME", "/srv/state", 1);
    char *p = state_store_path("rel/gw.db", "gateway.db", "gateway.store_path", err, sizeof(err));
    ck_assert_str_eq(p, "rel/gw.db"); /* a configured path is kept as it is */
    free(p);
    p = state_store_path("", "gateway.db", "gateway.store_path", err, sizeof(err));
    ck_assert_str_eq(p, "/srv/state/qmtl/gateway.db");
    free(p);
    p = state_store_path(NULL, "dagmanager.db", "dagmanager.store_path", err, sizeof(err));
    ck_assert_str_eq(p, "/srv/state/qmtl/dagmanager.db");
    free(p);
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    p = state_store_path("", "gateway.db", "gateway.store_path", err, sizeof(err));
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err, "gateway.store_path is not set"));
}
END_TEST

START_TEST(test_make_parent)
{
    char path[PATH_MAX + 64], dir[PATH_MAX + 64], err[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/a/b/c/gw.db", tmpdir);
    ck_assert_int_eq(state_make_parent(path, "gateway.store_path", err, sizeof(err)), 0);
    snprintf(dir, sizeof(dir), "%s/a/b/c", tmpdir);
    ck_assert_uint_eq(mode_of(dir), 0700);
    snprintf(dir, sizeof(dir), "%s/a", tmpdir);
    ck_assert_uint_eq(mode_of(dir), 0700);
    ck_assert_int_eq(access(path, F_OK), -1); /* only the directory: the store opens the file */
    /* an existing directory keeps its mode */
    ck_assert_int_eq(chmod(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/a/gw.db", tmpdir);
    ck_assert_int_eq(state_make_parent(path, "gateway.store_path", err, sizeof(err)), 0);
    ck_assert_uint_eq(mode_of(dir), 0755);
    /* no directory part, in-memory: nothing to do */
    ck_assert_int_eq(state_make_parent("gw.db", "k", err, sizeof(err)), 0);
    ck_assert_int_eq(state_make_parent(":memory:", "k", err, sizeof(err)), 0);
    ck_assert_int_eq(state_make_parent("/gw.db", "k", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_make_parent_fails)
{
    char file[PATH_MAX + 16], path[PATH_MAX + 64], err[PATH_MAX * 2];
    snprintf(file, sizeof(file), "%s/file", tmpdir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/sub/gw.db", file);
    ck_assert_int_eq(state_make_parent(path, "gateway.store_path", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "gateway.store_path '") == err, "%s", err);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "cannot create directory"));
    ck_assert_ptr_nonnull(strstr(err, "Not a directory"));
    /* the directory itself is a file */
    snprintf(path, sizeof(path), "%s/gw.db", file);
    ck_assert_int_eq(state_make_parent(path, "dagmanager.store_path", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "dagmanager.store_path"));
}
END_TEST

START_TEST(test_mkdir_p)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/x/y/", tmpdir); /* a trailing slash is fine */
    ck_assert_int_eq(state_mkdir_p(dir, 0755), 0);
    ck_assert_uint_eq(mode_of(dir), 0755);
    ck_assert_int_eq(state_mkdir_p(dir, 0700), 0); /* exists: left as it is */
    ck_assert_uint_eq(mode_of(dir), 0755);
    snprintf(dir, sizeof(dir), "%s/f", tmpdir);
    FILE *f = fopen(dir, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    errno = 0;
    ck_assert_int_eq(state_mkdir_p(dir, 0755), -1);
    ck_assert_int_eq(errno, ENOTDIR);
    snprintf(dir, sizeof(dir), "%s/f/g/h", tmpdir);
    errno = 0;
    ck_assert_int_eq(state_mkdir_p(dir, 0755), -1);
    ck_assert_int_eq(errno, ENOTDIR);
}
END_TEST

START_TEST(test_prepare_store)
{
    char err[PATH_MAX * 2], want[PATH_MAX + 64];
    setenv("XDG_STATE_HOME", tmpdir, 1);
    char *slot = strdup("");
    ck_assert_int_eq(state_prepare_store(&slot, "gateway.db", "gateway.store_path", err,
                                         sizeof(err)),
                     0);
    snprintf(want, sizeof(want), "%s/qmtl/gateway.db", tmpdir);
    ck_assert_str_eq(slot, want);
    snprintf(want, sizeof(want), "%s/qmtl", tmpdir);
    ck_assert_uint_eq(mode_of(want), 0700);
    free(slot);
    /* failure leaves the slot as it was */
    snprintf(want, sizeof(want), "%s/qmtl/blocker", tmpdir);
    FILE *f = fopen(want, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(want, sizeof(want), "%s/qmtl/blocker/y.db", tmpdir);
    slot = strdup(want);
    ck_assert_int_eq(state_prepare_store(&slot, "gateway.db", "gateway.store_path", err,
                                         sizeof(err)),
                     -1);
    ck_assert_str_eq(slot, want);
    free(slot);
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    slot = strdup("");
    ck_assert_int_eq(state_prepare_store(&slot, "gateway.db", "gateway.store_path", err,
                                         sizeof(err)),
                     -1);
    ck_assert_str_eq(slot, "");
    free(slot);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("state_dir");
    TCase *tc = tcase_create("state_dir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dir_from_env);
    tcase_add_test(tc, test_store_path);
    tcase_add_test(tc, test_make_parent);
    tcase_add_test(tc, test_make_parent_fails);
    tcase_add_test(tc, test_mkdir_p);
    tcase_add_test(tc, test_prepare_store);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
