/*
 * gw_store_orders: the live order table (see gw_store.h; helpers in gw_store_internal.h).
 */
#include "gw_store.h"
#include "gw_store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORDER_COLS                                                                             \
    "id, status, doc, created_at, acked_at, strategy_id, filled_qty, reason, updated_at"

static int order_by_key(struct gw_store *s, const char *world, const char *strategy,
                        const char *coid, json_t **out);

/* The row at 'st' (columns ORDER_COLS) as an order object (new ref). */
json_t *gws_order_row(sqlite3_stmt *st)
{
    json_t *o = gws_load_col(st, 2);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "status", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(o, "created_at", json_integer(sqlite3_column_int64(st, 3)));
    json_object_set_new(o, "acked_at",
                        sqlite3_column_type(st, 4) == SQLITE_NULL
                            ? json_null()
                            : json_integer(sqlite3_column_int64(st, 4)));
    if (!json_is_string(json_object_get(o, "strategy_id")))
        json_object_set_new(o, "strategy_id",
                            json_string((const char *)sqlite3_column_text(st, 5)));
    json_object_set_new(o, "filled_quantity", json_real(sqlite3_column_double(st, 6)));
    json_object_set_new(o, "reason", sqlite3_column_type(st, 7) == SQLITE_NULL
                                         ? json_null()
                                         : json_string((const char *)sqlite3_column_text(st, 7)));
    json_object_set_new(o, "updated_at", sqlite3_column_type(st, 8) == SQLITE_NULL
                                             ? json_null()
                                             : json_integer(sqlite3_column_int64(st, 8)));
    return o;
}

int gw_store_order_get(struct gw_store *s, const char *world, const char *strategy,
                       const char *coid, json_t **out)
{
    *out = NULL;
    return order_by_key(s, world, strategy, coid, out);
}

/* Step 'st' (columns ORDER_COLS, bound) for at most one order: 1 and *out, 0 none, -1. */
static int one_order(struct gw_store *s, sqlite3_stmt *st, json_t **out)
{
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW;
    if (found)
        *out = gws_order_row(st);
    gws_done(s, st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        gws_set_err(s, "cannot read order");
        return -1;
    }
    return found;
}

/* Fetch one order by key into *out: 1 found, 0 none, -1 error. */
static int order_by_key(struct gw_store *s, const char *world, const char *strategy,
                        const char *coid, json_t **out)
{
    sqlite3_stmt *st = gws_prep(s, "SELECT " ORDER_COLS " FROM orders WHERE world_id = ? AND"
                                   " strategy_id = ? AND client_order_id = ?");
    if (!st)
        return -1;
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, strategy);
    gws_bind_text(st, 3, coid);
    return one_order(s, st, out);
}

int gw_store_order_put(struct gw_store *s, const char *world, const char *strategy,
                       const char *client_order_id, const json_t *doc, json_t **out)
{
    *out = NULL;
    int rc = order_by_key(s, world, strategy, client_order_id, out);
    if (rc != 0) /* already there (0 written), or an error */
        return rc < 0 ? -1 : 0;
    char *text = gws_dump(doc);
    if (!text)
        return -1;
    sqlite3_stmt *st = gws_prep(s, "INSERT INTO orders (world_id, strategy_id,"
                                   " client_order_id, status, doc, created_at)"
                                   " VALUES (?, ?, ?, 'new', ?, ?)");
    if (!st) {
        free(text);
        return -1;
    }
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, strategy);
    gws_bind_text(st, 3, client_order_id);
    gws_bind_text(st, 4, text);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    rc = gws_exec_done(s, st, "cannot store order");
    free(text);
    if (rc < 0 || order_by_key(s, world, strategy, client_order_id, out) != 1)
        return -1;
    return 1;
}

json_t *gw_store_order_list(struct gw_store *s, const char *world, const char *strategy,
                            const char *status, int64_t after, long limit)
{
    int open = status && !strcmp(status, "open");
    sqlite3_stmt *st = gws_prep(
        s, "SELECT " ORDER_COLS " FROM orders WHERE world_id = ?1 AND"
           " (?2 IS NULL OR strategy_id = ?2) AND (?3 IS NULL OR status = ?3) AND"
           " (?4 = 0 OR status IN ('new', 'acked', 'accepted', 'partially_filled')) AND"
           " id > ?5 ORDER BY id LIMIT ?6");
    if (!st)
        return NULL;
    gws_bind_text(st, 1, world);
    gws_bind_text(st, 2, strategy);
    gws_bind_text(st, 3, open ? NULL : status);
    sqlite3_bind_int(st, 4, open);
    sqlite3_bind_int64(st, 5, after);
    sqlite3_bind_int64(st, 6, limit > 0 ? limit : 100);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, gws_order_row(st));
    gws_done(s, st);
    if (rc != SQLITE_DONE) {
        gws_set_err(s, "cannot list orders");
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int gw_store_order_by_id(struct gw_store *s, int64_t id, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = gws_prep(s, "SELECT " ORDER_COLS " FROM orders WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return one_order(s, st, out);
}

int gw_store_order_ack(struct gw_store *s, int64_t id, const char *claim_id, json_t **out)
{
    *out = NULL;
    /* the WHERE clause makes the claim: only an order still "new" changes hands */
    sqlite3_stmt *st = gws_prep(s, "UPDATE orders SET status = 'acked', acked_at = ?,"
                                   " updated_at = ?, claim_id = ? WHERE id = ? AND status = 'new'");
    if (!st)
        return -1;
    int64_t now = (int64_t)time(NULL);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, now);
    gws_bind_text(st, 3, claim_id);
    sqlite3_bind_int64(st, 4, id);
    if (gws_exec_done(s, st, "cannot ack order") < 0)
        return -1;
    int claimed = sqlite3_changes(s->db) == 1;
    st = gws_prep(s, "SELECT " ORDER_COLS ", claim_id FROM orders WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW, same = 0;
    if (found) {
        *out = gws_order_row(st);
        const char *held = (const char *)sqlite3_column_text(st, 9);
        same = claim_id && held && !strcmp(held, claim_id);
    }
    gws_done(s, st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        gws_set_err(s, "cannot read order");
        return -1;
    }
    if (!found)
        return 0;
    return claimed || same ? 1 : 2;
}
