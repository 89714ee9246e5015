/*
 * target.h — opening, closing and delivering to targets through the target
 * ABI (plugins/zbridge_plugin.h), whatever their kind.
 */
#ifndef ZB_BROKER_TARGET_H
#define ZB_BROKER_TARGET_H

#include "broker-t.h"

/* Fills b->host: the services plugins get (zbridge_plugin.h). */
void target__host_init(zb_broker_t *b);

/* The kind registered under `type`, or NULL. */
const target_kind_t *target__kind(const zb_broker_t *b, const char *type);

/* Opens a target of rule `rule` on bus `bus` from its configuration.
 * Returns 0 with *out owned by the caller (close with target__close), or
 * -1 with *err (ValidationException for a bad configuration, e.g. an
 * endpoint that cannot be bound). */
int target__open(zb_broker_t *b, const char *bus, const char *rule, const conf_target_t *ct,
                 zb_target_t **out, zb_proto_error_t *err);

/* Closes the kind's handle and frees the target; *tp becomes NULL. */
void target__close(zb_broker_t *b, zb_target_t **tp);

/* Expands the target's topic template for one event into b->topic. */
void target__expand_topic(zb_broker_t *b, const zb_target_t *t, const char *bus,
                          const char *rule, const char *source, size_t source_len,
                          const char *detail_type, size_t detail_type_len, const char **topic,
                          size_t *topic_len);

/* The target's topic for one event: its precomputed one when the template
 * names nothing that varies (inline: that is every delivery's question),
 * else expanded into b->topic. */
static inline void target__topic(zb_broker_t *b, const zb_target_t *t, const char *bus,
                                 const char *rule, const char *source, size_t source_len,
                                 const char *detail_type, size_t detail_type_len,
                                 const char **topic, size_t *topic_len)
{
    if (!t->topic_dynamic) {
        *topic = t->topic_static;
        *topic_len = t->topic_static_len;
        return;
    }
    target__expand_topic(b, t, bus, rule, source, source_len, detail_type, detail_type_len, topic,
                         topic_len);
}

#endif
