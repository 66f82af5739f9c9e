/*
 * feed: a time-ordered merge of data sources (CSV files and seeded synthetic
 * generators) into one stream of events for the offline runner.
 *
 * Every source carries the tags it is bound to (stream inputs match them). Events
 * come out in timestamp order; events with equal timestamps come out in the order
 * their sources were added (stable). CSV files are streamed, never read whole.
 *
 *     struct feed *f = feed_new();
 *     const char *tags[] = {"BTC"};
 *     if (feed_add_csv(f, "btc.csv", tags, 1, 60, FEED_FAIL_ON_ERROR, err, sizeof(err)) < 0) ...
 *     struct feed_event ev;
 *     int rc;
 *     while ((rc = feed_next(f, &ev, err, sizeof(err))) == 1) ...
 *     if (rc < 0) ... // err holds "file:line: reason"
 *     feed_free(f);
 *
 * Not thread-safe: one feed is used by one thread.
 */
#ifndef QMTL_HOST_FEED_H
#define QMTL_HOST_FEED_H

#include <stddef.h>
#include <stdint.h>

#include <qmtl/qmtl.h>

/* One data event. Every pointer is borrowed and stays valid for the feed's life. */
struct feed_event {
    int64_t ts;              /* seconds since the epoch (UTC) */
    const char *const *tags; /* the source's tags (n_tags of them, then a NULL) */
    size_t n_tags;
    int is_bar;          /* 1: the source has OHLC(V) columns; 0: a price/close series only */
    struct qmtl_bar bar; /* always filled: a price-only row has open = high = low = close */
    double value;        /* the close (or price) */
    const char *source;  /* file path, or "synthetic:gbm" / "synthetic:random_walk" */
    long line;           /* CSV line number (1-based), or the bar index (0-based) */
    int64_t interval_s;  /* the source's declared interval (0 if not given) */
    size_t source_index; /* order in which the source was added, from 0 */
};

enum feed_synth_kind { FEED_SYNTH_RANDOM_WALK = 0, FEED_SYNTH_GBM = 1 };

/*
 * A seeded synthetic source (see docs/data.md for the exact model).
 * drift and volatility are per day (volatility per square root of a day) and are
 * scaled to the bar interval: dt = interval_s / 86400.
 *  - gbm:          close' = close * exp((drift - volatility^2/2) dt + volatility sqrt(dt) Z)
 *  - random_walk:  close' = close + start_price * (drift dt + volatility sqrt(dt) Z),
 *                  floored at start_price * 1e-4
 * open = previous close, high/low spread around open/close, volume lognormal.
 * The same spec gives the same bars on every run.
 */
struct feed_synth {
    const char *const *tags; /* copied */
    size_t n_tags;           /* >= 1 */
    int kind;                /* enum feed_synth_kind */
    int64_t interval_s;      /* 1..31536000 (one year) */
    long count;              /* number of bars, >= 0 */
    double start_price;      /* > 0 */
    double drift;            /* per day */
    double volatility;       /* per sqrt(day), >= 0 */
    uint64_t seed;
    int64_t start_ts; /* timestamp of the first bar (seconds) */
};

/* "gbm" or "random_walk" (also "random-walk", "rw"); case-insensitive. -1 if unknown. */
int feed_synth_kind_parse(const char *name);
const char *feed_synth_kind_name(int kind);

struct feed;

/* An empty feed; NULL only when out of memory. */
struct feed *feed_new(void);

/* feed_add_csv() flags */
#define FEED_FAIL_ON_ERROR 0x1u     /* a bad row fails the feed instead of being skipped */
#define FEED_ALLOW_NONPOSITIVE 0x2u /* prices <= 0 pass (see host/data/datacheck.h) */
#define FEED_SORT 0x4u              /* read the whole file and sort it by time (stable) */

/* Most rows FEED_SORT holds in memory (about 56 bytes each). */
#define FEED_SORT_MAX_ROWS 20000000L

/*
 * Add a CSV OHLCV file (format: docs/data.md). The header is read and checked now
 * (missing file, empty file, no timestamp or close column fail here, with the path in
 * the message); rows are read lazily by feed_next(). 'tags' are copied. interval_s is
 * the declared bar interval (0 = unknown), reported in events. With FEED_FAIL_ON_ERROR a
 * malformed, refused (host/data/datacheck.h) or out-of-order row makes feed_next() fail with
 * "file:line: reason"; otherwise such rows are skipped, counted and logged (the first
 * few per file). A file sorted newest first always fails (csv.h), unless FEED_SORT: then
 * the first feed_next() reads every row and sorts them by timestamp, equal timestamps in
 * file order. Returns 0 or -1 with err set.
 */
int feed_add_csv(struct feed *f, const char *path, const char *const *tags, size_t n_tags,
                 int64_t interval_s, unsigned flags, char *err, size_t errlen);

/* Add a synthetic source. 0 or -1 with err set (invalid spec). Its bars pass the same
 * checks as every input (host/data/datacheck.h); a refused bar fails the feed. */
int feed_add_synthetic(struct feed *f, const struct feed_synth *spec, char *err, size_t errlen);

/*
 * The next event in timestamp order: 1 and *ev filled, 0 at the end of every source,
 * -1 with err set (a row error in fail mode, a read error). After -1 the feed stays
 * failed and keeps returning -1.
 */
int feed_next(struct feed *f, struct feed_event *ev, char *err, size_t errlen);

struct cfg_data_source;
/*
 * Add one configured data source (host.data[] or a parsed --data argument): synthetic
 * when ds->synthetic is set, else the CSV file ds->path (relative paths are taken from
 * base_dir when it is non-empty; the path used is written to path_out when non-NULL).
 * ds->sort and ds->allow_nonpositive_prices add FEED_SORT / FEED_ALLOW_NONPOSITIVE to
 * 'flags'. 0 or -1 with err set.
 */
int feed_add_source(struct feed *f, const struct cfg_data_source *ds, const char *base_dir,
                    unsigned flags, char *path_out, size_t path_len, char *err, size_t errlen);

/* Rows skipped so far (malformed or out of order) over every CSV source. */
long feed_skipped_rows(const struct feed *f);

/* Number of sources added. */
size_t feed_source_count(const struct feed *f);

/* NULL is a no-op. */
void feed_free(struct feed *f);

#endif
