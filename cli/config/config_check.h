/*
 * config_check: what `qmtl config validate` reports about a loaded configuration.
 *
 * Structural checks always run (consistency between keys, empty secrets...). Unless
 * 'offline' is set, probes also look at what the config points at: the gateway /
 * DAG manager URLs (TCP connect + GET <url>/health within the HTTP timeout budget),
 * the SQLite store files (can one be opened and written), the plugins directory (present,
 * a directory, not world-writable), CSV data files (readable) and the listen ports
 * (free or already taken). Offline, each probe becomes a WARN row "skipped (--offline)".
 */
#ifndef QMTL_CLI_CONFIG_CONFIG_CHECK_H
#define QMTL_CLI_CONFIG_CONFIG_CHECK_H

#include "config.h"

#include <stddef.h>

enum cfg_severity { CFG_SEV_OK = 0, CFG_SEV_WARN = 1, CFG_SEV_ERROR = 2 };

#define CFG_TARGET_GATEWAY 0x1u
#define CFG_TARGET_DAGMANAGER 0x2u
#define CFG_TARGET_HOST 0x4u
#define CFG_TARGET_ALL 0x7u

struct cfg_check {
    char target[16]; /* "config", "gateway", "dagmanager", "host" */
    char name[40];   /* "store", "plugins_dir", ... (unique within a target) */
    enum cfg_severity severity;
    char hint[400];
};

struct cfg_report {
    struct cfg_check *checks; /* owned */
    size_t n;
};

/* Parse "gateway|dagmanager|host|all" into a target mask; 0 when unknown. */
unsigned config_check_parse_target(const char *s);

/* Run the checks of 'targets' on c into *r (initialised here; release with
 * config_report_release). Rows of target "config" (where it was loaded from, load
 * warnings) always come first. Returns the worst severity. */
enum cfg_severity config_check(const struct qmtl_config *c, unsigned targets, int offline,
                               struct cfg_report *r);

void config_report_release(struct cfg_report *r);

/* "OK" | "WARN" | "ERROR", and the JSON words "ok" | "warning" | "error". Static. */
const char *config_severity_name(enum cfg_severity s);
const char *config_severity_json(enum cfg_severity s);

/* ---- the probes, exposed for tests; each writes a one-line hint ---- */

/* TCP connect to an http:// URL's host:port and GET <path>/health, all within timeout_s.
 * 0 when the answer is 2xx; -1 otherwise (hint says why). https:// URLs are only
 * connected to (TLS is not spoken): 0 with a hint saying so. */
int config_probe_http_health(const char *url, double timeout_s, char *hint, size_t len);

/* Can a SQLite database at 'path' be opened for writing (or created next to it)? An
 * existing file must be a SQLite database we can lock for writing; a missing one is
 * tested by creating and removing a scratch database in the same directory. 0 or -1;
 * 1 when the file is locked by another process (a running gateway or DAG manager). */
int config_probe_sqlite_writable(const char *path, char *hint, size_t len);

/* Plugins directory: missing, not a directory or world-writable -> CFG_SEV_ERROR;
 * group-writable -> CFG_SEV_WARN; else CFG_SEV_OK with the number of *.so files. */
enum cfg_severity config_probe_plugins_dir(const char *dir, char *hint, size_t len);

/* Is host:port free to listen on? 0 free, 1 in use, -1 other failure (hint says). */
int config_probe_listen(const char *host, int port, char *hint, size_t len);

#endif
