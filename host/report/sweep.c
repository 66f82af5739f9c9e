/* sweep: parameter grids (see sweep.h). */
#include "host/report/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sweep_split_kv(const char *arg, char **strategy, char **key, char **value, char *err,
                   size_t errlen)
{
    const char *eq = strchr(arg, '=');
    const char *dot = NULL;
    for (const char *c = arg; eq && c < eq; c++)
        if (*c == '.')
            dot = c;
    if (!eq || !dot || dot == arg || dot + 1 == eq) {
        snprintf(err, errlen, "'%s': expected STRATEGY.KEY=VALUE", arg);
        return -1;
    }
    *strategy = strndup(arg, (size_t)(dot - arg));
    *key = strndup(dot + 1, (size_t)(eq - dot - 1));
    *value = strdup(eq + 1);
    if (!*strategy || !*key || !*value) {
        free(*strategy);
        free(*key);
        free(*value);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int value_ok(const char *v, size_t len)
{
    if (len < 1 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '+' || c == '-'))
            return 0;
    }
    return 1;
}

static void axis_free(struct sweep_axis *a)
{
    free(a->strategy);
    free(a->key);
    for (size_t i = 0; i < a->n; i++)
        free(a->values[i]);
    free(a->values);
}

int sweep_add(struct sweep *s, const char *arg, char *err, size_t errlen)
{
    struct sweep_axis a = {0};
    char *list;
    char e[256];
    if (sweep_split_kv(arg, &a.strategy, &a.key, &list, e, sizeof(e))) {
        snprintf(err, errlen, "--sweep %s", e);
        return -1;
    }
    if (sweep_has_key(s, a.strategy, a.key)) {
        snprintf(err, errlen, "--sweep '%s': %s.%s is already swept", arg, a.strategy, a.key);
        goto fail;
    }
    for (const char *c = list;;) {
        const char *comma = strchr(c, ',');
        size_t len = comma ? (size_t)(comma - c) : strlen(c);
        if (!value_ok(c, len)) {
            snprintf(err, errlen,
                     "--sweep '%s': value %zu is not 1..64 characters of [A-Za-z0-9_.+-]", arg,
                     a.n + 1);
            goto fail;
        }
        char **nv = realloc(a.values, (a.n + 1) * sizeof(*nv));
        if (!nv || !(nv[a.n] = strndup(c, len))) {
            if (nv)
                a.values = nv;
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        a.values = nv;
        a.n++;
        if (!comma)
            break;
        c = comma + 1;
    }
    size_t sets = a.n;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->ax[i].strategy, a.strategy))
            sets *= s->ax[i].n;
    if (sets > SWEEP_MAX_SETS) {
        snprintf(err, errlen, "--sweep '%s': %zu parameter sets for '%s', at most %d", arg, sets,
                 a.strategy, SWEEP_MAX_SETS);
        goto fail;
    }
    struct sweep_axis *na = realloc(s->ax, (s->n + 1) * sizeof(*na));
    if (!na) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->ax = na;
    s->ax[s->n++] = a;
    free(list);
    return 0;
fail:
    free(list);
    axis_free(&a);
    return -1;
}

size_t sweep_count(const struct sweep *s, const char *strategy)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->ax[i].strategy, strategy))
            n = (n ? n : 1) * s->ax[i].n;
    return n;
}

int sweep_has_key(const struct sweep *s, const char *strategy, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->ax[i].strategy, strategy) && !strcmp(s->ax[i].key, key))
            return 1;
    return 0;
}

int sweep_set(const struct sweep *s, const char *strategy, size_t idx, char *name, size_t namelen,
              const char **keys, const char **vals, size_t *n_kv)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->ax[i].strategy, strategy))
            keys[k++] = s->ax[i].key;
    *n_kv = k;
    /* mixed radix, the last axis fastest */
    for (size_t i = s->n, j = k; i-- > 0;) {
        if (strcmp(s->ax[i].strategy, strategy))
            continue;
        j--;
        vals[j] = s->ax[i].values[idx % s->ax[i].n];
        idx /= s->ax[i].n;
    }
    size_t len = (size_t)snprintf(name, namelen, "%s[", strategy);
    for (size_t j = 0; j < k && len < namelen; j++)
        len += (size_t)snprintf(name + len, namelen - len, "%s%s=%s", j ? "," : "", keys[j],
                                vals[j]);
    if (len < namelen)
        len += (size_t)snprintf(name + len, namelen - len, "]");
    return len < namelen ? 0 : -1;
}

void sweep_release(struct sweep *s)
{
    for (size_t i = 0; i < s->n; i++)
        axis_free(&s->ax[i]);
    free(s->ax);
    s->ax = NULL;
    s->n = 0;
}
