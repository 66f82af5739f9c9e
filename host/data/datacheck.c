/* datacheck: the rules every input bar must pass (see datacheck.h). */
#include "host/data/datacheck.h"

#include <math.h>
#include <stdio.h>

int datacheck_bar(const struct qmtl_bar *b, unsigned flags, char *why, size_t whylen)
{
    const double px[4] = {b->close, b->open, b->high, b->low};
    static const char *const name[4] = {"close", "open", "high", "low"};
    for (int i = 0; i < 4; i++) {
        if (!isfinite(px[i])) {
            snprintf(why, whylen, "%s is not a finite number", name[i]);
            return -1;
        }
        if (px[i] <= 0 && !(flags & DATACHECK_ALLOW_NONPOSITIVE)) {
            snprintf(why, whylen, "non-positive %s %g (allow with --allow-nonpositive-prices)",
                     name[i], px[i]);
            return -1;
        }
    }
    if (b->high < b->low) {
        snprintf(why, whylen, "high %g below low %g", b->high, b->low);
        return -1;
    }
    if (!isfinite(b->volume)) {
        snprintf(why, whylen, "volume is not a finite number");
        return -1;
    }
    if (b->volume < 0) {
        snprintf(why, whylen, "negative volume %g", b->volume);
        return -1;
    }
    return 0;
}
