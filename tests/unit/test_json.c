/*
 * test_json.c — common/json: the strict reader, the writer, both
 * transcoders, and zb_buf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "json.h"
#include "mpk.h"
#include "zb_buf.h"

static bool s_valid(const char *text)
{
    zb_json_error_t err;
    zb_json_doc_t *doc = zb_json_parse(text, strlen(text), &err);
    bool ok = doc != NULL;
    zb_json_doc_destroy(&doc);
    return ok;
}

static void reader_is_strict(void **state)
{
    (void) state;
    assert_true(s_valid(" {\"a\" : [1, -0.5e+3, true, false, null, \"x\"]} "));
    assert_true(s_valid("\"\\ud83d\\ude00\""));
    assert_true(s_valid("0"));
    assert_false(s_valid(""));
    assert_false(s_valid("{\"a\":1,}"));
    assert_false(s_valid("[1,]"));
    assert_false(s_valid("01"));
    assert_false(s_valid("1."));
    assert_false(s_valid(".5"));
    assert_false(s_valid("+1"));
    assert_false(s_valid("NaN"));
    assert_false(s_valid("tru"));
    assert_false(s_valid("{a:1}"));
    assert_false(s_valid("\"\\x\""));
    assert_false(s_valid("\"\\ud800\""));          /* lone high surrogate */
    assert_false(s_valid("\"\\udc00\""));          /* lone low surrogate */
    assert_false(s_valid("\"\t\""));               /* raw control character */
    assert_false(s_valid("\"\xc0\xaf\""));         /* overlong */
    assert_false(s_valid("\"\xed\xa0\x80\""));     /* surrogate as UTF-8 */
    assert_false(s_valid("\"\xf4\x90\x80\x80\"")); /* > U+10FFFF */
    assert_false(s_valid("1 2"));
    assert_false(s_valid("// c\n1"));
}

static void reader_depth_limit(void **state)
{
    (void) state;
    char buf[300];
    for (int depth = ZB_JSON_MAX_DEPTH; depth <= ZB_JSON_MAX_DEPTH + 1; depth++) {
        memset(buf, '[', (size_t) depth);
        memset(buf + depth, ']', (size_t) depth);
        buf[2 * depth] = '\0';
        assert_int_equal(s_valid(buf), depth == ZB_JSON_MAX_DEPTH);
    }
}

static void reader_last_duplicate_wins(void **state)
{
    (void) state;
    const char *t = "{\"x\":[\"y\"],\"k\":1,\"x\":[\"z\"]}";
    zb_json_error_t err;
    zb_json_doc_t *doc = zb_json_parse(t, strlen(t), &err);
    assert_non_null(doc);
    const zb_json_t *root = zb_json_root(doc);
    assert_int_equal(root->len, 2);
    const zb_json_t *x = zb_json_get(root, "x");
    assert_string_equal(x->child->str, "z");
    zb_buf_t *b = zb_buf_new(16);
    assert_int_equal(zb_json_write(b, root), 0);
    assert_string_equal(b->data, "{\"k\":1,\"x\":[\"z\"]}");
    zb_json_doc_destroy(&doc);
    zb_json_doc_destroy(&doc); /* safe twice */
    doc = zb_json_parse_ex(t, strlen(t), ZB_JSON_KEEP_DUPLICATES, &err);
    assert_int_equal(zb_json_root(doc)->len, 3);
    zb_json_doc_destroy(&doc);
    zb_buf_destroy(&b);
}

static void reader_dedupes_huge_objects_quickly(void **state)
{
    (void) state;
    /* 100,000 members over 1,000 distinct keys: sorting, not n^2 */
    zb_buf_t *b = zb_buf_new(1 << 20);
    zb_buf_append_byte(b, '{');
    for (int i = 0; i < 100000; i++)
        zb_buf_appendf(b, "%s\"k%d\":%d", i ? "," : "", i % 1000, i);
    zb_buf_append_byte(b, '}');
    zb_json_error_t err;
    zb_json_doc_t *doc = zb_json_parse(b->data, b->len, &err);
    assert_non_null(doc);
    assert_int_equal(zb_json_root(doc)->len, 1000);
    assert_true(zb_json_get(zb_json_root(doc), "k7")->num == 99007);
    zb_json_doc_destroy(&doc);
    zb_buf_destroy(&b);
}

static void reader_reports_offsets(void **state)
{
    (void) state;
    zb_json_error_t err;
    assert_null(zb_json_parse("{\"a\":x}", 7, &err));
    assert_int_equal(err.offset, 5);
    assert_string_equal(err.message, "unexpected character 'x'");
}

static void writer_escapes(void **state)
{
    (void) state;
    zb_buf_t *b = zb_buf_new(16);
    assert_int_equal(zb_json_put_string(b, "a\"\\\n\x01é", 7), 0);
    assert_string_equal(b->data, "\"a\\\"\\\\\\n\\u0001é\"");
    zb_buf_destroy(&b);
}

static void json_msgpack_round_trip(void **state)
{
    (void) state;
    const char *t = "{\"i\":-5,\"u\":18446744073709551615,\"big\":18446744073709551616,\"f\":0.1,"
                    "\"e\":1e2,\"s\":\"h\\u00e9\",\"a\":[true,false,null,{}],\"n\":-9223372036854775808}";
    zb_buf_t *mp = zb_buf_new(16), *js = zb_buf_new(16);
    zb_json_error_t err;
    assert_int_equal(zb_json_to_msgpack(t, strlen(t), mp, &err), 0);
    assert_int_equal(zb_msgpack_to_json(mp->data, mp->len, js, &err), 0);
    assert_string_equal(js->data, "{\"i\":-5,\"u\":18446744073709551615,\"big\":1.8446744073709552e+19,"
                                  "\"f\":0.1,\"e\":100.0,\"s\":\"hé\",\"a\":[true,false,null,{}],"
                                  "\"n\":-9223372036854775808}");
    zb_buf_destroy(&mp);
    zb_buf_destroy(&js);
}

static void msgpack_to_json_special_types(void **state)
{
    (void) state;
    zb_buf_t *mp = zb_buf_new(16), *js = zb_buf_new(16);
    zb_json_error_t err;
    /* [bin "hi!", timestamp32 0, timestamp64 1.5 s] */
    zb_mpk_put_array(mp, 3);
    zb_mpk_put_bin(mp, "hi!", 3);
    uint8_t ts32[4] = {0, 0, 0, 0};
    zb_mpk_put_ext(mp, -1, ts32, 4);
    uint64_t v = ((uint64_t) 500000000 << 34) | 1;
    uint8_t ts64[8];
    for (int i = 0; i < 8; i++)
        ts64[i] = (uint8_t) (v >> (56 - 8 * i));
    zb_mpk_put_ext(mp, -1, ts64, 8);
    assert_int_equal(zb_msgpack_to_json(mp->data, mp->len, js, &err), 0);
    assert_string_equal(js->data, "[\"aGkh\",\"1970-01-01T00:00:00Z\",\"1970-01-01T00:00:01.500000000Z\"]");
    /* non-string key, NaN, unknown ext, trailing bytes: refused */
    const uint8_t int_key[] = {0x81, 0x01, 0x01};
    assert_int_equal(zb_msgpack_to_json(int_key, sizeof int_key, js, &err), -1);
    const uint8_t nan[] = {0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
    assert_int_equal(zb_msgpack_to_json(nan, sizeof nan, js, &err), -1);
    const uint8_t ext[] = {0xd4, 0x05, 0x00};
    assert_int_equal(zb_msgpack_to_json(ext, sizeof ext, js, &err), -1);
    const uint8_t two[] = {0x01, 0x02};
    assert_int_equal(zb_msgpack_to_json(two, sizeof two, js, &err), -1);
    zb_buf_destroy(&mp);
    zb_buf_destroy(&js);
}

static void doubles_print_round_trippably(void **state)
{
    (void) state;
    const double vals[] = {0.1, 1.0 / 3, 1e-300, 5e-324, 1.7976931348623157e308, -2.5, 123456789.125};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        zb_buf_t *mp = zb_buf_new(16), *js = zb_buf_new(16);
        zb_json_error_t err;
        zb_mpk_put_double(mp, vals[i]);
        assert_int_equal(zb_msgpack_to_json(mp->data, mp->len, js, &err), 0);
        zb_json_doc_t *doc = zb_json_parse(js->data, js->len, &err);
        assert_non_null(doc);
        assert_true(zb_json_root(doc)->num == vals[i]);
        zb_json_doc_destroy(&doc);
        zb_buf_destroy(&mp);
        zb_buf_destroy(&js);
    }
}

static void buf_grows_and_resets(void **state)
{
    (void) state;
    zb_buf_t *b = zb_buf_new(0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(zb_buf_appendf(b, "%d,", i), 0);
    assert_int_equal(b->data[b->len], '\0');
    assert_int_equal(strncmp(b->data, "0,1,2,", 6), 0);
    size_t cap = b->cap;
    zb_buf_reset(b);
    assert_int_equal(b->len, 0);
    assert_int_equal(b->cap, cap);
    assert_string_equal(b->data, "");
    zb_buf_destroy(&b);
    assert_null(b);
    zb_buf_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_is_strict),
        cmocka_unit_test(reader_depth_limit),
        cmocka_unit_test(reader_last_duplicate_wins),
        cmocka_unit_test(reader_dedupes_huge_objects_quickly),
        cmocka_unit_test(reader_reports_offsets),
        cmocka_unit_test(writer_escapes),
        cmocka_unit_test(json_msgpack_round_trip),
        cmocka_unit_test(msgpack_to_json_special_types),
        cmocka_unit_test(doubles_print_round_trippably),
        cmocka_unit_test(buf_grows_and_resets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
