/*
 * cidr.c — IPv4/IPv6 addresses and CIDR blocks in one 16-byte form.
 *
 * IPv4 addresses sit in the last 4 bytes with family 4; a block only ever
 * matches addresses of its own family, so an IPv4 block never matches an
 * IPv6 address, even an IPv4-mapped one (the corpus pins this).
 */
#include "matcher_int.h"

#include <string.h>

static int s_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return -1;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
            v = v * 10 + (unsigned) (s[i] - '0');
            i++;
        }
        if (i == start || v > 255)
            return -1;
        if (i - start > 1 && s[start] == '0')
            return -1; /* leading zeros are ambiguous (octal in some parsers) */
        out[part] = (uint8_t) v;
    }
    return i == len ? 0 : -1;
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 4291 text form: groups of 1-4 hex digits, one "::" at most, an
 * optional dotted IPv4 tail. */
static int s_ipv6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t groups[8];
    int n = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
        if (i == len)
            goto done;
    } else if (len >= 1 && s[0] == ':') {
        return -1;
    }
    for (;;) {
        /* IPv4 tail? */
        size_t j = i;
        while (j < len && s[j] != ':' && s[j] != '.')
            j++;
        if (j < len && s[j] == '.') {
            uint8_t v4[4];
            if (n > 6 || s_ipv4(s + i, len - i, v4) != 0)
                return -1;
            groups[n++] = (uint16_t) (v4[0] << 8 | v4[1]);
            groups[n++] = (uint16_t) (v4[2] << 8 | v4[3]);
            break;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && s_hexval(s[i]) >= 0 && i - start < 4) {
            v = v << 4 | (unsigned) s_hexval(s[i]);
            i++;
        }
        if (i == start || n >= 8)
            return -1;
        groups[n++] = (uint16_t) v;
        if (i == len)
            break;
        if (s[i] != ':')
            return -1;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return -1;
            gap = n;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return -1; /* trailing single ':' */
        }
    }
done:
    if (gap < 0 && n != 8)
        return -1;
    if (gap >= 0 && n > 7)
        return -1;
    memset(out, 0, 16);
    if (gap < 0) {
        for (int k = 0; k < 8; k++) {
            out[2 * k] = (uint8_t) (groups[k] >> 8);
            out[2 * k + 1] = (uint8_t) groups[k];
        }
    } else {
        int tail = n - gap;
        for (int k = 0; k < gap; k++) {
            out[2 * k] = (uint8_t) (groups[k] >> 8);
            out[2 * k + 1] = (uint8_t) groups[k];
        }
        for (int k = 0; k < tail; k++) {
            int pos = 8 - tail + k;
            out[2 * pos] = (uint8_t) (groups[gap + k] >> 8);
            out[2 * pos + 1] = (uint8_t) groups[gap + k];
        }
    }
    return 0;
}

int mt_ip_parse(const char *s, size_t len, uint8_t *family, uint8_t out[16])
{
    if (len == 0 || len > 64)
        return -1;
    if (memchr(s, ':', len)) {
        if (s_ipv6(s, len, out) != 0)
            return -1;
        *family = 6;
        return 0;
    }
    memset(out, 0, 16);
    if (s_ipv4(s, len, out + 12) != 0)
        return -1;
    *family = 4;
    return 0;
}

const char *mt_cidr_parse(const char *s, size_t len, mt_alt_t *alt)
{
    const char *slash = memchr(s, '/', len);
    if (!slash || memchr(slash + 1, '/', len - (size_t) (slash + 1 - s)))
        return "Malformed CIDR, one '/' required";
    size_t alen = (size_t) (slash - s);
    const char *b = slash + 1;
    size_t blen = len - alen - 1;
    if (blen == 0 || blen > 3)
        return "Malformed CIDR, mask bits must be an integer";
    unsigned bits = 0;
    for (size_t i = 0; i < blen; i++) {
        if (b[i] < '0' || b[i] > '9')
            return "Malformed CIDR, mask bits must be an integer";
        bits = bits * 10 + (unsigned) (b[i] - '0');
    }
    if (blen > 1 && b[0] == '0')
        return "Malformed CIDR, mask bits must be an integer";
    uint8_t fam;
    if (mt_ip_parse(s, alen, &fam, alt->net) != 0)
        return "Nonstandard IP address";
    if ((fam == 4 && bits > 32) || (fam == 6 && bits > 128))
        return "Malformed CIDR, mask bits must be an integer";
    alt->family = fam;
    alt->bits = (uint8_t) (fam == 4 ? bits + 96 : bits);
    for (unsigned i = alt->bits; i < 128; i++)
        alt->net[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    return NULL;
}
