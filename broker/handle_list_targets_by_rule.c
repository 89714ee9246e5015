/*
 * handle_list_targets_by_rule.c — ListTargetsByRule, with pagination.
 */
#include "bus.h"
#include "handlers.h"

/* {"Id", "Type", "Endpoint"?, "Topic", "HighWaterMark"} */
static void s_put_target(zb_buf_t *out, const zb_target_t *t)
{
    zb_mpk_put_map(out, t->endpoint ? 5 : 4);
    zb_put_cstr(out, "Id");
    zb_put_cstr(out, t->id);
    zb_put_cstr(out, "Type");
    zb_put_cstr(out, t->type);
    if (t->endpoint) {
        zb_put_cstr(out, "Endpoint");
        zb_put_cstr(out, t->endpoint);
    }
    zb_put_cstr(out, "Topic");
    zb_put_cstr(out, t->topic);
    zb_put_cstr(out, "HighWaterMark");
    zb_mpk_put_int(out, t->hwm);
}

int handle__list_targets_by_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                                 zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    handle_pager_t pg;
    if (handle__rule(b, &req->map, "Rule", &bus, &r, err) == -1
        || handle__pager_begin(b, &req->map, &pg, err) == -1)
        return -1;
    for (size_t i = 0; i < r->ntargets; i++) {
        if (!handle__pager_want(b, &pg))
            continue;
        s_put_target(b->entries, r->targets[i]);
        handle__pager_took(b, &pg);
    }
    return handle__pager_reply(b, req, reply, "Targets", &pg);
}
