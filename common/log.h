/*
 * log: leveled, component-prefixed logging to stderr for every qmtl process.
 *
 * Lines look like:  2026-11-25T08:00:00.123Z INFO  [loader] loaded 'sma' (plugins/sma.so)
 * The level threshold comes from log_set_level() or, at first use, from the
 * QMTL_LOG_LEVEL environment variable (debug|info|warn|error; default info).
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef QMTL_COMMON_LOG_H
#define QMTL_COMMON_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_WARN = 2, LOG_LEVEL_ERROR = 3 };

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* Write one line if 'level' passes the threshold. 'component' may be NULL. */
void log_msg(enum log_level level, const char *component, const char *fmt, ...) LOG_FMT(3, 4);
void log_vmsg(enum log_level level, const char *component, const char *fmt, va_list ap);

/* Set the threshold; returns the previous one. */
enum log_level log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "debug|info|warn|error" (case-insensitive). Returns 0 and sets *out, or -1. */
int log_parse_level(const char *s, enum log_level *out);

/*
 * Redirect output to a callback instead of stderr (tests capture lines this way).
 * 'fn' receives the formatted line without the trailing newline; NULL restores stderr.
 */
typedef void (*log_sink_fn)(enum log_level level, const char *line, void *arg);
void log_set_sink(log_sink_fn fn, void *arg);

/*
 * Copy untrusted text (a plugin's message) as one printable line: at most 'max' bytes
 * of 's' are read (it need not be NUL-terminated within them); newline, CR, tab,
 * backslash and every other control byte (and DEL) become \n, \r, \t, \\, \xNN, so
 * the text can neither end a log line nor forge the next one. 'out' is always
 * NUL-terminated (truncated to outlen). Returns out.
 */
char *log_escape(const char *s, size_t max, char *out, size_t outlen);

#define LOG_DEBUG(comp, ...) log_msg(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define LOG_INFO(comp, ...) log_msg(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define LOG_WARN(comp, ...) log_msg(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define LOG_ERROR(comp, ...) log_msg(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif
