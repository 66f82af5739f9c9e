/*
 * bench_ws: event-stream fan-out from a second process on loopback.
 *
 * Opens N WebSocket subscribers (common/ws client side, one libevent loop), then changes an
 * activation R times with PUT /worlds/{world}/activation and measures, per subscriber, the
 * time from just before the PUT is written to the arrival of the activation_updated event
 * (this includes the PUT's own handling and store commit; "p99-min" is the part after the
 * first subscriber had it). Prints one row per round and the gateway's RSS when --pid is
 * given.
 *
 * Usage: bench_ws --port P --token T --operator OPTOKEN --world W [--host 127.0.0.1]
 *                 [--clients N] [--rounds R] [--pid GATEWAY_PID] [--no-busy-poll]
 *        bench_ws --floor N     (raw loopback send floor, no gateway; see floor_bench)
 *
 * During a round the subscribers' loop polls without sleeping (--no-busy-poll: sleeps in
 * epoll_wait as usual, so every delivery also pays for waking this process).
 */
#include "ws.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sub {
    struct ws_conn *ws;
    int round;      /* last round whose event arrived */
    int open;
};

static struct event_base *base;
static struct sub *subs;
static double *lat;
static int n_clients = 50, n_rounds = 10, port, cur_round;
static long opened, failed, pending, received, next_idx;
static const char *host = "127.0.0.1", *token, *op_token, *world;
static char path[2048];
static int64_t t0_ns;
static int stop_busy;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void start_more(void);

static void on_open(struct ws_conn *c, void *arg)
{
    (void)c;
    struct sub *s = arg;
    s->open = 1;
    opened++;
    pending--;
    start_more();
    if (opened + failed == n_clients)
        event_base_loopbreak(base);
}

static void on_message(struct ws_conn *c, int binary, const unsigned char *m, size_t n,
                       void *arg)
{
    (void)c;
    (void)binary;
    struct sub *s = arg;
    if (cur_round == 0 || s->round >= cur_round)
        return;
    if (!memmem(m, n, "\"activation_updated\"", 20) || memmem(m, n, "\"snapshot\":true", 15))
        return;
    s->round = cur_round;
    lat[received++] = (double)(now_ns() - t0_ns) / 1e6;
    if (received == opened) {
        stop_busy = 1;
        event_base_loopbreak(base);
    }
}

static void on_close(struct ws_conn *c, int code, void *arg)
{
    (void)c;
    struct sub *s = arg;
    if (!s->open) {
        failed++;
        pending--;
        start_more();
        if (opened + failed == n_clients)
            event_base_loopbreak(base);
    } else if (code != 1000) {
        fprintf(stderr, "bench_ws: subscriber closed with %d\n", code);
    }
    s->ws = NULL;
    s->open = 0;
}

static const struct ws_handlers handlers = {on_open, on_message, NULL, NULL, on_close};

static void start_more(void)
{
    while (pending < 256 && next_idx < n_clients) {
        char err[200];
        struct sub *s = &subs[next_idx++];
        s->ws = ws_client_connect(base, host, port, path, NULL, &handlers, s, 0, err, sizeof(err));
        if (!s->ws) {
            fprintf(stderr, "bench_ws: %s\n", err);
            failed++;
            continue;
        }
        pending++;
    }
}

static long rss_kb(int pid)
{
    char p[64], line[256];
    snprintf(p, sizeof(p), "/proc/%d/status", pid);
    FILE *f = fopen(p, "r");
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static int http_put_activation(int round, int *sock_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sin.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        perror("bench_ws: connect for PUT");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char body[256], req[1024];
    int bl = snprintf(body, sizeof(body),
                      "{\"strategy_id\":\"bench\",\"side\":\"long\",\"active\":true,"
                      "\"weight\":%.4f}",
                      (double)(round % 1000) / 1000.0 + 0.0005);
    int rl = snprintf(req, sizeof(req),
                      "PUT /worlds/%s/activation HTTP/1.1\r\nHost: %s:%d\r\n"
                      "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                      world, host, port, op_token, bl, body);
    t0_ns = now_ns();
    if (write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return -1;
    }
    *sock_out = fd;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

/* Poll without sleeping until a handler breaks the loop or 'ms' pass: the subscribers are
 * never asleep in epoll_wait, so a delivery does not pay for waking this process up (which
 * would be charged to the gateway's send path and to the measured latency). */

static void busy_for(int ms)
{
    int64_t end = now_ns() + (int64_t)ms * 1000000;
    stop_busy = 0;
    while (!stop_busy && now_ns() < end) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (event_base_got_break(base))
            break;
    }
}

static void run_for(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *t = evtimer_new(base, on_timeout, NULL);
    evtimer_add(t, &tv);
    event_base_dispatch(base);
    event_free(t);
}

/*
 * --floor N: the machine's floor for the same fan-out without any gateway code: N loopback
 * TCP pairs, a forked child epoll-reading the client ends, and one plain send() of a 420-byte
 * message per socket, timed. Three rounds.
 */
static int floor_bench(int n)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof(a);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 4096) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        perror("bench_ws: floor listener");
        return 1;
    }
    int *srv = calloc((size_t)n, sizeof(int));
    /* the child opens the client ends (each process then holds N descriptors) */
    pid_t child = fork();
    if (child == 0) {
        close(ls);
        int ep = epoll_create1(0);
        for (int i = 0; i < n; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
                _exit(1);
            struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        }
        struct epoll_event ev[256];
        char b[4096];
        int64_t end = now_ns() + 4000000000LL;
        while (now_ns() < end) {
            int k = epoll_wait(ep, ev, 256, 100);
            for (int j = 0; j < k; j++)
                if (read(ev[j].data.fd, b, sizeof(b)) <= 0)
                    _exit(0);
        }
        _exit(0);
    }
    for (int i = 0; i < n; i++) {
        if ((srv[i] = accept(ls, NULL, NULL)) < 0) {
            perror("bench_ws: floor accept");
            return 1;
        }
    }
    char msg[420];
    memset(msg, 'x', sizeof(msg));
    usleep(200000);
    printf("%-6s %10s %12s\n", "round", "sends", "total_ms");
    for (int r = 1; r <= 3; r++) {
        int64_t t = now_ns();
        for (int i = 0; i < n; i++)
            send(srv[i], msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
        printf("%-6d %10d %12.3f\n", r, n, (double)(now_ns() - t) / 1e6);
        usleep(300000);
    }
    for (int i = 0; i < n; i++)
        close(srv[i]);
    close(ls);
    waitpid(child, NULL, 0);
    free(srv);
    return 0;
}

int main(int argc, char **argv)
{
    int pid = 0, busy = 1, floor_n = 0;
    static const struct option opts[] = {
        {"no-busy-poll", 0, NULL, 'B'}, {"floor", 1, NULL, 'F'},
        {"host", 1, NULL, 'h'},   {"port", 1, NULL, 'p'},    {"token", 1, NULL, 't'},
        {"operator", 1, NULL, 'o'}, {"world", 1, NULL, 'w'}, {"clients", 1, NULL, 'n'},
        {"rounds", 1, NULL, 'r'}, {"pid", 1, NULL, 'P'},     {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 't': token = optarg; break;
        case 'o': op_token = optarg; break;
        case 'w': world = optarg; break;
        case 'n': n_clients = atoi(optarg); break;
        case 'r': n_rounds = atoi(optarg); break;
        case 'P': pid = atoi(optarg); break;
        case 'B': busy = 0; break;
        case 'F': floor_n = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: bench_ws --port P --token T --operator OP --world W "
                            "[--clients N] [--rounds R] [--pid PID]\n");
            return 2;
        }
    }
    if (floor_n > 0) {
        struct rlimit fl;
        if (getrlimit(RLIMIT_NOFILE, &fl) == 0) {
            fl.rlim_cur = fl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &fl);
        }
        return floor_bench(floor_n);
    }
    if (!port || !token || !op_token || !world || n_clients <= 0 || n_rounds <= 0) {
        fprintf(stderr, "bench_ws: --port, --token, --operator and --world are required\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if ((long)rl.rlim_cur < n_clients + 64) {
            fprintf(stderr, "bench_ws: open-file limit %ld too low for %d clients\n",
                    (long)rl.rlim_cur, n_clients);
            return 1;
        }
    }
    snprintf(path, sizeof(path), "/ws/evt?token=%s", token);
    base = event_base_new();
    subs = calloc((size_t)n_clients, sizeof(*subs));
    lat = calloc((size_t)n_clients, sizeof(*lat));
    int64_t c0 = now_ns();
    start_more();
    run_for(120000);
    double conn_s = (double)(now_ns() - c0) / 1e9;
    run_for(1000); /* let snapshots arrive and the gateway settle */
    long rss = pid ? rss_kb(pid) : -1;
    printf("subscribers  %d open, %ld failed, connected in %.2f s", (int)opened, failed, conn_s);
    if (rss >= 0)
        printf(", gateway RSS %.1f MB", (double)rss / 1024.0);
    printf("\n");
    int rc = opened == n_clients ? 0 : 1;
    double *p99s = calloc((size_t)n_rounds, sizeof(double));
    double *spreads = calloc((size_t)n_rounds, sizeof(double));
    printf("%-6s %10s %10s %10s %10s %10s %10s\n", "round", "delivered", "p50_ms", "p99_ms",
           "max_ms", "min_ms", "p99-min");
    for (int r = 1; r <= n_rounds; r++) {
        received = 0;
        cur_round = r;
        int sock = -1;
        if (http_put_activation(r, &sock) != 0) {
            rc = 1;
            break;
        }
        if (busy)
            busy_for(10000);
        else
            run_for(10000);
        char resp[64] = "";
        ssize_t got = read(sock, resp, sizeof(resp) - 1);
        close(sock);
        if (got < 12 || strncmp(resp + 9, "200", 3) != 0) {
            fprintf(stderr, "bench_ws: PUT answered '%.20s'\n", got > 0 ? resp : "");
            rc = 1;
        }
        qsort(lat, (size_t)received, sizeof(double), cmp_double);
        double p50 = received ? lat[received / 2] : -1;
        double p99 = received ? lat[(size_t)((double)received * 0.99 - 1e-9)] : -1;
        p99s[r - 1] = received == opened ? p99 : 1e9;
        spreads[r - 1] = received == opened ? p99 - lat[0] : 1e9;
        printf("%-6d %10ld %10.3f %10.3f %10.3f %10.3f %10.3f\n", r, received, p50, p99,
               received ? lat[received - 1] : -1, received ? lat[0] : -1,
               received ? p99 - lat[0] : -1);
        cur_round = 0;
        run_for(50);
    }
    qsort(p99s, (size_t)n_rounds, sizeof(double), cmp_double);
    qsort(spreads, (size_t)n_rounds, sizeof(double), cmp_double);
    printf("median over %d rounds: p99 %.3f ms from the PUT; p99 %.3f ms from the first "
           "delivery\n",
           n_rounds, p99s[n_rounds / 2], spreads[n_rounds / 2]);
    free(p99s);
    free(spreads);
    for (int i = 0; i < n_clients; i++)
        if (subs[i].ws)
            ws_conn_abort(subs[i].ws, 1000);
    free(subs);
    free(lat);
    event_base_free(base);
    return rc;
}
