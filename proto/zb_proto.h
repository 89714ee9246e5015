/*
 * zb_proto.h — the zbridge wire codec (protocol version 1, see PROTOCOL.md).
 *
 * Shared by the broker and the clients: action names, error codes and their
 * standard texts, request decoding into a flat field table, reply and
 * request encoding, the delivered-event envelope, UUID v7 event ids and
 * RFC 3339 times.
 *
 * Everything here is libc plus common/ (zb_buf, mpk): no ZeroMQ, no
 * msgpack-c. Decoding never allocates: a decoded map borrows the body it
 * was decoded from and is valid as long as that body is. Encoders append to
 * a zb_buf_t and return 0, or -1 when memory runs out.
 */
#ifndef ZB_PROTO_H
#define ZB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpk.h"
#include "zb_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZB_PROTO_VERSION 1

/* A request's route (frames before the body) has at most this many frames. */
#define ZB_PROTO_MAX_ROUTE_FRAMES 8

/* Fields of one decoded map that are remembered; later distinct keys are
 * skipped (they cannot be fields any action knows). */
#define ZB_PROTO_MAX_FIELDS 32

/* Nesting accepted in request bodies and event details. */
#define ZB_PROTO_MAX_DEPTH 64
/* Levels a Detail may nest (itself included). Two below the request's
 * bound: a Detail one level too deep still decodes inside its request (so
 * it is that entry's MalformedDetail, not a refused request), and the
 * envelope's extra level keeps every accepted event within what
 * subscribers' msgpack -> JSON transcoding reads (ZB_JSON_MAX_DEPTH). */
#define ZB_DETAIL_MAX_DEPTH (ZB_PROTO_MAX_DEPTH - 2)

/* Defaults of the limits in PROTOCOL.md section 5. */
#define ZB_DEFAULT_MAX_REQUEST_BYTES (1024 * 1024)
#define ZB_DEFAULT_MAX_ENTRIES 10
#define ZB_DEFAULT_MAX_ENTRY_BYTES (256 * 1024)
#define ZB_DEFAULT_MAX_BUSES 100
#define ZB_DEFAULT_MAX_RULES_PER_BUS 1000
#define ZB_DEFAULT_MAX_TARGETS_PER_RULE 100
/* A subscriber that never reads holds up to high-water-mark envelopes in
 * the broker's memory, so the default mark comes from a byte budget:
 * queue-bytes / max-entry-bytes events, and never fewer than the floor. */
/* Replies are queued for peers that may never read them, so their size is
 * bounded: a RequestId is echoed only up to this many encoded bytes (a
 * larger one is refused), and a list page stops early (with NextToken)
 * once it holds this many bytes of items. */
#define ZB_MAX_REQUEST_ID_BYTES 1024
/* Deepest nesting of a RequestId: containers inside it, as zb_mpk_skip()
 * counts them. Its reply then nests far inside ZB_PROTO_MAX_DEPTH. */
#define ZB_MAX_REQUEST_ID_DEPTH 8
#define ZB_REPLY_PAGE_BYTES (256 * 1024)
/* Replies queued per peer in ZeroMQ; the broker holds further ones in its
 * backlog (broker/backlog.h), bounded in bytes. */
#define ZB_REPLY_QUEUE_MESSAGES 1000
#define ZB_DEFAULT_MAX_STATE_BYTES (64 * 1024 * 1024)
#define ZB_DEFAULT_QUEUE_BYTES (64 * 1024 * 1024)
#define ZB_MIN_DEFAULT_HWM 64

/* ---- actions --------------------------------------------------------------- */

typedef enum zb_action {
    ZB_ACTION_UNKNOWN = 0,
    ZB_ACTION_PUT_EVENTS = 1,
    ZB_ACTION_TEST_EVENT_PATTERN,
    ZB_ACTION_CREATE_EVENT_BUS,
    ZB_ACTION_DELETE_EVENT_BUS,
    ZB_ACTION_DESCRIBE_EVENT_BUS,
    ZB_ACTION_LIST_EVENT_BUSES,
    ZB_ACTION_PUT_RULE,
    ZB_ACTION_DESCRIBE_RULE,
    ZB_ACTION_LIST_RULES,
    ZB_ACTION_DELETE_RULE,
    ZB_ACTION_ENABLE_RULE,
    ZB_ACTION_DISABLE_RULE,
    ZB_ACTION_PUT_TARGETS,
    ZB_ACTION_REMOVE_TARGETS,
    ZB_ACTION_LIST_TARGETS_BY_RULE,
    ZB_ACTION_GET_METRICS,
    ZB_ACTION_COUNT_ /* one past the last */
} zb_action_t;

/* "PutEvents" and so on; "" for ZB_ACTION_UNKNOWN or out of range. */
const char *zb_action_name(zb_action_t action);
/* The action named by s[0..len), or ZB_ACTION_UNKNOWN. Case-sensitive. */
zb_action_t zb_action_from_name(const char *s, size_t len);
/* True for actions that change the broker's buses, rules or targets. */
bool zb_action_is_mutation(zb_action_t action);

/* ---- error codes ------------------------------------------------------------ */

typedef enum zb_error_code {
    ZB_OK = 0,
    /* request-level ("Error": {"Code": ...}) */
    ZB_ERR_SERIALIZATION = 1,    /* SerializationException */
    ZB_ERR_UNKNOWN_OPERATION,    /* UnknownOperationException */
    ZB_ERR_VALIDATION,           /* ValidationException */
    ZB_ERR_NOT_FOUND,            /* ResourceNotFoundException */
    ZB_ERR_ALREADY_EXISTS,       /* ResourceAlreadyExistsException */
    ZB_ERR_INVALID_PATTERN,      /* InvalidEventPatternException */
    ZB_ERR_LIMIT_EXCEEDED,       /* LimitExceededException */
    ZB_ERR_INTERNAL,             /* InternalException */
    /* PutEvents entry-level ("ErrorCode") */
    ZB_ERR_INVALID_ARGUMENT,     /* InvalidArgument */
    ZB_ERR_MALFORMED_DETAIL,     /* MalformedDetail */
    ZB_ERR_COUNT_
} zb_error_code_t;

/* The code's wire name ("ValidationException"); "" for ZB_OK. */
const char *zb_error_code_name(zb_error_code_t code);
/* The code named by s[0..len), or ZB_OK when none is. */
zb_error_code_t zb_error_code_from_name(const char *s, size_t len);

/* An error with its user-facing text. */
typedef struct zb_proto_error {
    zb_error_code_t code;
    char message[512];
    /* Set by zb_reply_decode only: the code as the peer named it, so a
     * code this codec does not know (a newer broker's) is not lost. */
    char code_name[64];
} zb_proto_error_t;

/* Fills *err (when err is not NULL) and returns -1, so callers can write
 * `return zb_proto_fail(err, ZB_ERR_VALIDATION, "...%s...", x);`. */
int zb_proto_fail(zb_proto_error_t *err, zb_error_code_t code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- decoded maps ----------------------------------------------------------- */

/* One key/value pair of a map: both point into the decoded buffer. `val`
 * holds exactly one complete msgpack value (val_len bytes). */
typedef struct zb_field {
    const char *key;
    uint32_t key_len;
    const uint8_t *val;
    uint32_t val_len;
} zb_field_t;

typedef struct zb_map {
    zb_field_t fields[ZB_PROTO_MAX_FIELDS];
    int count;
} zb_map_t;

/* Records key -> val[0..val_len) in m, as a decoder of maps does: a
 * repeated key overwrites its slot (the last value wins) and a key past
 * ZB_PROTO_MAX_FIELDS is dropped. Returns the slot, or NULL when the key
 * was dropped. Inline: the broker's ingest loop calls it for every field
 * of every entry. */
static inline zb_field_t *zb_map_put(zb_map_t *m, const char *key, uint32_t klen,
                                     const uint8_t *val, uint32_t val_len)
{
    zb_field_t *slot = NULL;
    for (int k = 0; k < m->count; k++)
        if (m->fields[k].key_len == klen && memcmp(m->fields[k].key, key, klen) == 0) {
            slot = &m->fields[k];
            break;
        }
    if (!slot) {
        if (m->count == ZB_PROTO_MAX_FIELDS)
            return NULL;
        slot = &m->fields[m->count++];
    }
    slot->key = key;
    slot->key_len = klen;
    slot->val = val;
    slot->val_len = val_len;
    return slot;
}

/* Decodes one msgpack map occupying all of buf[0..len) (trailing bytes are
 * an error) into `m`. Keys that are not strings are skipped; for a repeated
 * key the last value wins. Every value is checked to be complete and no
 * deeper than ZB_PROTO_MAX_DEPTH. Returns 0, or -1 with *err set
 * (ZB_ERR_SERIALIZATION) when buf is not one well-formed msgpack map. */
int zb_map_decode(zb_map_t *m, const void *buf, size_t len, zb_proto_error_t *err);

/* The field named `key`, or NULL. Inline, so that a literal key's
 * length is a constant and each comparison is inlined: requests look
 * fields up this way on every call. */
static inline const zb_field_t *zb_map_get(const zb_map_t *m, const char *key)
{
    size_t klen = strlen(key);
    for (int k = 0; k < m->count; k++)
        if (m->fields[k].key_len == klen && memcmp(m->fields[k].key, key, klen) == 0)
            return &m->fields[k];
    return NULL;
}

/* Typed getters. Return 0 when the field is present with the right type,
 * 1 when it is absent (or nil: a nil field counts as absent), -1 when it is
 * present with another type. Out-parameters are set only on 0. */
int zb_map_get_str(const zb_map_t *m, const char *key, const char **s, uint32_t *len);
int zb_map_get_bool(const zb_map_t *m, const char *key, bool *value);
int zb_map_get_int(const zb_map_t *m, const char *key, int64_t *value);

/* Like zb_map_get_str, but reports what is wrong in EventBridge's words:
 * absent and `required` -> -1 with ValidationException "Parameter <key> is
 * not valid. Reason: <key> is a required argument."; wrong type -> -1
 * "... Reason: <key> must be a string.". Returns 0 (present) or 1 (absent,
 * not required). */
int zb_map_require_str(const zb_map_t *m, const char *key, bool required, const char **s,
                       uint32_t *len, zb_proto_error_t *err);

/* ---- requests ----------------------------------------------------------------- */

typedef struct zb_request {
    zb_action_t action;
    const char *action_name;    /* as sent (may be an unknown name) */
    uint32_t action_name_len;
    const uint8_t *request_id;  /* raw msgpack bytes of RequestId, or NULL */
    uint32_t request_id_len;
    zb_map_t map;               /* every field, Action and RequestId included */
} zb_request_t;

/* Decodes a request body. Returns 0, or -1 with *err:
 *   ZB_ERR_SERIALIZATION       not msgpack / not a map / no string Action
 *   ZB_ERR_UNKNOWN_OPERATION   Action names no action
 * request_id is filled whenever the body was a map, even on error, so the
 * error reply can still echo it. */
int zb_request_decode(zb_request_t *req, const void *body, size_t len, zb_proto_error_t *err);

/* A handler's reader for the value of one request key, run by the decoder
 * in place of its own check of that value, so that a large value
 * (PutEvents' Entries) is checked and read in one pass rather than walked
 * once by the decoder and again by the handler. Called with the cursor on
 * the value, it must move the cursor past it and return 0, or return -1
 * exactly when zb_mpk_skip(c, ZB_PROTO_MAX_DEPTH) would: the request is
 * then refused as not valid msgpack, like any other.
 *
 * It runs only where its handler may look: for the key unless the last
 * Action read before it names another action than `action`. A value met
 * after such an Action (which a repeated Action may still change) is only
 * checked, and its handler reads it itself. It may be called for a key
 * the map then drops (past ZB_PROTO_MAX_FIELDS), more than once for a
 * repeated key (the map keeps the last value), or in a request whose
 * Action, read later, names another: what it read belongs to the field
 * only when the field's val is the value it was called on. */
typedef struct zb_value_reader {
    const char *key;
    uint32_t key_len;
    zb_action_t action;
    int (*read)(void *ctx, zb_mpk_t *c);
    void *ctx;
} zb_value_reader_t;

/* zb_request_decode with reader->read reading reader->key's value. */
int zb_request_decode_with(zb_request_t *req, const void *body, size_t len,
                           const zb_value_reader_t *reader, zb_proto_error_t *err);

/* Starts a request map with `nfields` action fields still to come: writes
 * the map header, "Action" and, when request_id is not NULL, "RequestId"
 * (request_id_len raw msgpack bytes). For clients. */
int zb_request_begin(zb_buf_t *out, zb_action_t action, uint32_t nfields,
                     const void *request_id, size_t request_id_len);

/* ---- replies -------------------------------------------------------------------- */

/* Starts a success reply with `nfields` fields still to come, echoing the
 * request's RequestId when it had one (req may be NULL). */
int zb_reply_begin(zb_buf_t *out, const zb_request_t *req, uint32_t nfields);

/* Writes a whole error reply {"Error": {"Code", "Message"}, "RequestId"?}.
 * req may be NULL. */
int zb_reply_error(zb_buf_t *out, const zb_request_t *req, zb_error_code_t code,
                   const char *message);

/* Reads a reply: 0 and *err->code == ZB_OK for a success (m filled), 0 with
 * err->code/message/code_name set for an error reply (an unknown code is
 * ZB_ERR_INTERNAL, its text kept in code_name), -1 when the body is not a
 * map or its Error is not a map. For clients. */
int zb_reply_decode(zb_map_t *m, const void *body, size_t len, zb_proto_error_t *err);

/* Writes a NUL-terminated string (a convenience over zb_mpk_put_str). */
int zb_put_cstr(zb_buf_t *out, const char *s);

/* ---- delivered events ----------------------------------------------------------- */

#define ZB_UUID_LEN 36
#define ZB_TIME_LEN 20 /* "2026-01-31T12:00:00Z" */

/* What the envelope is built from. Strings are not NUL-terminated. */
typedef struct zb_envelope {
    const char *id;                 /* ZB_UUID_LEN chars */
    const char *detail_type;
    size_t detail_type_len;
    const char *source;
    size_t source_len;
    const char *account;
    size_t account_len;
    const char *time;               /* ZB_TIME_LEN chars */
    const char *region;
    size_t region_len;
    const uint8_t *resources;       /* a complete msgpack array of str, or NULL for [] */
    size_t resources_len;
} zb_envelope_t;

/* Appends the envelope map header and every key/value except the last one,
 * then the key "detail": the caller appends the detail map right after. */
int zb_envelope_begin(zb_buf_t *out, const zb_envelope_t *env);

/* A delivered envelope, read back (for subscribers and tests). Pointers go
 * into the buffer; `detail` is the raw msgpack map. */
typedef struct zb_envelope_view {
    const char *version, *id, *detail_type, *source, *account, *time, *region;
    uint32_t version_len, id_len, detail_type_len, source_len, account_len, time_len,
        region_len;
    const uint8_t *resources; /* raw msgpack array */
    uint32_t resources_len;
    const uint8_t *detail;    /* raw msgpack map */
    uint32_t detail_len;
} zb_envelope_view_t;

/* Returns 0, or -1 when buf is not an envelope (a key missing or mistyped). */
int zb_envelope_decode(zb_envelope_view_t *view, const void *buf, size_t len);

/* ---- event ids and times --------------------------------------------------------- */

/* UUID v7 generator (RFC 9562, method 1: 12-bit counter in rand_a, so ids
 * from one generator sort in creation order even within a millisecond). */
typedef struct zb_uuid7 {
    uint64_t last_ms;
    uint32_t counter;
    uint64_t rng[2];  /* xorshift128+ state */
} zb_uuid7_t;

/* Seeds from the OS (getrandom, else time and pid). */
void zb_uuid7_init(zb_uuid7_t *gen);
/* Writes ZB_UUID_LEN lower-case characters plus a NUL into out. now_ms is
 * the Unix time in milliseconds. */
void zb_uuid7_next(zb_uuid7_t *gen, uint64_t now_ms, char out[ZB_UUID_LEN + 1]);
/* Writes the 128 bits hi:lo (two big-endian words: hi's top byte is the
 * UUID's first) as RFC 9562 text, 8-4-4-4-12 lower-case hex digits, plus
 * a NUL. Pure: version and variant are whatever the bits say. */
void zb_uuid_format(uint64_t hi, uint64_t lo, char out[ZB_UUID_LEN + 1]);

/* Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" plus a NUL. */
void zb_time_format(int64_t unix_seconds, char out[ZB_TIME_LEN + 1]);

/* Parses an RFC 3339 date-time ("2026-01-31T12:00:00Z",
 * "2026-01-31T12:00:00.123+02:00"; 't'/'z'/' ' accepted as RFC 3339 allows)
 * into Unix seconds (fraction dropped). Returns 0 or -1. */
int zb_time_parse(const char *s, size_t len, int64_t *unix_seconds);

/* Reads a msgpack timestamp ext (type -1; 4, 8 or 12 bytes) into Unix
 * seconds. Returns 0 or -1. */
int zb_time_from_ext(const uint8_t *payload, uint32_t len, int64_t *unix_seconds);

#ifdef __cplusplus
}
#endif
#endif
