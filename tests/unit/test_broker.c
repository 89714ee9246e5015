/*
 * test_broker.c — the broker's request path in-process (no sockets), and
 * the target ABI as a plugin sees it: a kind registered through the host
 * receives the envelope once per matching (rule, target), and failures it
 * reports are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"
#include "bus.h"
#include "ingest.h"
#include "outbox.h"

static char s_path[64];
static zb_broker_t *s_b;

/* ---- a plugin-style target kind that records what it is given ------------- */

static int s_opened, s_closed, s_delivered;
static char s_topic[128];
static zb_envelope_view_t s_env;
static uint8_t s_env_copy[4096];

static int s_open(void *pd, const zb_target_config_t *c, void **t, char *err, size_t errlen)
{
    if (c->endpoint && strcmp(c->endpoint, "refuse") == 0) {
        snprintf(err, errlen, "refused by the plugin");
        return -1;
    }
    s_opened++;
    *t = pd;
    return 0;
}

static zb_deliver_result_t s_deliver(void *t, const zb_event_t *ev)
{
    s_delivered++;
    snprintf(s_topic, sizeof s_topic, "%.*s", (int) ev->topic_len, ev->topic);
    memcpy(s_env_copy, ev->envelope, ev->envelope_len);
    zb_envelope_decode(&s_env, s_env_copy, ev->envelope_len);
    assert_int_equal(ev->attempt, 1);
    return ZB_DELIVER_OK;
}

static void s_close(void *pd, void **t)
{
    s_closed++;
    *t = NULL;
}

static const zb_target_ops_t s_ops = {
    .size = sizeof s_ops, .type = "record", .open = s_open, .deliver = s_deliver,
    .close = s_close,
};

/* ---- helpers -------------------------------------------------------------------- */

static int s_setup(void **state)
{
    snprintf(s_path, sizeof s_path, "/tmp/zb-test-broker-%d.yaml", (int) getpid());
    FILE *f = fopen(s_path, "w");
    fputs("broker:\n  listen: inproc://test-broker\n"
          "buses:\n  - name: orders\n    rules:\n      - name: big\n"
          "        event-pattern: {detail: {amount: [{numeric: ['>', 100]}]}}\n",
          f);
    fclose(f);
    s_b = broker__new(s_path, "/nonexistent-dir/x.state", false);
    assert_non_null(s_b);
    assert_int_equal(s_b->host.register_target_kind(&s_b->host, &s_ops, NULL), 0);
    /* a second kind with the same name is refused */
    assert_int_equal(s_b->host.register_target_kind(&s_b->host, &s_ops, NULL), -1);
    s_opened = s_closed = s_delivered = 0;
    return 0;
}

static int s_teardown(void **state)
{
    broker__destroy(&s_b);
    unlink(s_path);
    return 0;
}

/* Sends a request built from a printf-free list of string pairs plus an
 * optional raw tail, returns the decoded reply map. */
static zb_map_t s_reply;
static zb_proto_error_t s_err;

static void s_send(zb_buf_t *req)
{
    broker__handle(s_b, req->data, req->len);
    broker__flush(s_b); /* as the event loop does before replying */
    assert_int_equal(zb_reply_decode(&s_reply, s_b->reply->data, s_b->reply->len, &s_err), 0);
}

static void s_put_targets(const char *endpoint)
{
    zb_buf_t *r = zb_buf_new(128);
    zb_request_begin(r, ZB_ACTION_PUT_TARGETS, 3, NULL, 0);
    zb_put_cstr(r, "Rule");
    zb_put_cstr(r, "big");
    zb_put_cstr(r, "EventBusName");
    zb_put_cstr(r, "orders");
    zb_put_cstr(r, "Targets");
    zb_mpk_put_array(r, 1);
    zb_mpk_put_map(r, 4);
    zb_put_cstr(r, "Id");
    zb_put_cstr(r, "rec");
    zb_put_cstr(r, "Type");
    zb_put_cstr(r, "record");
    zb_put_cstr(r, "Endpoint");
    zb_put_cstr(r, endpoint);
    zb_put_cstr(r, "Topic");
    zb_put_cstr(r, "{bus}/{detail-type}");
    s_send(r);
    zb_buf_destroy(&r);
}

/* Writes a PutEvents request of one entry with `nfields` fields: Source
 * shop, DetailType Big, EventBusName orders, then the key Detail, whose
 * value (and any further fields) the caller appends. */
/* An entry map of nfields fields: Source (under the key source_key),
 * DetailType and EventBusName "orders" written, the key "Detail" last,
 * its value left to the caller. */
static void s_entry_head_keyed(zb_buf_t *r, uint32_t nfields, const char *source_key)
{
    zb_mpk_put_map(r, nfields);
    zb_put_cstr(r, source_key);
    zb_put_cstr(r, "shop");
    zb_put_cstr(r, "DetailType");
    zb_put_cstr(r, "Big");
    zb_put_cstr(r, "EventBusName");
    zb_put_cstr(r, "orders");
    zb_put_cstr(r, "Detail");
}

static void s_entry_head(zb_buf_t *r, uint32_t nfields)
{
    s_entry_head_keyed(r, nfields, "Source");
}

static void s_begin_entry(zb_buf_t *r, uint32_t nfields)
{
    zb_request_begin(r, ZB_ACTION_PUT_EVENTS, 1, NULL, 0);
    zb_put_cstr(r, "Entries");
    zb_mpk_put_array(r, 1);
    s_entry_head(r, nfields);
}

static void s_put_event(int amount)
{
    zb_buf_t *r = zb_buf_new(128);
    s_begin_entry(r, 4);
    zb_buf_t *d = zb_buf_new(32);
    zb_buf_appendf(d, "{\"amount\": %d}", amount);
    zb_mpk_put_str(r, d->data, d->len);
    zb_buf_destroy(&d);
    s_send(r);
    zb_buf_destroy(&r);
}

static uint64_t s_uint(const zb_map_t *m, const char *key)
{
    int64_t v = -1;
    assert_int_equal(zb_map_get_int(m, key, &v), 0);
    return (uint64_t) v;
}

/* ---- tests ----------------------------------------------------------------------- */

static void a_registered_kind_receives_each_matching_event_once(void **state)
{
    s_put_targets("anything:goes");
    assert_int_equal(s_err.code, ZB_OK);
    assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), 0);
    assert_int_equal(s_opened, 1);
    s_put_event(500);
    s_put_event(5);
    assert_int_equal(s_delivered, 1);
    assert_string_equal(s_topic, "orders/Big");
    assert_memory_equal(s_env.source, "shop", 4);
    assert_memory_equal(s_env.detail_type, "Big", 3);
}

static void a_failure_reported_later_is_counted(void **state)
{
    s_put_targets("x");
    s_put_event(500);
    s_b->host.report_failure(&s_b->host, "orders", "big", "rec", "connection lost");
    s_b->host.report_failure(&s_b->host, "orders", "gone", "rec", "ignored");
    zb_buf_t *r = zb_buf_new(32);
    zb_request_begin(r, ZB_ACTION_GET_METRICS, 0, NULL, 0);
    s_send(r);
    zb_buf_destroy(&r);
    const zb_field_t *buses = zb_map_get(&s_reply, "Buses");
    assert_non_null(buses);
    /* the raw reply names FailedInvocations 1 for the bus, the rule and the target */
    const char *hay = s_b->reply->data;
    size_t n = s_b->reply->len, hits = 0;
    const char needle[] = "\xb1" "FailedInvocations\x01";
    for (size_t i = 0; i + sizeof needle - 1 <= n; i++)
        if (memcmp(hay + i, needle, sizeof needle - 1) == 0)
            hits++;
    assert_int_equal(hits, 3);
}

static void a_plugin_refusal_is_a_failed_entry_and_replacing_closes_the_old_target(void **state)
{
    s_put_targets("first");
    s_put_targets("refuse");
    assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), 1);
    assert_int_equal(s_opened, 1);
    assert_int_equal(s_closed, 0);
    s_put_targets("second");
    assert_int_equal(s_opened, 2);
    assert_int_equal(s_closed, 1);
}

static void detail_check_accepts_json_shaped_maps_only(void **state)
{
    const uint8_t ok[] = { 0x81, 0xa1, 'a', 0x92, 0x01, 0xc0 };
    const uint8_t int_key[] = { 0x81, 0x01, 0x01 };
    const uint8_t bin[] = { 0x81, 0xa1, 'a', 0xc4, 0x01, 0x00 };
    const uint8_t bad_utf8[] = { 0x81, 0xa1, 'a', 0xa1, 0xff };
    const uint8_t nan[] = { 0x81, 0xa1, 'a', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0 };
    const uint8_t array[] = { 0x90 };
    assert_int_equal(ingest__check_detail(ok, sizeof ok), 0);
    assert_int_equal(ingest__check_detail(ok, sizeof ok - 1), -1);
    assert_int_equal(ingest__check_detail(int_key, sizeof int_key), -1);
    assert_int_equal(ingest__check_detail(bin, sizeof bin), -1);
    assert_int_equal(ingest__check_detail(bad_utf8, sizeof bad_utf8), -1);
    assert_int_equal(ingest__check_detail(nan, sizeof nan), -1);
    assert_int_equal(ingest__check_detail(array, sizeof array), -1);
    /* UTF-8 in keys and values, short and long, valid or not */
    const uint8_t utf8_ok[] = { 0x81, 0xa2, 0xc3, 0xa9, 0xac, 'a', 'b', 'c', 'd', 'e', 'f',
                                'g', 'h', 'i', 0xe2, 0x82, 0xac };
    const uint8_t utf8_bad_tail[] = { 0x81, 0xa1, 'k', 0xab, 'a', 'b', 'c', 'd', 'e', 'f',
                                      'g', 'h', 'i', 'j', 0xc3 };
    const uint8_t utf8_bad_key[] = { 0x81, 0xa2, 'k', 0x80, 0xc0 };
    assert_int_equal(ingest__check_detail(utf8_ok, sizeof utf8_ok), 0);
    assert_int_equal(ingest__check_detail(utf8_bad_tail, sizeof utf8_bad_tail), -1);
    assert_int_equal(ingest__check_detail(utf8_bad_key, sizeof utf8_bad_key), -1);
    uint8_t deep[200];
    for (int i = 0; i < 199; i++)
        deep[i] = i % 2 ? 0x91 : 0x81;
    deep[199] = 0x80;
    assert_int_equal(ingest__check_detail(deep, sizeof deep), -1);
    /* every integer kind, whole and followed by more, or cut short at the end */
    static const uint8_t int_size[8] = { 2, 3, 5, 9, 2, 3, 5, 9 }; /* 0xcc .. 0xd3 */
    for (int k = 0; k < 8; k++) {
        uint8_t d[32] = { 0x82, 0xa1, 'k', (uint8_t) (0xcc + k) };
        size_t at = 3 + int_size[k];
        memcpy(d + at, "\xa8zzzzzzzz\x01", 10);
        assert_int_equal(ingest__check_detail(d, at + 10), 0);
        d[0] = 0x81;
        assert_int_equal(ingest__check_detail(d, at), 0);
        assert_int_equal(ingest__check_detail(d, at - 1), -1);
    }
}

/* Sends PutEvents with one entry of `extra` junk keys after Source,
 * DetailType, EventBusName and Detail, then the pair tail_key: tail_val
 * (raw msgpack) when tail_key is not NULL. Returns the entry's ErrorCode,
 * or "" when it was accepted. */
static const char *s_put_entry(int extra, const char *tail_key, const char *tail_val,
                               size_t tail_len)
{
    static char code[64];
    zb_buf_t *r = zb_buf_new(1024);
    s_begin_entry(r, (uint32_t) (4 + extra + (tail_key ? 1 : 0)));
    zb_put_cstr(r, "{\"amount\": 500}");
    for (int i = 0; i < extra; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%02d", i);
        zb_put_cstr(r, k);
        zb_mpk_put_nil(r);
    }
    if (tail_key) {
        zb_put_cstr(r, tail_key);
        zb_buf_append(r, tail_val, tail_len);
    }
    s_send(r);
    zb_buf_destroy(&r);
    zb_map_t entry;
    const zb_field_t *entries = zb_map_get(&s_reply, "Entries");
    assert_non_null(entries);
    assert_int_equal(zb_map_decode(&entry, entries->val + 1, entries->val_len - 1, NULL), 0);
    const char *s;
    uint32_t n;
    code[0] = '\0';
    if (zb_map_get_str(&entry, "ErrorCode", &s, &n) == 0)
        snprintf(code, sizeof code, "%.*s", (int) n, s);
    return code;
}

static void entry_fields_last_value_wins_and_keys_past_the_field_table_are_dropped(void **state)
{
    s_put_targets("x");
    /* a repeated key: its last value counts */
    assert_string_equal(s_put_entry(0, "Source", "\x05", 1), "InvalidArgument");
    assert_string_equal(s_put_entry(0, "Source", "\xa4shop", 5), "");
    assert_string_equal(s_put_entry(0, "Time", "\x05", 1), "InvalidArgument");
    /* nil counts as absent */
    assert_string_equal(s_put_entry(0, "Time", "\xc0", 1), "");
    /* 32 distinct keys are kept, later new ones dropped (as by zb_map_decode),
     * while a repeated key still overwrites its slot */
    assert_string_equal(s_put_entry(27, "Time", "\x05", 1), "InvalidArgument");
    assert_string_equal(s_put_entry(28, "Time", "\x05", 1), "");
    assert_string_equal(s_put_entry(40, "Source", "\x05", 1), "InvalidArgument");
    assert_int_equal(s_delivered, 3);
}

/* A byte that is not ASCII is found whatever the string's length and
 * its place in it, with the string at the very end of what is read (where
 * a short one cannot be loaded as a whole word) or followed by more: an
 * invalid one refuses the string, a valid sequence does not. In an
 * entry's Source, and in a Detail's values and keys. */
static void strings_are_utf8_checked_at_every_length_and_position(void **state)
{
    for (size_t n = 1; n <= 24; n++)
        for (size_t pos = 0; pos < n; pos++)
            for (int valid = 0; valid < 2; valid++) {
                if (valid && pos + 1 == n)
                    continue; /* no room for the two bytes of e-acute */
                uint8_t raw[32];
                raw[0] = (uint8_t) (0xa0 | n);
                memset(raw + 1, 'a', n);
                if (valid) {
                    raw[1 + pos] = 0xc3;
                    raw[2 + pos] = 0xa9;
                }
                else
                    raw[1 + pos] = 0xff;
                assert_string_equal(s_put_entry(0, "Source", (const char *) raw, 1 + n),
                                    valid ? "" : "InvalidArgument");
                uint8_t detail[64] = { 0x81, 0xa1, 'k' };
                memcpy(detail + 3, raw, 1 + n);
                assert_int_equal(ingest__check_detail(detail, 4 + n), valid ? 0 : -1);
                /* and followed by more, as a value and as a key */
                static const uint8_t more[] = "\xa8zzzzzzzz\x01";
                detail[0] = 0x82;
                memcpy(detail + 4 + n, more, sizeof more - 1);
                assert_int_equal(ingest__check_detail(detail, 4 + n + sizeof more - 1),
                                 valid ? 0 : -1);
                memcpy(detail + 1, raw, 1 + n);
                detail[2 + n] = 0x01;
                memcpy(detail + 3 + n, more, sizeof more - 1);
                assert_int_equal(ingest__check_detail(detail, 3 + n + sizeof more - 1),
                                 valid ? 0 : -1);
            }
}

/* Builds an envelope whose id is `id` in place in the outbox; returns a
 * copy of its bytes in *copy (caller frees). */
static size_t s_build_envelope(const char *id, uint8_t **copy)
{
    zb_buf_t *out = outbox__envelope_begin(s_b->outbox);
    zb_envelope_t env = { .id = id, .detail_type = "t", .detail_type_len = 1, .source = "s",
                          .source_len = 1, .account = "a", .account_len = 1,
                          .time = "2026-01-31T12:00:00Z", .region = "r", .region_len = 1 };
    assert_int_equal(zb_envelope_begin(out, &env), 0);
    assert_int_equal(zb_buf_append_byte(out, 0x80), 0);
    size_t len;
    const char *p = outbox__envelope(s_b->outbox, &len);
    *copy = malloc(len);
    memcpy(*copy, p, len);
    return len;
}

static void an_envelope_built_in_the_outbox_survives_a_flush_and_is_kept_only_while_staged(
    void **state)
{
    s_put_targets("x");
    zb_bus_t *bus = registry__bus(s_b->reg, "orders", 6);
    zb_rule_t *rule = bus__rule(bus, "big", 3);
    zb_target_t *t = rule->targets[0];
    const char *id_a = "0190a0b0-0000-7000-8000-00000000000a";
    const char *id_b = "0190a0b0-0000-7000-8000-00000000000b";
    uint8_t *a, *b2;
    /* A: staged for one delivery */
    s_build_envelope(id_a, &a);
    assert_int_equal(outbox__stage(s_b->outbox, id_a, 0, bus, rule, t, "ta", 2), 0);
    outbox__envelope_end(s_b->outbox);
    /* B: staged, then the outbox is flushed while B is still being built
     * (what staging does when memory runs out) */
    size_t len_b = s_build_envelope(id_b, &b2);
    assert_int_equal(outbox__stage(s_b->outbox, id_b, 0, bus, rule, t, "tb", 2), 0);
    outbox__flush(s_b->outbox, s_b);
    assert_int_equal(s_delivered, 2);
    assert_string_equal(s_topic, "tb");
    assert_memory_equal(s_env.id, id_b, ZB_UUID_LEN);
    size_t len;
    const char *p = outbox__envelope(s_b->outbox, &len);
    assert_int_equal(len, len_b);
    assert_memory_equal(p, b2, len_b);
    outbox__envelope_end(s_b->outbox);
    /* C: never staged, so dropped; B, whose event was delivered by the
     * flush, was dropped at its end: C starts where B was */
    free(a);
    s_build_envelope(id_a, &a);
    assert_ptr_equal(outbox__envelope(s_b->outbox, &len), p);
    outbox__envelope_end(s_b->outbox);
    assert_int_equal(outbox__bytes(s_b->outbox), 0);
    outbox__flush(s_b->outbox, s_b);
    assert_int_equal(s_delivered, 2);
    free(a);
    free(b2);
}

/* FailedEntryCount is written before the results it counts: past 127 it
 * takes more than one byte, and the results after it stay whole. */
static void put_events_counts_failed_entries_past_one_byte_before_their_results(void **state)
{
    s_b->cfg->limits.max_entries = 300;
    static const uint32_t fails[] = { 0, 127, 128, 255, 256 };
    for (size_t k = 0; k < sizeof fails / sizeof *fails; k++) {
        uint32_t nfail = fails[k];
        zb_buf_t *r = zb_buf_new(4096);
        zb_request_begin(r, ZB_ACTION_PUT_EVENTS, 1, "\x05", 1);
        zb_put_cstr(r, "Entries");
        zb_mpk_put_array(r, nfail + 2);
        /* one accepted entry first and last, failed ones (not maps) between */
        for (uint32_t i = 0; i < nfail + 2; i++) {
            if (i > 0 && i <= nfail) {
                zb_mpk_put_uint(r, i);
                continue;
            }
            s_entry_head(r, 4);
            zb_put_cstr(r, "{\"amount\": 1}");
        }
        s_send(r);
        zb_buf_destroy(&r);
        assert_int_equal(s_err.code, ZB_OK);
        assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), nfail);
        assert_int_equal(s_uint(&s_reply, "RequestId"), 5);
        /* the same bytes the encoder writes for the count */
        zb_buf_t *want = zb_buf_new(16);
        zb_mpk_put_uint(want, nfail);
        const zb_field_t *fc = zb_map_get(&s_reply, "FailedEntryCount");
        assert_int_equal(fc->val_len, want->len);
        assert_memory_equal(fc->val, want->data, want->len);
        zb_buf_destroy(&want);
        const zb_field_t *e = zb_map_get(&s_reply, "Entries");
        assert_non_null(e);
        zb_mpk_t c;
        uint32_t n;
        zb_mpk_init(&c, e->val, e->val_len);
        assert_int_equal(zb_mpk_read_array(&c, &n), 0);
        assert_int_equal(n, nfail + 2);
        for (uint32_t i = 0; i < n; i++) {
            zb_map_t m;
            const uint8_t *at = c.p;
            assert_int_equal(zb_mpk_skip(&c, 8), 0);
            assert_int_equal(zb_map_decode(&m, at, (size_t) (c.p - at), NULL), 0);
            bool ok = i == 0 || i == n - 1;
            assert_int_equal(zb_map_get(&m, ok ? "EventId" : "ErrorCode") != NULL, true);
        }
        assert_true(zb_mpk_at_end(&c));
    }
}

/* Writes one entry for bus orders: amount 500 (it matches) and Source
 * "shop", or, when bad, the same bytes but for the key Xource in place of
 * Source (that entry's InvalidArgument: Source is missing). */
static void s_orders_entry(zb_buf_t *r, bool bad)
{
    s_entry_head_keyed(r, 4, bad ? "Xource" : "Source");
    zb_put_cstr(r, "{\"amount\": 500}");
}

/* Entries the decoder did not read (after an Action naming another
 * action, which a repeated Action then makes PutEvents) are read by the
 * handler, and an earlier request's entries, read where this one's now
 * lie, are never taken for them. */
static void entries_the_decoder_left_are_read_and_never_an_earlier_requests(void **state)
{
    s_put_targets("x");
    zb_buf_t *r = zb_buf_new(256);
    zb_mpk_put_map(r, 3);
    zb_put_cstr(r, "Action");
    zb_put_cstr(r, "ListRules");
    zb_put_cstr(r, "Entries");
    zb_mpk_put_array(r, 1);
    s_orders_entry(r, false);
    zb_put_cstr(r, "Action");
    zb_put_cstr(r, "PutEvents");
    s_send(r);
    assert_int_equal(s_err.code, ZB_OK);
    assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), 0);
    assert_int_equal(s_delivered, 1);
    zb_buf_reset(r);
    /* A: its good entry is read while decoding, then a last Action names
     * no action, so nothing takes it. B, in the same bytes, holds its bad
     * entry at the same offset, after an Action naming ListRules (as long
     * as A's first) and before its Action PutEvents: A's entry, taken for
     * it, would find "shop" where its Source was. */
    zb_mpk_put_map(r, 3);
    zb_put_cstr(r, "Action");
    zb_put_cstr(r, "PutEvents");
    zb_put_cstr(r, "Entries");
    size_t at_a = r->len;
    zb_mpk_put_array(r, 1);
    s_orders_entry(r, false);
    zb_put_cstr(r, "Action");
    zb_put_cstr(r, "Nothing");
    zb_buf_t *b2 = zb_buf_new(256);
    zb_mpk_put_map(b2, 3);
    zb_put_cstr(b2, "Action");
    zb_put_cstr(b2, "ListRules");
    zb_put_cstr(b2, "Entries");
    assert_int_equal(b2->len, at_a);
    zb_mpk_put_array(b2, 1);
    s_orders_entry(b2, true);
    zb_put_cstr(b2, "Action");
    zb_put_cstr(b2, "PutEvents");
    uint8_t *body = malloc(r->len > b2->len ? r->len : b2->len);
    memcpy(body, r->data, r->len);
    broker__handle(s_b, body, r->len);
    assert_int_equal(zb_reply_decode(&s_reply, s_b->reply->data, s_b->reply->len, &s_err), 0);
    assert_int_equal(s_err.code, ZB_ERR_UNKNOWN_OPERATION);
    memcpy(body, b2->data, b2->len);
    broker__handle(s_b, body, b2->len);
    broker__flush(s_b);
    assert_int_equal(zb_reply_decode(&s_reply, s_b->reply->data, s_b->reply->len, &s_err), 0);
    assert_int_equal(s_err.code, ZB_OK);
    assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), 1);
    assert_int_equal(s_delivered, 1);
    free(body);
    zb_buf_destroy(&b2);
    zb_buf_destroy(&r);
}

/* The bus an entry named is kept for the next request of a burst, and
 * not used once a request has removed it. */
static void a_bus_deleted_between_two_requests_of_a_burst_is_not_used(void **state)
{
    zb_buf_t *r = zb_buf_new(256);
    s_begin_entry(r, 4);
    zb_put_cstr(r, "{\"amount\": 1}");
    /* no flush after it: the next request comes in the same burst */
    broker__handle(s_b, r->data, r->len);
    zb_buf_t *d = zb_buf_new(64);
    zb_request_begin(d, ZB_ACTION_DELETE_EVENT_BUS, 1, NULL, 0);
    zb_put_cstr(d, "Name");
    zb_put_cstr(d, "orders");
    broker__handle(s_b, d->data, d->len);
    zb_buf_destroy(&d);
    s_send(r);
    zb_buf_destroy(&r);
    assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), 1);
}

/* The bus kept from a burst's last request does not outlive a reload:
 * one that drops the bus leaves its name unknown, and one that brings it
 * back with another account and region delivers them whole. */
static void a_bus_kept_in_a_burst_is_forgotten_at_a_reload(void **state)
{
    zb_buf_t *r = zb_buf_new(256);
    s_begin_entry(r, 4);
    zb_put_cstr(r, "{\"amount\": 500}");
    /* no flush after it: the bus stays kept */
    broker__handle(s_b, r->data, r->len);
    FILE *f = fopen(s_path, "w");
    fputs("broker:\n  listen: inproc://test-broker\nbuses:\n  - name: shop\n", f);
    fclose(f);
    assert_int_equal(broker__reload(s_b), 0);
    s_send(r);
    assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), 1);
    f = fopen(s_path, "w");
    fputs("broker:\n  listen: inproc://test-broker\n"
          "  account: \"123456789012345678\"\n  region: \"a-long-region-name-9\"\n"
          "buses:\n  - name: orders\n    rules:\n      - name: big\n"
          "        event-pattern: {detail: {amount: [{numeric: ['>', 100]}]}}\n",
          f);
    fclose(f);
    assert_int_equal(broker__reload(s_b), 0);
    s_put_targets("ep");
    s_send(r);
    zb_buf_destroy(&r);
    assert_int_equal(s_uint(&s_reply, "FailedEntryCount"), 0);
    assert_int_equal(s_delivered, 1);
    assert_int_equal(s_env.account_len, 18);
    assert_memory_equal(s_env.account, "123456789012345678", 18);
    assert_int_equal(s_env.region_len, 20);
    assert_memory_equal(s_env.region, "a-long-region-name-9", 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_registered_kind_receives_each_matching_event_once,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_failure_reported_later_is_counted, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            a_plugin_refusal_is_a_failed_entry_and_replacing_closes_the_old_target, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            entry_fields_last_value_wins_and_keys_past_the_field_table_are_dropped, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            an_envelope_built_in_the_outbox_survives_a_flush_and_is_kept_only_while_staged,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            put_events_counts_failed_entries_past_one_byte_before_their_results, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            a_bus_deleted_between_two_requests_of_a_burst_is_not_used, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_bus_kept_in_a_burst_is_forgotten_at_a_reload, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            entries_the_decoder_left_are_read_and_never_an_earlier_requests, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(strings_are_utf8_checked_at_every_length_and_position,
                                        s_setup, s_teardown),
        cmocka_unit_test(detail_check_accepts_json_shaped_maps_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
