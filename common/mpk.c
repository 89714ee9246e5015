/*
 * mpk.c — msgpack read cursor and writers. See mpk.h.
 */
#include "mpk.h"

#include <string.h>

/* zb_mpk_skip decodes its common forms in line and leaves the rest to a
 * general path kept out of line, so the fast path needs no stack frame;
 * zb_mpk_read_str, _array and _map do the same in mpk.h. */
#if defined(__GNUC__)
#define S_NOINLINE __attribute__((noinline))
#else
#define S_NOINLINE
#endif

size_t zb_mpk_offset(const zb_mpk_t *self)
{
    return (size_t) (self->p - self->start);
}

/* A big-endian unsigned of n = 1, 2, 4 or 8 bytes: one load each, not a
 * loop (every multi-byte header and number is read through here). */
static uint64_t s_be(const uint8_t *p, int n)
{
    switch (n) {
    case 1:
        return p[0];
    case 2:
        return (uint64_t) p[0] << 8 | p[1];
    case 4:
        return (uint64_t) p[0] << 24 | (uint64_t) p[1] << 16 | (uint64_t) p[2] << 8 | p[3];
    default:
        return zb_mpk_be64(p);
    }
}

/* Decodes the item at `p` without moving the cursor. On success *next is
 * the position after the item (after the header for arrays and maps).
 * Inlined into each reader: a call per item (the matcher reads every
 * value of every event through zb_mpk_read) costs a third as much again
 * as the decoding. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int s_decode(const uint8_t *p, const uint8_t *end, zb_mpk_item_t *it,
                           const uint8_t **next)
{
    if (p >= end)
        return -1;
    uint8_t b = *p++;
    size_t avail = (size_t) (end - p);
    size_t hdr = 0;     /* extra header bytes holding a length */
    uint64_t n = 0;

    if (b <= 0x7f) {
        it->type = ZB_MPK_UINT;
        it->v.u = b;
        *next = p;
        return 0;
    }
    if (b >= 0xe0) {
        it->type = ZB_MPK_INT;
        it->v.i = (int8_t) b;
        *next = p;
        return 0;
    }
    if ((b & 0xf0) == 0x80 || (b & 0xf0) == 0x90) {
        it->type = (b & 0xf0) == 0x80 ? ZB_MPK_MAP : ZB_MPK_ARRAY;
        it->v.count = b & 0x0f;
        *next = p;
        return 0;
    }
    if ((b & 0xe0) == 0xa0) {
        n = b & 0x1f;
        it->type = ZB_MPK_STR;
        goto raw;
    }
    switch (b) {
    case 0xc0:
        it->type = ZB_MPK_NIL;
        *next = p;
        return 0;
    case 0xc2:
    case 0xc3:
        it->type = ZB_MPK_BOOL;
        it->v.b = b == 0xc3;
        *next = p;
        return 0;
    case 0xc4: case 0xc5: case 0xc6:
        hdr = (size_t) 1 << (b - 0xc4);
        it->type = ZB_MPK_BIN;
        break;
    case 0xd9: case 0xda: case 0xdb:
        hdr = (size_t) 1 << (b - 0xd9);
        it->type = ZB_MPK_STR;
        break;
    case 0xc7: case 0xc8: case 0xc9: {
        hdr = (size_t) 1 << (b - 0xc7);
        if (avail < hdr + 1)
            return -1;
        n = s_be(p, (int) hdr);
        it->type = ZB_MPK_EXT;
        it->v.raw.ext_type = (int8_t) p[hdr];
        p += hdr + 1;
        avail -= hdr + 1;
        if (n > avail)
            return -1;
        it->v.raw.ptr = p;
        it->v.raw.len = (uint32_t) n;
        *next = p + n;
        return 0;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        n = (uint64_t) 1 << (b - 0xd4);
        if (avail < n + 1)
            return -1;
        it->type = ZB_MPK_EXT;
        it->v.raw.ext_type = (int8_t) p[0];
        it->v.raw.ptr = p + 1;
        it->v.raw.len = (uint32_t) n;
        *next = p + 1 + n;
        return 0;
    case 0xca:
        if (avail < 4)
            return -1;
        {
            uint32_t u = (uint32_t) s_be(p, 4);
            float f;
            memcpy(&f, &u, 4);
            it->type = ZB_MPK_FLOAT;
            it->v.f = f;
        }
        *next = p + 4;
        return 0;
    case 0xcb:
        if (avail < 8)
            return -1;
        {
            uint64_t u = s_be(p, 8);
            double d;
            memcpy(&d, &u, 8);
            it->type = ZB_MPK_FLOAT;
            it->v.f = d;
        }
        *next = p + 8;
        return 0;
    case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        size_t w = (size_t) 1 << (b - 0xcc);
        if (avail < w)
            return -1;
        it->type = ZB_MPK_UINT;
        it->v.u = s_be(p, (int) w);
        *next = p + w;
        return 0;
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        size_t w = (size_t) 1 << (b - 0xd0);
        if (avail < w)
            return -1;
        uint64_t u = s_be(p, (int) w);
        int64_t v;
        if (w == 1)
            v = (int8_t) u;
        else if (w == 2)
            v = (int16_t) u;
        else if (w == 4)
            v = (int32_t) u;
        else
            v = (int64_t) u;
        /* Normalise: non-negative values read as UINT whatever the wire
         * encoding, so readers see one representation per value. */
        if (v >= 0) {
            it->type = ZB_MPK_UINT;
            it->v.u = (uint64_t) v;
        } else {
            it->type = ZB_MPK_INT;
            it->v.i = v;
        }
        *next = p + w;
        return 0;
    }
    case 0xdc: case 0xdd:
    case 0xde: case 0xdf: {
        size_t w = (b == 0xdc || b == 0xde) ? 2 : 4;
        if (avail < w)
            return -1;
        it->type = b <= 0xdd ? ZB_MPK_ARRAY : ZB_MPK_MAP;
        it->v.count = (uint32_t) s_be(p, (int) w);
        *next = p + w;
        return 0;
    }
    default: /* 0xc1 is never used */
        return -1;
    }
    if (avail < hdr)
        return -1;
    n = s_be(p, (int) hdr);
    p += hdr;
    avail -= hdr;
raw:
    if (n > avail)
        return -1;
    it->v.raw.ptr = p;
    it->v.raw.len = (uint32_t) n;
    it->v.raw.ext_type = 0;
    *next = p + n;
    return 0;
}

int zb_mpk_peek(const zb_mpk_t *self)
{
    zb_mpk_item_t it;
    const uint8_t *next;
    if (s_decode(self->p, self->end, &it, &next) != 0)
        return -1;
    return (int) it.type;
}

int zb_mpk__read(zb_mpk_t *self, zb_mpk_item_t *item)
{
    const uint8_t *next;
    if (s_decode(self->p, self->end, item, &next) != 0)
        return -1;
    self->p = next;
    return 0;
}

/* Reads an item only if it has type `want`. */
static int s_read_type(zb_mpk_t *self, zb_mpk_type_t want, zb_mpk_item_t *it)
{
    const uint8_t *next;
    if (s_decode(self->p, self->end, it, &next) != 0 || it->type != want)
        return -1;
    self->p = next;
    return 0;
}

int zb_mpk_read_nil(zb_mpk_t *self)
{
    zb_mpk_item_t it;
    return s_read_type(self, ZB_MPK_NIL, &it);
}

int zb_mpk_read_bool(zb_mpk_t *self, bool *value)
{
    zb_mpk_item_t it;
    if (s_read_type(self, ZB_MPK_BOOL, &it) != 0)
        return -1;
    *value = it.v.b;
    return 0;
}

int zb_mpk_read_int(zb_mpk_t *self, int64_t *value)
{
    zb_mpk_item_t it;
    const uint8_t *next;
    if (s_decode(self->p, self->end, &it, &next) != 0)
        return -1;
    if (it.type == ZB_MPK_INT)
        *value = it.v.i;
    else if (it.type == ZB_MPK_UINT && it.v.u <= (uint64_t) INT64_MAX)
        *value = (int64_t) it.v.u;
    else
        return -1;
    self->p = next;
    return 0;
}

int zb_mpk_read_uint(zb_mpk_t *self, uint64_t *value)
{
    zb_mpk_item_t it;
    if (s_read_type(self, ZB_MPK_UINT, &it) != 0)
        return -1;
    *value = it.v.u;
    return 0;
}

int zb_mpk_read_float(zb_mpk_t *self, double *value)
{
    zb_mpk_item_t it;
    if (s_read_type(self, ZB_MPK_FLOAT, &it) != 0)
        return -1;
    *value = it.v.f;
    return 0;
}

int zb_mpk__read_str(zb_mpk_t *self, const char **str, uint32_t *len)
{
    zb_mpk_item_t it;
    if (s_read_type(self, ZB_MPK_STR, &it) != 0)
        return -1;
    *str = (const char *) it.v.raw.ptr;
    *len = it.v.raw.len;
    return 0;
}

int zb_mpk_read_bin(zb_mpk_t *self, const uint8_t **bytes, uint32_t *len)
{
    zb_mpk_item_t it;
    if (s_read_type(self, ZB_MPK_BIN, &it) != 0)
        return -1;
    *bytes = it.v.raw.ptr;
    *len = it.v.raw.len;
    return 0;
}

int zb_mpk__read_count(zb_mpk_t *self, zb_mpk_type_t want, uint32_t *count)
{
    zb_mpk_item_t it;
    if (s_read_type(self, want, &it) != 0)
        return -1;
    *count = it.v.count;
    return 0;
}

/* Whole size of an item whose first byte tells it: positive fixints,
 * negative fixints, nil, bools, numbers, fixstr, fixext and the empty
 * containers; 0 for the others (containers with items, str/bin/ext with a
 * length field, the reserved 0xc1). */
const uint8_t zb_mpk__item_size[256] = {
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x00 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x10 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x20 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x30 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x40 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x50 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x60 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0x70 */
     1,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x80 */
     1,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x90 */
     1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, /* 0xa0 */
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, /* 0xb0 */
     1,  0,  1,  1,  0,  0,  0,  0,  0,  0,  5,  9,  2,  3,  5,  9, /* 0xc0 */
     2,  3,  5,  9,  3,  4,  6, 10, 18,  0,  0,  0,  0,  0,  0,  0, /* 0xd0 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0xe0 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 0xf0 */
};

/* zb_mpk_skip for containers and length-prefixed items (not cold: every
 * request body is walked whole this way, by zb_map_decode). Iterative:
 * `left` counts the items still to read at the current level, and the
 * enclosing levels' counts wait in `pending` until their container ends.
 * A map of n pairs contributes 2n items. Counts are 64-bit so 2 * 2^32-1
 * cannot overflow; every item needs at least one byte, so a huge count in
 * a short buffer fails on the first missing byte. Headers are decoded here
 * rather than through s_decode: a skip needs only lengths, not values. */
static S_NOINLINE int s_skip_general(zb_mpk_t *self, int max_depth)
{
    uint64_t pending[ZB_MPK_MAX_DEPTH + 1];
    const uint8_t *p = self->p, *end = self->end;
    int depth = 0;
    uint64_t left = 1;
    for (;;) {
        while (left) {
            left--;
            if (p >= end)
                return -1;
            uint8_t b = *p;
            size_t size = zb_mpk__item_size[b];
            if (size) {
                if ((size_t) (end - p) < size)
                    return -1;
                p += size;
                continue;
            }
            p++;
            uint64_t skip = 0, children = 0;
            if ((b & 0xf0) == 0x80)
                children = 2u * (b & 0x0f);
            else if ((b & 0xf0) == 0x90)
                children = b & 0x0f;
            else {
                /* Headers with a length field: its width. */
                size_t w;
                switch (b) {
                case 0xc4: case 0xc7: case 0xd9: w = 1; break;
                case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: w = 2; break;
                case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf: w = 4; break;
                default: return -1; /* 0xc1 */
                }
                if ((size_t) (end - p) < w)
                    return -1;
                uint64_t n = s_be(p, (int) w);
                p += w;
                if (b == 0xdc || b == 0xdd)
                    children = n;
                else if (b == 0xde || b == 0xdf)
                    children = 2 * n;
                else
                    skip = n + (b >= 0xc7 && b <= 0xc9 ? 1 : 0); /* ext: type byte */
            }
            if (skip) {
                if ((uint64_t) (end - p) < skip)
                    return -1;
                p += skip;
            }
            if (children) {
                if (depth + 1 > max_depth)
                    return -1;
                pending[depth++] = left;
                left = children;
            }
        }
        if (depth == 0)
            break;
        left = pending[--depth];
    }
    self->p = p;
    return 0;
}

int zb_mpk__skip(zb_mpk_t *self, int max_depth)
{
    if (max_depth > ZB_MPK_MAX_DEPTH)
        max_depth = ZB_MPK_MAX_DEPTH;
    if (max_depth < 0)
        return -1;
    /* Most skipped values are one scalar, a string or an empty container:
     * their whole size is known from one or two bytes. */
    size_t size = zb_mpk__head_size(self->p, self->end);
    if (size) {
        self->p += size;
        return 0;
    }
    return s_skip_general(self, max_depth);
}

/* ---- writers -------------------------------------------------------------- */

static int s_put_be(zb_buf_t *out, uint8_t tag, uint64_t v, int width)
{
    uint8_t tmp[9];
    tmp[0] = tag;
    for (int i = 0; i < width; i++)
        tmp[1 + i] = (uint8_t) (v >> (8 * (width - 1 - i)));
    return zb_buf_append(out, tmp, (size_t) width + 1);
}

int zb_mpk_put_nil(zb_buf_t *out)
{
    return zb_buf_append_byte(out, 0xc0);
}

int zb_mpk_put_bool(zb_buf_t *out, bool value)
{
    return zb_buf_append_byte(out, value ? 0xc3 : 0xc2);
}

int zb_mpk_put_uint(zb_buf_t *out, uint64_t v)
{
    if (v <= 0x7f)
        return zb_buf_append_byte(out, (uint8_t) v);
    if (v <= 0xff)
        return s_put_be(out, 0xcc, v, 1);
    if (v <= 0xffff)
        return s_put_be(out, 0xcd, v, 2);
    if (v <= 0xffffffffu)
        return s_put_be(out, 0xce, v, 4);
    return s_put_be(out, 0xcf, v, 8);
}

int zb_mpk_put_int(zb_buf_t *out, int64_t v)
{
    if (v >= 0)
        return zb_mpk_put_uint(out, (uint64_t) v);
    if (v >= -32)
        return zb_buf_append_byte(out, (uint8_t) (int8_t) v);
    if (v >= INT8_MIN)
        return s_put_be(out, 0xd0, (uint64_t) v, 1);
    if (v >= INT16_MIN)
        return s_put_be(out, 0xd1, (uint64_t) v, 2);
    if (v >= INT32_MIN)
        return s_put_be(out, 0xd2, (uint64_t) v, 4);
    return s_put_be(out, 0xd3, (uint64_t) v, 8);
}

int zb_mpk_put_double(zb_buf_t *out, double value)
{
    uint64_t u;
    memcpy(&u, &value, 8);
    return s_put_be(out, 0xcb, u, 8);
}

static int s_put_raw(zb_buf_t *out, int is_str, const void *bytes, size_t len)
{
    int rc;
    if (len > 0xffffffffu)
        return -1;
    if (is_str && len <= 31)
        rc = zb_buf_append_byte(out, (uint8_t) (0xa0 | len));
    else if (len <= 0xff)
        rc = s_put_be(out, is_str ? 0xd9 : 0xc4, len, 1);
    else if (len <= 0xffff)
        rc = s_put_be(out, is_str ? 0xda : 0xc5, len, 2);
    else
        rc = s_put_be(out, is_str ? 0xdb : 0xc6, len, 4);
    if (rc != 0)
        return -1;
    return zb_buf_append(out, bytes, len);
}

int zb_mpk_put_str(zb_buf_t *out, const char *str, size_t len)
{
    return s_put_raw(out, 1, str, len);
}

int zb_mpk_put_bin(zb_buf_t *out, const void *bytes, size_t len)
{
    return s_put_raw(out, 0, bytes, len);
}

int zb_mpk_put_array(zb_buf_t *out, uint32_t count)
{
    if (count <= 15)
        return zb_buf_append_byte(out, (uint8_t) (0x90 | count));
    if (count <= 0xffff)
        return s_put_be(out, 0xdc, count, 2);
    return s_put_be(out, 0xdd, count, 4);
}

int zb_mpk_put_map(zb_buf_t *out, uint32_t count)
{
    if (count <= 15)
        return zb_buf_append_byte(out, (uint8_t) (0x80 | count));
    if (count <= 0xffff)
        return s_put_be(out, 0xde, count, 2);
    return s_put_be(out, 0xdf, count, 4);
}

int zb_mpk_put_ext(zb_buf_t *out, int8_t type, const void *bytes, size_t len)
{
    int rc;
    if (len > 0xffffffffu)
        return -1;
    if (len == 1 || len == 2 || len == 4 || len == 8 || len == 16) {
        uint8_t tag = len == 1 ? 0xd4 : len == 2 ? 0xd5 : len == 4 ? 0xd6 : len == 8 ? 0xd7 : 0xd8;
        uint8_t h[2] = {tag, (uint8_t) type};
        rc = zb_buf_append(out, h, 2);
    } else {
        if (len <= 0xff)
            rc = s_put_be(out, 0xc7, len, 1);
        else if (len <= 0xffff)
            rc = s_put_be(out, 0xc8, len, 2);
        else
            rc = s_put_be(out, 0xc9, len, 4);
        if (rc == 0)
            rc = zb_buf_append_byte(out, (uint8_t) type);
    }
    if (rc != 0)
        return -1;
    return zb_buf_append(out, bytes, len);
}
