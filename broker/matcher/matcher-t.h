/*
 * matcher-t.h — internal types of the matcher (no prototypes; see
 * matcher_int.h). Kept apart so every file can include the types without
 * dragging in each other's functions.
 *
 * Shape of the automaton
 *   states      one per distinct field path some rule names ("detail" ->
 *               "detail.state"); state 0 is the event's top level.
 *               Transitions live in their own hash table keyed
 *               (parent, 'K', name).
 *   value index each state's "byte machine": exact values (strings, numbers
 *               as 8-byte order-preserving keys, true/false/null, folded
 *               strings for equals-ignore-case) and prefixes/suffixes live in
 *               one hash table keyed (state, tag, bytes); a
 *               prefix/suffix lookup probes only the distinct lengths in use
 *               at that state. Of the matchers that cannot be hashed, numeric
 *               ranges sit in a treap, wildcards with inner stars are hashed
 *               by a fixed end, `*...*` by a 4-byte window of a segment
 *               (only those without one, and exists, stay in a per-state
 *               list); anything-but is indexed inversely: a
 *               per-state list of the alternatives that fire by default and
 *               hash keys for the values that cancel them.
 *   conditions  one per pattern leaf (path + its list of alternatives); a
 *               hit on any alternative is a hit on the condition.
 *   subrules    one per $or expansion of a rule: an AND of conditions.
 */
#ifndef ZB_MATCHER_T_H
#define ZB_MATCHER_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher.h"

#define MT_NONE UINT32_MAX
#define MT_FEW_CHILDREN 6
#define MT_FEW_SLOTS 8
#define MT_MANY_CHILDREN UINT8_MAX
/* Deepest event nesting read (objects + arrays). */
#define MT_MAX_DEPTH 64
/* Position comparisons one event may spend on array consistency. Ordinary
 * events use a few per hit; only an event built to make the search
 * combinatorial (several large arrays against one rule with exists:false)
 * reaches it, and is then refused rather than allowed to stall the
 * matcher. About 10 ms of work on this machine. */
#define MT_SEARCH_BUDGET 16000000
/* Value bytes one event may run through wildcard checks that no index
 * narrows (wildcards with inner stars, anything-but wildcards with inner
 * stars): each check costs the value's length plus one. A check is linear
 * (a few ns per byte), so this is at most a few tens of milliseconds; an
 * event beyond it (a huge array of long strings against many such
 * wildcards) is refused rather than allowed to stall the matcher. */
#define MT_GLOB_BUDGET (8u * 1024 * 1024)
/* At most this many excluded values at a state are compared one by one
 * rather than probed: a couple of comparisons cost less than a hash probe,
 * and the bound keeps the cost independent of the lists' lengths. */
#define MT_AB_LINEAR 4
/* Values of a state's first anything-but entry looked at for one that
 * every entry excludes (mt_state_t.ab_all): a bound on the work each
 * change of the state does for it. */
#define MT_AB_ALL_SCAN 16
/* Anything-but entries one event may visit (cancelled or fired, about a
 * nanosecond each): a value costs one visit per anything-but rule on its
 * field, so a huge array against a huge number of such rules is refused
 * after some tens of milliseconds instead of stalling the matcher. 100
 * rules against 200,000 array elements use 40 million of it. */
#define MT_AB_BUDGET (64u * 1024 * 1024)

/* Hash key tags: the first byte of every key in the global table. */
enum {
    MT_TAG_FIELD = 'K',    /* field transition: (parent state, name) */
    MT_TAG_RULE = 'R',     /* rule id -> rule slot */
    MT_TAG_STR = 'S',      /* exact string */
    MT_TAG_NUM = 'N',      /* exact number, 8-byte key */
    MT_TAG_TRUE = 'T',
    MT_TAG_FALSE = 'F',
    MT_TAG_NULL = 'Z',
    MT_TAG_EIC = 'I',      /* equals-ignore-case, folded */
    MT_TAG_PREFIX = 'P',
    MT_TAG_SUFFIX = 'X',
    MT_TAG_PREFIX_EIC = 'p',
    MT_TAG_SUFFIX_EIC = 'x',
    MT_TAG_CIDR = 'C',     /* family, mask length, 16-byte network */
    /* Excluded values of anything-but: bytes -> anything-but entries
     * (mt_abent_t ids) that the value cancels. */
    MT_TAG_AB_STR = 'a',
    MT_TAG_AB_NUM = 'n',
    MT_TAG_AB_EIC = 'e',
    MT_TAG_AB_PREFIX = 'b',
    MT_TAG_AB_SUFFIX = 'y',
    /* Wildcards with inner stars by their fixed ends: leading literal ->
     * mt_wcent_t ids (or trailing literal when the glob starts with a
     * star); only these candidates run the full check. */
    MT_TAG_WC_PREFIX = 'w',
    MT_TAG_WC_SUFFIX = 'v',
    /* Wildcards open at both ends (*...*) by one 4-byte window of a
     * literal segment: every value that matches holds those 4 bytes. */
    MT_TAG_WC_GRAM = 'g',
};

/* Bytes of an MT_TAG_WC_GRAM key, and buckets of a state's gram filter
 * (a count per bucket, so a value's windows skip the hash probe unless
 * some wildcard's gram falls in their bucket). */
#define MT_GRAM 4
#define MT_GRAM_BUCKETS 1024
/* A *...* wildcard is indexed under up to this many consecutive windows
 * of one segment; a value then need only be probed at every k-th
 * position, k the fewest any wildcard at the state has. */
#define MT_GRAM_RUN 4
/* But a wildcard under a run is a candidate for every value holding any
 * of its grams, not only its rarest one: runs are for states with fewer
 * *...* wildcards than this (where checking them all would cost about as
 * much). When a state reaches it, every one moves to its least shared
 * single gram and values are probed at every window again, so 10,000
 * "*order N*" rules stay a check or so per value, not thousands. */
#define MT_GRAM_RUN_MAX 16

/* Buckets of a state's key filter (see mt_state_t.key_bits). */
#define MT_KEY_BUCKETS 256

/* How one anything-but wildcard value is indexed. */
enum {
    MT_SHAPE_EXACT = 0,    /* no star: an excluded string */
    MT_SHAPE_PREFIX,       /* lit*: an excluded prefix ("*" is the empty one) */
    MT_SHAPE_SUFFIX,       /* *lit */
    MT_SHAPE_INNER,        /* anything else: checked with its glob */
};

typedef enum mt_kind {
    /* hashed */
    MT_K_HASHED = 1,       /* tag + bytes say it all */
    /* per-state list (wildcard, exists) or tree (range) */
    MT_K_WILDCARD,         /* glob with inner stars (escapes kept) */
    MT_K_RANGE,            /* numeric range */
    MT_K_EXISTS_TRUE,
    MT_K_EXISTS_FALSE,     /* not installed anywhere: makes the cond absent_ok */
    /* anything-but: inversely indexed (automaton.c) */
    MT_K_AB_STR,           /* anything-but: list of strings */
    MT_K_AB_NUM,           /* anything-but: list of numbers */
    MT_K_AB_PREFIX,
    MT_K_AB_SUFFIX,
    MT_K_AB_EIC,           /* folded strings */
    MT_K_AB_WILDCARD,
} mt_kind_t;

/* A compiled wildcard: the literal segments between stars, each with its
 * KMP failure table, so matching is linear in the value (wildcard.c). */
typedef struct mt_glob {
    bool lead, trail;      /* starts / ends with a star */
    bool exact;            /* no star at all */
    uint32_t nseg;
    uint32_t *off, *len;   /* segment i: lit[off[i] .. off[i]+len[i]) */
    uint32_t *fail;        /* failure function, indexed like lit */
    char *lit;
    size_t bytes;          /* size of the single allocation */
} mt_glob_t;

/* One alternative of a pattern leaf. */
typedef struct mt_alt {
    mt_kind_t kind;
    uint8_t tag;           /* MT_K_HASHED: key tag */
    char *bytes;           /* HASHED/WILDCARD: key bytes or glob text */
    uint32_t len;
    mt_glob_t *glob;       /* MT_K_WILDCARD */
    mt_glob_t **globs;     /* MT_K_AB_WILDCARD: one per MT_SHAPE_INNER entry, else NULL */
    uint8_t *shape;        /* MT_K_AB_WILDCARD: MT_SHAPE_* per entry */
    uint32_t n_inner;      /* MT_K_AB_WILDCARD: entries with a glob */
    uint32_t ent;          /* MT_K_AB_*: its mt_abent_t, MT_K_WILDCARD indexed by
                            * an end: its mt_wcent_t, while installed */
    /* MT_K_RANGE */
    double lo, hi;
    bool has_lo, has_hi, lo_incl, hi_incl;
    /* cidr (hashed, tag C): bytes = family + network; bits = mask */
    uint8_t family;        /* 4 or 6 */
    uint8_t bits;          /* prefix length in the 16-byte form */
    uint8_t net[16];
    /* MT_K_AB_*: the excluded values (AB_WILDCARD: the unescaped literal
     * for EXACT/PREFIX/SUFFIX shapes, the glob text for INNER ones) */
    uint32_t n_list;
    char **list;
    uint32_t *list_len;
    double *nums;
} mt_alt_t;

/* One leaf of a pattern: a field path and its alternatives. */
typedef struct mt_leaf {
    char **path;           /* segments (NUL-terminated, may hold NULs: see path_len) */
    uint32_t *path_len;
    uint32_t depth;
    mt_alt_t *alts;
    uint32_t n_alts;
    bool absent_ok;        /* has exists:false */
    bool has_positive;     /* has anything but exists:false */
} mt_leaf_t;

/* A parsed, validated pattern: leaves and the $or expansion over them. */
typedef struct mt_pattern {
    uint32_t refs;         /* owners in a matcher: its rule, and every
                            * condition installed from one of its leaves */
    mt_leaf_t *leaves;
    uint32_t n_leaves;
    uint32_t **conjs;      /* each: leaf indexes of one AND */
    uint32_t *conj_len;
    uint32_t n_conjs;
} mt_pattern_t;

/* ---- global hash table --------------------------------------------------- */

typedef struct mt_hentry {
    uint64_t hash;         /* full hash; 0 marks a free entry */
    uint32_t state;
    uint32_t klen;         /* bytes of key (tag included) */
    char *key;             /* tag + bytes */
    uint32_t *vals;        /* condition ids, child state, or rule slot */
    uint32_t n_vals, cap_vals;
} mt_hentry_t;

/* Open-addressing slot: 8 bytes, so the probed array stays small enough
 * for the caches with 100,000 keys; the entry is read only when the
 * 32-bit tag agrees. */
typedef struct mt_hslot {
    uint32_t tag;          /* high hash bits | 1; 0 marks an empty slot */
    uint32_t entry;        /* index into entries */
} mt_hslot_t;

typedef struct mt_hmap {
    mt_hslot_t *slots;
    size_t cap;            /* slots, a power of two */
    size_t count;          /* live entries */
    mt_hentry_t *entries;
    uint32_t n_entries, cap_entries;
    uint32_t *free_entries;
    uint32_t n_free, cap_free;
    size_t bytes;          /* heap held by keys and value vectors */
} mt_hmap_t;

/* ---- states --------------------------------------------------------------- */

typedef struct mt_lenent {
    uint32_t len;
    uint32_t count;        /* how many installed keys have this length */
} mt_lenent_t;

typedef struct mt_lenset {
    mt_lenent_t *v;        /* sorted by len */
    uint32_t n, cap;
} mt_lenset_t;

/* Interval treap of a state's numeric ranges (numrange.c). */
typedef struct mt_rnode mt_rnode_t;

typedef struct mt_slow {
    uint32_t cond;
    const mt_alt_t *alt;   /* owned by the rule's pattern */
} mt_slow_t;

/* One anything-but alternative installed at a state. */
typedef struct mt_abent {
    bool in_use;
    bool on_num;           /* in the state's ab_num list, else ab_str */
    uint32_t state;
    uint32_t pos;          /* index in that list */
} mt_abent_t;

/* A wildcard with inner stars indexed by one of its fixed ends, or by a
 * run of windows of a literal segment (grams) when both ends are stars. */
typedef struct mt_wcent {
    bool in_use;
    uint32_t cond;
    const mt_glob_t *glob;
    /* The run of consecutive windows it is indexed under (MT_TAG_WC_GRAM
     * keys at run + 0 .. run + n_grams - 1), chosen when installed. */
    char run[MT_GRAM + MT_GRAM_RUN - 1];
    uint8_t n_grams;
    /* The other gram-indexed ones of its state (mt_state_t.wc_grams):
     * ids + 1, 0 at the ends. */
    uint32_t prev, next;
} mt_wcent_t;

/* A state's reference to an entry: what the per-value loop needs without
 * touching the entry itself. */
typedef struct mt_abref {
    uint32_t ent;          /* mt_abent_t id */
    uint32_t cond;
    const mt_alt_t *alt;
    bool inner;            /* AB_WILDCARD with glob-checked values */
} mt_abref_t;

typedef struct mt_state {
    bool in_use;
    uint32_t parent;
    char *name;            /* segment leading here from parent */
    uint32_t name_len;
    uint32_t refs;         /* child states + conditions on this state */
    uint32_t n_children;
    /* Children by name length (len % 32): a key whose length no child has
     * is skipped without hashing it. */
    uint32_t child_len_bits;
    uint16_t child_len_count[32];
    /* Most states have a handful of children: up to MT_FEW_CHILDREN are
     * also listed here and found by comparing names, cheaper than hashing
     * the key. few_n is MT_MANY_CHILDREN once there were more (the fields
     * table alone serves then). */
    uint8_t few_n;
    /* The listed children by mt_few_slot() of their name: few[i - 1] for
     * i the first of a chain linked by `next` (0 ends it), so an event's
     * key is compared with about one name, not with each in turn. */
    uint8_t few_slot[MT_FEW_SLOTS];
    struct mt_few {
        uint64_t head;     /* mt_name_head() of the name */
        uint32_t len;
        uint32_t state;
        const char *name;  /* the child's own name */
        uint8_t next;
    } few[MT_FEW_CHILDREN];
    uint32_t n_hashed;     /* installed hashed alternatives (tags S N T F Z) */
    uint32_t n_eic;        /* installed MT_TAG_EIC alternatives */
    uint32_t n_absent;     /* conditions here that accept absence */
    mt_lenset_t pfx, sfx, pfx_eic, sfx_eic;
    mt_lenset_t cidr;      /* distinct mask lengths (16-byte form) */
    mt_rnode_t *ranges;    /* numeric ranges */
    uint32_t n_ranges;
    mt_slow_t *slow;
    uint32_t n_slow, cap_slow;
    /* anything-but: the entries that fire on strings (every kind but
     * AB_NUM) and on numbers (AB_NUM) unless a value excludes them; every
     * one fires on a value of another type */
    mt_abref_t *ab_str, *ab_num;
    uint32_t n_ab_str, cap_ab_str, n_ab_num, cap_ab_num;
    /* installed exclusion keys per tag, and probed lengths of the
     * excluded prefixes/suffixes */
    uint32_t n_abx_str, n_abx_num, n_abx_eic;
    uint32_t n_abx_keys;   /* all exclusion keys (see MT_AB_LINEAR) */
    mt_lenset_t ab_pfx, ab_sfx;
    /* probed lengths of the wildcards' leading / trailing literals */
    mt_lenset_t wc_pfx, wc_sfx;
    /* *...* wildcards indexed by grams, how many of them have a run of k
     * grams (wc_run_cnt[k]), and how many grams fall in each bucket of
     * mt_gram_bucket() (NULL until the first one) */
    uint32_t n_wc_gram;
    uint32_t wc_run_cnt[MT_GRAM_RUN + 1];
    uint32_t *wc_gram_cnt;
    /* Those wildcards, linked through their mt_wcent_t (first id + 1, 0
     * when none), so that moving them off their runs visits them alone. */
    uint32_t wc_grams;
    /* The buckets (mt_key_bucket(): tag, length, first and last byte) of
     * the keys this state holds in the value index, as bits, and how many
     * keys fall in each, saturating (NULL until the first): a probe whose
     * bucket is empty cannot hit and skips the hash. */
    uint64_t key_bits[MT_KEY_BUCKETS / 64];
    uint8_t *key_cnt;
    uint32_t ops;          /* MT_OP_* of the matchers here (mt_state_refresh());
                            * 0: no value matters here */
    /* A string every entry of ab_str excludes (the common `"anything-but":
     * "X"` of many rules on one field), when the first entry's first
     * MT_AB_ALL_SCAN values hold one: a value equal to it cancels them
     * all with one comparison instead of a probe. Points into that
     * entry's pattern, NULL when there is none; kept by
     * mt_state_refresh(). */
    const char *ab_all;
    uint32_t ab_all_len;
} mt_state_t;

/* What a state holds, as one word the per-value code tests bit by bit
 * instead of reading a dozen counts; kept by mt_state_refresh(). */
enum {
    MT_OP_ABSENT = 1u << 0, /* n_absent */
    MT_OP_HASHED = 1u << 1, /* n_hashed */
    MT_OP_AFFIX = 1u << 2,  /* pfx, sfx */
    MT_OP_CIDR = 1u << 3,
    MT_OP_FOLD = 1u << 4,   /* n_eic, pfx_eic, sfx_eic, n_abx_eic */
    MT_OP_AB = 1u << 5,     /* n_ab_str, n_ab_num */
    MT_OP_WC = 1u << 6,     /* wc_pfx, wc_sfx, n_wc_gram */
    MT_OP_SLOW = 1u << 7,   /* n_slow */
    MT_OP_RANGE = 1u << 8,  /* ranges */
};

/* A subrule as its trigger condition lists it. Most subrules looked at
 * after their trigger is hit fail for want of another required condition;
 * `check` is the one of those least likely to be hit, so the usual miss
 * costs one stamp load without touching the subrule itself. */
typedef struct mt_trig {
    uint32_t sub;
    uint32_t check;        /* another required condition, or the trigger
                            * itself when it is the only one */
} mt_trig_t;

typedef struct mt_cond {
    bool in_use;
    bool absent_ok;
    bool has_positive;
    /* Some subrule of it has other conditions, so every hit's position
     * matters; otherwise the first hit of an event is enough. */
    bool positions;
    uint32_t state;
    /* Rules whose patterns have this very leaf (same path, same
     * alternatives) share the condition: a value they all name is one hit,
     * not one per rule. */
    uint32_t refs;         /* leaves of installed rules using it */
    mt_pattern_t *pat;     /* the pattern whose leaf was installed (a
                            * reference: it outlives its rule if need be) */
    uint32_t leaf;         /* that leaf's index in pat */
    uint32_t n_installed;  /* alternatives installed so far */
    mt_trig_t *subs;       /* subrules it is the trigger of */
    uint32_t n_subs, cap_subs;
} mt_cond_t;

typedef struct mt_sub {
    bool in_use;
    uint32_t rule;
    uint32_t *conds;       /* required (positive) ones first */
    uint32_t n_conds;
    uint32_t n_req;
    uint32_t always_pos;   /* index in matcher->always, or MT_NONE */
} mt_sub_t;

typedef struct mt_rule {
    bool in_use;
    uint64_t id;
    mt_pattern_t *pat;
    uint32_t *conds;       /* one per leaf */
    uint32_t *subs;        /* one per conj */
} mt_rule_t;

/* A growable table of fixed-size records with a free list of slots. */
typedef struct mt_table {
    void *v;
    uint32_t n;            /* high-water mark */
    uint32_t cap;
    uint32_t *free;        /* reusable slots */
    uint32_t n_free, cap_free;
    size_t elem;
} mt_table_t;

struct zb_matcher {
    mt_hmap_t map;         /* value index of every state */
    mt_hmap_t fields;      /* field transitions: small, so it stays in cache
                            * however large the value index grows */
    mt_hmap_t ids;         /* rule id -> rule slot */
    mt_table_t states;     /* mt_state_t */
    mt_table_t conds;      /* mt_cond_t */
    mt_table_t subs;       /* mt_sub_t */
    mt_table_t rules;      /* mt_rule_t */
    mt_table_t abents;     /* mt_abent_t */
    mt_table_t wcents;     /* mt_wcent_t */
    uint32_t *always;      /* subrules with no required condition */
    uint32_t n_always, cap_always;
    size_t n_rules;
    size_t pattern_bytes;  /* heap held by compiled patterns */
    uint32_t prio_seed;    /* treap priorities */
};

/* ---- matching ------------------------------------------------------------- */

/* One (array, element index) pair of a value's position. */
typedef struct mt_mem {
    uint32_t array;
    uint32_t index;
} mt_mem_t;

/* A hit: a condition (or a presence) seen at one position. */
typedef struct mt_occ {
    uint32_t next;         /* next occurrence of the same condition/state */
    uint32_t mem_off;      /* position: pool[mem_off .. mem_off+mem_len) */
    uint32_t mem_len;
} mt_occ_t;

typedef enum mt_vtype {
    MT_V_STR = 1,
    MT_V_NUM,
    MT_V_TRUE,
    MT_V_FALSE,
    MT_V_NULL,
    MT_V_OTHER,            /* msgpack bin/ext: present, matches nothing typed */
} mt_vtype_t;

typedef struct mt_value {
    mt_vtype_t type;
    const char *s;
    size_t len;
    double num;
} mt_value_t;

struct zb_match_ctx {
    const zb_matcher_t *m;
    uint32_t gen;
    uint32_t value_seq;
    /* position of the value being read */
    mt_mem_t *stack;
    uint32_t n_stack, cap_stack;
    uint32_t next_array;
    int depth;
    /* snapshot of positions for the event */
    mt_mem_t *pool;
    uint32_t n_pool, cap_pool;
    uint32_t cur_mem_off;  /* snapshot of the current value, or MT_NONE */
    mt_occ_t *occ;
    uint32_t n_occ, cap_occ;
    /* per condition */
    uint32_t *cond_head, *cond_stamp, *cond_vstamp;
    uint32_t cap_cond;
    /* per anything-but entry: value_seq of the value that excluded it */
    uint32_t *ab_stamp;
    uint32_t ab_excluded;  /* entries the current value excluded */
    uint32_t cap_ab;
    /* per indexed wildcard: value_seq of the value it was last checked on
     * (a gram can occur many times in one value; one check is enough) */
    uint32_t *wc_stamp;
    uint32_t cap_wc;
    uint32_t *touched;
    uint32_t n_touched, cap_touched;
    /* per state: presence of any leaf value (for exists:false) */
    uint32_t *state_head, *state_stamp;
    uint32_t cap_state;
    /* per rule */
    uint32_t *cands;
    uint32_t n_cands, cap_cands;
    uint32_t *rule_stamp;
    uint32_t cap_rule;
    uint64_t *ids;
    uint32_t n_ids, cap_ids;
    /* search */
    uint32_t *chosen;
    uint8_t *lvl_skip;     /* per level: an unshared hit already failed */
    uint32_t cap_chosen;
    /* per array of the event, for one search (see s_mark_shared) */
    uint32_t *arr_stamp, *arr_owner, *arr_shared;
    uint32_t cap_arr;
    uint32_t search_stamp;
    /* scratch text */
    char *text;            /* unescaped JSON strings */
    size_t cap_text;
    char *fold;            /* case-folded value */
    size_t cap_fold;
    bool oom;
    /* Array-consistency search work left for this event (see match.c). */
    uint64_t budget;
    bool too_complex;
    /* Wildcard check bytes and anything-but visits left for this event
     * (MT_GLOB_BUDGET, MT_AB_BUDGET). */
    uint64_t glob_budget, ab_budget;
    bool values_spent;     /* too_complex because of one of them */
};

#endif
