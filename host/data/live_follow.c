/* live_follow: a CSV file followed as it grows, surviving rotation (see live_follow.h). */
#include "host/data/live_follow.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/data/csv.h"
#include "host/host_api.h"
#include "log.h"

#define FOLLOW_BUF (LIVE_LINE_MAX + 2)

struct live_follow {
    struct live_in *li;
    struct live_src_log log;
    char *name, *path;
    char **tags; /* n_tags + NULL */
    size_t n_tags;
    int fd;
    dev_t dev;
    ino_t ino;
    off_t offset; /* bytes of the current file read so far */
    struct csv_reader *csv;
    char *buf;
    size_t len;
    long line;
    int discarding;
    struct event *tick; /* every LIVE_FOLLOW_POLL_MS */
    struct event *more; /* go on at once (a batch was full) */
};

/* One complete line (len bytes at l, room for a NUL at l[len]). */
static void one_line(struct live_follow *f, char *l, size_t len)
{
    f->line++;
    struct csv_row row;
    char why[256];
    int rc = csv_lines_feed(f->csv, l, len, f->line, &row, why, sizeof(why));
    if (rc < 0) {
        live_in_bad_line_(f->li, &f->log, "", f->line, why);
        return;
    }
    if (rc == 0)
        return;
    struct live_item it = {.tags = (const char *const *)f->tags,
                           .n_tags = f->n_tags,
                           .ts = row.ts,
                           .ts_ms = row.ts * 1000,
                           .bar = row.bar,
                           .is_bar = csv_has_ohlc(f->csv)};
    live_in_deliver_(f->li, &f->log, "", f->line, &it);
}

/* Hand up to LIVE_BATCH complete lines over ('eof_line': the last one may lack its
 * newline). 1 when complete lines are left. */
static int lines(struct live_follow *f, int eof_line)
{
    size_t pos = 0;
    int n = 0;
    live_in_stamp_(f->li);
    while (n < LIVE_BATCH) {
        char *start = f->buf + pos;
        char *nl = memchr(start, '\n', f->len - pos);
        size_t len;
        if (nl)
            len = (size_t)(nl - start);
        else if (eof_line && pos < f->len)
            len = f->len - pos;
        else
            break;
        pos += len + (nl != NULL);
        if (f->discarding) {
            f->discarding = 0;
            continue;
        }
        one_line(f, start, len);
        n++;
    }
    memmove(f->buf, f->buf + pos, f->len - pos);
    f->len -= pos;
    if (f->len > LIVE_LINE_MAX && !memchr(f->buf, '\n', f->len)) {
        char why[96];
        snprintf(why, sizeof(why), "line longer than %d bytes", LIVE_LINE_MAX);
        if (!f->discarding)
            live_in_bad_line_(f->li, &f->log, "", ++f->line, why);
        f->len = 0;
        f->discarding = 1;
    }
    return memchr(f->buf, '\n', f->len) != NULL;
}

/* Start over on a file from its beginning: a new header, new line numbers. */
static void restart(struct live_follow *f, int fd, const struct stat *st)
{
    if (f->fd >= 0 && f->fd != fd)
        close(f->fd);
    f->fd = fd;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->offset = 0;
    f->len = 0;
    f->line = 0;
    f->discarding = 0;
    csv_lines_reset(f->csv);
    struct host *h = live_in_host_(f->li);
    if (h && f->log.metric >= 0)
        host_metrics_src(&h->metrics, f->log.metric)->rotations++;
}

/* At the end of the open file: was it rotated (renamed away, or truncated)? */
static void check_rotation(struct live_follow *f)
{
    struct stat st, cur;
    if (fstat(f->fd, &cur) == 0 && cur.st_size < f->offset) {
        LOG_INFO("live", "live input %s: file truncated, reading it from the start", f->name);
        lseek(f->fd, 0, SEEK_SET);
        restart(f, f->fd, &cur);
        return;
    }
    if (stat(f->path, &st) < 0 || (st.st_dev == f->dev && st.st_ino == f->ino))
        return; /* gone for now, or the same file */
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (f->len)
        lines(f, 1); /* the old file's last line, even without its newline */
    LOG_INFO("live", "live input %s: file rotated, reading the new one from the start", f->name);
    restart(f, fd, &st);
}

static void pump(struct live_follow *f)
{
    if (live_in_hold_check_(f->li))
        return;
    for (int rounds = 0; rounds < 64; rounds++) {
        if (lines(f, 0)) {
            event_active(f->more, EV_READ, 0); /* a full batch: the loop first */
            return;
        }
        size_t room = LIVE_LINE_MAX + 1 - f->len;
        ssize_t r = read(f->fd, f->buf + f->len, room);
        if (r > 0) {
            f->len += (size_t)r;
            f->offset += r;
            continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            LOG_WARN("live", "live input %s: read failed: %s", f->name, strerror(errno));
        check_rotation(f);
        return;
    }
    event_active(f->more, EV_READ, 0);
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

struct live_follow *live_follow_new(struct live_in *li, const char *name, const char *path,
                                    const char *const *tags, size_t n_tags, unsigned flags,
                                    char *err, size_t errlen)
{
    struct live_follow *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "live input %s: out of memory", name);
        return NULL;
    }
    f->fd = -1;
    char e[200];
    size_t nt;
    if (host_check_tags(tags, &nt, e, sizeof(e))) {
        snprintf(err, errlen, "live input %s: %s", name, e);
        goto fail;
    }
    struct host *h = live_in_host_(li);
    unsigned cf = flags & LIVE_ALLOW_NONPOSITIVE ? CSV_ALLOW_NONPOSITIVE : 0;
    f->li = li;
    f->name = strdup(name);
    f->path = strdup(path);
    f->tags = calloc(n_tags + 1, sizeof(*f->tags));
    f->buf = malloc(FOLLOW_BUF);
    f->csv = csv_lines_new(path, cf);
    f->tick = event_new(live_in_base_(li), -1, EV_PERSIST, on_event, f);
    f->more = event_new(live_in_base_(li), -1, 0, on_event, f);
    if (!f->name || !f->path || !f->tags || !f->buf || !f->csv || !f->tick || !f->more) {
        snprintf(err, errlen, "live input %s: out of memory", name);
        goto fail;
    }
    for (size_t i = 0; i < n_tags; i++) {
        if (!(f->tags[i] = strdup(tags[i]))) {
            snprintf(err, errlen, "live input %s: out of memory", name);
            goto fail;
        }
        f->n_tags++;
    }
    f->log.name = f->name;
    f->log.metric = h ? host_metrics_source(&h->metrics, name) : -1;
    struct stat st;
    if ((f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 || fstat(f->fd, &st) < 0) {
        snprintf(err, errlen, "live input %s: cannot open '%s': %s", name, path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "live input %s: '%s' is not a regular file", name, path);
        goto fail;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    struct timeval tv = {0, LIVE_FOLLOW_POLL_MS * 1000};
    event_add(f->tick, &tv);
    event_active(f->more, EV_READ, 0);
    return f;
fail:
    live_follow_free(f);
    return NULL;
}

void live_follow_kick(struct live_follow *f)
{
    event_active(f->more, EV_READ, 0);
}

void live_follow_free(struct live_follow *f)
{
    if (!f)
        return;
    if (f->tick)
        event_free(f->tick);
    if (f->more)
        event_free(f->more);
    if (f->fd >= 0)
        close(f->fd);
    csv_close(f->csv);
    for (size_t i = 0; f->tags && i < f->n_tags; i++)
        free(f->tags[i]);
    free(f->tags);
    free(f->buf);
    free(f->name);
    free(f->path);
    free(f);
}
