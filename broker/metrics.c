/*
 * metrics.c — log-linear latency histograms. See metrics.h.
 */
#include "metrics.h"

#include <time.h>

uint64_t metrics__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* A representative value for a bucket: its midpoint. */
static uint64_t s_value(unsigned bucket)
{
    if (bucket < ZB_HIST_SUB)
        return bucket;
    unsigned msb = bucket / ZB_HIST_SUB + 3;
    unsigned sub = bucket % ZB_HIST_SUB;
    unsigned shift = msb - 4;
    uint64_t lower = (uint64_t) (ZB_HIST_SUB + sub) << shift;
    return lower + (((uint64_t) 1 << shift) >> 1);
}

void metrics__record_since(zb_hist_t *h, uint64_t start_ns)
{
    uint64_t now = metrics__now_ns();
    metrics__record(h, now > start_ns ? now - start_ns : 0);
}

uint64_t metrics__percentile(const zb_hist_t *h, double q)
{
    if (!h->count)
        return 0;
    uint64_t rank = (uint64_t) (q * (double) h->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < ZB_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = s_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}
