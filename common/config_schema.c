/* config_schema: the one table of qmtl.yml keys, value parsing, defaults, env overrides. */
#include "config.h"
#include "config_internal.h"
#include "log.h"
#include "suggest.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NORANGE 1, 0
#define OFF(f) offsetof(struct qmtl_config, f)
#define DOFF(f) offsetof(struct cfg_data_source, f)

/* clang-format off */
static const struct cfg_schema_entry schema[] = {
    /* gateway */
    {"gateway", "host", CFG_STR, OFF(gateway.host), "127.0.0.1", NORANGE, NULL, 0,
     "address the gateway listens on"},
    {"gateway", "port", CFG_INT, OFF(gateway.port), "8000", 0, 65535, NULL, 0,
     "TCP port of the gateway (0 = any free port)"},
    {"gateway", "store_path", CFG_PATH, OFF(gateway.store_path), "", NORANGE, NULL, 0,
     "SQLite database file (\"\" = gateway.db in the state directory; \":memory:\" = throwaway)"},
    {"gateway", "dagmanager_url", CFG_URL, OFF(gateway.dagmanager_url), "http://127.0.0.1:8001", NORANGE,
     NULL, 0, "DAG manager base URL (\"\" = none; the gateway degrades)"},
    {"gateway", "dagmanager_timeout_s", CFG_DOUBLE, OFF(gateway.dagmanager_timeout_s), "1", 0.1,
     60, NULL, 0,
     "how long a call to the DAG manager may take, seconds, before the gateway degrades (a diff "
     "creating streams with dagmanager.bus_replicas > 1 takes longer)"},
    {"gateway", "operator_token", CFG_STR, OFF(gateway.operator_token), "", NORANGE, NULL, CFG_F_SECRET,
     "bearer token for operator routes (\"\" = operator routes answer 401)"},
    {"gateway", "submit_token", CFG_STR, OFF(gateway.submit_token), "", NORANGE, NULL, CFG_F_SECRET,
     "bearer token of the submitter credential: strategies, event subscription (\"\" = refused)"},
    {"gateway", "host_token", CFG_STR, OFF(gateway.host_token), "", NORANGE, NULL, CFG_F_SECRET,
     "bearer token of the host credential: live orders (\"\" = refused)"},
    {"gateway", "connector_token", CFG_STR, OFF(gateway.connector_token), "", NORANGE, NULL,
     CFG_F_SECRET, "bearer token of the connector credential: order list and acks (\"\" = refused)"},
    {"gateway", "fill_secret", CFG_STR, OFF(gateway.fill_secret), "", NORANGE, NULL, CFG_F_SECRET,
     "HMAC-SHA256 key of signed fills (POST /fills with X-Signature; \"\" = signatures refused)"},
    {"gateway", "dagmanager_token", CFG_STR, OFF(gateway.dagmanager_token), "", NORANGE, NULL,
     CFG_F_SECRET, "bearer token sent to the DAG manager (its dagmanager.token)"},
    {"gateway", "insecure_allow_anonymous", CFG_BOOL, OFF(gateway.insecure_allow_anonymous), "false",
     NORANGE, NULL, 0, "requests without a token get every credential (loopback host only)"},
    {"gateway", "event_secret", CFG_STR, OFF(gateway.event_secret), "", NORANGE, NULL, CFG_F_SECRET,
     "HS256 secret for event-stream tokens (QMTL_EVENT_SECRET wins; \"\" = random at start)"},
    {"gateway", "event_kid", CFG_STR, OFF(gateway.event_kid), "qmtl-1", NORANGE, NULL, 0,
     "key id put in event-stream tokens"},
    {"gateway", "public_url", CFG_URL, OFF(gateway.public_url), "", NORANGE, NULL, 0,
     "URL clients use to reach the gateway (\"\" = http://host:port)"},
    {"gateway", "token_ttl_s", CFG_INT, OFF(gateway.token_ttl_s), "3600", 1, 31536000, NULL, 0,
     "lifetime of event-stream tokens, seconds"},
    {"gateway", "max_body_bytes", CFG_LONG, OFF(gateway.max_body_bytes), "1048576", 1024, 1073741824,
     NULL, 0, "largest accepted HTTP request body"},
    {"gateway", "max_header_bytes", CFG_LONG, OFF(gateway.max_header_bytes), "16384", 1024, 1048576,
     NULL, 0, "largest accepted HTTP header block"},
    {"gateway", "ws_max_message_bytes", CFG_LONG, OFF(gateway.ws_max_message_bytes), "65536", 125,
     67108864, NULL, 0, "largest accepted WebSocket message"},
    {"gateway", "ws_outbuf_limit_bytes", CFG_LONG, OFF(gateway.ws_outbuf_limit_bytes), "1048576", 1024,
     1073741824, NULL, 0, "per-connection output backlog before a slow client is dropped"},
    {"gateway", "ws_ping_interval_s", CFG_DOUBLE, OFF(gateway.ws_ping_interval_s), "1", 0, 3600, NULL,
     0, "seconds between the pings sent to each stream client; a client silent for 2 intervals + 1 s "
        "is dropped (0 = no pings, no drop)"},
    {"gateway", "ws_rate_limit_per_s", CFG_INT, OFF(gateway.ws_rate_limit_per_s), "50", 0, 1000000,
     NULL, 0, "client messages per second per connection (0 = unlimited)"},
    {"gateway", "live_guard", CFG_BOOL, OFF(gateway.live_guard), "true", NORANGE, NULL, 0,
     "live-domain changes need the header X-Allow-Live: true"},
    {"gateway", "read_idle_timeout_s", CFG_DOUBLE, OFF(gateway.read_idle_timeout_s), "10", 0.05, 3600,
     NULL, 0, "longest silence while a request arrives, seconds"},
    {"gateway", "read_timeout_s", CFG_DOUBLE, OFF(gateway.read_timeout_s), "30", 0.05, 3600, NULL, 0,
     "longest time to receive one request (head and body), seconds"},
    {"gateway", "ws_max_connections", CFG_INT, OFF(gateway.ws_max_connections), "1024", 1, 1000000,
     NULL, 0, "event-stream connections in total"},
    {"gateway", "ws_max_connections_per_token", CFG_INT, OFF(gateway.ws_max_connections_per_token),
     "16", 1, 1000000, NULL, 0, "event-stream connections per credential"},
    {"gateway", "max_strategies_per_token", CFG_LONG, OFF(gateway.max_strategies_per_token), "1000", 1,
     100000000, NULL, 0, "stored strategy submissions per credential"},
    {"gateway", "max_strategy_bytes_per_token", CFG_LONG, OFF(gateway.max_strategy_bytes_per_token),
     "67108864", 1024, 1099511627776.0, NULL, 0, "bytes of stored strategy DAGs per credential"},
    {"gateway", "strategy_ttl_s", CFG_LONG, OFF(gateway.strategy_ttl_s), "604800", 1, 315360000, NULL,
     0, "a submission no world uses expires this long after it was last submitted, seconds"},
    {"gateway", "queue_poll_interval_s", CFG_DOUBLE, OFF(gateway.queue_poll_interval_s), "5", 0,
     3600, NULL, 0, "seconds between two asks for the queues the DAG manager dropped (a queue_update "
                    "event per tag query that lost one; 0 = never)"},

    /* dagmanager */
    {"dagmanager", "host", CFG_STR, OFF(dagmanager.host), "127.0.0.1", NORANGE, NULL, 0,
     "address the DAG manager listens on"},
    {"dagmanager", "port", CFG_INT, OFF(dagmanager.port), "8001", 0, 65535, NULL, 0,
     "TCP port of the DAG manager (0 = any free port)"},
    {"dagmanager", "store_path", CFG_PATH, OFF(dagmanager.store_path), "", NORANGE,
     NULL, 0, "SQLite database of the node/queue registry (\"\" = dagmanager.db in the state directory)"},
    {"dagmanager", "gateway_url", CFG_URL, OFF(dagmanager.gateway_url), "", NORANGE, NULL, 0,
     "gateway base URL for callbacks (\"\" = none)"},
    {"dagmanager", "token", CFG_STR, OFF(dagmanager.token), "", NORANGE, NULL, CFG_F_SECRET,
     "bearer token its routes require (\"\" = refused; the gateway sends gateway.dagmanager_token)"},
    {"dagmanager", "insecure_allow_anonymous", CFG_BOOL, OFF(dagmanager.insecure_allow_anonymous),
     "false", NORANGE, NULL, 0, "requests without a token pass (loopback host only)"},
    {"dagmanager", "bus", CFG_STR, OFF(dagmanager.bus), "", NORANGE, NULL, 0,
     "NATS server(s) of the bus, nats://HOST:PORT (\"\" = none): every queue gets a JetStream stream"},
    {"dagmanager", "bus_retention_s", CFG_LONG, OFF(dagmanager.bus_retention_s), "604800", 0,
     315360000, NULL, 0,
     "how long a queue's stream keeps messages, seconds (0 = no limit); also how long a queue "
     "must be unused before its stream is deleted"},
    {"dagmanager", "bus_replicas", CFG_INT, OFF(dagmanager.bus_replicas), "1", 1, 5, NULL, 0,
     "copies of each queue's stream and of the lease bucket in a NATS cluster (1..5; at most "
     "the number of servers); existing ones are changed to it when the DAG manager starts or "
     "checks a queue"},
    {"dagmanager", "bus_gc_interval_s", CFG_INT, OFF(dagmanager.bus_gc_interval_s), "600", 0,
     86400, NULL, 0,
     "how often unused queues' streams are looked for and deleted, seconds (0 = never)"},

    /* host */
    {"host", "plugins_dir", CFG_PATH, OFF(host.plugins_dir), "plugins", NORANGE, NULL, 0,
     "directory scanned for strategy plugins (*.so)"},
    {"host", "data", CFG_DATA, OFF(host.data), "[]", NORANGE, NULL, CFG_F_NOENV,
     "data sources: a sequence of mappings (keys below)"},
    {"host", "world_id", CFG_STR, OFF(host.world_id), "", NORANGE, NULL, 0,
     "world to attach to (\"\" = offline)"},
    {"host", "gateway_url", CFG_URL, OFF(host.gateway_url), "", NORANGE, NULL, 0,
     "gateway base URL (\"\" = offline)"},
    {"host", "submit_token", CFG_STR, OFF(host.submit_token), "", NORANGE, NULL, CFG_F_SECRET,
     "submitter token sent to the gateway (submission, event stream, world reads)"},
    {"host", "host_token", CFG_STR, OFF(host.host_token), "", NORANGE, NULL, CFG_F_SECRET,
     "host token sent with live orders"},
    {"host", "metrics_port", CFG_INT, OFF(host.metrics_port), "0", 0, 65535, NULL, 0,
     "port of the Prometheus metrics endpoint (0 = off)"},
    {"host", "metrics_host", CFG_STR, OFF(host.metrics_host), "127.0.0.1", NORANGE, NULL, 0,
     "address the metrics endpoint listens on (keep it loopback unless a firewall guards it)"},
    {"host", "hot_reload", CFG_BOOL, OFF(host.hot_reload), "true", NORANGE, NULL, 0,
     "apply new, replaced and removed plugins of plugins_dir while the host runs (attached, "
     "--follow or a live input; never a finite offline replay)"},
    {"host", "csv_errors", CFG_ENUM, OFF(host.csv_errors), "skip", NORANGE, "skip|fail", 0,
     "bad CSV row: skip it (counted) or fail the run"},
    {"host", "on_missing", CFG_ENUM, OFF(host.on_missing), "skip", NORANGE, "skip|fail", 0,
     "node input with no data source: skip the node or fail the run"},
    {"host", "strategies", CFG_STRATEGY, OFF(host.strategy_params), "{}", NORANGE, NULL, CFG_F_NOENV,
     "per-strategy parameters: name -> mapping of scalars (kept as text)"},
    {"host", "preflight_timeout_s", CFG_DOUBLE, OFF(host.preflight_timeout_s), "5", 0.1, 600, NULL, 0,
     "time a plugin's load and setup() may take in the preflight child before it is refused, seconds"},
    {"host", "max_nodes_per_strategy", CFG_LONG, OFF(host.max_nodes_per_strategy), "1000000", 1,
     100000000, NULL, 0, "most nodes one strategy's setup() may declare"},
    {"host", "bus", CFG_STR, OFF(host.bus), "", NORANGE, NULL, 0,
     "NATS server(s) of the bus, nats://HOST:PORT (\"\" = everything in process; attached runs only)"},
    {"host", "name", CFG_STR, OFF(host.name), "", NORANGE, NULL, 0,
     "this host instance's name in its durable consumer names on the bus (\"\" = the machine's "
     "host name and the absolute plugins directory)"},

    /* host.data[] (offsets in struct cfg_data_source) */
    {"host.data[]", "tags", CFG_STRLIST, DOFF(tags), "", NORANGE, NULL, CFG_F_REQUIRED | CFG_F_NOENV,
     "tags the events carry (a string or a sequence of strings; required, except for live)"},
    {"host.data[]", "path", CFG_PATH, DOFF(path), "", NORANGE, NULL, CFG_F_NOENV,
     "CSV file (either path or synthetic)"},
    {"host.data[]", "live", CFG_STR, DOFF(live), "", NORANGE, NULL, CFG_F_NOENV,
     "live line-JSON input: tcp:HOST:PORT, unix:PATH, stdin (each line carries its tags) or "
     "nats://HOST:PORT/SUBJECT (tags optional)"},
    {"host.data[]", "follow", CFG_BOOL, DOFF(follow), "false", NORANGE, NULL, CFG_F_NOENV,
     "CSV path: keep reading the file as it grows, through rotation (tail -F)"},
    {"host.data[]", "synthetic", CFG_ENUM, DOFF(synthetic), "", NORANGE, "gbm|random_walk", CFG_F_NOENV,
     "generated series instead of a file"},
    {"host.data[]", "interval_s", CFG_I64, DOFF(interval_s), "60", 1, 31536000, NULL, CFG_F_NOENV,
     "bar interval, seconds"},
    {"host.data[]", "count", CFG_LONG, DOFF(count), "10000", 1, 100000000, NULL, CFG_F_NOENV,
     "synthetic: number of bars"},
    {"host.data[]", "start_price", CFG_DOUBLE, DOFF(start_price), "100", 1e-9, 1e12, NULL, CFG_F_NOENV,
     "synthetic: first price"},
    {"host.data[]", "drift", CFG_DOUBLE, DOFF(drift), "0.0", -10, 10, NULL, CFG_F_NOENV,
     "synthetic: drift per day"},
    {"host.data[]", "volatility", CFG_DOUBLE, DOFF(volatility), "0.02", 0, 10, NULL, CFG_F_NOENV,
     "synthetic: volatility per sqrt(day)"},
    {"host.data[]", "seed", CFG_U64, DOFF(seed), "42", NORANGE, NULL, CFG_F_NOENV,
     "synthetic: random seed"},
    {"host.data[]", "start_ts", CFG_I64, DOFF(start_ts), "1700000000", 0, 4102444800.0, NULL,
     CFG_F_NOENV, "synthetic: timestamp of the first bar (epoch seconds)"},
    {"host.data[]", "sort", CFG_BOOL, DOFF(sort), "false", NORANGE, NULL, CFG_F_NOENV,
     "CSV: read the whole file and sort the rows by time (e.g. a file sorted newest first)"},
    {"host.data[]", "allow_nonpositive_prices", CFG_BOOL, DOFF(allow_nonpositive_prices), "false",
     NORANGE, NULL, CFG_F_NOENV, "accept prices <= 0 (spreads and the like)"},

    /* runtime */
    {"runtime", "http_timeout_s", CFG_DOUBLE, OFF(runtime.http_timeout_s), "2.0", 0.001, 3600, NULL, 0,
     "HTTP request timeout, seconds"},
    {"runtime", "ws_receive_timeout_s", CFG_DOUBLE, OFF(runtime.ws_receive_timeout_s), "2.5", 0.001,
     86400, NULL, 0, "event stream: nothing received for this long = stream lost (gates close, "
                     "reconnect); the host pings every third of it, seconds"},
    {"runtime", "ws_reconnect_total_s", CFG_DOUBLE, OFF(runtime.ws_reconnect_total_s), "0", 0, 86400,
     NULL, CFG_F_NULL_ZERO, "total time spent reconnecting, seconds (0 or null = unlimited)"},
    {"runtime", "poll_interval_s", CFG_DOUBLE, OFF(runtime.poll_interval_s), "10", 0.001, 86400, NULL,
     0, "polling interval, seconds"},
    {"runtime", "start_retry_total_s", CFG_DOUBLE, OFF(runtime.start_retry_total_s), "30", 0, 86400,
     NULL, 0, "attached start: how long an unanswered gateway is retried before 'qmtl run' fails, "
              "seconds (0 = one attempt)"},

    /* test */
    {"test", "test_mode", CFG_BOOL, OFF(test.test_mode), "false", NORANGE, NULL, 0,
     "use the test budgets below instead of runtime.* (also QMTL_TEST_MODE=1)"},
    {"test", "http_timeout_s", CFG_DOUBLE, OFF(test.budgets.http_timeout_s), "1.5", 0.001, 3600, NULL,
     0, "test mode: HTTP request timeout, seconds"},
    {"test", "ws_receive_timeout_s", CFG_DOUBLE, OFF(test.budgets.ws_receive_timeout_s), "1.5", 0.001,
     86400, NULL, 0, "test mode: event stream receive timeout, seconds"},
    {"test", "ws_reconnect_total_s", CFG_DOUBLE, OFF(test.budgets.ws_reconnect_total_s), "5", 0, 86400,
     NULL, CFG_F_NULL_ZERO, "test mode: total reconnect time, seconds (0 = unlimited)"},
    {"test", "poll_interval_s", CFG_DOUBLE, OFF(test.budgets.poll_interval_s), "2", 0.001, 86400, NULL,
     0, "test mode: polling interval, seconds"},
    {"test", "start_retry_total_s", CFG_DOUBLE, OFF(test.budgets.start_retry_total_s), "3", 0, 86400,
     NULL, 0, "test mode: start-up retry budget for an unanswered gateway, seconds"},
    {"test", "ws_ping_interval_s", CFG_DOUBLE, OFF(test.ws_ping_interval_s), "0.5", 0, 3600, NULL, 0,
     "test mode: used instead of gateway.ws_ping_interval_s"},

    /* broker */
    {"broker", "initial_cash", CFG_DOUBLE, OFF(broker.initial_cash), "100000", 0.01, 1e15, NULL, 0,
     "starting cash of each strategy's simulated account"},
    {"broker", "fee_bps", CFG_DOUBLE, OFF(broker.fee_bps), "1.0", 0, 10000, NULL, 0,
     "fee per fill, basis points of notional"},
    {"broker", "slippage_bps", CFG_DOUBLE, OFF(broker.slippage_bps), "0.5", 0, 10000, NULL, 0,
     "price slippage against the order, basis points"},
    {"broker", "fill_at", CFG_ENUM, OFF(broker.fill_at), "next_open", NORANGE, "next_open|close", 0,
     "market orders fill at the next bar's open (no look-ahead) or at the decision bar's close"},

    /* risk */
    {"risk", "max_position", CFG_DOUBLE, OFF(risk.max_position), "0", 0, 1e15, NULL, 0,
     "largest position in units of one symbol, either direction (0 = no limit)"},
    {"risk", "max_position_notional", CFG_DOUBLE, OFF(risk.max_position_notional), "0", 0, 1e15,
     NULL, 0, "largest |position| * price of one symbol after an order (0 = no limit)"},
    {"risk", "max_order_notional", CFG_DOUBLE, OFF(risk.max_order_notional), "0", 0, 1e15, NULL, 0,
     "largest quantity * price of one order (0 = no limit)"},
    {"risk", "max_orders_per_minute", CFG_LONG, OFF(risk.max_orders_per_minute), "0", 0, 1000000,
     NULL, 0, "orders a strategy may send in 60 s of event time (0 = no limit)"},
    {"risk", "max_daily_loss", CFG_DOUBLE, OFF(risk.max_daily_loss), "0", 0, 1e15, NULL, 0,
     "equity this far below the UTC day's start stops the strategy (0 = no limit)"},
    {"risk", "strategies", CFG_STRATEGY, OFF(risk.strategy_limits), "{}", NORANGE, NULL, CFG_F_NOENV,
     "per-strategy limits: name -> mapping of the keys above (numbers >= 0)"},
};

const char *const config_risk_keys[] = {"max_position", "max_position_notional",
                                        "max_order_notional", "max_orders_per_minute",
                                        "max_daily_loss", NULL};
/* clang-format on */

#define N_SCHEMA (sizeof(schema) / sizeof(schema[0]))

static const char *const sections[] = {"gateway", "dagmanager", "host", "runtime",
                                       "test",    "broker",     "risk"};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

const struct cfg_schema_entry *config_schema(size_t *n)
{
    *n = N_SCHEMA;
    return schema;
}

const struct cfg_schema_entry *cfg_find_entry_(const char *section, const char *key)
{
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (strcmp(schema[i].section, section) == 0 && strcmp(schema[i].key, key) == 0)
            return &schema[i];
    return NULL;
}

int cfg_is_section_(const char *section)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (strcmp(sections[i], section) == 0)
            return 1;
    return 0;
}

const char *config_env_name(const struct cfg_schema_entry *e, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    buf[0] = '\0';
    if ((e->flags & CFG_F_NOENV) || strchr(e->section, '.'))
        return buf;
    size_t o = 0;
    const char *parts[3] = {e->section, "__", e->key};
    o += (size_t)snprintf(buf, len, "QMTL__");
    for (int p = 0; p < 3 && o + 1 < len; p++)
        for (const char *s = parts[p]; *s && o + 1 < len; s++)
            buf[o++] = (char)toupper((unsigned char)*s);
    buf[o < len ? o : len - 1] = '\0';
    return buf;
}

const char *config_type_name(enum cfg_type t)
{
    switch (t) {
    case CFG_STR:
        return "string";
    case CFG_PATH:
        return "path";
    case CFG_URL:
        return "url";
    case CFG_ENUM:
        return "enum";
    case CFG_INT:
    case CFG_LONG:
    case CFG_I64:
        return "integer";
    case CFG_U64:
        return "unsigned integer";
    case CFG_DOUBLE:
        return "number";
    case CFG_BOOL:
        return "boolean";
    case CFG_STRLIST:
        return "list of strings";
    case CFG_DATA:
        return "list of data sources";
    case CFG_STRATEGY:
        return "mapping";
    }
    return "?";
}

const char *config_type_article(enum cfg_type t)
{
    if (t == CFG_ENUM)
        return "one of";
    if (t == CFG_INT || t == CFG_LONG || t == CFG_I64 || t == CFG_U64)
        return "an";
    return "a";
}

const char *cfg_suggest_(const char *section, const char *word)
{
    struct suggest sg;
    suggest_init(&sg, word);
    size_t n = section ? N_SCHEMA : N_SECTIONS;
    for (size_t i = 0; i < n; i++) {
        if (!section)
            suggest_add(&sg, sections[i]);
        else if (strcmp(schema[i].section, section) == 0)
            suggest_add(&sg, schema[i].key);
    }
    return suggest_best(&sg);
}

/* ---------------------------------------------------------------- values */

static void set_str(char **slot, const char *v)
{
    char *dup = strdup(v);
    if (!dup) {
        LOG_ERROR("config", "out of memory");
        abort();
    }
    free(*slot);
    *slot = dup;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "y"};
    static const char *const no[] = {"false", "no", "off", "0", "n"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int check_url(const char *s)
{
    if (!*s)
        return 0;
    const char *rest;
    if (strncmp(s, "http://", 7) == 0)
        rest = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        rest = s + 8;
    else
        return -1;
    if (!*rest || *rest == '/' || *rest == ':')
        return -1;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
            return -1;
    return 0;
}

static int enum_has(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && vl > 0 && strncmp(p, v, l) == 0)
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

/* Quote a value for a message, shortened. */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t l = strlen(s);
    if (l + 1 <= len && l <= 60) {
        memcpy(buf, s, l + 1);
    } else {
        snprintf(buf, len, "%.57s...", s);
    }
    for (char *p = buf; *p; p++)
        if (iscntrl((unsigned char)*p))
            *p = '?';
    return buf;
}

static int range_fail(const struct cfg_schema_entry *e, const char *text, char *why, size_t whylen)
{
    char sb[80];
    if (e->type == CFG_DOUBLE)
        snprintf(why, whylen, "%s is out of range [%g, %g]", shown(text, sb, sizeof(sb)), e->min,
                 e->max);
    else
        snprintf(why, whylen, "%s is out of range [%.0f, %.0f]", shown(text, sb, sizeof(sb)),
                 e->min, e->max);
    return -1;
}

int cfg_set_value_(void *base, const struct cfg_schema_entry *e, const char *text, int is_null,
                   char *why, size_t whylen)
{
    char *slot = (char *)base + e->offset;
    char sb[80];
    if (is_null) {
        if (e->type == CFG_STR || e->type == CFG_PATH || e->type == CFG_URL) {
            set_str((char **)(void *)slot, "");
            return 0;
        }
        if (!(e->flags & CFG_F_NULL_ZERO)) {
            snprintf(why, whylen, "expected %s %s, got null", config_type_article(e->type),
                     e->type == CFG_ENUM ? e->choices : config_type_name(e->type));
            return -1;
        }
        text = "0";
    }
    int checked = e->min <= e->max;
    switch (e->type) {
    case CFG_STR:
    case CFG_PATH:
        set_str((char **)(void *)slot, text);
        return 0;
    case CFG_URL:
        if (check_url(text) != 0) {
            snprintf(why, whylen, "expected an http:// or https:// URL, got '%s'",
                     shown(text, sb, sizeof(sb)));
            return -1;
        }
        set_str((char **)(void *)slot, text);
        return 0;
    case CFG_ENUM:
        if (!(*text == '\0' && e->def[0] == '\0') && !enum_has(e->choices, text)) {
            snprintf(why, whylen, "expected one of %s, got '%s'", e->choices,
                     shown(text, sb, sizeof(sb)));
            return -1;
        }
        set_str((char **)(void *)slot, text);
        return 0;
    case CFG_BOOL: {
        int b;
        if (parse_bool(text, &b) != 0) {
            snprintf(why, whylen, "expected a boolean (true|false), got '%s'",
                     shown(text, sb, sizeof(sb)));
            return -1;
        }
        *(int *)(void *)slot = b;
        return 0;
    }
    case CFG_INT:
    case CFG_LONG:
    case CFG_I64: {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (end == text || *end || errno == ERANGE || isspace((unsigned char)*text)) {
            snprintf(why, whylen, "expected an integer, got '%s'", shown(text, sb, sizeof(sb)));
            return -1;
        }
        if (checked && ((double)v < e->min || (double)v > e->max))
            return range_fail(e, text, why, whylen);
        if (e->type == CFG_INT) {
            if (v < -2147483647LL - 1 || v > 2147483647LL)
                return range_fail(e, text, why, whylen);
            *(int *)(void *)slot = (int)v;
        } else if (e->type == CFG_LONG) {
            *(long *)(void *)slot = (long)v;
        } else {
            *(int64_t *)(void *)slot = (int64_t)v;
        }
        return 0;
    }
    case CFG_U64: {
        char *end;
        errno = 0;
        if (*text == '-' || isspace((unsigned char)*text)) {
            snprintf(why, whylen, "expected an unsigned integer, got '%s'",
                     shown(text, sb, sizeof(sb)));
            return -1;
        }
        unsigned long long v = strtoull(text, &end, 10);
        if (end == text || *end || errno == ERANGE) {
            snprintf(why, whylen, "expected an unsigned integer, got '%s'",
                     shown(text, sb, sizeof(sb)));
            return -1;
        }
        *(uint64_t *)(void *)slot = (uint64_t)v;
        return 0;
    }
    case CFG_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end || !isfinite(v) || isspace((unsigned char)*text) ||
            (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))) {
            snprintf(why, whylen, "expected a number, got '%s'", shown(text, sb, sizeof(sb)));
            return -1;
        }
        if (checked && (v < e->min || v > e->max))
            return range_fail(e, text, why, whylen);
        *(double *)(void *)slot = v;
        return 0;
    }
    case CFG_STRLIST:
    case CFG_DATA:
    case CFG_STRATEGY:
        break;
    }
    snprintf(why, whylen, "expected a %s", config_type_name(e->type));
    return -1;
}

void cfg_apply_defaults_(void *base, const char *section)
{
    char why[160];
    for (size_t i = 0; i < N_SCHEMA; i++) {
        const struct cfg_schema_entry *e = &schema[i];
        if (strcmp(e->section, section) != 0)
            continue;
        if (e->type == CFG_STRLIST || e->type == CFG_DATA || e->type == CFG_STRATEGY)
            continue; /* empty by zero-initialisation */
        if (cfg_set_value_(base, e, e->def, 0, why, sizeof(why)) != 0) {
            LOG_ERROR("config", "bad built-in default for %s.%s: %s", e->section, e->key, why);
            abort();
        }
    }
}

void cfg_data_source_release_(struct cfg_data_source *d)
{
    for (size_t i = 0; i < d->n_tags; i++)
        free(d->tags[i]);
    free(d->tags);
    free(d->path);
    free(d->synthetic);
    free(d->live);
    memset(d, 0, sizeof(*d));
}

void config_init_defaults(struct qmtl_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < N_SECTIONS; i++)
        cfg_apply_defaults_(c, sections[i]);
}

void config_release(struct qmtl_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < N_SCHEMA; i++) {
        const struct cfg_schema_entry *e = &schema[i];
        if (strchr(e->section, '.'))
            continue;
        if (e->type == CFG_STR || e->type == CFG_PATH || e->type == CFG_URL ||
            e->type == CFG_ENUM) {
            char **slot = (char **)(void *)((char *)c + e->offset);
            free(*slot);
            *slot = NULL;
        }
    }
    for (size_t i = 0; i < c->host.n_data; i++)
        cfg_data_source_release_(&c->host.data[i]);
    free(c->host.data);
    for (size_t i = 0; i < c->host.n_strategy_params; i++) {
        free(c->host.strategy_params[i].strategy);
        free(c->host.strategy_params[i].key);
        free(c->host.strategy_params[i].value);
    }
    free(c->host.strategy_params);
    for (size_t i = 0; i < c->risk.n_strategy_limits; i++) {
        free(c->risk.strategy_limits[i].strategy);
        free(c->risk.strategy_limits[i].key);
        free(c->risk.strategy_limits[i].value);
    }
    free(c->risk.strategy_limits);
    for (size_t i = 0; i < c->n_warnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    free(c->source_path);
    memset(c, 0, sizeof(*c));
}

const char *config_format_value(const struct qmtl_config *c, const struct cfg_schema_entry *e,
                                int mask, char *buf, size_t len)
{
    const char *slot = (const char *)c + e->offset;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (strchr(e->section, '.'))
        return buf;
    switch (e->type) {
    case CFG_STR:
    case CFG_PATH:
    case CFG_URL:
    case CFG_ENUM: {
        const char *s = *(char *const *)(const void *)slot;
        snprintf(buf, len, "%s",
                 (mask && (e->flags & CFG_F_SECRET) && s && *s) ? "***"
                 : s                                            ? s
                                                                : "");
        break;
    }
    case CFG_INT:
        snprintf(buf, len, "%d", *(const int *)(const void *)slot);
        break;
    case CFG_LONG:
        snprintf(buf, len, "%ld", *(const long *)(const void *)slot);
        break;
    case CFG_I64:
        snprintf(buf, len, "%" PRId64, *(const int64_t *)(const void *)slot);
        break;
    case CFG_U64:
        snprintf(buf, len, "%" PRIu64, *(const uint64_t *)(const void *)slot);
        break;
    case CFG_DOUBLE: {
        /* shortest text that reads back as the same double */
        double v = *(const double *)(const void *)slot;
        snprintf(buf, len, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, len, "%.17g", v);
        break;
    }
    case CFG_BOOL:
        snprintf(buf, len, "%s", *(const int *)(const void *)slot ? "true" : "false");
        break;
    case CFG_DATA:
        snprintf(buf, len, "%zu source(s)", c->host.n_data);
        break;
    case CFG_STRATEGY:
        if (strcmp(e->section, "risk") == 0)
            snprintf(buf, len, "%zu limit(s)", c->risk.n_strategy_limits);
        else
            snprintf(buf, len, "%zu param(s)", c->host.n_strategy_params);
        break;
    case CFG_STRLIST:
        break;
    }
    return buf;
}
