/*
 * world_client: the operator client of the gateway's world API (what 'qmtl world' runs).
 *
 * Each wc_* verb sends its request(s) with common/http_client, then prints the result
 * to wc->out: aligned tables / "key: value" lines, or the gateway's JSON unchanged when
 * wc->json is set. Problems go to wc->err as one "qmtl world: ..." line.
 *
 * 'decide' explains a no_active_strategies answer (why, and the command that fixes it),
 * and 'activate' warns (a WARN line on wc->err, not an error) when the world has never
 * seen the strategy; both only read what the gateway knows and print nothing more when
 * it cannot be read.
 *
 * Every verb returns one of the WC_* exit codes:
 *   WC_OK          the gateway did it (or showed it)
 *   WC_REFUSED     the gateway answered with an error ("401 E_UNAUTHORIZED: ..."), or an
 *                  activation change was overtaken by a concurrent one (etag moved)
 *   WC_UNREACHABLE no usable HTTP answer: connect failed, timed out, or the reply was not
 *                  HTTP / not the JSON expected
 */
#ifndef QMTL_CLI_WORLD_WORLD_CLIENT_H
#define QMTL_CLI_WORLD_WORLD_CLIENT_H

#include <stdio.h>

#define WC_OK 0
#define WC_REFUSED 1
#define WC_UNREACHABLE 3

struct world_client {
    const char *url;   /* gateway base URL, e.g. "http://127.0.0.1:8000" (borrowed) */
    const char *token; /* operator token or NULL/"" for none (borrowed) */
    double timeout_s;  /* per request (config_budgets()->http_timeout_s) */
    int json;          /* print the gateway's JSON instead of text */
    FILE *out, *err;
};

int wc_list(struct world_client *wc);
int wc_get(struct world_client *wc, const char *world);
/* name, mode: NULL = not sent. allow_live sends X-Allow-Live: true. */
int wc_create(struct world_client *wc, const char *world, const char *name, const char *mode,
              int allow_live);
int wc_delete(struct world_client *wc, const char *world, int allow_live);
/* The kill switch: POST /worlds/{id}/kill {"reason"} (flatten and freeze), or with
 * 'release' DELETE it; prints the state after. */
int wc_kill(struct world_client *wc, const char *world, const char *reason, int release,
            int allow_live);
int wc_decide(struct world_client *wc, const char *world);
/* strategy NULL: the world's full activation state (a table); else that entry, for side
 * "long", "short" or "both" (NULL = both). */
int wc_activation(struct world_client *wc, const char *world, const char *strategy,
                  const char *side);

struct wc_activate {
    const char *strategy;
    const char *side;   /* "long" | "short" | "both" */
    int active;         /* 0 with --inactive */
    int has_weight;
    double weight;      /* [0, 1] */
    int freeze, drain;
    const char *mode;   /* effective_mode, NULL = the world's mode */
    int allow_live;
};
/* GET the entry (for its ETag), then PUT the change with If-Match: a change made by
 * someone else in between is detected and reported (WC_REFUSED), not overwritten. */
int wc_activate(struct world_client *wc, const char *world, const struct wc_activate *a);

/* 2-phase apply. activate/deactivate: NULL-terminated lists (may be NULL). metrics: a
 * JSON object text {sid: {metric: value}} used when no plan is given (may be NULL). */
int wc_apply(struct world_client *wc, const char *world, const char *run_id,
             const char *const *activate, const char *const *deactivate, const char *metrics,
             int allow_live);
/* limit <= 0: the gateway's default. */
int wc_audit(struct world_client *wc, const char *world, long limit);

/* Store the JSON object 'policy_text' (read from 'source', named in errors) as a new
 * policy version of the world and make it the default (two requests; when the second
 * fails the version stays stored and the message says so). */
int wc_policy_set(struct world_client *wc, const char *world, const char *policy_text,
                  const char *source);
/* Print policy 'version' (<= 0: the default; WC_REFUSED when the world has none) as the
 * indented JSON object 'policy set' takes, after a '#' comment line. */
int wc_policy_get(struct world_client *wc, const char *world, long version);
/* The world's live orders, oldest first (GET /orders): status "new", "acked" or NULL for
 * both; limit <= 0: the gateway's default (100). */
int wc_orders(struct world_client *wc, const char *world, const char *status, long limit);

#endif
