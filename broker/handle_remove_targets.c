/*
 * handle_remove_targets.c — RemoveTargets.
 */
#include <string.h>

#include "bus.h"
#include "handlers.h"

int handle__remove_targets(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                           zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    if (handle__rule(b, &req->map, "Rule", &bus, &r, err) == -1)
        return -1;
    const zb_field_t *f = zb_map_get(&req->map, "Ids");
    zb_mpk_t c;
    uint32_t n;
    if (!f)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Ids is not valid. Reason: Ids is a required argument.");
    zb_mpk_init(&c, f->val, f->val_len);
    if (zb_mpk_read_array(&c, &n) == -1 || n < 1 || n > 100)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Ids is not valid. Reason: must be an array of 1 to 100 "
                             "strings.");
    zb_buf_reset(b->entries);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        uint32_t len;
        char id[65] = "?";
        zb_proto_error_t e;
        if (zb_mpk_read_str(&c, &s, &len) == -1) {
            zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH);
            zb_proto_fail(&e, ZB_ERR_VALIDATION, "Target id must be a string.");
        }
        else if (!config__valid_name(s, len))
            zb_proto_fail(&e, ZB_ERR_VALIDATION,
                          "Target id is not valid: must be 1 to 64 characters of "
                          "[A-Za-z0-9._-].");
        else {
            memcpy(id, s, len);
            id[len] = '\0';
            zb_target_t *t = rule__target(r, id);
            if (t) {
                rule__remove_target(b, r, t);
                continue;
            }
            zb_proto_fail(&e, ZB_ERR_NOT_FOUND, "Target %s does not exist on rule %s.", id,
                          r->name);
        }
        failed++;
        handle__failed_target(b, id, &e);
    }
    b->nothing_done = failed == n;
    handle__reply_failed_targets(b, req, reply, failed);
    return 0;
}
