/*
 * wildcard.c — EventBridge wildcard values.
 *
 * `*` matches any run of characters (bytes: a run of whole UTF-8 characters
 * and a run of bytes are the same thing between two literal UTF-8 texts),
 * `\*` is a literal star and `\\` a literal backslash. Any other escape, a
 * trailing lone backslash and two adjacent unescaped stars are invalid.
 *
 * Matching is the classic greedy two-pointer algorithm with one backtrack
 * point (the last star): O(len(value) * len(pattern)) at worst, no
 * recursion, no state blow-up. Wildcards that reduce to an exact value, a
 * prefix or a suffix never get here: pattern_parse.c turns them into hashed
 * keys.
 */
#include "matcher_int.h"

#include <stdio.h>

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

bool mt_wildcard_match(const char *pat, size_t plen, const char *s, size_t slen)
{
    size_t p = 0, i = 0;
    size_t star_p = SIZE_MAX, star_i = 0;
    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            star_p = ++p;
            star_i = i;
            continue;
        }
        if (p < plen) {
            size_t step = pat[p] == '\\' ? 2 : 1;
            char lit = pat[p + step - 1];
            if (lit == s[i]) {
                p += step;
                i++;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        p = star_p;
        i = ++star_i;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}
