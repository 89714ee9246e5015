/*
 * numbits.c — numbers as order-preserving byte strings.
 *
 * The IEEE-754 bit pattern of a double, read as a big-endian integer, orders
 * positive numbers correctly; flipping the sign bit of positives and all bits
 * of negatives makes the whole line (including -inf..+inf) order bytewise.
 * Exact numeric equality is then byte equality, so `300`, `300.0` and
 * `3.0e2` (the same double) share one key in the value index.
 */
#include "matcher_int.h"

#include <string.h>

void mt_num_key(double d, uint8_t out[8])
{
    if (d == 0)
        d = 0; /* -0 -> +0: equal values, one key */
    uint64_t u;
    memcpy(&u, &d, 8);
    if (u >> 63)
        u = ~u;
    else
        u |= (uint64_t) 1 << 63;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t) (u >> (56 - 8 * i));
}
