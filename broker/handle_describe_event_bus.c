/*
 * handle_describe_event_bus.c — DescribeEventBus.
 */
#include "bus.h"
#include "handlers.h"

int handle__describe_event_bus(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                               zb_proto_error_t *err)
{
    zb_bus_t *bus;
    if (handle__bus(b, &req->map, "Name", &bus, err) == -1)
        return -1;
    /* The reply is the bus map itself, plus RequestId. */
    char arn[400];
    bus__arn(b, bus->name, arn, sizeof arn);
    zb_reply_begin(reply, req, bus->description ? 3 : 2);
    zb_put_cstr(reply, "Name");
    zb_put_cstr(reply, bus->name);
    zb_put_cstr(reply, "Arn");
    zb_put_cstr(reply, arn);
    if (bus->description) {
        zb_put_cstr(reply, "Description");
        zb_put_cstr(reply, bus->description);
    }
    return 0;
}
