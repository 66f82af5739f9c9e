#include "jwt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VECTOR "tests/data/vectors/jwt.json"

static json_t *vec;
static struct jwt_key vkey;

static void load_vector(void)
{
    json_error_t e;
    vec = json_load_file(VECTOR, 0, &e);
    ck_assert_msg(vec != NULL, "cannot load %s: %s", VECTOR, e.text);
    const char *secret = json_string_value(json_object_get(vec, "secret"));
    vkey.kid = json_string_value(json_object_get(json_object_get(vec, "header"), "kid"));
    vkey.secret = (const unsigned char *)secret;
    vkey.secret_len = strlen(secret);
}

static void unload_vector(void)
{
    json_decref(vec);
    vec = NULL;
}

START_TEST(test_vector_sign)
{
    char err[256] = "";
    char *tok = jwt_sign_hs256(json_object_get(vec, "claims"), &vkey, err, sizeof(err));
    ck_assert_msg(tok != NULL, "%s", err);
    ck_assert_str_eq(tok, json_string_value(json_object_get(vec, "token")));
    free(tok);
}
END_TEST

START_TEST(test_vector_verify)
{
    char err[256] = "";
    const char *tok = json_string_value(json_object_get(vec, "token"));
    json_t *c = jwt_verify_hs256(tok, &vkey, 1, "controlbus", 1700000100, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert(json_equal(c, json_object_get(vec, "claims")));
    json_decref(c);
    /* exp == now is still valid; one second later it is expired */
    c = jwt_verify_hs256(tok, &vkey, 1, "controlbus", 1700000300, err, sizeof(err));
    ck_assert_ptr_nonnull(c);
    json_decref(c);
    c = jwt_verify_hs256(tok, &vkey, 1, "controlbus", 1700000301, err, sizeof(err));
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, "token expired");
}
END_TEST

START_TEST(test_reject_tampering)
{
    char err[256];
    const char *tok = json_string_value(json_object_get(vec, "token"));
    char *t = strdup(tok);
    /* flip a payload character */
    char *p = strchr(t, '.') + 5;
    *p = *p == 'A' ? 'B' : 'A';
    ck_assert_ptr_null(jwt_verify_hs256(t, &vkey, 1, "controlbus", 1700000000, err, sizeof(err)));
    ck_assert_str_eq(err, "token signature mismatch");
    free(t);
    /* truncated signature */
    t = strdup(tok);
    t[strlen(t) - 1] = '\0';
    ck_assert_ptr_null(jwt_verify_hs256(t, &vkey, 1, "controlbus", 1700000000, err, sizeof(err)));
    free(t);
    /* wrong secret */
    struct jwt_key k2 = {"default", (const unsigned char *)"other", 5};
    ck_assert_ptr_null(jwt_verify_hs256(tok, &k2, 1, "controlbus", 1700000000, err, sizeof(err)));
    ck_assert_str_eq(err, "token signature mismatch");
    /* unknown kid */
    struct jwt_key k3 = {"qmtl-1", vkey.secret, vkey.secret_len};
    ck_assert_ptr_null(jwt_verify_hs256(tok, &k3, 1, "controlbus", 1700000000, err, sizeof(err)));
    ck_assert_str_eq(err, "unknown token key id 'default'");
    /* wrong audience */
    ck_assert_ptr_null(jwt_verify_hs256(tok, &vkey, 1, "fills", 1700000000, err, sizeof(err)));
    ck_assert_str_eq(err, "token audience is not 'fills'");
    /* garbage */
    const char *bad[] = {"", "a", "a.b", "a.b.c.d", "!!.e30.x", "e30.e30.", "eyJhbGciOiJub25lIn0.e30."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_ptr_null(jwt_verify_hs256(bad[i], &vkey, 1, NULL, 0, err, sizeof(err)));
}
END_TEST

START_TEST(test_key_ring_and_roundtrip)
{
    char err[256];
    struct jwt_key ring[2] = {{"old", (const unsigned char *)"k-old", 5},
                              {"new", (const unsigned char *)"k-new", 5}};
    json_t *claims = json_pack("{s:s,s:I,s:[s,s],s:s}", "aud", "controlbus", "exp",
                               (json_int_t)2000000000, "topics", "activation", "queue",
                               "world_id", "w\xc3\xa9");
    char *tok = jwt_sign_hs256(claims, &ring[0], err, sizeof(err));
    ck_assert_ptr_nonnull(tok);
    json_t *c = jwt_verify_hs256(tok, ring, 2, "controlbus", 1900000000, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert(json_equal(c, claims));
    json_decref(c);
    /* no 'exp' is refused */
    json_object_del(claims, "exp");
    free(tok);
    tok = jwt_sign_hs256(claims, &ring[1], err, sizeof(err));
    ck_assert_ptr_null(jwt_verify_hs256(tok, ring, 2, "controlbus", 0, err, sizeof(err)));
    ck_assert_str_eq(err, "token has no numeric 'exp'");
    free(tok);
    json_decref(claims);
    ck_assert_ptr_null(jwt_sign_hs256(NULL, &ring[0], err, sizeof(err)));
}
END_TEST


int main(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("jwt");
    tcase_add_checked_fixture(tc, load_vector, unload_vector);
    tcase_add_test(tc, test_vector_sign);
    tcase_add_test(tc, test_vector_verify);
    tcase_add_test(tc, test_reject_tampering);
    tcase_add_test(tc, test_key_ring_and_roundtrip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
