/*
 * matcher.h — EventBridge event patterns, compiled into one shared automaton.
 *
 * This is the whole public contract of the matcher. It depends on libc only
 * (no ZeroMQ, no msgpack-c), so other programs can embed it.
 *
 * Model
 *   A matcher holds a set of rules. Each rule is one EventBridge event pattern
 *   (the full content-filter language: exact values, prefix, suffix,
 *   equals-ignore-case, wildcard, anything-but and its forms, numeric, exists,
 *   cidr, $or) identified by a caller-chosen 64-bit id. All rules compile into
 *   one automaton, so the cost of matching an event does not grow with the
 *   number of (non-wildcard) rules.
 *
 *   Events come as JSON text or as msgpack; both forms give identical
 *   results. Only fields that some rule names are examined; the rest are
 *   skipped without building a tree.
 *
 * Threads
 *   A matcher is not internally locked. Adding and removing rules is
 *   incremental (no rebuild), so a single-threaded owner may interleave
 *   mutations and matches freely. Several threads may match concurrently
 *   against a matcher nobody is mutating, each with its own zb_match_ctx_t.
 *
 * Ownership
 *   zb_x_new() returns NULL on failure; zb_x_destroy(&p) frees *p, sets it to
 *   NULL and is safe to call twice. Input buffers are borrowed for the call
 *   only. Match results point into the context and stay valid until the next
 *   match with the same context.
 */
#ifndef ZB_MATCHER_H
#define ZB_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zb_matcher zb_matcher_t;
typedef struct zb_match_ctx zb_match_ctx_t;

/* Why a pattern was refused, or why an event could not be read. */
typedef struct zb_matcher_error {
    /* Complete, user-facing text. For patterns it is EventBridge's:
     * "Event pattern is not valid. Reason: Empty arrays are not allowed".
     * For events: "Event is not valid JSON: ..." and the like. */
    char message[512];
    /* Dotted JSON path of the offending element ("detail.state[0]"), or ""
     * when the error is not about one element. */
    char path[256];
    /* Byte offset in the input where reading stopped, or -1. */
    long offset;
} zb_matcher_error_t;

/* Which input encoding a pattern or event buffer holds. */
typedef enum zb_matcher_format {
    ZB_FORMAT_JSON = 1,    /* UTF-8 JSON text; one object at top level */
    ZB_FORMAT_MSGPACK = 2, /* one msgpack map at top level */
} zb_matcher_format_t;

/* ---- rule sets ---------------------------------------------------------- */

zb_matcher_t *zb_matcher_new(void);
void zb_matcher_destroy(zb_matcher_t **self_p);

/* Compiles `pattern` (len bytes in `format`) and adds it under `rule_id`.
 * If `rule_id` is already present, its pattern is replaced atomically: on
 * error the old pattern stays. Returns 0, or -1 with *err filled (err may be
 * NULL) when the pattern is invalid or too complex. Never aborts on input. */
int zb_matcher_add(zb_matcher_t *self, uint64_t rule_id, zb_matcher_format_t format,
                   const void *pattern, size_t len, zb_matcher_error_t *err);

/* Same as zb_matcher_add for a pattern already parsed with common/json.h
 * (zb_json_parse: duplicate keys already resolved, last wins). The tree is
 * borrowed for the call only. */
struct zb_json;
int zb_matcher_add_tree(zb_matcher_t *self, uint64_t rule_id, const struct zb_json *pattern,
                        zb_matcher_error_t *err);

/* Removes `rule_id`. Returns 0, or -1 if it was not present. Memory used only
 * by that rule is released. */
int zb_matcher_remove(zb_matcher_t *self, uint64_t rule_id);

/* Number of rules held. */
size_t zb_matcher_size(const zb_matcher_t *self);

/* Bytes of heap the matcher holds (for capacity planning and benchmarks). */
size_t zb_matcher_memory(const zb_matcher_t *self);

/* Validates a pattern without adding it anywhere. Returns 0 or -1 with *err. */
int zb_pattern_check(zb_matcher_format_t format, const void *pattern, size_t len,
                     zb_matcher_error_t *err);
int zb_pattern_check_tree(const struct zb_json *pattern, zb_matcher_error_t *err);

/* ---- matching ------------------------------------------------------------ */

/* Scratch state for matching: reused across calls so the steady state
 * allocates nothing. One per thread. */
zb_match_ctx_t *zb_match_ctx_new(void);
void zb_match_ctx_destroy(zb_match_ctx_t **self_p);

/* Matches one event (len bytes in `format`) against every rule.
 * On success returns the number of matching rules (>= 0) and points *ids at
 * that many distinct rule ids, in no particular order, valid until the next
 * call with `ctx` (never NULL, even when the count is 0). Returns -1 with *err filled if the event is malformed
 * (not an object/map, bad syntax, invalid UTF-8 in JSON, nesting deeper
 * than 64 levels, a msgpack map key that is not a string), or if its arrays
 * would make the array-consistency check, or its values the wildcard
 * checks, exceed their fixed work budgets ("Event is too complex to
 * match: ..."; only events built for it do).
 */
int zb_matcher_match(const zb_matcher_t *self, zb_match_ctx_t *ctx, zb_matcher_format_t format,
                     const void *event, size_t len, const uint64_t **ids, zb_matcher_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
