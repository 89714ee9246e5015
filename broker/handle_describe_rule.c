/*
 * handle_describe_rule.c — DescribeRule.
 */
#include "bus.h"
#include "handlers.h"

int handle__describe_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                          zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    if (handle__rule(b, &req->map, "Name", &bus, &r, err) == -1)
        return -1;
    zb_reply_begin(reply, req, handle__rule_nfields(r));
    handle__put_rule_fields(b, reply, bus, r);
    return 0;
}
