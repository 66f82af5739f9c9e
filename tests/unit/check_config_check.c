/* Unit tests for cli/config/config_check: the probes of 'qmtl config validate' (HTTP
 * health, listen ports, SQLite stores, plugins directory) and its report. */
#include "cli/config/config_check.h"
#include "config.h"
#include "config_testlib.h"
#include "log.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- probes */

struct fake_server {
    int fd;
    const char *reply; /* NULL: accept and never answer */
};

static void *serve_one(void *arg)
{
    struct fake_server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[1024];
    ssize_t n = recv(c, buf, sizeof(buf), 0);
    (void)n;
    if (s->reply) {
        ssize_t w = send(c, s->reply, strlen(s->reply), MSG_NOSIGNAL);
        (void)w;
    } else {
        usleep(600 * 1000);
    }
    close(c);
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    socklen_t l = sizeof(a);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int probe_against(const char *reply, double timeout, char *hint, size_t len)
{
    int port;
    struct fake_server s = {.reply = reply};
    s.fd = listen_any(&port);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, serve_one, &s), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    int rc = config_probe_http_health(url, timeout, hint, len);
    pthread_join(t, NULL);
    close(s.fd);
    return rc;
}

START_TEST(test_probe_http)
{
    char hint[400];
    ck_assert_int_eq(
        probe_against("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 2.0, hint, sizeof(hint)),
        0);
    ck_assert_ptr_nonnull(strstr(hint, "/health answered 200"));
    ck_assert_int_eq(probe_against("HTTP/1.1 503 Unavailable\r\n\r\n", 2.0, hint, sizeof(hint)),
                     -1);
    ck_assert_ptr_nonnull(strstr(hint, "answered 503"));
    ck_assert_int_eq(probe_against("SSH-2.0-nope\r\n", 2.0, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "did not answer HTTP"));
    ck_assert_int_eq(probe_against(NULL, 0.2, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "no answer from"));
    /* refused: a port that was free a moment ago */
    int port, fd = listen_any(&port);
    close(fd);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    ck_assert_int_eq(config_probe_http_health(url, 1.0, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "cannot connect to 127.0.0.1:"));
    ck_assert_int_eq(config_probe_http_health("ftp://x", 1.0, hint, sizeof(hint)), -1);
}
END_TEST

START_TEST(test_probe_listen)
{
    char hint[400];
    int port, fd = listen_any(&port);
    ck_assert_int_eq(config_probe_listen("127.0.0.1", port, hint, sizeof(hint)), 1);
    close(fd);
    ck_assert_int_eq(config_probe_listen("127.0.0.1", port, hint, sizeof(hint)), 0);
}
END_TEST

START_TEST(test_probe_sqlite)
{
    make_tmpdir();
    char path[PATH_MAX + 32], hint[400];
    snprintf(path, sizeof(path), "%s/new.db", tmpdir);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 0);
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing left behind */
    snprintf(path, sizeof(path), "%s/not-a-db", tmpdir);
    write_file(path, "this is plain text, certainly not a SQLite database header......\n");
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "not a database"));
    /* a missing directory is created by the service: fine if it can be */
    snprintf(path, sizeof(path), "%s/nodir/sub/x.db", tmpdir);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 0);
    ck_assert_ptr_nonnull(strstr(hint, "will be created, with its directory"));
    snprintf(path, sizeof(path), "%s/nodir", tmpdir);
    ck_assert_int_eq(access(path, F_OK), -1); /* the probe creates nothing */
    snprintf(path, sizeof(path), "%s/not-a-db/sub/x.db", tmpdir);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "cannot be created"));
    ck_assert_int_eq(config_probe_sqlite_writable(tmpdir, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "not a regular file"));
    ck_assert_int_eq(config_probe_sqlite_writable(":memory:", hint, sizeof(hint)), 0);
    /* a store held exclusively (as a running gateway holds it) is "in use", not broken */
    snprintf(path, sizeof(path), "%s/held.db", tmpdir);
    sqlite3 *holder = NULL;
    ck_assert_int_eq(sqlite3_open(path, &holder), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(holder, "PRAGMA locking_mode=EXCLUSIVE; CREATE TABLE t(x); "
                                          "BEGIN IMMEDIATE; INSERT INTO t VALUES(1); COMMIT;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 1);
    ck_assert_ptr_nonnull(strstr(hint, "in use by a running service"));
    sqlite3_close(holder);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 0);
    rm_tmpdir();
}
END_TEST

START_TEST(test_probe_plugins_dir)
{
    make_tmpdir();
    char dir[PATH_MAX + 32], f[PATH_MAX + 64], hint[400];
    snprintf(dir, sizeof(dir), "%s/plugins", tmpdir);
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(f, sizeof(f), "%s/a.so", dir);
    write_file(f, "x");
    snprintf(f, sizeof(f), "%s/.hidden.so", dir);
    write_file(f, "x");
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_OK);
    ck_assert_ptr_nonnull(strstr(hint, "holds 1 plugin(s)"));
    ck_assert_int_eq(chmod(dir, 0775), 0);
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(hint, "group-writable: qmtl run refuses it"));
    ck_assert_int_eq(chmod(dir, 0777), 0);
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(hint, "world-writable"));
    snprintf(f, sizeof(f), "%s/a.so", dir);
    ck_assert_int_eq(config_probe_plugins_dir(f, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(hint, "not a directory"));
    rm_tmpdir();
}
END_TEST

static const struct cfg_check *find_check(const struct cfg_report *r, const char *target,
                                          const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->checks[i].target, target) && !strcmp(r->checks[i].name, name))
            return &r->checks[i];
    return NULL;
}

START_TEST(test_check_report)
{
    struct qmtl_config c;
    struct cfg_error e;
    struct cfg_report r;
    quiet();
    ck_assert_int_eq(load("host: {world_id: w1}\ngateway: {database_url: x.db}\n", &c, &e), 0);
    ck_assert_int_eq(config_check(&c, CFG_TARGET_ALL, 1, &r), CFG_SEV_ERROR);
    const struct cfg_check *k = find_check(&r, "host", "gateway");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(k->severity, CFG_SEV_ERROR);
    ck_assert_str_eq(k->hint, "world_id 'w1' is set but gateway_url is empty");
    k = find_check(&r, "host", "plugins_dir");
    ck_assert_int_eq(k->severity, CFG_SEV_WARN);
    ck_assert_str_eq(k->hint, "skipped (--offline)");
    k = find_check(&r, "config", "warning[0]");
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(r.checks[0].name, "source");
    config_report_release(&r);
    /* only the gateway target: no host rows, and no error */
    ck_assert_int_eq(config_check(&c, CFG_TARGET_GATEWAY, 1, &r), CFG_SEV_WARN);
    ck_assert_ptr_null(find_check(&r, "host", "gateway"));
    config_report_release(&r);
    /* a short fill_secret is a warning; none (signed fills refused) is no row */
    config_check(&c, CFG_TARGET_GATEWAY, 1, &r);
    ck_assert_ptr_nonnull(find_check(&r, "gateway", "event_secret"));
    ck_assert_ptr_null(find_check(&r, "gateway", "fill_secret"));
    config_report_release(&r);
    free(c.gateway.fill_secret);
    c.gateway.fill_secret = strdup("short");
    config_check(&c, CFG_TARGET_GATEWAY, 1, &r);
    k = find_check(&r, "gateway", "fill_secret");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(k->severity, CFG_SEV_WARN);
    config_report_release(&r);
    config_release(&c);
    ck_assert_uint_eq(config_check_parse_target("dagmanager"), CFG_TARGET_DAGMANAGER);
    ck_assert_uint_eq(config_check_parse_target("all"), CFG_TARGET_ALL);
    ck_assert_uint_eq(config_check_parse_target("world"), 0);
    log_set_sink(NULL, NULL);
}
END_TEST

/* An empty store_path is checked where the service would put it: the state directory. */
START_TEST(test_check_default_stores)
{
    struct qmtl_config c;
    struct cfg_error e;
    struct cfg_report r;
    char want[PATH_MAX + 64];
    quiet();
    make_tmpdir();
    setenv("XDG_STATE_HOME", tmpdir, 1);
    ck_assert_int_eq(load("gateway: {port: 0, dagmanager_url: ''}\ndagmanager: {port: 0}\n", &c, &e),
                     0);
    ck_assert_str_eq(c.gateway.store_path, "");
    config_check(&c, CFG_TARGET_GATEWAY | CFG_TARGET_DAGMANAGER, 0, &r);
    const struct cfg_check *k = find_check(&r, "gateway", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_OK);
    snprintf(want, sizeof(want), "'%s/qmtl/gateway.db' will be created, with its directory", tmpdir);
    ck_assert_msg(strstr(k->hint, want), "%s", k->hint);
    k = find_check(&r, "dagmanager", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_OK); /* not "the gateway's store_path" */
    snprintf(want, sizeof(want), "'%s/qmtl/dagmanager.db'", tmpdir);
    ck_assert_msg(strstr(k->hint, want), "%s", k->hint);
    config_report_release(&r);
    /* the DAG manager pointed at the gateway's default store is refused */
    free(c.dagmanager.store_path);
    snprintf(want, sizeof(want), "%s/qmtl/gateway.db", tmpdir);
    c.dagmanager.store_path = strdup(want);
    config_check(&c, CFG_TARGET_DAGMANAGER, 1, &r);
    k = find_check(&r, "dagmanager", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(k->hint, "is also the gateway's store_path"));
    config_report_release(&r);
    /* no state directory: an ERROR that asks for store_path */
    unsetenv("XDG_STATE_HOME");
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("HOME");
    ck_assert_int_eq(config_check(&c, CFG_TARGET_GATEWAY, 1, &r), CFG_SEV_ERROR);
    k = find_check(&r, "gateway", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(k->hint, "set gateway.store_path"));
    config_report_release(&r);
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    }
    config_release(&c);
    rm_tmpdir();
    log_set_sink(NULL, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_check");
    TCase *tc = tcase_create("check");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_probe_http);
    tcase_add_test(tc, test_probe_listen);
    tcase_add_test(tc, test_probe_sqlite);
    tcase_add_test(tc, test_check_default_stores);
    tcase_add_test(tc, test_probe_plugins_dir);
    tcase_add_test(tc, test_check_report);
    suite_add_tcase(s, tc);
    return run_config_suite(s);
}
