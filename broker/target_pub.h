/*
 * target_pub.h — the built-in `pub` target kind: ZeroMQ PUB sockets, one
 * per distinct endpoint, shared by every target that names it.
 *
 * High-water mark policy: each socket queues at most `high-water-mark`
 * events per subscriber (ZMQ_SNDHWM, 0 = unbounded). Targets sharing an
 * endpoint must agree on it (the rules file and PutTargets check); a
 * changed mark (reload, PutTargets) applies to subscribers connecting
 * after the change. A subscriber whose queue is full misses events
 * (ZeroMQ PUB drops for that subscriber only); ingest and the other
 * subscribers never wait for it.
 */
#ifndef ZB_BROKER_TARGET_PUB_H
#define ZB_BROKER_TARGET_PUB_H

#include "broker-t.h"

/* Registers the pub kind in b->pub_kind. Returns 0 or -1. */
int target_pub__init(zb_broker_t *b);
/* Frees the pool; every pub target must be closed already. */
void target_pub__cleanup(zb_broker_t *b);
/* Closes the sockets no target names any more. Closing is deferred to
 * here so that undoing a change (a rebuild) finds them still bound: call
 * it once a request, reload or undo is complete. */
void target_pub__sweep(zb_broker_t *b);
/* Most distinct endpoints open at once: broker.limits.max-pub-endpoints,
 * else (RLIMIT_NOFILE - 256) / 4, fixed at start. Opening one more fails. */
size_t target_pub__max(const zb_broker_t *b);
/* Whether a socket is bound to `endpoint` (a target naming it reuses it). */
bool target_pub__is_bound(const zb_broker_t *b, const char *endpoint);
/* Sockets bound now, those no target names any more but not yet swept
 * included (they hold descriptors). */
size_t target_pub__bound(const zb_broker_t *b);
/* Number of PUB sockets open (for tests and metrics). */
size_t target_pub__sockets(const zb_broker_t *b);

#endif
