/*
 * handle_delete_event_bus.c — DeleteEventBus: the bus with its rules and targets.
 */
#include <string.h>

#include "bus.h"
#include "handlers.h"

int handle__delete_event_bus(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                             zb_proto_error_t *err)
{
    char name[65];
    if (handle__name(&req->map, "Name", NULL, name, err) == -1)
        return -1;
    if (strcmp(name, "default") == 0)
        return zb_proto_fail(err, ZB_ERR_VALIDATION, "Cannot delete event bus default.");
    zb_bus_t *bus = registry__bus(b->reg, name, strlen(name));
    if (!bus)
        return zb_proto_fail(err, ZB_ERR_NOT_FOUND, "Event bus %s does not exist.", name);
    registry__remove_bus(b, b->reg, bus);
    zb_reply_begin(reply, req, 0);
    return 0;
}
