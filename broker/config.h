/*
 * config.h — the rules file (YAML), read into plain structs.
 *
 * config__load() parses and validates the whole file and reports every
 * problem it finds, each as "FILE:LINE:COL: what is wrong" on its own line.
 * It has no side effects: no sockets are opened, so `zbridged --check` and a
 * reload can both use it. Schema: README.md, "Rules file".
 */
#ifndef ZB_BROKER_CONFIG_H
#define ZB_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zb_buf.h"

typedef struct conf_mark {
    int line, col; /* 1-based; 0 when unknown (API-made objects) */
} conf_mark_t;

typedef struct conf_target {
    char *id;
    char *type;      /* "pub" */
    char *endpoint;
    char *topic;     /* template */
    int64_t hwm;
    conf_mark_t mark;
    conf_mark_t endpoint_mark;
} conf_target_t;

typedef struct conf_rule {
    char *name;
    char *description; /* may be NULL */
    bool enabled;
    char *pattern;     /* JSON text */
    conf_target_t *targets;
    size_t ntargets;
    conf_mark_t mark;
} conf_rule_t;

typedef struct conf_bus {
    char *name;
    char *description; /* may be NULL */
    conf_rule_t *rules;
    size_t nrules;
    conf_mark_t mark;
} conf_bus_t;

/* The most max-entries-per-request may be set to. */
#define ZB_MAX_ENTRIES_PER_REQUEST 10000

typedef struct conf_limits {
    int64_t max_request_bytes;
    int64_t max_entries;
    int64_t max_entry_bytes;
    int64_t max_buses;
    int64_t max_rules_per_bus;
    int64_t max_targets_per_rule;
    int64_t queue_bytes;   /* per subscriber; gives the default high-water mark */
    int64_t max_pub_endpoints; /* distinct PUB sockets; 0 = from RLIMIT_NOFILE */
    int64_t max_state_bytes;   /* saved API changes, in bytes */
} conf_limits_t;

/* A target plugin to load at start (broker.plugins). */
typedef struct conf_plugin {
    char *path;            /* as written; relative paths are relative to the rules file */
    char **keys;           /* options, as text */
    char **values;
    size_t noptions;
    conf_mark_t mark;
} conf_plugin_t;

typedef struct zb_config {
    char *path;
    char *listen;
    char *account;
    char *region;
    size_t account_len, region_len; /* strlen of each, for every envelope */
    char *state_file;      /* API changes; default "<path>.state" */
    bool watch;            /* reload when the file changes */
    int64_t linger_ms;     /* how long shutdown waits to flush PUB queues */
    conf_limits_t limits;
    conf_plugin_t *plugins;
    size_t nplugins;
    conf_bus_t *buses;
    size_t nbuses;
} zb_config_t;

/* Reads and validates `path`. Returns a config, or NULL with one line per
 * problem appended to `errors` (each "path:line:col: message\n"). */
zb_config_t *config__load(const char *path, zb_buf_t *errors);
void config__destroy(zb_config_t **self_p);

/* Checks a ZeroMQ endpoint's syntax (tcp://host:port, ipc://path,
 * inproc://name). Returns 0, or -1 with the reason in err. */
int config__check_endpoint(const char *endpoint, char *err, size_t errlen);

/* The first target (in file order) naming `endpoint`, or NULL. */
/* The high-water mark of a target that sets none: queue-bytes divided by
 * max-entry-bytes (at least ZB_MIN_DEFAULT_HWM). */
int64_t config__default_hwm(const conf_limits_t *limits);
conf_target_t *config__first_on_endpoint(const zb_config_t *cfg, const char *endpoint);

/* Checks a bus or rule name / target id: 1..64 of [A-Za-z0-9._-]. */
bool config__valid_name(const char *s, size_t len);

#endif
