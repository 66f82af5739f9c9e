/* ws_handshake: the pure (I/O-free) parts of the WebSocket opening handshake. */
#include "ws.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ws_accept_for_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
             EVP_DigestUpdate(ctx, key, strlen(key)) &&
             EVP_DigestUpdate(ctx, WS_GUID, sizeof(WS_GUID) - 1) &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == SHA_DIGEST_LENGTH;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
    out[WS_ACCEPT_LEN] = '\0';
    return 0;
}

static int b64_char(unsigned char c)
{
    return isalnum(c) || c == '+' || c == '/';
}

int ws_key_valid(const char *key)
{
    if (!key || strlen(key) != WS_KEY_LEN || key[22] != '=' || key[23] != '=')
        return 0;
    for (int i = 0; i < 22; i++)
        if (!b64_char((unsigned char)key[i]))
            return 0;
    /* the last character before the padding carries 2 bits: its low 4 must be zero */
    return strchr("AQgw", key[21]) != NULL;
}

int ws_make_client_key(char out[WS_KEY_LEN + 1])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw));
    out[WS_KEY_LEN] = '\0';
    return 0;
}

int ws_header_has_token(const char *value, const char *token)
{
    if (!value || !token)
        return 0;
    size_t tl = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
            return 1;
    }
    return 0;
}

static int is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

void ws_http_head_release(struct ws_http_head *h)
{
    if (!h)
        return;
    free(h->buf);
    memset(h, 0, sizeof(*h));
}

const char *ws_http_head_get(const struct ws_http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (strcasecmp(h->headers[i].name, name) == 0)
            return h->headers[i].value;
    return NULL;
}

static int parse_version(const char *s, int *minor)
{
    if (strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != '\0')
        return -1;
    *minor = s[7] - '0';
    return 0;
}

static int parse_start_line(char *line, struct ws_http_head *h, char *err, size_t errlen)
{
    char *sp1 = strchr(line, ' ');
    if (!sp1) {
        snprintf(err, errlen, "malformed HTTP start line");
        return -1;
    }
    *sp1 = '\0';
    if (h->is_response) {
        if (parse_version(line, &h->minor) != 0) {
            snprintf(err, errlen, "malformed HTTP version in status line");
            return -1;
        }
        char *code = sp1 + 1;
        if (!isdigit((unsigned char)code[0]) || !isdigit((unsigned char)code[1]) ||
            !isdigit((unsigned char)code[2]) || (code[3] != ' ' && code[3] != '\0')) {
            snprintf(err, errlen, "malformed HTTP status code");
            return -1;
        }
        h->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
        return 0;
    }
    size_t ml = (size_t)(sp1 - line);
    if (ml == 0 || ml >= sizeof(h->method)) {
        snprintf(err, errlen, "malformed HTTP method");
        return -1;
    }
    for (size_t i = 0; i < ml; i++)
        if (!is_tchar((unsigned char)line[i])) {
            snprintf(err, errlen, "malformed HTTP method");
            return -1;
        }
    memcpy(h->method, line, ml + 1);
    char *target = sp1 + 1;
    char *sp2 = strchr(target, ' ');
    if (!sp2 || sp2 == target) {
        snprintf(err, errlen, "malformed HTTP request line");
        return -1;
    }
    *sp2 = '\0';
    for (const char *t = target; *t; t++)
        if ((unsigned char)*t <= 0x20 || *t == 0x7f) {
            snprintf(err, errlen, "control character in request target");
            return -1;
        }
    if (parse_version(sp2 + 1, &h->minor) != 0) {
        snprintf(err, errlen, "malformed HTTP version in request line");
        return -1;
    }
    h->target = target;
    return 0;
}

static int parse_field(char *line, struct ws_http_head *h, char *err, size_t errlen)
{
    if (h->n_headers >= WS_MAX_HEADERS) {
        snprintf(err, errlen, "too many header fields (more than %d)", WS_MAX_HEADERS);
        return -1;
    }
    char *colon = strchr(line, ':');
    if (!colon || colon == line) {
        snprintf(err, errlen, "malformed header field");
        return -1;
    }
    for (char *p = line; p < colon; p++)
        if (!is_tchar((unsigned char)*p)) {
            snprintf(err, errlen, "invalid character in header field name");
            return -1;
        }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    char *e = v + strlen(v);
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *e = '\0';
    for (char *p = v; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
            snprintf(err, errlen, "control character in header '%s'", line);
            return -1;
        }
    h->headers[h->n_headers].name = line;
    h->headers[h->n_headers].value = v;
    h->n_headers++;
    return 0;
}

long ws_http_parse_head(const char *data, size_t len, int is_response, size_t max_len,
                        struct ws_http_head *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *end = NULL;
    size_t scan = len < max_len ? len : max_len;
    for (size_t i = 0; i + 3 < scan; i++) {
        if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n') {
            end = data + i;
            break;
        }
    }
    if (!end) {
        if (len >= max_len) {
            snprintf(err, errlen, "HTTP head larger than %zu bytes", max_len);
            return -1;
        }
        return 0;
    }
    size_t hl = (size_t)(end - data);
    if (memchr(data, '\0', hl)) {
        snprintf(err, errlen, "NUL byte in HTTP head");
        return -1;
    }
    out->is_response = is_response;
    out->buf = malloc(hl + 3);
    if (!out->buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(out->buf, data, hl);
    memcpy(out->buf + hl, "\r\n", 3);
    char *line = out->buf;
    int first = 1;
    while (*line) {
        char *crlf = strstr(line, "\r\n");
        *crlf = '\0';
        if (strchr(line, '\r') || strchr(line, '\n')) {
            snprintf(err, errlen, "bare CR or LF in HTTP head");
            goto fail;
        }
        if (first) {
            if (parse_start_line(line, out, err, errlen) != 0)
                goto fail;
            first = 0;
        } else {
            if (*line == ' ' || *line == '\t') {
                snprintf(err, errlen, "obsolete header line folding");
                goto fail;
            }
            if (parse_field(line, out, err, errlen) != 0)
                goto fail;
        }
        line = crlf + 2;
    }
    return (long)hl + 4;
fail:
    ws_http_head_release(out);
    return -1;
}

int ws_upgrade_check(const char *method, ws_header_get_fn get, void *arg,
                     char accept[WS_ACCEPT_LEN + 1], int *status, char *err, size_t errlen)
{
    *status = 400;
    if (!method || strcmp(method, "GET") != 0) {
        *status = 405;
        snprintf(err, errlen, "WebSocket upgrade needs GET, not '%s'", method ? method : "?");
        return -1;
    }
    const char *v = get(arg, "Host");
    if (!v || !*v) {
        snprintf(err, errlen, "missing 'Host' header");
        return -1;
    }
    v = get(arg, "Upgrade");
    if (!ws_header_has_token(v, "websocket")) {
        *status = 426;
        snprintf(err, errlen, "missing 'Upgrade: websocket' header");
        return -1;
    }
    if (!ws_header_has_token(get(arg, "Connection"), "upgrade")) {
        snprintf(err, errlen, "'Connection' header lacks 'upgrade'");
        return -1;
    }
    v = get(arg, "Sec-WebSocket-Version");
    if (!v || strcmp(v, "13") != 0) {
        *status = 426;
        snprintf(err, errlen, "unsupported 'Sec-WebSocket-Version' '%.16s' (need 13)",
                 v ? v : "");
        return -1;
    }
    v = get(arg, "Sec-WebSocket-Key");
    if (!ws_key_valid(v)) {
        snprintf(err, errlen, "invalid 'Sec-WebSocket-Key'");
        return -1;
    }
    if (ws_accept_for_key(v, accept) != 0) {
        *status = 500;
        snprintf(err, errlen, "SHA-1 failed");
        return -1;
    }
    return 0;
}

static const char *head_get(void *arg, const char *name)
{
    return ws_http_head_get(arg, name);
}

long ws_upgrade_parse_request(const char *data, size_t len, char accept[WS_ACCEPT_LEN + 1],
                              char *target, size_t targetlen, int *status, char *err,
                              size_t errlen)
{
    struct ws_http_head h;
    *status = 400;
    long n = ws_http_parse_head(data, len, 0, WS_MAX_HEAD_BYTES, &h, err, errlen);
    if (n <= 0)
        return n;
    if (h.minor < 1) {
        snprintf(err, errlen, "WebSocket upgrade needs HTTP/1.1");
        ws_http_head_release(&h);
        return -1;
    }
    if (ws_upgrade_check(h.method, head_get, &h, accept, status, err, errlen) != 0) {
        ws_http_head_release(&h);
        return -1;
    }
    if (target && targetlen)
        snprintf(target, targetlen, "%s", h.target);
    ws_http_head_release(&h);
    return n;
}

int ws_client_check_response(const struct ws_http_head *h, const char *key, char *err,
                             size_t errlen)
{
    if (h->status != 101) {
        snprintf(err, errlen, "server refused the WebSocket upgrade with HTTP %d", h->status);
        return -1;
    }
    if (!ws_header_has_token(ws_http_head_get(h, "Upgrade"), "websocket") ||
        !ws_header_has_token(ws_http_head_get(h, "Connection"), "upgrade")) {
        snprintf(err, errlen, "upgrade response lacks 'Upgrade: websocket' or 'Connection: upgrade'");
        return -1;
    }
    char want[WS_ACCEPT_LEN + 1];
    const char *got = ws_http_head_get(h, "Sec-WebSocket-Accept");
    if (ws_accept_for_key(key, want) != 0 || !got || strcmp(got, want) != 0) {
        snprintf(err, errlen, "wrong 'Sec-WebSocket-Accept' in upgrade response");
        return -1;
    }
    if (ws_http_head_get(h, "Sec-WebSocket-Extensions")) {
        snprintf(err, errlen, "server selected an extension we did not offer");
        return -1;
    }
    return 0;
}

int ws_url_parse(const char *url, char *host, size_t hostlen, int *port, char *path,
                 size_t pathlen, char *err, size_t errlen)
{
    const char *p;
    if (strncmp(url, "ws://", 5) == 0)
        p = url + 5;
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else {
        snprintf(err, errlen, "unsupported URL '%s' (need ws:// or http://)", url);
        return -1;
    }
    const char *hs = p, *he;
    if (*p == '[') {
        hs = p + 1;
        he = strchr(hs, ']');
        if (!he) {
            snprintf(err, errlen, "unterminated IPv6 address in URL '%s'", url);
            return -1;
        }
        p = he + 1;
    } else {
        he = p + strcspn(p, ":/?#");
        p = he;
    }
    if (he == hs || (size_t)(he - hs) >= hostlen) {
        snprintf(err, errlen, "bad host in URL '%s'", url);
        return -1;
    }
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    *port = 80;
    if (*p == ':') {
        char *e;
        long v = strtol(p + 1, &e, 10);
        if (e == p + 1 || v <= 0 || v > 65535 || (*e && !strchr("/?#", *e))) {
            snprintf(err, errlen, "bad port in URL '%s'", url);
            return -1;
        }
        *port = (int)v;
        p = e;
    }
    size_t pl = strcspn(p, "#");
    const char *lead = (*p == '/') ? "" : "/";
    if (pl + 2 > pathlen) {
        snprintf(err, errlen, "URL path too long in '%s'", url);
        return -1;
    }
    snprintf(path, pathlen, "%s%.*s", lead, (int)pl, p);
    return 0;
}
