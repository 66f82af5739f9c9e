#include "nodeid.h"

#include "canonjson.h"
#include "nodeid_priv.h"

#include <blake3.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ BLAKE3 */

struct nodeid_hasher {
    blake3_hasher h;
};

struct nodeid_hasher *nodeid_hasher_new(void)
{
    struct nodeid_hasher *h = malloc(sizeof(*h));
    if (h)
        blake3_hasher_init(&h->h);
    return h;
}

void nodeid_hasher_update(struct nodeid_hasher *h, const void *data, size_t len)
{
    blake3_hasher_update(&h->h, data, len);
}

void nodeid_hasher_finalize(const struct nodeid_hasher *h, uint8_t *out, size_t outlen)
{
    blake3_hasher_finalize(&h->h, out, outlen);
}

void nodeid_hasher_reset(struct nodeid_hasher *h)
{
    blake3_hasher_reset(&h->h);
}

void nodeid_hasher_free(struct nodeid_hasher *h)
{
    free(h);
}

void nodeid_blake3(const void *data, size_t len, uint8_t *out, size_t outlen)
{
    blake3_hasher h;
    blake3_hasher_init(&h);
    blake3_hasher_update(&h, data, len);
    blake3_hasher_finalize(&h, out, outlen);
}

void nodeid_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

void nodeid_blake3_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    nodeid_blake3(data, len, d, sizeof(d));
    nodeid_hex(d, sizeof(d), out);
}

void nodeid_from_canonical(const char *canonical, size_t len, char out[NODEID_LEN + 1])
{
    memcpy(out, "blake3:", 7);
    nodeid_blake3_hex(canonical, len, out + 7);
}

/* ------------------------------------------------------------------ CRC-32 */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t nodeid_crc32(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint32_t nodeid_crc32_ids(const char *const *ids, size_t n)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i])
            crc = nodeid_crc32(crc, ids[i], strlen(ids[i]));
    return crc;
}

/* ------------------------------------------------------------------ ComputeKey */

static int is_py_space_ascii(unsigned char c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
}

static int domain_is_default(const char *d)
{
    if (!d)
        return 1;
    size_t a = 0, b = strlen(d);
    while (a < b && is_py_space_ascii((unsigned char)d[a]))
        a++;
    while (b > a && is_py_space_ascii((unsigned char)d[b - 1]))
        b--;
    return b == a || (b - a == 7 && strncasecmp(d + a, "default", 7) == 0);
}

int nodeid_compute_key(const char *node_id, const char *world_id, const char *domain,
                       const char *as_of, const char *partition, char out[NODEID_LEN + 1])
{
    static const char sep = 0x1f;
    const char *parts[5] = {node_id, world_id, domain_is_default(domain) ? "backtest" : domain,
                            as_of, partition};
    blake3_hasher h;
    uint8_t d[32];
    blake3_hasher_init(&h);
    for (int i = 0; i < 5; i++) {
        if (i)
            blake3_hasher_update(&h, &sep, 1);
        if (parts[i])
            blake3_hasher_update(&h, parts[i], strlen(parts[i]));
    }
    blake3_hasher_finalize(&h, d, sizeof(d));
    memcpy(out, "blake3:", 7);
    nodeid_hex(d, sizeof(d), out + 7);
    return 0;
}

/* ------------------------------------------------------------------ canonical form */

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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int nodeid_is_tagquery(const char *node_type)
{
    return strcmp(node_type, "TagQueryNode") == 0;
}

char *nodeid_canonical_impl(const struct nodeid_fields *f, int params_final, size_t *len_out,
                            char *err, size_t errlen)
{
    if (!f || !f->node_type || !f->node_type[0]) {
        seterr(err, errlen, "node_type is required");
        return NULL;
    }
    json_t *tq = NULL;
    const json_t *params = f->params;
    if (!params_final && nodeid_is_tagquery(f->node_type)) {
        tq = nodeid_tagquery_from_params(params, f->interval, err, errlen);
        if (!tq)
            return NULL;
        params = tq;
    }
    size_t plen;
    char *pj = canonjson_dump(params, CANONJSON_EXCLUDE, "params", &plen, err, errlen);
    json_decref(tq);
    if (!pj)
        return NULL;

    /* sorted, non-empty deps */
    const char **deps = NULL;
    size_t nd = 0, depslen = 0;
    if (f->n_deps) {
        deps = malloc(f->n_deps * sizeof(*deps));
        if (!deps) {
            free(pj);
            seterr(err, errlen, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < f->n_deps; i++)
            if (f->deps[i] && f->deps[i][0]) {
                deps[nd++] = f->deps[i];
                depslen += strlen(f->deps[i]) + 1;
            }
        if (nd > 1)
            qsort(deps, nd, sizeof(*deps), cmp_str);
    }
    const char *compat = f->schema_compat_id ? f->schema_compat_id : "";
    const char *code = f->code_hash ? f->code_hash : "";
    char nums[64];
    int nl = snprintf(nums, sizeof(nums), "%" PRId64 "|%" PRId64, f->interval, f->period);
    size_t tl = strlen(f->node_type), cl = strlen(compat), hl = strlen(code);
    size_t total = tl + 1 + (size_t)nl + 1 + plen + 1 + depslen + 1 + cl + 1 + hl;
    char *out = malloc(total + 1);
    if (!out) {
        free(pj);
        free(deps);
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    char *p = out;
    memcpy(p, f->node_type, tl);
    p += tl;
    *p++ = '|';
    memcpy(p, nums, (size_t)nl);
    p += nl;
    *p++ = '|';
    memcpy(p, pj, plen);
    p += plen;
    *p++ = '|';
    for (size_t i = 0; i < nd; i++) {
        if (i)
            *p++ = ',';
        size_t l = strlen(deps[i]);
        memcpy(p, deps[i], l);
        p += l;
    }
    *p++ = '|';
    memcpy(p, compat, cl);
    p += cl;
    *p++ = '|';
    memcpy(p, code, hl);
    p += hl;
    *p = '\0';
    free(pj);
    free(deps);
    if (len_out)
        *len_out = (size_t)(p - out);
    return out;
}

char *nodeid_canonical_len(const struct nodeid_fields *f, size_t *len_out, char *err, size_t errlen)
{
    return nodeid_canonical_impl(f, 0, len_out, err, errlen);
}

char *nodeid_canonical(const struct nodeid_fields *f, char *err, size_t errlen)
{
    return nodeid_canonical_impl(f, 0, NULL, err, errlen);
}

int nodeid_compute(const struct nodeid_fields *f, char out[NODEID_LEN + 1], char *err,
                   size_t errlen)
{
    size_t len;
    char *c = nodeid_canonical_impl(f, 0, &len, err, errlen);
    if (!c)
        return -1;
    nodeid_from_canonical(c, len, out);
    free(c);
    return 0;
}

/* ------------------------------------------------------------------ collision retry */

void nodeid_collision_id(const char *canonical, size_t len, unsigned long n,
                         char out[NODEID_RETRY_LEN + 1])
{
    static const char suffix[] = "|collision:";
    char num[24];
    int nl = snprintf(num, sizeof(num), "%lu", n);
    blake3_hasher h;
    uint8_t d[64];
    blake3_hasher_init(&h);
    blake3_hasher_update(&h, canonical, len);
    blake3_hasher_update(&h, suffix, sizeof(suffix) - 1);
    blake3_hasher_update(&h, num, (size_t)nl);
    blake3_hasher_finalize(&h, d, sizeof(d));
    memcpy(out, "blake3:", 7);
    nodeid_hex(d, sizeof(d), out + 7);
}

static int taken(const char *id, const char *const *existing, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (existing[i] && strcmp(existing[i], id) == 0)
            return 1;
    return 0;
}

int nodeid_compute_retry(const struct nodeid_fields *f, const char *const *existing,
                         size_t n_existing, char out[NODEID_RETRY_LEN + 1], char *err,
                         size_t errlen)
{
    size_t len;
    char *c = nodeid_canonical_impl(f, 0, &len, err, errlen);
    if (!c)
        return -1;
    nodeid_from_canonical(c, len, out);
    /* each retry id is distinct, so at most n_existing retries are needed */
    for (unsigned long n = 1; taken(out, existing, n_existing); n++)
        nodeid_collision_id(c, len, n, out);
    free(c);
    return 0;
}
