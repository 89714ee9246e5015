/*
 * event_msgpack.c — reads a msgpack event (zbridge's native form) and feeds
 * the fields some rule names to the match context. Same model as
 * event_json.c: map keys must be strings; integers and floats are numbers;
 * bin and ext values count as present but match no typed matcher.
 */
#include "matcher_int.h"

#include "mpk.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    zb_mpk_t cur;
    zb_match_ctx_t *ctx;
    const zb_matcher_t *m;
    zb_matcher_error_t *err;
    int depth;
} s_rd_t;

static int s_fail(s_rd_t *rd, const char *what)
{
    if (rd->err) {
        snprintf(rd->err->message, sizeof rd->err->message, "Event is not valid msgpack: %s", what);
        rd->err->path[0] = '\0';
        rd->err->offset = (long) zb_mpk_offset(&rd->cur);
    }
    return -1;
}

/* The walk runs for every key and value of every event, and nearly all of
 * them are short strings (fixstr, str8) and one-byte scalars: those are
 * read here, bounds-checked like zb_mpk does, without a call; every other
 * form goes through zb_mpk. */

static int s_skip(s_rd_t *rd)
{
    if (zb_mpk_skip(&rd->cur, MT_MAX_DEPTH - rd->depth) != 0)
        return s_fail(rd, "truncated, invalid or nested deeper than 64 levels");
    return 0;
}

/* Header bytes (1 or 2) of the fixstr or str8 (up to 255 bytes) at p
 * that fits whole in the avail bytes left, its length in *n; 0 for any
 * other form or a truncated one. */
static inline size_t s_str_head(const uint8_t *p, size_t avail, size_t *n)
{
    size_t fix = avail ? (size_t) *p - 0xa0 : SIZE_MAX; /* as in s_map() */
    if (fix < 32 && fix < avail) {
        *n = fix;
        return 1;
    }
    if (fix == 0xd9 - 0xa0 && avail >= 2 && avail - 2 >= p[1]) {
        *n = p[1];
        return 2;
    }
    return 0;
}

/* The big-endian float64 body at p: one load and a byte swap. */
static inline double s_f64(const uint8_t *p)
{
    uint64_t u = zb_mpk_be64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static int s_map(s_rd_t *rd, uint32_t st, uint32_t count);
static int s_value_any(s_rd_t *rd, uint32_t st);

/* Reads the value at *pp, at state st (a path some rule names), and feeds
 * it to the match context; *pp moves past it. The forms nearly every value
 * has are read here, inline in the loops over maps and arrays, on the
 * cursor they hold in a local: a fixstr or str8, a fixint or float64, an
 * empty array, a fixmap some rule looks into; s_value_any() reads every
 * other form. 0, or -1 with rd->err filled. */
static MT_ALWAYS_INLINE int s_value(s_rd_t *rd, uint32_t st, const uint8_t **pp)
{
    const uint8_t *p = *pp, *const end = rd->cur.end;
    size_t n, hdr = s_str_head(p, (size_t) (end - p), &n);
    if (hdr) {
        *pp = p + hdr + n;
        mt_ctx_string(rd->ctx, st, (const char *) p + hdr, n);
        return 0;
    }
    if (p < end && (*p <= 0x7f || (*p == 0xcb && end - p >= 9))) {
        mt_value_t num = {.type = MT_V_NUM};
        if (*p <= 0x7f) {
            num.num = *p;
            *pp = p + 1;
        } else {
            num.num = s_f64(p + 1);
            *pp = p + 9;
        }
        if (mt_state_wants_value(rd->m, st))
            mt_ctx_value(rd->ctx, st, &num);
        return 0;
    }
    if (p < end && *p == 0x90 && rd->depth < MT_MAX_DEPTH) {
        *pp = p + 1; /* an empty array ("resources": []): absent, as s_value_any() finds */
        return 0;
    }
    int rc;
    if (p < end && (*p & 0xf0) == 0x80 && mt_state_has_children(rd->m, st)) {
        rd->cur.p = p + 1; /* an object some rule looks into (detail) */
        rc = s_map(rd, st, *p & 0x0f);
    } else {
        rd->cur.p = p;
        rc = s_value_any(rd, st);
    }
    *pp = rd->cur.p;
    return rc;
}

/* A key in another form than fixstr (str8, longer strings); kept out of
 * the map loop so that its cursor and key stay in registers. */
static MT_NOINLINE int s_key_slow(s_rd_t *rd, const uint8_t **p, const char **k, uint32_t *klen)
{
    rd->cur.p = *p;
    if (zb_mpk_read_str(&rd->cur, k, klen) != 0)
        return s_fail(rd, "map key is not a string");
    *p = rd->cur.p;
    return 0;
}

/* Most keys of an event are named by no rule, and most of those have a
 * length no child of the state has: for them the loop reads the fixstr
 * key, tests one bit and skips the value, all on the cursor held in a
 * local (rd->cur.p is brought up to date around calls). */
static int s_map(s_rd_t *rd, uint32_t st, uint32_t count)
{
    if (++rd->depth > MT_MAX_DEPTH)
        return s_fail(rd, "nesting deeper than 64 levels");
    const mt_state_t *s = MT_AT(rd->m->states, mt_state_t, st);
    const uint32_t len_bits = s->n_children > 0 ? s->child_len_bits : 0;
    const uint8_t *p = rd->cur.p, *const end = rd->cur.end;
    for (; count > 0; count--) {
        const char *k;
        uint32_t klen;
        /* a fixstr is 0xa0 + its length: one subtraction tells both */
        size_t fix = p < end ? (size_t) *p - 0xa0 : SIZE_MAX;
        if (fix < 32 && fix < (size_t) (end - p)) {
            klen = (uint32_t) fix;
            k = (const char *) p + 1;
            p += 1 + fix;
        } else {
            /* through copies: the loop's own variables stay in registers */
            const uint8_t *q = p;
            const char *kq;
            uint32_t lq;
            if (s_key_slow(rd, &q, &kq, &lq) != 0)
                return -1;
            p = q;
            k = kq;
            klen = lq;
        }
        uint32_t child = (len_bits >> (klen & 31)) & 1 ? mt_child_named(rd->m, s, st, k, klen) : MT_NONE;
        if (child == MT_NONE) {
            /* A value whose first one or two bytes tell its whole size (a
             * scalar, a fixstr, a str8 such as a 36-byte id) is skipped
             * here, without a call. */
            size_t size = zb_mpk__head_size(p, end);
            if (size) {
                p += size;
                continue;
            }
            rd->cur.p = p;
            if (s_skip(rd) != 0)
                return -1;
            p = rd->cur.p;
            continue;
        }
        if (s_value(rd, child, &p) != 0)
            return -1;
    }
    rd->cur.p = p;
    rd->depth--;
    return 0;
}

/* Not inline: the rare forms (str16, other integers, float32, nil, bools,
 * bin, ext, maps no rule looks into or larger than 15 pairs, non-empty
 * arrays), read through zb_mpk. */
static MT_NOINLINE int s_value_any(s_rd_t *rd, uint32_t st)
{
    const uint8_t *at = rd->cur.p;
    zb_mpk_item_t it;
    if (zb_mpk_read(&rd->cur, &it) != 0)
        return s_fail(rd, "truncated or invalid value");
    bool wants = mt_state_wants_value(rd->m, st);
    mt_value_t v = {0};
    switch (it.type) {
    case ZB_MPK_MAP:
        if (mt_state_has_children(rd->m, st))
            return s_map(rd, st, it.v.count);
        rd->cur.p = at;
        return s_skip(rd);
    case ZB_MPK_ARRAY:
        if (!wants && !mt_state_has_children(rd->m, st)) {
            rd->cur.p = at;
            return s_skip(rd);
        }
        if (++rd->depth > MT_MAX_DEPTH)
            return s_fail(rd, "nesting deeper than 64 levels");
        if (it.v.count > 0) {
            if (mt_ctx_push_array(rd->ctx) != 0)
                return s_fail(rd, "out of memory");
            const uint8_t *p = rd->cur.p;
            for (uint32_t i = 0; i < it.v.count; i++) {
                mt_ctx_set_index(rd->ctx, i);
                if (s_value(rd, st, &p) != 0)
                    return -1;
            }
            rd->cur.p = p;
            mt_ctx_pop_array(rd->ctx);
        }
        rd->depth--;
        return 0;
    case ZB_MPK_STR:
        v.type = MT_V_STR;
        v.s = (const char *) it.v.raw.ptr;
        v.len = it.v.raw.len;
        break;
    case ZB_MPK_NIL:
        v.type = MT_V_NULL;
        break;
    case ZB_MPK_BOOL:
        v.type = it.v.b ? MT_V_TRUE : MT_V_FALSE;
        break;
    case ZB_MPK_INT:
        v.type = MT_V_NUM;
        v.num = (double) it.v.i;
        break;
    case ZB_MPK_UINT:
        v.type = MT_V_NUM;
        v.num = (double) it.v.u;
        break;
    case ZB_MPK_FLOAT:
        v.type = MT_V_NUM;
        v.num = it.v.f;
        break;
    case ZB_MPK_BIN:
    case ZB_MPK_EXT:
        v.type = MT_V_OTHER;
        break;
    }
    if (wants)
        mt_ctx_value(rd->ctx, st, &v);
    return 0;
}

int mt_event_msgpack(zb_match_ctx_t *ctx, const void *buf, size_t len, zb_matcher_error_t *err)
{
    s_rd_t rd = {.ctx = ctx, .m = ctx->m, .err = err};
    zb_mpk_init(&rd.cur, buf, len);
    uint32_t count;
    if (zb_mpk_read_map(&rd.cur, &count) != 0)
        return s_fail(&rd, "the event must be a map");
    if (s_map(&rd, 0, count) != 0)
        return -1;
    if (rd.cur.p < rd.cur.end)
        return s_fail(&rd, "trailing bytes after the event");
    if (ctx->oom)
        return s_fail(&rd, "out of memory");
    return 0;
}
