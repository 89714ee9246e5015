/*
 * handle_rule.c — PutRule, DescribeRule, ListRules, DeleteRule, EnableRule,
 * DisableRule.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "handlers.h"

/* Writes a rule's fields (n_extra more fields follow from the caller). */
static void s_put_rule_fields(zb_broker_t *b, zb_buf_t *out, const zb_bus_t *bus,
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

static uint32_t s_rule_nfields(const zb_rule_t *r)
{
    return r->description ? 6 : 5;
}

int handle__put_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                     zb_proto_error_t *err)
{
    char name[65];
    zb_bus_t *bus;
    if (handle__name(&req->map, "Name", NULL, name, err) == -1
        || handle__bus(b, &req->map, "EventBusName", &bus, err) == -1)
        return -1;
    if (zb_map_get(&req->map, "ScheduleExpression"))
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter ScheduleExpression is not valid. Reason: scheduled rules "
                             "are not supported.");
    int state = -1;
    const char *s;
    uint32_t len;
    int rc = zb_map_require_str(&req->map, "State", false, &s, &len, err);
    if (rc == -1)
        return -1;
    if (rc == 0) {
        if (len == 7 && memcmp(s, "ENABLED", 7) == 0)
            state = 1;
        else if (len == 8 && memcmp(s, "DISABLED", 8) == 0)
            state = 0;
        else
            return zb_proto_fail(err, ZB_ERR_VALIDATION,
                                 "Parameter State is not valid. Reason: must be ENABLED or "
                                 "DISABLED.");
    }
    char *pattern, *desc;
    if (handle__opt_string(&req->map, "EventPattern", &pattern, err) == -1)
        return -1;
    if (handle__opt_string(&req->map, "Description", &desc, err) == -1) {
        free(pattern);
        return -1;
    }
    rc = bus__put_rule(bus, name, pattern, desc, state, (size_t) b->cfg->limits.max_rules_per_bus,
                       NULL, err);
    free(pattern);
    free(desc);
    if (rc == -1)
        return -1;
    char arn[400];
    rule__arn(b, bus->name, name, arn, sizeof arn);
    zb_reply_begin(reply, req, 1);
    zb_put_cstr(reply, "RuleArn");
    zb_put_cstr(reply, arn);
    return 0;
}

int handle__describe_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                          zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    if (handle__rule(b, &req->map, "Name", &bus, &r, err) == -1)
        return -1;
    zb_reply_begin(reply, req, s_rule_nfields(r));
    s_put_rule_fields(b, reply, bus, r);
    return 0;
}

int handle__list_rules(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                       zb_proto_error_t *err)
{
    zb_bus_t *bus;
    const char *prefix = "";
    uint32_t plen = 0;
    size_t start, limit;
    if (handle__bus(b, &req->map, "EventBusName", &bus, err) == -1
        || zb_map_require_str(&req->map, "NamePrefix", false, &prefix, &plen, err) == -1
        || handle__page(&req->map, &start, &limit, err) == -1)
        return -1;
    size_t matching = 0, shown = 0;
    for (size_t i = 0; i < bus->nslots; i++)
        if (bus->slots[i] && strncmp(bus->slots[i]->name, prefix, plen) == 0)
            matching++;
    if (start < matching)
        shown = matching - start < limit ? matching - start : limit;
    bool more = start + shown < matching;
    zb_reply_begin(reply, req, more ? 2 : 1);
    zb_put_cstr(reply, "Rules");
    zb_mpk_put_array(reply, (uint32_t) shown);
    for (size_t i = 0, k = 0; i < bus->nslots; i++) {
        const zb_rule_t *r = bus->slots[i];
        if (!r || strncmp(r->name, prefix, plen) != 0)
            continue;
        if (k >= start && k < start + shown) {
            zb_mpk_put_map(reply, s_rule_nfields(r));
            s_put_rule_fields(b, reply, bus, r);
        }
        k++;
    }
    if (more) {
        zb_put_cstr(reply, "NextToken");
        zb_buf_reset(b->topic);
        zb_buf_appendf(b->topic, "%zu", start + shown);
        zb_mpk_put_str(reply, b->topic->data, b->topic->len);
    }
    return 0;
}

int handle__delete_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    bool force = false;
    if (zb_map_get_bool(&req->map, "Force", &force) == -1)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Force is not valid. Reason: Force must be a boolean.");
    if (handle__rule(b, &req->map, "Name", &bus, &r, err) == -1)
        return -1;
    if (r->ntargets && !force)
        return zb_proto_fail(err, ZB_ERR_VALIDATION, "Rule can't be deleted since it has targets.");
    bus__remove_rule(b, bus, r);
    zb_reply_begin(reply, req, 0);
    return 0;
}

static int s_set_state(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply, bool enabled,
                       zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    if (handle__rule(b, &req->map, "Name", &bus, &r, err) == -1
        || bus__set_rule_state(bus, r, enabled, err) == -1)
        return -1;
    zb_reply_begin(reply, req, 0);
    return 0;
}

int handle__enable_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err)
{
    return s_set_state(b, req, reply, true, err);
}

int handle__disable_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                         zb_proto_error_t *err)
{
    return s_set_state(b, req, reply, false, err);
}
