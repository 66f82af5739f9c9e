/*
 * state_dir: where the services keep their files when the configuration does not say.
 *
 * The state directory is $XDG_STATE_HOME/qmtl when XDG_STATE_HOME is set to an absolute
 * path (the XDG base directory rule: a relative value is ignored), else
 * $HOME/.local/state/qmtl. It is per user and outside any source tree, so a gateway
 * started from a checkout writes nothing into it, and two runs from different working
 * directories see the same store.
 *
 * An empty gateway.store_path / dagmanager.store_path means "<state dir>/gateway.db" /
 * "<state dir>/dagmanager.db". Whatever the path, the service creates its directory
 * (mode 0700, parents too) before opening the store, and says which directory it could
 * not create and why.
 *
 * Errors: every function returns 0 (or a malloc'd string) on success and -1 (or NULL)
 * with a one-line message in err that names the config key.
 */
#ifndef QMTL_COMMON_STATE_DIR_H
#define QMTL_COMMON_STATE_DIR_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: create 'dir' and any missing parent with 'mode'; directories that exist are
 * left as they are. 0, or -1 with errno set (ENOTDIR when a component is not a
 * directory, ENAMETOOLONG, ENOMEM). */
int state_mkdir_p(const char *dir, mode_t mode);

/* Write the state directory (not created) into out. -1 when neither XDG_STATE_HOME
 * (absolute) nor HOME is set, or the path does not fit. */
int state_dir_path(char *out, size_t len, char *err, size_t errlen);

/* The store path a service opens: 'configured' as is when non-empty, else
 * "<state dir>/<default_name>". Caller frees the result. */
char *state_store_path(const char *configured, const char *default_name, const char *key,
                       char *err, size_t errlen);

/* Create the directory that holds 'path' and any missing parent (mode 0700; existing
 * directories are left as they are). ":memory:" and a path without a directory part are
 * no-ops. -1 names key, path and the directory that could not be made. */
int state_make_parent(const char *path, const char *key, char *err, size_t errlen);

/* state_store_path() then state_make_parent(); on success *slot (owned, malloc'd) is
 * replaced by the resolved path. On failure *slot is unchanged. */
int state_prepare_store(char **slot, const char *default_name, const char *key, char *err,
                        size_t errlen);

#endif
