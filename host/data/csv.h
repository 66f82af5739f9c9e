/*
 * csv: a streaming reader of CSV OHLCV files (format: docs/data.md).
 *
 * The header row names the columns (case-insensitive, extra columns ignored):
 * timestamp|time|date|ts|datetime (required), open, high, low, close|price (required),
 * volume. Timestamps are ISO-8601 (UTC, 'Z' or an offset) or epoch seconds or epoch
 * milliseconds (values >= 1e11 are milliseconds). Rows are read through a bounded
 * buffer; the file is never loaded whole.
 *
 * Row errors (malformed field, wrong field count, a NUL byte, a bar refused by
 * datacheck_bar(): non-positive or non-finite prices, high < low, negative volume...,
 * timestamp going backwards) read "path:line: reason". With CSV_FAIL_ON_ERROR csv_next()
 * returns -1 with that text; otherwise the row is skipped, counted, and the first few per
 * file are logged. Rows with a timestamp equal to the previous one are passed on (the
 * runtime applies its duplicate policy).
 *
 * A file sorted newest first (its second and third rows each older than the one before,
 * or a second and last row older than the first) is refused whatever the error mode,
 * before its first row is returned: one error naming the file and suggesting --sort. To
 * tell, csv_next() reads two rows ahead of the first one (a row error met there in fail
 * mode is returned where it stands, after the rows before it). CSV_ANY_ORDER turns every order check off
 * (for a caller that sorts the rows itself).
 */
#ifndef QMTL_HOST_CSV_H
#define QMTL_HOST_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <qmtl/qmtl.h>

struct csv_row {
    int64_t ts;          /* seconds since the epoch, UTC */
    struct qmtl_bar bar; /* missing open/high/low default to close, missing volume to 0 */
    long line;           /* 1-based line number in the file */
};

struct csv_reader;

/* csv_open() flags */
#define CSV_FAIL_ON_ERROR 0x1u     /* a bad row fails csv_next() instead of being skipped */
#define CSV_ALLOW_NONPOSITIVE 0x2u /* prices <= 0 pass (DATACHECK_ALLOW_NONPOSITIVE) */
#define CSV_ANY_ORDER 0x4u         /* no time-order checks: the caller sorts */

/* Open 'path' and read its header. NULL with err set ("cannot open 'x': ...",
 * "'x': empty file", "'x': no close column ..."). */
struct csv_reader *csv_open(const char *path, unsigned flags, char *err, size_t errlen);

/* The same over an open stream (not closed by csv_close); 'name' is used in messages. */
struct csv_reader *csv_open_stream(FILE *fp, const char *name, unsigned flags, char *err,
                                   size_t errlen);

/*
 * A reader fed one line at a time by the caller (a file followed as it grows, see
 * host/data/live_follow.h): no order checks, no counting, no logging (the caller does those).
 * The first non-blank line fed is the header. NULL when out of memory.
 */
struct csv_reader *csv_lines_new(const char *name, unsigned flags);
/* Feed one line: 'line' holds 'len' bytes without the newline (a trailing CR is dropped)
 * and must have room for a NUL at line[len]; it is modified. lineno is used in messages.
 * 1 with *row (a data row), 0 (the header, or a blank line), -1 with the reason in err
 * (a bad header: the next line is tried as the header; a bad row). */
int csv_lines_feed(struct csv_reader *r, char *line, size_t len, long lineno, struct csv_row *row,
                   char *err, size_t errlen);
/* Forget the header: the next line fed is a header again (the file was rotated). */
void csv_lines_reset(struct csv_reader *r);

/* Next row: 1 with *row set, 0 at end of file, -1 with err set. */
int csv_next(struct csv_reader *r, struct csv_row *row, char *err, size_t errlen);

/* 1 when the file has any of the open/high/low columns. */
int csv_has_ohlc(const struct csv_reader *r);
/* Rows skipped so far. */
long csv_skipped(const struct csv_reader *r);
const char *csv_name(const struct csv_reader *r);

/* NULL is a no-op. */
void csv_close(struct csv_reader *r);

/*
 * Parse one timestamp field: ISO-8601 "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM]"
 * or an epoch number in seconds or milliseconds (>= 1e11). Fractions are truncated
 * to the second. 0 and *out, or -1 with a short reason in *why (static text).
 */
int csv_parse_timestamp(const char *s, int64_t *out, const char **why);

/* Parse a decimal number as strtod reads it (an exact fast path for plain decimals); nan,
 * inf and trailing characters are refused. 0 and *out, or -1. */
int csv_parse_number(const char *s, double *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t csv_days_from_civil(int64_t y, int m, int d);

#endif
