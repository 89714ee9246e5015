/*
 * handle_put_targets.c — PutTargets: add or replace targets by Id; good ones apply beside bad ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "broker.h"
#include "handlers.h"
#include "state.h"
#include "target.h"
#include "target_pub.h"

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
    int64_t hwm = config__default_hwm(&b->cfg->limits);
    int rc = zb_map_get_int(&m, "HighWaterMark", &hwm);
    if (rc == -1 || hwm < 0 || hwm > INT32_MAX)
        return zb_proto_fail(err, ZB_ERR_VALIDATION,
                             "Parameter HighWaterMark is not valid. Reason: must be an integer "
                             "from 0 to 2147483647.");
    ct->hwm = hwm;
    return 0;
}

/* A pub endpoint already open keeps its socket, whose high-water mark is
 * fixed: a target naming it must agree (the one it replaces aside). */
static int s_check_hwm(zb_broker_t *b, const zb_rule_t *rule, const conf_target_t *ct,
                       zb_proto_error_t *err)
{
    if (strcmp(ct->type, "pub") != 0 || !ct->endpoint)
        return 0;
    for (size_t i = 0; i < b->reg->nbuses; i++) {
        const zb_bus_t *bus = b->reg->buses[i];
        for (size_t j = 0; j < bus->nslots; j++) {
            const zb_rule_t *r = bus->slots[j];
            for (size_t k = 0; r && k < r->ntargets; k++) {
                const zb_target_t *t = r->targets[k];
                if (r == rule && strcmp(t->id, ct->id) == 0)
                    continue;
                if (t->endpoint && strcmp(t->type, "pub") == 0
                    && strcmp(t->endpoint, ct->endpoint) == 0 && t->hwm != ct->hwm)
                    return zb_proto_fail(err, ZB_ERR_VALIDATION,
                                         "Parameter HighWaterMark is not valid. Reason: %s is "
                                         "open with HighWaterMark %lld (target %s of rule %s); "
                                         "targets sharing an endpoint share its socket.",
                                         ct->endpoint, (long long) t->hwm, t->id, r->name);
            }
        }
    }
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
        if (rc == 0 && strcmp(ct.type, "pub") == 0 && !target_pub__is_bound(b, ct.endpoint)
            && target_pub__bound(b) >= target_pub__max(b))
            rc = zb_proto_fail(&e, ZB_ERR_LIMIT_EXCEEDED,
                               "The requested resource exceeds the maximum number allowed: %zu "
                               "pub endpoints (max-pub-endpoints).",
                               target_pub__max(b));
        if (rc == 0)
            rc = s_check_hwm(b, r, &ct, &e);
        if (rc == 0)
            rc = rule__put_target(b, r, &ct, &e);
        if (rc == -1) {
            failed++;
            handle__failed_target(b, id, &e);
            /* A saved target that cannot be opened again (its port is
             * taken, say) must not vanish unnoticed: events would be
             * acknowledged and reach nothing. */
            if (b->replaying)
                broker__log("%s: change %zu (PutTargets): target %s of rule %s on EventBus %s "
                            "was not restored: %s",
                            state__path(b->state), b->replay_change, id, r->name, bus->name,
                            e.message);
        }
        free(ct.type);
        free(ct.endpoint);
        free(ct.topic);
    }
    b->nothing_done = failed == n;
    handle__reply_failed_targets(b, req, reply, failed);
    return 0;
}
