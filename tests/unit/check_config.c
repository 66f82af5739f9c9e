/* Unit tests for common/config (the loader: file values, errors, aliases, discovery,
 * paths); the schema (keys, defaults, ranges, documentation) is check_config_schema,
 * environment overrides and test mode check_config_env, the checks of 'qmtl config
 * validate' check_config_check. */
#include "config.h"
#include "config_testlib.h"
#include "log.h"

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
                 "t.yml:3:7: host.data[0]: exactly one of 'path', 'synthetic' and 'live' must be set");
    expect_error("host:\n  data:\n    - {tags: a}\n",
                 "t.yml:3:7: host.data[0]: exactly one of 'path', 'synthetic' and 'live' must be set");
    expect_error("host:\n  data:\n    - {tags: a, live: stdin}\n",
                 "t.yml:3:7: host.data[0]: a live input takes its tags from each line: drop "
                 "'tags'");
    expect_error("host:\n  data:\n    - {live: 'udp:x:1'}\n",
                 "t.yml:3:7: host.data[0].live: 'udp:x:1' is not tcp:HOST:PORT, unix:PATH, "
                 "stdin or nats://HOST:PORT/SUBJECT");
    expect_error("host:\n  data:\n    - {tags: a, synthetic: gbm, follow: true}\n",
                 "t.yml:3:7: host.data[0]: 'follow' applies to a CSV 'path'");
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


/* risk.strategies: per-strategy limits, checked at load with file, line and key. */
START_TEST(test_risk_strategies)
{
    struct qmtl_config c;
    struct cfg_error e;
    ck_assert_int_eq(config_load_string("risk:\n  max_order_notional: 500\n  strategies:\n"
                                        "    sma: {max_position: 25, max_daily_loss: 2000}\n",
                                        "t.yml", &c, &e),
                     0);
    ck_assert(c.risk.max_order_notional == 500);
    ck_assert_uint_eq(c.risk.n_strategy_limits, 2);
    ck_assert_str_eq(c.risk.strategy_limits[0].strategy, "sma");
    ck_assert_str_eq(c.risk.strategy_limits[0].key, "max_position");
    ck_assert_str_eq(c.risk.strategy_limits[0].value, "25");
    ck_assert_uint_eq(c.host.n_strategy_params, 0);
    config_release(&c);
    ck_assert_int_eq(config_load_string("risk:\n  strategies:\n    sma: {max_positon: 3}\n",
                                        "t.yml", &c, &e),
                     -1);
    ck_assert_msg(strstr(e.msg, "t.yml:3:") &&
                      strstr(e.msg, "unknown risk limit 'max_positon'"),
                  "%s", e.msg);
    config_release(&c); /* a failed load leaves the defaults to release */
    ck_assert_int_eq(config_load_string("risk:\n  strategies:\n    sma:\n      max_position: -1\n",
                                        "t.yml", &c, &e),
                     -1);
    ck_assert_msg(strstr(e.msg, "risk.strategies.sma.max_position: expected a number >= 0"), "%s",
                  e.msg);
    config_release(&c);
    ck_assert_int_eq(config_load_string("broker: {fill_at: later}\n", "t.yml", &c, &e), -1);
    ck_assert_msg(strstr(e.msg, "next_open|close"), "%s", e.msg);
    config_release(&c);
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

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, test_file_overrides);
    tcase_add_test(tc, test_data_and_strategies);
    tcase_add_test(tc, test_empty_and_null_documents);
    tcase_add_test(tc, test_discovery_order);
    tcase_add_test(tc, test_relative_paths);
    tcase_add_test(tc, test_risk_strategies);
    tcase_add_test(tc, test_fixture_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_error_unknown_key);
    tcase_add_test(tc, test_error_wrong_type);
    tcase_add_test(tc, test_error_duplicate_key);
    tcase_add_test(tc, test_error_malformed_yaml);
    tcase_add_test(tc, test_error_nesting_depth);
    tcase_add_test(tc, test_error_data_source_rules);
    tcase_add_test(tc, test_deprecated_aliases);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_config_suite(config_suite());
}
