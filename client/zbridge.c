/*
 * zbridge.c — libzbridge: a client of zbridged and a subscriber of its
 * targets. See zbridge.h for the contract.
 *
 * Requests go out on a DEALER socket as one frame (the msgpack map); the
 * reply is the last frame of whatever comes back, so brokers that echo an
 * empty delimiter work too. ZMQ_IMMEDIATE keeps a request from being
 * queued on a connection that does not exist yet, which is what lets the
 * connect timeout be measured as "time until the socket is writable".
 */
#include "zbridge.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "json.h"
#include "mpk.h"
#include "zb_buf.h"
#include "zb_proto.h"

struct zbridge_client {
    void *ctx;
    void *sock;          /* DEALER, NULL until the first request */
    char *endpoint;
    int connect_ms;
    int read_ms;
};

struct zbridge_subscriber {
    void *ctx;
    void *sock;          /* SUB */
};

/* ---- errors ------------------------------------------------------------- */

static int s_fail(zbridge_error_t *err, zbridge_error_kind_t kind, const char *code,
                  const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Fills *err (when not NULL) and returns -1, so callers can `return s_fail()`. */
static int s_fail(zbridge_error_t *err, zbridge_error_kind_t kind, const char *code,
                  const char *fmt, ...)
{
    if (err) {
        err->kind = kind;
        snprintf(err->code, sizeof err->code, "%s", code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void s_ok(zbridge_error_t *err)
{
    if (err) {
        err->kind = ZBRIDGE_OK;
        err->code[0] = '\0';
        err->message[0] = '\0';
    }
}

static int s_nomem(zbridge_error_t *err)
{
    return s_fail(err, ZBRIDGE_ERROR_SYSTEM, "SystemError", "out of memory");
}

/* Copies a msgpack string into a fixed buffer, truncating. */
static void s_copy_str(char *dst, size_t dstsz, const char *s, uint32_t len)
{
    size_t n = len < dstsz - 1 ? len : dstsz - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* ZeroMQ validates endpoints only when connecting; check the shape here so
 * zbridge_x_new() can refuse nonsense up front. */
static bool s_endpoint_ok(const char *endpoint)
{
    const char *sep = strstr(endpoint, "://");
    return sep && sep != endpoint && sep[3] != '\0';
}

/* ---- client ------------------------------------------------------------- */

zbridge_client_t *zbridge_client_new(const char *endpoint)
{
    if (!endpoint) {
        endpoint = getenv(ZBRIDGE_ENDPOINT_ENV);
        if (!endpoint || !*endpoint)
            endpoint = ZBRIDGE_DEFAULT_ENDPOINT;
    }
    if (!s_endpoint_ok(endpoint))
        return NULL;
    zbridge_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup(endpoint);
    self->ctx = zmq_ctx_new();
    if (!self->endpoint || !self->ctx) {
        zbridge_client_destroy(&self);
        return NULL;
    }
    self->connect_ms = ZBRIDGE_DEFAULT_CONNECT_TIMEOUT;
    self->read_ms = ZBRIDGE_DEFAULT_READ_TIMEOUT;
    return self;
}

void zbridge_client_destroy(zbridge_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zbridge_client_t *self = *self_p;
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

const char *zbridge_client_endpoint(const zbridge_client_t *self)
{
    return self->endpoint;
}

void zbridge_client_set_timeouts(zbridge_client_t *self, int connect_ms, int read_ms)
{
    self->connect_ms = connect_ms > 0 ? connect_ms : ZBRIDGE_DEFAULT_CONNECT_TIMEOUT;
    self->read_ms = read_ms > 0 ? read_ms : ZBRIDGE_DEFAULT_READ_TIMEOUT;
}

/* Opens the DEALER socket if it is not open. LINGER 0: a request still
 * queued when the client goes away is dropped rather than blocking exit. */
static int client__open(zbridge_client_t *self, zbridge_error_t *err)
{
    if (self->sock)
        return 0;
    void *sock = zmq_socket(self->ctx, ZMQ_DEALER);
    if (!sock)
        return s_fail(err, ZBRIDGE_ERROR_SYSTEM, "SystemError", "zmq_socket: %s",
                      zmq_strerror(errno));
    int linger = 0, immediate = 1;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
    if (zmq_connect(sock, self->endpoint) == -1) {
        int e = errno;
        zmq_close(sock);
        return s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput", "invalid endpoint \"%s\": %s",
                      self->endpoint, zmq_strerror(e));
    }
    self->sock = sock;
    return 0;
}

/* Drops the socket, and with it anything in flight: the next request
 * starts on a fresh connection, so a reply that arrives after its request
 * timed out is never read as the reply to another one. */
static void client__reset(zbridge_client_t *self)
{
    if (self->sock) {
        zmq_close(self->sock);
        self->sock = NULL;
    }
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls the socket for `events` for up to `timeout_ms`, resuming after
 * signals that did not stop the process. Returns 1 ready, 0 timed out,
 * -1 on failure. */
static int s_wait(void *sock, short events, int timeout_ms)
{
    int64_t deadline = s_now_ms() + timeout_ms;
    for (;;) {
        zmq_pollitem_t item = { sock, 0, events, 0 };
        int64_t left = deadline - s_now_ms();
        if (left < 0)
            left = 0;
        int rc = zmq_poll(&item, 1, (long) left);
        if (rc > 0)
            return 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Receives a whole message and keeps its last frame in `out`. */
static int s_recv_last_frame(void *sock, zb_buf_t *out)
{
    zb_buf_reset(out);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int more = 1, rc = 0;
    while (more) {
        if (zmq_msg_recv(&msg, sock, 0) == -1) {
            rc = -1;
            break;
        }
        more = zmq_msg_more(&msg);
        zb_buf_reset(out);
        if (zb_buf_append(out, zmq_msg_data(&msg), zmq_msg_size(&msg)) != 0)
            rc = -1;
    }
    zmq_msg_close(&msg);
    return rc;
}

/* Sends `req` and waits for the reply, within the client's timeouts.
 * `action` only serves error messages. Returns 0 with the reply in `reply`. */
static int client__exchange(zbridge_client_t *self, const char *action, const zb_buf_t *req,
                            zb_buf_t *reply, zbridge_error_t *err)
{
    if (client__open(self, err) != 0)
        return -1;
    int rc = s_wait(self->sock, ZMQ_POLLOUT, self->connect_ms);
    if (rc == 0) {
        client__reset(self);
        return s_fail(err, ZBRIDGE_ERROR_CONNECT, "ConnectTimeout",
                      "Could not connect to the endpoint URL: \"%s\"", self->endpoint);
    }
    if (rc == -1 || zmq_send(self->sock, req->data, req->len, ZMQ_DONTWAIT) == -1) {
        int e = errno;
        client__reset(self);
        return s_fail(err, ZBRIDGE_ERROR_SYSTEM, "SystemError", "sending %s: %s", action,
                      zmq_strerror(e));
    }
    rc = s_wait(self->sock, ZMQ_POLLIN, self->read_ms);
    if (rc == 0) {
        client__reset(self);
        return s_fail(err, ZBRIDGE_ERROR_TIMEOUT, "ReadTimeout",
                      "Read timeout on endpoint URL: \"%s\"", self->endpoint);
    }
    if (rc == -1 || s_recv_last_frame(self->sock, reply) != 0) {
        int e = errno;
        client__reset(self);
        return s_fail(err, ZBRIDGE_ERROR_SYSTEM, "SystemError", "receiving %s reply: %s",
                      action, zmq_strerror(e));
    }
    return 0;
}

/* Builds {Action: action, ...params} into `out`. */
static int s_build_request(zb_buf_t *out, const char *action, const void *params,
                           size_t params_len, zbridge_error_t *err)
{
    uint32_t count = 0;
    zb_mpk_t cur;
    zb_mpk_init(&cur, params, params_len);
    if (params && params_len > 0) {
        if (zb_mpk_read_map(&cur, &count) != 0)
            return s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput",
                          "parameters of %s must be a msgpack map", action);
        if (count == UINT32_MAX)
            return s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput", "too many parameters");
    }
    size_t header = zb_mpk_offset(&cur);
    if (zb_mpk_put_map(out, count + 1) != 0
        || zb_mpk_put_str(out, "Action", 6) != 0
        || zb_mpk_put_str(out, action, strlen(action)) != 0
        || (params_len > header
            && zb_buf_append(out, (const char *) params + header, params_len - header) != 0))
        return s_nomem(err);
    return 0;
}

/* Copies a str field of `m` into dst (truncating); leaves dst alone when
 * the field is absent or not a string. */
static void s_get_str(const zb_map_t *m, const char *key, char *dst, size_t dstsz)
{
    const char *s;
    uint32_t len;
    if (zb_map_get_str(m, key, &s, &len) == 0)
        s_copy_str(dst, dstsz, s, len);
}

/* If `reply` is {"Error": {"Code": c, "Message": m}}, fills *err and
 * returns -1; returns 0 for any other map, and -1 (PROTOCOL) for a reply
 * that is not a map or whose Error is not a map (never a success). The code is kept as text, not mapped onto the codec's
 * enum, so codes a newer broker adds still reach the caller. */
static int s_check_reply(const zb_buf_t *reply, const char *action, zbridge_error_t *err)
{
    zb_map_t m, e;
    if (zb_map_decode(&m, reply->data, reply->len, NULL) != 0)
        return s_fail(err, ZBRIDGE_ERROR_PROTOCOL, "InvalidReply",
                      "the reply to %s is not a msgpack map", action);
    const zb_field_t *f = zb_map_get(&m, "Error");
    if (!f)
        return 0;
    if (zb_map_decode(&e, f->val, f->val_len, NULL) != 0)
        return s_fail(err, ZBRIDGE_ERROR_PROTOCOL, "InvalidReply",
                      "the reply to %s has an Error that is not a map", action);
    char code[128] = "UnknownError", message[1024] = "";
    s_get_str(&e, "Code", code, sizeof code);
    s_get_str(&e, "Message", message, sizeof message);
    return s_fail(err, ZBRIDGE_ERROR_SERVICE, code, "%s", message);
}

/* One request, reply checked for errors: the core of every public call. */
static int client__call(zbridge_client_t *self, const char *action, const void *params,
                        size_t params_len, zb_buf_t *reply, zbridge_error_t *err)
{
    zb_buf_t *req = zb_buf_new(64 + params_len);
    if (!req)
        return s_nomem(err);
    int rc = s_build_request(req, action, params, params_len, err);
    if (rc == 0)
        rc = client__exchange(self, action, req, reply, err);
    zb_buf_destroy(&req);
    if (rc == 0)
        rc = s_check_reply(reply, action, err);
    if (rc == 0)
        s_ok(err);
    return rc;
}

int zbridge_client_call(zbridge_client_t *self, const char *action, const void *params,
                        size_t params_len, void **reply, size_t *reply_len,
                        zbridge_error_t *err)
{
    *reply = NULL;
    *reply_len = 0;
    zb_buf_t *buf = zb_buf_new(256);
    if (!buf)
        return s_nomem(err);
    int rc = client__call(self, action, params, params_len, buf, err);
    if (rc == 0) {
        /* Hand the buffer's bytes over instead of copying them. */
        *reply = buf->data;
        *reply_len = buf->len;
        buf->data = NULL;
        free(buf);
    }
    else
        zb_buf_destroy(&buf);
    return rc;
}

char *zbridge_client_call_json(zbridge_client_t *self, const char *action,
                               const char *params_json, zbridge_error_t *err)
{
    zb_buf_t *params = zb_buf_new(256);
    zb_buf_t *reply = zb_buf_new(256);
    char *result = NULL;
    if (!params || !reply) {
        s_nomem(err);
        goto done;
    }
    if (params_json) {
        zb_json_error_t jerr;
        if (zb_json_to_msgpack(params_json, strlen(params_json), params, &jerr) != 0) {
            s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput", "Invalid JSON: %s", jerr.message);
            goto done;
        }
        zb_mpk_t cur;
        zb_mpk_init(&cur, params->data, params->len);
        if (zb_mpk_peek(&cur) != ZB_MPK_MAP) {
            s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput",
                   "the parameters of %s must be a JSON object", action);
            goto done;
        }
    }
    if (client__call(self, action, params->data, params->len, reply, err) != 0)
        goto done;
    zb_buf_t *json = params;  /* reuse: the request is gone */
    zb_buf_reset(json);
    zb_json_error_t jerr;
    if (zb_msgpack_to_json(reply->data, reply->len, json, &jerr) != 0) {
        s_fail(err, ZBRIDGE_ERROR_PROTOCOL, "InvalidReply",
               "the reply to %s cannot be shown as JSON: %s", action, jerr.message);
        goto done;
    }
    result = json->data;
    json->data = NULL;
    free(json);
    params = NULL;
done:
    zb_buf_destroy(&params);
    zb_buf_destroy(&reply);
    return result;
}

/* ---- client: PutEvents -------------------------------------------------- */

/* Appends one entry map. Detail goes out as JSON text, as in EventBridge's
 * API; it is checked here so a typo fails before anything is sent. */
static int s_put_entry(zb_buf_t *out, const zbridge_entry_t *e, size_t index,
                       zbridge_error_t *err)
{
    if (!e->source || !e->detail_type || !e->detail)
        return s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput",
                      "entry %zu: source, detail_type and detail are required", index);
    zb_json_error_t jerr;
    zb_json_doc_t *doc = zb_json_parse(e->detail, strlen(e->detail), &jerr);
    if (!doc)
        return s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput",
                      "entry %zu: Detail is not valid JSON: %s", index, jerr.message);
    zb_json_doc_destroy(&doc);

    uint32_t n = 3 + (e->resources != NULL) + (e->time != NULL)
               + (e->event_bus_name != NULL) + (e->trace_header != NULL);
    int rc = zb_mpk_put_map(out, n);
    rc |= zb_put_cstr(out, "Source") | zb_put_cstr(out, e->source);
    rc |= zb_put_cstr(out, "DetailType") | zb_put_cstr(out, e->detail_type);
    rc |= zb_put_cstr(out, "Detail") | zb_put_cstr(out, e->detail);
    if (e->resources) {
        rc |= zb_put_cstr(out, "Resources") | zb_mpk_put_array(out, (uint32_t) e->resource_count);
        for (size_t i = 0; i < e->resource_count; i++)
            rc |= zb_put_cstr(out, e->resources[i]);
    }
    if (e->time)
        rc |= zb_put_cstr(out, "Time") | zb_put_cstr(out, e->time);
    if (e->event_bus_name)
        rc |= zb_put_cstr(out, "EventBusName") | zb_put_cstr(out, e->event_bus_name);
    if (e->trace_header)
        rc |= zb_put_cstr(out, "TraceHeader") | zb_put_cstr(out, e->trace_header);
    return rc ? s_nomem(err) : 0;
}

/* Reads FailedEntryCount and Entries (one {EventId} or {ErrorCode,
 * ErrorMessage} map per entry) from a PutEvents reply. */
static int s_read_put_events_reply(const zb_buf_t *reply, zbridge_entry_result_t *results,
                                   size_t count, zbridge_error_t *err)
{
    zb_map_t m;
    int64_t failed;
    uint32_t n;
    zb_mpk_t cur;
    const zb_field_t *entries;
    if (zb_map_decode(&m, reply->data, reply->len, NULL) != 0
        || zb_map_get_int(&m, "FailedEntryCount", &failed) != 0 || failed < 0
        || !(entries = zb_map_get(&m, "Entries")))
        goto bad;
    zb_mpk_init(&cur, entries->val, entries->val_len);
    if (zb_mpk_read_array(&cur, &n) != 0 || n != count)
        goto bad;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *start = cur.p;
        zb_map_t e;
        if (zb_mpk_skip(&cur, ZB_MPK_MAX_DEPTH) != 0
            || zb_map_decode(&e, start, (size_t) (cur.p - start), NULL) != 0)
            goto bad;
        if (results) {
            zbridge_entry_result_t *r = &results[i];
            memset(r, 0, sizeof *r);
            s_get_str(&e, "EventId", r->event_id, sizeof r->event_id);
            s_get_str(&e, "ErrorCode", r->error_code, sizeof r->error_code);
            s_get_str(&e, "ErrorMessage", r->error_message, sizeof r->error_message);
        }
    }
    return failed > INT32_MAX ? INT32_MAX : (int) failed;
bad:
    return s_fail(err, ZBRIDGE_ERROR_PROTOCOL, "InvalidReply",
                  "the reply to PutEvents lacks FailedEntryCount or one result per entry");
}

int zbridge_client_put_events(zbridge_client_t *self, const zbridge_entry_t *entries,
                              size_t count, zbridge_entry_result_t *results,
                              zbridge_error_t *err)
{
    if (count == 0 || count > UINT32_MAX)
        return s_fail(err, ZBRIDGE_ERROR_INPUT, "InvalidInput",
                      "PutEvents needs at least one entry");
    /* Size hints only: the buffers grow as needed. */
    size_t hint = count < 256 ? count : 256;
    zb_buf_t *params = zb_buf_new(256 * hint);
    zb_buf_t *reply = zb_buf_new(64 * hint);
    int rc = -1;
    if (!params || !reply) {
        s_nomem(err);
        goto done;
    }
    if (zb_mpk_put_map(params, 1) != 0 || zb_put_cstr(params, "Entries") != 0
        || zb_mpk_put_array(params, (uint32_t) count) != 0) {
        s_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < count; i++)
        if (s_put_entry(params, &entries[i], i, err) != 0)
            goto done;
    if (client__call(self, "PutEvents", params->data, params->len, reply, err) != 0)
        goto done;
    rc = s_read_put_events_reply(reply, results, count, err);
done:
    zb_buf_destroy(&params);
    zb_buf_destroy(&reply);
    return rc;
}

int zbridge_client_put_event(zbridge_client_t *self, const zbridge_entry_t *entry,
                             char *event_id, zbridge_error_t *err)
{
    zbridge_entry_result_t r;
    int failed = zbridge_client_put_events(self, entry, 1, &r, err);
    if (failed < 0)
        return -1;
    if (failed > 0 || r.event_id[0] == '\0')
        return s_fail(err, ZBRIDGE_ERROR_SERVICE, r.error_code[0] ? r.error_code : "UnknownError",
                      "%s", r.error_message);
    if (event_id)
        snprintf(event_id, 64, "%s", r.event_id);
    return 0;
}

/* ---- events ------------------------------------------------------------- */

void zbridge_event_destroy(zbridge_event_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zbridge_event_t *self = *self_p;
    free(self->topic);
    free(self->version);
    free(self->id);
    free(self->detail_type);
    free(self->source);
    free(self->account);
    free(self->time);
    free(self->region);
    for (size_t i = 0; i < self->resource_count; i++)
        free(self->resources[i]);
    free(self->resources);
    free(self->detail);
    free(self->json);
    free(self->envelope);
    free(self);
    *self_p = NULL;
}

static char *s_strndup(const void *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Copies the array of str at r[0..len) into ev->resources. */
static int s_read_resources(zbridge_event_t *ev, const uint8_t *r, size_t len)
{
    zb_mpk_t cur;
    uint32_t n;
    zb_mpk_init(&cur, r, len);
    if (zb_mpk_read_array(&cur, &n) != 0 || n > len)  /* each element takes a byte */
        return -1;
    ev->resources = calloc(n ? n : 1, sizeof *ev->resources);
    if (!ev->resources)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        uint32_t slen;
        if (zb_mpk_read_str(&cur, &s, &slen) != 0
            || !(ev->resources[i] = s_strndup(s, slen)))
            return -1;
        ev->resource_count = i + 1;
    }
    return 0;
}

/* msgpack bytes as a NUL-terminated, malloc'd JSON text, or NULL. */
static char *s_to_json(const void *buf, size_t len)
{
    zb_buf_t *json = zb_buf_new(len * 2);
    char *out = NULL;
    if (json && zb_msgpack_to_json(buf, len, json, NULL) == 0) {
        out = json->data;
        json->data = NULL;
    }
    zb_buf_destroy(&json);
    return out;
}

/* Decodes the envelope (PROTOCOL.md section 4) with the codec's reader,
 * which checks every key and type, into `ev`'s fields. */
static int s_decode_envelope(zbridge_event_t *ev)
{
    zb_envelope_view_t v;
    if (zb_envelope_decode(&v, ev->envelope, ev->envelope_len) != 0)
        return -1;
    ev->version = s_strndup(v.version, v.version_len);
    ev->id = s_strndup(v.id, v.id_len);
    ev->detail_type = s_strndup(v.detail_type, v.detail_type_len);
    ev->source = s_strndup(v.source, v.source_len);
    ev->account = s_strndup(v.account, v.account_len);
    ev->time = s_strndup(v.time, v.time_len);
    ev->region = s_strndup(v.region, v.region_len);
    ev->detail = s_to_json(v.detail, v.detail_len);
    ev->json = s_to_json(ev->envelope, ev->envelope_len);
    if (!ev->version || !ev->id || !ev->detail_type || !ev->source || !ev->account
        || !ev->time || !ev->region || !ev->detail || !ev->json)
        return -1;
    return s_read_resources(ev, v.resources, v.resources_len);
}

/* ---- subscriber --------------------------------------------------------- */

zbridge_subscriber_t *zbridge_subscriber_new(const char *endpoint, const char *topic_prefix)
{
    if (!endpoint || !s_endpoint_ok(endpoint))
        return NULL;
    zbridge_subscriber_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = zmq_ctx_new();
    if (self->ctx)
        self->sock = zmq_socket(self->ctx, ZMQ_SUB);
    if (!self->sock) {
        zbridge_subscriber_destroy(&self);
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zbridge_subscriber_subscribe(self, topic_prefix) != 0
        || zmq_connect(self->sock, endpoint) == -1)
        zbridge_subscriber_destroy(&self);
    return self;
}

void zbridge_subscriber_destroy(zbridge_subscriber_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zbridge_subscriber_t *self = *self_p;
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self);
    *self_p = NULL;
}

int zbridge_subscriber_subscribe(zbridge_subscriber_t *self, const char *topic_prefix)
{
    if (!topic_prefix)
        topic_prefix = "";
    return zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, topic_prefix, strlen(topic_prefix)) == 0
         ? 0 : -1;
}

/* Reads one published message: [topic, envelope]. Anything else is
 * consumed whole and reported as a protocol error. */
static zbridge_event_t *subscriber__read(zbridge_subscriber_t *self, zbridge_error_t *err)
{
    zbridge_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        s_nomem(err);
        return NULL;
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int frames = 0, more = 1, rc = 0;
    while (more) {
        if (zmq_msg_recv(&msg, self->sock, 0) == -1) {
            rc = -1;
            break;
        }
        more = zmq_msg_more(&msg);
        frames++;
        char *copy = s_strndup(zmq_msg_data(&msg), zmq_msg_size(&msg));
        if (!copy)
            rc = -1;
        else if (frames == 1)
            ev->topic = copy;
        else if (frames == 2) {
            ev->envelope = copy;
            ev->envelope_len = zmq_msg_size(&msg);
        }
        else
            free(copy);
    }
    zmq_msg_close(&msg);
    if (rc != 0) {
        s_fail(err, ZBRIDGE_ERROR_SYSTEM, "SystemError", "receiving an event: %s",
               zmq_strerror(errno));
        zbridge_event_destroy(&ev);
        return NULL;
    }
    if (frames != 2 || s_decode_envelope(ev) != 0) {
        s_fail(err, ZBRIDGE_ERROR_PROTOCOL, "InvalidEvent",
               "a message on topic \"%s\" is not a [topic, msgpack envelope] pair",
               ev->topic ? ev->topic : "");
        zbridge_event_destroy(&ev);
        return NULL;
    }
    s_ok(err);
    return ev;
}

zbridge_event_t *zbridge_subscriber_recv(zbridge_subscriber_t *self, int timeout_ms,
                                         zbridge_error_t *err)
{
    zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll(&item, 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (rc == 0) {
        s_fail(err, ZBRIDGE_ERROR_TIMEOUT, "ReadTimeout", "no event within %d ms", timeout_ms);
        return NULL;
    }
    if (rc == -1) {
        s_fail(err, ZBRIDGE_ERROR_SYSTEM, errno == EINTR ? "Interrupted" : "SystemError",
               "waiting for an event: %s", zmq_strerror(errno));
        return NULL;
    }
    return subscriber__read(self, err);
}
