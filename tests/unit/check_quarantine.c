/* quarantine (+ the crash record of crash_report): a crash in a child process leaves a
 * record; the next open quarantines that file until its content changes. */
#include "host/plugin/quarantine.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/plugin/crash_report.h"
#include "host/host_api.h"
#include "host/plugin/loader.h"
#include "log.h"
#include "loop_testlib.h"

static char tmp[256], plugdir[300], state[300];

static void fixture_to(const char *fixture, const char *as)
{
    lt_fixture_to(fixture, plugdir, as);
}

static void setup(void)
{
    snprintf(tmp, sizeof(tmp), "/tmp/qmtl-quar-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(plugdir, sizeof(plugdir), "%s/plugins", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    ck_assert_int_eq(mkdir(plugdir, 0700), 0);
    setenv("XDG_STATE_HOME", state, 1);
}

static void teardown(void)
{
    crash_report_set_record(NULL);
    crash_report_clear_notes();
    lt_sh("rm -rf '%s'%s", tmp, "");
}

/* In a child: load 'fixture' from the plugins dir as a quarantine-admitted host would,
 * feed it bars until it crashes. Returns the child's wait status. */
static int crash_in_child(const char *name)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct quarantine q;
        char err[512], path[512];
        if (quarantine_open(&q, plugdir, err, sizeof(err)))
            _exit(10);
        snprintf(path, sizeof(path), "%s/%s", plugdir, name);
        if (quarantine_admit(&q, path, err, sizeof(err)))
            _exit(11);
        struct host h;
        struct plugin *p;
        host_init(&h, NULL);
        host_install_crash_report(&h, "test");
        if (plugin_open(path, &p, err, sizeof(err)) ||
            host_add_strategy(&h, p->desc, path, NULL, err, sizeof(err)) ||
            host_finalize(&h, err, sizeof(err)))
            _exit(12);
        const char *tags[] = {"BTC"};
        for (int i = 0; i < 20; i++) {
            struct qmtl_value v = qmtl_number(100 + i);
            host_feed(&h, tags, 1, 1700000000 + 60 * i, &v);
        }
        _exit(13); /* did not crash */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

START_TEST(test_crash_record_then_quarantine)
{
    fixture_to("rt_crash", "crashy.so");
    fixture_to("ok", "fine.so");
    int status = crash_in_child("crashy.so");
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %d", status);

    struct quarantine q;
    char err[1024] = "", path[512];
    ck_assert_int_eq(quarantine_open(&q, plugdir, err, sizeof(err)), 0);
    /* the record was read, checked against the file and removed; the list holds it */
    ck_assert_int_ne(access(q.crash_path, F_OK), 0);
    ck_assert_int_eq(count_lines(q.list_path), 1);
    ck_assert_uint_eq(q.n, 1);
    ck_assert_str_eq(q.e[0].name, "crashy.so");
    ck_assert_ptr_nonnull(strstr(q.e[0].why, "strategy 'rt_crash', node 'bad' (blake3:"));
    ck_assert_ptr_nonnull(strstr(q.e[0].why, "signal 11"));
    snprintf(path, sizeof(path), "%s/crashy.so", plugdir);
    ck_assert_int_eq(quarantine_admit(&q, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "quarantined"));
    ck_assert_ptr_nonnull(strstr(err, "crashy.so"));
    ck_assert_uint_eq(q.refused, 1);
    snprintf(path, sizeof(path), "%s/fine.so", plugdir);
    ck_assert_int_eq(quarantine_admit(&q, path, err, sizeof(err)), 0); /* the others load */
    quarantine_release(&q);

    /* a later start: still quarantined (the list is kept) */
    ck_assert_int_eq(quarantine_open(&q, plugdir, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/crashy.so", plugdir);
    ck_assert_int_eq(quarantine_admit(&q, path, err, sizeof(err)), -1);
    /* a new version of the file is dropped in: admitted, and off the list */
    fixture_to("ok", "crashy.so");
    ck_assert_int_eq(quarantine_admit(&q, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(q.n, 0);
    ck_assert_int_ne(access(q.list_path, F_OK), 0);
    quarantine_release(&q);
}
END_TEST

/* A crash in setup() names setup(); a file replaced between the crash and the next start
 * is not quarantined (the record's hash no longer matches). */
START_TEST(test_setup_crash_and_changed_file)
{
    fixture_to("setup_segv", "s.so");
    int status = crash_in_child("s.so");
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    fixture_to("ok", "s.so");
    struct quarantine q;
    char err[512] = "";
    ck_assert_int_eq(quarantine_open(&q, plugdir, err, sizeof(err)), 0);
    ck_assert_uint_eq(q.n, 0);
    quarantine_release(&q);

    fixture_to("setup_segv", "s.so");
    status = crash_in_child("s.so");
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    ck_assert_int_eq(quarantine_open(&q, plugdir, err, sizeof(err)), 0);
    ck_assert_uint_eq(q.n, 1);
    ck_assert_ptr_nonnull(strstr(q.e[0].why, "setup()"));
    quarantine_release(&q);
}
END_TEST

/* Hostile state files: bad lines are ignored, a name with a '/' never reaches a path. */
START_TEST(test_hostile_files)
{
    struct quarantine q;
    char err[512] = "";
    ck_assert_int_eq(quarantine_open(&q, plugdir, err, sizeof(err)), 0);
    char list[512], rec[512];
    snprintf(list, sizeof(list), "%s", q.list_path);
    snprintf(rec, sizeof(rec), "%s", q.crash_path);
    quarantine_release(&q);
    FILE *f = fopen(list, "w");
    ck_assert_ptr_nonnull(f);
    fputs("garbage\n"
          "0000000000000000000000000000000000000000000000000000000000000000 ../x.so why\n"
          "zz00000000000000000000000000000000000000000000000000000000000000 y.so why\n"
          "0000000000000000000000000000000000000000000000000000000000000000 ok.so fine\n",
          f);
    fclose(f);
    f = fopen(rec, "w");
    ck_assert_ptr_nonnull(f);
    fputs("file=../../etc/passwd\nsignal=11\n", f);
    fclose(f);
    ck_assert_int_eq(quarantine_open(&q, plugdir, err, sizeof(err)), 0);
    ck_assert_uint_eq(q.n, 1);
    ck_assert_str_eq(q.e[0].name, "ok.so");
    ck_assert_int_ne(access(rec, F_OK), 0);
    quarantine_release(&q);
}
END_TEST

START_TEST(test_no_state_dir)
{
    unsetenv("XDG_STATE_HOME");
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("HOME");
    struct quarantine q;
    char err[512] = "";
    ck_assert_int_eq(quarantine_open(&q, plugdir, err, sizeof(err)), -1);
    ck_assert_str_ne(err, "");
    quarantine_release(&q);
    if (home)
        setenv("HOME", home, 1);
    free(home);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *s = suite_create("quarantine");
    TCase *tc = tcase_create("quarantine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_crash_record_then_quarantine);
    tcase_add_test(tc, test_setup_crash_and_changed_file);
    tcase_add_test(tc, test_hostile_files);
    tcase_add_test(tc, test_no_state_dir);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
