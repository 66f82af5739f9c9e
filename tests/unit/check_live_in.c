/* live_in: socket, standard-input and followed-file inputs on a real event loop
 * (host/data/live_in.h, host/data/live_follow.h). Every wait polls a condition with a deadline. */
#include "host/data/live_follow.h"
#include "host/data/live_in.h"

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* What the sink saw. */
struct seen {
    long items;
    double sum_close;
    int64_t last_ts;
    char last_tag[64];
    long bars;
};

static int sink(void *arg, const struct live_item *it, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    struct seen *s = arg;
    s->items++;
    s->sum_close += it->bar.close;
    s->last_ts = it->ts;
    s->bars += it->is_bar;
    snprintf(s->last_tag, sizeof(s->last_tag), "%s", it->tags[0]);
    return 0;
}

/* Log lines captured (warnings: the bad lines). */
static char logged[64][300];
static int n_logged;

static void capture(enum log_level level, const char *line, void *arg)
{
    (void)arg;
    if (level >= LOG_LEVEL_WARN && n_logged < 64)
        snprintf(logged[n_logged++], sizeof(logged[0]), "%s", line);
}

static int logged_with(const char *a, const char *b)
{
    int n = 0;
    for (int i = 0; i < n_logged; i++)
        if (strstr(logged[i], a) && (!b || strstr(logged[i], b)))
            n++;
    return n;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Run the loop until *count reaches want or 'seconds' pass; returns *count. */
static long run_until(struct event_base *base, const long *count, long want, double seconds)
{
    struct event *t = event_new(base, -1, EV_PERSIST, wake, NULL);
    struct timeval tv = {0, 10000};
    event_add(t, &tv);
    double end = now() + seconds;
    while (*count < want && now() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    return *count;
}

static void setup(void)
{
    n_logged = 0;
    log_set_sink(capture, NULL);
}

static int connect_tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void write_all(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = write(fd, s + off, n - off);
        ck_assert_int_gt(w, 0);
        off += (size_t)w;
    }
}

#define LINE(tag, ts, close) \
    "{\"tags\":[\"" tag "\"],\"ts\":" #ts ",\"close\":" #close "}\n"

/* Two publishers at once on TCP; bad lines are counted, logged with the publisher and
 * line number, and the input goes on. */
START_TEST(test_tcp_two_publishers)
{
    struct event_base *base = event_base_new();
    struct live_in *li = live_in_new(base, NULL);
    struct seen s = {0};
    live_in_set_sink(li, sink, &s);
    char err[256];
    ck_assert_msg(live_in_add(li, "tcp:127.0.0.1:0", NULL, 0, 0, err, sizeof(err)) == 0, "%s",
                  err);
    int port = live_in_port(li, 0);
    ck_assert_int_gt(port, 0);
    int a = connect_tcp(port), b = connect_tcp(port);
    write_all(a, LINE("A", 1704067200, 1) LINE("A", 1704067260, 2));
    write_all(b, LINE("B", 1704067200, 10) "{\"tags\":[\"B\"],\"ts\":1}\n" LINE("B", 1704067260, 20));
    write_all(a, "not json\n" LINE("A", 1704067320, 3));
    close(a);
    close(b);
    ck_assert_int_eq(run_until(base, &s.items, 5, 10), 5);
    ck_assert(s.sum_close == 36);
    ck_assert_int_eq(logged_with("line 2: no close (or price)", "tcp:127.0.0.1:0"), 1);
    ck_assert_int_eq(logged_with("line 3: expected a JSON object", "publisher 127.0.0.1:"), 1);
    live_in_free(li);
    event_base_free(base);
}
END_TEST

/* The host is behind: nothing is read or delivered, the buffers stay bounded and the
 * publisher's writes block (EAGAIN); once it catches up every line arrives, none twice. */
START_TEST(test_back_pressure)
{
    char dir[] = "/tmp/qmtl-live-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128], spec[160];
    snprintf(path, sizeof(path), "%s/feed.sock", dir);
    snprintf(spec, sizeof(spec), "unix:%s", path);
    struct event_base *base = event_base_new();
    struct live_in *li = live_in_new(base, NULL);
    struct seen s = {0};
    live_in_set_sink(li, sink, &s);
    char err[256];
    ck_assert_msg(live_in_add(li, spec, NULL, 0, 0, err, sizeof(err)) == 0, "%s", err);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 077, 0); /* owner only */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&un, sizeof(un)), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    live_in_set_behind(li, 1);
    const char *line = LINE("X", 1704067200, 1);
    size_t ll = strlen(line);
    long written = 0;
    int blocked = 0;
    /* at most 64 MiB: far more than any socket buffer plus ours */
    while (!blocked && (size_t)written * ll < ((size_t)64 << 20)) {
        ssize_t w = write(fd, line, ll);
        if (w < 0) {
            ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
            blocked = 1;
            break;
        }
        ck_assert_int_eq((size_t)w, ll); /* lines are small: written whole or not at all */
        written++;
        if (written % 256 == 0)
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    ck_assert_msg(blocked, "the publisher never blocked: %ld lines taken", written);
    ck_assert_int_eq(s.items, 0);
    ck_assert_uint_le(live_in_buffered(li), LIVE_LINE_MAX + 1);
    live_in_set_behind(li, 0);
    close(fd);
    ck_assert_int_eq(run_until(base, &s.items, written, 20), written);
    /* nothing more arrives: run a little and count again */
    long before = s.items;
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(s.items, before);
    ck_assert_uint_eq(live_in_buffered(li), 0);
    live_in_free(li);
    ck_assert_int_eq(stat(path, &st), -1); /* the socket file is removed */
    event_base_free(base);
    rmdir(dir);
}
END_TEST

static int busy_flag;

static int busy(void *arg)
{
    (void)arg;
    return busy_flag;
}

/* The hold hook (qmtl run: the loop's hold): nothing is delivered while it says busy;
 * everything arrives once it clears, without anyone calling in. */
START_TEST(test_hold_hook)
{
    struct event_base *base = event_base_new();
    struct live_in *li = live_in_new(base, NULL);
    struct seen s = {0};
    live_in_set_sink(li, sink, &s);
    live_in_set_hold(li, busy, NULL);
    char err[256];
    ck_assert(live_in_add(li, "tcp:127.0.0.1:0", NULL, 0, 0, err, sizeof(err)) == 0);
    int fd = connect_tcp(live_in_port(li, 0));
    busy_flag = 1;
    write_all(fd, LINE("A", 1704067200, 1) LINE("A", 1704067260, 2));
    long never = 1;
    run_until(base, &never, 2, 0.3); /* a while with the data there: nothing may arrive */
    ck_assert_int_eq(s.items, 0);
    busy_flag = 0;
    ck_assert_int_eq(run_until(base, &s.items, 2, 10), 2);
    close(fd);
    live_in_free(li);
    event_base_free(base);
}
END_TEST

/* A line longer than the buffer is one bad line; the next line is read. */
START_TEST(test_long_line)
{
    struct event_base *base = event_base_new();
    struct live_in *li = live_in_new(base, NULL);
    struct seen s = {0};
    live_in_set_sink(li, sink, &s);
    char err[256];
    ck_assert(live_in_add(li, "tcp:127.0.0.1:0", NULL, 0, 0, err, sizeof(err)) == 0);
    int fd = connect_tcp(live_in_port(li, 0));
    size_t big = 3 * LIVE_LINE_MAX;
    char *junk = malloc(big + 1);
    memset(junk, 'x', big);
    junk[big] = '\0';
    write_all(fd, LINE("A", 1704067200, 1));
    /* a writer thread is not needed: the loop runs while the kernel buffer fills */
    fcntl(fd, F_SETFL, O_NONBLOCK);
    size_t off = 0;
    double end = now() + 10;
    while (off < big && now() < end) {
        ssize_t w = write(fd, junk + off, big - off);
        if (w > 0)
            off += (size_t)w;
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    ck_assert_uint_eq(off, big);
    fcntl(fd, F_SETFL, 0);
    write_all(fd, "\n" LINE("A", 1704067260, 2));
    close(fd);
    ck_assert_int_eq(run_until(base, &s.items, 2, 10), 2);
    ck_assert(s.sum_close == 3);
    ck_assert_int_eq(logged_with("line 2: line longer than 65536 bytes", NULL), 1);
    free(junk);
    live_in_free(li);
    event_base_free(base);
}
END_TEST

static void done_cb(void *arg, size_t input)
{
    ck_assert_uint_eq(input, 0);
    (*(long *)arg)++;
}

/* Standard input: a pipe and a regular file (not pollable) both work to their end; the
 * end of standard input is the end of the run (on_done). */
START_TEST(test_stdin)
{
    for (int kind = 0; kind < 2; kind++) {
        int fd;
        if (kind == 0) {
            int p[2];
            ck_assert_int_eq(pipe(p), 0);
            write_all(p[1], LINE("S", 1704067200, 5) "\n" LINE("S", 1704067260, 6));
            write_all(p[1], "{\"tags\":[\"S\"],\"ts\":1704067320,\"close\":7}"); /* no newline */
            close(p[1]);
            fd = p[0];
        } else {
            char tmp[] = "/tmp/qmtl-stdin-XXXXXX";
            fd = mkstemp(tmp);
            unlink(tmp);
            write_all(fd, LINE("S", 1704067200, 5) LINE("S", 1704067260, 6) LINE("S", 1704067320, 7));
            lseek(fd, 0, SEEK_SET);
        }
        ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
        close(fd);
        struct event_base *base = event_base_new();
        struct live_in *li = live_in_new(base, NULL);
        struct seen s = {0};
        long done = 0;
        live_in_set_sink(li, sink, &s);
        live_in_set_on_end(li, done_cb, &done);
        char err[256];
        ck_assert(live_in_add(li, "-", NULL, 0, 0, err, sizeof(err)) == 0);
        ck_assert_int_eq(live_in_add(li, "stdin", NULL, 0, 0, err, sizeof(err)), -1);
        ck_assert_int_eq(run_until(base, &done, 1, 10), 1);
        ck_assert_int_eq(s.items, 3);
        ck_assert(s.sum_close == 18);
        ck_assert_int_eq(s.last_ts, 1704067320);
        live_in_free(li);
        event_base_free(base);
    }
}
END_TEST

START_TEST(test_specs_refused)
{
    struct event_base *base = event_base_new();
    struct live_in *li = live_in_new(base, NULL);
    char err[256];
    const char *tags[] = {"BTC", NULL};
    ck_assert_int_eq(live_in_add(li, "tcp:127.0.0.1", NULL, 0, 0, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "expected tcp:HOST:PORT"));
    ck_assert_int_eq(live_in_add(li, "tcp:127.0.0.1:99999", NULL, 0, 0, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad port"));
    ck_assert_int_eq(live_in_add(li, "tcp:127.0.0.1:0", tags, 1, 0, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "carry their own tags"));
    ck_assert_int_eq(live_in_add(li, "follow:/nonexistent/x.csv", NULL, 0, 0, err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "needs tags"));
    ck_assert_int_eq(live_in_add(li, "follow:/nonexistent/x.csv", tags, 1, 0, err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open '/nonexistent/x.csv'"));
    ck_assert_int_eq(live_in_add(li, "unix:/etc/passwd", NULL, 0, 0, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "is not a socket"));
    ck_assert_uint_eq(live_in_count(li), 0);
    ck_assert_int_eq(live_in_is_spec("tcp:x:1") && live_in_is_spec("-") &&
                         live_in_is_spec("follow:a") && !live_in_is_spec("data/btc.csv"),
                     1);
    live_in_free(li);
    event_base_free(base);
}
END_TEST

static void append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* A followed CSV: what is there, then what is appended (a half-written line waits for its
 * newline), a bad row counted, a rotation by rename, a truncation. */
START_TEST(test_follow)
{
    char dir[] = "/tmp/qmtl-follow-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128], old[140], spec[160];
    snprintf(path, sizeof(path), "%s/btc.csv", dir);
    snprintf(old, sizeof(old), "%s/btc.csv.1", dir);
    snprintf(spec, sizeof(spec), "follow:%s", path);
    append(path, "timestamp,close\n1704067200,1\n");
    struct event_base *base = event_base_new();
    struct live_in *li = live_in_new(base, NULL);
    struct seen s = {0};
    live_in_set_sink(li, sink, &s);
    char err[256];
    const char *tags[] = {"BTC", NULL};
    ck_assert_msg(live_in_add(li, spec, tags, 1, 0, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(run_until(base, &s.items, 1, 10), 1);
    ck_assert_str_eq(s.last_tag, "BTC");
    append(path, "1704067260,2\n1704067320,abc\n17040673");
    ck_assert_int_eq(run_until(base, &s.items, 2, 10), 2);
    append(path, "80,4\n");
    ck_assert_int_eq(run_until(base, &s.items, 3, 10), 3);
    ck_assert_int_eq(s.last_ts, 1704067380);
    ck_assert_int_eq(logged_with("btc.csv: line 4: bad close 'abc'", NULL), 1);
    /* rotation: the old file gets a last line, then a new file with a header */
    append(path, "1704067440,8\n");
    ck_assert_int_eq(rename(path, old), 0);
    append(path, "timestamp,open,high,low,close\n1704067500,16,16,16,16\n");
    ck_assert_int_eq(run_until(base, &s.items, 5, 10), 5);
    ck_assert(s.sum_close == 1 + 2 + 4 + 8 + 16);
    ck_assert_int_eq(s.bars, 1);
    /* truncation in place: read again from the start */
    FILE *f = fopen(path, "w");
    fputs("timestamp,close\n1704067560,32\n", f);
    fclose(f);
    ck_assert_int_eq(run_until(base, &s.items, 6, 10), 6);
    ck_assert(s.sum_close == 63);
    live_in_free(li);
    event_base_free(base);
    unlink(path);
    unlink(old);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("live_in");
    TCase *tc = tcase_create("live_in");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_tcp_two_publishers);
    tcase_add_test(tc, test_back_pressure);
    tcase_add_test(tc, test_hold_hook);
    tcase_add_test(tc, test_long_line);
    tcase_add_test(tc, test_stdin);
    tcase_add_test(tc, test_specs_refused);
    tcase_add_test(tc, test_follow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
