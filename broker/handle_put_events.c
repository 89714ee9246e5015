/*
 * handle_put_events.c — PutEvents: entries in, one result per entry out.
 */
#include <string.h>

#include "handlers.h"
#include "ingest.h"

/* Precondition: b->now_ns and the time cache were stamped for this request
 * (ingest__clock), and reply is empty. Every entry was read and checked
 * (ingest__entries) before the first is processed. The entries' results
 * are written straight into the reply; FailedEntryCount, which comes
 * before them, is known only after them: it takes one byte (a positive
 * fixint) that is patched at the end, and the results move only for a
 * count above 127, which takes max-entries-per-request above 127. */
int handle__put_events(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                       zb_proto_error_t *err)
{
    b->put_events_requests++;
    const zb_field_t *f = zb_map_get(&req->map, "Entries");
    if (!f)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Entries is not valid. Reason: Entries is a required "
                             "argument.");
    zb_mpk_t c;
    uint32_t n;
    zb_mpk_init(&c, f->val, f->val_len);
    if (zb_mpk_read_array(&c, &n) == -1)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Entries is not valid. Reason: Entries must be an array.");
    if (n == 0)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "1 validation error detected: Value '[]' at 'entries' failed to "
                             "satisfy constraint: Member must have length greater than or equal "
                             "to 1");
    if ((int64_t) n > b->cfg->limits.max_entries)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "1 validation error detected: Value at 'entries' failed to satisfy "
                             "constraint: Member must have length less than or equal to %lld "
                             "(max-entries-per-request)",
                             (long long) b->cfg->limits.max_entries);
    if (ingest__entries(b, f->val, f->val_len) == -1)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    /* FailedEntryCount with its byte, then Entries, pre-encoded: one
     * reserve (room for the largest array header too). */
    static const char k_head[] = "\xb0" "FailedEntryCount" "\0" "\xa7" "Entries";
    if (zb_reply_begin(reply, req, 2) == -1 || zb_buf_reserve(reply, sizeof k_head - 1 + 5) == -1)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    memcpy(reply->data + reply->len, k_head, sizeof k_head - 1);
    size_t failed_at = reply->len + 17;
    reply->len += sizeof k_head - 1;
    if (n < 16) {
        reply->data[reply->len++] = (char) (0x90 | n); /* fixarray */
        reply->data[reply->len] = '\0';
    }
    else if (zb_mpk_put_array(reply, n) == -1)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    uint32_t failed = 0;
    int oom = 0;
    for (uint32_t i = 0; i < n; i++) {
        char id[ZB_UUID_LEN + 1];
        zb_proto_error_t eerr;
        if (ingest__entry(b, i, id, &eerr) == 0) {
            /* {"EventId": id} with its constant bytes pre-encoded: one
             * reserve per accepted entry. */
            static const char head[] = "\x81\xa7" "EventId" "\xd9" "\x24";
            _Static_assert(ZB_UUID_LEN == 0x24, "EventId is a str 8 of 36 bytes");
            if (zb_buf_reserve(reply, sizeof head - 1 + ZB_UUID_LEN) == -1) {
                oom = 1;
                continue;
            }
            memcpy(reply->data + reply->len, head, sizeof head - 1);
            memcpy(reply->data + reply->len + sizeof head - 1, id, ZB_UUID_LEN);
            reply->len += sizeof head - 1 + ZB_UUID_LEN;
            reply->data[reply->len] = '\0';
        }
        else {
            failed++;
            oom |= zb_mpk_put_map(reply, 2) | zb_put_cstr(reply, "ErrorCode")
                   | zb_put_cstr(reply, zb_error_code_name(eerr.code))
                   | zb_put_cstr(reply, "ErrorMessage") | zb_put_cstr(reply, eerr.message);
        }
    }
    b->entries_count += n;
    b->failed_entries += failed;
    if (oom)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    if (failed < 0x80) {
        reply->data[failed_at] = (char) failed;
        return 0;
    }
    /* The count as zb_mpk_put_uint writes it, in place of its byte. */
    zb_buf_reset(b->entries);
    if (zb_mpk_put_uint(b->entries, failed) == -1
        || zb_buf_reserve(reply, b->entries->len - 1) == -1)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    memmove(reply->data + failed_at + b->entries->len, reply->data + failed_at + 1,
            reply->len - failed_at); /* the results and the NUL after them */
    memcpy(reply->data + failed_at, b->entries->data, b->entries->len);
    reply->len += b->entries->len - 1;
    return 0;
}
