/*
 * zb_buf.c — growable byte buffer. See zb_buf.h.
 */
#include "zb_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

zb_buf_t *zb_buf_new(size_t cap_hint)
{
    zb_buf_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (cap_hint < 64)
        cap_hint = 64;
    self->data = malloc(cap_hint + 1);
    if (!self->data) {
        free(self);
        return NULL;
    }
    self->cap = cap_hint;
    self->data[0] = '\0';
    return self;
}

void zb_buf_destroy(zb_buf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->data);
    free(*self_p);
    *self_p = NULL;
}

/* Grows geometrically so a long run of small appends stays linear. */
int zb_buf_grow(zb_buf_t *self, size_t extra)
{
    if (extra <= self->cap - self->len)
        return 0;
    if (extra > SIZE_MAX / 2 - self->len)
        return -1;
    size_t want = self->len + extra;
    size_t cap = self->cap * 2;
    if (cap < want)
        cap = want;
    char *data = realloc(self->data, cap + 1);
    if (!data)
        return -1;
    self->data = data;
    self->cap = cap;
    return 0;
}

int zb_buf_append_byte(zb_buf_t *self, uint8_t byte)
{
    if (self->len == self->cap && zb_buf_reserve(self, 1) != 0)
        return -1;
    self->data[self->len++] = (char) byte;
    self->data[self->len] = '\0';
    return 0;
}

int zb_buf_append_str(zb_buf_t *self, const char *s)
{
    return zb_buf_append(self, s, strlen(s));
}

int zb_buf_appendf(zb_buf_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(self->data + self->len, self->cap - self->len + 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        self->data[self->len] = '\0';
        return -1;
    }
    if ((size_t) n > self->cap - self->len) {
        if (zb_buf_reserve(self, (size_t) n) != 0) {
            self->data[self->len] = '\0';
            return -1;
        }
        va_start(ap, fmt);
        vsnprintf(self->data + self->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
    }
    self->len += (size_t) n;
    return 0;
}

void zb_buf_reset(zb_buf_t *self)
{
    self->len = 0;
    self->data[0] = '\0';
}
