/*
 * nodeid: node identity, byte-compatible with the Python reference system.
 *
 *   canonical form  node_type|interval|period|params_json|sorted_deps|schema_compat_id|code_hash
 *   NodeID          "blake3:" + hex(BLAKE3-256(canonical form))
 *   ComputeKey      "blake3:" + hex(BLAKE3-256(node_id, world, domain, as_of, partition
 *                   joined by 0x1f))
 *   CRC handshake   zlib CRC-32 running over the node ids' bytes, in DAG order
 *
 * params_json is the canonical JSON of common/canonjson.h (sorted keys, compact, raw UTF-8,
 * excluded keys dropped at every depth, shortest round-trip floats). For node_type
 * "TagQueryNode" the params are first replaced by
 * {"interval": <int>, "match_mode": "any"|"all", "query_tags": [sorted unique tags]}.
 * See docs/node-identity.md for every rule and where it comes from.
 *
 * BLAKE3 is the official C implementation; this module is the only one that includes
 * blake3.h. Every function here is thread-safe (no shared mutable state).
 */
#ifndef QMTL_COMMON_NODEID_H
#define QMTL_COMMON_NODEID_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define NODEID_LEN 71        /* "blake3:" + 64 hex chars */
#define NODEID_RETRY_LEN 135 /* "blake3:" + 128 hex chars (collision-retry ids) */

struct nodeid_fields {
    const char *node_type;   /* required, non-empty */
    int64_t interval;        /* seconds, 0 if none */
    int64_t period;          /* 0 if none */
    const json_t *params;    /* borrowed; NULL serializes as null */
    const char *const *deps; /* upstream node ids (any order; sorted for hashing);
                              * NULL and "" entries are skipped */
    size_t n_deps;
    const char *schema_compat_id; /* "" (or NULL) if none */
    const char *code_hash;        /* "" (or NULL) if none */
};

/*
 * Canonical text "node_type|interval|period|params|deps|compat|code" (malloc'd, caller
 * frees). NULL on failure with a message in err (e.g. NaN in params, missing node_type).
 * If len_out is not NULL it receives strlen of the result.
 */
char *nodeid_canonical(const struct nodeid_fields *f, char *err, size_t errlen);
char *nodeid_canonical_len(const struct nodeid_fields *f, size_t *len_out, char *err,
                           size_t errlen);

/* NodeID of the fields into out (NUL-terminated). 0, or -1 with err. */
int nodeid_compute(const struct nodeid_fields *f, char out[NODEID_LEN + 1], char *err,
                   size_t errlen);

/* NodeID of an already canonical byte string ("blake3:" + hex BLAKE3 of it). */
void nodeid_from_canonical(const char *canonical, size_t len, char out[NODEID_LEN + 1]);

/*
 * Same from a JSON node object shaped like tests/data/vectors/nodeid.json "node" entries
 * (node_type, interval, period, params|config, dependencies|inputs, schema_compat_id|schema_id,
 * code_hash). canonical_out may be NULL; else receives a malloc'd canonical string.
 * Field rules (as the reference): interval/period accept integers, integral strings and
 * reals (truncated), missing/null/false -> 0; "inputs" wins over "dependencies" when
 * non-empty; schema_compat_id falls back to schema_id (both set and different is an error);
 * params falls back to config when missing or null. Errors name the field:
 * "field 'interval': expected an integer, got \"1m\"".
 */
int nodeid_from_json(const json_t *node, char out[NODEID_LEN + 1], char **canonical_out, char *err,
                     size_t errlen);

/*
 * Collision retry (the reference's current rule): when the plain NodeID is already taken,
 * try n = 1, 2, ...: "blake3:" + hex of the first 64 bytes of BLAKE3 extended output over
 * canonical || "|collision:" || decimal(n). Retry ids are NODEID_RETRY_LEN characters.
 */
void nodeid_collision_id(const char *canonical, size_t len, unsigned long n,
                         char out[NODEID_RETRY_LEN + 1]);
/*
 * NodeID of f that is not in existing[0..n_existing): the plain id if free, else the first
 * free collision-retry id. out must hold NODEID_RETRY_LEN + 1 bytes. 0, or -1 with err.
 */
int nodeid_compute_retry(const struct nodeid_fields *f, const char *const *existing,
                         size_t n_existing, char out[NODEID_RETRY_LEN + 1], char *err,
                         size_t errlen);

/*
 * "blake3:" + hex BLAKE3 of node_id, world_id, domain, as_of, partition joined by 0x1f;
 * domain NULL, blank or "default" (any case, surrounding spaces ignored) becomes "backtest";
 * NULL node_id/world_id/as_of/partition = "". Returns 0.
 */
int nodeid_compute_key(const char *node_id, const char *world_id, const char *domain,
                       const char *as_of, const char *partition, char out[NODEID_LEN + 1]);

/* zlib-compatible CRC-32: crc32(0, buf, len) starts a new CRC; feed the result back to
 * continue. */
uint32_t nodeid_crc32(uint32_t crc, const void *buf, size_t len);
/* Running CRC over ids in order (NULL entries count as ""). Empty list -> 0. */
uint32_t nodeid_crc32_ids(const char *const *ids, size_t n);

/* Plain BLAKE3 helpers (nothing else in the project includes blake3.h). outlen may be any
 * length (extended output). */
void nodeid_blake3(const void *data, size_t len, uint8_t *out, size_t outlen);
void nodeid_blake3_hex(const void *data, size_t len, char out[65]); /* 32-byte digest as hex */

/* Incremental BLAKE3. _new returns NULL on allocation failure. _finalize does not change the
 * state (more input may follow). */
struct nodeid_hasher;
struct nodeid_hasher *nodeid_hasher_new(void);
void nodeid_hasher_update(struct nodeid_hasher *h, const void *data, size_t len);
void nodeid_hasher_finalize(const struct nodeid_hasher *h, uint8_t *out, size_t outlen);
void nodeid_hasher_reset(struct nodeid_hasher *h);
void nodeid_hasher_free(struct nodeid_hasher *h);

/* Lowercase hex of len bytes into out (2*len chars + NUL). */
void nodeid_hex(const uint8_t *bytes, size_t len, char *out);

#endif
