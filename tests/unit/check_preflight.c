/* preflight: each way a plugin can misbehave at load or in setup(), seen from the parent. */
#include "host/plugin/preflight.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/plugin/loader.h"

static char fixture_path[512];

static const char *fixture(const char *name)
{
    const char *b = getenv("QMTL_BUILD");
    snprintf(fixture_path, sizeof(fixture_path), "%s/fixtures/%s.so", b && *b ? b : "build", name);
    return fixture_path;
}

static char err[1024];

/* plugin_open with the preflight; returns rc, the plugin closed. */
static int open_with(const char *name, double timeout_s, const struct host *h)
{
    struct preflight_options o = {.timeout_s = timeout_s, .host = h};
    struct plugin *p = NULL;
    err[0] = '\0';
    int rc = plugin_open_checked(fixture(name), preflight_run, &o, &p, err, sizeof(err));
    ck_assert_int_eq(rc == 0, p != NULL);
    plugin_close(p);
    return rc;
}

static void expect(const char *name, double timeout_s, const char *fmt)
{
    char want[1200];
    ck_assert_int_eq(open_with(name, timeout_s, NULL), -1);
    snprintf(want, sizeof(want), fmt, fixture_path);
    ck_assert_str_eq(err, want);
}

START_TEST(test_good_plugins_pass)
{
    ck_assert_int_eq(open_with("ok", 5, NULL), 0);
    ck_assert_str_eq(err, "");
    /* a setup() that fails cleanly is the host's to report, not a preflight refusal */
    ck_assert_int_eq(open_with("setup_fails", 5, NULL), 0);
}
END_TEST

START_TEST(test_constructor_exit)
{
    expect("ctor_exit", 5,
           "plugin '%s': refused by preflight: exited with status 3 while loading (in an ELF "
           "constructor)");
}
END_TEST

START_TEST(test_setup_loop_killed)
{
    expect("setup_loop", 0.3,
           "plugin 'setup_loop' (%s): refused by preflight: setup() did not finish within 0.3 s "
           "(killed)");
}
END_TEST

START_TEST(test_setup_crash)
{
    expect("setup_segv", 5,
           "plugin 'setup_segv' (%s): refused by preflight: crashed with signal 11 "
           "(Segmentation fault) in setup()");
}
END_TEST

START_TEST(test_graph_cycle)
{
    ck_assert_int_eq(open_with("tag_cycle", 5, NULL), -1);
    char want[1200];
    snprintf(want, sizeof(want), "plugin 'tag_cycle' (%s): graph: cycle through node ",
             fixture_path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
}
END_TEST

START_TEST(test_copy_removed_after_refusal)
{
    char dir[] = "/tmp/qmtl-pftmp-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("TMPDIR", dir, 1);
    ck_assert_int_eq(open_with("setup_loop", 0.2, NULL), -1);
    ck_assert_int_eq(open_with("ctor_exit", 5, NULL), -1);
    ck_assert_int_eq(rmdir(dir), 0); /* empty: every copy is gone */
    unsetenv("TMPDIR");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("preflight");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_good_plugins_pass);
    tcase_add_test(tc, test_constructor_exit);
    tcase_add_test(tc, test_setup_loop_killed);
    tcase_add_test(tc, test_setup_crash);
    tcase_add_test(tc, test_graph_cycle);
    tcase_add_test(tc, test_copy_removed_after_refusal);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
