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
        || handle__no_nul("NamePrefix", prefix, plen, err) == -1
        || handle__page(&req->map, &start, &limit, err) == -1)
        return -1;
    /* The page's items go to b->entries first: it ends at `limit` items or
     * once it holds ZB_REPLY_PAGE_BYTES (always one item, for progress),
     * so a peer that never reads its replies cannot queue huge ones. */
    zb_buf_reset(b->entries);
    size_t matching = 0, shown = 0;
    bool full = false;
    for (size_t i = 0; i < bus->nslots; i++) {
        const zb_rule_t *r = bus->slots[i];
        if (!r || strncmp(r->name, prefix, plen) != 0)
            continue;
        if (matching++ < start || full)
            continue;
        size_t before = b->entries->len;
        zb_mpk_put_map(b->entries, handle__rule_nfields(r));
        handle__put_rule_fields(b, b->entries, bus, r);
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
    zb_put_cstr(reply, "Rules");
    zb_mpk_put_array(reply, (uint32_t) shown);
    zb_buf_append(reply, b->entries->data, b->entries->len);
    if (more) {
        zb_put_cstr(reply, "NextToken");
        zb_buf_reset(b->topic);
        zb_buf_appendf(b->topic, "%zu", start + shown);
        zb_mpk_put_str(reply, b->topic->data, b->topic->len);
    }
    return 0;
}
