/*
 * handle_create_event_bus.c — CreateEventBus.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "handlers.h"

int handle__create_event_bus(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                             zb_proto_error_t *err)
{
    char name[65];
    char *desc;
    if (handle__name(&req->map, "Name", NULL, name, err) == -1
        || handle__opt_string(&req->map, "Description", &desc, err) == -1)
        return -1;
    if (zb_map_get(&req->map, "EventSourceName"))
        return free(desc), zb_proto_fail(err, ZB_ERR_VALIDATION,
                                         "Parameter EventSourceName is not valid. Reason: "
                                         "partner event sources are not supported.");
    if ((int64_t) b->reg->nbuses >= b->cfg->limits.max_buses
        && !registry__bus(b->reg, name, strlen(name))) {
        free(desc);
        return zb_proto_fail(err, ZB_ERR_LIMIT_EXCEEDED,
                             "The requested resource exceeds the maximum number allowed: %lld "
                             "event buses (max-buses).",
                             (long long) b->cfg->limits.max_buses);
    }
    int rc = registry__add_bus(b->reg, name, desc, NULL, err);
    free(desc);
    if (rc == -1)
        return -1;
    char arn[400];
    bus__arn(b, name, arn, sizeof arn);
    zb_reply_begin(reply, req, 1);
    zb_put_cstr(reply, "EventBusArn");
    zb_put_cstr(reply, arn);
    return 0;
}
