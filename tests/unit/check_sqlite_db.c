/* sqlite_db: open (WAL, exclusive lock), migrations, the statement cache, transactions and
 * the error convention. */
#include "sqlite_db.h"
#include "log.h"
#include "tmpdir_testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char path[PATH_MAX + 16];

static void quiet(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)line, (void)arg;
}

static void setup(void)
{
    log_set_sink(quiet, NULL);
    make_tmpdir();
    snprintf(path, sizeof(path), "%s/t.db", tmpdir);
}

static void teardown(void)
{
    rm_tmpdir();
}

static const char *const mig[] = {
    "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
    "ALTER TABLE kv ADD COLUMN note TEXT;",
    "CREATE TABLE child (k TEXT NOT NULL REFERENCES kv(k));",
};

static struct sqldb_options opts(int n_migrations)
{
    struct sqldb_options o = {.component = "test",
                              .owner = "tester",
                              .busy_timeout_ms = 50,
                              .synchronous = "FULL",
                              .foreign_keys = 1,
                              .exclusive = 0,
                              .migrations = mig,
                              .n_migrations = n_migrations};
    return o;
}

static int64_t count_rows(struct sqlite_db *d)
{
    sqlite3_stmt *st = sqldb_prep(d, "SELECT count(*) FROM kv");
    ck_assert_ptr_nonnull(st);
    return sqldb_one_int(d, st, -1, "cannot count");
}

START_TEST(test_open_wal_and_migrations)
{
    struct sqlite_db d;
    char err[300];
    struct sqldb_options o = opts(1);
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(sqldb_user_version(&d), 1);
    char mode[16];
    sqlite3_stmt *st = sqldb_prep(&d, "PRAGMA journal_mode");
    ck_assert_int_eq(sqldb_one_text(&d, st, mode, sizeof(mode), "journal mode"), 1);
    ck_assert_str_eq(mode, "wal");
    sqldb_close(&d);

    /* an older file gets the missing migrations */
    o = opts(3);
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(sqldb_user_version(&d), 3);
    /* foreign keys are on: a child row without its parent is refused */
    ck_assert_int_eq(sqldb_exec(&d, "INSERT INTO child (k) VALUES ('nope')", "insert child"), -1);
    ck_assert_ptr_nonnull(strstr(sqldb_errmsg(&d), "insert child: FOREIGN KEY"));
    sqldb_close(&d);

    /* a file newer than the program is refused, naming both versions */
    o = opts(2);
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), -1);
    char want[300];
    snprintf(want, sizeof(want), "store '%s' has schema version 3, newer than this tester's 2",
             path);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(d.db);
}
END_TEST

START_TEST(test_failed_migration_keeps_version)
{
    static const char *const bad[] = {
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
        "CREATE TABLE extra (x INTEGER); CREATE TABLE kv (again INTEGER);",
    };
    struct sqlite_db d;
    char err[300];
    struct sqldb_options o = opts(1);
    o.migrations = bad;
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), 0);
    sqldb_close(&d);
    o.n_migrations = 2;
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "schema migration to version 2 failed: migration failed: "), "%s",
                  err);
    /* rolled back as a whole: still version 1, and the first half of it is gone */
    o.n_migrations = 1;
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(sqldb_user_version(&d), 1);
    ck_assert_int_eq(sqldb_exec(&d, "SELECT x FROM extra", "no extra"), -1);
    sqldb_close(&d);
}
END_TEST

START_TEST(test_exclusive_lock)
{
    struct sqlite_db a, b;
    char err[300];
    struct sqldb_options o = opts(1);
    o.exclusive = 1;
    ck_assert_int_eq(sqldb_open(&a, path, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(sqldb_open(&b, path, &o, err, sizeof(err)), -1);
    char want[300];
    snprintf(want, sizeof(want),
             "store '%s' is locked: another tester is using it (one tester per store)", path);
    ck_assert_str_eq(err, want);
    sqldb_close(&a);
    ck_assert_int_eq(sqldb_open(&b, path, &o, err, sizeof(err)), 0);
    sqldb_close(&b);
}
END_TEST

START_TEST(test_cannot_open)
{
    struct sqlite_db d;
    char err[300];
    struct sqldb_options o = opts(1);
    ck_assert_int_eq(sqldb_open(&d, "/nonexistent-dir/x/t.db", &o, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cannot open store '/nonexistent-dir/x/t.db': "), "%s", err);
    sqldb_close(&d); /* closing a closed struct is safe */
}
END_TEST

START_TEST(test_statements_and_errors)
{
    struct sqlite_db d;
    char err[300];
    struct sqldb_options o = opts(1);
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), 0);
    static const char *const ins = "INSERT INTO kv (k, v) VALUES (?, ?)";
    size_t cached = d.n_stmts;
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st = sqldb_prep(&d, ins);
        ck_assert_ptr_nonnull(st);
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        sqldb_bind_text(st, 1, k);
        sqlite3_bind_int(st, 2, i);
        ck_assert_int_eq(sqldb_step_done(&d, st, "insert"), 0);
    }
    /* one statement per SQL text, whatever the number of uses */
    ck_assert_uint_eq(d.n_stmts, cached + 1);
    ck_assert_ptr_eq(sqldb_prep(&d, ins), d.stmts[cached].st);
    sqldb_done(&d, d.stmts[cached].st);
    ck_assert_int_eq(count_rows(&d), 3);

    /* bindings are cleared between uses: v is unbound (NULL) and refused */
    sqlite3_stmt *st = sqldb_prep(&d, ins);
    sqldb_bind_text(st, 1, "k9");
    ck_assert_int_eq(sqldb_errors(&d), 0);
    ck_assert_int_eq(sqldb_step_done(&d, st, "insert without v"), -1);
    ck_assert_int_eq(sqldb_errors(&d), 1);
    ck_assert_msg(strstr(sqldb_errmsg(&d), "insert without v: NOT NULL constraint failed"), "%s",
                  sqldb_errmsg(&d));

    /* one_text: found, no row */
    char out[16];
    st = sqldb_prep(&d, "SELECT k FROM kv WHERE v = ?");
    sqlite3_bind_int(st, 1, 2);
    ck_assert_int_eq(sqldb_one_text(&d, st, out, sizeof(out), "find"), 1);
    ck_assert_str_eq(out, "k2");
    st = sqldb_prep(&d, "SELECT k FROM kv WHERE v = ?");
    sqlite3_bind_int(st, 1, 42);
    ck_assert_int_eq(sqldb_one_text(&d, st, out, sizeof(out), "find"), 0);
    st = sqldb_prep(&d, "SELECT v FROM kv WHERE k = 'none'");
    ck_assert_int_eq(sqldb_one_int(&d, st, 7, "dflt"), 7);

    /* a statement that cannot be prepared is a counted, named failure */
    ck_assert_ptr_null(sqldb_prep(&d, "SELECT x FROM nowhere"));
    ck_assert_int_eq(sqldb_errors(&d), 2);
    ck_assert_msg(strstr(sqldb_errmsg(&d), "cannot prepare statement: no such table: nowhere"),
                  "%s", sqldb_errmsg(&d));
    sqldb_close(&d);
}
END_TEST

START_TEST(test_transactions)
{
    struct sqlite_db d;
    char err[300];
    struct sqldb_options o = opts(1);
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(sqldb_commit(&d), -1);   /* outside a transaction */
    ck_assert_int_eq(sqldb_rollback(&d), -1); /* idem */
    ck_assert_int_eq(sqldb_begin(&d), 0);
    ck_assert_int_eq(sqldb_begin(&d), -1); /* no nesting */
    ck_assert_int_eq(sqldb_exec(&d, "INSERT INTO kv (k, v) VALUES ('a', 1)", "ins"), 0);
    ck_assert_int_eq(sqldb_rollback(&d), 0);
    ck_assert_int_eq(count_rows(&d), 0);
    ck_assert_int_eq(sqldb_begin(&d), 0);
    ck_assert_int_eq(sqldb_exec(&d, "INSERT INTO kv (k, v) VALUES ('b', 2)", "ins"), 0);
    ck_assert_int_eq(sqldb_commit(&d), 0);
    ck_assert_int_eq(d.in_txn, 0);
    sqldb_close(&d);
    /* committed means on disk */
    ck_assert_int_eq(sqldb_open(&d, path, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(count_rows(&d), 1);
    sqldb_close(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sqlite_db");
    TCase *tc = tcase_create("sqlite_db");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_wal_and_migrations);
    tcase_add_test(tc, test_failed_migration_keeps_version);
    tcase_add_test(tc, test_exclusive_lock);
    tcase_add_test(tc, test_cannot_open);
    tcase_add_test(tc, test_statements_and_errors);
    tcase_add_test(tc, test_transactions);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
