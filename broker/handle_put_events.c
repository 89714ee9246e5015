/*
 * handle_put_events.c — PutEvents: entries in, one result per entry out.
 */
#include <string.h>

#include "handlers.h"
#include "ingest.h"

/* The most one entry's result takes: {"ErrorCode": code, "ErrorMessage":
 * message}, the message at most the error's buffer (the code's name is a
 * fixstr, {"EventId": id} far less). */
#define RESULT_MAX (64 + sizeof(((zb_proto_error_t *) 0)->message))

/* Precondition: b->now_ns and the time cache were stamped for this request
 * (ingest__start), and reply is empty. Every entry was read and checked
 * (ingest__entries) before the first is processed, and the reply's room
 * for every result is reserved before the first is accepted: once an
 * event is published, nothing can fail and answer the request as a whole
 * (a client retrying it would publish the event twice). The results are
 * written straight into the reply; FailedEntryCount, which comes before
 * them, is known only after them: it takes one byte (a positive fixint)
 * that is patched at the end, and the results move only for a count
 * above 127, which takes max-entries-per-request above 127. */
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
    /* FailedEntryCount with its placeholder, then Entries, pre-encoded. */
    static const char k_failed[] = "\xb0" "FailedEntryCount";
    static const char k_entries[] = "\xa7" "Entries";
    if (zb_reply_begin(reply, req, 2) == -1
        || zb_buf_reserve(reply, sizeof k_failed + sizeof k_entries + 8 + n * RESULT_MAX) == -1)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    /* From here on the reserve holds every write: none can fail. */
    zb_buf_append(reply, k_failed, sizeof k_failed - 1);
    size_t failed_at = reply->len;
    zb_buf_append(reply, "\0", 1);
    zb_buf_append(reply, k_entries, sizeof k_entries - 1);
    zb_mpk_put_array(reply, n);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < n; i++) {
        char id[ZB_UUID_LEN + 1];
        zb_proto_error_t eerr;
        if (ingest__entry(b, i, id, &eerr) == 0) {
            /* {"EventId": id} with its constant bytes pre-encoded, written
             * straight into the room reserved above. */
            static const char head[] = "\x81\xa7" "EventId" "\xd9" "\x24";
            _Static_assert(ZB_UUID_LEN == 0x24, "EventId is a str 8 of 36 bytes");
            char *o = reply->data + reply->len;
            memcpy(o, head, sizeof head - 1);
            memcpy(o + sizeof head - 1, id, ZB_UUID_LEN);
            reply->len += sizeof head - 1 + ZB_UUID_LEN;
            reply->data[reply->len] = '\0';
        }
        else {
            failed++;
            zb_mpk_put_map(reply, 2);
            zb_put_cstr(reply, "ErrorCode");
            zb_put_cstr(reply, zb_error_code_name(eerr.code));
            zb_put_cstr(reply, "ErrorMessage");
            zb_put_cstr(reply, eerr.message);
        }
    }
    b->entries_count += n;
    b->failed_entries += failed;
    if (failed < 0x80) {
        reply->data[failed_at] = (char) failed;
        return 0;
    }
    /* A uint 8 or uint 16 (at most ZB_MAX_ENTRIES_PER_REQUEST), as
     * zb_mpk_put_uint writes it, in place of the byte; the reserve holds
     * the bytes it adds. */
    _Static_assert(ZB_MAX_ENTRIES_PER_REQUEST <= 0xffff, "FailedEntryCount fits a uint 16");
    char count[3];
    size_t len = 0;
    if (failed <= 0xff)
        count[len++] = (char) 0xcc;
    else {
        count[len++] = (char) 0xcd;
        count[len++] = (char) (failed >> 8);
    }
    count[len++] = (char) failed;
    memmove(reply->data + failed_at + len, reply->data + failed_at + 1,
            reply->len - failed_at); /* the results and the NUL after them */
    memcpy(reply->data + failed_at, count, len);
    reply->len += len - 1;
    return 0;
}
