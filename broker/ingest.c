/*
 * ingest.c — validate, envelope, match, commit, fan out. See ingest.h.
 */
#include "ingest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "handlers.h"
#include "json.h"
#include "metrics.h"
#include "outbox.h"
#include "target.h"

/* ==== validation ================================================================== */

/* A word whose 0x80 bits are set only when a byte of s[0..n) is not
 * ASCII (S_HIGH masks them): the one ASCII test of this file. Event text
 * is mostly ASCII, and ASCII needs no decoding to be UTF-8. Bytes after
 * the string up to `end` may be loaded but are masked off, so a string of
 * up to 8 bytes (most keys and many values) costs one load and one mask;
 * callers that test many strings mask once, at the end. */
#define S_HIGH 0x8080808080808080ull

static inline uint64_t s_high_bits(const uint8_t *s, size_t n, const uint8_t *end)
{
    static const uint8_t keep[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint64_t w, acc = 0;
    if (n <= 8 && (size_t) (end - s) >= 8) {
        uint64_t mask;
        memcpy(&w, s, 8);
        memcpy(&mask, keep + 8 - n, 8); /* n bytes of 0xff first */
        return w & mask;
    }
    if (n >= 8) {
        /* Whole words, then the last 8 bytes (overlapping is harmless). */
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            acc |= w;
        }
        memcpy(&w, s + n - 8, 8);
        return acc | w;
    }
    for (size_t i = 0; i < n; i++) /* short, at the very end of the buffer */
        acc |= s[i];
    return acc;
}

/* s[0..n) is UTF-8: decoded only when it is not all ASCII. */
static inline bool s_utf8(const uint8_t *s, size_t n, const uint8_t *end)
{
    return !(s_high_bits(s, n, end) & S_HIGH) || zb_utf8_valid((const char *) s, n);
}

/* A string's bytes in the Detail walk: checked as UTF-8 at once when
 * `high` is NULL, else only collected in *high, whose 0x80 bits say
 * whether any was not ASCII (the caller masks them once, at the end). */
static inline bool s_text(const uint8_t *s, size_t n, const uint8_t *end, uint64_t *high)
{
    if (!high)
        return s_utf8(s, n, end);
    *high |= s_high_bits(s, n, end);
    return true;
}

/* What the Detail walk does with an item, by its first byte: the common
 * kinds are handled in line, the rest (D_OTHER) through zb_mpk_read. */
enum { D_OTHER, D_FIXSTR, D_SCALAR, D_STR8, D_FLOAT64, D_FIXMAP, D_FIXARRAY };

static const uint8_t s_dkind[256] = {
#define R8(k) k, k, k, k, k, k, k, k
#define R16(k) R8(k), R8(k)
    R16(D_SCALAR), R16(D_SCALAR), R16(D_SCALAR), R16(D_SCALAR),       /* 0x00-0x3f fixint */
    R16(D_SCALAR), R16(D_SCALAR), R16(D_SCALAR), R16(D_SCALAR),       /* 0x40-0x7f fixint */
    R16(D_FIXMAP), R16(D_FIXARRAY), R16(D_FIXSTR), R16(D_FIXSTR),     /* 0x80-0xbf */
    D_SCALAR, D_OTHER, D_SCALAR, D_SCALAR,                            /* nil, 0xc1, bools */
    D_OTHER, D_OTHER, D_OTHER, D_OTHER, D_OTHER, D_OTHER,             /* bin, ext */
    D_OTHER, D_FLOAT64,                                               /* float 32, 64 */
    R8(D_SCALAR),                                                     /* 0xcc-0xd3 ints */
    D_OTHER, D_OTHER, D_OTHER, D_OTHER, D_OTHER,                      /* fixext */
    D_STR8, D_OTHER, D_OTHER, D_OTHER, D_OTHER, D_OTHER, D_OTHER,     /* str, array, map */
    R16(D_SCALAR), R16(D_SCALAR),                                     /* 0xe0-0xff fixint */
#undef R16
#undef R8
};

/* Walks the detail map at the cursor, checking everything but, when
 * `high` is not NULL, the strings' UTF-8 (see s_check_detail); on
 * success leaves the cursor after it (on failure the cursor is somewhere
 * inside). Success means a complete value, nested at most
 * ZB_DETAIL_MAX_DEPTH levels (empty containers count). Always inlined, so
 * that each of its two callers gets a copy with `high` a constant. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int s_walk_detail(zb_mpk_t *cur, uint64_t *high)
{
    const uint8_t *p, *end = cur->end;
    zb_mpk_t c = *cur;
    zb_mpk_item_t it;
    uint32_t pairs;
    if (zb_mpk_read_map(&c, &pairs) == -1)
        return -1;
    uint32_t left = pairs; /* not &left above: kept in a register */
    p = c.p;
    /* The current level's count of entries left (pairs for a map, items
     * for an array) and kind; the enclosing levels' wait on an explicit
     * stack, so hostile nesting cannot exhaust the C stack. */
    bool is_map = true;
    uint32_t saved_left[ZB_DETAIL_MAX_DEPTH];
    bool saved_map[ZB_DETAIL_MAX_DEPTH];
    int depth = 0;
    for (;;) {
        if (left == 0) {
            if (depth == 0)
                break;
            depth--;
            left = saved_left[depth];
            is_map = saved_map[depth];
            continue;
        }
        left--;
        /* Most keys, and many values, are fixstrs of at most 8 bytes, and
         * most items are not within 9 bytes of the end: for those, one
         * test of the room left covers the string's bounds and the 8-byte
         * load of its text, and one subtraction tells the kind. */
        if (is_map && (size_t) (end - p) >= 9 && (uint8_t) (*p - 0xa0) <= 8) {
            size_t n = (uint8_t) (*p - 0xa0);
            if (!s_text(p + 1, n, p + 9, high))
                return -1;
            p += 1 + n;
        }
        else if (is_map) {
            /* The key: a UTF-8 string. */
            if (p < end && (*p & 0xe0) == 0xa0) {
                size_t n = *p & 0x1f;
                if ((size_t) (end - p - 1) < n || !s_text(p + 1, n, end, high))
                    return -1;
                p += 1 + n;
            }
            else {
                c.p = p;
                if (zb_mpk_read(&c, &it) == -1 || it.type != ZB_MPK_STR
                    || !s_text(it.v.raw.ptr, it.v.raw.len, end, high))
                    return -1;
                p = c.p;
            }
        }
        if (p >= end)
            return -1;
        uint8_t b = *p;
        size_t avail = (size_t) (end - p), n;
        if (b < 0x80) { /* a positive fixint: the whole item */
            p++;
            continue;
        }
        if (avail >= 9) {
            /* Room for any scalar, and for a short fixstr as for keys. */
            if ((uint8_t) (b - 0xa0) <= 8) {
                n = (uint8_t) (b - 0xa0);
                if (!s_text(p + 1, n, p + 9, high))
                    return -1;
                p += 1 + n;
                continue;
            }
            if ((uint8_t) (b - 0xcc) <= 0xd3 - 0xcc) { /* uint 8 .. int 64 */
                p += zb_mpk__item_size[b];
                continue;
            }
        }
        uint32_t count;
        bool map;
        switch (s_dkind[b]) {
        case D_FIXSTR:
            n = b & 0x1f;
            if (avail - 1 < n || !s_text(p + 1, n, end, high))
                return -1;
            p += 1 + n;
            continue;
        case D_SCALAR:
            n = zb_mpk__item_size[b]; /* the whole item: its first byte tells */
            if (avail < n)
                return -1;
            p += n;
            continue;
        case D_STR8:
            if (avail < 2 || avail - 2 < p[1] || !s_text(p + 2, p[1], end, high))
                return -1;
            p += 2 + p[1];
            continue;
        case D_FLOAT64:
            /* A double is finite unless its 11 exponent bits are all set. */
            if (avail < 9 || ((p[1] & 0x7f) == 0x7f && (p[2] & 0xf0) == 0xf0))
                return -1;
            p += 9;
            continue;
        case D_FIXMAP:
        case D_FIXARRAY:
            map = s_dkind[b] == D_FIXMAP;
            count = b & 0x0f;
            p++;
            break;
        default:
            c.p = p;
            if (zb_mpk_read(&c, &it) == -1)
                return -1;
            p = c.p;
            switch (it.type) {
            case ZB_MPK_STR:
                if (!s_text(it.v.raw.ptr, it.v.raw.len, end, high))
                    return -1;
                continue;
            case ZB_MPK_FLOAT:
                if (!isfinite(it.v.f))
                    return -1;
                continue;
            case ZB_MPK_BIN:
            case ZB_MPK_EXT:
                return -1;
            case ZB_MPK_ARRAY:
            case ZB_MPK_MAP:
                map = it.type == ZB_MPK_MAP;
                count = it.v.count;
                break;
            default:
                continue;
            }
        }
        /* A container, empty or not, is one more level. */
        if (depth + 1 >= ZB_DETAIL_MAX_DEPTH)
            return -1;
        saved_left[depth] = left;
        saved_map[depth] = is_map;
        depth++;
        left = count;
        is_map = map;
    }
    cur->p = p;
    return 0;
}

/* Checks the detail map at the cursor and, on success, leaves the cursor
 * after it (on failure the cursor is somewhere inside). Details are
 * mostly ASCII: the first walk only collects the strings' high bits, and
 * only a detail with some non-ASCII text is walked again to check it as
 * UTF-8. */
static int s_check_detail(zb_mpk_t *cur)
{
    zb_mpk_t c = *cur;
    uint64_t high = 0;
    if (s_walk_detail(&c, &high) == -1)
        return -1;
    if (high & S_HIGH) {
        c = *cur;
        if (s_walk_detail(&c, NULL) == -1)
            return -1;
    }
    *cur = c;
    return 0;
}

int ingest__check_detail(const uint8_t *p, size_t len)
{
    zb_mpk_t c;
    zb_mpk_init(&c, p, len);
    return s_check_detail(&c) == 0 && zb_mpk_at_end(&c) ? 0 : -1;
}

/* The entry fields PutEvents reads. An entry is read once, in one pass,
 * into a slot per field: no table of every key to search afterwards. */
enum { F_SOURCE, F_DETAIL_TYPE, F_BUS, F_RESOURCES, F_TIME, F_TRACE, F_DETAIL, F_COUNT_ };

static const char *const s_field_names[F_COUNT_] = {
    [F_SOURCE] = "Source",     [F_DETAIL_TYPE] = "DetailType", [F_BUS] = "EventBusName",
    [F_RESOURCES] = "Resources", [F_TIME] = "Time",           [F_TRACE] = "TraceHeader",
    [F_DETAIL] = "Detail",
};

/* Each known field's value (one complete msgpack value), NULL when absent. */
typedef struct entry_fields {
    const uint8_t *val[F_COUNT_];
    uint32_t len[F_COUNT_];
} entry_fields_t;

/* The field a key names, or -1. Compared with constant lengths, so the
 * compiler inlines each comparison; inlined itself, as it runs for every
 * key of every entry. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int s_field_of(const char *key, uint32_t klen)
{
    switch (klen) {
    case 4:
        return memcmp(key, "Time", 4) == 0 ? F_TIME : -1;
    case 6:
        return memcmp(key, "Source", 6) == 0   ? F_SOURCE
               : memcmp(key, "Detail", 6) == 0 ? F_DETAIL
                                               : -1;
    case 9:
        return memcmp(key, "Resources", 9) == 0 ? F_RESOURCES : -1;
    case 10:
        return memcmp(key, "DetailType", 10) == 0 ? F_DETAIL_TYPE : -1;
    case 11:
        return memcmp(key, "TraceHeader", 11) == 0 ? F_TRACE : -1;
    case 12:
        return memcmp(key, "EventBusName", 12) == 0 ? F_BUS : -1;
    default:
        return -1;
    }
}

/* One entry as read from the request: its fields, whether it was a map,
 * and whether its Detail (the last one, if repeated) is a valid map. */
typedef struct entry_slot {
    entry_fields_t f;
    bool is_map;
    bool detail_ok;
} entry_slot_t;

/* The entries of the request being handled: read once, checked as they
 * are read, before any of them is processed. */
struct ingest_batch {
    const uint8_t *val;   /* the Entries value read, NULL when none */
    const uint8_t *end;   /* the end of the buffer it is in */
    uint32_t n;
    uint32_t cap;
    entry_slot_t *slots;
};

/* Levels left for an entry (Entries is one) and for its values (the entry
 * is another), as zb_mpk_skip of the whole request counts them. */
#define S_ENTRY_DEPTH (ZB_PROTO_MAX_DEPTH - 1)
#define S_VALUE_DEPTH (ZB_PROTO_MAX_DEPTH - 2)

/* Moves the cursor past the value of field f (-1 for a key that names
 * none), checking it as zb_mpk_skip(c, S_VALUE_DEPTH) would: -1 exactly
 * when it is not valid msgpack within that depth. A Detail is validated
 * in the same pass (e->detail_ok, for the last one read), so its bytes are
 * walked once: a detail that passes the check is complete, and no deeper
 * than the request allows (its bound is below that one). */
static inline int s_value(zb_mpk_t *c, entry_slot_t *e, int f)
{
    if (f == F_DETAIL) {
        zb_mpk_t probe = *c;
        e->detail_ok = s_check_detail(&probe) == 0; /* -1 for anything but a map */
        if (e->detail_ok) {
            *c = probe;
            return 0;
        }
    }
    return zb_mpk_skip(c, S_VALUE_DEPTH);
}

/* Reads the n pairs of an entry map at the cursor, each value validated
 * by s_value. A key that is not a string is skipped with its value (it
 * names no field). Each field's value goes into e->f, or, when m is not
 * NULL, every pair into m (see s_read_entry_many). -1 when a key or value
 * is not valid msgpack, else 0 with the cursor after the map. Always
 * inlined, so that each caller gets a copy with m a constant. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int s_read_pairs(zb_mpk_t *c, entry_slot_t *e, uint32_t n, zb_map_t *m)
{
    for (uint32_t i = 0; i < n; i++) {
        const char *key;
        uint32_t klen;
        if (zb_mpk_read_str(c, &key, &klen) == -1) {
            if (zb_mpk_skip(c, S_VALUE_DEPTH) == -1 || zb_mpk_skip(c, S_VALUE_DEPTH) == -1)
                return -1;
            continue;
        }
        const uint8_t *val = c->p;
        int f = s_field_of(key, klen);
        if (s_value(c, e, f) == -1)
            return -1;
        if (m)
            zb_map_put(m, key, klen, val, (uint32_t) (c->p - val));
        else if (f >= 0) {
            e->f.val[f] = val;
            e->f.len[f] = (uint32_t) (c->p - val);
        }
    }
    return 0;
}

/* s_read_entry for an entry of more than ZB_PROTO_MAX_FIELDS pairs: they
 * go through a zb_map_t, as decoded maps do, so that a key past that many
 * distinct ones is dropped as everywhere else. Out of line: its table
 * would make every entry's frame large. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int s_read_entry_many(zb_mpk_t *c, entry_slot_t *e, uint32_t n)
{
    zb_map_t m;
    m.count = 0;
    if (s_read_pairs(c, e, n, &m) == -1)
        return -1;
    for (int f = 0; f < F_COUNT_; f++) {
        const zb_field_t *fl = zb_map_get(&m, s_field_names[f]);
        if (fl) {
            e->f.val[f] = fl->val;
            e->f.len[f] = fl->val_len;
        }
    }
    return 0;
}

/* Reads one entry at the cursor into *e in a single pass, checking it as
 * zb_mpk_skip(c, S_ENTRY_DEPTH) would: returns -1 exactly when it is not
 * valid msgpack within that depth, else 0 with the cursor after it. A map
 * Detail is validated in the same pass (s_value). For a repeated key the
 * last value wins. */
static int s_read_entry(zb_mpk_t *c, entry_slot_t *e)
{
    uint32_t n;
    /* The lengths are read only where a value is set. */
    memset(e->f.val, 0, sizeof e->f.val);
    e->is_map = e->detail_ok = false;
    if (zb_mpk_read_map(c, &n) == -1)
        return zb_mpk_skip(c, S_ENTRY_DEPTH); /* that entry's error, if it is msgpack */
    e->is_map = true;
    if (n > ZB_PROTO_MAX_FIELDS)
        return s_read_entry_many(c, e, n);
    return s_read_pairs(c, e, n, NULL);
}

/* Room for n slots. 0 or -1. */
static int s_batch_room(zb_broker_t *b, uint32_t n)
{
    if (!b->batch && !(b->batch = calloc(1, sizeof *b->batch)))
        return -1;
    ingest_batch_t *bt = b->batch;
    if (n <= bt->cap)
        return 0;
    entry_slot_t *slots = realloc(bt->slots, (size_t) n * sizeof *slots);
    if (!slots)
        return -1;
    bt->slots = slots;
    bt->cap = n;
    return 0;
}

int ingest__read_entries(void *broker, zb_mpk_t *c)
{
    zb_broker_t *b = broker;
    if (b->batch)
        b->batch->val = NULL;
    zb_mpk_t a = *c;
    uint32_t n;
    /* What PutEvents refuses whole (not an array, too many entries) is
     * only checked; so is everything when memory runs out (the handler
     * then says so). */
    if (zb_mpk_read_array(&a, &n) == -1 || (int64_t) n > b->cfg->limits.max_entries
        || s_batch_room(b, n) == -1)
        return zb_mpk_skip(c, ZB_PROTO_MAX_DEPTH);
    for (uint32_t i = 0; i < n; i++)
        if (s_read_entry(&a, &b->batch->slots[i]) == -1)
            return -1;
    b->batch->val = c->p;
    b->batch->end = c->end;
    b->batch->n = n;
    *c = a;
    return 0;
}

void ingest__start(zb_broker_t *b)
{
    /* An earlier request's entries are no longer anyone's: a request
     * whose decoding fails, or turns out another action, never takes
     * them, and this one's body may sit at the same address. */
    if (b->batch)
        b->batch->val = NULL;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    b->now_ns = (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->now_ms = (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
    if (ts.tv_sec != b->time_sec) {
        b->time_sec = ts.tv_sec;
        zb_time_format(ts.tv_sec, b->time_text);
    }
}

int ingest__entries(zb_broker_t *b, const uint8_t *val, uint32_t len)
{
    if (b->batch && b->batch->val == val)
        return 0; /* read by the decoder, for this request (ingest__start) */
    /* The decoder does not run the reader after an Action naming another
     * action (zb_value_reader_t): Entries a repeated Action then makes
     * PutEvents' are read here, as are entries memory ran out for then.
     * The value is valid msgpack, so only memory can fail. */
    zb_mpk_t c;
    zb_mpk_init(&c, val, len);
    if (ingest__read_entries(b, &c) == -1 || !b->batch || b->batch->val != val)
        return -1;
    return 0;
}

void ingest__cleanup(zb_broker_t *b)
{
    if (!b->batch)
        return;
    free(b->batch->slots);
    free(b->batch);
    b->batch = NULL;
}

/* A field present and not nil (a nil field counts as absent). */
static bool s_present(const entry_fields_t *e, int f)
{
    return e->val[f] && e->val[f][0] != 0xc0;
}

/* A string field: 0 (present), 1 (absent or nil), -1 (another type), as
 * zb_map_get_str. */
static int s_field_str(const entry_fields_t *e, int f, const char **s, uint32_t *len)
{
    if (!s_present(e, f))
        return 1;
    const uint8_t *v = e->val[f];
    if ((v[0] & 0xe0) == 0xa0) {
        /* A fixstr: the value is exactly its header and bytes. */
        *s = (const char *) v + 1;
        *len = v[0] & 0x1f;
        return 0;
    }
    zb_mpk_t c;
    zb_mpk_init(&c, v, e->len[f]);
    return zb_mpk_read_str(&c, s, len) == 0 ? 0 : -1;
}

/* The error of a string field that is not one (required: or is absent or
 * empty), in EventBridge's words. Out of line: formatting an error needs a
 * large frame the accepted path should not pay for. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int s_entry_str_fail(int f, bool not_string, zb_proto_error_t *err)
{
    const char *key = s_field_names[f];
    if (not_string)
        return zb_proto_fail(err, ZB_ERR_INVALID_ARGUMENT,
                             "Parameter %s is not valid. Reason: %s must be a UTF-8 string.", key,
                             key);
    return zb_proto_fail(err, ZB_ERR_INVALID_ARGUMENT,
                         "Parameter %s is not valid. Reason: %s is a required argument.", key,
                         key);
}

/* A required, non-empty, UTF-8 string field, in EventBridge's words. */
static inline int s_entry_str(const ingest_batch_t *bt, const entry_fields_t *e, int f,
                              bool required, const char **s, uint32_t *len,
                              zb_proto_error_t *err)
{
    int rc = s_field_str(e, f, s, len);
    if (rc == -1 || (rc == 0 && !s_utf8((const uint8_t *) *s, *len, bt->end)))
        return s_entry_str_fail(f, true, err);
    if ((rc == 1 || *len == 0) && required)
        return s_entry_str_fail(f, false, err);
    return rc;
}

static int s_resources(const entry_fields_t *e, const uint8_t **raw, size_t *raw_len,
                       zb_proto_error_t *err)
{
    *raw = NULL;
    *raw_len = 0;
    if (!s_present(e, F_RESOURCES))
        return 0;
    zb_mpk_t c;
    uint32_t n;
    zb_mpk_init(&c, e->val[F_RESOURCES], e->len[F_RESOURCES]);
    if (zb_mpk_read_array(&c, &n) == -1)
        goto bad;
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        uint32_t len;
        if (zb_mpk_read_str(&c, &s, &len) == -1 || !s_utf8((const uint8_t *) s, len, c.end))
            goto bad;
    }
    *raw = e->val[F_RESOURCES];
    *raw_len = e->len[F_RESOURCES];
    return 0;
bad:
    return zb_proto_fail(err, ZB_ERR_INVALID_ARGUMENT,
                         "Parameter Resources is not valid. Reason: Resources must be an array "
                         "of strings.");
}

/* The event's time text: from Time when given, else the request's. */
static int s_time(zb_broker_t *b, const entry_fields_t *e, char out[ZB_TIME_LEN + 1],
                  const char **time_text, zb_proto_error_t *err)
{
    *time_text = b->time_text;
    if (!s_present(e, F_TIME))
        return 0;
    zb_mpk_t c;
    zb_mpk_item_t it;
    int64_t secs;
    zb_mpk_init(&c, e->val[F_TIME], e->len[F_TIME]);
    if (zb_mpk_read(&c, &it) == 0
        && ((it.type == ZB_MPK_STR
             && zb_time_parse((const char *) it.v.raw.ptr, it.v.raw.len, &secs) == 0)
            || (it.type == ZB_MPK_EXT && it.v.raw.ext_type == -1
                && zb_time_from_ext(it.v.raw.ptr, it.v.raw.len, &secs) == 0))
        && secs >= -62135596800ll && secs <= 253402300799ll) {
        zb_time_format(secs, out);
        *time_text = out;
        return 0;
    }
    return zb_proto_fail(err, ZB_ERR_INVALID_ARGUMENT,
                         "Parameter Time is not valid. Reason: Time must be an RFC 3339 "
                         "timestamp or a msgpack timestamp.");
}

/* Appends the detail map to the envelope: verbatim when it is msgpack,
 * transcoded when it is JSON text. */
static int s_detail(zb_buf_t *env, const entry_fields_t *e, bool checked, zb_proto_error_t *err)
{
    if (!s_present(e, F_DETAIL))
        return zb_proto_fail(err, ZB_ERR_INVALID_ARGUMENT,
                             "Parameter Detail is not valid. Reason: Detail is a required "
                             "argument.");
    const uint8_t *val = e->val[F_DETAIL];
    uint32_t val_len = e->len[F_DETAIL];
    if (checked) {
        /* Checked in s_read_entry means a valid map: appended as it is. */
        if (zb_buf_append(env, val, val_len) == -1)
            return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
        return 0;
    }
    zb_mpk_t c;
    zb_mpk_init(&c, val, val_len);
    int type = zb_mpk_peek(&c);
    if (type == ZB_MPK_MAP) {
        if (ingest__check_detail(val, val_len) == -1)
            goto malformed;
        if (zb_buf_append(env, val, val_len) == -1)
            return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
        return 0;
    }
    const char *s;
    uint32_t len;
    if (type != ZB_MPK_STR || zb_mpk_read_str(&c, &s, &len) == -1)
        goto malformed;
    size_t at = env->len;
    if (zb_json_to_msgpack(s, len, env, NULL) == -1)
        goto malformed;
    /* The JSON reader accepts numbers beyond double's range (as infinity);
     * the same check as for msgpack keeps them out of envelopes. */
    if (ingest__check_detail((const uint8_t *) env->data + at, env->len - at) == -1)
        goto malformed;
    return 0;
malformed:
    return zb_proto_fail(err, ZB_ERR_MALFORMED_DETAIL, "Detail is malformed.");
}

/* ==== commit and fan-out =========================================================== */

/* The one place where an accepted event becomes the broker's
 * responsibility. Delivery is at-most-once today; a journal for durable
 * targets (write, then fan out) belongs here. */
static void s_commit(zb_broker_t *b, zb_bus_t *bus)
{
    bus->entries++;
}

/* Hands one delivery over now, outside the outbox (when staging runs out
 * of memory). Out of line: the event record is built only here. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static void s_deliver_now(zb_broker_t *b, zb_bus_t *bus, zb_rule_t *rule, zb_target_t *t,
                          const char *event_id, const char *topic, size_t topic_len)
{
    size_t envelope_len;
    const char *envelope = outbox__envelope(b->outbox, &envelope_len);
    zb_event_t ev = {
        .size = sizeof ev,
        .bus = bus->name,
        .rule = rule->name,
        .envelope = envelope,
        .envelope_len = envelope_len,
        .target_id = t->id,
        .topic = topic,
        .topic_len = topic_len,
        .event_id = event_id,
        .ingest_ns = b->now_ns,
        .attempt = 1,
    };
    outbox__deliver(b, bus, rule, t, &ev, metrics__now_ns());
}

static void s_fan_out(zb_broker_t *b, zb_bus_t *bus, const uint64_t *ids, int n,
                      const char *event_id, const char *source, size_t source_len,
                      const char *dtype, size_t dtype_len)
{
    if (n > 0)
        bus->matched++;
    /* Staged in the outbox (handed over with the rest of the burst);
     * delivered at once only when staging runs out of memory. */
    bool direct = false;
    for (int i = 0; i < n; i++) {
        uint64_t slot = ids[i] - 1;
        zb_rule_t *rule = slot < bus->nslots ? bus->slots[slot] : NULL;
        if (!rule || !rule->enabled)
            continue;
        rule->matched++;
        bus->triggered++;
        for (size_t k = 0; k < rule->ntargets; k++) {
            zb_target_t *t = rule->targets[k];
            const char *topic;
            size_t topic_len;
            target__topic(b, t, bus->name, rule->name, source, source_len, dtype, dtype_len,
                          &topic, &topic_len);
            if (!direct) {
                if (outbox__stage(b->outbox, event_id, b->now_ns, bus, rule, t, topic,
                                  topic_len) == 0)
                    continue;
                /* Out of memory: what is staged goes first, keeping the
                 * order, and the rest of this event goes directly. */
                outbox__flush(b->outbox, b);
                direct = true;
            }
            s_deliver_now(b, bus, rule, t, event_id, topic, topic_len);
        }
    }
}

int ingest__entry(zb_broker_t *b, uint32_t i, char event_id[ZB_UUID_LEN + 1],
                  zb_proto_error_t *err)
{
    const entry_slot_t *slot = &b->batch->slots[i];
    const entry_fields_t *e = &slot->f;
    bool detail_ok = slot->detail_ok;
    if (!slot->is_map)
        return zb_proto_fail(err, ZB_ERR_INVALID_ARGUMENT, "Entry is not a map.");
    const char *source, *dtype, *busname = "default";
    uint32_t source_len, dtype_len, bus_len = 7;
    if (s_entry_str(b->batch, e, F_SOURCE, true, &source, &source_len, err) == -1
        || s_entry_str(b->batch, e, F_DETAIL_TYPE, true, &dtype, &dtype_len, err) == -1)
        return -1;
    int rc = s_entry_str(b->batch, e, F_BUS, false, &busname, &bus_len, err);
    if (rc == -1)
        return -1;
    if (rc == 1 || bus_len == 0) {
        busname = "default";
        bus_len = 7;
    }
    else if (bus_len > 4 && memcmp(busname, "arn:", 4) == 0)
        handle__strip_arn(&busname, &bus_len);
    zb_bus_t *bus = registry__bus(b->reg, busname, bus_len);
    if (!bus)
        return zb_proto_fail(err, ZB_ERR_NOT_FOUND, "Event bus %.*s does not exist.",
                             (int) (bus_len > 64 ? 64 : bus_len), busname);
    const uint8_t *res;
    size_t res_len;
    char time_buf[ZB_TIME_LEN + 1];
    const char *time_text;
    if (s_resources(e, &res, &res_len, err) == -1 || s_time(b, e, time_buf, &time_text, err) == -1)
        goto failed;
    /* TraceHeader: accepted (and type-checked) but not delivered. */
    const char *th;
    uint32_t th_len;
    if (s_field_str(e, F_TRACE, &th, &th_len) == -1) {
        zb_proto_fail(err, ZB_ERR_INVALID_ARGUMENT,
                      "Parameter TraceHeader is not valid. Reason: TraceHeader must be a "
                      "string.");
        goto failed;
    }

    zb_uuid7_next(&b->uuid, b->now_ms, event_id);
    zb_envelope_t env = {
        .id = event_id,
        .detail_type = dtype,
        .detail_type_len = dtype_len,
        .source = source,
        .source_len = source_len,
        .account = b->cfg->account,
        .account_len = b->cfg->account_len,
        .time = time_text,
        .region = b->cfg->region,
        .region_len = b->cfg->region_len,
        .resources = res,
        .resources_len = res_len,
    };
    /* Built in place in the outbox: staging it for delivery copies nothing. */
    zb_buf_t *out = outbox__envelope_begin(b->outbox);
    size_t at = out->len;
    if (zb_envelope_begin(out, &env) == -1) {
        zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
        goto dropped;
    }
    if (s_detail(out, e, detail_ok, err) == -1)
        goto dropped;
    size_t env_len = out->len - at;
    if ((int64_t) env_len > b->cfg->limits.max_entry_bytes) {
        zb_proto_fail(err, ZB_ERR_LIMIT_EXCEEDED,
                      "Entry size of %zu bytes exceeds the limit of %lld bytes.", env_len,
                      (long long) b->cfg->limits.max_entry_bytes);
        goto dropped;
    }
    const uint64_t *ids = NULL;
    zb_matcher_error_t merr;
    /* A bus without enabled rules has nothing to match: skip the walk. The
     * envelope is well-formed by construction (validated parts). */
    int n = zb_matcher_size(bus->matcher) == 0
                ? 0
                : zb_matcher_match(bus->matcher, b->mctx, ZB_FORMAT_MSGPACK, out->data + at,
                                   env_len, &ids, &merr);
    if (n == -1) {
        /* The envelope is well-formed by construction, so the matcher only
         * refuses an event whose matching would exceed its work budget
         * (matcher.h): say so, rather than call the Detail malformed. The
         * entry is not accepted, so nothing acknowledged goes unmatched. */
        zb_proto_fail(err, ZB_ERR_LIMIT_EXCEEDED, "%s", merr.message);
        goto dropped;
    }
    s_commit(b, bus);
    s_fan_out(b, bus, ids, n, event_id, source, source_len, dtype, dtype_len);
    outbox__envelope_end(b->outbox);
    return 0;
dropped:
    outbox__envelope_end(b->outbox);
failed:
    bus->failed_entries++;
    return -1;
}
