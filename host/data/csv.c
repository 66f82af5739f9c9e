#include "host/data/csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host/data/datacheck.h"
#include "log.h"

#define CSV_BUF_INIT (64 * 1024) /* per open file; grows for long lines */
#define CSV_LINE_MAX (1024 * 1024)
#define CSV_LOG_FIRST 5 /* skipped rows logged per file */

enum csv_col { COL_TS, COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, COL_N };

static const char *const col_names[COL_N][6] = {
    [COL_TS] = {"timestamp", "time", "date", "ts", "datetime", NULL},
    [COL_OPEN] = {"open", NULL},
    [COL_HIGH] = {"high", NULL},
    [COL_LOW] = {"low", NULL},
    [COL_CLOSE] = {"close", "price", NULL},
    [COL_VOLUME] = {"volume", NULL},
};

struct csv_reader {
    FILE *fp;
    int own_fp;
    char *name;
    char *buf;
    size_t cap, len, pos; /* unconsumed bytes are buf[pos, len) */
    int eof;
    long line;
    int col[COL_N];  /* field index of each column, -1 if absent */
    size_t n_fields; /* fields in the header */
    char **fields;   /* n_fields + 1 slots */
    int has_ohlc;
    unsigned flags; /* CSV_* */
    long skipped;
    int64_t last_ts;
    int have_last;
    size_t line_len;     /* bytes of the line read last (a NUL inside shows as < strlen) */
    struct csv_row held[2]; /* rows read ahead (newest-first check), returned next */
    int n_held;
    char *deferred; /* a row error met while reading ahead, returned after the held rows */
    int order_checked; /* the newest-first check ran (once, at the first row) */
    int end_logged;
};

/* ---------------------------------------------------------------- timestamps */

int64_t csv_days_from_civil(int64_t y, int m, int d)
{
    /* Count from 0000-03-01 so the leap day is last in its year; 400-year eras. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* 0..399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Read exactly n digits at *p; -1 if they are not all digits. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static int parse_epoch(const char *s, int64_t *out, const char **why)
{
    const char *p = s;
    int64_t v = 0;
    int nd = 0;
    while (*p >= '0' && *p <= '9') {
        if (nd >= 18) {
            *why = "epoch timestamp too large";
            return -1;
        }
        v = v * 10 + (*p - '0');
        nd++;
        p++;
    }
    if (nd == 0) {
        *why = "not a timestamp";
        return -1;
    }
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) {
            *why = "not a timestamp";
            return -1;
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p) {
        *why = "not a timestamp";
        return -1;
    }
    *out = v >= 100000000000LL ? v / 1000 : v; /* >= 1e11: milliseconds */
    return 0;
}

int csv_parse_timestamp(const char *s, int64_t *out, const char **why)
{
    const char *p = s;
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!s || !*s) {
        *why = "empty timestamp";
        return -1;
    }
    /* ISO dates have a '-' at index 4; everything else must be an epoch number. */
    if (strlen(s) < 10 || s[4] != '-')
        return parse_epoch(s, out, why);
    int y = digits(&p, 4);
    if (y < 0 || *p++ != '-') {
        *why = "bad date (want YYYY-MM-DD)";
        return -1;
    }
    int mo = digits(&p, 2);
    if (mo < 1 || mo > 12 || *p++ != '-') {
        *why = "bad month";
        return -1;
    }
    int d = digits(&p, 2);
    if (d < 1 || d > days_in_month(y, mo)) {
        *why = "bad day";
        return -1;
    }
    int hh = 0, mi = 0, ss = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        hh = digits(&p, 2);
        if (hh < 0 || hh > 23 || *p++ != ':') {
            *why = "bad hour";
            return -1;
        }
        mi = digits(&p, 2);
        if (mi < 0 || mi > 59) {
            *why = "bad minute";
            return -1;
        }
        if (*p == ':') {
            p++;
            ss = digits(&p, 2);
            if (ss < 0 || ss > 59) {
                *why = "bad second";
                return -1;
            }
            if (*p == '.' || *p == ',') {
                p++;
                if (!(*p >= '0' && *p <= '9')) {
                    *why = "bad fraction of a second";
                    return -1;
                }
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = digits(&p, 2), om = 0;
        if (oh < 0 || oh > 23) {
            *why = "bad UTC offset";
            return -1;
        }
        if (*p == ':')
            p++;
        if (*p) {
            om = digits(&p, 2);
            if (om < 0 || om > 59) {
                *why = "bad UTC offset";
                return -1;
            }
        }
        offset = sign * (oh * 3600 + om * 60);
    }
    if (*p) {
        *why = "trailing characters after the timestamp";
        return -1;
    }
    int64_t t = csv_days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset;
    if (t < 0) {
        *why = "timestamp before 1970";
        return -1;
    }
    *out = t;
    return 0;
}

/* ---------------------------------------------------------------- reading */

static char *trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *end = '\0';
    return s;
}

/*
 * Split a NUL-terminated line in place into at most 'max' fields (a double-quoted
 * field may contain commas and "" for a quote). Returns the number of fields, which
 * may exceed 'max' (the extra ones are counted, not stored), or -1 on an unclosed quote.
 */
static long split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *start;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            char *w = ++p;
            start = w;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ',' && *p != '\0')
                return -1;
            char sep = *p;
            *w = '\0';
            if (n < max)
                fields[n] = start;
            n++;
            if (sep == '\0')
                return (long)n;
            p++;
            continue;
        }
        start = p;
        char *comma = strchr(p, ',');
        char *end = comma ? comma : p + strlen(p);
        char *f = trim(start, end);
        if (n < max)
            fields[n] = f;
        n++;
        if (!comma)
            return (long)n;
        p = comma + 1;
    }
}

/* Next line (without its newline or CR), NUL-terminated in the buffer: 1, 0 at EOF, -1. */
static int read_line(struct csv_reader *r, char **out, char *err, size_t errlen)
{
    for (;;) {
        char *start = r->buf + r->pos;
        char *nl = memchr(start, '\n', r->len - r->pos);
        if (!nl && r->eof && r->pos < r->len) {
            nl = r->buf + r->len; /* last line without a newline: buf has a spare byte */
            r->len++;
        }
        if (nl) {
            r->pos = (size_t)(nl - r->buf) + 1;
            r->line++;
            if (nl > start && nl[-1] == '\r')
                nl--;
            *nl = '\0';
            *out = start;
            r->line_len = (size_t)(nl - start);
            return 1;
        }
        if (r->eof)
            return 0;
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->len + 1 >= r->cap) {
            if (r->cap >= CSV_LINE_MAX) {
                snprintf(err, errlen, "%s:%ld: line longer than %d bytes", r->name, r->line + 1,
                         CSV_LINE_MAX);
                return -1;
            }
            size_t ncap = r->cap * 2;
            char *nb = realloc(r->buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", r->name);
                return -1;
            }
            r->buf = nb;
            r->cap = ncap;
        }
        size_t n = fread(r->buf + r->len, 1, r->cap - 1 - r->len, r->fp);
        if (n == 0) {
            if (ferror(r->fp)) {
                snprintf(err, errlen, "cannot read '%s': %s", r->name, strerror(errno));
                return -1;
            }
            r->eof = 1;
        }
        r->len += n;
    }
}

static int blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static int header_from_line(struct csv_reader *r, char *line, char *err, size_t errlen);

static int read_header(struct csv_reader *r, char *err, size_t errlen)
{
    char *line;
    int rc;
    while ((rc = read_line(r, &line, err, errlen)) == 1 && blank(line))
        ;
    if (rc < 0)
        return -1;
    if (rc == 0) {
        snprintf(err, errlen, "'%s': empty file (no header row)", r->name);
        return -1;
    }
    return header_from_line(r, line, err, errlen);
}

/* Map the columns of header line 'line' (NUL-terminated, r->line_len bytes). 0 or -1. */
static int header_from_line(struct csv_reader *r, char *line, char *err, size_t errlen)
{
    if (strlen(line) != r->line_len) {
        snprintf(err, errlen, "%s:%ld: NUL byte in the header", r->name, r->line);
        return -1;
    }
    if (r->line == 1 && (unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb &&
        (unsigned char)line[2] == 0xbf)
        line += 3;             /* UTF-8 byte order mark */
    char *copy = strdup(line); /* splitting writes into the line: count on a copy */
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", r->name);
        return -1;
    }
    long n = split_fields(copy, NULL, 0);
    free(copy);
    if (n < 0) {
        snprintf(err, errlen, "%s:%ld: unclosed quote in the header", r->name, r->line);
        return -1;
    }
    free(r->fields);
    r->fields = calloc((size_t)n + 1, sizeof(*r->fields));
    if (!r->fields) {
        snprintf(err, errlen, "%s: out of memory", r->name);
        return -1;
    }
    r->n_fields = (size_t)n;
    split_fields(line, r->fields, r->n_fields);
    int prio[COL_N];
    for (int c = 0; c < COL_N; c++) {
        r->col[c] = -1;
        prio[c] = 99;
    }
    for (size_t i = 0; i < r->n_fields; i++) {
        for (int c = 0; c < COL_N; c++) {
            for (int k = 0; col_names[c][k]; k++) {
                if (strcasecmp(r->fields[i], col_names[c][k]) != 0)
                    continue;
                if (k == prio[c]) {
                    snprintf(err, errlen, "%s:%ld: duplicate column '%s'", r->name, r->line,
                             r->fields[i]);
                    return -1;
                }
                if (k < prio[c]) {
                    prio[c] = k;
                    r->col[c] = (int)i;
                }
            }
        }
    }
    if (r->col[COL_TS] < 0) {
        snprintf(err, errlen,
                 "%s:%ld: no timestamp column (want one named timestamp, time, date or ts)",
                 r->name, r->line);
        return -1;
    }
    if (r->col[COL_CLOSE] < 0) {
        snprintf(err, errlen, "%s:%ld: no close column (want one named close or price)", r->name,
                 r->line);
        return -1;
    }
    r->has_ohlc = r->col[COL_OPEN] >= 0 || r->col[COL_HIGH] >= 0 || r->col[COL_LOW] >= 0;
    return 0;
}

static struct csv_reader *reader_new(FILE *fp, int own, const char *name, unsigned flags,
                                     char *err, size_t errlen)
{
    struct csv_reader *r = calloc(1, sizeof(*r));
    if (!r || !(r->name = strdup(name)) || !(r->buf = malloc(CSV_BUF_INIT))) {
        snprintf(err, errlen, "'%s': out of memory", name);
        if (r)
            free(r->name);
        free(r);
        if (own)
            fclose(fp);
        return NULL;
    }
    r->fp = fp;
    r->own_fp = own;
    r->cap = CSV_BUF_INIT;
    r->flags = flags;
    if (read_header(r, err, errlen) < 0) {
        csv_close(r);
        return NULL;
    }
    return r;
}

struct csv_reader *csv_open(const char *path, unsigned flags, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    return reader_new(fp, 1, path, flags, err, errlen);
}

struct csv_reader *csv_open_stream(FILE *fp, const char *name, unsigned flags, char *err,
                                   size_t errlen)
{
    return reader_new(fp, 0, name, flags, err, errlen);
}

/*
 * Plain decimals ("-12.345") with at most 15 digits (22 after the point at most) convert
 * exactly: the digits as an integer and 10^k are both exact doubles, so one division
 * rounds correctly, the same result strtod gives. Returns -1 for anything else (the
 * caller falls back to strtod). The integer and the fraction digits run in two loops
 * (no per-digit test of where the point was).
 */
static inline int fast_decimal(const char *s, double *out)
{
    static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    uint64_t m = 0; /* wraps past 19 digits, but those are refused below */
    const char *d0 = p;
    while ((unsigned)(*p - '0') < 10)
        m = m * 10 + (uint64_t)(*p++ - '0');
    long nd = p - d0, frac = 0;
    if (*p == '.') {
        const char *f0 = ++p;
        while ((unsigned)(*p - '0') < 10)
            m = m * 10 + (uint64_t)(*p++ - '0');
        frac = p - f0;
        nd += frac;
    }
    if (*p || nd == 0 || nd > 15 || frac > 22)
        return -1;
    double v = (double)m;
    if (frac > 0)
        v /= p10[frac];
    *out = neg ? -v : v;
    return 0;
}

/* csv_parse_number's body, inline in the row parser (one call per field otherwise). */
static inline int parse_number(const char *s, double *out)
{
    if (fast_decimal(s, out) == 0)
        return 0;
    char *end;
    if (!*s)
        return -1;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int csv_parse_number(const char *s, double *out)
{
    return parse_number(s, out);
}

/* Parse the current line into *row: 0, or -1 with a reason in msg. */
static int parse_row(struct csv_reader *r, char *line, struct csv_row *row, char *msg,
                     size_t msglen)
{
    long n = split_fields(line, r->fields, r->n_fields);
    if (n < 0) {
        snprintf(msg, msglen, "unclosed quote");
        return -1;
    }
    if ((size_t)n != r->n_fields) {
        snprintf(msg, msglen, "expected %zu fields, found %ld", r->n_fields, n);
        return -1;
    }
    const char *why = NULL;
    const char *tsf = r->fields[r->col[COL_TS]];
    if (csv_parse_timestamp(tsf, &row->ts, &why) < 0) {
        snprintf(msg, msglen, "bad timestamp '%.64s': %s", tsf, why);
        return -1;
    }
    double v[COL_N];
    static const char *const label[COL_N] = {"timestamp", "open", "high", "low", "close", "volume"};
    for (int c = COL_OPEN; c < COL_N; c++) {
        v[c] = NAN;
        if (r->col[c] < 0)
            continue;
        const char *f = r->fields[r->col[c]];
        if (!*f && c != COL_CLOSE)
            continue; /* empty optional field: default */
        if (parse_number(f, &v[c]) < 0) {
            snprintf(msg, msglen, "bad %s '%.64s'", label[c], f);
            return -1;
        }
    }
    row->bar = datacheck_fill(v[COL_OPEN], v[COL_HIGH], v[COL_LOW], v[COL_CLOSE], v[COL_VOLUME]);
    unsigned dc = r->flags & CSV_ALLOW_NONPOSITIVE ? DATACHECK_ALLOW_NONPOSITIVE : 0;
    if (datacheck_bar(&row->bar, dc, msg, msglen) < 0)
        return -1;
    row->line = r->line;
    return 0;
}

/* A bad row: with CSV_FAIL_ON_ERROR -1 and "file:line: msg" in err; else counted, the
 * first few logged, and 0 (skip it). */
static int row_error(struct csv_reader *r, long line, const char *msg, char *err, size_t errlen)
{
    if (r->flags & CSV_FAIL_ON_ERROR) {
        snprintf(err, errlen, "%s:%ld: %s", r->name, line, msg);
        return -1;
    }
    r->skipped++;
    if (r->skipped <= CSV_LOG_FIRST)
        LOG_WARN("feed", "%s:%ld: %s (row skipped)", r->name, line, msg);
    return 0;
}

/* The next well-formed row of the file, in whatever order: 1, 0 at the end, -1 with err. */
static int read_row(struct csv_reader *r, struct csv_row *row, char *err, size_t errlen)
{
    for (;;) {
        char *line;
        int rc = read_line(r, &line, err, errlen);
        if (rc <= 0) {
            if (rc == 0 && r->skipped > CSV_LOG_FIRST && !r->end_logged)
                LOG_WARN("feed", "'%s': %ld malformed rows skipped in total", r->name, r->skipped);
            r->end_logged |= rc == 0;
            return rc;
        }
        if (blank(line))
            continue;
        char msg[256];
        if (strlen(line) != r->line_len)
            snprintf(msg, sizeof(msg), "NUL byte in the row");
        else if (parse_row(r, line, row, msg, sizeof(msg)) == 0)
            return 1;
        if (row_error(r, r->line, msg, err, errlen) < 0)
            return -1;
    }
}

/* The rows read ahead first, then an error met while reading them, then the file. */
static int next_row(struct csv_reader *r, struct csv_row *row, char *err, size_t errlen)
{
    if (r->n_held) {
        *row = r->held[0];
        r->held[0] = r->held[1];
        r->n_held--;
        return 1;
    }
    if (r->deferred) {
        snprintf(err, errlen, "%s", r->deferred);
        return -1;
    }
    return read_row(r, row, err, errlen);
}

/*
 * Before the first row goes out, read the next two ahead (they are held and returned
 * next): when the second is older than the first and the third older than the second
 * (or there is no third), the file is sorted newest first and nothing of it is used:
 * 1 with err set. 0 otherwise; a row error met while reading ahead (fail mode) is kept
 * and returned after the held rows, where it would have come without the read-ahead.
 */
static int newest_first(struct csv_reader *r, const struct csv_row *first, char *err,
                        size_t errlen)
{
    r->order_checked = 1;
    for (int k = 0; k < 2; k++) {
        int rc = read_row(r, &r->held[r->n_held], err, errlen);
        if (rc < 0) {
            if (!(r->deferred = strdup(err)))
                return -1;
            return 0;
        }
        if (rc == 0)
            break;
        const struct csv_row *prev = k ? &r->held[0] : first;
        if (r->held[r->n_held++].ts >= prev->ts)
            return 0;
    }
    if (r->n_held == 0)
        return 0;
    snprintf(err, errlen,
             "%s: rows are sorted newest first (line %ld is older than line %ld); sort the "
             "file oldest first, or give --sort (host.data[].sort) to sort it in memory",
             r->name, r->held[0].line, first->line);
    return 1;
}

int csv_next(struct csv_reader *r, struct csv_row *row, char *err, size_t errlen)
{
    for (;;) {
        int rc = next_row(r, row, err, errlen);
        if (rc <= 0)
            return rc;
        if (r->flags & CSV_ANY_ORDER)
            return 1;
        if (!r->order_checked && newest_first(r, row, err, errlen) != 0)
            return -1;
        if (r->have_last && row->ts < r->last_ts) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "timestamp %lld goes back in time (previous row: %lld); rows must be in "
                     "time order (or give --sort)",
                     (long long)row->ts, (long long)r->last_ts);
            if (row_error(r, row->line, msg, err, errlen) < 0)
                return -1;
            continue;
        }
        r->last_ts = row->ts;
        r->have_last = 1;
        return 1;
    }
}

struct csv_reader *csv_lines_new(const char *name, unsigned flags)
{
    struct csv_reader *r = calloc(1, sizeof(*r));
    if (!r || !(r->name = strdup(name))) {
        free(r);
        return NULL;
    }
    r->flags = flags | CSV_ANY_ORDER;
    return r;
}

int csv_lines_feed(struct csv_reader *r, char *line, size_t len, long lineno, struct csv_row *row,
                   char *err, size_t errlen)
{
    if (len && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    r->line = lineno;
    r->line_len = len;
    if (blank(line))
        return 0;
    if (!r->fields) {
        if (header_from_line(r, line, err, errlen) < 0) {
            free(r->fields);
            r->fields = NULL;
            return -1;
        }
        return 0;
    }
    if (strlen(line) != len) {
        snprintf(err, errlen, "NUL byte in the row");
        return -1;
    }
    return parse_row(r, line, row, err, errlen) == 0 ? 1 : -1;
}

void csv_lines_reset(struct csv_reader *r)
{
    free(r->fields);
    r->fields = NULL;
    r->n_fields = 0;
}

int csv_has_ohlc(const struct csv_reader *r)
{
    return r->has_ohlc;
}

long csv_skipped(const struct csv_reader *r)
{
    return r->skipped;
}

const char *csv_name(const struct csv_reader *r)
{
    return r->name;
}

void csv_close(struct csv_reader *r)
{
    if (!r)
        return;
    if (r->own_fp && r->fp)
        fclose(r->fp);
    free(r->fields);
    free(r->deferred);
    free(r->buf);
    free(r->name);
    free(r);
}
