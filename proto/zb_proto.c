/*
 * zb_proto.c — the wire codec. See zb_proto.h and PROTOCOL.md.
 */
#include "zb_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "zb_hex.h"

/* ==== actions ================================================================ */

static const char *const s_action_names[ZB_ACTION_COUNT_] = {
    [ZB_ACTION_UNKNOWN] = "",
    [ZB_ACTION_PUT_EVENTS] = "PutEvents",
    [ZB_ACTION_TEST_EVENT_PATTERN] = "TestEventPattern",
    [ZB_ACTION_CREATE_EVENT_BUS] = "CreateEventBus",
    [ZB_ACTION_DELETE_EVENT_BUS] = "DeleteEventBus",
    [ZB_ACTION_DESCRIBE_EVENT_BUS] = "DescribeEventBus",
    [ZB_ACTION_LIST_EVENT_BUSES] = "ListEventBuses",
    [ZB_ACTION_PUT_RULE] = "PutRule",
    [ZB_ACTION_DESCRIBE_RULE] = "DescribeRule",
    [ZB_ACTION_LIST_RULES] = "ListRules",
    [ZB_ACTION_DELETE_RULE] = "DeleteRule",
    [ZB_ACTION_ENABLE_RULE] = "EnableRule",
    [ZB_ACTION_DISABLE_RULE] = "DisableRule",
    [ZB_ACTION_PUT_TARGETS] = "PutTargets",
    [ZB_ACTION_REMOVE_TARGETS] = "RemoveTargets",
    [ZB_ACTION_LIST_TARGETS_BY_RULE] = "ListTargetsByRule",
    [ZB_ACTION_GET_METRICS] = "GetMetrics",
};

const char *zb_action_name(zb_action_t action)
{
    if ((int) action < 0 || action >= ZB_ACTION_COUNT_)
        return "";
    return s_action_names[action];
}

zb_action_t zb_action_from_name(const char *s, size_t len)
{
    for (int a = 1; a < ZB_ACTION_COUNT_; a++) {
        const char *n = s_action_names[a];
        if (strlen(n) == len && memcmp(n, s, len) == 0)
            return (zb_action_t) a;
    }
    return ZB_ACTION_UNKNOWN;
}

bool zb_action_is_mutation(zb_action_t action)
{
    switch (action) {
    case ZB_ACTION_CREATE_EVENT_BUS:
    case ZB_ACTION_DELETE_EVENT_BUS:
    case ZB_ACTION_PUT_RULE:
    case ZB_ACTION_DELETE_RULE:
    case ZB_ACTION_ENABLE_RULE:
    case ZB_ACTION_DISABLE_RULE:
    case ZB_ACTION_PUT_TARGETS:
    case ZB_ACTION_REMOVE_TARGETS:
        return true;
    default:
        return false;
    }
}

/* ==== error codes ============================================================ */

static const char *const s_error_names[ZB_ERR_COUNT_] = {
    [ZB_OK] = "",
    [ZB_ERR_SERIALIZATION] = "SerializationException",
    [ZB_ERR_UNKNOWN_OPERATION] = "UnknownOperationException",
    [ZB_ERR_VALIDATION] = "ValidationException",
    [ZB_ERR_NOT_FOUND] = "ResourceNotFoundException",
    [ZB_ERR_ALREADY_EXISTS] = "ResourceAlreadyExistsException",
    [ZB_ERR_INVALID_PATTERN] = "InvalidEventPatternException",
    [ZB_ERR_LIMIT_EXCEEDED] = "LimitExceededException",
    [ZB_ERR_INTERNAL] = "InternalException",
    [ZB_ERR_INVALID_ARGUMENT] = "InvalidArgument",
    [ZB_ERR_MALFORMED_DETAIL] = "MalformedDetail",
};

const char *zb_error_code_name(zb_error_code_t code)
{
    if ((int) code < 0 || code >= ZB_ERR_COUNT_)
        return "";
    return s_error_names[code];
}

zb_error_code_t zb_error_code_from_name(const char *s, size_t len)
{
    for (int c = 1; c < ZB_ERR_COUNT_; c++) {
        const char *n = s_error_names[c];
        if (strlen(n) == len && memcmp(n, s, len) == 0)
            return (zb_error_code_t) c;
    }
    return ZB_OK;
}

int zb_proto_fail(zb_proto_error_t *err, zb_error_code_t code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ==== decoded maps =========================================================== */

/* The fields a request decoder looks at itself, found in its pass over
 * the map: each the slot its key holds at the end (the last value of a
 * repeated key, as zb_map_get finds it), or NULL when absent or dropped. */
typedef struct request_slots {
    const zb_field_t *action;
    const zb_field_t *request_id;
} request_slots_t;

/* zb_map_decode, with the value of reader->key (when reader is not NULL)
 * read by reader->read instead of checked by zb_mpk_skip, and, when slots
 * is not NULL, the request's own fields found as their keys go by. */
static int s_map_decode(zb_map_t *m, const void *buf, size_t len, const zb_value_reader_t *reader,
                        request_slots_t *slots, zb_proto_error_t *err)
{
    m->count = 0;
    zb_mpk_t c;
    zb_mpk_init(&c, buf, len);
    uint32_t n;
    if (zb_mpk_read_map(&c, &n) == -1) {
        /* Tell "valid msgpack of the wrong type" from "not msgpack". */
        zb_mpk_t probe = c;
        if (zb_mpk_skip(&probe, ZB_PROTO_MAX_DEPTH) == 0 && zb_mpk_at_end(&probe))
            return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Request body is not a msgpack map.");
        return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Request body is not valid msgpack.");
    }
    /* The reader runs until an Action names another action, and again
     * once a later one names its own: before any Action it may be needed
     * (many clients write Action last), after another it is not. */
    const char *reader_action = reader ? zb_action_name(reader->action) : NULL;
    bool reader_on = reader != NULL;
    for (uint32_t i = 0; i < n; i++) {
        const char *key = NULL;
        uint32_t klen = 0;
        bool keyed = zb_mpk_read_str(&c, &key, &klen) == 0;
        if (!keyed && zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH) == -1)
            return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Request body is not valid msgpack.");
        const uint8_t *val = c.p;
        int rc = reader_on && keyed && klen == reader->key_len
                         && memcmp(key, reader->key, klen) == 0
                     ? reader->read(reader->ctx, &c)
                     : zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH);
        if (rc == -1)
            return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Request body is not valid msgpack.");
        if (!keyed)
            continue;
        zb_field_t *f = zb_map_put(m, key, klen, val, (uint32_t) (c.p - val));
        /* A dropped key was not in the map before either: NULL is right. */
        if (slots && klen == 6 && memcmp(key, "Action", 6) == 0) {
            slots->action = f;
            if (reader) {
                zb_mpk_t a;
                const char *s;
                uint32_t slen;
                zb_mpk_init(&a, val, (size_t) (c.p - val));
                reader_on = zb_mpk_read_str(&a, &s, &slen) == 0 && slen == strlen(reader_action)
                            && memcmp(s, reader_action, slen) == 0;
            }
        }
        else if (slots && klen == 9 && memcmp(key, "RequestId", 9) == 0)
            slots->request_id = f;
    }
    if (!zb_mpk_at_end(&c))
        return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Request body is not valid msgpack.");
    return 0;
}

int zb_map_decode(zb_map_t *m, const void *buf, size_t len, zb_proto_error_t *err)
{
    return s_map_decode(m, buf, len, NULL, NULL, err);
}

/* Positions a cursor on a present, non-nil field. Returns 1 when absent. */
static int s_field_cursor(const zb_map_t *m, const char *key, zb_mpk_t *c)
{
    const zb_field_t *f = zb_map_get(m, key);
    if (!f || (f->val_len > 0 && f->val[0] == 0xc0)) /* 0xc0: nil */
        return 1;
    zb_mpk_init(c, f->val, f->val_len);
    return 0;
}

int zb_map_get_str(const zb_map_t *m, const char *key, const char **s, uint32_t *len)
{
    zb_mpk_t c;
    int rc = s_field_cursor(m, key, &c);
    if (rc)
        return rc;
    return zb_mpk_read_str(&c, s, len) == 0 ? 0 : -1;
}

int zb_map_get_bool(const zb_map_t *m, const char *key, bool *value)
{
    zb_mpk_t c;
    int rc = s_field_cursor(m, key, &c);
    if (rc)
        return rc;
    return zb_mpk_read_bool(&c, value) == 0 ? 0 : -1;
}

int zb_map_get_int(const zb_map_t *m, const char *key, int64_t *value)
{
    zb_mpk_t c;
    int rc = s_field_cursor(m, key, &c);
    if (rc)
        return rc;
    return zb_mpk_read_int(&c, value) == 0 ? 0 : -1;
}

int zb_map_require_str(const zb_map_t *m, const char *key, bool required, const char **s,
                       uint32_t *len, zb_proto_error_t *err)
{
    int rc = zb_map_get_str(m, key, s, len);
    if (rc == -1)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter %s is not valid. Reason: %s must be a string.", key, key);
    if (rc == 1 && required)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter %s is not valid. Reason: %s is a required argument.", key,
                             key);
    return rc;
}

/* ==== requests =============================================================== */

int zb_request_decode(zb_request_t *req, const void *body, size_t len, zb_proto_error_t *err)
{
    return zb_request_decode_with(req, body, len, NULL, err);
}

int zb_request_decode_with(zb_request_t *req, const void *body, size_t len,
                           const zb_value_reader_t *reader, zb_proto_error_t *err)
{
    req->action = ZB_ACTION_UNKNOWN;
    req->action_name = NULL;
    req->action_name_len = 0;
    req->request_id = NULL;
    req->request_id_len = 0;
    request_slots_t slots = { NULL, NULL };
    if (s_map_decode(&req->map, body, len, reader, &slots, err) == -1)
        return -1;
    const zb_field_t *rid = slots.request_id;
    if (rid && rid->val_len > ZB_MAX_REQUEST_ID_BYTES)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter RequestId is not valid. Reason: must encode in at most "
                             "%d bytes.",
                             ZB_MAX_REQUEST_ID_BYTES);
    /* The reply echoes RequestId one level below its root, as the request
     * had it; a RequestId as deep as the request limit allows would make a
     * reply that readers bounded at ZB_PROTO_MAX_DEPTH refuse. Correlation
     * ids are scalars or small structures: bound their nesting. */
    zb_mpk_t c;
    if (rid) {
        zb_mpk_init(&c, rid->val, rid->val_len);
        if (zb_mpk_skip(&c, ZB_MAX_REQUEST_ID_DEPTH) == -1)
            return zb_proto_fail(err, ZB_ERR_VALIDATION,
                                 "Parameter RequestId is not valid. Reason: must nest at most %d "
                                 "levels.",
                                 ZB_MAX_REQUEST_ID_DEPTH);
        req->request_id = rid->val;
        req->request_id_len = rid->val_len;
    }
    /* Action as zb_map_get_str reads it: nil counts as absent. */
    const zb_field_t *act = slots.action;
    if (!act || act->val[0] == 0xc0)
        return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Action is a required field.");
    zb_mpk_init(&c, act->val, act->val_len);
    if (zb_mpk_read_str(&c, &req->action_name, &req->action_name_len) == -1) {
        req->action_name = NULL; /* as zb_map_get_str leaves them */
        req->action_name_len = 0;
        return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Action is a required field.");
    }
    req->action = zb_action_from_name(req->action_name, req->action_name_len);
    if (req->action == ZB_ACTION_UNKNOWN) {
        /* Quote at most 64 bytes of a hostile name, printable ASCII only. */
        char shown[65];
        uint32_t n = req->action_name_len < 64 ? req->action_name_len : 64;
        for (uint32_t i = 0; i < n; i++) {
            char ch = req->action_name[i];
            shown[i] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
        }
        shown[n] = '\0';
        return zb_proto_fail(err, ZB_ERR_UNKNOWN_OPERATION, "Unknown action: %s.", shown);
    }
    return 0;
}

int zb_put_cstr(zb_buf_t *out, const char *s)
{
    return zb_mpk_put_str(out, s, strlen(s));
}

int zb_request_begin(zb_buf_t *out, zb_action_t action, uint32_t nfields,
                     const void *request_id, size_t request_id_len)
{
    if (zb_mpk_put_map(out, nfields + 1 + (request_id ? 1 : 0)) == -1
        || zb_put_cstr(out, "Action") == -1 || zb_put_cstr(out, zb_action_name(action)) == -1)
        return -1;
    if (request_id
        && (zb_put_cstr(out, "RequestId") == -1
            || zb_buf_append(out, request_id, request_id_len) == -1))
        return -1;
    return 0;
}

/* ==== replies ================================================================ */

static int s_put_request_id(zb_buf_t *out, const zb_request_t *req)
{
    if (zb_put_cstr(out, "RequestId") == -1)
        return -1;
    return zb_buf_append(out, req->request_id, req->request_id_len);
}

int zb_reply_begin(zb_buf_t *out, const zb_request_t *req, uint32_t nfields)
{
    bool rid = req && req->request_id;
    uint32_t n = nfields + (rid ? 1 : 0);
    if (n >= 16) {
        if (zb_mpk_put_map(out, n) == -1)
            return -1;
        return rid ? s_put_request_id(out, req) : 0;
    }
    /* Every reply starts here: a fixmap header and RequestId's key
     * pre-encoded, in one reserve. */
    size_t rid_len = rid ? req->request_id_len : 0;
    if (zb_buf_reserve(out, 1 + 10 + rid_len) == -1)
        return -1;
    uint8_t *p = (uint8_t *) out->data + out->len;
    *p++ = (uint8_t) (0x80 | n);
    if (rid) {
        memcpy(p, "\xa9" "RequestId", 10);
        memcpy(p + 10, req->request_id, rid_len);
        p += 10 + rid_len;
    }
    out->len = (size_t) (p - (uint8_t *) out->data);
    out->data[out->len] = '\0';
    return 0;
}

int zb_reply_error(zb_buf_t *out, const zb_request_t *req, zb_error_code_t code,
                   const char *message)
{
    if (zb_reply_begin(out, req, 1) == -1 || zb_put_cstr(out, "Error") == -1
        || zb_mpk_put_map(out, 2) == -1 || zb_put_cstr(out, "Code") == -1
        || zb_put_cstr(out, zb_error_code_name(code)) == -1
        || zb_put_cstr(out, "Message") == -1 || zb_put_cstr(out, message) == -1)
        return -1;
    return 0;
}

int zb_reply_decode(zb_map_t *m, const void *body, size_t len, zb_proto_error_t *err)
{
    zb_proto_error_t local;
    if (!err)
        err = &local;
    err->code = ZB_OK;
    err->message[0] = '\0';
    err->code_name[0] = '\0';
    if (zb_map_decode(m, body, len, err) == -1)
        return -1;
    const zb_field_t *e = zb_map_get(m, "Error");
    if (!e)
        return 0;
    zb_map_t em;
    /* A reply with an Error is never a success, even a malformed one. */
    if (zb_map_decode(&em, e->val, e->val_len, NULL) == -1)
        return zb_proto_fail(err, ZB_ERR_SERIALIZATION, "Error is not a map.");
    const char *s;
    uint32_t n;
    err->code = ZB_ERR_INTERNAL;
    snprintf(err->code_name, sizeof err->code_name, "%s", zb_error_code_name(ZB_ERR_INTERNAL));
    if (zb_map_get_str(&em, "Code", &s, &n) == 0) {
        zb_error_code_t code = zb_error_code_from_name(s, n);
        if (code != ZB_OK)
            err->code = code;
        snprintf(err->code_name, sizeof err->code_name, "%.*s", (int) n, s);
    }
    if (zb_map_get_str(&em, "Message", &s, &n) == 0)
        snprintf(err->message, sizeof err->message, "%.*s", (int) n, s);
    return 0;
}

/* ==== envelope =============================================================== */

/* memcpy for the short strings an envelope is made of, in line: up to 32
 * bytes by loads that overlap rather than a loop or a call. */
static inline void s_copy(uint8_t *d, const char *s, size_t n)
{
    uint64_t a, b, c, e;
    if (n >= 8) {
        if (n > 32) {
            memcpy(d, s, n);
            return;
        }
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (n > 16) {
            memcpy(&c, s + 8, 8);
            memcpy(&e, s + n - 16, 8);
            memcpy(d + 8, &c, 8);
            memcpy(d + n - 16, &e, 8);
        }
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    }
    else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    }
    else if (n > 0) {
        d[0] = (uint8_t) s[0];
        d[n / 2] = (uint8_t) s[n / 2];
        d[n - 1] = (uint8_t) s[n - 1];
    }
}

/* Writes a msgpack str header and bytes at p; returns the end. */
static inline uint8_t *s_raw_str(uint8_t *p, const char *s, size_t len)
{
    if (len < 32)
        *p++ = (uint8_t) (0xa0 | len);
    else if (len < 0x100) {
        *p++ = 0xd9;
        *p++ = (uint8_t) len;
    }
    else if (len < 0x10000) {
        *p++ = 0xda;
        *p++ = (uint8_t) (len >> 8);
        *p++ = (uint8_t) len;
    }
    else {
        *p++ = 0xdb;
        *p++ = (uint8_t) (len >> 24);
        *p++ = (uint8_t) (len >> 16);
        *p++ = (uint8_t) (len >> 8);
        *p++ = (uint8_t) len;
    }
    s_copy(p, s, len);
    return p + len;
}

#define S_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

int zb_envelope_begin(zb_buf_t *out, const zb_envelope_t *env)
{
    /* This runs once per event: one reserve, then direct writes with the
     * constant keys pre-encoded, rather than a call per item. */
    size_t need = 128 + ZB_UUID_LEN + ZB_TIME_LEN + env->detail_type_len + env->source_len
                  + env->account_len + env->region_len + env->resources_len + 4 * 5;
    if (zb_buf_reserve(out, need) == -1)
        return -1;
    uint8_t *p = (uint8_t *) out->data + out->len;
    p = S_LIT(p, "\x89\xa7version\xa1" "0" "\xa2id");
    p = s_raw_str(p, env->id, ZB_UUID_LEN);
    p = S_LIT(p, "\xab" "detail-type");
    p = s_raw_str(p, env->detail_type, env->detail_type_len);
    p = S_LIT(p, "\xa6source");
    p = s_raw_str(p, env->source, env->source_len);
    p = S_LIT(p, "\xa7" "account");
    p = s_raw_str(p, env->account, env->account_len);
    p = S_LIT(p, "\xa4time");
    p = s_raw_str(p, env->time, ZB_TIME_LEN);
    p = S_LIT(p, "\xa6region");
    p = s_raw_str(p, env->region, env->region_len);
    p = S_LIT(p, "\xa9resources");
    if (env->resources) {
        memcpy(p, env->resources, env->resources_len);
        p += env->resources_len;
    }
    else
        *p++ = 0x90;
    p = S_LIT(p, "\xa6" "detail");
    out->len = (size_t) (p - (uint8_t *) out->data);
    out->data[out->len] = '\0';
    return 0;
}

static int s_view_str(const zb_map_t *m, const char *key, const char **s, uint32_t *len)
{
    return zb_map_get_str(m, key, s, len) == 0 ? 0 : -1;
}

int zb_envelope_decode(zb_envelope_view_t *v, const void *buf, size_t len)
{
    zb_map_t m;
    if (zb_map_decode(&m, buf, len, NULL) == -1)
        return -1;
    if (s_view_str(&m, "version", &v->version, &v->version_len) == -1
        || s_view_str(&m, "id", &v->id, &v->id_len) == -1
        || s_view_str(&m, "detail-type", &v->detail_type, &v->detail_type_len) == -1
        || s_view_str(&m, "source", &v->source, &v->source_len) == -1
        || s_view_str(&m, "account", &v->account, &v->account_len) == -1
        || s_view_str(&m, "time", &v->time, &v->time_len) == -1
        || s_view_str(&m, "region", &v->region, &v->region_len) == -1)
        return -1;
    const zb_field_t *r = zb_map_get(&m, "resources");
    const zb_field_t *d = zb_map_get(&m, "detail");
    if (!r || !d)
        return -1;
    zb_mpk_t c;
    uint32_t n;
    zb_mpk_init(&c, r->val, r->val_len);
    if (zb_mpk_read_array(&c, &n) == -1)
        return -1;
    zb_mpk_init(&c, d->val, d->val_len);
    if (zb_mpk_read_map(&c, &n) == -1)
        return -1;
    v->resources = r->val;
    v->resources_len = r->val_len;
    v->detail = d->val;
    v->detail_len = d->val_len;
    return 0;
}

/* ==== ids and times ========================================================== */

static uint64_t s_xs128p(uint64_t s[2])
{
    uint64_t a = s[0];
    const uint64_t b = s[1];
    s[0] = b;
    a ^= a << 23;
    s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return s[1] + b;
}

void zb_uuid7_init(zb_uuid7_t *gen)
{
    memset(gen, 0, sizeof *gen);
    if (getrandom(gen->rng, sizeof gen->rng, GRND_NONBLOCK) != (ssize_t) sizeof gen->rng) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        gen->rng[0] = (uint64_t) ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t) getpid();
        gen->rng[1] = (uint64_t) ts.tv_sec * 0xbf58476d1ce4e5b9ull;
    }
    if (gen->rng[0] == 0 && gen->rng[1] == 0)
        gen->rng[1] = 1;
}

void zb_uuid_format(uint64_t hi, uint64_t lo, char out[ZB_UUID_LEN + 1])
{
    char hex[32];
    zb_hex32(hi, lo, hex);
    /* 8-4-4-4-12 */
    memcpy(out, hex, 8);
    memcpy(out + 9, hex + 8, 4);
    memcpy(out + 14, hex + 12, 4);
    memcpy(out + 19, hex + 16, 4);
    memcpy(out + 24, hex + 20, 12);
    out[8] = out[13] = out[18] = out[23] = '-';
    out[ZB_UUID_LEN] = '\0';
}

void zb_uuid7_next(zb_uuid7_t *gen, uint64_t now_ms, char out[ZB_UUID_LEN + 1])
{
    /* Within one millisecond the 12-bit counter orders ids; if it runs out,
     * or the clock steps back, borrow the next millisecond instead so ids
     * from one generator stay strictly increasing. */
    if (now_ms > gen->last_ms) {
        gen->last_ms = now_ms;
        gen->counter = (uint32_t) (s_xs128p(gen->rng) & 0x1ff); /* leave room to count */
    }
    else if (++gen->counter > 0xfff) {
        gen->last_ms++;
        gen->counter = 0;
    }
    uint64_t r = s_xs128p(gen->rng);
    /* The 16 bytes as two big-endian words: 48 bits of ms, version 7 and
     * the counter; variant 10 and 62 random bits. */
    uint64_t hi = (gen->last_ms << 16) | 0x7000u | (gen->counter & 0x0fffu);
    uint64_t lo = (0x80ull << 56) | (r & 0x3fffffffffffffffull);
    zb_uuid_format(hi, lo, out);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned) (y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

void zb_time_format(int64_t t, char out[ZB_TIME_LEN + 1])
{
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    /* civil_from_days */
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned) (z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t) yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    /* By hand: snprintf cannot prove the width to the compiler, and this
     * runs once per second of event time. */
    unsigned f[6] = { (unsigned) y, m, d, (unsigned) (secs / 3600), (unsigned) (secs / 60 % 60),
                      (unsigned) (secs % 60) };
    static const char seps[6] = { '-', '-', 'T', ':', ':', 'Z' };
    char *o = out;
    for (int i = 0; i < 6; i++) {
        if (i == 0) {
            *o++ = (char) ('0' + f[0] / 1000);
            *o++ = (char) ('0' + f[0] / 100 % 10);
        }
        *o++ = (char) ('0' + f[i] / 10 % 10);
        *o++ = (char) ('0' + f[i] % 10);
        *o++ = seps[i];
    }
    *o = '\0';
}

static int s_digits(const char *s, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return 0;
}

int zb_time_parse(const char *s, size_t len, int64_t *unix_seconds)
{
    int y, mo, d, h, mi, se;
    if (len < 20 || s_digits(s, 4, &y) || s[4] != '-' || s_digits(s + 5, 2, &mo) || s[7] != '-'
        || s_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || s_digits(s + 11, 2, &h) || s[13] != ':' || s_digits(s + 14, 2, &mi) || s[16] != ':'
        || s_digits(s + 17, 2, &se))
        return -1;
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)
        || h > 23 || mi > 59 || se > 60)
        return -1;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return -1;
    }
    int offset = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z'))
        i++;
    else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (s_digits(s + i + 1, 2, &oh) || s_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    }
    else
        return -1;
    if (i != len)
        return -1;
    if (se == 60)
        se = 59; /* a leap second maps onto the second before it */
    *unix_seconds = s_days_from_civil(y, (unsigned) mo, (unsigned) d) * 86400 + h * 3600
                    + mi * 60 + se - offset;
    return 0;
}

int zb_time_from_ext(const uint8_t *p, uint32_t len, int64_t *unix_seconds)
{
    if (len == 4) {
        *unix_seconds = (int64_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                                   | ((uint32_t) p[2] << 8) | p[3]);
        return 0;
    }
    uint64_t v = 0;
    if (len == 8) {
        for (int i = 0; i < 8; i++)
            v = (v << 8) | p[i];
        uint32_t nsec = (uint32_t) (v >> 34);
        if (nsec > 999999999u)
            return -1;
        *unix_seconds = (int64_t) (v & 0x3ffffffffull);
        return 0;
    }
    if (len == 12) {
        uint32_t nsec = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                        | ((uint32_t) p[2] << 8) | p[3];
        if (nsec > 999999999u)
            return -1;
        for (int i = 4; i < 12; i++)
            v = (v << 8) | p[i];
        *unix_seconds = (int64_t) v;
        return 0;
    }
    return -1;
}
