/*
 * sqlite_db: the one way a qmtl process keeps data in SQLite (the gateway's store and the
 * DAG manager's registry are built on it).
 *
 * What it does for its owner:
 *   - open: one file, journal_mode=WAL (refused when the file system cannot do WAL, except
 *     for ":memory:"), a busy timeout, the synchronous level, optionally foreign keys and
 *     an exclusive lock (one process per file);
 *   - schema versions: PRAGMA user_version plus an array of migrations, entry i bringing
 *     a file from version i to i + 1, each applied in its own IMMEDIATE transaction; a
 *     file newer than the program is refused;
 *   - statements: prepared once, cached by the address of their SQL text (callers pass
 *     string literals, so the pointer is a stable key), finalized at close;
 *   - transactions: begin / commit / rollback with an in-transaction flag.
 *
 * The error convention (every function here): 0, a row count or 1 = found on success,
 * -1 on failure; a failure is counted (sqldb_errors), logged once as ERROR under the
 * owner's log component, and its text ("<what>: <SQLite's message>") stays readable in
 * sqldb_errmsg() until the next failure. Open failures write one line into a
 * caller-owned buffer instead, naming the file.
 *
 * Single-threaded: one sqlite_db is used by one thread. The struct is the owner's (embed
 * it); fields are read-only outside this file except 'db', which owners may pass to
 * sqlite3_* functions that do not change the connection's state (changes, column reads).
 */
#ifndef QMTL_COMMON_SQLITE_DB_H
#define QMTL_COMMON_SQLITE_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct sqldb_stmt {
    const char *sql;
    sqlite3_stmt *st;
};

struct sqlite_db {
    sqlite3 *db;
    const char *component; /* log component, e.g. "store" (static) */
    int in_txn;
    long errors;
    char errbuf[256];
    struct sqldb_stmt *stmts;
    size_t n_stmts, cap_stmts;
};

struct sqldb_options {
    const char *component;   /* log component (static string) */
    const char *owner;       /* what the program is, for messages: "gateway" */
    int busy_timeout_ms;     /* > 0 */
    const char *synchronous; /* "FULL", "NORMAL" ... (static, trusted) */
    int foreign_keys;        /* PRAGMA foreign_keys=ON */
    int exclusive;           /* locking_mode=EXCLUSIVE: a second process cannot open the file */
    const char *const *migrations;
    int n_migrations; /* the schema version this program writes */
};

/*
 * Open (creating if needed) 'path' into *d (zeroed by the call), configure it and run
 * the missing migrations. 0, or -1 with one line in err and *d closed, e.g.
 *   "cannot open store 'x.db': unable to open database file"
 *   "store 'x.db' is locked: another gateway is using it (one gateway per store)"
 *   "store 'x.db' has schema version 5, newer than this gateway's 3"
 *   "store 'x.db': schema migration to version 2 failed: migration failed: ..."
 */
int sqldb_open(struct sqlite_db *d, const char *path, const struct sqldb_options *o, char *err,
               size_t errlen);
/* Finalize every cached statement and close. Safe on a zeroed or closed struct. */
void sqldb_close(struct sqlite_db *d);

/* Record a failure of 'what' with SQLite's current message (see the convention). -1. */
int sqldb_fail(struct sqlite_db *d, const char *what);
/* The text of the last failure ("" when none) and the number of failures so far. */
const char *sqldb_errmsg(const struct sqlite_db *d);
long sqldb_errors(const struct sqlite_db *d);

/* The cached statement for 'sql' (a string literal), reset with its bindings cleared;
 * NULL on failure. Hand it back with sqldb_done(). */
sqlite3_stmt *sqldb_prep(struct sqlite_db *d, const char *sql);
/* Done with a statement from sqldb_prep(): reset it and clear its bindings. */
void sqldb_done(struct sqlite_db *d, sqlite3_stmt *st);
/* Step a statement that returns no rows, then sqldb_done(): 0 or -1. */
int sqldb_step_done(struct sqlite_db *d, sqlite3_stmt *st, const char *what);
/* Run SQL text without results (several statements allowed): 0 or -1. */
int sqldb_exec(struct sqlite_db *d, const char *sql, const char *what);
/* Bind text, copied; NULL binds SQL NULL. */
void sqldb_bind_text(sqlite3_stmt *st, int i, const char *v);

/* First column of the first row as text into out: 1 found, 0 no row, -1 error. Then
 * sqldb_done(). */
int sqldb_one_text(struct sqlite_db *d, sqlite3_stmt *st, char *out, size_t outlen,
                   const char *what);
/* First column of the first row as an integer, 'dflt' when there is no row, -1 on error.
 * Then sqldb_done(). */
int64_t sqldb_one_int(struct sqlite_db *d, sqlite3_stmt *st, int64_t dflt, const char *what);

/* PRAGMA user_version, or -1. */
int sqldb_user_version(struct sqlite_db *d);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. begin fails inside a transaction, commit and
 * rollback outside one; a failed commit rolls back. 0 or -1. */
int sqldb_begin(struct sqlite_db *d);
int sqldb_commit(struct sqlite_db *d);
int sqldb_rollback(struct sqlite_db *d);

#endif
