/*
 * handle_list_event_buses.c — ListEventBuses, with NamePrefix and pagination.
 */
#include <string.h>

#include "bus.h"
#include "handlers.h"

/* {"Name", "Arn", "Description"?} */
static void s_put_bus(zb_broker_t *b, zb_buf_t *out, const zb_bus_t *bus)
{
    char arn[400];
    bus__arn(b, bus->name, arn, sizeof arn);
    zb_mpk_put_map(out, bus->description ? 3 : 2);
    zb_put_cstr(out, "Name");
    zb_put_cstr(out, bus->name);
    zb_put_cstr(out, "Arn");
    zb_put_cstr(out, arn);
    if (bus->description) {
        zb_put_cstr(out, "Description");
        zb_put_cstr(out, bus->description);
    }
}

int handle__list_event_buses(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                             zb_proto_error_t *err)
{
    const char *prefix = "";
    uint32_t plen = 0;
    handle_pager_t pg;
    if (zb_map_require_str(&req->map, "NamePrefix", false, &prefix, &plen, err) == -1
        || handle__no_nul("NamePrefix", prefix, plen, err) == -1
        || handle__pager_begin(b, &req->map, &pg, err) == -1)
        return -1;
    for (size_t i = 0; i < b->reg->nbuses; i++) {
        const zb_bus_t *bus = b->reg->buses[i];
        if (strncmp(bus->name, prefix, plen) != 0 || !handle__pager_want(b, &pg))
            continue;
        s_put_bus(b, b->entries, bus);
        handle__pager_took(b, &pg);
    }
    return handle__pager_reply(b, req, reply, "EventBuses", &pg);
}
