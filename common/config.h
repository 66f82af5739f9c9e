/*
 * config: the typed contents of qmtl.yml (sections gateway, dagmanager, host, runtime,
 * test, broker), loaded with libyaml and checked against one schema table.
 *
 * Every scalar key has a default, an environment override QMTL__SECTION__KEY, a type and
 * a range; the table in config_schema.c is the single source for defaults, env names,
 * validation, `qmtl config validate` and docs/configuration.md.
 *
 * Ownership: a struct qmtl_config owns every string and array it points to. Start with
 * config_init_defaults() (or config_load*, which does it), end with config_release().
 * All strings are non-NULL after init ("" means unset) except source_path.
 *
 * Test mode (test.test_mode: true or QMTL_TEST_MODE=1): config_load*() copies the test
 * budgets (test.http_timeout_s, ...) over 'runtime', and test.ws_ping_interval_s over
 * gateway.ws_ping_interval_s, so 'runtime' and 'gateway' always hold the effective values
 * after a load. Clients should still call config_budgets(), which also
 * works on a config assembled by hand.
 */
#ifndef QMTL_COMMON_CONFIG_H
#define QMTL_COMMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct cfg_gateway {
    char *host;                 /* "127.0.0.1" */
    int port;                   /* 8000 (0 = any free port) */
    char *store_path;           /* "" = <state dir>/gateway.db (SQLite, WAL; ":memory:" allowed) */
    char *dagmanager_url;       /* "http://127.0.0.1:8001" ("" = none, degrade) */
    char *operator_token;       /* "" = operator routes refuse everything with 401 */
    char *submit_token;         /* "" = submitter routes refuse everything with 401 */
    char *host_token;           /* "" = live orders (POST /orders) refused */
    char *connector_token;      /* "" = connector routes (order list, acks, fills) refused */
    char *fill_secret;          /* HMAC key of POST /fills X-Signature ("" = signatures refused) */
    char *dagmanager_token;     /* bearer sent to the DAG manager ("" = none) */
    double dagmanager_timeout_s; /* 1.0: a DAG manager call taking longer degrades */
    /* 0; 1: a request without Authorization holds every credential (loopback only) */
    int insecure_allow_anonymous;
    char *event_secret;         /* HS256 secret; env QMTL_EVENT_SECRET overrides; "" = generate */
    char *event_kid;            /* "qmtl-1" */
    char *public_url;           /* "" = http://host:port ; stream_url = ws://.../ws/evt */
    int token_ttl_s;            /* 3600 */
    long max_body_bytes;        /* 1048576 */
    long max_header_bytes;      /* 16384 */
    long ws_max_message_bytes;  /* 65536 */
    long ws_outbuf_limit_bytes; /* 1048576 */
    double ws_ping_interval_s;  /* 1 (0 = no pings); test mode: test.ws_ping_interval_s */
    int ws_rate_limit_per_s;    /* 50 client messages/s (0 = unlimited) */
    int live_guard;             /* 1: live changes need header X-Allow-Live: true */
    double read_idle_timeout_s; /* 10: silence allowed while a request arrives */
    double read_timeout_s;      /* 30: whole request head + body */
    int ws_max_connections;     /* 1024 event-stream connections in total */
    long strategy_ttl_s;        /* 604800: unused submissions expire after this */
    double queue_poll_interval_s; /* 5: GET <dagmanager>/queue_updates (0 = never) */
    /* per credential: event streams (16), stored submissions (1000), DAG bytes (64 MiB) */
    int ws_max_connections_per_token;
    long max_strategies_per_token;
    long max_strategy_bytes_per_token;
};

struct cfg_dagmanager {
    char *host;        /* "127.0.0.1" */
    int port;          /* 8001 (0 = any free port) */
    char *store_path;  /* "" = <state dir>/dagmanager.db (see state_dir.h) */
    char *gateway_url; /* "" = none */
    char *token;       /* bearer its routes require ("" = refused) */
    /* 0; 1: requests without Authorization pass (loopback host only) */
    int insecure_allow_anonymous;
    char *bus;              /* "" = no bus; else nats://HOST:PORT: every queue gets a stream */
    long bus_retention_s;   /* 604800: how long a queue's stream keeps messages (0 = forever) */
    int bus_gc_interval_s;  /* 600: streams of unused queues deleted this often (0 = never) */
    int bus_replicas;       /* 1: copies of each stream and of the lease bucket (1..5) */
};

/* One entry of host.data (a YAML sequence of mappings). Exactly one of path/synthetic/live
 * is non-empty after a successful load; tags are set unless live is. */
struct cfg_data_source {
    char **tags;
    size_t n_tags;      /* required, >= 1 */
    char *path;         /* CSV file (relative paths resolve against the config file's dir) */
    char *synthetic;    /* or "gbm" | "random_walk" ("" when path is set) */
    char *live;         /* or a live input: "tcp:HOST:PORT" | "unix:PATH" | "stdin" ("") */
    int follow;         /* CSV path: follow the file as it grows (0) */
    int64_t interval_s; /* 60 */
    long count;         /* synthetic: 10000 */
    double start_price; /* 100 */
    double drift;       /* 0.0 per day */
    double volatility;  /* 0.02 per sqrt(day) */
    uint64_t seed;      /* 42 */
    int64_t start_ts;   /* synthetic: 1700000000 */
    int sort;           /* CSV: sort the rows by time in memory (0) */
    int allow_nonpositive_prices; /* accept prices <= 0 (0) */
};

/* host.strategies.<strategy>.<key>: <scalar>, kept as text in file order. */
struct cfg_kv {
    char *strategy;
    char *key;
    char *value;
};

struct cfg_host {
    char *plugins_dir; /* "plugins" */
    struct cfg_data_source *data;
    size_t n_data;
    char *world_id;    /* "" = offline */
    char *gateway_url; /* "" = offline */
    char *submit_token; /* bearer for submission, event subscription, world reads */
    char *host_token;   /* bearer for live orders */
    int metrics_port;  /* 0 = off */
    char *metrics_host; /* "127.0.0.1" */
    int hot_reload;    /* 1 */
    char *csv_errors;  /* "skip" | "fail" */
    char *on_missing;  /* "skip" | "fail" */
    struct cfg_kv *strategy_params;
    size_t n_strategy_params;
    double preflight_timeout_s;  /* 5 */
    long max_nodes_per_strategy; /* 1000000 */
    char *bus;                   /* "" = in process; else nats://HOST:PORT (see scale-out.md) */
    char *name; /* "" = host name + plugins directory: names the bus's durable consumers */
};

/* Time budgets every client in the project reads (via config_budgets()). */
struct cfg_runtime {
    double http_timeout_s;       /* 2.0 */
    double ws_receive_timeout_s; /* 2.5: stream silent this long = lost */
    double ws_reconnect_total_s; /* 0 = unlimited */
    double poll_interval_s;      /* 10 */
    double start_retry_total_s;  /* 30: attached start, unanswered gateway retried this long */
};

struct cfg_test {
    int test_mode;              /* 0; QMTL_TEST_MODE=1 sets it */
    struct cfg_runtime budgets; /* used when test_mode: 1.5, 1.5, 5, 2, 3 */
    double ws_ping_interval_s;  /* 0.5: replaces gateway.ws_ping_interval_s in test mode */
};

struct cfg_broker {
    double initial_cash; /* 100000 */
    double fee_bps;      /* 1.0 */
    double slippage_bps; /* 0.5 */
    char *fill_at;       /* "next_open" | "close" */
};

/* Pre-trade risk limits (0 = no limit). The host-wide values apply to every strategy;
 * risk.strategies.<name>.<key> overrides one of them for one strategy (keys: the five
 * limit names; values: numbers >= 0, checked at load). */
struct cfg_risk {
    double max_position;          /* units of one symbol, either direction */
    double max_position_notional; /* |position| * price after the order */
    double max_order_notional;    /* quantity * price of one order */
    long max_orders_per_minute;   /* orders sent in the last 60 s of event time */
    double max_daily_loss;        /* equity below the day's start by this much: stopped */
    struct cfg_kv *strategy_limits; /* per-strategy overrides (strategy, key, value) */
    size_t n_strategy_limits;
};

struct qmtl_config {
    char *source_path; /* file loaded, or NULL for built-in defaults */
    struct cfg_gateway gateway;
    struct cfg_dagmanager dagmanager;
    struct cfg_host host;
    struct cfg_runtime runtime;
    struct cfg_test test;
    struct cfg_broker broker;
    struct cfg_risk risk;
    /* Non-fatal findings of the last load (deprecated aliases...), one line each,
     * "file:line:col: message". Owned. */
    char **warnings;
    size_t n_warnings;
};

/* A load failure. msg is the full one-line message "file:line:col: ..." (or
 * "env NAME: ..." for an environment override); the other fields break it down
 * (line/column 1-based, 0 when unknown; key is the dotted path, "" when none). */
struct cfg_error {
    char msg[512];
    char file[256];
    int line, column;
    char key[128];
};

/* The risk limit names a risk.strategies.<name> mapping may set (NULL-terminated). */
extern const char *const config_risk_keys[];

/* Reset *c to the built-in defaults (heap strings). Does not read the environment.
 * *c must not hold a loaded config (call config_release first). */
void config_init_defaults(struct qmtl_config *c);

/* Free everything *c owns and leave it zeroed. NULL is a no-op. */
void config_release(struct qmtl_config *c);

/*
 * Load a config. path NULL: discovery ($QMTL_CONFIG_FILE, ./qmtl.yml, ./qmtl.yaml, else
 * built-in defaults). Then the environment overrides (QMTL__SECTION__KEY,
 * QMTL_EVENT_SECRET, QMTL_TEST_MODE) and the test-mode budgets are applied.
 * *c is initialised by this call (any previous content is NOT freed).
 * Returns 0; -1 with err filled (malformed YAML, unknown key, wrong type, out of range,
 * duplicate key, bad env value); -2 when the named file is missing or unreadable.
 * err may be NULL. On failure *c holds a valid but possibly partial config (defaults plus
 * what was read before the error) that must still be released.
 * Limits: files up to 4 MiB; mappings and sequences nested at most 64 deep (refused in
 * time linear in the file size); 4096 data sources of up to 256 tags; 1024 strategies of
 * up to 1024 parameters each (16384 in all).
 */
int config_load(const char *path, struct qmtl_config *c, struct cfg_error *err);

/* Same from text in memory; 'name' (NULL = "<string>") is used in messages. Relative
 * paths are kept as written. Environment overrides are applied as in config_load(). */
int config_load_string(const char *yaml, const char *name, struct qmtl_config *c,
                       struct cfg_error *err);

/* Same, but without reading the environment (tests, fuzzing). */
int config_load_string_noenv(const char *yaml, size_t len, const char *name, struct qmtl_config *c,
                             struct cfg_error *err);

/* The budgets in force: test.budgets when test mode is on, else runtime. Borrowed from c. */
const struct cfg_runtime *config_budgets(const struct qmtl_config *c);

/* The path discovery would pick (without --config): $QMTL_CONFIG_FILE, ./qmtl.yml,
 * ./qmtl.yaml, or NULL for built-in defaults. Borrowed/static. */
const char *config_discover(void);

/* Values of host.strategies.<strategy>.<key>, NULL when absent. Borrowed from c. */
const char *config_strategy_param(const struct qmtl_config *c, const char *strategy,
                                  const char *key);

/* ---------------------------------------------------------------- schema */

enum cfg_type {
    CFG_STR,      /* any scalar, kept as text */
    CFG_PATH,     /* a file system path; relative -> against the config file's directory */
    CFG_URL,      /* "" or http(s)://host[:port][/path] */
    CFG_ENUM,     /* one of 'choices' ("a|b|c") */
    CFG_INT,      /* int */
    CFG_LONG,     /* long */
    CFG_I64,      /* int64_t */
    CFG_U64,      /* uint64_t */
    CFG_DOUBLE,   /* finite double */
    CFG_BOOL,     /* true|false|yes|no|on|off|1|0 */
    CFG_STRLIST,  /* a sequence of strings (or one string) */
    CFG_DATA,     /* host.data: a sequence of mappings (schema section "host.data[]") */
    CFG_STRATEGY, /* host.strategies, risk.strategies: mapping name -> mapping key -> scalar */
};

#define CFG_F_NULL_ZERO 0x1 /* YAML null means 0 (e.g. "unlimited") */
#define CFG_F_REQUIRED 0x2  /* data source key that must be present */
#define CFG_F_SECRET 0x4    /* value is masked in dumps */
#define CFG_F_NOENV 0x8     /* no QMTL__ override (non-scalar) */

struct cfg_schema_entry {
    const char *section; /* "gateway", ..., or "host.data[]" for data source keys */
    const char *key;
    enum cfg_type type;
    size_t offset;       /* in struct qmtl_config, or in struct cfg_data_source */
    const char *def;     /* default as text (parsed by the same code as file values) */
    double min, max;     /* numeric range (inclusive); min > max = unchecked */
    const char *choices; /* CFG_ENUM: "a|b" */
    unsigned flags;
    const char *doc; /* one line */
};

/* The schema table (n entries). Static. */
const struct cfg_schema_entry *config_schema(size_t *n);

/* Environment variable of an entry: "QMTL__GATEWAY__PORT". "" for keys without one
 * (CFG_F_NOENV, data source keys). Returns buf. */
const char *config_env_name(const struct cfg_schema_entry *e, char *buf, size_t len);

/* Name of a type for messages and docs ("integer", "path", ...). Static. */
const char *config_type_name(enum cfg_type t);

/* The current value of a top-level entry as text (secrets masked as "***" when non-empty
 * and mask is set). Returns buf. */
const char *config_format_value(const struct qmtl_config *c, const struct cfg_schema_entry *e,
                                int mask, char *buf, size_t len);

#endif
