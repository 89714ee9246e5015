/*
 * automaton.c — the shared automaton: field-path states, each with its value
 * index, and the conditions and subrules that rules install into it.
 *
 * Installing a rule adds hash keys and list entries; removing it takes
 * exactly those away and frees states nobody uses any more, so a long
 * add/remove history leaves no residue.
 */
#include "matcher_int.h"

#include <stdlib.h>
#include <string.h>

/* Frees what a state owns (its name and value indexes), not the state
 * slot itself. The one list of a state's allocations: removal and
 * zb_matcher_destroy() both come here, so a new index cannot leak. */
void mt_state_free_contents(mt_state_t *s)
{
    free(s->name);
    free(s->pfx.v);
    free(s->sfx.v);
    free(s->pfx_eic.v);
    free(s->sfx_eic.v);
    free(s->cidr.v);
    mt_range_free(&s->ranges);
    free(s->slow);
    free(s->ab_str);
    free(s->ab_num);
    free(s->ab_pfx.v);
    free(s->ab_sfx.v);
    free(s->wc_pfx.v);
    free(s->wc_sfx.v);
    free(s->wc_gram_cnt);
    free(s->key_cnt);
}

#define STATE(m, i) MT_AT((m)->states, mt_state_t, i)
#define COND(m, i) MT_AT((m)->conds, mt_cond_t, i)
#define SUB(m, i) MT_AT((m)->subs, mt_sub_t, i)
#define RULE(m, i) MT_AT((m)->rules, mt_rule_t, i)
#define WCENT(m, i) MT_AT((m)->wcents, mt_wcent_t, i)

uint32_t mt_child(const zb_matcher_t *m, uint32_t parent, const char *name, size_t len)
{
    const mt_hentry_t *e = mt_hmap_find(&m->fields, parent, MT_TAG_FIELD, name, len);
    return e ? e->vals[0] : MT_NONE;
}

/* Rebuilds the state's few_slot chains after its few list changed. */
static void s_few_index(mt_state_t *s)
{
    memset(s->few_slot, 0, sizeof s->few_slot);
    for (uint32_t i = 0; i < s->few_n; i++) {
        uint32_t slot = mt_few_slot(s->few[i].head, s->few[i].len);
        s->few[i].next = s->few_slot[slot];
        s->few_slot[slot] = (uint8_t) (i + 1);
    }
}

/* The child state of `parent` named `name`, created if needed. */
static uint32_t s_child_make(zb_matcher_t *m, uint32_t parent, const char *name, uint32_t len)
{
    uint32_t st = mt_child(m, parent, name, len);
    if (st != MT_NONE)
        return st;
    char *copy = malloc(len + 1);
    if (!copy)
        return MT_NONE;
    memcpy(copy, name, len);
    copy[len] = '\0';
    st = mt_table_alloc(&m->states);
    if (st == MT_NONE) {
        free(copy);
        return MT_NONE;
    }
    if (mt_hmap_add(&m->fields, parent, MT_TAG_FIELD, name, len, st) != 0) {
        free(copy);
        mt_table_release(&m->states, st);
        return MT_NONE;
    }
    mt_state_t *s = STATE(m, st);
    s->in_use = true;
    s->parent = parent;
    s->name = copy;
    s->name_len = len;
    mt_state_t *ps = STATE(m, parent);
    ps->refs++;
    ps->n_children++;
    ps->child_len_count[len & 31]++;
    ps->child_len_bits |= 1u << (len & 31);
    if (ps->few_n < MT_FEW_CHILDREN) {
        ps->few[ps->few_n].head = mt_name_head(copy, len);
        ps->few[ps->few_n].len = len;
        ps->few[ps->few_n].state = st;
        ps->few[ps->few_n].name = copy;
        ps->few_n++;
        s_few_index(ps);
    } else {
        ps->few_n = MT_MANY_CHILDREN; /* for good: the table serves */
    }
    return st;
}

/* Drops one reference; frees the state (and then maybe its parent) when
 * nothing refers to it. The root is never freed. */
static void s_state_unref(zb_matcher_t *m, uint32_t st)
{
    while (st != 0) {
        mt_state_t *s = STATE(m, st);
        if (--s->refs > 0)
            return;
        uint32_t parent = s->parent;
        mt_state_t *ps = STATE(m, parent);
        if (--ps->child_len_count[s->name_len & 31] == 0)
            ps->child_len_bits &= ~(1u << (s->name_len & 31));
        for (uint32_t i = 0; ps->few_n != MT_MANY_CHILDREN && i < ps->few_n; i++)
            if (ps->few[i].state == st) {
                ps->few[i] = ps->few[--ps->few_n];
                s_few_index(ps);
                break;
            }
        mt_hmap_remove(&m->fields, parent, MT_TAG_FIELD, s->name, s->name_len, st);
        mt_state_free_contents(s);
        mt_table_release(&m->states, st);
        STATE(m, parent)->n_children--;
        st = parent;
    }
    STATE(m, 0)->refs--;
}

static int s_lenset_add(mt_lenset_t *ls, uint32_t len)
{
    uint32_t i = 0;
    while (i < ls->n && ls->v[i].len < len)
        i++;
    if (i < ls->n && ls->v[i].len == len) {
        ls->v[i].count++;
        return 0;
    }
    if (mt_grow((void **) &ls->v, &ls->cap, ls->n + 1, sizeof *ls->v) != 0)
        return -1;
    memmove(&ls->v[i + 1], &ls->v[i], (ls->n - i) * sizeof *ls->v);
    ls->v[i].len = len;
    ls->v[i].count = 1;
    ls->n++;
    return 0;
}

static void s_lenset_del(mt_lenset_t *ls, uint32_t len)
{
    for (uint32_t i = 0; i < ls->n; i++) {
        if (ls->v[i].len != len)
            continue;
        if (--ls->v[i].count == 0) {
            memmove(&ls->v[i], &ls->v[i + 1], (ls->n - i - 1) * sizeof *ls->v);
            ls->n--;
        }
        return;
    }
}

static mt_lenset_t *s_lenset_for(mt_state_t *s, uint8_t tag)
{
    switch (tag) {
    case MT_TAG_PREFIX: return &s->pfx;
    case MT_TAG_SUFFIX: return &s->sfx;
    case MT_TAG_PREFIX_EIC: return &s->pfx_eic;
    case MT_TAG_SUFFIX_EIC: return &s->sfx_eic;
    case MT_TAG_CIDR: return &s->cidr;
    default: return NULL;
    }
}

/* The length a hashed key is probed by: bytes for prefixes and suffixes,
 * the mask length for CIDR blocks. */
static uint32_t s_probe_len(const mt_alt_t *a)
{
    return a->tag == MT_TAG_CIDR ? a->bits : a->len;
}

/* Every key of state st's value index goes in and out through these two,
 * so the state's key filter counts the values the index holds. A bucket
 * count that reaches UINT8_MAX stays there (its bit set for good: only
 * less filtering), which keeps the counts at one byte per bucket. */
_Static_assert(MT_KEY_BUCKETS == 1u << 8, "mt_key_bucket() keeps 8 bits");

static int s_key_add(zb_matcher_t *m, uint32_t st, uint8_t tag, const void *bytes, size_t len, uint32_t val)
{
    mt_state_t *s = STATE(m, st);
    if (!s->key_cnt && !(s->key_cnt = calloc(MT_KEY_BUCKETS, sizeof *s->key_cnt)))
        return -1;
    if (mt_hmap_add(&m->map, st, tag, bytes, len, val) != 0)
        return -1;
    uint32_t b = mt_key_bucket_of(tag, bytes, len);
    if (s->key_cnt[b] < UINT8_MAX)
        s->key_cnt[b]++;
    s->key_bits[b >> 6] |= 1ull << (b & 63);
    return 0;
}

static void s_key_del(zb_matcher_t *m, uint32_t st, uint8_t tag, const void *bytes, size_t len, uint32_t val)
{
    if (!mt_hmap_remove(&m->map, st, tag, bytes, len, val))
        return;
    mt_state_t *s = STATE(m, st);
    uint32_t b = mt_key_bucket_of(tag, bytes, len);
    if (s->key_cnt[b] < UINT8_MAX && --s->key_cnt[b] == 0)
        s->key_bits[b >> 6] &= ~(1ull << (b & 63));
}

/* ---- anything-but --------------------------------------------------------------
 *
 * Inverse index: an anything-but alternative fires on every value of its
 * kind (strings, or numbers for AB_NUM) except the ones it lists, and on
 * every value of another type. So each state keeps the list of entries that
 * fire by default, and the excluded values are hash keys (exact strings,
 * number keys, folded strings, prefixes and suffixes probed per distinct
 * length) leading to the entries they cancel. Per value the cost is the
 * probes plus the entries that fire, however long the lists are; only
 * wildcard exclusions with inner stars are checked one by one (match.c). */

/* Excluded value i of `a` as a hash key: tag, bytes and length. */
static uint8_t s_ab_key(const mt_alt_t *a, uint32_t i, const char **bytes, uint32_t *len, uint8_t numkey[8])
{
    *bytes = a->list ? a->list[i] : NULL;
    *len = a->list_len ? a->list_len[i] : 0;
    switch (a->kind) {
    case MT_K_AB_NUM:
        mt_num_key(a->nums[i], numkey);
        *bytes = (const char *) numkey;
        *len = 8;
        return MT_TAG_AB_NUM;
    case MT_K_AB_STR: return MT_TAG_AB_STR;
    case MT_K_AB_EIC: return MT_TAG_AB_EIC;
    case MT_K_AB_PREFIX: return MT_TAG_AB_PREFIX;
    case MT_K_AB_SUFFIX: return MT_TAG_AB_SUFFIX;
    case MT_K_AB_WILDCARD:
        switch (a->shape[i]) {
        case MT_SHAPE_EXACT: return MT_TAG_AB_STR;
        case MT_SHAPE_PREFIX: return MT_TAG_AB_PREFIX;
        case MT_SHAPE_SUFFIX: return MT_TAG_AB_SUFFIX;
        default: return 0; /* glob-checked, not hashed */
        }
    default: return 0;
    }
}

static uint32_t *s_abx_count(mt_state_t *s, uint8_t tag)
{
    switch (tag) {
    case MT_TAG_AB_STR: return &s->n_abx_str;
    case MT_TAG_AB_NUM: return &s->n_abx_num;
    case MT_TAG_AB_EIC: return &s->n_abx_eic;
    default: return NULL;
    }
}

static void s_abx_del(zb_matcher_t *m, uint32_t st, uint32_t id, const mt_alt_t *a, uint32_t n)
{
    mt_state_t *s = STATE(m, st);
    for (uint32_t i = 0; i < n; i++) {
        const char *bytes;
        uint32_t len;
        uint8_t nk[8];
        uint8_t tag = s_ab_key(a, i, &bytes, &len, nk);
        if (!tag)
            continue;
        s_key_del(m, st, tag, bytes, len, id);
        if (tag == MT_TAG_AB_PREFIX)
            s_lenset_del(&s->ab_pfx, len);
        else if (tag == MT_TAG_AB_SUFFIX)
            s_lenset_del(&s->ab_sfx, len);
        else
            (*s_abx_count(s, tag))--;
        s->n_abx_keys--;
    }
}

static void s_abref_del(mt_state_t *s, zb_matcher_t *m, uint32_t id)
{
    mt_abent_t *e = MT_AT(m->abents, mt_abent_t, id);
    mt_abref_t *v = e->on_num ? s->ab_num : s->ab_str;
    uint32_t *n = e->on_num ? &s->n_ab_num : &s->n_ab_str;
    v[e->pos] = v[--*n];
    if (e->pos < *n)
        MT_AT(m->abents, mt_abent_t, v[e->pos].ent)->pos = e->pos;
}

static int s_ab_install(zb_matcher_t *m, uint32_t st, uint32_t cond, mt_alt_t *a)
{
    uint32_t id = mt_table_alloc(&m->abents);
    if (id == MT_NONE)
        return -1;
    mt_state_t *s = STATE(m, st);
    bool on_num = a->kind == MT_K_AB_NUM;
    mt_abref_t **v = on_num ? &s->ab_num : &s->ab_str;
    uint32_t *n = on_num ? &s->n_ab_num : &s->n_ab_str;
    uint32_t *cap = on_num ? &s->cap_ab_num : &s->cap_ab_str;
    if (mt_grow((void **) v, cap, *n + 1, sizeof **v) != 0) {
        mt_table_release(&m->abents, id);
        return -1;
    }
    mt_abent_t *e = MT_AT(m->abents, mt_abent_t, id);
    e->in_use = true;
    e->on_num = on_num;
    e->state = st;
    e->pos = *n;
    (*v)[*n].ent = id;
    (*v)[*n].cond = cond;
    (*v)[*n].alt = a;
    (*v)[*n].inner = a->n_inner > 0;
    (*n)++;
    a->ent = id;
    for (uint32_t i = 0; i < a->n_list; i++) {
        const char *bytes;
        uint32_t len;
        uint8_t nk[8];
        uint8_t tag = s_ab_key(a, i, &bytes, &len, nk);
        if (!tag)
            continue;
        mt_lenset_t *ls = tag == MT_TAG_AB_PREFIX ? &s->ab_pfx : tag == MT_TAG_AB_SUFFIX ? &s->ab_sfx : NULL;
        if (ls && s_lenset_add(ls, len) != 0) {
            s_abx_del(m, st, id, a, i);
            goto fail;
        }
        /* Each key once per entry: the parser dropped values listed twice
         * (s_ab_unique() in pattern_parse.c). */
        if (s_key_add(m, st, tag, bytes, len, id) != 0) {
            if (ls)
                s_lenset_del(ls, len);
            s_abx_del(m, st, id, a, i);
            goto fail;
        }
        if (!ls)
            (*s_abx_count(s, tag))++;
        s->n_abx_keys++;
    }
    return 0;
fail:
    s_abref_del(s, m, id);
    mt_table_release(&m->abents, id);
    return -1;
}

static void s_ab_uninstall(zb_matcher_t *m, uint32_t st, const mt_alt_t *a)
{
    uint32_t id = a->ent;
    s_abx_del(m, st, id, a, a->n_list);
    s_abref_del(STATE(m, st), m, id);
    mt_table_release(&m->abents, id);
}

static bool s_is_ab(mt_kind_t k)
{
    return k == MT_K_AB_STR || k == MT_K_AB_NUM || k == MT_K_AB_PREFIX || k == MT_K_AB_SUFFIX ||
           k == MT_K_AB_EIC || k == MT_K_AB_WILDCARD;
}

/* ---- wildcards with inner stars ------------------------------------------------
 *
 * A wildcard lit1*...*litN can only match values that start with lit1 (or,
 * when it starts with a star, end with litN): it is hashed under that
 * literal and probed per distinct length like a prefix or suffix, so only
 * candidates run the full check.
 *
 * One open at both ends (*...*) can only match values that contain each of
 * its segments, so it is hashed under a run of k consecutive 4-byte
 * windows (grams) of a segment, k as large as its longest segment allows
 * up to MT_GRAM_RUN (while the state has fewer than MT_GRAM_RUN_MAX of
 * them; 1 after: see there); a value probes its own windows at every k-th
 * position (k the smallest run at the state: any k consecutive positions
 * hold a multiple of k, so some window of every occurrence is probed),
 * those whose bucket in the state's filter holds some gram. The run
 * chosen is the one whose grams fewest wildcards share so far, so
 * "*urgent 1*" ... "*urgent 99*" spread over windows like "t 12" instead
 * of all queuing under "urge". Only *...* wildcards without a 4-byte
 * segment ("*ab*c*") stay in the per-state list. */

_Static_assert(MT_GRAM_BUCKETS == 1u << 10, "mt_gram_bucket() keeps 10 bits");

/* The fixed end a glob is indexed by: tag, and literal in *bytes and *len; 0
 * when both ends are stars. */
static uint8_t s_wc_key(const mt_glob_t *g, const char **bytes, uint32_t *len)
{
    if (g->nseg == 0)
        return 0;
    if (!g->lead) {
        *bytes = g->lit + g->off[0];
        *len = g->len[0];
        return MT_TAG_WC_PREFIX;
    }
    if (!g->trail) {
        *bytes = g->lit + g->off[g->nseg - 1];
        *len = g->len[g->nseg - 1];
        return MT_TAG_WC_SUFFIX;
    }
    return 0;
}

/* Whether some segment of g is long enough to give a gram. */
static bool s_wc_has_gram(const mt_glob_t *g)
{
    for (uint32_t i = 0; i < g->nseg; i++)
        if (g->len[i] >= MT_GRAM)
            return true;
    return false;
}

/* The run of consecutive grams to index g under at state st: as many as
 * the longest segment gives (at most MT_GRAM_RUN; one once the state has
 * MT_GRAM_RUN_MAX such wildcards), so values can be probed at wide steps,
 * and among those runs the one whose grams the fewest wildcards share so
 * far. Returns the run's length; its bytes go to run. Precondition:
 * s_wc_has_gram(g). */
static uint32_t s_wc_run(const zb_matcher_t *m, uint32_t st, const mt_glob_t *g, char run[MT_GRAM + MT_GRAM_RUN - 1])
{
    uint32_t k = 1;
    for (uint32_t i = 0; i < g->nseg; i++)
        if (g->len[i] >= MT_GRAM && g->len[i] - MT_GRAM + 1 > k)
            k = g->len[i] - MT_GRAM + 1;
    if (k > MT_GRAM_RUN)
        k = MT_GRAM_RUN;
    if (STATE(m, st)->n_wc_gram >= MT_GRAM_RUN_MAX)
        k = 1;
    uint64_t best = UINT64_MAX;
    for (uint32_t i = 0; i < g->nseg && best > 0; i++) {
        const char *seg = g->lit + g->off[i];
        for (uint32_t j = 0; j + MT_GRAM + k - 1 <= g->len[i] && best > 0; j++) {
            uint64_t shared = 0;
            for (uint32_t q = 0; q < k; q++) {
                const mt_hentry_t *e = mt_hmap_find(&m->map, st, MT_TAG_WC_GRAM, seg + j + q, MT_GRAM);
                shared += e ? e->n_vals : 0;
            }
            if (shared < best) {
                best = shared;
                memcpy(run, seg + j, MT_GRAM + k - 1);
            }
        }
    }
    return k;
}

static uint32_t s_gram_bucket(const char gram[MT_GRAM])
{
    uint32_t w;
    memcpy(&w, gram, MT_GRAM);
    return mt_gram_bucket(w);
}

/* Removes the first n grams of wildcard entry id's run. */
static void s_wc_grams_del(zb_matcher_t *m, uint32_t st, uint32_t id, const char *run, uint32_t n)
{
    mt_state_t *s = STATE(m, st);
    for (uint32_t q = 0; q < n; q++) {
        s_key_del(m, st, MT_TAG_WC_GRAM, run + q, MT_GRAM, id);
        s->wc_gram_cnt[s_gram_bucket(run + q)]--;
    }
}

/* Puts gram-indexed wildcard id first in state st's list of them. */
static void s_wc_link(zb_matcher_t *m, uint32_t st, uint32_t id)
{
    mt_state_t *s = STATE(m, st);
    mt_wcent_t *e = WCENT(m, id);
    e->prev = 0;
    e->next = s->wc_grams;
    if (s->wc_grams)
        WCENT(m, s->wc_grams - 1)->prev = id + 1;
    s->wc_grams = id + 1;
}

static void s_wc_unlink(zb_matcher_t *m, uint32_t st, uint32_t id)
{
    const mt_wcent_t *e = WCENT(m, id);
    if (e->prev)
        WCENT(m, e->prev - 1)->next = e->next;
    else
        STATE(m, st)->wc_grams = e->next;
    if (e->next)
        WCENT(m, e->next - 1)->prev = e->prev;
}

/* Once state st has MT_GRAM_RUN_MAX *...* wildcards, those indexed under
 * a run move to their least shared single gram, so a large state makes
 * no value check a wildcard for a gram other than its rarest. One that
 * cannot move (memory) keeps its run: still exact, only less selective. */
static void s_wc_unrun(zb_matcher_t *m, uint32_t st)
{
    for (uint32_t i = STATE(m, st)->wc_grams; i; i = WCENT(m, i - 1)->next) {
        uint32_t id = i - 1;
        mt_wcent_t *e = WCENT(m, id);
        if (e->n_grams < 2)
            continue;
        char gram[MT_GRAM + MT_GRAM_RUN - 1];
        s_wc_run(m, st, e->glob, gram); /* one gram: the state is at MT_GRAM_RUN_MAX */
        if (s_key_add(m, st, MT_TAG_WC_GRAM, gram, MT_GRAM, id) != 0)
            continue;
        mt_state_t *s = STATE(m, st);
        s->wc_gram_cnt[s_gram_bucket(gram)]++;
        e = WCENT(m, id);
        s_wc_grams_del(m, st, id, e->run, e->n_grams);
        s->wc_run_cnt[e->n_grams]--;
        s->wc_run_cnt[1]++;
        memcpy(e->run, gram, MT_GRAM);
        e->n_grams = 1;
    }
}

/* Indexes a *...* glob by a run of grams: 1 when indexed, 0 when it has
 * no segment long enough, -1 on memory. */
static int s_wc_gram_install(zb_matcher_t *m, uint32_t st, uint32_t cond, mt_alt_t *a)
{
    char run[MT_GRAM + MT_GRAM_RUN - 1];
    if (!s_wc_has_gram(a->glob))
        return 0;
    uint32_t k = s_wc_run(m, st, a->glob, run);
    mt_state_t *s = STATE(m, st);
    if (!s->wc_gram_cnt && !(s->wc_gram_cnt = calloc(MT_GRAM_BUCKETS, sizeof *s->wc_gram_cnt)))
        return -1;
    uint32_t id = mt_table_alloc(&m->wcents);
    if (id == MT_NONE)
        return -1;
    for (uint32_t q = 0; q < k; q++) {
        if (s_key_add(m, st, MT_TAG_WC_GRAM, run + q, MT_GRAM, id) != 0) {
            s_wc_grams_del(m, st, id, run, q);
            mt_table_release(&m->wcents, id);
            return -1;
        }
        s = STATE(m, st);
        s->wc_gram_cnt[s_gram_bucket(run + q)]++;
    }
    s->n_wc_gram++;
    s->wc_run_cnt[k]++;
    mt_wcent_t *e = WCENT(m, id);
    e->in_use = true;
    e->cond = cond;
    e->glob = a->glob;
    memcpy(e->run, run, MT_GRAM + k - 1);
    e->n_grams = (uint8_t) k;
    a->ent = id;
    s_wc_link(m, st, id);
    if (s->n_wc_gram == MT_GRAM_RUN_MAX)
        s_wc_unrun(m, st);
    return 1;
}

/* 1 when indexed, 0 when the glob belongs in the list, -1 on memory. */
static int s_wc_install(zb_matcher_t *m, uint32_t st, uint32_t cond, mt_alt_t *a)
{
    const char *bytes;
    uint32_t len;
    uint8_t tag = s_wc_key(a->glob, &bytes, &len);
    if (!tag)
        return a->glob->nseg > 0 ? s_wc_gram_install(m, st, cond, a) : 0;
    uint32_t id = mt_table_alloc(&m->wcents);
    if (id == MT_NONE)
        return -1;
    mt_state_t *s = STATE(m, st);
    mt_lenset_t *ls = tag == MT_TAG_WC_PREFIX ? &s->wc_pfx : &s->wc_sfx;
    if (s_lenset_add(ls, len) != 0) {
        mt_table_release(&m->wcents, id);
        return -1;
    }
    if (s_key_add(m, st, tag, bytes, len, id) != 0) {
        s_lenset_del(ls, len);
        mt_table_release(&m->wcents, id);
        return -1;
    }
    mt_wcent_t *e = WCENT(m, id);
    e->in_use = true;
    e->cond = cond;
    e->glob = a->glob;
    a->ent = id;
    return 1;
}

/* true when the glob was indexed (and is now removed). Precondition: a was
 * installed at st. */
static bool s_wc_uninstall(zb_matcher_t *m, uint32_t st, const mt_alt_t *a)
{
    const char *bytes;
    uint32_t len;
    uint8_t tag = s_wc_key(a->glob, &bytes, &len);
    mt_state_t *s = STATE(m, st);
    if (!tag) {
        if (!s_wc_has_gram(a->glob))
            return false; /* listed, not indexed */
        mt_wcent_t *e = WCENT(m, a->ent);
        s_wc_grams_del(m, st, a->ent, e->run, e->n_grams);
        s->n_wc_gram--;
        s->wc_run_cnt[e->n_grams]--;
        s_wc_unlink(m, st, a->ent);
        mt_table_release(&m->wcents, a->ent);
        return true;
    }
    s_key_del(m, st, tag, bytes, len, a->ent);
    s_lenset_del(tag == MT_TAG_WC_PREFIX ? &s->wc_pfx : &s->wc_sfx, len);
    mt_table_release(&m->wcents, a->ent);
    return true;
}

static int s_alt_install(zb_matcher_t *m, uint32_t st, uint32_t cond, mt_alt_t *a)
{
    if (a->kind == MT_K_EXISTS_FALSE)
        return 0;
    if (s_is_ab(a->kind))
        return s_ab_install(m, st, cond, a);
    if (a->kind == MT_K_WILDCARD) {
        int rc = s_wc_install(m, st, cond, a);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    if (a->kind == MT_K_HASHED) {
        mt_lenset_t *ls = s_lenset_for(STATE(m, st), a->tag);
        if (ls && s_lenset_add(ls, s_probe_len(a)) != 0)
            return -1;
        if (s_key_add(m, st, a->tag, a->bytes, a->len, cond) != 0) {
            if (ls)
                s_lenset_del(ls, s_probe_len(a));
            return -1;
        }
        mt_state_t *s = STATE(m, st);
        if (a->tag == MT_TAG_EIC)
            s->n_eic++;
        else if (!ls)
            s->n_hashed++;
        return 0;
    }
    mt_state_t *s = STATE(m, st);
    if (a->kind == MT_K_RANGE) {
        /* xorshift: cheap, deterministic priorities for the treap */
        uint32_t x = m->prio_seed ? m->prio_seed : 2463534242u;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        m->prio_seed = x;
        if (mt_range_insert(&s->ranges, a, cond, x) != 0)
            return -1;
        s->n_ranges++;
        return 0;
    }
    if (mt_grow((void **) &s->slow, &s->cap_slow, s->n_slow + 1, sizeof *s->slow) != 0)
        return -1;
    s->slow[s->n_slow].cond = cond;
    s->slow[s->n_slow].alt = a;
    s->n_slow++;
    return 0;
}

static void s_alt_uninstall(zb_matcher_t *m, uint32_t st, uint32_t cond, const mt_alt_t *a)
{
    mt_state_t *s = STATE(m, st);
    if (a->kind == MT_K_EXISTS_FALSE)
        return;
    if (s_is_ab(a->kind)) {
        s_ab_uninstall(m, st, a);
        return;
    }
    if (a->kind == MT_K_WILDCARD && s_wc_uninstall(m, st, a))
        return;
    if (a->kind == MT_K_HASHED) {
        s_key_del(m, st, a->tag, a->bytes, a->len, cond);
        mt_lenset_t *ls = s_lenset_for(s, a->tag);
        if (ls)
            s_lenset_del(ls, s_probe_len(a));
        else if (a->tag == MT_TAG_EIC)
            s->n_eic--;
        else
            s->n_hashed--;
        return;
    }
    if (a->kind == MT_K_RANGE) {
        mt_range_remove(&s->ranges, a, cond);
        s->n_ranges--;
        return;
    }
    for (uint32_t i = 0; i < s->n_slow; i++) {
        if (s->slow[i].alt == a && s->slow[i].cond == cond) {
            /* keep order: matching results do not depend on it, but a
             * stable order keeps behaviour reproducible */
            memmove(&s->slow[i], &s->slow[i + 1], (s->n_slow - i - 1) * sizeof *s->slow);
            s->n_slow--;
            break;
        }
    }
}

/* Removes everything rule `slot` installed. Tolerates a partial install:
 * ids still MT_NONE and alternatives past n_installed are skipped. */
void mt_uninstall(zb_matcher_t *m, uint32_t slot)
{
    mt_rule_t *r = RULE(m, slot);
    mt_pattern_t *pat = r->pat;
    if (r->subs) {
        for (uint32_t j = 0; j < pat->n_conjs; j++) {
            uint32_t sid = r->subs[j];
            if (sid == MT_NONE)
                continue;
            mt_sub_t *sub = SUB(m, sid);
            for (uint32_t k = 0; k < sub->n_conds; k++) {
                mt_cond_t *c = COND(m, sub->conds[k]);
                for (uint32_t q = 0; q < c->n_subs; q++)
                    if (c->subs[q].sub == sid) {
                        c->subs[q] = c->subs[--c->n_subs];
                        break;
                    }
            }
            if (sub->always_pos != MT_NONE) {
                uint32_t last = m->always[--m->n_always];
                m->always[sub->always_pos] = last;
                SUB(m, last)->always_pos = sub->always_pos;
            }
            free(sub->conds);
            mt_table_release(&m->subs, sid);
        }
    }
    if (r->conds) {
        for (uint32_t i = 0; i < pat->n_leaves; i++) {
            uint32_t cid = r->conds[i];
            if (cid == MT_NONE)
                continue;
            mt_cond_t *c = COND(m, cid);
            if (--c->refs > 0)
                continue; /* other rules' leaves still use it */
            /* The alternatives installed are those of the leaf the
             * condition was made from, maybe another rule's. */
            const mt_leaf_t *leaf = &c->pat->leaves[c->leaf];
            for (uint32_t k = 0; k < c->n_installed; k++)
                s_alt_uninstall(m, c->state, cid, &leaf->alts[k]);
            if (c->absent_ok)
                STATE(m, c->state)->n_absent--;
            mt_state_refresh(m, c->state);
            uint32_t st = c->state;
            free(c->subs);
            mt_pattern_unref(m, &c->pat);
            mt_table_release(&m->conds, cid);
            s_state_unref(m, st);
        }
    }
    free(r->conds);
    free(r->subs);
    r->conds = NULL;
    r->subs = NULL;
}

static bool s_bytes_eq(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Whether two alternatives match exactly the same values: every field
 * matching reads, not the derived ones (compiled globs, install ids). */
static bool s_alt_eq(const mt_alt_t *a, const mt_alt_t *b)
{
    if (a->kind != b->kind || a->tag != b->tag)
        return false;
    switch (a->kind) {
    case MT_K_HASHED:
        return s_bytes_eq(a->bytes, a->len, b->bytes, b->len) && (a->tag != MT_TAG_CIDR || a->bits == b->bits);
    case MT_K_WILDCARD:
        return s_bytes_eq(a->bytes, a->len, b->bytes, b->len);
    case MT_K_RANGE:
        return a->has_lo == b->has_lo && a->has_hi == b->has_hi && a->lo_incl == b->lo_incl &&
               a->hi_incl == b->hi_incl && (!a->has_lo || a->lo == b->lo) && (!a->has_hi || a->hi == b->hi);
    case MT_K_EXISTS_TRUE:
    case MT_K_EXISTS_FALSE:
        return true;
    default: /* anything-but: the excluded values, in order */
        if (a->n_list != b->n_list || !a->list != !b->list || !a->nums != !b->nums || !a->shape != !b->shape)
            return false;
        for (uint32_t k = 0; k < a->n_list; k++) {
            if (a->list && !s_bytes_eq(a->list[k], a->list_len ? a->list_len[k] : 0, b->list[k],
                                       b->list_len ? b->list_len[k] : 0))
                return false;
            if (a->nums && a->nums[k] != b->nums[k])
                return false;
            if (a->shape && a->shape[k] != b->shape[k])
                return false;
        }
        return true;
    }
}

static bool s_leaf_eq(const mt_leaf_t *a, const mt_leaf_t *b)
{
    if (a->absent_ok != b->absent_ok || a->has_positive != b->has_positive || a->n_alts != b->n_alts)
        return false;
    for (uint32_t i = 0; i < a->n_alts; i++)
        if (!s_alt_eq(&a->alts[i], &b->alts[i]))
            return false;
    return true;
}

/* An installed condition at state st made from a leaf equal to `leaf`, or
 * MT_NONE. Leaves with a hashed alternative (exact values, prefixes,
 * suffixes, numbers, CIDR...: what many rules name alike, such as one
 * "source") are looked for among the conditions keyed under the least
 * shared of those values, and leaves that start with a numeric range
 * among the ranges with its bounds: no index of its own is needed. Other
 * leaves (wildcards, exists, anything-but first) get a condition each. */
typedef struct {
    const zb_matcher_t *m;
    const mt_leaf_t *leaf;
} s_same_t;

/* Whether condition cid is fully installed from a leaf equal to x->leaf. */
static bool s_same_leaf(void *arg, uint32_t cid)
{
    const s_same_t *x = arg;
    const mt_cond_t *c = COND(x->m, cid);
    return c->in_use && c->n_installed == c->pat->leaves[c->leaf].n_alts &&
           s_leaf_eq(x->leaf, &c->pat->leaves[c->leaf]);
}

static uint32_t s_shared_cond(const zb_matcher_t *m, uint32_t st, const mt_leaf_t *leaf)
{
    s_same_t same = {m, leaf};
    if (leaf->n_alts > 0 && leaf->alts[0].kind == MT_K_RANGE) /* "amount > 100" in many rules */
        return mt_range_find(STATE(m, st)->ranges, &leaf->alts[0], s_same_leaf, &same);
    const mt_hentry_t *best = NULL;
    for (uint32_t i = 0; i < leaf->n_alts; i++) {
        const mt_alt_t *a = &leaf->alts[i];
        if (a->kind != MT_K_HASHED)
            continue;
        const mt_hentry_t *e = mt_hmap_find(&m->map, st, a->tag, a->bytes, a->len);
        if (!e)
            return MT_NONE; /* no installed leaf has this value */
        if (!best || e->n_vals < best->n_vals)
            best = e;
    }
    for (uint32_t k = 0; best && k < best->n_vals; k++)
        if (s_same_leaf(&same, best->vals[k]))
            return best->vals[k];
    return MT_NONE;
}

/* How often a condition is likely to be hit, to pick a subrule's trigger
 * (the smaller the rarer). Rules say nothing about the events to come, so
 * this is what their shapes suggest: the rules sharing the condition, and
 * for an exact value (or prefix, suffix, CIDR...) the other conditions
 * keyed under it, since a value many rules name (a shared "source") is
 * one many events carry; wildcards
 * and ranges count as somewhat common; exists and anything-but fire on
 * almost every value. A condition's alternatives add up. The choice only
 * decides which subrules are looked at: a stale or poor one costs time,
 * never a wrong result. */
static uint64_t s_cond_score(const zb_matcher_t *m, const mt_cond_t *c)
{
    uint32_t st = c->state;
    const mt_leaf_t *leaf = &c->pat->leaves[c->leaf];
    uint64_t score = c->refs;
    for (uint32_t i = 0; i < leaf->n_alts; i++) {
        const mt_alt_t *a = &leaf->alts[i];
        switch (a->kind) {
        case MT_K_HASHED: {
            const mt_hentry_t *e = mt_hmap_find(&m->map, st, a->tag, a->bytes, a->len);
            score += e ? e->n_vals - 1 : 0; /* other conditions on the same value */
            break;
        }
        case MT_K_WILDCARD:
        case MT_K_RANGE:
            score += 64;
            break;
        case MT_K_EXISTS_FALSE:
            break;
        default: /* exists:true, anything-but */
            score += 1u << 20;
            break;
        }
    }
    return score;
}

/* Installs rule `slot`'s compiled pattern: one condition per leaf (on the
 * state of its path), one subrule per AND-list. On failure (memory) the
 * partial install is undone and -1 returned. */
int mt_install(zb_matcher_t *m, uint32_t slot)
{
    mt_pattern_t *pat = RULE(m, slot)->pat;
    uint32_t *conds = malloc((pat->n_leaves + 1) * sizeof *conds);
    uint32_t *subs = malloc((pat->n_conjs + 1) * sizeof *subs);
    if (!conds || !subs) {
        free(conds);
        free(subs);
        return -1;
    }
    for (uint32_t i = 0; i < pat->n_leaves; i++)
        conds[i] = MT_NONE;
    for (uint32_t j = 0; j < pat->n_conjs; j++)
        subs[j] = MT_NONE;
    RULE(m, slot)->conds = conds;
    RULE(m, slot)->subs = subs;

    for (uint32_t i = 0; i < pat->n_leaves; i++) {
        const mt_leaf_t *leaf = &pat->leaves[i];
        /* Walk the path, creating states; each level holds one reference
         * to the next via refs, the condition holds one on its state. */
        uint32_t st = 0;
        for (uint32_t d = 0; d < leaf->depth; d++) {
            uint32_t next = s_child_make(m, st, leaf->path[d], leaf->path_len[d]);
            if (next == MT_NONE) {
                /* states created so far with no reference get freed here */
                if (st != 0 && STATE(m, st)->refs == 0) {
                    STATE(m, st)->refs = 1;
                    s_state_unref(m, st);
                }
                goto fail;
            }
            st = next;
        }
        /* The same leaf at the same state shares its condition. */
        uint32_t cid = s_shared_cond(m, st, leaf);
        if (cid != MT_NONE) {
            conds[i] = cid;
            COND(m, cid)->refs++;
            continue;
        }
        cid = mt_table_alloc(&m->conds);
        if (cid == MT_NONE) {
            if (STATE(m, st)->refs == 0) {
                STATE(m, st)->refs = 1;
                s_state_unref(m, st);
            }
            goto fail;
        }
        mt_cond_t *c = COND(m, cid);
        c->in_use = true;
        c->state = st;
        c->refs = 1;
        c->pat = pat;
        pat->refs++;
        c->leaf = i;
        c->absent_ok = leaf->absent_ok;
        c->has_positive = leaf->has_positive;
        STATE(m, st)->refs++;
        if (c->absent_ok)
            STATE(m, st)->n_absent++;
        conds[i] = cid;
        for (uint32_t k = 0; k < leaf->n_alts; k++) {
            if (s_alt_install(m, st, cid, &pat->leaves[i].alts[k]) != 0)
                goto fail; /* mt_uninstall() refreshes the state */
            COND(m, cid)->n_installed++;
        }
        /* Once the leaf is in: installing reads nothing refresh keeps. */
        mt_state_refresh(m, st);
    }
    for (uint32_t j = 0; j < pat->n_conjs; j++) {
        uint32_t sid = mt_table_alloc(&m->subs);
        if (sid == MT_NONE)
            goto fail;
        subs[j] = sid;
        mt_sub_t *sub = SUB(m, sid);
        sub->in_use = true;
        sub->rule = slot;
        sub->always_pos = MT_NONE;
        uint32_t n = pat->conj_len[j];
        sub->conds = malloc((n + 1) * sizeof *sub->conds);
        if (!sub->conds)
            goto fail;
        /* Required conditions (must be present) first, absence-tolerant
         * ones after: the search picks positions for the first group and
         * then checks the second against them. */
        uint32_t k = 0;
        for (uint32_t q = 0; q < n; q++) {
            uint32_t cid = conds[pat->conjs[j][q]];
            if (!COND(m, cid)->absent_ok)
                sub->conds[k++] = cid;
        }
        sub->n_req = k;
        for (uint32_t q = 0; q < n; q++) {
            uint32_t cid = conds[pat->conjs[j][q]];
            if (COND(m, cid)->absent_ok)
                sub->conds[k++] = cid;
        }
        sub->n_conds = k;
        for (uint32_t q = 0; k > 1 && q < k; q++)
            COND(m, sub->conds[q])->positions = true;
        if (sub->n_req > 0) {
            /* A subrule holds only if every required condition is hit, so
             * it is looked at only when its trigger is: the one least
             * likely to be hit. */
            uint32_t best = 0, second = MT_NONE;
            uint64_t best_score = UINT64_MAX, second_score = UINT64_MAX;
            for (uint32_t q = 0; q < sub->n_req; q++) {
                uint64_t score = s_cond_score(m, COND(m, sub->conds[q]));
                if (score <= best_score) { /* ties: the later leaf, usually deeper in detail */
                    second = best_score == UINT64_MAX ? MT_NONE : best;
                    second_score = best_score;
                    best_score = score;
                    best = q;
                } else if (score <= second_score) {
                    second_score = score;
                    second = q;
                }
            }
            mt_cond_t *c = COND(m, sub->conds[best]);
            if (mt_grow((void **) &c->subs, &c->cap_subs, c->n_subs + 1, sizeof *c->subs) != 0)
                goto fail;
            c->subs[c->n_subs].sub = sid;
            c->subs[c->n_subs].check = sub->conds[second == MT_NONE ? best : second];
            c->n_subs++;
        }
        if (sub->n_req == 0) {
            if (mt_grow((void **) &m->always, &m->cap_always, m->n_always + 1,
                        sizeof *m->always) != 0)
                goto fail;
            sub->always_pos = m->n_always;
            m->always[m->n_always++] = sid;
        }
    }
    return 0;
fail:
    mt_uninstall(m, slot);
    return -1;
}

/* A string excluded by every anything-but entry on strings at st: one of
 * the first entry's values whose key leads to all of them (see
 * s_ab_exclude() in match.c). Only worth it where exclusions are probed
 * rather than compared (MT_AB_LINEAR). */
static void s_ab_all_find(const zb_matcher_t *m, uint32_t st, mt_state_t *s)
{
    s->ab_all = NULL;
    s->ab_all_len = 0;
    if (!s->n_ab_str || s->n_abx_keys <= MT_AB_LINEAR)
        return;
    const mt_alt_t *a = s->ab_str[0].alt;
    for (uint32_t i = 0; i < a->n_list && i < MT_AB_ALL_SCAN; i++) {
        const char *bytes;
        uint32_t len;
        uint8_t nk[8];
        if (s_ab_key(a, i, &bytes, &len, nk) != MT_TAG_AB_STR)
            continue;
        const mt_hentry_t *e = mt_hmap_find(&m->map, st, MT_TAG_AB_STR, bytes, len);
        if (e && e->n_vals == s->n_ab_str) {
            s->ab_all = bytes;
            s->ab_all_len = len;
            return;
        }
    }
}

void mt_state_refresh(zb_matcher_t *m, uint32_t st)
{
    mt_state_t *s = STATE(m, st);
    s_ab_all_find(m, st, s);
    s->ops = (s->n_absent ? MT_OP_ABSENT : 0) | (s->n_hashed ? MT_OP_HASHED : 0) |
             (s->pfx.n || s->sfx.n ? MT_OP_AFFIX : 0) | (s->cidr.n ? MT_OP_CIDR : 0) |
             (s->n_eic || s->pfx_eic.n || s->sfx_eic.n || s->n_abx_eic ? MT_OP_FOLD : 0) |
             (s->n_ab_str || s->n_ab_num ? MT_OP_AB : 0) | (s->wc_pfx.n || s->wc_sfx.n || s->n_wc_gram ? MT_OP_WC : 0) |
             (s->n_slow ? MT_OP_SLOW : 0) | (s->n_ranges ? MT_OP_RANGE : 0);
}
