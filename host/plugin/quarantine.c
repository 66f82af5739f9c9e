/* quarantine: plugins that crashed the host, kept out until they change (see quarantine.h). */
#include "host/plugin/quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/plugin/crash_report.h"
#include "host/plugin/plugin_watch.h"
#include "log.h"
#include "nodeid.h"
#include "state_dir.h"

#define RECORD_MAX 8192

int quarantine_file_hash(const char *path, char out[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct nodeid_hasher *h = nodeid_hasher_new();
    if (!h) {
        close(fd);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        nodeid_hasher_update(h, buf, (size_t)n);
    close(fd);
    uint8_t d[32];
    nodeid_hasher_finalize(h, d, sizeof(d));
    nodeid_hasher_free(h);
    if (n < 0)
        return -1;
    nodeid_hex(d, sizeof(d), out);
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static int add_entry(struct quarantine *q, const char *name, const char *hash, const char *why)
{
    struct quarantine_entry *e = realloc(q->e, (q->n + 1) * sizeof(*e));
    if (!e)
        return -1;
    q->e = e;
    e = &q->e[q->n];
    e->name = strdup(name);
    e->why = strdup(why);
    snprintf(e->hash, sizeof(e->hash), "%s", hash);
    if (!e->name || !e->why) {
        free(e->name);
        free(e->why);
        return -1;
    }
    q->n++;
    return 0;
}

static void drop_entry(struct quarantine *q, size_t i)
{
    free(q->e[i].name);
    free(q->e[i].why);
    q->e[i] = q->e[--q->n];
}

/* Read at most RECORD_MAX bytes of a small state file into a NUL-terminated buffer. */
static char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    char *buf = malloc(RECORD_MAX + 1);
    size_t len = 0;
    ssize_t n;
    while (buf && len < RECORD_MAX && (n = read(fd, buf + len, RECORD_MAX - len)) > 0)
        len += (size_t)n;
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* The list, written to a temporary file and renamed over the old one. */
static void save(struct quarantine *q)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.tmp", q->list_path);
    if (!q->n) {
        if (unlink(q->list_path) && errno != ENOENT)
            LOG_WARN("reload", "cannot remove quarantine list '%s': %s", q->list_path,
                     strerror(errno));
        return;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        LOG_WARN("reload", "cannot write quarantine list '%s': %s", tmp, strerror(errno));
        return;
    }
    fchmod(fileno(f), 0600);
    for (size_t i = 0; i < q->n; i++)
        fprintf(f, "%s %s %s\n", q->e[i].hash, q->e[i].name, q->e[i].why);
    if (fclose(f) || rename(tmp, q->list_path)) {
        LOG_WARN("reload", "cannot write quarantine list '%s': %s", q->list_path, strerror(errno));
        unlink(tmp);
    }
}

static void load_list(struct quarantine *q)
{
    char *buf = slurp(q->list_path);
    if (!buf)
        return;
    int line = 0;
    for (char *s = buf, *nl; *s; s = nl ? nl + 1 : s + strlen(s)) {
        nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        line++;
        char *sp1 = strchr(s, ' ');
        char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2) {
            if (*s)
                LOG_WARN("reload", "%s:%d: not '<hash> <name> <why>': line ignored", q->list_path,
                         line);
            continue;
        }
        *sp1 = *sp2 = '\0';
        if (!hex64(s) || !plugin_watch_name_ok(sp1 + 1) || strchr(sp1 + 1, '/')) {
            LOG_WARN("reload", "%s:%d: bad hash or file name: line ignored", q->list_path, line);
            continue;
        }
        add_entry(q, sp1 + 1, s, sp2 + 1);
    }
    free(buf);
}

/* A record key's value (within the record text), copied into out; "" when absent. */
static void record_get(const char *rec, const char *key, char *out, size_t len)
{
    size_t k = strlen(key);
    out[0] = '\0';
    for (const char *s = rec; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
        if (!strncmp(s, key, k) && s[k] == '=') {
            const char *v = s + k + 1;
            size_t n = strcspn(v, "\n");
            if (n >= len)
                n = len - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            for (char *c = out; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    *c = '?';
            return;
        }
}

/* The previous run's crash record, if any, becomes a quarantine entry. */
static void take_record(struct quarantine *q)
{
    char *rec = slurp(q->crash_path);
    if (!rec)
        return;
    char file[256], hash[80], strategy[256], where[600], sig[16], path[PATH_MAX], now[65];
    record_get(rec, "file", file, sizeof(file));
    record_get(rec, "hash", hash, sizeof(hash));
    record_get(rec, "strategy", strategy, sizeof(strategy));
    record_get(rec, "where", where, sizeof(where));
    record_get(rec, "signal", sig, sizeof(sig));
    free(rec);
    if (unlink(q->crash_path))
        LOG_WARN("reload", "cannot remove crash record '%s': %s", q->crash_path, strerror(errno));
    if (!plugin_watch_name_ok(file) || strchr(file, '/')) {
        LOG_WARN("reload", "crash record '%s': no valid file name: ignored", q->crash_path);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", q->dir, file);
    if (quarantine_file_hash(path, now)) {
        LOG_WARN("reload", "plugin '%s' (strategy '%s') crashed the host last run (%s, signal %s); "
                           "the file is gone: nothing to quarantine",
                 path, strategy, where, sig);
        return;
    }
    if (*hash && strcmp(hash, now)) {
        LOG_WARN("reload", "plugin '%s' (strategy '%s') crashed the host last run (%s, signal %s); "
                           "the file has changed since: not quarantined",
                 path, strategy, where, sig);
        return;
    }
    char why[1024];
    snprintf(why, sizeof(why), "crashed the host: strategy '%s', %s, signal %s", strategy, where,
             sig);
    for (size_t i = 0; i < q->n; i++)
        if (!strcmp(q->e[i].name, file))
            drop_entry(q, i);
    if (add_entry(q, file, now, why))
        return;
    q->taken++;
    LOG_ERROR("reload", "plugin '%s' quarantined: it %s; drop in a new version of the file to "
                        "load it again",
              path, why);
    save(q);
}

int quarantine_open(struct quarantine *q, const char *plugins_dir, char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    char state[PATH_MAX], real[PATH_MAX], id[65], p[PATH_MAX + 64];
    if (state_dir_path(state, sizeof(state), err, errlen))
        return -1;
    if (!realpath(plugins_dir, real)) {
        snprintf(err, errlen, "quarantine: plugins directory '%s': %s", plugins_dir,
                 strerror(errno));
        return -1;
    }
    if (state_mkdir_p(state, 0700)) {
        snprintf(err, errlen, "quarantine: cannot create state directory '%s': %s", state,
                 strerror(errno));
        return -1;
    }
    nodeid_blake3_hex(real, strlen(real), id);
    id[16] = '\0';
    if (!(q->dir = strdup(plugins_dir)))
        goto oom;
    snprintf(p, sizeof(p), "%s/host-%s.quarantine", state, id);
    if (!(q->list_path = strdup(p)))
        goto oom;
    snprintf(p, sizeof(p), "%s/host-%s.crash", state, id);
    if (!(q->crash_path = strdup(p)))
        goto oom;
    load_list(q);
    take_record(q);
    crash_report_set_record(q->crash_path);
    return 0;
oom:
    snprintf(err, errlen, "quarantine: out of memory");
    return -1;
}

void quarantine_release(struct quarantine *q)
{
    while (q->n)
        drop_entry(q, q->n - 1);
    free(q->e);
    free(q->dir);
    free(q->list_path);
    free(q->crash_path);
    memset(q, 0, sizeof(*q));
}

int quarantine_admit(struct quarantine *q, const char *path, char *err, size_t errlen)
{
    char hash[65];
    if (quarantine_file_hash(path, hash))
        return 0;
    crash_report_note(path, hash);
    const char *name = base_name(path);
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->e[i].name, name))
            continue;
        if (!strcmp(q->e[i].hash, hash)) {
            q->refused++;
            snprintf(err, errlen,
                     "plugin '%s': quarantined (it %s); drop in a new version of the file to "
                     "load it again",
                     path, q->e[i].why);
            return -1;
        }
        LOG_INFO("reload", "plugin '%s': a new version replaces the quarantined one: loading it",
                 path);
        drop_entry(q, i);
        save(q);
        break;
    }
    return 0;
}

int quarantine_admit_hook(void *arg, const char *path, char *err, size_t errlen)
{
    return quarantine_admit(arg, path, err, errlen);
}
