/*
 * mpk.h — a zero-copy, bounds-checked msgpack read cursor, plus writers.
 *
 * Reading: a zb_mpk_t walks a borrowed buffer. Every read checks bounds and
 * returns 0 on success or -1 on a short buffer, a reserved byte (0xc1) or a
 * type that is not the one asked for; on -1 the cursor does not move, so a
 * caller may peek, try one reader and fall back to another. Strings, bins
 * and ext payloads are returned as pointers into the buffer (no copy; not
 * NUL-terminated; valid as long as the buffer is).
 *
 * Writing: zb_mpk_put_*() append the shortest msgpack encoding of a value to
 * a zb_buf_t. They return 0, or -1 when memory runs out.
 *
 * This module depends on libc only (not on msgpack-c).
 */
#ifndef ZB_MPK_H
#define ZB_MPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "zb_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting zb_mpk_skip() and the transcoders accept by default. */
#define ZB_MPK_MAX_DEPTH 64

typedef enum zb_mpk_type {
    ZB_MPK_NIL = 1,
    ZB_MPK_BOOL,
    ZB_MPK_INT,     /* negative integer (fits int64) */
    ZB_MPK_UINT,    /* non-negative integer (fits uint64) */
    ZB_MPK_FLOAT,   /* float 32 or float 64 */
    ZB_MPK_STR,
    ZB_MPK_BIN,
    ZB_MPK_ARRAY,
    ZB_MPK_MAP,
    ZB_MPK_EXT,
} zb_mpk_type_t;

typedef struct zb_mpk {
    const uint8_t *start; /* first byte of the buffer */
    const uint8_t *p;     /* next unread byte */
    const uint8_t *end;   /* one past the last byte */
} zb_mpk_t;

/* One decoded item: a scalar, or the header of a container/str/bin/ext. */
typedef struct zb_mpk_item {
    zb_mpk_type_t type;
    union {
        bool b;
        int64_t i;          /* ZB_MPK_INT */
        uint64_t u;         /* ZB_MPK_UINT */
        double f;           /* ZB_MPK_FLOAT (float 32 widened) */
        uint32_t count;     /* ZB_MPK_ARRAY: elements; ZB_MPK_MAP: pairs */
        struct {
            const uint8_t *ptr; /* into the buffer */
            uint32_t len;
            int8_t ext_type;    /* ZB_MPK_EXT only */
        } raw;              /* ZB_MPK_STR, ZB_MPK_BIN, ZB_MPK_EXT */
    } v;
} zb_mpk_item_t;

/* Inline, as are the end test and the common readers below: a cursor is
 * set up for every request, entry and event. */
static inline void zb_mpk_init(zb_mpk_t *self, const void *buf, size_t len)
{
    self->start = (const uint8_t *) buf; /* a cast C++ includers need */
    self->p = self->start;
    self->end = self->start + len;
}

/* The big-endian 8-byte unsigned at p (a uint 64, int 64 or float 64
 * body): one load and, on little-endian machines, a byte swap. */
static inline uint64_t zb_mpk_be64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else /* a compiler that does not say: byte by byte */
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
#endif
}

/* Bytes consumed so far (for error offsets). */
size_t zb_mpk_offset(const zb_mpk_t *self);

static inline bool zb_mpk_at_end(const zb_mpk_t *self)
{
    return self->p >= self->end;
}

/* Type of the next item, or -1 at end of buffer or on a reserved byte. */
int zb_mpk_peek(const zb_mpk_t *self);

/* Reads the next item (a scalar, or a container/str/bin/ext header whose
 * payload, for str/bin/ext, is skipped and pointed to). After an ARRAY or
 * MAP header the cursor is at the first element. A fixstr or a positive
 * fixint, the commonest items, is read inline; zb_mpk__read reads any. */
int zb_mpk__read(zb_mpk_t *self, zb_mpk_item_t *item);

static inline int zb_mpk_read(zb_mpk_t *self, zb_mpk_item_t *item)
{
    const uint8_t *p = self->p;
    if (p < self->end) {
        uint8_t b = *p;
        if ((b & 0xe0) == 0xa0 && (size_t) (self->end - p - 1) >= (b & 0x1fu)) {
            item->type = ZB_MPK_STR;
            item->v.raw.ptr = p + 1;
            item->v.raw.len = b & 0x1f;
            item->v.raw.ext_type = 0;
            self->p = p + 1 + (b & 0x1f);
            return 0;
        }
        if (b <= 0x7f) {
            item->type = ZB_MPK_UINT;
            item->v.u = b;
            self->p = p + 1;
            return 0;
        }
    }
    return zb_mpk__read(self, item);
}

int zb_mpk_read_nil(zb_mpk_t *self);
int zb_mpk_read_bool(zb_mpk_t *self, bool *value);
/* Any integer encoding whose value fits the result type. */
int zb_mpk_read_int(zb_mpk_t *self, int64_t *value);
int zb_mpk_read_uint(zb_mpk_t *self, uint64_t *value);
/* float 32 / float 64 only; integers are refused (use zb_mpk_read). */
int zb_mpk_read_float(zb_mpk_t *self, double *value);
int zb_mpk_read_bin(zb_mpk_t *self, const uint8_t **bytes, uint32_t *len);

/* zb_mpk_read_str, _array and _map below decode the forms most keys and
 * headers take (fixstr, fixarray, fixmap) in line and leave the others to
 * these, out of line: they run for every key and container of every
 * event, so a call each would cost more than the decoding. */
int zb_mpk__read_str(zb_mpk_t *self, const char **str, uint32_t *len);
int zb_mpk__read_count(zb_mpk_t *self, zb_mpk_type_t want, uint32_t *count);

static inline int zb_mpk_read_str(zb_mpk_t *self, const char **str, uint32_t *len)
{
    const uint8_t *p = self->p;
    if (p < self->end && (*p & 0xe0) == 0xa0 && (size_t) (self->end - p - 1) >= (*p & 0x1fu)) {
        *str = (const char *) p + 1;
        *len = *p & 0x1f;
        self->p = p + 1 + (*p & 0x1f);
        return 0;
    }
    return zb_mpk__read_str(self, str, len);
}

static inline int zb_mpk_read_array(zb_mpk_t *self, uint32_t *count)
{
    if (self->p < self->end && (*self->p & 0xf0) == 0x90) {
        *count = *self->p++ & 0x0f;
        return 0;
    }
    return zb_mpk__read_count(self, ZB_MPK_ARRAY, count);
}

static inline int zb_mpk_read_map(zb_mpk_t *self, uint32_t *count)
{
    if (self->p < self->end && (*self->p & 0xf0) == 0x80) {
        *count = *self->p++ & 0x0f;
        return 0;
    }
    return zb_mpk__read_count(self, ZB_MPK_MAP, count);
}

/* The table behind zb_mpk__head_size (mpk.c). */
extern const uint8_t zb_mpk__item_size[256];

/* Whole size of the item at p, in a buffer ending at end (p <= end), when
 * its first byte tells it (a scalar, a fixstr, an empty container) or its
 * first two do (a str8, such as a 36-byte id) and it fits before end: most
 * values a reader skips. 0 for any other item, a truncated one or none:
 * those are for zb_mpk_skip to find out. */
static inline size_t zb_mpk__head_size(const uint8_t *p, const uint8_t *end)
{
    if (p >= end)
        return 0;
    size_t size = zb_mpk__item_size[*p];
    if (!size && *p == 0xd9 && end - p >= 2)
        size = 2 + (size_t) p[1];
    return (size_t) (end - p) >= size ? size : 0;
}

/* Skips one whole value, containers included. Refuses (-1, cursor
 * unmoved) nesting deeper than max_depth or a truncated value. Iterative,
 * so hostile input cannot exhaust the stack. Inline for an item
 * zb_mpk__head_size tells; zb_mpk__skip does the rest. */
int zb_mpk__skip(zb_mpk_t *self, int max_depth);

static inline int zb_mpk_skip(zb_mpk_t *self, int max_depth)
{
    size_t size = max_depth >= 0 ? zb_mpk__head_size(self->p, self->end) : 0;
    if (size) {
        self->p += size;
        return 0;
    }
    return zb_mpk__skip(self, max_depth);
}

/* ---- writers -------------------------------------------------------------- */
int zb_mpk_put_nil(zb_buf_t *out);
int zb_mpk_put_bool(zb_buf_t *out, bool value);
int zb_mpk_put_int(zb_buf_t *out, int64_t value);
int zb_mpk_put_uint(zb_buf_t *out, uint64_t value);
int zb_mpk_put_double(zb_buf_t *out, double value);
int zb_mpk_put_str(zb_buf_t *out, const char *str, size_t len);
int zb_mpk_put_bin(zb_buf_t *out, const void *bytes, size_t len);
int zb_mpk_put_array(zb_buf_t *out, uint32_t count);
int zb_mpk_put_map(zb_buf_t *out, uint32_t count);
int zb_mpk_put_ext(zb_buf_t *out, int8_t type, const void *bytes, size_t len);

#ifdef __cplusplus
}
#endif
#endif
