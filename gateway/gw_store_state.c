/*
 * gw_store_state: bindings, decisions, activation, apply runs, audit and the event log
 * (see gw_store.h; statement helpers in gw_store_internal.h).
 */
#include "gw_store.h"
#include "gw_store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
            gws_prep(s, "INSERT OR IGNORE INTO bindings (world_id, strategy_id) VALUES (?, ?)");
        if (!st)
            return -1;
        gws_bind_text(st, 1, world);
        gws_bind_text(st, 2, json_string_value(v));
        if (gws_exec_done(s, st, "cannot store binding") < 0)
            return -1;
    }
    return 0;
}

json_t *gw_store_bindings_get(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st =
        gws_prep(s, "SELECT strategy_id FROM bindings WHERE world_id = ? ORDER BY strategy_id");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    gws_done(s, st);
    if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot list bindings");
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *gw_store_bindings_names(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT b.strategy_id, s.meta FROM bindings b"
                                   " JOIN strategies s ON s.id = b.strategy_id"
                                   " WHERE b.world_id = ? ORDER BY b.strategy_id");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
    json_t *names = json_object();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *meta = gws_load_col(st, 1);
        const char *name = json_string_value(json_object_get(meta, "strategy"));
        if (name && *name)
            json_object_set_new(names, (const char *)sqlite3_column_text(st, 0),
                                json_string(name));
        json_decref(meta);
    }
    gws_done(s, st);
    if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot list binding names");
        json_decref(names);
        return NULL;
    }
    return names;
}

int gw_store_decisions_set(struct gw_store *s, const char *world, const json_t *strategies)
{
    char *text = gws_dump(strategies);
    if (!text)
        return -1;
    sqlite3_stmt *st =
        gws_prep(s, "INSERT INTO decisions (world_id, strategies, updated_at)"
                    " VALUES (?, ?, ?) ON CONFLICT(world_id) DO UPDATE SET"
                    " strategies = excluded.strategies, updated_at = excluded.updated_at");
    if (!st) {
        free(text);
        return -1;
    }
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, text);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    free(text);
    return gws_exec_done(s, st, "cannot store decisions");
}

json_t *gw_store_decisions_get(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT strategies FROM decisions WHERE world_id = ?");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
    int rc = sqlite3_step(st);
    json_t *out = NULL;
    if (rc == SQLITE_ROW) {
        out = gws_load_col(st, 0);
        if (!json_is_array(out)) {
            json_decref(out);
            out = json_array();
        }
    } else if (rc == SQLITE_DONE) {
        out = json_array();
    } else {
        gws_set_err(s, "cannot read decisions");
    }
    gws_done(s, st);
    return out;
}

/* ------------------------------------------------------------------ activation */

int gw_store_activation_get_raw(struct gw_store *s, const char *world, const char *strategy,
                                const char *side, char **json, char *etag, size_t etaglen)
{
    *json = NULL;
    sqlite3_stmt *st = gws_prep(s, "SELECT doc, etag FROM activation WHERE world_id = ? AND"
                                   " strategy_id = ? AND side = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, strategy);
    gws_bind_text(st, 3, side);
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
        gws_set_err(s, "cannot read activation");
        ret = -1;
    }
    gws_done(s, st);
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
    char *text = gws_dump(envelope);
    if (!text)
        return -1;
    sqlite3_stmt *st = gws_prep(s, "INSERT INTO activation (world_id, strategy_id, side, doc, etag,"
                                   " version) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(world_id,"
                                   " strategy_id, side) DO UPDATE SET doc = excluded.doc,"
                                   " etag = excluded.etag, version = excluded.version");
    if (!st) {
        free(text);
        return -1;
    }
    const char *etag = json_string_value(json_object_get(envelope, "etag"));
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, strategy);
    gws_bind_text(st, 3, side);
    gws_bind_text(st, 4, text);
    gws_bind_text(st, 5, etag ? etag : "");
    sqlite3_bind_int64(st, 6, json_integer_value(json_object_get(envelope, "state_version")));
    free(text);
    return gws_exec_done(s, st, "cannot store activation");
}

int64_t gw_store_activation_version(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT version FROM activation_version WHERE world_id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    return gws_one_int(s, st, 0, "cannot read activation version");
}

int gw_store_activation_bump(struct gw_store *s, const char *world, int64_t *out)
{
    sqlite3_stmt *st =
        gws_prep(s, "INSERT INTO activation_version (world_id, version) VALUES (?, 1)"
                    " ON CONFLICT(world_id) DO UPDATE SET version = version + 1");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    if (gws_exec_done(s, st, "cannot bump activation version") < 0)
        return -1;
    int64_t v = gw_store_activation_version(s, world);
    if (v < 0)
        return -1;
    *out = v;
    return 0;
}

json_t *gw_store_activation_list(struct gw_store *s, const char *world)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT doc FROM activation WHERE world_id = ?"
                                   " ORDER BY strategy_id, side");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
    return gws_collect(s, st, "cannot list activation");
}

static const char *const state_keys[] = {"active",         "weight", "freeze", "drain",
                                         "effective_mode", "run_id", "ts",     "etag"};

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
    sqlite3_stmt *st = gws_prep(s, "DELETE FROM activation WHERE world_id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    return gws_exec_done(s, st, "cannot clear activation");
}

/* ------------------------------------------------------------------ apply runs */

int gw_store_run_get(struct gw_store *s, const char *world, const char *run_id, char *stage,
                     size_t stagelen, json_t **result)
{
    if (result)
        *result = NULL;
    sqlite3_stmt *st =
        gws_prep(s, "SELECT stage, result FROM apply_runs WHERE world_id = ? AND run_id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, run_id);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (stage)
            snprintf(stage, stagelen, "%s", t ? t : "");
        if (result)
            *result = gws_load_col(st, 1);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot read apply run");
        ret = -1;
    }
    gws_done(s, st);
    return ret;
}

int gw_store_run_put(struct gw_store *s, const char *world, const char *run_id, const char *stage,
                     const json_t *result)
{
    char *text = result ? gws_dump(result) : NULL;
    sqlite3_stmt *st =
        gws_prep(s, "INSERT INTO apply_runs (world_id, run_id, stage, result,"
                    " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(world_id, run_id)"
                    " DO UPDATE SET stage = excluded.stage, result = excluded.result,"
                    " updated_at = excluded.updated_at");
    if (!st) {
        free(text);
        return -1;
    }
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, run_id);
    gws_bind_text(st, 3, stage);
    gws_bind_text(st, 4, text);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    free(text);
    return gws_exec_done(s, st, "cannot store apply run");
}

/* ------------------------------------------------------------------ audit */

int gw_store_audit_add(struct gw_store *s, const char *world, const char *event,
                       const json_t *details)
{
    char *text = details ? gws_dump(details) : NULL;
    sqlite3_stmt *st =
        gws_prep(s, "INSERT INTO audit (world_id, ts, event, details) VALUES (?, ?, ?, ?)");
    if (!st) {
        free(text);
        return -1;
    }
    gws_bind_text(st, 1, world);
    sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
    gws_bind_text(st, 3, event);
    gws_bind_text(st, 4, text);
    free(text);
    return gws_exec_done(s, st, "cannot append audit entry");
}

json_t *gw_store_audit_list(struct gw_store *s, const char *world, long limit)
{
    if (limit <= 0)
        limit = 1000;
    sqlite3_stmt *st = gws_prep(s, "SELECT id, ts, event, details FROM (SELECT * FROM audit WHERE"
                                   " world_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
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
                                             "details", gws_load_col(st, 3)));
    }
    gws_done(s, st);
    if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot list audit log");
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* ------------------------------------------------------------------ event log */

int gw_store_event_append(struct gw_store *s, int64_t seq, const char *type, const char *world_id,
                          const char *envelope_json)
{
    sqlite3_stmt *st = gws_prep(s, "INSERT INTO events (seq, type, world_id, envelope, created_at)"
                                   " VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, seq);
    gws_bind_text(st, 2, type);
    gws_bind_text(st, 3, world_id);
    gws_bind_text(st, 4, envelope_json);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    return gws_exec_done(s, st, "cannot append event");
}

int gw_store_event_scan(struct gw_store *s, int64_t after_seq,
                        int (*cb)(void *arg, int64_t seq, const char *type, const char *world_id,
                                  const char *envelope_json),
                        void *arg)
{
    /* Not cached: a callback may re-enter the store (e.g. publish while scanning). */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, type, world_id, envelope FROM events WHERE seq > ?"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        gws_set_err(s, "cannot scan event log");
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
        gws_set_err(s, "cannot scan event log");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int64_t gw_store_event_last_seq(struct gw_store *s)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT seq FROM sqlite_sequence WHERE name = 'events'");
    return st ? gws_one_int(s, st, 0, "cannot read event sequence") : -1;
}

int64_t gw_store_event_first_seq(struct gw_store *s)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT COALESCE(MIN(seq), 0) FROM events");
    return st ? gws_one_int(s, st, 0, "cannot read event log") : -1;
}

int gw_store_event_trim(struct gw_store *s, long keep)
{
    int64_t last = gw_store_event_last_seq(s);
    if (last < 0)
        return -1;
    sqlite3_stmt *st = gws_prep(s, "DELETE FROM events WHERE seq <= ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, last - keep);
    return gws_exec_done(s, st, "cannot trim event log");
}
