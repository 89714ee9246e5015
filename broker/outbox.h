/*
 * outbox.h — deliveries staged while a burst of requests is served, handed
 * to their targets together before any of those requests is answered.
 *
 * Why stage at all: each ZeroMQ send that finds the PUB socket's I/O
 * thread idle wakes it with a syscall, and the woken thread then writes
 * one small message to TCP per wake-up. Handing a burst's events over
 * back to back lets one wake-up carry them all. The same seam is where a
 * journal for durable targets will write a batch and sync it once (group
 * commit) before the acknowledgements go out.
 *
 * Ordering contract (what loop.c relies on):
 *   - deliveries are handed over in the order they were staged;
 *   - every delivery staged for a request is handed over before that
 *     request's reply is sent (loop.c flushes, then replies);
 *   - nothing staged may outlive the registry it points into: anything
 *     that can close a target, drop a rule or swap the registry (every
 *     action but PutEvents, a reload, shutdown) flushes first.
 *
 * Memory: the outbox holds each event's envelope once (built in place),
 * however many (rule, target) pairs it goes to, plus each delivery's
 * topic unless it is its target's fixed one. It grows to
 * the largest burst seen and is reused; outbox__bytes() lets the caller
 * flush early so one burst cannot hold an unbounded amount.
 */
#ifndef ZB_BROKER_OUTBOX_H
#define ZB_BROKER_OUTBOX_H

#include "broker-t.h"

typedef struct zb_outbox zb_outbox_t;

/* NULL when memory runs out. */
zb_outbox_t *outbox__new(void);
/* Frees the outbox without delivering what it holds; *self_p becomes
 * NULL. Safe on NULL. */
void outbox__destroy(zb_outbox_t **self_p);

/* Starts the next event's envelope, built in place at the end of the
 * outbox's bytes so that staging it copies nothing: append it to the
 * buffer returned (and nothing else until outbox__envelope_end). */
zb_buf_t *outbox__envelope_begin(zb_outbox_t *self);

/* The envelope built since outbox__envelope_begin (without the id and
 * topics staged after it); the pointer is valid until the outbox's bytes
 * next grow (outbox__stage) or move (outbox__flush). */
const char *outbox__envelope(const zb_outbox_t *self, size_t *len);

/* Ends the envelope begun: dropped unless it became an event. */
void outbox__envelope_end(zb_outbox_t *self);

/* Stages one delivery of the envelope being built to target t of rule on
 * bus (topic copied, unless it is t's fixed topic_static, which outlives
 * what is staged). The first delivery staged makes the envelope an event
 * with event_id (ZB_UUID_LEN characters, copied) and ingest_ns; the next
 * ones, given the same, belong to it. Precondition: an envelope is being
 * built (between outbox__envelope_begin and _end). Returns 0, or -1 when
 * memory runs out (this delivery not staged: the caller flushes, then
 * delivers the rest of the event directly with outbox__deliver). */
int outbox__stage(zb_outbox_t *self, const char *event_id, uint64_t ingest_ns, zb_bus_t *bus,
                  zb_rule_t *rule, zb_target_t *t, const char *topic, size_t topic_len);

/* Hands one event to one target now and counts it (Invocations,
 * FailedInvocations, ingest-to-handover latency at now_ns): the one
 * place a delivery happens, staged or not. */
void outbox__deliver(zb_broker_t *b, zb_bus_t *bus, zb_rule_t *rule, zb_target_t *t,
                     const zb_event_t *ev, uint64_t now_ns);

/* Delivers everything staged, in order, then empties the outbox. An
 * envelope being built (between outbox__envelope_begin and _end) is kept,
 * moved to the start of the bytes, for outbox__envelope; it is no longer
 * an event (the one it became was delivered), so outbox__envelope_end
 * drops it. */
void outbox__flush(zb_outbox_t *self, zb_broker_t *b);

/* Bytes held for staged deliveries, their records included (0 when
 * empty). */
size_t outbox__bytes(const zb_outbox_t *self);

#endif
