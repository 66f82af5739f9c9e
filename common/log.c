#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int level_init;
static enum log_level threshold = LOG_LEVEL_INFO;
static log_sink_fn sink;
static void *sink_arg;

static const char *const level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

int log_parse_level(const char *s, enum log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (s && strcasecmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (s && strcasecmp(s, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return 0;
    }
    return -1;
}

static void init_level(void)
{
    if (level_init)
        return;
    level_init = 1;
    enum log_level l;
    if (log_parse_level(getenv("QMTL_LOG_LEVEL"), &l) == 0)
        threshold = l;
}

enum log_level log_set_level(enum log_level level)
{
    init_level();
    enum log_level old = threshold;
    threshold = level;
    return old;
}

enum log_level log_get_level(void)
{
    init_level();
    return threshold;
}

void log_set_sink(log_sink_fn fn, void *arg)
{
    sink = fn;
    sink_arg = arg;
}

void log_vmsg(enum log_level level, const char *component, const char *fmt, va_list ap)
{
    init_level();
    if (level < threshold || level > LOG_LEVEL_ERROR)
        return;

    char line[2048];
    size_t n = 0;
    if (!sink) {
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ", (long)(tv.tv_usec / 1000),
                              level_names[level]);
    }
    if (component && *component)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "[%s] ", component);
    if (n < sizeof(line)) {
        int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        if (m > 0)
            n += (size_t)m;
    }
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    if (sink) {
        line[n] = '\0';
        sink(level, line, sink_arg);
        return;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, component, fmt, ap);
    va_end(ap);
}

char *log_escape(const char *s, size_t max, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!outlen)
        return out;
    for (size_t i = 0; s && i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[5];
        size_t n = 0;
        if (c == '\n' || c == '\r' || c == '\t' || c == '\\') {
            esc[n++] = '\\';
            esc[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
        } else if (c < 0x20 || c == 0x7f) {
            esc[n++] = '\\';
            esc[n++] = 'x';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        } else {
            esc[n++] = (char)c;
        }
        if (o + n >= outlen)
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}
