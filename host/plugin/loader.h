/*
 * loader: open a strategy plugin (.so) safely and validate its descriptor.
 *
 * Load sequence (plugin_open_checked):
 *   1. read the file as data, nothing mapped yet (host/plugin/elf_desc.h): a regular file of at
 *      most PLUGIN_MAX_BYTES, a 64-bit ELF shared object of this host's machine and byte
 *      order, exporting 'qmtl_plugin_descriptor' whose magic, ABI major/minor and size
 *      are checked right there: a foreign or stale plugin is refused before any of its
 *      code (ELF constructors included) can run;
 *   2. copy it (at most its size at stat time) to a private, unique file name (mode
 *      0600), so a later file written at the same path is really loaded again, never
 *      served from the dynamic linker's cache;
 *   3. hand the copy to the caller's preflight (host/plugin/preflight.h runs it in a child
 *      process: constructors and setup() cannot take the caller down);
 *   4. dlopen(RTLD_NOW | RTLD_LOCAL) the copy (unresolved symbols fail here), find the
 *      descriptor and validate it again in memory, plus its name and 'setup';
 *   5. unlink the copy, in every case (the mapping keeps it alive).
 * Each refusal is one line: "plugin 'NAME' (PATH): what is wrong", or
 * "plugin 'PATH': what is wrong" when the name cannot be trusted yet.
 *
 * Every call maps its own copy: one file may be opened several times (e.g. a parameter
 * sweep); the host then needs a distinct strategy name per instance (host_add_strategy
 * refuses a second strategy of the same name).
 *
 * QMTL_NO_DLCLOSE=1 in the environment keeps libraries mapped at plugin_close()
 * so that ASan/LeakSanitizer and valgrind can still symbolize their frames.
 */
#ifndef QMTL_HOST_LOADER_H
#define QMTL_HOST_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <qmtl/qmtl.h>

struct plugin {
    char *path;                     /* as given by the caller */
    char *private_path;             /* the unique copy that was dlopen()ed (already unlinked) */
    void *dl;                       /* dlopen() handle */
    const struct qmtl_plugin *desc; /* validated descriptor, borrowed from the mapping */
};

/* A plugin file larger than this is refused before anything is copied. */
#define PLUGIN_MAX_BYTES (256ull << 20)

/*
 * Step 3 above: called with the private copy ('copy', still on disk) and the user's
 * 'path' before the caller maps anything. 0 to go on, or -1 with one line in err.
 */
typedef int (*plugin_preflight_fn)(const char *copy, const char *path, void *arg, char *err,
                                   size_t errlen);

/*
 * Open and validate the plugin at 'path'. Returns 0 and stores a new plugin in *out
 * (release it with plugin_close), or -1 with one line in 'err' and *out untouched.
 * 'check' (may be NULL) is the preflight of step 3. In this process, runs no plugin
 * code besides what the dynamic linker runs at step 4 (ELF constructors).
 */
int plugin_open_checked(const char *path, plugin_preflight_fn check, void *arg, struct plugin **out,
                        char *err, size_t errlen);

/* plugin_open_checked without a preflight. */
int plugin_open(const char *path, struct plugin **out, char *err, size_t errlen);

/*
 * Step 4 alone: dlopen the private copy 'copy' of 'path' (steps 1-2 done), find and
 * validate the descriptor. Does not unlink 'copy'. 0 and *out, or -1 with err.
 */
int plugin_map(const char *copy, const char *path, struct plugin **out, char *err, size_t errlen);

/*
 * The in-memory checks of step 4 on a descriptor: magic, ABI major/minor, size, name and
 * 'setup' (also for a descriptor linked into the program: host/embed.h). 'path' names it
 * in the message. 0, or -1 with one line in err.
 */
int plugin_validate(const struct qmtl_plugin *d, const char *path, char *err, size_t errlen);

/* dlclose (unless QMTL_NO_DLCLOSE=1) and free. NULL is a no-op. */
void plugin_close(struct plugin *p);

/*
 * Refuse 'p' when a plugin of the same name is among loaded[0..n). Returns 0, or -1
 * with "plugin 'NAME' (PATH): duplicate name, already loaded from OTHER" in err.
 */
int plugin_check_duplicate(struct plugin *const *loaded, size_t n, const struct plugin *p,
                           char *err, size_t errlen);

/*
 * Refuse every plugin of plugins[0..n) whose descriptor name another one of them also
 * declares (name squatting: no file wins by sorting first). For each such name, one line
 * "plugin 'NAME': duplicate name in A and B; all refused" goes to report(); each plugin
 * of that name is closed and its slot set to NULL. Returns the number refused.
 */
size_t plugin_refuse_duplicates(struct plugin **plugins, size_t n,
                                void (*report)(void *arg, const char *line), void *arg);

/*
 * Refuse a plugins directory (is_dir) or plugin file that others could replace: writable
 * by group or others, or owned by neither this user nor root (as ssh does with keys).
 * 0, or -1 with one line giving the exact chmod/chown to run.
 */
int plugin_check_owner(const char *path, int is_dir, char *err, size_t errlen);

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
