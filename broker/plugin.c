/*
 * plugin.c — loading target plugins. See plugin.h and zbridge_plugin.h.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*version_fn)(int count, const int *versions);
typedef int (*init_fn)(zb_host_t *host, void **data, const zb_plugin_opt_t *options,
                       int option_count);
typedef int (*cleanup_fn)(void *data, const zb_plugin_opt_t *options, int option_count);

/* The ABI versions this broker speaks, newest first. */
static const int s_versions[] = { ZB_PLUGIN_ABI_VERSION };

/* A relative plugin path is relative to the rules file, like state-file. */
static char *s_resolve(const char *rules_path, const char *path)
{
    const char *slash = strrchr(rules_path, '/');
    if (path[0] == '/' || !slash)
        return strdup(path);
    size_t dir = (size_t) (slash - rules_path) + 1;
    char *full = malloc(dir + strlen(path) + 1);
    if (full) {
        memcpy(full, rules_path, dir);
        strcpy(full + dir, path);
    }
    return full;
}

/* Copies the options so they outlive the config (plugins may keep them
 * until cleanup). */
static int s_copy_options(loaded_plugin_t *p, const conf_plugin_t *cp)
{
    p->nopts = (int) cp->noptions;
    p->opts = calloc(cp->noptions ? cp->noptions : 1, sizeof *p->opts);
    p->strings = calloc(2 * cp->noptions + 1, sizeof *p->strings);
    if (!p->opts || !p->strings)
        return -1;
    for (size_t i = 0; i < cp->noptions; i++) {
        p->strings[2 * i] = strdup(cp->keys[i]);
        p->strings[2 * i + 1] = strdup(cp->values[i]);
        if (!p->strings[2 * i] || !p->strings[2 * i + 1])
            return -1;
        p->opts[i].key = p->strings[2 * i];
        p->opts[i].value = p->strings[2 * i + 1];
    }
    return 0;
}

static void s_release(loaded_plugin_t *p)
{
    if (p->dl)
        dlclose(p->dl);
    for (int i = 0; p->strings && i < 2 * p->nopts; i++)
        free(p->strings[i]);
    free(p->strings);
    free(p->opts);
    free(p->path);
    memset(p, 0, sizeof *p);
}

int plugin__load_all(zb_broker_t *b, const zb_config_t *cfg, zb_buf_t *errors)
{
    int rc = 0;
    for (size_t i = 0; i < cfg->nplugins && b->nplugins < ZB_MAX_PLUGINS; i++) {
        const conf_plugin_t *cp = &cfg->plugins[i];
        loaded_plugin_t *p = &b->plugins[b->nplugins];
        memset(p, 0, sizeof *p);
        const char *why = NULL;
        char detail[512] = "";
        p->path = s_resolve(cfg->path, cp->path);
        if (!p->path || s_copy_options(p, cp) == -1)
            why = "out of memory";
        else if (!(p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL))) {
            const char *e = dlerror();
            snprintf(detail, sizeof detail, "cannot load: %s", e ? e : "unknown error");
            why = detail;
        }
        if (!why) {
            version_fn version = (version_fn) (uintptr_t) dlsym(p->dl, "zb_plugin_version");
            init_fn init = (init_fn) (uintptr_t) dlsym(p->dl, "zb_plugin_init");
            p->cleanup = (cleanup_fn) (uintptr_t) dlsym(p->dl, "zb_plugin_cleanup");
            int v = version ? version((int) (sizeof s_versions / sizeof s_versions[0]),
                                      s_versions)
                            : -1;
            if (!version || !init || !p->cleanup)
                why = "not a zbridge plugin (zb_plugin_version, zb_plugin_init and "
                      "zb_plugin_cleanup are required)";
            else if (v != ZB_PLUGIN_ABI_VERSION) {
                snprintf(detail, sizeof detail,
                         "plugin asks for ABI version %d; this broker speaks %d", v,
                         ZB_PLUGIN_ABI_VERSION);
                why = detail;
            }
            else if (init(&b->host, &p->data, p->opts, p->nopts) != 0) {
                p->cleanup = NULL; /* init failed: nothing to clean up */
                why = "zb_plugin_init refused to start";
            }
        }
        if (why) {
            zb_buf_appendf(errors, "%s:%d:%d: plugin %s: %s\n", cfg->path, cp->mark.line,
                           cp->mark.col, cp->path, why);
            s_release(p);
            rc = -1;
            continue;
        }
        b->nplugins++;
    }
    return rc;
}

void plugin__unload_all(zb_broker_t *b)
{
    while (b->nplugins > 0) {
        loaded_plugin_t *p = &b->plugins[--b->nplugins];
        if (p->cleanup)
            p->cleanup(p->data, p->opts, p->nopts);
        s_release(p);
    }
    b->nkinds = 0;
}
