/* fuzz_csv: the CSV reader (header mapping, row parsing, timestamps) on arbitrary bytes.
 * The first byte picks skip or fail mode; the rest is the file. */
#include <stdint.h>
#include <stdio.h>

#include "host/csv.h"
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
    int fail = data[0] & 1;
    FILE *fp = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1, "rb");
    if (!fp)
        return 0;
    if (size == 1)
        fseek(fp, 0, SEEK_END); /* empty file */
    char err[512];
    struct csv_reader *r = csv_open_stream(fp, "fuzz.csv", fail, err, sizeof(err));
    if (r) {
        struct csv_row row;
        int64_t last = INT64_MIN;
        int rc;
        while ((rc = csv_next(r, &row, err, sizeof(err))) == 1) {
            if (row.ts < last || row.bar.high < row.bar.low || row.bar.volume < 0)
                __builtin_trap(); /* the reader promised otherwise */
            last = row.ts;
        }
        csv_close(r);
    }
    fclose(fp);
    return 0;
}
