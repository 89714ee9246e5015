/*
 * handle_enable_rule.c — EnableRule.
 */
#include "handlers.h"

int handle__enable_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err)
{
    return handle__set_rule_state(b, req, reply, true, err);
}
