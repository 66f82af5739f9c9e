/* libFuzzer target: the gateway's request body parsers (StrategySubmit DAG decoding and
 * node identity verification, activation requests, policies) and the connection guard's
 * incremental request-head parser. Nothing may crash or leak; the guard must reach the
 * same verdict whatever the read boundaries. */
#include "gateway/gw_routes.h"
#include "log.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(enum log_level level, const char *line, void *arg)
{
    (void)level;
    (void)line;
    (void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        log_set_sink(drop, NULL);
        init = 1;
    }
    char err[256];
    /* the guard: small limits so the fuzzer reaches them */
    size_t chunk = size ? (size_t)data[0] % 17 + 1 : 1;
    int whole = gw_guard_simulate(256, 64, (const char *)data, size, 0);
    int split = gw_guard_simulate(256, 64, (const char *)data, size, chunk);
    if (whole != split || whole < 0)
        abort();
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!j)
        return 0;
    /* a StrategySubmit body */
    json_t *dag = gw_strategy_decode_dag(json_object_get(j, "dag_json"), err, sizeof(err));
    if (dag) {
        json_t *detail = NULL;
        int code = gw_strategy_verify(dag, json_object_get(j, "node_ids_crc32"), &detail);
        if (code != 0 && !json_is_string(json_object_get(detail, "code")))
            abort();
        if (code == 0 && detail)
            abort();
        json_decref(detail);
        json_decref(dag);
    } else if (!err[0]) {
        abort();
    }
    /* the same bytes as the DAG itself */
    if (json_is_object(j)) {
        json_t *detail = NULL;
        gw_strategy_verify(j, json_object_get(j, "crc"), &detail);
        json_decref(detail);
    }
    err[0] = '\0';
    if (gw_activation_validate(j, err, sizeof(err)) < 0 && !err[0])
        abort();
    err[0] = '\0';
    if (gw_policy_validate(json_object_get(j, "policy"), err, sizeof(err)) < 0 && !err[0])
        abort();
    json_decref(j);
    return 0;
}
