/*
 * handle_delete_rule.c — DeleteRule (refused while the rule has targets, unless Force).
 */
#include "bus.h"
#include "handlers.h"

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
