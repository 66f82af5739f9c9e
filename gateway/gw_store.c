/*
 * gw_store: SQLite persistence for the gateway (see gw_store.h).
 *
 * Opening, migrations, the statement cache and transactions are common/sqlite_db's;
 * every query text below is a string literal (the cache's key is its address).
 */
#include "gw_store.h"
#include "gw_store_internal.h"

#include "log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Schema migrations: entry i brings the file from version i to i + 1. */
static const char *const migrations[] = {
    "CREATE TABLE strategies (id TEXT PRIMARY KEY, dag_hash TEXT UNIQUE NOT NULL,"
    "  dag TEXT NOT NULL, crc INTEGER NOT NULL, status TEXT NOT NULL, meta TEXT,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE worlds (id TEXT PRIMARY KEY, doc TEXT NOT NULL,"
    "  default_policy INTEGER NOT NULL DEFAULT 0, act_version INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE policies (world_id TEXT NOT NULL, version INTEGER NOT NULL,"
    "  policy TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (world_id, version));"
    "CREATE TABLE bindings (world_id TEXT NOT NULL, strategy_id TEXT NOT NULL,"
    "  PRIMARY KEY (world_id, strategy_id));"
    "CREATE TABLE decisions (world_id TEXT PRIMARY KEY, strategies TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE activation (world_id TEXT NOT NULL, strategy_id TEXT NOT NULL,"
    "  side TEXT NOT NULL, doc TEXT NOT NULL, etag TEXT NOT NULL, version INTEGER NOT NULL,"
    "  PRIMARY KEY (world_id, strategy_id, side));"
    "CREATE TABLE activation_version (world_id TEXT PRIMARY KEY, version INTEGER NOT NULL);"
    "CREATE TABLE apply_runs (world_id TEXT NOT NULL, run_id TEXT NOT NULL,"
    "  stage TEXT NOT NULL, result TEXT, updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (world_id, run_id));"
    "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, world_id TEXT NOT NULL,"
    "  ts INTEGER NOT NULL, event TEXT NOT NULL, details TEXT);"
    "CREATE INDEX audit_world ON audit (world_id, id);"
    "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,"
    "  world_id TEXT, envelope TEXT NOT NULL, created_at INTEGER NOT NULL);",
    /* 2: live orders (POST /orders), idempotent on (world, strategy, client_order_id) */
    "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, world_id TEXT NOT NULL,"
    "  strategy_id TEXT NOT NULL, client_order_id TEXT NOT NULL, status TEXT NOT NULL,"
    "  doc TEXT NOT NULL, created_at INTEGER NOT NULL, acked_at INTEGER,"
    "  UNIQUE (world_id, strategy_id, client_order_id));"
    "CREATE INDEX orders_world ON orders (world_id, status, id);",
    /* 3: per-credential submission quotas and expiry of unused submissions */
    "ALTER TABLE strategies ADD COLUMN owner TEXT NOT NULL DEFAULT 'anonymous';"
    "ALTER TABLE strategies ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;"
    "UPDATE strategies SET last_seen = created_at;"
    "CREATE INDEX strategies_owner ON strategies (owner);",
    /* 4: order lifecycle (claims, broker status, fills; POST /fills) and the kill switch */
    "ALTER TABLE orders ADD COLUMN claim_id TEXT;"
    "ALTER TABLE orders ADD COLUMN filled_qty REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE orders ADD COLUMN reason TEXT;"
    "ALTER TABLE orders ADD COLUMN updated_at INTEGER;"
    "CREATE INDEX orders_strategy ON orders (world_id, strategy_id, id);"
    "CREATE TABLE fills (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL, world_id TEXT NOT NULL, strategy_id TEXT NOT NULL,"
    "  symbol TEXT NOT NULL, side TEXT NOT NULL, quantity REAL NOT NULL, doc TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, UNIQUE (order_id, seq));"
    "CREATE INDEX fills_strategy ON fills (world_id, strategy_id, id);"
    "CREATE TABLE world_kill (world_id TEXT PRIMARY KEY, doc TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);",
};

void gws_set_err(struct gw_store *s, const char *what)
{
    sqldb_fail(&s->sql, what);
}

sqlite3_stmt *gws_prep(struct gw_store *s, const char *sql)
{
    return sqldb_prep(&s->sql, sql);
}

void gws_done(struct gw_store *s, sqlite3_stmt *st)
{
    sqldb_done(&s->sql, st);
}

void gws_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqldb_bind_text(st, i, v);
}

int gws_exec_done(struct gw_store *s, sqlite3_stmt *st, const char *what)
{
    return sqldb_step_done(&s->sql, st, what);
}

char *gws_dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *gws_load_col(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (!t)
        return json_null();
    json_t *j = json_loads(t, JSON_DECODE_ANY, NULL);
    return j ? j : json_null();
}

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == GW_STORE_SCHEMA_VERSION,
               "one migration per schema version");

struct gw_store *gw_store_open(const char *path, char *err, size_t errlen)
{
    struct gw_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* WAL + FULL: each commit fsyncs the WAL, so acknowledged writes survive a crash;
     * the exclusive lock keeps a second gateway off the file. */
    const struct sqldb_options o = {.component = "store",
                                    .owner = "gateway",
                                    .busy_timeout_ms = 1000,
                                    .synchronous = "FULL",
                                    .exclusive = 1,
                                    .migrations = migrations,
                                    .n_migrations = N_MIGRATIONS};
    if (sqldb_open(&s->sql, path, &o, err, errlen) < 0) {
        free(s);
        return NULL;
    }
    s->db = s->sql.db;
    return s;
}

void gw_store_close(struct gw_store *s)
{
    if (!s)
        return;
    sqldb_close(&s->sql);
    free(s);
}

int gw_store_schema_version(struct gw_store *s)
{
    return sqldb_user_version(&s->sql);
}

const char *gw_store_errmsg(struct gw_store *s)
{
    return sqldb_errmsg(&s->sql);
}

long gw_store_error_count(const struct gw_store *s)
{
    return sqldb_errors(&s->sql);
}

int gw_store_begin(struct gw_store *s)
{
    return sqldb_begin(&s->sql);
}

int gw_store_commit(struct gw_store *s)
{
    return sqldb_commit(&s->sql);
}

int gw_store_rollback(struct gw_store *s)
{
    return sqldb_rollback(&s->sql);
}

int gw_store_in_txn(const struct gw_store *s)
{
    return s->sql.in_txn;
}

/* ------------------------------------------------------------------ strategies */

int gw_store_strategy_put(struct gw_store *s, const char *id, const char *dag_hash,
                          const char *dag_json, uint32_t crc, const char *status,
                          const char *meta_json, const char *owner)
{
    sqlite3_stmt *st = gws_prep(s, "INSERT INTO strategies (id, dag_hash, dag, crc, status, meta,"
                                   " created_at, owner, last_seen)"
                                   " VALUES (?, ?, ?, ?, ?, ?, ?7, ?8, ?7)");
    if (!st)
        return -1;
    gws_bind_text(st, 1, id);
    gws_bind_text(st, 2, dag_hash);
    gws_bind_text(st, 3, dag_json);
    sqlite3_bind_int64(st, 4, crc);
    gws_bind_text(st, 5, status);
    gws_bind_text(st, 6, meta_json);
    sqlite3_bind_int64(st, 7, (int64_t)time(NULL));
    gws_bind_text(st, 8, owner ? owner : "anonymous");
    return gws_exec_done(s, st, "cannot store strategy");
}

int gw_store_strategy_touch(struct gw_store *s, const char *id)
{
    sqlite3_stmt *st = gws_prep(s, "UPDATE strategies SET last_seen = ? WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
    gws_bind_text(st, 2, id);
    return gws_exec_done(s, st, "cannot update strategy");
}

long gw_store_strategy_expire(struct gw_store *s, int64_t before)
{
    sqlite3_stmt *st =
        gws_prep(s, "DELETE FROM strategies WHERE last_seen < ?"
                    " AND id NOT IN (SELECT strategy_id FROM bindings)"
                    " AND id NOT IN (SELECT strategy_id FROM activation)"
                    " AND NOT EXISTS (SELECT 1 FROM decisions d"
                    "   WHERE instr(d.strategies, '\"' || strategies.id || '\"') > 0)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, before);
    if (gws_exec_done(s, st, "cannot expire strategies") < 0)
        return -1;
    return (long)sqlite3_changes(s->db);
}

int gw_store_strategy_usage(struct gw_store *s, const char *owner, long *count, long *bytes)
{
    sqlite3_stmt *st =
        gws_prep(s, "SELECT count(*), coalesce(sum(length(CAST(dag AS BLOB))), 0) FROM strategies"
                    " WHERE owner = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, owner);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *count = (long)sqlite3_column_int64(st, 0);
        *bytes = (long)sqlite3_column_int64(st, 1);
    }
    gws_done(s, st);
    if (rc != SQLITE_ROW) {
        gws_set_err(s, "cannot count strategies");
        return -1;
    }
    return 0;
}

int gws_one_text(struct gw_store *s, sqlite3_stmt *st, char *out, size_t outlen, const char *what)
{
    return sqldb_one_text(&s->sql, st, out, outlen, what);
}

int gw_store_strategy_find_by_hash(struct gw_store *s, const char *dag_hash, char *out,
                                   size_t outlen)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT id FROM strategies WHERE dag_hash = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, dag_hash);
    return gws_one_text(s, st, out, outlen, "cannot look up strategy");
}

int gw_store_strategy_status(struct gw_store *s, const char *id, char *out, size_t outlen)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT status FROM strategies WHERE id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, id);
    return gws_one_text(s, st, out, outlen, "cannot read strategy status");
}

int gw_store_strategy_set_status(struct gw_store *s, const char *id, const char *status)
{
    sqlite3_stmt *st = gws_prep(s, "UPDATE strategies SET status = ? WHERE id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, status);
    gws_bind_text(st, 2, id);
    return gws_exec_done(s, st, "cannot update strategy status");
}

/* ------------------------------------------------------------------ worlds */

int gw_store_world_put(struct gw_store *s, const char *id, const json_t *doc, int create_only)
{
    char *text = gws_dump(doc);
    if (!text)
        return -1;
    int64_t now = (int64_t)time(NULL);
    sqlite3_stmt *st;
    if (create_only)
        st = gws_prep(s, "INSERT OR IGNORE INTO worlds (id, doc, created_at, updated_at)"
                         " VALUES (?, ?, ?, ?)");
    else
        st = gws_prep(s, "INSERT INTO worlds (id, doc, created_at, updated_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT(id) DO UPDATE SET doc = excluded.doc,"
                         " updated_at = excluded.updated_at");
    if (!st) {
        free(text);
        return -1;
    }
    gws_bind_text(st, 1, id);
    gws_bind_text(st, 2, text);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now);
    free(text);
    if (gws_exec_done(s, st, "cannot store world") < 0)
        return -1;
    if (create_only && sqlite3_changes(s->db) == 0)
        return 1;
    return 0;
}

int gw_store_world_get(struct gw_store *s, const char *id, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = gws_prep(s, "SELECT doc FROM worlds WHERE id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        *out = gws_load_col(st, 0);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot read world");
        ret = -1;
    }
    gws_done(s, st);
    return ret;
}

/* Collect column 0 of every row as parsed JSON into an array. */
json_t *gws_collect(struct gw_store *s, sqlite3_stmt *st, const char *what)
{
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, gws_load_col(st, 0));
    gws_done(s, st);
    if (rc != SQLITE_DONE) {
        gws_set_err(s, what);
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *gw_store_world_list(struct gw_store *s)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT doc FROM worlds ORDER BY id");
    return st ? gws_collect(s, st, "cannot list worlds") : NULL;
}

int gw_store_world_delete(struct gw_store *s, const char *id)
{
    static const char *const sqls[] = {
        "DELETE FROM policies WHERE world_id = ?",
        "DELETE FROM bindings WHERE world_id = ?",
        "DELETE FROM decisions WHERE world_id = ?",
        "DELETE FROM activation WHERE world_id = ?",
        "DELETE FROM activation_version WHERE world_id = ?",
        "DELETE FROM apply_runs WHERE world_id = ?",
        "DELETE FROM world_kill WHERE world_id = ?",
    };
    sqlite3_stmt *st = gws_prep(s, "DELETE FROM worlds WHERE id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, id);
    if (gws_exec_done(s, st, "cannot delete world") < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0;
    for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
        st = gws_prep(s, sqls[i]);
        if (!st)
            return -1;
        gws_bind_text(st, 1, id);
        if (gws_exec_done(s, st, "cannot delete world data") < 0)
            return -1;
    }
    return 1;
}

int64_t gws_one_int(struct gw_store *s, sqlite3_stmt *st, int64_t dflt, const char *what)
{
    return sqldb_one_int(&s->sql, st, dflt, what);
}

int64_t gw_store_world_default_policy(struct gw_store *s, const char *id)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT default_policy FROM worlds WHERE id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, id);
    return gws_one_int(s, st, 0, "cannot read default policy");
}

int gw_store_world_set_default_policy(struct gw_store *s, const char *id, int64_t version)
{
    sqlite3_stmt *st = gws_prep(s, "UPDATE worlds SET default_policy = ? WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, version);
    gws_bind_text(st, 2, id);
    return gws_exec_done(s, st, "cannot set default policy");
}

/* ------------------------------------------------------------------ policies */

int gw_store_policy_add(struct gw_store *s, const char *world, const json_t *policy,
                        int64_t *version_out)
{
    sqlite3_stmt *st =
        gws_prep(s, "SELECT COALESCE(MAX(version), 0) + 1 FROM policies WHERE world_id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    int64_t v = gws_one_int(s, st, 1, "cannot number policy");
    if (v < 0)
        return -1;
    char *text = gws_dump(policy);
    if (!text)
        return -1;
    st = gws_prep(s,
                  "INSERT INTO policies (world_id, version, policy, created_at) VALUES (?,?,?,?)");
    if (!st) {
        free(text);
        return -1;
    }
    gws_bind_text(st, 1, world);
    sqlite3_bind_int64(st, 2, v);
    gws_bind_text(st, 3, text);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    free(text);
    if (gws_exec_done(s, st, "cannot store policy") < 0)
        return -1;
    *version_out = v;
    return 0;
}

int gw_store_policy_get(struct gw_store *s, const char *world, int64_t version, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st =
        gws_prep(s, "SELECT policy FROM policies WHERE world_id = ? AND version = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    sqlite3_bind_int64(st, 2, version);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        *out = gws_load_col(st, 0);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot read policy");
        ret = -1;
    }
    gws_done(s, st);
    return ret;
}

json_t *gw_store_policy_list(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st =
        gws_prep(s, "SELECT version, policy FROM policies WHERE world_id = ? ORDER BY version");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{sI so}", "version",
                                             (json_int_t)sqlite3_column_int64(st, 0), "policy",
                                             gws_load_col(st, 1)));
    gws_done(s, st);
    if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot list policies");
        json_decref(arr);
        return NULL;
    }
    return arr;
}
