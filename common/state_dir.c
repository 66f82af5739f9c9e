/* state_dir: the default location of the services' stores, and creating their directory. */
#include "state_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int state_dir_path(char *out, size_t len, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, len, "%s/qmtl", xdg);
    else if (home && *home)
        n = snprintf(out, len, "%s/.local/state/qmtl", home);
    else {
        snprintf(err, errlen, "no state directory: neither XDG_STATE_HOME (an absolute path) "
                              "nor HOME is set");
        return -1;
    }
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "state directory path is too long");
        return -1;
    }
    return 0;
}

char *state_store_path(const char *configured, const char *default_name, const char *key,
                       char *err, size_t errlen)
{
    if (configured && *configured)
        return strdup(configured);
    char dir[4096], why[256];
    if (state_dir_path(dir, sizeof(dir), why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s is not set and there is %s; set %s", key, why, key);
        return NULL;
    }
    size_t n = strlen(dir) + strlen(default_name) + 2;
    char *out = malloc(n);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(out, n, "%s/%s", dir, default_name);
    return out;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int state_mkdir_p(const char *dir, mode_t mode)
{
    if (is_dir(dir))
        return 0;
    char *buf = strdup(dir);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (char *p = buf + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            rc = -1;
        else if (!is_dir(buf)) {
            errno = ENOTDIR;
            rc = -1;
        }
        *p = '/';
    }
    if (rc == 0 && mkdir(buf, mode) != 0 && errno != EEXIST)
        rc = -1;
    else if (rc == 0 && !is_dir(buf)) {
        errno = ENOTDIR;
        rc = -1;
    }
    int e = errno;
    free(buf);
    errno = e;
    return rc;
}

int state_make_parent(const char *path, const char *key, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    if (!strcmp(path, ":memory:") || !slash || slash == path)
        return 0;
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (state_mkdir_p(dir, 0700) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s '%s': cannot create directory '%s': %s", key, path, dir,
                 strerror(e));
        free(dir);
        return -1;
    }
    free(dir);
    return 0;
}

int state_prepare_store(char **slot, const char *default_name, const char *key, char *err,
                        size_t errlen)
{
    char *p = state_store_path(*slot, default_name, key, err, errlen);
    if (!p)
        return -1;
    if (state_make_parent(p, key, err, errlen) != 0) {
        free(p);
        return -1;
    }
    free(*slot);
    *slot = p;
    return 0;
}
