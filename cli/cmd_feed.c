/* qmtl feed: replay a CSV file as line-delimited JSON into a host's live input, at a pace. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "host/data/csv.h"
#include "host/data/live_nats.h"
#include "host/data/live_nats_pub.h"
#include "host/host_api.h"

#define FEED_OUT_BUF 65536

struct feed_args {
    const char *to, *tags, *file;
    double rate; /* lines per second; 0 = as fast as the host takes them */
};

static int usage_error(const char *fmt, const char *arg)
{
    return cli_usage_error("feed", fmt, arg);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Connect to tcp:HOST:PORT or unix:PATH ("-" = standard output). fd or -1 with err. */
static int open_target(const char *to, char *err, size_t errlen)
{
    if (!strcmp(to, "-"))
        return STDOUT_FILENO;
    if (!strncmp(to, "unix:", 5)) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        if (!to[5] || strlen(to + 5) >= sizeof(un.sun_path)) {
            snprintf(err, errlen, "'%s': bad socket path", to);
            return -1;
        }
        snprintf(un.sun_path, sizeof(un.sun_path), "%s", to + 5);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
            snprintf(err, errlen, "cannot connect to %s: %s", to, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    const char *hp = to + 4, *colon = strrchr(hp, ':');
    char host[256];
    if (strncmp(to, "tcp:", 4) || !colon || colon == hp || !colon[1] ||
        (size_t)(colon - hp) >= sizeof(host)) {
        snprintf(err, errlen, "'%s': want tcp:HOST:PORT, unix:PATH, nats://HOST:PORT/SUBJECT or -",
                 to);
        return -1;
    }
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to %s: %s", to, strerror(e ? e : errno));
    return fd;
}

/* Where the lines go: a file descriptor, or NATS messages (pub set). */
struct feed_out {
    int fd;
    struct live_nats_pub *pub;
};

static int write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One batch of whole lines: written, or published as one message. 0, or -1 with err. */
static int out_send(struct feed_out *o, const char *to, const char *buf, size_t n, char *err,
                    size_t errlen)
{
    if (o->pub)
        return live_nats_pub_send(o->pub, buf, n, err, errlen);
    if (write_all(o->fd, buf, n) == 0)
        return 0;
    snprintf(err, errlen, "writing to %s: %s", to, strerror(errno));
    return -1;
}

/* A finite double as JSON text that reads back to the same value: 15 significant digits
 * when they do (most prices), else 17 (always exact). */
static void fmt_num(double v, char *out, size_t outlen)
{
    snprintf(out, outlen, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, outlen, "%.17g", v);
}

/* One row as a JSON line into out (at least 512 bytes free). Its length. */
static size_t json_line(char *out, const char *tags_json, const struct csv_row *row, int ohlc)
{
    char o[32], h[32], l[32], c[32], v[32];
    fmt_num(row->bar.close, c, sizeof(c));
    if (!ohlc)
        return (size_t)sprintf(out, "{\"tags\":%s,\"ts\":%lld,\"close\":%s}\n", tags_json,
                               (long long)row->ts, c);
    fmt_num(row->bar.open, o, sizeof(o));
    fmt_num(row->bar.high, h, sizeof(h));
    fmt_num(row->bar.low, l, sizeof(l));
    fmt_num(row->bar.volume, v, sizeof(v));
    return (size_t)sprintf(out,
                           "{\"tags\":%s,\"ts\":%lld,\"open\":%s,\"high\":%s,\"low\":%s,"
                           "\"close\":%s,\"volume\":%s}\n",
                           tags_json, (long long)row->ts, o, h, l, c, v);
}

/* '["A","B"]' from "A,B" (each a valid tag), or the file's stem. 0 or -1 with err. */
static int tags_json(const char *tags, const char *file, char *out, size_t outlen, char *err,
                     size_t errlen)
{
    char buf[1024];
    if (tags) {
        snprintf(buf, sizeof(buf), "%s", tags);
    } else {
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        snprintf(buf, sizeof(buf), "%s", base);
        char *dot = strrchr(buf, '.');
        if (dot && dot != buf)
            *dot = '\0';
    }
    const char *list[33];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t && n < 33; t = strtok_r(NULL, ",", &save))
        list[n++] = t;
    list[n < 33 ? n : 32] = NULL;
    size_t nt;
    char e[200];
    if (n > 32 || host_check_tags(list, &nt, e, sizeof(e))) {
        snprintf(err, errlen, "tags: %s", n > 32 ? "too many tags (at most 32)" : e);
        return -1;
    }
    size_t len = (size_t)snprintf(out, outlen, "[");
    for (size_t i = 0; i < nt; i++)
        len += (size_t)snprintf(out + len, outlen - len, "%s\"%s\"", i ? "," : "", list[i]);
    snprintf(out + len, outlen - len, "]");
    return 0;
}

static int parse_args(int argc, char **argv, struct feed_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (o[0] != '-' || !strcmp(o, "-")) {
            if (a->file)
                return usage_error("one CSV file only ('%s' is a second)", o);
            a->file = o;
            continue;
        }
        if (i + 1 >= argc)
            return cli_missing_value("feed", o);
        const char *val = argv[++i];
        if (!strcmp(o, "--to")) {
            a->to = val;
        } else if (!strcmp(o, "--tags")) {
            a->tags = val;
        } else if (!strcmp(o, "--rate")) {
            char *end;
            a->rate = strtod(val, &end);
            if (end == val || *end || !(a->rate >= 0))
                return usage_error("--rate must be a number of lines per second >= 0, not '%s'",
                                   val);
        } else {
            return cli_unknown_option("feed", o);
        }
    }
    if (!a->file)
        return usage_error("%s", "which CSV file? (qmtl feed --to TARGET FILE.csv)");
    if (!a->to)
        return usage_error("%s",
                           "--to tcp:HOST:PORT, unix:PATH, nats://HOST:PORT/SUBJECT or - is "
                           "required");
    return 0;
}

int cmd_feed(int argc, char **argv)
{
    struct feed_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    char err[512], tj[4096];
    if (tags_json(a.tags, a.file, tj, sizeof(tj), err, sizeof(err)))
        return usage_error("%s", err);
    struct csv_reader *csv = csv_open(a.file, 0, err, sizeof(err));
    if (!csv) {
        fprintf(stderr, "qmtl feed: %s\n", err);
        return CLI_FAIL;
    }
    signal(SIGPIPE, SIG_IGN);
    struct feed_out o = {.fd = -1};
    if (live_nats_is_spec(a.to))
        o.pub = live_nats_pub_new(a.to, err, sizeof(err));
    else
        o.fd = open_target(a.to, err, sizeof(err));
    if (o.fd < 0 && !o.pub) {
        fprintf(stderr, "qmtl feed: %s\n", err);
        csv_close(csv);
        return CLI_FAIL;
    }
    int ohlc = csv_has_ohlc(csv);
    char *out = malloc(FEED_OUT_BUF);
    size_t len = 0;
    long sent = 0;
    double t0 = now_s();
    struct csv_row row;
    int r;
    rc = CLI_OK;
    while (out && (r = csv_next(csv, &row, err, sizeof(err))) != 0) {
        if (r < 0) {
            fprintf(stderr, "qmtl feed: %s\n", err);
            rc = CLI_FAIL;
            break;
        }
        double due = a.rate > 0 ? t0 + (double)sent / a.rate : 0;
        double now = a.rate > 0 ? now_s() : 0;
        if (len + 512 + strlen(tj) > FEED_OUT_BUF || (now < due && len)) {
            if (out_send(&o, a.to, out, len, err, sizeof(err))) {
                fprintf(stderr, "qmtl feed: %s\n", err);
                rc = CLI_FAIL;
                break;
            }
            len = 0;
        }
        if (now < due) {
            struct timespec ts = {(time_t)(due - now), (long)((due - now - (double)(time_t)(due - now)) * 1e9)};
            nanosleep(&ts, NULL);
        }
        len += json_line(out + len, tj, &row, ohlc);
        sent++;
    }
    if (rc == CLI_OK && len && out_send(&o, a.to, out, len, err, sizeof(err))) {
        fprintf(stderr, "qmtl feed: %s\n", err);
        rc = CLI_FAIL;
    }
    if (o.pub && live_nats_pub_close(o.pub, err, sizeof(err)) && rc == CLI_OK) {
        fprintf(stderr, "qmtl feed: %s\n", err); /* the server may not have every line */
        rc = CLI_FAIL;
    }
    if (!out) {
        fprintf(stderr, "qmtl feed: out of memory\n");
        rc = CLI_FAIL;
    }
    double dt = now_s() - t0;
    long skipped = csv_skipped(csv);
    fprintf(stderr, "qmtl feed: %ld line(s) sent to %s in %.3f s (%.0f lines/s)%s", sent, a.to,
            dt, dt > 0 ? (double)sent / dt : 0.0, skipped ? "" : "\n");
    if (skipped)
        fprintf(stderr, "; %ld bad row(s) skipped\n", skipped);
    free(out);
    csv_close(csv);
    if (o.fd >= 0 && o.fd != STDOUT_FILENO && close(o.fd) && rc == CLI_OK) {
        fprintf(stderr, "qmtl feed: closing %s: %s\n", a.to, strerror(errno));
        rc = CLI_FAIL;
    }
    return rc;
}
