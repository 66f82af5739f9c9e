#include "loader.h"

#include "host/plugin/elf_desc.h"
#include "log.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The size of the descriptor at ABI 1.0: every later minor only appends. */
#define DESC_V1_0_SIZE (offsetof(struct qmtl_plugin, on_signal) + sizeof(void (*)(void)))

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 100)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/*
 * Copy the first 'size' bytes of the open file 'in' to a fresh unique file (mode 0600);
 * returns its malloc'd name or NULL. Never copies more than 'size' bytes, even when the
 * file grows meanwhile.
 */
static char *private_copy(int in, uint64_t size, const char *path, char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    size_t len = strlen(tmp) + 32;
    char *name = malloc(len);
    if (!name) {
        plugin_errf(err, errlen, "plugin '%s': out of memory", path);
        return NULL;
    }
    snprintf(name, len, "%s/qmtl-plugin-XXXXXX.so", tmp);
    int out = mkstemps(name, 3);
    if (out < 0) {
        plugin_errf(err, errlen, "plugin '%s': cannot create private copy in '%s': %s", path, tmp,
                    strerror(errno));
        free(name);
        return NULL;
    }
    char buf[65536];
    off_t off = 0;
    while ((uint64_t)off < size) {
        uint64_t left = size - (uint64_t)off;
        ssize_t r = pread(in, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            plugin_errf(err, errlen, "plugin '%s': read failed: %s", path, strerror(errno));
            goto bad;
        }
        if (r == 0) {
            plugin_errf(err, errlen, "plugin '%s': file shrank while being copied", path);
            goto bad;
        }
        for (ssize_t w = 0; w < r;) {
            ssize_t k = write(out, buf + w, (size_t)(r - w));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                plugin_errf(err, errlen, "plugin '%s': cannot write private copy: %s", path,
                            strerror(errno));
                goto bad;
            }
            w += k;
        }
        off += r;
    }
    if (close(out) < 0) {
        plugin_errf(err, errlen, "plugin '%s': cannot write private copy: %s", path,
                    strerror(errno));
        unlink(name);
        free(name);
        return NULL;
    }
    return name;
bad:
    close(out);
    unlink(name);
    free(name);
    return NULL;
}

/* dlerror() names the private copy; say the user's path instead. */
static void dl_failure(char *err, size_t errlen, const char *path, const char *priv)
{
    const char *e = dlerror();
    if (!e)
        e = "unknown error";
    const char *hit = strstr(e, priv);
    if (hit)
        plugin_errf(err, errlen, "plugin '%s': cannot load: %.*s%s%s (check with 'ldd -r %s')",
                    path, (int)(hit - e), e, path, hit + strlen(priv), path);
    else
        plugin_errf(err, errlen, "plugin '%s': cannot load: %s (check with 'ldd -r %s')", path, e,
                    path);
}

/* The leading integer fields, the same whether read from the file or from the mapping. */
static int validate_header(uint32_t magic, uint32_t major, uint32_t minor, uint32_t size,
                           const char *path, char *err, size_t errlen)
{
    if (magic != QMTL_PLUGIN_MAGIC)
        return plugin_errf(
            err, errlen,
            "plugin '%s': bad descriptor magic 0x%08x (expected 0x%08x; define it with "
            "QMTL_PLUGIN())",
            path, magic, QMTL_PLUGIN_MAGIC);
    if (major != QMTL_ABI_MAJOR)
        return plugin_errf(err, errlen, "plugin '%s': ABI %u.%u, host supports %d.x", path, major,
                           minor, QMTL_ABI_MAJOR);
    if (size < DESC_V1_0_SIZE)
        return plugin_errf(
            err, errlen,
            "plugin '%s': descriptor size %u is smaller than the ABI %d.0 layout (%zu)", path, size,
            QMTL_ABI_MAJOR, (size_t)DESC_V1_0_SIZE);
    if (minor > QMTL_ABI_MINOR)
        return plugin_errf(err, errlen, "plugin '%s': ABI %u.%u is newer than the host's %d.%d",
                           path, major, minor, QMTL_ABI_MAJOR, QMTL_ABI_MINOR);
    return 0;
}

int plugin_validate(const struct qmtl_plugin *d, const char *path, char *err, size_t errlen)
{
    if (validate_header(d->magic, d->abi_major, d->abi_minor, d->size, path, err, errlen) < 0)
        return -1;
    if (!valid_name(d->name))
        return plugin_errf(
            err, errlen,
            "plugin '%s': descriptor name is missing or invalid (1-100 characters of "
            "[A-Za-z0-9_.-])",
            path);
    if (!d->setup)
        return plugin_errf(err, errlen, "plugin '%s' (%s): missing required callback 'setup'",
                           d->name, path);
    return 0;
}

int plugin_map(const char *copy, const char *path, struct plugin **out, char *err, size_t errlen)
{
    void *dl = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        dl_failure(err, errlen, path, copy);
        return -1;
    }
    const struct qmtl_plugin *d = dlsym(dl, QMTL_DESCRIPTOR_SYMBOL);
    if (!d) {
        plugin_errf(
            err, errlen,
            "plugin '%s': no descriptor: symbol '%s' not found (define it with QMTL_PLUGIN())",
            path, QMTL_DESCRIPTOR_SYMBOL);
        goto bad;
    }
    if (plugin_validate(d, path, err, errlen) < 0)
        goto bad;
    struct plugin *p = calloc(1, sizeof(*p));
    if (!p || !(p->path = strdup(path)) || !(p->private_path = strdup(copy))) {
        if (p)
            free(p->path);
        free(p);
        plugin_errf(err, errlen, "plugin '%s': out of memory", path);
        goto bad;
    }
    p->dl = dl;
    p->desc = d;
    *out = p;
    return 0;
bad:
    dlclose(dl);
    return -1;
}

/* Steps 1 (file and descriptor header, from the open file 'fd' of 'size' bytes). */
static int check_file(int fd, uint64_t size, const char *path, char *err, size_t errlen)
{
    struct elf_desc hd;
    if (elf_desc_read_fd(fd, size, path, &hd, err, errlen) < 0)
        return -1;
    return validate_header(hd.magic, hd.abi_major, hd.abi_minor, hd.size, path, err, errlen);
}

/*
 * Open 'path' as data, check it (step 1) and make the private copy (step 2), then check
 * the copy again: the original may change after it was checked, the copy (0600, ours)
 * cannot. Returns the copy's malloc'd name, or NULL with err (no copy left behind).
 */
static char *stage(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        plugin_errf(err, errlen, "plugin '%s': cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *priv = NULL;
    if (fstat(fd, &st) < 0)
        plugin_errf(err, errlen, "plugin '%s': cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        plugin_errf(err, errlen, "plugin '%s': not a regular file", path);
    else if ((uint64_t)st.st_size > PLUGIN_MAX_BYTES)
        plugin_errf(err, errlen,
                    "plugin '%s': file is %lld bytes, larger than the %llu MiB a plugin may be",
                    path, (long long)st.st_size, (unsigned long long)(PLUGIN_MAX_BYTES >> 20));
    else if (check_file(fd, (uint64_t)st.st_size, path, err, errlen) == 0)
        priv = private_copy(fd, (uint64_t)st.st_size, path, err, errlen);
    close(fd);
    if (!priv)
        return NULL;
    int cfd = open(priv, O_RDONLY | O_CLOEXEC);
    int rc = cfd < 0 ? plugin_errf(err, errlen, "plugin '%s': cannot reopen private copy: %s", path,
                                   strerror(errno))
                     : check_file(cfd, (uint64_t)st.st_size, path, err, errlen);
    if (cfd >= 0)
        close(cfd);
    if (rc < 0) {
        unlink(priv);
        free(priv);
        return NULL;
    }
    return priv;
}

int plugin_open_checked(const char *path, plugin_preflight_fn check, void *arg, struct plugin **out,
                        char *err, size_t errlen)
{
    char *priv = stage(path, err, errlen);
    if (!priv)
        return -1;
    int rc = check ? check(priv, path, arg, err, errlen) : 0;
    if (rc == 0)
        rc = plugin_map(priv, path, out, err, errlen);
    unlink(priv); /* in every case: a mapping keeps the file alive */
    free(priv);
    return rc;
}

int plugin_open(const char *path, struct plugin **out, char *err, size_t errlen)
{
    return plugin_open_checked(path, NULL, NULL, out, err, errlen);
}

void plugin_close(struct plugin *p)
{
    if (!p)
        return;
    const char *keep = getenv("QMTL_NO_DLCLOSE");
    if (p->dl && !(keep && strcmp(keep, "1") == 0))
        dlclose(p->dl);
    free(p->path);
    free(p->private_path);
    free(p);
}

int plugin_check_duplicate(struct plugin *const *loaded, size_t n, const struct plugin *p,
                           char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (loaded[i] && loaded[i] != p && strcmp(loaded[i]->desc->name, p->desc->name) == 0)
            return plugin_errf(err, errlen,
                               "plugin '%s' (%s): duplicate name, already loaded from %s",
                               p->desc->name, p->path, loaded[i]->path);
    }
    return 0;
}

size_t plugin_refuse_duplicates(struct plugin **plugins, size_t n,
                                void (*report)(void *arg, const char *line), void *arg)
{
    size_t refused = 0;
    for (size_t i = 0; i < n; i++) {
        if (!plugins[i])
            continue;
        const char *name = plugins[i]->desc->name;
        char line[2048];
        int len = snprintf(line, sizeof(line), "plugin '%s': duplicate name in %s", name,
                           plugins[i]->path);
        size_t same = 0;
        for (size_t j = i + 1; j < n; j++) {
            if (!plugins[j] || strcmp(plugins[j]->desc->name, name) != 0)
                continue;
            if (len >= 0 && (size_t)len < sizeof(line))
                len +=
                    snprintf(line + len, sizeof(line) - (size_t)len, " and %s", plugins[j]->path);
            same++;
        }
        if (!same)
            continue;
        if (len >= 0 && (size_t)len < sizeof(line))
            snprintf(line + len, sizeof(line) - (size_t)len, "; %s refused",
                     same == 1 ? "both" : "all");
        if (report)
            report(arg, line);
        for (size_t j = n; j-- > i;) {
            if (!plugins[j] || (j != i && strcmp(plugins[j]->desc->name, name) != 0))
                continue;
            plugin_close(plugins[j]);
            plugins[j] = NULL;
            refused++;
        }
    }
    return refused;
}

int plugin_check_owner(const char *path, int is_dir, char *err, size_t errlen)
{
    struct stat st;
    const char *what = is_dir ? "plugins directory" : "plugin";
    if (stat(path, &st) < 0)
        return plugin_errf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
    uid_t me = geteuid();
    if (st.st_uid != me && st.st_uid != 0) {
        const struct passwd *pw = getpwuid(me);
        return plugin_errf(err, errlen,
                           "%s '%s' is owned by uid %u, not by this user (uid %u) or root; others "
                           "could replace it: run 'chown %s %s'",
                           what, path, (unsigned)st.st_uid, (unsigned)me,
                           pw && pw->pw_name ? pw->pw_name : "root", path);
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return plugin_errf(
            err, errlen, "%s '%s' is writable by %s; others could replace it: run 'chmod go-w %s'",
            what, path, (st.st_mode & S_IWOTH) ? "everyone" : "its group", path);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void plugin_free_paths(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

int plugin_scan_dir(const char *dir, char ***paths, size_t *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return plugin_errf(err, errlen, "plugins directory '%s': %s", dir, strerror(errno));
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
            continue;
        size_t plen = strlen(dir) + len + 2;
        char *full = malloc(plen);
        if (!full)
            goto oom;
        snprintf(full, plen, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(full, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **nv = realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                free(full);
                goto oom;
            }
            v = nv;
            cap = ncap;
        }
        v[cnt++] = full;
    }
    closedir(d);
    if (cnt)
        qsort(v, cnt, sizeof(*v), cmp_str);
    *paths = v;
    *n = cnt;
    return 0;
oom:
    closedir(d);
    plugin_free_paths(v, cnt);
    return plugin_errf(err, errlen, "plugins directory '%s': out of memory", dir);
}

void plugin_describe_callbacks(const struct qmtl_plugin *d, char *buf, size_t len)
{
    struct {
        const char *name;
        int set;
    } cb[] = {
        {"setup", d->setup != NULL},
        {"teardown", d->teardown != NULL},
        {"on_start", d->on_start != NULL},
        {"on_finish", d->on_finish != NULL},
        {"on_error", d->on_error != NULL},
        {"on_activation", d->on_activation != NULL},
        {"on_fill", d->on_fill != NULL},
        {"on_signal", d->on_signal != NULL},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(cb) / sizeof(cb[0]); i++) {
        if (!cb[i].set)
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", cb[i].name);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}
