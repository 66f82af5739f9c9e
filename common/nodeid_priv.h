/*
 * nodeid_priv: shared between common/nodeid.c and common/nodeid_json.c only.
 * Not part of the nodeid API; nothing outside those two files includes it.
 */
#ifndef QMTL_COMMON_NODEID_PRIV_H
#define QMTL_COMMON_NODEID_PRIV_H

#include "nodeid.h"

/* Canonical form of f; params_final: f->params is already the hashed params (the
 * TagQueryNode rewrite is done). malloc'd, or NULL with err. */
char *nodeid_canonical_impl(const struct nodeid_fields *f, int params_final, size_t *len_out,
                            char *err, size_t errlen);

/* node_type is "TagQueryNode" */
int nodeid_is_tagquery(const char *node_type);

/* TagQueryNode params {"interval","match_mode","query_tags"} built from a params value as
 * the struct API gets it. New reference, or NULL with err. */
json_t *nodeid_tagquery_from_params(const json_t *params, int64_t interval, char *err,
                                    size_t errlen);

#endif
