/*
 * utf8.h — UTF-8 decoding, validation and encoding, and JSON's \uXXXX
 * escapes: the one copy that common/json.c, the matcher's streaming JSON
 * reader and its case folding share.
 *
 * Everything is static inline: the matcher's JSON reader calls these per
 * non-ASCII byte and per escape on the event hot path. Callers keep their
 * own ASCII fast paths in front; these helpers are for what those leave.
 */
#ifndef ZB_COMMON_UTF8_H
#define ZB_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes available): 1 for
 * ASCII, 2..4 for a well-formed multi-byte sequence, 0 for anything else
 * (stray continuation byte, overlong form, surrogate, beyond U+10FFFF,
 * truncated). */
static inline size_t zb_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0) {
        if (n < 2 || (s[1] & 0xc0) != 0x80)
            return 0;
        return 2;
    }
    if (c < 0xf0) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c < 0xf5) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && s[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

/* As zb_utf8_seq, and on success the code point in *cp. */
static inline size_t zb_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t k = zb_utf8_seq(s, n);
    if (k <= 1) {
        if (k == 1)
            *cp = s[0];
        return k;
    }
    uint32_t v = s[0] & (0x7fu >> k);
    for (size_t i = 1; i < k; i++)
        v = (v << 6) | (s[i] & 0x3fu);
    *cp = v;
    return k;
}

/* Writes cp (at most U+10FFFF, not a surrogate) as UTF-8 into o, which
 * has room for 4 bytes; returns the number written. */
static inline size_t zb_utf8_encode(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char) (0xc0 | (cp >> 6));
        o[1] = (char) (0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char) (0xe0 | (cp >> 12));
        o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char) (0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char) (0xf0 | (cp >> 18));
    o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char) (0x80 | (cp & 0x3f));
    return 4;
}

/* Four hex digits at p (the caller checked they are there) into *out;
 * 0, or -1 when one is not a hex digit. */
static inline int zb_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned) (c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned) (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned) (c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* What zb_json_u_escape found wrong. */
#define ZB_U_ESCAPE_BAD (-1)       /* not \u and four hex digits; at p */
#define ZB_U_ESCAPE_SURROGATE (-2) /* a lone surrogate half; at p + 6 */

/* Reads the JSON escape \uXXXX at p (p[0..1] == "\\u", end bounds the
 * text), with the \uXXXX low half a high surrogate needs (RFC 8259 7).
 * Returns the bytes read (6 or 12) with the code point in *cp, or
 * ZB_U_ESCAPE_BAD / ZB_U_ESCAPE_SURROGATE. */
static inline int zb_json_u_escape(const char *p, const char *end, unsigned *cp)
{
    if (end - p < 6 || zb_hex4(p + 2, cp) != 0)
        return ZB_U_ESCAPE_BAD;
    if (*cp >= 0xdc00 && *cp <= 0xdfff)
        return ZB_U_ESCAPE_SURROGATE;
    if (*cp < 0xd800 || *cp > 0xdbff)
        return 6;
    p += 6;
    unsigned lo;
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || zb_hex4(p + 2, &lo) != 0 || lo < 0xdc00
        || lo > 0xdfff)
        return ZB_U_ESCAPE_SURROGATE;
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    return 12;
}

#endif
