/* config_env: environment overrides, load warnings and error formatting. */
#include "config.h"
#include "config_internal.h"
#include "log.h"
#include "suggest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cfg_fail_(struct cfg_error *err, const char *file, int line, int col, const char *key,
              const char *fmt, ...)
{
    if (!err)
        return -1;
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    err->column = col;
    snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
    if (file && line > 0)
        snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: %s", file, line, col, text);
    else if (file)
        snprintf(err->msg, sizeof(err->msg), "%s: %s", file, text);
    else
        snprintf(err->msg, sizeof(err->msg), "%s", text);
    return -1;
}

void cfg_warn_(struct qmtl_config *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    LOG_WARN("config", "%s", line);
    char **w = realloc(c->warnings, sizeof(*w) * (c->n_warnings + 1));
    if (!w)
        return;
    c->warnings = w;
    w[c->n_warnings] = strdup(line);
    if (w[c->n_warnings])
        c->n_warnings++;
}

/* Set one entry from the environment variable 'name'; 0 or -1 with err filled. */
static int env_set(struct qmtl_config *c, const struct cfg_schema_entry *e, const char *name,
                   const char *value, struct cfg_error *err)
{
    char why[256], path[160], file[140];
    if (cfg_set_value_(c, e, value, 0, why, sizeof(why)) == 0)
        return 0;
    snprintf(path, sizeof(path), "%s.%s", e->section, e->key);
    snprintf(file, sizeof(file), "env %s", name);
    return cfg_fail_(err, file, 0, 0, path, "%s: %s", path, why);
}

/* Warn about QMTL__* variables that name no key (a typo would otherwise do nothing). */
static void warn_unknown_env(struct qmtl_config *c, const struct cfg_schema_entry *s, size_t n)
{
    char name[128], known[128], best[128];
    for (char **ep = environ; ep && *ep; ep++) {
        if (strncmp(*ep, "QMTL__", 6) != 0)
            continue;
        size_t l = strcspn(*ep, "=");
        if (l >= sizeof(name))
            l = sizeof(name) - 1;
        memcpy(name, *ep, l);
        name[l] = '\0';
        int bestd = 3; /* suggest only names at most 2 edits away */
        best[0] = '\0';
        for (size_t i = 0; i < n && bestd > 0; i++) {
            config_env_name(&s[i], known, sizeof(known));
            int d = known[0] ? suggest_distance(name, known) : 255;
            if (d < bestd) {
                bestd = d;
                memcpy(best, known, sizeof(best));
            }
        }
        if (bestd == 0)
            continue;
        if (best[0])
            cfg_warn_(c, "env %s: no such setting, ignored (did you mean %s?)", name, best);
        else
            cfg_warn_(c, "env %s: no such setting, ignored", name);
    }
}

int cfg_apply_env_(struct qmtl_config *c, struct cfg_error *err)
{
    size_t n;
    const struct cfg_schema_entry *s = config_schema(&n);
    char name[128];
    for (size_t i = 0; i < n; i++) {
        config_env_name(&s[i], name, sizeof(name));
        const char *v = name[0] ? getenv(name) : NULL;
        if (v && env_set(c, &s[i], name, v, err) != 0)
            return -1;
    }
    warn_unknown_env(c, s, n);
    /* the short names win over QMTL__GATEWAY__EVENT_SECRET / QMTL__TEST__TEST_MODE */
    const char *secret = getenv("QMTL_EVENT_SECRET");
    if (secret &&
        env_set(c, cfg_find_entry_("gateway", "event_secret"), "QMTL_EVENT_SECRET", secret, err))
        return -1;
    const char *tm = getenv("QMTL_TEST_MODE");
    if (tm && *tm && env_set(c, cfg_find_entry_("test", "test_mode"), "QMTL_TEST_MODE", tm, err))
        return -1;
    return 0;
}
