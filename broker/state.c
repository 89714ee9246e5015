/*
 * state.c — the API-change log. See state.h.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpk.h"
#include "zb_proto.h"

struct zb_state {
    char *path;
    zb_buf_t *ops;       /* the saved requests, back to back */
    size_t *offsets;     /* start of each request in ops */
    size_t count;
    size_t cap;
};

zb_state_t *state__new(const char *path)
{
    zb_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->path = strdup(path);
    s->ops = zb_buf_new(1024);
    if (!s->path || !s->ops) {
        state__destroy(&s);
        return NULL;
    }
    return s;
}

void state__destroy(zb_state_t **self_p)
{
    zb_state_t *s = *self_p;
    if (!s)
        return;
    free(s->path);
    zb_buf_destroy(&s->ops);
    free(s->offsets);
    free(s);
    *self_p = NULL;
}

const char *state__path(const zb_state_t *self)
{
    return self->path;
}

size_t state__bytes(const zb_state_t *self)
{
    return self->ops->len;
}

size_t state__count(const zb_state_t *self)
{
    return self->count;
}

const void *state__op(const zb_state_t *self, size_t i, size_t *len)
{
    size_t start = self->offsets[i];
    size_t end = i + 1 < self->count ? self->offsets[i + 1] : self->ops->len;
    *len = end - start;
    return self->ops->data + start;
}

static int s_push(zb_state_t *s, const void *req, size_t len)
{
    if (s->count == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        size_t *p = realloc(s->offsets, ncap * sizeof *p);
        if (!p)
            return -1;
        s->offsets = p;
        s->cap = ncap;
    }
    size_t at = s->ops->len;
    if (zb_buf_append(s->ops, req, len) == -1)
        return -1;
    s->offsets[s->count++] = at;
    return 0;
}

int state__load(zb_state_t *s, zb_buf_t *errors)
{
    zb_buf_reset(s->ops);
    s->count = 0;
    FILE *f = fopen(s->path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        zb_buf_appendf(errors, "%s: cannot open: %s\n", s->path, strerror(errno));
        return -1;
    }
    zb_buf_t *raw = zb_buf_new(4096);
    char chunk[65536];
    size_t n;
    while (raw && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (zb_buf_append(raw, chunk, n) == -1)
            break;
    bool read_error = ferror(f) || !raw;
    fclose(f);
    if (read_error) {
        zb_buf_appendf(errors, "%s: cannot read\n", s->path);
        zb_buf_destroy(&raw);
        return -1;
    }
    zb_map_t m;
    zb_proto_error_t err;
    int64_t version = 0;
    const zb_field_t *ops;
    zb_mpk_t c;
    uint32_t count;
    if (zb_map_decode(&m, raw->data, raw->len, &err) == -1 || zb_map_get_int(&m, "Version", &version) != 0
        || version != 1 || !(ops = zb_map_get(&m, "Ops"))) {
        zb_buf_appendf(errors, "%s: not a zbridge state file (version 1)\n", s->path);
        zb_buf_destroy(&raw);
        return -1;
    }
    zb_mpk_init(&c, ops->val, ops->val_len);
    int rc = zb_mpk_read_array(&c, &count);
    for (uint32_t i = 0; rc == 0 && i < count; i++) {
        const uint8_t *start = c.p;
        zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH); /* checked by zb_map_decode */
        rc = s_push(s, start, (size_t) (c.p - start));
    }
    zb_buf_destroy(&raw);
    if (rc == -1) {
        zb_buf_appendf(errors, "%s: Ops is not a list of requests\n", s->path);
        return -1;
    }
    return 0;
}

static int s_save(zb_state_t *s, char *why, size_t whylen)
{
    zb_buf_t *out = zb_buf_new(s->ops->len + 64);
    if (!out) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    zb_mpk_put_map(out, 2);
    zb_put_cstr(out, "Version");
    zb_mpk_put_uint(out, 1);
    zb_put_cstr(out, "Ops");
    zb_mpk_put_array(out, (uint32_t) s->count);
    if (zb_buf_append(out, s->ops->data, s->ops->len) == -1) {
        zb_buf_destroy(&out);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    size_t plen = strlen(s->path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        zb_buf_destroy(&out);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    memcpy(tmp, s->path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
    else {
        size_t off = 0;
        while (off < out->len) {
            ssize_t w = write(fd, out->data + off, out->len - off);
            if (w == -1 && errno == EINTR)
                continue;
            if (w == -1)
                break;
            off += (size_t) w;
        }
        /* fsync before rename: after a crash the file is the old one or
         * the new one, never a torn mix. */
        if (off != out->len || fsync(fd) == -1)
            snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
        else if (rename(tmp, s->path) == -1)
            snprintf(why, whylen, "%s: %s", s->path, strerror(errno));
        else
            rc = 0;
        close(fd);
        if (rc == -1)
            unlink(tmp);
    }
    free(tmp);
    zb_buf_destroy(&out);
    return rc;
}

int state__replace_last(zb_state_t *s, const void *req, size_t len, char *why, size_t whylen)
{
    if (s->count == 0)
        return state__append(s, req, len, why, whylen);
    /* Keep the old bytes aside so a failed save can restore them. */
    size_t start = s->offsets[s->count - 1];
    size_t old_len = s->ops->len - start;
    char *old = malloc(old_len ? old_len : 1);
    if (!old) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    memcpy(old, s->ops->data + start, old_len);
    s->count--;
    s->ops->len = start;
    int rc = state__append(s, req, len, why, whylen);
    if (rc == -1) {
        s->ops->len = start;
        s_push(s, old, old_len); /* fits: the buffer held it a moment ago */
    }
    free(old);
    return rc;
}

int state__append(zb_state_t *s, const void *req, size_t len, char *why, size_t whylen)
{
    size_t old_len = s->ops->len;
    if (s_push(s, req, len) == -1) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (s_save(s, why, whylen) == -1) {
        s->count--;
        s->ops->len = old_len;
        s->ops->data[old_len] = '\0';
        return -1;
    }
    return 0;
}
