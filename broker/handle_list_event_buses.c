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
        || handle__page(&req->map, &start, &limit, err) == -1)
        return -1;
    /* Two passes: count the page, then write it (map headers need counts). */
    size_t matching = 0, shown = 0;
    for (size_t i = 0; i < b->reg->nbuses; i++)
        if (strncmp(b->reg->buses[i]->name, prefix, plen) == 0)
            matching++;
    if (start < matching)
        shown = matching - start < limit ? matching - start : limit;
    bool more = start + shown < matching;
    zb_reply_begin(reply, req, more ? 2 : 1);
    zb_put_cstr(reply, "EventBuses");
    zb_mpk_put_array(reply, (uint32_t) shown);
    for (size_t i = 0, k = 0; i < b->reg->nbuses; i++) {
        const zb_bus_t *bus = b->reg->buses[i];
        if (strncmp(bus->name, prefix, plen) != 0)
            continue;
        if (k >= start && k < start + shown)
            s_put_bus(b, reply, bus);
        k++;
    }
    if (more) {
        zb_put_cstr(reply, "NextToken");
        zb_buf_t *tmp = b->topic;
        zb_buf_reset(tmp);
        zb_buf_appendf(tmp, "%zu", start + shown);
        zb_mpk_put_str(reply, tmp->data, tmp->len);
    }
    return 0;
}
