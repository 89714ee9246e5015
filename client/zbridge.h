/*
 * zbridge.h — libzbridge, the C client library for zbridged.
 *
 * Two objects:
 *   zbridge_client_t      talks to a broker's ROUTER endpoint: PutEvents
 *                         (one entry or a batch, with per-entry results) and
 *                         every control action (PutRule, PutTargets, ...).
 *   zbridge_subscriber_t  connects to a target's PUB endpoint and returns
 *                         each delivered event as a decoded envelope.
 *
 * Requests and replies are msgpack maps with EventBridge's field names (see
 * proto/PROTOCOL.md). For control actions the library passes parameters and
 * replies through as msgpack or as JSON text, so it does not need to change
 * when the broker learns a new action.
 *
 * Threads
 *   Each object wraps one ZeroMQ socket and its own ZeroMQ context, and is
 *   not locked: use an object from one thread at a time. Different objects
 *   may be used from different threads at the same time. The library has no
 *   global state and installs no signal handlers.
 *
 * Ownership
 *   zbridge_x_new() returns NULL on failure; zbridge_x_destroy(&p) frees *p,
 *   sets it to NULL and is safe to call twice (and on a NULL pointer).
 *   Input strings and buffers are borrowed for the duration of the call. A
 *   returned `char *` or `void *` is the caller's, to release with free(); a
 *   returned `const char *` belongs to the object it came from.
 *
 * Errors
 *   Functions return 0 (or a count) on success and -1 on failure. A failure
 *   fills the optional zbridge_error_t (pass NULL to ignore it): `kind` says
 *   where it happened, `code` and `message` say what. For a broker error
 *   reply they are the broker's Error.Code and Error.Message verbatim.
 *
 * Timeouts
 *   A request waits at most `connect` milliseconds for a connection to the
 *   broker and then at most `read` milliseconds for the reply; neither ever
 *   hangs. After a timeout the socket is rebuilt, so a late reply can never
 *   be mistaken for the answer to a later request.
 */
#ifndef ZBRIDGE_H
#define ZBRIDGE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZBRIDGE_VERSION_MAJOR 0
#define ZBRIDGE_VERSION_MINOR 1
#define ZBRIDGE_VERSION_PATCH 0

/* The broker's default ROUTER endpoint, used when the endpoint passed to
 * zbridge_client_new() is NULL and $ZBRIDGE_ENDPOINT is unset or empty. */
#define ZBRIDGE_DEFAULT_ENDPOINT "tcp://127.0.0.1:7400"
#define ZBRIDGE_ENDPOINT_ENV "ZBRIDGE_ENDPOINT"

/* Default timeouts, in milliseconds. */
#define ZBRIDGE_DEFAULT_CONNECT_TIMEOUT 5000
#define ZBRIDGE_DEFAULT_READ_TIMEOUT 10000

/* ---- errors ------------------------------------------------------------- */

typedef enum zbridge_error_kind {
    ZBRIDGE_OK = 0,
    ZBRIDGE_ERROR_SERVICE = 1,   /* the broker answered with an error */
    ZBRIDGE_ERROR_CONNECT = 2,   /* no connection within the connect timeout */
    ZBRIDGE_ERROR_TIMEOUT = 3,   /* no reply / no event within the timeout */
    ZBRIDGE_ERROR_INPUT = 4,     /* bad argument (invalid JSON, bad endpoint) */
    ZBRIDGE_ERROR_PROTOCOL = 5,  /* the peer sent something undecodable */
    ZBRIDGE_ERROR_SYSTEM = 6,    /* out of memory, ZeroMQ failure, EINTR */
} zbridge_error_kind_t;

typedef struct zbridge_error {
    zbridge_error_kind_t kind;
    /* SERVICE: the broker's Error.Code ("ResourceNotFoundException", ...).
     * Otherwise one of "ConnectTimeout", "ReadTimeout", "InvalidInput",
     * "InvalidReply", "SystemError". */
    char code[128];
    char message[1024];
} zbridge_error_t;

/* ---- client: requests to the broker ------------------------------------- */

typedef struct zbridge_client zbridge_client_t;

/* Creates a client for the broker at `endpoint` (a ZeroMQ endpoint such as
 * "tcp://127.0.0.1:7400"); NULL means $ZBRIDGE_ENDPOINT, else
 * ZBRIDGE_DEFAULT_ENDPOINT. Connecting is lazy and asynchronous, so a
 * broker that is not running yet is not an error here. Returns NULL on a
 * malformed endpoint or when memory runs out. */
zbridge_client_t *zbridge_client_new(const char *endpoint);
void zbridge_client_destroy(zbridge_client_t **self_p);

/* The endpoint this client talks to. */
const char *zbridge_client_endpoint(const zbridge_client_t *self);

/* Sets both timeouts in milliseconds; a value <= 0 restores the default. */
void zbridge_client_set_timeouts(zbridge_client_t *self, int connect_ms, int read_ms);

/* Runs `action` (an EventBridge API name such as "PutRule") with `params`,
 * a msgpack map of `params_len` bytes holding the action's fields (NULL or
 * empty means no fields; it must not contain "Action"). On success returns
 * 0 and stores the reply map, malloc'd, in *reply / *reply_len. On failure
 * returns -1, fills *err and leaves *reply NULL. */
int zbridge_client_call(zbridge_client_t *self, const char *action,
                        const void *params, size_t params_len,
                        void **reply, size_t *reply_len, zbridge_error_t *err);

/* The same with JSON text: `params_json` is a JSON object (NULL means {}),
 * the reply comes back as compact JSON text, NUL-terminated, the caller's to
 * free. Returns NULL with *err filled on failure (invalid params JSON is an
 * error of kind ZBRIDGE_ERROR_INPUT). */
char *zbridge_client_call_json(zbridge_client_t *self, const char *action,
                               const char *params_json, zbridge_error_t *err);

/* ---- client: PutEvents -------------------------------------------------- */

/* One event to put. Only `source`, `detail_type` and `detail` are required;
 * NULL leaves a field out (the broker then applies EventBridge's defaults:
 * the "default" bus, the current time). */
typedef struct zbridge_entry {
    const char *source;          /* "com.example.orders" */
    const char *detail_type;     /* "OrderPlaced" */
    const char *detail;          /* JSON text of an object: "{\"id\":1}" */
    const char *const *resources; /* resource_count ARNs / names, or NULL */
    size_t resource_count;
    const char *time;            /* RFC 3339, or NULL for "now" */
    const char *event_bus_name;  /* NULL: the "default" bus */
    const char *trace_header;    /* NULL: none */
} zbridge_entry_t;

/* The broker's answer for one entry: either event_id is set, or error_code
 * and error_message are (the strings are empty otherwise). */
typedef struct zbridge_entry_result {
    char event_id[64];
    char error_code[128];
    char error_message[512];
} zbridge_entry_result_t;

/* Puts `count` entries in one PutEvents request. `results` (count slots,
 * may be NULL) receives the per-entry outcome in entry order. Returns the
 * broker's FailedEntryCount (0 when every entry was accepted), or -1 with
 * *err filled when the request as a whole failed (timeout, broker error,
 * an entry whose detail is not valid JSON). */
int zbridge_client_put_events(zbridge_client_t *self, const zbridge_entry_t *entries,
                              size_t count, zbridge_entry_result_t *results,
                              zbridge_error_t *err);

/* Puts one entry. Returns 0 and copies the EventId into `event_id` (64
 * bytes, may be NULL); returns -1 with *err filled when the request or the
 * entry failed (an entry error is reported as kind ZBRIDGE_ERROR_SERVICE
 * with the entry's ErrorCode and ErrorMessage). */
int zbridge_client_put_event(zbridge_client_t *self, const zbridge_entry_t *entry,
                             char *event_id, zbridge_error_t *err);

/* ---- subscriber: events delivered to a target --------------------------- */

/* A delivered event, decoded from the envelope (proto/PROTOCOL.md section
 * 4). Every string is NUL-terminated and owned by the event. */
typedef struct zbridge_event {
    char *topic;        /* the ZeroMQ topic frame */
    char *version;
    char *id;
    char *detail_type;
    char *source;
    char *account;
    char *time;         /* RFC 3339, "2026-01-31T12:00:00Z" */
    char *region;
    char **resources;   /* resource_count strings */
    size_t resource_count;
    char *detail;       /* JSON text of the detail object */
    char *json;         /* the whole envelope as one line of JSON */
    void *envelope;     /* the envelope's msgpack bytes, as received */
    size_t envelope_len;
} zbridge_event_t;

void zbridge_event_destroy(zbridge_event_t **self_p);

typedef struct zbridge_subscriber zbridge_subscriber_t;

/* Connects a SUB socket to a target's PUB `endpoint` and subscribes to
 * `topic_prefix` (NULL or "" means every topic). Events published before
 * the subscription reaches the publisher (a few milliseconds after this
 * returns) are not seen: that is PUB/SUB. Returns NULL on a malformed
 * endpoint or when memory runs out. */
zbridge_subscriber_t *zbridge_subscriber_new(const char *endpoint, const char *topic_prefix);
void zbridge_subscriber_destroy(zbridge_subscriber_t **self_p);

/* Adds one more topic prefix. Returns 0 or -1. */
int zbridge_subscriber_subscribe(zbridge_subscriber_t *self, const char *topic_prefix);

/* Waits up to `timeout_ms` (-1: forever) for the next event. Returns it
 * (the caller's, release with zbridge_event_destroy) or NULL with *err
 * filled: kind ZBRIDGE_ERROR_TIMEOUT when nothing came, ZBRIDGE_ERROR_SYSTEM
 * when a signal interrupted the wait, ZBRIDGE_ERROR_PROTOCOL when the
 * message was not a [topic, envelope] pair with every envelope key of the
 * right type (it is dropped; call again for the next). */
zbridge_event_t *zbridge_subscriber_recv(zbridge_subscriber_t *self, int timeout_ms,
                                         zbridge_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
