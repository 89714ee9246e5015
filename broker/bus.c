/*
 * bus.c — buses, rules and targets. See bus.h.
 *
 * Lookups by name are linear: they happen on the control path (a few
 * hundred names at most), while the ingest path finds rules by matcher id,
 * which is an index into bus->slots.
 */
#include "bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

/* Grows *arr (of elem-sized items) so that one more fits. */
static int s_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static bool s_eq(const char *a, const char *b, size_t blen)
{
    return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

/* ==== registry =================================================================== */

zb_registry_t *registry__new(void)
{
    return calloc(1, sizeof(zb_registry_t));
}

static void s_bus_destroy(zb_broker_t *b, zb_bus_t **bp)
{
    zb_bus_t *bus = *bp;
    if (!bus)
        return;
    for (size_t i = 0; i < bus->nslots; i++)
        if (bus->slots[i])
            bus__remove_rule(b, bus, bus->slots[i]);
    zb_matcher_destroy(&bus->matcher);
    free(bus->slots);
    free(bus->name);
    free(bus->description);
    free(bus);
    *bp = NULL;
}

void registry__destroy(zb_broker_t *b, zb_registry_t **self_p)
{
    zb_registry_t *reg = *self_p;
    if (!reg)
        return;
    for (size_t i = 0; i < reg->nbuses; i++)
        s_bus_destroy(b, &reg->buses[i]);
    free(reg->buses);
    free(reg);
    *self_p = NULL;
}

static zb_bus_t *s_find(const zb_registry_t *reg, const char *name, size_t len)
{
    for (size_t i = 0; i < reg->nbuses; i++)
        if (s_eq(reg->buses[i]->name, name, len))
            return reg->buses[i];
    return NULL;
}

zb_bus_t *registry__bus(zb_registry_t *reg, const char *name, size_t len)
{
    zb_bus_t *bus = reg->last;
    if (bus && reg->last_len == len && memcmp(bus->name, name, len) == 0)
        return bus;
    bus = s_find(reg, name, len);
    if (bus) {
        reg->last = bus;
        reg->last_len = len;
    }
    return bus;
}

int registry__add_bus(zb_registry_t *reg, const char *name, const char *description,
                      zb_bus_t **out, zb_proto_error_t *err)
{
    if (s_find(reg, name, strlen(name)))
        return zb_proto_fail(err, ZB_ERR_ALREADY_EXISTS, "Event bus %s already exists.", name);
    zb_bus_t *bus = calloc(1, sizeof *bus);
    if (!bus || s_grow((void **) &reg->buses, &reg->cap_buses, reg->nbuses, sizeof *reg->buses)) {
        free(bus);
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    }
    bus->name = strdup(name);
    bus->description = description ? strdup(description) : NULL;
    bus->matcher = zb_matcher_new();
    if (!bus->name || (description && !bus->description) || !bus->matcher) {
        zb_matcher_destroy(&bus->matcher);
        free(bus->name);
        free(bus->description);
        free(bus);
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    }
    reg->buses[reg->nbuses++] = bus;
    reg->last = NULL;
    if (out)
        *out = bus;
    return 0;
}

void registry__remove_bus(zb_broker_t *b, zb_registry_t *reg, zb_bus_t *bus)
{
    for (size_t i = 0; i < reg->nbuses; i++)
        if (reg->buses[i] == bus) {
            memmove(&reg->buses[i], &reg->buses[i + 1],
                    (reg->nbuses - i - 1) * sizeof *reg->buses);
            reg->nbuses--;
            break;
        }
    reg->last = NULL;
    s_bus_destroy(b, &bus);
}

zb_registry_t *registry__from_config(zb_broker_t *b, const zb_config_t *cfg, zb_buf_t *errors)
{
    zb_registry_t *reg = registry__new();
    if (!reg) {
        zb_buf_appendf(errors, "%s: out of memory\n", cfg->path);
        return NULL;
    }
    int nerr = 0;
    zb_proto_error_t err;
    /* The default bus always exists, as on EventBridge. */
    if (registry__add_bus(reg, "default", NULL, NULL, &err) == -1)
        goto oom;
    for (size_t i = 0; i < cfg->nbuses; i++) {
        const conf_bus_t *cb = &cfg->buses[i];
        zb_bus_t *bus = registry__bus(reg, cb->name, strlen(cb->name));
        if (bus && cb->description && !bus->description)
            bus->description = strdup(cb->description);
        if (!bus && registry__add_bus(reg, cb->name, cb->description, &bus, &err) == -1)
            goto oom;
        for (size_t j = 0; j < cb->nrules; j++) {
            const conf_rule_t *cr = &cb->rules[j];
            zb_rule_t *rule;
            if (bus__put_rule(bus, cr->name, cr->pattern, cr->description, cr->enabled ? 1 : 0,
                              (size_t) cfg->limits.max_rules_per_bus, &rule, &err) == -1) {
                zb_buf_appendf(errors, "%s:%d:%d: rule %s: %s\n", cfg->path, cr->mark.line,
                               cr->mark.col, cr->name, err.message);
                nerr++;
                continue;
            }
            for (size_t k = 0; k < cr->ntargets; k++) {
                const conf_target_t *ct = &cr->targets[k];
                if (rule__put_target(b, rule, ct, &err) == -1) {
                    zb_buf_appendf(errors, "%s:%d:%d: %s\n", cfg->path, ct->endpoint_mark.line,
                                   ct->endpoint_mark.col, err.message);
                    nerr++;
                }
            }
        }
    }
    if (nerr) {
        registry__destroy(b, &reg);
        return NULL;
    }
    return reg;
oom:
    zb_buf_appendf(errors, "%s: %s\n", cfg->path, err.message);
    registry__destroy(b, &reg);
    return NULL;
}

void registry__carry_metrics(zb_registry_t *to, const zb_registry_t *from)
{
    for (size_t i = 0; i < to->nbuses; i++) {
        zb_bus_t *nb = to->buses[i];
        zb_bus_t *ob = s_find(from, nb->name, strlen(nb->name));
        if (!ob)
            continue;
        nb->entries = ob->entries;
        nb->failed_entries = ob->failed_entries;
        nb->matched = ob->matched;
        nb->triggered = ob->triggered;
        nb->invocations = ob->invocations;
        nb->failed_invocations = ob->failed_invocations;
        nb->latency = ob->latency;
        for (size_t j = 0; j < nb->nslots; j++) {
            zb_rule_t *nr = nb->slots[j];
            zb_rule_t *or = nr ? bus__rule(ob, nr->name, strlen(nr->name)) : NULL;
            if (!or)
                continue;
            nr->matched = or->matched;
            nr->invocations = or->invocations;
            nr->failed_invocations = or->failed_invocations;
            for (size_t k = 0; k < nr->ntargets; k++) {
                zb_target_t *ot = rule__target(or, nr->targets[k]->id);
                if (ot) {
                    nr->targets[k]->invocations = ot->invocations;
                    nr->targets[k]->failed_invocations = ot->failed_invocations;
                }
            }
        }
    }
}

/* ==== rules ====================================================================== */

zb_rule_t *bus__rule(const zb_bus_t *bus, const char *name, size_t len)
{
    for (size_t i = 0; i < bus->nslots; i++)
        if (bus->slots[i] && s_eq(bus->slots[i]->name, name, len))
            return bus->slots[i];
    return NULL;
}

static int s_compile(zb_bus_t *bus, uint64_t id, const char *pattern, zb_proto_error_t *err)
{
    zb_matcher_error_t merr;
    memset(&merr, 0, sizeof merr);
    if (zb_matcher_add(bus->matcher, id, ZB_FORMAT_JSON, pattern, strlen(pattern), &merr) == -1)
        return zb_proto_fail(err, ZB_ERR_INVALID_PATTERN, "%s",
                             merr.message[0] ? merr.message : "Event pattern is not valid.");
    return 0;
}

int bus__put_rule(zb_bus_t *bus, const char *name, const char *pattern, const char *description,
                  int state, size_t max_rules, zb_rule_t **out, zb_proto_error_t *err)
{
    zb_rule_t *r = bus__rule(bus, name, strlen(name));
    if (!r) {
        if (!pattern)
            return zb_proto_fail(err, ZB_ERR_VALIDATION,
                                 "Parameter EventPattern is not valid. Reason: EventPattern is a "
                                 "required argument.");
        if (bus->nrules >= max_rules)
            return zb_proto_fail(err, ZB_ERR_LIMIT_EXCEEDED,
                                 "The requested resource exceeds the maximum number allowed: "
                                 "%zu rules per event bus (max-rules-per-bus).",
                                 max_rules);
        /* Reuse a hole so matcher ids stay dense and the slot array small. */
        size_t slot = bus->nslots;
        for (size_t i = 0; i < bus->nslots; i++)
            if (!bus->slots[i]) {
                slot = i;
                break;
            }
        if (slot == bus->nslots
            && s_grow((void **) &bus->slots, &bus->cap_slots, bus->nslots, sizeof *bus->slots))
            return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
        r = calloc(1, sizeof *r);
        if (!r)
            return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
        r->name = strdup(name);
        r->pattern = strdup(pattern);
        r->description = description ? strdup(description) : NULL;
        r->enabled = state != 0;
        r->id = slot + 1;
        r->bus = bus;
        if (!r->name || !r->pattern || (description && !r->description)) {
            free(r->name);
            free(r->pattern);
            free(r->description);
            free(r);
            return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
        }
        if (r->enabled) {
            if (s_compile(bus, r->id, pattern, err) == -1) {
                free(r->name);
                free(r->pattern);
                free(r->description);
                free(r);
                return -1;
            }
        }
        else {
            zb_matcher_error_t merr;
            if (zb_pattern_check(ZB_FORMAT_JSON, pattern, strlen(pattern), &merr) == -1) {
                zb_proto_fail(err, ZB_ERR_INVALID_PATTERN, "%s", merr.message);
                free(r->name);
                free(r->pattern);
                free(r->description);
                free(r);
                return -1;
            }
        }
        bus->slots[slot] = r;
        if (slot == bus->nslots)
            bus->nslots++;
        bus->nrules++;
        if (out)
            *out = r;
        return 0;
    }
    /* Update: prepare everything that can fail first. */
    bool enabled = state < 0 ? r->enabled : state != 0;
    char *np = pattern ? strdup(pattern) : NULL;
    char *nd = description ? strdup(description) : NULL;
    if ((pattern && !np) || (description && !nd)) {
        free(np);
        free(nd);
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    }
    const char *effective = np ? np : r->pattern;
    if (enabled) {
        /* zb_matcher_add replaces atomically: on error the old pattern stays. */
        if ((np || !r->enabled) && s_compile(bus, r->id, effective, err) == -1) {
            free(np);
            free(nd);
            return -1;
        }
    }
    else {
        zb_matcher_error_t merr;
        if (np && zb_pattern_check(ZB_FORMAT_JSON, np, strlen(np), &merr) == -1) {
            free(np);
            free(nd);
            return zb_proto_fail(err, ZB_ERR_INVALID_PATTERN, "%s", merr.message);
        }
        if (r->enabled)
            zb_matcher_remove(bus->matcher, r->id);
    }
    r->enabled = enabled;
    if (np) {
        free(r->pattern);
        r->pattern = np;
    }
    if (nd) {
        free(r->description);
        r->description = nd;
    }
    if (out)
        *out = r;
    return 0;
}

int bus__set_rule_state(zb_bus_t *bus, zb_rule_t *rule, bool enabled, zb_proto_error_t *err)
{
    return bus__put_rule(bus, rule->name, NULL, NULL, enabled ? 1 : 0, (size_t) -1, NULL, err);
}

void bus__remove_rule(zb_broker_t *b, zb_bus_t *bus, zb_rule_t *rule)
{
    if (rule->enabled)
        zb_matcher_remove(bus->matcher, rule->id);
    for (size_t i = 0; i < rule->ntargets; i++)
        target__close(b, &rule->targets[i]);
    free(rule->targets);
    size_t slot = (size_t) (rule->id - 1);
    if (slot < bus->nslots && bus->slots[slot] == rule) {
        bus->slots[slot] = NULL;
        bus->nrules--;
        while (bus->nslots && !bus->slots[bus->nslots - 1])
            bus->nslots--;
    }
    free(rule->name);
    free(rule->pattern);
    free(rule->description);
    free(rule);
}

/* ==== targets ===================================================================== */

zb_target_t *rule__target(const zb_rule_t *rule, const char *id)
{
    for (size_t i = 0; i < rule->ntargets; i++)
        if (strcmp(rule->targets[i]->id, id) == 0)
            return rule->targets[i];
    return NULL;
}

int rule__put_target(zb_broker_t *b, zb_rule_t *rule, const conf_target_t *ct,
                     zb_proto_error_t *err)
{
    zb_target_t *old = rule__target(rule, ct->id);
    if (!old && s_grow((void **) &rule->targets, &rule->cap_targets, rule->ntargets,
                       sizeof *rule->targets))
        return zb_proto_fail(err, ZB_ERR_INTERNAL, "Out of memory.");
    zb_target_t *t;
    if (target__open(b, rule->bus->name, rule->name, ct, &t, err) == -1)
        return -1;
    if (old) {
        t->invocations = old->invocations;
        t->failed_invocations = old->failed_invocations;
        for (size_t i = 0; i < rule->ntargets; i++)
            if (rule->targets[i] == old)
                rule->targets[i] = t;
        target__close(b, &old);
    }
    else
        rule->targets[rule->ntargets++] = t;
    return 0;
}

void rule__remove_target(zb_broker_t *b, zb_rule_t *rule, zb_target_t *t)
{
    for (size_t i = 0; i < rule->ntargets; i++)
        if (rule->targets[i] == t) {
            memmove(&rule->targets[i], &rule->targets[i + 1],
                    (rule->ntargets - i - 1) * sizeof *rule->targets);
            rule->ntargets--;
            break;
        }
    target__close(b, &t);
}

void bus__arn(const zb_broker_t *b, const char *bus, char *out, size_t outsz)
{
    snprintf(out, outsz, "arn:zbridge:events:%s:%s:event-bus/%s", b->cfg->region, b->cfg->account,
             bus);
}

void rule__arn(const zb_broker_t *b, const char *bus, const char *rule, char *out, size_t outsz)
{
    snprintf(out, outsz, "arn:zbridge:events:%s:%s:rule/%s/%s", b->cfg->region, b->cfg->account,
             bus, rule);
}
