/* bus_loopconn against a real nats-server (loopback, killed at the end): messages of a
 * synchronous subscription are read by the event loop and drained on its thread, with no
 * thread of the library added for reading or delivering; what the loop writes leaves with
 * bus_loopconn_send without running the loop; a server killed and started again is
 * reconnected to (the socket attached from the library's reconnecting thread reaches the
 * loop) and messages flow again. Skipped (passes with a note) without nats-server. */
#include "bus_loopconn.h"
#include "nats_testlib.h"

#include <check.h>
#include <dirent.h>
#include <event2/event.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

NATST_FIXTURE()

/* What on_read drained: payloads in order, and whether it ever ran off the loop thread. */
struct drained {
    natsSubscription *sub;
    pthread_t loop;
    int n, off_loop, reads;
    char got[32][16];
};

static void on_read(void *arg)
{
    struct drained *d = arg;
    d->reads++;
    if (!pthread_equal(pthread_self(), d->loop))
        d->off_loop++;
    int n = 0, bytes = 0;
    natsMsg *m = NULL;
    while (d->sub && natsSubscription_GetPending(d->sub, &n, &bytes) == NATS_OK && n > 0 &&
           natsSubscription_NextMsg(&m, d->sub, 1) == NATS_OK) {
        if (d->n < 32)
            snprintf(d->got[d->n++], sizeof(d->got[0]), "%.*s", natsMsg_GetDataLength(m),
                     natsMsg_GetData(m));
        natsMsg_Destroy(m);
    }
}

static int want;

static int has_want(void *arg)
{
    return ((struct drained *)arg)->n >= want;
}

static int threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* A plain client (the library's own threads) on the same server. */
static natsConnection *plain(void)
{
    natsConnection *nc = NULL;
    natsOptions *o = NULL;
    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    natsOptions_SetURL(o, srv.url);
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, 100);
    natsStatus s = NATS_ERR;
    for (int i = 0; i < 100 && (s = natsConnection_Connect(&nc, o)) != NATS_OK; i++)
        usleep(50000); /* the server is starting */
    natsOptions_Destroy(o);
    ck_assert_int_eq(s, NATS_OK);
    return nc;
}

static struct bus_loopconn *loopconn(struct drained *d)
{
    char err[300] = "";
    struct bus_loopconn *lc = NULL;
    for (int i = 0; i < 100 && !lc; i++)
        if (!(lc = bus_loopconn_new(base, srv.url, "check", 1000, on_read, d, err, sizeof(err))))
            usleep(50000);
    ck_assert_msg(lc != NULL, "%s", err);
    return lc;
}

START_TEST(test_read_and_drained_on_the_loop)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    natsConnection *pub = plain(); /* the library's shared threads exist from here on */
    struct drained d = {.loop = pthread_self()};
    int before = threads();
    struct bus_loopconn *lc = loopconn(&d);
    ck_assert_int_eq(natsConnection_SubscribeSync(&d.sub, bus_loopconn_nc(lc), "lc.a"), NATS_OK);
    natsSubscription *other = NULL;
    ck_assert_int_eq(natsConnection_SubscribeSync(&other, bus_loopconn_nc(lc), "lc.b"), NATS_OK);
    /* no reader thread for the connection, no delivery thread per subscription */
    ck_assert_int_eq(threads(), before);
    /* the subscriptions leave without the loop running: a request on "lc.b" (sent after
     * "lc.a") times out, unanswered, instead of finding no responders */
    bus_loopconn_send(lc);
    natsStatus s = NATS_NO_RESPONDERS;
    for (int i = 0; i < 100 && s == NATS_NO_RESPONDERS; i++) {
        natsMsg *reply = NULL;
        s = natsConnection_RequestString(&reply, pub, "lc.b", "?", 20);
        natsMsg_Destroy(reply);
    }
    ck_assert_int_eq(s, NATS_TIMEOUT);
    for (int i = 0; i < 5; i++) {
        char b[8];
        snprintf(b, sizeof(b), "m%d", i);
        ck_assert_int_eq(natsConnection_PublishString(pub, "lc.a", b), NATS_OK);
    }
    ck_assert_int_eq(natsConnection_Flush(pub), NATS_OK);
    want = 5;
    natst_loop_until(base, has_want, &d);
    ck_assert_int_eq(d.n, 5);
    for (int i = 0; i < 5; i++) {
        char b[8];
        snprintf(b, sizeof(b), "m%d", i);
        ck_assert_str_eq(d.got[i], b);
    }
    ck_assert_int_gt(d.reads, 0);
    ck_assert_int_eq(d.off_loop, 0);
    natsSubscription_Destroy(other);
    natsSubscription_Destroy(d.sub);
    d.sub = NULL;
    bus_loopconn_free(lc);
    natsConnection_Destroy(pub);
}
END_TEST

START_TEST(test_reconnects_after_a_server_restart)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct drained d = {.loop = pthread_self()};
    struct bus_loopconn *lc = loopconn(&d);
    ck_assert_int_eq(natsConnection_SubscribeSync(&d.sub, bus_loopconn_nc(lc), "lc.r"), NATS_OK);
    natsSubscription_SetPendingLimits(d.sub, -1, -1);
    bus_loopconn_send(lc);
    natst_restart(&srv);
    natsConnection *pub = plain();
    /* published until one arrives: the subscription comes back once the loop has the
     * new socket (attached by the library's reconnecting thread) */
    for (int i = 0; i < 250 && d.n == 0; i++) {
        ck_assert_int_eq(natsConnection_PublishString(pub, "lc.r", "again"), NATS_OK);
        natsConnection_Flush(pub);
        struct timeval tick = {0, 20000};
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
    }
    ck_assert_int_gt(d.n, 0);
    ck_assert_str_eq(d.got[0], "again");
    ck_assert_int_eq(d.off_loop, 0);
    natsSubscription_Destroy(d.sub);
    d.sub = NULL;
    bus_loopconn_free(lc);
    natsConnection_Destroy(pub);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("nats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_read_and_drained_on_the_loop);
    tcase_add_test(tc, test_reconnects_after_a_server_restart);
    return natst_run("bus_loopconn", tc);
}
