/*
 * target.c — targets of any kind, through the target ABI. See target.h.
 */
#include "target.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "bus.h"

const target_kind_t *target__kind(const zb_broker_t *b, const char *type)
{
    if (b->pub_kind.ops && strcmp(type, b->pub_kind.ops->type) == 0)
        return &b->pub_kind;
    for (int i = 0; i < b->nkinds; i++)
        if (strcmp(type, b->kinds[i].ops->type) == 0)
            return &b->kinds[i];
    return NULL;
}

/* ==== host services (zbridge_plugin.h) ============================================ */

/* Refuses a kind whose ops are too old to hold the callbacks, incomplete,
 * or named like one already registered. */
static int s_register(zb_host_t *host, const zb_target_ops_t *ops, void *plugin_data)
{
    zb_broker_t *b = host->broker;
    if (!ops || ops->size < offsetof(zb_target_ops_t, future) || !ops->type || !ops->open
        || !ops->deliver || !ops->close || target__kind(b, ops->type)
        || b->nkinds == ZB_MAX_TARGET_KINDS)
        return -1;
    b->kinds[b->nkinds].ops = ops;
    b->kinds[b->nkinds].plugin_data = plugin_data;
    b->nkinds++;
    return 0;
}

static void s_log(zb_host_t *host, zb_log_level_t level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    static const char *const names[] = { "", "error", "warning", "info", "debug" };
    broker__log("%s: %s", level >= 1 && level <= 4 ? names[level] : "log", line);
}

/* A failure found after deliver() returned: counted where a synchronous
 * failure would have been. Names that no longer exist (a reload removed
 * the target meanwhile) are ignored. */
static void s_report_failure(zb_host_t *host, const char *bus, const char *rule,
                             const char *target_id, const char *reason)
{
    zb_broker_t *b = host->broker;
    zb_bus_t *bs = bus ? registry__bus(b->reg, bus, strlen(bus)) : NULL;
    zb_rule_t *r = bs && rule ? bus__rule(bs, rule, strlen(rule)) : NULL;
    zb_target_t *t = r && target_id ? rule__target(r, target_id) : NULL;
    if (!t)
        return;
    t->failed_invocations++;
    r->failed_invocations++;
    bs->failed_invocations++;
}

void target__host_init(zb_broker_t *b)
{
    b->host = (zb_host_t) {
        .size = sizeof(zb_host_t),
        .abi_version = ZB_PLUGIN_ABI_VERSION,
        .zmq_context = b->zctx,
        .register_target_kind = s_register,
        .log = s_log,
        .report_failure = s_report_failure,
        .broker = b,
    };
}

/* Appends the template with {bus} {rule} {target} replaced and, when
 * `source` is not NULL, {source} and {detail-type} too. Returns true when
 * the template names a per-event field. */
static bool s_expand(zb_buf_t *out, const char *tmpl, const char *bus, const char *rule,
                     const char *target, const char *source, size_t source_len,
                     const char *dtype, size_t dtype_len)
{
    bool dynamic = false;
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            size_t n = end ? (size_t) (end - p + 1) : 0;
            const char *val = NULL;
            size_t vlen = 0;
            if (n == 5 && !strncmp(p, "{bus}", 5))
                val = bus, vlen = strlen(bus);
            else if (n == 6 && !strncmp(p, "{rule}", 6))
                val = rule, vlen = strlen(rule);
            else if (n == 8 && !strncmp(p, "{target}", 8))
                val = target, vlen = strlen(target);
            else if (n == 8 && !strncmp(p, "{source}", 8)) {
                dynamic = true;
                val = source ? source : "", vlen = source ? source_len : 0;
            }
            else if (n == 13 && !strncmp(p, "{detail-type}", 13)) {
                dynamic = true;
                val = dtype ? dtype : "", vlen = dtype ? dtype_len : 0;
            }
            if (val) {
                zb_buf_append(out, val, vlen);
                p += n;
                continue;
            }
        }
        zb_buf_append_byte(out, (uint8_t) *p++);
    }
    return dynamic;
}

int target__open(zb_broker_t *b, const char *bus, const char *rule, const conf_target_t *ct,
                 zb_target_t **out, zb_proto_error_t *err)
{
    const target_kind_t *kind = target__kind(b, ct->type);
    if (!kind)
        return zb_proto_fail(err, ZB_ERR_VALIDATION, "Target %s: unknown Type %s.", ct->id,
                             ct->type);
    zb_target_t *t = calloc(1, sizeof *t);
    if (!t)
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    t->id = strdup(ct->id);
    t->type = strdup(ct->type);
    t->endpoint = ct->endpoint ? strdup(ct->endpoint) : NULL;
    t->topic = strdup(ct->topic ? ct->topic : "{rule}");
    t->hwm = ct->hwm;
    t->kind = kind;
    zb_buf_t *tmp = zb_buf_new(64);
    if (!t->id || !t->type || (ct->endpoint && !t->endpoint) || !t->topic || !tmp) {
        zb_buf_destroy(&tmp);
        target__close(b, &t);
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    }
    t->topic_dynamic = s_expand(tmp, t->topic, bus, rule, t->id, NULL, 0, NULL, 0);
    t->topic_static = strndup(tmp->data, tmp->len);
    t->topic_static_len = tmp->len;
    zb_buf_destroy(&tmp);
    zb_target_config_t cfg = {
        .size = sizeof cfg,
        .bus = bus,
        .rule = rule,
        .id = t->id,
        .type = t->type,
        .endpoint = t->endpoint,
        .topic = t->topic,
        .high_water_mark = t->hwm,
    };
    char why[400] = "";
    if (!t->topic_static
        || (kind->ops->validate
            && kind->ops->validate(kind->plugin_data, &cfg, why, sizeof why) == -1)
        || kind->ops->open(kind->plugin_data, &cfg, &t->handle, why, sizeof why) == -1) {
        zb_proto_fail(err, ZB_ERR_VALIDATION, "Target %s: %s", t->id,
                      t->topic_static ? why : "out of memory");
        t->handle = NULL;
        target__close(b, &t);
        return -1;
    }
    t->opened = true;
    *out = t;
    return 0;
}

void target__close(zb_broker_t *b, zb_target_t **tp)
{
    zb_target_t *t = *tp;
    if (!t)
        return;
    if (t->opened)
        t->kind->ops->close(t->kind->plugin_data, &t->handle);
    free(t->id);
    free(t->type);
    free(t->endpoint);
    free(t->topic);
    free(t->topic_static);
    free(t);
    *tp = NULL;
}

void target__expand_topic(zb_broker_t *b, const zb_target_t *t, const char *bus,
                          const char *rule, const char *source, size_t source_len,
                          const char *detail_type, size_t detail_type_len, const char **topic,
                          size_t *topic_len)
{
    zb_buf_reset(b->topic);
    s_expand(b->topic, t->topic, bus, rule, t->id, source, source_len, detail_type,
             detail_type_len);
    *topic = b->topic->data;
    *topic_len = b->topic->len;
}
