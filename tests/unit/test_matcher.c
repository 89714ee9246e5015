/*
 * test_matcher.c — the matcher's behaviour beyond the shared corpus: each
 * operator's edge cases, error texts and paths, rule replacement and
 * removal, large rule sets, hostile events. Every match check runs the
 * event both as JSON and as msgpack and requires the same answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "matcher.h"
#include "zb_buf.h"

/* The matcher and match context most tests start from (cmocka fixture):
 * made before each, destroyed after it even when it fails. */
typedef struct {
    zb_matcher_t *m;
    zb_match_ctx_t *ctx;
} s_fx_t;

static int s_fx_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->m = zb_matcher_new();
    f->ctx = zb_match_ctx_new();
    *state = f;
    return f->m && f->ctx ? 0 : -1;
}

static int s_fx_teardown(void **state)
{
    s_fx_t *f = *state;
    zb_match_ctx_destroy(&f->ctx);
    zb_matcher_destroy(&f->m);
    free(f);
    return 0;
}

static zb_matcher_t *s_fx_matcher(void **state)
{
    return ((s_fx_t *) *state)->m;
}

static zb_match_ctx_t *s_fx_ctx(void **state)
{
    return ((s_fx_t *) *state)->ctx;
}

/* 1 match, 0 no match, -1 pattern refused, -2 event refused. */
static int s_match(const char *pattern, const char *event)
{
    zb_matcher_t *m = zb_matcher_new();
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    zb_matcher_error_t err;
    int result;
    if (zb_matcher_add(m, 1, ZB_FORMAT_JSON, pattern, strlen(pattern), &err) != 0) {
        result = -1;
    } else {
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, event, strlen(event), &ids, &err);
        result = n < 0 ? -2 : n;
        zb_buf_t *mp = zb_buf_new(64);
        zb_json_error_t jerr;
        if (zb_json_to_msgpack(event, strlen(event), mp, &jerr) == 0) {
            int k = zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err);
            assert_int_equal(k < 0 ? -2 : k, result);
        }
        zb_buf_destroy(&mp);
    }
    zb_match_ctx_destroy(&ctx);
    zb_matcher_destroy(&m);
    return result;
}

/* The error message of a refused pattern (static buffer). */
static const char *s_refusal(const char *pattern, char *path_out)
{
    static zb_matcher_error_t err;
    if (zb_pattern_check(ZB_FORMAT_JSON, pattern, strlen(pattern), &err) == 0)
        return "(accepted)";
    if (path_out)
        strcpy(path_out, err.path);
    return err.message;
}

/* ---- exact values ---------------------------------------------------------- */

static void exact_numbers_compare_by_value(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"a\":[300]}", "{\"a\":3.0e2}"), 1);
    assert_int_equal(s_match("{\"a\":[3e2]}", "{\"a\":300.000}"), 1);
    assert_int_equal(s_match("{\"a\":[0]}", "{\"a\":-0}"), 1);
    assert_int_equal(s_match("{\"a\":[-0.0]}", "{\"a\":0}"), 1);
    assert_int_equal(s_match("{\"a\":[0.1]}", "{\"a\":0.10000000000000001}"), 1);
    assert_int_equal(s_match("{\"a\":[9007199254740993]}", "{\"a\":9007199254740992}"), 1); /* same double */
    assert_int_equal(s_match("{\"a\":[1.7976931348623157e308]}", "{\"a\":1.7976931348623157e308}"), 1);
    assert_int_equal(s_match("{\"a\":[5e-324]}", "{\"a\":4.9406564584124654e-324}"), 1);
    assert_int_equal(s_match("{\"a\":[300]}", "{\"a\":\"300\"}"), 0);
    assert_int_equal(s_match("{\"a\":[-18446744073709551615]}", "{\"a\":-18446744073709551615}"), 1);
}

static void exact_null_empty_and_booleans_differ(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"a\":[null]}", "{\"a\":null}"), 1);
    assert_int_equal(s_match("{\"a\":[null]}", "{\"a\":\"\"}"), 0);
    assert_int_equal(s_match("{\"a\":[\"\"]}", "{\"a\":null}"), 0);
    assert_int_equal(s_match("{\"a\":[null]}", "{\"b\":1}"), 0);
    assert_int_equal(s_match("{\"a\":[true]}", "{\"a\":\"true\"}"), 0);
    assert_int_equal(s_match("{\"a\":[false]}", "{\"a\":[true,false]}"), 1);
    assert_int_equal(s_match("{\"a\":[\"x\\u0000y\"]}", "{\"a\":\"x\\u0000y\"}"), 1);
    assert_int_equal(s_match("{\"a\":[\"x\"]}", "{\"a\":\"x\\u0000y\"}"), 0);
}

static void escaped_names_and_values_compare_unescaped(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"caf\\u00e9\":[\"\\ud83d\\ude00\"]}", "{\"café\":\"😀\"}"), 1);
    assert_int_equal(s_match("{\"a/b\":[\"q\"]}", "{\"a\\/b\":\"q\"}"), 1);
}

/* ---- prefix / suffix / equals-ignore-case -------------------------------------- */

static void prefix_suffix_edges(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"a\":[{\"prefix\":\"\"}]}", "{\"a\":\"\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"prefix\":\"\"}]}", "{\"a\":5}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"suffix\":\"\"}]}", "{\"a\":null}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"prefix\":\"abc\"}]}", "{\"a\":\"ab\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"suffix\":\"é\"}]}", "{\"a\":\"café\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"prefix\":\"a\"},{\"prefix\":\"ab\"},{\"suffix\":\"c\"}]}", "{\"a\":\"abc\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"ÉT\"}}]}", "{\"a\":\"été\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"suffix\":{\"equals-ignore-case\":\"Ⱥ\"}}]}", "{\"a\":\"xⱥ\"}"), 1);
}

static void equals_ignore_case_unicode(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"a\":[{\"equals-ignore-case\":\"ΑΒΓ\"}]}", "{\"a\":\"αβγ\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"equals-ignore-case\":\"ПРИВЕТ\"}]}", "{\"a\":\"привет\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"equals-ignore-case\":\"ＡＢ\"}]}", "{\"a\":\"ａｂ\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"equals-ignore-case\":\"Ⱥ\"}]}", "{\"a\":\"ⱥ\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"equals-ignore-case\":\"\"}]}", "{\"a\":\"\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"equals-ignore-case\":\"\"}]}", "{\"a\":\"x\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"equals-ignore-case\":\"5\"}]}", "{\"a\":5}"), 0);
    /* A value is folded unless it is ASCII and no folded key can hold it:
     * one non-ASCII character anywhere in a value of any length (here one
     * that folding lengthens, so the unfolded value has another length
     * than the key) must be seen. */
    for (int len = 0; len <= 20; len++) {
        for (int at = 0; at <= len; at++) {
            char p[128], ev[128];
            int n = snprintf(p, sizeof p, "{\"a\":[{\"equals-ignore-case\":\"");
            int e = snprintf(ev, sizeof ev, "{\"a\":\"");
            for (int i = 0; i <= len; i++) {
                n += snprintf(p + n, sizeof p - (size_t) n, "%s", i == at ? "\u2c65" : "B");
                e += snprintf(ev + e, sizeof ev - (size_t) e, "%s", i == at ? "\u023a" : "b");
            }
            snprintf(p + n, sizeof p - (size_t) n, "\"}]}");
            snprintf(ev + e, sizeof ev - (size_t) e, "\"}");
            assert_int_equal(s_match(p, ev), 1);
        }
    }
}

/* ---- wildcard ------------------------------------------------------------------ */

static void wildcard_escapes_and_shapes(void **state)
{
    (void) state;
    /* JSON "\\*" is wildcard text \* : a literal star */
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"a\\\\*b\"}]}", "{\"a\":\"a*b\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"a\\\\*b\"}]}", "{\"a\":\"axb\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"a\\\\\\\\b\"}]}", "{\"a\":\"a\\\\b\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":\"\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":1}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"\"}]}", "{\"a\":\"\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"\"}]}", "{\"a\":\"x\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"*a*a*a*b\"}]}", "{\"a\":\"aaaaaaaaaaaab\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"*a*a*a*b\"}]}", "{\"a\":\"aaaaaaaaaaaa\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"x*\\\\*\"}]}", "{\"a\":\"xyz*\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"wildcard\":\"*é*\"}]}", "{\"a\":\"caféx\"}"), 1);
    char path[256];
    assert_string_equal(s_refusal("{\"a\":[{\"wildcard\":\"ab**c\"}]}", path),
                        "Event pattern is not valid. Reason: Consecutive wildcard characters at pos 3");
    assert_string_equal(path, "a[0].wildcard");
    assert_string_equal(s_refusal("{\"a\":[{\"wildcard\":\"a\\\\b\"}]}", NULL),
                        "Event pattern is not valid. Reason: Invalid escape character at pos 1");
}

static void wildcard_complexity_limit(void **state)
{
    (void) state;
    /* 32 inner stars pass, 33 are refused (see broker/matcher/README.md) */
    char pat[512], *p = pat;
    p += sprintf(p, "{\"a\":[{\"wildcard\":\"x");
    for (int i = 0; i < 32; i++)
        p += sprintf(p, "*y");
    sprintf(p, "\"}]}");
    assert_string_equal(s_refusal(pat, NULL), "(accepted)");
    p = pat;
    p += sprintf(p, "{\"a\":[{\"wildcard\":\"x");
    for (int i = 0; i < 33; i++)
        p += sprintf(p, "*y");
    sprintf(p, "\"}]}");
    assert_string_equal(s_refusal(pat, NULL),
                        "Event pattern is not valid. Reason: Rule is too complex - try using fewer wildcard "
                        "characters or fewer repeating character sequences after a wildcard character");
}

/* ---- anything-but ------------------------------------------------------------------ */

static void anything_but_forms(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":\"y\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":\"x\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"b\":\"y\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":null}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":[1,2]}]}", "{\"a\":2.0}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":[1,2]}]}", "{\"a\":\"1\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":[\"x\"]}]}", "{\"a\":[\"x\",\"y\"]}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":[\"x\"]}]}", "{\"a\":[\"x\",\"x\"]}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":{\"prefix\":\"ab\"}}]}", "{\"a\":\"abc\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":{\"suffix\":\"bc\"}}]}", "{\"a\":\"abd\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":{\"equals-ignore-case\":[\"AB\",\"cd\"]}}]}", "{\"a\":\"Cd\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":{\"wildcard\":[\"a*\",\"*z\"]}}]}", "{\"a\":\"quiz\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":{\"wildcard\":[\"a*\",\"*z\"]}}]}", "{\"a\":\"quit\"}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":[]}]}", "{\"a\":1}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":[\"x\",1]}]}", "{\"a\":1}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":{\"prefix\":\"\"}}]}", "{\"a\":1}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"anything-but\":null}]}", "{\"a\":1}"), -1);
}

/* ---- numeric ----------------------------------------------------------------------------- */

static void numeric_bounds_over_the_double_range(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"a\":5}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"a\":0}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">=\",0,\"<\",5]}]}", "{\"a\":-0.0}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">\",1e300]}]}", "{\"a\":1.5e300}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\"<\",-1e300]}]}", "{\"a\":-1.7e308}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">\",0]}]}", "{\"a\":5e-324}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\"<\",0.3]}]}", "{\"a\":0.30000000000000004}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\"=\",0.3]}]}", "{\"a\":0.3}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\"<\",10]}]}", "{\"a\":\"5\"}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">\",9007199254740992]}]}", "{\"a\":9007199254740994}"), 1);
    assert_string_equal(s_refusal("{\"a\":[{\"numeric\":[\">\",5,\">\",10]}]}", NULL),
                        "Event pattern is not valid. Reason: Bad numeric range operator: >");
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">\",5,\"<\",5]}]}", "{\"a\":5}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\"<\",5,\">\",1]}]}", "{\"a\":3}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\"=\",1,\"<\",5]}]}", "{\"a\":1}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\"!=\",1]}]}", "{\"a\":1}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[\">\",\"1\"]}]}", "{\"a\":1}"), -1);
    assert_int_equal(s_match("{\"a\":[{\"numeric\":[]}]}", "{\"a\":1}"), -1);
}

/* ---- exists / cidr ---------------------------------------------------------------------------- */

static void exists_on_leaves_only(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"a\":[{\"exists\":true}]}", "{\"a\":null}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"exists\":true}]}", "{\"a\":{}}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"exists\":true}]}", "{\"a\":[]}"), 0);
    assert_int_equal(s_match("{\"a\":[{\"exists\":false}]}", "{\"a\":[]}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"exists\":false}]}", "{\"a\":{\"b\":1}}"), 1);
    assert_int_equal(s_match("{\"a\":{\"b\":[{\"exists\":false}]}}", "{\"a\":5}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"exists\":false}]}", "{}"), 1);
    assert_int_equal(s_match("{\"a\":[{\"exists\":false}]}", "{\"a\":0}"), 0);
    assert_string_equal(s_refusal("{\"a\":[{\"exists\":\"true\"}]}", NULL),
                        "Event pattern is not valid. Reason: exists match pattern must be either true or false.");
    assert_string_equal(s_refusal("{\"a\":[{\"EXISTS\":true}]}", NULL),
                        "Event pattern is not valid. Reason: Unrecognized match type EXISTS");
}

static void cidr_v4_v6(void **state)
{
    (void) state;
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{\"ip\":\"10.0.0.255\"}"), 1);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{\"ip\":\"10.0.1.0\"}"), 0);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"10.0.0.7/24\"}]}", "{\"ip\":\"10.0.0.1\"}"), 1);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"0.0.0.0/0\"}]}", "{\"ip\":\"1.2.3.4\"}"), 1);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"0.0.0.0/0\"}]}", "{\"ip\":\"::1\"}"), 0);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"2001:db8::/32\"}]}", "{\"ip\":\"2001:DB8:0:0:0:0:0:1\"}"), 1);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"::ffff:0:0/96\"}]}", "{\"ip\":\"::ffff:10.1.2.3\"}"), 1);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"ip\":\"::ffff:10.1.2.3\"}"), 0);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"ip\":\"10.1.2.3/32\"}"), 0);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"ip\":\"10.01.2.3\"}"), 0);
    assert_string_equal(s_refusal("{\"ip\":[{\"cidr\":\"10.0.0.0\"}]}", NULL),
                        "Event pattern is not valid. Reason: Malformed CIDR, one '/' required");
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"10.0.0.0/33\"}]}", "{}"), -1);
    assert_int_equal(s_match("{\"ip\":[{\"cidr\":\"1:2:3:4:5:6:7:8:9/64\"}]}", "{}"), -1);
}

/* ---- structure, arrays and $or ------------------------------------------------------------------------ */

static void array_consistency(void **state)
{
    (void) state;
    const char *p = "{\"r\":{\"a\":[1],\"b\":[2]}}";
    assert_int_equal(s_match(p, "{\"r\":[{\"a\":1,\"b\":2}]}"), 1);
    assert_int_equal(s_match(p, "{\"r\":[{\"a\":1,\"b\":3},{\"a\":0,\"b\":2}]}"), 0);
    assert_int_equal(s_match(p, "{\"r\":[{\"a\":1},{\"b\":2},{\"a\":1,\"b\":2}]}"), 1);
    /* values from two different arrays may combine */
    assert_int_equal(s_match("{\"x\":[1],\"y\":[2]}", "{\"x\":[0,1],\"y\":[2,0]}"), 1);
    /* nested: same outer element required, inner arrays independent */
    const char *q = "{\"o\":{\"i\":{\"v\":[1]},\"w\":[2]}}";
    assert_int_equal(s_match(q, "{\"o\":[{\"i\":[{\"v\":0},{\"v\":1}],\"w\":2}]}"), 1);
    assert_int_equal(s_match(q, "{\"o\":[{\"i\":[{\"v\":1}],\"w\":0},{\"w\":2}]}"), 0);
    /* exists:false within the same element */
    const char *e = "{\"r\":{\"a\":[1],\"b\":[{\"exists\":false}]}}";
    assert_int_equal(s_match(e, "{\"r\":[{\"a\":1,\"b\":1},{\"a\":1}]}"), 1);
    assert_int_equal(s_match(e, "{\"r\":[{\"a\":1,\"b\":1}]}"), 0);
}

static void or_at_every_level(void **state)
{
    (void) state;
    const char *p = "{\"d\":{\"$or\":[{\"a\":[1]},{\"b\":[{\"$or\":[{\"c\":[2]},{\"e\":[3]}]}]}]}}";
    /* a $or inside a value array is refused */
    assert_int_equal(s_match(p, "{}"), -1);
    p = "{\"d\":{\"$or\":[{\"a\":[1]},{\"$or\":[{\"c\":[2]},{\"e\":[3]}]}]},\"z\":[0]}";
    assert_int_equal(s_match(p, "{\"d\":{\"e\":3},\"z\":0}"), 1);
    assert_int_equal(s_match(p, "{\"d\":{\"e\":3},\"z\":1}"), 0);
    assert_int_equal(s_match(p, "{\"d\":{\"a\":1},\"z\":0}"), 1);
    assert_int_equal(s_match("{\"$or\":[{\"a\":[1]}]}", "{\"a\":1}"), -1);
    assert_int_equal(s_match("{\"$or\":{\"a\":[1]}}", "{\"a\":1}"), -1);
}

static void or_combination_limit(void **state)
{
    (void) state;
    /* 10 x 10 x 10 = 1000 combinations pass; 10 x 10 x 11 do not */
    zb_buf_t *b = zb_buf_new(4096);
    for (int last = 10; last <= 11; last++) {
        zb_buf_reset(b);
        zb_buf_append_str(b, "{");
        for (int k = 0; k < 3; k++) {
            zb_buf_appendf(b, "%s\"f%d\":{\"$or\":[", k ? "," : "", k);
            int n = k == 2 ? last : 10;
            for (int i = 0; i < n; i++)
                zb_buf_appendf(b, "%s{\"v%d\":[%d]}", i ? "," : "", i, i);
            zb_buf_append_str(b, "]}");
        }
        zb_buf_append_str(b, "}");
        zb_matcher_error_t err;
        int rc = zb_pattern_check(ZB_FORMAT_JSON, b->data, b->len, &err);
        assert_int_equal(rc, last == 10 ? 0 : -1);
    }
    zb_buf_destroy(&b);
}

static void structural_refusals_name_the_path(void **state)
{
    (void) state;
    char path[256];
    assert_string_equal(s_refusal("{\"detail\":{\"state\":[]}}", path),
                        "Event pattern is not valid. Reason: Empty arrays are not allowed");
    assert_string_equal(path, "detail.state");
    assert_string_equal(s_refusal("{\"detail\":{}}", path),
                        "Event pattern is not valid. Reason: Empty objects are not allowed");
    assert_string_equal(s_refusal("{\"a\":\"x\"}", path),
                        "Event pattern is not valid. Reason: \"a\" must be an object or an array");
    assert_string_equal(s_refusal("{\"a\":[{\"prefix\":\"x\",\"suffix\":\"y\"}]}", path),
                        "Event pattern is not valid. Reason: Only one key allowed in match expression");
    assert_string_equal(s_refusal("{\"a\":[{\"Prefix\":\"x\"}]}", path),
                        "Event pattern is not valid. Reason: Unrecognized match type Prefix");
    assert_string_equal(path, "a[0].Prefix");
    assert_int_equal(s_match("[]", "{}"), -1);
    assert_int_equal(s_match("{\"a\":[1]", "{}"), -1);
}

/* ---- events ------------------------------------------------------------------------------------------------ */

static void hostile_events_are_refused(void **state)
{
    assert_int_equal(s_match("{\"a\":[1]}", "[1]"), -2);
    assert_int_equal(s_match("{\"a\":[1]}", "{\"a\":1} x"), -2);
    assert_int_equal(s_match("{\"a\":[1]}", "{\"a\":\"\xff\"}"), -2);
    assert_int_equal(s_match("{\"a\":[1]}", "{\"b\":\"\xed\xa0\x80\"}"), -2);   /* surrogate in UTF-8 */
    assert_int_equal(s_match("{\"a\":[1]}", "{\"b\":\"\\ud800\"}"), -2);        /* lone surrogate */
    assert_int_equal(s_match("{\"a\":[1]}", "{\"b\":01}"), -2);
    assert_int_equal(s_match("{\"a\":[1]}", "{\"b\":[1,]}"), -2);
    /* 64 levels are read, 65 refused, in skipped and in walked parts */
    zb_buf_t *b = zb_buf_new(512);
    for (int depth = 64; depth <= 65; depth++) {
        zb_buf_reset(b);
        for (int i = 0; i < depth; i++)
            zb_buf_append_str(b, i == 0 ? "{\"a\":" : "[");
        zb_buf_append_str(b, "1");
        for (int i = depth - 1; i >= 0; i--)
            zb_buf_append_str(b, i == 0 ? "}" : "]");
        assert_int_equal(s_match("{\"a\":[1]}", b->data), depth == 64 ? 1 : -2);
        assert_int_equal(s_match("{\"q\":[1]}", b->data), depth == 64 ? 0 : -2);
    }
    /* an empty array at a named field is absent (the msgpack walk reads
     * it in line), down to the deepest field a pattern can name */
    zb_buf_t *p = zb_buf_new(512);
    for (int depth = 1; depth <= 62; depth += 61) {
        for (int exists = 0; exists < 2; exists++) {
            zb_buf_reset(b);
            zb_buf_reset(p);
            for (int i = 0; i < depth; i++) {
                zb_buf_append_str(b, "{\"a\":");
                zb_buf_append_str(p, "{\"a\":");
            }
            zb_buf_append_str(b, "[]");
            zb_buf_append_str(p, exists ? "[{\"exists\":true}]" : "[{\"exists\":false}]");
            for (int i = 0; i < depth; i++) {
                zb_buf_append_str(b, "}");
                zb_buf_append_str(p, "}");
            }
            assert_int_equal(s_match(p->data, b->data), !exists);
        }
    }
    zb_buf_destroy(&p);
    zb_buf_destroy(&b);
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    const uint64_t *ids;
    const uint8_t not_map[] = {0x91, 0x01};
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, not_map, sizeof not_map, &ids, &err), -1);
    const uint8_t int_key[] = {0x81, 0x01, 0x01};
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, int_key, sizeof int_key, &ids, &err), -1);
    const uint8_t truncated[] = {0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, truncated, sizeof truncated, &ids, &err), -1);
}

static void combinatorial_events_are_refused_not_stalled(void **state)
{
    (void) state;
    zb_buf_t *b = zb_buf_new(1 << 16);
    /* Independent arrays: every (a, b) pair fails the exists:false check.
     * Interchangeable hits are tried once, so this is a quick "no". */
    const char *p = "{\"a\":{\"x\":[1]},\"b\":{\"y\":[2]},\"c\":{\"z\":[{\"exists\":false}]}}";
    zb_buf_append_str(b, "{\"a\":[");
    for (int i = 0; i < 5000; i++)
        zb_buf_append_str(b, i ? ",{\"x\":1}" : "{\"x\":1}");
    zb_buf_append_str(b, "],\"b\":[");
    for (int i = 0; i < 5000; i++)
        zb_buf_append_str(b, i ? ",{\"y\":2}" : "{\"y\":2}");
    zb_buf_append_str(b, "],\"c\":[{\"z\":1}]}");
    assert_int_equal(s_match(p, b->data), 0);
    /* One array, two fields never in the same element: n/2 x n/2 position
     * comparisons. 1000 elements is a plain no; 12000 exceed the budget
     * and the event is refused instead of stalling the matcher. */
    const char *q = "{\"r\":{\"a\":[1],\"b\":[2]}}";
    for (int n = 1000; n <= 12000; n += 11000) {
        zb_buf_reset(b);
        zb_buf_append_str(b, "{\"r\":[");
        for (int i = 0; i < n; i++)
            zb_buf_append_str(b, i == 0 ? "{\"a\":1}" : i < n / 2 ? ",{\"a\":1}" : ",{\"b\":2}");
        zb_buf_append_str(b, "]}");
        assert_int_equal(s_match(q, b->data), n == 1000 ? 0 : -2);
    }
    zb_buf_destroy(&b);
}

static void duplicate_event_keys_read_the_same_in_both_forms(void **state)
{
    (void) state;
    /* regression (fuzz_event_json): the transcoder dropped earlier
     * duplicates while the JSON reader sees every member */
    assert_int_equal(s_match("{\"x\":[1]}", "{\"x\":1,\"x\":0.1}"), 1);
    assert_int_equal(s_match("{\"x\":[0.1]}", "{\"x\":1,\"x\":0.1}"), 1);
}

/* ---- rule sets ------------------------------------------------------------------------------------------------ */

static int s_ids(zb_matcher_t *m, zb_match_ctx_t *ctx, const char *event, uint64_t *out)
{
    zb_matcher_error_t err;
    const uint64_t *ids;
    int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, event, strlen(event), &ids, &err);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++)
        out[i] = ids[i];
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            uint64_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

static void replace_and_remove(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    uint64_t ids[8];
    const char *p1 = "{\"a\":[\"x\"]}", *p2 = "{\"a\":[\"y\"]}";
    assert_int_equal(zb_matcher_add(m, 1, ZB_FORMAT_JSON, p1, strlen(p1), &err), 0);
    assert_int_equal(zb_matcher_add(m, 2, ZB_FORMAT_JSON, p1, strlen(p1), &err), 0);
    assert_int_equal(s_ids(m, ctx, "{\"a\":\"x\"}", ids), 2);
    /* a bad replacement leaves the old pattern in place */
    assert_int_equal(zb_matcher_add(m, 1, ZB_FORMAT_JSON, "{\"a\":[]}", 8, &err), -1);
    assert_int_equal(s_ids(m, ctx, "{\"a\":\"x\"}", ids), 2);
    assert_int_equal(zb_matcher_add(m, 1, ZB_FORMAT_JSON, p2, strlen(p2), &err), 0);
    assert_int_equal(zb_matcher_size(m), 2);
    assert_int_equal(s_ids(m, ctx, "{\"a\":\"x\"}", ids), 1);
    assert_int_equal(ids[0], 2);
    assert_int_equal(s_ids(m, ctx, "{\"a\":\"y\"}", ids), 1);
    assert_int_equal(ids[0], 1);
    assert_int_equal(zb_matcher_remove(m, 2), 0);
    assert_int_equal(zb_matcher_remove(m, 2), -1);
    assert_int_equal(s_ids(m, ctx, "{\"a\":\"x\"}", ids), 0);
    assert_int_equal(zb_matcher_remove(m, 1), 0);
    assert_int_equal(zb_matcher_size(m), 0);
    /* an exists:false-only rule matches everything until removed */
    const char *p3 = "{\"q\":[{\"exists\":false}]}";
    assert_int_equal(zb_matcher_add(m, 3, ZB_FORMAT_JSON, p3, strlen(p3), &err), 0);
    assert_int_equal(s_ids(m, ctx, "{}", ids), 1);
    assert_int_equal(zb_matcher_remove(m, 3), 0);
    assert_int_equal(s_ids(m, ctx, "{}", ids), 0);
}

static void removal_releases_memory(void **state)
{
    (void) state;
    zb_matcher_t *m = zb_matcher_new();
    zb_matcher_error_t err;
    size_t after[2];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2000; i++) {
            char p[160];
            int n = snprintf(p, sizeof p,
                             "{\"f%d\":{\"g\":[\"v%d\",{\"prefix\":\"p%d\"},{\"wildcard\":\"a*b*%d\"},"
                             "{\"numeric\":[\">\",%d]}]},\"$or\":[{\"h\":[%d]},{\"i\":[{\"exists\":false}]}]}",
                             i % 50, i, i, i, i, i);
            assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
        }
        for (int i = 0; i < 2000; i++)
            assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
        assert_int_equal(zb_matcher_size(m), 0);
        after[round] = zb_matcher_memory(m);
    }
    /* tables keep their capacity, but a second round grows nothing */
    assert_int_equal(after[0], after[1]);
    zb_matcher_destroy(&m);
}

static void many_rules_match_like_one(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        char p[128];
        int len;
        if (i % 2 == 0)
            len = snprintf(p, sizeof p, "{\"detail\":{\"id\":[\"id-%d\"]}}", i);
        else
            len = snprintf(p, sizeof p, "{\"detail\":{\"id\":[{\"prefix\":\"id-%d\"}]},\"n\":[%d]}", i, i);
        assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) len, &err), 0);
    }
    assert_int_equal(zb_matcher_size(m), (size_t) n);
    /* under 1 KB of heap per simple rule */
    assert_true(zb_matcher_memory(m) / (size_t) n < 1024);
    uint64_t ids[16];
    assert_int_equal(s_ids(m, ctx, "{\"detail\":{\"id\":\"id-1234\"}}", ids), 1);
    assert_int_equal(ids[0], 1234);
    /* "id-1235" is a prefix rule with n = 1235; "id-12350" also has
     * prefix "id-1235" (and itself is an exact rule) */
    assert_int_equal(s_ids(m, ctx, "{\"detail\":{\"id\":\"id-12350\"},\"n\":1235}", ids), 2);
    assert_int_equal(ids[0], 1235);
    assert_int_equal(ids[1], 12350);
    assert_int_equal(s_ids(m, ctx, "{\"detail\":{\"id\":[\"id-2\",\"id-4\",\"id-6\"]}}", ids), 3);
    for (int i = 0; i < n; i += 2)
        assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
    assert_int_equal(s_ids(m, ctx, "{\"detail\":{\"id\":\"id-1234\"}}", ids), 0);
}

/* A state's key filter lets a probe skip the hash when no key has its
 * tag, length and end bytes: values sharing all of those with keys must
 * still be looked up, folded values too, and removing one key must not
 * hide another that falls in the same bucket. */
static void key_filter_never_hides_a_key(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    char p[128];
    for (int i = 0; i < 10; i++) {
        int n = snprintf(p, sizeof p, "{\"k\":[\"a%db\"]}", i);
        assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
    }
    static const char *more[] = {
        "{\"k\":[{\"prefix\":\"a\"}]}",                          /* 10 */
        "{\"k\":[{\"suffix\":\"b\"}]}",                          /* 11 */
        "{\"k\":[{\"equals-ignore-case\":\"A5B\"}]}",            /* 12 */
        "{\"k\":[\"\"]}",                                        /* 13 */
        "{\"k\":[{\"prefix\":\"\xc3\xa9\"}]}",                   /* 14 */
        "{\"k\":[{\"prefix\":{\"equals-ignore-case\":\"A5\"}}]}", /* 15 */
    };
    for (int i = 0; i < 6; i++)
        assert_int_equal(zb_matcher_add(m, (uint64_t) (10 + i), ZB_FORMAT_JSON, more[i], strlen(more[i]), &err), 0);
    uint64_t ids[16];
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"a5b\"}", ids), 5);
    assert_int_equal(ids[0], 5);
    assert_int_equal(ids[1], 10);
    assert_int_equal(ids[2], 11);
    assert_int_equal(ids[3], 12);
    assert_int_equal(ids[4], 15);
    assert_int_equal(zb_matcher_remove(m, 4), 0);
    assert_int_equal(zb_matcher_remove(m, 6), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"a5b\"}", ids), 5);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"a4b\"}", ids), 2); /* prefix a, suffix b */
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"A5B\"}", ids), 2);
    assert_int_equal(ids[0], 12);
    assert_int_equal(ids[1], 15);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"\"}", ids), 1);
    assert_int_equal(ids[0], 13);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"\xc3\xa9x\"}", ids), 1);
    assert_int_equal(ids[0], 14);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"\xc3\x89x\"}", ids), 0);
    /* a non-ASCII value whose folded form starts like the key */
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"a5\xc3\x89\"}", ids), 2);
    assert_int_equal(ids[0], 10);
    assert_int_equal(ids[1], 15);
    for (int i = 0; i < 16; i++)
        if (i != 4 && i != 6)
            assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"a5b\"}", ids), 0);
    /* 300 conditions keyed under one value: its bucket's count saturates
     * and must never hide the value while any of them is left */
    for (int i = 100; i < 400; i++) {
        int n = snprintf(p, sizeof p, "{\"k\":[\"v\",\"w%d\"]}", i);
        assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
    }
    for (int i = 100; i < 399; i++)
        assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"v\"}", ids), 1);
    assert_int_equal(ids[0], 399);
    assert_int_equal(zb_matcher_remove(m, 399), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"v\"}", ids), 0);
}

/* Child fields are found by comparing names (a state with few children)
 * or by hashing them (many): names of every length up to past 8 bytes,
 * each also differing from a rule's name in one byte only, must be told
 * apart either way. */
static void field_names_of_every_length_are_told_apart(void **state)
{
    (void) state;
    static const char full[] = "abcdefghijklmnop";
    static const int span[3][2] = {{0, 5}, {7, 12}, {0, 16}}; /* 6, 6 and 17 children */
    for (int c = 0; c < 3; c++) {
        zb_matcher_t *m = zb_matcher_new();
        zb_match_ctx_t *ctx = zb_match_ctx_new();
        zb_matcher_error_t err;
        char p[256], ev[256];
        int first = span[c][0], last = span[c][1];
        for (int len = first; len <= last; len++) {
            int n = snprintf(p, sizeof p, "{\"o\":{\"%.*s\":[\"v\"]}}", len, full);
            assert_int_equal(zb_matcher_add(m, (uint64_t) len, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
        }
        uint64_t ids[32];
        for (int len = first; len <= last; len++) {
            snprintf(ev, sizeof ev, "{\"o\":{\"%.*s\":\"v\"}}", len, full);
            assert_int_equal(s_ids(m, ctx, ev, ids), 1);
            assert_int_equal(ids[0], (uint64_t) len);
            for (int at = 0; at < len; at++) {
                char name[32];
                memcpy(name, full, (size_t) len);
                name[at] = 'X';
                snprintf(ev, sizeof ev, "{\"o\":{\"%.*s\":\"v\"}}", len, name);
                assert_int_equal(s_ids(m, ctx, ev, ids), 0);
            }
        }
        zb_match_ctx_destroy(&ctx);
        zb_matcher_destroy(&m);
    }
}

/* A state with up to MT_FEW_CHILDREN children finds them through slots
 * chained by name (head and length), rebuilt on every add and remove:
 * names of one length, names sharing their first 8 bytes, the empty name
 * and a non-ASCII one, added and removed at random while at most six are
 * live, must each lead to their own rule only, in JSON and msgpack. */
static void few_children_added_and_removed_are_found(void **state)
{
    static const char *names[] = {"a", "b", "", "ab", "ba", "abcdefgh", "abcdefghi", "abcdefghj",
                                  "abcdefghijklmnopq", "r\u00e9gion", "region", "source"};
    enum { N = sizeof names / sizeof names[0] };
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    zb_buf_t *mp = zb_buf_new(64);
    bool live[N] = {false};
    int n_live = 0;
    uint32_t seed = 12345;
    for (int step = 0; step < 3000; step++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int) ((seed >> 16) % N);
        char p[128];
        if (live[i]) {
            assert_int_equal(zb_matcher_remove(m, (uint64_t) i + 1), 0);
            live[i] = false;
            n_live--;
        } else if (n_live < 6) {
            int len = snprintf(p, sizeof p, "{\"o\":{\"%s\":[\"v\"]}}", names[i]);
            assert_int_equal(zb_matcher_add(m, (uint64_t) i + 1, ZB_FORMAT_JSON, p, (size_t) len, &err), 0);
            live[i] = true;
            n_live++;
        }
        for (int e = 0; e < N; e++) {
            char ev[128];
            int len = snprintf(ev, sizeof ev, "{\"x\":1,\"o\":{\"y\":2,\"%s\":\"v\",\"z\":\"v\"}}", names[e]);
            const uint64_t *ids;
            int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, (size_t) len, &ids, &err);
            assert_int_equal(n, live[e] ? 1 : 0);
            if (n)
                assert_int_equal(ids[0], (uint64_t) e + 1);
            zb_json_error_t jerr;
            zb_buf_reset(mp);
            assert_int_equal(zb_json_to_msgpack(ev, (size_t) len, mp, &jerr), 0);
            n = zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err);
            assert_int_equal(n, live[e] ? 1 : 0);
            if (n)
                assert_int_equal(ids[0], (uint64_t) e + 1);
        }
    }
    zb_buf_destroy(&mp);
}

/* A string at a field with only exact values, prefixes and suffixes is
 * passed over when its key filter says no probe can hit (mt_keyed() in
 * mt_ctx_string(), matcher_int.h). Values and rules over a tiny alphabet (so
 * they share lengths and end bytes), the empty string and a non-ASCII
 * letter, rules added and removed at random: each event's answer, in
 * JSON and msgpack, is the model's. */
static void affix_fields_skipped_by_their_filter_agree_with_the_model(void **state)
{
    enum { N = 24, KINDS = 3 };
    static const char *alpha[] = {"a", "b", "\u00e9"}; /* JSON text, one letter each */
    char rule[N][16];  /* the letters as indexes, '0' + k */
    int kind[N];       /* 0 exact, 1 prefix, 2 suffix */
    bool live[N] = {false};
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    zb_buf_t *mp = zb_buf_new(256);
    uint32_t seed = 4242;
#define RND(n) ((seed = seed * 1103515245u + 12345u), (int) ((seed >> 16) % (uint32_t) (n)))
    for (int step = 0; step < 600; step++) {
        int i = RND(N);
        if (live[i]) {
            assert_int_equal(zb_matcher_remove(m, (uint64_t) i + 1), 0);
            live[i] = false;
        } else {
            kind[i] = RND(KINDS);
            int len = RND(4) + (kind[i] ? 1 : 0);
            for (int k = 0; k < len; k++)
                rule[i][k] = (char) ('0' + RND(3));
            rule[i][len] = '\0';
            char p[160], lit[64] = "";
            for (int k = 0; k < len; k++)
                strcat(lit, alpha[rule[i][k] - '0']);
            int n = kind[i] == 0 ? snprintf(p, sizeof p, "{\"c\":[\"%s\"],\"x\":[1]}", lit)
                                 : snprintf(p, sizeof p, "{\"c\":[{\"%s\":\"%s\"}],\"x\":[1]}",
                                            kind[i] == 1 ? "prefix" : "suffix", lit);
            assert_int_equal(zb_matcher_add(m, (uint64_t) i + 1, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
            live[i] = true;
        }
        for (int e = 0; e < 8; e++) {
            char val[16], ev[160], lit[64] = "";
            int len = RND(6);
            for (int k = 0; k < len; k++)
                val[k] = (char) ('0' + RND(3));
            val[len] = '\0';
            for (int k = 0; k < len; k++)
                strcat(lit, alpha[val[k] - '0']);
            int n = snprintf(ev, sizeof ev, "{\"c\":\"%s\",\"x\":1}", lit);
            bool want[N];
            int n_want = 0;
            for (int r = 0; r < N; r++) {
                size_t rl = strlen(rule[r]), vl = (size_t) len;
                want[r] = live[r] && (kind[r] == 0   ? strcmp(rule[r], val) == 0
                                      : kind[r] == 1 ? rl <= vl && memcmp(rule[r], val, rl) == 0
                                                     : rl <= vl && memcmp(rule[r], val + vl - rl, rl) == 0);
                n_want += want[r];
            }
            zb_json_error_t jerr;
            mp->len = 0;
            assert_int_equal(zb_json_to_msgpack(ev, (size_t) n, mp, &jerr), 0);
            for (int form = 0; form < 2; form++) {
                const uint64_t *ids;
                int k = form ? zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err)
                             : zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, (size_t) n, &ids, &err);
                if (k != n_want)
                    fail_msg("event %s: %d rules matched, the model says %d", ev, k, n_want);
                for (int q = 0; q < k; q++)
                    assert_true(want[ids[q] - 1]);
            }
        }
    }
#undef RND
    zb_buf_destroy(&mp);
}

/* The msgpack reader decodes the common forms itself (fixstr and str8
 * keys and values, fixmap, fixarray, float64 and fixint values, one-byte
 * scalars): every
 * proper prefix of an event is refused, whichever form it ends in. */
static void msgpack_events_cut_anywhere_are_refused(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    static const char *rules[] = {
        "{\"s\":[\"abcdefghijklmnopqrstuvwxyz0123456789abcd\"]}",
        "{\"d\":{\"f\":[{\"numeric\":[\">\",1.5]}],\"a\":[\"x\"],\"i\":[3]}}",
        "{\"n\":[{\"exists\":true}],\"b\":[true]}",
        "{\"a_field_name_of_thirty_eight_bytes_012\":[\"v\"]}",
    };
    for (int i = 0; i < 4; i++)
        assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, rules[i], strlen(rules[i]), &err), 0);
    const char *ev = "{\"skip\":\"0123456789012345678901234567890123456789\",\"big\":12345678901,\"neg\":-5,"
                     "\"s\":\"abcdefghijklmnopqrstuvwxyz0123456789abcd\",\"d\":{\"f\":2.25,\"i\":3,\"a\":[\"y\",\"x\"]},"
                     "\"n\":null,\"b\":true,\"e\":[],\"a_field_name_of_thirty_eight_bytes_012\":\"v\"}";
    zb_buf_t *mp = zb_buf_new(256);
    zb_json_error_t jerr;
    assert_int_equal(zb_json_to_msgpack(ev, strlen(ev), mp, &jerr), 0);
    const uint64_t *ids;
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err), 4);
    for (size_t n = 0; n < mp->len; n++) {
        uint8_t *cut = malloc(n ? n : 1); /* exact size: a read past it is caught under ASan */
        assert_non_null(cut);
        memcpy(cut, mp->data, n);
        assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, cut, n, &ids, &err), -1);
        free(cut);
    }
    zb_buf_destroy(&mp);
}

static void random_add_remove_keeps_the_index_exact(void **state)
{
    enum { N = 4000 };
    static bool live[N];
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    uint32_t seed = 99;
    for (int step = 0; step < 40000; step++) {
        seed = seed * 1664525u + 1013904223u;
        int i = (int) ((seed >> 8) % N);
        if (live[i]) {
            assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
            live[i] = false;
        } else {
            char p[96];
            int n = snprintf(p, sizeof p, "{\"k\":[\"v%d\",{\"prefix\":\"p%d-\"}]}", i, i % 97);
            assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
            live[i] = true;
        }
    }
    size_t count = 0;
    for (int i = 0; i < N; i++)
        count += live[i];
    assert_int_equal(zb_matcher_size(m), count);
    for (int i = 0; i < N; i++) {
        char ev[64];
        snprintf(ev, sizeof ev, "{\"k\":\"v%d\"}", i);
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err);
        assert_int_equal(n, live[i] ? 1 : 0);
    }
    /* "p5-x" hits every live rule whose prefix is p5- */
    const uint64_t *ids;
    int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, "{\"k\":\"p5-x\"}", 12, &ids, &err);
    int want = 0;
    for (int i = 0; i < N; i++)
        want += live[i] && i % 97 == 5;
    assert_int_equal(n, want);
}

typedef struct {
    double lo, hi;
    int lo_op, hi_op; /* 0 none, 1 strict, 2 inclusive */
} s_range_t;

static bool s_in(const s_range_t *r, double x)
{
    if (r->lo_op && !(r->lo_op == 2 ? x >= r->lo : x > r->lo))
        return false;
    if (r->hi_op && !(r->hi_op == 2 ? x <= r->hi : x < r->hi))
        return false;
    return true;
}

static void many_numeric_ranges_agree_with_brute_force(void **state)
{
    enum { N = 3000 };
    static s_range_t r[N];
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    uint32_t seed = 12345;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8) % 1000)
    for (int i = 0; i < N; i++) {
        double a = (double) RND() - 500, b = (double) RND() - 500;
        if (a > b) {
            double t = a;
            a = b;
            b = t;
        }
        if (a == b)
            b += 1;
        r[i].lo = a;
        r[i].hi = b;
        r[i].lo_op = (int) (RND() % 3);
        r[i].hi_op = r[i].lo_op == 0 ? 1 + (int) (RND() % 2) : (int) (RND() % 3);
        char p[160];
        int n;
        if (r[i].lo_op && r[i].hi_op)
            n = snprintf(p, sizeof p, "{\"v\":[{\"numeric\":[\"%s\",%g,\"%s\",%g]}]}", r[i].lo_op == 2 ? ">=" : ">",
                         a, r[i].hi_op == 2 ? "<=" : "<", b);
        else if (r[i].lo_op)
            n = snprintf(p, sizeof p, "{\"v\":[{\"numeric\":[\"%s\",%g]}]}", r[i].lo_op == 2 ? ">=" : ">", a);
        else
            n = snprintf(p, sizeof p, "{\"v\":[{\"numeric\":[\"%s\",%g]}]}", r[i].hi_op == 2 ? "<=" : "<", b);
        assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
    }
    for (int round = 0; round < 2; round++) {
        for (double x = -520; x <= 520; x += 7.5) {
            char ev[64];
            snprintf(ev, sizeof ev, "{\"v\":%g}", x);
            const uint64_t *ids;
            int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err);
            int want = 0;
            for (int i = 0; i < N; i++)
                want += (round == 0 || i % 2 == 1) && s_in(&r[i], x);
            assert_int_equal(n, want);
            for (int k = 0; k < n; k++)
                assert_true(s_in(&r[ids[k]], x));
        }
        for (int i = 0; i < N; i += 2)
            if (round == 0)
                assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
    }
#undef RND
}

static void many_cidr_blocks(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    /* 10.i.0.0/16 for i < 200, plus 10.0.0.0/8 and fd00::/8 */
    for (int i = 0; i < 200; i++) {
        char p[96];
        int n = snprintf(p, sizeof p, "{\"ip\":[{\"cidr\":\"10.%d.0.0/16\"}]}", i);
        assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
    }
    const char *p8 = "{\"ip\":[{\"cidr\":\"10.0.0.0/8\"}]}", *p6 = "{\"ip\":[{\"cidr\":\"fd00::/8\"}]}";
    assert_int_equal(zb_matcher_add(m, 1000, ZB_FORMAT_JSON, p8, strlen(p8), &err), 0);
    assert_int_equal(zb_matcher_add(m, 1001, ZB_FORMAT_JSON, p6, strlen(p6), &err), 0);
    uint64_t ids[8];
    assert_int_equal(s_ids(m, ctx, "{\"ip\":\"10.42.7.9\"}", ids), 2);
    assert_int_equal(ids[0], 42);
    assert_int_equal(ids[1], 1000);
    assert_int_equal(s_ids(m, ctx, "{\"ip\":\"10.250.7.9\"}", ids), 1);
    assert_int_equal(s_ids(m, ctx, "{\"ip\":\"fdab::1\"}", ids), 1);
    assert_int_equal(ids[0], 1001);
    assert_int_equal(s_ids(m, ctx, "{\"ip\":\"11.0.0.1\"}", ids), 0);
}

static void msgpack_patterns_and_native_types(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    zb_buf_t *p = zb_buf_new(64);
    zb_json_error_t jerr;
    const char *pj = "{\"a\":[{\"numeric\":[\">\",1.5]}],\"b\":[{\"exists\":true}]}";
    assert_int_equal(zb_json_to_msgpack(pj, strlen(pj), p, &jerr), 0);
    assert_int_equal(zb_matcher_add(m, 9, ZB_FORMAT_MSGPACK, p->data, p->len, &err), 0);
    /* {"a": float32 2.0, "b": bin} */
    const uint8_t ev[] = {0x82, 0xa1, 'a', 0xca, 0x40, 0x00, 0x00, 0x00, 0xa1, 'b', 0xc4, 0x01, 0x00};
    const uint64_t *ids;
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, ev, sizeof ev, &ids, &err), 1);
    zb_buf_destroy(&p);
    /* a parsed tree works the same */
    const char *tj = "{\"c\":[{\"prefix\":\"ab\"}]}";
    zb_json_doc_t *doc = zb_json_parse(tj, strlen(tj), &jerr);
    assert_int_equal(zb_pattern_check_tree(zb_json_root(doc), &err), 0);
    assert_int_equal(zb_matcher_add_tree(m, 10, zb_json_root(doc), &err), 0);
    zb_json_doc_destroy(&doc);
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_JSON, "{\"c\":\"abc\"}", 11, &ids, &err), 1);
    assert_int_equal(ids[0], 10);
    doc = zb_json_parse("{\"c\":[]}", 8, &jerr);
    assert_int_equal(zb_matcher_add_tree(m, 11, zb_json_root(doc), &err), -1);
    assert_string_equal(err.path, "c");
    zb_json_doc_destroy(&doc);
}

/* ---- anything-but at scale ------------------------------------------------------------ */

/* Brute-force model of one anything-but alternative over a small alphabet:
 * kind 0 numbers, 1 strings, 2 prefixes, 3 suffixes, 4 equals-ignore-case,
 * 5 wildcards (no escapes). */
typedef struct {
    int kind;
    int n;
    char v[64][6];
    int num[64];
} s_ab_t;

static bool s_glob(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (*p == '*')
        return s_glob(p + 1, s) || (*s && s_glob(p, s + 1));
    return *s == *p && s_glob(p + 1, s + 1);
}

static bool s_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if ((*a | 0x20) != (*b | 0x20))
            return false;
    return *a == *b;
}

/* Value: type 0 number (num), 1 string (s), 2 true, 3 null. */
typedef struct {
    int type;
    int num;
    char s[6];
} s_abval_t;

static bool s_ab_fires(const s_ab_t *a, const s_abval_t *v)
{
    if (a->kind == 0) {
        if (v->type != 0)
            return true;
        for (int i = 0; i < a->n; i++)
            if (a->num[i] == v->num)
                return false;
        return true;
    }
    if (v->type != 1)
        return true;
    size_t len = strlen(v->s);
    for (int i = 0; i < a->n; i++) {
        const char *x = a->v[i];
        size_t xl = strlen(x);
        bool hit = a->kind == 1   ? strcmp(x, v->s) == 0
                   : a->kind == 2 ? xl <= len && memcmp(v->s, x, xl) == 0
                   : a->kind == 3 ? xl <= len && memcmp(v->s + len - xl, x, xl) == 0
                   : a->kind == 4 ? s_ieq(x, v->s)
                                  : s_glob(x, v->s);
        if (hit)
            return false;
    }
    return true;
}

static uint32_t s_rng = 12345u;

static uint32_t s_rand(uint32_t n)
{
    s_rng = s_rng * 1103515245u + 12345u;
    return (s_rng >> 8) % n;
}

static void s_rand_str(char *out, bool stars)
{
    static const char abc[] = "abAB";
    int len = (int) s_rand(5);
    int o = 0;
    for (int i = 0; i < len; i++) {
        char c = stars && s_rand(3) == 0 ? '*' : abc[s_rand(stars ? 2 : 4)];
        if (c == '*' && o > 0 && out[o - 1] == '*')
            continue;
        out[o++] = c;
    }
    out[o] = '\0';
}

static int s_ab_json(const s_ab_t *a, char *p, size_t cap)
{
    static const char *op[] = {"", "", "prefix", "suffix", "equals-ignore-case", "wildcard"};
    size_t n = 0;
    n += (size_t) snprintf(p + n, cap - n, "{\"anything-but\":");
    if (a->kind >= 2)
        n += (size_t) snprintf(p + n, cap - n, "{\"%s\":", op[a->kind]);
    n += (size_t) snprintf(p + n, cap - n, "[");
    for (int i = 0; i < a->n; i++) {
        if (a->kind == 0)
            n += (size_t) snprintf(p + n, cap - n, "%s%d", i ? "," : "", a->num[i]);
        else
            n += (size_t) snprintf(p + n, cap - n, "%s\"%s\"", i ? "," : "", a->v[i]);
    }
    n += (size_t) snprintf(p + n, cap - n, a->kind >= 2 ? "]}}" : "]}");
    return (int) n;
}

static void s_ab_rand(s_ab_t *a)
{
    a->kind = (int) s_rand(6);
    /* long lists sometimes; wildcards stay under the per-rule star limit */
    int max = a->kind == 5 ? 8 : s_rand(4) == 0 ? 64 : 6;
    a->n = 1 + (int) s_rand((uint32_t) max);
    for (int i = 0; i < a->n; i++) {
        a->num[i] = (int) s_rand(24);
        do
            s_rand_str(a->v[i], a->kind == 5);
        while ((a->kind == 2 || a->kind == 3) && a->v[i][0] == '\0');
        if (a->kind == 5 && strchr(a->v[i], '*') && strchr(strchr(a->v[i], '*') + 1, '*') &&
            strchr(strchr(strchr(a->v[i], '*') + 1, '*') + 1, '*'))
            strcpy(a->v[i], "a*b*");
    }
}

static void s_abval_rand(s_abval_t *v)
{
    uint32_t t = s_rand(10);
    v->type = t < 4 ? 0 : t < 8 ? 1 : t < 9 ? 2 : 3;
    v->num = (int) s_rand(24);
    s_rand_str(v->s, false);
}

static int s_abval_json(const s_abval_t *v, char *p, size_t cap)
{
    switch (v->type) {
    case 0: return snprintf(p, cap, "%d", v->num);
    case 1: return snprintf(p, cap, "\"%s\"", v->s);
    case 2: return snprintf(p, cap, "true");
    default: return snprintf(p, cap, "null");
    }
}

/* Removes every rule still live (ids 0..n-1) and checks none is left. */
static void s_remove_live(zb_matcher_t *m, const bool *live, int n)
{
    for (int i = 0; i < n; i++)
        if (live[i])
            assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
    assert_int_equal(zb_matcher_size(m), 0);
}

/* Rules: anything-but on "a" (one or two alternatives), or on o.a paired
 * with o.b = "x" so the array positions of the hits matter. Events: "a" a
 * value or an array, "o" an array of objects. Results in both forms must
 * equal the model's, before and after removing a third of the rules. */
static void s_ab_oracle(int N, uint32_t seed)
{
    enum { EVENTS = 300, OBJS = 4 };
    s_ab_t *ab = calloc(2 * N, sizeof *ab);
    int *two = calloc(N, sizeof *two), *paired = calloc(N, sizeof *paired);
    bool *live = calloc(N, sizeof *live), *got = calloc(N, sizeof *got);
    char *p = malloc(16384);
    assert_non_null(ab);
    assert_non_null(p);
    zb_matcher_t *m = zb_matcher_new();
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    zb_matcher_error_t err;
    s_rng = seed;
    for (int i = 0; i < N; i++) {
        s_ab_rand(&ab[2 * i]);
        s_ab_rand(&ab[2 * i + 1]);
        two[i] = s_rand(4) == 0;
        paired[i] = s_rand(3) == 0;
        int n = snprintf(p, 16384, paired[i] ? "{\"o\":{\"b\":[\"x\"],\"a\":[" : "{\"a\":[");
        n += s_ab_json(&ab[2 * i], p + n, (size_t) (16384 - n));
        if (two[i]) {
            p[n++] = ',';
            n += s_ab_json(&ab[2 * i + 1], p + n, (size_t) (16384 - n));
        }
        n += snprintf(p + n, (size_t) (16384 - n), paired[i] ? "]}}" : "]}");
        if (zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err) != 0)
            fail_msg("%s: %s", p, err.message);
        live[i] = true;
    }
    zb_buf_t *mp = zb_buf_new(256);
    for (int round = 0; round < 2; round++) {
        for (int e = 0; e < EVENTS; e++) {
            s_abval_t av[5], ov[OBJS];
            int ob[OBJS];
            int na = (int) s_rand(6), no = (int) s_rand(OBJS + 1);
            bool arr = na != 1 || s_rand(2);
            int n = snprintf(p, 16384, "{\"a\":%s", arr ? "[" : "");
            for (int k = 0; k < na; k++) {
                s_abval_rand(&av[k]);
                n += snprintf(p + n, (size_t) (16384 - n), "%s", k ? "," : "");
                n += s_abval_json(&av[k], p + n, (size_t) (16384 - n));
            }
            if (na == 0 && !arr)
                n += snprintf(p + n, (size_t) (16384 - n), "[");
            n += snprintf(p + n, (size_t) (16384 - n), "%s,\"o\":[", arr || na == 0 ? "]" : "");
            for (int k = 0; k < no; k++) {
                s_abval_rand(&ov[k]);
                ob[k] = (int) s_rand(2);
                n += snprintf(p + n, (size_t) (16384 - n), "%s{\"b\":\"%s\",\"a\":", k ? "," : "", ob[k] ? "x" : "y");
                n += s_abval_json(&ov[k], p + n, (size_t) (16384 - n));
                n += snprintf(p + n, (size_t) (16384 - n), "}");
            }
            n += snprintf(p + n, (size_t) (16384 - n), "]}");
            for (int i = 0; i < N; i++) {
                bool want = false;
                for (int k = 0; live[i] && !paired[i] && k < na; k++)
                    want |= s_ab_fires(&ab[2 * i], &av[k]) || (two[i] && s_ab_fires(&ab[2 * i + 1], &av[k]));
                for (int k = 0; live[i] && paired[i] && k < no; k++)
                    want |= ob[k] && (s_ab_fires(&ab[2 * i], &ov[k]) || (two[i] && s_ab_fires(&ab[2 * i + 1], &ov[k])));
                got[i] = want;
            }
            zb_json_error_t jerr;
            mp->len = 0;
            assert_int_equal(zb_json_to_msgpack(p, (size_t) n, mp, &jerr), 0);
            for (int form = 0; form < 2; form++) {
                const uint64_t *ids;
                int k = form ? zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err)
                             : zb_matcher_match(m, ctx, ZB_FORMAT_JSON, p, (size_t) n, &ids, &err);
                int want = 0;
                for (int i = 0; i < N; i++)
                    want += got[i];
                if (k != want)
                    fail_msg("event %s: %d rules matched, the model says %d", p, k, want);
                for (int q = 0; q < k; q++)
                    if (!got[ids[q]])
                        fail_msg("event %s matched rule %llu", p, (unsigned long long) ids[q]);
            }
        }
        for (int i = 0; round == 0 && i < N; i += 3) {
            assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
            live[i] = false;
        }
    }
    s_remove_live(m, live, N);
    zb_buf_destroy(&mp);
    zb_match_ctx_destroy(&ctx);
    zb_matcher_destroy(&m);
    free(ab);
    free(two);
    free(paired);
    free(live);
    free(got);
    free(p);
}

/* ---- mixed rules against a model ------------------------------------------------ */

/* Leaves of s_mix_oracle: kind 0 exact, 1 prefix, 2 suffix, 3
 * equals-ignore-case, 4 anything-but (strings), 5 exists, 6 number,
 * 7 prefix equals-ignore-case, 8 suffix equals-ignore-case, 9 exists
 * false. Values are
 * short strings over an alphabet whose letters share first bytes, last
 * bytes and lengths with each other ("é" and "É" are two bytes, and
 * fold to each other), so any filter on those could wrongly skip. */
typedef struct {
    int field;
    int kind;
    char v[12];
    int num;
} s_mleaf_t;

static const char *const s_mix_abc[] = {"a", "b", "A", "B", "\xc3\xa9", "\xc3\x89", "-"};

static void s_mix_str(char *out)
{
    int len = (int) s_rand(5);
    out[0] = '\0';
    for (int i = 0; i < len; i++)
        strcat(out, s_mix_abc[s_rand(7)]);
}

/* Simple case folding of the alphabet: A B É to a b é. */
static void s_mix_fold(const char *s, char *out)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == 'A' || s[i] == 'B')
            out[o++] = (char) (s[i] | 0x20);
        else if ((unsigned char) s[i] == 0xc3 && (unsigned char) s[i + 1] == 0x89) {
            out[o++] = (char) 0xc3;
            out[o++] = (char) 0xa9;
            i++;
        } else
            out[o++] = s[i];
    }
    out[o] = '\0';
}

static bool s_mix_starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool s_mix_ends(const char *s, const char *p)
{
    size_t a = strlen(s), b = strlen(p);
    return b <= a && strcmp(s + a - b, p) == 0;
}

/* Event field: type 0 absent, 1 string, 2 number. */
typedef struct {
    int type;
    int num;
    char s[12];
} s_mval_t;

static bool s_mleaf_holds(const s_mleaf_t *l, const s_mval_t *v)
{
    char fv[32], fl[32];
    if (l->kind == 9)
        return v->type == 0;
    if (v->type == 0)
        return false;
    if (l->kind == 5)
        return true;
    if (l->kind == 4)
        return v->type != 1 || strcmp(v->s, l->v) != 0;
    if (l->kind == 6)
        return v->type == 2 && v->num == l->num;
    if (v->type != 1)
        return false;
    s_mix_fold(v->s, fv);
    s_mix_fold(l->v, fl);
    switch (l->kind) {
    case 0: return strcmp(v->s, l->v) == 0;
    case 1: return s_mix_starts(v->s, l->v);
    case 2: return s_mix_ends(v->s, l->v);
    case 3: return strcmp(fv, fl) == 0;
    case 7: return s_mix_starts(fv, fl);
    default: return s_mix_ends(fv, fl);
    }
}

static int s_mleaf_json(const s_mleaf_t *l, char *p, size_t cap)
{
    switch (l->kind) {
    case 0: return snprintf(p, cap, "[\"%s\"]", l->v);
    case 1: return snprintf(p, cap, "[{\"prefix\":\"%s\"}]", l->v);
    case 2: return snprintf(p, cap, "[{\"suffix\":\"%s\"}]", l->v);
    case 3: return snprintf(p, cap, "[{\"equals-ignore-case\":\"%s\"}]", l->v);
    case 4: return snprintf(p, cap, "[{\"anything-but\":[\"%s\"]}]", l->v);
    case 5: return snprintf(p, cap, "[{\"exists\":true}]");
    case 6: return snprintf(p, cap, "[%d]", l->num);
    case 7: return snprintf(p, cap, "[{\"prefix\":{\"equals-ignore-case\":\"%s\"}}]", l->v);
    case 9: return snprintf(p, cap, "[{\"exists\":false}]");
    default: return snprintf(p, cap, "[{\"suffix\":{\"equals-ignore-case\":\"%s\"}}]", l->v);
    }
}

/* Rules of one to three leaves on four fields, every kind of hashed
 * value, conditions shared between rules: the results in both forms must
 * equal the model's while rules come and go (a subrule is looked at only
 * through its trigger and a second condition, and values are probed only
 * where the state's keys could hold them). */
static void mixed_rules_agree_with_brute_force(void **state)
{
    enum { N = 400, EVENTS = 300, F = 4 };
    static s_mleaf_t leaves[N][3];
    static int n_leaves[N];
    static bool live[N], want[N];
    char p[512];
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    zb_buf_t *mp = zb_buf_new(256);
    s_rng = 4242u;
    for (int round = 0; round < 4; round++) {
        /* add the rules not live (new ones), remove about a third */
        for (int i = 0; i < N; i++) {
            if (live[i] && s_rand(3) == 0) {
                assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
                live[i] = false;
                continue;
            }
            if (live[i])
                continue;
            n_leaves[i] = 1 + (int) s_rand(3);
            bool used[F] = {false};
            int n = snprintf(p, sizeof p, "{");
            for (int k = 0; k < n_leaves[i]; k++) {
                s_mleaf_t *l = &leaves[i][k];
                do
                    l->field = (int) s_rand(F);
                while (used[l->field]);
                used[l->field] = true;
                l->kind = (int) s_rand(10);
                do
                    s_mix_str(l->v);
                while ((l->kind == 1 || l->kind == 2 || l->kind == 7 || l->kind == 8) && l->v[0] == '\0');
                l->num = (int) s_rand(4);
                n += snprintf(p + n, sizeof p - (size_t) n, "%s\"f%d\":", k ? "," : "", l->field);
                n += s_mleaf_json(l, p + n, sizeof p - (size_t) n);
            }
            n += snprintf(p + n, sizeof p - (size_t) n, "}");
            if (zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err) != 0)
                fail_msg("%s: %s", p, err.message);
            live[i] = true;
        }
        for (int e = 0; e < EVENTS; e++) {
            s_mval_t v[F];
            int n = snprintf(p, sizeof p, "{\"x\":1");
            for (int f = 0; f < F; f++) {
                uint32_t t = s_rand(8);
                v[f].type = t == 0 ? 0 : t < 6 ? 1 : 2;
                v[f].num = (int) s_rand(4);
                s_mix_str(v[f].s);
                if (v[f].type == 1)
                    n += snprintf(p + n, sizeof p - (size_t) n, ",\"f%d\":\"%s\"", f, v[f].s);
                else if (v[f].type == 2)
                    n += snprintf(p + n, sizeof p - (size_t) n, ",\"f%d\":%d", f, v[f].num);
            }
            n += snprintf(p + n, sizeof p - (size_t) n, "}");
            int n_want = 0;
            for (int i = 0; i < N; i++) {
                want[i] = live[i];
                for (int k = 0; want[i] && k < n_leaves[i]; k++)
                    want[i] = s_mleaf_holds(&leaves[i][k], &v[leaves[i][k].field]);
                n_want += want[i];
            }
            zb_json_error_t jerr;
            mp->len = 0;
            assert_int_equal(zb_json_to_msgpack(p, (size_t) n, mp, &jerr), 0);
            for (int form = 0; form < 2; form++) {
                const uint64_t *ids;
                int k = form ? zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err)
                             : zb_matcher_match(m, ctx, ZB_FORMAT_JSON, p, (size_t) n, &ids, &err);
                if (k != n_want)
                    fail_msg("event %s: %d rules matched, the model says %d", p, k, n_want);
                for (int q = 0; q < k; q++)
                    if (!want[ids[q]])
                        fail_msg("event %s matched rule %llu", p, (unsigned long long) ids[q]);
            }
        }
    }
    s_remove_live(m, live, N);
    zb_buf_destroy(&mp);
}

/* A value listed twice in one anything-but is one excluded key: a value
 * that cancels every anything-but on a field skips them all at once, and
 * that must not be mistaken for a key that merely holds two copies. */
static void anything_but_with_a_value_listed_twice(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    const char *a = "{\"k\":[{\"anything-but\":[\"x\",\"x\",\"p\",\"q\",\"r\"]}]}";
    const char *b = "{\"k\":[{\"anything-but\":[\"y\"]}]}";
    const char *c = "{\"k\":[{\"anything-but\":[\"y\",\"x\"]}]}";
    assert_int_equal(zb_matcher_add(m, 1, ZB_FORMAT_JSON, a, strlen(a), &err), 0);
    assert_int_equal(zb_matcher_add(m, 2, ZB_FORMAT_JSON, b, strlen(b), &err), 0);
    uint64_t ids[4];
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"x\"}", ids), 1);
    assert_int_equal(ids[0], 2);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"y\"}", ids), 1);
    assert_int_equal(ids[0], 1);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"z\"}", ids), 2);
    assert_int_equal(zb_matcher_add(m, 3, ZB_FORMAT_JSON, c, strlen(c), &err), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"x\"}", ids), 1); /* only b */
    assert_int_equal(zb_matcher_remove(m, 2), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"x\"}", ids), 0); /* a and c both exclude it */
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"y\"}", ids), 1);
    assert_int_equal(zb_matcher_remove(m, 3), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"x\"}", ids), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"z\"}", ids), 1);
    assert_int_equal(zb_matcher_remove(m, 1), 0);
    assert_int_equal(s_ids(m, ctx, "{\"k\":\"z\"}", ids), 0);
}

/* The same for every kind of anything-but whose values are keys: values
 * with one key (a number and its negative zero, two spellings of one
 * folded string, a prefix or a wildcard listed twice) are one exclusion.
 * Five keys on the field, so they are probed (MT_AB_LINEAR). */
static void anything_but_kinds_with_a_value_listed_twice(void **state)
{
    (void) state;
    static const struct {
        const char *a, *b;   /* a lists its first value twice */
        const char *in_a;    /* excluded by a only */
        const char *in_b;    /* excluded by b only */
    } cases[] = {
        {"{\"k\":[{\"anything-but\":[0,-0,1,2,3]}]}", "{\"k\":[{\"anything-but\":[5]}]}", "{\"k\":0}",
         "{\"k\":5}"},
        {"{\"k\":[{\"anything-but\":{\"equals-ignore-case\":[\"X\",\"x\",\"p\",\"q\",\"r\"]}}]}",
         "{\"k\":[{\"anything-but\":{\"equals-ignore-case\":[\"y\"]}}]}", "{\"k\":\"x\"}", "{\"k\":\"Y\"}"},
        {"{\"k\":[{\"anything-but\":{\"prefix\":[\"x\",\"x\",\"p\",\"q\",\"r\"]}}]}",
         "{\"k\":[{\"anything-but\":{\"prefix\":[\"y\"]}}]}", "{\"k\":\"xa\"}", "{\"k\":\"ya\"}"},
        {"{\"k\":[{\"anything-but\":{\"wildcard\":[\"x*\",\"x*\",\"p\",\"q\",\"r\"]}}]}",
         "{\"k\":[{\"anything-but\":{\"wildcard\":[\"y\"]}}]}", "{\"k\":\"xa\"}", "{\"k\":\"y\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zb_matcher_t *m = zb_matcher_new();
        zb_match_ctx_t *ctx = zb_match_ctx_new();
        zb_matcher_error_t err;
        assert_int_equal(zb_matcher_add(m, 1, ZB_FORMAT_JSON, cases[i].a, strlen(cases[i].a), &err), 0);
        assert_int_equal(zb_matcher_add(m, 2, ZB_FORMAT_JSON, cases[i].b, strlen(cases[i].b), &err), 0);
        uint64_t ids[4];
        assert_int_equal(s_ids(m, ctx, cases[i].in_a, ids), 1);
        assert_int_equal(ids[0], 2);
        assert_int_equal(s_ids(m, ctx, cases[i].in_b, ids), 1);
        assert_int_equal(ids[0], 1);
        assert_int_equal(zb_matcher_remove(m, 1), 0);
        assert_int_equal(s_ids(m, ctx, cases[i].in_a, ids), 1);
        assert_int_equal(zb_matcher_remove(m, 2), 0);
        assert_int_equal(s_ids(m, ctx, cases[i].in_a, ids), 0);
        zb_match_ctx_destroy(&ctx);
        zb_matcher_destroy(&m);
    }
}

/* Thousands of rules: the excluded values are probed. */
static void anything_but_agrees_with_brute_force(void **state)
{
    (void) state;
    s_ab_oracle(3000, 777u);
}

/* A few rules with short lists: compared one by one (MT_AB_LINEAR), or
 * probed once the lists grow. */
static void few_anything_but_rules_agree_with_brute_force(void **state)
{
    (void) state;
    for (uint32_t seed = 1; seed <= 60; seed++)
        s_ab_oracle(1 + (int) (seed % 3), seed);
}

/* Many rules excluding one shared value on one field ("anything-but":
 * "OrderCreated"), each with a value of its own: a value equal to the
 * shared one cancels them all with one comparison (mt_state_t.ab_all),
 * kept as rules come and go, including one that does not list it, lists
 * it last, or lists the empty string. Checked against the model on
 * values sharing its length, prefix or first byte, in arrays, non-ASCII. */
static void a_value_every_anything_but_excludes_agrees_with_the_model(void **state)
{
    (void) state;
    enum { N = 12, V = 10 };
    static const char *shared[] = {"OrderCreated", "", "\u00e9t\u00e9"};
    static const char *vals[V] = {"OrderCreated", "OrderCreatee", "OrderCreated2", "Order", "",
                                  "X3", "\u00e9t\u00e9", "\u00e9t\u00e8", "O", "X11"};
    for (int sh = 0; sh < 3; sh++) {
        zb_matcher_t *m = zb_matcher_new();
        zb_match_ctx_t *ctx = zb_match_ctx_new();
        zb_matcher_error_t err;
        zb_buf_t *mp = zb_buf_new(256);
        /* rule i excludes list[i][0..1]; rule 5 leaves the shared value
         * out, rule 7 lists it second */
        char list[N][2][32];
        bool live[N] = {false};
        uint32_t seed = 99u + (uint32_t) sh;
        for (int step = 0; step < 400; step++) {
            seed = seed * 1103515245u + 12345u;
            int i = (int) ((seed >> 16) % N);
            if (live[i]) {
                assert_int_equal(zb_matcher_remove(m, (uint64_t) i + 1), 0);
                live[i] = false;
            } else {
                snprintf(list[i][0], sizeof list[i][0], "%s", i == 5 ? "Y5" : i == 7 ? "X7" : shared[sh]);
                snprintf(list[i][1], sizeof list[i][1], "%s%d", i == 7 ? "" : "X", i);
                if (i == 7)
                    snprintf(list[i][1], sizeof list[i][1], "%s", shared[sh]);
                char p[160];
                int n = snprintf(p, sizeof p, "{\"detail-type\":[{\"anything-but\":[\"%s\",\"%s\"]}]}",
                                 list[i][0], list[i][1]);
                assert_int_equal(zb_matcher_add(m, (uint64_t) i + 1, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
                live[i] = true;
            }
            for (int a = 0; a < V; a++) {
                for (int arr = 0; arr < 2; arr++) {
                    int b = (a + 3) % V;
                    char ev[160];
                    int n = arr ? snprintf(ev, sizeof ev, "{\"detail-type\":[\"%s\",\"%s\"]}", vals[a], vals[b])
                                : snprintf(ev, sizeof ev, "{\"detail-type\":\"%s\"}", vals[a]);
                    int want = 0;
                    bool fires[N];
                    for (int r = 0; r < N; r++) {
                        fires[r] = false;
                        for (int k = 0; live[r] && k <= arr; k++) {
                            const char *v = vals[k ? b : a];
                            fires[r] |= strcmp(v, list[r][0]) != 0 && strcmp(v, list[r][1]) != 0;
                        }
                        want += fires[r];
                    }
                    zb_json_error_t jerr;
                    mp->len = 0;
                    assert_int_equal(zb_json_to_msgpack(ev, (size_t) n, mp, &jerr), 0);
                    for (int form = 0; form < 2; form++) {
                        const uint64_t *ids;
                        int k = form ? zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err)
                                     : zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, (size_t) n, &ids, &err);
                        if (k != want)
                            fail_msg("event %s: %d rules matched, the model says %d", ev, k, want);
                        for (int q = 0; q < k; q++)
                            assert_true(fires[ids[q] - 1]);
                    }
                }
            }
        }
        zb_buf_destroy(&mp);
        zb_match_ctx_destroy(&ctx);
        zb_matcher_destroy(&m);
    }
}

/* The security review's case: 100 rules each excluding 4000 numbers, one
 * event with 200,000 of them. Checked one by one that was minutes of work;
 * indexed it is one probe and the firing rules per value. */
static void long_anything_but_lists_on_large_arrays(void **state)
{
    enum { RULES = 100, LIST = 4000, VALUES = 200000 };
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    zb_buf_t *b = zb_buf_new(LIST * 8);
    /* rule r excludes 0..3998 and 100000 + r */
    for (int r = 0; r < RULES; r++) {
        b->len = 0;
        char num[32];
        const char *head = "{\"detail\":{\"x\":[{\"anything-but\":[";
        zb_buf_append(b, head, strlen(head));
        for (int i = 0; i < LIST - 1; i++) {
            int n = snprintf(num, sizeof num, "%d,", i);
            zb_buf_append(b, num, (size_t) n);
        }
        int n = snprintf(num, sizeof num, "%d]}]}}", 100000 + r);
        zb_buf_append(b, num, (size_t) n);
        assert_int_equal(zb_matcher_add(m, (uint64_t) r, ZB_FORMAT_JSON, b->data, b->len, &err), 0);
    }
    zb_buf_t *ev = zb_buf_new(VALUES * 6);
    for (int last = 0; last < 2; last++) {
        ev->len = 0;
        const char *head = "{\"detail\":{\"x\":[";
        zb_buf_append(ev, head, strlen(head));
        for (int i = 0; i < VALUES; i++) {
            char num[32];
            int v = last && i == VALUES - 1 ? 100005 : (i * 7) % (LIST - 1);
            int n = snprintf(num, sizeof num, "%s%d", i ? "," : "", v);
            zb_buf_append(ev, num, (size_t) n);
        }
        zb_buf_append(ev, "]}}", 3);
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev->data, ev->len, &ids, &err);
        /* every value excluded by every rule; then 100005, excluded by rule 5 only */
        assert_int_equal(n, last ? RULES - 1 : 0);
        for (int k = 0; k < n; k++)
            assert_true(ids[k] != 5);
    }
    zb_buf_destroy(&ev);
    zb_buf_destroy(&b);
}

/* Wildcards with inner stars are checked one by one per value; one event
 * may spend MT_GLOB_BUDGET (8 MiB) of value bytes on them, then it is
 * refused instead of stalling the matcher. */
static void wildcard_checks_have_a_budget(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    for (int r = 0; r < 12; r++) {
        char p[128];
        int n = r % 2 ? snprintf(p, sizeof p, "{\"x\":[{\"wildcard\":\"q*%d*z\"}]}", r)
                      : snprintf(p, sizeof p, "{\"x\":[{\"anything-but\":{\"wildcard\":\"*%d*y*\"}}]}", r);
        assert_int_equal(zb_matcher_add(m, (uint64_t) r, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
    }
    zb_buf_t *ev = zb_buf_new(1 << 20);
    for (int big = 0; big < 2; big++) {
        /* 12 checks x 101 bytes per element: 1,000 elements fit, 10,000 do not */
        int count = big ? 10000 : 1000;
        ev->len = 0;
        zb_buf_append_str(ev, "{\"x\":[");
        for (int i = 0; i < count; i++) {
            char s[128];
            memset(s, 'a', sizeof s);
            s[0] = 'q';
            s[50] = '3';
            s[99] = 'z';
            s[100] = '\0';
            zb_buf_appendf(ev, "%s\"%s\"", i ? "," : "", s);
        }
        zb_buf_append_str(ev, "]}");
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev->data, ev->len, &ids, &err);
        if (big) {
            assert_int_equal(n, -1);
            assert_non_null(strstr(err.message, "Event is too complex to match"));
        } else {
            /* q*3*z matches; every anything-but fires (no y in the value) */
            assert_int_equal(n, 7);
        }
    }
    zb_buf_destroy(&ev);
}

/* Brute-force model for the wildcard index tests: w[i] (stride WL) is
 * rule i's wildcard, live[i] whether it is installed. Matches `events`
 * events of `nv` random values (up to vmax letters of `abc`) as {"x":[...]}
 * and fails on any disagreement with s_glob over the live rules. */
enum { WL = 32 };
static void s_globs_agree(zb_matcher_t *m, zb_match_ctx_t *ctx, char (*w)[WL], const bool *live, int n_rules,
                          int events, int nv, int vmax, const char *abc)
{
    zb_matcher_error_t err;
    size_t nabc = strlen(abc);
    for (int e = 0; e < events; e++) {
        char v[3][48], ev[3 * 48 + 32];
        int o = snprintf(ev, sizeof ev, "{\"x\":[");
        for (int k = 0; k < nv; k++) {
            int len = (int) s_rand((uint32_t) vmax + 1);
            for (int q = 0; q < len; q++)
                v[k][q] = abc[s_rand((uint32_t) nabc)];
            v[k][len] = '\0';
            o += snprintf(ev + o, sizeof ev - (size_t) o, "%s\"%s\"", k ? "," : "", v[k]);
        }
        snprintf(ev + o, sizeof ev - (size_t) o, "]}");
        int want = 0;
        for (int i = 0; i < n_rules; i++) {
            bool hit = false;
            for (int k = 0; k < nv && !hit; k++)
                hit = s_glob(w[i], v[k]);
            want += live[i] && hit;
        }
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err);
        if (n != want)
            fail_msg("event %s: %d rules matched, the model says %d", ev, n, want);
        for (int k = 0; k < n; k++) {
            bool hit = false;
            for (int q = 0; q < nv && !hit; q++)
                hit = s_glob(w[ids[k]], v[q]);
            assert_true(live[ids[k]] && hit);
        }
    }
}

/* Installs (or removes) rule i's wildcard and flips live[i]. */
static void s_flip_glob(zb_matcher_t *m, char (*w)[WL], bool *live, int i)
{
    zb_matcher_error_t err;
    if (live[i]) {
        assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
    } else {
        char p[64];
        int n = snprintf(p, sizeof p, "{\"x\":[{\"wildcard\":\"%s\"}]}", w[i]);
        assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
    }
    live[i] = !live[i];
}

/* Wildcards with inner stars are indexed by their leading literal (or the
 * trailing one when they start with a star); the results must equal a
 * brute-force glob over every rule, before and after removals. */
static void wildcards_by_fixed_ends_agree_with_brute_force(void **state)
{
    enum { N = 2000 };
    char (*w)[WL] = calloc(N, sizeof *w);
    bool *live = calloc(N, sizeof *live);
    assert_non_null(w);
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    s_rng = 4242u;
    for (int i = 0; i < N; i++) {
        int len = 1 + (int) s_rand(9), o = 0;
        for (int k = 0; k < len; k++) {
            char c = s_rand(3) == 0 ? '*' : "ab"[s_rand(2)];
            if (c == '*' && o > 0 && w[i][o - 1] == '*')
                continue;
            w[i][o++] = c;
        }
        w[i][o] = '\0';
        s_flip_glob(m, w, live, i);
    }
    s_globs_agree(m, ctx, w, live, N, 400, 3, 9, "ab");
    for (int i = 0; i < N; i += 2)
        s_flip_glob(m, w, live, i);
    s_globs_agree(m, ctx, w, live, N, 400, 3, 9, "ab");
    for (int i = 1; i < N; i += 2)
        s_flip_glob(m, w, live, i);
    assert_int_equal(zb_matcher_size(m), 0);
    free(w);
    free(live);
}

/* Wildcards open at both ends are indexed by one 4-byte window of a
 * segment (the one fewest rules share). Long values over a small alphabet
 * hold many windows, several times each; results must equal a brute-force
 * glob over every rule, while rules come and go in random order. */
/* Rules *seg*...* with one or two segments of lo..hi letters, flipped in
 * and out at random, against the model. */
static void s_contains_oracle(uint32_t seed, int lo, int hi)
{
    enum { N = 1500 };
    char (*w)[WL] = calloc(N, sizeof *w);
    bool *live = calloc(N, sizeof *live);
    assert_non_null(w);
    zb_matcher_t *m = zb_matcher_new();
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    s_rng = seed;
    for (int i = 0; i < N; i++) {
        int o = 0, nseg = 1 + (int) s_rand(2);
        w[i][o++] = '*';
        for (int k = 0; k < nseg; k++) {
            int len = lo + (int) s_rand((uint32_t) (hi - lo + 1));
            for (int q = 0; q < len; q++)
                w[i][o++] = "abc"[s_rand(3)];
            w[i][o++] = '*';
        }
        w[i][o] = '\0';
    }
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < N; i++) /* flip about a third of the rules in or out */
            if (s_rand(3) == 0)
                s_flip_glob(m, w, live, i);
        s_globs_agree(m, ctx, w, live, N, 50, 2, 40, "abc");
    }
    for (int i = 0; i < N; i++)
        if (live[i])
            s_flip_glob(m, w, live, i);
    assert_int_equal(zb_matcher_size(m), 0);
    zb_match_ctx_destroy(&ctx);
    zb_matcher_destroy(&m);
    free(w);
    free(live);
}

/* Segments of 1..6 letters: most have a window, some do not. Segments of
 * 5..8 letters: each wildcard is indexed under a run of 2 to 4 windows,
 * so values are probed at every second position or wider; of 7..10
 * letters: every fourth. The rules come and go, so the step changes. */
static void contains_wildcards_by_gram_agree_with_brute_force(void **state)
{
    (void) state;
    s_contains_oracle(9091u, 1, 6);
    s_contains_oracle(9092u, 5, 8);
    s_contains_oracle(9093u, 7, 10);
}

/* A value holding a wildcard's window at every position is checked
 * against that wildcard once, not once per occurrence: a 60,000-byte run
 * of the window against a glob that fails stays far inside the
 * per-event budget (one check per occurrence would spend 3.6 GB). */
static void contains_wildcard_checked_once_per_value(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    const char *p = "{\"x\":[{\"wildcard\":\"*aaaa*b*\"}]}";
    assert_int_equal(zb_matcher_add(m, 1, ZB_FORMAT_JSON, p, strlen(p), &err), 0);
    zb_buf_t *ev = zb_buf_new(1 << 17);
    zb_buf_append_str(ev, "{\"x\":\"");
    for (int i = 0; i < 60000; i++)
        zb_buf_append_str(ev, "a");
    zb_buf_append_str(ev, "\"}");
    const uint64_t *ids;
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev->data, ev->len, &ids, &err), 0);
    /* and with the b at the end it matches */
    ev->len -= 2;
    zb_buf_append_str(ev, "b\"}");
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev->data, ev->len, &ids, &err), 1);
    zb_buf_destroy(&ev);
}

/* Rules with the same leaf (path and alternatives) share one condition,
 * whose alternatives belong to the pattern that installed it first. That
 * pattern must outlive its own rule while others share the condition:
 * remove rules in random order, the first owners among the first, and the
 * results must follow a model throughout (ASan checks the lifetimes). */
static void shared_conditions_outlive_their_first_rule(void **state)
{
    enum { N = 600 };
    bool live[N] = {false};
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    s_rng = 515u;
    /* rule i: source in one of 3 shared lists, detail-type t(i % 7), and
     * every fifth also a shared range */
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            if (live[i] || s_rand(2) == 0)
                continue;
            char p[256];
            static const char *src[] = {"[\"a\"]", "[\"a\", \"b\"]", "[{\"prefix\": \"a\"}]"};
            int n = snprintf(p, sizeof p, "{\"source\": %s, \"detail-type\": [\"t%d\"]%s}", src[i % 3], i % 7,
                             i % 5 ? "" : ", \"detail\": {\"n\": [{\"numeric\": [\">\", 10]}]}");
            assert_int_equal(zb_matcher_add(m, (uint64_t) i, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
            live[i] = true;
        }
        for (int e = 0; e < 40; e++) {
            static const char *srcs[] = {"a", "b", "ab", "c"};
            int si = (int) s_rand(4), t = (int) s_rand(8), num = (int) s_rand(20);
            char ev[160];
            snprintf(ev, sizeof ev, "{\"source\": \"%s\", \"detail-type\": \"t%d\", \"detail\": {\"n\": %d}}",
                     srcs[si], t, num);
            int want = 0;
            for (int i = 0; i < N; i++) {
                if (!live[i] || i % 7 != t)
                    continue;
                const char *sv = srcs[si];
                bool src_ok = i % 3 == 0   ? !strcmp(sv, "a")
                              : i % 3 == 1 ? (!strcmp(sv, "a") || !strcmp(sv, "b"))
                                           : sv[0] == 'a';
                want += src_ok && (i % 5 != 0 || num > 10);
            }
            const uint64_t *ids;
            int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err);
            if (n != want)
                fail_msg("round %d, event %s: %d rules matched, the model says %d", round, ev, n, want);
        }
        /* remove about half, oldest first among them */
        for (int i = 0; i < N; i++)
            if (live[i] && s_rand(2) == 0) {
                assert_int_equal(zb_matcher_remove(m, (uint64_t) i), 0);
                live[i] = false;
            }
    }
    s_remove_live(m, live, N);
}

/* Replacing a rule with the same pattern (it shares every condition with
 * itself for a moment) keeps it matching, and removing it leaves nothing. */
static void replacing_a_rule_with_its_own_pattern(void **state)
{
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    const char *p = "{\"source\": [\"a\"], \"detail\": {\"x\": [1, 2]}}";
    const char *ev = "{\"source\": \"a\", \"detail\": {\"x\": 2}}";
    const uint64_t *ids;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(zb_matcher_add(m, 7, ZB_FORMAT_JSON, p, strlen(p), &err), 0);
        assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err), 1);
        assert_int_equal(ids[0], 7);
    }
    assert_int_equal(zb_matcher_size(m), 1);
    assert_int_equal(zb_matcher_remove(m, 7), 0);
    assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err), 0);
}

/* equals-ignore-case folds ASCII eight bytes at a time: every printable
 * ASCII byte, in every position of long and short values, must fold as
 * one byte at a time would (the rule is written folded, the value in
 * random case; one changed letter must not match). */
static void ignore_case_folds_ascii_in_every_position(void **state)
{
    (void) state;
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    zb_matcher_error_t err;
    s_rng = 77u;
    for (int round = 0; round < 400; round++) {
        char lower[48], mixed[48], other[48], p[160], ev[160];
        int len = (int) s_rand(40);
        for (int i = 0; i < len; i++) {
            char c;
            do
                c = (char) (0x20 + s_rand(95));
            while (c == '"' || c == '\\');
            lower[i] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
            mixed[i] = (char) (lower[i] >= 'a' && lower[i] <= 'z' && s_rand(2) ? lower[i] - 32 : lower[i]);
        }
        lower[len] = mixed[len] = '\0';
        memcpy(other, mixed, (size_t) len + 1);
        zb_matcher_t *m = zb_matcher_new();
        snprintf(p, sizeof p, "{\"x\":[{\"equals-ignore-case\":\"%s\"}]}", lower);
        assert_int_equal(zb_matcher_add(m, 1, ZB_FORMAT_JSON, p, strlen(p), &err), 0);
        const uint64_t *ids;
        snprintf(ev, sizeof ev, "{\"x\":\"%s\"}", mixed);
        if (zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err) != 1)
            fail_msg("%s does not match %s", ev, p);
        if (len > 0) {
            int at = (int) s_rand((uint32_t) len);
            other[at] = other[at] == '#' ? '%' : '#';
            snprintf(ev, sizeof ev, "{\"x\":\"%s\"}", other);
            assert_int_equal(zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev, strlen(ev), &ids, &err), 0);
        }
        zb_matcher_destroy(&m);
    }
    zb_match_ctx_destroy(&ctx);
}

/* Each value visits every anything-but rule on its field (to fire it or
 * cancel it); one event may make MT_AB_BUDGET (64 Mi) such visits. */
static void anything_but_visits_have_a_budget(void **state)
{
    enum { RULES = 2000 };
    zb_matcher_t *m = s_fx_matcher(state);
    zb_match_ctx_t *ctx = s_fx_ctx(state);
    zb_matcher_error_t err;
    for (int r = 0; r < RULES; r++) {
        char p[64];
        int n = snprintf(p, sizeof p, "{\"x\":[{\"anything-but\":\"v%d\"}]}", r);
        assert_int_equal(zb_matcher_add(m, (uint64_t) r, ZB_FORMAT_JSON, p, (size_t) n, &err), 0);
    }
    zb_buf_t *ev = zb_buf_new(1 << 20);
    for (int big = 0; big < 2; big++) {
        /* 2,000 visits per element: 20,000 elements fit, 40,000 do not */
        int count = big ? 40000 : 20000;
        ev->len = 0;
        zb_buf_append_str(ev, "{\"x\":[");
        for (int i = 0; i < count; i++)
            zb_buf_append_str(ev, i ? ",\"w\"" : "\"w\"");
        zb_buf_append_str(ev, "]}");
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, ev->data, ev->len, &ids, &err);
        if (big) {
            assert_int_equal(n, -1);
            assert_non_null(strstr(err.message, "Event is too complex to match"));
        } else {
            assert_int_equal(n, RULES);
        }
    }
    zb_buf_destroy(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_numbers_compare_by_value),
        cmocka_unit_test(exact_null_empty_and_booleans_differ),
        cmocka_unit_test(escaped_names_and_values_compare_unescaped),
        cmocka_unit_test(prefix_suffix_edges),
        cmocka_unit_test(equals_ignore_case_unicode),
        cmocka_unit_test(wildcard_escapes_and_shapes),
        cmocka_unit_test(wildcard_complexity_limit),
        cmocka_unit_test(anything_but_forms),
        cmocka_unit_test(anything_but_agrees_with_brute_force),
        cmocka_unit_test_setup_teardown(mixed_rules_agree_with_brute_force, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(anything_but_with_a_value_listed_twice, s_fx_setup, s_fx_teardown),
        cmocka_unit_test(anything_but_kinds_with_a_value_listed_twice),
        cmocka_unit_test(few_anything_but_rules_agree_with_brute_force),
        cmocka_unit_test(a_value_every_anything_but_excludes_agrees_with_the_model),
        cmocka_unit_test_setup_teardown(long_anything_but_lists_on_large_arrays, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(wildcard_checks_have_a_budget, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(anything_but_visits_have_a_budget, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(wildcards_by_fixed_ends_agree_with_brute_force, s_fx_setup, s_fx_teardown),
        cmocka_unit_test(contains_wildcards_by_gram_agree_with_brute_force),
        cmocka_unit_test_setup_teardown(contains_wildcard_checked_once_per_value, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(shared_conditions_outlive_their_first_rule, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(replacing_a_rule_with_its_own_pattern, s_fx_setup, s_fx_teardown),
        cmocka_unit_test(ignore_case_folds_ascii_in_every_position),
        cmocka_unit_test(numeric_bounds_over_the_double_range),
        cmocka_unit_test(exists_on_leaves_only),
        cmocka_unit_test(cidr_v4_v6),
        cmocka_unit_test(array_consistency),
        cmocka_unit_test(or_at_every_level),
        cmocka_unit_test(or_combination_limit),
        cmocka_unit_test(structural_refusals_name_the_path),
        cmocka_unit_test_setup_teardown(hostile_events_are_refused, s_fx_setup, s_fx_teardown),
        cmocka_unit_test(combinatorial_events_are_refused_not_stalled),
        cmocka_unit_test(duplicate_event_keys_read_the_same_in_both_forms),
        cmocka_unit_test_setup_teardown(replace_and_remove, s_fx_setup, s_fx_teardown),
        cmocka_unit_test(removal_releases_memory),
        cmocka_unit_test_setup_teardown(many_rules_match_like_one, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(random_add_remove_keeps_the_index_exact, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(key_filter_never_hides_a_key, s_fx_setup, s_fx_teardown),
        cmocka_unit_test(field_names_of_every_length_are_told_apart),
        cmocka_unit_test_setup_teardown(few_children_added_and_removed_are_found, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(affix_fields_skipped_by_their_filter_agree_with_the_model, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(msgpack_events_cut_anywhere_are_refused, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(many_numeric_ranges_agree_with_brute_force, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(many_cidr_blocks, s_fx_setup, s_fx_teardown),
        cmocka_unit_test_setup_teardown(msgpack_patterns_and_native_types, s_fx_setup, s_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
