/*
 * bench_bus: the bus path between real hosts on a real nats-server (bench/bench_bus.sh
 * starts one). Every host is a struct host with the bus attached (host/online/bus.h),
 * planned with the answer a gateway would give; the shared node is 'out' (a custom node
 * on the price stream), published by one host and consumed by the others, where 'down'
 * (a custom node reading 'out') computes on it.
 *
 * Each consuming host is a process of its own (forked before any NATS connection, as
 * a host on another machine has its own process and its own lease holder name).
 *
 *   latency     one output at a time at a low rate (one every millisecond): from the
 *               publishing host's feed (its wave computes 'out', the bus batches and
 *               sends it at the end of the loop batch) to the consuming host's 'down'
 *               compute (delivered, decoded, fed, computed). CLOCK_MONOTONIC is one clock
 *               for both processes; feed times and latencies live in shared memory.
 *               p50 / p99 / max.
 *   throughput  two consuming hosts, subscribed before the publisher starts; the publishing host
 *               is fed N bars LOOP_BATCH at a time per loop callback (as the host's data
 *               pump feeds), publishes N outputs of 'out'; each consumer counts what its
 *               'down' computed, with gaps and duplicates. Figures: outputs/s handed to the
 *               stream by the publisher; outputs/s until each consumer had all N.
 * Usage: bench_bus URL [N]   (N default 1000000). Exit 1 on any loss.
 */
#include <event2/event.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus_nats.h"
#include "host/dag/graph.h"
#include "host/host_api.h"
#include "host/loop.h"
#include "host/online/bus.h"
#include "log.h"

#define LAT_N 2000
#define LAT_GAP_US 1000
#define T0 1700000000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* _exit: the client's threads are not waited for, and a consuming process that dies
 * closes its pipes, so the other side stops waiting too. */
static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_bus: %s: %s\n", what, err);
    fflush(NULL);
    _exit(1);
}

/* ---------------------------------------------------------------- the strategies */

static const char *const tags_btc[] = {"BTC", NULL};

/* Shared between the publishing process and the latency consumer. */
struct lat_shared {
    _Atomic long n; /* outputs 'down' computed */
    double sent[LAT_N]; /* feed time by bar index */
    double lat[LAT_N];
};

/* What the consuming host's 'down' sees: counted, and timed against the feed time of
 * its bucket when 'sh' is set. */
static struct {
    long n, gaps, dups;
    int64_t last_ts;
    double first_t, last_t;
    struct lat_shared *sh;
} seen = {.last_ts = T0 - 1};

static int pass(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}

static int down(const struct qmtl_view *v, struct qmtl_value *out)
{
    double t = now();
    if (!seen.n)
        seen.first_t = t;
    seen.last_t = t;
    if (v->ts <= seen.last_ts)
        seen.dups++;
    else if (v->ts != seen.last_ts + 1)
        seen.gaps++;
    if (v->ts > seen.last_ts)
        seen.last_ts = v->ts;
    long i = (long)(v->ts - T0);
    seen.n++;
    if (seen.sh && i >= 0 && i < LAT_N) {
        seen.sh->lat[i] = t - seen.sh->sent[i];
        atomic_store(&seen.sh->n, seen.n);
    }
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}

static qmtl_node declare_out(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node px = h->stream_input(ctx,
                                   &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec),
                                                              .name = "price", .tags = tags_btc,
                                                              .interval = "1s", .period = 1},
                                   err);
    if (px < 0)
        return px;
    return h->node(ctx,
                   &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "out",
                                            .inputs = {px}, .period = 1, .compute = pass,
                                            .code_version = "bench-out-1"},
                   err);
}

static int producer_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    return declare_out(ctx, h, err) < 0 ? QMTL_ERR : QMTL_OK;
}

static int consumer_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node o = declare_out(ctx, h, err);
    if (o < 0)
        return QMTL_ERR;
    return h->node(ctx,
                   &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "down",
                                            .inputs = {o}, .period = 1, .compute = down,
                                            .code_version = "bench-down-1"},
                   err) < 0
               ? QMTL_ERR
               : QMTL_OK;
}

static const struct qmtl_plugin producer = {QMTL_PLUGIN_HEADER, .name = "bench_producer",
                                            .setup = producer_setup};
static const struct qmtl_plugin consumer = {QMTL_PLUGIN_HEADER, .name = "bench_consumer",
                                            .setup = consumer_setup};

/* ---------------------------------------------------------------- hosts on the bus */

struct side {
    struct host h;
    struct host_bus *bus;
};

/* A host running 'p', its node 'out' published to (publish) or consumed from 'topic';
 * 'world' keeps the durable consumers of two consuming hosts apart. */
static void side_start(struct side *s, const struct qmtl_plugin *p, int publish, const char *url,
                       const char *topic, const char *world, struct event_base *base)
{
    char err[512];
    host_init(&s->h, NULL);
    if (host_add_strategy(&s->h, p, NULL, NULL, err, sizeof(err)) < 0)
        die("strategy", err);
    if (!(s->bus = host_bus_new(&s->h, url, "bench", err, sizeof(err))))
        die("bus", err);
    if (host_finalize(&s->h, err, sizeof(err)) < 0)
        die("finalize", err);
    const char *out_id = NULL;
    for (uint32_t i = 0; i < graph_count(s->h.g); i++)
        if (!strcmp(graph_node(s->h.g, i)->label, "out"))
            out_id = graph_node(s->h.g, i)->id;
    json_t *ack = json_pack("{s:{}, s:{}}", "queue_map", "node_queues");
    json_object_set_new(json_object_get(ack, publish ? "node_queues" : "queue_map"), out_id,
                        json_string(topic));
    if (host_bus_plan(s->bus, 0, world, ack, err, sizeof(err)) < 0)
        die("plan", err);
    json_decref(ack);
    if (host_bus_start(s->bus, base, err, sizeof(err)) < 0)
        die("bus start", err);
    const char *want = publish ? "published" : "remote";
    for (uint32_t i = 0; i < graph_count(s->h.g); i++) {
        if (strcmp(graph_node(s->h.g, i)->label, "out") != 0)
            continue;
        /* the lease is asked for on the bus's lease thread: its answer comes on the loop */
        for (int k = 0; k < 500 && !strcmp(host_bus_role(s->bus, i), "claiming"); k++) {
            struct timeval brief = {0, 10000};
            event_base_loopexit(base, &brief);
            event_base_dispatch(base);
        }
        if (strcmp(host_bus_role(s->bus, i), want) != 0)
            die("role of 'out'", host_bus_role(s->bus, i));
    }
}

static void side_stop(struct side *s)
{
    host_bus_stop(s->bus);
    host_release(&s->h);
    host_bus_free(s->bus);
}

static void ensure_streams(struct event_base *base, const char *url, const char *const *topics,
                           size_t n)
{
    char err[300];
    struct bus_conn *c = bus_conn_new(base, url, "bench", 2000, err, sizeof(err));
    if (!c)
        die("connect", err);
    for (size_t i = 0; i < n; i++)
        if (bus_conn_ensure_stream(c, topics[i], 0, NULL, err, sizeof(err)) < 0)
            die("stream", err);
    bus_conn_free(c);
}

static int feed(struct side *s, long i)
{
    const char *tags[] = {"BTC"};
    struct qmtl_value v = qmtl_number(100.0 + (double)(i % 1000) * 0.01);
    return host_feed(&s->h, tags, 1, T0 + i, &v);
}

/* ---------------------------------------------------------------- consumers */

/* A consuming host in its own process: waits for 'go', subscribes, says so on 'ready',
 * runs until 'down' saw n outputs (at most 120 s), writes one result line on 'ready'. */
static void consumer_process(const char *url, const char *topic, const char *world, long n,
                             struct lat_shared *sh, int go, int ready)
{
    char b;
    if (read(go, &b, 1) != 1)
        _exit(1);
    seen.sh = sh;
    struct event_base *base = event_base_new();
    struct side con;
    side_start(&con, &consumer, 0, url, topic, world, base);
    if (write(ready, "r", 1) != 1)
        _exit(1);
    double end = now() + 120;
    while (seen.n < n && now() < end)
        event_base_loop(base, EVLOOP_ONCE);
    struct host_bus_stats st;
    host_bus_stats(con.bus, &st);
    char line[200];
    int len = snprintf(line, sizeof(line), "%ld %ld %ld %.6f %.6f %llu\n", seen.n, seen.gaps,
                       seen.dups, seen.first_t, seen.last_t, (unsigned long long)st.duplicates);
    if (write(ready, line, (size_t)len) != len)
        _exit(1);
    side_stop(&con);
    event_base_free(base);
    nats_Close();
    _exit(0);
}

struct kid {
    pid_t pid;
    int go, ready; /* parent's ends */
};

static struct kid spawn(const char *url, const char *topic, const char *world, long n,
                        struct lat_shared *sh)
{
    int go[2], ready[2];
    if (pipe(go) < 0 || pipe(ready) < 0)
        die("pipe", "failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", "failed");
    if (pid == 0) {
        close(go[1]);
        close(ready[0]);
        consumer_process(url, topic, world, n, sh, go[0], ready[1]);
    }
    close(go[0]);
    close(ready[1]);
    return (struct kid){pid, go[1], ready[0]};
}

/* Let the consumer subscribe; returns once it has. */
static void start_kid(struct kid *k)
{
    char b;
    if (write(k->go, "g", 1) != 1 || read(k->ready, &b, 1) != 1)
        die("consumer process", "did not start");
}

/* Its result line: outputs, gaps, duplicates, first and last compute time, redeliveries
 * dropped. -1 outputs when it said nothing. */
static long finish_kid(struct kid *k, long *gaps, long *dups, double *last,
                       unsigned long long *dropped)
{
    char line[200] = "";
    ssize_t got = read(k->ready, line, sizeof(line) - 1);
    long n = -1;
    double first;
    if (got <= 0 ||
        sscanf(line, "%ld %ld %ld %lf %lf %llu", &n, gaps, dups, &first, last, dropped) != 6)
        n = -1;
    int status = 0;
    waitpid(k->pid, &status, 0);
    close(k->go);
    close(k->ready);
    return n;
}

/* ---------------------------------------------------------------- latency */

struct lat_run {
    struct side *pub;
    struct lat_shared *sh;
    long i;
};

/* Every LAT_GAP_US: one bar, once the previous output has reached 'down'. */
static void lat_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct lat_run *r = arg;
    if (r->i < LAT_N && atomic_load(&r->sh->n) == r->i) {
        r->sh->sent[r->i] = now();
        feed(r->pub, r->i);
        r->i++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int latency(const char *url, const char *topic, struct kid *k, struct lat_shared *sh)
{
    struct event_base *base = event_base_new();
    ensure_streams(base, url, &topic, 1);
    start_kid(k);
    struct side pub;
    side_start(&pub, &producer, 1, url, topic, "lat", base);
    struct lat_run r = {.pub = &pub, .sh = sh};
    struct timeval gap = {0, LAT_GAP_US};
    struct event *tick = event_new(base, -1, EV_PERSIST, lat_tick, &r);
    event_add(tick, &gap);
    double end = now() + 60;
    while (atomic_load(&sh->n) < LAT_N && now() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(tick);
    side_stop(&pub);
    event_base_free(base);
    long gaps = 0, dups = 0;
    double last;
    unsigned long long dropped = 0;
    long n = finish_kid(k, &gaps, &dups, &last, &dropped);
    if (n < LAT_N) {
        fprintf(stderr, "bench_bus: latency: %ld of %d outputs arrived\n", n, LAT_N);
        return 1;
    }
    qsort(sh->lat, LAT_N, sizeof(double), cmp_double);
    printf("%-52s %10.3f ms\n", "latency p50 (publishing feed -> consumer's 'down')",
           sh->lat[LAT_N / 2] * 1e3);
    printf("%-52s %10.3f ms\n", "latency p99", sh->lat[LAT_N * 99 / 100] * 1e3);
    printf("%-52s %10.3f ms\n", "latency max", sh->lat[LAT_N - 1] * 1e3);
    printf("%-52s %10ld gaps, %ld duplicates\n", "latency run (2,000 outputs, 1 per ms)", gaps,
           dups);
    return gaps || dups;
}

/* ---------------------------------------------------------------- throughput */

struct tput_run {
    struct side *pub;
    long i, n;
    struct event *more;
    double t_fed;
};

/* One loop batch of bars, then yield to the loop (the batch of outputs goes at its end). */
static void tput_more(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct tput_run *r = arg;
    for (long k = 0; k < LOOP_BATCH && r->i < r->n; k++, r->i++)
        feed(r->pub, r->i);
    if (r->i < r->n)
        event_active(r->more, EV_TIMEOUT, 1);
    else
        r->t_fed = now();
}

static int throughput(const char *url, const char *topic, long n, struct kid *kids)
{
    struct event_base *base = event_base_new();
    ensure_streams(base, url, &topic, 1);
    for (int k = 0; k < 2; k++)
        start_kid(&kids[k]);
    struct side pub;
    side_start(&pub, &producer, 1, url, topic, "tput", base);
    struct tput_run r = {.pub = &pub, .n = n};
    r.more = event_new(base, -1, 0, tput_more, &r);
    double t0 = now();
    event_active(r.more, EV_TIMEOUT, 1);
    struct host_bus_stats st;
    double end = t0 + 120;
    do {
        event_base_loop(base, EVLOOP_ONCE);
        host_bus_stats(pub.bus, &st);
    } while (st.published + st.publish_errors < (uint64_t)n && now() < end);
    double t_sent = now() - t0;
    event_free(r.more);
    side_stop(&pub); /* waits for the last acknowledgements */
    double t_acked = now() - t0;
    event_base_free(base);
    printf("%-52s %10.0f outputs/s (%ld outputs, %.2f s)\n",
           "publish: fed and handed to the stream, one host", (double)n / t_sent, n, t_sent);
    printf("%-52s %10.0f outputs/s (%llu not acknowledged)\n", "publish: acknowledged by the stream",
           (double)n / t_acked, (unsigned long long)st.publish_errors);
    int lost = st.publish_errors > 0;
    for (int k = 0; k < 2; k++) {
        long gaps = 0, dups = 0;
        double last = 0;
        unsigned long long dropped = 0;
        long cn = finish_kid(&kids[k], &gaps, &dups, &last, &dropped);
        printf("%-52s %10.0f outputs/s (%ld / %ld computed, %ld gaps, %ld duplicates; %llu "
               "redelivered dropped by sequence)\n",
               k ? "consumed, host C: publish start -> 'down' had all" :
                   "consumed, host B: publish start -> 'down' had all",
               cn > 0 ? (double)cn / (last - t0) : 0.0, cn, n, gaps, dups, dropped);
        if (cn != n || gaps || dups)
            lost = 1;
    }
    printf("%-52s %10s\n", "received by both consuming hosts", lost ? "LOSS" : "no loss");
    return lost;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_bus URL [N]\n");
        return 2;
    }
    log_set_level(LOG_LEVEL_WARN);
    signal(SIGPIPE, SIG_IGN);
    const char *url = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    if (n < 1)
        die("N", "must be at least 1");
    /* the consumers fork before this process holds any NATS connection */
    struct lat_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap", "failed");
    const char *lat_topic = "bench.lat.any_out_v1", *tput_topic = "bench.tput.any_out_v1";
    struct kid lat_kid = spawn(url, lat_topic, "lat_b", LAT_N, sh);
    struct kid kids[2] = {spawn(url, tput_topic, "tput_b", n, NULL),
                          spawn(url, tput_topic, "tput_c", n, NULL)};
    int bad = latency(url, lat_topic, &lat_kid, sh);
    bad |= throughput(url, tput_topic, n, kids);
    munmap(sh, sizeof(*sh));
    nats_Close();
    return bad;
}
