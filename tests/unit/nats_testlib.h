/*
 * Helpers for the unit tests that need a real NATS server: nats-server with JetStream on
 * 127.0.0.1 (a free port), its store in a temporary directory, SIGKILLed by natst_stop.
 * Without nats-server installed natst_start leaves t->pid at -1 and the tests skip.
 */
#ifndef QMTL_TESTS_NATS_TESTLIB_H
#define QMTL_TESTS_NATS_TESTLIB_H

#include "bus_nats.h"
#include "log.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <check.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct natst {
    pid_t pid;
    char url[64];
    char store[64];
};

static inline int natst_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

/* The installed nats-server, or NULL. */
static inline const char *natst_path(void)
{
    static const char *const paths[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                                        "/usr/local/bin/nats-server"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* Start the server of t->url on its port with t->store. */
static inline void natst_spawn(struct natst *t, const char *path)
{
    char ps[16];
    snprintf(ps, sizeof(ps), "%s", strrchr(t->url, ':') + 1);
    t->pid = fork();
    ck_assert_int_ge(t->pid, 0);
    if (t->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(path, path, "-a", "127.0.0.1", "-p", ps, "-js", "-sd", t->store, (char *)NULL);
        _exit(127);
    }
}

static inline void natst_start(struct natst *t)
{
    const char *path = natst_path();
    t->pid = -1;
    if (!path)
        return;
    snprintf(t->store, sizeof(t->store), "/tmp/qmtl-nats-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->store));
    snprintf(t->url, sizeof(t->url), "nats://127.0.0.1:%d", natst_free_port());
    natst_spawn(t, path);
}

/* The server killed (-9) and started again on the same port and store. */
static inline void natst_restart(struct natst *t)
{
    kill(t->pid, SIGKILL);
    waitpid(t->pid, NULL, 0);
    natst_spawn(t, natst_path());
}

static inline void natst_stop(struct natst *t)
{
    if (t->pid <= 0)
        return;
    kill(t->pid, SIGKILL);
    waitpid(t->pid, NULL, 0);
    t->pid = -1;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->store);
    ck_assert_int_eq(system(cmd), 0);
}

static inline void natst_quiet(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)line, (void)arg;
}

/* Fixture start: logs silenced, a new event base in *base, the server started. */
static inline void natst_setup(struct natst *t, struct event_base **base)
{
    log_set_sink(natst_quiet, NULL);
    *base = event_base_new();
    natst_start(t);
}

/* Fixture end: the server stopped, the event base freed. */
static inline void natst_teardown(struct natst *t, struct event_base *base)
{
    natst_stop(t);
    event_base_free(base);
}

/* The fixture of a suite whose tests each need a server and an event base and nothing
 * else: defines srv, base and the setup/teardown to give tcase_add_checked_fixture. */
#define NATST_FIXTURE()                                                                            \
    static struct natst srv;                                                                       \
    static struct event_base *base;                                                                \
    static void setup(void)                                                                        \
    {                                                                                              \
        natst_setup(&srv, &base);                                                                  \
    }                                                                                              \
    static void teardown(void)                                                                     \
    {                                                                                              \
        natst_teardown(&srv, base);                                                                \
    }

/* Connect on 'base', retrying while the server starts (5 s at most). */
static inline struct bus_conn *natst_connect(const struct natst *t, struct event_base *base)
{
    char err[300] = "";
    for (int i = 0; i < 100; i++) {
        struct bus_conn *c = bus_conn_new(base, t->url, "check", 1000, err, sizeof(err));
        if (c)
            return c;
        usleep(50000);
    }
    ck_abort_msg("no bus: %s", err);
    return NULL;
}

/* Run 'base' in 20 ms slices until done(arg) or 5 s passed. */
static inline void natst_loop_until(struct event_base *base, int (*done)(void *), void *arg)
{
    struct timeval tick = {0, 20000};
    for (int i = 0; i < 250 && !done(arg); i++) {
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
    }
}

/* Run 'base' for 300 ms (to see that nothing more comes). */
static inline void natst_settle(struct event_base *base)
{
    struct timeval t = {0, 300000};
    event_base_loopexit(base, &t);
    event_base_dispatch(base);
}

/* Run the suite 'name' of one test case (the library closed at the end): the exit status. */
static inline int natst_run(const char *name, TCase *tc)
{
    Suite *s = suite_create(name);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nats_Close();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define NATST_SKIP_WITHOUT_SERVER(t)                                                               \
    do {                                                                                           \
        if ((t)->pid <= 0) {                                                                       \
            fprintf(stderr, "# skipped: nats-server is not installed\n");                          \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#endif
