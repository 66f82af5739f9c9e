/*
 * Helpers for the DAG manager's unit suites: each test gets a store file in a fresh
 * temporary directory (dmt_setup / dmt_teardown as the checked fixture, the log quiet),
 * opened with dmt_open().
 */
#ifndef QMTL_TESTS_DM_TESTLIB_H
#define QMTL_TESTS_DM_TESTLIB_H

#include "dagmanager/dm_store.h"
#include "log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dmt_dir[64], dmt_path[128];

static inline void dmt_quiet(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)line, (void)arg;
}

static inline void dmt_setup(void)
{
    log_set_sink(dmt_quiet, NULL);
    snprintf(dmt_dir, sizeof(dmt_dir), "/tmp/check_dm.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dmt_dir));
    snprintf(dmt_path, sizeof(dmt_path), "%s/dm.db", dmt_dir);
}

static inline void dmt_teardown(void)
{
    char p[160];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", dmt_path, sfx[i]);
        unlink(p);
    }
    rmdir(dmt_dir);
}

/* The test's store, opened (and migrated); the test fails when it cannot be. */
static inline struct dm_store *dmt_open(void)
{
    char err[256] = "";
    struct dm_store *s = dm_store_open(dmt_path, err, sizeof(err));
    ck_assert_msg(s != NULL, "open: %s", err);
    return s;
}

#endif
