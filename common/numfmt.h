/*
 * numfmt: shortest round-trip text for doubles, laid out like the reference's float repr.
 *
 * The digits are the shortest decimal string that strtod() reads back to the same double
 * (when several of that length do, the one nearest the value). Layout, with E the decimal
 * exponent of the first digit:
 *   E < -4 or E >= 16   d[.ddd]e+XX / d[.ddd]e-XX (at least two exponent digits)
 *   otherwise           positional, ".0" appended to integral values
 * e.g. 60.0  0.1  0.0001  1e-05  1234567890123456.0  1e+16  5e-324  -0.0
 * NaN and infinities have no JSON form and are refused.
 */
#ifndef QMTL_COMMON_NUMFMT_H
#define QMTL_COMMON_NUMFMT_H

#include <stddef.h>

/* Longest output: "-2.2250738585072014e-308" (24 chars) + NUL fits easily. */
#define NUMFMT_DOUBLE_MAX 32

/*
 * Write v into buf (NUL-terminated). Returns the length, or -1 when v is NaN/infinite or
 * buf is smaller than needed (NUMFMT_DOUBLE_MAX is always enough).
 */
int numfmt_double(double v, char *buf, size_t buflen);

/*
 * The shortest round-trip significant digits of |v| (finite, non-zero): digits (no dot, no
 * trailing zeros, NUL-terminated, at most 17) and the decimal exponent of the first digit,
 * so |v| = 0.d1d2... * 10^(exp10 + 1). Returns the digit count, or -1 for 0/NaN/inf.
 */
int numfmt_shortest_digits(double v, char digits[20], int *exp10);

#endif
