/*
 * handlers.h — one function per protocol action (PROTOCOL.md section 3).
 *
 * A handler reads the decoded request, acts on b->reg and either writes its
 * whole reply into `reply` and returns 0, or returns -1 with *err (the
 * dispatcher then writes the error reply). A mutating handler that fails
 * leaves the registry as it was.
 */
#ifndef ZB_BROKER_HANDLERS_H
#define ZB_BROKER_HANDLERS_H

#include "broker-t.h"

typedef int (*handler_fn)(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                          zb_proto_error_t *err);

/* The handler of an action; NULL for ZB_ACTION_UNKNOWN. */
handler_fn handlers__for(zb_action_t action);

int handle__put_events(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                       zb_proto_error_t *err);
int handle__test_event_pattern(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                               zb_proto_error_t *err);
int handle__create_event_bus(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                             zb_proto_error_t *err);
int handle__delete_event_bus(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                             zb_proto_error_t *err);
int handle__describe_event_bus(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                               zb_proto_error_t *err);
int handle__list_event_buses(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                             zb_proto_error_t *err);
int handle__put_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                     zb_proto_error_t *err);
int handle__describe_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                          zb_proto_error_t *err);
int handle__list_rules(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                       zb_proto_error_t *err);
int handle__delete_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err);
int handle__enable_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err);
int handle__disable_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                         zb_proto_error_t *err);
int handle__put_targets(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err);
int handle__remove_targets(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                           zb_proto_error_t *err);
int handle__list_targets_by_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                                 zb_proto_error_t *err);
int handle__get_metrics(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err);

/* ---- shared argument readers (handle_common.c) ---------------------------- */

/* Copies a validated name field (bus/rule/target: 1..64 of [A-Za-z0-9._-])
 * into out[65]. Absent: default_name when not NULL, else a "required"
 * ValidationException. */
int handle__name(const zb_map_t *m, const char *key, const char *default_name, char out[65],
                 zb_proto_error_t *err);
/* EventBridge accepts a bus's ARN wherever it takes EventBusName: an
 * "arn:..." value is narrowed to what follows its last '/'. */
void handle__strip_arn(const char **s, uint32_t *len);
/* The bus named by `key` (default "default"), or ResourceNotFoundException. */
int handle__bus(zb_broker_t *b, const zb_map_t *m, const char *key, zb_bus_t **bus,
                zb_proto_error_t *err);
/* The rule named by `key` on the request's EventBusName. */
int handle__rule(zb_broker_t *b, const zb_map_t *m, const char *key, zb_bus_t **bus,
                 zb_rule_t **rule, zb_proto_error_t *err);
/* An optional string field copied into a fresh string (*out NULL when
 * absent). Returns 0 or -1 (wrong type, a NUL inside, or out of memory). */
/* 0, or -1 with a ValidationException naming `key` when s[0..len) holds
 * a NUL (a C string would end there). */
int handle__no_nul(const char *key, const char *s, uint32_t len, zb_proto_error_t *err);
int handle__opt_string(const zb_map_t *m, const char *key, char **out, zb_proto_error_t *err);
/* Pagination: Limit (1..100, default 100) and NextToken (an index). */
int handle__page(const zb_map_t *m, size_t *start, size_t *limit, zb_proto_error_t *err);

/* One page of a List* reply. Items are written to b->entries first (the
 * array header needs their count): a page ends at `limit` items or once it
 * holds ZB_REPLY_PAGE_BYTES (always one item, for progress), so a peer that
 * never reads its replies cannot queue huge ones. Use:
 *
 *     handle_pager_t pg;
 *     if (handle__pager_begin(b, &req->map, &pg, err) == -1) return -1;
 *     for (each item that matches the request's filter)
 *         if (handle__pager_want(b, &pg)) {
 *             write the item into b->entries;
 *             handle__pager_took(b, &pg);
 *         }
 *     return handle__pager_reply(b, req, reply, "Items", &pg);
 */
typedef struct handle_pager {
    size_t start, limit; /* from NextToken and Limit */
    size_t matching;     /* items that matched, on this page or not */
    size_t shown;        /* items on this page */
    size_t before;       /* b->entries->len before the item being written */
    bool full;
} handle_pager_t;

/* Reads Limit and NextToken (handle__page) and empties b->entries. */
int handle__pager_begin(zb_broker_t *b, const zb_map_t *m, handle_pager_t *pg,
                        zb_proto_error_t *err);
/* Counts one matching item; true when the caller is to write it into
 * b->entries now (it falls on this page, which is not yet full). */
bool handle__pager_want(zb_broker_t *b, handle_pager_t *pg);
/* After the item is written: keeps it, or takes it back when it would
 * carry the page past ZB_REPLY_PAGE_BYTES (it then starts the next page). */
void handle__pager_took(zb_broker_t *b, handle_pager_t *pg);
/* The whole reply: {key: [the page's items], "NextToken"?}. */
int handle__pager_reply(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        const char *key, const handle_pager_t *pg);

/* ---- reply pieces shared by several actions (handle_common.c) ---------------- */

/* A rule's fields as DescribeRule returns them, into a map the caller
 * opened with handle__rule_nfields(r) entries. */
void handle__put_rule_fields(zb_broker_t *b, zb_buf_t *out, const zb_bus_t *bus,
                             const zb_rule_t *r);
uint32_t handle__rule_nfields(const zb_rule_t *r);
/* EnableRule / DisableRule. */
int handle__set_rule_state(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                           bool enabled, zb_proto_error_t *err);
/* PutTargets / RemoveTargets: one FailedEntries item, appended to
 * b->entries; then the whole reply from them. */
void handle__failed_target(zb_broker_t *b, const char *id, const zb_proto_error_t *e);
int handle__reply_failed_targets(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                                 uint32_t failed);

#endif
