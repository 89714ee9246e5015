/*
 * fuzz_client.c — what a client reads from the network: replies
 * (zb_reply_decode), delivered envelopes (zb_envelope_decode) and the
 * msgpack-to-JSON transcoding that libzbridge and the CLI print them
 * with. A broker or publisher a client connects to may be hostile or
 * broken; the client must refuse, never crash. JSON that the transcoder
 * writes must parse.
 */
#include <stdint.h>
#include <stdlib.h>

#include "json.h"
#include "zb_buf.h"
#include "zb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zb_map_t m;
    zb_proto_error_t err;
    (void) zb_reply_decode(&m, data, size, &err);
    zb_envelope_view_t v;
    (void) zb_envelope_decode(&v, data, size);
    zb_buf_t *js = zb_buf_new(64);
    zb_json_error_t jerr;
    if (js && zb_msgpack_to_json(data, size, js, &jerr) == 0) {
        zb_json_doc_t *doc = zb_json_parse(js->data, js->len, &jerr);
        if (!doc)
            abort();
        zb_json_doc_destroy(&doc);
    }
    zb_buf_destroy(&js);
    return 0;
}
