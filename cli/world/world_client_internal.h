/*
 * world_client_internal: what the files of the world client (world_client.c, the verbs;
 * world_client_more.c, policies, orders and the explanations) share. Not a public API.
 */
#ifndef QMTL_CLI_WORLD_WORLD_CLIENT_INTERNAL_H
#define QMTL_CLI_WORLD_WORLD_CLIENT_INTERNAL_H

#include "http_client.h"
#include "world_client.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct wc_reply {
    struct http_response r;
    json_t *j; /* parsed body, NULL when empty */
};

void wc_reply_release_(struct wc_reply *rep);
/* The reply's body as is (trailing blanks dropped), one line, to wc->out. */
void wc_print_body_(struct world_client *wc, const struct wc_reply *rep);

/*
 * One request. body (borrowed) is sent as JSON when not NULL. A 2xx answer returns WC_OK
 * with *rep filled (release it). With allow_404, a 404 also returns WC_OK (check
 * rep->r.status). Any other status prints the gateway's error and returns WC_REFUSED;
 * transport failures print and return WC_UNREACHABLE. *rep is released on failure.
 */
int wc_call_(struct world_client *wc, const char *method, const char *path, const json_t *body,
             int allow_live, const char *if_match, int allow_404, struct wc_reply *rep);
/* A GET that prints nothing, for optional context (explanations, warnings): 0 with *rep
 * holding a 2xx JSON answer (release it), else -1 with *rep released. */
int wc_get_quiet_(struct world_client *wc, const char *path, struct wc_reply *rep);

/* "/worlds/<escaped world><suffix>" into buf. 0, or -1 (printed) when too long. */
int wc_world_path_(struct world_client *wc, char *buf, size_t n, const char *world,
                   const char *suffix);

/* A JSON value as table text ("-" for null or missing); malloc'ed. */
char *wc_text_of_(const json_t *v);

/* Aligned text tables: rows of ncol (<= 16) cells; wc_table_print_ frees the table. */
struct wc_table {
    size_t ncol, nrows, cap;
    char **cells; /* nrows * ncol */
};
void wc_table_row_(struct wc_table *t, const char *const *vals);
void wc_table_row_json_(struct wc_table *t, const json_t *const *vals);
void wc_table_free_(struct wc_table *t);
void wc_table_print_(struct wc_table *t, FILE *out);
/* "key: value" lines for the keys of obj, those in 'order' (NULL-terminated) first. */
void wc_print_fields_(FILE *out, const json_t *obj, const char *const *order);

/* After 'qmtl world decide' printed a no_active_strategies decision: why, and the
 * command that fixes it (world_client_more.c). Context it cannot fetch is left out. */
void wc_explain_no_active_(struct world_client *wc, const char *world);
/* Before 'qmtl world activate': a WARN line to wc->err when the world has never seen
 * 'strategy' (not bound by a submission, by id or name; not decided; no activation
 * entry). Prints nothing when it is known or the world's state cannot be read. */
void wc_warn_unseen_(struct world_client *wc, const char *world, const char *strategy);

#endif
