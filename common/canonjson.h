/*
 * canonjson: the canonical JSON text of a node's params, as the reference hashes it
 * (Python json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) of the
 * params after excluded keys are dropped).
 *
 *   - object keys sorted by code point (= UTF-8 byte order), separators "," and ":"
 *   - strings raw UTF-8; escaped: \" \\ \n \r \t \b \f, other bytes < 0x20 as \u00XX
 *   - integers as integers; reals as the shortest round-trip text (common/numfmt.h)
 *   - NaN/infinite reals are refused (no valid JSON form)
 *   - with CANONJSON_EXCLUDE, object keys for which canonjson_key_excluded() is true are
 *     dropped at every depth
 */
#ifndef QMTL_COMMON_CANONJSON_H
#define QMTL_COMMON_CANONJSON_H

#include <jansson.h>
#include <stddef.h>

#define CANONJSON_EXCLUDE 1u /* drop the NodeID-excluded keys at every depth */
#define CANONJSON_MAX_DEPTH 512

/*
 * Canonical text of v (NULL serializes as "null"). Returns a malloc'd NUL-terminated string
 * (caller frees) and its length in *len_out (may be NULL), or NULL with a message in err
 * naming the offending place, e.g. "params.a[2]: NaN is not allowed in canonical JSON".
 * 'what' names the root in messages ("params"); NULL means "value".
 */
char *canonjson_dump(const json_t *v, unsigned flags, const char *what, size_t *len_out, char *err,
                     size_t errlen);

/*
 * True when a params key is left out of NodeIDs: world, world_id, world_ids,
 * execution_world, execution_domain, domain, domains, as_of, partition,
 * dataset_fingerprint, timestamp, seed, random_state, env, or any key starting with env_,
 * compared case-insensitively.
 */
int canonjson_key_excluded(const char *key);

/* Append the JSON string literal of s[0..len) (quotes included) escaped as above.
 * Helper for callers that assemble JSON text; returns 0 or -1 on allocation failure.
 * *buf is realloc'd, *len and *cap track it. */
int canonjson_append_string(char **buf, size_t *len, size_t *cap, const char *s, size_t slen);

#endif
