/* Fuzz the WebSocket opening-handshake parsers: raw request heads (server side), response
 * heads (client side), header token lists and stream URLs. The first byte picks the parser. */
#include "ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    char err[256], accept[WS_ACCEPT_LEN + 1], target[128];
    int status = 0;
    if (mode == 0) {
        long r = ws_upgrade_parse_request(p, n, accept, target, sizeof(target), &status, err,
                                          sizeof(err));
        if (r > 0 && (size_t)r > n)
            abort();
        if (r > 0 && strlen(accept) != WS_ACCEPT_LEN)
            abort();
    } else if (mode == 1) {
        struct ws_http_head h;
        long r = ws_http_parse_head(p, n, 1, WS_MAX_HEAD_BYTES, &h, err, sizeof(err));
        if (r > 0) {
            if ((size_t)r > n)
                abort();
            ws_client_check_response(&h, "dGhlIHNhbXBsZSBub25jZQ==", err, sizeof(err));
            for (size_t i = 0; i < h.n_headers; i++)
                ws_header_has_token(h.headers[i].value, "upgrade");
            ws_http_head_release(&h);
        }
    } else {
        char *s = malloc(n + 1);
        if (!s)
            return 0;
        memcpy(s, p, n);
        s[n] = '\0';
        if (mode == 2) {
            char host[64], path[256];
            int port;
            ws_url_parse(s, host, sizeof(host), &port, path, sizeof(path), err, sizeof(err));
        } else {
            ws_header_has_token(s, "websocket");
            if (ws_key_valid(s) && ws_accept_for_key(s, accept) != 0)
                abort();
        }
        free(s);
    }
    return 0;
}
