/*
 * run_conformance.c — runs every case of the shared EventBridge pattern
 * corpus (patterns.jsonl) through the matcher, twice: as JSON text and
 * converted to msgpack. Prints one TAP line per case and form, then a count
 * line; exits non-zero on any failure.
 *
 * Usage: run_conformance PATH/patterns.jsonl [name-substring]
 *
 * Per the corpus README: pattern_text / event_text, when present, are fed
 * as they are (number spelling and duplicate keys matter); otherwise the
 * parsed object is written back as compact JSON with numbers spelled as in
 * the file.
 */
#include "json.h"
#include "matcher.h"
#include "zb_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
    char *expect;
    zb_buf_t *pattern;  /* JSON text */
    zb_buf_t *event;    /* JSON text */
} s_case_t;

static char *s_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    zb_buf_t *b = zb_buf_new(1 << 16);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        zb_buf_append(b, tmp, n);
    fclose(f);
    char *data = b->data;
    *len = b->len;
    free(b);
    return data;
}

static char *s_strdup(const zb_json_t *v)
{
    char *s = malloc(v->len + 1);
    memcpy(s, v->str, v->len);
    s[v->len] = '\0';
    return s;
}

/* Returns 1 if the case behaves as expected in `format`. */
static int s_run(const s_case_t *c, zb_matcher_format_t format, char *why, size_t why_len)
{
    zb_buf_t *pat = zb_buf_new(256), *ev = zb_buf_new(256);
    zb_json_error_t jerr;
    const void *pbytes = c->pattern->data, *ebytes = c->event->data;
    size_t plen = c->pattern->len, elen = c->event->len;
    bool invalid = strcmp(c->expect, "invalid") == 0;
    int ok = 0;
    if (format == ZB_FORMAT_MSGPACK) {
        if (zb_json_to_msgpack(c->pattern->data, c->pattern->len, pat, &jerr) != 0) {
            /* Text that is not even JSON has no msgpack form: that is the
             * refusal the case expects. */
            ok = invalid;
            snprintf(why, why_len, "pattern not convertible: %s", jerr.message);
            goto out;
        }
        if (zb_json_to_msgpack(c->event->data, c->event->len, ev, &jerr) != 0) {
            snprintf(why, why_len, "event not convertible: %s", jerr.message);
            goto out;
        }
        pbytes = pat->data, plen = pat->len, ebytes = ev->data, elen = ev->len;
    }
    zb_matcher_t *m = zb_matcher_new();
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    zb_matcher_error_t err;
    int rc = zb_matcher_add(m, 42, format, pbytes, plen, &err);
    if (invalid) {
        ok = rc != 0;
        snprintf(why, why_len, "%s", rc != 0 ? err.message : "pattern accepted");
    } else if (rc != 0) {
        snprintf(why, why_len, "pattern refused: %s (at %s)", err.message, err.path);
    } else {
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, format, ebytes, elen, &ids, &err);
        if (n < 0) {
            snprintf(why, why_len, "event refused: %s", err.message);
        } else {
            bool matched = n == 1 && ids[0] == 42;
            ok = matched == (strcmp(c->expect, "match") == 0) && n <= 1;
            snprintf(why, why_len, "%s", matched ? "matched" : "did not match");
        }
    }
    zb_match_ctx_destroy(&ctx);
    zb_matcher_destroy(&m);
out:
    zb_buf_destroy(&pat);
    zb_buf_destroy(&ev);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s patterns.jsonl [name-filter]\n", argv[0]);
        return 2;
    }
    size_t len;
    char *data = s_read_file(argv[1], &len);
    if (!data) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    s_case_t *cases = NULL;
    size_t n = 0;
    char *line = data;
    while (line < data + len) {
        char *nl = memchr(line, '\n', (size_t) (data + len - line));
        size_t ll = nl ? (size_t) (nl - line) : (size_t) (data + len - line);
        if (ll > 0) {
            zb_json_error_t jerr;
            zb_json_doc_t *doc = zb_json_parse(line, ll, &jerr);
            if (!doc) {
                fprintf(stderr, "bad corpus line: %s\n", jerr.message);
                return 2;
            }
            const zb_json_t *root = zb_json_root(doc);
            const zb_json_t *name = zb_json_get(root, "name");
            if (argc < 3 || strstr(name->str, argv[2])) {
                cases = realloc(cases, (n + 1) * sizeof *cases);
                s_case_t *c = &cases[n++];
                c->name = s_strdup(name);
                c->expect = s_strdup(zb_json_get(root, "expect"));
                c->pattern = zb_buf_new(256);
                c->event = zb_buf_new(256);
                const zb_json_t *pt = zb_json_get(root, "pattern_text");
                const zb_json_t *et = zb_json_get(root, "event_text");
                if (pt)
                    zb_buf_append(c->pattern, pt->str, pt->len);
                else
                    zb_json_write(c->pattern, zb_json_get(root, "pattern"));
                if (et)
                    zb_buf_append(c->event, et->str, et->len);
                else
                    zb_json_write(c->event, zb_json_get(root, "event"));
            }
            zb_json_doc_destroy(&doc);
        }
        line += ll + 1;
    }
    free(data);

    printf("1..%zu\n", 2 * n);
    size_t pass[2] = {0, 0}, t = 0;
    for (int f = 0; f < 2; f++) {
        zb_matcher_format_t format = f == 0 ? ZB_FORMAT_JSON : ZB_FORMAT_MSGPACK;
        const char *fname = f == 0 ? "json" : "msgpack";
        for (size_t i = 0; i < n; i++) {
            char why[1024];
            int ok = s_run(&cases[i], format, why, sizeof why);
            pass[f] += (size_t) ok;
            printf("%s %zu - %s [%s]", ok ? "ok" : "not ok", ++t, cases[i].name, fname);
            if (!ok)
                printf(" # expected %s: %s", cases[i].expect, why);
            printf("\n");
        }
    }
    printf("# conformance: %zu/%zu passed as JSON, %zu/%zu as msgpack\n", pass[0], n, pass[1], n);
    for (size_t i = 0; i < n; i++) {
        free(cases[i].name);
        free(cases[i].expect);
        zb_buf_destroy(&cases[i].pattern);
        zb_buf_destroy(&cases[i].event);
    }
    free(cases);
    return pass[0] == n && pass[1] == n ? 0 : 1;
}
