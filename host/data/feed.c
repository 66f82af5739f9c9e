#include "host/data/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "host/data/csv.h"
#include "host/data/datacheck.h"
#include "host/data/synth.h"

enum src_kind { SRC_CSV, SRC_SYNTH };

struct feed_source {
    int kind;
    char **tags; /* n_tags + NULL */
    size_t n_tags;
    char *name;
    int64_t interval_s;
    struct csv_reader *csv;
    int sort;              /* FEED_SORT: rows[] is read and sorted at the first fill */
    struct csv_row *rows;  /* sorted rows, next one at rows[next] */
    size_t n_rows, next;
    struct synth_gen gen;
    int is_bar;
    /* the source's next event, valid when 'ready' */
    int ready, done;
    int64_t ts;
    struct qmtl_bar bar;
    long line;
};

struct feed {
    struct feed_source **src;
    size_t n_src, cap_src;
    size_t *heap; /* source indices ordered by (ts, index) */
    size_t n_heap;
    int started;
    int failed;
    char fail_msg[512];
    size_t last; /* source of the event returned last (refilled on the next call) */
    int have_last;
};

int feed_synth_kind_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcasecmp(name, "gbm") == 0)
        return FEED_SYNTH_GBM;
    if (strcasecmp(name, "random_walk") == 0 || strcasecmp(name, "random-walk") == 0 ||
        strcasecmp(name, "rw") == 0)
        return FEED_SYNTH_RANDOM_WALK;
    return -1;
}

const char *feed_synth_kind_name(int kind)
{
    return kind == FEED_SYNTH_GBM ? "gbm" : kind == FEED_SYNTH_RANDOM_WALK ? "random_walk" : "?";
}

struct feed *feed_new(void)
{
    return calloc(1, sizeof(struct feed));
}

static void source_free(struct feed_source *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_tags; i++)
        free(s->tags[i]);
    free(s->tags);
    free(s->name);
    csv_close(s->csv);
    free(s->rows);
    free(s);
}

static struct feed_source *source_new(struct feed *f, const char *name, const char *const *tags,
                                      size_t n_tags, char *err, size_t errlen)
{
    if (f->started) {
        snprintf(err, errlen, "source '%s': cannot add a source after reading started", name);
        return NULL;
    }
    if (!tags || n_tags == 0) {
        snprintf(err, errlen, "source '%s': at least one tag is required", name);
        return NULL;
    }
    for (size_t i = 0; i < n_tags; i++) {
        if (!tags[i] || !*tags[i]) {
            snprintf(err, errlen, "source '%s': tag %zu is empty", name, i + 1);
            return NULL;
        }
    }
    struct feed_source *s = calloc(1, sizeof(*s));
    if (!s)
        goto oom;
    if (!(s->name = strdup(name)) || !(s->tags = calloc(n_tags + 1, sizeof(char *))))
        goto oom;
    for (size_t i = 0; i < n_tags; i++) {
        if (!(s->tags[i] = strdup(tags[i])))
            goto oom;
        s->n_tags++;
    }
    if (f->n_src == f->cap_src) {
        size_t ncap = f->cap_src ? f->cap_src * 2 : 4;
        struct feed_source **ns = realloc(f->src, ncap * sizeof(*ns));
        if (!ns)
            goto oom;
        f->src = ns;
        f->cap_src = ncap;
    }
    return s;
oom:
    snprintf(err, errlen, "source '%s': out of memory", name);
    source_free(s);
    return NULL;
}

int feed_add_csv(struct feed *f, const char *path, const char *const *tags, size_t n_tags,
                 int64_t interval_s, unsigned flags, char *err, size_t errlen)
{
    if (interval_s < 0) {
        snprintf(err, errlen, "source '%s': negative interval", path);
        return -1;
    }
    struct feed_source *s = source_new(f, path, tags, n_tags, err, errlen);
    if (!s)
        return -1;
    s->kind = SRC_CSV;
    s->interval_s = interval_s;
    s->sort = (flags & FEED_SORT) != 0;
    unsigned cf = (flags & FEED_FAIL_ON_ERROR ? CSV_FAIL_ON_ERROR : 0) |
                  (flags & FEED_ALLOW_NONPOSITIVE ? CSV_ALLOW_NONPOSITIVE : 0) |
                  (s->sort ? CSV_ANY_ORDER : 0);
    s->csv = csv_open(path, cf, err, errlen);
    if (!s->csv) {
        source_free(s);
        return -1;
    }
    s->is_bar = csv_has_ohlc(s->csv);
    f->src[f->n_src++] = s;
    return 0;
}

int feed_add_synthetic(struct feed *f, const struct feed_synth *spec, char *err, size_t errlen)
{
    char name[64];
    snprintf(name, sizeof(name), "synthetic:%s", feed_synth_kind_name(spec->kind));
    struct synth_gen gen;
    int kind = spec->kind == FEED_SYNTH_GBM           ? SYNTH_GBM
               : spec->kind == FEED_SYNTH_RANDOM_WALK ? SYNTH_RANDOM_WALK
                                                      : -1;
    if (synth_gen_init(&gen, kind, spec->interval_s, spec->count, spec->start_price, spec->drift,
                       spec->volatility, spec->seed, spec->start_ts, err, errlen) < 0)
        return -1;
    struct feed_source *s = source_new(f, name, spec->tags, spec->n_tags, err, errlen);
    if (!s)
        return -1;
    s->kind = SRC_SYNTH;
    s->gen = gen;
    s->interval_s = spec->interval_s;
    s->is_bar = 1;
    f->src[f->n_src++] = s;
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    const struct csv_row *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line); /* file order: a stable sort */
}

/* FEED_SORT: read every row of the file and sort them. 0 or -1 with err. */
static int source_sort(struct feed_source *s, char *err, size_t errlen)
{
    size_t cap = 0;
    struct csv_row row;
    int rc;
    while ((rc = csv_next(s->csv, &row, err, errlen)) == 1) {
        if (s->n_rows == cap) {
            if (cap >= (size_t)FEED_SORT_MAX_ROWS) {
                snprintf(err, errlen,
                         "'%s': more than %ld rows to sort in memory; sort the file instead",
                         s->name, FEED_SORT_MAX_ROWS);
                return -1;
            }
            size_t ncap = cap ? cap * 2 : 1024;
            struct csv_row *nr = realloc(s->rows, ncap * sizeof(*nr));
            if (!nr) {
                snprintf(err, errlen, "'%s': out of memory sorting the rows", s->name);
                return -1;
            }
            s->rows = nr;
            cap = ncap;
        }
        s->rows[s->n_rows++] = row;
    }
    if (rc < 0)
        return -1;
    if (s->n_rows)
        qsort(s->rows, s->n_rows, sizeof(*s->rows), row_cmp);
    s->sort = 0;
    return 0;
}

/* Load the source's next event: 1, 0 when exhausted, -1 with err. */
static int source_fill(struct feed_source *s, char *err, size_t errlen)
{
    s->ready = 0;
    if (s->done)
        return 0;
    int rc;
    if (s->kind == SRC_CSV) {
        struct csv_row row;
        if (s->sort && source_sort(s, err, errlen) < 0)
            return -1;
        if (s->rows) {
            rc = s->next < s->n_rows;
            if (rc)
                row = s->rows[s->next++];
        } else {
            rc = csv_next(s->csv, &row, err, errlen);
        }
        if (rc == 1) {
            s->ts = row.ts;
            s->bar = row.bar;
            s->line = row.line;
        }
    } else {
        s->line = s->gen.index;
        rc = synth_gen_next(&s->gen, &s->ts, &s->bar);
        char why[160];
        if (rc == 1 && datacheck_bar(&s->bar, 0, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: bar %ld: %s", s->name, s->line, why);
            return -1;
        }
    }
    if (rc == 1)
        s->ready = 1;
    else if (rc == 0)
        s->done = 1;
    return rc;
}

static int heap_less(const struct feed *f, size_t a, size_t b)
{
    const struct feed_source *x = f->src[a], *y = f->src[b];
    return x->ts < y->ts || (x->ts == y->ts && a < b);
}

static void heap_push(struct feed *f, size_t idx)
{
    size_t i = f->n_heap++;
    f->heap[i] = idx;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(f, f->heap[i], f->heap[p]))
            break;
        size_t t = f->heap[i];
        f->heap[i] = f->heap[p];
        f->heap[p] = t;
        i = p;
    }
}

static size_t heap_pop(struct feed *f)
{
    size_t top = f->heap[0];
    f->heap[0] = f->heap[--f->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < f->n_heap && heap_less(f, f->heap[l], f->heap[m]))
            m = l;
        if (r < f->n_heap && heap_less(f, f->heap[r], f->heap[m]))
            m = r;
        if (m == i)
            break;
        size_t t = f->heap[i];
        f->heap[i] = f->heap[m];
        f->heap[m] = t;
        i = m;
    }
    return top;
}

/* The error text is already in f->fail_msg: the feed stays failed. */
static int fail(struct feed *f, char *err, size_t errlen)
{
    f->failed = 1;
    if (err && errlen)
        snprintf(err, errlen, "%s", f->fail_msg);
    return -1;
}

int feed_next(struct feed *f, struct feed_event *ev, char *err, size_t errlen)
{
    if (f->failed)
        return fail(f, err, errlen);
    if (!f->started) {
        f->started = 1;
        if (f->n_src && !(f->heap = malloc(f->n_src * sizeof(*f->heap)))) {
            snprintf(f->fail_msg, sizeof(f->fail_msg), "feed: out of memory");
            return fail(f, err, errlen);
        }
        for (size_t i = 0; i < f->n_src; i++) {
            int rc = source_fill(f->src[i], f->fail_msg, sizeof(f->fail_msg));
            if (rc < 0)
                return fail(f, err, errlen);
            if (rc == 1)
                heap_push(f, i);
        }
    } else if (f->have_last) {
        f->have_last = 0;
        int rc = source_fill(f->src[f->last], f->fail_msg, sizeof(f->fail_msg));
        if (rc < 0)
            return fail(f, err, errlen);
        if (rc == 1)
            heap_push(f, f->last);
    }
    if (f->n_heap == 0)
        return 0;
    size_t idx = heap_pop(f);
    const struct feed_source *s = f->src[idx];
    ev->ts = s->ts;
    ev->tags = (const char *const *)s->tags;
    ev->n_tags = s->n_tags;
    ev->is_bar = s->is_bar;
    ev->bar = s->bar;
    ev->value = s->bar.close;
    ev->source = s->name;
    ev->line = s->line;
    ev->interval_s = s->interval_s;
    ev->source_index = idx;
    f->last = idx;
    f->have_last = 1;
    return 1;
}

long feed_skipped_rows(const struct feed *f)
{
    long n = 0;
    for (size_t i = 0; i < f->n_src; i++)
        if (f->src[i]->csv)
            n += csv_skipped(f->src[i]->csv);
    return n;
}

size_t feed_source_count(const struct feed *f)
{
    return f->n_src;
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_src; i++)
        source_free(f->src[i]);
    free(f->src);
    free(f->heap);
    free(f);
}

int feed_add_source(struct feed *f, const struct cfg_data_source *ds, const char *base_dir,
                    unsigned flags, char *path_out, size_t path_len, char *err, size_t errlen)
{
    if (ds->sort)
        flags |= FEED_SORT;
    if (ds->allow_nonpositive_prices)
        flags |= FEED_ALLOW_NONPOSITIVE;
    const char *const *tags = (const char *const *)ds->tags;
    if (ds->synthetic && *ds->synthetic) {
        int kind = feed_synth_kind_parse(ds->synthetic);
        if (kind < 0) {
            snprintf(err, errlen, "data: unknown synthetic kind '%s' (gbm or random_walk)",
                     ds->synthetic);
            return -1;
        }
        struct feed_synth sp = {
            .tags = tags,
            .n_tags = ds->n_tags,
            .kind = kind,
            .interval_s = ds->interval_s,
            .count = ds->count,
            .start_price = ds->start_price,
            .drift = ds->drift,
            .volatility = ds->volatility,
            .seed = ds->seed,
            .start_ts = ds->start_ts,
        };
        return feed_add_synthetic(f, &sp, err, errlen);
    }
    char path[4096];
    if (ds->path && ds->path[0] != '/' && base_dir && *base_dir)
        snprintf(path, sizeof(path), "%s/%s", base_dir, ds->path);
    else
        snprintf(path, sizeof(path), "%s", ds->path ? ds->path : "");
    if (path_out)
        snprintf(path_out, path_len, "%s", path);
    return feed_add_csv(f, path, tags, ds->n_tags, ds->interval_s, flags, err, errlen);
}
