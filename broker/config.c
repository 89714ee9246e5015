/*
 * config.c — reads the rules file. See config.h; schema in README.md.
 *
 * The file is loaded as a libyaml document (a node graph with marks), then
 * walked once. Every problem is reported with the mark of the node it is
 * about, and the walk goes on so one run lists every problem.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "json.h"
#include "matcher.h"
#include "zb_proto.h"

/* Hostile-input bounds. libyaml's scanner is quadratic in flow nesting
 * (each token re-checks every open level), and aliases can make a small
 * document expand enormously when walked; these keep --check and reloads
 * fast on any input. Real rules files are far inside them. */
#define MAX_FILE_BYTES (16 * 1024 * 1024)
#define MAX_FLOW_DEPTH 256
#define MAX_MAP_KEYS 64          /* schema mappings have a handful of keys */
#define MAX_PATTERN_BYTES (256 * 1024)
#define MAX_PATTERN_KEYS 1024    /* per mapping; keeps the duplicate check cheap */

typedef struct s_ctx {
    const char *path;
    yaml_document_t *doc;
    zb_buf_t *errors;
    int nerrors;
    bool have_plugins;     /* target types beyond pub are checked at load */
} s_ctx_t;

/* ==== small helpers ========================================================== */

static void s_err(s_ctx_t *c, const yaml_node_t *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void s_err(s_ctx_t *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    zb_buf_appendf(c->errors, "%s:%zu:%zu: %s\n", c->path, n ? n->start_mark.line + 1 : 1,
                   n ? n->start_mark.column + 1 : 1, msg);
    c->nerrors++;
}

static conf_mark_t s_mark(const yaml_node_t *n)
{
    conf_mark_t m = { (int) n->start_mark.line + 1, (int) n->start_mark.column + 1 };
    return m;
}

static const char *s_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a sequence";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "empty";
    }
}

static const char *s_scalar(const yaml_node_t *n)
{
    return (const char *) n->data.scalar.value;
}

static bool s_is_plain(const yaml_node_t *n)
{
    /* libyaml's loader gives every untagged scalar the str tag, so only
     * the style tells a plain scalar (resolved by the core schema) from a
     * quoted one (always a string). */
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.2 core schema: which plain scalars are not strings. */
static bool s_core_null(const char *s)
{
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null")
           || !strcmp(s, "NULL");
}

static int s_core_bool(const char *s)
{
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return 1;
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return 0;
    return -1;
}

static bool s_all(const char *s, const char *set)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr(set, *s))
            return false;
    return true;
}

/* 1 for a core-schema int, 2 for a float, 0 otherwise. */
static int s_core_number(const char *s)
{
    const char *p = s;
    if (!strncmp(p, "0o", 2) && s_all(p + 2, "01234567"))
        return 1;
    if (!strncmp(p, "0x", 2) && s_all(p + 2, "0123456789abcdefABCDEF"))
        return 1;
    if (*p == '-' || *p == '+')
        p++;
    if (s_all(p, "0123456789"))
        return 1;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF") || !strcmp(s, ".nan")
        || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
        return 2;
    /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    const char *q = p;
    int digits = 0;
    while (*q >= '0' && *q <= '9')
        q++, digits++;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9')
            q++, digits++;
    }
    if (!digits)
        return 0;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '-' || *q == '+')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return 0;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    return *q ? 0 : 2;
}

/* Prints a double in the shortest form that reads back the same. */
static int s_put_double(zb_buf_t *out, double d)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return zb_buf_append_str(out, tmp);
}

/* ==== YAML -> JSON (event patterns written as YAML) =========================== */

static int s_to_json(s_ctx_t *c, yaml_node_t *n, zb_buf_t *out, int depth)
{
    if (depth > ZB_JSON_MAX_DEPTH) {
        s_err(c, n, "event pattern nests deeper than %d levels", ZB_JSON_MAX_DEPTH);
        return -1;
    }
    if (out->len > MAX_PATTERN_BYTES) {
        s_err(c, n, "event pattern is larger than %d bytes as JSON", MAX_PATTERN_BYTES);
        return -1;
    }
    if (n->type == YAML_MAPPING_NODE) {
        if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > MAX_PATTERN_KEYS) {
            s_err(c, n, "event pattern mapping has more than %d keys", MAX_PATTERN_KEYS);
            return -1;
        }
        /* YAML keys are unique (1.2, 3.2.1.1); JSON would let the last one
         * win silently, which hides typos in hand-written patterns. */
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
                yaml_node_t *k2 = yaml_document_get_node(c->doc, q->key);
                if (k->type == YAML_SCALAR_NODE && k2->type == YAML_SCALAR_NODE
                    && strcmp(s_scalar(k), s_scalar(k2)) == 0) {
                    s_err(c, k, "event pattern: duplicate key '%s'", s_scalar(k));
                    return -1;
                }
            }
        }
        zb_buf_append_byte(out, '{');
        int i = 0;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++, i++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
            if (k->type != YAML_SCALAR_NODE) {
                s_err(c, k, "event pattern keys must be scalars, not %s", s_kind(k));
                return -1;
            }
            if (i)
                zb_buf_append_byte(out, ',');
            zb_json_put_string(out, s_scalar(k), k->data.scalar.length);
            zb_buf_append_byte(out, ':');
            if (s_to_json(c, v, out, depth + 1) == -1)
                return -1;
        }
        return zb_buf_append_byte(out, '}');
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        zb_buf_append_byte(out, '[');
        int i = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++, i++) {
            if (i)
                zb_buf_append_byte(out, ',');
            if (s_to_json(c, yaml_document_get_node(c->doc, *it), out, depth + 1) == -1)
                return -1;
        }
        return zb_buf_append_byte(out, ']');
    }
    const char *s = s_scalar(n);
    size_t len = n->data.scalar.length;
    if (!s_is_plain(n))
        return zb_json_put_string(out, s, len);
    if (s_core_null(s))
        return zb_buf_append_str(out, "null");
    int b = s_core_bool(s);
    if (b >= 0)
        return zb_buf_append_str(out, b ? "true" : "false");
    int num = s_core_number(s);
    if (num == 1) {
        errno = 0;
        int base = !strncmp(s, "0o", 2) ? 8 : !strncmp(s, "0x", 2) ? 16 : 10;
        const char *digits = base == 10 ? s : s + 2;
        if (*digits == '-') {
            long long v = strtoll(digits, NULL, base);
            if (errno == 0)
                return zb_buf_appendf(out, "%lld", v);
        }
        else {
            unsigned long long v = strtoull(digits, NULL, base);
            if (errno == 0)
                return zb_buf_appendf(out, "%llu", v);
        }
        return s_put_double(out, strtod(s, NULL));
    }
    if (num == 2) {
        double d = strtod(s, NULL);
        if (!isfinite(d) || strstr(s, "nan") || strstr(s, "NaN") || strstr(s, "NAN")
            || strstr(s, "inf") || strstr(s, "Inf") || strstr(s, "INF")) {
            s_err(c, n, "%s cannot be used in an event pattern (not a JSON number)", s);
            return -1;
        }
        return s_put_double(out, d);
    }
    return zb_json_put_string(out, s, len);
}

/* Finds the YAML node a matcher error path ("detail.amount[0]") names, so
 * the error points at the offending element rather than the pattern. */
static yaml_node_t *s_find_path(s_ctx_t *c, yaml_node_t *n, const char *path)
{
    char seg[256];
    while (*path && n) {
        if (*path == '.') {
            path++;
            continue;
        }
        if (*path == '[') {
            long idx = strtol(path + 1, (char **) &path, 10);
            if (*path == ']')
                path++;
            if (n->type != YAML_SEQUENCE_NODE || idx < 0
                || idx >= n->data.sequence.items.top - n->data.sequence.items.start)
                return n;
            n = yaml_document_get_node(c->doc, n->data.sequence.items.start[idx]);
            continue;
        }
        size_t k = 0;
        while (*path && *path != '.' && *path != '[' && k + 1 < sizeof seg)
            seg[k++] = *path++;
        seg[k] = '\0';
        if (n->type != YAML_MAPPING_NODE)
            return n;
        yaml_node_t *next = NULL;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
            if (key->type == YAML_SCALAR_NODE && strcmp(s_scalar(key), seg) == 0)
                next = yaml_document_get_node(c->doc, p->value);
        }
        if (!next)
            return n;
        n = next;
    }
    return n;
}

/* ==== typed fields ============================================================ */

/* Iterates a mapping, checking keys against `allowed` (NULL-terminated) and
 * reporting unknown and duplicate keys. Calls back for each known key. */
typedef void (*s_field_fn)(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg);

static int s_walk_map(s_ctx_t *c, yaml_node_t *n, const char *what, const char *const *allowed,
                      s_field_fn fn, void *arg)
{
    if (n->type != YAML_MAPPING_NODE) {
        s_err(c, n, "%s must be a mapping, not %s", what, s_kind(n));
        return -1;
    }
    if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > MAX_MAP_KEYS) {
        s_err(c, n, "%s has more than %d keys", what, MAX_MAP_KEYS);
        return -1;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            s_err(c, k, "%s: keys must be scalars", what);
            continue;
        }
        const char *key = s_scalar(k);
        bool dup = false;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(c->doc, q->key);
            if (k2->type == YAML_SCALAR_NODE && strcmp(s_scalar(k2), key) == 0)
                dup = true;
        }
        if (dup) {
            s_err(c, k, "%s: duplicate key '%s'", what, key);
            continue;
        }
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                known = true;
        if (!known) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                if (*list)
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, *a, sizeof list - strlen(list) - 1);
            }
            s_err(c, k, "%s: unknown key '%s' (expected one of: %s)", what, key, list);
            continue;
        }
        fn(c, key, k, v, arg);
    }
    return 0;
}

/* A scalar as a freshly allocated string, or NULL (error reported). */
static char *s_string(s_ctx_t *c, const char *key, yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE) {
        s_err(c, v, "%s must be a string, not %s", key, s_kind(v));
        return NULL;
    }
    char *s = strdup(s_scalar(v));
    if (!s)
        s_err(c, v, "out of memory");
    return s;
}

static void s_set_string(s_ctx_t *c, const char *key, yaml_node_t *v, char **slot)
{
    char *s = s_string(c, key, v);
    if (s) {
        free(*slot);
        *slot = s;
    }
}

static void s_set_int(s_ctx_t *c, const char *key, yaml_node_t *v, int64_t min, int64_t max,
                      int64_t *slot)
{
    if (v->type != YAML_SCALAR_NODE || !s_is_plain(v) || s_core_number(s_scalar(v)) != 1) {
        s_err(c, v, "%s must be an integer", key);
        return;
    }
    errno = 0;
    const char *s = s_scalar(v);
    int base = !strncmp(s, "0o", 2) ? 8 : !strncmp(s, "0x", 2) ? 16 : 10;
    long long x = strtoll(base == 10 ? s : s + 2, NULL, base);
    if (errno || x < min || x > max) {
        s_err(c, v, "%s must be between %lld and %lld", key, (long long) min, (long long) max);
        return;
    }
    *slot = x;
}

static void s_set_bool(s_ctx_t *c, const char *key, yaml_node_t *v, bool *slot)
{
    int b = v->type == YAML_SCALAR_NODE && s_is_plain(v) ? s_core_bool(s_scalar(v)) : -1;
    if (b < 0) {
        s_err(c, v, "%s must be true or false", key);
        return;
    }
    *slot = b;
}

static void s_check_name(s_ctx_t *c, yaml_node_t *v, const char *what, const char *name)
{
    if (name && !config__valid_name(name, strlen(name)))
        s_err(c, v, "%s '%s' is not valid: use 1 to 64 characters of A-Z a-z 0-9 . _ -", what,
              name);
}

/* ==== targets ================================================================= */

static void s_target_field(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    conf_target_t *t = arg;
    if (!strcmp(key, "id")) {
        s_set_string(c, key, v, &t->id);
        s_check_name(c, v, "target id", t->id);
    }
    else if (!strcmp(key, "type")) {
        s_set_string(c, key, v, &t->type);
        if (t->type && strcmp(t->type, "pub") != 0 && !c->have_plugins)
            s_err(c, v, "unknown target type '%s' (known: pub; broker.plugins add more)",
                  t->type);
    }
    else if (!strcmp(key, "endpoint")) {
        s_set_string(c, key, v, &t->endpoint);
        t->endpoint_mark = s_mark(v);
    }
    else if (!strcmp(key, "topic"))
        s_set_string(c, key, v, &t->topic);
    else if (!strcmp(key, "high-water-mark"))
        s_set_int(c, key, v, 0, INT32_MAX, &t->hwm);
}

static void s_read_target(s_ctx_t *c, yaml_node_t *n, conf_target_t *t)
{
    static const char *const keys[] = { "id", "type", "endpoint", "topic", "high-water-mark",
                                        NULL };
    t->hwm = -1; /* not set: config__load gives the default once limits are read */
    t->mark = s_mark(n);
    s_walk_map(c, n, "target", keys, s_target_field, t);
    if (n->type != YAML_MAPPING_NODE)
        return;
    if (!t->id)
        s_err(c, n, "target: id is required");
    if (!t->type)
        t->type = strdup("pub");
    /* pub endpoints are ZeroMQ's; a plugin kind checks its own at open. */
    char why[256];
    if (!t->endpoint && !strcmp(t->type, "pub"))
        s_err(c, n, "target%s%s: endpoint is required", t->id ? " " : "", t->id ? t->id : "");
    else if (t->endpoint && !strcmp(t->type, "pub")
             && config__check_endpoint(t->endpoint, why, sizeof why) == -1) {
        c->nerrors++;
        zb_buf_appendf(c->errors, "%s:%d:%d: bad endpoint '%s': %s\n", c->path,
                       t->endpoint_mark.line, t->endpoint_mark.col, t->endpoint, why);
    }
    if (!t->topic)
        t->topic = strdup("{rule}");
}

/* ==== rules ==================================================================== */

typedef struct s_rule_arg {
    conf_rule_t *r;
    yaml_node_t *pattern_node;
    yaml_node_t *targets_node;
} s_rule_arg_t;

static void s_rule_field(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    s_rule_arg_t *a = arg;
    conf_rule_t *r = a->r;
    if (!strcmp(key, "name")) {
        s_set_string(c, key, v, &r->name);
        s_check_name(c, v, "rule name", r->name);
    }
    else if (!strcmp(key, "description"))
        s_set_string(c, key, v, &r->description);
    else if (!strcmp(key, "state")) {
        char *s = s_string(c, key, v);
        if (s && !strcmp(s, "ENABLED"))
            r->enabled = true;
        else if (s && !strcmp(s, "DISABLED"))
            r->enabled = false;
        else if (s)
            s_err(c, v, "state must be ENABLED or DISABLED, not '%s'", s);
        free(s);
    }
    else if (!strcmp(key, "event-pattern"))
        a->pattern_node = v;
    else if (!strcmp(key, "targets"))
        a->targets_node = v;
}

static void s_read_pattern(s_ctx_t *c, conf_rule_t *r, yaml_node_t *pn)
{
    zb_buf_t *json = zb_buf_new(256);
    if (!json) {
        s_err(c, pn, "out of memory");
        return;
    }
    bool from_yaml = pn->type != YAML_SCALAR_NODE;
    int rc = from_yaml ? s_to_json(c, pn, json, 0)
                       : zb_buf_append(json, s_scalar(pn), pn->data.scalar.length);
    if (rc == 0) {
        zb_matcher_error_t merr;
        memset(&merr, 0, sizeof merr);
        if (zb_pattern_check(ZB_FORMAT_JSON, json->data, json->len, &merr) == -1) {
            yaml_node_t *at = from_yaml && merr.path[0] ? s_find_path(c, pn, merr.path) : pn;
            s_err(c, at, "rule %s: %s", r->name ? r->name : "?", merr.message);
        }
        else {
            r->pattern = strndup(json->data, json->len);
            if (!r->pattern)
                s_err(c, pn, "out of memory");
        }
    }
    zb_buf_destroy(&json);
}

static void s_read_rule(s_ctx_t *c, yaml_node_t *n, conf_rule_t *r, int64_t max_targets)
{
    static const char *const keys[] = { "name",          "description", "state",
                                        "event-pattern", "targets",     NULL };
    s_rule_arg_t a = { r, NULL, NULL };
    r->enabled = true;
    r->mark = s_mark(n);
    if (s_walk_map(c, n, "rule", keys, s_rule_field, &a) == -1)
        return;
    if (!r->name)
        s_err(c, n, "rule: name is required");
    if (!a.pattern_node)
        s_err(c, n, "rule %s: event-pattern is required (scheduled rules are not supported)",
              r->name ? r->name : "?");
    else
        s_read_pattern(c, r, a.pattern_node);
    yaml_node_t *tn = a.targets_node;
    if (!tn)
        return;
    if (tn->type != YAML_SEQUENCE_NODE) {
        if (!(tn->type == YAML_SCALAR_NODE && s_core_null(s_scalar(tn))))
            s_err(c, tn, "targets must be a sequence, not %s", s_kind(tn));
        return;
    }
    size_t n_items = (size_t) (tn->data.sequence.items.top - tn->data.sequence.items.start);
    if ((int64_t) n_items > max_targets) {
        s_err(c, tn, "rule %s has %zu targets; the limit is %lld (max-targets-per-rule)",
              r->name ? r->name : "?", n_items, (long long) max_targets);
        return;
    }
    r->targets = calloc(n_items ? n_items : 1, sizeof *r->targets);
    if (!r->targets) {
        s_err(c, tn, "out of memory");
        return;
    }
    for (size_t i = 0; i < n_items; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, tn->data.sequence.items.start[i]);
        conf_target_t *t = &r->targets[r->ntargets++];
        s_read_target(c, item, t);
        for (size_t j = 0; t->id && j + 1 < r->ntargets; j++)
            if (r->targets[j].id && !strcmp(r->targets[j].id, t->id))
                s_err(c, item, "duplicate target id '%s' in rule %s (first at line %d)", t->id,
                      r->name ? r->name : "?", r->targets[j].mark.line);
    }
}

/* ==== buses ===================================================================== */

typedef struct s_bus_arg {
    conf_bus_t *b;
    yaml_node_t *rules_node;
} s_bus_arg_t;

static void s_bus_field(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    s_bus_arg_t *a = arg;
    if (!strcmp(key, "name")) {
        s_set_string(c, key, v, &a->b->name);
        s_check_name(c, v, "bus name", a->b->name);
    }
    else if (!strcmp(key, "description"))
        s_set_string(c, key, v, &a->b->description);
    else if (!strcmp(key, "rules"))
        a->rules_node = v;
}

static void s_read_bus(s_ctx_t *c, yaml_node_t *n, conf_bus_t *b, const conf_limits_t *lim)
{
    static const char *const keys[] = { "name", "description", "rules", NULL };
    s_bus_arg_t a = { b, NULL };
    b->mark = s_mark(n);
    if (s_walk_map(c, n, "bus", keys, s_bus_field, &a) == -1)
        return;
    if (!b->name)
        s_err(c, n, "bus: name is required");
    yaml_node_t *rn = a.rules_node;
    if (!rn)
        return;
    if (rn->type != YAML_SEQUENCE_NODE) {
        if (!(rn->type == YAML_SCALAR_NODE && s_core_null(s_scalar(rn))))
            s_err(c, rn, "rules must be a sequence, not %s", s_kind(rn));
        return;
    }
    size_t n_items = (size_t) (rn->data.sequence.items.top - rn->data.sequence.items.start);
    if ((int64_t) n_items > lim->max_rules_per_bus) {
        s_err(c, rn, "bus %s has %zu rules; the limit is %lld (max-rules-per-bus)",
              b->name ? b->name : "?", n_items, (long long) lim->max_rules_per_bus);
        return;
    }
    b->rules = calloc(n_items ? n_items : 1, sizeof *b->rules);
    if (!b->rules) {
        s_err(c, rn, "out of memory");
        return;
    }
    for (size_t i = 0; i < n_items; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, rn->data.sequence.items.start[i]);
        conf_rule_t *r = &b->rules[b->nrules++];
        s_read_rule(c, item, r, lim->max_targets_per_rule);
        for (size_t j = 0; r->name && j + 1 < b->nrules; j++)
            if (b->rules[j].name && !strcmp(b->rules[j].name, r->name))
                s_err(c, item, "duplicate rule name '%s' on bus %s (first at line %d)", r->name,
                      b->name ? b->name : "?", b->rules[j].mark.line);
    }
}

/* ==== broker section ============================================================ */

static void s_plugin_field(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    conf_plugin_t *pl = arg;
    if (!strcmp(key, "path")) {
        s_set_string(c, key, v, &pl->path);
        return;
    }
    /* options: a mapping of scalars, handed to the plugin as text */
    if (v->type != YAML_MAPPING_NODE) {
        s_err(c, v, "options must be a mapping, not %s", s_kind(v));
        return;
    }
    size_t n = (size_t) (v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n > MAX_MAP_KEYS) {
        s_err(c, v, "options has more than %d keys", MAX_MAP_KEYS);
        return;
    }
    pl->keys = calloc(n ? n : 1, sizeof *pl->keys);
    pl->values = calloc(n ? n : 1, sizeof *pl->values);
    if (!pl->keys || !pl->values) {
        s_err(c, v, "out of memory");
        return;
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *pk = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *pv = yaml_document_get_node(c->doc, p->value);
        char *ks = s_string(c, "an option name", pk);
        char *vs = ks ? s_string(c, ks, pv) : NULL;
        if (!ks || !vs) {
            free(ks);
            free(vs);
            continue;
        }
        pl->keys[pl->noptions] = ks;
        pl->values[pl->noptions++] = vs;
    }
}

static void s_read_plugins(s_ctx_t *c, yaml_node_t *v, zb_config_t *cfg)
{
    static const char *const keys[] = { "path", "options", NULL };
    if (v->type != YAML_SEQUENCE_NODE) {
        s_err(c, v, "plugins must be a sequence, not %s", s_kind(v));
        return;
    }
    size_t n = (size_t) (v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > 16) {
        s_err(c, v, "more than 16 plugins");
        return;
    }
    cfg->plugins = calloc(n ? n : 1, sizeof *cfg->plugins);
    for (size_t i = 0; cfg->plugins && i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
        conf_plugin_t *pl = &cfg->plugins[cfg->nplugins++];
        pl->mark = s_mark(item);
        if (s_walk_map(c, item, "plugin", keys, s_plugin_field, pl) == 0 && !pl->path)
            s_err(c, item, "plugin: path is required");
    }
}

static void s_limits_field(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    conf_limits_t *l = arg;
    if (!strcmp(key, "max-request-bytes"))
        s_set_int(c, key, v, 64, 256 * 1024 * 1024, &l->max_request_bytes);
    else if (!strcmp(key, "max-entries-per-request"))
        s_set_int(c, key, v, 1, ZB_MAX_ENTRIES_PER_REQUEST, &l->max_entries);
    else if (!strcmp(key, "max-entry-bytes"))
        s_set_int(c, key, v, 256, 64 * 1024 * 1024, &l->max_entry_bytes);
    else if (!strcmp(key, "max-buses"))
        s_set_int(c, key, v, 1, 100000, &l->max_buses);
    else if (!strcmp(key, "max-rules-per-bus"))
        s_set_int(c, key, v, 1, 1000000, &l->max_rules_per_bus);
    else if (!strcmp(key, "max-targets-per-rule"))
        s_set_int(c, key, v, 1, 10000, &l->max_targets_per_rule);
    else if (!strcmp(key, "max-state-bytes"))
        s_set_int(c, key, v, 1024, INT64_MAX / 2, &l->max_state_bytes);
    else if (!strcmp(key, "max-pub-endpoints"))
        s_set_int(c, key, v, 0, 1000000, &l->max_pub_endpoints);
    else if (!strcmp(key, "queue-bytes"))
        s_set_int(c, key, v, 0, INT64_MAX / 2, &l->queue_bytes);
}

int64_t config__default_hwm(const conf_limits_t *limits)
{
    int64_t hwm = limits->queue_bytes / limits->max_entry_bytes;
    return hwm < ZB_MIN_DEFAULT_HWM ? ZB_MIN_DEFAULT_HWM : hwm;
}

static void s_broker_field(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    zb_config_t *cfg = arg;
    if (!strcmp(key, "listen")) {
        s_set_string(c, key, v, &cfg->listen);
        char why[256];
        if (cfg->listen && config__check_endpoint(cfg->listen, why, sizeof why) == -1)
            s_err(c, v, "bad endpoint '%s': %s", cfg->listen, why);
    }
    else if (!strcmp(key, "account"))
        s_set_string(c, key, v, &cfg->account);
    else if (!strcmp(key, "region"))
        s_set_string(c, key, v, &cfg->region);
    else if (!strcmp(key, "state-file"))
        s_set_string(c, key, v, &cfg->state_file);
    else if (!strcmp(key, "watch"))
        s_set_bool(c, key, v, &cfg->watch);
    else if (!strcmp(key, "shutdown-linger-ms"))
        s_set_int(c, key, v, 0, 600000, &cfg->linger_ms);
    else if (!strcmp(key, "plugins"))
        s_read_plugins(c, v, cfg);
    else if (!strcmp(key, "limits")) {
        static const char *const keys[] = { "max-request-bytes",       "max-entries-per-request",
                                            "max-entry-bytes",         "max-buses",
                                            "max-rules-per-bus",
                                            "max-targets-per-rule",    "queue-bytes",
                                            "max-pub-endpoints",       "max-state-bytes",
                                            NULL };
        s_walk_map(c, v, "broker.limits", keys, s_limits_field, &cfg->limits);
    }
}

typedef struct s_top_arg {
    zb_config_t *cfg;
    yaml_node_t *buses_node;
} s_top_arg_t;

static void s_top_field(s_ctx_t *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    s_top_arg_t *a = arg;
    if (!strcmp(key, "broker")) {
        static const char *const keys[] = { "listen",  "account", "region",
                                            "state-file", "watch", "shutdown-linger-ms",
                                            "limits",  "plugins", NULL };
        s_walk_map(c, v, "broker", keys, s_broker_field, a->cfg);
    }
    else if (!strcmp(key, "buses"))
        a->buses_node = v;
}

/* ==== entry points =============================================================== */

/* The whole file, or NULL with a line in errors. */
static zb_buf_t *s_read_file(const char *path, zb_buf_t *errors)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        zb_buf_appendf(errors, "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    zb_buf_t *text = zb_buf_new(4096);
    char chunk[65536];
    size_t n;
    while (text && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (text->len + n > MAX_FILE_BYTES) {
            zb_buf_appendf(errors, "%s: larger than %d bytes; refused\n", path, MAX_FILE_BYTES);
            zb_buf_destroy(&text);
            break;
        }
        if (zb_buf_append(text, chunk, n) == -1) {
            zb_buf_appendf(errors, "%s: out of memory\n", path);
            zb_buf_destroy(&text);
        }
    }
    if (text && ferror(f)) {
        zb_buf_appendf(errors, "%s: cannot read: %s\n", path, strerror(errno));
        zb_buf_destroy(&text);
    }
    fclose(f);
    return text;
}

/* Refuses flow collections nested deeper than MAX_FLOW_DEPTH before
 * libyaml sees them (see MAX_FLOW_DEPTH). A lexical scan: quoted scalars
 * and comments are skipped; brackets inside plain scalars may be counted,
 * which can only make the limit trip earlier on absurd input. */
static int s_prescan(const char *path, const zb_buf_t *text, zb_buf_t *errors)
{
    int depth = 0, line = 1, col = 0;
    char quote = 0;
    bool comment = false;
    char prev = '\n';
    for (size_t i = 0; i < text->len; i++) {
        char ch = text->data[i];
        col++;
        if (ch == '\n') {
            line++;
            col = 0;
            comment = false;
            prev = ch;
            continue;
        }
        if (comment)
            continue;
        if (quote) {
            if (ch == quote)
                quote = 0;
            else if (ch == '\\' && quote == '"' && i + 1 < text->len)
                i++, col++;
        }
        else if (ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n'))
            comment = true;
        else if (ch == '"' || ch == '\'')
            quote = ch;
        else if (ch == '[' || ch == '{') {
            if (++depth > MAX_FLOW_DEPTH) {
                zb_buf_appendf(errors, "%s:%d:%d: collections nest deeper than %d levels\n",
                               path, line, col, MAX_FLOW_DEPTH);
                return -1;
            }
        }
        else if ((ch == ']' || ch == '}') && depth > 0)
            depth--;
        prev = ch;
    }
    return 0;
}

zb_config_t *config__load(const char *path, zb_buf_t *errors)
{
    zb_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        zb_buf_appendf(errors, "%s: out of memory\n", path);
        return NULL;
    }
    cfg->path = strdup(path);
    cfg->linger_ms = 2000;
    cfg->limits = (conf_limits_t) { ZB_DEFAULT_MAX_REQUEST_BYTES, ZB_DEFAULT_MAX_ENTRIES,
                                    ZB_DEFAULT_MAX_ENTRY_BYTES, ZB_DEFAULT_MAX_BUSES,
                                    ZB_DEFAULT_MAX_RULES_PER_BUS,
                                    ZB_DEFAULT_MAX_TARGETS_PER_RULE, ZB_DEFAULT_QUEUE_BYTES, 0,
                                    ZB_DEFAULT_MAX_STATE_BYTES };
    zb_buf_t *text = s_read_file(path, errors);
    if (!text || s_prescan(path, text, errors) == -1) {
        zb_buf_destroy(&text);
        config__destroy(&cfg);
        return NULL;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *) text->data, text->len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_mark_t m = parser.problem_mark;
        zb_buf_appendf(errors, "%s:%zu:%zu: invalid YAML: %s%s%s\n", path, m.line + 1,
                       m.column + 1, parser.problem ? parser.problem : "syntax error",
                       parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        zb_buf_destroy(&text);
        config__destroy(&cfg);
        return NULL;
    }
    s_ctx_t c = { path, &doc, errors, 0, false };
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    s_top_arg_t top = { cfg, NULL };
    if (!root)
        zb_buf_appendf(errors, "%s:1:1: the file is empty (expected broker: and buses:)\n", path),
            c.nerrors++;
    else {
        static const char *const keys[] = { "broker", "buses", NULL };
        s_walk_map(&c, root, "top level", keys, s_top_field, &top);
    }
    c.have_plugins = cfg->nplugins > 0;
    yaml_node_t *bn = top.buses_node;
    if (bn && bn->type == YAML_SEQUENCE_NODE) {
        size_t n_items = (size_t) (bn->data.sequence.items.top - bn->data.sequence.items.start);
        if ((int64_t) n_items > cfg->limits.max_buses) {
            s_err(&c, bn, "%zu buses; the limit is %lld (max-buses)", n_items,
                  (long long) cfg->limits.max_buses);
            n_items = 0;
        }
        cfg->buses = calloc(n_items ? n_items : 1, sizeof *cfg->buses);
        for (size_t i = 0; cfg->buses && i < n_items; i++) {
            yaml_node_t *item = yaml_document_get_node(&doc, bn->data.sequence.items.start[i]);
            conf_bus_t *b = &cfg->buses[cfg->nbuses++];
            s_read_bus(&c, item, b, &cfg->limits);
            for (size_t j = 0; b->name && j + 1 < cfg->nbuses; j++)
                if (cfg->buses[j].name && !strcmp(cfg->buses[j].name, b->name))
                    s_err(&c, item, "duplicate bus name '%s' (first at line %d)", b->name,
                          cfg->buses[j].mark.line);
        }
    }
    else if (bn && !(bn->type == YAML_SCALAR_NODE && s_core_null(s_scalar(bn))))
        s_err(&c, bn, "buses must be a sequence, not %s", s_kind(bn));

    for (size_t i = 0; i < cfg->nbuses; i++)
        for (size_t j = 0; j < cfg->buses[i].nrules; j++)
            for (size_t k = 0; k < cfg->buses[i].rules[j].ntargets; k++)
                if (cfg->buses[i].rules[j].targets[k].hwm == -1)
                    cfg->buses[i].rules[j].targets[k].hwm = config__default_hwm(&cfg->limits);

    /* Targets sharing an endpoint share its socket, so they must agree on
     * the high-water mark (it is the socket's). */
    for (size_t i = 0; i < cfg->nbuses; i++)
        for (size_t j = 0; j < cfg->buses[i].nrules; j++)
            for (size_t k = 0; k < cfg->buses[i].rules[j].ntargets; k++) {
                conf_target_t *t = &cfg->buses[i].rules[j].targets[k];
                conf_target_t *first = config__first_on_endpoint(cfg, t->endpoint);
                if (t->endpoint && first && first != t && first->hwm != t->hwm) {
                    zb_buf_appendf(errors,
                                   "%s:%d:%d: target %s: high-water-mark %lld differs from %lld "
                                   "set for %s at line %d (targets sharing an endpoint share "
                                   "its socket)\n",
                                   path, t->mark.line, t->mark.col, t->id ? t->id : "?",
                                   (long long) t->hwm, (long long) first->hwm, t->endpoint,
                                   first->mark.line);
                    c.nerrors++;
                }
            }

    /* Every target endpoint must differ from the request endpoint. */
    if (!cfg->listen)
        cfg->listen = strdup("tcp://127.0.0.1:7400");
    for (size_t i = 0; i < cfg->nbuses; i++)
        for (size_t j = 0; j < cfg->buses[i].nrules; j++)
            for (size_t k = 0; k < cfg->buses[i].rules[j].ntargets; k++) {
                conf_target_t *t = &cfg->buses[i].rules[j].targets[k];
                if (t->endpoint && cfg->listen && !strcmp(t->endpoint, cfg->listen)) {
                    zb_buf_appendf(errors,
                                   "%s:%d:%d: bad endpoint '%s': it is broker.listen, the "
                                   "request endpoint\n",
                                   path, t->endpoint_mark.line, t->endpoint_mark.col,
                                   t->endpoint);
                    c.nerrors++;
                }
            }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    zb_buf_destroy(&text);

    if (!cfg->account)
        cfg->account = strdup("000000000000");
    if (!cfg->region)
        cfg->region = strdup("local");
    cfg->account_len = cfg->account ? strlen(cfg->account) : 0;
    cfg->region_len = cfg->region ? strlen(cfg->region) : 0;
    if (!cfg->state_file) {
        cfg->state_file = malloc(strlen(path) + 7);
        if (cfg->state_file)
            sprintf(cfg->state_file, "%s.state", path);
    }
    else if (cfg->state_file[0] != '/' && strchr(path, '/')) {
        /* Relative to the rules file, not to wherever zbridged started. */
        const char *slash = strrchr(path, '/');
        size_t dir = (size_t) (slash - path) + 1;
        char *full = malloc(dir + strlen(cfg->state_file) + 1);
        if (full) {
            memcpy(full, path, dir);
            strcpy(full + dir, cfg->state_file);
        }
        free(cfg->state_file);
        cfg->state_file = full;
    }
    if (!cfg->path || !cfg->listen || !cfg->account || !cfg->region || !cfg->state_file) {
        zb_buf_appendf(errors, "%s: out of memory\n", path);
        c.nerrors++;
    }
    if (c.nerrors) {
        config__destroy(&cfg);
        return NULL;
    }
    return cfg;
}

static void s_free_target(conf_target_t *t)
{
    free(t->id);
    free(t->type);
    free(t->endpoint);
    free(t->topic);
}

static void s_free_rule(conf_rule_t *r)
{
    free(r->name);
    free(r->description);
    free(r->pattern);
    for (size_t i = 0; i < r->ntargets; i++)
        s_free_target(&r->targets[i]);
    free(r->targets);
}

void config__destroy(zb_config_t **self_p)
{
    zb_config_t *cfg = *self_p;
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nbuses; i++) {
        conf_bus_t *b = &cfg->buses[i];
        free(b->name);
        free(b->description);
        for (size_t j = 0; j < b->nrules; j++)
            s_free_rule(&b->rules[j]);
        free(b->rules);
    }
    free(cfg->buses);
    for (size_t i = 0; i < cfg->nplugins; i++) {
        conf_plugin_t *pl = &cfg->plugins[i];
        for (size_t k = 0; k < pl->noptions; k++) {
            free(pl->keys[k]);
            free(pl->values[k]);
        }
        free(pl->keys);
        free(pl->values);
        free(pl->path);
    }
    free(cfg->plugins);
    free(cfg->path);
    free(cfg->listen);
    free(cfg->account);
    free(cfg->region);
    free(cfg->state_file);
    free(cfg);
    *self_p = NULL;
}

conf_target_t *config__first_on_endpoint(const zb_config_t *cfg, const char *endpoint)
{
    if (!endpoint)
        return NULL;
    for (size_t i = 0; i < cfg->nbuses; i++)
        for (size_t j = 0; j < cfg->buses[i].nrules; j++)
            for (size_t k = 0; k < cfg->buses[i].rules[j].ntargets; k++) {
                conf_target_t *t = &cfg->buses[i].rules[j].targets[k];
                if (t->endpoint && strcmp(t->endpoint, endpoint) == 0)
                    return t;
            }
    return NULL;
}

bool config__valid_name(const char *s, size_t len)
{
    if (len < 1 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

int config__check_endpoint(const char *ep, char *err, size_t errlen)
{
    if (!strncmp(ep, "tcp://", 6)) {
        const char *hp = ep + 6;
        const char *colon = strrchr(hp, ':');
        if (!colon || colon == hp) {
            snprintf(err, errlen, "expected tcp://HOST:PORT");
            return -1;
        }
        const char *port = colon + 1;
        if (!strcmp(port, "*"))
            return 0;
        char *end;
        errno = 0;
        long p = strtol(port, &end, 10);
        if (!*port || *end || errno || p < 1 || p > 65535) {
            snprintf(err, errlen, "port must be 1 to 65535 or *");
            return -1;
        }
        return 0;
    }
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9)) {
        if (!ep[ep[0] == 'i' && ep[1] == 'p' ? 6 : 9]) {
            snprintf(err, errlen, "the address after :// is empty");
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "expected tcp://HOST:PORT, ipc://PATH or inproc://NAME");
    return -1;
}
