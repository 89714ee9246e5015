/*
 * handle_common.c — argument readers shared by the action handlers, and
 * the action -> handler table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "handlers.h"

static const handler_fn s_handlers[ZB_ACTION_COUNT_] = {
    [ZB_ACTION_PUT_EVENTS] = handle__put_events,
    [ZB_ACTION_TEST_EVENT_PATTERN] = handle__test_event_pattern,
    [ZB_ACTION_CREATE_EVENT_BUS] = handle__create_event_bus,
    [ZB_ACTION_DELETE_EVENT_BUS] = handle__delete_event_bus,
    [ZB_ACTION_DESCRIBE_EVENT_BUS] = handle__describe_event_bus,
    [ZB_ACTION_LIST_EVENT_BUSES] = handle__list_event_buses,
    [ZB_ACTION_PUT_RULE] = handle__put_rule,
    [ZB_ACTION_DESCRIBE_RULE] = handle__describe_rule,
    [ZB_ACTION_LIST_RULES] = handle__list_rules,
    [ZB_ACTION_DELETE_RULE] = handle__delete_rule,
    [ZB_ACTION_ENABLE_RULE] = handle__enable_rule,
    [ZB_ACTION_DISABLE_RULE] = handle__disable_rule,
    [ZB_ACTION_PUT_TARGETS] = handle__put_targets,
    [ZB_ACTION_REMOVE_TARGETS] = handle__remove_targets,
    [ZB_ACTION_LIST_TARGETS_BY_RULE] = handle__list_targets_by_rule,
    [ZB_ACTION_GET_METRICS] = handle__get_metrics,
};

handler_fn handlers__for(zb_action_t action)
{
    if ((int) action <= 0 || action >= ZB_ACTION_COUNT_)
        return NULL;
    return s_handlers[action];
}

int handle__name(const zb_map_t *m, const char *key, const char *default_name, char out[65],
                 zb_proto_error_t *err)
{
    const char *s;
    uint32_t len;
    int rc = zb_map_require_str(m, key, default_name == NULL, &s, &len, err);
    if (rc == -1)
        return -1;
    if (rc == 1) {
        snprintf(out, 65, "%s", default_name);
        return 0;
    }
    if (strcmp(key, "EventBusName") == 0)
        handle__strip_arn(&s, &len);
    if (!config__valid_name(s, len))
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter %s is not valid. Reason: must be 1 to 64 characters of "
                             "[A-Za-z0-9._-].",
                             key);
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

void handle__strip_arn(const char **s, uint32_t *len)
{
    if (*len <= 4 || memcmp(*s, "arn:", 4) != 0)
        return;
    for (uint32_t i = *len; i-- > 0;)
        if ((*s)[i] == '/') {
            *s += i + 1;
            *len -= i + 1;
            return;
        }
}

int handle__bus(zb_broker_t *b, const zb_map_t *m, const char *key, zb_bus_t **bus,
                zb_proto_error_t *err)
{
    char name[65];
    if (handle__name(m, key, "default", name, err) == -1)
        return -1;
    *bus = registry__bus(b->reg, name, strlen(name));
    if (!*bus)
        return zb_proto_fail(err, ZB_ERR_NOT_FOUND, "Event bus %s does not exist.", name);
    return 0;
}

int handle__rule(zb_broker_t *b, const zb_map_t *m, const char *key, zb_bus_t **bus,
                 zb_rule_t **rule, zb_proto_error_t *err)
{
    char name[65];
    if (handle__name(m, key, NULL, name, err) == -1 || handle__bus(b, m, "EventBusName", bus, err) == -1)
        return -1;
    *rule = bus__rule(*bus, name, strlen(name));
    if (!*rule)
        return zb_proto_fail(err, ZB_ERR_NOT_FOUND, "Rule %s does not exist on EventBus %s.",
                             name, (*bus)->name);
    return 0;
}

int handle__no_nul(const char *key, const char *s, uint32_t len, zb_proto_error_t *err)
{
    /* Kept as C strings, such values would silently end at the NUL: an
     * Endpoint "inproc://a\0b" would bind inproc://a. */
    if (memchr(s, '\0', len))
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter %s is not valid. Reason: %s must not contain a NUL "
                             "character.",
                             key, key);
    return 0;
}

int handle__opt_string(const zb_map_t *m, const char *key, char **out, zb_proto_error_t *err)
{
    const char *s;
    uint32_t len;
    *out = NULL;
    int rc = zb_map_require_str(m, key, false, &s, &len, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    if (handle__no_nul(key, s, len, err) == -1)
        return -1;
    *out = strndup(s, len);
    if (!*out)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    return 0;
}

int handle__page(const zb_map_t *m, size_t *start, size_t *limit, zb_proto_error_t *err)
{
    int64_t lim = 100;
    int rc = zb_map_get_int(m, "Limit", &lim);
    if (rc == -1 || lim < 1 || lim > 100)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Limit is not valid. Reason: must be an integer from 1 to "
                             "100.");
    *limit = (size_t) lim;
    *start = 0;
    const char *s;
    uint32_t len;
    rc = zb_map_get_str(m, "NextToken", &s, &len);
    if (rc == -1)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter NextToken is not valid. Reason: NextToken must be a "
                             "string.");
    if (rc == 0) {
        char tmp[24];
        if (len == 0 || len >= sizeof tmp)
            goto bad;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        char *end;
        unsigned long long v = strtoull(tmp, &end, 10);
        if (*end || tmp[0] == '-')
            goto bad;
        *start = (size_t) v;
    }
    return 0;
bad:
    return zb_proto_fail(err, ZB_ERR_VALIDATION, "The NextToken is not valid.");
}

/* ==== List* paging =============================================================== */

int handle__pager_begin(zb_broker_t *b, const zb_map_t *m, handle_pager_t *pg,
                        zb_proto_error_t *err)
{
    *pg = (handle_pager_t) {0};
    if (handle__page(m, &pg->start, &pg->limit, err) == -1)
        return -1;
    zb_buf_reset(b->entries);
    return 0;
}

bool handle__pager_want(zb_broker_t *b, handle_pager_t *pg)
{
    if (pg->matching++ < pg->start || pg->full)
        return false;
    pg->before = b->entries->len;
    return true;
}

void handle__pager_took(zb_broker_t *b, handle_pager_t *pg)
{
    if (pg->shown > 0 && b->entries->len > ZB_REPLY_PAGE_BYTES) {
        b->entries->len = pg->before; /* this item starts the next page */
        b->entries->data[pg->before] = '\0';
        pg->full = true;
        return;
    }
    pg->full = ++pg->shown == pg->limit;
}

int handle__pager_reply(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        const char *key, const handle_pager_t *pg)
{
    bool more = pg->start + pg->shown < pg->matching;
    zb_reply_begin(reply, req, more ? 2 : 1);
    zb_put_cstr(reply, key);
    zb_mpk_put_array(reply, (uint32_t) pg->shown);
    zb_buf_append(reply, b->entries->data, b->entries->len);
    if (more) {
        zb_put_cstr(reply, "NextToken");
        zb_buf_reset(b->topic);
        zb_buf_appendf(b->topic, "%zu", pg->start + pg->shown);
        zb_mpk_put_str(reply, b->topic->data, b->topic->len);
    }
    return 0;
}

/* ==== reply pieces shared by several actions ==================================== */

/* Writes a rule's fields (handle__rule_nfields of them) into a map the
 * caller opened. */
void handle__put_rule_fields(zb_broker_t *b, zb_buf_t *out, const zb_bus_t *bus,
                              const zb_rule_t *r)
{
    char arn[400];
    rule__arn(b, bus->name, r->name, arn, sizeof arn);
    zb_put_cstr(out, "Name");
    zb_put_cstr(out, r->name);
    zb_put_cstr(out, "Arn");
    zb_put_cstr(out, arn);
    zb_put_cstr(out, "EventPattern");
    zb_put_cstr(out, r->pattern);
    zb_put_cstr(out, "State");
    zb_put_cstr(out, r->enabled ? "ENABLED" : "DISABLED");
    zb_put_cstr(out, "EventBusName");
    zb_put_cstr(out, bus->name);
    if (r->description) {
        zb_put_cstr(out, "Description");
        zb_put_cstr(out, r->description);
    }
}

uint32_t handle__rule_nfields(const zb_rule_t *r)
{
    return r->description ? 6 : 5;
}

/* EnableRule / DisableRule: the rule named by Name on EventBusName. */
int handle__set_rule_state(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                           bool enabled, zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    if (handle__rule(b, &req->map, "Name", &bus, &r, err) == -1)
        return -1;
    b->unchanged = r->enabled == enabled;
    if (!b->unchanged && bus__set_rule_state(bus, r, enabled, err) == -1)
        return -1;
    zb_reply_begin(reply, req, 0);
    return 0;
}

/* Appends one FailedEntries item to b->entries. */
void handle__failed_target(zb_broker_t *b, const char *id, const zb_proto_error_t *e)
{
    zb_mpk_put_map(b->entries, 3);
    zb_put_cstr(b->entries, "TargetId");
    zb_put_cstr(b->entries, id);
    zb_put_cstr(b->entries, "ErrorCode");
    zb_put_cstr(b->entries, zb_error_code_name(e->code));
    zb_put_cstr(b->entries, "ErrorMessage");
    zb_put_cstr(b->entries, e->message);
}

int handle__reply_failed_targets(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                          uint32_t failed)
{
    zb_reply_begin(reply, req, 2);
    zb_put_cstr(reply, "FailedEntryCount");
    zb_mpk_put_uint(reply, failed);
    zb_put_cstr(reply, "FailedEntries");
    zb_mpk_put_array(reply, failed);
    return zb_buf_append(reply, b->entries->data, b->entries->len);
}
