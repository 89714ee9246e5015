/*
 * fuzz_rules.h — a rule set touching every operator, shared by the event
 * reader fuzz targets (included by exactly one file per target).
 */
#ifndef FUZZ_RULES_H
#define FUZZ_RULES_H

#include "matcher.h"

#include <stdlib.h>
#include <string.h>

static const char *s_rules[] = {
    "{\"a\":[\"x\",1,true,null,\"\"]}",
    "{\"a\":[{\"prefix\":\"ab\"},{\"suffix\":\"yz\"}]}",
    "{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"AB\"}},{\"suffix\":{\"equals-ignore-case\":\"Yz\"}}]}",
    "{\"a\":[{\"equals-ignore-case\":\"\\u00c9t\\u00c9\"}]}",
    "{\"a\":[{\"wildcard\":\"a*b*c\"}],\"b\":{\"c\":[{\"exists\":true}]}}",
    "{\"a\":[{\"anything-but\":[\"x\",\"y\"]}]}",
    "{\"a\":[{\"anything-but\":{\"prefix\":\"q\"}}],\"n\":[{\"numeric\":[\">\",0,\"<=\",10]}]}",
    "{\"n\":[{\"numeric\":[\"=\",3.5]},{\"anything-but\":[1,2]}]}",
    "{\"ip\":[{\"cidr\":\"10.0.0.0/8\"},{\"cidr\":\"2001:db8::/32\"}]}",
    "{\"x\":{\"y\":[{\"exists\":false}]},\"a\":[{\"exists\":true}]}",
    "{\"$or\":[{\"a\":[\"x\"]},{\"b\":{\"c\":[true]}},{\"x\":[1]}]}",
    "{\"e\":{\"f\":[\"1\"],\"g\":[2]}}",
    "{\"a\":[{\"anything-but\":{\"wildcard\":[\"*z\",\"q*\"]}}],\"b\":[{\"anything-but\":{\"equals-ignore-case\":\"X\"}}]}",
    /* indexed by a fixed end (leading, trailing) or scanned (both open) */
    "{\"a\":[{\"wildcard\":\"*b*c\"},{\"wildcard\":\"*x*\"},{\"wildcard\":\"ab*\\\\**y\"}]}",
    /* anything-but wildcards of every shape, two alternatives on one field */
    "{\"a\":[{\"anything-but\":{\"wildcard\":[\"a*b*c\",\"\",\"x\",\"*\"]}},"
    "{\"anything-but\":{\"wildcard\":[\"*b*\",\"ab\\\\*\"]}}]}",
    /* hits whose array positions matter */
    "{\"o\":{\"a\":[{\"anything-but\":[1,2,3]}],\"b\":[{\"anything-but\":{\"prefix\":[\"a\",\"bc\"]}}]}}",
    "{\"a\":[{\"anything-but\":{\"equals-ignore-case\":[\"X\",\"\\u00ff\"]}},"
    "{\"anything-but\":{\"suffix\":[\"z\",\"yz\"]}}],\"n\":[{\"anything-but\":3.5}]}",
};

static inline zb_matcher_t *s_fuzz_matcher(void)
{
    zb_matcher_t *m = zb_matcher_new();
    if (!m)
        abort();
    for (size_t i = 0; i < sizeof s_rules / sizeof s_rules[0]; i++) {
        zb_matcher_error_t err;
        if (zb_matcher_add(m, i, ZB_FORMAT_JSON, s_rules[i], strlen(s_rules[i]), &err) != 0)
            abort();
    }
    return m;
}

/* Sorts ids so two result lists can be compared. */
static inline void s_sort_ids(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

#endif
