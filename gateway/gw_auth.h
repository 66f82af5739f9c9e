/*
 * gw_auth: who may call which gateway route (DESIGN section 8).
 *
 * Four credentials, each one bearer token from the config (or its environment
 * override), compared in constant time:
 *   operator   gateway.operator_token    worlds, policies, activation, audit, order list
 *   submitter  gateway.submit_token      strategy submission, event subscription, reads
 *   host       gateway.host_token        live orders
 *   connector  gateway.connector_token   order list, claims, status updates and fills
 *                                         (broker connectors)
 * POST /fills also takes a signature instead of the connector bearer: "X-Signature: <hex
 * HMAC-SHA256 of the raw body under gateway.fill_secret>" (a request with no
 * Authorization header; refused when fill_secret is empty). Verified here, before the
 * handler parses anything.
 * The route table below is THE statement of which credential each route takes;
 * docs/operations.md shows the same table and a unit test keeps the two equal. The
 * router calls gw_auth_request() before any handler runs, so nothing is looked up for
 * an unauthenticated request (an unknown world gets 401, not 404).
 *
 * Fail closed: a credential whose token is empty refuses its routes. With
 * gateway.insecure_allow_anonymous (refused at start unless gateway.host is a loopback
 * address) a request WITHOUT an Authorization header holds every credential; a request
 * with a wrong token is still refused.
 */
#ifndef QMTL_GATEWAY_GW_AUTH_H
#define QMTL_GATEWAY_GW_AUTH_H

#include <event2/http.h>
#include <stddef.h>

struct gw_server;
struct cfg_gateway;

enum gw_cred {
    GW_CRED_OPERATOR = 1u << 0,
    GW_CRED_SUBMITTER = 1u << 1,
    GW_CRED_HOST = 1u << 2,
    GW_CRED_CONNECTOR = 1u << 3,
    GW_CRED_EVENT = 1u << 4,     /* no bearer: the event stream checks its own HS256 token */
    GW_CRED_ANONYMOUS = 1u << 5, /* set with GW_CRED_ANY on an insecure anonymous request */
    GW_CRED_SIGNED = 1u << 6,    /* X-Signature HMAC of the body with gateway.fill_secret */
};
#define GW_CRED_ANY (GW_CRED_OPERATOR | GW_CRED_SUBMITTER | GW_CRED_HOST | GW_CRED_CONNECTOR)

/* One row: 'method' is "GET", "POST", ... or "*" (any); 'path' is exact, with "*" for one
 * path segment and a final "**" for one or more segments. creds 0 = no credential. 'live'
 * marks routes that need "X-Allow-Live: true" when they touch a live world. First
 * matching row wins; a request no row matches takes any credential (then 404/405). */
struct gw_auth_rule {
    const char *method;
    const char *path;
    unsigned creds;
    int live;
};

/* The route table (static storage); *n gets its length. */
const struct gw_auth_rule *gw_auth_rules(size_t *n);
/* The row for (method, decoded path), or NULL when none matches. */
const struct gw_auth_rule *gw_auth_match(const char *method, const char *path);
/* "operator", "submitter", "host", "connector", "event token", "signature" for one bit. */
const char *gw_cred_name(unsigned cred);
/* Check the credential settings before the gateway starts: the insecure anonymous mode
 * only on a loopback gateway.host, at least one credential (or the insecure mode), and
 * no token shared by two credentials. 0 or -1 with err saying what to set. */
int gw_auth_check_config(const struct cfg_gateway *g, char *err, size_t errlen);
/* Log the credential state at start: a WARN for the insecure mode, one per unset
 * credential. */
void gw_auth_log_config(const struct cfg_gateway *g);
/* Authenticate 'req' for the decoded 'path' against the table: returns the credentials
 * the request holds (GW_CRED_* bits, 0 on a public route) or -1 after replying 401
 * (no, unknown or disabled credential) or 403 (a valid credential of another kind). */
int gw_auth_request(struct gw_server *s, struct evhttp_request *req, const char *path);
/* Name of the credential a request authenticated as, for per-credential quotas and
 * caps: "operator", "submitter", "host", "connector" or "anonymous". */
const char *gw_auth_principal(int creds);

#endif
