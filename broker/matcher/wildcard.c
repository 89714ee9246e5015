/*
 * wildcard.c — EventBridge wildcard values.
 *
 * `*` matches any run of characters (bytes: a run of whole UTF-8 characters
 * and a run of bytes are the same thing between two literal UTF-8 texts),
 * `\*` is a literal star and `\\` a literal backslash. Any other escape, a
 * trailing lone backslash and two adjacent unescaped stars are invalid.
 *
 * Matching splits the pattern into the literal segments between stars and
 * finds them left to right with KMP: linear in the value whatever the
 * pattern (a greedy two-pointer glob is O(len(value) * len(pattern)) on
 * inputs like "x*aaaa…ab" against "xaaaa…", which measured seconds per
 * event at 64 KiB). Wildcards that reduce to an exact value, a prefix or a
 * suffix never get here: pattern_parse.c turns them into hashed keys.
 */
#include "matcher_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mt_wildcard_check(const char *s, size_t len, char *buf, size_t buf_len)
{
    bool prev_star = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            if (i + 1 >= len || (s[i + 1] != '*' && s[i + 1] != '\\')) {
                snprintf(buf, buf_len, "Invalid escape character at pos %zu", i);
                return buf;
            }
            i++;
            prev_star = false;
        } else if (s[i] == '*') {
            if (prev_star) {
                snprintf(buf, buf_len, "Consecutive wildcard characters at pos %zu", i);
                return buf;
            }
            prev_star = true;
        } else {
            prev_star = false;
        }
    }
    return NULL;
}

uint32_t mt_wildcard_stars(const char *s, size_t len)
{
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '*')
            n++;
    }
    return n;
}

size_t mt_wildcard_literal(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '*')
            continue;
        out[o++] = s[i];
    }
    return o;
}

/* Compiled form: the literal segments between unescaped stars (escapes
 * resolved), whether a star leads or trails, and per segment the KMP
 * failure function. One allocation holds everything. */
mt_glob_t *mt_glob_compile(const char *s, size_t len)
{
    uint32_t nseg = 0, total = 0;
    /* count segments and literal bytes */
    bool in_seg = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '*') {
            in_seg = false;
            continue;
        }
        if (s[i] == '\\')
            i++;
        if (!in_seg) {
            nseg++;
            in_seg = true;
        }
        total++;
    }
    size_t bytes = sizeof(mt_glob_t) + (2 * (size_t) nseg + total) * sizeof(uint32_t) + total + 1;
    mt_glob_t *g = calloc(1, bytes);
    if (!g)
        return NULL;
    g->bytes = bytes;
    g->off = (uint32_t *) (g + 1);
    g->len = g->off + nseg;
    g->fail = g->len + nseg;
    g->lit = (char *) (g->fail + total);
    g->lead = len > 0 && s[0] == '*';
    g->exact = mt_wildcard_stars(s, len) == 0;
    uint32_t k = 0, n = 0;
    in_seg = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '*') {
            in_seg = false;
            g->trail = true;
            continue;
        }
        g->trail = false;
        if (s[i] == '\\')
            i++;
        if (!in_seg) {
            g->off[k] = n;
            g->len[k] = 0;
            k++;
            in_seg = true;
        }
        g->lit[n++] = s[i];
        g->len[k - 1]++;
    }
    g->nseg = nseg;
    /* KMP failure function of each segment */
    for (uint32_t i = 0; i < nseg; i++) {
        const char *p = g->lit + g->off[i];
        uint32_t *f = g->fail + g->off[i];
        uint32_t m = g->len[i];
        f[0] = 0;
        for (uint32_t q = 1, t = 0; q < m; q++) {
            while (t > 0 && p[q] != p[t])
                t = f[t - 1];
            if (p[q] == p[t])
                t++;
            f[q] = t;
        }
    }
    return g;
}

void mt_glob_free(mt_glob_t **glob_p)
{
    if (!glob_p || !*glob_p)
        return;
    free(*glob_p);
    *glob_p = NULL;
}

/* First occurrence of segment i in hay[0..n), or NULL (KMP: linear). */
static const char *s_find(const mt_glob_t *g, uint32_t i, const char *hay, size_t n)
{
    const char *nd = g->lit + g->off[i];
    const uint32_t *f = g->fail + g->off[i];
    uint32_t m = g->len[i], q = 0;
    if (m > n)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        while (q > 0 && nd[q] != hay[k])
            q = f[q - 1];
        if (nd[q] == hay[k] && ++q == m)
            return hay + k + 1 - m;
    }
    return NULL;
}

/* With `*` as the only wildcard, placing each middle segment at its
 * leftmost occurrence after the previous one is optimal, so one forward
 * scan decides the match: O(len(value) + len(pattern)). */
bool mt_glob_match(const mt_glob_t *g, const char *s, size_t slen)
{
    if (g->exact) {
        uint32_t m = g->nseg ? g->len[0] : 0;
        return m == slen && (m == 0 || memcmp(g->lit, s, m) == 0);
    }
    uint32_t first = 0, last = g->nseg;
    size_t pos = 0, end = slen;
    if (!g->lead && g->nseg > 0) {
        if (g->len[0] > slen || memcmp(s, g->lit, g->len[0]) != 0)
            return false;
        pos = g->len[0];
        first = 1;
    }
    if (!g->trail && last > first) {
        uint32_t m = g->len[last - 1];
        if (m > end - pos || memcmp(s + end - m, g->lit + g->off[last - 1], m) != 0)
            return false;
        end -= m;
        last--;
    }
    for (uint32_t i = first; i < last; i++) {
        const char *hit = s_find(g, i, s + pos, end - pos);
        if (!hit)
            return false;
        pos = (size_t) (hit - s) + g->len[i];
    }
    return true;
}
