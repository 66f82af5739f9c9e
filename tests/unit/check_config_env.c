/* Unit tests for common/config_env: environment overrides of every key (QMTL__SECTION__KEY),
 * their names and errors, the event secret from the environment, and test mode. */
#include "config.h"
#include "config_testlib.h"
#include "log.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    case CFG_ENUM: { /* the first choice that is not the default */
        const char *c = e->choices, *bar;
        size_t dl = strlen(e->def);
        while ((bar = strchr(c, '|')) && (size_t)(bar - c) == dl && !strncmp(c, e->def, dl))
            c = bar + 1;
        bar = strchr(c, '|');
        snprintf(buf, len, "%.*s", bar ? (int)(bar - c) : (int)strlen(c), c);
        break;
    }
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

int main(void)
{
    Suite *s = suite_create("config_env");
    TCase *tc = tcase_create("env");
    tcase_add_test(tc, test_env_override_every_key);
    tcase_add_test(tc, test_env_names_and_errors);
    tcase_add_test(tc, test_event_secret_env);
    tcase_add_test(tc, test_test_mode);
    suite_add_tcase(s, tc);
    return run_config_suite(s);
}
