/*
 * matcher_int.h — prototypes shared by the matcher's files. Types are in
 * matcher-t.h. Nothing here is part of the public contract.
 */
#ifndef ZB_MATCHER_INT_H
#define ZB_MATCHER_INT_H

#include "matcher-t.h"

#include <string.h>

#include "json.h"

/* For the few places where the compiler's choice costs the hot path: a
 * helper called twice that must not pay a call per value, or a rare path
 * kept out of line so that its loop's variables stay in registers. */
#if defined(__GNUC__)
#define MT_ALWAYS_INLINE inline __attribute__((always_inline))
#define MT_NOINLINE __attribute__((noinline))
#else
#define MT_ALWAYS_INLINE inline
#define MT_NOINLINE
#endif

/* ---- errors (pattern_parse.c) --------------------------------------------- */
/* Fills *err (may be NULL) with "Event pattern is not valid. Reason: <reason>"
 * and the path. Always returns -1. */
int mt_pattern_error(zb_matcher_error_t *err, const char *path, long offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- hmap.c ---------------------------------------------------------------- */
void mt_hmap_free(mt_hmap_t *map);
/* Entry for (state, tag, bytes), or NULL. */
const mt_hentry_t *mt_hmap_find(const mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len);
/* Appends `val` to the entry's values, creating it. 0 or -1 (memory). */
int mt_hmap_add(mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len,
                uint32_t val);
/* Removes one `val` from the entry and the entry when it becomes empty;
 * false when the entry did not hold it. */
bool mt_hmap_remove(mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len,
                    uint32_t val);

/* ---- table.c ---------------------------------------------------------------- */
void mt_table_init(mt_table_t *t, size_t elem);
void mt_table_free(mt_table_t *t);
/* A zeroed record; returns its slot or MT_NONE when memory runs out. */
uint32_t mt_table_alloc(mt_table_t *t);
void mt_table_release(mt_table_t *t, uint32_t slot);
int mt_grow_slow(void **v, uint32_t *cap, uint32_t need, size_t elem);
/* Makes room for `need` elements of `elem` bytes in *v (capacity *cap),
 * doubling, new room zeroed; 0, or -1 with *v unchanged when memory runs
 * out. Inline because matching calls it per hit and almost never grows. */
static inline int mt_grow(void **v, uint32_t *cap, uint32_t need, size_t elem)
{
    return need <= *cap ? 0 : mt_grow_slow(v, cap, need, elem);
}
#define MT_AT(t, type, i) (&((type *) (t).v)[i])

/* a[0..len) == b[0..len). Field names and most values are short: up to
 * 32 bytes they are compared with (overlapping) whole loads inside the
 * bounds, cheaper than a call to memcmp. */
static inline bool mt_bytes_eq(const void *a, const void *b, size_t len)
{
    const uint8_t *x = a, *y = b;
    if (len >= 8) {
        if (len > 32)
            return memcmp(x, y, len) == 0;
        uint64_t p, q, d = 0;
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&p, x + i, 8);
            memcpy(&q, y + i, 8);
            d |= p ^ q;
        }
        memcpy(&p, x + len - 8, 8);
        memcpy(&q, y + len - 8, 8);
        return (d | (p ^ q)) == 0;
    }
    if (len >= 4) {
        uint32_t p, q, r, t;
        memcpy(&p, x, 4);
        memcpy(&q, y, 4);
        memcpy(&r, x + len - 4, 4);
        memcpy(&t, y + len - 4, 4);
        return ((p ^ q) | (r ^ t)) == 0;
    }
    return len == 0 || (x[0] == y[0] && x[len >> 1] == y[len >> 1] && x[len - 1] == y[len - 1]);
}

/* Bucket of a 4-byte gram (its bytes as loaded by memcpy) in a state's
 * gram filter. */
static inline uint32_t mt_gram_bucket(uint32_t w)
{
    return (w * 0x9E3779B1u) >> 22; /* 10 bits: MT_GRAM_BUCKETS */
}

/* Bucket of a value-index key in its state's key filter: the tag, the
 * length and the end bytes say most of what tells keys apart at one state
 * ("shop.1" from "bench.orders", "-0042" from "45678") at the cost of a
 * multiply. first and last are the key's end bytes (0 when it is empty). */
static inline uint32_t mt_key_bucket(uint8_t tag, size_t len, uint8_t first, uint8_t last)
{
    uint64_t x = ((uint64_t) tag | (uint64_t) len << 8) ^ ((uint64_t) first << 16 | (uint64_t) last << 24);
    return (uint32_t) ((x * 0x9E3779B97F4A7C15ull) >> 56); /* 8 bits: MT_KEY_BUCKETS */
}

static inline uint32_t mt_key_bucket_of(uint8_t tag, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    return mt_key_bucket(tag, len, len ? p[0] : 0, len ? p[len - 1] : 0);
}

/* Whether some key of the state falls in bucket b. */
static inline bool mt_state_may_hold(const mt_state_t *s, uint32_t b)
{
    return (s->key_bits[b >> 6] >> (b & 63)) & 1;
}

/* ---- numbits.c ------------------------------------------------------------- */
/* Order-preserving 8-byte key of a double: bytewise comparison of keys
 * orders like the numbers; -0 and +0 give the same key. */
void mt_num_key(double d, uint8_t out[8]);

/* ---- casefold.c -------------------------------------------------------------- */
uint32_t mt_fold_cp(uint32_t cp);
/* Folds UTF-8 s[0..len) into out (room for 2 * len + 4 bytes); bytes that are
 * not valid UTF-8 are copied as they are. Returns the folded length. */
size_t mt_fold_utf8(const char *s, size_t len, char *out);

/* ---- numrange.c --------------------------------------------------------------- */
int mt_range_insert(mt_rnode_t **root, const mt_alt_t *a, uint32_t cond, uint32_t prio);
void mt_range_remove(mt_rnode_t **root, const mt_alt_t *a, uint32_t cond);
void mt_range_free(mt_rnode_t **root);
/* A condition holding a range with a's bounds for which same(arg, cond)
 * says yes, or MT_NONE: O(log n) plus the ranges with those bounds. */
uint32_t mt_range_find(const mt_rnode_t *root, const mt_alt_t *a, bool (*same)(void *arg, uint32_t cond), void *arg);
/* Calls hit(arg, cond) for every range containing x. */
void mt_range_stab(const mt_rnode_t *root, double x, void (*hit)(void *arg, uint32_t cond), void *arg);
/* Heap bytes of one range node. */
size_t mt_range_node_bytes(void);

/* ---- cidr.c ------------------------------------------------------------------ */
/* Parses "a.b.c.d/n" or "v6/n" into alt->family, net, bits (host bits
 * cleared). Returns NULL or a static reason text. */
const char *mt_cidr_parse(const char *s, size_t len, mt_alt_t *alt);
/* Parses an IPv4 or IPv6 address (no prefix). 0 with *family and the
 * 16-byte form (v4 in the last 4 bytes), or -1. */
int mt_ip_parse(const char *s, size_t len, uint8_t *family, uint8_t out[16]);

/* ---- wildcard.c ---------------------------------------------------------------- */
/* Validates wildcard text; returns NULL or a reason (static or in buf). */
const char *mt_wildcard_check(const char *s, size_t len, char *buf, size_t buf_len);
/* Compiles validated wildcard text; NULL when memory runs out. */
mt_glob_t *mt_glob_compile(const char *s, size_t len);
void mt_glob_free(mt_glob_t **glob_p);
/* Matches a value in O(len(value) + len(pattern)). */
bool mt_glob_match(const mt_glob_t *g, const char *s, size_t slen);
/* Number of unescaped stars in validated wildcard text. */
uint32_t mt_wildcard_stars(const char *s, size_t len);
/* Unescapes validated wildcard text without stars' meaning: copies the
 * literal characters to out (room for len bytes). */
size_t mt_wildcard_literal(const char *s, size_t len, char *out);

/* ---- pattern_parse.c -------------------------------------------------------------- */
/* Validates and compiles a parsed pattern. Returns NULL with *err. */
mt_pattern_t *mt_pattern_compile(const zb_json_t *root, zb_matcher_error_t *err);
/* Parses text in `format` and compiles it. */
mt_pattern_t *mt_pattern_from_input(zb_matcher_format_t format, const void *pattern, size_t len,
                                    zb_matcher_error_t *err);
void mt_pattern_free(mt_pattern_t **pat_p);
/* Drops one matcher reference (pat->refs); the last frees the pattern and
 * takes its bytes off m->pattern_bytes. *pat_p becomes NULL. */
void mt_pattern_unref(zb_matcher_t *m, mt_pattern_t **pat_p);
size_t mt_pattern_bytes(const mt_pattern_t *pat);

/* ---- automaton.c ----------------------------------------------------------------- */
/* The state reached from `parent` by field `name`, or MT_NONE. */
uint32_t mt_child(const zb_matcher_t *m, uint32_t parent, const char *name, size_t len);
/* Adds a compiled pattern as rule `slot`'s conditions and subrules. */
void mt_state_free_contents(mt_state_t *s);
int mt_install(zb_matcher_t *m, uint32_t slot);
void mt_uninstall(zb_matcher_t *m, uint32_t slot);

/* Hot-path helpers for the event readers. */
static inline bool mt_state_wants_value(const zb_matcher_t *m, uint32_t st)
{
    return MT_AT(m->states, mt_state_t, st)->ops != 0;
}

static inline bool mt_state_has_children(const zb_matcher_t *m, uint32_t st)
{
    return MT_AT(m->states, mt_state_t, st)->n_children > 0;
}

/* The first 8 bytes of a name, or all of a shorter one (overlapping loads
 * within its bounds): two names of one length up to 8 bytes are equal
 * exactly when their heads are. */
static inline uint64_t mt_name_head(const char *name, size_t len)
{
    const uint8_t *p = (const uint8_t *) name;
    uint64_t w;
    if (len >= 8) {
        memcpy(&w, p, 8);
        return w;
    }
    if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + len - 4, 4);
        return (uint64_t) hi << 32 | lo;
    }
    return len ? (uint64_t) p[0] << 16 | (uint64_t) p[len >> 1] << 8 | p[len - 1] : 0;
}

/* Slot of a child name (its head and length) in few_slot. */
static inline uint32_t mt_few_slot(uint64_t head, size_t len)
{
    return (uint32_t) (((head ^ len) * 0x9E3779B97F4A7C15ull) >> 61); /* 3 bits: MT_FEW_SLOTS */
}

/* mt_child() for a name whose length passed the state's length filter,
 * by comparing names when the state has few children; s is state st. */
static inline uint32_t mt_child_named(const zb_matcher_t *m, const mt_state_t *s, uint32_t st, const char *name,
                                      size_t len)
{
    if (s->few_n == MT_MANY_CHILDREN)
        return mt_child(m, st, name, len);
    uint64_t head = mt_name_head(name, len);
    for (uint32_t i = s->few_slot[mt_few_slot(head, len)]; i; i = s->few[i - 1].next) {
        const struct mt_few *f = &s->few[i - 1];
        if (f->head == head && f->len == len && (len <= 8 || mt_bytes_eq(f->name + 8, name + 8, len - 8)))
            return f->state;
    }
    return MT_NONE;
}

/* mt_child() behind the length filter. */
static inline uint32_t mt_child_fast(const zb_matcher_t *m, uint32_t st, const char *name, size_t len)
{
    const mt_state_t *s = MT_AT(m->states, mt_state_t, st);
    if (!(s->child_len_bits & (1u << (len & 31))))
        return MT_NONE;
    return mt_child_named(m, s, st, name, len);
}

/* ---- match.c --------------------------------------------------------------------- */
int mt_ctx_begin(zb_match_ctx_t *ctx, const zb_matcher_t *m);
int mt_ctx_push_array(zb_match_ctx_t *ctx);
void mt_ctx_set_index(zb_match_ctx_t *ctx, uint32_t index);
void mt_ctx_pop_array(zb_match_ctx_t *ctx);
/* A leaf value at `state` (whose state is in use). */
void mt_ctx_value(zb_match_ctx_t *ctx, uint32_t state, const mt_value_t *v);
/* Probes the value index for (st, tag, bytes) with the current string
 * value, first beginning the value unless `begun`; returns whether it is
 * begun (false: the event is refused already). */
bool mt_ctx_probe(zb_match_ctx_t *ctx, uint32_t st, uint8_t tag, const char *bytes, size_t len, bool begun);
/* mt_ctx_value() for a string at a state with other matchers than exact
 * values, prefixes and suffixes: those take every value. */
void mt_ctx_string_any(zb_match_ctx_t *ctx, uint32_t state, const char *s, size_t len);

/* A probe of (st, tag, bytes) when its bucket is in the key filter of
 * state s (state st); returns `begun` as mt_ctx_probe() leaves it. */
static MT_ALWAYS_INLINE bool mt_keyed(zb_match_ctx_t *ctx, uint32_t st, const mt_state_t *s, uint8_t tag,
                                      const char *bytes, size_t len, bool begun)
{
    if (!mt_state_may_hold(s, mt_key_bucket_of(tag, bytes, len)))
        return begun;
    return mt_ctx_probe(ctx, st, tag, bytes, len, begun);
}

/* mt_keyed() for every prefix and suffix length in use (pfx, sfx) that
 * fits in str. */
static MT_ALWAYS_INLINE bool mt_affixes(zb_match_ctx_t *ctx, uint32_t st, const mt_state_t *s,
                                        const mt_lenset_t *pfx, const mt_lenset_t *sfx, uint8_t ptag, uint8_t stag,
                                        const char *str, size_t len, bool begun)
{
    for (uint32_t i = 0; i < pfx->n && pfx->v[i].len <= len; i++)
        begun = mt_keyed(ctx, st, s, ptag, str, pfx->v[i].len, begun);
    for (uint32_t i = 0; i < sfx->n && sfx->v[i].len <= len; i++)
        begun = mt_keyed(ctx, st, s, stag, str + len - sfx->v[i].len, sfx->v[i].len, begun);
    return begun;
}

/* mt_ctx_value() for a string value, the common case, without building
 * one. Inline, and a value is begun only once a probe may hit: most
 * strings at a state with only exact values, prefixes and suffixes
 * (detail.currency against "USD", detail.customer against suffixes
 * "-0042") fall in no bucket of its key filter and then cost no call.
 * Nothing there can hit them, and with no exists:false there
 * (MT_OP_ABSENT) nothing records their presence. */
static inline void mt_ctx_string(zb_match_ctx_t *ctx, uint32_t st, const char *str, size_t len)
{
    const mt_state_t *s = MT_AT(ctx->m->states, mt_state_t, st);
    if (s->ops & ~(uint32_t) (MT_OP_HASHED | MT_OP_AFFIX)) {
        mt_ctx_string_any(ctx, st, str, len);
        return;
    }
    bool begun = false;
    if (s->ops & MT_OP_HASHED)
        begun = mt_keyed(ctx, st, s, MT_TAG_STR, str, len, begun);
    if (s->ops & MT_OP_AFFIX)
        mt_affixes(ctx, st, s, &s->pfx, &s->sfx, MT_TAG_PREFIX, MT_TAG_SUFFIX, str, len, begun);
}
/* Recomputes state st's ops and ab_all after its matchers changed. */
void mt_state_refresh(zb_matcher_t *m, uint32_t st);
int mt_ctx_finish(zb_match_ctx_t *ctx, const uint64_t **ids);
/* Scratch buffers of at least n bytes (NULL when memory runs out). */
char *mt_ctx_text(zb_match_ctx_t *ctx, size_t n);

/* ---- event readers ------------------------------------------------------------ */
int mt_event_json(zb_match_ctx_t *ctx, const char *text, size_t len, zb_matcher_error_t *err);
int mt_event_msgpack(zb_match_ctx_t *ctx, const void *buf, size_t len, zb_matcher_error_t *err);

#endif
