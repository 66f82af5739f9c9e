/*
 * A temporary directory per test: make_tmpdir() creates $TMPDIR/qmtl-test-XXXXXX (or under
 * /tmp) into 'tmpdir'; rm_tmpdir() removes it with everything in it.
 */
#ifndef QMTL_TESTS_TMPDIR_TESTLIB_H
#define QMTL_TESTS_TMPDIR_TESTLIB_H

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[PATH_MAX];

static inline void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/qmtl-test-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static inline void rm_tmpdir(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

#endif
