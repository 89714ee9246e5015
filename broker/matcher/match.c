/*
 * match.c — per-event matching: collect hits with their array positions,
 * then decide which subrules hold with array-consistent positions.
 *
 * Array consistency (aws/event-ruler's ArrayMembership idea): every leaf
 * value carries the list of (array id, element index) pairs on its way from
 * the top of the event. Two hits are compatible unless they pass through
 * the same array at different indexes. Because arrays nest, both lists run
 * through the same arrays up to the first one where they differ, and from
 * there on through disjoint arrays, so comparing the lists from the top
 * until the first different array decides it.
 *
 * All scratch lives in the context and only grows; the steady state
 * allocates nothing.
 */
#include "matcher_int.h"

#include <stdlib.h>
#include <string.h>

#define STATE(m, i) MT_AT((m)->states, mt_state_t, i)
#define COND(m, i) MT_AT((m)->conds, mt_cond_t, i)
#define SUB(m, i) MT_AT((m)->subs, mt_sub_t, i)
#define RULE(m, i) MT_AT((m)->rules, mt_rule_t, i)

zb_match_ctx_t *zb_match_ctx_new(void)
{
    zb_match_ctx_t *ctx = calloc(1, sizeof *ctx);
    return ctx;
}

void zb_match_ctx_destroy(zb_match_ctx_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zb_match_ctx_t *c = *self_p;
    free(c->stack);
    free(c->pool);
    free(c->occ);
    free(c->cond_head);
    free(c->cond_stamp);
    free(c->cond_vstamp);
    free(c->ab_stamp);
    free(c->wc_stamp);
    free(c->touched);
    free(c->state_head);
    free(c->state_stamp);
    free(c->cands);
    free(c->rule_stamp);
    free(c->ids);
    free(c->chosen);
    free(c->lvl_skip);
    free(c->arr_stamp);
    free(c->arr_owner);
    free(c->arr_shared);
    free(c->text);
    free(c->fold);
    free(c);
    *self_p = NULL;
}

/* Per-id arrays share one capacity; grow them together. */
static int s_grow_ids(uint32_t **a, uint32_t **b, uint32_t **c, uint32_t *cap, uint32_t need)
{
    if (need <= *cap)
        return 0;
    uint32_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    uint32_t **arr[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (!arr[i])
            continue;
        uint32_t *p = realloc(*arr[i], (size_t) n * sizeof *p);
        if (!p)
            return -1;
        memset(p + *cap, 0, (size_t) (n - *cap) * sizeof *p);
        *arr[i] = p;
    }
    *cap = n;
    return 0;
}

char *mt_ctx_text(zb_match_ctx_t *ctx, size_t n)
{
    if (n > ctx->cap_text) {
        size_t cap = ctx->cap_text ? ctx->cap_text : 256;
        while (cap < n)
            cap *= 2;
        char *p = realloc(ctx->text, cap);
        if (!p)
            return NULL;
        ctx->text = p;
        ctx->cap_text = cap;
    }
    return ctx->text;
}

static char *s_fold_buf(zb_match_ctx_t *ctx, size_t n)
{
    if (n > ctx->cap_fold) {
        size_t cap = ctx->cap_fold ? ctx->cap_fold : 256;
        while (cap < n)
            cap *= 2;
        char *p = realloc(ctx->fold, cap);
        if (!p)
            return NULL;
        ctx->fold = p;
        ctx->cap_fold = cap;
    }
    return ctx->fold;
}

int mt_ctx_begin(zb_match_ctx_t *ctx, const zb_matcher_t *m)
{
    ctx->m = m;
    if (s_grow_ids(&ctx->cond_head, &ctx->cond_stamp, &ctx->cond_vstamp, &ctx->cap_cond, m->conds.n + 1) ||
        s_grow_ids(&ctx->state_head, &ctx->state_stamp, NULL, &ctx->cap_state, m->states.n + 1) ||
        s_grow_ids(&ctx->rule_stamp, NULL, NULL, &ctx->cap_rule, m->rules.n + 1) ||
        s_grow_ids(&ctx->ab_stamp, NULL, NULL, &ctx->cap_ab, m->abents.n + 1) ||
        s_grow_ids(&ctx->wc_stamp, NULL, NULL, &ctx->cap_wc, m->wcents.n + 1))
        return -1;
    if (++ctx->gen == 0 || ctx->value_seq > UINT32_MAX - (1u << 30)) {
        /* Wrapped: old stamps could collide with new generations. */
        memset(ctx->cond_stamp, 0, ctx->cap_cond * sizeof *ctx->cond_stamp);
        memset(ctx->cond_vstamp, 0, ctx->cap_cond * sizeof *ctx->cond_vstamp);
        memset(ctx->ab_stamp, 0, ctx->cap_ab * sizeof *ctx->ab_stamp);
        memset(ctx->wc_stamp, 0, ctx->cap_wc * sizeof *ctx->wc_stamp);
        memset(ctx->state_stamp, 0, ctx->cap_state * sizeof *ctx->state_stamp);
        memset(ctx->rule_stamp, 0, ctx->cap_rule * sizeof *ctx->rule_stamp);
        ctx->gen = 1;
        ctx->value_seq = 0;
    }
    ctx->n_stack = 0;
    ctx->next_array = 0;
    ctx->depth = 0;
    ctx->n_pool = 0;
    ctx->n_occ = 0;
    ctx->n_touched = 0;
    ctx->n_cands = 0;
    ctx->n_ids = 0;
    ctx->oom = false;
    ctx->budget = MT_SEARCH_BUDGET;
    ctx->too_complex = false;
    ctx->glob_budget = MT_GLOB_BUDGET;
    ctx->ab_budget = MT_AB_BUDGET;
    ctx->values_spent = false;
    return 0;
}

int mt_ctx_push_array(zb_match_ctx_t *ctx)
{
    if (mt_grow((void **) &ctx->stack, &ctx->cap_stack, ctx->n_stack + 1, sizeof *ctx->stack) != 0) {
        ctx->oom = true;
        return -1;
    }
    ctx->stack[ctx->n_stack].array = ctx->next_array++;
    ctx->stack[ctx->n_stack].index = 0;
    ctx->n_stack++;
    return 0;
}

void mt_ctx_set_index(zb_match_ctx_t *ctx, uint32_t index)
{
    ctx->stack[ctx->n_stack - 1].index = index;
}

void mt_ctx_pop_array(zb_match_ctx_t *ctx)
{
    ctx->n_stack--;
}

/* Records one occurrence in the list headed by *head (stamped with gen).
 * The current value's position is copied to the pool once; a value
 * outside every array (most) has an empty one and copies nothing. */
static bool s_record(zb_match_ctx_t *ctx, uint32_t *head, uint32_t *stamp)
{
    if (ctx->cur_mem_off == MT_NONE) {
        if (!ctx->n_stack) {
            ctx->cur_mem_off = 0;
        } else {
            if (mt_grow((void **) &ctx->pool, &ctx->cap_pool, ctx->n_pool + ctx->n_stack, sizeof *ctx->pool) != 0) {
                ctx->oom = true;
                return false;
            }
            memcpy(ctx->pool + ctx->n_pool, ctx->stack, ctx->n_stack * sizeof *ctx->stack);
            ctx->cur_mem_off = ctx->n_pool;
            ctx->n_pool += ctx->n_stack;
        }
    }
    if (mt_grow((void **) &ctx->occ, &ctx->cap_occ, ctx->n_occ + 1, sizeof *ctx->occ) != 0) {
        ctx->oom = true;
        return false;
    }
    bool first = *stamp != ctx->gen;
    mt_occ_t *o = &ctx->occ[ctx->n_occ];
    o->next = first ? MT_NONE : *head;
    o->mem_off = ctx->cur_mem_off;
    o->mem_len = ctx->n_stack;
    *head = ctx->n_occ++;
    *stamp = ctx->gen;
    return first;
}

static void s_emit(zb_match_ctx_t *ctx, uint32_t cond)
{
    if (ctx->cond_vstamp[cond] == ctx->value_seq)
        return; /* this value already hit this condition */
    if (ctx->cond_stamp[cond] == ctx->gen && !COND(ctx->m, cond)->positions)
        return; /* alone in its subrules: one hit per event says it all */
    ctx->cond_vstamp[cond] = ctx->value_seq;
    if (s_record(ctx, &ctx->cond_head[cond], &ctx->cond_stamp[cond])) {
        if (mt_grow((void **) &ctx->touched, &ctx->cap_touched, ctx->n_touched + 1, sizeof *ctx->touched) != 0) {
            ctx->oom = true;
            return;
        }
        ctx->touched[ctx->n_touched++] = cond;
    }
}

static void s_emit_cb(void *arg, uint32_t cond)
{
    s_emit(arg, cond);
}

/* The value-index entry for (st, tag, bytes), or NULL. Most probes miss,
 * and most misses are told by the state's key filter without hashing;
 * the filter test is inline, the probe is not. */
static inline bool s_may_hold(const zb_matcher_t *m, uint32_t st, uint8_t tag, const char *bytes, size_t len)
{
    return mt_state_may_hold(STATE(m, st), mt_key_bucket_of(tag, bytes, len));
}

static const mt_hentry_t *s_find(const zb_matcher_t *m, uint32_t st, uint8_t tag, const char *bytes, size_t len)
{
    if (!s_may_hold(m, st, tag, bytes, len))
        return NULL;
    return mt_hmap_find(&m->map, st, tag, bytes, len);
}

static void s_lookup_probe(zb_match_ctx_t *ctx, uint32_t st, uint8_t tag, const char *s, size_t len)
{
    const mt_hentry_t *e = mt_hmap_find(&ctx->m->map, st, tag, s, len);
    if (!e)
        return;
    for (uint32_t i = 0; i < e->n_vals; i++)
        s_emit(ctx, e->vals[i]);
}

/* Emits the conditions keyed under (st, tag, bytes). */
static inline void s_lookup(zb_match_ctx_t *ctx, uint32_t st, uint8_t tag, const char *s, size_t len)
{
    if (s_may_hold(ctx->m, st, tag, s, len))
        s_lookup_probe(ctx, st, tag, s, len);
}

/* What every value does first: false when the event is refused already
 * (then it spends nothing more on it). */
static inline bool s_value_begin(zb_match_ctx_t *ctx, uint32_t st, const mt_state_t *s)
{
    if (ctx->too_complex)
        return false;
    ctx->value_seq++;
    ctx->ab_excluded = 0;
    ctx->cur_mem_off = MT_NONE;
    if (s->ops & MT_OP_ABSENT)
        s_record(ctx, &ctx->state_head[st], &ctx->state_stamp[st]);
    return true;
}

bool mt_ctx_probe(zb_match_ctx_t *ctx, uint32_t st, uint8_t tag, const char *bytes, size_t len, bool begun)
{
    if (!begun && !s_value_begin(ctx, st, STATE(ctx->m, st)))
        return false;
    s_lookup_probe(ctx, st, tag, bytes, len);
    return true;
}

/* A string that parses as an IP address is looked up once per distinct
 * mask length in use: the address masked to that length is the key. */
static void s_cidr(zb_match_ctx_t *ctx, uint32_t st, const mt_lenset_t *bits, const char *s, size_t len)
{
    uint8_t fam, ip[16];
    if (mt_ip_parse(s, len, &fam, ip) != 0)
        return;
    for (uint32_t i = 0; i < bits->n; i++) {
        uint32_t b = bits->v[i].len;
        char key[18];
        key[0] = (char) fam;
        key[1] = (char) b;
        for (uint32_t k = 0; k < 16; k++) {
            uint32_t keep = b >= 8 * (k + 1) ? 8 : b > 8 * k ? b - 8 * k : 0;
            key[2 + k] = (char) (ip[k] & (uint8_t) (0xff00u >> keep));
        }
        s_lookup(ctx, st, MT_TAG_CIDR, key, sizeof key);
    }
}

/* Charges one wildcard check of the current value to the event's budget;
 * false (and the event refused) once it is spent. */
static bool s_glob_charge(zb_match_ctx_t *ctx, const mt_value_t *v)
{
    uint64_t cost = (uint64_t) v->len + 1;
    if (ctx->glob_budget < cost) {
        ctx->too_complex = true;
        ctx->values_spent = true;
        return false;
    }
    ctx->glob_budget -= cost;
    return true;
}

/* Charges n anything-but entry visits; false (and the event refused) once
 * the budget is spent. */
static bool s_ab_charge(zb_match_ctx_t *ctx, uint32_t n)
{
    if (ctx->ab_budget < n) {
        ctx->too_complex = true;
        ctx->values_spent = true;
        return false;
    }
    ctx->ab_budget -= n;
    return true;
}

/* Evaluates one listed matcher (wildcard with inner stars, exists). */
static bool s_slow_hit(zb_match_ctx_t *ctx, const mt_alt_t *a, const mt_value_t *v)
{
    switch (a->kind) {
    case MT_K_WILDCARD:
        return v->type == MT_V_STR && s_glob_charge(ctx, v) && mt_glob_match(a->glob, v->s, v->len);
    case MT_K_EXISTS_TRUE:
        return true;
    default:
        return false;
    }
}

/* Marks the anything-but entries that the key (st, tag, bytes) excludes
 * for the current value; n is the number of entries the value's kind has
 * at the state. A key leads to distinct entries, so one that leads to n
 * of them excludes them all, and once all are excluded no probe is
 * needed. */
static void s_ab_exclude(zb_match_ctx_t *ctx, uint32_t st, uint8_t tag, const char *s, size_t len, uint32_t n)
{
    if (ctx->ab_excluded == n)
        return;
    const mt_hentry_t *e = s_find(ctx->m, st, tag, s, len);
    if (!e || !s_ab_charge(ctx, e->n_vals))
        return;
    if (e->n_vals == n) {
        ctx->ab_excluded = n; /* "anything-but X" on X, for every entry here */
        return;
    }
    for (uint32_t i = 0; i < e->n_vals; i++) {
        uint32_t id = e->vals[i];
        if (ctx->ab_stamp[id] != ctx->value_seq) {
            ctx->ab_stamp[id] = ctx->value_seq;
            ctx->ab_excluded++;
        }
    }
}

static bool s_has_prefix(const char *s, size_t len, const char *p, size_t plen)
{
    return plen <= len && memcmp(s, p, plen) == 0;
}

static bool s_has_suffix(const char *s, size_t len, const char *p, size_t plen)
{
    return plen <= len && memcmp(s + len - plen, p, plen) == 0;
}

/* Whether one of a's hashed-kind exclusions (not the inner-star globs)
 * cancels the value of a's kind: the comparisons the hash keys stand for,
 * used when the state has at most MT_AB_LINEAR of them. */
static bool s_ab_excludes(const mt_alt_t *a, const mt_value_t *v, const char *folded, size_t flen)
{
    for (uint32_t i = 0; i < a->n_list; i++) {
        const char *x = a->list ? a->list[i] : NULL;
        size_t xl = a->list_len ? a->list_len[i] : 0;
        uint8_t shape = a->kind == MT_K_AB_WILDCARD ? a->shape[i] : MT_SHAPE_INNER;
        bool hit;
        switch (a->kind) {
        case MT_K_AB_NUM: hit = a->nums[i] == v->num; break;
        case MT_K_AB_STR: hit = xl == v->len && memcmp(x, v->s, xl) == 0; break;
        case MT_K_AB_EIC: hit = folded && xl == flen && memcmp(x, folded, xl) == 0; break;
        case MT_K_AB_PREFIX: hit = s_has_prefix(v->s, v->len, x, xl); break;
        case MT_K_AB_SUFFIX: hit = s_has_suffix(v->s, v->len, x, xl); break;
        case MT_K_AB_WILDCARD:
            hit = shape == MT_SHAPE_EXACT    ? xl == v->len && memcmp(x, v->s, xl) == 0
                  : shape == MT_SHAPE_PREFIX ? s_has_prefix(v->s, v->len, x, xl)
                  : shape == MT_SHAPE_SUFFIX ? s_has_suffix(v->s, v->len, x, xl)
                                             : false;
            break;
        default: hit = false;
        }
        if (hit)
            return true;
    }
    return false;
}

/* Emits the entries of `v` that the current value did not exclude
 * (`check`: the value is of their kind, so exclusions apply; `linear`:
 * compare instead of reading the probes' marks). */
static void s_ab_fire_some(zb_match_ctx_t *ctx, const mt_abref_t *v, uint32_t n, bool check, bool linear,
                           const mt_value_t *val, const char *folded, size_t flen)
{
    if (!s_ab_charge(ctx, n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        if (check) {
            if (linear ? s_ab_excludes(v[i].alt, val, folded, flen) : ctx->ab_stamp[v[i].ent] == ctx->value_seq)
                continue;
            const mt_alt_t *a = v[i].alt;
            if (v[i].inner) {
                bool excluded = false;
                for (uint32_t k = 0; k < a->n_list && !excluded; k++) {
                    if (!a->globs[k])
                        continue;
                    if (!s_glob_charge(ctx, val))
                        return;
                    excluded = mt_glob_match(a->globs[k], val->s, val->len);
                }
                if (excluded)
                    continue;
            }
        }
        s_emit(ctx, v[i].cond);
    }
}

/* Most fields have no anything-but, and a value that excluded every one
 * ("anything-but X" on X) fires none: no call for them. */
static inline void s_ab_fire(zb_match_ctx_t *ctx, const mt_abref_t *v, uint32_t n, bool check, bool linear,
                             const mt_value_t *val, const char *folded, size_t flen)
{
    if (!n)
        return;
    if (check && !linear && ctx->ab_excluded == n) {
        s_ab_charge(ctx, n); /* charged like the visits it stands for */
        return;
    }
    s_ab_fire_some(ctx, v, n, check, linear, val, folded, flen);
}

/* Runs the wildcards indexed under the key (st, tag, bytes) on the value. */
static void s_wc_candidates(zb_match_ctx_t *ctx, uint32_t st, uint8_t tag, const char *s, size_t len,
                            const mt_value_t *v)
{
    const zb_matcher_t *m = ctx->m;
    const mt_hentry_t *e = s_find(m, st, tag, s, len);
    if (!e)
        return;
    for (uint32_t i = 0; i < e->n_vals; i++) {
        const mt_wcent_t *w = MT_AT(m->wcents, mt_wcent_t, e->vals[i]);
        if (ctx->cond_vstamp[w->cond] == ctx->value_seq || ctx->wc_stamp[e->vals[i]] == ctx->value_seq)
            continue; /* already a hit, or already checked, for this value */
        ctx->wc_stamp[e->vals[i]] = ctx->value_seq;
        if (!s_glob_charge(ctx, v))
            return;
        if (mt_glob_match(w->glob, v->s, v->len))
            s_emit(ctx, w->cond);
    }
}

/* Wildcards with inner stars whose leading (or trailing) literal the
 * string value has, and *...* wildcards whose gram it holds somewhere:
 * one pass over the value's windows, a filter load each, whatever the
 * number of wildcards. */
static void s_wildcards(zb_match_ctx_t *ctx, uint32_t st, const mt_state_t *s, const mt_value_t *v)
{
    if (s->n_wc_gram && v->len >= MT_GRAM) {
        const uint32_t *cnt = s->wc_gram_cnt;
        /* Every wildcard here is indexed under at least `step` consecutive
         * windows of a segment, and any step consecutive positions hold
         * a multiple of step: probing those finds each candidate. */
        size_t step = 1;
        while (step < MT_GRAM_RUN && !s->wc_run_cnt[step])
            step++;
        size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Five windows per 8-byte load (on little-endian machines its
         * shifts are the words a 4-byte load at each position gives). */
        for (; step == 1 && i + 8 <= v->len; i += 5) {
            uint64_t x;
            memcpy(&x, v->s + i, 8);
            for (unsigned k = 0; k < 5; k++)
                if (cnt[mt_gram_bucket((uint32_t) (x >> (8 * k)))])
                    s_wc_candidates(ctx, st, MT_TAG_WC_GRAM, v->s + i + k, MT_GRAM, v);
        }
#endif
        /* by pointer: an index compared with len - MT_GRAM each time cost
         * as much as the window's filter test */
        for (const char *q = v->s + i, *last = v->s + v->len - MT_GRAM; q <= last; q += step) {
            uint32_t w;
            memcpy(&w, q, MT_GRAM);
            if (cnt[mt_gram_bucket(w)])
                s_wc_candidates(ctx, st, MT_TAG_WC_GRAM, q, MT_GRAM, v);
        }
    }
    for (uint32_t i = 0; i < s->wc_pfx.n && s->wc_pfx.v[i].len <= v->len; i++)
        s_wc_candidates(ctx, st, MT_TAG_WC_PREFIX, v->s, s->wc_pfx.v[i].len, v);
    for (uint32_t i = 0; i < s->wc_sfx.n && s->wc_sfx.v[i].len <= v->len; i++)
        s_wc_candidates(ctx, st, MT_TAG_WC_SUFFIX, v->s + v->len - s->wc_sfx.v[i].len, s->wc_sfx.v[i].len, v);
}

/* Anything-but at state `s` for a string value (folded: its case-folded
 * form, or NULL when the state has no folded exclusions). */
static void s_ab_string(zb_match_ctx_t *ctx, uint32_t st, const mt_state_t *s, const mt_value_t *v,
                        const char *folded, size_t flen)
{
    bool linear = s->n_abx_keys <= MT_AB_LINEAR;
    if (s->n_ab_str && !linear) {
        if (s->ab_all && v->len == s->ab_all_len && mt_bytes_eq(v->s, s->ab_all, v->len)) {
            /* what the probe of its key would find, charged alike */
            if (s_ab_charge(ctx, s->n_ab_str))
                ctx->ab_excluded = s->n_ab_str;
        } else if (s->n_abx_str) {
            s_ab_exclude(ctx, st, MT_TAG_AB_STR, v->s, v->len, s->n_ab_str);
        }
        if (s->n_abx_eic && folded)
            s_ab_exclude(ctx, st, MT_TAG_AB_EIC, folded, flen, s->n_ab_str);
        for (uint32_t i = 0; i < s->ab_pfx.n && s->ab_pfx.v[i].len <= v->len; i++)
            s_ab_exclude(ctx, st, MT_TAG_AB_PREFIX, v->s, s->ab_pfx.v[i].len, s->n_ab_str);
        for (uint32_t i = 0; i < s->ab_sfx.n && s->ab_sfx.v[i].len <= v->len; i++)
            s_ab_exclude(ctx, st, MT_TAG_AB_SUFFIX, v->s + v->len - s->ab_sfx.v[i].len, s->ab_sfx.v[i].len,
                         s->n_ab_str);
    }
    s_ab_fire(ctx, s->ab_str, s->n_ab_str, true, linear, v, folded, flen);
    s_ab_fire(ctx, s->ab_num, s->n_ab_num, false, false, v, NULL, 0);
}

/* Whole loads only: the tail is the last 8 (or 4) bytes again, read
 * overlapping, not a byte loop. */
static bool s_is_ascii(const char *s, size_t len)
{
    uint64_t acc = 0, w;
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&w, s + i, 8);
            acc |= w;
        }
        memcpy(&w, s + len - 8, 8);
        acc |= w;
    } else if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        acc = a | b;
    } else {
        for (size_t i = 0; i < len; i++)
            acc |= (uint8_t) s[i];
    }
    return (acc & 0x8080808080808080ull) == 0;
}

static uint8_t s_lower(char c)
{
    return (uint8_t) (c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* Whether the folded key s[off .. off+len) of an ASCII value may be in
 * the state's index under tag: folding ASCII only lowers A-Z, so its
 * bucket is known without folding. */
static bool s_folded_may_hold(const mt_state_t *s, uint8_t tag, const char *v, size_t off, size_t len)
{
    uint8_t first = len ? s_lower(v[off]) : 0, last = len ? s_lower(v[off + len - 1]) : 0;
    return mt_state_may_hold(s, mt_key_bucket(tag, len, first, last));
}

/* Whether any case-folded probe of string v at state s could hit; when
 * not, the value need not be folded at all. Decided for ASCII values
 * only (folding may change the length of others). */
static bool s_fold_needed(const mt_state_t *s, const char *v, size_t len)
{
    if (!s_is_ascii(v, len))
        return true;
    if (s->n_eic && s_folded_may_hold(s, MT_TAG_EIC, v, 0, len))
        return true;
    if (s->n_abx_eic && s_folded_may_hold(s, MT_TAG_AB_EIC, v, 0, len))
        return true;
    for (uint32_t i = 0; i < s->pfx_eic.n && s->pfx_eic.v[i].len <= len; i++)
        if (s_folded_may_hold(s, MT_TAG_PREFIX_EIC, v, 0, s->pfx_eic.v[i].len))
            return true;
    for (uint32_t i = 0; i < s->sfx_eic.n && s->sfx_eic.v[i].len <= len; i++)
        if (s_folded_may_hold(s, MT_TAG_SUFFIX_EIC, v, len - s->sfx_eic.v[i].len, s->sfx_eic.v[i].len))
            return true;
    return false;
}

/* The listed matchers (wildcards without an index, exists). */
static void s_slow(zb_match_ctx_t *ctx, const mt_state_t *s, const mt_value_t *v)
{
    for (uint32_t i = 0; i < s->n_slow; i++)
        if (s_slow_hit(ctx, s->slow[i].alt, v))
            s_emit(ctx, s->slow[i].cond);
}

/* Apart from the keyed matchers (exact values, prefixes, suffixes), the
 * ones here take every value, so it is begun up front and every probe
 * finds it begun. */
void mt_ctx_string_any(zb_match_ctx_t *ctx, uint32_t st, const char *str, size_t len)
{
    const mt_state_t *s = STATE(ctx->m, st);
    if (!s_value_begin(ctx, st, s))
        return;
    uint32_t ops = s->ops;
    const char *folded = NULL;
    size_t flen = 0;
    if (ops & MT_OP_HASHED)
        mt_keyed(ctx, st, s, MT_TAG_STR, str, len, true);
    if (ops & MT_OP_AFFIX)
        mt_affixes(ctx, st, s, &s->pfx, &s->sfx, MT_TAG_PREFIX, MT_TAG_SUFFIX, str, len, true);
    if (ops & MT_OP_CIDR)
        s_cidr(ctx, st, &s->cidr, str, len);
    if ((ops & MT_OP_FOLD) && s_fold_needed(s, str, len)) {
        char *f = s_fold_buf(ctx, 2 * len + 4);
        if (!f) {
            ctx->oom = true;
            return;
        }
        flen = mt_fold_utf8(str, len, f);
        folded = f;
        if (s->n_eic)
            mt_keyed(ctx, st, s, MT_TAG_EIC, folded, flen, true);
        if (s->pfx_eic.n || s->sfx_eic.n)
            mt_affixes(ctx, st, s, &s->pfx_eic, &s->sfx_eic, MT_TAG_PREFIX_EIC, MT_TAG_SUFFIX_EIC, folded, flen,
                       true);
    }
    if (!(ops & (MT_OP_AB | MT_OP_WC | MT_OP_SLOW)))
        return;
    /* built only for the matchers that take a value (and not up front for
     * every string) */
    const mt_value_t v = {.type = MT_V_STR, .s = str, .len = len};
    if (ops & MT_OP_AB)
        s_ab_string(ctx, st, s, &v, folded, flen);
    if (ops & MT_OP_WC)
        s_wildcards(ctx, st, s, &v);
    if (ops & MT_OP_SLOW)
        s_slow(ctx, s, &v);
}

void mt_ctx_value(zb_match_ctx_t *ctx, uint32_t st, const mt_value_t *v)
{
    if (v->type == MT_V_STR) {
        mt_ctx_string(ctx, st, v->s, v->len);
        return;
    }
    const mt_state_t *s = STATE(ctx->m, st);
    if (!s_value_begin(ctx, st, s))
        return;
    uint32_t ops = s->ops;
    switch (v->type) {
    case MT_V_STR:
        break; /* above */
    case MT_V_NUM:
        if (ops & MT_OP_HASHED) {
            uint8_t key[8];
            mt_num_key(v->num, key);
            s_lookup(ctx, st, MT_TAG_NUM, (const char *) key, 8);
        }
        if (ops & MT_OP_RANGE)
            mt_range_stab(s->ranges, v->num, s_emit_cb, ctx);
        if (s->n_ab_num) {
            bool linear = s->n_abx_keys <= MT_AB_LINEAR;
            if (s->n_abx_num && !linear) {
                uint8_t key[8];
                mt_num_key(v->num, key);
                s_ab_exclude(ctx, st, MT_TAG_AB_NUM, (const char *) key, 8, s->n_ab_num);
            }
            s_ab_fire(ctx, s->ab_num, s->n_ab_num, true, linear, v, NULL, 0);
        }
        s_ab_fire(ctx, s->ab_str, s->n_ab_str, false, false, v, NULL, 0);
        break;
    case MT_V_TRUE:
    case MT_V_FALSE:
    case MT_V_NULL:
        if (ops & MT_OP_HASHED)
            s_lookup(ctx, st, v->type == MT_V_TRUE ? MT_TAG_TRUE : v->type == MT_V_FALSE ? MT_TAG_FALSE : MT_TAG_NULL,
                     "", 0);
        s_ab_fire(ctx, s->ab_str, s->n_ab_str, false, false, v, NULL, 0);
        s_ab_fire(ctx, s->ab_num, s->n_ab_num, false, false, v, NULL, 0);
        break;
    case MT_V_OTHER: /* no anything-but excludes these */
        s_ab_fire(ctx, s->ab_str, s->n_ab_str, false, false, v, NULL, 0);
        s_ab_fire(ctx, s->ab_num, s->n_ab_num, false, false, v, NULL, 0);
        break;
    }
    if (ops & MT_OP_SLOW)
        s_slow(ctx, s, v);
}

/* Two positions are compatible unless they take different elements of one
 * array (see the file comment). */
static bool s_compatible(const zb_match_ctx_t *ctx, const mt_occ_t *a, const mt_occ_t *b)
{
    uint32_t n = a->mem_len < b->mem_len ? a->mem_len : b->mem_len;
    const mt_mem_t *x = ctx->pool + a->mem_off, *y = ctx->pool + b->mem_off;
    for (uint32_t i = 0; i < n; i++) {
        if (x[i].array != y[i].array)
            return true;
        if (x[i].index != y[i].index)
            return false;
    }
    return true;
}

static bool s_fits(zb_match_ctx_t *ctx, uint32_t occ, const uint32_t *chosen, uint32_t k)
{
    const mt_occ_t *o = &ctx->occ[occ];
    if (o->mem_len == 0)
        return true;
    if (ctx->budget < k + 1) {
        ctx->too_complex = true;
        return false;
    }
    ctx->budget -= k + 1;
    for (uint32_t i = 0; i < k; i++)
        if (!s_compatible(ctx, o, &ctx->occ[chosen[i]]))
            return false;
    return true;
}

/* Absence-tolerant condition `cid` holds for the chosen positions if one of
 * its own hits fits them, or no leaf value at its path fits them. */
static bool s_absent_ok(zb_match_ctx_t *ctx, uint32_t cid, const uint32_t *chosen, uint32_t k)
{
    const mt_cond_t *c = COND(ctx->m, cid);
    if (c->has_positive && ctx->cond_stamp[cid] == ctx->gen)
        for (uint32_t o = ctx->cond_head[cid]; o != MT_NONE; o = ctx->occ[o].next)
            if (s_fits(ctx, o, chosen, k))
                return true;
    if (ctx->state_stamp[c->state] != ctx->gen)
        return true;
    for (uint32_t o = ctx->state_head[c->state]; o != MT_NONE; o = ctx->occ[o].next)
        if (s_fits(ctx, o, chosen, k))
            return false;
    return true;
}

/* After this many position comparisons in one subrule, the search first
 * finds which arrays more than one of its conditions pass through. */
#define MT_SHARE_AFTER 256

/* Marks the event's arrays that hits of two different conditions of `sub`
 * pass through (presence lists of absence-tolerant conditions count as
 * conditions of their own). A hit whose position avoids every such array is
 * compatible with anything, so all such hits of one condition are
 * interchangeable: once one has failed, the search skips the others. That
 * turns independent arrays (a rule on a[*].x and b[*].y) from a product
 * into a sum. */
static int s_mark_shared(zb_match_ctx_t *ctx, const mt_sub_t *sub)
{
    if (s_grow_ids(&ctx->arr_stamp, &ctx->arr_owner, &ctx->arr_shared, &ctx->cap_arr, ctx->next_array + 1) != 0)
        return -1;
    if (++ctx->search_stamp == 0) {
        memset(ctx->arr_stamp, 0, ctx->cap_arr * sizeof *ctx->arr_stamp);
        ctx->search_stamp = 1;
    }
    uint32_t stamp = ctx->search_stamp;
    for (uint32_t q = 0; q < 2 * sub->n_conds; q++) {
        uint32_t cid = sub->conds[q % sub->n_conds];
        uint32_t head;
        if (q < sub->n_conds) {
            if (ctx->cond_stamp[cid] != ctx->gen)
                continue;
            head = ctx->cond_head[cid];
        } else {
            uint32_t st = COND(ctx->m, cid)->state;
            if (!COND(ctx->m, cid)->absent_ok || ctx->state_stamp[st] != ctx->gen)
                continue;
            head = ctx->state_head[st];
        }
        for (uint32_t o = head; o != MT_NONE; o = ctx->occ[o].next) {
            const mt_occ_t *oc = &ctx->occ[o];
            for (uint32_t i = 0; i < oc->mem_len; i++) {
                uint32_t a = ctx->pool[oc->mem_off + i].array;
                if (ctx->arr_stamp[a] != stamp) {
                    ctx->arr_stamp[a] = stamp;
                    ctx->arr_owner[a] = q;
                    ctx->arr_shared[a] = 0;
                } else if (ctx->arr_owner[a] != q) {
                    ctx->arr_shared[a] = 1;
                }
            }
        }
    }
    return 0;
}

static bool s_unshared(const zb_match_ctx_t *ctx, uint32_t occ)
{
    const mt_occ_t *o = &ctx->occ[occ];
    for (uint32_t i = 0; i < o->mem_len; i++)
        if (ctx->arr_shared[ctx->pool[o->mem_off + i].array])
            return false;
    return true;
}

/* Moves level k to its next candidate after the current one (whose whole
 * subtree failed), skipping hits known to be equivalent to a failed one. */
static void s_advance(zb_match_ctx_t *ctx, const mt_sub_t *sub, uint32_t k, bool *shared_known, uint64_t start)
{
    uint32_t *chosen = ctx->chosen;
    uint32_t o = chosen[k];
    if (!*shared_known && start - ctx->budget > MT_SHARE_AFTER) {
        if (s_mark_shared(ctx, sub) != 0) {
            ctx->oom = true;
            chosen[k] = MT_NONE;
            return;
        }
        *shared_known = true;
    }
    if (*shared_known && s_unshared(ctx, o))
        ctx->lvl_skip[k] = 1;
    o = ctx->occ[o].next;
    if (*shared_known && ctx->lvl_skip[k])
        while (o != MT_NONE && s_unshared(ctx, o))
            o = ctx->occ[o].next;
    chosen[k] = o;
}

/* Depth-first search for compatible positions of the required conditions
 * that also satisfy every absence-tolerant one. Iterative: the pattern
 * size, not the C stack, bounds the depth. */
static bool s_sub_holds(zb_match_ctx_t *ctx, const mt_sub_t *sub)
{
    uint32_t nreq = sub->n_req;
    for (uint32_t i = 0; i < nreq; i++)
        if (ctx->cond_stamp[sub->conds[i]] != ctx->gen)
            return false;
    if (nreq == 1 && sub->n_conds == 1)
        return true;
    if (ctx->n_pool == 0) {
        /* No hit or presence of the event lies in an array, so every
         * position fits every other: an absence-tolerant condition holds
         * if it is hit or its field has no value at all. */
        for (uint32_t q = nreq; q < sub->n_conds; q++) {
            const mt_cond_t *c = COND(ctx->m, sub->conds[q]);
            if (!(c->has_positive && ctx->cond_stamp[sub->conds[q]] == ctx->gen) &&
                ctx->state_stamp[c->state] == ctx->gen)
                return false;
        }
        return true;
    }
    uint32_t cap = ctx->cap_chosen;
    if (mt_grow((void **) &ctx->chosen, &ctx->cap_chosen, nreq + 1, sizeof *ctx->chosen) != 0 ||
        mt_grow((void **) &ctx->lvl_skip, &cap, nreq + 1, sizeof *ctx->lvl_skip) != 0) {
        ctx->oom = true;
        return false;
    }
    uint32_t *chosen = ctx->chosen;
    uint32_t k = 0;
    bool shared_known = false;
    uint64_t start = ctx->budget;
    if (nreq > 0) {
        chosen[0] = ctx->cond_head[sub->conds[0]];
        ctx->lvl_skip[0] = 0;
    }
    for (;;) {
        if (k == nreq) {
            bool ok = true;
            for (uint32_t q = nreq; q < sub->n_conds && ok; q++)
                ok = s_absent_ok(ctx, sub->conds[q], chosen, nreq);
            if (ctx->too_complex)
                return false;
            if (ok)
                return true;
            if (nreq == 0)
                return false;
            k--;
            s_advance(ctx, sub, k, &shared_known, start);
            continue;
        }
        uint32_t o = chosen[k];
        while (o != MT_NONE && !s_fits(ctx, o, chosen, k))
            o = ctx->occ[o].next;
        if (ctx->too_complex)
            return false;
        if (o == MT_NONE) {
            if (k == 0)
                return false;
            k--;
            s_advance(ctx, sub, k, &shared_known, start);
            continue;
        }
        chosen[k++] = o;
        if (k < nreq) {
            chosen[k] = ctx->cond_head[sub->conds[k]];
            ctx->lvl_skip[k] = 0;
        }
    }
}

static void s_consider(zb_match_ctx_t *ctx, uint32_t sid)
{
    const zb_matcher_t *m = ctx->m;
    const mt_sub_t *sub = SUB(m, sid);
    if (ctx->rule_stamp[sub->rule] == ctx->gen)
        return; /* the rule already matched through another subrule */
    if (!s_sub_holds(ctx, sub))
        return;
    ctx->rule_stamp[sub->rule] = ctx->gen;
    if (mt_grow((void **) &ctx->ids, &ctx->cap_ids, ctx->n_ids + 1, sizeof *ctx->ids) != 0) {
        ctx->oom = true;
        return;
    }
    ctx->ids[ctx->n_ids++] = RULE(m, sub->rule)->id;
}

int mt_ctx_finish(zb_match_ctx_t *ctx, const uint64_t **ids)
{
    const zb_matcher_t *m = ctx->m;
    /* A subrule is listed under one trigger only (or among the always
     * ones), and a condition is touched once per event, so each subrule is
     * looked at at most once. */
    const uint32_t gen = ctx->gen;
    for (uint32_t t = 0; t < ctx->n_touched; t++) {
        const mt_cond_t *c = COND(m, ctx->touched[t]);
        for (uint32_t q = 0; q < c->n_subs; q++)
            if (ctx->cond_stamp[c->subs[q].check] == gen)
                s_consider(ctx, c->subs[q].sub);
    }
    for (uint32_t a = 0; a < m->n_always; a++)
        s_consider(ctx, m->always[a]);
    if (ctx->oom || ctx->too_complex)
        return -1;
    /* Never NULL, even before the first match grew the array: callers may
     * hand it straight to memcpy/memcmp with a count of 0. */
    static const uint64_t s_no_ids[1];
    *ids = ctx->ids ? ctx->ids : s_no_ids;
    return (int) ctx->n_ids;
}
