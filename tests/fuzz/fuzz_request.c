/*
 * fuzz_request.c — the broker's request path, from raw body bytes to the
 * reply: request decoding, every action handler, PutEvents validation,
 * envelope building and matching. Every input must produce a reply that
 * is one well-formed msgpack map.
 *
 * The broker runs in-process without sockets (broker__new(..., false)).
 * Targets use a stub kind so fuzzed PutTargets never bind real ports; the
 * broker is rebuilt every few thousand inputs so state stays bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "mpk.h"

static const char s_rules[] =
    "broker:\n"
    "  listen: inproc://fuzz-requests\n"
    "  limits: {max-buses: 8, max-rules-per-bus: 16, max-targets-per-rule: 4,\n"
    "           max-entries-per-request: 16}\n"
    "buses:\n"
    "  - name: default\n"
    "    rules:\n"
    "      - name: big\n"
    "        event-pattern: {detail: {amount: [{numeric: ['>', 100]}]}}\n"
    "      - name: src\n"
    "        event-pattern: {source: [{prefix: shop.}], detail-type: [{anything-but: x}]}\n"
    "  - name: orders\n"
    "    rules:\n"
    "      - name: any\n"
    "        event-pattern: '{\"source\": [{\"exists\": true}]}'\n";

static char s_path[64];
static zb_broker_t *s_broker;
static int s_handle;

static int s_open(void *pd, const zb_target_config_t *c, void **t, char *err, size_t errlen)
{
    *t = &s_handle;
    return 0;
}

static zb_deliver_result_t s_deliver(void *t, const zb_event_t *ev)
{
    /* Touch every byte a real target would read. */
    volatile uint8_t x = 0;
    for (size_t i = 0; i < ev->envelope_len; i++)
        x ^= ((const uint8_t *) ev->envelope)[i];
    for (size_t i = 0; i < ev->topic_len; i++)
        x ^= (uint8_t) ev->topic[i];
    (void) x;
    return ZB_DELIVER_OK;
}

static void s_close(void *pd, void **t)
{
    *t = NULL;
}

static const zb_target_ops_t s_stub = {
    .size = sizeof s_stub, .type = "pub", .open = s_open, .deliver = s_deliver, .close = s_close,
};

static void s_start(void)
{
    s_broker = broker__new(s_path, "/nonexistent-dir/fuzz.state", false);
    if (!s_broker)
        abort();
    s_broker->pub_kind.ops = &s_stub;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    snprintf(s_path, sizeof s_path, "/tmp/zb-fuzz-request-%d.yaml", (int) getpid());
    FILE *f = fopen(s_path, "w");
    if (!f || fputs(s_rules, f) == EOF || fclose(f) != 0)
        abort();
    s_start();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned runs;
    if (++runs % 5000 == 0) {
        broker__destroy(&s_broker);
        s_start();
    }
    broker__handle(s_broker, data, size);
    broker__flush(s_broker);
    /* The reply is always exactly one msgpack map. */
    zb_mpk_t c;
    uint32_t n;
    zb_mpk_init(&c, s_broker->reply->data, s_broker->reply->len);
    zb_mpk_t probe = c;
    if (zb_mpk_read_map(&probe, &n) == -1 || zb_mpk_skip(&c, 64) == -1 || !zb_mpk_at_end(&c))
        abort();
    return 0;
}
