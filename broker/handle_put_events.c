/*
 * handle_put_events.c — PutEvents: entries in, one result per entry out.
 */
#include <string.h>

#include "handlers.h"
#include "ingest.h"

/* Precondition: b->now_ns and the time cache were stamped for this request
 * (ingest__clock). Every entry was read and checked (ingest__entries)
 * before the first is processed. The entries' replies are collected in
 * b->entries first because FailedEntryCount comes before them in the reply
 * map. */
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
    zb_buf_reset(b->entries);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < n; i++) {
        char id[ZB_UUID_LEN + 1];
        zb_proto_error_t eerr;
        if (ingest__entry(b, i, id, &eerr) == 0) {
            /* {"EventId": id} with its constant bytes pre-encoded: one
             * append per accepted entry. */
            static const char head[] = "\x81\xa7" "EventId" "\xd9" "\x24";
            _Static_assert(ZB_UUID_LEN == 0x24, "EventId is a str 8 of 36 bytes");
            if (zb_buf_reserve(b->entries, sizeof head - 1 + ZB_UUID_LEN) == 0) {
                memcpy(b->entries->data + b->entries->len, head, sizeof head - 1);
                memcpy(b->entries->data + b->entries->len + sizeof head - 1, id, ZB_UUID_LEN);
                b->entries->len += sizeof head - 1 + ZB_UUID_LEN;
                b->entries->data[b->entries->len] = '\0';
            }
        }
        else {
            failed++;
            zb_mpk_put_map(b->entries, 2);
            zb_put_cstr(b->entries, "ErrorCode");
            zb_put_cstr(b->entries, zb_error_code_name(eerr.code));
            zb_put_cstr(b->entries, "ErrorMessage");
            zb_put_cstr(b->entries, eerr.message);
        }
    }
    b->entries_count += n;
    b->failed_entries += failed;
    static const char k_failed[] = "\xb0" "FailedEntryCount", k_entries[] = "\xa7" "Entries";
    if (zb_reply_begin(reply, req, 2) == -1
        || zb_buf_append(reply, k_failed, sizeof k_failed - 1) == -1
        || zb_mpk_put_uint(reply, failed) == -1
        || zb_buf_append(reply, k_entries, sizeof k_entries - 1) == -1
        || zb_mpk_put_array(reply, n) == -1
        || zb_buf_append(reply, b->entries->data, b->entries->len) == -1)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    return 0;
}
