/* linejson: one line of JSON into a bar, in place (see linejson.h). */
#include "host/data/linejson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/data/csv.h"
#include "host/data/datacheck.h"
#include "host/host_api.h"

enum { K_TAGS, K_TS, K_OPEN, K_HIGH, K_LOW, K_CLOSE, K_VOLUME, K_N };

struct lj {
    char *p, *end; /* cursor and end of the line */
    char *why;
    size_t whylen;
};

static int fail(struct lj *s, const char *fmt, const char *arg)
{
    snprintf(s->why, s->whylen, fmt, arg);
    return -1;
}

static void skip_ws(struct lj *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r'))
        s->p++;
}

/* At '"': a string without escapes or control bytes, NUL-terminated in place. */
static int string(struct lj *s, char **out, const char *what)
{
    char *start = ++s->p;
    for (; s->p < s->end; s->p++) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *s->p++ = '\0';
            *out = start;
            return 0;
        }
        if (c == '\\')
            return fail(s, "escape sequence in %s (not accepted)", what);
        if (c < 0x20)
            return fail(s, "control character in %s", what);
    }
    return fail(s, "unterminated string in %s", what);
}

/* A JSON number token: its text NUL-terminated in place (the byte after it is returned
 * in *next so the caller's cursor still sees it). */
static int number_token(struct lj *s, char **out, char *next, const char *what)
{
    char *t = s->p;
    char *q = t;
    if (q < s->end && *q == '-')
        q++;
    if (q >= s->end || *q < '0' || *q > '9')
        return fail(s, "%s is not a number", what);
    if (*q == '0')
        q++;
    else
        while (q < s->end && *q >= '0' && *q <= '9')
            q++;
    if (q < s->end && *q == '.') {
        q++;
        if (q >= s->end || *q < '0' || *q > '9')
            return fail(s, "%s is not a number", what);
        while (q < s->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < s->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < s->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= s->end || *q < '0' || *q > '9')
            return fail(s, "%s is not a number", what);
        while (q < s->end && *q >= '0' && *q <= '9')
            q++;
    }
    *next = q < s->end ? *q : '\0';
    *q = '\0';
    s->p = q;
    *out = t;
    return 0;
}

static int tags(struct lj *s, struct linejson_item *it)
{
    char *t;
    if (*s->p == '"') {
        if (string(s, &t, "tags"))
            return -1;
        it->tags[it->n_tags++] = t;
        return 0;
    }
    if (*s->p != '[')
        return fail(s, "%s must be a string or an array of strings", "tags");
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"')
            return fail(s, "%s must be a string or an array of strings", "tags");
        if (it->n_tags == LINEJSON_MAX_TAGS)
            return fail(s, "too many tags (at most %s)", "32");
        if (string(s, &t, "tags"))
            return -1;
        it->tags[it->n_tags++] = t;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return 0;
        }
        return fail(s, "%s: expected ',' or ']'", "tags");
    }
}

static int key_index(const char *k)
{
    switch (k[0]) { /* one comparison per key: this runs for every field of every line */
    case 't':
        return !strcmp(k, "tags") ? K_TAGS : !strcmp(k, "ts") ? K_TS : -1;
    case 'o':
        return !strcmp(k, "open") ? K_OPEN : -1;
    case 'h':
        return !strcmp(k, "high") ? K_HIGH : -1;
    case 'l':
        return !strcmp(k, "low") ? K_LOW : -1;
    case 'c':
        return !strcmp(k, "close") ? K_CLOSE : -1;
    case 'p':
        return !strcmp(k, "price") ? K_CLOSE : -1;
    case 'v':
        return !strcmp(k, "volume") ? K_VOLUME : -1;
    default:
        return -1;
    }
}

static int timestamp(struct lj *s, struct linejson_item *it)
{
    char *t;
    const char *why = NULL;
    char next = 0;
    int quoted = *s->p == '"';
    if (quoted ? string(s, &t, "ts") : number_token(s, &t, &next, "ts"))
        return -1;
    if (csv_parse_timestamp(t, &it->ts, &why) < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "bad ts '%.64s': %s", t, why);
        return fail(s, "%s", msg);
    }
    it->ts_ms = it->ts * 1000;
    if (!quoted) {
        /* a valid epoch number (checked above): digits, maybe a fraction */
        int64_t whole = 0, frac = 0;
        const char *c = t;
        for (; *c >= '0' && *c <= '9'; c++)
            whole = whole * 10 + (*c - '0');
        if (*c == '.')
            for (int i = 0; i < 3; i++)
                frac = frac * 10 + (c[1] >= '0' && c[1] <= '9' ? *++c - '0' : 0);
        it->ts_ms = whole >= 100000000000LL ? whole : whole * 1000 + frac;
        *s->p = next;
    }
    return 0;
}

int linejson_parse(char *line, size_t len, unsigned flags, struct linejson_item *it, char *why,
                   size_t whylen)
{
    struct lj s = {.p = line, .end = line + len, .why = why, .whylen = whylen};
    line[len] = '\0';
    memset(it, 0, sizeof(*it));
    skip_ws(&s);
    if (s.p == s.end)
        return 0;
    if (*s.p != '{')
        return fail(&s, "%s", "expected a JSON object ('{')");
    s.p++;
    int seen[K_N] = {0};
    double v[K_N];
    for (int i = 0; i < K_N; i++)
        v[i] = NAN;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            skip_ws(&s);
            char *key;
            if (s.p >= s.end || *s.p != '"')
                return fail(&s, "%s", "expected a key string");
            if (string(&s, &key, "a key"))
                return -1;
            int k = key_index(key);
            if (k < 0)
                return fail(&s,
                            "unknown key '%.64s' (want tags, ts, open, high, low, close or "
                            "price, volume)",
                            key);
            if (seen[k])
                return fail(&s, "key '%.64s' given twice", key);
            seen[k] = 1;
            skip_ws(&s);
            if (s.p >= s.end || *s.p != ':')
                return fail(&s, "expected ':' after '%.64s'", key);
            s.p++;
            skip_ws(&s);
            if (s.p >= s.end)
                return fail(&s, "no value for '%.64s'", key);
            if (k == K_TAGS) {
                if (tags(&s, it))
                    return -1;
            } else if (k == K_TS) {
                if (timestamp(&s, it))
                    return -1;
            } else {
                char *t, next;
                if (number_token(&s, &t, &next, key))
                    return -1;
                if (csv_parse_number(t, &v[k]) < 0)
                    return fail(&s, "%s is out of range", key);
                *s.p = next;
            }
            skip_ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            if (s.p < s.end && *s.p == '}') {
                s.p++;
                break;
            }
            return fail(&s, "%s", "expected ',' or '}'");
        }
    }
    skip_ws(&s);
    if (s.p < s.end)
        return fail(&s, "%s", "bytes after the object");
    if (!seen[K_TAGS] && !(flags & LINEJSON_TAGS_OPTIONAL))
        return fail(&s, "%s", "no tags");
    if (!seen[K_TS])
        return fail(&s, "%s", "no ts");
    if (!seen[K_CLOSE])
        return fail(&s, "%s", "no close (or price)");
    char e[200];
    size_t n;
    if (seen[K_TAGS] && host_check_tags(it->tags, &n, e, sizeof(e)))
        return fail(&s, "%s", e);
    it->bar = datacheck_fill(v[K_OPEN], v[K_HIGH], v[K_LOW], v[K_CLOSE], v[K_VOLUME]);
    it->is_bar = seen[K_OPEN] || seen[K_HIGH] || seen[K_LOW];
    unsigned dc = flags & LINEJSON_ALLOW_NONPOSITIVE ? DATACHECK_ALLOW_NONPOSITIVE : 0;
    return datacheck_bar(&it->bar, dc, why, whylen) < 0 ? -1 : 1;
}
