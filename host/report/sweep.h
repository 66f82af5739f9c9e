/*
 * sweep: parameter grids for 'qmtl run --sweep STRATEGY.KEY=v1,v2,...'.
 *
 * Each --sweep names one axis; several axes of one strategy form a grid (every
 * combination, the last axis varying fastest). A swept strategy is loaded once per set,
 * into the same host, under the instance name "STRATEGY[k1=v1,k2=v2]" with those
 * parameters (on top of the strategy's other parameters), so the data is read once and
 * every node the sets share is computed once.
 *
 * Values: 1..64 characters of [A-Za-z0-9_.+-]; at most SWEEP_MAX_SETS sets per strategy.
 */
#ifndef QMTL_HOST_SWEEP_H
#define QMTL_HOST_SWEEP_H

#include <stddef.h>

#define SWEEP_MAX_SETS 10000

struct sweep_axis {
    char *strategy, *key;
    char **values;
    size_t n;
};

struct sweep {
    struct sweep_axis *ax;
    size_t n;
};

/* Add one axis from "STRATEGY.KEY=v1,v2,..." (the key follows the last '.' before '=').
 * 0, or -1 with err (the message names the argument and what is wrong). */
int sweep_add(struct sweep *s, const char *arg, char *err, size_t errlen);

/* Number of parameter sets of 'strategy' (0 when it is not swept). */
size_t sweep_count(const struct sweep *s, const char *strategy);

/*
 * Set number 'idx' (< sweep_count) of 'strategy': its instance name into name, and for
 * k = 0..*n_kv-1 the swept key and value (borrowed from s). keys/vals hold s->n entries.
 * 0, or -1 when the name does not fit.
 */
int sweep_set(const struct sweep *s, const char *strategy, size_t idx, char *name, size_t namelen,
              const char **keys, const char **vals, size_t *n_kv);

/* Is 'strategy.key' swept? */
int sweep_has_key(const struct sweep *s, const char *strategy, const char *key);

void sweep_release(struct sweep *s);

/* Split "STRATEGY.KEY=VALUE" (also used by --param): heap copies, 0 or -1 with err. */
int sweep_split_kv(const char *arg, char **strategy, char **key, char **value, char *err,
                   size_t errlen);

#endif
