/*
 * pattern_parse.c — validates an EventBridge event pattern and compiles it
 * into leaves (field path + alternatives) and the AND-lists that `$or`
 * expands into.
 *
 * Error texts follow EventBridge ("Event pattern is not valid. Reason: ..."),
 * whose reasons are aws/event-ruler's; the JSON path of the offending
 * element goes to err->path.
 */
#include "matcher_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More AND-lists than this from $or is refused (EventBridge's limit). */
#define MT_MAX_COMBINATIONS 1000
/* Wildcard budget per rule, in unescaped stars over all wildcard values
 * (inner stars only: prefix/suffix-shaped wildcards are hashed). See
 * README.md in this folder for how it was chosen. */
#define MT_MAX_WILDCARD_STARS 32

#define MT_TOO_COMPLEX                                                                            \
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "  \
    "sequences after a wildcard character"

typedef struct {
    mt_pattern_t *pat;
    uint32_t cap_leaves;
    zb_matcher_error_t *err;
    char path[256];
    size_t path_len;
    /* segments of the field path being compiled */
    const zb_json_t *seg[MT_MAX_DEPTH];
    uint32_t depth;
    uint32_t stars;
} s_cc_t;

/* A set of AND-lists (leaf index vectors). */
typedef struct {
    uint32_t **v;
    uint32_t *len;
    uint32_t n;
} s_conjs_t;

int mt_pattern_error(zb_matcher_error_t *err, const char *path, long offset, const char *fmt, ...)
{
    if (!err)
        return -1;
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(err->message, sizeof err->message, "Event pattern is not valid. Reason: %s", reason);
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    err->offset = offset;
    return -1;
}

static long s_off(const zb_json_t *node)
{
    return node ? node->offset : -1;
}

#define FAIL(cc, node, ...) mt_pattern_error((cc)->err, (cc)->path, s_off(node), __VA_ARGS__)

static size_t s_path_push_key(s_cc_t *cc, const char *key, size_t klen)
{
    size_t saved = cc->path_len;
    int n = snprintf(cc->path + cc->path_len, sizeof cc->path - cc->path_len, "%s%.*s",
                     cc->path_len ? "." : "", (int) klen, key);
    if (n > 0)
        cc->path_len += (size_t) n;
    if (cc->path_len >= sizeof cc->path)
        cc->path_len = sizeof cc->path - 1;
    return saved;
}

static size_t s_path_push_index(s_cc_t *cc, size_t i)
{
    size_t saved = cc->path_len;
    int n = snprintf(cc->path + cc->path_len, sizeof cc->path - cc->path_len, "[%zu]", i);
    if (n > 0)
        cc->path_len += (size_t) n;
    if (cc->path_len >= sizeof cc->path)
        cc->path_len = sizeof cc->path - 1;
    return saved;
}

static void s_path_pop(s_cc_t *cc, size_t saved)
{
    cc->path_len = saved;
    cc->path[saved] = '\0';
}

static char *s_dup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void s_alt_free(mt_alt_t *a)
{
    free(a->bytes);
    mt_glob_free(&a->glob);
    for (uint32_t i = 0; a->globs && i < a->n_list; i++)
        mt_glob_free(&a->globs[i]);
    free(a->globs);
    free(a->shape);
    for (uint32_t i = 0; i < a->n_list; i++)
        if (a->list)
            free(a->list[i]);
    free(a->list);
    free(a->list_len);
    free(a->nums);
}

void mt_pattern_free(mt_pattern_t **pat_p)
{
    if (!pat_p || !*pat_p)
        return;
    mt_pattern_t *p = *pat_p;
    for (uint32_t i = 0; i < p->n_leaves; i++) {
        mt_leaf_t *l = &p->leaves[i];
        for (uint32_t k = 0; k < l->depth; k++)
            free(l->path[k]);
        free(l->path);
        free(l->path_len);
        for (uint32_t k = 0; k < l->n_alts; k++)
            s_alt_free(&l->alts[k]);
        free(l->alts);
    }
    free(p->leaves);
    for (uint32_t i = 0; i < p->n_conjs; i++)
        free(p->conjs[i]);
    free(p->conjs);
    free(p->conj_len);
    free(p);
    *pat_p = NULL;
}

size_t mt_pattern_bytes(const mt_pattern_t *p)
{
    size_t b = sizeof *p + p->n_leaves * sizeof *p->leaves;
    for (uint32_t i = 0; i < p->n_leaves; i++) {
        const mt_leaf_t *l = &p->leaves[i];
        b += l->depth * (sizeof(char *) + sizeof(uint32_t));
        for (uint32_t k = 0; k < l->depth; k++)
            b += l->path_len[k] + 1;
        b += l->n_alts * sizeof *l->alts;
        for (uint32_t k = 0; k < l->n_alts; k++) {
            const mt_alt_t *a = &l->alts[k];
            b += a->bytes ? a->len + 1 : 0;
            for (uint32_t j = 0; j < a->n_list; j++)
                b += sizeof(char *) + sizeof(uint32_t) + (a->list ? a->list_len[j] + 1 : 0);
            b += a->nums ? a->n_list * sizeof(double) : 0;
            b += a->glob ? a->glob->bytes : 0;
            for (uint32_t j = 0; a->globs && j < a->n_list; j++)
                b += sizeof(mt_glob_t *) + 1 + (a->globs[j] ? a->globs[j]->bytes : 0);
        }
    }
    for (uint32_t i = 0; i < p->n_conjs; i++)
        b += sizeof(uint32_t *) + sizeof(uint32_t) + p->conj_len[i] * sizeof(uint32_t);
    return b;
}

/* ---- AND-list sets ------------------------------------------------------------ */

static void s_conjs_free(s_conjs_t *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    free(c->len);
    memset(c, 0, sizeof *c);
}

/* Appends list a ++ b to c. */
static int s_conjs_push(s_conjs_t *c, const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    uint32_t **v = realloc(c->v, (c->n + 1) * sizeof *v);
    if (!v)
        return -1;
    c->v = v;
    uint32_t *len = realloc(c->len, (c->n + 1) * sizeof *len);
    if (!len)
        return -1;
    c->len = len;
    uint32_t *x = malloc((na + nb + 1) * sizeof *x);
    if (!x)
        return -1;
    if (na)
        memcpy(x, a, na * sizeof *x);
    if (nb)
        memcpy(x + na, b, nb * sizeof *x);
    c->v[c->n] = x;
    c->len[c->n] = na + nb;
    c->n++;
    return 0;
}

/* ---- leaves and alternatives -------------------------------------------------------- */

static mt_alt_t *s_new_alt(mt_leaf_t *leaf)
{
    mt_alt_t *a = realloc(leaf->alts, (leaf->n_alts + 1) * sizeof *a);
    if (!a)
        return NULL;
    leaf->alts = a;
    memset(&a[leaf->n_alts], 0, sizeof *a);
    return &a[leaf->n_alts++];
}

static int s_hashed(s_cc_t *cc, mt_leaf_t *leaf, uint8_t tag, const char *bytes, size_t len)
{
    mt_alt_t *a = s_new_alt(leaf);
    if (!a || !(a->bytes = s_dup(bytes, len)))
        return FAIL(cc, NULL, "out of memory");
    a->kind = MT_K_HASHED;
    a->tag = tag;
    a->len = (uint32_t) len;
    return 0;
}

static int s_folded(s_cc_t *cc, mt_leaf_t *leaf, uint8_t tag, const char *s, size_t len)
{
    char *tmp = malloc(2 * len + 4);
    if (!tmp)
        return FAIL(cc, NULL, "out of memory");
    size_t n = mt_fold_utf8(s, len, tmp);
    int rc = s_hashed(cc, leaf, tag, tmp, n);
    free(tmp);
    return rc;
}

static int s_number_alt(s_cc_t *cc, mt_leaf_t *leaf, double d)
{
    uint8_t key[8];
    mt_num_key(d, key);
    return s_hashed(cc, leaf, MT_TAG_NUM, (const char *) key, 8);
}

/* A wildcard value: reduced to exact, prefix or suffix when its stars allow,
 * otherwise a listed glob. */
static int s_wildcard(s_cc_t *cc, mt_leaf_t *leaf, const zb_json_t *v)
{
    char buf[96];
    const char *why = mt_wildcard_check(v->str, v->len, buf, sizeof buf);
    if (why)
        return FAIL(cc, v, "%s", why);
    uint32_t stars = mt_wildcard_stars(v->str, v->len);
    char *lit = malloc(v->len + 1);
    if (!lit)
        return FAIL(cc, v, "out of memory");
    size_t n = mt_wildcard_literal(v->str, v->len, lit);
    bool lead = v->len > 0 && v->str[0] == '*';
    /* An unescaped trailing star: the last char is '*' and the number of
     * backslashes before it is even. */
    bool trail = false;
    if (v->len > 0 && v->str[v->len - 1] == '*') {
        size_t bs = 0;
        for (size_t i = v->len - 1; i > 0 && v->str[i - 1] == '\\'; i--)
            bs++;
        trail = bs % 2 == 0;
    }
    int rc;
    if (stars == 0)
        rc = s_hashed(cc, leaf, MT_TAG_STR, lit, n);
    else if (stars == 1 && trail)
        rc = s_hashed(cc, leaf, MT_TAG_PREFIX, lit, n);
    else if (stars == 1 && lead)
        rc = s_hashed(cc, leaf, MT_TAG_SUFFIX, lit, n);
    else if (stars == 2 && lead && trail && v->len == 1)
        rc = s_hashed(cc, leaf, MT_TAG_PREFIX, lit, 0);
    else {
        cc->stars += stars;
        if (cc->stars > MT_MAX_WILDCARD_STARS) {
            free(lit);
            return FAIL(cc, v, MT_TOO_COMPLEX);
        }
        mt_alt_t *a = s_new_alt(leaf);
        if (!a || !(a->bytes = s_dup(v->str, v->len))) {
            free(lit);
            return FAIL(cc, v, "out of memory");
        }
        a->kind = MT_K_WILDCARD;
        a->len = (uint32_t) v->len;
        a->glob = mt_glob_compile(v->str, v->len);
        rc = a->glob ? 0 : FAIL(cc, v, "out of memory");
    }
    free(lit);
    return rc;
}

/* How validated wildcard text `s` is indexed: no star is an exact value,
 * one unescaped trailing star a prefix, one leading star a suffix. */
static uint8_t s_wildcard_shape(const char *s, size_t len)
{
    uint32_t stars = mt_wildcard_stars(s, len);
    bool lead = len > 0 && s[0] == '*';
    bool trail = false;
    if (len > 0 && s[len - 1] == '*') {
        size_t bs = 0;
        for (size_t i = len - 1; i > 0 && s[i - 1] == '\\'; i--)
            bs++;
        trail = bs % 2 == 0;
    }
    if (stars == 0)
        return MT_SHAPE_EXACT;
    if (stars == 1 && trail)
        return MT_SHAPE_PREFIX;
    if (stars == 1 && lead)
        return MT_SHAPE_SUFFIX;
    return MT_SHAPE_INNER;
}

/* Fills an anything-but list of strings (folded if `fold`). */
static int s_ab_strings(s_cc_t *cc, mt_alt_t *a, const zb_json_t *const *items, uint32_t n, bool fold)
{
    a->list = calloc(n, sizeof *a->list);
    a->list_len = calloc(n, sizeof *a->list_len);
    if (!a->list || !a->list_len)
        return FAIL(cc, NULL, "out of memory");
    a->n_list = n;
    for (uint32_t i = 0; i < n; i++) {
        const zb_json_t *s = items[i];
        if (fold) {
            char *tmp = malloc(2 * s->len + 4);
            if (!tmp)
                return FAIL(cc, NULL, "out of memory");
            a->list_len[i] = (uint32_t) mt_fold_utf8(s->str, s->len, tmp);
            a->list[i] = tmp;
        } else {
            if (!(a->list[i] = s_dup(s->str, s->len)))
                return FAIL(cc, NULL, "out of memory");
            a->list_len[i] = (uint32_t) s->len;
        }
    }
    return 0;
}

/* Collects a string or a non-empty list of strings into items[]. */
static int s_string_or_list(s_cc_t *cc, const zb_json_t *v, const zb_json_t **items, uint32_t *n,
                            uint32_t max, const char *what, bool allow_empty)
{
    /* event-ruler's wording per operator */
    const char *not_string = strcmp(what, "equals-ignore-case") == 0
                                 ? "Inside anything-but/equals-ignore-case list, number|start|null|boolean is "
                                   "not supported."
                             : strcmp(what, "wildcard") == 0 ? "wildcard match pattern must be a string"
                                                             : "prefix/suffix match pattern must be a string";
    *n = 0;
    if (v->type == ZB_JSON_STRING) {
        if (!allow_empty && v->len == 0)
            return FAIL(cc, v, "Null prefix/suffix not allowed");
        items[(*n)++] = v;
        return 0;
    }
    if (v->type != ZB_JSON_ARRAY)
        return FAIL(cc, v, "%s", not_string);
    if (v->len == 0)
        return FAIL(cc, v, "Empty arrays are not allowed");
    for (const zb_json_t *m = v->child; m; m = m->next) {
        if (m->type != ZB_JSON_STRING)
            return FAIL(cc, m, "%s", not_string);
        if (!allow_empty && m->len == 0)
            return FAIL(cc, m, "Null prefix/suffix not allowed");
        if (*n >= max)
            return FAIL(cc, m, "Too many values inside anything-but");
        items[(*n)++] = m;
    }
    return 0;
}

/* One value of an anything-but list as the value index keys it (see
 * s_ab_key() in automaton.c), and its place in the list. */
typedef struct {
    uint8_t shape;         /* MT_SHAPE_*: MT_SHAPE_EXACT but for wildcards */
    uint32_t len;
    const char *bytes;     /* the listed text, or NULL for num */
    uint8_t num[8];        /* mt_num_key() of a number */
    uint32_t at;
} s_abkey_t;

static int s_abkey_cmp(const void *x, const void *y)
{
    const s_abkey_t *a = x, *b = y;
    if (a->shape != b->shape)
        return a->shape < b->shape ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(a->bytes ? a->bytes : (const char *) a->num, b->bytes ? b->bytes : (const char *) b->num, a->len);
    if (c != 0)
        return c;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* Drops the values of anything-but `a` whose key an earlier one has ("x"
 * listed twice, 0 and -0, "A" and "a" folded), keeping the order of the
 * rest: automaton.c then indexes every key of an entry once, and matching
 * can tell from a key's count of entries that it excludes them all
 * (s_ab_exclude() in match.c). Wildcards checked with their glob have no
 * key and stay. 0, or -1 when memory runs out. */
static int s_ab_unique(mt_alt_t *a)
{
    uint32_t n = a->n_list, nk = 0;
    s_abkey_t *keys = malloc((n + 1) * sizeof *keys);
    bool *drop = calloc(n + 1, sizeof *drop);
    if (!keys || !drop) {
        free(keys);
        free(drop);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        s_abkey_t *k = &keys[nk];
        k->shape = a->shape ? a->shape[i] : MT_SHAPE_EXACT;
        if (k->shape == MT_SHAPE_INNER)
            continue;
        k->at = i;
        if (a->nums) {
            mt_num_key(a->nums[i], k->num);
            k->bytes = NULL;
            k->len = 8;
        } else {
            k->bytes = a->list[i];
            k->len = a->list_len[i];
        }
        nk++;
    }
    qsort(keys, nk, sizeof *keys, s_abkey_cmp);
    for (uint32_t i = 1; i < nk; i++) {
        s_abkey_t same = keys[i - 1];
        same.at = keys[i].at;
        drop[keys[i].at] = s_abkey_cmp(&same, &keys[i]) == 0;
    }
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (drop[i]) {
            if (a->list)
                free(a->list[i]);
            continue;
        }
        if (a->list) {
            a->list[w] = a->list[i];
            a->list_len[w] = a->list_len[i];
        }
        if (a->nums)
            a->nums[w] = a->nums[i];
        if (a->shape) {
            a->shape[w] = a->shape[i];
            a->globs[w] = a->globs[i];
        }
        w++;
    }
    a->n_list = w;
    free(keys);
    free(drop);
    return 0;
}

/* Values in one anything-but list: a validation bound on pattern size only;
 * matching cost does not depend on it (the values are hash keys). */
#define MT_MAX_LIST 4096

static int s_anything_but(s_cc_t *cc, mt_leaf_t *leaf, const zb_json_t *v)
{
    const zb_json_t **items = malloc(MT_MAX_LIST * sizeof *items);
    if (!items)
        return FAIL(cc, v, "out of memory");
    int rc = -1;
    uint32_t n = 0;
    mt_alt_t *a = NULL;
    size_t saved = SIZE_MAX; /* path length before an inner operator's key */
    switch (v->type) {
    case ZB_JSON_STRING:
        items[n++] = v;
        if (!(a = s_new_alt(leaf)))
            goto oom;
        a->kind = MT_K_AB_STR;
        rc = s_ab_strings(cc, a, items, n, false);
        break;
    case ZB_JSON_NUMBER:
        if (!(a = s_new_alt(leaf)) || !(a->nums = malloc(sizeof *a->nums)))
            goto oom;
        a->kind = MT_K_AB_NUM;
        a->nums[0] = v->num;
        a->n_list = 1;
        rc = 0;
        break;
    case ZB_JSON_ARRAY: {
        if (v->len == 0) {
            rc = FAIL(cc, v, "Inside anything but list, either all values are number or string, mixed type "
                             "is not supported");
            break;
        }
        zb_json_type_t t = v->child->type;
        if (t != ZB_JSON_STRING && t != ZB_JSON_NUMBER) {
            rc = FAIL(cc, v->child, "Inside anything but list, start|null|boolean is not supported.");
            break;
        }
        for (const zb_json_t *m = v->child; m; m = m->next) {
            if (m->type != t) {
                rc = FAIL(cc, m, m->type == ZB_JSON_STRING || m->type == ZB_JSON_NUMBER
                                     ? "Inside anything but list, either all values are number or string, "
                                       "mixed type is not supported"
                                     : "Inside anything but list, start|null|boolean is not supported.");
                goto out;
            }
            if (n >= MT_MAX_LIST) {
                rc = FAIL(cc, m, "Too many values inside anything-but");
                goto out;
            }
            items[n++] = m;
        }
        if (!(a = s_new_alt(leaf)))
            goto oom;
        if (t == ZB_JSON_STRING) {
            a->kind = MT_K_AB_STR;
            rc = s_ab_strings(cc, a, items, n, false);
        } else {
            a->kind = MT_K_AB_NUM;
            if (!(a->nums = malloc(n * sizeof *a->nums)))
                goto oom;
            for (uint32_t i = 0; i < n; i++)
                a->nums[i] = items[i]->num;
            a->n_list = n;
            rc = 0;
        }
        break;
    }
    case ZB_JSON_OBJECT: {
        if (v->len == 0) {
            rc = FAIL(cc, v, "Empty objects are not allowed");
            break;
        }
        if (v->len > 1) {
            rc = FAIL(cc, v, "Only one key allowed in match expression");
            break;
        }
        const zb_json_t *op = v->child;
        saved = s_path_push_key(cc, op->key, op->key_len);
        mt_kind_t kind;
        bool fold = false, allow_empty = false;
        const char *what = op->key;
        if (strcmp(op->key, "prefix") == 0 && op->key_len == 6)
            kind = MT_K_AB_PREFIX;
        else if (strcmp(op->key, "suffix") == 0 && op->key_len == 6)
            kind = MT_K_AB_SUFFIX;
        else if (strcmp(op->key, "equals-ignore-case") == 0 && op->key_len == 18)
            kind = MT_K_AB_EIC, fold = true, allow_empty = true;
        else if (strcmp(op->key, "wildcard") == 0 && op->key_len == 8)
            kind = MT_K_AB_WILDCARD, allow_empty = true;
        else {
            rc = FAIL(cc, op, "Unsupported anything-but pattern: %s", op->key);
            break;
        }
        if (s_string_or_list(cc, op, items, &n, MT_MAX_LIST, what, allow_empty) != 0)
            break;
        if (kind == MT_K_AB_WILDCARD) {
            char buf[96];
            for (uint32_t i = 0; i < n; i++) {
                const char *why = mt_wildcard_check(items[i]->str, items[i]->len, buf, sizeof buf);
                if (why) {
                    rc = FAIL(cc, items[i], "%s", why);
                    goto out;
                }
                cc->stars += mt_wildcard_stars(items[i]->str, items[i]->len);
                if (cc->stars > MT_MAX_WILDCARD_STARS) {
                    rc = FAIL(cc, items[i], MT_TOO_COMPLEX);
                    goto out;
                }
            }
        }
        if (!(a = s_new_alt(leaf)))
            goto oom;
        a->kind = kind;
        rc = s_ab_strings(cc, a, items, n, fold);
        if (rc == 0 && kind == MT_K_AB_WILDCARD) {
            /* Exact, prefix and suffix shapes are hashed like the
             * other exclusions (automaton.c); only the rest keep a glob. */
            if (!(a->globs = calloc(n, sizeof *a->globs)) || !(a->shape = calloc(n, 1)))
                goto oom;
            for (uint32_t i = 0; i < n; i++) {
                uint8_t shape = s_wildcard_shape(a->list[i], a->list_len[i]);
                a->shape[i] = shape;
                if (shape == MT_SHAPE_INNER) {
                    if (!(a->globs[i] = mt_glob_compile(a->list[i], a->list_len[i])))
                        goto oom;
                    a->n_inner++;
                } else {
                    a->list_len[i] = (uint32_t) mt_wildcard_literal(a->list[i], a->list_len[i], a->list[i]);
                }
            }
        }
        break;
    }
    default:
        rc = FAIL(cc, v, "Value of anything-but must be an array or single string/number value.");
    }
    if (rc == 0 && s_ab_unique(a) != 0)
        goto oom;
out:
    if (saved != SIZE_MAX)
        s_path_pop(cc, saved);
    free(items);
    return rc;
oom:
    rc = FAIL(cc, v, "out of memory");
    goto out;
}

static bool s_is(const zb_json_t *m, const char *name)
{
    return m->key_len == strlen(name) && memcmp(m->key, name, m->key_len) == 0;
}

static bool s_op_is(const zb_json_t *m, const char *name)
{
    return m->type == ZB_JSON_STRING && m->len == strlen(name) && memcmp(m->str, name, m->len) == 0;
}

/* How event-ruler's messages show a JSON token: its text. */
static const char *s_token_text(const zb_json_t *t, char *buf, size_t n)
{
    if (!t)
        return "]";
    switch (t->type) {
    case ZB_JSON_NUMBER:
        snprintf(buf, n, "%.*s", (int) (t->len < 64 ? t->len : 64), t->str);
        return buf;
    case ZB_JSON_STRING:
        snprintf(buf, n, "%.*s", (int) (t->len < 64 ? t->len : 64), t->str);
        return buf;
    case ZB_JSON_TRUE:
        return "true";
    case ZB_JSON_FALSE:
        return "false";
    case ZB_JSON_NULL:
        return "null";
    case ZB_JSON_ARRAY:
        return "[";
    case ZB_JSON_OBJECT:
        return "{";
    }
    return "?";
}

static bool s_is_num(const zb_json_t *t)
{
    return t && t->type == ZB_JSON_NUMBER && isfinite(t->num);
}

/* numeric: ["=", x] | [op, x] | [">"|">=", lo, "<"|"<=", hi], with
 * event-ruler's messages for each way of getting it wrong. */
static int s_numeric(s_cc_t *cc, mt_leaf_t *leaf, const zb_json_t *v)
{
    char buf[80];
    if (v->type != ZB_JSON_ARRAY)
        return FAIL(cc, v, "Value of numeric must be an array.");
    const zb_json_t *t[5] = {0};
    uint32_t n = 0;
    for (const zb_json_t *m = v->child; m && n < 5; m = m->next)
        t[n++] = m;
    if (!t[0] || t[0]->type != ZB_JSON_STRING)
        return FAIL(cc, t[0] ? t[0] : v, "Invalid member in numeric match: %s", s_token_text(t[0], buf, sizeof buf));
    const zb_json_t *op = t[0];
    bool eq = s_op_is(op, "="), lower = s_op_is(op, ">") || s_op_is(op, ">=");
    bool upper = s_op_is(op, "<") || s_op_is(op, "<=");
    if (!eq && !lower && !upper)
        return FAIL(cc, op, "Unrecognized numeric range operator: %.*s", (int) op->len, op->str);
    if (!s_is_num(t[1]))
        return FAIL(cc, t[1] ? t[1] : v, "Value of %s must be numeric", eq ? "equals" : op->str);
    if (eq || upper) {
        if (n > 2)
            return FAIL(cc, t[2], "Too many elements in numeric expression");
        if (eq)
            return s_number_alt(cc, leaf, t[1]->num);
    }
    mt_alt_t r = {0};
    r.kind = MT_K_RANGE;
    if (upper) {
        r.has_hi = true, r.hi = t[1]->num, r.hi_incl = op->len == 2;
    } else {
        r.has_lo = true, r.lo = t[1]->num, r.lo_incl = op->len == 2;
        if (n > 2) {
            const zb_json_t *op2 = t[2];
            if (op2->type != ZB_JSON_STRING)
                return FAIL(cc, op2, "Bad value in numeric range: %s", s_token_text(op2, buf, sizeof buf));
            if (!s_op_is(op2, "<") && !s_op_is(op2, "<="))
                return FAIL(cc, op2, "Bad numeric range operator: %.*s", (int) op2->len, op2->str);
            if (!s_is_num(t[3]))
                return FAIL(cc, t[3] ? t[3] : v, "Value of %s must be numeric", op2->str);
            if (n > 4)
                return FAIL(cc, t[4], "Too many terms in numeric range expression");
            r.has_hi = true, r.hi = t[3]->num, r.hi_incl = op2->len == 2;
            if (!(r.lo < r.hi))
                return FAIL(cc, v, "Bottom must be less than top");
        }
    }
    mt_alt_t *a = s_new_alt(leaf);
    if (!a)
        return FAIL(cc, v, "out of memory");
    *a = r;
    return 0;
}

static int s_operator(s_cc_t *cc, mt_leaf_t *leaf, const zb_json_t *op);

/* One element of a leaf's array: a literal or a one-key operator object. */
static int s_alternative(s_cc_t *cc, mt_leaf_t *leaf, const zb_json_t *v)
{
    switch (v->type) {
    case ZB_JSON_STRING:
        return s_hashed(cc, leaf, MT_TAG_STR, v->str, v->len);
    case ZB_JSON_NUMBER:
        return s_number_alt(cc, leaf, v->num);
    case ZB_JSON_TRUE:
        return s_hashed(cc, leaf, MT_TAG_TRUE, "", 0);
    case ZB_JSON_FALSE:
        return s_hashed(cc, leaf, MT_TAG_FALSE, "", 0);
    case ZB_JSON_NULL:
        return s_hashed(cc, leaf, MT_TAG_NULL, "", 0);
    case ZB_JSON_ARRAY:
        return FAIL(cc, v, "Match value must be String, number, true, false, or null");
    case ZB_JSON_OBJECT:
        break;
    }
    if (v->len == 0)
        return FAIL(cc, v, "Empty objects are not allowed");
    if (v->len > 1)
        return FAIL(cc, v, "Only one key allowed in match expression");
    const zb_json_t *op = v->child;
    size_t saved = s_path_push_key(cc, op->key, op->key_len);
    int rc = s_operator(cc, leaf, op);
    s_path_pop(cc, saved);
    return rc;
}

/* The operator object's single member `op` ("prefix": ..., ...). */
static int s_operator(s_cc_t *cc, mt_leaf_t *leaf, const zb_json_t *op)
{
    if (s_is(op, "prefix") || s_is(op, "suffix")) {
        bool pfx = op->key[0] == 'p';
        if (op->type == ZB_JSON_STRING)
            return s_hashed(cc, leaf, pfx ? MT_TAG_PREFIX : MT_TAG_SUFFIX, op->str, op->len);
        if (op->type == ZB_JSON_OBJECT && op->len == 1 && s_is(op->child, "equals-ignore-case") &&
            op->child->type == ZB_JSON_STRING)
            return s_folded(cc, leaf, pfx ? MT_TAG_PREFIX_EIC : MT_TAG_SUFFIX_EIC, op->child->str,
                            op->child->len);
        return FAIL(cc, op, "%s match pattern must be a string", op->key);
    }
    if (s_is(op, "equals-ignore-case")) {
        if (op->type != ZB_JSON_STRING)
            return FAIL(cc, op, "equals-ignore-case match pattern must be a string");
        return s_folded(cc, leaf, MT_TAG_EIC, op->str, op->len);
    }
    if (s_is(op, "wildcard")) {
        if (op->type != ZB_JSON_STRING)
            return FAIL(cc, op, "wildcard match pattern must be a string");
        return s_wildcard(cc, leaf, op);
    }
    if (s_is(op, "anything-but"))
        return s_anything_but(cc, leaf, op);
    if (s_is(op, "numeric"))
        return s_numeric(cc, leaf, op);
    if (s_is(op, "exists")) {
        if (op->type != ZB_JSON_TRUE && op->type != ZB_JSON_FALSE)
            return FAIL(cc, op, "exists match pattern must be either true or false.");
        mt_alt_t *a = s_new_alt(leaf);
        if (!a)
            return FAIL(cc, op, "out of memory");
        a->kind = op->type == ZB_JSON_TRUE ? MT_K_EXISTS_TRUE : MT_K_EXISTS_FALSE;
        return 0;
    }
    if (s_is(op, "cidr")) {
        if (op->type != ZB_JSON_STRING)
            return FAIL(cc, op, "Malformed CIDR, one '/' required");
        mt_alt_t tmp = {0};
        const char *why = mt_cidr_parse(op->str, op->len, &tmp);
        if (why)
            return FAIL(cc, op, "%s", why);
        /* family, mask length, network: blocks of different lengths with
         * the same network bits are different keys */
        char key[18];
        key[0] = (char) tmp.family;
        key[1] = (char) tmp.bits;
        memcpy(key + 2, tmp.net, 16);
        if (s_hashed(cc, leaf, MT_TAG_CIDR, key, sizeof key) != 0)
            return -1;
        leaf->alts[leaf->n_alts - 1].bits = tmp.bits;
        leaf->alts[leaf->n_alts - 1].family = tmp.family;
        return 0;
    }
    return FAIL(cc, op, "Unrecognized match type %.*s", (int) op->key_len, op->key);
}

/* Compiles a leaf array at the current field path; its index goes to *out. */
static int s_leaf(s_cc_t *cc, const zb_json_t *arr, uint32_t *out)
{
    mt_pattern_t *p = cc->pat;
    if (mt_grow((void **) &p->leaves, &cc->cap_leaves, p->n_leaves + 1, sizeof *p->leaves) != 0)
        return FAIL(cc, arr, "out of memory");
    mt_leaf_t *leaf = &p->leaves[p->n_leaves++];
    memset(leaf, 0, sizeof *leaf);
    leaf->path = calloc(cc->depth, sizeof *leaf->path);
    leaf->path_len = calloc(cc->depth, sizeof *leaf->path_len);
    if (!leaf->path || !leaf->path_len)
        return FAIL(cc, arr, "out of memory");
    leaf->depth = cc->depth;
    for (uint32_t i = 0; i < cc->depth; i++) {
        if (!(leaf->path[i] = s_dup(cc->seg[i]->key, cc->seg[i]->key_len)))
            return FAIL(cc, arr, "out of memory");
        leaf->path_len[i] = (uint32_t) cc->seg[i]->key_len;
    }
    size_t i = 0;
    for (const zb_json_t *m = arr->child; m; m = m->next, i++) {
        size_t saved = s_path_push_index(cc, i);
        int rc = s_alternative(cc, leaf, m);
        s_path_pop(cc, saved);
        if (rc != 0)
            return -1;
    }
    for (uint32_t k = 0; k < leaf->n_alts; k++) {
        if (leaf->alts[k].kind == MT_K_EXISTS_FALSE)
            leaf->absent_ok = true;
        else
            leaf->has_positive = true;
    }
    *out = p->n_leaves - 1;
    return 0;
}

static int s_object(s_cc_t *cc, const zb_json_t *obj, s_conjs_t *out);

/* cur := { a ++ b | a in cur, b in add }. */
static int s_product(s_cc_t *cc, const zb_json_t *at, s_conjs_t *cur, const s_conjs_t *add)
{
    if ((uint64_t) cur->n * add->n > MT_MAX_COMBINATIONS)
        return FAIL(cc, at, "Too many combinations of $or branches: more than %d", MT_MAX_COMBINATIONS);
    s_conjs_t next = {0};
    for (uint32_t i = 0; i < cur->n; i++)
        for (uint32_t j = 0; j < add->n; j++)
            if (s_conjs_push(&next, cur->v[i], cur->len[i], add->v[j], add->len[j]) != 0) {
                s_conjs_free(&next);
                return FAIL(cc, at, "out of memory");
            }
    s_conjs_free(cur);
    *cur = next;
    return 0;
}

static int s_or(s_cc_t *cc, const zb_json_t *v, s_conjs_t *out)
{
    if (v->type != ZB_JSON_ARRAY)
        return FAIL(cc, v, "It must be an Array followed with $or.");
    if (v->len < 2)
        return FAIL(cc, v, "There must have at least 2 Objects in $or relationship.");
    size_t i = 0;
    for (const zb_json_t *m = v->child; m; m = m->next, i++) {
        size_t saved = s_path_push_index(cc, i);
        if (m->type != ZB_JSON_OBJECT) {
            int rc = FAIL(cc, m, "Only JSON object is allowed in array of $or relationship.");
            s_path_pop(cc, saved);
            return rc;
        }
        s_conjs_t branch = {0};
        int rc = s_object(cc, m, &branch);
        s_path_pop(cc, saved);
        if (rc != 0) {
            s_conjs_free(&branch);
            return -1;
        }
        if (out->n + branch.n > MT_MAX_COMBINATIONS) {
            s_conjs_free(&branch);
            return FAIL(cc, v, "Too many combinations of $or branches: more than %d", MT_MAX_COMBINATIONS);
        }
        for (uint32_t k = 0; k < branch.n; k++)
            if (s_conjs_push(out, branch.v[k], branch.len[k], NULL, 0) != 0) {
                s_conjs_free(&branch);
                return FAIL(cc, v, "out of memory");
            }
        s_conjs_free(&branch);
    }
    return 0;
}

/* An object of the pattern: fields ANDed, nested objects and $or expanded.
 * *out receives the AND-lists (at least one). */
static int s_object(s_cc_t *cc, const zb_json_t *obj, s_conjs_t *out)
{
    if (obj->len == 0)
        return FAIL(cc, obj, "Empty objects are not allowed");
    s_conjs_t cur = {0};
    if (s_conjs_push(&cur, NULL, 0, NULL, 0) != 0)
        return FAIL(cc, obj, "out of memory");
    for (const zb_json_t *m = obj->child; m; m = m->next) {
        s_conjs_t add = {0};
        int rc;
        size_t saved = s_path_push_key(cc, m->key, m->key_len);
        if (s_is(m, "$or")) {
            rc = s_or(cc, m, &add);
        } else if (m->type == ZB_JSON_OBJECT) {
            if (cc->depth >= MT_MAX_DEPTH)
                rc = FAIL(cc, m, "Pattern nested deeper than %d levels", MT_MAX_DEPTH);
            else {
                cc->seg[cc->depth++] = m;
                rc = s_object(cc, m, &add);
                cc->depth--;
            }
        } else if (m->type == ZB_JSON_ARRAY) {
            if (m->len == 0)
                rc = FAIL(cc, m, "Empty arrays are not allowed");
            else if (cc->depth >= MT_MAX_DEPTH)
                rc = FAIL(cc, m, "Pattern nested deeper than %d levels", MT_MAX_DEPTH);
            else {
                uint32_t leaf;
                cc->seg[cc->depth++] = m;
                rc = s_leaf(cc, m, &leaf);
                cc->depth--;
                if (rc == 0 && s_conjs_push(&add, &leaf, 1, NULL, 0) != 0)
                    rc = FAIL(cc, m, "out of memory");
            }
        } else {
            rc = FAIL(cc, m, "\"%.*s\" must be an object or an array", (int) m->key_len, m->key);
        }
        if (rc == 0)
            rc = s_product(cc, m, &cur, &add);
        s_path_pop(cc, saved);
        s_conjs_free(&add);
        if (rc != 0) {
            s_conjs_free(&cur);
            return -1;
        }
    }
    *out = cur;
    return 0;
}

mt_pattern_t *mt_pattern_compile(const zb_json_t *root, zb_matcher_error_t *err)
{
    s_cc_t cc = {0};
    cc.err = err;
    if (root->type != ZB_JSON_OBJECT) {
        mt_pattern_error(err, "", root->offset, "Filter is not an object");
        return NULL;
    }
    cc.pat = calloc(1, sizeof *cc.pat);
    if (!cc.pat) {
        mt_pattern_error(err, "", -1, "out of memory");
        return NULL;
    }
    s_conjs_t conjs = {0};
    if (s_object(&cc, root, &conjs) != 0) {
        mt_pattern_free(&cc.pat);
        return NULL;
    }
    cc.pat->conjs = conjs.v;
    cc.pat->conj_len = conjs.len;
    cc.pat->n_conjs = conjs.n;
    return cc.pat;
}

mt_pattern_t *mt_pattern_from_input(zb_matcher_format_t format, const void *pattern, size_t len,
                                    zb_matcher_error_t *err)
{
    zb_json_error_t jerr = {0};
    zb_json_doc_t *doc = NULL;
    if (format == ZB_FORMAT_JSON) {
        doc = zb_json_parse(pattern, len, &jerr);
    } else if (format == ZB_FORMAT_MSGPACK) {
        zb_buf_t *b = zb_buf_new(len * 2 + 16);
        if (!b) {
            mt_pattern_error(err, "", -1, "out of memory");
            return NULL;
        }
        if (zb_msgpack_to_json(pattern, len, b, &jerr) == 0)
            doc = zb_json_parse(b->data, b->len, &jerr);
        zb_buf_destroy(&b);
    } else {
        mt_pattern_error(err, "", -1, "unknown pattern format");
        return NULL;
    }
    if (!doc) {
        mt_pattern_error(err, "", jerr.offset, "Filter is not valid %s: %s",
                         format == ZB_FORMAT_JSON ? "JSON" : "msgpack", jerr.message);
        return NULL;
    }
    mt_pattern_t *pat = mt_pattern_compile(zb_json_root(doc), err);
    zb_json_doc_destroy(&doc);
    return pat;
}
