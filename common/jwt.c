#include "jwt.h"

#include "base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define b64url_encode(in, len, out) base64_encode_nopad(in, len, out, BASE64_URL)
#define JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

/* b64url(JSON of obj) appended to buf at *pos; buf has room (caller sized it). */
static char *b64_json(const json_t *obj, char *err, size_t errlen)
{
    char *js = json_dumps(obj, JSON_FLAGS);
    if (!js) {
        snprintf(err, errlen, "cannot serialize token JSON");
        return NULL;
    }
    size_t n = strlen(js);
    char *out = malloc(n / 3 * 4 + 8);
    if (out)
        b64url_encode((const unsigned char *)js, n, out);
    else
        snprintf(err, errlen, "out of memory");
    free(js);
    return out;
}

static int hmac_b64(const struct jwt_key *key, const char *data, size_t len, char out[48])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key->secret, (int)key->secret_len, (const unsigned char *)data, len,
              mac, &maclen) ||
        maclen != 32)
        return -1;
    b64url_encode(mac, maclen, out);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}

char *jwt_sign_hs256(const json_t *claims, const struct jwt_key *key, char *err, size_t errlen)
{
    if (!json_is_object(claims)) {
        snprintf(err, errlen, "token claims must be a JSON object");
        return NULL;
    }
    if (!key || !key->kid || (!key->secret && key->secret_len)) {
        snprintf(err, errlen, "token key is incomplete");
        return NULL;
    }
    json_t *hdr = json_pack("{s:s,s:s,s:s}", "alg", "HS256", "kid", key->kid, "typ", "JWT");
    if (!hdr) {
        snprintf(err, errlen, "cannot build token header for kid '%s'", key->kid);
        return NULL;
    }
    char *h = b64_json(hdr, err, errlen);
    json_decref(hdr);
    char *p = h ? b64_json(claims, err, errlen) : NULL;
    char *tok = NULL;
    if (h && p) {
        size_t hl = strlen(h), pl = strlen(p);
        tok = malloc(hl + pl + 2 + 48);
        if (tok) {
            memcpy(tok, h, hl);
            tok[hl] = '.';
            memcpy(tok + hl + 1, p, pl);
            tok[hl + 1 + pl] = '.';
            if (hmac_b64(key, tok, hl + 1 + pl, tok + hl + pl + 2) != 0) {
                snprintf(err, errlen, "HMAC-SHA256 failed");
                free(tok);
                tok = NULL;
            }
        } else {
            snprintf(err, errlen, "out of memory");
        }
    }
    free(h);
    free(p);
    return tok;
}

static json_t *decode_segment(const char *s, size_t len, const char *what, char *err, size_t errlen)
{
    size_t n = 0;
    unsigned char *raw = base64_decode(s, len, &n, BASE64_URL);
    if (!raw) {
        snprintf(err, errlen, "token %s is not base64url", what);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        snprintf(err, errlen, "token %s is not a JSON object", what);
        return NULL;
    }
    return j;
}

static int aud_matches(const json_t *v, const char *aud)
{
    if (json_is_string(v))
        return strcmp(json_string_value(v), aud) == 0;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (json_is_string(e) && strcmp(json_string_value(e), aud) == 0)
                return 1;
        }
    }
    return 0;
}

json_t *jwt_verify_hs256(const char *token, const struct jwt_key *keys, size_t n, const char *aud,
                         int64_t now, char *err, size_t errlen)
{
    if (!token || !*token) {
        snprintf(err, errlen, "missing token");
        return NULL;
    }
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.')) {
        snprintf(err, errlen, "malformed token: expected three dot-separated segments");
        return NULL;
    }
    json_t *hdr = decode_segment(token, (size_t)(d1 - token), "header", err, errlen);
    if (!hdr)
        return NULL;
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (!alg || strcmp(alg, "HS256") != 0) {
        snprintf(err, errlen, "unsupported token algorithm '%s'", alg ? alg : "(none)");
        json_decref(hdr);
        return NULL;
    }
    const json_t *kidv = json_object_get(hdr, "kid");
    const struct jwt_key *key = NULL;
    if (json_is_string(kidv)) {
        for (size_t i = 0; i < n; i++)
            if (keys[i].kid && strcmp(keys[i].kid, json_string_value(kidv)) == 0)
                key = &keys[i];
    } else if (!kidv && n == 1) {
        key = &keys[0];
    }
    if (!key) {
        snprintf(err, errlen, "unknown token key id '%.64s'",
                 json_is_string(kidv) ? json_string_value(kidv) : "(none)");
        json_decref(hdr);
        return NULL;
    }
    json_decref(hdr);

    char mac[48];
    size_t siglen = strlen(d2 + 1);
    if (hmac_b64(key, token, (size_t)(d2 - token), mac) != 0) {
        snprintf(err, errlen, "HMAC-SHA256 failed");
        return NULL;
    }
    /* Compare a fixed 43 characters so the time does not depend on where they differ. */
    int bad = siglen != 43;
    char sig[43];
    memset(sig, 0, sizeof(sig));
    memcpy(sig, d2 + 1, siglen < 43 ? siglen : 43);
    bad |= CRYPTO_memcmp(sig, mac, 43) != 0;
    if (bad) {
        snprintf(err, errlen, "token signature mismatch");
        return NULL;
    }
    json_t *claims = decode_segment(d1 + 1, (size_t)(d2 - d1 - 1), "payload", err, errlen);
    if (!claims)
        return NULL;
    if (aud && !aud_matches(json_object_get(claims, "aud"), aud)) {
        snprintf(err, errlen, "token audience is not '%s'", aud);
        json_decref(claims);
        return NULL;
    }
    const json_t *exp = json_object_get(claims, "exp");
    if (!json_is_number(exp)) {
        snprintf(err, errlen, "token has no numeric 'exp'");
        json_decref(claims);
        return NULL;
    }
    if (json_number_value(exp) < (double)now) {
        snprintf(err, errlen, "token expired");
        json_decref(claims);
        return NULL;
    }
    return claims;
}
