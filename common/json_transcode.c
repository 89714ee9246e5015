/*
 * json_transcode.c — JSON text <-> msgpack bytes. See json.h.
 *
 * JSON -> msgpack parses into a tree first (strict validation comes for
 * free), then writes msgpack with the mpk writers. msgpack -> JSON walks the
 * cursor with an explicit depth bound.
 */
#include "json.h"
#include "mpk.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int s_err(zb_json_error_t *err, long offset, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->offset = offset;
    }
    return -1;
}

/* True if the number text is a plain integer (no fraction or exponent). */
static bool s_is_integer_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return false;
    return true;
}

static int s_emit(const zb_json_t *v, zb_buf_t *out)
{
    switch (v->type) {
    case ZB_JSON_NULL:
        return zb_mpk_put_nil(out);
    case ZB_JSON_TRUE:
        return zb_mpk_put_bool(out, true);
    case ZB_JSON_FALSE:
        return zb_mpk_put_bool(out, false);
    case ZB_JSON_STRING:
        return zb_mpk_put_str(out, v->str, v->len);
    case ZB_JSON_NUMBER:
        if (s_is_integer_text(v->str, v->len) && v->len < 24) {
            char tmp[32];
            memcpy(tmp, v->str, v->len);
            tmp[v->len] = '\0';
            errno = 0;
            if (tmp[0] == '-') {
                long long ll = strtoll(tmp, NULL, 10);
                if (errno == 0)
                    return zb_mpk_put_int(out, ll);
            } else {
                unsigned long long ull = strtoull(tmp, NULL, 10);
                if (errno == 0)
                    return zb_mpk_put_uint(out, ull);
            }
        }
        return zb_mpk_put_double(out, v->num);
    case ZB_JSON_ARRAY:
        if (zb_mpk_put_array(out, (uint32_t) v->len) != 0)
            return -1;
        for (const zb_json_t *m = v->child; m; m = m->next)
            if (s_emit(m, out) != 0)
                return -1;
        return 0;
    case ZB_JSON_OBJECT:
        if (zb_mpk_put_map(out, (uint32_t) v->len) != 0)
            return -1;
        for (const zb_json_t *m = v->child; m; m = m->next)
            if (zb_mpk_put_str(out, m->key, m->key_len) != 0 || s_emit(m, out) != 0)
                return -1;
        return 0;
    }
    return -1;
}

int zb_json_to_msgpack(const char *text, size_t len, zb_buf_t *out, zb_json_error_t *err)
{
    zb_json_doc_t *doc = zb_json_parse_ex(text, len, ZB_JSON_KEEP_DUPLICATES, err);
    if (!doc)
        return -1;
    int rc = s_emit(zb_json_root(doc), out);
    zb_json_doc_destroy(&doc);
    if (rc != 0)
        return s_err(err, -1, "out of memory");
    return 0;
}

/* ---- msgpack -> JSON ------------------------------------------------------ */

static int s_put_double(zb_buf_t *out, double d)
{
    char tmp[40];
    /* Shortest of %.15g..%.17g that reads back to the same double. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* Keep it a JSON number that reads back as a float, not an integer. */
    if (!strpbrk(tmp, ".eE"))
        strcat(tmp, ".0");
    return zb_buf_append_str(out, tmp);
}

static int s_put_base64(zb_buf_t *out, const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (zb_buf_append_byte(out, '"') != 0)
        return -1;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t) p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], i + 1 < n ? tbl[(v >> 6) & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        if (zb_buf_append(out, q, 4) != 0)
            return -1;
    }
    return zb_buf_append_byte(out, '"');
}

/* msgpack timestamp extension (type -1): 4, 8 or 12 bytes. */
static int s_put_timestamp(zb_buf_t *out, const uint8_t *p, uint32_t n)
{
    int64_t sec;
    uint32_t nsec = 0;
    if (n == 4) {
        sec = (int64_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3]);
    } else if (n == 8) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = (v << 8) | p[i];
        nsec = (uint32_t) (v >> 34);
        sec = (int64_t) (v & 0x3ffffffffULL);
    } else if (n == 12) {
        uint64_t s = 0;
        for (int i = 0; i < 4; i++)
            nsec = (nsec << 8) | p[i];
        for (int i = 4; i < 12; i++)
            s = (s << 8) | p[i];
        sec = (int64_t) s;
    } else {
        return -1;
    }
    if (nsec > 999999999u)
        return -1;
    /* Civil date from days since the epoch (Howard Hinnant's algorithm),
     * so no dependence on time_t width or gmtime. */
    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    if (days > 2932896 || days < -719468)
        return -1; /* outside years 0..9999 */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    char tmp[64];
    if (nsec)
        snprintf(tmp, sizeof tmp, "\"%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09uZ\"", (long long) y,
                 (long long) m, (long long) d, (long long) (rem / 3600), (long long) (rem / 60 % 60),
                 (long long) (rem % 60), nsec);
    else
        snprintf(tmp, sizeof tmp, "\"%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ\"", (long long) y,
                 (long long) m, (long long) d, (long long) (rem / 3600), (long long) (rem / 60 % 60),
                 (long long) (rem % 60));
    return zb_buf_append_str(out, tmp);
}

static int s_to_json(zb_mpk_t *c, zb_buf_t *out, int depth, zb_json_error_t *err)
{
    zb_mpk_item_t it;
    long off = (long) zb_mpk_offset(c);
    if (zb_mpk_read(c, &it) != 0)
        return s_err(err, off, "truncated or invalid msgpack");
    int rc = 0;
    switch (it.type) {
    case ZB_MPK_NIL:
        rc = zb_buf_append(out, "null", 4);
        break;
    case ZB_MPK_BOOL:
        rc = it.v.b ? zb_buf_append(out, "true", 4) : zb_buf_append(out, "false", 5);
        break;
    case ZB_MPK_INT:
        rc = zb_buf_appendf(out, "%lld", (long long) it.v.i);
        break;
    case ZB_MPK_UINT:
        rc = zb_buf_appendf(out, "%llu", (unsigned long long) it.v.u);
        break;
    case ZB_MPK_FLOAT:
        if (!isfinite(it.v.f))
            return s_err(err, off, "NaN or infinity has no JSON form");
        rc = s_put_double(out, it.v.f);
        break;
    case ZB_MPK_STR:
        if (!zb_utf8_valid((const char *) it.v.raw.ptr, it.v.raw.len))
            return s_err(err, off, "string is not valid UTF-8");
        rc = zb_json_put_string(out, (const char *) it.v.raw.ptr, it.v.raw.len);
        break;
    case ZB_MPK_BIN:
        rc = s_put_base64(out, it.v.raw.ptr, it.v.raw.len);
        break;
    case ZB_MPK_EXT:
        if (it.v.raw.ext_type != -1 || s_put_timestamp(out, it.v.raw.ptr, it.v.raw.len) != 0)
            return s_err(err, off, "unsupported msgpack extension type %d", it.v.raw.ext_type);
        break;
    case ZB_MPK_ARRAY:
    case ZB_MPK_MAP: {
        bool is_map = it.type == ZB_MPK_MAP;
        if (depth >= ZB_JSON_MAX_DEPTH)
            return s_err(err, off, "nesting deeper than %d levels", ZB_JSON_MAX_DEPTH);
        if (zb_buf_append_byte(out, is_map ? '{' : '[') != 0)
            return s_err(err, off, "out of memory");
        for (uint32_t i = 0; i < it.v.count; i++) {
            if (i && zb_buf_append_byte(out, ',') != 0)
                return s_err(err, off, "out of memory");
            if (is_map) {
                const char *k;
                uint32_t kn;
                long koff = (long) zb_mpk_offset(c);
                if (zb_mpk_read_str(c, &k, &kn) != 0)
                    return s_err(err, koff, "map key is not a string");
                if (!zb_utf8_valid(k, kn))
                    return s_err(err, koff, "map key is not valid UTF-8");
                if (zb_json_put_string(out, k, kn) != 0 || zb_buf_append_byte(out, ':') != 0)
                    return s_err(err, koff, "out of memory");
            }
            if (s_to_json(c, out, depth + 1, err) != 0)
                return -1;
        }
        rc = zb_buf_append_byte(out, is_map ? '}' : ']');
        break;
    }
    }
    if (rc != 0)
        return s_err(err, off, "out of memory");
    return 0;
}

int zb_msgpack_to_json(const void *buf, size_t len, zb_buf_t *out, zb_json_error_t *err)
{
    zb_mpk_t c;
    zb_mpk_init(&c, buf, len);
    if (s_to_json(&c, out, 0, err) != 0)
        return -1;
    if (!zb_mpk_at_end(&c))
        return s_err(err, (long) zb_mpk_offset(&c), "trailing bytes after the value");
    return 0;
}
