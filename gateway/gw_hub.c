/* gw_hub: the gateway's WebSocket event stream (see gw_hub.h). */
#include "gw_hub_internal.h"

#include "config.h"
#include "gw_metrics.h"
#include "gw_routes.h"
#include "gw_server.h"
#include "gw_store.h"
#include "jwt.h"
#include "log.h"
#include "ws.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#define AUDIENCE "controlbus"
#define TICK_NO_PING_S 20.0 /* keepalive tick when pings are off (token expiry only) */
#define TICK_MIN_S 0.05

/* ------------------------------------------------------------ small helpers */

void gw_hub_iso_time(int64_t unix_s, int with_ms, char out[40])
{
    struct timespec ts;
    if (unix_s < 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
    } else {
        ts.tv_sec = (time_t)unix_s;
        ts.tv_nsec = 0;
    }
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        snprintf(out + n, 40 - n, ".%03ldZ", ts.tv_nsec / 1000000);
    else
        snprintf(out + n, 40 - n, "Z");
}

void gw_hub_uuid4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)rand();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static unsigned topic_of_name(const char *t)
{
    if (!strcmp(t, "queue") || !strcmp(t, "queues"))
        return TOPIC_QUEUE;
    if (!strcmp(t, "activation"))
        return TOPIC_ACTIVATION;
    if (!strcmp(t, "policy"))
        return TOPIC_POLICY;
    if (!strcmp(t, "deprecation"))
        return TOPIC_DEPRECATION;
    if (!strcmp(t, "orders"))
        return TOPIC_ORDERS;
    return 0;
}

/* Topic of an event type; 0 = delivered whatever the topic filter. */
static unsigned topic_of_type(const char *type)
{
    if (!type)
        return 0;
    if (!strcmp(type, "queue_update") || !strcmp(type, "tagquery.upsert"))
        return TOPIC_QUEUE;
    if (!strcmp(type, "activation_updated") || !strcmp(type, "sentinel_weight"))
        return TOPIC_ACTIVATION;
    if (!strcmp(type, "policy_updated") || !strcmp(type, "policy_state_hash"))
        return TOPIC_POLICY;
    if (!strncmp(type, "deprecation", 11))
        return TOPIC_DEPRECATION;
    if (!strcmp(type, "fill") || !strcmp(type, "order_updated") ||
        !strncmp(type, "world_kill", 10))
        return TOPIC_ORDERS;
    return 0;
}

static unsigned topics_from_json(const json_t *arr)
{
    unsigned m = 0;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (json_is_string(e))
            m |= topic_of_name(json_string_value(e));
    }
    return m;
}

static unsigned topics_from_csv(const char *csv)
{
    unsigned m = 0;
    char *dup = strdup(csv), *save = NULL;
    for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
        m |= topic_of_name(t);
    free(dup);
    return m;
}

/* Does client c want an event of topic t (topic_of_type) about world_id? */
static int wants_topic(const struct hub_client *c, unsigned t, const char *world_id)
{
    if (c->topics && t && !(c->topics & t))
        return 0;
    if (c->world_id && world_id && *world_id && strcmp(c->world_id, world_id) != 0)
        return 0;
    return 1;
}

static int wants(const struct hub_client *c, const char *type, const char *world_id)
{
    return wants_topic(c, topic_of_type(type), world_id);
}

/* ------------------------------------------------------------ tokens */

char *gw_hub_mint(struct gw_hub *h, const char *world_id, const char *strategy_id,
                  const char *const *topics, int64_t ttl_s, const char *cred)
{
    char jti[37], err[200];
    gw_hub_uuid4(jti);
    int64_t now = (int64_t)time(NULL);
    json_t *t = json_array();
    for (size_t i = 0; topics && topics[i]; i++)
        json_array_append_new(t, json_string(topics[i]));
    json_t *claims = json_pack("{s:s,s:s?,s:s?,s:s?,s:o,s:s,s:I,s:I,s:s}", "aud", AUDIENCE, "sub",
                               strategy_id, "strategy_id", strategy_id, "world_id", world_id,
                               "topics", t, "jti", jti, "iat", (json_int_t)now, "exp",
                               (json_int_t)(now + ttl_s), "cred", cred);
    if (!claims)
        return NULL;
    char *tok = jwt_sign_hs256(claims, &h->key, err, sizeof(err));
    json_decref(claims);
    return tok;
}

char *gw_hub_mint_token(struct gw_hub *h, const char *world_id, const char *strategy_id,
                        const char *const *topics, int64_t ttl_s)
{
    return gw_hub_mint(h, world_id, strategy_id, topics, ttl_s, "anonymous");
}

/* Apply verified claims (and the connection's query) to a client's filters. */
static void apply_claims(struct hub_client *c, const json_t *claims, const char *q_world,
                         const char *q_topics)
{
    free(c->world_id);
    c->world_id = NULL;
    const char *w = json_string_value(json_object_get(claims, "world_id"));
    if (w && *w)
        c->world_id = strdup(w);
    else if (q_world && *q_world)
        c->world_id = strdup(q_world);
    c->topics = topics_from_json(json_object_get(claims, "topics"));
    if (q_topics && *q_topics) {
        unsigned q = topics_from_csv(q_topics);
        c->topics = c->topics ? (c->topics & q) : q;
        if (!c->topics)
            c->topics = TOPIC_NONE;
    }
    c->exp = (int64_t)json_number_value(json_object_get(claims, "exp"));
}

/* ------------------------------------------------------------ sending */

void gw_hub_send_json(struct hub_client *c, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (s) {
        ws_conn_send_text(c->ws, s, strlen(s));
        free(s);
    }
}

struct catchup {
    struct hub_client *c;
    long limit;
    int stopped;
};

static int catchup_cb(void *arg, int64_t seq, const char *type, const char *world_id,
                      const char *envelope)
{
    struct catchup *k = arg;
    struct hub_client *c = k->c;
    if (seq > c->hub->published || !ws_conn_is_open(c->ws)) {
        k->stopped = seq > c->hub->published ? 0 : 1;
        return 1;
    }
    if (wants(c, type, world_id)) {
        size_t len = strlen(envelope);
        if (ws_conn_outbuf_len(c->ws) + len + 14 > (size_t)k->limit &&
            ws_conn_outbuf_len(c->ws) > 0) {
            k->stopped = 1;
            return 1;
        }
        if (ws_conn_send_text(c->ws, envelope, len) != 0) {
            k->stopped = 1;
            return 1;
        }
        gw_metrics_add(c->hub->metrics, GW_M_EVENTS_RELAYED, 1);
    }
    c->last_sent = seq;
    return 0;
}

/* Send the activation snapshot of the client's world, marked with the current seq_no. */
static void send_snapshot(struct hub_client *c)
{
    struct gw_hub *h = c->hub;
    if (!c->world_id || (c->topics && !(c->topics & TOPIC_ACTIVATION)))
        return;
    json_t *arr = gw_store_activation_snapshot(h->store, c->world_id);
    if (!arr) {
        gw_metrics_add(h->metrics, GW_M_STORE_ERRORS, 1);
        return;
    }
    size_t i;
    json_t *data;
    json_array_foreach(arr, i, data) {
        char id[37], ts[40];
        gw_hub_uuid4(id);
        gw_hub_iso_time(-1, 1, ts);
        json_object_set_new(data, "snapshot", json_true());
        json_t *env = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:O}", "specversion", "1.0", "id",
                                id, "source", "qmtl.services.gateway", "type",
                                "activation_updated", "time", ts, "datacontenttype",
                                "application/json", "seq_no", (json_int_t)h->published, "data",
                                data);
        if (env)
            gw_hub_send_json(c, env);
    }
    json_decref(arr);
}

/* Bring a lagging client up to date from the event log, as far as its buffer allows. */
static void catch_up(struct hub_client *c)
{
    struct gw_hub *h = c->hub;
    if (c->last_sent >= h->published) {
        c->lagging = 0;
        return;
    }
    int64_t first = gw_store_event_first_seq(h->store);
    if (first < 0) {
        gw_metrics_add(h->metrics, GW_M_STORE_ERRORS, 1);
        return;
    }
    if (first == 0 || first > c->last_sent + 1) {
        /* what it missed was trimmed from the log: a full snapshot instead */
        LOG_INFO("hub", "client %s: events after %lld no longer kept, sending a snapshot",
                 ws_conn_peer(c->ws), (long long)c->last_sent);
        send_snapshot(c);
        c->last_sent = h->published;
        c->lagging = 0;
        return;
    }
    struct catchup k = {c, h->cfg->ws_outbuf_limit_bytes > 0 ? h->cfg->ws_outbuf_limit_bytes
                                                              : 1048576,
                        0};
    if (gw_store_event_scan(h->store, c->last_sent, catchup_cb, &k) != 0) {
        gw_metrics_add(h->metrics, GW_M_STORE_ERRORS, 1);
        return;
    }
    c->lagging = k.stopped;
}

static void on_event(void *arg, int64_t seq, const char *type, const char *world_id,
                     const char *envelope)
{
    struct gw_hub *h = arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (seq > h->published)
        h->published = seq;
    size_t limit = h->cfg->ws_outbuf_limit_bytes > 0 ? (size_t)h->cfg->ws_outbuf_limit_bytes
                                                     : 1048576;
    struct ws_frame *frame = NULL;
    long relayed = 0, dropped = 0;
    unsigned topic = topic_of_type(type);
    if (world_id && !*world_id)
        world_id = NULL;
    for (struct hub_client *c = h->clients; c; c = c->next) {
        if (c->lagging || seq <= c->last_sent || !ws_conn_is_open(c->ws))
            continue;
        if (!wants_topic(c, topic, world_id)) {
            c->last_sent = seq;
            continue;
        }
        if (!frame && !(frame = ws_frame_text(envelope, strlen(envelope))))
            return;
        size_t queued = ws_conn_outbuf_len(c->ws);
        if (queued > 0 && queued + ws_frame_len(frame) > limit) {
            /* slow consumer: stop live delivery; catch up from the log once drained */
            c->lagging = 1;
            dropped++;
            continue;
        }
        if (ws_conn_send_frame(c->ws, frame) == 0) {
            c->last_sent = seq;
            relayed++;
        }
    }
    ws_frame_unref(frame);
    gw_metrics_add(h->metrics, GW_M_EVENTS_RELAYED, relayed);
    if (log_get_level() <= LOG_LEVEL_DEBUG) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        LOG_DEBUG("hub", "event %lld (%s) handed to %ld streams in %.3f ms", (long long)seq,
                  type ? type : "?", relayed,
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    if (dropped) {
        gw_metrics_add(h->metrics, GW_M_EVENTS_DROPPED, dropped);
        LOG_DEBUG("hub", "event %lld: %ld slow subscribers paused", (long long)seq, dropped);
    }
}

/* ------------------------------------------------------------ connection handlers */

static int verify(struct gw_hub *h, const char *token, json_t **claims, char *err, size_t errlen)
{
    *claims = jwt_verify_hs256(token, &h->key, 1, AUDIENCE, (int64_t)time(NULL), err, errlen);
    if (!*claims) {
        gw_metrics_add(h->metrics, GW_M_AUTH_FAILURES, 1);
        return -1;
    }
    return 0;
}

static int rate_ok(struct hub_client *c)
{
    int rate = c->hub->cfg->ws_rate_limit_per_s;
    if (rate <= 0)
        return 1;
    int64_t now = ws_now_ms();
    c->tokens += (double)(now - c->bucket_ms) * rate / 1000.0;
    if (c->tokens > rate)
        c->tokens = rate;
    c->bucket_ms = now;
    if (c->tokens >= 1.0) {
        c->tokens -= 1.0;
        c->flood = 0;
        return 1;
    }
    c->flood++;
    return 0;
}

static void client_message(struct ws_conn *ws, int binary, const unsigned char *msg, size_t len,
                           void *arg)
{
    struct hub_client *c = arg;
    struct gw_hub *h = c->hub;
    gw_metrics_add(h->metrics, GW_M_WS_MESSAGES_IN, 1);
    if (!rate_ok(c)) {
        gw_metrics_add(h->metrics, GW_M_LIMIT_REJECTIONS, 1);
        if (c->flood > (long)h->cfg->ws_rate_limit_per_s * 2) {
            LOG_WARN("hub", "client %s: message rate limit exceeded, closing",
                     ws_conn_peer(ws));
            ws_conn_close(ws, WS_CLOSE_POLICY, "rate limit exceeded", 0);
        }
        return;
    }
    if (binary)
        return;
    json_t *m = json_loadb((const char *)msg, len, 0, NULL);
    const char *type = json_string_value(json_object_get(m, "type"));
    char ts[40];
    gw_hub_iso_time(-1, 1, ts);
    if (type && !strcmp(type, "ack")) {
        json_t *r = json_pack("{s:s,s:s}", "type", "ack", "ts", ts);
        json_t *v = json_object_get(m, "last_id");
        json_object_set(r, "last_id", v ? v : json_null());
        if ((v = json_object_get(m, "last_seq_no")))
            json_object_set(r, "last_seq_no", v);
        gw_hub_send_json(c, r);
    } else if (type && !strcmp(type, "refresh")) {
        char err[200];
        json_t *claims;
        if (verify(h, json_string_value(json_object_get(m, "token")), &claims, err,
                   sizeof(err)) != 0) {
            LOG_INFO("hub", "client %s: refresh refused: %s", ws_conn_peer(ws), err);
            ws_conn_close(ws, WS_CLOSE_POLICY, err, 0);
        } else {
            apply_claims(c, claims, NULL, NULL);
            json_decref(claims);
            gw_hub_send_json(c, json_pack("{s:s,s:s}", "type", "refresh_ack", "ts", ts));
        }
    }
    json_decref(m);
}

static void client_drain(struct ws_conn *ws, void *arg)
{
    struct hub_client *c = arg;
    if (c->lagging && ws_conn_is_open(ws))
        catch_up(c);
}

static void client_close(struct ws_conn *ws, int code, void *arg)
{
    struct hub_client *c = arg;
    struct gw_hub *h = c->hub;
    LOG_DEBUG("hub", "client %s closed (%d)", ws_conn_peer(ws), code);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->n_clients--;
    gw_metrics_add(h->metrics, GW_M_WS_CONNECTIONS, -1);
    gw_metrics_add(h->metrics, GW_M_WS_DISCONNECTS, 1);
    free(c->world_id);
    free(c->cred);
    free(c);
}

static const struct ws_handlers client_handlers = {NULL, client_message, NULL, client_drain,
                                                   client_close};

/* ------------------------------------------------------------ routes */

static const char *evhttp_hdr(void *arg, const char *name)
{
    return evhttp_find_header(arg, name);
}

/* 1 (with err) when one more stream for the credential of 'claims' would pass
 * gateway.ws_max_connections or gateway.ws_max_connections_per_token. */
static int stream_cap_reached(struct gw_hub *h, const json_t *claims, char *err, size_t errlen)
{
    long total = h->cfg->ws_max_connections > 0 ? h->cfg->ws_max_connections : 1024;
    long per = h->cfg->ws_max_connections_per_token > 0 ? h->cfg->ws_max_connections_per_token : 16;
    if ((long)h->n_clients >= total) {
        snprintf(err, errlen, "too many event streams: %ld open (gateway.ws_max_connections)",
                 total);
        return 1;
    }
    const char *cred = json_string_value(json_object_get(claims, "cred"));
    if (!cred)
        cred = "anonymous";
    long mine = 0;
    for (struct hub_client *c = h->clients; c; c = c->next)
        mine += c->cred && !strcmp(c->cred, cred) && ws_conn_is_open(c->ws);
    if (mine >= per) {
        snprintf(err, errlen,
                 "too many event streams for the %s credential: %ld open "
                 "(gateway.ws_max_connections_per_token)",
                 cred, mine);
        return 1;
    }
    return 0;
}

static char *bearer_token(struct evhttp_request *req)
{
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (a && strncasecmp(a, "Bearer ", 7) == 0) {
        a += 7;
        while (*a == ' ')
            a++;
        return strdup(a);
    }
    return gw_query_param(req, "token");
}

static void route_ws(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_hub *h = arg;
    char accept[WS_ACCEPT_LEN + 1], err[200];
    int status;
    const char *method = evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" : "other";
    if (ws_upgrade_check(method, evhttp_hdr, evhttp_request_get_input_headers(req), accept,
                         &status, err, sizeof(err)) != 0) {
        if (status == 426)
            evhttp_add_header(evhttp_request_get_output_headers(req), "Sec-WebSocket-Version",
                              "13");
        gw_reply_error(req, status, status == 405 ? "E_METHOD" : "E_UPGRADE_REQUIRED", err,
                       NULL);
        return;
    }
    struct hub_client *c = calloc(1, sizeof(*c));
    if (!c) {
        gw_reply_error(req, 503, "E_UNAVAILABLE", "out of memory", NULL);
        return;
    }
    c->hub = h;
    c->id = ++h->next_id;
    c->tokens = h->cfg->ws_rate_limit_per_s;
    c->bucket_ms = ws_now_ms();
    char *token = bearer_token(req);
    char *q_world = gw_query_param(req, "world_id");
    char *q_topics = gw_query_param(req, "topics");
    char *q_last = gw_query_param(req, "last_seq_no");
    json_t *claims = NULL;
    int bad_token = verify(h, token, &claims, err, sizeof(err)) != 0;
    if (!bad_token && stream_cap_reached(h, claims, err, sizeof(err))) {
        /* refused before the upgrade: the connection stays plain HTTP */
        LOG_WARN("hub", "stream refused: %s", err);
        gw_reply_error(req, 429, "E_TOO_MANY_STREAMS", err, NULL);
        json_decref(claims);
        free(c);
        goto out;
    }
    const char *cred = json_string_value(json_object_get(claims, "cred"));
    c->cred = strdup(cred ? cred : "anonymous");
    c->ws = ws_conn_accept_evhttp(req, accept, &client_handlers, c,
                                  h->cfg->ws_max_message_bytes > 0
                                      ? (uint64_t)h->cfg->ws_max_message_bytes
                                      : 65536);
    if (!c->ws) {
        gw_reply_error(req, 503, "E_UNAVAILABLE", "cannot start the WebSocket", NULL);
        json_decref(claims);
        free(c->cred);
        free(c);
        goto out;
    }
    c->next = h->clients;
    if (h->clients)
        h->clients->prev = c;
    h->clients = c;
    h->n_clients++;
    gw_metrics_add(h->metrics, GW_M_WS_CONNECTIONS, 1);
    gw_metrics_add(h->metrics, GW_M_WS_CONNECTS, 1);

    if (bad_token) {
        LOG_INFO("hub", "stream from %s refused: %s", ws_conn_peer(c->ws), err);
        c->lagging = 1; /* receives nothing */
        ws_conn_close(c->ws, WS_CLOSE_POLICY, err, 0);
        goto out;
    }
    apply_claims(c, claims, q_world, q_topics);
    json_decref(claims);
    c->last_sent = h->published;
    char *end = NULL;
    long long last = q_last ? strtoll(q_last, &end, 10) : -1;
    if (q_last && (end == q_last || *end || last < 0)) {
        ws_conn_close(c->ws, WS_CLOSE_POLICY, "bad last_seq_no", 0);
        c->lagging = 1;
        goto out;
    }
    if (last >= 0 && last < h->published) {
        c->last_sent = last;
        c->lagging = 1;
        catch_up(c);
    } else if (last < 0) {
        send_snapshot(c);
    }
    gw_hub_queue_snapshot(h, c); /* (resumed too) the tag queries' queues as they are now */
    LOG_DEBUG("hub", "stream from %s: world '%s' topics 0x%x", ws_conn_peer(c->ws),
              c->world_id ? c->world_id : "*", c->topics);
out:
    free(token);
    free(q_world);
    free(q_topics);
    free(q_last);
}

/* ------------------------------------------------------------ keepalive */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_hub *h = arg;
    int64_t now_ms = ws_now_ms(), now = (int64_t)time(NULL);
    double ping = h->cfg->ws_ping_interval_s;
    /* a client that answered none of the last two pings (nor sent anything) is gone */
    int64_t idle_max = ping > 0 ? (int64_t)(ping * 2000) + 1000 : 0;
    struct hub_client *next;
    for (struct hub_client *c = h->clients; c; c = next) {
        next = c->next;
        if (!ws_conn_is_open(c->ws))
            continue;
        int64_t idle = now_ms - ws_conn_last_rx_ms(c->ws);
        if (c->exp && now > c->exp) {
            ws_conn_close(c->ws, WS_CLOSE_POLICY, "token expired", 0);
        } else if (idle_max && idle > idle_max) {
            LOG_INFO("hub", "client %s: no pong or message for %lld ms, closing",
                     ws_conn_peer(c->ws), (long long)idle);
            gw_metrics_add(h->metrics, GW_M_WS_IDLE_DROPS, 1);
            /* the peer cannot answer a closing handshake: do not wait long for it */
            ws_conn_close(c->ws, WS_CLOSE_INTERNAL, "keepalive timeout", 200);
        } else if (idle_max) {
            ws_conn_ping(c->ws, NULL, 0);
        }
    }
}

/* ------------------------------------------------------------ lifecycle */

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            LOG_WARN("hub", "cannot raise the open-file limit to %llu",
                     (unsigned long long)rl.rlim_max);
    }
}

struct gw_hub *gw_hub_new(struct gw_server *s)
{
    const struct qmtl_config *cfg = gw_server_config(s);
    struct gw_hub *h = calloc(1, sizeof(*h));
    if (!h || !cfg)
        goto fail;
    h->srv = s;
    h->base = gw_server_base(s);
    h->store = gw_server_store(s);
    h->metrics = gw_server_metrics(s);
    h->cfg = &cfg->gateway;
    const char *secret = h->cfg->event_secret;
    if (secret && *secret) {
        h->secret_len = strlen(secret) < sizeof(h->secret) ? strlen(secret) : sizeof(h->secret);
        memcpy(h->secret, secret, h->secret_len);
    } else {
        unsigned char raw[16];
        if (RAND_bytes(raw, sizeof(raw)) != 1)
            goto fail;
        for (size_t i = 0; i < sizeof(raw); i++)
            snprintf((char *)h->secret + 2 * i, 3, "%02x", raw[i]);
        h->secret_len = 2 * sizeof(raw);
        LOG_WARN("hub", "gateway.event_secret is empty: stream tokens use a random secret "
                        "that changes at every start");
    }
    h->key.kid = h->cfg->event_kid && *h->cfg->event_kid ? h->cfg->event_kid : "qmtl-1";
    h->key.secret = h->secret;
    h->key.secret_len = h->secret_len;
    h->published = gw_store_event_last_seq(h->store);
    if (h->published < 0)
        h->published = 0;
    raise_nofile();
    /* a subscriber that vanishes must not kill the gateway on the next write */
    signal(SIGPIPE, SIG_IGN);
    /* the tick pings and checks silence; without pings it still ends expired tokens */
    double tick = h->cfg->ws_ping_interval_s > 0 ? h->cfg->ws_ping_interval_s : TICK_NO_PING_S;
    if (tick < TICK_MIN_S)
        tick = TICK_MIN_S;
    struct timeval tv = {(time_t)tick, (suseconds_t)((tick - (double)(time_t)tick) * 1e6)};
    h->tick = event_new(h->base, -1, EV_PERSIST, on_tick, h);
    if (!h->tick || event_add(h->tick, &tv) != 0)
        goto fail;
    if (gw_server_add_route(s, "/events/subscribe", gw_subscribe_route, h) != 0 ||
        gw_server_add_route(s, "/ws/evt", route_ws, h) != 0 ||
        gw_server_add_route(s, "/ws", route_ws, h) != 0 ||
        gw_server_add_listener(s, on_event, h) != 0 || !(h->queue = gw_hub_queue_new(h)))
        goto fail;
    return h;
fail:
    LOG_ERROR("hub", "cannot start the event stream");
    if (h && h->tick)
        event_free(h->tick);
    free(h);
    return NULL;
}

void gw_hub_free(struct gw_hub *h)
{
    if (!h)
        return;
    gw_hub_queue_free(h->queue);
    while (h->clients) {
        struct hub_client *c = h->clients;
        h->clients = c->next;
        ws_conn_abort(c->ws, WS_CLOSE_GOING_AWAY);
        gw_metrics_add(h->metrics, GW_M_WS_CONNECTIONS, -1);
        free(c->world_id);
        free(c->cred);
        free(c);
    }
    if (h->tick)
        event_free(h->tick);
    OPENSSL_cleanse(h->secret, sizeof(h->secret));
    free(h);
}

const struct cfg_gateway *gw_hub_cfg(const struct gw_hub *h)
{
    return h->cfg;
}

struct gw_server *gw_hub_server(const struct gw_hub *h)
{
    return h->srv;
}

struct hub_client *gw_hub_client_by_id(struct gw_hub *h, uint64_t id)
{
    for (struct hub_client *c = h->clients; c; c = c->next)
        if (c->id == id)
            return ws_conn_is_open(c->ws) ? c : NULL;
    return NULL;
}

size_t gw_hub_clients(const struct gw_hub *h)
{
    return h->n_clients;
}
