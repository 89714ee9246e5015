/*
 * handle_targets.c — PutTargets, RemoveTargets, ListTargetsByRule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "handlers.h"
#include "target.h"

/* Appends one FailedEntries item to b->entries. */
static void s_failed(zb_broker_t *b, const char *id, const zb_proto_error_t *e)
{
    zb_mpk_put_map(b->entries, 3);
    zb_put_cstr(b->entries, "TargetId");
    zb_put_cstr(b->entries, id);
    zb_put_cstr(b->entries, "ErrorCode");
    zb_put_cstr(b->entries, zb_error_code_name(e->code));
    zb_put_cstr(b->entries, "ErrorMessage");
    zb_put_cstr(b->entries, e->message);
}

static int s_reply_failed(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                          uint32_t failed)
{
    zb_reply_begin(reply, req, 2);
    zb_put_cstr(reply, "FailedEntryCount");
    zb_mpk_put_uint(reply, failed);
    zb_put_cstr(reply, "FailedEntries");
    zb_mpk_put_array(reply, failed);
    return zb_buf_append(reply, b->entries->data, b->entries->len);
}

/* Reads one API target into ct (strings point into `tmp` copies freed by
 * the caller through s_free_conf). */
static int s_read_target(zb_broker_t *b, const uint8_t *val, size_t len, conf_target_t *ct,
                         char id[65], zb_proto_error_t *err)
{
    zb_map_t m;
    snprintf(id, 65, "?");
    if (zb_map_decode(&m, val, len, NULL) == -1)
        return zb_proto_fail(err, ZB_ERR_VALIDATION, "Target is not a map.");
    if (handle__name(&m, "Id", NULL, id, err) == -1)
        return -1;
    ct->id = id;
    if (handle__opt_string(&m, "Type", &ct->type, err) == -1
        || handle__opt_string(&m, "Endpoint", &ct->endpoint, err) == -1
        || handle__opt_string(&m, "Topic", &ct->topic, err) == -1)
        return -1;
    if (!ct->type && !(ct->type = strdup("pub")))
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    if (!target__kind(b, ct->type))
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Type is not valid. Reason: unknown target type (known: "
                             "pub).");
    /* pub endpoints are ZeroMQ's; other kinds check theirs in open(). */
    bool pub = strcmp(ct->type, "pub") == 0;
    if (!ct->endpoint && pub)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Endpoint is not valid. Reason: Endpoint is a required "
                             "argument.");
    char why[256];
    if (pub && config__check_endpoint(ct->endpoint, why, sizeof why) == -1)
        return zb_proto_fail(err, ZB_ERR_VALIDATION, "Parameter Endpoint is not valid. Reason: %s.",
                             why);
    if (ct->endpoint && strcmp(ct->endpoint, b->cfg->listen) == 0)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Endpoint is not valid. Reason: it is the broker's request "
                             "endpoint.");
    int64_t hwm = ZB_DEFAULT_HWM;
    int rc = zb_map_get_int(&m, "HighWaterMark", &hwm);
    if (rc == -1 || hwm < 0 || hwm > INT32_MAX)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter HighWaterMark is not valid. Reason: must be an integer "
                             "from 0 to 2147483647.");
    ct->hwm = hwm;
    return 0;
}

int handle__put_targets(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err)
{
    zb_bus_t *bus;
    zb_rule_t *r;
    if (handle__rule(b, &req->map, "Rule", &bus, &r, err) == -1)
        return -1;
    const zb_field_t *f = zb_map_get(&req->map, "Targets");
    zb_mpk_t c;
    uint32_t n;
    if (!f)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Targets is not valid. Reason: Targets is a required "
                             "argument.");
    zb_mpk_init(&c, f->val, f->val_len);
    if (zb_mpk_read_array(&c, &n) == -1 || n < 1 || n > 100)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter Targets is not valid. Reason: must be an array of 1 to "
                             "100 targets.");
    zb_buf_reset(b->entries);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *val = c.p;
        zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH);
        conf_target_t ct;
        memset(&ct, 0, sizeof ct);
        char id[65];
        zb_proto_error_t e;
        int rc = s_read_target(b, val, (size_t) (c.p - val), &ct, id, &e);
        if (rc == 0 && !rule__target(r, id)
            && (int64_t) r->ntargets >= b->cfg->limits.max_targets_per_rule)
            rc = zb_proto_fail(&e, ZB_ERR_LIMIT_EXCEEDED,
                               "The requested resource exceeds the maximum number allowed: %lld "
                               "targets per rule (max-targets-per-rule).",
                               (long long) b->cfg->limits.max_targets_per_rule);
        if (rc == 0)
            rc = rule__put_target(b, r, &ct, &e);
        if (rc == -1) {
            failed++;
            s_failed(b, id, &e);
        }
        free(ct.type);
        free(ct.endpoint);
        free(ct.topic);
    }
    s_reply_failed(b, req, reply, failed);
    return 0;
}

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
        s_failed(b, id, &e);
    }
    s_reply_failed(b, req, reply, failed);
    return 0;
}

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
