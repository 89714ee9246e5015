/*
 * metrics.h — latency histograms. The counters themselves live on the
 * broker, buses, rules and targets (broker-t.h) and are read by the
 * GetMetrics action (handle_get_metrics.c).
 */
#ifndef ZB_BROKER_METRICS_H
#define ZB_BROKER_METRICS_H

#include "broker-t.h"

/* Adds one sample of `ns` nanoseconds. O(1), no allocation. */
void metrics__record(zb_hist_t *h, uint64_t ns);
/* Adds the time elapsed since `start_ns` (CLOCK_MONOTONIC). */
void metrics__record_since(zb_hist_t *h, uint64_t start_ns);
/* The q-quantile (0 < q <= 1) in nanoseconds, 0 when empty. */
uint64_t metrics__percentile(const zb_hist_t *h, double q);
/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t metrics__now_ns(void);

#endif
