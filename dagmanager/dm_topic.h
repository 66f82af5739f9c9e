/*
 * dm_topic: queue (topic) names of the DAG manager.
 *
 *   "{world}.{domain}.{asset}_{node_type}_{code_hash[:n]}_{version}"
 *
 * The "{world}.{domain}." prefix is used only when both sanitized segments are non-empty.
 * n starts at 6 and grows by 2 while the name is taken; once the whole hash is used, a
 * suffix "-k" (1 <= k <= DM_TOPIC_MAX_SUFFIX) is appended: k doubles until free, then
 * bisects, which finds the smallest free k when suffixes were handed out in order. Pure functions,
 * no allocation except the name returned by dm_topic_pick(). See docs/dagmanager.md.
 */
#ifndef QMTL_DAGMANAGER_DM_TOPIC_H
#define QMTL_DAGMANAGER_DM_TOPIC_H

#include <stddef.h>

#define DM_TOPIC_MAX_SUFFIX 10000

/* Each writes a NUL-terminated result into out (truncated to outlen). */
/* world/domain: lowercase, [a-z0-9_-] kept, everything else -> '-', '-'/'_' trimmed. */
void dm_sanitize_segment(const char *in, char *out, size_t outlen);
/* First tag lowercased, filtered to [a-z0-9_-]; "any" when that is empty or no tag. */
void dm_asset_name(const char *first_tag, char *out, size_t outlen);
/* [A-Za-z0-9._-] kept, others -> '-', then '-', '_', '.' trimmed; "v1" when empty. */
void dm_normalize_version(const char *in, char *out, size_t outlen);
/* Execution domain aliases -> backtest|dryrun|live|shadow (unknown or empty: backtest). */
const char *dm_normalize_domain(const char *in);

/* Pick the topic for a new queue; exists() answers 1 taken, 0 free, <0 error.
 * Returns a malloc'd name, or NULL (error, or no free suffix found). */
typedef int (*dm_topic_exists_fn)(const char *topic, void *arg);
char *dm_topic_pick(const char *world, const char *domain, const char *first_tag,
                    const char *node_type, const char *code_hash, const char *version,
                    dm_topic_exists_fn exists, void *arg);

#endif
