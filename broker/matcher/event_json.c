/*
 * event_json.c — reads a JSON event and feeds the fields some rule names to
 * the match context; everything else is validated and skipped without
 * building anything.
 *
 * Strict RFC 8259 like common/json.c (the same event must be refused by
 * both), but streaming: strings without escapes are used in place, others
 * are unescaped into the context's scratch buffer.
 */
#include "matcher_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct {
    const char *start, *p, *end;
    zb_match_ctx_t *ctx;
    const zb_matcher_t *m;
    zb_matcher_error_t *err;
    int depth;
} s_rd_t;

static int s_fail(s_rd_t *rd, const char *what)
{
    if (rd->err) {
        snprintf(rd->err->message, sizeof rd->err->message, "Event is not valid JSON: %s", what);
        rd->err->path[0] = '\0';
        rd->err->offset = (long) (rd->p - rd->start);
    }
    return -1;
}

static inline void s_ws(s_rd_t *rd)
{
    while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\n' || *rd->p == '\r' || *rd->p == '\t'))
        rd->p++;
}

/* Word-at-a-time scan: returns the first position in [p, end) holding a
 * quote, a backslash, a control character or a non-ASCII byte (or end).
 * Plain ASCII runs are most of any event, so this is the hot loop. */
static inline const char *s_plain_run(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x;
        if (hit & highs)
            break;
        p += 8;
    }
    while (p < end) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
            break;
        p++;
    }
    return p;
}

/* Reads a string (rd->p on the opening quote). With `want`, *s and *len get
 * its unescaped bytes (in place, or in the context's scratch). */
static int s_string(s_rd_t *rd, bool want, const char **s, size_t *len)
{
    const char *end = rd->end;
    /* Fast path: plain ASCII up to the closing quote. */
    const char *q = s_plain_run(++rd->p, end);
    if (q < end && *q == '"') {
        if (want) {
            *s = rd->p;
            *len = (size_t) (q - rd->p);
        }
        rd->p = q + 1;
        return 0;
    }
    /* Slow path: validate (and unescape when wanted) from the start. */
    char *out = NULL;
    size_t n = 0;
    if (want) {
        /* unescaped text is never longer than the source */
        size_t bound = (size_t) (end - rd->p);
        out = mt_ctx_text(rd->ctx, bound + 1);
        if (!out)
            return s_fail(rd, "out of memory");
    }
    const char *p = rd->p;
    while (p < end) {
        unsigned char c = (unsigned char) *p;
        if (c == '"') {
            rd->p = p + 1;
            if (want) {
                *s = out;
                *len = n;
            }
            return 0;
        }
        if (c < 0x20) {
            rd->p = p;
            return s_fail(rd, "control character in string");
        }
        if (c == '\\') {
            if (end - p < 2) {
                rd->p = p;
                return s_fail(rd, "bad escape");
            }
            char e = p[1];
            char r;
            switch (e) {
            case '"': r = '"'; break;
            case '\\': r = '\\'; break;
            case '/': r = '/'; break;
            case 'b': r = '\b'; break;
            case 'f': r = '\f'; break;
            case 'n': r = '\n'; break;
            case 'r': r = '\r'; break;
            case 't': r = '\t'; break;
            case 'u': {
                unsigned cp;
                int k = zb_json_u_escape(p, end, &cp);
                if (k < 0) {
                    rd->p = k == ZB_U_ESCAPE_BAD ? p : p + 6;
                    return s_fail(rd, k == ZB_U_ESCAPE_BAD ? "bad \\u escape"
                                                           : "lone surrogate in \\u escape");
                }
                p += k;
                if (want)
                    n += zb_utf8_encode(cp, out + n);
                continue;
            }
            default:
                rd->p = p;
                return s_fail(rd, "bad escape");
            }
            if (want)
                out[n++] = r;
            p += 2;
            continue;
        }
        if (c < 0x80) {
            if (want)
                out[n++] = (char) c;
            p++;
            continue;
        }
        size_t k = zb_utf8_seq((const unsigned char *) p, (size_t) (end - p));
        if (k == 0) {
            rd->p = p;
            return s_fail(rd, "invalid UTF-8");
        }
        if (want) {
            memcpy(out + n, p, k);
            n += k;
        }
        p += k;
    }
    rd->p = end;
    return s_fail(rd, "unterminated string");
}

static const double s_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Reads a number; with `want`, its value. Values are correctly rounded:
 * an exact fast path (mantissa < 2^53, power of ten <= 22, one division or
 * multiplication, each exact-then-rounded once) or strtod. */
static int s_number(s_rd_t *rd, bool want, double *out)
{
    const char *s = rd->p, *p = s, *e = rd->end;
    bool neg = false;
    uint64_t mant = 0;
    int digits = 0, frac = 0;
    if (p < e && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= e)
        return s_fail(rd, "bad number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9') {
            if (digits < 19)
                mant = mant * 10 + (uint64_t) (*p - '0');
            digits++;
            p++;
        }
    } else {
        rd->p = p;
        return s_fail(rd, "bad number");
    }
    bool simple = true;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9') {
            rd->p = p;
            return s_fail(rd, "bad number");
        }
        while (p < e && *p >= '0' && *p <= '9') {
            if (digits < 19)
                mant = mant * 10 + (uint64_t) (*p - '0');
            else
                simple = false;
            digits += digits > 0 || *p != '0';
            frac++;
            p++;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        simple = false;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9') {
            rd->p = p;
            return s_fail(rd, "bad number");
        }
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    rd->p = p;
    if (!want)
        return 0;
    if (simple && digits <= 19 && mant < ((uint64_t) 1 << 53) && frac <= 22) {
        double d = (double) mant / s_pow10[frac];
        *out = neg ? -d : d;
        return 0;
    }
    size_t n = (size_t) (p - s);
    char tmp[128];
    char *buf = tmp;
    if (n >= sizeof tmp) {
        buf = mt_ctx_text(rd->ctx, n + 1);
        if (!buf)
            return s_fail(rd, "out of memory");
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return 0;
}

static int s_literal(s_rd_t *rd, const char *word, size_t n)
{
    if ((size_t) (rd->end - rd->p) < n || memcmp(rd->p, word, n) != 0)
        return s_fail(rd, "unexpected character");
    rd->p += n;
    return 0;
}

static int s_value(s_rd_t *rd, uint32_t st);

/* End of the run of ASCII digits starting at p; 8 at a time while it can
 * (coordinates and ids make digit runs the bulk of many events). */
static inline const char *s_digits(const char *p, const char *e)
{
    while (e - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        /* every byte in 0x30..0x39: high nibble 3, and +6 keeps it there */
        if ((x & 0xf0f0f0f0f0f0f0f0ULL) != 0x3030303030303030ULL ||
            ((x + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) != 0x3030303030303030ULL)
            break;
        p += 8;
    }
    while (p < e && (unsigned) (*p - '0') < 10)
        p++;
    return p;
}

/* Validates a number starting at p; returns the position after it, or
 * NULL if it is malformed. */
static inline const char *s_skip_number(const char *p, const char *e)
{
    if (p < e && *p == '-')
        p++;
    if (p < e && *p == '0')
        p++;
    else if (p < e && (unsigned) (*p - '1') < 9)
        p = s_digits(p + 1, e);
    else
        return NULL;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || (unsigned) (*p - '0') >= 10)
            return NULL;
        p = s_digits(p + 1, e);
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || (unsigned) (*p - '0') >= 10)
            return NULL;
        p = s_digits(p + 1, e);
    }
    return p;
}

#define S_WS(p, e)                                                                                 \
    while ((p) < (e) && (*(p) == ' ' || *(p) == '\n' || *(p) == '\r' || *(p) == '\t'))         \
    (p)++

/* Skips one value, validating it, without recursion: `open` remembers the
 * containers entered (bounded by MT_MAX_DEPTH with the reader's depth).
 * Works on a local cursor; rd->p is written back before any call that
 * reads it and on return. */
static int s_skip(s_rd_t *rd)
{
    char open[MT_MAX_DEPTH + 1];
    int sp = 0;
    const char *p = rd->p, *e = rd->end;
    const char *why = "unexpected character";
value:
    S_WS(p, e);
    if (p >= e) {
        why = "unexpected end of input";
        goto fail;
    }
    switch (*p) {
    case '"': {
        const char *q = s_plain_run(p + 1, e);
        if (q < e && *q == '"') {
            p = q + 1;
        } else {
            rd->p = p;
            if (s_string(rd, false, NULL, NULL) != 0)
                return -1;
            p = rd->p;
        }
        break;
    }
    case '{':
    case '[': {
        char c = *p;
        if (rd->depth + sp + 1 > MT_MAX_DEPTH) {
            why = "nesting deeper than 64 levels";
            goto fail;
        }
        p++;
        S_WS(p, e);
        if (p < e && *p == (c == '{' ? '}' : ']')) {
            p++;
            break;
        }
        open[sp++] = c;
        if (c == '[')
            goto value;
        goto key;
    }
    case 't':
        if (e - p < 4 || memcmp(p, "true", 4) != 0)
            goto fail;
        p += 4;
        break;
    case 'f':
        if (e - p < 5 || memcmp(p, "false", 5) != 0)
            goto fail;
        p += 5;
        break;
    case 'n':
        if (e - p < 4 || memcmp(p, "null", 4) != 0)
            goto fail;
        p += 4;
        break;
    default: {
        const char *q = s_skip_number(p, e);
        if (!q) {
            why = *p == '-' || (unsigned) (*p - '0') < 10 ? "bad number" : "unexpected character";
            goto fail;
        }
        p = q;
        break;
    }
    }
    /* after a value */
    for (;;) {
        if (sp == 0) {
            rd->p = p;
            return 0;
        }
        S_WS(p, e);
        if (p >= e) {
            why = "unexpected end of input";
            goto fail;
        }
        char c = *p;
        if (c == ',') {
            p++;
            if (open[sp - 1] == '[')
                goto value;
            goto key;
        }
        if (c != (open[sp - 1] == '{' ? '}' : ']')) {
            why = "expected ',' or a closing bracket";
            goto fail;
        }
        p++;
        sp--;
    }
key:
    S_WS(p, e);
    if (p >= e || *p != '"') {
        why = "expected a string key";
        goto fail;
    }
    {
        const char *q = s_plain_run(p + 1, e);
        if (q < e && *q == '"') {
            p = q + 1;
        } else {
            rd->p = p;
            if (s_string(rd, false, NULL, NULL) != 0)
                return -1;
            p = rd->p;
        }
    }
    S_WS(p, e);
    if (p >= e || *p != ':') {
        why = "expected ':'";
        goto fail;
    }
    p++;
    goto value;
fail:
    rd->p = p;
    return s_fail(rd, why);
}

static int s_object(s_rd_t *rd, uint32_t st)
{
    if (++rd->depth > MT_MAX_DEPTH)
        return s_fail(rd, "nesting deeper than 64 levels");
    rd->p++;
    s_ws(rd);
    if (rd->p < rd->end && *rd->p == '}') {
        rd->p++;
        rd->depth--;
        return 0;
    }
    bool children = mt_state_has_children(rd->m, st);
    for (;;) {
        s_ws(rd);
        if (rd->p >= rd->end || *rd->p != '"')
            return s_fail(rd, "expected a string key");
        const char *k = NULL;
        size_t klen = 0;
        if (s_string(rd, children, &k, &klen) != 0)
            return -1;
        uint32_t child = children ? mt_child_fast(rd->m, st, k, klen) : MT_NONE;
        s_ws(rd);
        if (rd->p >= rd->end || *rd->p != ':')
            return s_fail(rd, "expected ':'");
        rd->p++;
        if ((child == MT_NONE ? s_skip(rd) : s_value(rd, child)) != 0)
            return -1;
        s_ws(rd);
        if (rd->p >= rd->end)
            return s_fail(rd, "unexpected end of input");
        if (*rd->p == ',') {
            rd->p++;
            continue;
        }
        if (*rd->p == '}') {
            rd->p++;
            rd->depth--;
            return 0;
        }
        return s_fail(rd, "expected ',' or '}'");
    }
}

static int s_array(s_rd_t *rd, uint32_t st)
{
    if (++rd->depth > MT_MAX_DEPTH)
        return s_fail(rd, "nesting deeper than 64 levels");
    rd->p++;
    s_ws(rd);
    if (rd->p < rd->end && *rd->p == ']') {
        rd->p++;
        rd->depth--;
        return 0;
    }
    if (mt_ctx_push_array(rd->ctx) != 0)
        return s_fail(rd, "out of memory");
    for (uint32_t i = 0;; i++) {
        mt_ctx_set_index(rd->ctx, i);
        if (s_value(rd, st) != 0)
            return -1;
        s_ws(rd);
        if (rd->p >= rd->end)
            return s_fail(rd, "unexpected end of input");
        if (*rd->p == ',') {
            rd->p++;
            continue;
        }
        if (*rd->p == ']') {
            rd->p++;
            rd->depth--;
            mt_ctx_pop_array(rd->ctx);
            return 0;
        }
        return s_fail(rd, "expected ',' or ']'");
    }
}

/* A value at state `st` (a path some rule names). */
static int s_value(s_rd_t *rd, uint32_t st)
{
    s_ws(rd);
    if (rd->p >= rd->end)
        return s_fail(rd, "unexpected end of input");
    bool wants = mt_state_wants_value(rd->m, st);
    mt_value_t v;
    switch (*rd->p) {
    case '{':
        return mt_state_has_children(rd->m, st) ? s_object(rd, st) : s_skip(rd);
    case '[':
        return wants || mt_state_has_children(rd->m, st) ? s_array(rd, st) : s_skip(rd);
    case '"':
        v.type = MT_V_STR;
        if (s_string(rd, wants, &v.s, &v.len) != 0)
            return -1;
        if (wants)
            mt_ctx_string(rd->ctx, st, v.s, v.len);
        return 0;
    case 't':
        v.type = MT_V_TRUE;
        if (s_literal(rd, "true", 4) != 0)
            return -1;
        break;
    case 'f':
        v.type = MT_V_FALSE;
        if (s_literal(rd, "false", 5) != 0)
            return -1;
        break;
    case 'n':
        v.type = MT_V_NULL;
        if (s_literal(rd, "null", 4) != 0)
            return -1;
        break;
    default:
        if (*rd->p != '-' && (*rd->p < '0' || *rd->p > '9'))
            return s_fail(rd, "unexpected character");
        v.type = MT_V_NUM;
        if (s_number(rd, wants, &v.num) != 0)
            return -1;
        break;
    }
    if (wants)
        mt_ctx_value(rd->ctx, st, &v);
    return 0;
}

int mt_event_json(zb_match_ctx_t *ctx, const char *text, size_t len, zb_matcher_error_t *err)
{
    s_rd_t rd = {.start = text, .p = text, .end = text + len, .ctx = ctx, .m = ctx->m, .err = err};
    s_ws(&rd);
    if (rd.p >= rd.end || *rd.p != '{')
        return s_fail(&rd, "the event must be an object");
    if (s_object(&rd, 0) != 0)
        return -1;
    s_ws(&rd);
    if (rd.p != rd.end)
        return s_fail(&rd, "trailing characters after the event");
    if (ctx->oom)
        return s_fail(&rd, "out of memory");
    return 0;
}
