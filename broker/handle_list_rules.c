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
    handle_pager_t pg;
    if (handle__bus(b, &req->map, "EventBusName", &bus, err) == -1
        || zb_map_require_str(&req->map, "NamePrefix", false, &prefix, &plen, err) == -1
        || handle__no_nul("NamePrefix", prefix, plen, err) == -1
        || handle__pager_begin(b, &req->map, &pg, err) == -1)
        return -1;
    for (size_t i = 0; i < bus->nslots; i++) {
        const zb_rule_t *r = bus->slots[i];
        if (!r || strncmp(r->name, prefix, plen) != 0 || !handle__pager_want(b, &pg))
            continue;
        zb_mpk_put_map(b->entries, handle__rule_nfields(r));
        handle__put_rule_fields(b, b->entries, bus, r);
        handle__pager_took(b, &pg);
    }
    return handle__pager_reply(b, req, reply, "Rules", &pg);
}
