/*
 * bus_hold: the outputs a node computed here while the bus did not know yet whether to
 * publish them (between a hot reload's swap and the resubmission's answer, and between
 * a claim and the lease's answer), kept in order so the node's queue gets them when the
 * answer says "publish", or dropped when it says otherwise.
 *
 * Bounded: at most BUS_HOLD_MAX values and BUS_HOLD_MAX_BYTES of JSON text. An output
 * past either bound is refused and the hold is over (bus_hold_over): what it holds can
 * no longer go out without a gap, so the caller drops it all.
 *
 * Ownership: values are copied (JSON text too); a hold owns its copies. One thread (the
 * host's loop).
 */
#ifndef QMTL_HOST_BUS_HOLD_H
#define QMTL_HOST_BUS_HOLD_H

#include <qmtl/qmtl.h>

#include <stddef.h>
#include <stdint.h>

#define BUS_HOLD_MAX 4096
#define BUS_HOLD_MAX_BYTES (4u << 20)

struct bus_hold;

/* An empty hold; NULL when out of memory. */
struct bus_hold *bus_hold_new(void);

/* Keep output (ts, v), after the ones kept before. 0, or -1 when a bound is passed or
 * memory runs out: nothing kept, and the hold is over from then on. */
int bus_hold_add(struct bus_hold *h, int64_t ts, const struct qmtl_value *v);

/* 1 once an output was refused (bus_hold_add failed). */
int bus_hold_over(const struct bus_hold *h);

/* The number of outputs kept, and the i-th (0 = oldest); *v borrows the hold's copy. */
size_t bus_hold_count(const struct bus_hold *h);
void bus_hold_get(const struct bus_hold *h, size_t i, int64_t *ts, struct qmtl_value *v);

/* NULL is a no-op. */
void bus_hold_free(struct bus_hold *h);

#endif
