/*
 * broker-t.h — the broker's types, apart from the functions on them so that
 * every module can include them without include cycles.
 *
 * Ownership, top down: a zb_broker_t owns one live zb_registry_t (buses ->
 * rules -> targets). A reload builds a second registry beside the live one
 * and swaps it in; the old one is then destroyed. Everything runs on one
 * thread (the event loop in loop.c), so nothing here is locked.
 */
#ifndef ZB_BROKER_T_H
#define ZB_BROKER_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "matcher.h"
#include "zb_buf.h"
#include "zb_proto.h"
#include "zbridge_plugin.h"

/* ---- metrics ---------------------------------------------------------------- */

/* Log-linear latency histogram: 16 sub-buckets per power of two of
 * nanoseconds, so any percentile is within 1/16 (6%) of the true value,
 * with a fixed 8 KiB and no allocation per sample. */
#define ZB_HIST_SUB 16
#define ZB_HIST_BUCKETS (64 * ZB_HIST_SUB)

typedef struct zb_hist {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[ZB_HIST_BUCKETS];
} zb_hist_t;

/* ---- targets ------------------------------------------------------------------ */

/* A target kind: the built-in pub, or (later) one registered by a plugin. */
#define ZB_MAX_TARGET_KINDS 16

typedef struct target_kind {
    const zb_target_ops_t *ops;
    void *plugin_data;
} target_kind_t;

typedef struct zb_target {
    char *id;
    char *type;
    char *endpoint;
    char *topic;              /* the template as configured */
    int64_t hwm;
    const target_kind_t *kind;
    void *handle;             /* the kind's open target (may be NULL) */
    bool opened;              /* open() succeeded: close() is owed */
    /* A template naming only {bus} {rule} {target} is expanded once. */
    bool topic_dynamic;
    char *topic_static;
    size_t topic_static_len;
    uint64_t invocations;
    uint64_t failed_invocations;
} zb_target_t;

/* ---- rules and buses -------------------------------------------------------------- */

typedef struct zb_bus zb_bus_t;

typedef struct zb_rule {
    char *name;
    char *description;        /* may be NULL */
    char *pattern;            /* JSON text, as given */
    bool enabled;
    uint64_t id;              /* matcher rule id: slot index + 1 in the bus */
    zb_bus_t *bus;
    zb_target_t **targets;
    size_t ntargets;
    size_t cap_targets;
    uint64_t matched;         /* MatchedEvents == TriggeredRules for one rule */
    uint64_t invocations;
    uint64_t failed_invocations;
} zb_rule_t;

struct zb_bus {
    char *name;
    char *description;        /* may be NULL */
    zb_matcher_t *matcher;    /* enabled rules only */
    zb_rule_t **slots;        /* by rule id - 1; NULL where a rule was removed */
    size_t nslots;
    size_t cap_slots;
    size_t nrules;
    uint64_t entries;         /* PutEventsEntriesCount */
    uint64_t failed_entries;  /* PutEventsFailedEntriesCount */
    uint64_t matched;         /* events that matched at least one rule */
    uint64_t triggered;       /* sum over rules */
    uint64_t invocations;
    uint64_t failed_invocations;
    zb_hist_t latency;        /* ingest -> handed to a target, this bus's events */
};

typedef struct zb_registry {
    zb_bus_t **buses;
    size_t nbuses;
    size_t cap_buses;
    /* The bus registry__bus found last, tried first: PutEvents entries,
     * and the requests of a burst, mostly name one bus. Forgotten when a
     * bus is added or removed, so it never outlives its bus. */
    zb_bus_t *last;
    size_t last_len;          /* strlen of its name */
} zb_registry_t;

/* ---- the broker -------------------------------------------------------------------- */

/* A target plugin loaded at start (plugin.c). */
#define ZB_MAX_PLUGINS 16

typedef struct loaded_plugin {
    char *path;
    void *dl;                  /* dlopen handle */
    void *data;                /* what zb_plugin_init returned */
    int (*cleanup)(void *data, const zb_plugin_opt_t *options, int option_count);
    zb_plugin_opt_t *opts;     /* point into the config that loaded it (copied) */
    char **strings;            /* owned copies behind opts */
    int nopts;
} loaded_plugin_t;

typedef struct pub_pool pub_pool_t;
typedef struct zb_state zb_state_t;
typedef struct zb_outbox zb_outbox_t;
typedef struct zb_backlog zb_backlog_t;
typedef struct pending_reply pending_reply_t;
typedef struct ingest_batch ingest_batch_t;

typedef struct zb_broker {
    zb_config_t *cfg;          /* the rules file the live registry came from */
    char *config_path;
    void *zctx;                /* ZeroMQ context */
    void *router;              /* requests */
    int sigfd;                 /* signalfd for SIGINT, SIGTERM, SIGHUP */
    zb_registry_t *reg;        /* live buses, rules, targets */
    zb_state_t *state;         /* API changes, persisted beside the rules file */
    bool replaying;            /* applying saved API changes: do not save again */
    size_t replay_change;      /* while replaying: which change (1-based), for the log */
    /* Set by a mutation's handler: it changed nothing at all (every entry
     * failed), or it set what was already there. Neither needs saving
     * (the latter only when the same request is saved already). */
    bool nothing_done;
    bool unchanged;
    bool persist;              /* save API changes (off for tests and the fuzzer) */

    target_kind_t pub_kind;    /* built in */
    target_kind_t kinds[ZB_MAX_TARGET_KINDS]; /* registered through the host */
    int nkinds;
    loaded_plugin_t plugins[ZB_MAX_PLUGINS];
    int nplugins;
    pub_pool_t *pub_pool;
    zb_host_t host;            /* what plugins are given (target.c) */

    zb_match_ctx_t *mctx;
    zb_uuid7_t uuid;
    zb_buf_t *reply;           /* reused per request */
    zb_buf_t *entries;         /* a list page's items or FailedEntries, reused */
    zb_buf_t *topic;           /* expanded topics, reused */
    zb_outbox_t *outbox;       /* deliveries staged during a burst */
    ingest_batch_t *batch;     /* PutEvents entries, read as their request is decoded */
    pending_reply_t *replies;  /* a burst's replies, sent after its deliveries */
    zb_backlog_t *backlog;     /* replies waiting for room in their peer's queue */
    size_t nreplies;
    size_t reply_bytes;        /* bodies of those replies */

    uint64_t now_ns;           /* CLOCK_MONOTONIC when the current request was read */
    uint64_t now_ms;           /* Unix time in ms of the same moment (event ids) */
    int64_t time_sec;          /* cached "time" text for this second */
    char time_text[ZB_TIME_LEN + 1];

    /* broker-wide counters */
    uint64_t started_ns;
    uint64_t put_events_requests;
    uint64_t entries_count;
    uint64_t failed_entries;
    zb_hist_t latency;         /* ingest -> handed to the target, per invocation */

    time_t config_mtime;       /* for broker.watch */
    long config_mtime_ns;
} zb_broker_t;

#endif
