#include "host/data/csv.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char tmpdir[256];

static void setup_tmp(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_csv.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Write 'text' to a fresh file in tmpdir; returns its path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

static int64_t ts_of(const char *s)
{
    int64_t t = -1;
    const char *why = NULL;
    ck_assert_msg(csv_parse_timestamp(s, &t, &why) == 0, "'%s' rejected: %s", s, why);
    return t;
}

static void ts_bad(const char *s)
{
    int64_t t;
    const char *why = NULL;
    ck_assert_msg(csv_parse_timestamp(s, &t, &why) == -1, "'%s' accepted", s);
    ck_assert_ptr_nonnull(why);
}

START_TEST(test_timestamp_iso)
{
    ck_assert_int_eq(ts_of("2024-01-02T03:04:05Z"), 1704164645);
    ck_assert_int_eq(ts_of("2024-01-02T03:04:05Z"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-01-02T03:04:05.999Z"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-01-02T03:04:05+00:00"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-01-02T03:04:05.5+00:00"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-01-02T03:04:05"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-01-02 03:04:05"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-01-02T03:04Z"), utc(2024, 1, 2, 3, 4, 0));
    ck_assert_int_eq(ts_of("2024-01-02"), utc(2024, 1, 2, 0, 0, 0));
    ck_assert_int_eq(ts_of("2024-01-02T05:04:05+02:00"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-01-01T22:04:05-0500"), utc(2024, 1, 2, 3, 4, 5));
    ck_assert_int_eq(ts_of("2024-02-29T00:00:00Z"), utc(2024, 2, 29, 0, 0, 0));
    ck_assert_int_eq(ts_of("1970-01-01T00:00:00Z"), 0);
    ts_bad("2023-02-29T00:00:00Z");
    ts_bad("2024-13-01T00:00:00Z");
    ts_bad("2024-00-10");
    ts_bad("2024-01-32");
    ts_bad("2024-01-02T24:00:00Z");
    ts_bad("2024-01-02T03:60:00Z");
    ts_bad("2024-01-02T03:04:61Z");
    ts_bad("2024-01-02T03:04:05.Z");
    ts_bad("2024-01-02T03:04:05Zjunk");
    ts_bad("2024-01-02T03:04:05+25:00");
    ts_bad("1969-12-31T23:59:59Z");
    ts_bad("2024/01/02 03:04:05");
}
END_TEST

START_TEST(test_timestamp_epoch)
{
    ck_assert_int_eq(ts_of("1704164645"), 1704164645);
    ck_assert_int_eq(ts_of("1704164645.75"), 1704164645);
    ck_assert_int_eq(ts_of("1704164645123"), 1704164645); /* milliseconds by magnitude */
    ck_assert_int_eq(ts_of("1704164645999.5"), 1704164645);
    ck_assert_int_eq(ts_of("99999999999"), 99999999999LL); /* just below 1e11: seconds */
    ck_assert_int_eq(ts_of("100000000000"), 100000000);    /* 1e11: milliseconds */
    ck_assert_int_eq(ts_of("0"), 0);
    ts_bad("");
    ts_bad("-5");
    ts_bad("12abc");
    ts_bad("1.2.3");
    ts_bad("1e9");
    ts_bad("12345678901234567890123");
}
END_TEST

START_TEST(test_days_from_civil_matches_timegm)
{
    for (int y = 1970; y <= 2200; y += 3)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 28; d += 9)
                ck_assert_int_eq(csv_days_from_civil(y, m, d) * 86400, utc(y, m, d, 0, 0, 0));
    ck_assert_int_eq(csv_days_from_civil(2000, 3, 1) - csv_days_from_civil(2000, 2, 28), 2);
    ck_assert_int_eq(csv_days_from_civil(1900, 3, 1) - csv_days_from_civil(1900, 2, 28), 1);
}
END_TEST

START_TEST(test_sample_file)
{
    char err[512];
    struct csv_reader *r = csv_open("tests/data/sample_ohlcv.csv", 1, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(csv_has_ohlc(r), 1);
    static const double want[5][5] = {{100, 105, 95, 102, 1000},
                                      {102, 108, 101, 106, 1100},
                                      {106, 109, 104, 108, 1200},
                                      {108, 112, 107, 111, 1300},
                                      {111, 115, 110, 114, 900}};
    struct csv_row row;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
        ck_assert_int_eq(row.ts, utc(2024, 1, 1 + i, 0, 0, 0));
        ck_assert_int_eq(row.line, i + 2);
        ck_assert(row.bar.open == want[i][0]);
        ck_assert(row.bar.high == want[i][1]);
        ck_assert(row.bar.low == want[i][2]);
        ck_assert(row.bar.close == want[i][3]);
        ck_assert(row.bar.volume == want[i][4]);
    }
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 0);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 0);
    ck_assert_int_eq(csv_skipped(r), 0);
    csv_close(r);
}
END_TEST

/* Mixed case names, price synonym, extra columns, quotes, CRLF, blank line, epoch s/ms. */
START_TEST(test_price_only_quotes_crlf)
{
    char err[512];
    struct csv_reader *r = csv_open("tests/data/price_only.csv", 1, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(csv_has_ohlc(r), 0);
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(row.ts, 1704067200);
    ck_assert(row.bar.close == 10.5 && row.bar.open == 10.5 && row.bar.high == 10.5 &&
              row.bar.low == 10.5 && row.bar.volume == 0);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(row.ts, 1704067260);
    ck_assert(row.bar.close == 10.75);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(row.ts, 1704067320);
    ck_assert(row.bar.close == 11);
    ck_assert_int_eq(row.line, 5); /* the blank line 4 is skipped but counted */
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 0);
    csv_close(r);
}
END_TEST

START_TEST(test_bom_and_no_trailing_newline)
{
    char err[512];
    const char *p = write_file("bom.csv", "\xef\xbb\xbfTimeStamp , CLOSE\n1000,1\n2000,2");
    struct csv_reader *r = csv_open(p, 1, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(row.ts, 1000);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(row.ts, 2000);
    ck_assert(row.bar.close == 2);
    ck_assert_int_eq(row.line, 3);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 0);
    csv_close(r);
}
END_TEST

START_TEST(test_header_errors)
{
    char err[512];
    ck_assert_ptr_null(csv_open(write_file("empty.csv", ""), 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "empty.csv': empty file") != NULL, "%s", err);
    ck_assert_ptr_null(csv_open(write_file("blank.csv", "\n  \n\n"), 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "empty file") != NULL, "%s", err);
    ck_assert_ptr_null(
        csv_open(write_file("noclose.csv", "timestamp,open,volume\n1,2,3\n"), 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "noclose.csv:1: no close column") != NULL, "%s", err);
    ck_assert_ptr_null(csv_open(write_file("nots.csv", "when,close\n1,2\n"), 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "nots.csv:1: no timestamp column") != NULL, "%s", err);
    ck_assert_ptr_null(
        csv_open(write_file("dup.csv", "ts,close,Close\n1,2,3\n"), 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "duplicate column 'Close'") != NULL, "%s", err);
    ck_assert_ptr_null(csv_open(write_file("quote.csv", "ts,\"close\n1,2\n"), 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "unclosed quote") != NULL, "%s", err);
    ck_assert_ptr_null(csv_open("tests/data/does-not-exist.csv", 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "cannot open 'tests/data/does-not-exist.csv'") != NULL, "%s", err);
    ck_assert_ptr_null(csv_open(tmpdir, 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "Is a directory") != NULL, "%s", err);
    /* a header and no rows: a valid, empty series */
    struct csv_reader *h =
        csv_open(write_file("hdr.csv", "timestamp,close\n"), 1, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    struct csv_row hrow;
    ck_assert_int_eq(csv_next(h, &hrow, err, sizeof(err)), 0);
    csv_close(h);
    /* close preferred over price when both exist */
    struct csv_reader *r =
        csv_open(write_file("both.csv", "price,ts,close\n5,1,7\n"), 1, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert(row.bar.close == 7);
    csv_close(r);
}
END_TEST

START_TEST(test_malformed_fail)
{
    char err[512];
    struct csv_reader *r = csv_open("tests/data/malformed.csv", 1, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "tests/data/malformed.csv:3: bad close 'abc'");
    csv_close(r);
}
END_TEST

static int warnings;
static char last_warning[512];
static void capture(enum log_level level, const char *line, void *arg)
{
    (void)arg;
    if (level == LOG_LEVEL_WARN) {
        warnings++;
        snprintf(last_warning, sizeof(last_warning), "%s", line);
    }
}

START_TEST(test_malformed_skip)
{
    char err[512];
    warnings = 0;
    log_set_sink(capture, NULL);
    struct csv_reader *r = csv_open("tests/data/malformed.csv", 0, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    struct csv_row row;
    double closes[8];
    long lines[8];
    int n = 0, rc;
    while ((rc = csv_next(r, &row, err, sizeof(err))) == 1) {
        ck_assert_int_lt(n, 8);
        closes[n] = row.bar.close;
        lines[n++] = row.line;
    }
    ck_assert_int_eq(rc, 0);
    /* line 3: bad close, line 4: missing field, line 6: goes back in time */
    ck_assert_int_eq(n, 3);
    ck_assert(closes[0] == 1.5 && closes[1] == 1.7 && closes[2] == 1.9);
    ck_assert_int_eq(lines[0], 2);
    ck_assert_int_eq(lines[1], 5);
    ck_assert_int_eq(lines[2], 7);
    ck_assert_int_eq(csv_skipped(r), 3);
    ck_assert_int_eq(warnings, 3);
    ck_assert_msg(strstr(last_warning, "malformed.csv:6: timestamp") != NULL, "%s", last_warning);
    ck_assert_msg(strstr(last_warning, "goes back in time") != NULL, "%s", last_warning);
    log_set_sink(NULL, NULL);
    csv_close(r);
}
END_TEST

START_TEST(test_row_errors)
{
    static const struct {
        const char *row;
        const char *msg;
    } cases[] = {
        {"1,2", "expected 3 fields, found 2"},
        {"1,2,3,4", "expected 3 fields, found 4"},
        {"x,2,3", "bad timestamp 'x'"},
        {",2,3", "bad timestamp '': empty timestamp"},
        {"1,,3", "bad close ''"},
        {"1,nan,3", "bad close 'nan'"},
        {"1,inf,3", "bad close 'inf'"},
        {"1,2,-3", "negative volume"},
        {"1,2x,3", "bad close '2x'"},
        {"1,\"2,3", "unclosed quote"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[128], err[512];
        snprintf(text, sizeof(text), "ts,close,volume\n%s\n", cases[i].row);
        struct csv_reader *r = csv_open(write_file("row.csv", text), 1, err, sizeof(err));
        ck_assert_msg(r != NULL, "%s", err);
        struct csv_row row;
        ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, "row.csv:2: ") != NULL, "%s", err);
        ck_assert_msg(strstr(err, cases[i].msg) != NULL, "case '%s': %s", cases[i].row, err);
        csv_close(r);
    }
    char err[512];
    struct csv_reader *r =
        csv_open(write_file("hl.csv", "ts,high,low,close\n1,1,2,1.5\n"), 1, err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "hl.csv:2: high 1 below low 2") != NULL, "%s", err);
    csv_close(r);
    /* empty optional fields take their defaults; equal timestamps pass */
    r = csv_open(write_file("opt.csv", "ts,open,high,low,close,volume\n5,,,,3,\n5,2,4,1,3,7\n"), 1,
                 err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert(row.bar.open == 3 && row.bar.high == 3 && row.bar.low == 3 && row.bar.volume == 0);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert(row.bar.open == 2 && row.bar.high == 4 && row.bar.low == 1 && row.bar.volume == 7);
    csv_close(r);
}
END_TEST

/* Many rows across many buffer refills: every row comes back, in order, exactly. */
START_TEST(test_large_streamed)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/big.csv", tmpdir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "timestamp,open,high,low,close,volume\n");
    const long n = 200000;
    double sum = 0;
    for (long i = 0; i < n; i++) {
        double c = 100.0 + (double)(i % 1000) / 8.0;
        sum += c;
        fprintf(fp, "%ld,%.3f,%.3f,%.3f,%.3f,%ld\n", 1600000000L + i * 60, c, c + 1, c - 1, c, i);
    }
    fclose(fp);
    char err[512];
    struct csv_reader *r = csv_open(path, 1, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    struct csv_row row;
    long k = 0;
    double got = 0;
    while (csv_next(r, &row, err, sizeof(err)) == 1) {
        ck_assert_int_eq(row.ts, 1600000000L + k * 60);
        ck_assert(row.bar.volume == (double)k);
        got += row.bar.close;
        k++;
    }
    ck_assert_int_eq(k, n);
    ck_assert(got == sum);
    csv_close(r);
}
END_TEST

START_TEST(test_long_lines)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/long.csv", tmpdir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "ts,note,close\n1,");
    for (int i = 0; i < 600000; i++)
        fputc('x', fp);
    fprintf(fp, ",4\n2,");
    for (int i = 0; i < 1100000; i++)
        fputc('y', fp);
    fprintf(fp, ",5\n");
    fclose(fp);
    char err[512];
    struct csv_reader *r = csv_open(path, 1, err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert(row.bar.close == 4);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "long.csv:3: line longer than") != NULL, "%s", err);
    csv_close(r);
}
END_TEST

START_TEST(test_stream_open)
{
    static const char text[] = "ts,close\n10,1\n20,2\n";
    FILE *fp = fmemopen((void *)text, sizeof(text) - 1, "rb");
    ck_assert_ptr_nonnull(fp);
    char err[512];
    struct csv_reader *r = csv_open_stream(fp, "<mem>", 1, err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(csv_name(r), "<mem>");
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(row.ts, 20);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 0);
    csv_close(r);
    fclose(fp);
}
END_TEST

/* Every number read equals what strtod makes of the same text, bit for bit. */
START_TEST(test_numbers_match_strtod)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/nums.csv", tmpdir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "ts,close\n");
    enum { N = 30000 };
    static char text[N][48];
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int digits = 1 + (int)(x % 19), point = (int)((x >> 8) % (uint64_t)(digits + 1));
        char *p = text[i];
        if ((x >> 20) & 1)
            *p++ = '-';
        uint64_t y = x;
        for (int d = 0; d < digits; d++) {
            if (d == point && d > 0)
                *p++ = '.';
            *p++ = (char)('0' + (y % 10));
            y = y / 10 ? y / 10 : x >> 3;
        }
        if (i % 7 == 0)
            p += sprintf(p, "e%d", (int)((x >> 30) % 40) - 20);
        *p = '\0';
        fprintf(fp, "%d,%s\n", i, text[i]);
    }
    fclose(fp);
    char err[512];
    /* signs and zeros too: this is about number parsing, not the price rules */
    struct csv_reader *r = csv_open(path, CSV_FAIL_ON_ERROR | CSV_ALLOW_NONPOSITIVE, err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    struct csv_row row;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
        double want = strtod(text[i], NULL);
        ck_assert_msg(memcmp(&row.bar.close, &want, sizeof(want)) == 0, "'%s': %.17g vs %.17g",
                      text[i], row.bar.close, want);
    }
    csv_close(r);
}
END_TEST

/* The shapes the fast path takes or leaves to strtod, at their edges: each is read as
 * strtod reads the whole text (bit for bit), or refused when strtod would not take it all
 * or gives no finite number. */
START_TEST(test_number_edges)
{
    static const char *const text[] = {
        ".5", "5.", "-.5", "+.5", "-0", "+0", "0.", "-0.0", "007", "1.25", "+1.25",
        "123456789012345", "1234567890123456", "12345678901234567890123", "0.000000000000001",
        "0.0000000000000000000001", "0.00000000000000000000001", "9007199254740993",
        "1.7976931348623157e308", "1e400", "1e5", "1E-3", "0x10", "inf", "nan", "",
        ".", "-", "+", "-.", "1.2.3", "1..2", " 1", "1 ", "1,5", "--1", "+-1", "12a"};
    for (size_t i = 0; i < sizeof(text) / sizeof(*text); i++) {
        char *end;
        double want = strtod(text[i], &end);
        int ok = *text[i] && end != text[i] && !*end && isfinite(want);
        double got = -12345;
        int rc = csv_parse_number(text[i], &got);
        ck_assert_msg(rc == (ok ? 0 : -1), "'%s': rc %d", text[i], rc);
        if (ok)
            ck_assert_msg(memcmp(&got, &want, sizeof(got)) == 0, "'%s': %.17g vs %.17g", text[i],
                          got, want);
    }
}
END_TEST

/* Write raw bytes (NULs included) to a fresh file in tmpdir; returns its path. */
static const char *write_bytes(const char *name, const char *bytes, size_t n)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
    return path;
}

/* "10\0garbage" must not read as 10, in either mode. */
START_TEST(test_nul_bytes)
{
    static const char text[] = "ts,close\n1,10\n2,10\0garbage\n3,11\n";
    char err[512];
    struct csv_row row;
    struct csv_reader *r =
        csv_open(write_bytes("nul.csv", text, sizeof(text) - 1), CSV_FAIL_ON_ERROR, err,
                 sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "nul.csv:3: NUL byte in the row") != NULL, "%s", err);
    csv_close(r);
    r = csv_open(write_bytes("nul.csv", text, sizeof(text) - 1), 0, err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert(row.bar.close == 10 && row.line == 2);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert(row.bar.close == 11 && row.line == 4);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 0);
    ck_assert_int_eq(csv_skipped(r), 1);
    csv_close(r);
    static const char hdr[] = "ts,clo\0se\n1,2\n";
    ck_assert_ptr_null(csv_open(write_bytes("nulh.csv", hdr, sizeof(hdr) - 1), 0, err, sizeof(err)));
    ck_assert_msg(strstr(err, "nulh.csv:1: NUL byte in the header") != NULL, "%s", err);
}
END_TEST

/* Prices must be positive (unless allowed) and consistent; the rules of host/data/datacheck. */
START_TEST(test_price_rules)
{
    static const struct {
        const char *row;
        const char *msg; /* NULL: accepted with CSV_ALLOW_NONPOSITIVE */
    } cases[] = {
        {"1,0,1,0,0,1", "non-positive close 0"},
        {"1,1,1,-2,-1,1", "non-positive close -1"},
        {"1,-1,1,-2,0.5,1", "non-positive open -1"},
        {"1,1,1,2,1.5,1", "high 1 below low 2"},
        {"1,1,2,0.5,1,-3", "negative volume -3"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[128], err[512];
        struct csv_row row;
        snprintf(text, sizeof(text), "ts,open,high,low,close,volume\n%s\n", cases[i].row);
        struct csv_reader *r = csv_open(write_file("px.csv", text), CSV_FAIL_ON_ERROR, err,
                                        sizeof(err));
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, "px.csv:2: ") && strstr(err, cases[i].msg), "case '%s': %s",
                      cases[i].row, err);
        csv_close(r);
        /* allowing non-positive prices lifts the sign rule only */
        r = csv_open(write_file("px.csv", text), CSV_FAIL_ON_ERROR | CSV_ALLOW_NONPOSITIVE, err,
                     sizeof(err));
        ck_assert_ptr_nonnull(r);
        int want = strstr(cases[i].msg, "non-positive") ? 1 : -1;
        ck_assert_msg(csv_next(r, &row, err, sizeof(err)) == want, "case '%s' allowed: %s",
                      cases[i].row, err);
        csv_close(r);
    }
    /* a price-only series: the close is the only price */
    char err[512];
    struct csv_row row;
    struct csv_reader *r =
        csv_open(write_file("p.csv", "ts,price\n1,5\n2,-5\n3,6\n"), 0, err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert(row.bar.close == 6);
    ck_assert_int_eq(csv_skipped(r), 1);
    csv_close(r);
}
END_TEST

/* Return every row's timestamp: n rows, or -1 with err. */
static int read_ts(const char *text, unsigned flags, int64_t *ts, int max, char *err, size_t len)
{
    struct csv_reader *r = csv_open(write_file("order.csv", text), flags, err, len);
    ck_assert_msg(r != NULL, "%s", err);
    struct csv_row row;
    int n = 0, rc;
    while ((rc = csv_next(r, &row, err, len)) == 1) {
        ck_assert_int_lt(n, max);
        ts[n++] = row.ts;
    }
    csv_close(r);
    return rc < 0 ? -1 : n;
}

START_TEST(test_newest_first)
{
    char err[512];
    int64_t ts[8];
    /* newest first: refused in one line whatever the error mode */
    for (unsigned f = 0; f <= CSV_FAIL_ON_ERROR; f++) {
        ck_assert_int_eq(read_ts("ts,close\n30,1\n20,1\n10,1\n5,1\n", f, ts, 8, err, sizeof(err)),
                         -1);
        ck_assert_msg(strstr(err, "order.csv: rows are sorted newest first (line 3 is older than "
                                  "line 2)") != NULL,
                      "%s", err);
        ck_assert_msg(strstr(err, "--sort") != NULL, "%s", err);
        /* two rows, the second older */
        ck_assert_int_eq(read_ts("ts,close\n30,1\n20,1\n", f, ts, 8, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, "sorted newest first") != NULL, "%s", err);
    }
    /* refused before the first row is returned */
    struct csv_reader *r = csv_open(write_file("d.csv", "ts,close\n3,1\n2,1\n1,1\n"), 0, err,
                                    sizeof(err));
    ck_assert_ptr_nonnull(r);
    struct csv_row row;
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
    csv_close(r);
    /* a bad row met while reading ahead still fails where it stands (after row 1) */
    r = csv_open(write_file("d.csv", "ts,close\n3,1\nx,1\n4,1\n"), CSV_FAIL_ON_ERROR, err,
                 sizeof(err));
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), 1);
    ck_assert_int_eq(row.ts, 3);
    ck_assert_int_eq(csv_next(r, &row, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "d.csv:3: bad timestamp 'x'") != NULL, "%s", err);
    csv_close(r);
    /* one row out of place at the start is a row error, not a newest-first file; the row
     * read ahead to tell them apart is still returned */
    ck_assert_int_eq(read_ts("ts,close\n20,1\n10,1\n30,1\n40,1\n", 0, ts, 8, err, sizeof(err)), 3);
    ck_assert(ts[0] == 20 && ts[1] == 30 && ts[2] == 40);
    ck_assert_int_eq(
        read_ts("ts,close\n20,1\n10,1\n30,1\n", CSV_FAIL_ON_ERROR, ts, 8, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "order.csv:3: timestamp 10 goes back in time") != NULL, "%s", err);
    /* going back later in the file is a row error too */
    ck_assert_int_eq(read_ts("ts,close\n10,1\n20,1\n15,1\n5,1\n", 0, ts, 8, err, sizeof(err)), 2);
    /* CSV_ANY_ORDER: every row, in file order */
    ck_assert_int_eq(
        read_ts("ts,close\n30,1\n20,1\n10,1\n", CSV_ANY_ORDER | CSV_FAIL_ON_ERROR, ts, 8, err,
                sizeof(err)),
        3);
    ck_assert(ts[0] == 30 && ts[1] == 20 && ts[2] == 10);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_timestamp_iso);
    tcase_add_test(tc, test_timestamp_epoch);
    tcase_add_test(tc, test_days_from_civil_matches_timegm);
    tcase_add_test(tc, test_sample_file);
    tcase_add_test(tc, test_price_only_quotes_crlf);
    tcase_add_test(tc, test_bom_and_no_trailing_newline);
    tcase_add_test(tc, test_header_errors);
    tcase_add_test(tc, test_malformed_fail);
    tcase_add_test(tc, test_malformed_skip);
    tcase_add_test(tc, test_row_errors);
    tcase_add_test(tc, test_large_streamed);
    tcase_add_test(tc, test_long_lines);
    tcase_add_test(tc, test_stream_open);
    tcase_add_test(tc, test_numbers_match_strtod);
    tcase_add_test(tc, test_number_edges);
    tcase_add_test(tc, test_nul_bytes);
    tcase_add_test(tc, test_price_rules);
    tcase_add_test(tc, test_newest_first);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(csv_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
