/*
 * numrange.c — numeric ranges of one field as an interval treap.
 *
 * A treap ordered by lower bound, each node carrying the largest upper
 * bound in its subtree, answers "which ranges contain x" by visiting only
 * subtrees that can hold an answer: O(log n) plus the matches in practice,
 * so thousands of `numeric` rules on one field cost about what one does.
 * Insertion and removal are O(log n) expected, no rebuild, so rules come
 * and go while matching keeps working. `=` never gets here: it is an exact
 * key in the value index.
 */
#include "matcher_int.h"

#include <math.h>
#include <stdlib.h>

struct mt_rnode {
    double lo, hi;         /* -inf / +inf for a missing bound */
    bool lo_incl, hi_incl;
    double max_hi;         /* largest hi in this subtree */
    uint32_t prio;
    uint32_t cond;
    const mt_alt_t *alt;
    mt_rnode_t *l, *r;
};

static double s_lo(const mt_alt_t *a)
{
    return a->has_lo ? a->lo : -INFINITY;
}

static double s_hi(const mt_alt_t *a)
{
    return a->has_hi ? a->hi : INFINITY;
}

static void s_fix(mt_rnode_t *n)
{
    double m = n->hi;
    if (n->l && n->l->max_hi > m)
        m = n->l->max_hi;
    if (n->r && n->r->max_hi > m)
        m = n->r->max_hi;
    n->max_hi = m;
}

/* Total order: lower bound, then identity (alt, cond) so equal bounds of
 * different rules are distinct keys. */
static int s_cmp(double lo, const mt_alt_t *a, uint32_t cond, const mt_rnode_t *n)
{
    if (lo != n->lo)
        return lo < n->lo ? -1 : 1;
    if (a != n->alt)
        return (uintptr_t) a < (uintptr_t) n->alt ? -1 : 1;
    if (cond != n->cond)
        return cond < n->cond ? -1 : 1;
    return 0;
}

static mt_rnode_t *s_rot_right(mt_rnode_t *n)
{
    mt_rnode_t *l = n->l;
    n->l = l->r;
    l->r = n;
    s_fix(n);
    s_fix(l);
    return l;
}

static mt_rnode_t *s_rot_left(mt_rnode_t *n)
{
    mt_rnode_t *r = n->r;
    n->r = r->l;
    r->l = n;
    s_fix(n);
    s_fix(r);
    return r;
}

static mt_rnode_t *s_insert(mt_rnode_t *t, mt_rnode_t *n)
{
    if (!t)
        return n;
    if (s_cmp(n->lo, n->alt, n->cond, t) < 0) {
        t->l = s_insert(t->l, n);
        if (t->l->prio > t->prio)
            return s_rot_right(t);
    } else {
        t->r = s_insert(t->r, n);
        if (t->r->prio > t->prio)
            return s_rot_left(t);
    }
    s_fix(t);
    return t;
}

int mt_range_insert(mt_rnode_t **root, const mt_alt_t *a, uint32_t cond, uint32_t prio)
{
    mt_rnode_t *n = calloc(1, sizeof *n);
    if (!n)
        return -1;
    n->lo = s_lo(a);
    n->hi = s_hi(a);
    n->lo_incl = a->lo_incl;
    n->hi_incl = a->hi_incl;
    n->max_hi = n->hi;
    n->prio = prio;
    n->cond = cond;
    n->alt = a;
    *root = s_insert(*root, n);
    return 0;
}

/* Joins two treaps where every key of a precedes every key of b. */
static mt_rnode_t *s_join(mt_rnode_t *a, mt_rnode_t *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (a->prio > b->prio) {
        a->r = s_join(a->r, b);
        s_fix(a);
        return a;
    }
    b->l = s_join(a, b->l);
    s_fix(b);
    return b;
}

static mt_rnode_t *s_remove(mt_rnode_t *t, double lo, const mt_alt_t *a, uint32_t cond)
{
    if (!t)
        return NULL;
    int c = s_cmp(lo, a, cond, t);
    if (c == 0) {
        mt_rnode_t *j = s_join(t->l, t->r);
        free(t);
        return j;
    }
    if (c < 0)
        t->l = s_remove(t->l, lo, a, cond);
    else
        t->r = s_remove(t->r, lo, a, cond);
    s_fix(t);
    return t;
}

void mt_range_remove(mt_rnode_t **root, const mt_alt_t *a, uint32_t cond)
{
    *root = s_remove(*root, s_lo(a), a, cond);
}

size_t mt_range_node_bytes(void)
{
    return sizeof(mt_rnode_t);
}

void mt_range_free(mt_rnode_t **root)
{
    mt_rnode_t *t = *root;
    if (!t)
        return;
    mt_range_free(&t->l);
    mt_range_free(&t->r);
    free(t);
    *root = NULL;
}

uint32_t mt_range_find(const mt_rnode_t *t, const mt_alt_t *a, bool (*same)(void *arg, uint32_t cond), void *arg)
{
    double lo = s_lo(a), hi = s_hi(a);
    while (t) {
        /* nodes with this lower bound may sit on both sides of an equal one */
        if (lo == t->lo) {
            if (hi == t->hi && a->lo_incl == t->lo_incl && a->hi_incl == t->hi_incl && same(arg, t->cond))
                return t->cond;
            uint32_t c = mt_range_find(t->l, a, same, arg);
            if (c != MT_NONE)
                return c;
            t = t->r;
        } else {
            t = lo < t->lo ? t->l : t->r;
        }
    }
    return MT_NONE;
}

void mt_range_stab(const mt_rnode_t *t, double x, void (*hit)(void *arg, uint32_t cond), void *arg)
{
    while (t) {
        if (t->max_hi < x)
            return; /* every range below ends before x */
        if (t->l)
            mt_range_stab(t->l, x, hit, arg);
        if (t->lo > x)
            return; /* this one and everything to the right start after x */
        if ((t->lo_incl ? x >= t->lo : x > t->lo) && (t->hi_incl ? x <= t->hi : x < t->hi))
            hit(arg, t->cond);
        t = t->r;
    }
}
