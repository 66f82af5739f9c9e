/* gw_hub_queue: the queue_update snapshot a stream gets when it connects, and the DAG
 * manager's dropped queues, polled and published; a fake DAG manager in the same loop. */
#include "config.h"
#include "gateway/gw_hub.h"
#include "gateway/gw_server.h"
#include "gw_testlib.h"
#include "ws.h"

#include <arpa/inet.h>
#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static struct event_base *base;

/* ------------------------------------------------------------ fake DAG manager */

static int snapshots, polls;
static char snapshot_world[64];
static int64_t dm_generation = 7; /* the fake's queue generation */

#define ENTRY(queues, gen)                                                                         \
    "{\"tags\":[\"t\"],\"interval\":60,\"match_mode\":\"any\",\"world_id\":\"w\","                \
    "\"execution_domain\":\"live\",\"queues\":[" queues "],\"generation\":" gen ",\"version\":1}"
#define Q1 "{\"queue\":\"w.live.q1\",\"global\":false,\"node_id\":\"n1\",\"tags\":[\"t\"],\"interval\":60}"

static void fake_dm(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out = evbuffer_new();
    if (!strncmp(uri, "/tag_queries?world_id=", 22)) {
        snapshots++;
        snprintf(snapshot_world, sizeof(snapshot_world), "%s", uri + 22);
        evbuffer_add_printf(out, "{\"updates\":[" ENTRY(Q1, "7") "],\"generation\":7}");
    } else if (!strcmp(uri, "/queue_updates")) {
        polls++;
        evbuffer_add_printf(out, "{\"updates\":[],\"generation\":%lld}", (long long)dm_generation);
    } else if (!strcmp(uri, "/queue_updates?after=7") && dm_generation == 8) {
        polls++; /* q1 was dropped: its query's list is empty now */
        evbuffer_add_printf(out, "{\"updates\":[" ENTRY("", "8") "],\"generation\":8}");
    } else if (!strncmp(uri, "/queue_updates?after=", 21)) {
        polls++;
        evbuffer_add_printf(out, "{\"updates\":[],\"generation\":%lld}", (long long)dm_generation);
    } else {
        ck_abort_msg("unexpected DAG manager call %s", uri);
    }
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

/* ------------------------------------------------------------ stream clients */

struct cli {
    struct ws_conn *ws;
    int open, closed;
    json_t *msgs;
};

static void c_open(struct ws_conn *c, void *arg)
{
    (void)c;
    ((struct cli *)arg)->open = 1;
}

static void c_msg(struct ws_conn *c, int binary, const unsigned char *m, size_t n, void *arg)
{
    (void)c;
    (void)binary;
    json_t *j = json_loadb((const char *)m, n, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_array_append_new(((struct cli *)arg)->msgs, j);
}

static void c_close(struct ws_conn *c, int code, void *arg)
{
    (void)c;
    (void)code;
    ((struct cli *)arg)->closed = 1;
    ((struct cli *)arg)->ws = NULL;
}

static const struct ws_handlers cli_h = {c_open, c_msg, NULL, NULL, c_close};

static void run_ms(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void cli_connect(struct cli *k, int port, const char *token)
{
    memset(k, 0, sizeof(*k));
    k->msgs = json_array();
    char hdr[1024], err[200];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", token);
    k->ws = ws_client_connect(base, "127.0.0.1", port, "/ws/evt", hdr, &cli_h, k, 0, err,
                              sizeof(err));
    ck_assert_msg(k->ws != NULL, "%s", err);
    for (int i = 0; i < 100 && !k->open && !k->closed; i++)
        run_ms(20);
    ck_assert(k->open);
}

/* The queue_update messages a client received (borrowed), waiting (bounded) for n. */
static size_t queue_updates(struct cli *k, size_t n, const json_t **out, size_t max)
{
    size_t got = 0;
    for (int i = 0; i < 150; i++) {
        got = 0;
        size_t j;
        const json_t *m;
        json_array_foreach(k->msgs, j, m) {
            if (!strcmp(json_string_value(json_object_get(m, "type")), "queue_update") &&
                got < max)
                out[got++] = m;
        }
        if (got >= n)
            break;
        run_ms(20);
    }
    return got;
}

static void cli_free(struct cli *k)
{
    if (k->ws)
        ws_conn_abort(k->ws, WS_CLOSE_NORMAL);
    json_decref(k->msgs);
}

static void fast_poll(struct qmtl_config *cfg)
{
    cfg->gateway.queue_poll_interval_s = 0.05;
}

/* ------------------------------------------------------------ tests */

START_TEST(test_snapshot_on_connect_and_dropped_queues)
{
    struct gwt t;
    gwt_configure = fast_poll;
    gwt_start(&t, NULL);
    base = gw_server_base(t.srv);
    struct gw_hub *hub = gw_hub_new(t.srv);
    ck_assert_ptr_nonnull(hub);
    char url[64];
    struct evhttp *dm = gwt_fake_dm(&t, fake_dm, url, sizeof(url));

    /* no DAG manager: a stream connects and gets no queue snapshot */
    const char *queue[] = {"queue", NULL}, *act[] = {"activation", NULL};
    char *tq = gw_hub_mint_token(hub, "w", "s1", queue, 3600);
    char *ta = gw_hub_mint_token(hub, "w", "s1", act, 3600);
    struct cli none;
    cli_connect(&none, gw_server_port(t.srv), tq);
    run_ms(100);
    ck_assert_int_eq(snapshots, 0);
    cli_free(&none);

    gwt_set(&t.cfg.gateway.dagmanager_url, url);
    for (int i = 0; i < 100 && polls < 2; i++) /* the poller learns the generation (7) */
        run_ms(20);
    ck_assert_int_ge(polls, 2);

    /* a stream of the queue topic: one queue_update per query of its world, as they are */
    struct cli a, b;
    cli_connect(&a, gw_server_port(t.srv), tq);
    cli_connect(&b, gw_server_port(t.srv), ta); /* activation only: no queue snapshot */
    const json_t *u[4];
    ck_assert_uint_eq(queue_updates(&a, 1, u, 4), 1);
    ck_assert_int_eq(snapshots, 1);
    ck_assert_str_eq(snapshot_world, "w");
    const json_t *d = json_object_get(u[0], "data");
    ck_assert(json_is_true(json_object_get(d, "snapshot")));
    ck_assert_int_eq(json_integer_value(json_object_get(d, "generation")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "version")), 1);
    /* the reference's {queue, global}, the node beside it */
    json_t *want = json_pack("[{s:s, s:b}]", "queue", "w.live.q1", "global", 0);
    ck_assert(json_equal(json_object_get(d, "queues"), want));
    json_decref(want);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(d, "queue_nodes"), "w.live.q1"),
                         "node_id")),
                     "n1");
    ck_assert_str_eq(json_string_value(json_object_get(u[0], "specversion")), "1.0");

    /* the DAG manager drops q1: the next poll publishes the query's list without it, as an
     * event of the log (replayable), once */
    dm_generation = 8;
    ck_assert_uint_eq(queue_updates(&a, 2, u, 4), 2);
    d = json_object_get(u[1], "data");
    ck_assert(!json_is_true(json_object_get(d, "snapshot")));
    ck_assert_uint_eq(json_array_size(json_object_get(d, "queues")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "generation")), 8);
    ck_assert_str_eq(json_string_value(json_object_get(d, "world_id")), "w");
    ck_assert_int_gt(json_integer_value(json_object_get(u[1], "seq_no")), 0);
    int before = polls;
    for (int i = 0; i < 100 && polls < before + 3; i++)
        run_ms(20);
    ck_assert_uint_eq(queue_updates(&a, 3, u, 4), 2); /* not again */
    ck_assert_uint_eq(queue_updates(&b, 1, u, 4), 0);

    gwt_set(&t.cfg.gateway.dagmanager_url, ""); /* no new request; the last ones end */
    run_ms(300);
    cli_free(&a);
    cli_free(&b);
    free(tq);
    free(ta);
    gw_hub_free(hub);
    evhttp_free(dm);
    gwt_stop(&t, 1);
    gwt_configure = NULL;
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("gw_hub_queue");
    TCase *tc = tcase_create("queue");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_snapshot_on_connect_and_dropped_queues);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
