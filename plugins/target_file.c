/*
 * target_file.c — an example target plugin: appends each event to a file,
 * one JSON object per line (the envelope, as EventBridge would show it).
 *
 *   broker:
 *     plugins:
 *       - path: zb_target_file.so        # relative to the rules file
 *   ...
 *         targets:
 *           - id: audit
 *             type: file
 *             endpoint: /var/log/zbridge/orders.jsonl
 *
 * Written only against zbridge_plugin.h (and common/ for the transcoder):
 * the whole plugin contract in one small file.
 */
#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "zbridge_plugin.h"

typedef struct file_target {
    FILE *f;
    zb_buf_t *line;     /* reused per event */
} file_target_t;

static int s_validate(void *pd, const zb_target_config_t *c, char *err, size_t errlen)
{
    if (!c->endpoint || !*c->endpoint) {
        snprintf(err, errlen, "Endpoint (the file to append to) is required.");
        return -1;
    }
    return 0;
}

static int s_open(void *pd, const zb_target_config_t *c, void **target, char *err,
                  size_t errlen)
{
    file_target_t *t = calloc(1, sizeof *t);
    if (!t || !(t->line = zb_buf_new(512)) || !(t->f = fopen(c->endpoint, "a"))) {
        snprintf(err, errlen, "cannot open %s for appending", c->endpoint);
        if (t)
            zb_buf_destroy(&t->line);
        free(t);
        return -1;
    }
    *target = t;
    return 0;
}

static zb_deliver_result_t s_deliver(void *target, const zb_event_t *ev)
{
    file_target_t *t = target;
    zb_buf_reset(t->line);
    if (zb_msgpack_to_json(ev->envelope, ev->envelope_len, t->line, NULL) == -1
        || zb_buf_append_byte(t->line, '\n') == -1)
        return ZB_DELIVER_FAILED;
    /* One write and a flush per event: a reader tailing the file sees
     * whole lines, and a crash loses at most the event being written. */
    if (fwrite(t->line->data, 1, t->line->len, t->f) != t->line->len || fflush(t->f) != 0)
        return ZB_DELIVER_FAILED;
    return ZB_DELIVER_OK;
}

static void s_close(void *pd, void **target)
{
    file_target_t *t = *target;
    if (t) {
        fclose(t->f);
        zb_buf_destroy(&t->line);
        free(t);
    }
    *target = NULL;
}

static const zb_target_ops_t s_ops = {
    .size = sizeof(zb_target_ops_t),
    .type = "file",
    .validate = s_validate,
    .open = s_open,
    .deliver = s_deliver,
    .close = s_close,
};

int zb_plugin_version(int count, const int *versions)
{
    for (int i = 0; i < count; i++)
        if (versions[i] == ZB_PLUGIN_ABI_VERSION)
            return ZB_PLUGIN_ABI_VERSION;
    return -1;
}

int zb_plugin_init(zb_host_t *host, void **plugin_data, const zb_plugin_opt_t *options,
                   int option_count)
{
    *plugin_data = NULL;
    if (host->register_target_kind(host, &s_ops, NULL) != 0)
        return -1;
    host->log(host, ZB_LOG_INFO, "target kind 'file' ready");
    return 0;
}

int zb_plugin_cleanup(void *plugin_data, const zb_plugin_opt_t *options, int option_count)
{
    return 0;
}
