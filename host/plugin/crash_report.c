/* crash_report: the crash line and the crash record (see crash_report.h). */
#include "host/plugin/crash_report.h"

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host_api.h"

static struct host *crash_host;
static const char *crash_prefix = "qmtl";
static char record_path[PATH_MAX];

struct note {
    char *path;
    char hash[80];
};
static struct note *notes;
static size_t n_notes, cap_notes;

int crash_report_set_record(const char *path)
{
    if (!path) {
        record_path[0] = '\0';
        return 0;
    }
    if (strlen(path) >= sizeof(record_path)) {
        record_path[0] = '\0';
        return -1;
    }
    memcpy(record_path, path, strlen(path) + 1);
    return 0;
}

int crash_report_note(const char *plugin_path, const char *hash)
{
    for (size_t i = 0; i < n_notes; i++)
        if (!strcmp(notes[i].path, plugin_path)) {
            snprintf(notes[i].hash, sizeof(notes[i].hash), "%s", hash);
            return 0;
        }
    if (n_notes == cap_notes) {
        size_t cap = cap_notes ? cap_notes * 2 : 16;
        struct note *n = realloc(notes, cap * sizeof(*n));
        if (!n)
            return -1;
        notes = n;
        cap_notes = cap;
    }
    struct note *n = &notes[n_notes];
    if (!(n->path = strdup(plugin_path)))
        return -1;
    snprintf(n->hash, sizeof(n->hash), "%s", hash);
    n_notes++;
    return 0;
}

void crash_report_clear_notes(void)
{
    for (size_t i = 0; i < n_notes; i++)
        free(notes[i].path);
    free(notes);
    notes = NULL;
    n_notes = cap_notes = 0;
}

/* ---- async-signal-safe from here on: write(2) and memory read as it is */

static void put_fd(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void fmt_int(long v, char *buf, size_t len)
{
    char tmp[24];
    int i = (int)sizeof(tmp) - 1;
    tmp[i] = 0;
    int neg = v < 0;
    unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u && i > 1);
    if (neg)
        tmp[--i] = '-';
    size_t k = strlen(tmp + i);
    if (k >= len)
        k = len - 1;
    memcpy(buf, tmp + i, k);
    buf[k] = 0;
}

static void write_record(const struct host_strategy *st, const struct graph_node *n, int sig)
{
    if (!record_path[0])
        return;
    int fd = open(record_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    const char *base = strrchr(st->path, '/');
    base = base ? base + 1 : st->path;
    const char *hash = "";
    for (size_t i = 0; i < n_notes; i++)
        if (!strcmp(notes[i].path, st->path))
            hash = notes[i].hash;
    char num[24];
    fmt_int(sig, num, sizeof(num));
    put_fd(fd, "file=");
    put_fd(fd, base);
    put_fd(fd, "\nhash=");
    put_fd(fd, hash);
    put_fd(fd, "\nstrategy=");
    put_fd(fd, st->name);
    if (n) {
        put_fd(fd, "\nwhere=node '");
        put_fd(fd, n->label);
        put_fd(fd, "' (");
        put_fd(fd, n->id);
        put_fd(fd, ")");
    } else {
        put_fd(fd, "\nwhere=setup()");
    }
    put_fd(fd, "\nsignal=");
    put_fd(fd, num);
    put_fd(fd, "\n");
    fsync(fd);
    close(fd);
}

static void crash_handler(int sig)
{
    struct host *h = crash_host;
    const struct rt_node *rn = sched_running_node();
    const struct graph_node *n = rn ? rn->node : NULL;
    char num[24];
    fmt_int(sig, num, sizeof(num));
    put_fd(2, crash_prefix);
    if (h && n && rn->ctx) {
        /* the strategy whose binding runs (a shared node: its primary owner) */
        const struct host_strategy *st = (const struct host_strategy *)((const char *)rn->ctx -
                                                                         offsetof(struct host_strategy, ctx));
        put_fd(2, ": plugin '");
        put_fd(2, st->name);
        put_fd(2, "': node '");
        put_fd(2, n->label);
        put_fd(2, "' (");
        put_fd(2, n->id);
        put_fd(2, ") crashed with signal ");
        put_fd(2, num);
        put_fd(2, "\n");
        write_record(st, n, sig);
    } else if (h && h->in_setup > 0 && h->setup_name) {
        put_fd(2, ": plugin '");
        put_fd(2, h->setup_name);
        put_fd(2, "': setup() crashed with signal ");
        put_fd(2, num);
        put_fd(2, "\n");
        /* a registered strategy (a staged one, set up by a DAG swap, is not: no record) */
        for (size_t i = 0; i < h->n_st; i++)
            if (!strcmp(h->st[i]->name, h->setup_name)) {
                write_record(h->st[i], NULL, sig);
                break;
            }
    } else {
        put_fd(2, ": crashed with signal ");
        put_fd(2, num);
        put_fd(2, "\n");
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void host_install_crash_report(struct host *h, const char *prefix)
{
    crash_host = h;
    if (prefix)
        crash_prefix = prefix;
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = crash_handler;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}
