/*
 * hmap.c — the matcher's one hash table: (state, tag, bytes) -> uint32 list.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so a long add/remove history does not slow lookups). The
 * stored hash is never 0; 0 marks an empty slot.
 */
#include "matcher_int.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t s_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Word-at-a-time multiplicative hash; short keys (field names, ids) are
 * the common case, so no SIMD and no setup cost. */
uint64_t mt_hash(uint32_t state, uint8_t tag, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    uint64_t h = ((uint64_t) state << 8 | tag) ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
    }
    h = s_mix(h);
    return h ? h : 1;
}

void mt_hmap_free(mt_hmap_t *map)
{
    for (size_t i = 0; i < map->cap; i++) {
        free(map->slots[i].key);
        free(map->slots[i].vals);
    }
    free(map->slots);
    memset(map, 0, sizeof *map);
}

static bool s_eq(const mt_hentry_t *e, uint64_t hash, uint32_t state, uint8_t tag, const void *bytes,
                 size_t len)
{
    return e->hash == hash && e->state == state && e->klen == len + 1 && (uint8_t) e->key[0] == tag &&
           memcmp(e->key + 1, bytes, len) == 0;
}

const mt_hentry_t *mt_hmap_find(const mt_hmap_t *map, uint64_t hash, uint32_t state, uint8_t tag,
                                const void *bytes, size_t len)
{
    if (map->cap == 0)
        return NULL;
    size_t mask = map->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const mt_hentry_t *e = &map->slots[i];
        if (e->hash == 0)
            return NULL;
        if (s_eq(e, hash, state, tag, bytes, len))
            return e;
    }
}

static int s_grow(mt_hmap_t *map)
{
    size_t cap = map->cap ? map->cap * 2 : 64;
    mt_hentry_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < map->cap; i++) {
        mt_hentry_t *e = &map->slots[i];
        if (e->hash == 0)
            continue;
        size_t j = e->hash & (cap - 1);
        while (slots[j].hash)
            j = (j + 1) & (cap - 1);
        slots[j] = *e;
    }
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
    return 0;
}

int mt_hmap_add(mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len,
                uint32_t val)
{
    if (len >= UINT32_MAX)
        return -1;
    if ((map->count + 1) * 2 > map->cap && s_grow(map) != 0)
        return -1;
    uint64_t hash = mt_hash(state, tag, bytes, len);
    size_t mask = map->cap - 1;
    size_t i = hash & mask;
    for (;; i = (i + 1) & mask) {
        mt_hentry_t *e = &map->slots[i];
        if (e->hash == 0)
            break;
        if (s_eq(e, hash, state, tag, bytes, len)) {
            if (e->n_vals == e->cap_vals) {
                uint32_t cap = e->cap_vals * 2;
                uint32_t *v = realloc(e->vals, cap * sizeof *v);
                if (!v)
                    return -1;
                map->bytes += (cap - e->cap_vals) * sizeof *v;
                e->vals = v;
                e->cap_vals = cap;
            }
            e->vals[e->n_vals++] = val;
            return 0;
        }
    }
    mt_hentry_t *e = &map->slots[i];
    char *key = malloc(len + 1);
    uint32_t *vals = malloc(sizeof *vals);
    if (!key || !vals) {
        free(key);
        free(vals);
        return -1;
    }
    key[0] = (char) tag;
    memcpy(key + 1, bytes, len);
    e->hash = hash;
    e->state = state;
    e->klen = (uint32_t) len + 1;
    e->key = key;
    e->vals = vals;
    e->vals[0] = val;
    e->n_vals = 1;
    e->cap_vals = 1;
    map->count++;
    map->bytes += len + 1 + sizeof *vals;
    return 0;
}

void mt_hmap_remove(mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len,
                    uint32_t val)
{
    if (map->cap == 0)
        return;
    uint64_t hash = mt_hash(state, tag, bytes, len);
    size_t mask = map->cap - 1;
    size_t i = hash & mask;
    for (;; i = (i + 1) & mask) {
        mt_hentry_t *e = &map->slots[i];
        if (e->hash == 0)
            return;
        if (s_eq(e, hash, state, tag, bytes, len))
            break;
    }
    mt_hentry_t *e = &map->slots[i];
    for (uint32_t k = 0; k < e->n_vals; k++) {
        if (e->vals[k] == val) {
            e->vals[k] = e->vals[--e->n_vals];
            break;
        }
    }
    if (e->n_vals > 0)
        return;
    map->bytes -= e->klen + e->cap_vals * sizeof *e->vals;
    free(e->key);
    free(e->vals);
    memset(e, 0, sizeof *e);
    map->count--;
    /* Backward shift: pull later members of the probe run into the hole
     * when their home slot is at or before it. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; map->slots[j].hash; j = (j + 1) & mask) {
        size_t home = map->slots[j].hash & mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            map->slots[hole] = map->slots[j];
            memset(&map->slots[j], 0, sizeof map->slots[j]);
            hole = j;
        }
    }
}
