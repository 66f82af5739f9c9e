/* Unit tests for common/config_schema (the one table of configuration keys): every key's
 * default, the value ranges, the shipped config files against it, and
 * docs/configuration.md in sync with it. The loader is check_config. */
#include "config.h"
#include "config_testlib.h"
#include "log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    {"gateway.fill_secret", ""},
    {"gateway.dagmanager_token", ""},
    {"gateway.dagmanager_timeout_s", "1"},
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
    {"gateway.queue_poll_interval_s", "5"},
    {"dagmanager.host", "127.0.0.1"},
    {"dagmanager.port", "8001"},
    {"dagmanager.store_path", ""},
    {"dagmanager.gateway_url", ""},
    {"dagmanager.token", ""},
    {"dagmanager.insecure_allow_anonymous", "false"},
    {"dagmanager.bus", ""},
    {"dagmanager.bus_retention_s", "604800"},
    {"dagmanager.bus_gc_interval_s", "600"},
    {"dagmanager.bus_replicas", "1"},
    {"host.plugins_dir", "plugins"},
    {"host.data", "0 source(s)"},
    {"host.world_id", ""},
    {"host.gateway_url", ""},
    {"host.submit_token", ""},
    {"host.host_token", ""},
    {"host.metrics_port", "0"},
    {"host.metrics_host", "127.0.0.1"},
    {"host.hot_reload", "true"},
    {"host.csv_errors", "skip"},
    {"host.on_missing", "skip"},
    {"host.strategies", "0 param(s)"},
    {"host.preflight_timeout_s", "5"},
    {"host.max_nodes_per_strategy", "1000000"},
    {"host.bus", ""},
    {"host.name", ""},
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
    {"broker.fill_at", "next_open"},
    {"risk.max_position", "0"},
    {"risk.max_position_notional", "0"},
    {"risk.max_order_notional", "0"},
    {"risk.max_orders_per_minute", "0"},
    {"risk.max_daily_loss", "0"},
    {"risk.strategies", "0 limit(s)"},
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

/* ---------------------------------------------------------------- ranges */

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

/* ---------------------------------------------------------------- files and docs */

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

static Suite *config_schema_suite(void)
{
    Suite *s = suite_create("config_schema");
    TCase *tc = tcase_create("defaults");
    tcase_add_test(tc, test_every_default);
    tcase_add_test(tc, test_data_source_defaults);
    tcase_add_test(tc, test_error_out_of_range);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, test_shipped_configs);
    tcase_add_test(tc, test_docs_in_sync);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_config_suite(config_schema_suite());
}
