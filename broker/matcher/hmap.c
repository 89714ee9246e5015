/*
 * hmap.c — the matcher's hash tables: (state, tag, bytes) -> uint32 list.
 *
 * Open addressing with linear probing over compact 8-byte slots (a 32-bit
 * hash tag and an entry index) and backward-shift deletion (no tombstones,
 * so a long add/remove history does not slow lookups). Entries live in a
 * dense array with a free list; a lookup touches one slot line and, only
 * when the tag agrees, one entry.
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
 * the common case, so no SIMD and no setup cost. The tail is read with
 * (overlapping) whole loads, never assembled byte by byte: a byte-wise
 * copy followed by an 8-byte load stalls on store forwarding, which cost
 * more than the rest of the hash. The length is mixed in, so overlapping
 * reads cannot make two keys of different lengths collide. */
static inline uint64_t s_hash(uint32_t state, uint8_t tag, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    uint64_t h = ((uint64_t) state << 8 | tag) ^ (len * 0x9e3779b97f4a7c15ULL);
    if (len <= 16) {
        /* Most keys: two (overlapping) words, two rounds and a short
         * finish, no loop. */
        uint64_t a, b;
        if (len >= 8) {
            memcpy(&a, p, 8);
            memcpy(&b, p + len - 8, 8);
        } else if (len >= 4) {
            uint32_t lo, hi;
            memcpy(&lo, p, 4);
            memcpy(&hi, p + len - 4, 4);
            a = lo;
            b = hi;
        } else {
            a = len ? (uint64_t) p[0] << 16 | (uint64_t) p[len >> 1] << 8 | p[len - 1] : 0;
            b = 0;
        }
        h = (h ^ a) * 0x9fb21c651e98df25ULL;
        h ^= h >> 29;
        h = (h ^ b) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        h *= 0xc4ceb9fe1a85ec53ULL;
        h ^= h >> 29;
        return h ? h : 1;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w;
        if (len >= 4) {
            uint32_t lo, hi;
            memcpy(&lo, p, 4);
            memcpy(&hi, p + len - 4, 4);
            w = (uint64_t) hi << 32 | lo;
        } else {
            w = (uint64_t) p[0] << 16 | (uint64_t) p[len >> 1] << 8 | p[len - 1];
        }
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
    }
    h = s_mix(h);
    return h ? h : 1;
}

static inline uint32_t s_tag(uint64_t hash)
{
    return (uint32_t) (hash >> 32) | 1u;
}

void mt_hmap_free(mt_hmap_t *map)
{
    for (uint32_t i = 0; i < map->n_entries; i++) {
        free(map->entries[i].key);
        free(map->entries[i].vals);
    }
    free(map->entries);
    free(map->free_entries);
    free(map->slots);
    memset(map, 0, sizeof *map);
}

static bool s_eq(const mt_hentry_t *e, uint64_t hash, uint32_t state, uint8_t tag, const void *bytes,
                 size_t len)
{
    return e->hash == hash && e->state == state && e->klen == len + 1 && (uint8_t) e->key[0] == tag &&
           mt_bytes_eq(e->key + 1, bytes, len);
}

/* Slot index holding (state, tag, bytes), or SIZE_MAX. The probe loop of
 * every lookup, add and remove; inline, so that mt_hmap_find(), run for
 * every probe while matching, is one call whose miss is a slot load or
 * two. */
static MT_ALWAYS_INLINE size_t s_slot_of(const mt_hmap_t *map, uint64_t hash, uint32_t state, uint8_t tag,
                                         const void *bytes, size_t len)
{
    if (map->cap == 0)
        return SIZE_MAX;
    size_t mask = map->cap - 1;
    uint32_t t = s_tag(hash);
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const mt_hslot_t *s = &map->slots[i];
        if (s->tag == 0)
            return SIZE_MAX;
        if (s->tag == t && s_eq(&map->entries[s->entry], hash, state, tag, bytes, len))
            return i;
    }
}

const mt_hentry_t *mt_hmap_find(const mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len)
{
    if (map->cap == 0)
        return NULL; /* a table that never held a key: not worth hashing for */
    size_t i = s_slot_of(map, s_hash(state, tag, bytes, len), state, tag, bytes, len);
    return i == SIZE_MAX ? NULL : &map->entries[map->slots[i].entry];
}

static void s_place(mt_hslot_t *slots, size_t cap, uint64_t hash, uint32_t entry)
{
    size_t mask = cap - 1;
    size_t j = hash & mask;
    while (slots[j].tag)
        j = (j + 1) & mask;
    slots[j].tag = s_tag(hash);
    slots[j].entry = entry;
}

static int s_grow(mt_hmap_t *map)
{
    size_t cap = map->cap ? map->cap * 2 : 64;
    mt_hslot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < map->cap; i++)
        if (map->slots[i].tag)
            s_place(slots, cap, map->entries[map->slots[i].entry].hash, map->slots[i].entry);
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
    return 0;
}

/* A free entry index (from the free list, or a new one), or UINT32_MAX. */
static uint32_t s_entry_alloc(mt_hmap_t *map)
{
    if (map->n_free > 0)
        return map->free_entries[--map->n_free];
    if (map->n_entries == map->cap_entries) {
        uint32_t cap = map->cap_entries ? map->cap_entries * 2 : 32;
        mt_hentry_t *v = realloc(map->entries, cap * sizeof *v);
        if (!v)
            return UINT32_MAX;
        map->entries = v;
        map->cap_entries = cap;
    }
    return map->n_entries++;
}

int mt_hmap_add(mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len,
                uint32_t val)
{
    if (len >= UINT32_MAX)
        return -1;
    uint64_t hash = s_hash(state, tag, bytes, len);
    size_t i = s_slot_of(map, hash, state, tag, bytes, len);
    if (i != SIZE_MAX) {
        mt_hentry_t *e = &map->entries[map->slots[i].entry];
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
    if ((map->count + 1) * 2 > map->cap && s_grow(map) != 0)
        return -1;
    /* make sure a free-list push on removal can never fail */
    if (map->cap_free < map->n_entries + 1) {
        uint32_t cap = map->cap_free ? map->cap_free * 2 : 32;
        while (cap < map->n_entries + 1)
            cap *= 2;
        uint32_t *f = realloc(map->free_entries, cap * sizeof *f);
        if (!f)
            return -1;
        map->free_entries = f;
        map->cap_free = cap;
    }
    char *key = malloc(len + 1);
    uint32_t *vals = malloc(sizeof *vals);
    uint32_t ei = key && vals ? s_entry_alloc(map) : UINT32_MAX;
    if (ei == UINT32_MAX) {
        free(key);
        free(vals);
        return -1;
    }
    key[0] = (char) tag;
    memcpy(key + 1, bytes, len);
    mt_hentry_t *e = &map->entries[ei];
    e->hash = hash;
    e->state = state;
    e->klen = (uint32_t) len + 1;
    e->key = key;
    e->vals = vals;
    e->vals[0] = val;
    e->n_vals = 1;
    e->cap_vals = 1;
    s_place(map->slots, map->cap, hash, ei);
    map->count++;
    map->bytes += len + 1 + sizeof *vals;
    return 0;
}

bool mt_hmap_remove(mt_hmap_t *map, uint32_t state, uint8_t tag, const void *bytes, size_t len,
                    uint32_t val)
{
    uint64_t hash = s_hash(state, tag, bytes, len);
    size_t i = s_slot_of(map, hash, state, tag, bytes, len);
    if (i == SIZE_MAX)
        return false;
    uint32_t ei = map->slots[i].entry;
    mt_hentry_t *e = &map->entries[ei];
    uint32_t k = 0;
    while (k < e->n_vals && e->vals[k] != val)
        k++;
    if (k == e->n_vals)
        return false;
    e->vals[k] = e->vals[--e->n_vals];
    if (e->n_vals > 0)
        return true;
    map->bytes -= e->klen + e->cap_vals * sizeof *e->vals;
    free(e->key);
    free(e->vals);
    memset(e, 0, sizeof *e);
    map->free_entries[map->n_free++] = ei; /* room reserved in mt_hmap_add */
    map->count--;
    /* Backward shift: pull later members of the probe run into the hole
     * when their home slot is at or before it. */
    size_t mask = map->cap - 1;
    size_t hole = i;
    map->slots[hole].tag = 0;
    for (size_t j = (i + 1) & mask; map->slots[j].tag; j = (j + 1) & mask) {
        size_t home = map->entries[map->slots[j].entry].hash & mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            map->slots[hole] = map->slots[j];
            map->slots[j].tag = 0;
            hole = j;
        }
    }
    return true;
}
