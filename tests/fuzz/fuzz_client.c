/*
 * fuzz_client.c — what a client reads from the network: replies
 * (zb_reply_decode) and delivered envelopes (zb_envelope_decode). A
 * broker or publisher a client connects to may be hostile or broken; the
 * client must refuse, never crash. (The msgpack-to-JSON rendering that
 * libzbridge and the CLI print them with is fuzzed on arbitrary bytes by
 * fuzz_event_msgpack.)
 */
#include <stddef.h>
#include <stdint.h>

#include "zb_proto.h"

/* Whether [p, p + n) lies inside the input. */
static int s_inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
    const uint8_t *b = p;
    return !p || (b >= data && n <= size && b - data <= (ptrdiff_t) (size - n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zb_map_t m;
    zb_proto_error_t err;
    (void) zb_reply_decode(&m, data, size, &err);
    zb_envelope_view_t v;
    /* A decoded envelope only points into the bytes it came from. */
    if (zb_envelope_decode(&v, data, size) == 0
        && !(s_inside(v.version, v.version_len, data, size) && s_inside(v.id, v.id_len, data, size)
             && s_inside(v.detail_type, v.detail_type_len, data, size)
             && s_inside(v.source, v.source_len, data, size)
             && s_inside(v.account, v.account_len, data, size)
             && s_inside(v.time, v.time_len, data, size)
             && s_inside(v.region, v.region_len, data, size)
             && s_inside(v.resources, v.resources_len, data, size)
             && s_inside(v.detail, v.detail_len, data, size)))
        __builtin_trap();
    return 0;
}
