/*
 * Helpers shared by the configuration suites (check_config: the loader; check_config_schema:
 * the schema; check_config_check: what 'qmtl config validate' probes): YAML loading without
 * the environment, a captured log, an expected load error, whole files, files in a
 * temporary directory (tmpdir_testlib.h).
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

/* The load must fail with exactly this message. */
static inline void expect_error(const char *yaml, const char *msg)
{
    struct qmtl_config c;
    struct cfg_error e;
    quiet();
    int rc = load(yaml, &c, &e);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(e.msg, msg);
    config_release(&c);
}

/* The whole file as a NUL-terminated string (free it), or NULL when it cannot be opened. */
static inline char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq((long)fread(b, 1, (size_t)n, f), n);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* main() of a configuration suite: no configuration from the caller's environment, run
 * 's', the process's exit status. */
static inline int run_config_suite(Suite *s)
{
    unsetenv("QMTL_CONFIG_FILE");
    unsetenv("QMTL_TEST_MODE");
    unsetenv("QMTL_EVENT_SECRET");
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

#endif
