/*
 * gw_store: SQLite persistence for the gateway (see gw_store.h).
 *
 * Statements are prepared once and cached by their SQL text pointer; every query
 * text below is a string literal, so pointer identity is a stable key.
 */
#include "gw_store.h"

#include "log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STMT_CACHE 64

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

struct gw_store {
    sqlite3 *db;
    int in_txn;
    long errors;
    char errbuf[256];
    struct stmt_slot stmts[STMT_CACHE];
    size_t n_stmts;
};

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
};

static void set_err(struct gw_store *s, const char *what)
{
    s->errors++;
    snprintf(s->errbuf, sizeof(s->errbuf), "%s: %s", what, sqlite3_errmsg(s->db));
    LOG_ERROR("store", "%s", s->errbuf);
}

static sqlite3_stmt *prep(struct gw_store *s, const char *sql)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        if (s->stmts[i].sql == sql) {
            sqlite3_reset(s->stmts[i].st);
            sqlite3_clear_bindings(s->stmts[i].st);
            return s->stmts[i].st;
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        set_err(s, "cannot prepare statement");
        return NULL;
    }
    if (s->n_stmts < STMT_CACHE) {
        s->stmts[s->n_stmts].sql = sql;
        s->stmts[s->n_stmts].st = st;
        s->n_stmts++;
    } else {
        /* Cache full: this cannot happen with the fixed set of queries below. */
        LOG_WARN("store", "statement cache full");
    }
    return st;
}

/* Statements not in the cache (cache full) are finalized by the caller through this. */
static void done(struct gw_store *s, sqlite3_stmt *st)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        if (s->stmts[i].st == st) {
            sqlite3_reset(st);
            return;
        }
    sqlite3_finalize(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Run a statement that returns no rows. */
static int exec_done(struct gw_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    done(s, st);
    if (rc != SQLITE_DONE) {
        set_err(s, what);
        return -1;
    }
    return 0;
}

static int exec_sql(struct gw_store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        s->errors++;
        snprintf(s->errbuf, sizeof(s->errbuf), "%s: %s", what, msg ? msg : "unknown error");
        LOG_ERROR("store", "%s", s->errbuf);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static json_t *load_col(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (!t)
        return json_null();
    json_t *j = json_loads(t, JSON_DECODE_ANY, NULL);
    return j ? j : json_null();
}

static int get_version(struct gw_store *s)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int migrate(struct gw_store *s, char *err, size_t errlen)
{
    int v = get_version(s);
    int target = (int)(sizeof(migrations) / sizeof(migrations[0]));
    if (v < 0) {
        snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    if (v > target) {
        snprintf(err, errlen, "database schema version %d is newer than this gateway (%d)", v,
                 target);
        return -1;
    }
    for (; v < target; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (exec_sql(s, "BEGIN IMMEDIATE", "cannot begin migration") < 0 ||
            exec_sql(s, migrations[v], "migration failed") < 0 ||
            exec_sql(s, pragma, "cannot set schema version") < 0 ||
            exec_sql(s, "COMMIT", "cannot commit migration") < 0) {
            snprintf(err, errlen, "schema migration to version %d failed: %s", v + 1, s->errbuf);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        LOG_INFO("store", "schema migrated to version %d", v + 1);
    }
    return 0;
}

struct gw_store *gw_store_open(const char *path, char *err, size_t errlen)
{
    struct gw_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open store '%s': %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        gw_store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    /* WAL + FULL: each commit fsyncs the WAL, so acknowledged writes survive a crash. */
    if (sqlite3_exec(s->db,
                     "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure store '%s': %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        gw_store_close(s);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    int wal = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal && strcmp(path, ":memory:") != 0) {
        snprintf(err, errlen, "store '%s': the file system does not support WAL mode", path);
        gw_store_close(s);
        return NULL;
    }
    if (migrate(s, err, errlen) < 0) {
        gw_store_close(s);
        return NULL;
    }
    return s;
}

void gw_store_close(struct gw_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_stmts; i++)
        sqlite3_finalize(s->stmts[i].st);
    if (s->db)
        sqlite3_close(s->db);
    free(s);
}

int gw_store_schema_version(struct gw_store *s)
{
    return get_version(s);
}

const char *gw_store_errmsg(struct gw_store *s)
{
    return s->errbuf;
}

long gw_store_error_count(const struct gw_store *s)
{
    return s->errors;
}

int gw_store_begin(struct gw_store *s)
{
    if (s->in_txn)
        return -1;
    if (exec_sql(s, "BEGIN IMMEDIATE", "cannot begin transaction") < 0)
        return -1;
    s->in_txn = 1;
    return 0;
}

int gw_store_commit(struct gw_store *s)
{
    if (!s->in_txn)
        return -1;
    if (exec_sql(s, "COMMIT", "cannot commit transaction") < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_txn = 0;
        return -1;
    }
    s->in_txn = 0;
    return 0;
}

int gw_store_rollback(struct gw_store *s)
{
    if (!s->in_txn)
        return -1;
    s->in_txn = 0;
    return exec_sql(s, "ROLLBACK", "cannot roll back transaction");
}

int gw_store_in_txn(const struct gw_store *s)
{
    return s->in_txn;
}

/* ------------------------------------------------------------------ strategies */

int gw_store_strategy_put(struct gw_store *s, const char *id, const char *dag_hash,
                          const char *dag_json, uint32_t crc, const char *status,
                          const char *meta_json)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO strategies (id, dag_hash, dag, crc, status, meta,"
                               " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, dag_hash);
    bind_text(st, 3, dag_json);
    sqlite3_bind_int64(st, 4, crc);
    bind_text(st, 5, status);
    bind_text(st, 6, meta_json);
    sqlite3_bind_int64(st, 7, (int64_t)time(NULL));
    return exec_done(s, st, "cannot store strategy");
}

static int one_text(struct gw_store *s, sqlite3_stmt *st, char *out, size_t outlen,
                    const char *what)
{
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(out, outlen, "%s", t ? t : "");
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        set_err(s, what);
        ret = -1;
    }
    done(s, st);
    return ret;
}

int gw_store_strategy_find_by_hash(struct gw_store *s, const char *dag_hash, char *out,
                                   size_t outlen)
{
    sqlite3_stmt *st = prep(s, "SELECT id FROM strategies WHERE dag_hash = ?");
    if (!st)
        return -1;
    bind_text(st, 1, dag_hash);
    return one_text(s, st, out, outlen, "cannot look up strategy");
}

int gw_store_strategy_status(struct gw_store *s, const char *id, char *out, size_t outlen)
{
    sqlite3_stmt *st = prep(s, "SELECT status FROM strategies WHERE id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, id);
    return one_text(s, st, out, outlen, "cannot read strategy status");
}

int gw_store_strategy_set_status(struct gw_store *s, const char *id, const char *status)
{
    sqlite3_stmt *st = prep(s, "UPDATE strategies SET status = ? WHERE id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, status);
    bind_text(st, 2, id);
    return exec_done(s, st, "cannot update strategy status");
}

/* ------------------------------------------------------------------ worlds */

int gw_store_world_put(struct gw_store *s, const char *id, const json_t *doc, int create_only)
{
    char *text = dump(doc);
    if (!text)
        return -1;
    int64_t now = (int64_t)time(NULL);
    sqlite3_stmt *st;
    if (create_only)
        st = prep(s, "INSERT OR IGNORE INTO worlds (id, doc, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?)");
    else
        st = prep(s, "INSERT INTO worlds (id, doc, created_at, updated_at) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT(id) DO UPDATE SET doc = excluded.doc,"
                     " updated_at = excluded.updated_at");
    if (!st) {
        free(text);
        return -1;
    }
    bind_text(st, 1, id);
    bind_text(st, 2, text);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now);
    free(text);
    if (exec_done(s, st, "cannot store world") < 0)
        return -1;
    if (create_only && sqlite3_changes(s->db) == 0)
        return 1;
    return 0;
}

int gw_store_world_get(struct gw_store *s, const char *id, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = prep(s, "SELECT doc FROM worlds WHERE id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        *out = load_col(st, 0);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        set_err(s, "cannot read world");
        ret = -1;
    }
    done(s, st);
    return ret;
}

/* Collect column 0 of every row as parsed JSON into an array. */
static json_t *collect(struct gw_store *s, sqlite3_stmt *st, const char *what)
{
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, load_col(st, 0));
    done(s, st);
    if (rc != SQLITE_DONE) {
        set_err(s, what);
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *gw_store_world_list(struct gw_store *s)
{
    sqlite3_stmt *st = prep(s, "SELECT doc FROM worlds ORDER BY id");
    return st ? collect(s, st, "cannot list worlds") : NULL;
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
    };
    sqlite3_stmt *st = prep(s, "DELETE FROM worlds WHERE id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, id);
    if (exec_done(s, st, "cannot delete world") < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0;
    for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
        st = prep(s, sqls[i]);
        if (!st)
            return -1;
        bind_text(st, 1, id);
        if (exec_done(s, st, "cannot delete world data") < 0)
            return -1;
    }
    return 1;
}

static int64_t one_int(struct gw_store *s, sqlite3_stmt *st, int64_t dflt, const char *what)
{
    int rc = sqlite3_step(st);
    int64_t v = dflt;
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE) {
        set_err(s, what);
        v = -1;
    }
    done(s, st);
    return v;
}

int64_t gw_store_world_default_policy(struct gw_store *s, const char *id)
{
    sqlite3_stmt *st = prep(s, "SELECT default_policy FROM worlds WHERE id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, id);
    return one_int(s, st, 0, "cannot read default policy");
}

int gw_store_world_set_default_policy(struct gw_store *s, const char *id, int64_t version)
{
    sqlite3_stmt *st = prep(s, "UPDATE worlds SET default_policy = ? WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, version);
    bind_text(st, 2, id);
    return exec_done(s, st, "cannot set default policy");
}

/* ------------------------------------------------------------------ policies */

int gw_store_policy_add(struct gw_store *s, const char *world, const json_t *policy,
                        int64_t *version_out)
{
    sqlite3_stmt *st =
        prep(s, "SELECT COALESCE(MAX(version), 0) + 1 FROM policies WHERE world_id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, world);
    int64_t v = one_int(s, st, 1, "cannot number policy");
    if (v < 0)
        return -1;
    char *text = dump(policy);
    if (!text)
        return -1;
    st = prep(s, "INSERT INTO policies (world_id, version, policy, created_at) VALUES (?,?,?,?)");
    if (!st) {
        free(text);
        return -1;
    }
    bind_text(st, 1, world);
    sqlite3_bind_int64(st, 2, v);
    bind_text(st, 3, text);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    free(text);
    if (exec_done(s, st, "cannot store policy") < 0)
        return -1;
    *version_out = v;
    return 0;
}

int gw_store_policy_get(struct gw_store *s, const char *world, int64_t version, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = prep(s, "SELECT policy FROM policies WHERE world_id = ? AND version = ?");
    if (!st)
        return -1;
    bind_text(st, 1, world);
    sqlite3_bind_int64(st, 2, version);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        *out = load_col(st, 0);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        set_err(s, "cannot read policy");
        ret = -1;
    }
    done(s, st);
    return ret;
}

json_t *gw_store_policy_list(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st =
        prep(s, "SELECT version, policy FROM policies WHERE world_id = ? ORDER BY version");
    if (!st)
        return NULL;
    bind_text(st, 1, world);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{sI so}", "version",
                                             (json_int_t)sqlite3_column_int64(st, 0), "policy",
                                             load_col(st, 1)));
    done(s, st);
    if (rc != SQLITE_DONE) {
        set_err(s, "cannot list policies");
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* ------------------------------------------------------------------ bindings, decisions */

int gw_store_bindings_add(struct gw_store *s, const char *world, const json_t *strategies)
{
    size_t i;
    json_t *v;
    json_array_foreach(strategies, i, v)
    {
        if (!json_is_string(v))
            continue;
        sqlite3_stmt *st =
            prep(s, "INSERT OR IGNORE INTO bindings (world_id, strategy_id) VALUES (?, ?)");
        if (!st)
            return -1;
        bind_text(st, 1, world);
        bind_text(st, 2, json_string_value(v));
        if (exec_done(s, st, "cannot store binding") < 0)
            return -1;
    }
    return 0;
}

json_t *gw_store_bindings_get(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st =
        prep(s, "SELECT strategy_id FROM bindings WHERE world_id = ? ORDER BY strategy_id");
    if (!st)
        return NULL;
    bind_text(st, 1, world);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    done(s, st);
    if (rc != SQLITE_DONE) {
        set_err(s, "cannot list bindings");
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int gw_store_decisions_set(struct gw_store *s, const char *world, const json_t *strategies)
{
    char *text = dump(strategies);
    if (!text)
        return -1;
    sqlite3_stmt *st = prep(s, "INSERT INTO decisions (world_id, strategies, updated_at)"
                               " VALUES (?, ?, ?) ON CONFLICT(world_id) DO UPDATE SET"
                               " strategies = excluded.strategies, updated_at = excluded.updated_at");
    if (!st) {
        free(text);
        return -1;
    }
    bind_text(st, 1, world);
    bind_text(st, 2, text);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    free(text);
    return exec_done(s, st, "cannot store decisions");
}

json_t *gw_store_decisions_get(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = prep(s, "SELECT strategies FROM decisions WHERE world_id = ?");
    if (!st)
        return NULL;
    bind_text(st, 1, world);
    int rc = sqlite3_step(st);
    json_t *out = NULL;
    if (rc == SQLITE_ROW) {
        out = load_col(st, 0);
        if (!json_is_array(out)) {
            json_decref(out);
            out = json_array();
        }
    } else if (rc == SQLITE_DONE) {
        out = json_array();
    } else {
        set_err(s, "cannot read decisions");
    }
    done(s, st);
    return out;
}

/* ------------------------------------------------------------------ activation */

int gw_store_activation_get_raw(struct gw_store *s, const char *world, const char *strategy,
                                const char *side, char **json, char *etag, size_t etaglen)
{
    *json = NULL;
    sqlite3_stmt *st = prep(s, "SELECT doc, etag FROM activation WHERE world_id = ? AND"
                               " strategy_id = ? AND side = ?");
    if (!st)
        return -1;
    bind_text(st, 1, world);
    bind_text(st, 2, strategy);
    bind_text(st, 3, side);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        const char *doc = (const char *)sqlite3_column_text(st, 0);
        const char *et = (const char *)sqlite3_column_text(st, 1);
        *json = strdup(doc ? doc : "{}");
        if (etag)
            snprintf(etag, etaglen, "%s", et ? et : "");
        ret = *json ? 1 : -1;
    } else if (rc != SQLITE_DONE) {
        set_err(s, "cannot read activation");
        ret = -1;
    }
    done(s, st);
    return ret;
}

int gw_store_activation_get(struct gw_store *s, const char *world, const char *strategy,
                            const char *side, json_t **out)
{
    char *text = NULL;
    *out = NULL;
    int rc = gw_store_activation_get_raw(s, world, strategy, side, &text, NULL, 0);
    if (rc == 1) {
        *out = json_loads(text, 0, NULL);
        if (!*out)
            *out = json_object();
    }
    free(text);
    return rc;
}

int gw_store_activation_put(struct gw_store *s, const char *world, const char *strategy,
                            const char *side, const json_t *envelope)
{
    char *text = dump(envelope);
    if (!text)
        return -1;
    sqlite3_stmt *st = prep(s, "INSERT INTO activation (world_id, strategy_id, side, doc, etag,"
                               " version) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(world_id,"
                               " strategy_id, side) DO UPDATE SET doc = excluded.doc,"
                               " etag = excluded.etag, version = excluded.version");
    if (!st) {
        free(text);
        return -1;
    }
    const char *etag = json_string_value(json_object_get(envelope, "etag"));
    bind_text(st, 1, world);
    bind_text(st, 2, strategy);
    bind_text(st, 3, side);
    bind_text(st, 4, text);
    bind_text(st, 5, etag ? etag : "");
    sqlite3_bind_int64(st, 6, json_integer_value(json_object_get(envelope, "state_version")));
    free(text);
    return exec_done(s, st, "cannot store activation");
}

int64_t gw_store_activation_version(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = prep(s, "SELECT version FROM activation_version WHERE world_id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, world);
    return one_int(s, st, 0, "cannot read activation version");
}

int gw_store_activation_bump(struct gw_store *s, const char *world, int64_t *out)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO activation_version (world_id, version) VALUES (?, 1)"
                               " ON CONFLICT(world_id) DO UPDATE SET version = version + 1");
    if (!st)
        return -1;
    bind_text(st, 1, world);
    if (exec_done(s, st, "cannot bump activation version") < 0)
        return -1;
    int64_t v = gw_store_activation_version(s, world);
    if (v < 0)
        return -1;
    *out = v;
    return 0;
}

json_t *gw_store_activation_list(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = prep(s, "SELECT doc FROM activation WHERE world_id = ?"
                               " ORDER BY strategy_id, side");
    if (!st)
        return NULL;
    bind_text(st, 1, world);
    return collect(s, st, "cannot list activation");
}

static const char *const state_keys[] = {"active", "weight", "freeze", "drain",
                                         "effective_mode", "run_id", "ts", "etag"};

json_t *gw_store_activation_state(struct gw_store *s, const char *world)
{
    json_t *list = gw_store_activation_list(s, world);
    int64_t version = gw_store_activation_version(s, world);
    if (!list || version < 0) {
        json_decref(list);
        return NULL;
    }
    json_t *state = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *sid = json_string_value(json_object_get(e, "strategy_id"));
        const char *side = json_string_value(json_object_get(e, "side"));
        if (!sid || !side)
            continue;
        json_t *per = json_object_get(state, sid);
        if (!per) {
            per = json_object();
            json_object_set_new(state, sid, per);
        }
        json_t *entry = json_object();
        for (size_t k = 0; k < sizeof(state_keys) / sizeof(state_keys[0]); k++) {
            json_t *v = json_object_get(e, state_keys[k]);
            json_object_set(entry, state_keys[k], v ? v : json_null());
        }
        json_object_set_new(per, side, entry);
    }
    json_decref(list);
    return json_pack("{sI so}", "version", (json_int_t)version, "state", state);
}

json_t *gw_store_activation_snapshot(struct gw_store *s, const char *world_id)
{
    json_t *list = gw_store_activation_list(s, world_id);
    if (!list)
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        /* Stored envelopes are already event data; make sure the schema version is 1. */
        json_object_set_new(e, "version", json_integer(1));
    }
    return list;
}

int gw_store_activation_clear(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = prep(s, "DELETE FROM activation WHERE world_id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, world);
    return exec_done(s, st, "cannot clear activation");
}

/* ------------------------------------------------------------------ apply runs */

int gw_store_run_get(struct gw_store *s, const char *world, const char *run_id, char *stage,
                     size_t stagelen, json_t **result)
{
    if (result)
        *result = NULL;
    sqlite3_stmt *st =
        prep(s, "SELECT stage, result FROM apply_runs WHERE world_id = ? AND run_id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, world);
    bind_text(st, 2, run_id);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (stage)
            snprintf(stage, stagelen, "%s", t ? t : "");
        if (result)
            *result = load_col(st, 1);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        set_err(s, "cannot read apply run");
        ret = -1;
    }
    done(s, st);
    return ret;
}

int gw_store_run_put(struct gw_store *s, const char *world, const char *run_id,
                     const char *stage, const json_t *result)
{
    char *text = result ? dump(result) : NULL;
    sqlite3_stmt *st = prep(s, "INSERT INTO apply_runs (world_id, run_id, stage, result,"
                               " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(world_id, run_id)"
                               " DO UPDATE SET stage = excluded.stage, result = excluded.result,"
                               " updated_at = excluded.updated_at");
    if (!st) {
        free(text);
        return -1;
    }
    bind_text(st, 1, world);
    bind_text(st, 2, run_id);
    bind_text(st, 3, stage);
    bind_text(st, 4, text);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    free(text);
    return exec_done(s, st, "cannot store apply run");
}

/* ------------------------------------------------------------------ audit */

int gw_store_audit_add(struct gw_store *s, const char *world, const char *event,
                       const json_t *details)
{
    char *text = details ? dump(details) : NULL;
    sqlite3_stmt *st =
        prep(s, "INSERT INTO audit (world_id, ts, event, details) VALUES (?, ?, ?, ?)");
    if (!st) {
        free(text);
        return -1;
    }
    bind_text(st, 1, world);
    sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
    bind_text(st, 3, event);
    bind_text(st, 4, text);
    free(text);
    return exec_done(s, st, "cannot append audit entry");
}

json_t *gw_store_audit_list(struct gw_store *s, const char *world, long limit)
{
    if (limit <= 0)
        limit = 1000;
    sqlite3_stmt *st = prep(s, "SELECT id, ts, event, details FROM (SELECT * FROM audit WHERE"
                               " world_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id");
    if (!st)
        return NULL;
    bind_text(st, 1, world);
    sqlite3_bind_int64(st, 2, limit);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char ts[32];
        time_t t = (time_t)sqlite3_column_int64(st, 1);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_array_append_new(arr, json_pack("{sI ss ss so}", "id",
                                             (json_int_t)sqlite3_column_int64(st, 0), "ts", ts,
                                             "event", (const char *)sqlite3_column_text(st, 2),
                                             "details", load_col(st, 3)));
    }
    done(s, st);
    if (rc != SQLITE_DONE) {
        set_err(s, "cannot list audit log");
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* ------------------------------------------------------------------ event log */

int gw_store_event_append(struct gw_store *s, int64_t seq, const char *type,
                          const char *world_id, const char *envelope_json)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO events (seq, type, world_id, envelope, created_at)"
                               " VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, seq);
    bind_text(st, 2, type);
    bind_text(st, 3, world_id);
    bind_text(st, 4, envelope_json);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    return exec_done(s, st, "cannot append event");
}

int gw_store_event_scan(struct gw_store *s, int64_t after_seq,
                        int (*cb)(void *arg, int64_t seq, const char *type,
                                  const char *world_id, const char *envelope_json),
                        void *arg)
{
    /* Not cached: a callback may re-enter the store (e.g. publish while scanning). */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, type, world_id, envelope FROM events WHERE seq > ?"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        set_err(s, "cannot scan event log");
        return -1;
    }
    sqlite3_bind_int64(st, 1, after_seq);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
               (const char *)sqlite3_column_text(st, 2),
               (const char *)sqlite3_column_text(st, 3))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        set_err(s, "cannot scan event log");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int64_t gw_store_event_last_seq(struct gw_store *s)
{
    sqlite3_stmt *st = prep(s, "SELECT seq FROM sqlite_sequence WHERE name = 'events'");
    return st ? one_int(s, st, 0, "cannot read event sequence") : -1;
}

int64_t gw_store_event_first_seq(struct gw_store *s)
{
    sqlite3_stmt *st = prep(s, "SELECT COALESCE(MIN(seq), 0) FROM events");
    return st ? one_int(s, st, 0, "cannot read event log") : -1;
}

int gw_store_event_trim(struct gw_store *s, long keep)
{
    int64_t last = gw_store_event_last_seq(s);
    if (last < 0)
        return -1;
    sqlite3_stmt *st = prep(s, "DELETE FROM events WHERE seq <= ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, last - keep);
    return exec_done(s, st, "cannot trim event log");
}
