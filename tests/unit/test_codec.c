/*
 * test_codec.c — the wire codec (proto/zb_proto.h): what a peer sends is
 * decoded exactly or refused with the documented error; what the broker
 * writes reads back the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "zb_hex.h"
#include "zb_proto.h"

static void action_names_round_trip(void **state)
{
    for (int a = 1; a < ZB_ACTION_COUNT_; a++) {
        const char *n = zb_action_name((zb_action_t) a);
        assert_true(strlen(n) > 0);
        assert_int_equal(zb_action_from_name(n, strlen(n)), a);
    }
    assert_int_equal(zb_action_from_name("putevents", 9), ZB_ACTION_UNKNOWN);
    assert_int_equal(zb_action_from_name("PutEventsX", 10), ZB_ACTION_UNKNOWN);
    assert_string_equal(zb_action_name(ZB_ACTION_COUNT_), "");
    assert_true(zb_action_is_mutation(ZB_ACTION_PUT_RULE));
    assert_false(zb_action_is_mutation(ZB_ACTION_PUT_EVENTS));
}

static void error_codes_use_eventbridge_names(void **state)
{
    assert_string_equal(zb_error_code_name(ZB_ERR_VALIDATION), "ValidationException");
    assert_string_equal(zb_error_code_name(ZB_ERR_MALFORMED_DETAIL), "MalformedDetail");
    assert_string_equal(zb_error_code_name(ZB_ERR_INVALID_ARGUMENT), "InvalidArgument");
    assert_int_equal(zb_error_code_from_name("ResourceNotFoundException", 25), ZB_ERR_NOT_FOUND);
    assert_int_equal(zb_error_code_from_name("Nope", 4), ZB_OK);
}

/* Builds a request map from key/value pairs of strings. */
static zb_buf_t *s_map(int n, ...)
{
    zb_buf_t *b = zb_buf_new(64);
    va_list ap;
    va_start(ap, n);
    zb_mpk_put_map(b, (uint32_t) n);
    for (int i = 0; i < n; i++) {
        zb_put_cstr(b, va_arg(ap, const char *));
        zb_put_cstr(b, va_arg(ap, const char *));
    }
    va_end(ap);
    return b;
}

static void reply_decode_refuses_an_error_that_is_not_a_map(void **state)
{
    (void) state;
    zb_buf_t *b = s_map(1, "Error", "boom");
    zb_map_t m;
    zb_proto_error_t err;
    assert_int_equal(zb_reply_decode(&m, b->data, b->len, &err), -1);
    assert_int_equal(err.code, ZB_ERR_SERIALIZATION);
    assert_string_equal(err.message, "Error is not a map.");
    zb_buf_destroy(&b);
}

static void reply_decode_keeps_the_text_of_an_unknown_error_code(void **state)
{
    (void) state;
    zb_buf_t *b = zb_buf_new(64);
    zb_mpk_put_map(b, 1);
    zb_put_cstr(b, "Error");
    zb_mpk_put_map(b, 2);
    zb_put_cstr(b, "Code");
    zb_put_cstr(b, "ThrottlingException");
    zb_put_cstr(b, "Message");
    zb_put_cstr(b, "slow down");
    zb_map_t m;
    zb_proto_error_t err;
    assert_int_equal(zb_reply_decode(&m, b->data, b->len, &err), 0);
    assert_int_equal(err.code, ZB_ERR_INTERNAL);
    assert_string_equal(err.code_name, "ThrottlingException");
    assert_string_equal(err.message, "slow down");
    zb_buf_destroy(&b);
}

static void map_decode_last_duplicate_wins_and_skips_non_string_keys(void **state)
{
    zb_buf_t *b = zb_buf_new(64);
    zb_mpk_put_map(b, 3);
    zb_put_cstr(b, "Name");
    zb_put_cstr(b, "first");
    zb_mpk_put_uint(b, 7); /* non-string key: skipped */
    zb_put_cstr(b, "x");
    zb_put_cstr(b, "Name");
    zb_put_cstr(b, "second");
    zb_map_t m;
    assert_int_equal(zb_map_decode(&m, b->data, b->len, NULL), 0);
    assert_int_equal(m.count, 1);
    const char *s;
    uint32_t len;
    assert_int_equal(zb_map_get_str(&m, "Name", &s, &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(s, "second", 6);
    assert_int_equal(zb_map_get_str(&m, "Missing", &s, &len), 1);
    int64_t i;
    assert_int_equal(zb_map_get_int(&m, "Name", &i), -1);
    zb_buf_destroy(&b);
}

static void map_decode_refuses_trailing_bytes_and_truncation(void **state)
{
    zb_buf_t *b = s_map(1, "Action", "ListRules");
    zb_map_t m;
    zb_proto_error_t err;
    assert_int_equal(zb_map_decode(&m, b->data, b->len - 1, &err), -1);
    assert_int_equal(err.code, ZB_ERR_SERIALIZATION);
    zb_buf_append_byte(b, 0xc0);
    assert_int_equal(zb_map_decode(&m, b->data, b->len, &err), -1);
    assert_string_equal(err.message, "Request body is not valid msgpack.");
    uint8_t arr[] = { 0x92, 0x01, 0x02 };
    assert_int_equal(zb_map_decode(&m, arr, sizeof arr, &err), -1);
    assert_string_equal(err.message, "Request body is not a msgpack map.");
    zb_buf_destroy(&b);
}

static void request_decode_reports_action_errors_and_keeps_request_id(void **state)
{
    zb_request_t req;
    zb_proto_error_t err;
    zb_buf_t *b = s_map(2, "RequestId", "abc", "Action", "Frobnicate");
    assert_int_equal(zb_request_decode(&req, b->data, b->len, &err), -1);
    assert_int_equal(err.code, ZB_ERR_UNKNOWN_OPERATION);
    assert_string_equal(err.message, "Unknown action: Frobnicate.");
    assert_non_null(req.request_id);
    zb_buf_t *reply = zb_buf_new(64);
    zb_reply_error(reply, &req, err.code, err.message);
    zb_map_t m;
    zb_proto_error_t got;
    assert_int_equal(zb_reply_decode(&m, reply->data, reply->len, &got), 0);
    assert_int_equal(got.code, ZB_ERR_UNKNOWN_OPERATION);
    assert_string_equal(got.message, "Unknown action: Frobnicate.");
    const char *s;
    uint32_t len;
    assert_int_equal(zb_map_get_str(&m, "RequestId", &s, &len), 0);
    assert_memory_equal(s, "abc", 3);
    zb_buf_destroy(&b);
    zb_buf_destroy(&reply);

    b = s_map(1, "Other", "x");
    assert_int_equal(zb_request_decode(&req, b->data, b->len, &err), -1);
    assert_string_equal(err.message, "Action is a required field.");
    zb_buf_destroy(&b);

    b = s_map(1, "Action", "PutEvents");
    assert_int_equal(zb_request_decode(&req, b->data, b->len, &err), 0);
    assert_int_equal(req.action, ZB_ACTION_PUT_EVENTS);
    assert_null(req.request_id);
    zb_buf_destroy(&b);
}

/* A reader that skips the value as the decoder would, remembering where it
 * was called, and refuses values starting with "bad". */
static int s_reader_calls;
static const uint8_t *s_reader_val;

static int s_reader(void *ctx, zb_mpk_t *c)
{
    (void) ctx;
    s_reader_calls++;
    s_reader_val = c->p;
    const char *s;
    uint32_t n;
    zb_mpk_t probe = *c;
    if (zb_mpk_read_str(&probe, &s, &n) == 0 && n >= 3 && memcmp(s, "bad", 3) == 0)
        return -1;
    return zb_mpk_skip(c, ZB_PROTO_MAX_DEPTH);
}

static void request_decode_with_a_reader_reads_its_key_in_the_decoders_pass(void **state)
{
    static const zb_value_reader_t reader = { "Entries", 7, ZB_ACTION_PUT_EVENTS, s_reader, NULL };
    zb_request_t req;
    zb_proto_error_t err;
    zb_buf_t *b = s_map(3, "Action", "PutEvents", "Entries", "one", "Entries", "two");
    s_reader_calls = 0;
    assert_int_equal(zb_request_decode_with(&req, b->data, b->len, &reader, &err), 0);
    /* called for each occurrence; the map keeps the last, as the reader saw */
    assert_int_equal(s_reader_calls, 2);
    const zb_field_t *f = zb_map_get(&req.map, "Entries");
    assert_non_null(f);
    assert_ptr_equal(f->val, s_reader_val);
    zb_buf_destroy(&b);

    /* the reader's -1 is the decoder's: the whole request is not msgpack */
    b = s_map(2, "Action", "PutEvents", "Entries", "bad");
    assert_int_equal(zb_request_decode_with(&req, b->data, b->len, &reader, &err), -1);
    assert_int_equal(err.code, ZB_ERR_SERIALIZATION);
    assert_string_equal(err.message, "Request body is not valid msgpack.");
    assert_null(req.request_id);
    zb_buf_destroy(&b);
}

/* The reader runs unless the Action read before its key names another:
 * there the value is checked as any other (so "bad", which the reader
 * refuses, is accepted as the string it is). */
static void request_decode_with_a_reader_runs_it_only_after_its_action(void **state)
{
    static const zb_value_reader_t reader = { "Entries", 7, ZB_ACTION_PUT_EVENTS, s_reader, NULL };
    zb_request_t req;
    zb_proto_error_t err;
    static const struct {
        int n;
        const char *kv[6];
        zb_action_t action;
        int calls;
    } cases[] = {
        { 2, { "Action", "PutRule", "Entries", "bad" }, ZB_ACTION_PUT_RULE, 0 },
        /* no Action yet: it may be the reader's */
        { 2, { "Entries", "one", "Action", "PutEvents" }, ZB_ACTION_PUT_EVENTS, 1 },
        { 2, { "Entries", "one", "Action", "PutRule" }, ZB_ACTION_PUT_RULE, 1 },
        { 2, { "Action", "PutEvent", "Entries", "bad" }, ZB_ACTION_UNKNOWN, 0 },
        /* a repeated Action: the one read last before the key counts */
        { 3, { "Action", "PutRule", "Entries", "bad", "Action", "PutEvents" },
          ZB_ACTION_PUT_EVENTS, 0 },
        { 3, { "Action", "PutEvents", "Action", "ListRules", "Entries", "bad" },
          ZB_ACTION_LIST_RULES, 0 },
        { 3, { "Action", "PutEvents", "Entries", "one", "Action", "ListRules" },
          ZB_ACTION_LIST_RULES, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        zb_buf_t *b = zb_buf_new(64);
        zb_mpk_put_map(b, (uint32_t) cases[i].n);
        for (int k = 0; k < 2 * cases[i].n; k++)
            zb_put_cstr(b, cases[i].kv[k]);
        s_reader_calls = 0;
        int rc = zb_request_decode_with(&req, b->data, b->len, &reader, &err);
        assert_int_equal(s_reader_calls, cases[i].calls);
        if (cases[i].action == ZB_ACTION_UNKNOWN) {
            assert_int_equal(rc, -1);
            assert_int_equal(err.code, ZB_ERR_UNKNOWN_OPERATION);
        }
        else {
            assert_int_equal(rc, 0);
            assert_int_equal(req.action, cases[i].action);
        }
        zb_buf_destroy(&b);
    }
}

static void request_begin_writes_what_request_decode_reads(void **state)
{
    zb_buf_t *b = zb_buf_new(64);
    uint8_t rid[] = { 0x2a };
    zb_request_begin(b, ZB_ACTION_DESCRIBE_RULE, 1, rid, sizeof rid);
    zb_put_cstr(b, "Name");
    zb_put_cstr(b, "r");
    zb_request_t req;
    assert_int_equal(zb_request_decode(&req, b->data, b->len, NULL), 0);
    assert_int_equal(req.action, ZB_ACTION_DESCRIBE_RULE);
    assert_int_equal(req.request_id_len, 1);
    assert_int_equal(req.request_id[0], 0x2a);
    zb_buf_destroy(&b);
}

static void require_str_uses_eventbridge_wording(void **state)
{
    zb_buf_t *b = zb_buf_new(16);
    zb_mpk_put_map(b, 1);
    zb_put_cstr(b, "Name");
    zb_mpk_put_uint(b, 3);
    zb_map_t m;
    zb_map_decode(&m, b->data, b->len, NULL);
    zb_proto_error_t err;
    const char *s;
    uint32_t len;
    assert_int_equal(zb_map_require_str(&m, "Name", true, &s, &len, &err), -1);
    assert_string_equal(err.message, "Parameter Name is not valid. Reason: Name must be a string.");
    assert_int_equal(zb_map_require_str(&m, "Rule", true, &s, &len, &err), -1);
    assert_string_equal(err.message,
                        "Parameter Rule is not valid. Reason: Rule is a required argument.");
    assert_int_equal(zb_map_require_str(&m, "Rule", false, &s, &len, &err), 1);
    zb_buf_destroy(&b);
}

static void envelope_round_trips_in_eventbridge_order(void **state)
{
    zb_buf_t *b = zb_buf_new(64);
    zb_buf_t *res = zb_buf_new(16);
    zb_mpk_put_array(res, 1);
    zb_put_cstr(res, "arn:x");
    const char *id = "01890a5d-ac96-774b-bcce-b302099a8057";
    zb_envelope_t env = { .id = id, .detail_type = "T", .detail_type_len = 1, .source = "S",
                          .source_len = 1, .account = "1", .account_len = 1,
                          .time = "2024-01-02T03:04:05Z", .region = "r", .region_len = 1,
                          .resources = (const uint8_t *) res->data,
                          .resources_len = res->len };
    assert_int_equal(zb_envelope_begin(b, &env), 0);
    zb_mpk_put_map(b, 1);
    zb_put_cstr(b, "k");
    zb_mpk_put_bool(b, true);
    zb_envelope_view_t v;
    assert_int_equal(zb_envelope_decode(&v, b->data, b->len), 0);
    assert_memory_equal(v.version, "0", 1);
    assert_memory_equal(v.id, id, ZB_UUID_LEN);
    assert_memory_equal(v.time, "2024-01-02T03:04:05Z", ZB_TIME_LEN);
    assert_int_equal(v.detail_len, 4);
    /* keys come in EventBridge's order */
    const char *order[] = { "version", "id", "detail-type", "source", "account", "time",
                            "region", "resources", "detail" };
    zb_mpk_t c;
    uint32_t n;
    zb_mpk_init(&c, b->data, b->len);
    zb_mpk_read_map(&c, &n);
    assert_int_equal(n, 9);
    for (int i = 0; i < 9; i++) {
        const char *k;
        uint32_t kl;
        assert_int_equal(zb_mpk_read_str(&c, &k, &kl), 0);
        assert_int_equal(kl, strlen(order[i]));
        assert_memory_equal(k, order[i], kl);
        zb_mpk_skip(&c, 8);
    }
    zb_buf_destroy(&b);
    zb_buf_destroy(&res);
}

static void uuid7_ids_are_version_7_and_strictly_increasing(void **state)
{
    zb_uuid7_t g;
    zb_uuid7_init(&g);
    char prev[ZB_UUID_LEN + 1] = "";
    for (int i = 0; i < 10000; i++) {
        char id[ZB_UUID_LEN + 1];
        /* the same millisecond for all: the counter must keep the order */
        zb_uuid7_next(&g, 1700000000000ull, id);
        assert_int_equal(strlen(id), ZB_UUID_LEN);
        assert_int_equal(id[14], '7');
        assert_true(strchr("89ab", id[19]) != NULL);
        assert_true(strcmp(prev, id) < 0);
        memcpy(prev, id, sizeof id);
    }
    /* a clock that steps back does not break the order */
    char id[ZB_UUID_LEN + 1];
    zb_uuid7_next(&g, 1600000000000ull, id);
    assert_true(strcmp(prev, id) < 0);
}

/* The text of chosen bits, written out by hand: RFC 9562's layout
 * (8-4-4-4-12, the first byte of hi first), lower-case hex. */
static void uuid_format_writes_the_bits_as_rfc_9562_text(void **state)
{
    static const struct {
        uint64_t hi, lo;
        const char *text;
    } cases[] = {
        { 0, 0, "00000000-0000-0000-0000-000000000000" },
        { ~0ull, ~0ull, "ffffffff-ffff-ffff-ffff-ffffffffffff" },
        { 0x0123456789abcdefull, 0xfedcba9876543210ull, "01234567-89ab-cdef-fedc-ba9876543210" },
        { 0xfedcba9876543210ull, 0x0123456789abcdefull, "fedcba98-7654-3210-0123-456789abcdef" },
        { 0x8000000000000001ull, 0x1000000000000009ull, "80000000-0000-0001-1000-000000000009" },
        { 0x000000000000000aull, 0xa000000000000000ull, "00000000-0000-000a-a000-000000000000" },
        /* RFC 9562 appendix A.6, the UUIDv7 example */
        { 0x017f22e279b07cc3ull, 0x98c4dc0c0c07398full, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[ZB_UUID_LEN + 2];
        out[ZB_UUID_LEN + 1] = 'x';
        zb_uuid_format(cases[i].hi, cases[i].lo, out);
        assert_string_equal(out, cases[i].text);
        assert_int_equal(out[ZB_UUID_LEN + 1], 'x');
    }
}

#if defined(__SSE2__)
/* xorshift128+: inputs for comparing the two hex writers. */
static uint64_t s_rand(uint64_t s[2])
{
    uint64_t a = s[0];
    const uint64_t b = s[1];
    s[0] = b;
    a ^= a << 23;
    s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return s[1] + b;
}
#endif

/* The portable hex writer against hand-written digits, and, where the
 * SSE2 one is compiled too, the two against each other on many inputs:
 * the portable one is what machines without SSE2 run. */
static void hex32_portable_and_sse2_write_the_same_digits(void **state)
{
    char hex[33] = { 0 };
    zb_hex32_portable(0x0123456789abcdefull, 0xfedcba9876543210ull, hex);
    assert_string_equal(hex, "0123456789abcdeffedcba9876543210");
    zb_hex32_portable(0x00000000000000a9ull, 0x9a00000000000000ull, hex);
    assert_string_equal(hex, "00000000000000a99a00000000000000");
#if defined(__SSE2__)
    uint64_t s[2] = { 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull };
    for (int i = 0; i < 100000; i++) {
        uint64_t hi = s_rand(s), lo = s_rand(s);
        /* runs of one nibble too: every digit in every place */
        if (i < 256) {
            hi = 0x1111111111111111ull * (uint64_t) (i & 15);
            lo = 0x1111111111111111ull * (uint64_t) (i >> 4);
        }
        char a[32], b[32];
        zb_hex32_portable(hi, lo, a);
        zb_hex32_sse2(hi, lo, b);
        assert_memory_equal(a, b, 32);
    }
#endif
}

/* What the generator puts in the bits, read back from its text: the
 * millisecond in the first 48 bits, version 7, variant 10. */
static void uuid7_ids_carry_their_millisecond_version_and_variant(void **state)
{
    /* rising, as a clock that steps back is not taken at its word */
    static const uint64_t times[] = { 0, 1, 0x0123456789abull, 1700000000000ull,
                                      0xfedcba987654ull, 0xffffffffff00ull };
    zb_uuid7_t g;
    zb_uuid7_init(&g);
    for (size_t t = 0; t < sizeof times / sizeof *times; t++) {
        char id[ZB_UUID_LEN + 1], ms[13], want[13];
        zb_uuid7_next(&g, times[t], id);
        snprintf(want, sizeof want, "%012llx", (unsigned long long) times[t]);
        memcpy(ms, id, 8);
        memcpy(ms + 8, id + 9, 4);
        ms[12] = '\0';
        assert_string_equal(ms, want);
        assert_int_equal(id[14], '7');
        assert_non_null(strchr("89ab", id[19]));
        for (int k = 0; k < ZB_UUID_LEN; k++)
            assert_non_null(strchr(k == 8 || k == 13 || k == 18 || k == 23 ? "-"
                                                                             : "0123456789abcdef",
                                   id[k]));
    }
    /* the next id of the same millisecond: the 12-bit counter after the
     * version digit, one up (a new millisecond starts it at most 0x1ff) */
    char a[ZB_UUID_LEN + 1], b[ZB_UUID_LEN + 1];
    zb_uuid7_init(&g);
    zb_uuid7_next(&g, 1800000000000ull, a);
    zb_uuid7_next(&g, 1800000000000ull, b);
    unsigned ca, cb;
    assert_int_equal(sscanf(a + 15, "%3x", &ca), 1);
    assert_int_equal(sscanf(b + 15, "%3x", &cb), 1);
    assert_true(ca <= 0x1ff);
    assert_int_equal(cb, ca + 1);
    assert_memory_equal(a, b, 14);
}

static void times_format_and_parse_rfc3339(void **state)
{
    char out[ZB_TIME_LEN + 1];
    zb_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    zb_time_format(1709208000, out);
    assert_string_equal(out, "2024-02-29T12:00:00Z");
    int64_t t;
    const char *ok = "2024-02-29T14:00:00.125+02:00";
    assert_int_equal(zb_time_parse(ok, strlen(ok), &t), 0);
    assert_int_equal(t, 1709208000);
    assert_int_equal(zb_time_parse("2024-02-29t12:00:00z", 20, &t), 0);
    assert_int_equal(t, 1709208000);
    const char *bad[] = { "2023-02-29T12:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z",
                          "2024-01-01T00:00:00", "2024-01-01T00:00:00+0200", "yesterday",
                          "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00Zjunk" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(zb_time_parse(bad[i], strlen(bad[i]), &t), -1);
}

static void msgpack_timestamps_decode_in_all_three_widths(void **state)
{
    int64_t t;
    uint8_t t32[] = { 0x65, 0x53, 0xf1, 0x00 };
    assert_int_equal(zb_time_from_ext(t32, 4, &t), 0);
    assert_int_equal(t, 0x6553f100);
    uint8_t t64[8] = { 0 };
    uint64_t v = ((uint64_t) 5 << 34) | 1700000000u;
    for (int i = 0; i < 8; i++)
        t64[i] = (uint8_t) (v >> (56 - 8 * i));
    assert_int_equal(zb_time_from_ext(t64, 8, &t), 0);
    assert_int_equal(t, 1700000000);
    uint8_t t96[12] = { 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(zb_time_from_ext(t96, 12, &t), 0);
    assert_int_equal(t, -1);
    assert_int_equal(zb_time_from_ext(t96, 5, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(action_names_round_trip),
        cmocka_unit_test(error_codes_use_eventbridge_names),
        cmocka_unit_test(map_decode_last_duplicate_wins_and_skips_non_string_keys),
        cmocka_unit_test(map_decode_refuses_trailing_bytes_and_truncation),
        cmocka_unit_test(request_decode_reports_action_errors_and_keeps_request_id),
        cmocka_unit_test(request_decode_with_a_reader_reads_its_key_in_the_decoders_pass),
        cmocka_unit_test(request_decode_with_a_reader_runs_it_only_after_its_action),
        cmocka_unit_test(request_begin_writes_what_request_decode_reads),
        cmocka_unit_test(require_str_uses_eventbridge_wording),
        cmocka_unit_test(envelope_round_trips_in_eventbridge_order),
        cmocka_unit_test(reply_decode_refuses_an_error_that_is_not_a_map),
        cmocka_unit_test(reply_decode_keeps_the_text_of_an_unknown_error_code),
        cmocka_unit_test(uuid7_ids_are_version_7_and_strictly_increasing),
        cmocka_unit_test(uuid_format_writes_the_bits_as_rfc_9562_text),
        cmocka_unit_test(hex32_portable_and_sse2_write_the_same_digits),
        cmocka_unit_test(uuid7_ids_carry_their_millisecond_version_and_variant),
        cmocka_unit_test(times_format_and_parse_rfc3339),
        cmocka_unit_test(msgpack_timestamps_decode_in_all_three_widths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
