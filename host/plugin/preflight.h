/*
 * preflight: try a plugin in a child process before it enters the host.
 *
 * preflight_run() is a plugin_preflight_fn (host/plugin/loader.h): it forks; the child maps the
 * private copy (ELF constructors run there), runs setup() in a host of its own with the
 * caller's host options and strategy parameters, resolves and orders that strategy's
 * graph (host_finalize: a tag-query cycle shows here), and reports each stage over a
 * pipe. The parent waits at most 'timeout_s' for the child to finish, kills it past the
 * deadline, and classifies what happened in one line:
 *
 *   plugin 'PATH': refused by preflight: exited with status 3 while being loaded (ELF constructor)
 *   plugin 'NAME' (PATH): refused by preflight: setup() crashed with signal 11 (Segmentation fault)
 *   plugin 'NAME' (PATH): refused by preflight: setup() did not finish within 5 s (killed)
 *   plugin 'NAME' (PATH): graph: cycle through node ...
 *
 * A setup() that returns an error cleanly is not a preflight refusal: the host's own
 * setup() call fails the same way and reports it as it always did (strategy stopped).
 * What preflight cannot see: code that behaves differently in the second setup() call,
 * and anything after setup (a compute that crashes still stops the host).
 */
#ifndef QMTL_HOST_PREFLIGHT_H
#define QMTL_HOST_PREFLIGHT_H

#include <stddef.h>

#include "host/host_api.h"

#define PREFLIGHT_DEFAULT_TIMEOUT_S 5.0

struct preflight_options {
    double timeout_s;        /* load + setup time limit; <= 0: the default */
    const struct host *host; /* options and strategy parameters to copy (may be NULL) */
};

/* A plugin_preflight_fn; 'arg' is a struct preflight_options * (NULL: defaults). */
int preflight_run(const char *copy, const char *path, void *arg, char *err, size_t errlen);

#endif
