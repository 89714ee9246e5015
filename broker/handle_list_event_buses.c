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
    size_t start, limit;
    if (zb_map_require_str(&req->map, "NamePrefix", false, &prefix, &plen, err) == -1
        || handle__no_nul("NamePrefix", prefix, plen, err) == -1
        || handle__page(&req->map, &start, &limit, err) == -1)
        return -1;
    /* Items go to b->entries first (the array header needs their count):
     * the page ends at `limit` items or once it holds ZB_REPLY_PAGE_BYTES
     * (always one item, for progress), so replies stay small. */
    zb_buf_reset(b->entries);
    size_t matching = 0, shown = 0;
    bool full = false;
    for (size_t i = 0; i < b->reg->nbuses; i++) {
        const zb_bus_t *bus = b->reg->buses[i];
        if (strncmp(bus->name, prefix, plen) != 0)
            continue;
        if (matching++ < start || full)
            continue;
        size_t before = b->entries->len;
        s_put_bus(b, b->entries, bus);
        if (shown > 0 && b->entries->len > ZB_REPLY_PAGE_BYTES) {
            b->entries->len = before; /* this item starts the next page */
            b->entries->data[before] = '\0';
            full = true;
            continue;
        }
        full = ++shown == limit;
    }
    bool more = start + shown < matching;
    zb_reply_begin(reply, req, more ? 2 : 1);
    zb_put_cstr(reply, "EventBuses");
    zb_mpk_put_array(reply, (uint32_t) shown);
    zb_buf_append(reply, b->entries->data, b->entries->len);
    if (more) {
        zb_put_cstr(reply, "NextToken");
        zb_buf_t *tmp = b->topic;
        zb_buf_reset(tmp);
        zb_buf_appendf(tmp, "%zu", start + shown);
        zb_mpk_put_str(reply, tmp->data, tmp->len);
    }
    return 0;
}
