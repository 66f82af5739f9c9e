/* Unit tests for common/config (loader, schema, env, test mode) and common/config_check. */
#include "config.h"
#include "cli/config/config_check.h"
#include "log.h"

#include <check.h>
#include <sqlite3.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

static char warned[512];
static void capture(enum log_level level, const char *line, void *arg)
{
    (void)level;
    (void)arg;
    snprintf(warned, sizeof(warned), "%s", line);
}

static void quiet(void)
{
    warned[0] = '\0';
    log_set_sink(capture, NULL);
}

/* Load YAML text named "t.yml" without the environment; returns rc, err in *e. */
static int load(const char *yaml, struct qmtl_config *c, struct cfg_error *e)
{
    return config_load_string_noenv(yaml, strlen(yaml), "t.yml", c, e);
}

/* The load must fail with exactly this message. */
static void expect_error(const char *yaml, const char *msg)
{
    struct qmtl_config c;
    struct cfg_error e;
    quiet();
    int rc = load(yaml, &c, &e);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(e.msg, msg);
    config_release(&c);
}

static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/qmtl-config-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tmpdir(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq((long)fread(b, 1, (size_t)n, f), n);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* ---------------------------------------------------------------- defaults */

/* Every top-level key and its documented default, as config_format_value prints it. */
static const struct {
    const char *key, *value;
} expected_defaults[] = {
    {"gateway.host", "127.0.0.1"},
    {"gateway.port", "8000"},
    {"gateway.store_path", ""},
    {"gateway.dagmanager_url", "http://127.0.0.1:8001"},
    {"gateway.operator_token", ""},
    {"gateway.submit_token", ""},
    {"gateway.host_token", ""},
    {"gateway.connector_token", ""},
    {"gateway.dagmanager_token", ""},
    {"gateway.insecure_allow_anonymous", "false"},
    {"gateway.event_secret", ""},
    {"gateway.event_kid", "qmtl-1"},
    {"gateway.public_url", ""},
    {"gateway.token_ttl_s", "3600"},
    {"gateway.max_body_bytes", "1048576"},
    {"gateway.max_header_bytes", "16384"},
    {"gateway.ws_max_message_bytes", "65536"},
    {"gateway.ws_outbuf_limit_bytes", "1048576"},
    {"gateway.ws_ping_interval_s", "1"},
    {"gateway.ws_rate_limit_per_s", "50"},
    {"gateway.live_guard", "true"},
    {"gateway.read_idle_timeout_s", "10"},
    {"gateway.read_timeout_s", "30"},
    {"gateway.ws_max_connections", "1024"},
    {"gateway.ws_max_connections_per_token", "16"},
    {"gateway.max_strategies_per_token", "1000"},
    {"gateway.max_strategy_bytes_per_token", "67108864"},
    {"gateway.strategy_ttl_s", "604800"},
    {"dagmanager.host", "127.0.0.1"},
    {"dagmanager.port", "8001"},
    {"dagmanager.store_path", ""},
    {"dagmanager.gateway_url", ""},
    {"dagmanager.token", ""},
    {"dagmanager.insecure_allow_anonymous", "false"},
    {"host.plugins_dir", "plugins"},
    {"host.data", "0 source(s)"},
    {"host.world_id", ""},
    {"host.gateway_url", ""},
    {"host.submit_token", ""},
    {"host.host_token", ""},
    {"host.metrics_port", "0"},
    {"host.hot_reload", "true"},
    {"host.csv_errors", "skip"},
    {"host.on_missing", "skip"},
    {"host.strategies", "0 param(s)"},
    {"host.preflight_timeout_s", "5"},
    {"host.max_nodes_per_strategy", "1000000"},
    {"runtime.http_timeout_s", "2"},
    {"runtime.ws_receive_timeout_s", "2.5"},
    {"runtime.ws_reconnect_total_s", "0"},
    {"runtime.poll_interval_s", "10"},
    {"runtime.start_retry_total_s", "30"},
    {"test.test_mode", "false"},
    {"test.http_timeout_s", "1.5"},
    {"test.ws_receive_timeout_s", "1.5"},
    {"test.ws_reconnect_total_s", "5"},
    {"test.poll_interval_s", "2"},
    {"test.start_retry_total_s", "3"},
    {"test.ws_ping_interval_s", "0.5"},
    {"broker.initial_cash", "100000"},
    {"broker.fee_bps", "1"},
    {"broker.slippage_bps", "0.5"},
};
#define N_EXPECTED (sizeof(expected_defaults) / sizeof(expected_defaults[0]))

START_TEST(test_every_default)
{
    struct qmtl_config c;
    config_init_defaults(&c);
    size_t n, top = 0;
    const struct cfg_schema_entry *s = config_schema(&n);
    char key[128], buf[256];
    for (size_t i = 0; i < n; i++) {
        if (strchr(s[i].section, '.'))
            continue;
        top++;
        snprintf(key, sizeof(key), "%s.%s", s[i].section, s[i].key);
        const char *want = NULL;
        for (size_t j = 0; j < N_EXPECTED; j++)
            if (!strcmp(expected_defaults[j].key, key))
                want = expected_defaults[j].value;
        ck_assert_msg(want != NULL, "schema key %s has no expected default in this test", key);
        ck_assert_str_eq(config_format_value(&c, &s[i], 0, buf, sizeof(buf)), want);
    }
    ck_assert_uint_eq(top, N_EXPECTED);
    /* the fields themselves, as consumers read them */
    ck_assert_int_eq(c.gateway.port, 8000);
    ck_assert_str_eq(c.gateway.host, "127.0.0.1");
    ck_assert_int_eq(c.gateway.live_guard, 1);
    ck_assert_int_eq(c.gateway.max_body_bytes, 1048576);
    ck_assert_int_eq(c.dagmanager.port, 8001);
    ck_assert_int_eq(c.host.hot_reload, 1);
    ck_assert_uint_eq(c.host.n_data, 0);
    ck_assert_ptr_null(c.source_path);
    ck_assert(c.runtime.http_timeout_s == 2.0);
    ck_assert(c.runtime.ws_receive_timeout_s == 2.5);
    ck_assert(c.runtime.ws_reconnect_total_s == 0.0);
    ck_assert(c.runtime.poll_interval_s == 10.0);
    ck_assert(c.runtime.start_retry_total_s == 30.0);
    ck_assert(c.gateway.ws_ping_interval_s == 1.0);
    ck_assert(c.test.ws_ping_interval_s == 0.5);
    ck_assert(c.broker.initial_cash == 100000.0);
    ck_assert(c.broker.fee_bps == 1.0);
    ck_assert(c.broker.slippage_bps == 0.5);
    config_release(&c);
    ck_assert_ptr_null(c.gateway.host);
    config_release(NULL);
}
END_TEST

START_TEST(test_data_source_defaults)
{
    struct qmtl_config c;
    struct cfg_error e;
    ck_assert_int_eq(load("host:\n  data:\n    - tags: [A]\n      synthetic: gbm\n", &c, &e), 0);
    ck_assert_uint_eq(c.host.n_data, 1);
    const struct cfg_data_source *d = &c.host.data[0];
    ck_assert_uint_eq(d->n_tags, 1);
    ck_assert_str_eq(d->tags[0], "A");
    ck_assert_str_eq(d->path, "");
    ck_assert_str_eq(d->synthetic, "gbm");
    ck_assert_int_eq(d->interval_s, 60);
    ck_assert_int_eq(d->count, 10000);
    ck_assert(d->start_price == 100.0);
    ck_assert(d->drift == 0.0);
    ck_assert(d->volatility == 0.02);
    ck_assert_uint_eq(d->seed, 42);
    ck_assert_int_eq(d->start_ts, 1700000000);
    config_release(&c);
}
END_TEST

/* ---------------------------------------------------------------- file values */

START_TEST(test_file_overrides)
{
    static const char yaml[] = "gateway:\n"
                               "  host: 0.0.0.0\n"
                               "  port: 9100\n"
                               "  store_path: /var/lib/qmtl/gw.db\n"
                               "  dagmanager_url: \"\"\n"
                               "  operator_token: op\n"
                               "  submit_token: sub\n"
                               "  event_secret: s3cret\n"
                               "  event_kid: k2\n"
                               "  public_url: https://qmtl.example.com/base\n"
                               "  token_ttl_s: 60\n"
                               "  max_body_bytes: 2048\n"
                               "  max_header_bytes: 4096\n"
                               "  ws_max_message_bytes: 1000\n"
                               "  ws_outbuf_limit_bytes: 8192\n"
                               "  ws_ping_interval_s: 0.25\n"
                               "  ws_rate_limit_per_s: 7\n"
                               "  live_guard: off\n"
                               "dagmanager: {host: 10.0.0.1, port: 9101, store_path: dm.db,"
                               " gateway_url: 'http://10.0.0.2:9100'}\n"
                               "host:\n"
                               "  plugins_dir: /opt/plugins\n"
                               "  world_id: w1\n"
                               "  gateway_url: http://127.0.0.1:9100\n"
                               "  metrics_port: 9102\n"
                               "  hot_reload: false\n"
                               "  csv_errors: fail\n"
                               "  on_missing: fail\n"
                               "runtime:\n"
                               "  http_timeout_s: 3.5\n"
                               "  ws_receive_timeout_s: 12\n"
                               "  ws_reconnect_total_s: null\n"
                               "  poll_interval_s: 0.25\n"
                               "  start_retry_total_s: 0\n"
                               "test:\n"
                               "  test_mode: false\n"
                               "  http_timeout_s: 0.5\n"
                               "  ws_receive_timeout_s: 1\n"
                               "  ws_reconnect_total_s: 2\n"
                               "  poll_interval_s: 0.1\n"
                               "  start_retry_total_s: 0.75\n"
                               "  ws_ping_interval_s: 0.2\n"
                               "broker: {initial_cash: 5e5, fee_bps: 0, slippage_bps: 2.5}\n";
    struct qmtl_config c;
    struct cfg_error e;
    ck_assert_int_eq(load(yaml, &c, &e), 0);
    ck_assert_str_eq(c.gateway.host, "0.0.0.0");
    ck_assert_int_eq(c.gateway.port, 9100);
    ck_assert_str_eq(c.gateway.store_path, "/var/lib/qmtl/gw.db");
    ck_assert_str_eq(c.gateway.dagmanager_url, "");
    ck_assert_str_eq(c.gateway.operator_token, "op");
    ck_assert_str_eq(c.gateway.submit_token, "sub");
    ck_assert_str_eq(c.gateway.event_secret, "s3cret");
    ck_assert_str_eq(c.gateway.event_kid, "k2");
    ck_assert_str_eq(c.gateway.public_url, "https://qmtl.example.com/base");
    ck_assert_int_eq(c.gateway.token_ttl_s, 60);
    ck_assert_int_eq(c.gateway.max_body_bytes, 2048);
    ck_assert_int_eq(c.gateway.max_header_bytes, 4096);
    ck_assert_int_eq(c.gateway.ws_max_message_bytes, 1000);
    ck_assert_int_eq(c.gateway.ws_outbuf_limit_bytes, 8192);
    ck_assert(c.gateway.ws_ping_interval_s == 0.25); /* not test mode: the gateway's own */
    ck_assert_int_eq(c.gateway.ws_rate_limit_per_s, 7);
    ck_assert_int_eq(c.gateway.live_guard, 0);
    ck_assert_str_eq(c.dagmanager.host, "10.0.0.1");
    ck_assert_int_eq(c.dagmanager.port, 9101);
    ck_assert_str_eq(c.dagmanager.store_path, "dm.db"); /* from a string: kept as written */
    ck_assert_str_eq(c.dagmanager.gateway_url, "http://10.0.0.2:9100");
    ck_assert_str_eq(c.host.plugins_dir, "/opt/plugins");
    ck_assert_str_eq(c.host.world_id, "w1");
    ck_assert_str_eq(c.host.gateway_url, "http://127.0.0.1:9100");
    ck_assert_int_eq(c.host.metrics_port, 9102);
    ck_assert_int_eq(c.host.hot_reload, 0);
    ck_assert_str_eq(c.host.csv_errors, "fail");
    ck_assert_str_eq(c.host.on_missing, "fail");
    ck_assert(c.runtime.http_timeout_s == 3.5);
    ck_assert(c.runtime.ws_receive_timeout_s == 12);
    ck_assert(c.runtime.ws_reconnect_total_s == 0);
    ck_assert(c.runtime.poll_interval_s == 0.25);
    ck_assert(c.runtime.start_retry_total_s == 0);
    ck_assert_int_eq(c.test.test_mode, 0);
    ck_assert(c.test.budgets.http_timeout_s == 0.5);
    ck_assert(c.test.budgets.ws_receive_timeout_s == 1);
    ck_assert(c.test.budgets.ws_reconnect_total_s == 2);
    ck_assert(c.test.budgets.poll_interval_s == 0.1);
    ck_assert(c.test.budgets.start_retry_total_s == 0.75);
    ck_assert(c.test.ws_ping_interval_s == 0.2);
    ck_assert(c.broker.initial_cash == 500000);
    ck_assert(c.broker.fee_bps == 0);
    ck_assert(c.broker.slippage_bps == 2.5);
    ck_assert(config_budgets(&c) == &c.runtime);
    ck_assert_uint_eq(c.n_warnings, 0);
    config_release(&c);
}
END_TEST

START_TEST(test_data_and_strategies)
{
    static const char yaml[] = "host:\n"
                               "  data:\n"
                               "    - tags: [BTC/USDT, 1m]\n"
                               "      path: data/btc.csv\n"
                               "      interval_s: 300\n"
                               "    - tags: ETH\n"
                               "      synthetic: random_walk\n"
                               "      count: 50\n"
                               "      start_price: 2.5\n"
                               "      drift: -0.01\n"
                               "      volatility: 0.3\n"
                               "      seed: 18446744073709551615\n"
                               "      start_ts: 0\n"
                               "  strategies:\n"
                               "    sma_cross: {fast: 5, slow: 20, name: \"x y\"}\n"
                               "    empty:\n"
                               "    mr:\n"
                               "      window: 30\n"
                               "      z: ~\n";
    struct qmtl_config c;
    struct cfg_error e;
    ck_assert_int_eq(load(yaml, &c, &e), 0);
    ck_assert_uint_eq(c.host.n_data, 2);
    ck_assert_uint_eq(c.host.data[0].n_tags, 2);
    ck_assert_str_eq(c.host.data[0].tags[0], "BTC/USDT");
    ck_assert_str_eq(c.host.data[0].tags[1], "1m");
    ck_assert_str_eq(c.host.data[0].path, "data/btc.csv");
    ck_assert_int_eq(c.host.data[0].interval_s, 300);
    ck_assert_str_eq(c.host.data[1].tags[0], "ETH");
    ck_assert_str_eq(c.host.data[1].synthetic, "random_walk");
    ck_assert_int_eq(c.host.data[1].count, 50);
    ck_assert(c.host.data[1].start_price == 2.5);
    ck_assert(c.host.data[1].drift == -0.01);
    ck_assert(c.host.data[1].volatility == 0.3);
    ck_assert_uint_eq(c.host.data[1].seed, UINT64_MAX);
    ck_assert_int_eq(c.host.data[1].start_ts, 0);
    ck_assert_uint_eq(c.host.n_strategy_params, 5);
    ck_assert_str_eq(c.host.strategy_params[0].strategy, "sma_cross");
    ck_assert_str_eq(c.host.strategy_params[0].key, "fast");
    ck_assert_str_eq(c.host.strategy_params[0].value, "5");
    ck_assert_str_eq(config_strategy_param(&c, "sma_cross", "slow"), "20");
    ck_assert_str_eq(config_strategy_param(&c, "sma_cross", "name"), "x y");
    ck_assert_str_eq(config_strategy_param(&c, "mr", "window"), "30");
    ck_assert_str_eq(config_strategy_param(&c, "mr", "z"), "");
    ck_assert_ptr_null(config_strategy_param(&c, "mr", "nope"));
    ck_assert_ptr_null(config_strategy_param(&c, "empty", "x"));
    config_release(&c);
}
END_TEST

START_TEST(test_empty_and_null_documents)
{
    static const char *const docs[] = {"", "# only a comment\n", "---\n", "~\n",
                                       "gateway:\nhost: ~\n"};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct qmtl_config c;
        struct cfg_error e;
        ck_assert_int_eq(load(docs[i], &c, &e), 0);
        ck_assert_int_eq(c.gateway.port, 8000);
        config_release(&c);
    }
}
END_TEST

/* ---------------------------------------------------------------- error classes */

START_TEST(test_error_unknown_key)
{
    expect_error("gateway:\n  port: 1\n  prot: 2\n",
                 "t.yml:3:3: unknown key 'gateway.prot' (did you mean 'gateway.port'?)");
    expect_error("host:\n  plugin_dir: x\n",
                 "t.yml:2:3: unknown key 'host.plugin_dir' (did you mean 'host.plugins_dir'?)");
    expect_error("gateway:\n  frobnicate: 1\n", "t.yml:2:3: unknown key 'gateway.frobnicate'");
    expect_error("gateway:\n  plugins_dir: p\n", "t.yml:2:3: unknown key 'gateway.plugins_dir' (it "
                                                 "belongs in section 'host': 'host.plugins_dir')");
    expect_error("gatway:\n  port: 1\n", "t.yml:1:1: unknown section 'gatway' (did you mean "
                                         "'gateway'?)");
    expect_error("worldservice: {}\n", "t.yml:1:1: unknown section 'worldservice'");
    expect_error("host:\n  data:\n    - tags: [a]\n      synthetic: gbm\n      sead: 1\n",
                 "t.yml:5:7: unknown key 'host.data[0].sead' (did you mean 'host.data[0].seed'?)");
    struct qmtl_config c;
    struct cfg_error e;
    ck_assert_int_eq(load("gateway:\n  prot: 2\n", &c, &e), -1);
    ck_assert_str_eq(e.file, "t.yml");
    ck_assert_int_eq(e.line, 2);
    ck_assert_int_eq(e.column, 3);
    ck_assert_str_eq(e.key, "gateway.prot");
    config_release(&c);
}
END_TEST

START_TEST(test_error_wrong_type)
{
    expect_error("gateway:\n  port: eighty\n",
                 "t.yml:2:9: gateway.port: expected an integer, got 'eighty'");
    expect_error("gateway:\n  port: 80.5\n",
                 "t.yml:2:9: gateway.port: expected an integer, got '80.5'");
    expect_error("gateway:\n  live_guard: maybe\n",
                 "t.yml:2:15: gateway.live_guard: expected a boolean (true|false), got 'maybe'");
    expect_error("runtime:\n  http_timeout_s: fast\n",
                 "t.yml:2:19: runtime.http_timeout_s: expected a number, got 'fast'");
    expect_error("runtime:\n  http_timeout_s: .nan\n",
                 "t.yml:2:19: runtime.http_timeout_s: expected a number, got '.nan'");
    expect_error("gateway:\n  host: [a, b]\n",
                 "t.yml:2:9: gateway.host: expected a string, got a sequence");
    expect_error("gateway:\n  port:\n", "t.yml:2:8: gateway.port: expected an integer, got null");
    expect_error("gateway: 8000\n", "t.yml:1:10: section 'gateway' must be a mapping, got a "
                                    "scalar");
    expect_error("- a\n- b\n",
                 "t.yml:1:1: the top level must be a mapping of sections, got a sequence");
    expect_error("host:\n  csv_errors: ignore\n",
                 "t.yml:2:15: host.csv_errors: expected one of skip|fail, got 'ignore'");
    expect_error("host:\n  gateway_url: localhost:8000\n",
                 "t.yml:2:16: host.gateway_url: expected an http:// or https:// URL, got "
                 "'localhost:8000'");
    expect_error("host:\n  data: {tags: a}\n",
                 "t.yml:2:9: host.data: expected a sequence of mappings, got a mapping");
    expect_error("host:\n  data:\n    - 3\n",
                 "t.yml:3:7: host.data[0]: expected a mapping, got a scalar");
    expect_error("host:\n  data:\n    - tags: [a, [b]]\n      path: x\n",
                 "t.yml:3:17: host.data[0].tags: each tag must be a non-empty string, got a "
                 "sequence");
    expect_error("host:\n  strategies:\n    s: [1]\n",
                 "t.yml:3:8: host.strategies.s: expected a mapping of parameters, got a sequence");
    expect_error("host:\n  strategies:\n    s: {k: {a: 1}}\n",
                 "t.yml:3:12: host.strategies.s.k: expected a scalar, got a mapping");
    expect_error("? [a]\n: 1\n", "t.yml:1:3: keys must be non-empty strings");
}
END_TEST

START_TEST(test_error_out_of_range)
{
    expect_error("gateway:\n  port: 70000\n",
                 "t.yml:2:9: gateway.port: 70000 is out of range [0, 65535]");
    expect_error("gateway:\n  port: -1\n",
                 "t.yml:2:9: gateway.port: -1 is out of range [0, 65535]");
    expect_error("gateway:\n  port: 99999999999999999999\n",
                 "t.yml:2:9: gateway.port: expected an integer, got '99999999999999999999'");
    expect_error("broker:\n  fee_bps: -0.5\n",
                 "t.yml:2:12: broker.fee_bps: -0.5 is out of range [0, 10000]");
    expect_error("runtime:\n  http_timeout_s: 0\n",
                 "t.yml:2:19: runtime.http_timeout_s: 0 is out of range [0.001, 3600]");
    expect_error("gateway:\n  max_body_bytes: 10\n",
                 "t.yml:2:19: gateway.max_body_bytes: 10 is out of range [1024, 1073741824]");
    expect_error("host:\n  data:\n    - {tags: a, synthetic: gbm, count: 0}\n",
                 "t.yml:3:40: host.data[0].count: 0 is out of range [1, 100000000]");
    expect_error("host:\n  data:\n    - {tags: a, synthetic: gbm, seed: -1}\n",
                 "t.yml:3:39: host.data[0].seed: expected an unsigned integer, got '-1'");
}
END_TEST

START_TEST(test_error_duplicate_key)
{
    expect_error("gateway:\n  port: 1\n  host: x\n  port: 2\n",
                 "t.yml:4:3: duplicate key 'gateway.port' (first defined at line 2)");
    expect_error("gateway: {}\nhost: {}\ngateway: {}\n",
                 "t.yml:3:1: duplicate key 'gateway' (first defined at line 1)");
    expect_error("gateway:\n  store_path: a.db\n  database_url: sqlite:///b.db\n",
                 "t.yml:3:3: duplicate key 'gateway.store_path' (also set as 'store_path' at "
                 "line 2)");
    expect_error("host:\n  strategies:\n    a: {x: 1, x: 2}\n",
                 "t.yml:3:15: duplicate key 'host.strategies.a.x' (first defined at line 3)");
    expect_error("host:\n  data:\n    - {tags: a, tags: b, path: x}\n",
                 "t.yml:3:17: duplicate key 'host.data[0].tags' (first defined at line 3)");
}
END_TEST

START_TEST(test_error_malformed_yaml)
{
    expect_error("gateway:\n  port: [1, 2\n",
                 "t.yml:3:1: malformed YAML: did not find expected ',' or ']' (while parsing a "
                 "flow sequence)");
    expect_error("gateway:\n\tport: 1\n",
                 "t.yml:2:1: malformed YAML: found character that cannot start any token (while "
                 "scanning for the next token)");
    expect_error("gateway:\n  port: 1\n bad: 2\n",
                 "t.yml:3:2: malformed YAML: did not find expected key (while parsing a block "
                 "mapping)");
    expect_error("gateway: {port: *nope}\n", "t.yml:1:17: malformed YAML: found undefined alias");
    expect_error("gateway: {}\n---\nhost: {}\n",
                 "t.yml:3:1: malformed YAML: more than one document in the file");
    struct qmtl_config c;
    struct cfg_error e;
    static const char nul[] = "gateway:\n  host: \"a\\0b\"\n";
    ck_assert_int_eq(load(nul, &c, &e), -1);
    ck_assert_str_eq(e.msg, "t.yml:2:9: gateway.host: value contains a NUL byte");
    config_release(&c);
}
END_TEST

/* Deep nesting is refused, with file:line:col of the first level too deep, before the
 * document is built (a 200 KB file of nested brackets took half a minute of CPU). */
START_TEST(test_error_nesting_depth)
{
    /* 200 KB of flow sequences, then of flow mappings */
    size_t n = 200 * 1024;
    char *deep = malloc(n + 16);
    ck_assert_ptr_nonnull(deep);
    memcpy(deep, "gateway: ", 9);
    memset(deep + 9, '[', n);
    deep[9 + n] = '\0';
    expect_error(deep, "t.yml:1:73: malformed YAML: nested deeper than 64 levels");
    for (size_t i = 0; i + 4 <= n; i += 4)
        memcpy(deep + 9 + i, "{a: ", 4);
    expect_error(deep, "t.yml:1:262: malformed YAML: nested deeper than 64 levels");
    free(deep);
    /* block style: one more level per line */
    char block[16384];
    size_t len = 0;
    for (int d = 0; d < 70; d++)
        len += (size_t)snprintf(block + len, sizeof(block) - len, "%*sk%d:\n", d, "", d);
    expect_error(block, "t.yml:65:65: malformed YAML: nested deeper than 64 levels");
    /* 64 levels pass the depth check (and fail on what they contain) */
    char ok[256] = "gateway: ";
    len = strlen(ok);
    memset(ok + len, '[', 63);
    memset(ok + len + 63, ']', 63);
    ok[len + 126] = '\0';
    expect_error(ok, "t.yml:1:10: section 'gateway' must be a mapping, got a sequence");
}
END_TEST

START_TEST(test_error_data_source_rules)
{
    expect_error("host:\n  data:\n    - path: x.csv\n",
                 "t.yml:3:7: host.data[0]: missing required key 'tags'");
    expect_error("host:\n  data:\n    - {tags: a, path: x.csv, synthetic: gbm}\n",
                 "t.yml:3:7: host.data[0]: exactly one of 'path' and 'synthetic' must be set");
    expect_error("host:\n  data:\n    - {tags: a}\n",
                 "t.yml:3:7: host.data[0]: exactly one of 'path' and 'synthetic' must be set");
    expect_error("host:\n  data:\n    - {tags: [], path: x}\n",
                 "t.yml:3:14: host.data[0].tags: at least one tag is required");
    expect_error("host:\n  data:\n    - {tags: a, synthetic: brownian}\n",
                 "t.yml:3:28: host.data[0].synthetic: expected one of gbm|random_walk, got "
                 "'brownian'");
}
END_TEST

START_TEST(test_deprecated_aliases)
{
    struct qmtl_config c;
    struct cfg_error e;
    quiet();
    ck_assert_int_eq(load("gateway:\n  database_url: sqlite:///gw.db\n"
                          "dagmanager:\n  database_uri: /abs/dm.db\n  http_port: 9001\n",
                          &c, &e),
                     0);
    ck_assert_str_eq(c.gateway.store_path, "gw.db");
    ck_assert_str_eq(c.dagmanager.store_path, "/abs/dm.db");
    ck_assert_int_eq(c.dagmanager.port, 9001);
    ck_assert_uint_eq(c.n_warnings, 3);
    ck_assert_str_eq(c.warnings[0],
                     "t.yml:2:3: 'gateway.database_url' is deprecated, use 'gateway.store_path'");
    ck_assert_str_eq(c.warnings[2],
                     "t.yml:5:3: 'dagmanager.http_port' is deprecated, use 'dagmanager.port'");
    ck_assert_str_eq(warned, "[config] t.yml:5:3: 'dagmanager.http_port' is deprecated, use "
                             "'dagmanager.port'");
    config_release(&c);
    expect_error("gateway:\n  database_dsn: postgresql://db/qmtl\n",
                 "t.yml:2:17: gateway.database_dsn: only SQLite stores are supported, got "
                 "'postgresql://db/qmtl'");
    log_set_sink(NULL, NULL);
}
END_TEST

/* ---------------------------------------------------------------- env and test mode */

/* A valid non-default value for an entry, as config_format_value would print it. */
static void other_value(const struct cfg_schema_entry *e, char *buf, size_t len)
{
    double mid = e->min <= e->max ? e->min + (e->max - e->min) / 3 : 7;
    switch (e->type) {
    case CFG_STR:
        snprintf(buf, len, "env-%s", e->key);
        break;
    case CFG_PATH:
        snprintf(buf, len, "/env/%s", e->key);
        break;
    case CFG_URL:
        snprintf(buf, len, "http://env.invalid:81/%s", e->key);
        break;
    case CFG_ENUM:
        snprintf(buf, len, "%s", strcmp(e->def, "skip") ? "skip" : "fail");
        break;
    case CFG_BOOL:
        snprintf(buf, len, "%s", strcmp(e->def, "true") ? "true" : "false");
        break;
    case CFG_DOUBLE:
        snprintf(buf, len, "%.15g", mid + 0.125);
        break;
    default:
        snprintf(buf, len, "%.0f", floor(mid) + 1);
        break;
    }
}

START_TEST(test_env_override_every_key)
{
    size_t n, tried = 0;
    const struct cfg_schema_entry *s = config_schema(&n);
    char env[128], val[128], got[256];
    for (size_t i = 0; i < n; i++) {
        config_env_name(&s[i], env, sizeof(env));
        if (!env[0])
            continue;
        if (!strcmp(s[i].key, "test_mode"))
            continue; /* covered by test_test_mode */
        other_value(&s[i], val, sizeof(val));
        ck_assert_int_eq(setenv(env, val, 1), 0);
        struct qmtl_config c;
        struct cfg_error e;
        int rc = config_load_string("gateway: {port: 1234}\n", "t.yml", &c, &e);
        ck_assert_msg(rc == 0, "%s=%s: %s", env, val, e.msg);
        config_format_value(&c, &s[i], 0, got, sizeof(got));
        ck_assert_msg(!strcmp(got, val), "%s=%s gave %s", env, val, got);
        config_release(&c);
        unsetenv(env);
        tried++;
    }
    ck_assert_uint_ge(tried, 39);
}
END_TEST

START_TEST(test_env_names_and_errors)
{
    size_t n;
    const struct cfg_schema_entry *s = config_schema(&n);
    char env[128];
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(s[i].section, "gateway") && !strcmp(s[i].key, "ws_max_message_bytes"))
            ck_assert_str_eq(config_env_name(&s[i], env, sizeof(env)),
                             "QMTL__GATEWAY__WS_MAX_MESSAGE_BYTES");
        if (!strcmp(s[i].section, "host") && !strcmp(s[i].key, "data"))
            ck_assert_str_eq(config_env_name(&s[i], env, sizeof(env)), "");
    }
    setenv("QMTL__GATEWAY__PORT", "http", 1);
    struct qmtl_config c;
    struct cfg_error e;
    ck_assert_int_eq(config_load_string("", NULL, &c, &e), -1);
    ck_assert_str_eq(e.msg, "env QMTL__GATEWAY__PORT: gateway.port: expected an integer, got "
                            "'http'");
    ck_assert_str_eq(e.key, "gateway.port");
    config_release(&c);
    unsetenv("QMTL__GATEWAY__PORT");
    /* a QMTL__ variable that names no key is a warning, with a suggestion */
    quiet();
    setenv("QMTL__GATEWAY__PROT", "1", 1);
    setenv("QMTL__NOTHING__LIKE_IT", "1", 1);
    ck_assert_int_eq(config_load_string("", NULL, &c, &e), 0);
    ck_assert_uint_eq(c.n_warnings, 2);
    int a = strstr(c.warnings[0], "PROT") ? 0 : 1;
    ck_assert_str_eq(c.warnings[a], "env QMTL__GATEWAY__PROT: no such setting, ignored (did you "
                                    "mean QMTL__GATEWAY__PORT?)");
    ck_assert_str_eq(c.warnings[1 - a], "env QMTL__NOTHING__LIKE_IT: no such setting, ignored");
    config_release(&c);
    unsetenv("QMTL__GATEWAY__PROT");
    unsetenv("QMTL__NOTHING__LIKE_IT");
    log_set_sink(NULL, NULL);
    /* the environment wins over the file */
    setenv("QMTL__GATEWAY__PORT", "9999", 1);
    ck_assert_int_eq(config_load_string("gateway: {port: 1}\n", NULL, &c, &e), 0);
    ck_assert_int_eq(c.gateway.port, 9999);
    config_release(&c);
    /* ... but not over a file loaded without the environment */
    ck_assert_int_eq(load("gateway: {port: 1}\n", &c, &e), 0);
    ck_assert_int_eq(c.gateway.port, 1);
    config_release(&c);
    unsetenv("QMTL__GATEWAY__PORT");
}
END_TEST

START_TEST(test_event_secret_env)
{
    struct qmtl_config c;
    struct cfg_error e;
    setenv("QMTL__GATEWAY__EVENT_SECRET", "from-double", 1);
    setenv("QMTL_EVENT_SECRET", "from-single", 1);
    ck_assert_int_eq(config_load_string("gateway: {event_secret: file}\n", NULL, &c, &e), 0);
    ck_assert_str_eq(c.gateway.event_secret, "from-single");
    config_release(&c);
    unsetenv("QMTL_EVENT_SECRET");
    ck_assert_int_eq(config_load_string("gateway: {event_secret: file}\n", NULL, &c, &e), 0);
    ck_assert_str_eq(c.gateway.event_secret, "from-double");
    config_release(&c);
    unsetenv("QMTL__GATEWAY__EVENT_SECRET");
}
END_TEST

static void assert_test_budgets(const struct qmtl_config *c)
{
    const struct cfg_runtime *b = config_budgets(c);
    ck_assert(b->http_timeout_s == 1.5);
    ck_assert(b->ws_receive_timeout_s == 1.5);
    ck_assert(b->ws_reconnect_total_s == 5.0);
    ck_assert(b->poll_interval_s == 2.0);
    ck_assert(b->start_retry_total_s == 3.0);
    /* runtime holds the effective budgets after a load, gateway the test ping interval */
    ck_assert(c->runtime.http_timeout_s == 1.5);
    ck_assert(c->runtime.ws_receive_timeout_s == 1.5);
    ck_assert(c->runtime.ws_reconnect_total_s == 5.0);
    ck_assert(c->runtime.poll_interval_s == 2.0);
    ck_assert(c->runtime.start_retry_total_s == 3.0);
    ck_assert(c->gateway.ws_ping_interval_s == 0.5);
}

START_TEST(test_test_mode)
{
    struct qmtl_config c;
    struct cfg_error e;
    /* off: the normal budgets */
    ck_assert_int_eq(config_load_string("", NULL, &c, &e), 0);
    const struct cfg_runtime *b = config_budgets(&c);
    ck_assert(b->http_timeout_s == 2.0 && b->ws_receive_timeout_s == 2.5 &&
              b->ws_reconnect_total_s == 0.0 && b->poll_interval_s == 10.0 &&
              b->start_retry_total_s == 30.0);
    ck_assert(c.gateway.ws_ping_interval_s == 1.0);
    config_release(&c);
    /* the file */
    ck_assert_int_eq(config_load_string("test:\n  test_mode: true\n", NULL, &c, &e), 0);
    ck_assert_int_eq(c.test.test_mode, 1);
    assert_test_budgets(&c);
    config_release(&c);
    /* the environment, in every accepted spelling */
    static const char *const on[] = {"1", "true", "yes", "on", "TRUE"};
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        setenv("QMTL_TEST_MODE", on[i], 1);
        ck_assert_int_eq(config_load_string("test: {test_mode: false}\n", NULL, &c, &e), 0);
        assert_test_budgets(&c);
        config_release(&c);
    }
    setenv("QMTL_TEST_MODE", "0", 1);
    ck_assert_int_eq(config_load_string("test: {test_mode: true}\n", NULL, &c, &e), 0);
    ck_assert_int_eq(c.test.test_mode, 0);
    ck_assert(config_budgets(&c)->http_timeout_s == 2.0);
    config_release(&c);
    setenv("QMTL_TEST_MODE", "perhaps", 1);
    ck_assert_int_eq(config_load_string("", NULL, &c, &e), -1);
    ck_assert_str_eq(e.msg, "env QMTL_TEST_MODE: test.test_mode: expected a boolean "
                            "(true|false), got 'perhaps'");
    config_release(&c);
    unsetenv("QMTL_TEST_MODE");
    /* QMTL__TEST__TEST_MODE works like any other key */
    setenv("QMTL__TEST__TEST_MODE", "yes", 1);
    ck_assert_int_eq(config_load_string("", NULL, &c, &e), 0);
    assert_test_budgets(&c);
    config_release(&c);
    unsetenv("QMTL__TEST__TEST_MODE");
    /* configured test budgets; a hand-made config through config_budgets() */
    ck_assert_int_eq(load("test: {test_mode: on, http_timeout_s: 0.25}\n", &c, &e), 0);
    ck_assert(config_budgets(&c)->http_timeout_s == 0.25);
    config_release(&c);
    config_init_defaults(&c);
    c.test.test_mode = 1;
    ck_assert(config_budgets(&c)->ws_receive_timeout_s == 1.5);
    config_release(&c);
}
END_TEST

/* ---------------------------------------------------------------- files and discovery */

START_TEST(test_discovery_order)
{
    char cwd[PATH_MAX], path[PATH_MAX + 32];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    make_tmpdir();
    ck_assert_int_eq(chdir(tmpdir), 0);
    unsetenv("QMTL_CONFIG_FILE");
    struct qmtl_config c;
    struct cfg_error e;
    /* nothing: built-in defaults */
    ck_assert_ptr_null(config_discover());
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_ptr_null(c.source_path);
    ck_assert_int_eq(c.gateway.port, 8000);
    config_release(&c);
    /* ./qmtl.yaml, then ./qmtl.yml before it */
    write_file("qmtl.yaml", "gateway: {port: 2002}\n");
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_int_eq(c.gateway.port, 2002);
    ck_assert_str_eq(c.source_path, "qmtl.yaml");
    config_release(&c);
    write_file("qmtl.yml", "gateway: {port: 2001}\n");
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_int_eq(c.gateway.port, 2001);
    config_release(&c);
    /* $QMTL_CONFIG_FILE before both */
    write_file("other.yml", "gateway: {port: 2003}\n");
    setenv("QMTL_CONFIG_FILE", "other.yml", 1);
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_int_eq(c.gateway.port, 2003);
    config_release(&c);
    /* an explicit path before everything */
    snprintf(path, sizeof(path), "%s/explicit.yml", tmpdir);
    write_file(path, "gateway: {port: 2004}\n");
    ck_assert_int_eq(config_load(path, &c, &e), 0);
    ck_assert_int_eq(c.gateway.port, 2004);
    ck_assert_str_eq(c.source_path, path);
    config_release(&c);
    /* a named file that is missing is an error (-2), not a silent fallback */
    setenv("QMTL_CONFIG_FILE", "missing.yml", 1);
    ck_assert_int_eq(config_load(NULL, &c, &e), -2);
    ck_assert_str_eq(e.msg, "missing.yml: cannot read config file: No such file or directory");
    config_release(&c);
    unsetenv("QMTL_CONFIG_FILE");
    ck_assert_int_eq(config_load(".", &c, &e), -2);
    ck_assert_str_eq(e.msg, ".: cannot read config file: is a directory");
    config_release(&c);
    ck_assert_int_eq(chdir(cwd), 0);
    rm_tmpdir();
}
END_TEST

START_TEST(test_relative_paths)
{
    make_tmpdir();
    char dir[PATH_MAX + 8], path[PATH_MAX + 32], want[PATH_MAX + 128];
    snprintf(dir, sizeof(dir), "%s/etc", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/qmtl.yml", dir);
    write_file(path, "gateway: {store_path: gw.db}\n"
                     "dagmanager: {store_path: ':memory:'}\n"
                     "host:\n  plugins_dir: ../plugins\n"
                     "  data:\n    - {tags: a, path: data/a.csv}\n"
                     "    - {tags: b, path: /abs/b.csv}\n");
    struct qmtl_config c;
    struct cfg_error e;
    ck_assert_int_eq(config_load(path, &c, &e), 0);
    snprintf(want, sizeof(want), "%s/gw.db", dir);
    ck_assert_str_eq(c.gateway.store_path, want);
    ck_assert_str_eq(c.dagmanager.store_path, ":memory:");
    snprintf(want, sizeof(want), "%s/../plugins", dir);
    ck_assert_str_eq(c.host.plugins_dir, want);
    snprintf(want, sizeof(want), "%s/data/a.csv", dir);
    ck_assert_str_eq(c.host.data[0].path, want);
    ck_assert_str_eq(c.host.data[1].path, "/abs/b.csv");
    config_release(&c);
    /* environment paths are relative to the working directory, as typed */
    setenv("QMTL__HOST__PLUGINS_DIR", "rel/plugins", 1);
    ck_assert_int_eq(config_load(path, &c, &e), 0);
    ck_assert_str_eq(c.host.plugins_dir, "rel/plugins");
    config_release(&c);
    unsetenv("QMTL__HOST__PLUGINS_DIR");
    /* errors in a file name the file */
    write_file(path, "host:\n  metrics_port: x\n");
    ck_assert_int_eq(config_load(path, &c, &e), -1);
    snprintf(want, sizeof(want), "%s:2:17: host.metrics_port: expected an integer, got 'x'", path);
    ck_assert_str_eq(e.msg, want);
    ck_assert_str_eq(e.file, path);
    config_release(&c);
    rm_tmpdir();
}
END_TEST

/* The shipped config files load cleanly; config/qmtl.yml spells out every key at its default. */
START_TEST(test_shipped_configs)
{
    static const char *const files[] = {"config/qmtl.yml", "config/e2e.yml",
                                        "config/production.yml"};
    for (size_t i = 0; i < 3; i++) {
        struct qmtl_config c;
        struct cfg_error e;
        int rc = config_load(files[i], &c, &e);
        ck_assert_msg(rc == 0, "%s: %s", files[i], e.msg);
        ck_assert_uint_eq(c.n_warnings, 0);
        config_release(&c);
    }
    struct qmtl_config c, d;
    struct cfg_error e;
    ck_assert_int_eq(config_load("config/qmtl.yml", &c, &e), 0);
    config_init_defaults(&d);
    char *text = read_all("config/qmtl.yml");
    ck_assert_ptr_nonnull(text);
    size_t n;
    const struct cfg_schema_entry *s = config_schema(&n);
    char a[512], b[512], pat[128];
    for (size_t i = 0; i < n; i++) {
        if (strchr(s[i].section, '.')) {
            snprintf(pat, sizeof(pat), " %s:", s[i].key);
            ck_assert_msg(strstr(text, pat), "config/qmtl.yml lacks the example key %s", pat);
            continue;
        }
        snprintf(pat, sizeof(pat), "\n  %s:", s[i].key);
        ck_assert_msg(strstr(text, pat), "config/qmtl.yml lacks %s.%s", s[i].section, s[i].key);
        config_format_value(&c, &s[i], 0, a, sizeof(a));
        config_format_value(&d, &s[i], 0, b, sizeof(b));
        if (s[i].type == CFG_PATH) {
            char resolved[600];
            snprintf(resolved, sizeof(resolved), "%s%s", b[0] ? "config/" : "", b);
            ck_assert_str_eq(a, resolved);
        } else {
            ck_assert_msg(!strcmp(a, b), "config/qmtl.yml %s.%s = %s, default %s", s[i].section,
                          s[i].key, a, b);
        }
    }
    free(text);
    config_release(&c);
    config_release(&d);
}
END_TEST

/* docs/configuration.md lists exactly the schema's keys, each with its env name. */
START_TEST(test_docs_in_sync)
{
    char *doc = read_all("docs/configuration.md");
    ck_assert_msg(doc != NULL, "docs/configuration.md is missing");
    size_t n;
    const struct cfg_schema_entry *s = config_schema(&n);
    char pat[160], env[128];
    for (size_t i = 0; i < n; i++) {
        snprintf(pat, sizeof(pat), "| `%s.%s` |", s[i].section, s[i].key);
        ck_assert_msg(strstr(doc, pat), "docs/configuration.md lacks a row for %s.%s", s[i].section,
                      s[i].key);
        config_env_name(&s[i], env, sizeof(env));
        if (env[0]) {
            snprintf(pat, sizeof(pat), "`%s`", env);
            ck_assert_msg(strstr(doc, pat), "docs/configuration.md lacks %s", env);
        }
    }
    /* and no row for a key the schema does not have */
    int rows = 0;
    for (char *p = strstr(doc, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
        char full[128];
        if (sscanf(p, "\n| `%127[^`]`", full) != 1)
            continue;
        int found = 0;
        for (size_t i = 0; i < n && !found; i++) {
            char k[128];
            snprintf(k, sizeof(k), "%s.%s", s[i].section, s[i].key);
            found = !strcmp(k, full);
        }
        ck_assert_msg(found, "docs/configuration.md documents '%s', which the schema lacks", full);
        rows++;
    }
    ck_assert_int_eq(rows, (int)n);
    free(doc);
}
END_TEST

/* tests/data/config/NAME.yml: the first line "# expect: LINE:COL: message" (or "ok") says
 * what loading the file must give; the message is prefixed with the file's path. */
START_TEST(test_fixture_files)
{
    const char *dir = "tests/data/config";
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int seen = 0;
    quiet();
    for (struct dirent *de; (de = readdir(d));) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".yml"))
            continue;
        char path[512], want[700];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        char *text = read_all(path);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(!strncmp(text, "# expect: ", 10), "%s: no '# expect:' line", path);
        char *nl = strchr(text, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        struct qmtl_config c;
        struct cfg_error e;
        int rc = config_load(path, &c, &e);
        if (!strcmp(text + 10, "ok")) {
            ck_assert_msg(rc == 0, "%s: %s", path, e.msg);
        } else {
            snprintf(want, sizeof(want), "%s:%s", path, text + 10);
            ck_assert_msg(rc == -1, "%s: loaded, expected an error", path);
            ck_assert_str_eq(e.msg, want);
            ck_assert_str_eq(e.file, path);
        }
        config_release(&c);
        free(text);
        seen++;
    }
    closedir(d);
    ck_assert_int_ge(seen, 9);
    log_set_sink(NULL, NULL);
}
END_TEST

/* ---------------------------------------------------------------- probes */

struct fake_server {
    int fd;
    const char *reply; /* NULL: accept and never answer */
};

static void *serve_one(void *arg)
{
    struct fake_server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[1024];
    ssize_t n = recv(c, buf, sizeof(buf), 0);
    (void)n;
    if (s->reply) {
        ssize_t w = send(c, s->reply, strlen(s->reply), MSG_NOSIGNAL);
        (void)w;
    } else {
        usleep(600 * 1000);
    }
    close(c);
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    socklen_t l = sizeof(a);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int probe_against(const char *reply, double timeout, char *hint, size_t len)
{
    int port;
    struct fake_server s = {.reply = reply};
    s.fd = listen_any(&port);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, serve_one, &s), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    int rc = config_probe_http_health(url, timeout, hint, len);
    pthread_join(t, NULL);
    close(s.fd);
    return rc;
}

START_TEST(test_probe_http)
{
    char hint[400];
    ck_assert_int_eq(
        probe_against("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 2.0, hint, sizeof(hint)),
        0);
    ck_assert_ptr_nonnull(strstr(hint, "/health answered 200"));
    ck_assert_int_eq(probe_against("HTTP/1.1 503 Unavailable\r\n\r\n", 2.0, hint, sizeof(hint)),
                     -1);
    ck_assert_ptr_nonnull(strstr(hint, "answered 503"));
    ck_assert_int_eq(probe_against("SSH-2.0-nope\r\n", 2.0, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "did not answer HTTP"));
    ck_assert_int_eq(probe_against(NULL, 0.2, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "no answer from"));
    /* refused: a port that was free a moment ago */
    int port, fd = listen_any(&port);
    close(fd);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    ck_assert_int_eq(config_probe_http_health(url, 1.0, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "cannot connect to 127.0.0.1:"));
    ck_assert_int_eq(config_probe_http_health("ftp://x", 1.0, hint, sizeof(hint)), -1);
}
END_TEST

START_TEST(test_probe_listen)
{
    char hint[400];
    int port, fd = listen_any(&port);
    ck_assert_int_eq(config_probe_listen("127.0.0.1", port, hint, sizeof(hint)), 1);
    close(fd);
    ck_assert_int_eq(config_probe_listen("127.0.0.1", port, hint, sizeof(hint)), 0);
}
END_TEST

START_TEST(test_probe_sqlite)
{
    make_tmpdir();
    char path[PATH_MAX + 32], hint[400];
    snprintf(path, sizeof(path), "%s/new.db", tmpdir);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 0);
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing left behind */
    snprintf(path, sizeof(path), "%s/not-a-db", tmpdir);
    write_file(path, "this is plain text, certainly not a SQLite database header......\n");
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "not a database"));
    /* a missing directory is created by the service: fine if it can be */
    snprintf(path, sizeof(path), "%s/nodir/sub/x.db", tmpdir);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 0);
    ck_assert_ptr_nonnull(strstr(hint, "will be created, with its directory"));
    snprintf(path, sizeof(path), "%s/nodir", tmpdir);
    ck_assert_int_eq(access(path, F_OK), -1); /* the probe creates nothing */
    snprintf(path, sizeof(path), "%s/not-a-db/sub/x.db", tmpdir);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "cannot be created"));
    ck_assert_int_eq(config_probe_sqlite_writable(tmpdir, hint, sizeof(hint)), -1);
    ck_assert_ptr_nonnull(strstr(hint, "not a regular file"));
    ck_assert_int_eq(config_probe_sqlite_writable(":memory:", hint, sizeof(hint)), 0);
    /* a store held exclusively (as a running gateway holds it) is "in use", not broken */
    snprintf(path, sizeof(path), "%s/held.db", tmpdir);
    sqlite3 *holder = NULL;
    ck_assert_int_eq(sqlite3_open(path, &holder), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(holder, "PRAGMA locking_mode=EXCLUSIVE; CREATE TABLE t(x); "
                                          "BEGIN IMMEDIATE; INSERT INTO t VALUES(1); COMMIT;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 1);
    ck_assert_ptr_nonnull(strstr(hint, "in use by a running service"));
    sqlite3_close(holder);
    ck_assert_int_eq(config_probe_sqlite_writable(path, hint, sizeof(hint)), 0);
    rm_tmpdir();
}
END_TEST

START_TEST(test_probe_plugins_dir)
{
    make_tmpdir();
    char dir[PATH_MAX + 32], f[PATH_MAX + 64], hint[400];
    snprintf(dir, sizeof(dir), "%s/plugins", tmpdir);
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(f, sizeof(f), "%s/a.so", dir);
    write_file(f, "x");
    snprintf(f, sizeof(f), "%s/.hidden.so", dir);
    write_file(f, "x");
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_OK);
    ck_assert_ptr_nonnull(strstr(hint, "holds 1 plugin(s)"));
    ck_assert_int_eq(chmod(dir, 0775), 0);
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(hint, "group-writable: qmtl run refuses it"));
    ck_assert_int_eq(chmod(dir, 0777), 0);
    ck_assert_int_eq(config_probe_plugins_dir(dir, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(hint, "world-writable"));
    snprintf(f, sizeof(f), "%s/a.so", dir);
    ck_assert_int_eq(config_probe_plugins_dir(f, hint, sizeof(hint)), CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(hint, "not a directory"));
    rm_tmpdir();
}
END_TEST

static const struct cfg_check *find_check(const struct cfg_report *r, const char *target,
                                          const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->checks[i].target, target) && !strcmp(r->checks[i].name, name))
            return &r->checks[i];
    return NULL;
}

START_TEST(test_check_report)
{
    struct qmtl_config c;
    struct cfg_error e;
    struct cfg_report r;
    quiet();
    ck_assert_int_eq(load("host: {world_id: w1}\ngateway: {database_url: x.db}\n", &c, &e), 0);
    ck_assert_int_eq(config_check(&c, CFG_TARGET_ALL, 1, &r), CFG_SEV_ERROR);
    const struct cfg_check *k = find_check(&r, "host", "gateway");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(k->severity, CFG_SEV_ERROR);
    ck_assert_str_eq(k->hint, "world_id 'w1' is set but gateway_url is empty");
    k = find_check(&r, "host", "plugins_dir");
    ck_assert_int_eq(k->severity, CFG_SEV_WARN);
    ck_assert_str_eq(k->hint, "skipped (--offline)");
    k = find_check(&r, "config", "warning[0]");
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(r.checks[0].name, "source");
    config_report_release(&r);
    /* only the gateway target: no host rows, and no error */
    ck_assert_int_eq(config_check(&c, CFG_TARGET_GATEWAY, 1, &r), CFG_SEV_WARN);
    ck_assert_ptr_null(find_check(&r, "host", "gateway"));
    config_report_release(&r);
    config_release(&c);
    ck_assert_uint_eq(config_check_parse_target("dagmanager"), CFG_TARGET_DAGMANAGER);
    ck_assert_uint_eq(config_check_parse_target("all"), CFG_TARGET_ALL);
    ck_assert_uint_eq(config_check_parse_target("world"), 0);
    log_set_sink(NULL, NULL);
}
END_TEST

/* An empty store_path is checked where the service would put it: the state directory. */
START_TEST(test_check_default_stores)
{
    struct qmtl_config c;
    struct cfg_error e;
    struct cfg_report r;
    char want[PATH_MAX + 64];
    quiet();
    make_tmpdir();
    setenv("XDG_STATE_HOME", tmpdir, 1);
    ck_assert_int_eq(load("gateway: {port: 0, dagmanager_url: ''}\ndagmanager: {port: 0}\n", &c, &e),
                     0);
    ck_assert_str_eq(c.gateway.store_path, "");
    config_check(&c, CFG_TARGET_GATEWAY | CFG_TARGET_DAGMANAGER, 0, &r);
    const struct cfg_check *k = find_check(&r, "gateway", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_OK);
    snprintf(want, sizeof(want), "'%s/qmtl/gateway.db' will be created, with its directory", tmpdir);
    ck_assert_msg(strstr(k->hint, want), "%s", k->hint);
    k = find_check(&r, "dagmanager", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_OK); /* not "the gateway's store_path" */
    snprintf(want, sizeof(want), "'%s/qmtl/dagmanager.db'", tmpdir);
    ck_assert_msg(strstr(k->hint, want), "%s", k->hint);
    config_report_release(&r);
    /* the DAG manager pointed at the gateway's default store is refused */
    free(c.dagmanager.store_path);
    snprintf(want, sizeof(want), "%s/qmtl/gateway.db", tmpdir);
    c.dagmanager.store_path = strdup(want);
    config_check(&c, CFG_TARGET_DAGMANAGER, 1, &r);
    k = find_check(&r, "dagmanager", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(k->hint, "is also the gateway's store_path"));
    config_report_release(&r);
    /* no state directory: an ERROR that asks for store_path */
    unsetenv("XDG_STATE_HOME");
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("HOME");
    ck_assert_int_eq(config_check(&c, CFG_TARGET_GATEWAY, 1, &r), CFG_SEV_ERROR);
    k = find_check(&r, "gateway", "store");
    ck_assert_int_eq(k->severity, CFG_SEV_ERROR);
    ck_assert_ptr_nonnull(strstr(k->hint, "set gateway.store_path"));
    config_report_release(&r);
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    }
    config_release(&c);
    rm_tmpdir();
    log_set_sink(NULL, NULL);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("defaults");
    tcase_add_test(tc, test_every_default);
    tcase_add_test(tc, test_data_source_defaults);
    suite_add_tcase(s, tc);
    tc = tcase_create("file");
    tcase_add_test(tc, test_file_overrides);
    tcase_add_test(tc, test_data_and_strategies);
    tcase_add_test(tc, test_empty_and_null_documents);
    tcase_add_test(tc, test_discovery_order);
    tcase_add_test(tc, test_relative_paths);
    tcase_add_test(tc, test_shipped_configs);
    tcase_add_test(tc, test_docs_in_sync);
    tcase_add_test(tc, test_fixture_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_error_unknown_key);
    tcase_add_test(tc, test_error_wrong_type);
    tcase_add_test(tc, test_error_out_of_range);
    tcase_add_test(tc, test_error_duplicate_key);
    tcase_add_test(tc, test_error_malformed_yaml);
    tcase_add_test(tc, test_error_nesting_depth);
    tcase_add_test(tc, test_error_data_source_rules);
    tcase_add_test(tc, test_deprecated_aliases);
    suite_add_tcase(s, tc);
    tc = tcase_create("env");
    tcase_add_test(tc, test_env_override_every_key);
    tcase_add_test(tc, test_env_names_and_errors);
    tcase_add_test(tc, test_event_secret_env);
    tcase_add_test(tc, test_test_mode);
    suite_add_tcase(s, tc);
    tc = tcase_create("check");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_probe_http);
    tcase_add_test(tc, test_probe_listen);
    tcase_add_test(tc, test_probe_sqlite);
    tcase_add_test(tc, test_check_default_stores);
    tcase_add_test(tc, test_probe_plugins_dir);
    tcase_add_test(tc, test_check_report);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    unsetenv("QMTL_CONFIG_FILE");
    unsetenv("QMTL_TEST_MODE");
    unsetenv("QMTL_EVENT_SECRET");
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
