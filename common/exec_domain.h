/*
 * exec_domain: the one effective_mode -> execution domain table (DESIGN section 7), used
 * by the gateway (what /decide reports) and by the host (what an attached host runs in).
 *
 *   validate, compute-only, backtest (+ aliases)  -> backtest  (orders off)
 *   paper, papertrade, dryrun (+ aliases)          -> dryrun
 *   live, active, prod, production                 -> live
 *   shadow                                         -> shadow    (orders hard-blocked)
 *
 * Tokens are compared after dropping whitespace, '_' and '-' (case-insensitive); "a/b" or
 * "a:b" uses the first part. What to do with an unknown mode (backtest, with safe_mode on
 * the host) is the caller's decision: the table only says "unknown".
 */
#ifndef QMTL_COMMON_EXEC_DOMAIN_H
#define QMTL_COMMON_EXEC_DOMAIN_H

enum exec_domain { EXEC_BACKTEST = 0, EXEC_DRYRUN, EXEC_LIVE, EXEC_SHADOW };

/* "backtest", "dryrun", "live", "shadow" (static); anything else -> "backtest". */
const char *exec_domain_name(int domain);

/* effective_mode (or an execution_domain alias) -> enum exec_domain; -1 for NULL, empty,
 * "default" or an unknown token. */
int exec_mode_to_domain(const char *mode);

/* The modes a world or an activation is set to, spelled exactly (no alias): */
#define EXEC_WORLD_MODES "validate, compute-only, paper, live, shadow"
/* 1 when 'mode' is one of EXEC_WORLD_MODES, else 0 (NULL too). */
int exec_mode_is_world_mode(const char *mode);

#endif
