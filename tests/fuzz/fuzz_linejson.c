/* fuzz_linejson: the live-input line parser on arbitrary bytes. The first byte holds the
 * flags; the rest is one line. An accepted line must give valid tags, a timestamp that
 * agrees with its milliseconds, and a bar that passes datacheck_bar(); the parser must
 * read nothing past the line (ASan) and write only up to its spare byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/data/datacheck.h"
#include "host/host_api.h"
#include "host/data/linejson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0] & LINEJSON_ALLOW_NONPOSITIVE;
    size_t n = size - 1;
    char *line = malloc(n + 1); /* exactly one spare byte */
    if (!line)
        return 0;
    memcpy(line, data + 1, n);
    struct linejson_item it;
    char why[200];
    int rc = linejson_parse(line, n, flags, &it, why, sizeof(why));
    if (rc == 1) {
        char e[200];
        size_t nt;
        unsigned dc = flags ? DATACHECK_ALLOW_NONPOSITIVE : 0;
        if (host_check_tags(it.tags, &nt, e, sizeof(e)) || nt != it.n_tags ||
            datacheck_bar(&it.bar, dc, e, sizeof(e)) || it.ts < 0 ||
            it.ts_ms / 1000 != it.ts)
            __builtin_trap(); /* the parser promised otherwise */
    } else if (rc == -1 && !memchr(why, '\0', sizeof(why))) {
        __builtin_trap();
    }
    free(line);
    return 0;
}
