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

/*
 * Sides are position sides (DESIGN section 7): the long side holds long positions, the
 * short side short ones ([0] = QMTL_SIDE_BUY = long, [1] = QMTL_SIDE_SELL = short). An
 * order that reduces a long is a long-side order, whatever its direction; one that opens
 * or increases a short is a short-side order. A side passes:
 *
 *   side state                      opening / increasing     reducing (toward flat)
 *   unknown (no activation yet)     no                       no
 *   stale (control plane lost)      no                       no
 *   frozen                          no                       no
 *   draining                        no                       yes
 *   deactivated (active = 0)        no                       yes (weight 0: flatten)
 *   active                          yes (target * weight)    yes
 *
 * gate_clip(): the part of an order of signed quantity 'delta' that may leave, for a
 * position 'pos' (confirmed + open). The order splits at flat: its reducing part belongs
 * to the side of 'pos', the rest opens on the side of its direction (passing only when
 * the reducing part passed). Returns the signed quantity that passes (0: none) and, when
 * something was cut, *why (static text) for the first refusal. Domains other than dryrun
 * (1) and live (2) pass nothing ("domain does not send orders").
 */
double gate_clip(const struct gate *g, int domain, double pos, double delta, const char **why);

/* The target weight of 'side': the activation's weight clamped to [0, 1] when the side is
 * known, fresh, active and not frozen; else 1 (the gate decides; weight only scales an
 * active side). NaN reads as 0. */
double gate_weight(const struct gate *g, int side);

/* Whether 'side' is deactivated: known, fresh, not frozen, not active (its positions are
 * flattened). */
int gate_deactivated(const struct gate *g, int side);

#endif
