/*
 * fuzz_state_fold.c — folding API changes into the saved ones
 * (broker/state_fold.c), which reads requests from the state file: a file
 * that was edited, truncated or written by another version must not crash
 * the broker at start or at the next change.
 *
 * The input is a run of msgpack items: every item but the last two is a
 * saved request, then the new request, then its reply. The fold must
 * return a log of exactly *count complete msgpack items.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpk.h"
#include "state_fold.h"
#include "zb_buf.h"

#define MAX_OPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *at[MAX_OPS + 2];
    size_t len[MAX_OPS + 2], n = 0;
    zb_mpk_t c;
    zb_mpk_init(&c, data, size);
    while (n < MAX_OPS + 2 && !zb_mpk_at_end(&c)) {
        const uint8_t *p = c.p;
        if (zb_mpk_skip(&c, 32) != 0)
            return 0;
        at[n] = p;
        len[n] = (size_t) (c.p - p);
        n++;
    }
    if (n < 2)
        return 0;
    size_t nops = n - 2;
    state_op_t ops[MAX_OPS];
    for (size_t i = 0; i < nops; i++) {
        ops[i].data = at[i];
        ops[i].len = len[i];
        state_fold_key(at[i], len[i], &ops[i].key);
    }
    zb_buf_t *out = zb_buf_new(1024);
    size_t count = 0, offsets[MAX_OPS + 1];
    state_key_t keys[MAX_OPS + 1];
    if (out && state_fold(ops, nops, at[nops], len[nops], at[nops + 1], len[nops + 1], out, &count,
                          offsets, keys) == 0) {
        if (count > nops + 1)
            __builtin_trap();
        /* The folded log is count complete items, back to back, at the
         * offsets given. */
        zb_mpk_t o;
        zb_mpk_init(&o, (const uint8_t *) out->data, out->len);
        for (size_t i = 0; i < count; i++) {
            if ((size_t) (o.p - (const uint8_t *) out->data) != offsets[i] || zb_mpk_skip(&o, 64) != 0)
                __builtin_trap();
        }
        if (!zb_mpk_at_end(&o))
            __builtin_trap();
    }
    zb_buf_destroy(&out);
    return 0;
}
