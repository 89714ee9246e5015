/*
 * handle_list_targets_by_rule.c — ListTargetsByRule.
 */
#include "bus.h"
#include "handlers.h"

int handle__list_targets_by_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                                 zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    if (handle__rule(b, &req->map, "Rule", &bus, &r, err) == -1)
        return -1;
    zb_reply_begin(reply, req, 1);
    zb_put_cstr(reply, "Targets");
    zb_mpk_put_array(reply, (uint32_t) r->ntargets);
    for (size_t i = 0; i < r->ntargets; i++) {
        const zb_target_t *t = r->targets[i];
        zb_mpk_put_map(reply, t->endpoint ? 5 : 4);
        zb_put_cstr(reply, "Id");
        zb_put_cstr(reply, t->id);
        zb_put_cstr(reply, "Type");
        zb_put_cstr(reply, t->type);
        if (t->endpoint) {
            zb_put_cstr(reply, "Endpoint");
            zb_put_cstr(reply, t->endpoint);
        }
        zb_put_cstr(reply, "Topic");
        zb_put_cstr(reply, t->topic);
        zb_put_cstr(reply, "HighWaterMark");
        zb_mpk_put_int(reply, t->hwm);
    }
    return 0;
}
