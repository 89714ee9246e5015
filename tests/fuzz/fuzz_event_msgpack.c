/*
 * fuzz_event_msgpack.c — the msgpack event reader on arbitrary bytes
 * against a rule set using every operator, plus the msgpack -> JSON
 * transcoder on the same bytes.
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
    int n = zb_matcher_match(m, ctx, ZB_FORMAT_MSGPACK, data, size, &ids, &err);
    if (n > (int) (sizeof s_rules / sizeof s_rules[0]))
        abort();
    zb_buf_t *js = zb_buf_new(size * 2 + 16);
    zb_json_error_t jerr;
    if (zb_msgpack_to_json(data, size, js, &jerr) == 0) {
        /* what we print must read back as JSON */
        zb_json_doc_t *doc = zb_json_parse(js->data, js->len, &jerr);
        if (!doc && !strstr(jerr.message, "nesting"))
            abort();
        zb_json_doc_destroy(&doc);
    }
    zb_buf_destroy(&js);
    return 0;
}
