/*
 * handle_test_event_pattern.c — TestEventPattern: one pattern, one event,
 * matched by a throw-away matcher (control path: allocation is fine).
 */
#include <string.h>

#include "handlers.h"

int handle__test_event_pattern(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                               zb_proto_error_t *err)
{
    const char *pattern;
    uint32_t plen;
    if (zb_map_require_str(&req->map, "EventPattern", true, &pattern, &plen, err) == -1)
        return -1;
    const zb_field_t *f = zb_map_get(&req->map, "Event");
    if (!f)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Event is not valid. Reason: Event is a required "
                             "argument.");
    zb_matcher_format_t fmt = ZB_FORMAT_MSGPACK;
    const void *event = f->val;
    size_t elen = f->val_len;
    zb_mpk_t c;
    zb_mpk_init(&c, f->val, f->val_len);
    const char *s;
    uint32_t slen;
    if (zb_mpk_read_str(&c, &s, &slen) == 0) {
        fmt = ZB_FORMAT_JSON;
        event = s;
        elen = slen;
    }
    else if (zb_mpk_peek(&c) != ZB_MPK_MAP)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Event is not valid. Reason: Event must be a JSON object "
                             "or a map.");
    zb_matcher_t *m = zb_matcher_new();
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    if (!m || !ctx) {
        zb_matcher_destroy(&m);
        zb_match_ctx_destroy(&ctx);
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    }
    zb_matcher_error_t merr;
    memset(&merr, 0, sizeof merr);
    int rc = -1;
    if (zb_matcher_add(m, 1, ZB_FORMAT_JSON, pattern, plen, &merr) == -1)
        zb_proto_fail(err, ZB_ERR_INVALID_PATTERN, "%s", merr.message);
    else {
        const uint64_t *ids;
        int n = zb_matcher_match(m, ctx, fmt, event, elen, &ids, &merr);
        if (n == -1)
            zb_proto_fail(err, ZB_ERR_VALIDATION, "Parameter Event is not valid. Reason: %s",
                          merr.message);
        else {
            zb_reply_begin(reply, req, 1);
            zb_put_cstr(reply, "Result");
            zb_mpk_put_bool(reply, n > 0);
            rc = 0;
        }
    }
    zb_matcher_destroy(&m);
    zb_match_ctx_destroy(&ctx);
    return rc;
}
