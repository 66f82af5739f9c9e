/* libFuzzer target: the qmtl.yml loader on arbitrary bytes must never crash or leak,
 * and must either succeed or fail with a message. */
#include "config.h"
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
    struct qmtl_config c;
    struct cfg_error err;
    int rc = config_load_string_noenv((const char *)data, size, "fuzz.yml", &c, &err);
    if (rc != 0 && err.msg[0] == '\0')
        abort(); /* every failure explains itself */
    if (rc == 0) {
        /* a loaded config is internally consistent */
        for (size_t i = 0; i < c.host.n_data; i++)
            if (c.host.data[i].n_tags == 0 ||
                (!c.host.data[i].path[0] == !c.host.data[i].synthetic[0]))
                abort();
        (void)config_budgets(&c);
    }
    config_release(&c);
    return 0;
}
