/*
 * crash_report: what the host says, and leaves behind, when plugin code crashes it.
 *
 * host_install_crash_report() installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and
 * SIGABRT. The handler writes one line on stderr naming the plugin and the node (or
 * setup()) that was running, and, when a record file was set (crash_report_set_record),
 * writes that file too; then it lets the signal kill the process as it would have (a
 * supervisor sees the signal). Everything the handler does is async-signal-safe: it only
 * reads memory prepared beforehand and calls open/write/close.
 *
 * The record (read back by host/plugin/quarantine.h at the next start), "key=value" lines:
 *     file=NAME.so          base name of the plugin file (no directory)
 *     hash=HEX              BLAKE3 of the file's bytes when it was loaded ("" = unknown)
 *     strategy=NAME
 *     where=node 'LABEL' (NODEID) | setup()
 *     signal=N
 * No record is written when the crash cannot be tied to a plugin.
 *
 * Only one host per process is reported (the last one passed).
 */
#ifndef QMTL_HOST_CRASH_REPORT_H
#define QMTL_HOST_CRASH_REPORT_H

#include <stddef.h>

struct host;

/* Install the handlers; 'prefix' starts the line ("qmtl run"; borrowed, must outlive the
 * process's use of the handler: a string literal). */
void host_install_crash_report(struct host *h, const char *prefix);

/* The record file the handler writes ('path' is copied; NULL: none). 0, or -1 when the
 * path does not fit (no record then). */
int crash_report_set_record(const char *path);

/* Remember that the strategy loaded from 'plugin_path' (the path the host was given, as
 * in host_strategy.path) has content hash 'hash' (hex, copied; a later note for the same
 * path replaces it). 0 or -1 (out of memory: the record then says hash=). */
int crash_report_note(const char *plugin_path, const char *hash);

/* Forget every note (tests; the host at exit). */
void crash_report_clear_notes(void);

#endif
