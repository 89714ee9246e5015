/*
 * ingest.h — the hot path: one PutEvents entry from bytes to subscribers.
 *
 *   validate -> build the envelope once -> match on the bus -> commit ->
 *   fan out to every target of every matching rule
 *
 * Nothing here allocates per event in the steady state when Detail is a
 * msgpack map (a JSON-text Detail is parsed into a temporary tree).
 */
#ifndef ZB_BROKER_INGEST_H
#define ZB_BROKER_INGEST_H

#include "broker-t.h"

/* Stamps the current request: b->now_ns (monotonic, for latency), the
 * default event time and the id clock. Call once per request read. */
void ingest__clock(zb_broker_t *b);

/* Takes the PutEvents entry at the cursor and moves the cursor past it.
 * Precondition: the request body was checked whole by zb_map_decode.
 * Returns 0 when the event was accepted and published (its id in
 * event_id), or -1 with the entry's ErrorCode / ErrorMessage in *err. */
int ingest__entry(zb_broker_t *b, zb_mpk_t *entry, char event_id[ZB_UUID_LEN + 1],
                  zb_proto_error_t *err);

/* Checks that a msgpack value is a JSON-compatible map: string keys,
 * finite numbers, UTF-8 strings, no bin or ext, nesting at most
 * ZB_PROTO_MAX_DEPTH, and exactly len bytes. Returns 0 or -1. */
int ingest__check_detail(const uint8_t *p, size_t len);

#endif
