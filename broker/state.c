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
#include "state_fold.h"
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

/* Writes {"Version": 1, "Ops": [the count requests in ops]} to path. */
static int s_save(const char *path, const zb_buf_t *ops, size_t count, char *why, size_t whylen)
{
    zb_buf_t *out = zb_buf_new(ops->len + 64);
    if (!out) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    zb_mpk_put_map(out, 2);
    zb_put_cstr(out, "Version");
    zb_mpk_put_uint(out, 1);
    zb_put_cstr(out, "Ops");
    zb_mpk_put_array(out, (uint32_t) count);
    if (zb_buf_append(out, ops->data, ops->len) == -1) {
        zb_buf_destroy(&out);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        zb_buf_destroy(&out);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    memcpy(tmp, path, plen);
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
        else if (rename(tmp, path) == -1)
            snprintf(why, whylen, "%s: %s", path, strerror(errno));
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

/* Offsets of the requests lying back to back in buf[0..len). */
static size_t *s_offsets(const zb_buf_t *buf, size_t count)
{
    size_t *off = malloc((count ? count : 1) * sizeof *off);
    if (!off)
        return NULL;
    zb_mpk_t c;
    zb_mpk_init(&c, buf->data, buf->len);
    for (size_t i = 0; i < count; i++) {
        off[i] = zb_mpk_offset(&c);
        zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH); /* each was one decoded map */
    }
    return off;
}

int state__record(zb_state_t *s, const void *req, size_t len, const void *reply,
                  size_t reply_len, char *why, size_t whylen)
{
    state_op_t *ops = malloc((s->count ? s->count : 1) * sizeof *ops);
    zb_buf_t *folded = zb_buf_new(s->ops->len + len + 64);
    size_t count = 0, *offsets = NULL;
    int rc = -1;
    if (!ops || !folded)
        goto oom;
    for (size_t i = 0; i < s->count; i++)
        ops[i].data = (const uint8_t *) state__op(s, i, &ops[i].len);
    if (state_fold(ops, s->count, req, len, reply, reply_len, folded, &count) == -1)
        goto oom;
    if (count == s->count && folded->len == s->ops->len
        && memcmp(folded->data, s->ops->data, folded->len) == 0) {
        rc = 0; /* the change folded into what is saved already */
        goto done;
    }
    if (!(offsets = s_offsets(folded, count)))
        goto oom;
    if (s_save(s->path, folded, count, why, whylen) == -1)
        goto done;
    zb_buf_t *old = s->ops;
    s->ops = folded;
    folded = old;
    free(s->offsets);
    s->offsets = offsets;
    offsets = NULL;
    s->count = s->cap = count;
    rc = 0;
    goto done;
oom:
    snprintf(why, whylen, "out of memory");
done:
    free(ops);
    free(offsets);
    zb_buf_destroy(&folded);
    return rc;
}
