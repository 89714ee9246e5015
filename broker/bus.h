/*
 * bus.h — the registry of buses, their rules and the rules' targets.
 *
 * Every mutation keeps the bus's matcher in step with its enabled rules, so
 * the registry is always ready to match. Functions return 0, or -1 with a
 * user-facing error in *err (codes from zb_proto.h).
 */
#ifndef ZB_BROKER_BUS_H
#define ZB_BROKER_BUS_H

#include "broker-t.h"

zb_registry_t *registry__new(void);
/* Destroys every bus, rule and target (closing targets via their kind). */
void registry__destroy(zb_broker_t *b, zb_registry_t **self_p);

/* Builds a registry from a rules file: buses, rules, targets (opened). On
 * failure returns NULL with one "path:line:col: message" line per problem
 * appended to errors. */
zb_registry_t *registry__from_config(zb_broker_t *b, const zb_config_t *cfg, zb_buf_t *errors);

/* Copies counters of buses, rules and targets that exist in both, by name
 * (a reload keeps the numbers users are watching). */
void registry__carry_metrics(zb_registry_t *to, const zb_registry_t *from);

/* The bus of that name, or NULL; the one found last is tried first (the
 * registry remembers it). The pointer stays valid until the bus is
 * removed or the registry destroyed. */
zb_bus_t *registry__bus(zb_registry_t *reg, const char *name, size_t len);
/* Creates a bus. ZB_ERR_ALREADY_EXISTS if the name is taken. */
int registry__add_bus(zb_registry_t *reg, const char *name, const char *description,
                      zb_bus_t **out, zb_proto_error_t *err);
/* Removes a bus with its rules and targets. */
void registry__remove_bus(zb_broker_t *b, zb_registry_t *reg, zb_bus_t *bus);

zb_rule_t *bus__rule(const zb_bus_t *bus, const char *name, size_t len);
/* Creates a rule, or updates an existing one: a NULL pattern / description
 * keeps the old value (a new rule needs a pattern); `state` is 1 enabled,
 * 0 disabled, -1 unchanged (new rules default to enabled). The pattern is
 * compiled before anything changes, so a bad one leaves the rule as it
 * was. */
int bus__put_rule(zb_bus_t *bus, const char *name, const char *pattern, const char *description,
                  int state, size_t max_rules, zb_rule_t **out, zb_proto_error_t *err);
/* Enables or disables a rule (adds it to or removes it from the matcher). */
int bus__set_rule_state(zb_bus_t *bus, zb_rule_t *rule, bool enabled, zb_proto_error_t *err);
/* Removes a rule and closes its targets. */
void bus__remove_rule(zb_broker_t *b, zb_bus_t *bus, zb_rule_t *rule);

zb_target_t *rule__target(const zb_rule_t *rule, const char *id);
/* Opens the target described by `ct` and adds it to the rule, replacing a
 * target with the same id (the old one is closed after the new one
 * opened, so a shared endpoint's socket stays bound). */
int rule__put_target(zb_broker_t *b, zb_rule_t *rule, const conf_target_t *ct,
                     zb_proto_error_t *err);
/* Closes and removes a target. */
void rule__remove_target(zb_broker_t *b, zb_rule_t *rule, zb_target_t *t);

/* "arn:zbridge:events:REGION:ACCOUNT:event-bus/NAME" into out. */
void bus__arn(const zb_broker_t *b, const char *bus, char *out, size_t outsz);
void rule__arn(const zb_broker_t *b, const char *bus, const char *rule, char *out, size_t outsz);

#endif
