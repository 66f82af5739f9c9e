/* sqlite_db: open, migrate, cached statements, transactions (see sqlite_db.h). */
#include "sqlite_db.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note(struct sqlite_db *d, const char *what, const char *msg)
{
    d->errors++;
    snprintf(d->errbuf, sizeof(d->errbuf), "%s: %s", what, msg ? msg : "unknown error");
    LOG_ERROR(d->component ? d->component : "sqlite", "%s", d->errbuf);
}

int sqldb_fail(struct sqlite_db *d, const char *what)
{
    note(d, what, d->db ? sqlite3_errmsg(d->db) : "no database");
    return -1;
}

const char *sqldb_errmsg(const struct sqlite_db *d)
{
    return d->errbuf;
}

long sqldb_errors(const struct sqlite_db *d)
{
    return d->errors;
}

int sqldb_exec(struct sqlite_db *d, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    note(d, what, msg);
    sqlite3_free(msg);
    return -1;
}

sqlite3_stmt *sqldb_prep(struct sqlite_db *d, const char *sql)
{
    for (size_t i = 0; i < d->n_stmts; i++)
        if (d->stmts[i].sql == sql) {
            sqlite3_reset(d->stmts[i].st);
            sqlite3_clear_bindings(d->stmts[i].st);
            return d->stmts[i].st;
        }
    if (d->n_stmts == d->cap_stmts) {
        size_t nc = d->cap_stmts ? d->cap_stmts * 2 : 32;
        struct sqldb_stmt *p = realloc(d->stmts, nc * sizeof(*p));
        if (!p) {
            note(d, "cannot prepare statement", "out of memory");
            return NULL;
        }
        d->stmts = p;
        d->cap_stmts = nc;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqldb_fail(d, "cannot prepare statement");
        return NULL;
    }
    d->stmts[d->n_stmts++] = (struct sqldb_stmt){sql, st};
    return st;
}

void sqldb_done(struct sqlite_db *d, sqlite3_stmt *st)
{
    (void)d;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int sqldb_step_done(struct sqlite_db *d, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? 0 : sqldb_fail(d, what);
    sqldb_done(d, st);
    return ret;
}

void sqldb_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int sqldb_one_text(struct sqlite_db *d, sqlite3_stmt *st, char *out, size_t outlen,
                   const char *what)
{
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(out, outlen, "%s", t ? t : "");
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = sqldb_fail(d, what);
    }
    sqldb_done(d, st);
    return ret;
}

int64_t sqldb_one_int(struct sqlite_db *d, sqlite3_stmt *st, int64_t dflt, const char *what)
{
    int rc = sqlite3_step(st);
    int64_t v = dflt;
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        v = sqldb_fail(d, what);
    sqldb_done(d, st);
    return v;
}

int sqldb_user_version(struct sqlite_db *d)
{
    sqlite3_stmt *st = sqldb_prep(d, "PRAGMA user_version");
    if (!st)
        return -1;
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0)
                                           : sqldb_fail(d, "cannot read schema version");
    sqldb_done(d, st);
    return v;
}

int sqldb_begin(struct sqlite_db *d)
{
    if (d->in_txn || sqldb_exec(d, "BEGIN IMMEDIATE", "cannot begin transaction") < 0)
        return -1;
    d->in_txn = 1;
    return 0;
}

int sqldb_commit(struct sqlite_db *d)
{
    if (!d->in_txn)
        return -1;
    d->in_txn = 0;
    if (sqldb_exec(d, "COMMIT", "cannot commit transaction") < 0) {
        if (!sqlite3_get_autocommit(d->db))
            sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int sqldb_rollback(struct sqlite_db *d)
{
    if (!d->in_txn)
        return -1;
    d->in_txn = 0;
    if (sqlite3_get_autocommit(d->db)) /* SQLite already rolled back (e.g. after SQLITE_FULL) */
        return 0;
    return sqldb_exec(d, "ROLLBACK", "cannot roll back transaction");
}

static int migrate(struct sqlite_db *d, const char *path, const struct sqldb_options *o, char *err,
                   size_t errlen)
{
    int v = sqldb_user_version(d);
    if (v < 0) {
        snprintf(err, errlen, "store '%s': %s", path, d->errbuf);
        return -1;
    }
    if (v > o->n_migrations) {
        snprintf(err, errlen, "store '%s' has schema version %d, newer than this %s's %d", path, v,
                 o->owner, o->n_migrations);
        return -1;
    }
    for (; v < o->n_migrations; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (sqldb_begin(d) < 0 || sqldb_exec(d, o->migrations[v], "migration failed") < 0 ||
            sqldb_exec(d, pragma, "cannot set schema version") < 0 || sqldb_commit(d) < 0) {
            snprintf(err, errlen, "store '%s': schema migration to version %d failed: %s", path,
                     v + 1, d->errbuf);
            if (d->in_txn)
                sqldb_rollback(d);
            return -1;
        }
        LOG_INFO(d->component, "'%s': schema migrated to version %d", path, v + 1);
    }
    return 0;
}

static int configure(struct sqlite_db *d, const char *path, const struct sqldb_options *o,
                     char *err, size_t errlen)
{
    sqlite3_busy_timeout(d->db, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 1000);
    char sql[200];
    /* WAL + synchronous=FULL: each commit fsyncs the WAL, so acknowledged writes survive a
     * crash. */
    snprintf(sql, sizeof(sql), "%sPRAGMA journal_mode=WAL; PRAGMA synchronous=%s;%s",
             o->exclusive ? "PRAGMA locking_mode=EXCLUSIVE; " : "",
             o->synchronous ? o->synchronous : "FULL",
             o->foreign_keys ? " PRAGMA foreign_keys=ON;" : "");
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (sqlite3_errcode(d->db) == SQLITE_BUSY)
            snprintf(err, errlen, "store '%s' is locked: another %s is using it (one %s per store)",
                     path, o->owner, o->owner);
        else
            snprintf(err, errlen, "cannot configure store '%s': %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int wal = 0;
    if (sqlite3_prepare_v2(d->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        wal = mode && strcmp(mode, "wal") == 0;
    }
    sqlite3_finalize(st);
    if (!wal && strcmp(path, ":memory:") != 0) {
        snprintf(err, errlen, "store '%s': the file system does not support WAL mode", path);
        return -1;
    }
    return 0;
}

int sqldb_open(struct sqlite_db *d, const char *path, const struct sqldb_options *o, char *err,
               size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->component = o->component;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &d->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open store '%s': %s", path,
                 d->db ? sqlite3_errmsg(d->db) : "out of memory");
        sqldb_close(d);
        return -1;
    }
    if (configure(d, path, o, err, errlen) < 0 || migrate(d, path, o, err, errlen) < 0) {
        sqldb_close(d);
        return -1;
    }
    return 0;
}

void sqldb_close(struct sqlite_db *d)
{
    for (size_t i = 0; i < d->n_stmts; i++)
        sqlite3_finalize(d->stmts[i].st);
    free(d->stmts);
    d->stmts = NULL;
    d->n_stmts = d->cap_stmts = 0;
    if (d->db)
        sqlite3_close(d->db);
    d->db = NULL;
    d->in_txn = 0;
}
