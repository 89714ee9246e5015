/*
 * test_codec_skip.c — the cursor's skipper (zb_mpk_skip in common/mpk.c,
 * which decodes headers inline because every request is walked with it)
 * agrees with a reference skip built on the general decoder zb_mpk_read,
 * on every input: same verdict, same end. Differential: random bytes, and
 * valid values mutated byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mpk.h"

/* The reference: one item at a time through zb_mpk_read, a stack of
 * items still to read per level, refusing nesting beyond max_depth. */
static int s_reference_skip(const uint8_t **pp, const uint8_t *end, int max_depth)
{
    uint64_t pending[ZB_MPK_MAX_DEPTH + 1];
    if (max_depth > ZB_MPK_MAX_DEPTH)
        max_depth = ZB_MPK_MAX_DEPTH;
    zb_mpk_t c;
    zb_mpk_init(&c, *pp, (size_t) (end - *pp));
    int depth = 0;
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        zb_mpk_item_t it;
        if (zb_mpk_read(&c, &it) != 0)
            return -1;
        if (it.type == ZB_MPK_ARRAY || it.type == ZB_MPK_MAP) {
            uint64_t n = it.type == ZB_MPK_MAP ? 2 * (uint64_t) it.v.count : it.v.count;
            if (n == 0)
                continue;
            if (depth + 1 > max_depth)
                return -1;
            pending[++depth] = n;
        }
    }
    *pp = c.p;
    return 0;
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;

static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void s_compare(const uint8_t *buf, size_t len)
{
    for (int depth = 0; depth <= 3; depth++) {
        int max_depth = depth == 3 ? ZB_MPK_MAX_DEPTH : depth;
        const uint8_t *p = buf;
        int want = s_reference_skip(&p, buf + len, max_depth);
        zb_mpk_t c;
        zb_mpk_init(&c, buf, len);
        int got = zb_mpk_skip(&c, max_depth);
        assert_int_equal(got, want);
        if (want == 0)
            assert_ptr_equal(c.p, p);
        else
            assert_ptr_equal(c.p, buf);
    }
}

/* A random, mostly valid value: containers, every scalar width, exts. */
static void s_value(zb_buf_t *b, int depth)
{
    switch (s_next() % (depth > 4 ? 9 : 12)) {
    case 0: zb_mpk_put_uint(b, s_next() >> (s_next() % 64)); break;
    case 1: zb_mpk_put_int(b, -(int64_t) (s_next() >> (1 + s_next() % 63))); break;
    case 2: zb_mpk_put_double(b, 1.5); break;
    case 3: zb_buf_append_byte(b, 0xca), zb_buf_append(b, "\0\0\0\0", 4); break;
    case 4: {
        char s[300];
        size_t n = s_next() % sizeof s;
        memset(s, 'x', n);
        zb_mpk_put_str(b, s, n);
        break;
    }
    case 5: zb_mpk_put_bin(b, "abc", s_next() % 4); break;
    case 6: {
        static const size_t sizes[] = { 1, 2, 4, 8, 16, 3, 300 };
        char payload[300] = { 0 };
        zb_mpk_put_ext(b, (int8_t) (s_next() % 7), payload, sizes[s_next() % 7]);
        break;
    }
    case 7: zb_mpk_put_nil(b); break;
    case 8: zb_mpk_put_bool(b, s_next() & 1); break;
    case 9: case 10: {
        uint32_t n = (uint32_t) (s_next() % 20);
        zb_mpk_put_array(b, n);
        for (uint32_t i = 0; i < n; i++)
            s_value(b, depth + 1);
        break;
    }
    default: {
        uint32_t n = (uint32_t) (s_next() % 20);
        zb_mpk_put_map(b, n);
        for (uint32_t i = 0; i < 2 * n; i++)
            s_value(b, depth + 1);
        break;
    }
    }
}

static void random_bytes_get_the_same_verdict(void **state)
{
    uint8_t buf[64];
    for (int i = 0; i < 100000; i++) {
        size_t len = s_next() % sizeof buf;
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t) s_next();
        s_compare(buf, len);
    }
}

static void mutated_values_get_the_same_verdict_and_end(void **state)
{
    zb_buf_t *b = zb_buf_new(1024);
    for (int i = 0; i < 8000; i++) {
        zb_buf_reset(b);
        s_value(b, 0);
        s_compare((const uint8_t *) b->data, b->len);
        for (int m = 0; m < 4 && b->len; m++) {
            b->data[s_next() % b->len] = (char) s_next();
            s_compare((const uint8_t *) b->data, b->len);
            s_compare((const uint8_t *) b->data, s_next() % (b->len + 1));
        }
    }
    zb_buf_destroy(&b);
}

static void deep_nesting_is_refused_alike(void **state)
{
    uint8_t deep[200];
    memset(deep, 0x91, sizeof deep);
    deep[199] = 0xc0;
    for (size_t len = 60; len <= sizeof deep; len++)
        s_compare(deep, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_bytes_get_the_same_verdict),
        cmocka_unit_test(mutated_values_get_the_same_verdict_and_end),
        cmocka_unit_test(deep_nesting_is_refused_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
