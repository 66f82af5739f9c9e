/* supervisor: restart after crash signals only, backoff limit, exit status, forwarding. */
#include "host/plugin/supervisor.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char counter[256];

/* How many times the child has started so far (a file, since each start is a new fork). */
static int bump(void)
{
    int n = 0;
    FILE *f = fopen(counter, "r");
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = 0;
        fclose(f);
    }
    f = fopen(counter, "w");
    if (f) {
        fprintf(f, "%d\n", n + 1);
        fclose(f);
    }
    return n + 1;
}

static void setup(void)
{
    snprintf(counter, sizeof(counter), "/tmp/qmtl-supervise-%d", (int)getpid());
    unlink(counter);
}

static void teardown(void)
{
    unlink(counter);
}

static const struct supervisor_options quick = {
    .backoff_min_s = 0.01, .backoff_max_s = 0.02, .prefix = "test"};

/* Runs 'child' in each started host; returns what the supervisor returned. */
/* The supervising process (this test), for the hosts that signal it: never getppid(),
 * which names whoever adopted a host that outlived its supervisor. */
static pid_t supervisor_pid;

static int supervise(const struct supervisor_options *o, void (*child)(int start), int *code)
{
    char err[256] = "";
    supervisor_pid = getpid();
    int s = supervisor_run(o, code, err, sizeof(err));
    if (s == 1) {
        child(bump());
        _exit(0);
    }
    ck_assert_msg(s == 0, "%s", err);
    return s;
}

/* Die of 'sig' as an unhandled crash does (a sanitizer's own handler is put aside). */
static void die_by(int sig)
{
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(99);
}

static void crash_twice(int start)
{
    if (start <= 2)
        die_by(start == 1 ? SIGSEGV : SIGABRT);
    _exit(0);
}

START_TEST(test_restart_after_crashes)
{
    int code = -1;
    supervise(&quick, crash_twice, &code);
    ck_assert_int_eq(code, 0);
    ck_assert_int_eq(supervisor_restarts(), 2);
    ck_assert_int_eq(bump(), 4); /* three starts */
}
END_TEST

static void exit_3(int start)
{
    (void)start;
    _exit(3);
}

START_TEST(test_exit_status_passed_on)
{
    int code = -1;
    supervise(&quick, exit_3, &code);
    ck_assert_int_eq(code, 3);
    ck_assert_int_eq(supervisor_restarts(), 0);
}
END_TEST

static void killed(int start)
{
    (void)start;
    die_by(SIGKILL);
}

START_TEST(test_other_signal_not_restarted)
{
    int code = -1;
    supervise(&quick, killed, &code);
    ck_assert_int_eq(code, 128 + SIGKILL);
    ck_assert_int_eq(supervisor_restarts(), 0);
}
END_TEST

static void always_crash(int start)
{
    (void)start;
    die_by(SIGBUS);
}

START_TEST(test_max_restarts)
{
    struct supervisor_options o = quick;
    o.max_restarts = 2;
    int code = -1;
    supervise(&o, always_crash, &code);
    ck_assert_int_eq(code, 128 + SIGBUS);
    ck_assert_int_eq(supervisor_restarts(), 2);
}
END_TEST

/* The host asks its supervisor to stop (as an operator's SIGTERM would), then waits: only
 * the forwarded SIGTERM ends it, and nothing is restarted. */
static void term_parent(int start)
{
    (void)start;
    kill(supervisor_pid, SIGTERM);
    for (;;)
        pause();
}

START_TEST(test_sigterm_forwarded)
{
    int code = -1;
    supervise(&quick, term_parent, &code);
    ck_assert_int_eq(code, 128 + SIGTERM);
    ck_assert_int_eq(supervisor_restarts(), 0);
}
END_TEST

/* SIGHUP is forwarded too, and does not stop the supervision. */
static void hup_then_crash(int start)
{
    if (start == 1) {
        signal(SIGHUP, SIG_DFL);
        kill(supervisor_pid, SIGHUP);
        for (;;)
            pause(); /* ends by the forwarded SIGHUP: not a crash, not restarted */
    }
    _exit(0);
}

START_TEST(test_sighup_forwarded)
{
    int code = -1;
    supervise(&quick, hup_then_crash, &code);
    ck_assert_int_eq(code, 128 + SIGHUP);
    ck_assert_int_eq(supervisor_restarts(), 0);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *s = suite_create("supervisor");
    TCase *tc = tcase_create("supervise");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_restart_after_crashes);
    tcase_add_test(tc, test_exit_status_passed_on);
    tcase_add_test(tc, test_other_signal_not_restarted);
    tcase_add_test(tc, test_max_restarts);
    tcase_add_test(tc, test_sigterm_forwarded);
    tcase_add_test(tc, test_sighup_forwarded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
