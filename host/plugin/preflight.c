/* preflight: a plugin tried in a forked child before it enters the host (see preflight.h). */
#include "host/plugin/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/plugin/loader.h"
#include "log.h"

/*
 * Child -> parent, one line each, in order:
 *   "M<name>"   the copy is mapped and its descriptor valid (constructors have run)
 *   "E<line>"   refused: the loader's or the graph's one-line message
 *   "F"         setup() returned an error (not a preflight refusal: see preflight.h)
 *   "K"         setup() and the graph are fine
 */
#define REPORT_MAX 2048

/*
 * A plugin may call exit() in the child: under LeakSanitizer the at-exit leak check would
 * then report the child's deliberately unreleased host and change its exit status. LSan
 * asks this (optional) hook before checking; only the preflight child says yes.
 */
static volatile int in_child;
int __lsan_is_turned_off(void) __attribute__((visibility("default"), used));
int __lsan_is_turned_off(void)
{
    return in_child;
}

static void send_line(int fd, char tag, const char *text)
{
    char buf[REPORT_MAX];
    int n = snprintf(buf, sizeof(buf), "%c%s\n", tag, text ? text : "");
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    buf[len - 1] = '\n';
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        done += (size_t)w;
    }
}

static void copy_params(struct host *dst, const struct host *src)
{
    for (size_t i = 0; src && i < src->n_params; i++)
        host_set_param(dst, src->params[i].strategy, src->params[i].key, src->params[i].value);
}

/* In the child: never returns. */
static void child(int fd, const char *copy, const char *path, const struct preflight_options *o)
{
    /* die with the parent; a crash is reported by the signal, not by the host's handler */
    in_child = 1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE, SIGALRM};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    log_set_level((enum log_level)(LOG_LEVEL_ERROR + 1)); /* the real load logs */
    char err[1024];
    struct plugin *p = NULL;
    if (plugin_map(copy, path, &p, err, sizeof(err)) < 0) {
        send_line(fd, 'E', err);
        _exit(0);
    }
    send_line(fd, 'M', p->desc->name);
    struct host h;
    if (host_init(&h, o && o->host ? &o->host->opt : NULL) < 0) {
        send_line(fd, 'E', "out of memory");
        _exit(0);
    }
    copy_params(&h, o ? o->host : NULL);
    if (host_add_strategy(&h, p->desc, path, NULL, err, sizeof(err)) < 0) {
        send_line(fd, 'F', NULL);
        _exit(0);
    }
    if (host_finalize(&h, err, sizeof(err)) < 0) {
        char line[1200];
        snprintf(line, sizeof(line), "plugin '%s' (%s): graph: %s", p->desc->name, path, err);
        send_line(fd, 'E', line);
        _exit(0);
    }
    if (h.n_st && h.st[0]->stopped) { /* e.g. a tag query matching its own downstream */
        char line[1200];
        snprintf(line, sizeof(line), "plugin '%s' (%s): graph: %s", p->desc->name, path,
                 h.st[0]->error);
        send_line(fd, 'E', line);
        _exit(0);
    }
    send_line(fd, 'K', NULL);
    _exit(0); /* no teardown, no atexit handlers, no stdio flush of the parent's buffers */
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Read the child's report until EOF or the deadline; 1 EOF, 0 deadline passed. */
static int read_report(int fd, double deadline, char *buf, size_t cap, size_t *len)
{
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            continue; /* deadline re-checked above */
        char tmp[512];
        ssize_t r = read(fd, tmp, sizeof(tmp));
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return 1;
        size_t take = (size_t)r < cap - 1 - *len ? (size_t)r : cap - 1 - *len;
        memcpy(buf + *len, tmp, take);
        *len += take;
        buf[*len] = '\0';
    }
}

/* Wait for the child until the deadline, then kill it. 1 exited in time, 0 killed. */
static int reap(pid_t pid, double deadline, int *status)
{
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 1;
        if (w < 0 && errno != EINTR)
            return 1;
        if (now_s() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return 0;
        }
        poll(NULL, 0, 5);
    }
}

/* The line starting with 'tag' in the report, copied (escaped) into out; NULL if none. */
static const char *find_line(const char *report, char tag, char *out, size_t outlen)
{
    for (const char *l = report; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        if (*l == tag)
            return log_escape(l + 1, n - 1, out, outlen);
        if (!nl)
            break;
        l = nl + 1;
    }
    return NULL;
}

int preflight_run(const char *copy, const char *path, void *arg, char *err, size_t errlen)
{
    const struct preflight_options *o = arg;
    double limit = o && o->timeout_s > 0 ? o->timeout_s : PREFLIGHT_DEFAULT_TIMEOUT_S;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "plugin '%s': preflight: cannot create a pipe: %s", path,
                 strerror(errno));
        return -1;
    }
    fflush(NULL); /* nothing buffered is written twice */
    double deadline = now_s() + limit;
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "plugin '%s': preflight: cannot fork: %s", path, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], copy, path, o);
    }
    close(fds[1]);
    char report[REPORT_MAX * 2] = "";
    size_t len = 0;
    int eof = read_report(fds[0], deadline, report, sizeof(report), &len);
    close(fds[0]);
    int status = 0;
    int in_time = reap(pid, eof ? deadline : 0, &status);

    char name[128], line[1100];
    const char *nm = find_line(report, 'M', name, sizeof(name));
    const char *stage = nm ? "setup()" : "loading (ELF constructor)";
    const char *during = nm ? "in setup()" : "while loading (in an ELF constructor)";
    char who[700];
    if (nm)
        snprintf(who, sizeof(who), "plugin '%s' (%s)", nm, path);
    else
        snprintf(who, sizeof(who), "plugin '%s'", path);

    if (find_line(report, 'E', line, sizeof(line))) {
        snprintf(err, errlen, "%s", line);
        return -1;
    }
    if (!eof || !in_time) {
        snprintf(err, errlen, "%s: refused by preflight: %s did not finish within %g s (killed)",
                 who, stage, limit);
        return -1;
    }
    int reported =
        find_line(report, 'K', line, sizeof(line)) || find_line(report, 'F', line, sizeof(line));
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(err, errlen, "%s: refused by preflight: crashed with signal %d (%s) %s", who, sig,
                 strsignal(sig), reported ? "after setup()" : during);
        return -1;
    }
    if (!reported) {
        snprintf(err, errlen, "%s: refused by preflight: exited with status %d %s", who,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, during);
        return -1;
    }
    return 0;
}
