/*
 * gw_util: small helpers shared by the gateway modules (ids, time, encodings).
 */
#ifndef QMTL_GATEWAY_GW_UTIL_H
#define QMTL_GATEWAY_GW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Random UUID version 4, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
void gw_uuid4(char out[37]);
/* Current UTC time as ISO-8601: "2026-11-25T08:00:00Z" (millis=0) or with ".123Z". */
void gw_iso_now(char out[32], int millis);
void gw_iso_time(time_t t, char out[32]);
/* Monotonic seconds. */
double gw_mono_now(void);
/* Hex SHA-256 of data into out (65 bytes with NUL). */
void gw_sha256_hex(const void *data, size_t len, char out[65]);
/* Lower-case hex HMAC-SHA256 of data under 'key' into out (65 bytes with NUL). 0 or -1. */
int gw_hmac_sha256_hex(const char *key, const void *data, size_t len, char out[65]);

#endif
