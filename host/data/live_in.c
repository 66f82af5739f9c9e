/* live_in: socket and standard-input line-JSON inputs on the host's loop (see live_in.h). */
#include "host/data/live_in.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "host/host_api.h"
#include "host/dag/route.h"
#include "host/data/linejson.h"
#include "host/data/live_follow.h"
#include "host/data/live_nats.h"
#include "log.h"

enum src_kind { SRC_TCP, SRC_UNIX, SRC_STDIN, SRC_FOLLOW, SRC_NATS };

struct live_src;

/* One publisher (a connection, or standard input). */
struct live_conn {
    struct live_src *src;
    struct live_conn *next;
    int fd;
    struct event *rd;   /* readable (NULL: fd not pollable, e.g. a regular file) */
    struct event *more; /* activated to go on: lines left, or an unpollable fd */
    int rd_on, eof, discarding;
    int fl_saved; /* standard input: its file status flags before, restored at the end */
    char *buf; /* LIVE_LINE_MAX + 2 bytes: a full line and the parser's spare byte */
    size_t len;
    long line; /* lines seen so far */
    char who[96];
};

struct live_src {
    struct live_in *li;
    int kind;
    char *name;
    unsigned flags;
    struct live_src_log log;
    struct evconnlistener *lis;
    char *unix_path; /* the socket file this host created (removed at free) */
    int port;
    struct live_conn *conns;
    long n_conns;
    uint64_t accepted;
    struct live_follow *follow;
    struct live_nats *nats;
    int done; /* standard input ended */
};

struct live_in {
    struct event_base *base;
    struct host *h;
    live_sink_fn sink;
    void *sink_arg;
    struct live_src **src;
    size_t n_src;
    int behind, held; /* stalled by live_in_set_behind / by the hold hook */
    int (*hold)(void *arg);
    void *hold_arg;
    struct event *hold_ev; /* polls the hold hook while held */
    void (*on_end)(void *arg, size_t input);
    void *end_arg;
    size_t buffered;
    double wall; /* wall clock at the start of the current batch (lag) */
    struct route_cache {   /* tags -> host route, so items are fed by index */
        char *key;         /* tags joined by 0x1f (owned); NULL = empty slot */
        int route;
    } *routes;
    size_t n_routes;
};

#define ROUTE_SLOTS (2 * LIVE_MAX_TAG_SETS)

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ delivery */

/* The host route of an item's tags: looked up once per distinct tag set (FNV-1a over the
 * tags in a table of ROUTE_SLOTS), at most LIVE_MAX_TAG_SETS of them. -1 with why. */
static int route_of(struct live_in *li, const struct live_item *it, char *why, size_t whylen)
{
    char key[LINEJSON_MAX_TAGS * 101 + 1];
    size_t len = 0;
    uint64_t hsh = 1469598103934665603ULL;
    for (size_t i = 0; i < it->n_tags; i++) {
        size_t n = strlen(it->tags[i]);
        if (len + n + 1 >= sizeof(key)) {
            snprintf(why, whylen, "tags too long");
            return -1;
        }
        memcpy(key + len, it->tags[i], n);
        len += n;
        key[len++] = 0x1f;
    }
    key[len] = '\0';
    for (size_t i = 0; i < len; i++)
        hsh = (hsh ^ (unsigned char)key[i]) * 1099511628211ULL;
    if (!li->routes && !(li->routes = calloc(ROUTE_SLOTS, sizeof(*li->routes)))) {
        snprintf(why, whylen, "out of memory routing the item");
        return -1;
    }
    size_t slot = (size_t)(hsh % ROUTE_SLOTS);
    while (li->routes[slot].key) {
        if (!strcmp(li->routes[slot].key, key))
            return li->routes[slot].route;
        slot = (slot + 1) % ROUTE_SLOTS;
    }
    if (li->n_routes >= LIVE_MAX_TAG_SETS) {
        snprintf(why, whylen, "more than %d distinct tag sets on the live inputs",
                 LIVE_MAX_TAG_SETS);
        return -1;
    }
    int r = host_route_id(li->h, it->tags, it->n_tags);
    if (r < 0 || !(li->routes[slot].key = strdup(key))) {
        snprintf(why, whylen, "out of memory routing the item");
        return -1;
    }
    li->routes[slot].route = r;
    li->n_routes++;
    return r;
}

static int host_sink(void *arg, const struct live_item *it, char *why, size_t whylen)
{
    struct live_in *li = arg;
    int route = route_of(li, it, why, whylen);
    if (route < 0)
        return -1;
    struct qmtl_value v = qmtl_none();
    if (it->is_bar) {
        v.type = QMTL_T_BAR;
        v.as.bar = it->bar;
    } else {
        v.type = QMTL_T_NUMBER;
        v.as.number = it->bar.close;
    }
    if (host_feed_route(li->h, route, it->ts, &v) < 0) {
        snprintf(why, whylen, "the host cannot take items (not started)");
        return -1;
    }
    return 0;
}

void live_in_bad_line_(struct live_in *li, struct live_src_log *log, const char *who, long line,
                       const char *why)
{
    if (li->h && log->metric >= 0)
        host_metrics_src(&li->h->metrics, log->metric)->bad_lines++;
    double t = mono_now();
    if (t - log->window >= 1.0) {
        if (log->suppressed)
            LOG_WARN("live", "live input %s: %ld more bad line(s) in one second not logged",
                     log->name, log->suppressed);
        log->window = t;
        log->logged = 0;
        log->suppressed = 0;
    }
    if (log->logged < LIVE_LOG_PER_S) {
        log->logged++;
        LOG_WARN("live", "live input %s: %s%sline %ld: %s (line skipped)", log->name, who,
                 *who ? " " : "", line, why);
    } else {
        log->suppressed++;
    }
}

int live_in_deliver_(struct live_in *li, struct live_src_log *log, const char *who, long line,
                     const struct live_item *it)
{
    char why[200];
    if (li->sink(li->sink_arg, it, why, sizeof(why)) < 0) {
        live_in_bad_line_(li, log, who, line, why);
        return -1;
    }
    if (li->h && log->metric >= 0)
        host_metrics_event(&li->h->metrics, log->metric, it->ts_ms, li->wall);
    return 0;
}

void live_in_stamp_(struct live_in *li)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    li->wall = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int live_in_behind_(const struct live_in *li)
{
    return li->behind || li->held;
}

struct host *live_in_host_(const struct live_in *li)
{
    return li->h;
}

struct event_base *live_in_base_(const struct live_in *li)
{
    return li->base;
}

/* ------------------------------------------------------------------ connections */

static void ended(struct live_in *li, struct live_src *s)
{
    for (size_t i = 0; i < li->n_src; i++)
        if (li->src[i] == s && li->on_end)
            li->on_end(li->end_arg, i);
}

static void refresh(struct live_in *li);

/* The hold hook says the host is behind: stall every input and look again every
 * LIVE_HOLD_POLL_MS. 1 while stalled (by the hook or by live_in_set_behind). */
int live_in_hold_check_(struct live_in *li)
{
    if (!li->held && li->hold && li->hold(li->hold_arg)) {
        li->held = 1;
        refresh(li);
        struct timeval tv = {0, LIVE_HOLD_POLL_MS * 1000};
        event_add(li->hold_ev, &tv);
    }
    return live_in_behind_(li);
}

static void hold_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct live_in *li = arg;
    if (li->hold && li->hold(li->hold_arg)) {
        struct timeval tv = {0, LIVE_HOLD_POLL_MS * 1000};
        event_add(li->hold_ev, &tv);
        return;
    }
    li->held = 0;
    refresh(li);
}

static void conn_free(struct live_conn *c)
{
    struct live_src *s = c->src;
    for (struct live_conn **pp = &s->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    s->n_conns--;
    if (s->li->h && s->log.metric >= 0)
        host_metrics_src(&s->li->h->metrics, s->log.metric)->connections--;
    s->li->buffered -= c->len;
    if (c->rd)
        event_free(c->rd);
    if (c->more)
        event_free(c->more);
    if (c->fd > STDIN_FILENO)
        close(c->fd);
    else if (c->fl_saved >= 0)
        fcntl(c->fd, F_SETFL, c->fl_saved);
    free(c->buf);
    free(c);
}

/* Read only while the buffer has room, the host is not behind and data may still come. */
static void conn_update(struct live_conn *c)
{
    int want = !live_in_behind_(c->src->li) && !c->eof && c->len <= LIVE_LINE_MAX;
    if (!c->rd) {
        if (want)
            event_active(c->more, EV_READ, 0);
        return;
    }
    if (want && !c->rd_on)
        event_add(c->rd, NULL);
    else if (!want && c->rd_on)
        event_del(c->rd);
    c->rd_on = want;
}

/* Hand up to LIVE_BATCH complete lines to the sink. 1 when complete lines are left. */
static int conn_lines(struct live_conn *c)
{
    struct live_src *s = c->src;
    struct live_in *li = s->li;
    size_t pos = 0;
    int n = 0;
    unsigned lf = s->flags & LIVE_ALLOW_NONPOSITIVE ? LINEJSON_ALLOW_NONPOSITIVE : 0;
    live_in_stamp_(li);
    while (n < LIVE_BATCH && !live_in_behind_(li)) {
        char *start = c->buf + pos;
        char *nl = memchr(start, '\n', c->len - pos);
        size_t len;
        if (nl) {
            len = (size_t)(nl - start);
        } else if (c->eof && pos < c->len) {
            len = c->len - pos; /* the last line without its newline: the spare byte */
        } else {
            break;
        }
        pos += len + (nl != NULL);
        if (c->discarding) { /* the end of a line that was too long */
            c->discarding = 0;
            continue;
        }
        c->line++;
        n++;
        struct linejson_item it;
        char why[200];
        int rc = linejson_parse(start, len, lf, &it, why, sizeof(why));
        if (rc < 0) {
            live_in_bad_line_(li, &s->log, c->who, c->line, why);
        } else if (rc == 1) {
            struct live_item item = {.tags = it.tags,
                                     .n_tags = it.n_tags,
                                     .ts = it.ts,
                                     .ts_ms = it.ts_ms,
                                     .bar = it.bar,
                                     .is_bar = it.is_bar};
            live_in_deliver_(li, &s->log, c->who, c->line, &item);
        }
    }
    if (pos) {
        memmove(c->buf, c->buf + pos, c->len - pos);
        c->len -= pos;
        li->buffered -= pos;
    }
    if (c->len > LIVE_LINE_MAX && !memchr(c->buf, '\n', c->len)) {
        /* a line longer than the buffer: refuse it, skip to its end */
        char why[96];
        snprintf(why, sizeof(why), "line longer than %d bytes", LIVE_LINE_MAX);
        if (!c->discarding)
            live_in_bad_line_(li, &s->log, c->who, ++c->line, why);
        li->buffered -= c->len;
        c->len = 0;
        c->discarding = 1;
    }
    return c->len && (memchr(c->buf, '\n', c->len) || c->eof);
}

/* Process what is buffered; go on later if lines are left; close at the end. */
static void conn_pump(struct live_conn *c)
{
    struct live_in *li = c->src->li;
    if (live_in_hold_check_(li))
        return;
    int left = conn_lines(c);
    if (c->eof && !c->len) {
        struct live_src *s = c->src;
        if (s->kind == SRC_STDIN) {
            LOG_INFO("live", "live input %s: end of input after %ld line(s)", s->name, c->line);
            s->done = 1;
            ended(li, s);
            conn_free(c);
            return;
        } else {
            LOG_INFO("live", "live input %s: %s disconnected after %ld line(s)", s->name, c->who,
                     c->line);
        }
        conn_free(c);
        return;
    }
    if (left)
        event_active(c->more, EV_READ, 0);
    conn_update(c);
}

static void conn_read(struct live_conn *c)
{
    size_t room = LIVE_LINE_MAX + 1 - c->len;
    if (room == 0 || c->eof) {
        conn_pump(c);
        return;
    }
    ssize_t r = read(c->fd, c->buf + c->len, room);
    if (r > 0) {
        c->len += (size_t)r;
        c->src->li->buffered += (size_t)r;
    } else if (r == 0) {
        c->eof = 1;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        LOG_WARN("live", "live input %s: %s: read failed: %s", c->src->name, c->who,
                 strerror(errno));
        c->eof = 1;
    }
    conn_pump(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_read(arg);
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct live_conn *c = arg;
    if (!c->rd)
        conn_read(c); /* not pollable: always readable */
    else
        conn_pump(c);
}

static struct live_conn *conn_new(struct live_src *s, int fd, const char *who)
{
    struct live_in *li = s->li;
    struct live_conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->buf = malloc(LIVE_LINE_MAX + 2)) ||
        !(c->more = event_new(li->base, -1, 0, on_more, c))) {
        if (c)
            free(c->buf);
        free(c);
        return NULL;
    }
    c->src = s;
    c->fd = fd;
    snprintf(c->who, sizeof(c->who), "%s", who);
    c->fl_saved = fcntl(fd, F_GETFL);
    evutil_make_socket_nonblocking(fd);
    struct stat st;
    int pollable = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
                   !(S_ISCHR(st.st_mode) && !isatty(fd)); /* epoll refuses files, /dev/null */
    c->rd = pollable ? event_new(li->base, fd, EV_READ | EV_PERSIST, on_readable, c) : NULL;
    if (c->rd && event_add(c->rd, NULL) < 0) {
        event_free(c->rd); /* a regular file or /dev/null: read it as fast as it goes */
        c->rd = NULL;
    }
    c->rd_on = c->rd != NULL;
    c->next = s->conns;
    s->conns = c;
    s->n_conns++;
    s->accepted++;
    if (li->h && s->log.metric >= 0) {
        struct host_metrics_source *m = host_metrics_src(&li->h->metrics, s->log.metric);
        m->connections++;
        m->connections_total++;
    }
    conn_update(c);
    return c;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)len;
    struct live_src *s = arg;
    char who[96];
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
        char host[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (sa->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
            inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
            port = ntohs(in->sin_port);
        } else {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
            inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
            port = ntohs(in6->sin6_port);
        }
        snprintf(who, sizeof(who), "publisher %s:%d", host, port);
    } else {
        snprintf(who, sizeof(who), "publisher #%llu", (unsigned long long)s->accepted + 1);
    }
    if (s->n_conns >= LIVE_MAX_CONNS) {
        LOG_WARN("live", "live input %s: %s refused: %d publishers already connected", s->name,
                 who, LIVE_MAX_CONNS);
        close(fd);
        return;
    }
    if (!conn_new(s, fd, who)) {
        LOG_ERROR("live", "live input %s: %s refused: out of memory", s->name, who);
        close(fd);
        return;
    }
    LOG_INFO("live", "live input %s: %s connected", s->name, who);
}

/* ------------------------------------------------------------------ inputs */

struct live_in *live_in_new(struct event_base *base, struct host *h)
{
    struct live_in *li = calloc(1, sizeof(*li));
    if (!li || !(li->hold_ev = evtimer_new(base, hold_poll, li))) {
        free(li);
        return NULL;
    }
    li->base = base;
    li->h = h;
    li->sink = host_sink;
    li->sink_arg = li;
    return li;
}

void live_in_set_sink(struct live_in *li, live_sink_fn fn, void *arg)
{
    li->sink = fn;
    li->sink_arg = arg;
}

void live_in_set_on_end(struct live_in *li, void (*fn)(void *arg, size_t input), void *arg)
{
    li->on_end = fn;
    li->end_arg = arg;
}

void live_in_set_hold(struct live_in *li, int (*held)(void *arg), void *arg)
{
    li->hold = held;
    li->hold_arg = arg;
}

int live_in_is_spec(const char *spec)
{
    return !strcmp(spec, "-") || !strcmp(spec, "stdin") || !strncmp(spec, "tcp:", 4) ||
           !strncmp(spec, "unix:", 5) || !strncmp(spec, "follow:", 7) || live_nats_is_spec(spec);
}

static int listen_tcp(struct live_src *s, const char *hp, char *err, size_t errlen)
{
    const char *colon = strrchr(hp, ':');
    char host[256];
    if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof(host) || !colon[1]) {
        snprintf(err, errlen, "live input %s: expected tcp:HOST:PORT", s->name);
        return -1;
    }
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1] */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "live input %s: bad port '%s'", s->name, colon + 1);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "live input %s: cannot resolve '%s': %s", s->name, host,
                 gai_strerror(rc));
        return -1;
    }
    s->lis = evconnlistener_new_bind(s->li->base, on_accept, s,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     128, ai->ai_addr, (int)ai->ai_addrlen);
    int e = errno;
    freeaddrinfo(ai);
    if (!s->lis) {
        snprintf(err, errlen, "live input %s: cannot listen: %s", s->name, strerror(e));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    s->port = (int)port;
    if (getsockname(evconnlistener_get_fd(s->lis), (struct sockaddr *)&ss, &sl) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

/* A socket file nobody listens on any more (a host that died): 1. */
static int stale_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    int rc = connect(fd, (struct sockaddr *)&un, sizeof(un));
    int e = errno;
    close(fd);
    return rc < 0 && e == ECONNREFUSED;
}

static int listen_unix(struct live_src *s, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    if (!*path || strlen(path) >= sizeof(un.sun_path)) {
        snprintf(err, errlen, "live input %s: the socket path must be 1..%zu bytes", s->name,
                 sizeof(un.sun_path) - 1);
        return -1;
    }
    memcpy(un.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "live input %s: '%s' exists and is not a socket", s->name,
                     path);
            return -1;
        }
        if (!stale_socket(path)) {
            snprintf(err, errlen, "live input %s: '%s' is in use by another process", s->name,
                     path);
            return -1;
        }
        unlink(path);
    }
    mode_t old = umask(077); /* the socket file: owner only */
    s->lis = evconnlistener_new_bind(s->li->base, on_accept, s,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
                                     (struct sockaddr *)&un, (int)sizeof(un));
    int e = errno;
    umask(old);
    if (!s->lis) {
        snprintf(err, errlen, "live input %s: cannot listen: %s", s->name, strerror(e));
        return -1;
    }
    if (!(s->unix_path = strdup(path))) {
        snprintf(err, errlen, "live input %s: out of memory", s->name);
        return -1;
    }
    return 0;
}

static void src_free(struct live_src *s)
{
    if (!s)
        return;
    while (s->conns)
        conn_free(s->conns);
    if (s->lis)
        evconnlistener_free(s->lis);
    if (s->unix_path)
        unlink(s->unix_path);
    free(s->unix_path);
    live_follow_free(s->follow);
    live_nats_free(s->nats);
    free(s->name);
    free(s);
}

int live_in_add(struct live_in *li, const char *spec, const char *const *tags, size_t n_tags,
                unsigned flags, char *err, size_t errlen)
{
    int kind = !strncmp(spec, "tcp:", 4)      ? SRC_TCP
               : !strncmp(spec, "unix:", 5)   ? SRC_UNIX
               : !strncmp(spec, "follow:", 7) ? SRC_FOLLOW
               : live_nats_is_spec(spec)      ? SRC_NATS
               : (!strcmp(spec, "-") || !strcmp(spec, "stdin")) ? SRC_STDIN
                                                                : -1;
    if (kind < 0) {
        snprintf(err, errlen,
                 "live input '%s': want tcp:HOST:PORT, unix:PATH, -, follow:PATH or "
                 "nats://HOST:PORT/SUBJECT",
                 spec);
        return -1;
    }
    if (kind == SRC_FOLLOW && n_tags == 0) {
        snprintf(err, errlen, "live input %s: a followed CSV file needs tags (TAGS=follow:PATH)",
                 spec);
        return -1;
    }
    if (kind != SRC_FOLLOW && kind != SRC_NATS && n_tags) {
        snprintf(err, errlen,
                 "live input %s: JSON lines carry their own tags; give the input without tags",
                 spec);
        return -1;
    }
    for (size_t i = 0; kind == SRC_STDIN && i < li->n_src; i++)
        if (li->src[i]->kind == SRC_STDIN) {
            snprintf(err, errlen, "live input %s: standard input is given twice", spec);
            return -1;
        }
    struct live_src **ns = realloc(li->src, (li->n_src + 1) * sizeof(*ns));
    if (!ns) {
        snprintf(err, errlen, "live input %s: out of memory", spec);
        return -1;
    }
    li->src = ns;
    struct live_src *s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(kind == SRC_STDIN ? "stdin" : spec))) {
        free(s);
        snprintf(err, errlen, "live input %s: out of memory", spec);
        return -1;
    }
    s->li = li;
    s->kind = kind;
    s->flags = flags;
    s->port = -1;
    s->log.name = s->name;
    s->log.metric = li->h ? host_metrics_source(&li->h->metrics, s->name) : -1;
    int rc = 0;
    if (kind == SRC_TCP) {
        rc = listen_tcp(s, spec + 4, err, errlen);
    } else if (kind == SRC_UNIX) {
        rc = listen_unix(s, spec + 5, err, errlen);
    } else if (kind == SRC_FOLLOW) {
        s->follow = live_follow_new(li, s->name, spec + 7, tags, n_tags, flags, err, errlen);
        rc = s->follow ? 0 : -1;
    } else if (kind == SRC_NATS) {
        s->nats = live_nats_new(li, s->name, spec, tags, n_tags, flags, err, errlen);
        rc = s->nats ? 0 : -1;
    } else if (!conn_new(s, STDIN_FILENO, "stdin")) {
        snprintf(err, errlen, "live input %s: out of memory", spec);
        rc = -1;
    }
    if (rc) {
        src_free(s);
        return -1;
    }
    li->src[li->n_src++] = s;
    if (kind == SRC_TCP)
        LOG_INFO("live", "live input %s: listening on port %d", s->name, s->port);
    else if (kind == SRC_UNIX)
        LOG_INFO("live", "live input %s: listening", s->name);
    return 0;
}

void live_in_set_behind(struct live_in *li, int behind)
{
    if (li->behind == !!behind)
        return;
    li->behind = !!behind;
    refresh(li);
}

/* Re-arm or stop every input after the stalled state changed. */
static void refresh(struct live_in *li)
{
    int behind = live_in_behind_(li);
    for (size_t i = 0; i < li->n_src; i++) {
        struct live_src *s = li->src[i];
        for (struct live_conn *c = s->conns; c; c = c->next) {
            conn_update(c);
            if (!behind && c->len)
                event_active(c->more, EV_READ, 0);
        }
        if (s->lis) {
            if (behind)
                evconnlistener_disable(s->lis);
            else
                evconnlistener_enable(s->lis);
        }
        if (s->follow && !behind)
            live_follow_kick(s->follow);
        if (s->nats && !behind)
            live_nats_kick(s->nats);
    }
}

int live_in_port(const struct live_in *li, size_t i)
{
    return i < li->n_src && li->src[i]->kind == SRC_TCP ? li->src[i]->port : -1;
}

size_t live_in_count(const struct live_in *li)
{
    return li->n_src;
}

size_t live_in_buffered(const struct live_in *li)
{
    return li->buffered;
}

void live_in_free(struct live_in *li)
{
    if (!li)
        return;
    for (size_t i = 0; i < li->n_src; i++)
        src_free(li->src[i]);
    free(li->src);
    for (size_t i = 0; li->routes && i < ROUTE_SLOTS; i++)
        free(li->routes[i].key);
    free(li->routes);
    event_free(li->hold_ev);
    free(li);
}
