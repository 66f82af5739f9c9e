/*
 * dm_store: SQLite persistence of the DAG manager's registry (see dm_store.h), on
 * common/sqlite_db.
 */
#include "dagmanager/dm_store.h"

#include "log.h"
#include "sqlite_db.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The connection, statement cache and error record are common/sqlite_db's (one SQLite
 * helper for every store; its header states the error convention). */
struct dm_store {
    struct sqlite_db sql;
};

/* Schema migrations: entry i brings a file from version i to version i + 1. */
static const char *const migrations[] = {
    /* 0 -> 1: the registry */
    "CREATE TABLE nodes (node_id TEXT PRIMARY KEY, node_type TEXT NOT NULL,"
    "  interval INTEGER NOT NULL, period INTEGER NOT NULL, code_hash TEXT NOT NULL,"
    "  schema_compat_id TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE node_tags (node_id TEXT NOT NULL REFERENCES nodes(node_id),"
    "  tag TEXT NOT NULL, PRIMARY KEY (node_id, tag));"
    "CREATE TABLE queues (topic TEXT PRIMARY KEY, node_id TEXT NOT NULL REFERENCES"
    "  nodes(node_id), compute_key TEXT NOT NULL, world TEXT NOT NULL, domain TEXT NOT NULL,"
    "  as_of TEXT NOT NULL, partition TEXT NOT NULL, version TEXT NOT NULL,"
    "  interval INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  UNIQUE (node_id, compute_key));"
    "CREATE TABLE strategies (strategy_id TEXT PRIMARY KEY, sentinel_id TEXT NOT NULL,"
    "  world TEXT NOT NULL, domain TEXT NOT NULL, as_of TEXT NOT NULL,"
    "  partition TEXT NOT NULL, version TEXT NOT NULL, crc32 INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE strategy_nodes (strategy_id TEXT NOT NULL REFERENCES"
    "  strategies(strategy_id), pos INTEGER NOT NULL, node_id TEXT NOT NULL,"
    "  topic TEXT NOT NULL, PRIMARY KEY (strategy_id, node_id));",
    /* 1 -> 2: indexes for tag queries and reverse lookups */
    "CREATE INDEX node_tags_tag ON node_tags (tag, node_id);"
    "CREATE INDEX queues_world ON queues (world, domain);"
    "CREATE INDEX strategy_nodes_node ON strategy_nodes (node_id);",
    /* 2 -> 3: the tag queries diffs have seen (what a new queue may join) */
    "CREATE TABLE tag_queries (node_id TEXT NOT NULL, world TEXT NOT NULL,"
    "  domain TEXT NOT NULL, interval INTEGER NOT NULL, match_all INTEGER NOT NULL,"
    "  tags TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (node_id, world, domain));",
    /* 3 -> 4: every change of the queue set, numbered (the generation), and the queues
     * dropped from tag queries (their stream collected) */
    "CREATE TABLE queue_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,"
    "  change TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE dropped_queues (topic TEXT PRIMARY KEY, seq INTEGER NOT NULL);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == DM_STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* The registry's short names for the sqlite_db helpers. */
static int fail(struct dm_store *s, const char *what)
{
    return sqldb_fail(&s->sql, what);
}

static sqlite3_stmt *prep(struct dm_store *s, const char *sql)
{
    return sqldb_prep(&s->sql, sql);
}

static void done(struct dm_store *s, sqlite3_stmt *st)
{
    sqldb_done(&s->sql, st);
}

/* NULL binds "" (every text column of the registry is NOT NULL). */
static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
    sqldb_bind_text(st, i, v ? v : "");
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return strdup(t ? (const char *)t : "");
}

static int step_done(struct dm_store *s, sqlite3_stmt *st, const char *what)
{
    return sqldb_step_done(&s->sql, st, what);
}

int dm_store_schema_version(struct dm_store *s)
{
    return sqldb_user_version(&s->sql);
}

struct dm_store *dm_store_open(const char *path, char *err, size_t errlen)
{
    struct dm_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const struct sqldb_options o = {.component = "dm-store",
                                    .owner = "DAG manager",
                                    .busy_timeout_ms = 2000,
                                    .synchronous = "FULL",
                                    .foreign_keys = 1,
                                    .migrations = migrations,
                                    .n_migrations = N_MIGRATIONS};
    if (sqldb_open(&s->sql, path, &o, err, errlen) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void dm_store_close(struct dm_store *s)
{
    if (!s)
        return;
    sqldb_close(&s->sql);
    free(s);
}

const char *dm_store_last_error(const struct dm_store *s)
{
    return sqldb_errmsg(&s->sql);
}

long dm_store_errors(const struct dm_store *s)
{
    return sqldb_errors(&s->sql);
}

int dm_store_ping(struct dm_store *s)
{
    return sqldb_exec(&s->sql, "SELECT 1", "store ping failed");
}

int dm_store_begin(struct dm_store *s)
{
    return sqldb_begin(&s->sql);
}

int dm_store_commit(struct dm_store *s)
{
    return sqldb_commit(&s->sql);
}

/* 0 also when no transaction is open (nothing to undo). */
int dm_store_rollback(struct dm_store *s)
{
    return s->sql.in_txn ? sqldb_rollback(&s->sql) : 0;
}

/* ---------------------------------------------------------------- nodes */

int dm_store_put_node(struct dm_store *s, const struct dm_node *n)
{
    sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO nodes (node_id, node_type, interval,"
                               " period, code_hash, schema_compat_id, created_at)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    bind_str(st, 1, n->node_id);
    bind_str(st, 2, n->node_type);
    sqlite3_bind_int64(st, 3, n->interval);
    sqlite3_bind_int64(st, 4, n->period);
    bind_str(st, 5, n->code_hash);
    bind_str(st, 6, n->schema_compat_id);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
    if (step_done(s, st, "cannot insert node") < 0)
        return -1;
    for (size_t i = 0; i < n->n_tags; i++) {
        st = prep(s, "INSERT OR IGNORE INTO node_tags (node_id, tag) VALUES (?, ?)");
        if (!st)
            return -1;
        bind_str(st, 1, n->node_id);
        bind_str(st, 2, n->tags[i]);
        if (step_done(s, st, "cannot insert node tag") < 0)
            return -1;
    }
    return 0;
}

void dm_node_release(struct dm_node *n)
{
    if (!n)
        return;
    free(n->node_id);
    free(n->node_type);
    free(n->code_hash);
    free(n->schema_compat_id);
    dm_strings_free(n->tags, n->n_tags);
    memset(n, 0, sizeof(*n));
}

void dm_strings_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Collect column 0 of every row of a prepared statement (finalized here). */
static int collect_strings(struct dm_store *s, sqlite3_stmt *st, char ***out, size_t *n)
{
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            char **nv = realloc(*out, cap * sizeof(*nv));
            if (!nv)
                break;
            *out = nv;
        }
        (*out)[(*n)++] = col_dup(st, 0);
    }
    if (rc != SQLITE_DONE) {
        fail(s, "cannot read rows");
        done(s, st);
        dm_strings_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    done(s, st);
    return 0;
}

int dm_store_get_node(struct dm_store *s, const char *node_id, struct dm_node *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = prep(s, "SELECT node_id, node_type, interval, period, code_hash,"
                               " schema_compat_id FROM nodes WHERE node_id = ?");
    if (!st)
        return -1;
    bind_str(st, 1, node_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        done(s, st);
        return rc == SQLITE_DONE ? 0 : fail(s, "cannot read node");
    }
    out->node_id = col_dup(st, 0);
    out->node_type = col_dup(st, 1);
    out->interval = sqlite3_column_int64(st, 2);
    out->period = sqlite3_column_int64(st, 3);
    out->code_hash = col_dup(st, 4);
    out->schema_compat_id = col_dup(st, 5);
    done(s, st);
    st = prep(s, "SELECT tag FROM node_tags WHERE node_id = ? ORDER BY tag");
    if (!st) {
        dm_node_release(out);
        return -1;
    }
    bind_str(st, 1, node_id);
    if (collect_strings(s, st, &out->tags, &out->n_tags) < 0) {
        dm_node_release(out);
        return -1;
    }
    return 1;
}

/* ---------------------------------------------------------------- queues */

#define QUEUE_COLS                                                                                 \
    "q.topic, q.node_id, q.compute_key, q.world, q.domain, q.as_of, q.partition, q.version,"       \
    " q.interval, q.created_by, q.created_at"

static void queue_from_row(sqlite3_stmt *st, struct dm_queue *q)
{
    q->topic = col_dup(st, 0);
    q->node_id = col_dup(st, 1);
    q->compute_key = col_dup(st, 2);
    q->world = col_dup(st, 3);
    q->domain = col_dup(st, 4);
    q->as_of = col_dup(st, 5);
    q->partition = col_dup(st, 6);
    q->version = col_dup(st, 7);
    q->interval = sqlite3_column_int64(st, 8);
    q->created_by = col_dup(st, 9);
    q->created_at = sqlite3_column_int64(st, 10);
}

void dm_queue_release(struct dm_queue *q)
{
    if (!q)
        return;
    free(q->topic);
    free(q->node_id);
    free(q->compute_key);
    free(q->world);
    free(q->domain);
    free(q->as_of);
    free(q->partition);
    free(q->version);
    free(q->created_by);
    memset(q, 0, sizeof(*q));
}

void dm_queues_free(struct dm_queue *q, size_t n)
{
    for (size_t i = 0; q && i < n; i++)
        dm_queue_release(&q[i]);
    free(q);
}

/* Read every row of a queue SELECT (finalized here). */
static int collect_queues(struct dm_store *s, sqlite3_stmt *st, struct dm_queue **out, size_t *n)
{
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            struct dm_queue *nq = realloc(*out, cap * sizeof(*nq));
            if (!nq)
                break;
            *out = nq;
        }
        queue_from_row(st, &(*out)[(*n)++]);
    }
    if (rc != SQLITE_DONE) {
        fail(s, "cannot read queues");
        done(s, st);
        dm_queues_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    done(s, st);
    return 0;
}

int dm_store_find_binding(struct dm_store *s, const char *node_id, const char *compute_key,
                          struct dm_queue *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st =
        prep(s, "SELECT " QUEUE_COLS " FROM queues q WHERE q.node_id = ? AND q.compute_key = ?");
    if (!st)
        return -1;
    bind_str(st, 1, node_id);
    bind_str(st, 2, compute_key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        queue_from_row(st, out);
    done(s, st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : fail(s, "cannot read binding");
}

int dm_store_node_queues(struct dm_store *s, const char *node_id, struct dm_queue **out, size_t *n)
{
    sqlite3_stmt *st = prep(s, "SELECT " QUEUE_COLS " FROM queues q WHERE q.node_id = ?"
                               " ORDER BY q.created_at, q.topic");
    if (!st)
        return -1;
    bind_str(st, 1, node_id);
    return collect_queues(s, st, out, n);
}

/* 1 when 'sql' (one text parameter) finds a row, 0 not, <0 error ('what'). */
static int row_exists(struct dm_store *s, const char *sql, const char *key, const char *what)
{
    sqlite3_stmt *st = prep(s, sql);
    if (!st)
        return -1;
    bind_str(st, 1, key);
    int rc = sqlite3_step(st);
    done(s, st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

int dm_store_topic_exists(struct dm_store *s, const char *topic)
{
    return row_exists(s, "SELECT 1 FROM queues WHERE topic = ?", topic, "cannot look up topic");
}

/* One row of queue_changes: the new generation, or -1. */
static int64_t note_change(struct dm_store *s, const char *topic, const char *change)
{
    sqlite3_stmt *st =
        prep(s, "INSERT INTO queue_changes (topic, change, at) VALUES (?, ?, ?)");
    if (!st)
        return -1;
    bind_str(st, 1, topic);
    bind_str(st, 2, change);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    if (step_done(s, st, "cannot record a queue change") < 0)
        return -1;
    return (int64_t)sqlite3_last_insert_rowid(s->sql.db);
}

int dm_store_queue_generation(struct dm_store *s, int64_t *gen)
{
    sqlite3_stmt *st = prep(s, "SELECT COALESCE(MAX(seq), 0) FROM queue_changes");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    *gen = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    done(s, st);
    return rc == SQLITE_ROW ? 0 : fail(s, "cannot read the queue generation");
}

int dm_store_drop_queue(struct dm_store *s, const char *topic)
{
    int d = dm_store_queue_dropped(s, topic);
    if (d != 0)
        return d < 0 ? -1 : 0;
    int own = !s->sql.in_txn; /* the change and the drop go together */
    if (own && dm_store_begin(s) < 0)
        return -1;
    int64_t seq = note_change(s, topic, "dropped");
    sqlite3_stmt *st =
        seq < 0 ? NULL : prep(s, "INSERT INTO dropped_queues (topic, seq) VALUES (?, ?)");
    int rc = -1;
    if (st) {
        bind_str(st, 1, topic);
        sqlite3_bind_int64(st, 2, seq);
        rc = step_done(s, st, "cannot drop queue") < 0 ? -1 : 1;
    }
    if (own && (rc < 0 || dm_store_commit(s) < 0)) {
        dm_store_rollback(s);
        return -1;
    }
    return rc;
}

int dm_store_queue_dropped(struct dm_store *s, const char *topic)
{
    return row_exists(s, "SELECT 1 FROM dropped_queues WHERE topic = ?", topic,
                      "cannot look up a dropped queue");
}

int dm_store_revive_queue(struct dm_store *s, const char *topic)
{
    int d = dm_store_queue_dropped(s, topic);
    if (d <= 0)
        return d;
    sqlite3_stmt *st = prep(s, "DELETE FROM dropped_queues WHERE topic = ?");
    if (!st)
        return -1;
    bind_str(st, 1, topic);
    if (step_done(s, st, "cannot revive queue") < 0 || note_change(s, topic, "revived") < 0)
        return -1;
    return 1;
}

int dm_store_dropped_since(struct dm_store *s, int64_t after, struct dm_queue **out, size_t *n)
{
    sqlite3_stmt *st = prep(s, "SELECT " QUEUE_COLS " FROM queues q JOIN dropped_queues d"
                               " ON d.topic = q.topic WHERE d.seq > ? ORDER BY d.seq");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    return collect_queues(s, st, out, n);
}

int dm_store_add_queue(struct dm_store *s, const struct dm_queue *q)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO queues (topic, node_id, compute_key, world, domain,"
                               " as_of, partition, version, interval, created_by, created_at)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    bind_str(st, 1, q->topic);
    bind_str(st, 2, q->node_id);
    bind_str(st, 3, q->compute_key);
    bind_str(st, 4, q->world);
    bind_str(st, 5, q->domain);
    bind_str(st, 6, q->as_of);
    bind_str(st, 7, q->partition);
    bind_str(st, 8, q->version);
    sqlite3_bind_int64(st, 9, q->interval);
    bind_str(st, 10, q->created_by);
    sqlite3_bind_int64(st, 11, q->created_at ? q->created_at : (sqlite3_int64)time(NULL));
    if (step_done(s, st, "cannot insert queue") < 0)
        return -1;
    return note_change(s, q->topic, "created") < 0 ? -1 : 0;
}

int dm_store_queues_by_tag(struct dm_store *s, const char *const *tags, size_t n_tags,
                           int match_all, int64_t interval, const char *world, const char *domain,
                           struct dm_queue **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (n_tags == 0)
        return 0;
    /* The tag list goes in as a JSON array so one statement serves any number of tags. */
    size_t len = 3;
    for (size_t i = 0; i < n_tags; i++)
        len += 2 * strlen(tags[i]) + 3;
    char *arr = malloc(len), *p = arr;
    if (!arr)
        return -1;
    *p++ = '[';
    for (size_t i = 0; i < n_tags; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *c = tags[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *p++ = '\\';
            *p++ = *c;
        }
        *p++ = '"';
    }
    *p++ = ']';
    *p = '\0';
    sqlite3_stmt *st = prep(
        s, "SELECT " QUEUE_COLS " FROM queues q JOIN (SELECT t.node_id, COUNT(DISTINCT t.tag)"
           " AS hits FROM node_tags t WHERE t.tag IN (SELECT value FROM json_each(?1))"
           " GROUP BY t.node_id) m ON m.node_id = q.node_id JOIN nodes n ON n.node_id = q.node_id"
           " WHERE n.node_type NOT IN ('TagQueryNode', 'tag_query')"
           " AND (?2 = 0 OR m.hits = (SELECT COUNT(DISTINCT value) FROM json_each(?1)))"
           " AND (?3 <= 0 OR q.interval = ?3) AND (?4 = '' OR q.world = ?4)"
           " AND (?5 = '' OR q.domain = ?5)"
           " AND q.topic NOT IN (SELECT topic FROM dropped_queues) ORDER BY q.topic");
    if (!st) {
        free(arr);
        return -1;
    }
    sqlite3_bind_text(st, 1, arr, -1, SQLITE_TRANSIENT);
    free(arr);
    sqlite3_bind_int(st, 2, match_all ? 1 : 0);
    sqlite3_bind_int64(st, 3, interval);
    bind_str(st, 4, world);
    bind_str(st, 5, domain);
    return collect_queues(s, st, out, n);
}

/* ---------------------------------------------------------------- strategies */

int dm_store_put_strategy(struct dm_store *s, const struct dm_strategy *g)
{
    sqlite3_stmt *st = prep(
        s,
        "INSERT INTO strategies (strategy_id, sentinel_id, world, domain, as_of, partition,"
        " version, crc32, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
        " ON CONFLICT (strategy_id) DO UPDATE SET sentinel_id = ?2, world = ?3, domain = ?4,"
        " as_of = ?5, partition = ?6, version = ?7, crc32 = ?8, updated_at = ?9");
    if (!st)
        return -1;
    bind_str(st, 1, g->strategy_id);
    bind_str(st, 2, g->sentinel_id);
    bind_str(st, 3, g->world);
    bind_str(st, 4, g->domain);
    bind_str(st, 5, g->as_of);
    bind_str(st, 6, g->partition);
    bind_str(st, 7, g->version);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)g->crc32);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)time(NULL));
    if (step_done(s, st, "cannot write strategy") < 0)
        return -1;
    st = prep(s, "DELETE FROM strategy_nodes WHERE strategy_id = ?");
    if (!st)
        return -1;
    bind_str(st, 1, g->strategy_id);
    if (step_done(s, st, "cannot clear strategy nodes") < 0)
        return -1;
    for (size_t i = 0; i < g->n_nodes; i++) {
        st = prep(s, "INSERT INTO strategy_nodes (strategy_id, pos, node_id, topic)"
                     " VALUES (?, ?, ?, ?)");
        if (!st)
            return -1;
        bind_str(st, 1, g->strategy_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        bind_str(st, 3, g->node_ids[i]);
        bind_str(st, 4, g->topics[i]);
        if (step_done(s, st, "cannot write strategy node") < 0)
            return -1;
    }
    return 0;
}

int dm_store_node_strategies(struct dm_store *s, const char *node_id, char ***ids, size_t *n)
{
    sqlite3_stmt *st = prep(s, "SELECT DISTINCT strategy_id FROM strategy_nodes WHERE node_id = ?"
                               " ORDER BY strategy_id");
    if (!st)
        return -1;
    bind_str(st, 1, node_id);
    return collect_strings(s, st, ids, n);
}

long dm_store_count(struct dm_store *s, const char *table)
{
    const char *sql = NULL;
    if (strcmp(table, "nodes") == 0)
        sql = "SELECT COUNT(*) FROM nodes";
    else if (strcmp(table, "queues") == 0)
        sql = "SELECT COUNT(*) FROM queues";
    else if (strcmp(table, "strategies") == 0)
        sql = "SELECT COUNT(*) FROM strategies";
    else
        return -1;
    sqlite3_stmt *st = prep(s, sql);
    if (!st)
        return -1;
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    done(s, st);
    if (v < 0)
        fail(s, "cannot count rows");
    return v;
}

/* ---------------------------------------------------------------- tag queries */

/* Tags as a JSON array text (the order given). malloc'd, NULL out of memory. */
static char *tags_json(const char *const *tags, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(tags[i]));
    char *t = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return t;
}

int dm_store_put_tag_query(struct dm_store *s, const struct dm_tag_query *q)
{
    char *tags = tags_json((const char *const *)q->tags, q->n_tags);
    if (!tags)
        return fail(s, "out of memory");
    sqlite3_stmt *st = prep(s, "INSERT INTO tag_queries (node_id, world, domain, interval,"
                               " match_all, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                               " ON CONFLICT (node_id, world, domain) DO NOTHING");
    if (!st) {
        free(tags);
        return -1;
    }
    bind_str(st, 1, q->node_id);
    bind_str(st, 2, q->world);
    bind_str(st, 3, q->domain);
    sqlite3_bind_int64(st, 4, q->interval);
    sqlite3_bind_int(st, 5, q->match_all ? 1 : 0);
    bind_str(st, 6, tags);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
    int rc = step_done(s, st, "cannot write tag query");
    free(tags);
    return rc;
}

void dm_tag_queries_free(struct dm_tag_query *q, size_t n)
{
    for (size_t i = 0; q && i < n; i++) {
        free(q[i].node_id);
        free(q[i].world);
        free(q[i].domain);
        dm_strings_free(q[i].tags, q[i].n_tags);
    }
    free(q);
}

/* A row's tags column: a JSON array of strings (anything else reads as no tag). */
static int tags_from_json(const char *text, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *a = json_loads(text ? text : "[]", 0, NULL);
    size_t m = json_is_array(a) ? json_array_size(a) : 0;
    if (m && !(*out = calloc(m, sizeof(**out)))) {
        json_decref(a);
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        const char *t = json_string_value(json_array_get(a, i));
        if (t && !((*out)[(*n)++] = strdup(t))) {
            json_decref(a);
            return -1;
        }
    }
    json_decref(a);
    return 0;
}

int dm_store_tag_queries(struct dm_store *s, const char *world, const char *domain,
                         struct dm_tag_query **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(s, "SELECT node_id, world, domain, interval, match_all, tags"
                               " FROM tag_queries WHERE world = ?1 AND (?2 = '' OR domain = ?2)"
                               " ORDER BY node_id");
    if (!st)
        return -1;
    bind_str(st, 1, world);
    bind_str(st, 2, domain);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            struct dm_tag_query *nv = realloc(*out, cap * sizeof(*nv));
            if (!nv)
                break;
            *out = nv;
        }
        struct dm_tag_query *q = &(*out)[(*n)++];
        memset(q, 0, sizeof(*q));
        q->node_id = col_dup(st, 0);
        q->world = col_dup(st, 1);
        q->domain = col_dup(st, 2);
        q->interval = sqlite3_column_int64(st, 3);
        q->match_all = sqlite3_column_int(st, 4) != 0;
        if (tags_from_json((const char *)sqlite3_column_text(st, 5), &q->tags, &q->n_tags) < 0)
            break;
    }
    if (rc != SQLITE_DONE) {
        fail(s, "cannot read tag queries");
        done(s, st);
        dm_tag_queries_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    done(s, st);
    return 0;
}

/* ---------------------------------------------------------------- queue use (reports, GC) */

void dm_queue_uses_free(struct dm_queue_use *u, size_t n)
{
    for (size_t i = 0; u && i < n; i++) {
        dm_queue_release(&u[i].q);
        dm_strings_free(u[i].strategies, u[i].n_strategies);
    }
    free(u);
}

int dm_store_queue_uses(struct dm_store *s, const char *world, const char *domain,
                        struct dm_queue_use **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(
        s, "SELECT " QUEUE_COLS ", n.node_type, (SELECT MAX(g.updated_at) FROM strategy_nodes sn"
           " JOIN strategies g ON g.strategy_id = sn.strategy_id WHERE sn.topic = q.topic)"
           " FROM queues q JOIN nodes n ON n.node_id = q.node_id"
           " WHERE (?1 = '' OR q.world = ?1) AND (?2 = '' OR q.domain = ?2) ORDER BY q.topic");
    if (!st)
        return -1;
    bind_str(st, 1, world ? world : "");
    bind_str(st, 2, domain ? domain : "");
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            struct dm_queue_use *nu = realloc(*out, cap * sizeof(*nu));
            if (!nu)
                break;
            *out = nu;
        }
        struct dm_queue_use *u = &(*out)[(*n)++];
        memset(u, 0, sizeof(*u));
        queue_from_row(st, &u->q);
        const char *type = (const char *)sqlite3_column_text(st, 11);
        u->tag_query = type && (!strcmp(type, "TagQueryNode") || !strcmp(type, "tag_query"));
        u->last_submitted = sqlite3_column_int64(st, 12); /* NULL: 0 */
    }
    if (rc != SQLITE_DONE) {
        fail(s, "cannot read queues");
        done(s, st);
        dm_queue_uses_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    done(s, st);
    for (size_t i = 0; i < *n; i++) {
        st = prep(s, "SELECT DISTINCT strategy_id FROM strategy_nodes WHERE topic = ?"
                     " ORDER BY strategy_id");
        if (!st)
            goto fail;
        bind_str(st, 1, (*out)[i].q.topic);
        if (collect_strings(s, st, &(*out)[i].strategies, &(*out)[i].n_strategies) < 0)
            goto fail;
    }
    return 0;
fail:
    dm_queue_uses_free(*out, *n);
    *out = NULL;
    *n = 0;
    return -1;
}
