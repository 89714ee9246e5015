/*
 * handle_disable_rule.c — DisableRule: a disabled rule matches nothing.
 */
#include "handlers.h"

int handle__disable_rule(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                         zb_proto_error_t *err)
{
    return handle__set_rule_state(b, req, reply, false, err);
}
