/* libFuzzer target: bus_decode (version 1) and bus_reader (versions 1 to 3) on arbitrary
 * bytes never crash or read out of bounds; a refusal always explains itself, and what
 * decodes re-encodes to the very same bytes. */
#include "bus_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of a decoded JSON value in *json (freed by the caller); 0 when
 * it cannot round-trip as text (an embedded NUL). */
static int own_json(struct bus_msg *m, char **json)
{
    *json = NULL;
    if (m->value.type != QMTL_T_JSON)
        return 1;
    *json = malloc(m->json_len + 1);
    if (!*json)
        abort();
    memcpy(*json, m->value.as.json, m->json_len);
    (*json)[m->json_len] = '\0';
    if (strlen(*json) != m->json_len)
        return 0;
    m->value.as.json = *json;
    return 1;
}

static void version_1(const uint8_t *data, size_t size)
{
    struct bus_msg m;
    char err[200] = "";
    if (bus_decode(data, size, &m, err, sizeof(err)) < 0) {
        if (!err[0])
            abort();
        return;
    }
    char *json;
    if (own_json(&m, &json)) {
        unsigned char *out = malloc(size);
        if (!out)
            abort();
        size_t n = bus_encode(m.node_id, m.ts, m.seq, &m.value, out, size, err, sizeof(err));
        if (n != size || memcmp(out, data, size) != 0)
            abort();
        free(out);
    }
    free(json);
}

static void reader(const uint8_t *data, size_t size)
{
    struct bus_reader r;
    char err[200] = "";
    if (bus_reader_open(&r, data, size, err, sizeof(err)) < 0) {
        if (!err[0])
            abort();
        return;
    }
    if (r.version == 1)
        return; /* version 1 is version_1()'s */
    unsigned char *out = malloc(size);
    if (!out)
        abort();
    size_t n = bus_batch_begin(r.node_id, r.first_seq, out, size, err, sizeof(err));
    if (!n)
        abort();
    struct bus_msg m;
    uint32_t k = 0;
    int exact = 1;
    while (bus_reader_next(&r, &m)) {
        if (strcmp(m.node_id, r.node_id) != 0 || m.seq != r.first_seq + k)
            abort();
        /* a version 3 state comes with the last output only */
        if ((m.state != NULL) != (r.version == 3 && k + 1 == r.count))
            abort();
        char *json;
        if (!own_json(&m, &json))
            exact = 0;
        else if (exact && !(n = bus_batch_add(out, n, size, m.ts, &m.value, err, sizeof(err))))
            abort();
        free(json);
        if (m.state && exact &&
            !(n = bus_batch_set_state(out, n, size, m.state, m.state_len, err, sizeof(err))))
            abort();
        k++;
    }
    if (k != r.count || (exact && (n != size || memcmp(out, data, size) != 0)))
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    version_1(data, size);
    reader(data, size);
    return 0;
}
