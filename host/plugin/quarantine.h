/*
 * quarantine: a plugin file that crashed the host is skipped at the next starts, until a
 * new version of it is dropped in.
 *
 * Per plugins directory, two files in the state directory (common/state_dir.h), named by
 * a hash of the directory's real path so that hosts on different directories do not mix:
 *     <state>/host-<id>.crash        written by the crash handler (host/plugin/crash_report.h)
 *     <state>/host-<id>.quarantine   one line per quarantined file: "<hash> <name> <why>"
 * quarantine_open() reads the list, then turns a crash record left by the previous run
 * into an entry (when the file still has the content that crashed: same BLAKE3 hash),
 * logs one line for it, removes the record and points the crash handler at the record
 * path for this run. quarantine_admit() is asked before each plugin file is loaded (at
 * start and on every reload): a listed name whose file still has the listed hash is
 * refused (counted); a listed name whose file changed is taken off the list (a new
 * version) and loads. It also notes the file's hash for the crash handler. The other
 * plugins of the directory are never affected.
 *
 * The record and the list come from disk and are treated as hostile: a line that does not
 * parse is ignored (and logged), names must be plugin file names (no '/').
 */
#ifndef QMTL_HOST_QUARANTINE_H
#define QMTL_HOST_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

struct quarantine_entry {
    char *name; /* file name in the plugins directory ("x.so") */
    char hash[65];
    char *why; /* "crashed the host: node 'bad' (blake3:...), signal 11" */
};

struct quarantine {
    char *dir;        /* plugins directory as given */
    char *list_path;  /* <state>/host-<id>.quarantine */
    char *crash_path; /* <state>/host-<id>.crash */
    struct quarantine_entry *e;
    size_t n;
    uint64_t refused; /* loads refused because quarantined */
    uint64_t taken;   /* crash records turned into entries by quarantine_open (0 or 1) */
};

/*
 * Open the quarantine of 'plugins_dir' (see above). 0, or -1 with one line in err (no
 * state directory, cannot create it, out of memory): the caller runs without quarantine.
 * Release with quarantine_release() in both cases.
 */
int quarantine_open(struct quarantine *q, const char *plugins_dir, char *err, size_t errlen);
void quarantine_release(struct quarantine *q);

/*
 * May the file at 'path' (in the plugins directory) be loaded? 0 yes (its hash is noted
 * for the crash record), -1 no: it is quarantined, err says why and how to lift it. A
 * file that cannot be read is admitted (the loader reports it).
 */
int quarantine_admit(struct quarantine *q, const char *path, char *err, size_t errlen);

/* A runner admit hook (host/runner.h): 'arg' is a struct quarantine *. */
int quarantine_admit_hook(void *arg, const char *path, char *err, size_t errlen);

/* BLAKE3 of the file's bytes as 64 hex digits. 0 or -1 (cannot read it). */
int quarantine_file_hash(const char *path, char out[65]);

#endif
