/*
 * dm_topic: queue (topic) names of the DAG manager (see dm_topic.h).
 */
#include "dagmanager/dm_topic.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void trim_copy(const char *in, char *out, size_t outlen, int (*keep)(int), int map_to,
                      int lower, const char *trim)
{
    size_t j = 0;
    for (const char *p = in ? in : ""; *p && j + 1 < outlen; p++) {
        int c = lower ? tolower((unsigned char)*p) : (unsigned char)*p;
        if (keep(c))
            out[j++] = (char)c;
        else if (map_to)
            out[j++] = (char)map_to;
    }
    out[j] = '\0';
    size_t a = 0;
    while (out[a] && strchr(trim, out[a]))
        a++;
    while (j > a && strchr(trim, out[j - 1]))
        j--;
    memmove(out, out + a, j - a);
    out[j - a] = '\0';
}

static int keep_lower(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int keep_name(int c)
{
    return isascii(c) && (isalnum(c) || c == '-' || c == '_');
}

static int keep_version(int c)
{
    return keep_name(c) || c == '.';
}

void dm_sanitize_segment(const char *in, char *out, size_t outlen)
{
    trim_copy(in, out, outlen, keep_lower, '-', 1, "-_");
}

void dm_asset_name(const char *first_tag, char *out, size_t outlen)
{
    trim_copy(first_tag, out, outlen, keep_lower, 0, 1, "");
    if (!out[0])
        snprintf(out, outlen, "any");
}

void dm_normalize_version(const char *in, char *out, size_t outlen)
{
    trim_copy(in, out, outlen, keep_version, '-', 0, "-_.");
    if (!out[0])
        snprintf(out, outlen, "v1");
}

const char *dm_normalize_domain(const char *in)
{
    static const char *const map[][2] = {
        {"backtest", "backtest"},   {"backtesting", "backtest"},
        {"compute", "backtest"},    {"computeonly", "backtest"},
        {"offline", "backtest"},    {"sandbox", "backtest"},
        {"sim", "backtest"},        {"simulation", "backtest"},
        {"simulated", "backtest"},  {"validate", "backtest"},
        {"validation", "backtest"}, {"dryrun", "dryrun"},
        {"dryrunmode", "dryrun"},   {"papermode", "dryrun"},
        {"paper", "dryrun"},        {"papertrade", "dryrun"},
        {"papertrading", "dryrun"}, {"papertrader", "dryrun"},
        {"live", "live"},           {"active", "live"},
        {"prod", "live"},           {"production", "live"},
        {"shadow", "shadow"},
    };
    char key[32];
    size_t j = 0;
    for (const char *p = in ? in : ""; *p && j + 1 < sizeof(key); p++)
        if (!isspace((unsigned char)*p) && *p != '_' && *p != '-')
            key[j++] = (char)tolower((unsigned char)*p);
    key[j] = '\0';
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(key, map[i][0]) == 0)
            return map[i][1];
    return "backtest";
}

/* 1 when "<base>-k" is taken, 0 free, <0 error. */
static int suffix_taken(const char *prefix, const char *asset, const char *type, const char *ch,
                        const char *ver, int k, dm_topic_exists_fn exists, void *arg)
{
    char *name;
    if (asprintf(&name, "%s%s_%s_%s_%s-%d", prefix, asset, type, ch, ver, k) < 0)
        return -1;
    int rc = exists(name, arg);
    free(name);
    return rc;
}

char *dm_topic_pick(const char *world, const char *domain, const char *first_tag,
                    const char *node_type, const char *code_hash, const char *version,
                    dm_topic_exists_fn exists, void *arg)
{
    char w[65], dom[33], asset[65], type[65], ver[33], ch[129], prefix[100] = "";
    dm_sanitize_segment(world, w, sizeof(w));
    dm_sanitize_segment(domain, dom, sizeof(dom));
    dm_asset_name(first_tag, asset, sizeof(asset));
    trim_copy(node_type, type, sizeof(type), keep_name, '-', 0, "");
    trim_copy(code_hash, ch, sizeof(ch), keep_name, '-', 0, "");
    dm_normalize_version(version, ver, sizeof(ver));
    if (w[0] && dom[0])
        snprintf(prefix, sizeof(prefix), "%s.%s.", w, dom);
    size_t len = strlen(ch);
    char *name = NULL;
    for (size_t n = 6;; n += 2) {
        int k = (int)(n < len ? n : len);
        if (asprintf(&name, "%s%s_%s_%.*s_%s", prefix, asset, type, k, ch, ver) < 0)
            return NULL;
        int rc = exists(name, arg);
        if (rc == 0)
            return name;
        free(name);
        if (rc < 0)
            return NULL;
        if ((size_t)k >= len)
            break;
    }
    /* Suffixes: double k until a free one shows up, then bisect between the last taken
     * and the first free one, so n queues that share a base cost O(log n) lookups. With
     * no gaps (suffixes are handed out in order) this finds the smallest free suffix. */
    int lo = 0, hi = 0, rc;
    for (int k = 1;; k = k * 2 > DM_TOPIC_MAX_SUFFIX ? DM_TOPIC_MAX_SUFFIX : k * 2) {
        if ((rc = suffix_taken(prefix, asset, type, ch, ver, k, exists, arg)) < 0)
            return NULL;
        if (rc == 0) {
            hi = k;
            break;
        }
        if (k == DM_TOPIC_MAX_SUFFIX)
            return NULL;
        lo = k;
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if ((rc = suffix_taken(prefix, asset, type, ch, ver, mid, exists, arg)) < 0)
            return NULL;
        if (rc)
            lo = mid;
        else
            hi = mid;
    }
    if (asprintf(&name, "%s%s_%s_%s_%s-%d", prefix, asset, type, ch, ver, hi) < 0)
        return NULL;
    return name;
}
