/*
 * json.h — a strict JSON reader (RFC 8259) and JSON <-> msgpack transcoders.
 *
 * Reader: zb_json_parse() builds a small read-only tree in one arena.
 *   - strict syntax (no trailing commas, comments, NaN, leading zeros ...);
 *   - UTF-8 is validated (overlongs, surrogates and > U+10FFFF refused);
 *   - \uXXXX escapes are decoded, surrogate pairs joined, lone surrogates
 *     refused;
 *   - duplicate object keys: the last occurrence wins (EventBridge's rule
 *     for patterns); the earlier member is dropped from the tree;
 *   - nesting deeper than ZB_JSON_MAX_DEPTH is refused.
 *
 * Transcoders (libc only, no msgpack-c):
 *   zb_json_to_msgpack: integers without fraction/exponent that fit int64 or
 *     uint64 become msgpack ints, other numbers float 64; strings str; keys
 *     keep their order (duplicates are kept as they are).
 *   zb_msgpack_to_json: maps need string keys; ints print exactly; doubles
 *     print with the shortest round-trip form (17 significant digits at
 *     most); NaN/Inf are refused; bin becomes a base64 string; the timestamp
 *     ext (-1) becomes an RFC 3339 string in UTC; other exts are refused.
 *   Both append to `out` (callers reset it when they want). On error they
 *   return -1 with *err filled (err may be NULL) and `out` holds partial
 *   output.
 */
#ifndef ZB_JSON_H
#define ZB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zb_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZB_JSON_MAX_DEPTH 64

typedef struct zb_json_error {
    char message[200]; /* "unexpected character 'x'" and the like */
    long offset;       /* byte offset in the input, or -1 */
} zb_json_error_t;

typedef enum zb_json_type {
    ZB_JSON_NULL = 1,
    ZB_JSON_FALSE,
    ZB_JSON_TRUE,
    ZB_JSON_NUMBER,
    ZB_JSON_STRING,
    ZB_JSON_ARRAY,
    ZB_JSON_OBJECT,
} zb_json_type_t;

/* A node of the parsed tree. All pointers point into the document's arena
 * and live as long as the document. */
typedef struct zb_json zb_json_t;
struct zb_json {
    zb_json_type_t type;
    /* STRING: unescaped bytes, NUL-terminated (may contain NULs: use len).
     * NUMBER: the number's text exactly as written (not NUL-terminated). */
    const char *str;
    size_t len;        /* STRING/NUMBER: bytes of str; ARRAY/OBJECT: members */
    double num;        /* NUMBER: value as a double (may be +-HUGE_VAL) */
    zb_json_t *child;  /* ARRAY/OBJECT: first member */
    zb_json_t *next;   /* next member of the parent */
    const char *key;   /* member of an OBJECT: unescaped key (NUL-terminated) */
    size_t key_len;
    long offset;       /* byte offset of the value in the text */
};

typedef struct zb_json_doc zb_json_doc_t;

/* Parses `len` bytes of `text` (one JSON value, surrounded by optional
 * whitespace). Returns NULL with *err filled on bad input or memory. */
zb_json_doc_t *zb_json_parse(const char *text, size_t len, zb_json_error_t *err);
/* Same, with flags: ZB_JSON_KEEP_DUPLICATES keeps every member of an
 * object even when keys repeat (used where text must be carried over
 * faithfully, as by the transcoder). */
#define ZB_JSON_KEEP_DUPLICATES 1
zb_json_doc_t *zb_json_parse_ex(const char *text, size_t len, int flags, zb_json_error_t *err);
void zb_json_doc_destroy(zb_json_doc_t **self_p);
const zb_json_t *zb_json_root(const zb_json_doc_t *self);

/* Member of an object by key, or NULL. */
const zb_json_t *zb_json_get(const zb_json_t *object, const char *key);

/* Validates UTF-8 (RFC 3629). Returns true if s[0..len) is valid. */
bool zb_utf8_valid(const char *s, size_t len);

/* Appends a JSON string literal (quotes and escapes included) for the
 * bytes s[0..len) (assumed valid UTF-8). */
int zb_json_put_string(zb_buf_t *out, const char *s, size_t len);

/* Appends `v` as compact JSON text. Numbers keep their original spelling;
 * object members come out in tree order (after last-wins deduplication). */
int zb_json_write(zb_buf_t *out, const zb_json_t *v);

int zb_json_to_msgpack(const char *text, size_t len, zb_buf_t *out, zb_json_error_t *err);
int zb_msgpack_to_json(const void *buf, size_t len, zb_buf_t *out, zb_json_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
