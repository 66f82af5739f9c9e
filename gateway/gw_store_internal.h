/*
 * gw_store_internal: the store's private structure and statement helpers, shared by
 * gw_store.c and gw_store_state.c. Not a public header.
 */
#ifndef QMTL_GATEWAY_GW_STORE_INTERNAL_H
#define QMTL_GATEWAY_GW_STORE_INTERNAL_H

#include "sqlite_db.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct gw_store;

/* The connection, statement cache, transaction flag and error record are common/sqlite_db's
 * (one SQLite helper for every store; its header states the error convention). */
struct gw_store {
    struct sqlite_db sql;
    sqlite3 *db; /* == sql.db: for sqlite3_changes() and the like */
};

/* The gateway store's names for the sqlite_db helpers, used by every gw_store*.c file. */
static inline void gws_set_err(struct gw_store *s, const char *what)
{
    sqldb_fail(&s->sql, what);
}
static inline sqlite3_stmt *gws_prep(struct gw_store *s, const char *sql)
{
    return sqldb_prep(&s->sql, sql);
}
static inline void gws_done(struct gw_store *s, sqlite3_stmt *st)
{
    sqldb_done(&s->sql, st);
}
static inline void gws_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqldb_bind_text(st, i, v);
}
static inline int gws_exec_done(struct gw_store *s, sqlite3_stmt *st, const char *what)
{
    return sqldb_step_done(&s->sql, st, what);
}
static inline int gws_one_text(struct gw_store *s, sqlite3_stmt *st, char *out, size_t outlen,
                               const char *what)
{
    return sqldb_one_text(&s->sql, st, out, outlen, what);
}
static inline int64_t gws_one_int(struct gw_store *s, sqlite3_stmt *st, int64_t dflt,
                                  const char *what)
{
    return sqldb_one_int(&s->sql, st, dflt, what);
}

/* Compact JSON text (malloc'd) or NULL. */
char *gws_dump(const json_t *j);
/* Column parsed as JSON (null when NULL or unparsable). */
json_t *gws_load_col(sqlite3_stmt *st, int col);
/* Column 0 of every row parsed as JSON, as an array; NULL on error. */
json_t *gws_collect(struct gw_store *s, sqlite3_stmt *st, const char *what);

#endif
