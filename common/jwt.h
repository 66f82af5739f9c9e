/*
 * jwt: compact HS256 JSON Web Tokens for the gateway event stream.
 *
 * Wire format (interoperable with the reference gateway): the header is
 * {"alg":"HS256","kid":<kid>,"typ":"JWT"}; header and payload are compact JSON with sorted
 * keys (ASCII-escaped), each base64url-encoded without padding; the signature is
 * HMAC-SHA256(secret, b64(header) "." b64(payload)), also base64url without padding.
 *
 * Verification checks, in order: three segments, a parseable header with alg "HS256", a kid
 * present in the key ring (a token without kid matches a single-key ring), the signature
 * (constant-time comparison), a JSON object payload, "aud" equal to the expected audience
 * (a string, or an array containing it), and "exp" >= now.
 */
#ifndef QMTL_COMMON_JWT_H
#define QMTL_COMMON_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* One signing/verification key. Borrowed by the functions below. */
struct jwt_key {
    const char *kid;            /* key id carried in the header */
    const unsigned char *secret;
    size_t secret_len;
};

/*
 * Sign 'claims' (a JSON object, borrowed) with 'key'. Returns the malloc'd token (caller
 * frees) or NULL with a message in err.
 */
char *jwt_sign_hs256(const json_t *claims, const struct jwt_key *key, char *err, size_t errlen);

/*
 * Verify 'token' against the key ring 'keys' (n >= 1), expected audience 'aud' (NULL: not
 * checked) and the current time 'now' (Unix seconds). Returns the claims as a new JSON object
 * (caller json_decref's) or NULL with a message in err that never contains the secret.
 */
json_t *jwt_verify_hs256(const char *token, const struct jwt_key *keys, size_t n, const char *aud,
                         int64_t now, char *err, size_t errlen);


#endif
