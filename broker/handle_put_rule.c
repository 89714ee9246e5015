/*
 * handle_put_rule.c — PutRule: create a rule or update the fields given.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "handlers.h"

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
    const zb_rule_t *old = bus__rule(bus, name, strlen(name));
    b->unchanged = old && (!pattern || strcmp(pattern, old->pattern) == 0)
                   && (!desc || (old->description && strcmp(desc, old->description) == 0))
                   && (state == -1 || state == old->enabled);
    rc = b->unchanged ? 0
                      : bus__put_rule(bus, name, pattern, desc, state,
                                      (size_t) b->cfg->limits.max_rules_per_bus, NULL, err);
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
