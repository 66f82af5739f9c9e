/* libFuzzer target: bus_decode on arbitrary bytes never crashes or reads out of bounds; a
 * refusal always explains itself, and what decodes re-encodes to the very same bytes. */
#include "bus_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bus_msg m;
    char err[200] = "";
    if (bus_decode(data, size, &m, err, sizeof(err)) < 0) {
        if (!err[0])
            abort();
        return 0;
    }
    /* JSON borrows from 'data' without a NUL: copy it before re-encoding. */
    char *json = NULL;
    if (m.value.type == QMTL_T_JSON) {
        json = malloc(m.json_len + 1);
        if (!json)
            return 0;
        memcpy(json, m.value.as.json, m.json_len);
        json[m.json_len] = '\0';
        if (strlen(json) != m.json_len) { /* an embedded NUL cannot round-trip as text */
            free(json);
            return 0;
        }
        m.value.as.json = json;
    }
    unsigned char *out = malloc(size);
    if (!out)
        abort();
    size_t n = bus_encode(m.node_id, m.ts, m.seq, &m.value, out, size, err, sizeof(err));
    if (n != size || memcmp(out, data, size) != 0)
        abort();
    free(out);
    free(json);
    return 0;
}
