/*
 * config_internal: helpers shared by config.c (YAML walking, discovery) and
 * config_schema.c (the table, value parsing, defaults, env overrides). Not a public API.
 */
#ifndef QMTL_COMMON_CONFIG_INTERNAL_H
#define QMTL_COMMON_CONFIG_INTERNAL_H

#include "config.h"

/* "a", "an" or "one of" (enum, followed by the choices) before config_type_name(). */
const char *config_type_article(enum cfg_type t);

/* Find an entry by section and key; NULL if none. */
const struct cfg_schema_entry *cfg_find_entry_(const char *section, const char *key);

/* True when 'section' is a top-level section name. */
int cfg_is_section_(const char *section);

/* Parse 'text' (is_null: the YAML value was null) as e's type and store it at
 * base + e->offset (base = the struct qmtl_config or struct cfg_data_source).
 * CFG_STRLIST/CFG_DATA/CFG_STRATEGY are not handled here. 0, or -1 with a message like
 * "expected an integer, got 'abc'" / "70000 is out of range [1, 65535]" in why. */
int cfg_set_value_(void *base, const struct cfg_schema_entry *e, const char *text, int is_null,
                   char *why, size_t whylen);

/* Apply every default of 'section' ("host.data[]" for a data source) to base. */
void cfg_apply_defaults_(void *base, const char *section);

/* Free one data source's contents. */
void cfg_data_source_release_(struct cfg_data_source *d);

/* Best suggestion among the keys of 'section' (or among section names when section is
 * NULL) for the unknown 'word'; NULL if nothing is close. Static. */
const char *cfg_suggest_(const char *section, const char *word);

/* Environment overrides QMTL__SECTION__KEY, then QMTL_EVENT_SECRET and QMTL_TEST_MODE.
 * 0 or -1 with err filled ("env NAME: section.key: ..."). */
int cfg_apply_env_(struct qmtl_config *c, struct cfg_error *err);

/* Append a warning line (formatted) to c->warnings and log it. */
void cfg_warn_(struct qmtl_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fill err; file may be NULL; line/col 1-based or 0. Returns -1. */
int cfg_fail_(struct cfg_error *err, const char *file, int line, int col, const char *key,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
