/* fuzz_csv: the CSV reader (header mapping, row parsing, timestamps) on arbitrary bytes.
 * The first byte holds the csv_open() flags; the rest is the file. Every row returned
 * must pass datacheck_bar() and, unless CSV_ANY_ORDER, come in time order. */
#include <stdint.h>
#include <stdio.h>

#include "host/data/csv.h"
#include "host/data/datacheck.h"
#include "log.h"

static void quiet(enum log_level level, const char *line, void *arg)
{
    (void)level;
    (void)line;
    (void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    log_set_sink(quiet, NULL);
    unsigned flags = data[0] & (CSV_FAIL_ON_ERROR | CSV_ALLOW_NONPOSITIVE | CSV_ANY_ORDER);
    FILE *fp = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1, "rb");
    if (!fp)
        return 0;
    if (size == 1)
        fseek(fp, 0, SEEK_END); /* empty file */
    char err[512];
    struct csv_reader *r = csv_open_stream(fp, "fuzz.csv", flags, err, sizeof(err));
    if (r) {
        struct csv_row row;
        int64_t last = INT64_MIN;
        int rc;
        while ((rc = csv_next(r, &row, err, sizeof(err))) == 1) {
            char why[160];
            unsigned dc = flags & CSV_ALLOW_NONPOSITIVE ? DATACHECK_ALLOW_NONPOSITIVE : 0;
            if ((row.ts < last && !(flags & CSV_ANY_ORDER)) ||
                datacheck_bar(&row.bar, dc, why, sizeof(why)) != 0)
                __builtin_trap(); /* the reader promised otherwise */
            last = row.ts;
        }
        csv_close(r);
    }
    fclose(fp);
    return 0;
}
