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
    state_key_t *keys;   /* each request's key (state_fold.h) */
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
    free(s->keys);
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
        state_key_t *k = realloc(s->keys, ncap * sizeof *k);
        if (!k)
            return -1;
        s->keys = k;
        s->cap = ncap;
    }
    size_t at = s->ops->len;
    if (zb_buf_append(s->ops, req, len) == -1)
        return -1;
    state_fold_key(req, len, &s->keys[s->count]);
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

static int s_write_all(int fd, const char *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            return -1;
        off += (size_t) w;
    }
    return 0;
}

/* Writes {"Version": 1, "Ops": [the count requests in ops]} to path (the
 * header first, then ops as they are: no copy of what may be megabytes). */
static int s_save(const char *path, const zb_buf_t *ops, size_t count, char *why, size_t whylen)
{
    zb_buf_t *head = zb_buf_new(32);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!head || !tmp) {
        zb_buf_destroy(&head);
        free(tmp);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    zb_mpk_put_map(head, 2); /* at most 19 bytes: within the 32 reserved */
    zb_put_cstr(head, "Version");
    zb_mpk_put_uint(head, 1);
    zb_put_cstr(head, "Ops");
    zb_mpk_put_array(head, (uint32_t) count);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
    else {
        /* fsync before rename: after a crash the file is the old one or
         * the new one, never a torn mix. */
        if (s_write_all(fd, head->data, head->len) == -1
            || s_write_all(fd, ops->data, ops->len) == -1 || fsync(fd) == -1)
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
    zb_buf_destroy(&head);
    return rc;
}

int state__record(zb_state_t *s, const void *req, size_t len, const void *reply,
                  size_t reply_len, char *why, size_t whylen)
{
    state_op_t *ops = malloc((s->count + 1) * sizeof *ops);
    size_t *offsets = malloc((s->count + 1) * sizeof *offsets);
    state_key_t *keys = malloc((s->count + 1) * sizeof *keys);
    zb_buf_t *folded = zb_buf_new(s->ops->len + len + 64);
    size_t count = 0;
    int rc = -1;
    if (!ops || !offsets || !keys || !folded)
        goto oom;
    for (size_t i = 0; i < s->count; i++) {
        ops[i].data = (const uint8_t *) state__op(s, i, &ops[i].len);
        ops[i].key = s->keys[i];
    }
    if (state_fold(ops, s->count, req, len, reply, reply_len, folded, &count, offsets, keys)
        == -1)
        goto oom;
    if (count == s->count && folded->len == s->ops->len
        && memcmp(folded->data, s->ops->data, folded->len) == 0) {
        rc = 0; /* the change folded into what is saved already */
        goto done;
    }
    if (s_save(s->path, folded, count, why, whylen) == -1)
        goto done;
    zb_buf_t *old = s->ops;
    s->ops = folded;
    folded = old;
    free(s->offsets);
    free(s->keys);
    s->offsets = offsets;
    s->keys = keys;
    offsets = NULL;
    keys = NULL;
    s->cap = s->count + 1;
    s->count = count;
    rc = 0;
    goto done;
oom:
    snprintf(why, whylen, "out of memory");
done:
    free(ops);
    free(offsets);
    free(keys);
    zb_buf_destroy(&folded);
    return rc;
}
