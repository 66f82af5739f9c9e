/*
 * gate: may an order of a strategy leave the host? (DESIGN section 7)
 *
 * Closed by default. An order on a side passes only when the activation of that side is
 * known and not stale, active, not frozen and not draining, and the domain is dryrun or
 * live. Backtest orders never leave the process (they go to the simulated broker; the
 * gate is not asked). Activation updates carry ts, etag and run_id: an update older than
 * the one held (smaller ts), or the same (ts, etag, run_id) again, changes nothing.
 */
#ifndef QMTL_HOST_GATE_H
#define QMTL_HOST_GATE_H

#include <qmtl/qmtl.h>

struct gate_side {
    int known;
    struct qmtl_activation a; /* a.etag, a.run_id, a.domain point into the arrays below */
    char etag[96];
    char run_id[96];
    char domain[16];
};

struct gate {
    struct gate_side side[2]; /* [0] buy, [1] sell */
};

void gate_init(struct gate *g);
/* 1 applied, 0 ignored (older or repeated), -1 invalid (side not +-1). */
int gate_update(struct gate *g, const struct qmtl_activation *a);
/* Every side becomes stale (e.g. the control plane was lost): the gate closes until the
 * next update. */
void gate_mark_stale(struct gate *g);
/* The activation of 'side' into *out: QMTL_OK, or QMTL_ENOENT when unknown. */
int gate_get(const struct gate *g, int side, struct qmtl_activation *out);
/* 1 when an order on 'side' may leave in 'domain' (enum host_domain values: 0 backtest,
 * 1 dryrun, 2 live); else 0 and *why (static text). */
int gate_allows(const struct gate *g, int domain, int side, const char **why);

#endif
