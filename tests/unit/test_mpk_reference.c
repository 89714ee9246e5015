/*
 * test_mpk_reference.c — common/mpk checked against msgpack-c.
 *
 * zbridge reads and writes msgpack with its own zero-copy cursor (common/
 * mpk.h): the hot path cannot afford msgpack-c's unpacker, which builds a
 * tree in a zone for every message, and the matcher must stay libc-only.
 * msgpack-c remains the reference implementation, so this test drives both
 * with the same random values and requires that:
 *   - the writers produce the same bytes (both choose the shortest form);
 *   - msgpack-c reads back exactly what zb_mpk wrote, to the last byte;
 *   - zb_mpk reads back exactly what msgpack-c wrote, item by item, and
 *     zb_mpk_skip consumes the same number of bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "mpk.h"

/* xorshift64*: deterministic, so a failure reproduces from its seed. */
static uint64_t s_rng;

static uint64_t s_next(void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 2685821657736338717ull;
}

/* Sizes on both sides of every encoding boundary. */
static const uint32_t s_lengths[] = { 0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536 };
static const int64_t s_ints[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295ll,
                                  4294967296ll, INT64_MAX, -1, -32, -33, -128, -129,
                                  -32768, -32769, -2147483648ll, -2147483649ll, INT64_MIN };

static uint32_t s_len(int depth)
{
    /* Long strings and containers only at the top, and a big container's
     * elements are scalars: the test stays quick under sanitizers. */
    uint32_t n = s_lengths[s_next() % (sizeof s_lengths / sizeof *s_lengths)];
    return depth > 0 && n > 16 ? n % 17 : n;
}

/* Writes one random value to both writers. */
static void s_gen(msgpack_packer *pk, zb_buf_t *zb, int depth)
{
    static char bytes[65536];
    int kind = (int) (s_next() % (depth >= 3 ? 8 : 10));
    switch (kind) {
    case 0:
        msgpack_pack_nil(pk);
        assert_int_equal(zb_mpk_put_nil(zb), 0);
        break;
    case 1: {
        bool b = s_next() & 1;
        b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        assert_int_equal(zb_mpk_put_bool(zb, b), 0);
        break;
    }
    case 2: {
        int64_t v = s_ints[s_next() % (sizeof s_ints / sizeof *s_ints)];
        msgpack_pack_int64(pk, v);
        assert_int_equal(v < 0 ? zb_mpk_put_int(zb, v) : zb_mpk_put_uint(zb, (uint64_t) v), 0);
        break;
    }
    case 3: {
        uint64_t v = s_next() >> (s_next() % 64);
        msgpack_pack_uint64(pk, v);
        assert_int_equal(zb_mpk_put_uint(zb, v), 0);
        break;
    }
    case 4: {
        double d = (double) (int64_t) s_next() / (double) (s_next() | 1);
        msgpack_pack_double(pk, d);
        assert_int_equal(zb_mpk_put_double(zb, d), 0);
        break;
    }
    case 5: {
        uint32_t n = s_len(depth);
        for (uint32_t i = 0; i < n; i++)
            bytes[i] = (char) ('a' + s_next() % 26);
        msgpack_pack_str_with_body(pk, bytes, n);
        assert_int_equal(zb_mpk_put_str(zb, bytes, n), 0);
        break;
    }
    case 6: {
        uint32_t n = s_len(depth);
        for (uint32_t i = 0; i < n; i++)
            bytes[i] = (char) s_next();
        msgpack_pack_bin_with_body(pk, bytes, n);
        assert_int_equal(zb_mpk_put_bin(zb, bytes, n), 0);
        break;
    }
    case 7: {
        uint32_t n = s_len(depth);
        int8_t type = (int8_t) (s_next() % 128);
        memset(bytes, 'x', n);
        msgpack_pack_ext_with_body(pk, bytes, n, type);
        assert_int_equal(zb_mpk_put_ext(zb, type, bytes, n), 0);
        break;
    }
    case 8: {
        uint32_t n = s_len(depth);
        msgpack_pack_array(pk, n);
        assert_int_equal(zb_mpk_put_array(zb, n), 0);
        for (uint32_t i = 0; i < n; i++)
            s_gen(pk, zb, n > 16 ? 3 : depth + 1);
        break;
    }
    default: {
        uint32_t n = s_len(depth);
        msgpack_pack_map(pk, n);
        assert_int_equal(zb_mpk_put_map(zb, n), 0);
        for (uint32_t i = 0; i < n; i++) {
            char key[16];
            int klen = snprintf(key, sizeof key, "k%u", i);
            msgpack_pack_str_with_body(pk, key, (size_t) klen);
            assert_int_equal(zb_mpk_put_str(zb, key, (size_t) klen), 0);
            s_gen(pk, zb, n > 16 ? 3 : depth + 1);
        }
        break;
    }
    }
}

/* Reads one value with zb_mpk and compares it with msgpack-c's object. */
static void s_same(zb_mpk_t *c, const msgpack_object *o)
{
    zb_mpk_item_t it;
    assert_int_equal(zb_mpk_read(c, &it), 0);
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        assert_int_equal(it.type, ZB_MPK_NIL);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        assert_int_equal(it.type, ZB_MPK_BOOL);
        assert_int_equal(it.v.b, o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        assert_int_equal(it.type, ZB_MPK_UINT);
        assert_true(it.v.u == o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        assert_int_equal(it.type, ZB_MPK_INT);
        assert_true(it.v.i == o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        assert_int_equal(it.type, ZB_MPK_FLOAT);
        assert_memory_equal(&it.v.f, &o->via.f64, sizeof(double));
        break;
    case MSGPACK_OBJECT_STR:
        assert_int_equal(it.type, ZB_MPK_STR);
        assert_int_equal(it.v.raw.len, o->via.str.size);
        assert_memory_equal(it.v.raw.ptr, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        assert_int_equal(it.type, ZB_MPK_BIN);
        assert_int_equal(it.v.raw.len, o->via.bin.size);
        assert_memory_equal(it.v.raw.ptr, o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_EXT:
        assert_int_equal(it.type, ZB_MPK_EXT);
        assert_int_equal(it.v.raw.ext_type, o->via.ext.type);
        assert_int_equal(it.v.raw.len, o->via.ext.size);
        assert_memory_equal(it.v.raw.ptr, o->via.ext.ptr, o->via.ext.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
        assert_int_equal(it.type, ZB_MPK_ARRAY);
        assert_int_equal(it.v.count, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            s_same(c, &o->via.array.ptr[i]);
        break;
    case MSGPACK_OBJECT_MAP:
        assert_int_equal(it.type, ZB_MPK_MAP);
        assert_int_equal(it.v.count, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            s_same(c, &o->via.map.ptr[i].key);
            s_same(c, &o->via.map.ptr[i].val);
        }
        break;
    default:
        fail_msg("unexpected msgpack-c type %d", o->type);
    }
}

static void test_writers_and_readers_agree_with_msgpack_c(void **state)
{
    (void) state;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        s_rng = seed * 0x9e3779b97f4a7c15ull;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        zb_buf_t *zb = zb_buf_new(64);
        assert_non_null(zb);
        s_gen(&pk, zb, 0);

        /* Same bytes from both writers. */
        assert_int_equal(zb->len, sb.size);
        assert_memory_equal(zb->data, sb.data, sb.size);

        /* msgpack-c reads zb_mpk's bytes whole... */
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        assert_int_equal(msgpack_unpack_next(&up, (const char *) zb->data, zb->len, &off),
                         MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(off, zb->len);

        /* ...and zb_mpk reads msgpack-c's bytes item by item, and skips
         * exactly the same value. */
        zb_mpk_t c;
        zb_mpk_init(&c, sb.data, sb.size);
        s_same(&c, &up.data);
        assert_true(zb_mpk_at_end(&c));
        zb_mpk_init(&c, sb.data, sb.size);
        assert_int_equal(zb_mpk_skip(&c, ZB_MPK_MAX_DEPTH), 0);
        assert_int_equal(zb_mpk_offset(&c), sb.size);

        /* Every strict prefix is refused by both, never over-read. */
        for (size_t cut = 0; cut < sb.size && cut < 64; cut++) {
            zb_mpk_init(&c, sb.data, cut);
            assert_int_equal(zb_mpk_skip(&c, ZB_MPK_MAX_DEPTH), -1);
            off = 0;
            assert_int_not_equal(msgpack_unpack_next(&up, sb.data, cut, &off),
                                 MSGPACK_UNPACK_SUCCESS);
        }
        msgpack_unpacked_destroy(&up);
        msgpack_sbuffer_destroy(&sb);
        zb_buf_destroy(&zb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writers_and_readers_agree_with_msgpack_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
