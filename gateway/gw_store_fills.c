/*
 * gw_store_fills: the order lifecycle (broker status, filled quantity), the fills table
 * and the kill switch (see gw_store.h; helpers in gw_store_internal.h).
 */
#include "gw_store.h"
#include "gw_store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int gw_order_status_final(const char *status)
{
    static const char *const final[] = {"filled", "rejected", "canceled", "expired"};
    for (size_t i = 0; status && i < sizeof(final) / sizeof(final[0]); i++)
        if (!strcmp(status, final[i]))
            return 1;
    return 0;
}

int gw_store_order_set_status(struct gw_store *s, int64_t id, const char *status,
                              const char *reason, double filled_qty)
{
    sqlite3_stmt *st = gws_prep(s, "UPDATE orders SET status = ?, reason = ?, filled_qty = ?,"
                                   " updated_at = ? WHERE id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, status);
    gws_bind_text(st, 2, reason);
    sqlite3_bind_double(st, 3, filled_qty);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    sqlite3_bind_int64(st, 5, id);
    if (gws_exec_done(s, st, "cannot update order") < 0)
        return -1;
    return sqlite3_changes(s->db) == 1;
}

int gw_store_fill_get(struct gw_store *s, int64_t order_id, int64_t seq, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = gws_prep(s, "SELECT doc, id FROM fills WHERE order_id = ? AND seq = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, order_id);
    sqlite3_bind_int64(st, 2, seq);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW;
    if (found) {
        *out = gws_load_col(st, 0);
        if (json_is_object(*out))
            json_object_set_new(*out, "id", json_integer(sqlite3_column_int64(st, 1)));
    }
    gws_done(s, st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        gws_set_err(s, "cannot read fill");
        return -1;
    }
    return found;
}

int gw_store_fill_put(struct gw_store *s, int64_t order_id, int64_t seq, const json_t *doc)
{
    char *text = gws_dump(doc);
    if (!text)
        return -1;
    sqlite3_stmt *st = gws_prep(s, "INSERT INTO fills (order_id, seq, world_id, strategy_id,"
                                   " symbol, side, quantity, doc, created_at)"
                                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        free(text);
        return -1;
    }
    sqlite3_bind_int64(st, 1, order_id);
    sqlite3_bind_int64(st, 2, seq);
    gws_bind_text(st, 3, json_string_value(json_object_get(doc, "world_id")));
    gws_bind_text(st, 4, json_string_value(json_object_get(doc, "strategy_id")));
    gws_bind_text(st, 5, json_string_value(json_object_get(doc, "symbol")));
    gws_bind_text(st, 6, json_string_value(json_object_get(doc, "side")));
    sqlite3_bind_double(st, 7, json_number_value(json_object_get(doc, "quantity")));
    gws_bind_text(st, 8, text);
    sqlite3_bind_int64(st, 9, (int64_t)time(NULL));
    int rc = gws_exec_done(s, st, "cannot store fill");
    free(text);
    return rc;
}

json_t *gw_store_fill_list(struct gw_store *s, const char *world, const char *strategy,
                           int64_t after, long limit)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT doc, id FROM fills WHERE world_id = ?1 AND"
                                   " (?2 IS NULL OR strategy_id = ?2) AND id > ?3"
                                   " ORDER BY id LIMIT ?4");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, strategy);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int64(st, 4, limit > 0 ? limit : 100);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *f = gws_load_col(st, 0);
        if (json_is_object(f))
            json_object_set_new(f, "id", json_integer(sqlite3_column_int64(st, 1)));
        json_array_append_new(arr, f);
    }
    gws_done(s, st);
    if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot list fills");
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The one number a TOTAL(...) query over (world, strategy, symbol) gives, into *out. */
static int total_of(struct gw_store *s, const char *sql, const char *world, const char *strategy,
                    const char *symbol, double *out, const char *what)
{
    *out = 0;
    sqlite3_stmt *st = gws_prep(s, sql);
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, strategy);
    gws_bind_text(st, 3, symbol);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_double(st, 0);
    gws_done(s, st);
    if (rc != SQLITE_ROW) {
        gws_set_err(s, what);
        return -1;
    }
    return 0;
}

int gw_store_fill_position(struct gw_store *s, const char *world, const char *strategy,
                           const char *symbol, double *out)
{
    return total_of(s,
                    "SELECT TOTAL(CASE WHEN side = 'BUY' THEN quantity ELSE -quantity END)"
                    " FROM fills WHERE world_id = ? AND strategy_id = ? AND symbol = ?",
                    world, strategy, symbol, out, "cannot read position");
}

int gw_store_open_position(struct gw_store *s, const char *world, const char *strategy,
                           const char *symbol, double *out)
{
    return total_of(
        s,
        "SELECT TOTAL((json_extract(doc, '$.quantity') - filled_qty) *"
        " (CASE WHEN json_extract(doc, '$.side') = 'buy' THEN 1 ELSE -1 END)) FROM orders"
        " WHERE world_id = ? AND strategy_id = ? AND json_extract(doc, '$.symbol') = ? AND"
        " status IN ('new', 'acked', 'accepted', 'partially_filled')",
        world, strategy, symbol, out, "cannot read open orders");
}

int gw_store_kill_get(struct gw_store *s, const char *world, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = gws_prep(s, "SELECT doc FROM world_kill WHERE world_id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW;
    if (found)
        *out = gws_load_col(st, 0);
    gws_done(s, st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        gws_set_err(s, "cannot read kill switch");
        return -1;
    }
    return found;
}

int gw_store_kill_set(struct gw_store *s, const char *world, const json_t *doc)
{
    if (!doc) {
        sqlite3_stmt *st = gws_prep(s, "DELETE FROM world_kill WHERE world_id = ?");
        if (!st)
            return -1;
        gws_bind_text(st, 1, world);
        return gws_exec_done(s, st, "cannot clear kill switch");
    }
    char *text = gws_dump(doc);
    if (!text)
        return -1;
    sqlite3_stmt *st = gws_prep(s, "INSERT OR REPLACE INTO world_kill (world_id, doc, created_at)"
                                   " VALUES (?, ?, ?)");
    if (!st) {
        free(text);
        return -1;
    }
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, text);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    int rc = gws_exec_done(s, st, "cannot set kill switch");
    free(text);
    return rc;
}
