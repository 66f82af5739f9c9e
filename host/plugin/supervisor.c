/* supervisor: fork the host, restart it after a crash (see supervisor.h). */
#include "host/plugin/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t stopping;
static int restarts;

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP};
#define N_FORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static void forward(int sig)
{
    if (sig != SIGHUP)
        stopping = 1;
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int crash_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGABRT;
}

/* Sleep up to s seconds; ends early when a stop signal arrives. */
static void backoff(double s)
{
    double end = now_s() + s;
    while (!stopping) {
        double left = end - now_s();
        if (left <= 0)
            break;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

int supervisor_restarts(void)
{
    return restarts;
}

int supervisor_run(const struct supervisor_options *o, int *exit_code, char *err, size_t errlen)
{
    double bmin = o && o->backoff_min_s > 0 ? o->backoff_min_s : 1;
    double bmax = o && o->backoff_max_s > 0 ? o->backoff_max_s : 30;
    double stable = o && o->stable_s > 0 ? o->stable_s : 60;
    const char *prefix = o && o->prefix ? o->prefix : "qmtl";
    double delay = bmin;
    restarts = 0;
    stopping = 0;
    child_pid = 0;

    struct sigaction sa, old[N_FORWARDED];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigset_t block, prev;
    sigemptyset(&block);
    for (size_t i = 0; i < N_FORWARDED; i++) {
        sigaddset(&block, forwarded[i]);
        sigaction(forwarded[i], &sa, &old[i]);
    }
    for (;;) {
        /* no forwarded signal runs between fork and the child's reset */
        sigprocmask(SIG_BLOCK, &block, &prev);
        double started = now_s();
        pid_t pid = fork();
        if (pid == 0) {
            for (size_t i = 0; i < N_FORWARDED; i++)
                sigaction(forwarded[i], &old[i], NULL);
            sigprocmask(SIG_SETMASK, &prev, NULL);
            return 1;
        }
        if (pid < 0) {
            int e = errno;
            sigprocmask(SIG_SETMASK, &prev, NULL);
            if (restarts == 0) {
                snprintf(err, errlen, "cannot start the host process: %s", strerror(e));
                for (size_t i = 0; i < N_FORWARDED; i++)
                    sigaction(forwarded[i], &old[i], NULL);
                return -1;
            }
            LOG_ERROR("supervisor", "%s: cannot restart the host: %s; retrying in %g s", prefix,
                      strerror(e), delay);
            backoff(delay);
            if (stopping) {
                *exit_code = 1;
                break;
            }
            continue;
        }
        child_pid = pid;
        sigprocmask(SIG_SETMASK, &prev, NULL);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        child_pid = 0;
        if (WIFEXITED(status)) {
            *exit_code = WEXITSTATUS(status);
            break;
        }
        int sig = WTERMSIG(status);
        *exit_code = 128 + sig;
        if (!crash_signal(sig) || stopping || (o && o->max_restarts && restarts >= o->max_restarts))
            break;
        if (now_s() - started >= stable)
            delay = bmin;
        restarts++;
        fprintf(stderr, "%s: host crashed with signal %d; restarting in %g s (restart %d)\n",
                prefix, sig, delay, restarts);
        backoff(delay);
        if (stopping)
            break;
        delay = delay * 2 > bmax ? bmax : delay * 2;
    }
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaction(forwarded[i], &old[i], NULL);
    return 0;
}
