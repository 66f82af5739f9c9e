#include "base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char alphabets[2][65] = {
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

size_t base64_encode_nopad(const unsigned char *in, size_t len, char *out,
                           enum base64_alphabet alphabet)
{
    const char *a = alphabets[alphabet == BASE64_URL];
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (len - i >= 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (len - i == 2)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        if (len - i == 2)
            out[o++] = a[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int value_of(unsigned char c, enum base64_alphabet alphabet)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (alphabet == BASE64_URL ? '-' : '+'))
        return 62;
    if (c == (alphabet == BASE64_URL ? '_' : '/'))
        return 63;
    return -1;
}

unsigned char *base64_decode(const char *in, size_t len, size_t *outlen,
                             enum base64_alphabet alphabet)
{
    while (len > 0 && in[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 4);
    if (!out)
        return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = value_of((unsigned char)in[i], alphabet);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = ((acc << 6) | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}
