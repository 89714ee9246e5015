/*
 * test_state_fold.c — folding saved API changes (broker/state_fold.h).
 *
 * First the folds one by one, on requests written as JSON; then the
 * promise itself, in-process: a seeded random sequence of API requests
 * runs against a broker that saves (and folds) them, and a broker
 * replaying the folded file must build exactly what a broker replaying
 * every request builds, which is what the first broker serves.
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
#include "json.h"
#include "mpk.h"
#include "state.h"
#include "state_fold.h"

/* ---- a log folded request by request ---------------------------------------- */

typedef struct log {
    zb_buf_t *buf;
    size_t count;
} log_t;

static zb_buf_t *s_msgpack(const char *json)
{
    zb_buf_t *out = zb_buf_new(256);
    zb_json_error_t err;
    assert_int_equal(zb_json_to_msgpack(json, strlen(json), out, &err), 0);
    return out;
}

static state_op_t *s_ops(const log_t *log)
{
    state_op_t *ops = calloc(log->count + 1, sizeof *ops);
    zb_mpk_t c;
    zb_mpk_init(&c, log->buf->data, log->buf->len);
    for (size_t i = 0; i < log->count; i++) {
        ops[i].data = c.p;
        assert_int_equal(zb_mpk_skip(&c, ZB_MPK_MAX_DEPTH), 0);
        ops[i].len = (size_t) (c.p - ops[i].data);
        state_fold_key(ops[i].data, ops[i].len, &ops[i].key);
    }
    return ops;
}

/* Folds the request (JSON) into the log, with the reply (JSON, or NULL). */
static void s_fold_reply(log_t *log, const char *req_json, const char *reply_json)
{
    zb_buf_t *req = s_msgpack(req_json);
    zb_buf_t *reply = reply_json ? s_msgpack(reply_json) : NULL;
    state_op_t *ops = s_ops(log);
    zb_buf_t *out = zb_buf_new(log->buf->len + 64);
    size_t count;
    size_t *offsets = calloc(log->count + 1, sizeof *offsets);
    state_key_t *keys = calloc(log->count + 1, sizeof *keys);
    assert_int_equal(state_fold(ops, log->count, req->data, req->len,
                                reply ? reply->data : NULL, reply ? reply->len : 0, out,
                                &count, offsets, keys),
                     0);
    /* What it says of each request is what the request is. */
    for (size_t i = 0; i < count; i++) {
        size_t end = i + 1 < count ? offsets[i + 1] : out->len;
        state_key_t k;
        state_fold_key(out->data + offsets[i], end - offsets[i], &k);
        assert_true(k.bus == keys[i].bus);
    }
    free(offsets);
    free(keys);
    zb_buf_destroy(&log->buf);
    log->buf = out;
    log->count = count;
    free(ops);
    zb_buf_destroy(&req);
    zb_buf_destroy(&reply);
}

static void s_fold(log_t *log, const char *req_json)
{
    s_fold_reply(log, req_json, NULL);
}

/* Appends a request as it is (a log written before folding existed). */
static void s_raw(log_t *log, const char *req_json)
{
    zb_buf_t *req = s_msgpack(req_json);
    zb_buf_append(log->buf, req->data, req->len);
    log->count++;
    zb_buf_destroy(&req);
}

/* The log as one JSON array, for comparing with what a test expects. */
static char *s_json(const log_t *log)
{
    zb_buf_t *arr = zb_buf_new(256);
    zb_mpk_put_array(arr, (uint32_t) log->count);
    zb_buf_append(arr, log->buf->data, log->buf->len);
    zb_buf_t *out = zb_buf_new(256);
    zb_json_error_t err;
    assert_int_equal(zb_msgpack_to_json(arr->data, arr->len, out, &err), 0);
    char *s = strdup(out->data);
    zb_buf_destroy(&arr);
    zb_buf_destroy(&out);
    return s;
}

static void s_expect(const log_t *log, const char *json)
{
    char *got = s_json(log);
    assert_string_equal(got, json);
    free(got);
}

static log_t s_log(void)
{
    return (log_t) {zb_buf_new(256), 0};
}

#define RULE_X "\"EventPattern\":\"{\\\"source\\\":[\\\"x\\\"]}\""
#define RULE_Y "\"EventPattern\":\"{\\\"source\\\":[\\\"y\\\"]}\""
#define JX "\"{\\\"source\\\":[\\\"x\\\"]}\""
#define JY "\"{\\\"source\\\":[\\\"y\\\"]}\""

/* ---- the folds one by one ------------------------------------------------------ */

static void a_rule_put_many_times_is_one_request_with_the_last_values(void **state)
{
    log_t log = s_log();
    char req[256];
    /* The bus named three ways: omitted, by name, by ARN. */
    const char *bus[] = {"", ",\"EventBusName\":\"default\"",
                         ",\"EventBusName\":\"arn:zbridge:events:local:0:event-bus/default\""};
    for (int i = 0; i < 1000; i++) {
        snprintf(req, sizeof req, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"RequestId\":%d%s,%s}",
                 i, bus[i % 3], i % 2 ? RULE_Y : RULE_X);
        s_fold(&log, req);
    }
    assert_int_equal(log.count, 1);
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"r\",\"RequestId\":0,\"EventPattern\":" JY
                   "}]");
    zb_buf_destroy(&log.buf);
}

static void enable_and_disable_fold_into_the_rules_put_rule(void **state)
{
    log_t log = s_log();
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\"," RULE_X "}");
    for (int i = 0; i < 50; i++) {
        s_fold(&log, "{\"Action\":\"DisableRule\",\"Name\":\"r\"}");
        s_fold(&log, "{\"Action\":\"EnableRule\",\"Name\":\"r\"}");
    }
    s_fold(&log, "{\"Action\":\"DisableRule\",\"Name\":\"r\"}");
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventPattern\":" JX
                   ",\"State\":\"DISABLED\"}]");
    zb_buf_destroy(&log.buf);
}

static void toggling_a_rules_file_rule_keeps_only_the_last_toggle(void **state)
{
    log_t log = s_log();
    for (int i = 0; i < 50; i++) {
        s_fold(&log, "{\"Action\":\"DisableRule\",\"Name\":\"r\",\"EventBusName\":\"b\"}");
        s_fold(&log, "{\"Action\":\"EnableRule\",\"Name\":\"r\",\"EventBusName\":\"b\"}");
    }
    s_fold(&log, "{\"Action\":\"EnableRule\",\"Name\":\"other\",\"EventBusName\":\"b\"}");
    s_expect(&log, "[{\"Action\":\"EnableRule\",\"Name\":\"r\",\"EventBusName\":\"b\"},"
                   "{\"Action\":\"EnableRule\",\"Name\":\"other\",\"EventBusName\":\"b\"}]");
    zb_buf_destroy(&log.buf);
}

static void a_put_rule_merges_into_the_rules_first_put_rule_which_stays_first(void **state)
{
    log_t log = s_log();
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\"," RULE_X "}");
    s_fold(&log, "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":[{\"Id\":\"t\","
                 "\"Endpoint\":\"inproc://a\"}]}");
    s_fold(&log, "{\"Action\":\"DisableRule\",\"Name\":\"r\"}");
    /* Sets the description only: merged into the first PutRule, which
     * stays first (the rule must exist for the PutTargets after it). */
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"Description\":\"d\"}");
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventPattern\":" JX
                   ",\"State\":\"DISABLED\",\"Description\":\"d\"},"
                   "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":[{\"Id\":\"t\","
                   "\"Endpoint\":\"inproc://a\"}]}]");
    /* A PutRule that sets nothing changes nothing. */
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"RequestId\":\"again\"}");
    assert_int_equal(log.count, 2);
    zb_buf_destroy(&log.buf);
}

static void a_put_rule_without_state_keeps_the_toggle_of_a_rules_file_rule(void **state)
{
    log_t log = s_log();
    s_fold(&log, "{\"Action\":\"DisableRule\",\"Name\":\"r\"}");
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\"," RULE_X "}");
    s_expect(&log, "[{\"Action\":\"DisableRule\",\"Name\":\"r\"},"
                   "{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventPattern\":" JX "}]");
    /* Setting State, it supersedes the toggle. */
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"State\":\"ENABLED\"}");
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventPattern\":" JX
                   ",\"State\":\"ENABLED\"}]");
    zb_buf_destroy(&log.buf);
}

static void a_delete_rule_drops_what_came_before_and_is_saved_with_force(void **state)
{
    log_t log = s_log();
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\"," RULE_X "}");
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"keep\"," RULE_X "}");
    s_fold(&log, "{\"Action\":\"RemoveTargets\",\"Rule\":\"r\",\"Ids\":[\"from-file\"]}");
    s_fold(&log, "{\"Action\":\"DeleteRule\",\"Name\":\"r\",\"EventBusName\":\"default\"}");
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"keep\",\"EventPattern\":" JX "},"
                   "{\"Action\":\"DeleteRule\",\"Name\":\"r\",\"EventBusName\":\"default\","
                   "\"Force\":true}]");
    /* Created and deleted again and again: still one delete. */
    for (int i = 0; i < 20; i++) {
        s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\"," RULE_Y "}");
        s_fold(&log, "{\"Action\":\"DeleteRule\",\"Name\":\"r\"}");
    }
    assert_int_equal(log.count, 2);
    /* A delete with nothing before it is saved as it came. */
    s_fold(&log, "{\"Action\":\"DeleteRule\",\"Name\":\"file-rule\"}");
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"keep\",\"EventPattern\":" JX "},"
                   "{\"Action\":\"DeleteRule\",\"Name\":\"r\",\"Force\":true},"
                   "{\"Action\":\"DeleteRule\",\"Name\":\"file-rule\"}]");
    zb_buf_destroy(&log.buf);
}

static void a_delete_event_bus_drops_the_bus_and_its_rules_requests(void **state)
{
    log_t log = s_log();
    for (int i = 0; i < 20; i++) {
        s_fold(&log, "{\"Action\":\"CreateEventBus\",\"Name\":\"b\"}");
        s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventBusName\":"
                     "\"arn:zbridge:events:local:0:event-bus/b\"," RULE_X "}");
        s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventBusName\":\"c\"," RULE_X
                     "}");
        s_fold(&log, "{\"Action\":\"DeleteEventBus\",\"Name\":\"b\"}");
    }
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventBusName\":\"c\","
                   "\"EventPattern\":" JX "},"
                   "{\"Action\":\"DeleteEventBus\",\"Name\":\"b\"}]");
    zb_buf_destroy(&log.buf);
}

static void targets_supersede_earlier_entries_of_the_same_id(void **state)
{
    log_t log = s_log();
    s_fold(&log, "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                 "{\"Id\":\"t1\",\"Endpoint\":\"inproc://a\"},"
                 "{\"Id\":\"t2\",\"Endpoint\":\"inproc://b\"}]}");
    s_fold(&log, "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"EventBusName\":\"other\","
                 "\"Targets\":[{\"Id\":\"t1\",\"Endpoint\":\"inproc://z\"}]}");
    for (int i = 0; i < 20; i++) {
        s_fold(&log, "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                     "{\"Id\":\"t1\",\"Endpoint\":\"inproc://c\"}]}");
        s_fold(&log, "{\"Action\":\"RemoveTargets\",\"Rule\":\"r\",\"Ids\":[\"t1\"]}");
    }
    s_expect(&log, "[{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                   "{\"Id\":\"t2\",\"Endpoint\":\"inproc://b\"}]},"
                   "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"EventBusName\":\"other\","
                   "\"Targets\":[{\"Id\":\"t1\",\"Endpoint\":\"inproc://z\"}]},"
                   "{\"Action\":\"RemoveTargets\",\"Rule\":\"r\",\"Ids\":[\"t1\"]}]");
    s_fold(&log, "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                 "{\"Id\":\"t1\",\"Endpoint\":\"inproc://d\"},"
                 "{\"Id\":\"t2\",\"Endpoint\":\"inproc://e\"}]}");
    s_expect(&log, "[{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"EventBusName\":\"other\","
                   "\"Targets\":[{\"Id\":\"t1\",\"Endpoint\":\"inproc://z\"}]},"
                   "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                   "{\"Id\":\"t1\",\"Endpoint\":\"inproc://d\"},"
                   "{\"Id\":\"t2\",\"Endpoint\":\"inproc://e\"}]}]");
    zb_buf_destroy(&log.buf);
}

static void failed_target_entries_are_not_saved_and_supersede_nothing(void **state)
{
    log_t log = s_log();
    s_fold(&log, "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                 "{\"Id\":\"t2\",\"Endpoint\":\"inproc://b\"}]}");
    s_fold_reply(&log,
                 "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                 "{\"Id\":\"t1\",\"Endpoint\":\"inproc://a\"},"
                 "{\"Id\":\"t2\",\"Endpoint\":\"bogus://x\"},"
                 "{\"Id\":\"bad id!\",\"Endpoint\":\"inproc://c\"}]}",
                 "{\"FailedEntryCount\":2,\"FailedEntries\":["
                 "{\"TargetId\":\"t2\",\"ErrorCode\":\"ValidationException\"},"
                 "{\"TargetId\":\"?\",\"ErrorCode\":\"ValidationException\"}]}");
    s_expect(&log, "[{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                   "{\"Id\":\"t2\",\"Endpoint\":\"inproc://b\"}]},"
                   "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                   "{\"Id\":\"t1\",\"Endpoint\":\"inproc://a\"}]}]");
    /* t2 twice, one failed: which one is unknown, so both stay and t2
     * folds nothing. */
    s_fold_reply(&log,
                 "{\"Action\":\"PutTargets\",\"Rule\":\"r\",\"Targets\":["
                 "{\"Id\":\"t2\",\"Endpoint\":\"inproc://c\"},"
                 "{\"Id\":\"t2\",\"Endpoint\":\"bogus://y\"}]}",
                 "{\"FailedEntryCount\":1,\"FailedEntries\":[{\"TargetId\":\"t2\"}]}");
    assert_int_equal(log.count, 3);
    zb_buf_destroy(&log.buf);
}

static void folds_stay_after_the_last_delete_in_a_log_saved_unfolded(void **state)
{
    log_t log = s_log();
    s_raw(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\"," RULE_X "}");
    s_raw(&log, "{\"Action\":\"DeleteRule\",\"Name\":\"r\"}");
    s_raw(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\"," RULE_X "}");
    s_raw(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"Description\":\"d\",\"State\":"
                "\"DISABLED\"}");
    s_fold(&log, "{\"Action\":\"PutRule\",\"Name\":\"r\",\"State\":\"ENABLED\"," RULE_Y "}");
    s_expect(&log, "[{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventPattern\":" JX "},"
                   "{\"Action\":\"DeleteRule\",\"Name\":\"r\"},"
                   "{\"Action\":\"PutRule\",\"Name\":\"r\",\"EventPattern\":" JY
                   ",\"State\":\"ENABLED\"},"
                   "{\"Action\":\"PutRule\",\"Name\":\"r\",\"Description\":\"d\"}]");
    zb_buf_destroy(&log.buf);
}

static void requests_that_do_not_decode_are_kept_and_fold_nothing(void **state)
{
    log_t log = s_log();
    s_raw(&log, "{\"Action\":\"NoSuchAction\",\"Name\":\"r\"}");
    s_raw(&log, "[1, 2]");
    s_fold(&log, "{\"Action\":\"DeleteRule\",\"Name\":\"r\"}");
    s_fold(&log, "{\"Action\":\"DeleteEventBus\",\"Name\":\"other\"}");
    assert_int_equal(log.count, 4);
    zb_buf_destroy(&log.buf);
}

/* ---- the promise: replaying the folded log builds what every request built --------- */

/* Targets the API puts are of the file plugin's kind: opening a file is
 * deterministic, where a socket's endpoint can still be in use for a
 * moment after its last target went. */
static const char s_rules[] =
    "broker:\n  listen: inproc://fold-broker\n"
    "  plugins:\n    - path: %s\n"
    "buses:\n"
    "  - name: default\n"
    "    rules:\n"
    "      - name: r1\n"
    "        event-pattern: {source: [file]}\n"
    "        targets:\n"
    "          - id: t1\n"
    "            endpoint: inproc://e1\n"
    "  - name: b2\n"
    "    description: from the file\n"
    "    rules:\n"
    "      - name: r2\n"
    "        description: file rule\n"
    "        state: DISABLED\n"
    "        event-pattern: {source: [file2]}\n"
    "        targets:\n"
    "          - id: t2\n"
    "            endpoint: inproc://e2\n"
    "            topic: \"{bus}\"\n";

static uint64_t s_rng;

static unsigned s_rand(unsigned n)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (unsigned) (s_rng % n);
}

static const char *s_pick(const char *const *v, unsigned n)
{
    return v[s_rand(n)];
}

#define PICK(v) s_pick(v, sizeof v / sizeof *v)

static const char *const s_buses[] = {"default", "b1", "b2", "b3"};
static const char *const s_rule_names[] = {"r1", "r2", "r3"};
static const char *const s_ids[] = {"t1", "t2", "t3"};
static const char *const s_patterns[] = {"{\\\"source\\\":[\\\"a\\\"]}",
                                         "{\\\"source\\\":[\\\"b\\\"]}",
                                         "{\\\"detail\\\":{\\\"n\\\":[{\\\"numeric\\\":[\\\">\\\",1]}]}}"};
static char s_endpoints[4][80]; /* three files, and one that cannot be opened */

/* ",\"EventBusName\":..." naming bus, or nothing for default at times. */
static void s_bus_field(char *out, size_t n, const char *bus)
{
    unsigned how = s_rand(3);
    if (strcmp(bus, "default") == 0 && how == 0)
        out[0] = '\0';
    else if (how == 1)
        snprintf(out, n, ",\"EventBusName\":\"arn:zbridge:events:local:000000000000:"
                         "event-bus/%s\"",
                 bus);
    else
        snprintf(out, n, ",\"EventBusName\":\"%s\"", bus);
}

static void s_random_request(char *req, size_t n, int i)
{
    char bus[160], fields[512] = "", targets[1024];
    const char *b = PICK(s_buses), *r = PICK(s_rule_names);
    if (s_rand(2) == 0) {
        /* Half the time the rules file's rules: API changes on top of them
         * are what folding must not lose. */
        b = s_rand(2) ? "default" : "b2";
        r = strcmp(b, "default") == 0 ? "r1" : "r2";
    }
    s_bus_field(bus, sizeof bus, b);
    unsigned kind = s_rand(20);
    if (kind == 0)
        snprintf(req, n, "{\"Action\":\"CreateEventBus\",\"Name\":\"%s\"}", b);
    else if (kind == 1)
        snprintf(req, n, "{\"Action\":\"DeleteEventBus\",\"Name\":\"%s\"}", b);
    else if (kind <= 7) {
        size_t len = 0;
        if (s_rand(4) != 0)
            len += (size_t) snprintf(fields + len, sizeof fields - len,
                                     ",\"EventPattern\":\"%s\"", PICK(s_patterns));
        if (s_rand(3) == 0)
            len += (size_t) snprintf(fields + len, sizeof fields - len,
                                     ",\"Description\":\"d%u\"", s_rand(3));
        if (s_rand(3) == 0)
            snprintf(fields + len, sizeof fields - len, ",\"State\":\"%s\"",
                     s_rand(2) ? "ENABLED" : "DISABLED");
        snprintf(req, n, "{\"Action\":\"PutRule\",\"RequestId\":%d,\"Name\":\"%s\"%s%s}", i, r,
                 bus, fields);
    }
    else if (kind <= 9)
        snprintf(req, n, "{\"Action\":\"DeleteRule\",\"Name\":\"%s\"%s%s}", r, bus,
                 s_rand(2) ? ",\"Force\":true" : "");
    else if (kind <= 12)
        snprintf(req, n, "{\"Action\":\"%s\",\"Name\":\"%s\"%s}",
                 s_rand(2) ? "EnableRule" : "DisableRule", r, bus);
    else if (kind <= 17) {
        size_t len = 0;
        unsigned nt = 1 + s_rand(3);
        for (unsigned k = 0; k < nt; k++) {
            const char *ep = s_endpoints[s_rand(4)];
            len += (size_t) snprintf(targets + len, sizeof targets - len,
                                     "%s{\"Id\":\"%s\",\"Type\":\"file\",\"Endpoint\":\"%s\","
                                     "\"Topic\":\"x%u\"}",
                                     k ? "," : "", PICK(s_ids), ep, s_rand(3));
        }
        snprintf(req, n, "{\"Action\":\"PutTargets\",\"Rule\":\"%s\"%s,\"Targets\":[%s]}", r,
                 bus, targets);
    }
    else
        snprintf(req, n, "{\"Action\":\"RemoveTargets\",\"Rule\":\"%s\"%s,\"Ids\":[\"%s\"%s]}", r,
                 bus, PICK(s_ids), s_rand(2) ? ",\"t3\"" : "");
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Everything the registry holds, one sorted line per object. */
static char *s_dump(const zb_broker_t *b)
{
    char **lines = NULL;
    size_t n = 0, cap = 0;
    char line[1024];
#define LINE(...)                                                                            \
    do {                                                                                     \
        snprintf(line, sizeof line, __VA_ARGS__);                                            \
        if (n == cap) {                                                                      \
            cap = cap ? cap * 2 : 64;                                                        \
            lines = realloc(lines, cap * sizeof *lines);                                     \
        }                                                                                    \
        lines[n++] = strdup(line);                                                           \
    } while (0)
    for (size_t i = 0; i < b->reg->nbuses; i++) {
        const zb_bus_t *bus = b->reg->buses[i];
        LINE("bus %s desc=%s", bus->name, bus->description ? bus->description : "(none)");
        for (size_t j = 0; j < bus->nslots; j++) {
            const zb_rule_t *r = bus->slots[j];
            if (!r)
                continue;
            LINE("rule %s/%s pattern=%s desc=%s %s", bus->name, r->name, r->pattern,
                 r->description ? r->description : "(none)", r->enabled ? "ENABLED" : "DISABLED");
            for (size_t k = 0; k < r->ntargets; k++) {
                const zb_target_t *t = r->targets[k];
                LINE("target %s/%s/%s type=%s endpoint=%s topic=%s hwm=%lld", bus->name,
                     r->name, t->id, t->type, t->endpoint ? t->endpoint : "(none)",
                     t->topic ? t->topic : "(none)", (long long) t->hwm);
            }
        }
    }
#undef LINE
    qsort(lines, n, sizeof *lines, s_cmp_str);
    zb_buf_t *out = zb_buf_new(4096);
    for (size_t i = 0; i < n; i++) {
        zb_buf_appendf(out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    char *s = strdup(out->data);
    zb_buf_destroy(&out);
    return s;
}

static void s_write_state(const char *path, const zb_buf_t *ops, size_t count)
{
    zb_buf_t *out = zb_buf_new(ops->len + 64);
    zb_mpk_put_map(out, 2);
    zb_put_cstr(out, "Version");
    zb_mpk_put_uint(out, 1);
    zb_put_cstr(out, "Ops");
    zb_mpk_put_array(out, (uint32_t) count);
    zb_buf_append(out, ops->data, ops->len);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out->data, 1, out->len, f), out->len);
    fclose(f);
    zb_buf_destroy(&out);
}

static void s_check_seed(uint64_t seed, const char *rules_path, const char *folded_path,
                         const char *full_path)
{
    s_rng = seed * 2654435761u + 1;
    unlink(folded_path);
    zb_broker_t *live = broker__new(rules_path, folded_path, false);
    assert_non_null(live);
    live->persist = true; /* save, as the daemon does */
    zb_buf_t *full = zb_buf_new(4096);
    size_t nfull = 0, nsaved_max = 0;
    /* Short runs too: the last changes are the ones nothing overrides. */
    int nreq = 10 + (int) s_rand(200);
    for (int i = 0; i < nreq; i++) {
        char json[2048];
        s_random_request(json, sizeof json, i);
        zb_buf_t *req = s_msgpack(json);
        broker__handle(live, req->data, req->len);
        zb_map_t reply;
        zb_proto_error_t err;
        assert_int_equal(zb_reply_decode(&reply, live->reply->data, live->reply->len, &err), 0);
        if (!zb_map_get(&reply, "Error")) {
            zb_buf_append(full, req->data, req->len);
            nfull++;
        }
        zb_buf_destroy(&req);
        if (state__count(live->state) > nsaved_max)
            nsaved_max = state__count(live->state);
    }
    s_write_state(full_path, full, nfull);
    zb_broker_t *from_full = broker__new(rules_path, full_path, false);
    zb_broker_t *from_folded = broker__new(rules_path, folded_path, false);
    assert_non_null(from_full);
    assert_non_null(from_folded);
    char *a = s_dump(live), *b = s_dump(from_full), *c = s_dump(from_folded);
    if (strcmp(b, c) != 0 || strcmp(a, b) != 0)
        fprintf(stderr, "seed %llu\nlive:\n%s\nfull log:\n%s\nfolded log:\n%s\n",
                (unsigned long long) seed, a, b, c);
    assert_string_equal(a, b);
    assert_string_equal(b, c);
    /* Bounded by the objects, not the requests: per bus a create and a
     * delete; per rule a delete, a PutRule, a toggle and one request per
     * target id. */
    assert_true(nsaved_max <= 4 * 2 + 4 * 3 * (3 + 3));
    free(a);
    free(b);
    free(c);
    broker__destroy(&live);
    broker__destroy(&from_full);
    broker__destroy(&from_folded);
    zb_buf_destroy(&full);
}

static void replaying_the_folded_log_builds_what_every_request_built(void **state)
{
    const char *plugin = getenv("ZB_FILE_PLUGIN");
    assert_non_null(plugin);
    char rules[64], folded[80], full[80];
    snprintf(rules, sizeof rules, "/tmp/zb-test-fold-%d.yaml", (int) getpid());
    snprintf(folded, sizeof folded, "%s.state", rules);
    snprintf(full, sizeof full, "%s.full", rules);
    for (int i = 0; i < 3; i++)
        snprintf(s_endpoints[i], sizeof s_endpoints[i], "%s.e%d.jsonl", rules, i + 1);
    snprintf(s_endpoints[3], sizeof s_endpoints[3], "/nonexistent-dir/e.jsonl");
    FILE *f = fopen(rules, "w");
    assert_non_null(f);
    fprintf(f, s_rules, plugin);
    fclose(f);
    for (uint64_t seed = 1; seed <= 100; seed++)
        s_check_seed(seed, rules, folded, full);
    unlink(rules);
    unlink(folded);
    unlink(full);
    for (int i = 0; i < 3; i++)
        unlink(s_endpoints[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_rule_put_many_times_is_one_request_with_the_last_values),
        cmocka_unit_test(enable_and_disable_fold_into_the_rules_put_rule),
        cmocka_unit_test(toggling_a_rules_file_rule_keeps_only_the_last_toggle),
        cmocka_unit_test(a_put_rule_merges_into_the_rules_first_put_rule_which_stays_first),
        cmocka_unit_test(a_put_rule_without_state_keeps_the_toggle_of_a_rules_file_rule),
        cmocka_unit_test(a_delete_rule_drops_what_came_before_and_is_saved_with_force),
        cmocka_unit_test(a_delete_event_bus_drops_the_bus_and_its_rules_requests),
        cmocka_unit_test(targets_supersede_earlier_entries_of_the_same_id),
        cmocka_unit_test(failed_target_entries_are_not_saved_and_supersede_nothing),
        cmocka_unit_test(folds_stay_after_the_last_delete_in_a_log_saved_unfolded),
        cmocka_unit_test(requests_that_do_not_decode_are_kept_and_fold_nothing),
        cmocka_unit_test(replaying_the_folded_log_builds_what_every_request_built),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
