/*
 * bench_matcher.c — matcher throughput on citylots-style events.
 *
 *   bench_matcher [--data citylots.jsonl] [--rules cl2_rules.json]
 *                 [--runs N] [--only CATEGORY] [--no-scaling] [--json-only]
 *                 [--scaling-only]
 *
 * For each category of cl2_rules.json: adds its five rules to one matcher,
 * matches every event (as JSON text, then as msgpack), checks the per-rule
 * match counts against expected_matches (exit 1 on a mismatch) and prints
 * events/s (best of N runs) next to aws/event-ruler's reference figure.
 * Then EXACT scaling with 1 / 100 / 10,000 / 100,000 rules: throughput,
 * time to add the rules, and heap bytes per rule; then ANYTHING_BUT and
 * WILDCARD (inner star) scaling with 1 / 100 / 10,000 rules as ratios to
 * the 1-rule figure, and the same for wildcards open at both ends and for
 * rules that all share one value (told apart by another).
 *
 * Figures, not a timed test: see README.md.
 */
#include "json.h"
#include "matcher.h"
#include "zb_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *name;
    double ruler; /* events/s of aws/event-ruler (shared/bench/README.md) */
} s_ref_t;

static const s_ref_t s_refs[] = {
    {"EXACT", 341931},
    {"WILDCARD", 255060},
    {"PREFIX", 330423},
    {"SUFFIX", 338496},
    {"EQUALS_IGNORE_CASE", 298601},
    {"PREFIX_EQUALS_IGNORE_CASE", 344680},
    {"SUFFIX_EQUALS_IGNORE_CASE", 332823},
    {"NUMERIC", 189326},
    {"ANYTHING_BUT", 198471},
    {"ANYTHING_BUT_IGNORE_CASE", 198615},
    {"ANYTHING_BUT_PREFIX", 204848},
    {"ANYTHING_BUT_SUFFIX", 203327},
    {"ANYTHING_BUT_WILDCARD", 205214},
    {"COMPLEX_ARRAYS", 41714},
};

typedef struct {
    size_t n;
    const char **json;
    size_t *json_len;
    zb_buf_t **mp;
} s_events_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    zb_buf_t *b = zb_buf_new(1 << 20);
    char tmp[1 << 16];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (zb_buf_append(b, tmp, n) != 0) {
            fclose(f);
            return NULL;
        }
    fclose(f);
    char *d = b->data;
    *len = b->len;
    free(b);
    return d;
}

static bool s_json_only;

static int s_load_events(const char *path, s_events_t *ev, char **keep)
{
    size_t len;
    char *data = s_slurp(path, &len);
    if (!data)
        return -1;
    *keep = data;
    size_t cap = 1024;
    ev->json = malloc(cap * sizeof *ev->json);
    ev->json_len = malloc(cap * sizeof *ev->json_len);
    ev->n = 0;
    for (char *p = data; p < data + len;) {
        char *nl = memchr(p, '\n', (size_t) (data + len - p));
        size_t l = nl ? (size_t) (nl - p) : (size_t) (data + len - p);
        if (l > 0) {
            if (ev->n == cap) {
                cap *= 2;
                ev->json = realloc(ev->json, cap * sizeof *ev->json);
                ev->json_len = realloc(ev->json_len, cap * sizeof *ev->json_len);
            }
            ev->json[ev->n] = p;
            ev->json_len[ev->n] = l;
            ev->n++;
        }
        p += l + 1;
    }
    ev->mp = calloc(ev->n, sizeof *ev->mp);
    for (size_t i = 0; i < ev->n && !s_json_only; i++) {
        ev->mp[i] = zb_buf_new(ev->json_len[i]);
        zb_json_error_t jerr;
        if (zb_json_to_msgpack(ev->json[i], ev->json_len[i], ev->mp[i], &jerr) != 0) {
            fprintf(stderr, "event %zu: %s\n", i, jerr.message);
            return -1;
        }
    }
    return 0;
}

/* One pass over all events; counts[i] += matches of rule id i. Returns
 * seconds, or -1 on a matcher error. */
static double s_pass(const zb_matcher_t *m, zb_match_ctx_t *ctx, const s_events_t *ev, zb_matcher_format_t fmt,
                     size_t *counts, size_t n_counts, size_t *any)
{
    zb_matcher_error_t err;
    double t0 = s_now();
    for (size_t i = 0; i < ev->n; i++) {
        const uint64_t *ids;
        int n = fmt == ZB_FORMAT_JSON
                    ? zb_matcher_match(m, ctx, fmt, ev->json[i], ev->json_len[i], &ids, &err)
                    : zb_matcher_match(m, ctx, fmt, ev->mp[i]->data, ev->mp[i]->len, &ids, &err);
        if (n < 0) {
            fprintf(stderr, "event %zu: %s\n", i, err.message);
            return -1;
        }
        if (any && n > 0)
            (*any)++;
        for (int k = 0; counts && k < n; k++)
            if (ids[k] < n_counts)
                counts[ids[k]]++;
    }
    return s_now() - t0;
}

static double s_best(const zb_matcher_t *m, zb_match_ctx_t *ctx, const s_events_t *ev, zb_matcher_format_t fmt,
                     int runs)
{
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double t = s_pass(m, ctx, ev, fmt, NULL, 0, NULL);
        if (t < 0)
            return -1;
        if (t < best)
            best = t;
    }
    return best;
}

/* The rule shapes of the scaling figures. */
typedef enum {
    S_ANYTHING_BUT, /* an anything-but list of ten values */
    S_INNER_STAR,   /* a wildcard with an inner star: "0001*01" */
    S_CONTAINS,     /* a wildcard open at both ends: "*001*" */
    S_SHARED,       /* a value every rule shares (and every event has) plus
                     * one of its own: rules with one "source", told apart
                     * by "detail-type" */
} s_shape_t;

/* Rule i of n for a scaling figure over the sorted distinct MAPBLKLOT
 * values. */
static int s_scaling_rule(char *out, size_t cap, s_shape_t shape, char **vals, size_t nd, size_t i, size_t n)
{
    const char *v = vals[i * nd / n];
    switch (shape) {
    case S_INNER_STAR:
        return snprintf(out, cap, "{\"properties\":{\"MAPBLKLOT\":[{\"wildcard\":\"%.4s*%s\"}]}}", v,
                        strlen(v) > 4 ? v + 4 : "");
    case S_CONTAINS:
        return snprintf(out, cap, "{\"properties\":{\"MAPBLKLOT\":[{\"wildcard\":\"*%s*\"}]}}",
                        strlen(v) > 1 ? v + 1 : v);
    case S_SHARED:
        return snprintf(out, cap, "{\"type\":[\"Feature\"],\"properties\":{\"MAPBLKLOT\":[\"%s\"]}}", v);
    case S_ANYTHING_BUT:
        break;
    }
    int o = snprintf(out, cap, "{\"properties\":{\"MAPBLKLOT\":[{\"anything-but\":[");
    for (size_t k = 0; k < 10; k++)
        o += snprintf(out + o, cap - (size_t) o, "%s\"%s\"", k ? "," : "", vals[(i * nd / n + k) % nd]);
    return o + snprintf(out + o, cap - (size_t) o, "]}]}}");
}

/* Throughput with 1 / 100 / 10,000 rules of one kind, as ratios to the
 * 1-rule figure (JSON input, the first `limit` events). */
static int s_scaling_figure(const char *title, s_shape_t shape, zb_match_ctx_t *ctx, const s_events_t *all,
                            size_t limit, char **vals, size_t nd, int runs)
{
    s_events_t ev = *all;
    if (ev.n > limit)
        ev.n = limit;
    printf("\n# %s scaling (%zu events, JSON)\n", title, ev.n);
    printf("%8s %12s %12s %12s\n", "rules", "json ev/s", "vs 1 rule", "matching");
    static const size_t ns[] = {1, 100, 10000};
    double base = 0;
    for (size_t s = 0; s < 3; s++) {
        size_t n = ns[s];
        zb_matcher_t *m = zb_matcher_new();
        for (size_t i = 0; i < n; i++) {
            char pat[1024];
            int pl = s_scaling_rule(pat, sizeof pat, shape, vals, nd, i, n);
            zb_matcher_error_t err;
            if (zb_matcher_add(m, i, ZB_FORMAT_JSON, pat, (size_t) pl, &err) != 0) {
                fprintf(stderr, "%s: %s\n", pat, err.message);
                return -1;
            }
        }
        size_t any = 0;
        if (s_pass(m, ctx, &ev, ZB_FORMAT_JSON, NULL, 0, &any) < 0)
            return -1;
        double rate = (double) ev.n / s_best(m, ctx, &ev, ZB_FORMAT_JSON, runs);
        if (s == 0)
            base = rate;
        printf("%8zu %12.0f %11.3fx %12zu\n", n, rate, rate / base, any);
        fflush(stdout);
        zb_matcher_destroy(&m);
    }
    return 0;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(int argc, char **argv)
{
    const char *data = "/tmp/citylots.jsonl";
    const char *rules = NULL;
    const char *only = NULL;
    int runs = 3;
    bool scaling = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
            rules = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--no-scaling") == 0)
            scaling = false;
        else if (strcmp(argv[i], "--json-only") == 0)
            s_json_only = true;
        else if (strcmp(argv[i], "--scaling-only") == 0)
            only = "-";
        else {
            fprintf(stderr, "usage: %s [--data F] [--rules F] [--runs N] [--only CAT] [--no-scaling] [--json-only] [--scaling-only]\n", argv[0]);
            return 2;
        }
    }
    if (!rules)
        rules = BENCH_RULES_DEFAULT;
    if (runs < 1)
        runs = 1;
    size_t rlen;
    char *rtext = s_slurp(rules, &rlen);
    if (!rtext) {
        fprintf(stderr, "cannot read %s\n", rules);
        return 2;
    }
    zb_json_error_t jerr;
    zb_json_doc_t *rdoc = zb_json_parse(rtext, rlen, &jerr);
    if (!rdoc) {
        fprintf(stderr, "%s: %s\n", rules, jerr.message);
        return 2;
    }
    s_events_t ev;
    char *keep = NULL;
    double t0 = s_now();
    if (s_load_events(data, &ev, &keep) != 0) {
        fprintf(stderr, "cannot load %s (generate it with gen_citylots.py, see README.md)\n", data);
        return 2;
    }
    printf("# %zu events loaded from %s in %.1f s; best of %d runs\n", ev.n, data, s_now() - t0, runs);
    printf("%-27s %12s %12s %10s %10s\n", "category", "json ev/s", "msgpack ev/s", "json/ruler", "mp/ruler");

    int failures = 0;
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    const zb_json_t *cats = zb_json_get(zb_json_root(rdoc), "categories");
    for (size_t c = 0; c < sizeof s_refs / sizeof s_refs[0]; c++) {
        if (only && strcmp(only, s_refs[c].name) != 0)
            continue;
        const zb_json_t *cat = zb_json_get(cats, s_refs[c].name);
        if (!cat)
            continue;
        const zb_json_t *pats = zb_json_get(cat, "patterns");
        const zb_json_t *exp = zb_json_get(cat, "expected_matches");
        zb_matcher_t *m = zb_matcher_new();
        size_t n_rules = 0;
        for (const zb_json_t *p = pats->child; p; p = p->next, n_rules++) {
            zb_matcher_error_t err;
            if (zb_matcher_add(m, n_rules, ZB_FORMAT_JSON, p->str, p->len, &err) != 0) {
                fprintf(stderr, "%s: %s\n", s_refs[c].name, err.message);
                return 1;
            }
        }
        double rate[2];
        rate[1] = 0;
        for (int f = 0; f < (s_json_only ? 1 : 2); f++) {
            zb_matcher_format_t fmt = f == 0 ? ZB_FORMAT_JSON : ZB_FORMAT_MSGPACK;
            size_t counts[16] = {0};
            if (s_pass(m, ctx, &ev, fmt, counts, 16, NULL) < 0)
                return 1;
            size_t i = 0;
            for (const zb_json_t *e = exp->child; e; e = e->next, i++) {
                if ((double) counts[i] != e->num) {
                    fprintf(stderr, "%s rule %zu (%s): %zu matches, expected %.0f\n", s_refs[c].name, i,
                            f == 0 ? "json" : "msgpack", counts[i], e->num);
                    failures++;
                }
            }
            double t = s_best(m, ctx, &ev, fmt, runs);
            rate[f] = (double) ev.n / t;
        }
        printf("%-27s %12.0f %12.0f %9.2fx %9.2fx\n", s_refs[c].name, rate[0], rate[1], rate[0] / s_refs[c].ruler,
               rate[1] / s_refs[c].ruler);
        fflush(stdout);
        zb_matcher_destroy(&m);
    }

    if (scaling && (!only || strcmp(only, "-") == 0)) {
        /* D = sorted distinct MAPBLKLOT values. */
        char **vals = malloc(ev.n * sizeof *vals);
        size_t nv = 0;
        for (size_t i = 0; i < ev.n; i++) {
            const char *k = strstr(ev.json[i], "\"MAPBLKLOT\":\"");
            if (!k)
                continue;
            k += 13;
            const char *q = strchr(k, '"');
            vals[nv] = malloc((size_t) (q - k) + 1);
            memcpy(vals[nv], k, (size_t) (q - k));
            vals[nv][q - k] = '\0';
            nv++;
        }
        qsort(vals, nv, sizeof *vals, s_cmp_str);
        size_t nd = 0;
        for (size_t i = 0; i < nv; i++)
            if (nd == 0 || strcmp(vals[nd - 1], vals[i]) != 0)
                vals[nd++] = vals[i];
            else
                free(vals[i]);
        const zb_json_t *sizes = zb_json_get(zb_json_get(zb_json_root(rdoc), "exact_scaling"), "sizes");
        printf("\n# EXACT scaling (%zu distinct MAPBLKLOT values)\n", nd);
        printf("%8s %12s %12s %12s %12s %12s\n", "rules", "json ev/s", "msgpack ev/s", "matching", "add ms",
               "bytes/rule");
        static const size_t ns[] = {1, 100, 10000, 100000};
        for (size_t s = 0; s < 4; s++) {
            size_t n = ns[s];
            zb_matcher_t *m = zb_matcher_new();
            size_t base = zb_matcher_memory(m);
            double a0 = s_now();
            for (size_t i = 0; i < n; i++) {
                char pat[128];
                int pl = snprintf(pat, sizeof pat, "{\"properties\":{\"MAPBLKLOT\":[\"%s\"]}}", vals[i * nd / n]);
                zb_matcher_error_t err;
                if (zb_matcher_add(m, i, ZB_FORMAT_JSON, pat, (size_t) pl, &err) != 0) {
                    fprintf(stderr, "%s\n", err.message);
                    return 1;
                }
            }
            double add_ms = (s_now() - a0) * 1e3;
            size_t bytes = zb_matcher_memory(m) - base;
            size_t any = 0;
            if (s_pass(m, ctx, &ev, ZB_FORMAT_JSON, NULL, 0, &any) < 0)
                return 1;
            char key[16];
            snprintf(key, sizeof key, "%zu", n);
            const zb_json_t *want = zb_json_get(zb_json_get(sizes, key), "matching_events");
            if (want && (double) any != want->num) {
                fprintf(stderr, "EXACT x%zu: %zu matching events, expected %.0f\n", n, any, want->num);
                failures++;
            }
            double tj = s_best(m, ctx, &ev, ZB_FORMAT_JSON, runs);
            double tm = s_json_only ? 1e30 : s_best(m, ctx, &ev, ZB_FORMAT_MSGPACK, runs);
            printf("%8zu %12.0f %12.0f %12zu %12.1f %12zu\n", n, (double) ev.n / tj, (double) ev.n / tm, any, add_ms,
                   bytes / n);
            fflush(stdout);
            zb_matcher_destroy(&m);
        }
        if (s_scaling_figure("ANYTHING_BUT (10 values per list)", S_ANYTHING_BUT, ctx, &ev, 20000, vals, nd,
                             runs) != 0 ||
            s_scaling_figure("WILDCARD (inner star)", S_INNER_STAR, ctx, &ev, 20000, vals, nd, runs) != 0 ||
            s_scaling_figure("WILDCARD (*...*, open at both ends)", S_CONTAINS, ctx, &ev, 20000, vals, nd, runs) !=
                0 ||
            s_scaling_figure("SHARED VALUE (\"type\": \"Feature\" in every rule, plus its own MAPBLKLOT)",
                             S_SHARED, ctx, &ev, 20000, vals, nd, runs) != 0)
            return 1;
        for (size_t i = 0; i < nd; i++)
            free(vals[i]);
        free(vals);
    }
    zb_match_ctx_destroy(&ctx);
    for (size_t i = 0; i < ev.n; i++)
        zb_buf_destroy(&ev.mp[i]);
    free(ev.mp);
    free(ev.json);
    free(ev.json_len);
    free(keep);
    free(rtext);
    zb_json_doc_destroy(&rdoc);
    if (failures) {
        fprintf(stderr, "%d expected counts differ\n", failures);
        return 1;
    }
    return 0;
}
