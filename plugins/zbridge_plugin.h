/*
 * zbridge_plugin.h — the target ABI: how zbridged hands events to targets.
 *
 * ABI version 1. Read this file as the contract between the broker and a
 * target kind. The built-in `pub` kind (broker/target_pub.c) implements it;
 * later kinds (http, nats, durable queues) are shared objects in plugins/
 * that implement it too, without the broker being rebuilt.
 *
 * Life cycle of a plugin (a shared object):
 *
 *   1. zb_plugin_version(n, versions)  the broker offers the ABI versions it
 *      speaks, newest first; the plugin returns the one it was built for,
 *      or -1 to decline. The broker refuses a plugin that picks a version it
 *      did not offer.
 *   2. zb_plugin_init(host, &plugin_data, options, n)  once per load. The
 *      plugin registers one or more target kinds with
 *      host->register_target_kind(). Returns 0, or -1 to refuse to load.
 *   3. For each configured target of its kind, the broker calls
 *      ops->open(); for each matching event ops->deliver(); on reload or
 *      removal ops->close(). All calls come from the broker's one event
 *      thread: a plugin needs no locks unless it starts threads itself.
 *   4. zb_plugin_cleanup(plugin_data, options, n)  once, at unload.
 *
 * Growth: every struct starts with its size or carries `future` slots that
 * are NULL today; new fields are appended (never reordered), so a plugin
 * built against version 1 keeps working when the broker speaks 2. A plugin
 * must not read past `size` bytes of a struct the broker hands it.
 *
 * A complete plugin that counts events looks like this:
 *
 *   #include "zbridge_plugin.h"
 *   static zb_deliver_result_t s_deliver(void *t, const zb_event_t *ev)
 *   { ++*(long *) t; return ZB_DELIVER_OK; }
 *   static int s_open(void *pd, const zb_target_config_t *c, void **t,
 *                     char *err, size_t errlen)
 *   { *t = calloc(1, sizeof(long)); return *t ? 0 : -1; }
 *   static void s_close(void *pd, void **t) { free(*t); *t = NULL; }
 *   static const zb_target_ops_t s_ops = {
 *       .size = sizeof s_ops, .type = "count",
 *       .open = s_open, .deliver = s_deliver, .close = s_close };
 *   int zb_plugin_version(int n, const int *v) { return ZB_PLUGIN_ABI_VERSION; }
 *   int zb_plugin_init(zb_host_t *h, void **pd, const zb_plugin_opt_t *o, int n)
 *   { return h->register_target_kind(h, &s_ops, NULL); }
 *   int zb_plugin_cleanup(void *pd, const zb_plugin_opt_t *o, int n) { return 0; }
 */
#ifndef ZBRIDGE_PLUGIN_H
#define ZBRIDGE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZB_PLUGIN_ABI_VERSION 1

/* ---- what a target is given ---------------------------------------------- */

/* One event for one target. Everything is borrowed for the duration of the
 * deliver() call only: a target that queues the event copies what it keeps. */
typedef struct zb_event {
    size_t size;               /* sizeof(zb_event_t) as the broker built it */
    const char *bus;           /* NUL-terminated names */
    const char *rule;
    const char *target_id;
    const char *topic;         /* the expanded topic template */
    size_t topic_len;
    const void *envelope;      /* the msgpack envelope (PROTOCOL.md section 4) */
    size_t envelope_len;
    const char *event_id;      /* the envelope's id (36 chars, NUL-terminated) */
    uint64_t ingest_ns;        /* CLOCK_MONOTONIC when the broker read the request */
    uint32_t attempt;          /* 1 on first delivery; grows when retries come */
    uint32_t flags;            /* none defined yet: 0 */
    void *future[8];
} zb_event_t;

/* How a delivery went. RETRY is reserved for durable targets: version 1 of
 * the broker counts it as a failure and does not redeliver. */
typedef enum zb_deliver_result {
    ZB_DELIVER_OK = 0,      /* handed over (for pub: queued on the socket) */
    ZB_DELIVER_FAILED = 1,  /* dropped; counted as FailedInvocations */
    ZB_DELIVER_RETRY = 2,   /* transient; try again later (reserved) */
} zb_deliver_result_t;

/* A target's configuration, from the rules file or from PutTargets. Strings
 * are NUL-terminated and live until close(). */
typedef struct zb_target_config {
    size_t size;
    const char *bus;
    const char *rule;
    const char *id;
    const char *type;          /* the kind: "pub", ... */
    const char *endpoint;      /* NULL when not given */
    const char *topic;         /* the template (the broker expands it) */
    int64_t high_water_mark;   /* events; 0 = unbounded */
    /* Plugin-specific keys of the target (YAML keys beyond the common ones):
     * returns the value as text, or NULL when absent. */
    const char *(*option)(const struct zb_target_config *self, const char *key);
    void *option_ctx;
    void *future[8];
} zb_target_config_t;

/* ---- what a target kind implements ---------------------------------------- */

typedef struct zb_target_ops {
    size_t size;               /* sizeof(zb_target_ops_t) the plugin was built with */
    const char *type;          /* the kind's name in `type:` ("pub") */

    /* Checks a configuration without side effects (no sockets, no I/O), for
     * `zbridged --check` and before a reload. Returns 0, or -1 with a
     * one-line reason in err. May be NULL (then open() is the check). */
    int (*validate)(void *plugin_data, const zb_target_config_t *config, char *err,
                    size_t errlen);

    /* Opens a target. Returns 0 with *target set, or -1 with a one-line
     * reason in err ("cannot bind tcp://...: Address already in use"). */
    int (*open)(void *plugin_data, const zb_target_config_t *config, void **target, char *err,
                size_t errlen);

    /* Delivers one event. Must not block: a target that cannot take the
     * event now returns FAILED (or, later, RETRY). */
    zb_deliver_result_t (*deliver)(void *target, const zb_event_t *event);

    /* Closes a target and sets *target to NULL. Called on removal, on a
     * reload that drops it, and at shutdown (after which queued events are
     * flushed for up to broker.shutdown-linger-ms). */
    void (*close)(void *plugin_data, void **target);

    void *future[8];
} zb_target_ops_t;

/* ---- what the broker offers a plugin --------------------------------------- */

typedef enum zb_log_level {
    ZB_LOG_ERROR = 1,
    ZB_LOG_WARNING = 2,
    ZB_LOG_INFO = 3,
    ZB_LOG_DEBUG = 4,
} zb_log_level_t;

typedef struct zb_host {
    size_t size;
    int abi_version;           /* the version agreed in zb_plugin_version */
    void *zmq_context;         /* the broker's ZeroMQ context */

    /* Registers a target kind. `ops` must outlive the plugin. */
    int (*register_target_kind)(struct zb_host *host, const zb_target_ops_t *ops,
                                void *plugin_data);

    /* Logs through the broker's log. */
    void (*log)(struct zb_host *host, zb_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

    /* Reports a failure that happened after deliver() returned (an
     * asynchronous send that failed): counted as FailedInvocations of the
     * target named by bus/rule/target_id. */
    void (*report_failure)(struct zb_host *host, const char *bus, const char *rule,
                           const char *target_id, const char *reason);

    void *broker;              /* opaque, for the callbacks above */
    void *future[8];
} zb_host_t;

/* Options given to a plugin in the rules file (reserved for plugin loading). */
typedef struct zb_plugin_opt {
    const char *key;
    const char *value;
} zb_plugin_opt_t;

/* ---- what a plugin exports ---------------------------------------------------- */

int zb_plugin_version(int count, const int *versions);
int zb_plugin_init(zb_host_t *host, void **plugin_data, const zb_plugin_opt_t *options,
                   int option_count);
int zb_plugin_cleanup(void *plugin_data, const zb_plugin_opt_t *options, int option_count);

#ifdef __cplusplus
}
#endif
#endif
