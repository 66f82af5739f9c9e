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
 * (one SQLite helper for every store; its header states the error convention). The gws_*
 * helpers below are the gateway store's names for it. */
struct gw_store {
    struct sqlite_db sql;
    sqlite3 *db; /* == sql.db: for sqlite3_changes() and the like */
};

/* Count and log a failure of 'what' with SQLite's message. */
void gws_set_err(struct gw_store *s, const char *what);
/* The cached prepared statement for 'sql' (a string literal), reset; NULL on error. */
sqlite3_stmt *gws_prep(struct gw_store *s, const char *sql);
/* Reset a statement after use. */
void gws_done(struct gw_store *s, sqlite3_stmt *st);
/* Bind text (NULL binds SQL NULL). */
void gws_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Step a statement that returns no rows: 0 or -1. */
int gws_exec_done(struct gw_store *s, sqlite3_stmt *st, const char *what);
/* Compact JSON text (malloc'd) or NULL. */
char *gws_dump(const json_t *j);
/* Column parsed as JSON (null when NULL or unparsable). */
json_t *gws_load_col(sqlite3_stmt *st, int col);
/* First column of the first row as text: 1 found, 0 none, -1 error. */
int gws_one_text(struct gw_store *s, sqlite3_stmt *st, char *out, size_t outlen, const char *what);
/* First column of the first row as an integer, 'dflt' when no row, -1 on error. */
int64_t gws_one_int(struct gw_store *s, sqlite3_stmt *st, int64_t dflt, const char *what);
/* The order row at 'st' (the columns of gw_store_orders.c's ORDER_COLS) as a new object. */
json_t *gws_order_row(sqlite3_stmt *st);
/* Column 0 of every row parsed as JSON, as an array; NULL on error. */
json_t *gws_collect(struct gw_store *s, sqlite3_stmt *st, const char *what);

#endif
