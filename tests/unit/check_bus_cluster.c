/* bus_cluster against a real three-server NATS cluster (JetStream, loopback, free ports,
 * own stores, killed at the end): server lists parsed; a connection with replicas set
 * creates queue streams and the lease bucket with them and brings existing ones (one
 * replica, made by a host's connection) to them; a connection without (a host's) changes
 * nothing; more replicas than servers is refused, naming the stream; a connection given
 * the three servers, its server killed, reconnects to another one and publishes and
 * consumes on. Skipped (passes with a note) without nats-server or when the cluster does
 * not form within 30 s. */
#include "bus_cluster.h"
#include "bus_nats.h"
#include "log.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"

static struct natst srv[3];
static int spawned;
static struct event_base *base;
static char urls[256];

/* Log lines kept for the checks ("connected to", "reconnected to", "replicas"). */
static char lines[64][300];
static int n_lines;

static void keep(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)arg;
    if (n_lines < 64)
        snprintf(lines[n_lines++], sizeof(lines[0]), "%s", line);
}

static const char *logged(const char *what)
{
    for (int i = n_lines - 1; i >= 0; i--)
        if (strstr(lines[i], what))
            return strstr(lines[i], what);
    return NULL;
}

static void spawn(int i, const int *rport)
{
    char ps[16], cl[64], routes[128] = "", name[8];
    snprintf(ps, sizeof(ps), "%s", strrchr(srv[i].url, ':') + 1);
    snprintf(cl, sizeof(cl), "nats://127.0.0.1:%d", rport[i]);
    snprintf(name, sizeof(name), "n%d", i);
    for (int j = 0; j < 3; j++)
        if (j != i)
            snprintf(routes + strlen(routes), sizeof(routes) - strlen(routes),
                     "%snats://127.0.0.1:%d", *routes ? "," : "", rport[j]);
    srv[i].pid = fork();
    ck_assert_int_ge(srv[i].pid, 0);
    if (srv[i].pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(natst_path(), natst_path(), "-a", "127.0.0.1", "-p", ps, "-js", "-sd", srv[i].store,
              "--server_name", name, "--cluster_name", "qmtl-check", "--cluster", cl, "--routes",
              routes, (char *)NULL);
        _exit(127);
    }
}

/* The cluster is up when a stream with three replicas can be created (30 s at most). */
static int cluster_ready(void)
{
    for (int i = 0; i < 300; i++) {
        natsConnection *nc = NULL;
        jsCtx *js = NULL;
        jsStreamInfo *si = NULL;
        int ok = 0;
        if (natsConnection_ConnectTo(&nc, srv[0].url) == NATS_OK &&
            natsConnection_JetStream(&js, nc, NULL) == NATS_OK) {
            jsStreamConfig cfg;
            jsStreamConfig_Init(&cfg);
            cfg.Name = "PROBE";
            cfg.Replicas = 3;
            cfg.Storage = js_MemoryStorage;
            ok = js_AddStream(&si, js, &cfg, NULL, NULL) == NATS_OK;
            jsStreamInfo_Destroy(si);
            if (ok)
                js_DeleteStream(js, "PROBE", NULL, NULL);
        }
        jsCtx_Destroy(js);
        natsConnection_Destroy(nc);
        if (ok)
            return 1;
        usleep(100000);
    }
    return 0;
}

static void cluster_up(void)
{
    log_set_sink(keep, NULL);
    base = event_base_new();
    if (!natst_path())
        return;
    int rport[3];
    for (int i = 0; i < 3; i++) {
        snprintf(srv[i].store, sizeof(srv[i].store), "/tmp/qmtl-nats-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(srv[i].store));
        snprintf(srv[i].url, sizeof(srv[i].url), "nats://127.0.0.1:%d", natst_free_port());
        rport[i] = natst_free_port();
    }
    for (int i = 0; i < 3; i++)
        spawn(i, rport);
    snprintf(urls, sizeof(urls), "%s, %s,%s", srv[0].url, srv[1].url, srv[2].url);
    spawned = 1;
}

static void cluster_down(void)
{
    for (int i = 0; i < 3; i++)
        natst_stop(&srv[i]);
    event_base_free(base);
    log_set_sink(NULL, NULL);
}

#define SKIP_WITHOUT_CLUSTER()                                                                     \
    do {                                                                                           \
        if (!spawned || !cluster_ready()) {                                                                             \
            fprintf(stderr, "# skipped: no three-server NATS cluster (nats-server missing, or "    \
                            "it did not form)\n");                                                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* The replicas of 'stream' as the cluster says, through a plain connection. */
static int replicas_of(const char *stream)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, srv[0].url), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    ck_assert_int_eq(js_GetStreamInfo(&si, js, stream, NULL, NULL), NATS_OK);
    int r = (int)si->Config->Replicas;
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return r;
}

START_TEST(test_server_lists)
{
    natsOptions *o = NULL;
    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    ck_assert_int_eq(bus_cluster_servers(o, "nats://a:4222, nats://b:4222 ,nats://c:4222"),
                     NATS_OK);
    ck_assert_int_eq(bus_cluster_servers(o, "nats://a:4222"), NATS_OK);
    ck_assert_int_eq(bus_cluster_servers(o, " , "), NATS_INVALID_ARG);
    ck_assert_int_eq(bus_cluster_servers(o, ""), NATS_INVALID_ARG);
    natsOptions_Destroy(o);
    char err[200];
    ck_assert_int_eq(bus_url_check("host.bus", "nats://a:1,nats://b:2", err, sizeof(err)), 0);
    ck_assert_int_eq(bus_url_check("host.bus", "nats://a:1,http://b:2", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "host.bus"));
}
END_TEST

START_TEST(test_replicas)
{
    SKIP_WITHOUT_CLUSTER();
    char err[400];
    struct bus_conn *host = bus_conn_new(base, urls, "check-host", 2000, err, sizeof(err));
    ck_assert_msg(host != NULL, "%s", err);
    /* a host's connection: the lease bucket and a stream with one replica */
    ck_assert_msg(bus_conn_lease_open(host, BUS_LEASE_TTL_MS, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(bus_conn_ensure_stream(host, "w.live.old_v1", 0, NULL, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_int_eq(replicas_of("KV_QMTL_LEASES"), 1);
    ck_assert_int_eq(replicas_of("QMTL_Q_w~live~old_v1"), 1);

    /* the DAG manager's: both brought to three, new streams made with three */
    struct bus_conn *dm = bus_conn_new(base, urls, "check-dm", 2000, err, sizeof(err));
    ck_assert_msg(dm != NULL, "%s", err);
    bus_conn_set_replicas(dm, 3);
    ck_assert_msg(bus_conn_lease_open(dm, BUS_LEASE_TTL_MS, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(replicas_of("KV_QMTL_LEASES"), 3);
    ck_assert_ptr_nonnull(logged("stream 'KV_QMTL_LEASES': replicas 1 -> 3"));
    int created = -1;
    ck_assert_msg(bus_conn_ensure_stream(dm, "w.live.old_v1", 0, &created, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_int_eq(created, 0);
    ck_assert_int_eq(replicas_of("QMTL_Q_w~live~old_v1"), 3);
    ck_assert_msg(bus_conn_ensure_stream(dm, "w.live.new_v1", 0, &created, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(replicas_of("QMTL_Q_w~live~new_v1"), 3);

    /* the host's connection checks them and changes nothing; leases work on three */
    ck_assert_int_eq(bus_conn_ensure_stream(host, "w.live.new_v1", 0, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(replicas_of("QMTL_Q_w~live~new_v1"), 3);
    uint64_t rev = 0;
    int took = 0; /* the bucket may still be electing a leader after its change */
    for (int i = 0; i < 100 && took != 1; i++) {
        took = bus_conn_lease_take(host, "w.live.new_v1", "h:1", &rev, err, sizeof(err));
        if (took != 1)
            usleep(100000);
    }
    ck_assert_msg(took == 1, "%s", err);
    ck_assert_int_eq(bus_conn_lease_renew(host, "w.live.new_v1", "h:1", &rev, err, sizeof(err)),
                     1);

    /* five replicas on three servers: refused, naming the stream */
    bus_conn_set_replicas(dm, 5);
    ck_assert_int_eq(bus_conn_ensure_stream(dm, "w.live.new_v1", 0, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "QMTL_Q_w~live~new_v1") && strstr(err, "3 -> 5"), "%s", err);
    ck_assert_int_eq(replicas_of("QMTL_Q_w~live~new_v1"), 3);
    bus_conn_free(dm);
    bus_conn_free(host);
}
END_TEST

struct seen {
    uint64_t seqs[64];
    int n;
};

static void record(void *arg, const struct bus_msg *m)
{
    struct seen *s = arg;
    if (s->n < 64)
        s->seqs[s->n++] = m->seq;
}

static int want;

static int reached(void *arg)
{
    return ((struct seen *)arg)->n >= want;
}

static int reconnected(void *arg)
{
    (void)arg;
    return logged("reconnected to nats://") != NULL;
}

/* Run the loop until done(arg) or 'seconds' passed. */
static void loop_until(int (*done)(void *), void *arg, int seconds)
{
    for (int i = 0; i < seconds * 50 && !done(arg); i++) {
        struct timeval tick = {0, 20000};
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
    }
}

START_TEST(test_reconnect_to_another_server)
{
    SKIP_WITHOUT_CLUSTER();
    char err[400];
    struct bus_conn *dm = bus_conn_new(base, urls, "check-dm", 2000, err, sizeof(err));
    ck_assert_msg(dm != NULL, "%s", err);
    bus_conn_set_replicas(dm, 3);
    ck_assert_int_eq(bus_conn_ensure_stream(dm, "w.live.rc_v1", 0, NULL, err, sizeof(err)), 0);
    bus_conn_free(dm);

    n_lines = 0;
    struct bus_conn *c = bus_conn_new(base, urls, "check-host", 2000, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    const char *on = logged("connected to nats://");
    ck_assert_ptr_nonnull(on);
    char first[64];
    snprintf(first, sizeof(first), "%s", on + strlen("connected to "));
    struct seen s = {{0}, 0};
    ck_assert_msg(bus_conn_consume(c, "w.live.rc_v1", "rc", record, &s, err, sizeof(err)) == 0,
                  "%s", err);
    struct qmtl_value v = qmtl_number(1);
    for (uint64_t seq = 1; seq <= 3; seq++)
        ck_assert_int_eq(bus_conn_publish(c, "w.live.rc_v1", NID, 60 * (int64_t)seq, seq, &v, err,
                                          sizeof(err)),
                         0);
    ck_assert_msg(bus_conn_flush(c, 5000, err, sizeof(err)) == 0, "%s", err);
    want = 3;
    loop_until(reached, &s, 10);
    ck_assert_int_eq(s.n, 3);

    /* the server the connection is on dies: it reconnects to another one */
    int k = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(srv[i].url, first) == 0)
            k = i;
    ck_assert_msg(k >= 0, "connected to '%s', not one of the three", first);
    kill(srv[k].pid, SIGKILL); /* reaped (and its store removed) by cluster_down */
    loop_until(reconnected, NULL, 10);
    const char *to = logged("reconnected to nats://");
    ck_assert_msg(to && !strstr(to, first), "no reconnection to another server (%s)",
                  to ? to : "none");

    /* and publishes and consumes on: what the stream could not take at once goes again */
    for (uint64_t seq = 4; seq <= 8; seq++)
        ck_assert_int_eq(bus_conn_publish(c, "w.live.rc_v1", NID, 60 * (int64_t)seq, seq, &v, err,
                                          sizeof(err)),
                         0);
    ck_assert_msg(bus_conn_flush(c, 20000, err, sizeof(err)) == 0, "%s", err);
    want = 8;
    loop_until(reached, &s, 20);
    ck_assert_int_eq(s.n, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(s.seqs[i], (uint64_t)i + 1);
    struct bus_conn_stats st;
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.publish_errors, 0);
    bus_conn_free(c);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("bus_cluster");
    TCase *plain = tcase_create("lists");
    tcase_add_test(plain, test_server_lists);
    suite_add_tcase(su, plain);
    /* a cluster per test, started in the test's own process: the servers are its children,
     * never the runner's (which waits for its test processes only) */
    TCase *tc = tcase_create("cluster");
    tcase_add_checked_fixture(tc, cluster_up, cluster_down);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_replicas);
    tcase_add_test(tc, test_reconnect_to_another_server);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nats_Close();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
