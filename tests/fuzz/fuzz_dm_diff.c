/* libFuzzer target: the DAG manager's diff on arbitrary request bytes (an in-memory store
 * kept across runs) must never crash or leak; a failure always explains itself, and a
 * successful reply maps every node it was given. */
#include "dagmanager/dm_diff.h"
#include "dagmanager/dm_store.h"
#include "log.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(enum log_level level, const char *line, void *arg)
{
    (void)level;
    (void)line;
    (void)arg;
}

static void close_store(void);
static struct dm_store *store;

static void close_store(void)
{
    dm_store_close(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) {
        char err[256];
        log_set_sink(drop, NULL);
        store = dm_store_open(":memory:", err, sizeof(err));
        if (!store)
            abort();
        atexit(close_store);
    }
    json_t *rq = json_loadb((const char *)data, size, 0, NULL);
    if (!rq)
        return 0;
    json_t *reply = NULL;
    char err[512] = "";
    int rc = dm_diff(store, rq, &reply, NULL, err, sizeof(err));
    if (rc == 0) {
        json_t *qm = json_object_get(reply, "queue_map");
        if (!json_is_object(qm) || !json_is_integer(json_object_get(reply, "crc32")))
            abort();
        const char *k;
        json_t *v;
        json_object_foreach(qm, k, v) if (!json_is_string(json_object_get(json_array_get(v, 0),
                                                                          "queue"))) abort();
    } else if (!err[0] || reply) {
        abort();
    }
    json_decref(reply);
    json_decref(rq);
    return 0;
}
