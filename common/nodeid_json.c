/*
 * nodeid_json: node identity from JSON node objects, with the reference's field rules
 * (Python-style int(), str(), strip() and truthiness) and the TagQueryNode params rewrite.
 */
#include "nodeid.h"
#include "nodeid_priv.h"
#include "numfmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_py_space_ascii(unsigned char c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
}

/* ------------------------------------------------------------------ Python-like helpers */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Length of the UTF-8 sequence at s if it is a character Python's str.strip() removes
 * (str.isspace()), else 0. */
static size_t py_space_at(const unsigned char *s, size_t n)
{
    if (n >= 1 && is_py_space_ascii(s[0]))
        return 1;
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2; /* U+0085, U+00A0 */
    if (n >= 3) {
        unsigned cp =
            ((unsigned)(s[0] & 0x0f) << 12) | ((unsigned)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        if ((s[0] & 0xf0) != 0xe0)
            return 0;
        if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
            cp == 0x202f || cp == 0x205f || cp == 0x3000)
            return 3;
    }
    return 0;
}

/* Python str.strip() on UTF-8 text: *start and *end delimit the stripped part. */
static void py_strip(const char *s, size_t len, size_t *start, size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t a = 0, b = len;
    size_t k;
    while (a < b && (k = py_space_at(u + a, b - a)) > 0)
        a += k;
    while (b > a) {
        /* find the start of the last character */
        size_t c = b - 1;
        while (c > a && (u[c] & 0xc0) == 0x80)
            c--;
        if (py_space_at(u + c, b - c) == b - c)
            b = c;
        else
            break;
    }
    *start = a;
    *end = b;
}

/* Python truthiness of a JSON value (missing counts as false). */
static int py_truthy(const json_t *v)
{
    if (!v)
        return 0;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return 0;
    case JSON_TRUE:
        return 1;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_STRING:
        return json_string_length(v) != 0;
    case JSON_ARRAY:
        return json_array_size(v) != 0;
    case JSON_OBJECT:
        return json_object_size(v) != 0;
    }
    return 0;
}

/* Python str() of a JSON scalar (malloc'd), NULL for arrays/objects or out of memory. */
static char *py_str(const json_t *v)
{
    char b[64];
    switch (json_typeof(v)) {
    case JSON_STRING: {
        size_t n = json_string_length(v);
        char *s = malloc(n + 1);
        if (s) {
            memcpy(s, json_string_value(v), n);
            s[n] = '\0';
        }
        return s;
    }
    case JSON_INTEGER:
        snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strdup(b);
    case JSON_REAL: {
        double d = json_real_value(v);
        if (isnan(d))
            return strdup("nan");
        if (isinf(d))
            return strdup(d < 0 ? "-inf" : "inf");
        numfmt_double(d, b, sizeof(b));
        return strdup(b);
    }
    case JSON_TRUE:
        return strdup("True");
    case JSON_FALSE:
        return strdup("False");
    case JSON_NULL:
        return strdup("None");
    default:
        return NULL;
    }
}

/* Python int(x) for a JSON value: integers, booleans, finite reals (truncated) and
 * integral strings ("  -60 ", "1_000"). 0 and *out, or -1. */
static int py_int(const json_t *v, int64_t *out)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        *out = json_integer_value(v);
        return 0;
    case JSON_TRUE:
        *out = 1;
        return 0;
    case JSON_FALSE:
        *out = 0;
        return 0;
    case JSON_REAL: {
        double d = trunc(json_real_value(v));
        if (!isfinite(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return -1;
        *out = (int64_t)d;
        return 0;
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t a, b;
        py_strip(s, json_string_length(v), &a, &b);
        int neg = 0;
        if (a < b && (s[a] == '+' || s[a] == '-'))
            neg = s[a++] == '-';
        if (a >= b)
            return -1;
        uint64_t acc = 0;
        int prev_digit = 0;
        for (size_t i = a; i < b; i++) {
            if (s[i] == '_' && prev_digit && i + 1 < b && s[i + 1] >= '0' && s[i + 1] <= '9') {
                prev_digit = 0;
                continue;
            }
            if (s[i] < '0' || s[i] > '9')
                return -1;
            unsigned dg = (unsigned)(s[i] - '0');
            if (acc > (UINT64_C(9223372036854775808) - dg) / 10)
                return -1;
            acc = acc * 10 + dg;
            prev_digit = 1;
        }
        if (!neg && acc > INT64_MAX)
            return -1;
        *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
        return 0;
    }
    default:
        return -1;
    }
}

/* Short JSON text of v for messages. */
static void brief_json(const json_t *v, char *buf, size_t len)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!s) {
        snprintf(buf, len, "?");
        return;
    }
    if (strlen(s) > 40)
        snprintf(buf, len, "%.37s...", s);
    else
        snprintf(buf, len, "%s", s);
    free(s);
}

/* ------------------------------------------------------------------ TagQuery params */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct strvec {
    char **v;
    size_t n, cap;
};

static int strvec_push(struct strvec *sv, const char *s, size_t len)
{
    if (sv->n == sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 8;
        char **nv = realloc(sv->v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        sv->v = nv;
        sv->cap = nc;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    sv->v[sv->n++] = c;
    return 0;
}

static void strvec_release(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof(*sv));
}

/* Push s stripped, unless empty. */
static int push_stripped(struct strvec *sv, const char *s, size_t len)
{
    size_t a, b;
    py_strip(s, len, &a, &b);
    return b > a ? strvec_push(sv, s + a, b - a) : 0;
}

/* The reference's split_tags(): None -> [], "a, b" -> split on commas, iterables -> str()
 * of each item; blanks dropped, items stripped. */
static int split_tags(const json_t *tags, struct strvec *out, char *err, size_t errlen)
{
    if (!tags || json_is_null(tags))
        return 0;
    if (json_is_string(tags)) {
        const char *s = json_string_value(tags);
        size_t n = json_string_length(tags), start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i == n || s[i] == ',') {
                if (push_stripped(out, s + start, i - start) < 0)
                    goto oom;
                start = i + 1;
            }
        }
        return 0;
    }
    if (json_is_array(tags)) {
        for (size_t i = 0; i < json_array_size(tags); i++) {
            char *t = py_str(json_array_get(tags, i));
            if (!t) {
                seterr(err, errlen, "tag query: tag %zu is not a string", i);
                return -1;
            }
            int rc = push_stripped(out, t, strlen(t));
            free(t);
            if (rc < 0)
                goto oom;
        }
        return 0;
    }
    if (json_is_object(tags)) {
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)tags, k, val)
        {
            (void)val;
            if (push_stripped(out, k, strlen(k)) < 0)
                goto oom;
        }
        return 0;
    }
    seterr(err, errlen, "tag query: tags must be a list or a comma-separated string");
    return -1;
oom:
    seterr(err, errlen, "out of memory");
    return -1;
}

/*
 * {"interval": interval|null, "match_mode": "any"|"all", "query_tags": sorted unique}.
 * interval_null selects null. Returns a new object or NULL with err.
 */
static json_t *tagquery_params(const json_t *tags, const json_t *mode, int interval_null,
                               int64_t interval, char *err, size_t errlen)
{
    const char *m = "any";
    if (py_truthy(mode)) {
        if (!json_is_string(mode)) {
            seterr(err, errlen, "tag query: match_mode must be a string");
            return NULL;
        }
        const char *s = json_string_value(mode);
        if (strcasecmp(s, "all") == 0)
            m = "all";
    }
    struct strvec sv = {0};
    if (split_tags(tags, &sv, err, errlen) < 0) {
        strvec_release(&sv);
        return NULL;
    }
    if (sv.n > 1)
        qsort(sv.v, sv.n, sizeof(*sv.v), cmp_str);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < sv.n; i++) {
        if (i && strcmp(sv.v[i], sv.v[i - 1]) == 0)
            continue;
        if (json_array_append_new(arr, json_string_nocheck(sv.v[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    strvec_release(&sv);
    json_t *o = arr ? json_object() : NULL;
    if (!o || json_object_set_new(o, "query_tags", arr) < 0 ||
        json_object_set_new(o, "match_mode", json_string(m)) < 0 ||
        json_object_set_new(o, "interval", interval_null ? json_null() : json_integer(interval)) <
            0) {
        if (!o)
            json_decref(arr);
        json_decref(o);
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    return o;
}

/* The reference's CanonicalNodeSpec path: tags from params.query_tags (when non-empty) or
 * params.tags, else the params value itself; interval from the field. */
json_t *nodeid_tagquery_from_params(const json_t *params, int64_t interval, char *err,
                                    size_t errlen)
{
    const json_t *tags = NULL, *mode = NULL;
    if (json_is_object(params)) {
        const json_t *q = json_object_get(params, "query_tags");
        tags = py_truthy(q) ? q : json_object_get(params, "tags");
        mode = json_object_get(params, "match_mode");
    }
    if (!tags || json_is_null(tags))
        tags = params;
    return tagquery_params(tags, mode, 0, interval, err, errlen);
}

/* ------------------------------------------------------------------ from JSON */

/* int(node.get(name) or 0) */
static int json_int_field(const json_t *node, const char *name, int64_t *out, char *err,
                          size_t errlen)
{
    const json_t *v = json_object_get(node, name);
    *out = 0;
    if (!py_truthy(v))
        return 0;
    if (py_int(v, out) < 0) {
        char b[64];
        brief_json(v, b, sizeof(b));
        seterr(err, errlen, "field '%s': expected an integer, got %s", name, b);
        return -1;
    }
    return 0;
}

/* str(value) for scalar fields; arrays/objects are refused. *out malloc'd. */
static int json_str_field(const json_t *v, const char *name, char **out, char *err, size_t errlen)
{
    *out = py_str(v);
    if (!*out) {
        seterr(err, errlen, "field '%s': expected a string", name);
        return -1;
    }
    return 0;
}

/* str(value or "").strip() */
static int json_compat_part(const json_t *v, const char *name, char **out, char *err, size_t errlen)
{
    if (!py_truthy(v)) {
        *out = strdup("");
        return *out ? 0 : -1;
    }
    if (json_str_field(v, name, out, err, errlen) < 0)
        return -1;
    size_t a, b;
    py_strip(*out, strlen(*out), &a, &b);
    memmove(*out, *out + a, b - a);
    (*out)[b - a] = '\0';
    return 0;
}

int nodeid_from_json(const json_t *node, char out[NODEID_LEN + 1], char **canonical_out, char *err,
                     size_t errlen)
{
    struct nodeid_fields f;
    struct strvec deps = {0};
    char *compat = NULL, *legacy = NULL, *code = NULL, *canon = NULL;
    json_t *tq = NULL;
    int rc = -1;

    memset(&f, 0, sizeof(f));
    if (canonical_out)
        *canonical_out = NULL;
    if (!json_is_object(node)) {
        seterr(err, errlen, "node must be a JSON object");
        return -1;
    }
    const json_t *nt = json_object_get(node, "node_type");
    if (!nt) {
        seterr(err, errlen, "field 'node_type': missing (required)");
        return -1;
    }
    if (!json_is_string(nt) || json_string_length(nt) == 0) {
        seterr(err, errlen, "field 'node_type': expected a non-empty string");
        return -1;
    }
    f.node_type = json_string_value(nt);
    if (json_int_field(node, "interval", &f.interval, err, errlen) < 0 ||
        json_int_field(node, "period", &f.period, err, errlen) < 0)
        return -1;

    /* dependencies: node.get("inputs") or node.get("dependencies") or [] */
    const json_t *dv = json_object_get(node, "inputs");
    const char *dname = "inputs";
    if (!py_truthy(dv)) {
        dv = json_object_get(node, "dependencies");
        dname = "dependencies";
    }
    if (py_truthy(dv)) {
        if (!json_is_array(dv)) {
            seterr(err, errlen, "field '%s': expected an array of node ids", dname);
            goto out;
        }
        for (size_t i = 0; i < json_array_size(dv); i++) {
            const json_t *e = json_array_get(dv, i);
            if (json_is_null(e))
                continue;
            char *s = py_str(e);
            if (!s) {
                seterr(err, errlen, "field '%s': entry %zu is not a string", dname, i);
                goto out;
            }
            int prc = s[0] ? strvec_push(&deps, s, strlen(s)) : 0;
            free(s);
            if (prc < 0) {
                seterr(err, errlen, "out of memory");
                goto out;
            }
        }
    }
    f.deps = (const char *const *)deps.v;
    f.n_deps = deps.n;

    /* schema_compat_id, falling back to schema_id; both set must agree */
    if (json_compat_part(json_object_get(node, "schema_compat_id"), "schema_compat_id", &compat,
                         err, errlen) < 0)
        goto out;
    const json_t *sid = json_object_get(node, "schema_id");
    if (sid && !json_is_null(sid)) {
        if (json_compat_part(sid, "schema_id", &legacy, err, errlen) < 0)
            goto out;
        if (compat[0] && legacy[0] && strcmp(compat, legacy) != 0) {
            seterr(err, errlen,
                   "field 'schema_compat_id': '%s' and schema_id '%s' must match if both are "
                   "given",
                   compat, legacy);
            goto out;
        }
        if (!compat[0]) {
            free(compat);
            compat = legacy;
            legacy = NULL;
        }
    }
    f.schema_compat_id = compat;

    /* code_hash: str(node.get("code_hash", "")) */
    const json_t *ch = json_object_get(node, "code_hash");
    if (ch) {
        if (json_str_field(ch, "code_hash", &code, err, errlen) < 0)
            goto out;
        f.code_hash = code;
    } else {
        f.code_hash = "";
    }

    /* params, else config */
    const json_t *params = json_object_get(node, "params");
    if (!params || json_is_null(params))
        params = json_object_get(node, "config");
    f.params = params;

    if (nodeid_is_tagquery(f.node_type)) {
        /* the reference's dict path: tags/match_mode from "params" (only), else from the
         * node; interval from the node, else params.interval; int() failure -> null */
        const json_t *p = json_object_get(node, "params");
        const json_t *tags = NULL, *mode = NULL;
        const json_t *iv = json_object_get(node, "interval");
        if (json_is_object(p)) {
            const json_t *q = json_object_get(p, "query_tags");
            tags = py_truthy(q) ? q : json_object_get(p, "tags");
            mode = json_object_get(p, "match_mode");
            if ((!iv || json_is_null(iv)) && json_object_get(p, "interval"))
                iv = json_object_get(p, "interval");
        }
        if (!tags || json_is_null(tags))
            tags = json_object_get(node, "tags");
        if (!mode || json_is_null(mode))
            mode = json_object_get(node, "match_mode");
        int64_t ival = 0;
        int inull = !iv || json_is_null(iv) || py_int(iv, &ival) < 0;
        tq = tagquery_params(tags, mode, inull, ival, err, errlen);
        if (!tq)
            goto out;
        f.params = tq;
    }

    size_t len;
    canon = nodeid_canonical_impl(&f, 1, &len, err, errlen);
    if (!canon)
        goto out;
    nodeid_from_canonical(canon, len, out);
    if (canonical_out) {
        *canonical_out = canon;
        canon = NULL;
    }
    rc = 0;
out:
    strvec_release(&deps);
    free(compat);
    free(legacy);
    free(code);
    free(canon);
    json_decref(tq);
    return rc;
}
