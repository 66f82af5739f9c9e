#include "numfmt.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Method: for a precision p, printf("%.*e") gives the correctly rounded p-digit decimal
 * nearest to the value; it reads back to the value iff it lies inside the value's rounding
 * interval. Because the (p+1)-digit grid contains the p-digit grid, "some p-digit decimal
 * round-trips" is monotonic in p, so the smallest such p is the shortest length; for
 * normal numbers it is found in at most three tries (see below), for subnormals by a
 * binary search over p = 1..17.
 * The rounding interval is symmetric except just above a power of two, where the gap below
 * is half the gap above; there the nearest p-digit decimal may fall below the interval
 * while the one above it is inside, so that candidate is tried too.
 */

struct cand {
    char digits[24]; /* significant digits, no dot */
    int nd;
    int exp10; /* decimal exponent of digits[0] */
};

/* Parse printf's "d.ddde+XX" (or "de+XX") into c. */
static void parse_sci(const char *s, struct cand *c)
{
    c->nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            c->digits[c->nd++] = *s;
    c->digits[c->nd] = '\0';
    c->exp10 = (*s == 'e') ? atoi(s + 1) : 0;
}

/* Text for strtod: "d.ddde<exp>" */
static void cand_text(const struct cand *c, char *buf, size_t len)
{
    if (c->nd == 1)
        snprintf(buf, len, "%ce%d", c->digits[0], c->exp10);
    else
        snprintf(buf, len, "%c.%se%d", c->digits[0], c->digits + 1, c->exp10);
}

static int cand_roundtrips(const struct cand *c, double a)
{
    char buf[48];
    cand_text(c, buf, sizeof(buf));
    double back = strtod(buf, NULL);
    return memcmp(&back, &a, sizeof(a)) == 0;
}

/* Add one unit in the last place (carry may lengthen to 10...0: renormalise). */
static void cand_increment(struct cand *c)
{
    int i = c->nd - 1;
    while (i >= 0 && c->digits[i] == '9') {
        c->digits[i] = '0';
        i--;
    }
    if (i >= 0) {
        c->digits[i]++;
        return;
    }
    /* all nines: 99..9 + 1 = 100..0 with the same digit count, exponent + 1 */
    c->digits[0] = '1';
    for (int k = 1; k < c->nd; k++)
        c->digits[k] = '0';
    c->exp10++;
}

static int is_pow2_boundary(double a)
{
    uint64_t bits;
    memcpy(&bits, &a, sizeof(bits));
    uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
    unsigned bexp = (unsigned)((bits >> 52) & 0x7ff);
    return mant == 0 && bexp > 1; /* the gap below is half the gap above */
}

/* Try precision p; on success fill *out and return 1. */
static int try_precision(double a, int p, int pow2, struct cand *out)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%.*e", p - 1, a);
    parse_sci(buf, out);
    if (cand_roundtrips(out, a))
        return 1;
    if (pow2) {
        struct cand up = *out;
        cand_increment(&up);
        if (cand_roundtrips(&up, a)) {
            *out = up;
            return 1;
        }
    }
    return 0;
}

static void strip_zeros(struct cand *c)
{
    while (c->nd > 1 && c->digits[c->nd - 1] == '0')
        c->nd--;
    c->digits[c->nd] = '\0';
}

int numfmt_shortest_digits(double v, char digits[20], int *exp10)
{
    if (!isfinite(v) || v == 0)
        return -1;
    double a = fabs(v);
    struct cand best;

    if (a < 9007199254740992.0 && a == floor(a)) {
        /* Integral below 2^53: the integer's own digits are exact and shortest (any shorter
         * decimal is off by at least 1, more than half a gap of at most 1). */
        char buf[24];
        snprintf(buf, sizeof(buf), "%.0f", a);
        best.nd = (int)strlen(buf);
        memcpy(best.digits, buf, (size_t)best.nd + 1);
        best.exp10 = best.nd - 1;
    } else if (a >= DBL_MIN) {
        /* Normal numbers: two different 15-digit decimals are further apart than the
         * value's rounding interval is wide (relative spacing > 1e-15 > 2^-52), so if a
         * 15-digit decimal reads back it is the only one, and every shorter string that
         * reads back is that one without trailing zeros. Otherwise the answer has 16 or
         * 17 digits (17 always reads back). */
        int pow2 = is_pow2_boundary(a);
        if (!try_precision(a, 15, pow2, &best) && !try_precision(a, 16, pow2, &best))
            try_precision(a, 17, pow2, &best);
    } else {
        /* Subnormals: the interval can hold many short decimals; binary search. */
        int pow2 = is_pow2_boundary(a);
        int lo = 1, hi = 17;
        struct cand c;
        int found = 0;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (try_precision(a, mid, pow2, &c)) {
                best = c;
                found = 1;
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if (!found)
            try_precision(a, lo, pow2, &best);
    }
    strip_zeros(&best);
    memcpy(digits, best.digits, (size_t)best.nd + 1);
    *exp10 = best.exp10;
    return best.nd;
}

int numfmt_double(double v, char *buf, size_t buflen)
{
    char out[NUMFMT_DOUBLE_MAX + 16];
    size_t n = 0;

    if (!isfinite(v))
        return -1;
    if (signbit(v))
        out[n++] = '-';
    if (v == 0) {
        memcpy(out + n, "0.0", 3);
        n += 3;
    } else {
        char d[20];
        int e;
        int nd = numfmt_shortest_digits(v, d, &e);
        if (e < -4 || e >= 16) {
            out[n++] = d[0];
            if (nd > 1) {
                out[n++] = '.';
                memcpy(out + n, d + 1, (size_t)nd - 1);
                n += (size_t)nd - 1;
            }
            n += (size_t)snprintf(out + n, sizeof(out) - n, "e%c%02d", e < 0 ? '-' : '+',
                                  e < 0 ? -e : e);
        } else if (e < 0) {
            out[n++] = '0';
            out[n++] = '.';
            for (int k = 0; k < -e - 1; k++)
                out[n++] = '0';
            memcpy(out + n, d, (size_t)nd);
            n += (size_t)nd;
        } else if (e + 1 >= nd) {
            memcpy(out + n, d, (size_t)nd);
            n += (size_t)nd;
            for (int k = 0; k < e + 1 - nd; k++)
                out[n++] = '0';
            out[n++] = '.';
            out[n++] = '0';
        } else {
            memcpy(out + n, d, (size_t)e + 1);
            n += (size_t)e + 1;
            out[n++] = '.';
            memcpy(out + n, d + e + 1, (size_t)(nd - e - 1));
            n += (size_t)(nd - e - 1);
        }
    }
    if (n + 1 > buflen)
        return -1;
    memcpy(buf, out, n);
    buf[n] = '\0';
    return (int)n;
}
