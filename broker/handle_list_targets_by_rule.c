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
    size_t start, limit;
    if (handle__rule(b, &req->map, "Rule", &bus, &r, err) == -1
        || handle__page(&req->map, &start, &limit, err) == -1)
        return -1;
    /* Pages as ListRules: at most `limit` targets, fewer once they hold
     * ZB_REPLY_PAGE_BYTES (always one), so replies stay small. */
    zb_buf_reset(b->entries);
    size_t shown = 0;
    for (size_t i = start; i < r->ntargets && shown < limit; i++) {
        size_t before = b->entries->len;
        s_put_target(b->entries, r->targets[i]);
        if (shown > 0 && b->entries->len > ZB_REPLY_PAGE_BYTES) {
            b->entries->len = before; /* this target starts the next page */
            b->entries->data[before] = '\0';
            break;
        }
        shown++;
    }
    bool more = start + shown < r->ntargets;
    zb_reply_begin(reply, req, more ? 2 : 1);
    zb_put_cstr(reply, "Targets");
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
