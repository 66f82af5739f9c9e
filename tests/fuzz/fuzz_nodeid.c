/* Fuzz the node identity input path: JSON node(s) -> canonical form and NodeID, the
 * canonical params serializer, and shortest double formatting (must read back exactly). */
#include "canonjson.h"
#include "nodeid.h"
#include "numfmt.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* every 8-byte window as a double */
    for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
        double d;
        char buf[NUMFMT_DOUBLE_MAX];
        memcpy(&d, data + i, 8);
        if (numfmt_double(d, buf, sizeof(buf)) > 0) {
            double back = strtod(buf, NULL);
            if (memcmp(&back, &d, 8) != 0)
                abort();
        } else if (isfinite(d)) {
            abort();
        }
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
    if (!root)
        return 0;
    char id[NODEID_LEN + 1], err[256], *canon = NULL;
    if (json_is_array(root)) {
        for (size_t i = 0; i < json_array_size(root) && i < 16; i++) {
            if (nodeid_from_json(json_array_get(root, i), id, &canon, err, sizeof(err)) == 0) {
                if (strlen(id) != NODEID_LEN)
                    abort();
                free(canon);
            }
        }
    } else if (nodeid_from_json(root, id, &canon, err, sizeof(err)) == 0) {
        char again[NODEID_LEN + 1];
        nodeid_from_canonical(canon, strlen(canon), again);
        if (strcmp(id, again) != 0)
            abort();
        free(canon);
    }
    size_t len;
    char *s = canonjson_dump(root, CANONJSON_EXCLUDE, "params", &len, err, sizeof(err));
    free(s);
    json_decref(root);
    return 0;
}
