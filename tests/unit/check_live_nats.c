/* live_nats: market data from a NATS subject against a real nats-server (loopback, started
 * per test, killed at the end): specs parsed and refused, several lines per message in
 * order, bad lines logged with subject / message / line, an input's own tags, the host
 * behind (nothing delivered, then everything in order), a server restart (reconnected,
 * logged, delivering again). Skipped (passes with a note) without nats-server. */
#include "host/data/live_in.h"
#include "host/data/live_nats.h"
#include "host/data/live_nats_pub.h"
#include "logcap_testlib.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct natst srv;
static struct event_base *base;

/* What the sink saw, in order. */
struct seen {
    long total; /* every item */
    int n;      /* the first 64, recorded */
    int64_t ts[64];
    double close[64];
    char tags[64][64];
};

static int sink(void *arg, const struct live_item *it, char *why, size_t whylen)
{
    (void)why, (void)whylen;
    struct seen *s = arg;
    s->total++;
    if (s->n < 64) {
        s->ts[s->n] = it->ts;
        s->close[s->n] = it->bar.close;
        size_t len = 0;
        s->tags[s->n][0] = '\0';
        for (size_t i = 0; i < it->n_tags; i++)
            len += (size_t)snprintf(s->tags[s->n] + len, sizeof(s->tags[0]) - len, "%s%s",
                                    i ? "," : "", it->tags[i]);
        s->n++;
    }
    return 0;
}

static void setup(void)
{
    natst_setup(&srv, &base);
    logcap_start(LOG_LEVEL_INFO);
}

static void teardown(void)
{
    natst_teardown(&srv, base);
}

#define SKIP_WITHOUT_SERVER() NATST_SKIP_WITHOUT_SERVER(&srv)

static char spec[128];

/* A publisher on the test's subject, retrying while the server starts (5 s at most). */
static struct live_nats_pub *publisher(void)
{
    char err[300] = "";
    snprintf(spec, sizeof(spec), "%s/md.BTC.1m", srv.url);
    for (int i = 0; i < 100; i++) {
        struct live_nats_pub *p = live_nats_pub_new(spec, err, sizeof(err));
        if (p)
            return p;
        usleep(50000);
    }
    ck_abort_msg("no server: %s", err);
    return NULL;
}

static void pub(struct live_nats_pub *p, const char *text)
{
    char err[300];
    ck_assert_msg(live_nats_pub_send(p, text, strlen(text), err, sizeof(err)) == 0, "%s", err);
}

static void flush(struct live_nats_pub *p)
{
    char err[300];
    ck_assert_msg(live_nats_pub_close(p, err, sizeof(err)) == 0, "%s", err);
}

static int want_n;
static int reached(void *arg)
{
    return ((struct seen *)arg)->n >= want_n;
}

static void wait_for(struct seen *s, int n)
{
    want_n = n;
    natst_loop_until(base, reached, s);
}

static struct live_in *input(struct seen *s, const char *const *tags, size_t n_tags)
{
    struct live_in *li = live_in_new(base, NULL);
    ck_assert_ptr_nonnull(li);
    live_in_set_sink(li, sink, s);
    char err[400];
    ck_assert_msg(live_in_add(li, spec, tags, n_tags, 0, err, sizeof(err)) == 0, "%s", err);
    return li;
}

START_TEST(test_specs)
{
    struct live_nats_spec sp;
    char err[300];
    ck_assert_int_eq(live_nats_parse("nats://127.0.0.1:4222/md.BTC.1m", &sp, err, sizeof(err)), 0);
    ck_assert_str_eq(sp.url, "nats://127.0.0.1:4222");
    ck_assert_str_eq(sp.subject, "md.BTC.1m");
    ck_assert_str_eq(sp.stream, "");
    ck_assert_int_eq(
        live_nats_parse("nats://h:1/md.BTC.1m?durable=h-1&stream=MD", &sp, err, sizeof(err)), 0);
    ck_assert_str_eq(sp.subject, "md.BTC.1m");
    ck_assert_str_eq(sp.stream, "MD");
    ck_assert_str_eq(sp.durable, "h-1");
    ck_assert(live_in_is_spec("nats://h:1/x"));
    static const struct {
        const char *spec, *why;
    } bad[] = {
        {"nats://127.0.0.1:4222", "expected nats://HOST:PORT/SUBJECT"},
        {"nats://127.0.0.1:4222/", "expected nats://HOST:PORT/SUBJECT"},
        {"nats:///md.x", "expected nats://HOST:PORT/SUBJECT"},
        {"nats://h:1/md.*.1m", "wildcards are refused"},
        {"nats://h:1/md.>", "wildcards are refused"},
        {"nats://u:pw@h:1/md.x", "without user or password"},
        {"nats://a:1,b:2/md.x", "one server"},
        {"nats://h:1/md..x", "bad subject"},
        {"nats://h:1/md.x.", "bad subject"},
        {"nats://h:1/md x", "bad subject"},
        {"nats://h:1/md/x", "bad subject"},
        {"nats://h:1/md.x?stream=MD", "needs both ?stream=NAME&durable=NAME"},
        {"nats://h:1/md.x?durable=d", "needs both ?stream=NAME&durable=NAME"},
        {"nats://h:1/md.x?stream=MD&durable=a.b", "the options are"},
        {"nats://h:1/md.x?stream=MD&durable=d&stream=X", "once each"},
        {"nats://h:1/md.x?stream=MD&durable=d&x=1", "the options are"},
        {"nats://h:1/md.x?stream=&durable=d", "the options are"},
        {"nats://h:1/md.*?stream=MD&durable=d", "wildcards are refused"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_int_eq(live_nats_parse(bad[i].spec, &sp, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, bad[i].why) && strstr(err, bad[i].spec), "%s: %s", bad[i].spec,
                      err);
    }
    /* the input refuses them at start, naming itself; no server needed */
    struct live_in *li = live_in_new(base, NULL);
    ck_assert_int_eq(live_in_add(li, "nats://h:1/md.*", NULL, 0, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "live input nats://h:1/md.*: wildcards are refused"), "%s", err);
    const char *bad_tags[] = {"B T C", NULL};
    ck_assert_int_eq(live_in_add(li, "nats://h:1/md.x", bad_tags, 1, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "live input nats://h:1/md.x:"), "%s", err);
    live_in_free(li);
}
END_TEST

START_TEST(test_unreachable_server_fails_the_start)
{
    char err[400], s[64];
    snprintf(s, sizeof(s), "nats://127.0.0.1:%d/md.x", natst_free_port());
    struct live_in *li = live_in_new(base, NULL);
    ck_assert_int_eq(live_in_add(li, s, NULL, 0, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cannot connect to nats://127.0.0.1:"), "%s", err);
    ck_assert_uint_eq(live_in_count(li), 0);
    live_in_free(li);
}
END_TEST

START_TEST(test_lines_in_order_and_bad_lines)
{
    SKIP_WITHOUT_SERVER();
    struct live_nats_pub *p = publisher();
    struct seen s = {0};
    struct live_in *li = input(&s, NULL, 0);
    pub(p, "{\"tags\":[\"BTC\"],\"ts\":1704067200,\"close\":1}\n"
           "{\"tags\":\"BTC\",\"ts\":1704067260,\"clsoe\":2}\n"
           "{\"tags\":\"BTC\",\"ts\":1704067320000,\"price\":3}");
    pub(p, "\n{\"tags\":[\"ETH\",\"x\"],\"ts\":1704067380,\"open\":4,\"close\":4}\n");
    pub(p, "not json\n");
    flush(p);
    wait_for(&s, 3);
    natst_settle(base);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.ts[0], 1704067200);
    ck_assert(s.close[1] == 3 && s.ts[1] == 1704067320);
    ck_assert_str_eq(s.tags[2], "ETH,x");
    ck_assert_msg(logcap_has("live input nats://127.0.0.1:",
                             "/md.BTC.1m: subject md.BTC.1m "
                             "message 1 line 2: unknown key 'clsoe'"),
                  "%s", logcap_last());
    ck_assert(logcap_has("subject md.BTC.1m message 3 line 1:", "(line skipped)"));
    live_in_free(li);
}
END_TEST

START_TEST(test_input_tags)
{
    SKIP_WITHOUT_SERVER();
    struct live_nats_pub *p = publisher();
    struct seen s = {0};
    const char *tags[] = {"BTC", "spot", NULL};
    struct live_in *li = input(&s, tags, 2);
    pub(p, "{\"ts\":1704067200,\"close\":1}\n"                             /* gets the input's */
           "{\"tags\":[\"spot\",\"BTC\"],\"ts\":1704067260,\"close\":2}\n" /* the same set */
           "{\"tags\":\"ETH\",\"ts\":1704067320,\"close\":3}\n");          /* refused */
    flush(p);
    wait_for(&s, 2);
    natst_settle(base);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.tags[0], "BTC,spot");
    ck_assert_str_eq(s.tags[1], "spot,BTC");
    ck_assert(logcap_has("message 1 line 3: tags ETH differ from the input's (BTC,...)", NULL));
    live_in_free(li);
}
END_TEST

START_TEST(test_behind_holds_then_delivers_in_order)
{
    SKIP_WITHOUT_SERVER();
    struct live_nats_pub *p = publisher();
    struct seen s = {0};
    struct live_in *li = input(&s, NULL, 0);
    live_in_set_behind(li, 1);
    for (int i = 0; i < 40; i++) {
        char line[128];
        snprintf(line, sizeof(line), "{\"tags\":\"BTC\",\"ts\":%d,\"close\":%d}\n",
                 1704067200 + 60 * i, i + 1);
        pub(p, line);
    }
    flush(p);
    natst_settle(base);
    ck_assert_int_eq(s.n, 0); /* behind: nothing delivered */
    live_in_set_behind(li, 0);
    wait_for(&s, 40);
    ck_assert_int_eq(s.n, 40);
    for (int i = 0; i < 40; i++)
        ck_assert(s.close[i] == i + 1);
    live_in_free(li);
}
END_TEST

static int reconnected(void *arg)
{
    (void)arg;
    return logcap_has("reconnected to NATS (1 reconnection(s) so far)", NULL);
}

static int dropped_logged(void *arg)
{
    (void)arg;
    return logcap_has("message(s) dropped by the NATS client: the host was behind", NULL);
}

static long want_total;
static int total_reached(void *arg)
{
    return ((struct seen *)arg)->total >= want_total;
}

/* Behind for longer than the buffers hold: the client drops the rest, logged; what was
 * buffered is delivered afterwards. */
START_TEST(test_overflow_dropped_and_logged)
{
    SKIP_WITHOUT_SERVER();
    struct live_nats_pub *p = publisher();
    struct seen s = {0};
    struct live_in *li = input(&s, NULL, 0);
    live_in_set_behind(li, 1);
    const long n = LIVE_NATS_QUEUE + LIVE_NATS_PENDING_MSGS + 4000;
    for (long i = 0; i < n; i++)
        pub(p, "{\"tags\":\"BTC\",\"ts\":1704067200,\"close\":1}\n");
    flush(p);
    natst_loop_until(base, dropped_logged, NULL);
    ck_assert_msg(dropped_logged(NULL), "no drop logged: %s", logcap_last());
    ck_assert_int_eq(s.total, 0);
    live_in_set_behind(li, 0);
    want_total = LIVE_NATS_PENDING_MSGS;
    natst_loop_until(base, total_reached, &s);
    natst_settle(base);
    ck_assert_msg(s.total >= LIVE_NATS_PENDING_MSGS && s.total < n, "%ld of %ld", s.total, n);
    live_in_free(li);
}
END_TEST

/* ?stream=S&durable=D: the subject read through a durable consumer of a stream holding it;
 * a new input on the same durable resumes after what the previous one delivered. */
START_TEST(test_durable_resumes)
{
    SKIP_WITHOUT_SERVER();
    struct live_nats_pub *p = publisher();
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, srv.url), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"md.>"};
    cfg.Name = "MD";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_MemoryStorage;
    ck_assert_int_eq(js_AddStream(NULL, js, &cfg, NULL, NULL), NATS_OK);
    for (int i = 1; i <= 3; i++) { /* before any input: the stream keeps them */
        char line[128];
        snprintf(line, sizeof(line), "{\"tags\":\"BTC\",\"ts\":%d,\"close\":%d}\n",
                 1704067200 + 60 * i, i);
        pub(p, line);
    }
    char base_spec[sizeof(spec)];
    snprintf(base_spec, sizeof(base_spec), "%s", spec);
    snprintf(spec, sizeof(spec), "%s?stream=MD&durable=host-1", base_spec);
    struct seen s = {0};
    struct live_in *li = input(&s, NULL, 0);
    ck_assert(logcap_has("through durable consumer 'host-1' of stream 'MD'", NULL));
    wait_for(&s, 3);
    natst_settle(base); /* the acknowledgements reach the server */
    ck_assert_int_eq(s.total, 3);
    live_in_free(li);
    jsConsumerInfo *ci = NULL; /* each delivered message was acknowledged */
    ck_assert_int_eq(js_GetConsumerInfo(&ci, js, "MD", "host-1", NULL, NULL), NATS_OK);
    ck_assert_uint_eq(ci->AckFloor.Stream, 3);
    ck_assert_int_eq(ci->NumAckPending, 0);
    jsConsumerInfo_Destroy(ci);
    for (int i = 4; i <= 5; i++) { /* while no input runs */
        char line[128];
        snprintf(line, sizeof(line), "{\"tags\":\"BTC\",\"ts\":%d,\"close\":%d}\n",
                 1704067200 + 60 * i, i);
        pub(p, line);
    }
    flush(p);
    struct seen s2 = {0};
    li = input(&s2, NULL, 0);
    wait_for(&s2, 2);
    natst_settle(base);
    ck_assert_int_eq(s2.total, 2); /* 1..3 not again */
    ck_assert(s2.close[0] == 4 && s2.close[1] == 5);
    live_in_free(li);
    /* a stream that does not exist: the start fails, naming consumer and stream */
    snprintf(spec, sizeof(spec), "%s?stream=NOPE&durable=host-1", base_spec);
    li = live_in_new(base, NULL);
    char err[400];
    ck_assert_int_eq(live_in_add(li, spec, NULL, 0, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "consumer 'host-1' of stream 'NOPE'"), "%s", err);
    live_in_free(li);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}
END_TEST

START_TEST(test_server_restart_reconnects)
{
    SKIP_WITHOUT_SERVER();
    struct live_nats_pub *p = publisher();
    struct seen s = {0};
    struct live_in *li = input(&s, NULL, 0);
    pub(p, "{\"tags\":\"BTC\",\"ts\":1704067200,\"close\":1}\n");
    flush(p);
    wait_for(&s, 1);
    ck_assert_int_eq(s.n, 1);
    natst_restart(&srv);
    natst_loop_until(base, reconnected, NULL);
    ck_assert(logcap_has("lost the NATS server; reconnecting", NULL));
    ck_assert(reconnected(NULL));
    /* delivering again: publish until one arrives (the subscription is re-sent on reconnect) */
    p = publisher();
    for (int i = 0; i < 50 && s.n < 2; i++) {
        pub(p, "{\"tags\":\"BTC\",\"ts\":1704067260,\"close\":2}\n");
        want_n = 2;
        struct timeval t = {0, 100000};
        event_base_loopexit(base, &t);
        event_base_dispatch(base);
    }
    flush(p);
    ck_assert_int_ge(s.n, 2);
    ck_assert(s.close[1] == 2);
    live_in_free(li);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("nats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_specs);
    tcase_add_test(tc, test_unreachable_server_fails_the_start);
    tcase_add_test(tc, test_lines_in_order_and_bad_lines);
    tcase_add_test(tc, test_input_tags);
    tcase_add_test(tc, test_behind_holds_then_delivers_in_order);
    tcase_add_test(tc, test_server_restart_reconnects);
    tcase_add_test(tc, test_overflow_dropped_and_logged);
    tcase_add_test(tc, test_durable_resumes);
    return natst_run("live_nats", tc);
}
