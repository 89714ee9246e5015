/*
 * table.c — growable arrays of fixed-size records with slot reuse, so ids
 * (states, conditions, subrules, rules) stay small and dense: the match
 * context indexes its per-id scratch arrays with them.
 */
#include "matcher_int.h"

#include <stdlib.h>
#include <string.h>

void mt_table_init(mt_table_t *t, size_t elem)
{
    memset(t, 0, sizeof *t);
    t->elem = elem;
}

void mt_table_free(mt_table_t *t)
{
    free(t->v);
    free(t->free);
    mt_table_init(t, t->elem);
}

uint32_t mt_table_alloc(mt_table_t *t)
{
    uint32_t slot;
    if (t->n_free > 0) {
        slot = t->free[--t->n_free];
    } else {
        if (t->n == t->cap) {
            uint32_t cap = t->cap ? t->cap * 2 : 16;
            void *v = realloc(t->v, (size_t) cap * t->elem);
            if (!v)
                return MT_NONE;
            t->v = v;
            t->cap = cap;
        }
        slot = t->n++;
    }
    memset((char *) t->v + (size_t) slot * t->elem, 0, t->elem);
    return slot;
}

/* The caller has already cleared the record's own allocations. If the free
 * list cannot grow the slot is simply not reused (a leak of one record,
 * never a corruption). */
void mt_table_release(mt_table_t *t, uint32_t slot)
{
    memset((char *) t->v + (size_t) slot * t->elem, 0, t->elem);
    if (t->n_free == t->cap_free) {
        uint32_t cap = t->cap_free ? t->cap_free * 2 : 16;
        uint32_t *f = realloc(t->free, cap * sizeof *f);
        if (!f)
            return;
        t->free = f;
        t->cap_free = cap;
    }
    t->free[t->n_free++] = slot;
}

/* Grows *v (elements of `elem` bytes, *cap of them) to hold at least `need`,
 * doubling, and zero-fills the new tail. Returns 0, or -1 with *v and *cap
 * unchanged when memory runs out. The one growth rule of the matcher's
 * arrays. */
int mt_grow_slow(void **v, uint32_t *cap, uint32_t need, size_t elem)
{
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, (size_t) n * elem);
    if (!p)
        return -1;
    memset((char *) p + (size_t) *cap * elem, 0, (size_t) (n - *cap) * elem);
    *v = p;
    *cap = n;
    return 0;
}
