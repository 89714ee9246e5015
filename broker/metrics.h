/*
 * metrics.h — latency histograms. The counters themselves live on the
 * broker, buses, rules and targets (broker-t.h) and are read by the
 * GetMetrics action (handle_get_metrics.c).
 */
#ifndef ZB_BROKER_METRICS_H
#define ZB_BROKER_METRICS_H

#include "broker-t.h"

/* The bucket of a value: below 16 one each; above, 16 per power of two. */
static inline unsigned metrics__bucket(uint64_t v)
{
    if (v < ZB_HIST_SUB)
        return (unsigned) v;
    unsigned msb = 63u - (unsigned) __builtin_clzll(v);
    unsigned shift = msb - 4;
    return (msb - 3) * ZB_HIST_SUB + (unsigned) ((v >> shift) & (ZB_HIST_SUB - 1));
}

/* Adds one sample of `ns` nanoseconds. O(1), no allocation. Inline: every
 * delivery records its latency twice (broker and bus), and the bucket is
 * then worked out once. */
static inline void metrics__record(zb_hist_t *h, uint64_t ns)
{
    h->buckets[metrics__bucket(ns)]++;
    h->count++;
    if (ns > h->max)
        h->max = ns;
}
/* Adds the time elapsed since `start_ns` (CLOCK_MONOTONIC). */
void metrics__record_since(zb_hist_t *h, uint64_t start_ns);
/* The q-quantile (0 < q <= 1) in nanoseconds, 0 when empty. */
uint64_t metrics__percentile(const zb_hist_t *h, double q);
/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t metrics__now_ns(void);

#endif
