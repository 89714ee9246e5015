/*
 * matcher.c — the public API (matcher.h): rule bookkeeping around the
 * shared automaton, and the match entry point.
 */
#include "matcher_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE(m, i) MT_AT((m)->states, mt_state_t, i)
#define RULE(m, i) MT_AT((m)->rules, mt_rule_t, i)

zb_matcher_t *zb_matcher_new(void)
{
    zb_matcher_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    mt_table_init(&m->states, sizeof(mt_state_t));
    mt_table_init(&m->conds, sizeof(mt_cond_t));
    mt_table_init(&m->subs, sizeof(mt_sub_t));
    mt_table_init(&m->rules, sizeof(mt_rule_t));
    mt_table_init(&m->abents, sizeof(mt_abent_t));
    mt_table_init(&m->wcents, sizeof(mt_wcent_t));
    uint32_t root = mt_table_alloc(&m->states);
    if (root != 0) {
        free(m);
        return NULL;
    }
    STATE(m, 0)->in_use = true;
    STATE(m, 0)->parent = MT_NONE;
    return m;
}

void zb_matcher_destroy(zb_matcher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zb_matcher_t *m = *self_p;
    for (uint32_t i = 0; i < m->rules.n; i++) {
        mt_rule_t *r = RULE(m, i);
        if (!r->in_use)
            continue;
        free(r->conds);
        free(r->subs);
        mt_pattern_unref(m, &r->pat);
    }
    for (uint32_t i = 0; i < m->conds.n; i++) {
        mt_cond_t *c = MT_AT(m->conds, mt_cond_t, i);
        if (c->in_use)
            mt_pattern_unref(m, &c->pat);
    }
    for (uint32_t i = 0; i < m->states.n; i++) {
        mt_state_t *s = STATE(m, i);
        mt_state_free_contents(s);
    }
    for (uint32_t i = 0; i < m->conds.n; i++)
        free(MT_AT(m->conds, mt_cond_t, i)->subs);
    for (uint32_t i = 0; i < m->subs.n; i++)
        free(MT_AT(m->subs, mt_sub_t, i)->conds);
    mt_hmap_free(&m->map);
    mt_hmap_free(&m->fields);
    mt_hmap_free(&m->ids);
    mt_table_free(&m->states);
    mt_table_free(&m->conds);
    mt_table_free(&m->subs);
    mt_table_free(&m->rules);
    mt_table_free(&m->abents);
    mt_table_free(&m->wcents);
    free(m->always);
    free(m);
    *self_p = NULL;
}

static uint32_t s_find_rule(const zb_matcher_t *m, uint64_t id)
{
    uint8_t key[8];
    memcpy(key, &id, 8);
    const mt_hentry_t *e = mt_hmap_find(&m->ids, MT_NONE, MT_TAG_RULE, key, 8);
    return e ? e->vals[0] : MT_NONE;
}

static void s_drop(zb_matcher_t *m, uint32_t slot)
{
    mt_rule_t *r = RULE(m, slot);
    uint8_t key[8];
    memcpy(key, &r->id, 8);
    mt_uninstall(m, slot);
    mt_hmap_remove(&m->ids, MT_NONE, MT_TAG_RULE, key, 8, slot);
    mt_pattern_unref(m, &r->pat);
    mt_table_release(&m->rules, slot);
}

void mt_pattern_unref(zb_matcher_t *m, mt_pattern_t **pat_p)
{
    mt_pattern_t *p = *pat_p;
    *pat_p = NULL;
    if (!p || --p->refs > 0)
        return;
    m->pattern_bytes -= mt_pattern_bytes(p);
    mt_pattern_free(&p);
}

static void s_clear_err(zb_matcher_error_t *err)
{
    if (err) {
        err->message[0] = '\0';
        err->path[0] = '\0';
        err->offset = -1;
    }
}

/* Adds a compiled pattern (ownership passes in, also on failure). */
static int s_add(zb_matcher_t *self, uint64_t rule_id, mt_pattern_t *pat, zb_matcher_error_t *err);

int zb_matcher_add(zb_matcher_t *self, uint64_t rule_id, zb_matcher_format_t format, const void *pattern,
                   size_t len, zb_matcher_error_t *err)
{
    s_clear_err(err);
    mt_pattern_t *pat = mt_pattern_from_input(format, pattern, len, err);
    if (!pat)
        return -1;
    return s_add(self, rule_id, pat, err);
}

int zb_matcher_add_tree(zb_matcher_t *self, uint64_t rule_id, const struct zb_json *pattern,
                        zb_matcher_error_t *err)
{
    s_clear_err(err);
    mt_pattern_t *pat = mt_pattern_compile(pattern, err);
    if (!pat)
        return -1;
    return s_add(self, rule_id, pat, err);
}

static int s_add(zb_matcher_t *self, uint64_t rule_id, mt_pattern_t *pat, zb_matcher_error_t *err)
{
    uint32_t slot = mt_table_alloc(&self->rules);
    if (slot == MT_NONE) {
        mt_pattern_free(&pat);
        return mt_pattern_error(err, "", -1, "out of memory");
    }
    mt_rule_t *r = RULE(self, slot);
    r->in_use = true;
    r->id = rule_id;
    r->pat = pat;
    pat->refs = 1;
    self->pattern_bytes += mt_pattern_bytes(pat);
    if (mt_install(self, slot) != 0) {
        mt_pattern_unref(self, &RULE(self, slot)->pat);
        mt_table_release(&self->rules, slot);
        return mt_pattern_error(err, "", -1, "out of memory");
    }
    /* Only now, with the new pattern in place, drop the one it replaces:
     * on any failure above the old rule stays untouched. */
    uint32_t old = s_find_rule(self, rule_id);
    uint8_t key[8];
    memcpy(key, &rule_id, 8);
    if (old != MT_NONE) {
        s_drop(self, old);
        self->n_rules--;
    }
    if (mt_hmap_add(&self->ids, MT_NONE, MT_TAG_RULE, key, 8, slot) != 0) {
        mt_uninstall(self, slot);
        mt_pattern_unref(self, &RULE(self, slot)->pat);
        mt_table_release(&self->rules, slot);
        return mt_pattern_error(err, "", -1, "out of memory");
    }
    self->n_rules++;
    return 0;
}

int zb_matcher_remove(zb_matcher_t *self, uint64_t rule_id)
{
    uint32_t slot = s_find_rule(self, rule_id);
    if (slot == MT_NONE)
        return -1;
    s_drop(self, slot);
    self->n_rules--;
    return 0;
}

size_t zb_matcher_size(const zb_matcher_t *self)
{
    return self->n_rules;
}

size_t zb_matcher_memory(const zb_matcher_t *self)
{
    const zb_matcher_t *m = self;
    size_t b = sizeof *m + m->pattern_bytes;
    const mt_hmap_t *maps[3] = {&m->map, &m->fields, &m->ids};
    for (int i = 0; i < 3; i++)
        b += maps[i]->cap * sizeof(mt_hslot_t) + maps[i]->cap_entries * sizeof(mt_hentry_t) +
             maps[i]->cap_free * sizeof(uint32_t) + maps[i]->bytes;
    b += (size_t) m->states.cap * m->states.elem + (size_t) m->conds.cap * m->conds.elem;
    b += (size_t) m->subs.cap * m->subs.elem + (size_t) m->rules.cap * m->rules.elem;
    b += (size_t) m->abents.cap * m->abents.elem + (size_t) m->wcents.cap * m->wcents.elem;
    b += (m->states.cap_free + m->conds.cap_free + m->subs.cap_free + m->rules.cap_free + m->abents.cap_free +
          m->wcents.cap_free) * sizeof(uint32_t);
    b += m->cap_always * sizeof(uint32_t);
    for (uint32_t i = 0; i < m->states.n; i++) {
        const mt_state_t *s = MT_AT(m->states, mt_state_t, i);
        if (!s->in_use)
            continue;
        b += s->name_len + 1 + s->cap_slow * sizeof(mt_slow_t) + s->n_ranges * mt_range_node_bytes();
        b += (s->pfx.cap + s->sfx.cap + s->pfx_eic.cap + s->sfx_eic.cap + s->cidr.cap + s->ab_pfx.cap +
              s->ab_sfx.cap + s->wc_pfx.cap + s->wc_sfx.cap) * sizeof(mt_lenent_t);
        b += (size_t) (s->cap_ab_str + s->cap_ab_num) * sizeof(mt_abref_t);
        b += s->wc_gram_cnt ? MT_GRAM_BUCKETS * sizeof *s->wc_gram_cnt : 0;
        b += s->key_cnt ? MT_KEY_BUCKETS * sizeof *s->key_cnt : 0;
    }
    for (uint32_t i = 0; i < m->conds.n; i++)
        b += MT_AT(m->conds, mt_cond_t, i)->cap_subs * sizeof(mt_trig_t);
    for (uint32_t i = 0; i < m->subs.n; i++) {
        const mt_sub_t *s = MT_AT(m->subs, mt_sub_t, i);
        if (s->in_use)
            b += (s->n_conds + 1) * sizeof(uint32_t);
    }
    for (uint32_t i = 0; i < m->rules.n; i++) {
        const mt_rule_t *r = MT_AT(m->rules, mt_rule_t, i);
        if (r->in_use)
            b += (r->pat->n_leaves + r->pat->n_conjs + 2) * sizeof(uint32_t);
    }
    return b;
}

int zb_pattern_check_tree(const struct zb_json *pattern, zb_matcher_error_t *err)
{
    s_clear_err(err);
    mt_pattern_t *pat = mt_pattern_compile(pattern, err);
    if (!pat)
        return -1;
    mt_pattern_free(&pat);
    return 0;
}

int zb_pattern_check(zb_matcher_format_t format, const void *pattern, size_t len, zb_matcher_error_t *err)
{
    s_clear_err(err);
    mt_pattern_t *pat = mt_pattern_from_input(format, pattern, len, err);
    if (!pat)
        return -1;
    mt_pattern_free(&pat);
    return 0;
}

int zb_matcher_match(const zb_matcher_t *self, zb_match_ctx_t *ctx, zb_matcher_format_t format, const void *event,
                     size_t len, const uint64_t **ids, zb_matcher_error_t *err)
{
    if (err) {
        err->message[0] = '\0';
        err->path[0] = '\0';
        err->offset = -1;
    }
    if (mt_ctx_begin(ctx, self) != 0) {
        if (err)
            snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    int rc;
    if (format == ZB_FORMAT_JSON)
        rc = mt_event_json(ctx, event, len, err);
    else if (format == ZB_FORMAT_MSGPACK)
        rc = mt_event_msgpack(ctx, event, len, err);
    else {
        if (err)
            snprintf(err->message, sizeof err->message, "unknown event format");
        return -1;
    }
    if (rc != 0)
        return -1;
    rc = mt_ctx_finish(ctx, ids);
    if (rc < 0 && err)
        snprintf(err->message, sizeof err->message, "%s",
                 ctx->values_spent  ? "Event is too complex to match: its values make the wildcard or "
                                       "anything-but checks exceed their budget"
                 : ctx->too_complex ? "Event is too complex to match: its arrays make the array-consistency "
                                      "search exceed its budget"
                                    : "out of memory");
    return rc;
}
