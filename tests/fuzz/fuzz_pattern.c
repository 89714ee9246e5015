/*
 * fuzz_pattern.c — the pattern compiler on arbitrary bytes: as JSON text,
 * and (when it is JSON) as msgpack. A pattern that compiles is added,
 * matched against a few events, replaced and removed, so installation and
 * removal run too. Both forms must agree on validity.
 */
#include "json.h"
#include "matcher.h"
#include "zb_buf.h"

#include <stdlib.h>
#include <string.h>

static const char *s_events[] = {
    "{\"a\":\"x\",\"b\":[1,2,{\"c\":null}],\"detail\":{\"state\":\"on\",\"n\":3.5}}",
    "{\"a\":[\"abc\",\"ABC\",\"10.0.0.1\"],\"b\":{\"c\":[true,false]},\"x\":[[1],[\"y\"]]}",
    "{}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zb_matcher_error_t err;
    int check = zb_pattern_check(ZB_FORMAT_JSON, data, size, &err);
    zb_matcher_t *m = zb_matcher_new();
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    int added = zb_matcher_add(m, 7, ZB_FORMAT_JSON, data, size, &err);
    if ((check == 0) != (added == 0))
        abort();
    if (added == 0) {
        for (size_t i = 0; i < sizeof s_events / sizeof s_events[0]; i++) {
            const uint64_t *ids;
            int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, s_events[i], strlen(s_events[i]), &ids, &err);
            if (n < 0 || n > 1 || (n == 1 && ids[0] != 7))
                abort();
        }
        /* replace with itself, then remove: the matcher must end empty */
        if (zb_matcher_add(m, 7, ZB_FORMAT_JSON, data, size, &err) != 0 || zb_matcher_size(m) != 1)
            abort();
        if (zb_matcher_remove(m, 7) != 0 || zb_matcher_size(m) != 0)
            abort();
    }
    zb_buf_t *mp = zb_buf_new(size + 16);
    zb_json_error_t jerr;
    if (zb_json_to_msgpack((const char *) data, size, mp, &jerr) == 0) {
        int mcheck = zb_pattern_check(ZB_FORMAT_MSGPACK, mp->data, mp->len, &err);
        /* JSON -> msgpack -> JSON loses only number spelling (a literal
         * that overflows a double becomes inf, which has no JSON form). */
        if (check == 0 && mcheck != 0 && !strstr(err.message, "NaN or infinity"))
            abort();
    }
    zb_buf_destroy(&mp);
    zb_match_ctx_destroy(&ctx);
    zb_matcher_destroy(&m);
    return 0;
}
