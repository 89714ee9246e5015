/*
 * fuzz_event_json.c — the JSON event reader on arbitrary bytes, against a
 * rule set using every operator. Differential: when the text is valid JSON
 * its msgpack form must match exactly the same rules.
 */
#include "fuzz_rules.h"
#include "json.h"
#include "zb_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zb_matcher_t *m;
    static zb_match_ctx_t *ctx;
    if (!m) {
        m = s_fuzz_matcher();
        ctx = zb_match_ctx_new();
    }
    zb_matcher_error_t err;
    const uint64_t *ids;
    int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, data, size, &ids, &err);
    if (n < 0)
        return 0;
    uint64_t a[64];
    if (n > 64)
        abort();
    if (n > 0)
        memcpy(a, ids, (size_t) n * sizeof *a);
    zb_buf_t *mp = zb_buf_new(size + 16);
    zb_json_error_t jerr;
    if (zb_json_to_msgpack((const char *) data, size, mp, &jerr) == 0) {
        int k = zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, mp->data, mp->len, &ids, &err);
        if (k >= 0) {
            uint64_t b[64];
            if (k != n)
                abort();
            memcpy(b, ids, (size_t) k * sizeof *b);
            s_sort_ids(a, n);
            s_sort_ids(b, k);
            if (memcmp(a, b, (size_t) n * sizeof *a) != 0)
                abort();
        }
    }
    zb_buf_destroy(&mp);
    return 0;
}
