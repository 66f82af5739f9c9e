/*
 * loader: open a strategy plugin (.so) safely and validate its descriptor.
 *
 * Load sequence (plugin_open):
 *   1. check the file is a regular, complete ELF shared object for this machine
 *      (precise refusals for "not an ELF file" and "truncated file");
 *   2. copy it to a private, unique file name (so a later file written at the same
 *      path is really loaded again, never served from the dynamic linker's cache);
 *   3. dlopen(RTLD_NOW | RTLD_LOCAL) the copy (unresolved symbols fail here), then
 *      unlink the copy (the mapping keeps it alive);
 *   4. find the data symbol 'qmtl_plugin_descriptor' and validate it BEFORE any
 *      plugin function is called: magic, major equal, minor not newer, size covers
 *      the 1.0 layout, a valid name, the required 'setup' callback.
 * Each refusal is one line: "plugin 'NAME' (PATH): what is wrong", or
 * "plugin 'PATH': what is wrong" when the name cannot be trusted yet.
 *
 * QMTL_NO_DLCLOSE=1 in the environment keeps libraries mapped at plugin_close()
 * so that ASan/LeakSanitizer and valgrind can still symbolize their frames.
 */
#ifndef QMTL_HOST_LOADER_H
#define QMTL_HOST_LOADER_H

#include <stddef.h>

#include <qmtl/qmtl.h>

struct plugin {
    char *path;                     /* as given by the caller */
    char *private_path;             /* the unique copy that was dlopen()ed (already unlinked) */
    void *dl;                       /* dlopen() handle */
    const struct qmtl_plugin *desc; /* validated descriptor, borrowed from the mapping */
};

/*
 * Open and validate the plugin at 'path'. Returns 0 and stores a new plugin in *out
 * (release it with plugin_close), or -1 with one line in 'err' and *out untouched.
 * Runs no plugin code besides what the dynamic linker runs (ELF constructors, which
 * plugins must not have).
 */
int plugin_open(const char *path, struct plugin **out, char *err, size_t errlen);

/* dlclose (unless QMTL_NO_DLCLOSE=1) and free. NULL is a no-op. */
void plugin_close(struct plugin *p);

/*
 * Refuse 'p' when a plugin of the same name is among loaded[0..n). Returns 0, or -1
 * with "plugin 'NAME' (PATH): duplicate name, already loaded from OTHER" in err.
 */
int plugin_check_duplicate(struct plugin *const *loaded, size_t n, const struct plugin *p,
                           char *err, size_t errlen);

/*
 * List the plugins of directory 'dir': regular files named "*.so", not starting with
 * '.', sorted by name, as "dir/name". Returns 0 with a malloc'd array in *paths (free
 * each entry and the array; see plugin_free_paths), or -1 with err set.
 */
int plugin_scan_dir(const char *dir, char ***paths, size_t *n, char *err, size_t errlen);
void plugin_free_paths(char **paths, size_t n);

/* Names of the optional callbacks the descriptor sets, comma-separated, into buf. */
void plugin_describe_callbacks(const struct qmtl_plugin *d, char *buf, size_t len);

#endif
