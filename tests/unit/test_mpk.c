/*
 * test_mpk.c — common/mpk: the bounds-checked cursor and the writers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mpk.h"
#include "zb_buf.h"

static void writers_pick_the_shortest_form_and_read_back(void **state)
{
    (void) state;
    zb_buf_t *b = zb_buf_new(16);
    const int64_t ints[] = {0, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL, -1, -32, -33,
                            -128, -129, -32768, -32769, -2147483648LL, -2147483649LL, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        zb_mpk_put_int(b, ints[i]);
    zb_mpk_put_uint(b, UINT64_MAX);
    zb_mpk_t c;
    zb_mpk_init(&c, b->data, b->len);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v;
        assert_int_equal(zb_mpk_read_int(&c, &v), 0);
        assert_true(v == ints[i]);
    }
    int64_t too_big;
    assert_int_equal(zb_mpk_read_int(&c, &too_big), -1); /* cursor unmoved */
    uint64_t u;
    assert_int_equal(zb_mpk_read_uint(&c, &u), 0);
    assert_true(u == UINT64_MAX);
    assert_true(zb_mpk_at_end(&c));
    /* sizes: fixint 1 byte, uint8 2, int64 9 */
    zb_buf_reset(b);
    zb_mpk_put_int(b, 5);
    assert_int_equal(b->len, 1);
    zb_mpk_put_int(b, 200);
    assert_int_equal(b->len, 3);
    zb_buf_destroy(&b);
}

static void strings_maps_arrays_and_floats(void **state)
{
    (void) state;
    zb_buf_t *b = zb_buf_new(16);
    char long_str[300];
    memset(long_str, 'x', sizeof long_str);
    zb_mpk_put_map(b, 2);
    zb_mpk_put_str(b, "k", 1);
    zb_mpk_put_str(b, long_str, sizeof long_str);
    zb_mpk_put_str(b, "a", 1);
    zb_mpk_put_array(b, 20);
    for (int i = 0; i < 20; i++)
        zb_mpk_put_double(b, i + 0.5);
    zb_mpk_t c;
    zb_mpk_init(&c, b->data, b->len);
    assert_int_equal(zb_mpk_peek(&c), ZB_MPK_MAP);
    uint32_t n;
    assert_int_equal(zb_mpk_read_array(&c, &n), -1);
    assert_int_equal(zb_mpk_read_map(&c, &n), 0);
    assert_int_equal(n, 2);
    const char *s;
    uint32_t len;
    assert_int_equal(zb_mpk_read_str(&c, &s, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(zb_mpk_read_str(&c, &s, &len), 0);
    assert_int_equal(len, 300);
    assert_int_equal(zb_mpk_read_str(&c, &s, &len), 0);
    assert_int_equal(zb_mpk_read_array(&c, &n), 0);
    assert_int_equal(n, 20);
    for (int i = 0; i < 20; i++) {
        double d;
        assert_int_equal(zb_mpk_read_float(&c, &d), 0);
        assert_true(d == i + 0.5);
    }
    assert_true(zb_mpk_at_end(&c));
    zb_buf_destroy(&b);
}

static void truncated_and_reserved_input_is_refused(void **state)
{
    (void) state;
    const uint8_t cases[][6] = {
        {0xd9, 0x05, 'a', 'b'},           /* str8 claims 5, has 2 */
        {0xcb, 0x00, 0x00},               /* float64 cut short */
        {0xc1},                           /* reserved */
        {0xdd, 0xff, 0xff, 0xff, 0xff},   /* array32 of 4G items, no items */
    };
    const size_t lens[] = {4, 3, 1, 5};
    for (size_t i = 0; i < 4; i++) {
        zb_mpk_t c;
        zb_mpk_init(&c, cases[i], lens[i]);
        zb_mpk_item_t it;
        if (i < 3)
            assert_int_equal(zb_mpk_read(&c, &it), -1);
        zb_mpk_init(&c, cases[i], lens[i]);
        assert_int_equal(zb_mpk_skip(&c, ZB_MPK_MAX_DEPTH), -1);
        assert_int_equal(zb_mpk_offset(&c), 0);
    }
}

static void skip_bounds_depth(void **state)
{
    (void) state;
    uint8_t buf[100];
    for (int depth = 3; depth <= 4; depth++) {
        memset(buf, 0x91, (size_t) depth); /* nested one-element arrays */
        buf[depth] = 0x01;
        zb_mpk_t c;
        zb_mpk_init(&c, buf, (size_t) depth + 1);
        assert_int_equal(zb_mpk_skip(&c, 3), depth <= 3 ? 0 : -1);
    }
    /* a map skips keys and values */
    const uint8_t map[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x92, 0xc0, 0xc3, 0x07};
    zb_mpk_t c;
    zb_mpk_init(&c, map, sizeof map);
    assert_int_equal(zb_mpk_skip(&c, 2), 0);
    assert_int_equal(zb_mpk_offset(&c), sizeof map - 1);
}

static void ext_and_negative_fixint(void **state)
{
    (void) state;
    zb_buf_t *b = zb_buf_new(16);
    zb_mpk_put_ext(b, 5, "abc", 3);
    zb_mpk_put_ext(b, -1, "abcd", 4);
    zb_mpk_put_int(b, -7);
    zb_mpk_t c;
    zb_mpk_init(&c, b->data, b->len);
    zb_mpk_item_t it;
    assert_int_equal(zb_mpk_read(&c, &it), 0);
    assert_int_equal(it.type, ZB_MPK_EXT);
    assert_int_equal(it.v.raw.ext_type, 5);
    assert_int_equal(it.v.raw.len, 3);
    assert_int_equal(zb_mpk_read(&c, &it), 0);
    assert_int_equal(it.v.raw.ext_type, -1);
    assert_int_equal(it.v.raw.len, 4);
    assert_int_equal(zb_mpk_read(&c, &it), 0);
    assert_int_equal(it.type, ZB_MPK_INT);
    assert_true(it.v.i == -7);
    zb_buf_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writers_pick_the_shortest_form_and_read_back),
        cmocka_unit_test(strings_maps_arrays_and_floats),
        cmocka_unit_test(truncated_and_reserved_input_is_refused),
        cmocka_unit_test(skip_bounds_depth),
        cmocka_unit_test(ext_and_negative_fixint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
