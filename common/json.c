/*
 * json.c — strict JSON reader building a read-only tree. See json.h.
 *
 * All nodes and unescaped strings live in one chunked arena owned by the
 * document, so a parse is a handful of mallocs and one free walk.
 */
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct s_chunk {
    struct s_chunk *next;
    size_t used, cap;
    max_align_t data[];
} s_chunk_t;

struct zb_json_doc {
    s_chunk_t *chunks;
    zb_json_t *root;
};

typedef struct {
    const char *text;
    const char *p;
    const char *end;
    zb_json_doc_t *doc;
    zb_json_error_t *err;
    int depth;
    int flags;
} s_parser_t;

static void *s_alloc(zb_json_doc_t *doc, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    s_chunk_t *c = doc->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = doc->chunks;
        doc->chunks = c;
    }
    void *r = (char *) c->data + c->used;
    c->used += n;
    return r;
}

static int s_fail(s_parser_t *ps, const char *fmt, ...)
{
    if (ps->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err->message, sizeof ps->err->message, fmt, ap);
        va_end(ap);
        ps->err->offset = (long) (ps->p - ps->text);
    }
    return -1;
}

bool zb_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = zb_utf8_seq(p + i, len - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static void s_skip_ws(s_parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Parses a string at ps->p (on the opening quote). The unescaped bytes go
 * to the arena; never longer than the source text. */
static int s_string(s_parser_t *ps, const char **out, size_t *out_len)
{
    ps->p++; /* opening quote */
    const char *start = ps->p;
    /* First pass: find the end and validate, so we know the size. */
    const char *q = start;
    while (q < ps->end && *q != '"') {
        if (*q == '\\') {
            q += 2;
            continue;
        }
        q++;
    }
    if (q >= ps->end) {
        ps->p = ps->end;
        return s_fail(ps, "unterminated string");
    }
    char *o = s_alloc(ps->doc, (size_t) (q - start) + 1);
    if (!o)
        return s_fail(ps, "out of memory");
    size_t n = 0;
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char) *ps->p;
        if (c == '"') {
            ps->p++;
            o[n] = '\0';
            *out = o;
            *out_len = n;
            return 0;
        }
        if (c < 0x20)
            return s_fail(ps, "control character in string");
        if (c == '\\') {
            if (ps->end - ps->p < 2)
                return s_fail(ps, "bad escape");
            char e = ps->p[1];
            const char *simple = "\"\\/bfnrt";
            const char *repl = "\"\\/\b\f\n\r\t";
            const char *hit = e ? strchr(simple, e) : NULL;
            if (hit) {
                o[n++] = repl[hit - simple];
                ps->p += 2;
                continue;
            }
            if (e != 'u')
                return s_fail(ps, "bad escape '\\%c'", e);
            unsigned cp;
            int k = zb_json_u_escape(ps->p, ps->end, &cp);
            if (k < 0) {
                if (k == ZB_U_ESCAPE_BAD)
                    return s_fail(ps, "bad \\u escape");
                ps->p += 6;
                return s_fail(ps, "lone surrogate in \\u escape");
            }
            ps->p += k;
            n += zb_utf8_encode(cp, o + n);
            continue;
        }
        if (c < 0x80) {
            o[n++] = (char) c;
            ps->p++;
            continue;
        }
        size_t k = zb_utf8_seq((const unsigned char *) ps->p, (size_t) (ps->end - ps->p));
        if (k == 0)
            return s_fail(ps, "invalid UTF-8");
        memcpy(o + n, ps->p, k);
        n += k;
        ps->p += k;
    }
    return s_fail(ps, "unterminated string");
}

/* RFC 8259 number grammar; the value is converted with strtod (the text is
 * copied so strtod never reads past the input). */
static int s_number(s_parser_t *ps, zb_json_t *node)
{
    const char *s = ps->p, *p = s, *e = ps->end;
    if (p < e && *p == '-')
        p++;
    if (p >= e)
        return s_fail(ps, "bad number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    } else {
        return s_fail(ps, "bad number");
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9') {
            ps->p = p;
            return s_fail(ps, "bad number");
        }
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9') {
            ps->p = p;
            return s_fail(ps, "bad number");
        }
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    size_t n = (size_t) (p - s);
    char tmp[64];
    char *buf = n < sizeof tmp ? tmp : malloc(n + 1);
    if (!buf)
        return s_fail(ps, "out of memory");
    memcpy(buf, s, n);
    buf[n] = '\0';
    node->num = strtod(buf, NULL);
    if (buf != tmp)
        free(buf);
    node->type = ZB_JSON_NUMBER;
    node->str = s;
    node->len = n;
    ps->p = p;
    return 0;
}

static int s_literal(s_parser_t *ps, const char *word, zb_json_type_t type, zb_json_t *node)
{
    size_t n = strlen(word);
    if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return s_fail(ps, "unexpected character '%c'", *ps->p);
    ps->p += n;
    node->type = type;
    return 0;
}

static int s_value(s_parser_t *ps, zb_json_t *node);

typedef struct {
    zb_json_t *m;
    size_t pos;
} s_member_t;

static int s_member_cmp(const void *a, const void *b)
{
    const s_member_t *x = a, *y = b;
    size_t n = x->m->key_len < y->m->key_len ? x->m->key_len : y->m->key_len;
    int c = memcmp(x->m->key, y->m->key, n);
    if (c == 0 && x->m->key_len != y->m->key_len)
        c = x->m->key_len < y->m->key_len ? -1 : 1;
    if (c == 0)
        c = x->pos < y->pos ? -1 : 1;
    return c;
}

/* Last occurrence of a key wins: drops earlier members with the same key,
 * keeping the others in order. Sorting keeps this O(n log n) however many
 * members a hostile object has. */
static int s_dedupe(s_parser_t *ps, zb_json_t *obj)
{
    size_t n = obj->len;
    s_member_t *v = malloc(n * sizeof *v);
    bool *drop = calloc(n, sizeof *drop);
    if (!v || !drop) {
        free(v);
        free(drop);
        return s_fail(ps, "out of memory");
    }
    size_t i = 0;
    for (zb_json_t *m = obj->child; m; m = m->next, i++) {
        v[i].m = m;
        v[i].pos = i;
    }
    qsort(v, n, sizeof *v, s_member_cmp);
    size_t dropped = 0;
    for (i = 0; i + 1 < n; i++) {
        if (v[i].m->key_len == v[i + 1].m->key_len && memcmp(v[i].m->key, v[i + 1].m->key, v[i].m->key_len) == 0) {
            drop[v[i].pos] = true;
            dropped++;
        }
    }
    if (dropped) {
        zb_json_t **tail = &obj->child;
        i = 0;
        for (zb_json_t *m = obj->child, *next; m; m = next, i++) {
            next = m->next;
            if (drop[i])
                continue;
            *tail = m;
            tail = &m->next;
        }
        *tail = NULL;
        obj->len -= dropped;
    }
    free(v);
    free(drop);
    return 0;
}

static int s_container(s_parser_t *ps, zb_json_t *node, int is_object)
{
    if (++ps->depth > ZB_JSON_MAX_DEPTH)
        return s_fail(ps, "nesting deeper than %d levels", ZB_JSON_MAX_DEPTH);
    node->type = is_object ? ZB_JSON_OBJECT : ZB_JSON_ARRAY;
    ps->p++;
    s_skip_ws(ps);
    char close = is_object ? '}' : ']';
    zb_json_t **tail = &node->child;
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        zb_json_t *m = s_alloc(ps->doc, sizeof *m);
        if (!m)
            return s_fail(ps, "out of memory");
        memset(m, 0, sizeof *m);
        if (is_object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return s_fail(ps, "expected a string key");
            if (s_string(ps, &m->key, &m->key_len) != 0)
                return -1;
            s_skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return s_fail(ps, "expected ':'");
            ps->p++;
            s_skip_ws(ps);
        }
        if (s_value(ps, m) != 0)
            return -1;
        *tail = m;
        tail = &m->next;
        node->len++;
        s_skip_ws(ps);
        if (ps->p >= ps->end)
            return s_fail(ps, "unexpected end of input");
        if (*ps->p == ',') {
            ps->p++;
            s_skip_ws(ps);
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            ps->depth--;
            if (is_object && !(ps->flags & ZB_JSON_KEEP_DUPLICATES) && node->len > 1)
                return s_dedupe(ps, node);
            return 0;
        }
        return s_fail(ps, "expected ',' or '%c'", close);
    }
}

static int s_value(s_parser_t *ps, zb_json_t *node)
{
    s_skip_ws(ps);
    if (ps->p >= ps->end)
        return s_fail(ps, "unexpected end of input");
    node->offset = (long) (ps->p - ps->text);
    switch (*ps->p) {
    case '{':
        return s_container(ps, node, 1);
    case '[':
        return s_container(ps, node, 0);
    case '"':
        node->type = ZB_JSON_STRING;
        return s_string(ps, &node->str, &node->len);
    case 't':
        return s_literal(ps, "true", ZB_JSON_TRUE, node);
    case 'f':
        return s_literal(ps, "false", ZB_JSON_FALSE, node);
    case 'n':
        return s_literal(ps, "null", ZB_JSON_NULL, node);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return s_number(ps, node);
        if ((unsigned char) *ps->p >= 0x20 && (unsigned char) *ps->p < 0x7f)
            return s_fail(ps, "unexpected character '%c'", *ps->p);
        return s_fail(ps, "unexpected byte 0x%02x", (unsigned char) *ps->p);
    }
}

zb_json_doc_t *zb_json_parse(const char *text, size_t len, zb_json_error_t *err)
{
    return zb_json_parse_ex(text, len, 0, err);
}

zb_json_doc_t *zb_json_parse_ex(const char *text, size_t len, int flags, zb_json_error_t *err)
{
    zb_json_doc_t *doc = calloc(1, sizeof *doc);
    if (!doc) {
        if (err) {
            snprintf(err->message, sizeof err->message, "out of memory");
            err->offset = -1;
        }
        return NULL;
    }
    s_parser_t ps = {.text = text, .p = text, .end = text + len, .doc = doc, .err = err, .flags = flags};
    doc->root = s_alloc(doc, sizeof *doc->root);
    if (!doc->root) {
        s_fail(&ps, "out of memory");
        zb_json_doc_destroy(&doc);
        return NULL;
    }
    memset(doc->root, 0, sizeof *doc->root);
    if (s_value(&ps, doc->root) != 0) {
        zb_json_doc_destroy(&doc);
        return NULL;
    }
    s_skip_ws(&ps);
    if (ps.p != ps.end) {
        s_fail(&ps, "trailing characters after the value");
        zb_json_doc_destroy(&doc);
        return NULL;
    }
    return doc;
}

void zb_json_doc_destroy(zb_json_doc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_chunk_t *c = (*self_p)->chunks;
    while (c) {
        s_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    free(*self_p);
    *self_p = NULL;
}

const zb_json_t *zb_json_root(const zb_json_doc_t *self)
{
    return self->root;
}

const zb_json_t *zb_json_get(const zb_json_t *object, const char *key)
{
    if (!object || object->type != ZB_JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (const zb_json_t *m = object->child; m; m = m->next)
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return m;
    return NULL;
}

int zb_json_put_string(zb_buf_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (zb_buf_reserve(out, len + 2) != 0 || zb_buf_append_byte(out, '"') != 0)
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (zb_buf_append(out, s + run, i - run) != 0)
            return -1;
        run = i + 1;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (zb_buf_append(out, esc, n) != 0)
            return -1;
    }
    if (zb_buf_append(out, s + run, len - run) != 0)
        return -1;
    return zb_buf_append_byte(out, '"');
}

int zb_json_write(zb_buf_t *out, const zb_json_t *v)
{
    switch (v->type) {
    case ZB_JSON_NULL:
        return zb_buf_append(out, "null", 4);
    case ZB_JSON_TRUE:
        return zb_buf_append(out, "true", 4);
    case ZB_JSON_FALSE:
        return zb_buf_append(out, "false", 5);
    case ZB_JSON_NUMBER:
        return zb_buf_append(out, v->str, v->len);
    case ZB_JSON_STRING:
        return zb_json_put_string(out, v->str, v->len);
    case ZB_JSON_ARRAY:
    case ZB_JSON_OBJECT: {
        bool obj = v->type == ZB_JSON_OBJECT;
        if (zb_buf_append_byte(out, obj ? '{' : '[') != 0)
            return -1;
        for (const zb_json_t *m = v->child; m; m = m->next) {
            if (m != v->child && zb_buf_append_byte(out, ',') != 0)
                return -1;
            if (obj && (zb_json_put_string(out, m->key, m->key_len) != 0 || zb_buf_append_byte(out, ':') != 0))
                return -1;
            if (zb_json_write(out, m) != 0)
                return -1;
        }
        return zb_buf_append_byte(out, obj ? '}' : ']');
    }
    }
    return -1;
}
