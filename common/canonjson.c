#include "canonjson.h"

#include "numfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cj_out {
    char *buf;
    size_t len, cap;
    int oom;
    unsigned flags;
    char path[256]; /* where we are, for messages: params.a[2] */
    size_t pathlen;
    char *err;
    size_t errlen;
};

static int grow(char **buf, size_t *len, size_t *cap, size_t more)
{
    if (*len + more + 1 <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < *len + more + 1)
        ncap *= 2;
    char *nb = realloc(*buf, ncap);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = ncap;
    return 0;
}

static void put(struct cj_out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (grow(&o->buf, &o->len, &o->cap, n) < 0) {
        o->oom = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void putc1(struct cj_out *o, char c)
{
    put(o, &c, 1);
}

int canonjson_append_string(char **buf, size_t *len, size_t *cap, const char *s, size_t slen)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case every byte becomes \u00XX */
    if (grow(buf, len, cap, slen * 6 + 2) < 0)
        return -1;
    char *p = *buf + *len;
    *p++ = '"';
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            *p++ = '\\';
            *p++ = '"';
            break;
        case '\\':
            *p++ = '\\';
            *p++ = '\\';
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        case '\r':
            *p++ = '\\';
            *p++ = 'r';
            break;
        case '\t':
            *p++ = '\\';
            *p++ = 't';
            break;
        case '\b':
            *p++ = '\\';
            *p++ = 'b';
            break;
        case '\f':
            *p++ = '\\';
            *p++ = 'f';
            break;
        default:
            if (c < 0x20) {
                memcpy(p, "\\u00", 4);
                p += 4;
                *p++ = hex[c >> 4];
                *p++ = hex[c & 15];
            } else {
                *p++ = (char)c;
            }
        }
    }
    *p++ = '"';
    *len = (size_t)(p - *buf);
    (*buf)[*len] = '\0';
    return 0;
}

static void put_string(struct cj_out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (canonjson_append_string(&o->buf, &o->len, &o->cap, s, n) < 0)
        o->oom = 1;
}

static const char *const excluded_keys[] = {
    "world",        "world_id", "world_ids", "execution_world",     "execution_domain", "domain",
    "domains",      "as_of",    "partition", "dataset_fingerprint", "timestamp",        "seed",
    "random_state", "env",
};

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (ascii_lower(*a) != *b)
            return 0;
    return *a == *b;
}

int canonjson_key_excluded(const char *key)
{
    /* Only ASCII letters matter: the excluded names are ASCII and no non-ASCII character
     * lowercases to a lone ASCII letter used in them. */
    if (ascii_lower(key[0]) == 'e' && ascii_lower(key[1]) == 'n' && ascii_lower(key[2]) == 'v' &&
        key[3] == '_')
        return 1;
    for (size_t i = 0; i < sizeof(excluded_keys) / sizeof(excluded_keys[0]); i++)
        if (eq_nocase(key, excluded_keys[i]))
            return 1;
    return 0;
}

static void fail(struct cj_out *o, const char *msg)
{
    if (o->err && o->errlen)
        snprintf(o->err, o->errlen, "%s: %s", o->path, msg);
}

static size_t path_push_key(struct cj_out *o, const char *key)
{
    size_t old = o->pathlen;
    int n = snprintf(o->path + old, sizeof(o->path) - old, ".%s", key);
    o->pathlen =
        (n < 0 || (size_t)n >= sizeof(o->path) - old) ? sizeof(o->path) - 1 : old + (size_t)n;
    return old;
}

static size_t path_push_index(struct cj_out *o, size_t i)
{
    size_t old = o->pathlen;
    int n = snprintf(o->path + old, sizeof(o->path) - old, "[%zu]", i);
    o->pathlen =
        (n < 0 || (size_t)n >= sizeof(o->path) - old) ? sizeof(o->path) - 1 : old + (size_t)n;
    return old;
}

static void path_pop(struct cj_out *o, size_t old)
{
    o->pathlen = old;
    o->path[old] = '\0';
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int dump(struct cj_out *o, const json_t *v, int depth)
{
    if (depth > CANONJSON_MAX_DEPTH) {
        fail(o, "nested too deeply");
        return -1;
    }
    if (!v) {
        put(o, "null", 4);
        return 0;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        put(o, "null", 4);
        return 0;
    case JSON_TRUE:
        put(o, "true", 4);
        return 0;
    case JSON_FALSE:
        put(o, "false", 5);
        return 0;
    case JSON_INTEGER: {
        char b[32];
        int n = snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put(o, b, (size_t)n);
        return 0;
    }
    case JSON_REAL: {
        char b[NUMFMT_DOUBLE_MAX];
        double d = json_real_value(v);
        int n = numfmt_double(d, b, sizeof(b));
        if (n < 0) {
            fail(o, d != d ? "NaN is not allowed in canonical JSON"
                           : "Infinity is not allowed in canonical JSON");
            return -1;
        }
        put(o, b, (size_t)n);
        return 0;
    }
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_ARRAY: {
        putc1(o, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                putc1(o, ',');
            size_t old = path_push_index(o, i);
            if (dump(o, json_array_get(v, i), depth + 1) < 0)
                return -1;
            path_pop(o, old);
        }
        putc1(o, ']');
        return 0;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), k = 0;
        const char **keys = n ? malloc(n * sizeof(*keys)) : NULL;
        if (n && !keys) {
            o->oom = 1;
            return 0;
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            (void)val;
            if ((o->flags & CANONJSON_EXCLUDE) && canonjson_key_excluded(key))
                continue;
            keys[k++] = key;
        }
        if (k > 1)
            qsort(keys, k, sizeof(*keys), cmp_keys);
        putc1(o, '{');
        for (size_t i = 0; i < k; i++) {
            if (i)
                putc1(o, ',');
            put_string(o, keys[i], strlen(keys[i]));
            putc1(o, ':');
            size_t old = path_push_key(o, keys[i]);
            if (dump(o, json_object_get(v, keys[i]), depth + 1) < 0) {
                free(keys);
                return -1;
            }
            path_pop(o, old);
        }
        putc1(o, '}');
        free(keys);
        return 0;
    }
    }
    fail(o, "unknown JSON type");
    return -1;
}

char *canonjson_dump(const json_t *v, unsigned flags, const char *what, size_t *len_out, char *err,
                     size_t errlen)
{
    struct cj_out o;
    memset(&o, 0, sizeof(o));
    o.flags = flags;
    o.err = err;
    o.errlen = errlen;
    snprintf(o.path, sizeof(o.path), "%s", what ? what : "value");
    o.pathlen = strlen(o.path);
    put(&o, "", 0); /* allocate so an empty result is still a string */
    if (dump(&o, v, 0) < 0) {
        free(o.buf);
        return NULL;
    }
    if (o.oom) {
        free(o.buf);
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", what ? what : "value");
        return NULL;
    }
    if (len_out)
        *len_out = o.len;
    return o.buf;
}
