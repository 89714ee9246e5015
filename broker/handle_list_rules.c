/*
 * handle_list_rules.c — ListRules, with NamePrefix and pagination.
 */
#include <string.h>

#include "bus.h"
#include "handlers.h"

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
            zb_mpk_put_map(reply, handle__rule_nfields(r));
            handle__put_rule_fields(b, reply, bus, r);
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
