/*
 * ingest.h — the hot path: one PutEvents entry from bytes to subscribers.
 *
 *   read and check every entry, in the pass that decodes the request ->
 *   per entry: build the envelope once, in place in the outbox -> match
 *   on the bus -> commit -> fan out to every target of every matching rule
 *
 * Nothing here allocates per event in the steady state when Detail is a
 * msgpack map (a JSON-text Detail is parsed into a temporary tree); the
 * entries' slots grow to the largest request seen.
 */
#ifndef ZB_BROKER_INGEST_H
#define ZB_BROKER_INGEST_H

#include "broker-t.h"

/* Starts a request, before it is decoded: stamps b->now_ns (monotonic,
 * for latency), the default event time and the id clock, and forgets the
 * entries read for an earlier request, so that only this request's
 * decoding can leave entries for ingest__entries. Call once per request
 * read. */
void ingest__start(zb_broker_t *b);

/* Reads a request's PutEvents Entries into b->batch, checking them as it
 * goes: a zb_value_reader_t's read (zb_proto.h) for the key "Entries",
 * with the broker as ctx, so that the request is decoded and its entries
 * read in one pass, and a request whose msgpack is invalid anywhere is
 * refused whole before any of its entries is processed. Entries that
 * PutEvents refuses whole (not an array, more than max-entries-per-request)
 * are only checked. Returns 0, or -1 exactly as zb_mpk_skip(c,
 * ZB_PROTO_MAX_DEPTH) would. */
int ingest__read_entries(void *broker, zb_mpk_t *c);

/* Makes b->batch hold the entries of the Entries value at val (len bytes,
 * valid msgpack: an array of at most max-entries-per-request items) of the
 * request being handled, for ingest__entry: those the decoder read, or,
 * when it did not read them (an Action naming another action came before
 * them and a later one named PutEvents, or memory ran out then), read now.
 * Returns 0, or -1 when memory runs out. */
int ingest__entries(zb_broker_t *b, const uint8_t *val, uint32_t len);

/* Takes entry i of b->batch. Precondition: ingest__entries succeeded for
 * this request and i is below its count of entries. Returns 0 when the event
 * was accepted and published (its id in event_id), or -1 with the entry's
 * ErrorCode / ErrorMessage in *err. */
int ingest__entry(zb_broker_t *b, uint32_t i, char event_id[ZB_UUID_LEN + 1],
                  zb_proto_error_t *err);

/* Frees b->batch. */
void ingest__cleanup(zb_broker_t *b);

/* Checks that a msgpack value is a JSON-compatible map: string keys,
 * finite numbers, UTF-8 strings, no bin or ext, nesting at most
 * ZB_DETAIL_MAX_DEPTH levels (empty containers count), and exactly len
 * bytes. Returns 0 or -1. */
int ingest__check_detail(const uint8_t *p, size_t len);

#endif
