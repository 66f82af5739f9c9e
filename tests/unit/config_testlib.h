/*
 * Helpers shared by the configuration suites (check_config: the loader; check_config_check:
 * what 'qmtl config validate' probes): YAML loading without the environment, a captured
 * log, files in a temporary directory (tmpdir_testlib.h).
 */
#ifndef QMTL_TESTS_CONFIG_TESTLIB_H
#define QMTL_TESTS_CONFIG_TESTLIB_H

#include "config.h"
#include "log.h"
#include "tmpdir_testlib.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char warned[512];
static inline void capture(enum log_level level, const char *line, void *arg)
{
    (void)level;
    (void)arg;
    snprintf(warned, sizeof(warned), "%s", line);
}

static inline void quiet(void)
{
    warned[0] = '\0';
    log_set_sink(capture, NULL);
}

/* Load YAML text named "t.yml" without the environment; returns rc, err in *e. */
static inline int load(const char *yaml, struct qmtl_config *c, struct cfg_error *e)
{
    return config_load_string_noenv(yaml, strlen(yaml), "t.yml", c, e);
}

static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

#endif
