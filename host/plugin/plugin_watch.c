/* plugin_watch: inotify + rescan + settle for a plugins directory (see plugin_watch.h). */
#include "host/plugin/plugin_watch.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct pw_fp {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
};

struct pw_entry {
    char *name;
    struct pw_fp done; /* last version handed over (valid when has_done) */
    struct pw_fp seen; /* last version observed */
    double seen_at;    /* when 'seen' was first observed */
    double active_at;  /* last write/attribute event (IN_MODIFY...) */
    int has_done;
    int has_seen;
    int dirty;   /* look at it at the next pass */
    int trigger; /* renamed in or closed after writing: try without settling */
    int listed;  /* seen by the scan in progress */
};

struct plugin_watch {
    struct event_base *base;
    char *dir;
    int dirfd;
    int ifd; /* inotify, or -1 */
    struct event *ev_inotify, *ev_pass, *ev_rescan;
    double pass_at; /* when ev_pass fires (monotonic seconds) */
    struct plugin_watch_options o;
    plugin_watch_fn fn;
    void *arg;
    struct pw_entry *e;
    size_t n, cap;
    struct plugin_watch_stats stats;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timeval tv_of(double s)
{
    if (s < 0)
        s = 0;
    struct timeval tv = {(time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6)};
    return tv;
}

int plugin_watch_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && name[0] != '.' && !strcmp(name + n - 3, ".so");
}

static int fp_eq(const struct pw_fp *a, const struct pw_fp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

/* 1 and *fp for a regular file, 0 when it is gone or not a regular file. */
static int fp_stat(struct plugin_watch *w, const char *name, struct pw_fp *fp)
{
    struct stat st;
    if (fstatat(w->dirfd, name, &st, 0) || !S_ISREG(st.st_mode))
        return 0;
    fp->dev = st.st_dev;
    fp->ino = st.st_ino;
    fp->size = st.st_size;
    fp->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 1;
}

static struct pw_entry *entry_find(struct plugin_watch *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->e[i].name, name))
            return &w->e[i];
    return NULL;
}

static struct pw_entry *entry_get(struct plugin_watch *w, const char *name)
{
    struct pw_entry *e = entry_find(w, name);
    if (e)
        return e;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        struct pw_entry *ne = realloc(w->e, cap * sizeof(*ne));
        if (!ne)
            return NULL;
        w->e = ne;
        w->cap = cap;
    }
    e = &w->e[w->n];
    memset(e, 0, sizeof(*e));
    if (!(e->name = strdup(name)))
        return NULL;
    w->n++;
    return e;
}

static void entry_drop(struct plugin_watch *w, size_t i)
{
    free(w->e[i].name);
    w->e[i] = w->e[--w->n];
}

static void schedule_pass(struct plugin_watch *w, double delay)
{
    double at = now_s() + delay;
    if (evtimer_pending(w->ev_pass, NULL) && w->pass_at <= at)
        return; /* an earlier pass is already due */
    struct timeval tv = tv_of(delay);
    w->pass_at = at;
    evtimer_add(w->ev_pass, &tv);
}

static int callback(struct plugin_watch *w, enum plugin_watch_kind kind, const char *name,
                    int final)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", w->dir, name);
    struct plugin_watch_event ev = {.kind = kind, .path = path, .final = final};
    return w->fn(w->arg, &ev);
}

/*
 * Look at every dirty entry: hand over what is new and ready, and return the delay until
 * the next entry settles (< 0: none waiting).
 */
static double pass(struct plugin_watch *w)
{
    double next = -1;
    for (size_t i = 0; i < w->n;) {
        struct pw_entry *e = &w->e[i];
        if (!e->dirty) {
            i++;
            continue;
        }
        struct pw_fp fp;
        if (!fp_stat(w, e->name, &fp)) {
            char name[NAME_MAX + 1];
            snprintf(name, sizeof(name), "%s", e->name);
            int had = e->has_done;
            entry_drop(w, i); /* slot i now holds another entry: look at it next */
            if (had) {
                w->stats.removals++;
                callback(w, PLUGIN_WATCH_REMOVED, name, 1);
            }
            continue;
        }
        if (e->has_done && fp_eq(&fp, &e->done)) {
            e->dirty = e->trigger = 0;
            i++;
            continue;
        }
        double t = now_s();
        if (!e->has_seen || !fp_eq(&fp, &e->seen)) {
            e->seen = fp;
            e->has_seen = 1;
            e->seen_at = t;
        }
        double quiet_since = e->seen_at > e->active_at ? e->seen_at : e->active_at;
        int settled = t - quiet_since >= w->o.settle_s;
        if (!e->trigger && !settled) {
            double left = quiet_since + w->o.settle_s - t;
            if (next < 0 || left < next)
                next = left;
            i++;
            continue;
        }
        e->trigger = 0;
        w->stats.attempts++;
        /* the callback cannot reach the watcher: the entry array stays where it is */
        char name[NAME_MAX + 1];
        snprintf(name, sizeof(name), "%s", e->name);
        int rc = callback(w, PLUGIN_WATCH_CHANGED, name, settled);
        e = &w->e[i];
        if (rc == 0 || settled) {
            if (rc)
                w->stats.failures++;
            e->done = fp;
            e->has_done = 1;
            e->dirty = 0;
        } else {
            w->stats.failures++;
            double left = w->o.settle_s - (now_s() - quiet_since);
            if (left < 0)
                left = 0;
            if (next < 0 || left < next)
                next = left;
        }
        i++;
    }
    return next;
}

static void run_pass(struct plugin_watch *w)
{
    double next = pass(w);
    if (next >= 0)
        schedule_pass(w, next + 0.001);
}

static void pass_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_pass(arg);
}

/* List the directory: new names become entries, every entry is looked at again. */
static void scan(struct plugin_watch *w, int trigger)
{
    w->stats.rescans++;
    for (size_t i = 0; i < w->n; i++)
        w->e[i].listed = 0;
    int fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        LOG_WARN("reload", "cannot list plugins directory '%s': %s", w->dir, strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!plugin_watch_name_ok(de->d_name))
            continue;
        struct pw_entry *e = entry_get(w, de->d_name);
        if (!e)
            continue; /* out of memory: the next scan tries again */
        e->listed = 1;
    }
    closedir(d);
    for (size_t i = 0; i < w->n; i++) {
        w->e[i].dirty = 1;
        if (trigger && w->e[i].listed)
            w->e[i].trigger = 1;
    }
}

static void rescan_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct plugin_watch *w = arg;
    scan(w, 0);
    run_pass(w);
}

void plugin_watch_rescan(struct plugin_watch *w)
{
    if (!w)
        return;
    scan(w, 1);
    run_pass(w);
}

static void inotify_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct plugin_watch *w = arg;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int any = 0, now = 0;
    for (;;) {
        ssize_t len = read(fd, buf, sizeof(buf));
        if (len <= 0)
            break;
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ie = (const struct inotify_event *)p;
            p += sizeof(*ie) + ie->len;
            w->stats.inotify_events++;
            if (ie->mask & IN_Q_OVERFLOW) {
                w->stats.overflows++;
                LOG_WARN("reload", "inotify queue overflow on '%s': rescanning", w->dir);
                scan(w, 0);
                any = 1;
                continue;
            }
            if (ie->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                LOG_WARN("reload", "plugins directory '%s' was removed or moved: "
                                   "only the periodic rescan watches it now", w->dir);
                continue;
            }
            if (!ie->len || !plugin_watch_name_ok(ie->name))
                continue;
            struct pw_entry *e = entry_get(w, ie->name);
            if (!e)
                continue;
            e->dirty = 1;
            any = 1;
            if (ie->mask & (IN_MOVED_TO | IN_CLOSE_WRITE)) {
                e->trigger = 1;
                now = 1;
            } else if (ie->mask & (IN_DELETE | IN_MOVED_FROM)) {
                now = 1;
            } else {
                e->active_at = now_s(); /* IN_CREATE, IN_MODIFY, IN_ATTRIB: still changing */
            }
        }
    }
    if (now)
        schedule_pass(w, w->o.coalesce_s);
    else if (any)
        schedule_pass(w, w->o.settle_s);
}

struct plugin_watch *plugin_watch_new(struct event_base *base, const char *dir,
                                      const struct plugin_watch_options *o, plugin_watch_fn fn,
                                      void *arg, char *err, size_t errlen)
{
    struct plugin_watch *w = calloc(1, sizeof(*w));
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->base = base;
    w->fn = fn;
    w->arg = arg;
    w->ifd = -1;
    w->dirfd = -1;
    if (o)
        w->o = *o;
    if (w->o.settle_s <= 0)
        w->o.settle_s = PLUGIN_WATCH_SETTLE_S;
    if (w->o.rescan_s <= 0)
        w->o.rescan_s = PLUGIN_WATCH_RESCAN_S;
    if (w->o.coalesce_s <= 0)
        w->o.coalesce_s = PLUGIN_WATCH_COALESCE_S;
    if ((w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot watch plugins directory '%s': %s", dir, strerror(errno));
        goto fail;
    }
    if (!w->o.no_inotify) {
        w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                        IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
        if (w->ifd < 0 || inotify_add_watch(w->ifd, dir, mask) < 0) {
            LOG_WARN("reload", "no inotify on '%s' (%s): rescanning every %g s", dir,
                     strerror(errno), w->o.rescan_s);
            if (w->ifd >= 0)
                close(w->ifd);
            w->ifd = -1;
        }
    }
    w->ev_pass = evtimer_new(base, pass_cb, w);
    w->ev_rescan = event_new(base, -1, EV_PERSIST, rescan_cb, w);
    if (w->ifd >= 0)
        w->ev_inotify = event_new(base, w->ifd, EV_READ | EV_PERSIST, inotify_cb, w);
    struct timeval rtv = tv_of(w->o.rescan_s);
    if (!w->ev_pass || !w->ev_rescan || (w->ifd >= 0 && !w->ev_inotify) ||
        event_add(w->ev_rescan, &rtv) || (w->ev_inotify && event_add(w->ev_inotify, NULL))) {
        snprintf(err, errlen, "cannot watch plugins directory '%s': event loop error", dir);
        goto fail;
    }
    /* the first listing: adopted as handed over, or reported as new at the first pass */
    scan(w, 0);
    w->stats.rescans = 0;
    for (size_t i = 0; i < w->n; i++) {
        struct pw_entry *e = &w->e[i];
        if (w->o.adopt && fp_stat(w, e->name, &e->done)) {
            e->has_done = 1;
            e->dirty = 0;
        } else {
            e->trigger = 1;
        }
    }
    if (!w->o.adopt && w->n)
        schedule_pass(w, 0);
    return w;
fail:
    plugin_watch_free(w);
    return NULL;
}

void plugin_watch_free(struct plugin_watch *w)
{
    if (!w)
        return;
    if (w->ev_inotify)
        event_free(w->ev_inotify);
    if (w->ev_pass)
        event_free(w->ev_pass);
    if (w->ev_rescan)
        event_free(w->ev_rescan);
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    while (w->n)
        entry_drop(w, w->n - 1);
    free(w->e);
    free(w->dir);
    free(w);
}

void plugin_watch_get_stats(const struct plugin_watch *w, struct plugin_watch_stats *out)
{
    *out = w->stats;
}

const char *plugin_watch_dir(const struct plugin_watch *w)
{
    return w->dir;
}
