/*
 * fuzz_json.c — common/json: the tree reader and both transcoders. JSON that
 * parses must transcode to msgpack, and that msgpack must transcode back to
 * JSON that parses again.
 */
#include "json.h"
#include "zb_buf.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zb_json_error_t err;
    zb_json_doc_t *doc = zb_json_parse((const char *) data, size, &err);
    zb_buf_t *mp = zb_buf_new(64), *js = zb_buf_new(64);
    int rc = zb_json_to_msgpack((const char *) data, size, mp, &err);
    if ((doc != NULL) != (rc == 0))
        abort();
    if (doc) {
        zb_buf_t *w = zb_buf_new(64);
        if (zb_json_write(w, zb_json_root(doc)) != 0)
            abort();
        zb_json_doc_t *again = zb_json_parse(w->data, w->len, &err);
        if (!again)
            abort();
        zb_json_doc_destroy(&again);
        zb_buf_destroy(&w);
        if (zb_msgpack_to_json(mp->data, mp->len, js, &err) == 0) {
            zb_json_doc_t *back = zb_json_parse(js->data, js->len, &err);
            if (!back)
                abort();
            zb_json_doc_destroy(&back);
        } else if (!strstr(err.message, "NaN or infinity")) {
            abort();
        }
    }
    zb_json_doc_destroy(&doc);
    zb_buf_destroy(&mp);
    zb_buf_destroy(&js);
    return 0;
}
