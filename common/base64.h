/*
 * base64: RFC 4648 base64, standard ('+/') and URL-safe ('-_') alphabets.
 * Used by JWT tokens (base64url, no padding) and strategy submission (standard).
 */
#ifndef QMTL_COMMON_BASE64_H
#define QMTL_COMMON_BASE64_H

#include <stddef.h>

enum base64_alphabet { BASE64_STD = 0, BASE64_URL = 1 };

/* Encode without padding. 'out' must hold 4*ceil(len/3)+1 bytes; returns the length
 * written (not counting the NUL). */
size_t base64_encode_nopad(const unsigned char *in, size_t len, char *out,
                           enum base64_alphabet alphabet);

/* Decode (trailing '=' optional, no whitespace). Returns the malloc'd bytes, NUL-terminated
 * (caller frees), and *outlen; NULL when the input is not valid in that alphabet. */
unsigned char *base64_decode(const char *in, size_t len, size_t *outlen,
                             enum base64_alphabet alphabet);

#endif
