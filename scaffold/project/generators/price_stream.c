/* price_stream: one-minute bars of one symbol, bound to data by tag. */
#include "nodes.h"

qmtl_node price_stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                       const char *symbol, struct qmtl_err *err)
{
    const char *tags[] = {symbol, NULL};
    struct qmtl_stream_spec spec = {
        QMTL_SPEC(qmtl_stream_spec),
        .name = name,
        .tags = tags,
        .interval = "1m",
        .period = 1,
    };
    return h->stream_input(ctx, &spec, err);
}
