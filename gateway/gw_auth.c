/* gw_auth: the route/credential table and request authentication (see gw_auth.h). */
#include "gw_auth.h"

#include "bearer.h"
#include "config.h"
#include "gw_metrics.h"
#include "gw_server.h"
#include "gw_util.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#define OP GW_CRED_OPERATOR
#define SUB GW_CRED_SUBMITTER
#define HOST GW_CRED_HOST
#define CONN GW_CRED_CONNECTOR
#define SIGNED GW_CRED_SIGNED

/* docs/operations.md, "Security model", shows this table row for row. */
static const struct gw_auth_rule rules[] = {
    {"GET", "/status", 0, 0},
    {"GET", "/health", 0, 0},
    {"GET", "/metrics", 0, 0},
    {"GET", "/ws/evt", GW_CRED_EVENT, 0},
    {"GET", "/ws", GW_CRED_EVENT, 0},
    {"GET", "/worlds", OP, 0},
    {"POST", "/worlds", OP, 1},
    {"GET", "/worlds/*/decide", OP | SUB | HOST, 0},
    {"GET", "/worlds/*/activation", OP | SUB | HOST, 0},
    {"GET", "/worlds/**", OP, 0},
    {"*", "/worlds/**", OP, 1},
    {"POST", "/strategies", SUB, 0},
    {"POST", "/strategies/dry-run", SUB, 0},
    {"GET", "/strategies/*/status", OP | SUB, 0},
    {"GET", "/queues/by_tag", OP | SUB, 0},
    {"POST", "/events/subscribe", SUB, 0},
    {"POST", "/orders", HOST, 0},
    {"GET", "/orders", OP | HOST | CONN, 0},
    {"POST", "/orders/*/ack", CONN, 0},
    {"POST", "/orders/*/status", CONN, 0},
    {"POST", "/fills", CONN | SIGNED, 0},
    {"GET", "/fills", OP | HOST | CONN, 0},
};

const struct gw_auth_rule *gw_auth_rules(size_t *n)
{
    *n = sizeof(rules) / sizeof(rules[0]);
    return rules;
}

/* Match 'path' against 'pat' segment by segment. */
static int path_match(const char *pat, const char *path)
{
    while (*pat && *path) {
        if (pat[0] == '*' && pat[1] == '*')
            return path[0] != '\0' && path[0] != '/'; /* one or more segments */
        if (*pat == '*') {
            const char *end = strchr(path, '/');
            size_t n = end ? (size_t)(end - path) : strlen(path);
            if (n == 0)
                return 0;
            path += n;
            pat++;
            continue;
        }
        if (*pat != *path)
            return 0;
        pat++;
        path++;
    }
    return *pat == '\0' && *path == '\0';
}

const struct gw_auth_rule *gw_auth_match(const char *method, const char *path)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if ((!strcmp(rules[i].method, "*") || !strcmp(rules[i].method, method)) &&
            path_match(rules[i].path, path))
            return &rules[i];
    return NULL;
}

const char *gw_cred_name(unsigned cred)
{
    switch (cred) {
    case GW_CRED_OPERATOR:
        return "operator";
    case GW_CRED_SUBMITTER:
        return "submitter";
    case GW_CRED_HOST:
        return "host";
    case GW_CRED_CONNECTOR:
        return "connector";
    case GW_CRED_EVENT:
        return "event token";
    case GW_CRED_SIGNED:
        return "signature";
    default:
        return "?";
    }
}

const char *gw_auth_principal(int creds)
{
    if (creds < 0 || (creds & GW_CRED_ANONYMOUS))
        return "anonymous";
    for (unsigned b = GW_CRED_OPERATOR; b <= GW_CRED_CONNECTOR; b <<= 1)
        if ((unsigned)creds & b)
            return gw_cred_name(b);
    return "anonymous";
}

struct cred_key {
    unsigned bit;
    const char *key; /* config key */
    const char *env;
    const char *what;
};

static const struct cred_key keys[] = {
    {GW_CRED_OPERATOR, "gateway.operator_token", "QMTL__GATEWAY__OPERATOR_TOKEN",
     "operator routes (worlds, activation, policies) are refused"},
    {GW_CRED_SUBMITTER, "gateway.submit_token", "QMTL__GATEWAY__SUBMIT_TOKEN",
     "strategy submission and event subscription are refused"},
    {GW_CRED_HOST, "gateway.host_token", "QMTL__GATEWAY__HOST_TOKEN", "live orders are refused"},
    {GW_CRED_CONNECTOR, "gateway.connector_token", "QMTL__GATEWAY__CONNECTOR_TOKEN",
     "order claims, status updates and fills from connectors are refused"},
};

static const char *token_of(const struct cfg_gateway *g, unsigned bit)
{
    const char *t = bit == GW_CRED_OPERATOR    ? g->operator_token
                    : bit == GW_CRED_SUBMITTER ? g->submit_token
                    : bit == GW_CRED_HOST      ? g->host_token
                                               : g->connector_token;
    return t ? t : "";
}

int gw_auth_check_config(const struct cfg_gateway *g, char *err, size_t errlen)
{
    if (g->insecure_allow_anonymous && !bearer_host_is_loopback(g->host)) {
        snprintf(err, errlen,
                 "gateway.insecure_allow_anonymous is refused: gateway.host '%.100s' is not a "
                 "loopback address (use 127.0.0.1 or ::1, or set the credential tokens)",
                 g->host ? g->host : "");
        return -1;
    }
    int any = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *t = token_of(g, keys[i].bit);
        any |= *t != '\0';
        for (size_t j = i + 1; j < sizeof(keys) / sizeof(keys[0]) && *t; j++)
            if (!strcmp(t, token_of(g, keys[j].bit))) {
                snprintf(err, errlen, "%s and %s are the same token: each credential needs its own",
                         keys[i].key, keys[j].key);
                return -1;
            }
    }
    if (!any && !g->insecure_allow_anonymous) {
        snprintf(err, errlen,
                 "no credentials configured: every route would refuse. Set the tokens (in "
                 "qmtl.yml or the environment), for example:\n"
                 "  export QMTL__GATEWAY__OPERATOR_TOKEN=$(openssl rand -hex 32)\n"
                 "  export QMTL__GATEWAY__SUBMIT_TOKEN=$(openssl rand -hex 32)\n"
                 "  export QMTL__GATEWAY__HOST_TOKEN=$(openssl rand -hex 32)\n"
                 "  export QMTL__GATEWAY__CONNECTOR_TOKEN=$(openssl rand -hex 32)\n"
                 "or, for a local experiment only, gateway.insecure_allow_anonymous: true with "
                 "gateway.host: 127.0.0.1");
        return -1;
    }
    return 0;
}

void gw_auth_log_config(const struct cfg_gateway *g)
{
    if (g->insecure_allow_anonymous)
        LOG_WARN("gateway", "INSECURE: gateway.insecure_allow_anonymous is on: requests without "
                            "a token hold every credential (loopback only; never in production)");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!*token_of(g, keys[i].bit))
            LOG_WARN("gateway", "%s is empty: %s (set it or %s)", keys[i].key, keys[i].what,
                     keys[i].env);
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

static void names(unsigned creds, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t off = 0;
    for (unsigned b = GW_CRED_OPERATOR; b <= GW_CRED_CONNECTOR; b <<= 1)
        if (creds & b) {
            int n = snprintf(buf + off, len - off, "%s%s", off ? " or " : "", gw_cred_name(b));
            if (n < 0 || (size_t)n >= len - off)
                return;
            off += (size_t)n;
        }
    if (creds & GW_CRED_SIGNED)
        snprintf(buf + off, len - off, " (or an X-Signature)");
}

static int refuse(struct gw_server *s, struct evhttp_request *req, int code, const char *msg)
{
    gw_metrics_add(gw_server_metrics(s), GW_M_AUTH_FAILURES, 1);
    if (code == 401)
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
    gw_reply_error(req, code, code == 401 ? "E_UNAUTHORIZED" : "E_FORBIDDEN", msg, NULL);
    return -1;
}

/* X-Signature on a route that takes it: the hex HMAC-SHA256 of the raw body. */
static int check_signature(struct gw_server *s, struct evhttp_request *req, const char *sig)
{
    const char *secret = gw_server_config(s)->gateway.fill_secret;
    if (!secret || !*secret)
        return refuse(s, req, 401,
                      "signed requests are disabled: gateway.fill_secret is not set "
                      "(QMTL__GATEWAY__FILL_SECRET)");
    if (!strncasecmp(sig, "sha256=", 7))
        sig += 7;
    char given[65], want[65];
    size_t n = strlen(sig);
    for (size_t i = 0; i < n && i < 64; i++)
        given[i] = (char)tolower((unsigned char)sig[i]);
    given[n < 64 ? n : 64] = '\0';
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const void *body = len ? (const void *)evbuffer_pullup(in, -1) : (const void *)"";
    if (n != 64 || gw_hmac_sha256_hex(secret, body, len, want) < 0 || !bearer_equal(given, want))
        return refuse(s, req, 401,
                      "invalid X-Signature: expected the hex HMAC-SHA256 of the raw body under "
                      "gateway.fill_secret");
    return (int)GW_CRED_SIGNED;
}

static int auth_request(struct gw_server *s, struct evhttp_request *req, unsigned want)
{
    const struct cfg_gateway *g = &gw_server_config(s)->gateway;
    if (want == 0 || (want & GW_CRED_EVENT))
        return 0;
    const char *hdr = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    const char *sig = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Signature");
    if ((want & GW_CRED_SIGNED) && sig && !hdr)
        return check_signature(s, req, sig);
    if (!hdr && g->insecure_allow_anonymous)
        return (int)(GW_CRED_ANY | GW_CRED_ANONYMOUS);
    char need[96], msg[300];
    names(want, need, sizeof(need));
    const char *tok = bearer_from_header(hdr);
    /* Every configured token is compared, whatever matches first. */
    unsigned held = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (bearer_equal(tok, token_of(g, keys[i].bit)))
            held |= keys[i].bit;
    if (held & want)
        return (int)(held & want);
    if (held) {
        snprintf(msg, sizeof(msg), "this route takes the %s credential, not %s", need,
                 gw_auth_principal((int)held));
        return refuse(s, req, 403, msg);
    }
    int configured = 0;
    char unset[160] = "";
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (want & keys[i].bit) {
            configured |= *token_of(g, keys[i].bit) != '\0';
            size_t n = strlen(unset);
            snprintf(unset + n, sizeof(unset) - n, "%s%s", n ? ", " : "", keys[i].key);
        }
    if (!configured) {
        snprintf(msg, sizeof(msg),
                 "this route is disabled: no token is set for the %s credential (%s)", need, unset);
        return refuse(s, req, 401, msg);
    }
    if (!tok) {
        snprintf(msg, sizeof(msg),
                 "missing bearer token (Authorization: Bearer <token>): this route takes the %s "
                 "credential",
                 need);
        return refuse(s, req, 401, msg);
    }
    snprintf(msg, sizeof(msg), "invalid token: this route takes the %s credential", need);
    return refuse(s, req, 401, msg);
}

int gw_auth_request(struct gw_server *s, struct evhttp_request *req, const char *path)
{
    const struct gw_auth_rule *r =
        gw_auth_match(method_name(evhttp_request_get_command(req)), path);
    unsigned want = r ? r->creds : GW_CRED_ANY;
    int rc = auth_request(s, req, want);
    if (rc < 0 && (want & GW_CRED_SIGNED))
        gw_metrics_fill_rejected(gw_server_metrics(s), GW_FR_AUTH);
    return rc;
}
