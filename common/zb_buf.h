/*
 * zb_buf.h — a tiny growable byte buffer (in the spirit of redis' sds).
 *
 * The bytes live in `data[0..len)`; `data[len]` is always a NUL so text
 * output can be used as a C string directly. The struct is public on
 * purpose: readers use `b->data` and `b->len` without accessor calls.
 *
 * zb_buf_new() returns NULL on failure; zb_buf_destroy(&b) frees and nulls
 * the pointer and is safe to call twice. Appends return 0, or -1 when memory
 * runs out (the buffer is then unchanged).
 */
#ifndef ZB_BUF_H
#define ZB_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zb_buf {
    char *data;   /* never NULL after zb_buf_new; data[len] == '\0' */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated, excluding the terminating NUL */
} zb_buf_t;

zb_buf_t *zb_buf_new(size_t cap_hint);
void zb_buf_destroy(zb_buf_t **self_p);

/* zb_buf_reserve when the room is not there yet: grows the buffer. */
int zb_buf_grow(zb_buf_t *self, size_t extra);

/* Makes room for `extra` more bytes without changing len. Inline, as is
 * zb_buf_append: both run for every part of every event, and most find
 * the room there already. */
static inline int zb_buf_reserve(zb_buf_t *self, size_t extra)
{
    return extra <= self->cap - self->len ? 0 : zb_buf_grow(self, extra);
}

static inline int zb_buf_append(zb_buf_t *self, const void *bytes, size_t n)
{
    if (n == 0)
        return 0;
    if (zb_buf_reserve(self, n) != 0)
        return -1;
    memcpy(self->data + self->len, bytes, n);
    self->len += n;
    self->data[self->len] = '\0';
    return 0;
}

int zb_buf_append_byte(zb_buf_t *self, uint8_t byte);
int zb_buf_append_str(zb_buf_t *self, const char *s);
/* printf-style append; -1 on memory or format error. */
int zb_buf_appendf(zb_buf_t *self, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Forgets the content but keeps the memory for reuse. */
void zb_buf_reset(zb_buf_t *self);

#ifdef __cplusplus
}
#endif
#endif
