/*
 * bearer: the pieces of bearer-token authentication every service shares (the gateway
 * and the DAG manager): constant-time comparison, the "Authorization: Bearer" header,
 * and the loopback test behind the insecure anonymous settings.
 */
#ifndef QMTL_COMMON_BEARER_H
#define QMTL_COMMON_BEARER_H

/* 1 when 'presented' equals 'expected' (compared over the expected length whatever the
 * presented one is); an empty or NULL 'expected' never matches. NULL 'presented' is 0. */
int bearer_equal(const char *presented, const char *expected);
/* The token of an Authorization header value "Bearer <token>" (borrowed, points into
 * 'header'), or NULL when the header is NULL, of another scheme, or the token is empty. */
const char *bearer_from_header(const char *header);
/* 1 when 'host' (a listen address) is a loopback address: "localhost", 127.0.0.0/8 or
 * ::1; 0 otherwise (including "", "0.0.0.0" and "::"). */
int bearer_host_is_loopback(const char *host);

#endif
