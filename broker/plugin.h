/*
 * plugin.h — loading target plugins (plugins/zbridge_plugin.h) at start.
 *
 * Plugins named in broker.plugins are loaded once, when the broker starts,
 * in file order: dlopen, ABI version negotiation, zb_plugin_init (which
 * registers target kinds through b->host). A reload does not load or
 * unload plugins; changing the list takes a restart.
 */
#ifndef ZB_BROKER_PLUGIN_H
#define ZB_BROKER_PLUGIN_H

#include "broker-t.h"

/* Loads every plugin of cfg. Returns 0, or -1 with one
 * "path:line:col: message" line per failure in errors (plugins loaded
 * before the failure stay loaded; plugin__unload_all releases them). */
int plugin__load_all(zb_broker_t *b, const zb_config_t *cfg, zb_buf_t *errors);

/* Calls each plugin's cleanup and unloads it, in reverse order. Every
 * target of a plugin's kinds must be closed already. */
void plugin__unload_all(zb_broker_t *b);

#endif
