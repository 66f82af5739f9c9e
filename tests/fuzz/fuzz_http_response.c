/* libFuzzer target: the HTTP client's response parser (status line, headers,
 * Content-Length, chunked bodies, trailers). Nothing may crash or leak; a success must
 * give a NUL-terminated body of the reported length. */
#include "http_client.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct http_response r;
    const char *method = (size > 0 && data[0] == 'H') ? "HEAD" : "GET";
    int rc = http_parse_response((const char *)data, size, method, &r, err, sizeof(err));
    if (rc == 0) {
        if (!r.body || r.body[r.body_len] != '\0' || r.status < 100 || r.status > 999)
            abort();
    } else if (rc != HTTP_EMALFORMED || !err[0]) {
        abort();
    }
    http_response_release(&r);
    return 0;
}
