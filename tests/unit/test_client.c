/*
 * test_client.c — libzbridge against a scripted broker and publisher.
 *
 * The fake broker is a ROUTER in a thread that answers each request with
 * whatever the current case asks for; it never checks semantics, only what
 * the client put on the wire.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "json.h"
#include "zb_buf.h"
#include "zbridge.h"

/* ---- a scripted broker -------------------------------------------------- */

typedef enum fake_mode {
    FAKE_ECHO,        /* reply {"Request": <request as JSON text>} */
    FAKE_ERROR,       /* reply {"Error": {"Code": "X", "Message": "m"}} */
    FAKE_PUT_EVENTS,  /* one result per entry; Source "bad" fails */
    FAKE_SILENT_ONCE, /* answer the first request late, then echo */
    FAKE_DELIMITED,   /* echo, with an empty delimiter before the body */
} fake_mode_t;

typedef struct fake {
    void *ctx;
    void *router;
    char endpoint[64];
    fake_mode_t mode;
    pthread_t thread;
    volatile int stop;
    char last_request[2048]; /* the last request body, as JSON */
} fake_t;

/* Appends msgpack for the JSON text `json` to `out`. */
static void s_pack(zb_buf_t *out, const char *json)
{
    assert_int_equal(zb_json_to_msgpack(json, strlen(json), out, NULL), 0);
}

static void s_send_reply(void *router, zmq_msg_t *identity, const zb_buf_t *body, int delimited)
{
    zmq_msg_send(identity, router, ZMQ_SNDMORE);
    if (delimited)
        zmq_send(router, "", 0, ZMQ_SNDMORE);
    zmq_send(router, body->data, body->len, 0);
}

/* Builds the reply for one request body. */
static void s_answer(fake_t *f, const zb_buf_t *req, zb_buf_t *reply)
{
    zb_buf_t *json = zb_buf_new(256);
    zb_msgpack_to_json(req->data, req->len, json, NULL);
    zb_buf_reset(reply);
    switch (f->mode) {
    case FAKE_ERROR:
        s_pack(reply, "{\"Error\":{\"Code\":\"ResourceNotFoundException\","
                      "\"Message\":\"Event bus nope does not exist.\"}}");
        break;
    case FAKE_PUT_EVENTS: {
        /* One result per entry; entries whose Source is "bad" fail. */
        zb_json_doc_t *doc = zb_json_parse(json->data, json->len, NULL);
        const zb_json_t *entries = zb_json_get(zb_json_root(doc), "Entries");
        zb_buf_t *text = zb_buf_new(256);
        int failed = 0, n = 0;
        zb_buf_append_str(text, "{\"Entries\":[");
        for (const zb_json_t *e = entries->child; e; e = e->next, n++) {
            const zb_json_t *src = zb_json_get(e, "Source");
            int bad = src && strcmp(src->str, "bad") == 0;
            failed += bad;
            zb_buf_appendf(text, "%s%s", n ? "," : "",
                bad ? "{\"ErrorCode\":\"MalformedDetail\",\"ErrorMessage\":\"Detail is malformed.\"}"
                    : "{\"EventId\":\"0190a0b0-0000-7000-8000-000000000001\"}");
        }
        zb_buf_appendf(text, "],\"FailedEntryCount\":%d}", failed);
        s_pack(reply, text->data);
        zb_buf_destroy(&text);
        zb_json_doc_destroy(&doc);
        break;
    }
    default: {
        zb_buf_t *text = zb_buf_new(256);
        zb_buf_append_str(text, "{\"Request\":");
        zb_json_put_string(text, json->data, json->len);
        zb_buf_append_str(text, "}");
        s_pack(reply, text->data);
        zb_buf_destroy(&text);
    }
    }
    zb_buf_destroy(&json);
}

static void *s_fake_run(void *arg)
{
    fake_t *f = arg;
    zb_buf_t *req = zb_buf_new(256), *reply = zb_buf_new(256);
    int answered = 0;
    while (!f->stop) {
        zmq_pollitem_t item = { f->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 20) <= 0)
            continue;
        zmq_msg_t identity, part;
        zmq_msg_init(&identity);
        zmq_msg_init(&part);
        zmq_msg_recv(&identity, f->router, 0);
        /* The body is the last frame; anything between is a route. */
        while (zmq_msg_recv(&part, f->router, 0) != -1) {
            zb_buf_reset(req);
            zb_buf_append(req, zmq_msg_data(&part), zmq_msg_size(&part));
            if (!zmq_msg_more(&part))
                break;
        }
        zb_buf_t *json = zb_buf_new(256);
        zb_msgpack_to_json(req->data, req->len, json, NULL);
        snprintf(f->last_request, sizeof f->last_request, "%s", json->data);
        zb_buf_destroy(&json);
        s_answer(f, req, reply);
        if (f->mode == FAKE_SILENT_ONCE && answered == 0)
            usleep(400 * 1000);  /* longer than the client's read timeout */
        s_send_reply(f->router, &identity, reply, f->mode == FAKE_DELIMITED);
        answered++;
        zmq_msg_close(&identity);
        zmq_msg_close(&part);
    }
    zb_buf_destroy(&req);
    zb_buf_destroy(&reply);
    return NULL;
}

static fake_t *s_fake_start(fake_mode_t mode)
{
    fake_t *f = calloc(1, sizeof *f);
    f->mode = mode;
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(f->router, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof f->endpoint;
    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, f->endpoint, &len);
    pthread_create(&f->thread, NULL, s_fake_run, f);
    return f;
}

static void s_fake_stop(fake_t **f_p)
{
    fake_t *f = *f_p;
    f->stop = 1;
    pthread_join(f->thread, NULL);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    free(f);
    *f_p = NULL;
}

/* A TCP endpoint nothing listens on: bind, note the port, unbind. */
static void s_dead_endpoint(char *out, size_t outsz)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    zmq_bind(s, "tcp://127.0.0.1:*");
    size_t len = outsz;
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, out, &len);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static long s_ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- client ------------------------------------------------------------- */

static void test_new_refuses_an_endpoint_without_a_transport(void **state)
{
    assert_null(zbridge_client_new("127.0.0.1:7400"));
    assert_null(zbridge_client_new("tcp://"));
    assert_null(zbridge_subscriber_new("nope", NULL));
    assert_null(zbridge_subscriber_new(NULL, NULL));
}

static void test_null_endpoint_reads_the_environment_then_the_default(void **state)
{
    unsetenv(ZBRIDGE_ENDPOINT_ENV);
    zbridge_client_t *c = zbridge_client_new(NULL);
    assert_string_equal(zbridge_client_endpoint(c), ZBRIDGE_DEFAULT_ENDPOINT);
    zbridge_client_destroy(&c);
    setenv(ZBRIDGE_ENDPOINT_ENV, "tcp://127.0.0.1:7999", 1);
    c = zbridge_client_new(NULL);
    assert_string_equal(zbridge_client_endpoint(c), "tcp://127.0.0.1:7999");
    zbridge_client_destroy(&c);
    unsetenv(ZBRIDGE_ENDPOINT_ENV);
    zbridge_client_destroy(&c);  /* twice is fine */
    assert_null(c);
}

static void test_call_json_sends_action_and_params_as_one_msgpack_map(void **state)
{
    fake_t *f = s_fake_start(FAKE_ECHO);
    zbridge_client_t *c = zbridge_client_new(f->endpoint);
    zbridge_error_t err;
    char *reply = zbridge_client_call_json(c, "PutRule",
                                           "{\"Name\":\"r\",\"EventBusName\":\"orders\"}", &err);
    assert_non_null(reply);
    assert_int_equal(err.kind, ZBRIDGE_OK);
    assert_string_equal(reply, "{\"Request\":\"{\\\"Action\\\":\\\"PutRule\\\","
                               "\\\"Name\\\":\\\"r\\\",\\\"EventBusName\\\":\\\"orders\\\"}\"}");
    free(reply);
    /* No params: the request is {"Action": ...} alone. */
    reply = zbridge_client_call_json(c, "ListEventBuses", NULL, &err);
    assert_string_equal(reply, "{\"Request\":\"{\\\"Action\\\":\\\"ListEventBuses\\\"}\"}");
    free(reply);
    zbridge_client_destroy(&c);
    s_fake_stop(&f);
}

static void test_call_takes_the_last_frame_when_the_broker_echoes_a_delimiter(void **state)
{
    fake_t *f = s_fake_start(FAKE_DELIMITED);
    zbridge_client_t *c = zbridge_client_new(f->endpoint);
    void *reply;
    size_t len;
    assert_int_equal(zbridge_client_call(c, "GetMetrics", NULL, 0, &reply, &len, NULL), 0);
    assert_true(len > 0);
    assert_int_equal(((unsigned char *) reply)[0] & 0xf0, 0x80);  /* a fixmap */
    free(reply);
    zbridge_client_destroy(&c);
    s_fake_stop(&f);
}

static void test_call_json_refuses_invalid_json_without_sending(void **state)
{
    zbridge_client_t *c = zbridge_client_new("tcp://127.0.0.1:1");
    zbridge_error_t err;
    assert_null(zbridge_client_call_json(c, "PutRule", "{\"Name\":", &err));
    assert_int_equal(err.kind, ZBRIDGE_ERROR_INPUT);
    assert_string_equal(err.code, "InvalidInput");
    assert_non_null(strstr(err.message, "Invalid JSON"));
    assert_null(zbridge_client_call_json(c, "PutRule", "[1]", &err));
    assert_int_equal(err.kind, ZBRIDGE_ERROR_INPUT);
    zbridge_client_destroy(&c);
}

static void test_error_reply_is_reported_with_the_brokers_code_and_message(void **state)
{
    fake_t *f = s_fake_start(FAKE_ERROR);
    zbridge_client_t *c = zbridge_client_new(f->endpoint);
    zbridge_error_t err;
    assert_null(zbridge_client_call_json(c, "DescribeEventBus", "{\"Name\":\"nope\"}", &err));
    assert_int_equal(err.kind, ZBRIDGE_ERROR_SERVICE);
    assert_string_equal(err.code, "ResourceNotFoundException");
    assert_string_equal(err.message, "Event bus nope does not exist.");
    zbridge_client_destroy(&c);
    s_fake_stop(&f);
}

static void test_unreachable_broker_fails_within_the_connect_timeout(void **state)
{
    char endpoint[64];
    s_dead_endpoint(endpoint, sizeof endpoint);
    zbridge_client_t *c = zbridge_client_new(endpoint);
    zbridge_client_set_timeouts(c, 200, 200);
    zbridge_error_t err;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_null(zbridge_client_call_json(c, "ListEventBuses", NULL, &err));
    long ms = s_ms_since(&t0);
    assert_true(ms >= 150 && ms < 2000);
    assert_int_equal(err.kind, ZBRIDGE_ERROR_CONNECT);
    assert_string_equal(err.code, "ConnectTimeout");
    assert_non_null(strstr(err.message, endpoint));
    zbridge_client_destroy(&c);
}

static void test_a_late_reply_is_never_taken_for_the_next_requests(void **state)
{
    fake_t *f = s_fake_start(FAKE_SILENT_ONCE);
    zbridge_client_t *c = zbridge_client_new(f->endpoint);
    zbridge_client_set_timeouts(c, 1000, 150);
    zbridge_error_t err;
    assert_null(zbridge_client_call_json(c, "DescribeRule", "{\"Name\":\"first\"}", &err));
    assert_int_equal(err.kind, ZBRIDGE_ERROR_TIMEOUT);
    assert_string_equal(err.code, "ReadTimeout");
    usleep(400 * 1000);  /* the late reply to "first" is sent meanwhile */
    zbridge_client_set_timeouts(c, 1000, 2000);
    char *reply = zbridge_client_call_json(c, "DescribeRule", "{\"Name\":\"second\"}", &err);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "second"));
    free(reply);
    zbridge_client_destroy(&c);
    s_fake_stop(&f);
}

static void test_put_events_returns_failed_count_and_per_entry_results(void **state)
{
    fake_t *f = s_fake_start(FAKE_PUT_EVENTS);
    zbridge_client_t *c = zbridge_client_new(f->endpoint);
    const char *res[] = { "arn:1" };
    zbridge_entry_t entries[2] = {
        { .source = "shop", .detail_type = "OrderPlaced", .detail = "{\"id\":1}",
          .resources = res, .resource_count = 1, .event_bus_name = "orders" },
        { .source = "bad", .detail_type = "OrderPlaced", .detail = "{}" },
    };
    zbridge_entry_result_t results[2];
    zbridge_error_t err;
    assert_int_equal(zbridge_client_put_events(c, entries, 2, results, &err), 1);
    assert_string_equal(results[0].event_id, "0190a0b0-0000-7000-8000-000000000001");
    assert_string_equal(results[0].error_code, "");
    assert_string_equal(results[1].event_id, "");
    assert_string_equal(results[1].error_code, "MalformedDetail");
    assert_string_equal(results[1].error_message, "Detail is malformed.");

    char id[64];
    assert_int_equal(zbridge_client_put_event(c, &entries[0], id, &err), 0);
    assert_string_equal(id, "0190a0b0-0000-7000-8000-000000000001");
    /* A single entry that fails is an error carrying the entry's code. */
    assert_int_equal(zbridge_client_put_event(c, &entries[1], id, &err), -1);
    assert_int_equal(err.kind, ZBRIDGE_ERROR_SERVICE);
    assert_string_equal(err.code, "MalformedDetail");
    assert_string_equal(err.message, "Detail is malformed.");
    zbridge_client_destroy(&c);
    s_fake_stop(&f);
}

static void test_put_events_encodes_entries_with_eventbridge_field_names(void **state)
{
    fake_t *f = s_fake_start(FAKE_PUT_EVENTS);
    zbridge_client_t *c = zbridge_client_new(f->endpoint);
    const char *res[] = { "arn:1", "arn:2" };
    zbridge_entry_t e[2] = {
        { .source = "shop", .detail_type = "OrderPlaced", .detail = "{\"id\":1}",
          .resources = res, .resource_count = 2, .time = "2026-01-31T12:00:00Z",
          .event_bus_name = "orders", .trace_header = "t" },
        { .source = "bad", .detail_type = "d", .detail = "{}" },
    };
    assert_int_equal(zbridge_client_put_events(c, e, 2, NULL, NULL), 1);
    assert_string_equal(f->last_request,
        "{\"Action\":\"PutEvents\",\"Entries\":["
        "{\"Source\":\"shop\",\"DetailType\":\"OrderPlaced\",\"Detail\":\"{\\\"id\\\":1}\","
        "\"Resources\":[\"arn:1\",\"arn:2\"],\"Time\":\"2026-01-31T12:00:00Z\","
        "\"EventBusName\":\"orders\",\"TraceHeader\":\"t\"},"
        "{\"Source\":\"bad\",\"DetailType\":\"d\",\"Detail\":\"{}\"}]}");
    zbridge_client_destroy(&c);
    s_fake_stop(&f);
}

static void test_put_event_refuses_a_detail_that_is_not_json(void **state)
{
    zbridge_client_t *c = zbridge_client_new("tcp://127.0.0.1:1");
    zbridge_entry_t e = { .source = "s", .detail_type = "t", .detail = "{oops}" };
    zbridge_error_t err;
    assert_int_equal(zbridge_client_put_event(c, &e, NULL, &err), -1);
    assert_int_equal(err.kind, ZBRIDGE_ERROR_INPUT);
    assert_non_null(strstr(err.message, "Detail is not valid JSON"));
    zbridge_entry_t missing = { .source = "s" };
    assert_int_equal(zbridge_client_put_event(c, &missing, NULL, &err), -1);
    assert_int_equal(err.kind, ZBRIDGE_ERROR_INPUT);
    assert_int_equal(zbridge_client_put_events(c, &e, 0, NULL, &err), -1);
    zbridge_client_destroy(&c);
}

/* One thread's share of the concurrency test: its own client, its own
 * requests, and every reply must be the answer to its own request. */
typedef struct worker {
    const char *endpoint;
    int index;
    int good;
} worker_t;

static void *s_worker_run(void *arg)
{
    worker_t *w = arg;
    zbridge_client_t *c = zbridge_client_new(w->endpoint);
    for (int i = 0; c && i < 50; i++) {
        char params[64], want[64];
        snprintf(params, sizeof params, "{\"Name\":\"w%d-%d\"}", w->index, i);
        snprintf(want, sizeof want, "w%d-%d\\\"", w->index, i);
        char *reply = zbridge_client_call_json(c, "DescribeRule", params, NULL);
        if (reply && strstr(reply, want))
            w->good++;
        free(reply);
    }
    zbridge_client_destroy(&c);
    return NULL;
}

static void test_clients_in_different_threads_do_not_interfere(void **state)
{
    fake_t *f = s_fake_start(FAKE_ECHO);
    pthread_t threads[4];
    worker_t workers[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (worker_t) { f->endpoint, i, 0 };
        pthread_create(&threads[i], NULL, s_worker_run, &workers[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].good, 50);
    }
    s_fake_stop(&f);
}

/* ---- subscriber --------------------------------------------------------- */

static const char *ENVELOPE_JSON =
    "{\"version\":\"0\",\"id\":\"0190a0b0-0000-7000-8000-000000000002\","
    "\"detail-type\":\"OrderPlaced\",\"source\":\"shop\",\"account\":\"000000000000\","
    "\"time\":\"2026-01-31T12:00:00Z\",\"region\":\"local\","
    "\"resources\":[\"arn:a\",\"arn:b\"],\"detail\":{\"id\":7,\"items\":[\"x\"]}}";

/* Publishes [topic, body] until the subscriber has it (PUB/SUB joins late). */
static zbridge_event_t *s_publish_until_received(void *pub, zbridge_subscriber_t *sub,
                                                 const char *topic, const zb_buf_t *body,
                                                 zbridge_error_t *err)
{
    for (int i = 0; i < 100; i++) {
        zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
        zmq_send(pub, body->data, body->len, 0);
        zbridge_event_t *ev = zbridge_subscriber_recv(sub, 50, err);
        if (ev || err->kind != ZBRIDGE_ERROR_TIMEOUT)
            return ev;
    }
    return NULL;
}

static void test_subscriber_decodes_an_envelope(void **state)
{
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(pub, "tcp://127.0.0.1:*");
    char endpoint[64];
    size_t len = sizeof endpoint;
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, endpoint, &len);

    zbridge_subscriber_t *sub = zbridge_subscriber_new(endpoint, "orders");
    assert_non_null(sub);
    zb_buf_t *body = zb_buf_new(256);
    s_pack(body, ENVELOPE_JSON);
    zbridge_error_t err;
    zbridge_event_t *ev = s_publish_until_received(pub, sub, "orders.placed", body, &err);
    assert_non_null(ev);
    assert_string_equal(ev->topic, "orders.placed");
    assert_string_equal(ev->version, "0");
    assert_string_equal(ev->id, "0190a0b0-0000-7000-8000-000000000002");
    assert_string_equal(ev->detail_type, "OrderPlaced");
    assert_string_equal(ev->source, "shop");
    assert_string_equal(ev->account, "000000000000");
    assert_string_equal(ev->time, "2026-01-31T12:00:00Z");
    assert_string_equal(ev->region, "local");
    assert_int_equal(ev->resource_count, 2);
    assert_string_equal(ev->resources[1], "arn:b");
    assert_string_equal(ev->detail, "{\"id\":7,\"items\":[\"x\"]}");
    assert_string_equal(ev->json, ENVELOPE_JSON);
    assert_int_equal(ev->envelope_len, body->len);
    assert_memory_equal(ev->envelope, body->data, body->len);
    zbridge_event_destroy(&ev);
    zbridge_event_destroy(&ev);
    assert_null(ev);

    /* Other topics are filtered out; nothing comes within the timeout. */
    zmq_send(pub, "billing", 7, ZMQ_SNDMORE);
    zmq_send(pub, body->data, body->len, 0);
    assert_null(zbridge_subscriber_recv(sub, 100, &err));
    assert_int_equal(err.kind, ZBRIDGE_ERROR_TIMEOUT);

    /* A message that is not an envelope is dropped and reported. */
    zmq_send(pub, "orders", 6, ZMQ_SNDMORE);
    zmq_send(pub, "\xc1", 1, 0);
    assert_null(zbridge_subscriber_recv(sub, 2000, &err));
    assert_int_equal(err.kind, ZBRIDGE_ERROR_PROTOCOL);

    zb_buf_destroy(&body);
    zbridge_subscriber_destroy(&sub);
    zbridge_subscriber_destroy(&sub);
    zmq_close(pub);
    zmq_ctx_term(ctx);
}

static void test_subscriber_refuses_a_map_that_is_not_an_envelope(void **state)
{
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(pub, "tcp://127.0.0.1:*");
    char endpoint[64];
    size_t len = sizeof endpoint;
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, endpoint, &len);
    zbridge_subscriber_t *sub = zbridge_subscriber_new(endpoint, NULL);
    zb_buf_t *body = zb_buf_new(64);
    zbridge_error_t err;
    /* Keys missing. */
    s_pack(body, "{\"id\":\"x\",\"detail\":{}}");
    assert_null(s_publish_until_received(pub, sub, "t", body, &err));
    assert_int_equal(err.kind, ZBRIDGE_ERROR_PROTOCOL);
    /* Every key, but detail as JSON text and a resource that is no string. */
    const char *mistyped[] = {
        "{\"version\":\"0\",\"id\":\"x\",\"detail-type\":\"t\",\"source\":\"s\","
        "\"account\":\"a\",\"time\":\"2026-01-31T12:00:00Z\",\"region\":\"r\","
        "\"resources\":[],\"detail\":\"{}\"}",
        "{\"version\":\"0\",\"id\":\"x\",\"detail-type\":\"t\",\"source\":\"s\","
        "\"account\":\"a\",\"time\":\"2026-01-31T12:00:00Z\",\"region\":\"r\","
        "\"resources\":[1],\"detail\":{}}",
    };
    for (size_t i = 0; i < 2; i++) {
        zb_buf_reset(body);
        s_pack(body, mistyped[i]);
        zmq_send(pub, "t", 1, ZMQ_SNDMORE);
        zmq_send(pub, body->data, body->len, 0);
        assert_null(zbridge_subscriber_recv(sub, 2000, &err));
        assert_int_equal(err.kind, ZBRIDGE_ERROR_PROTOCOL);
    }
    /* A good one after the bad ones still comes through. */
    zb_buf_reset(body);
    s_pack(body, ENVELOPE_JSON);
    zmq_send(pub, "t", 1, ZMQ_SNDMORE);
    zmq_send(pub, body->data, body->len, 0);
    zbridge_event_t *ev = zbridge_subscriber_recv(sub, 2000, &err);
    assert_non_null(ev);
    zbridge_event_destroy(&ev);
    zb_buf_destroy(&body);
    zbridge_subscriber_destroy(&sub);
    zmq_close(pub);
    zmq_ctx_term(ctx);
}

static void test_subscriber_survives_every_truncation_of_an_envelope(void **state)
{
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(pub, "tcp://127.0.0.1:*");
    char endpoint[64];
    size_t len = sizeof endpoint;
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, endpoint, &len);
    zbridge_subscriber_t *sub = zbridge_subscriber_new(endpoint, NULL);
    zb_buf_t *body = zb_buf_new(256);
    s_pack(body, ENVELOPE_JSON);
    zbridge_error_t err;
    zbridge_event_t *ev = s_publish_until_received(pub, sub, "t", body, &err);
    assert_non_null(ev);  /* joined: from here on nothing is lost */
    zbridge_event_destroy(&ev);
    /* Every strict prefix is refused cleanly; the whole one still decodes. */
    for (size_t n = 0; n <= body->len; n++) {
        zmq_send(pub, "t", 1, ZMQ_SNDMORE);
        zmq_send(pub, body->data, n, 0);
        ev = zbridge_subscriber_recv(sub, 2000, &err);
        if (n < body->len) {
            assert_null(ev);
            assert_int_equal(err.kind, ZBRIDGE_ERROR_PROTOCOL);
        }
        else {
            assert_non_null(ev);
            assert_string_equal(ev->json, ENVELOPE_JSON);
            zbridge_event_destroy(&ev);
        }
    }
    zb_buf_destroy(&body);
    zbridge_subscriber_destroy(&sub);
    zmq_close(pub);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_an_endpoint_without_a_transport),
        cmocka_unit_test(test_null_endpoint_reads_the_environment_then_the_default),
        cmocka_unit_test(test_call_json_sends_action_and_params_as_one_msgpack_map),
        cmocka_unit_test(test_call_takes_the_last_frame_when_the_broker_echoes_a_delimiter),
        cmocka_unit_test(test_call_json_refuses_invalid_json_without_sending),
        cmocka_unit_test(test_error_reply_is_reported_with_the_brokers_code_and_message),
        cmocka_unit_test(test_unreachable_broker_fails_within_the_connect_timeout),
        cmocka_unit_test(test_a_late_reply_is_never_taken_for_the_next_requests),
        cmocka_unit_test(test_put_events_returns_failed_count_and_per_entry_results),
        cmocka_unit_test(test_put_events_encodes_entries_with_eventbridge_field_names),
        cmocka_unit_test(test_put_event_refuses_a_detail_that_is_not_json),
        cmocka_unit_test(test_clients_in_different_threads_do_not_interfere),
        cmocka_unit_test(test_subscriber_decodes_an_envelope),
        cmocka_unit_test(test_subscriber_refuses_a_map_that_is_not_an_envelope),
        cmocka_unit_test(test_subscriber_survives_every_truncation_of_an_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
