/*
 * linejson: one line of line-delimited JSON carrying a bar or a tick, as live inputs
 * receive it (docs/data.md, "Live inputs"):
 *
 *     {"tags":["BTC"],"ts":1704067200,"open":1,"high":2,"low":0.5,"close":1.5,"volume":10}
 *     {"tags":"BTC","ts":1704067200123,"price":1.5}
 *
 * One flat object. Keys: "tags" (a string or an array of 1..32 strings, each a valid
 * host tag: [A-Za-z0-9_.-], 1..100 characters, no duplicates), "ts" (epoch seconds or
 * milliseconds as a number, values >= 1e11 are milliseconds, fractions truncated to the
 * second; or an ISO-8601 string, exactly as CSV timestamps: host/data/csv.h), "close" or its
 * alias "price" (required), "open", "high", "low", "volume" (numbers; defaults as for CSV
 * rows: open = close, high = max(open, close), low = min(open, close), volume = 0).
 * A line with any of open/high/low is a bar, else a price tick (is_bar 0).
 * Anything else is refused with a reason: an unknown or repeated key, a value of the wrong
 * type, nan/inf (not JSON), an escape sequence in a string (no valid tag needs one), bytes
 * after the object. The bar then passes host/data/datacheck.h (the rules every feed applies).
 *
 * The parser never allocates: it works in place on the caller's line and its items point
 * into that line. It reads at most 'len' bytes (no NUL needed inside) and writes NULs in
 * the line, including at line[len]: the buffer must have one spare byte.
 */
#ifndef QMTL_HOST_LINEJSON_H
#define QMTL_HOST_LINEJSON_H

#include <stddef.h>
#include <stdint.h>

#include <qmtl/qmtl.h>

#define LINEJSON_MAX_TAGS 32

/* linejson_parse() flags */
#define LINEJSON_ALLOW_NONPOSITIVE 0x1u /* prices <= 0 pass (DATACHECK_ALLOW_NONPOSITIVE) */
#define LINEJSON_TAGS_OPTIONAL 0x2u     /* a line without "tags" passes with n_tags 0 (an input
                                           that has tags of its own: NATS subjects) */

struct linejson_item {
    const char *tags[LINEJSON_MAX_TAGS + 1]; /* borrowed: point into the line; NULL-ended */
    size_t n_tags;
    int64_t ts;          /* seconds since the epoch (UTC) */
    int64_t ts_ms;       /* the same in milliseconds (kept when the line had them) */
    struct qmtl_bar bar; /* always filled */
    int is_bar;          /* 1 when the line had open, high or low */
};

/*
 * Parse one line ('len' bytes, no newline; a trailing CR is ignored). 1 with *it filled,
 * 0 for a blank line (only spaces: not an error), -1 with the reason in why (one short
 * phrase without the line's text beyond 64 bytes of a field).
 */
int linejson_parse(char *line, size_t len, unsigned flags, struct linejson_item *it, char *why,
                   size_t whylen);

#endif
