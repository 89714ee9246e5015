/*
 * state_fold.h — folding a new API change into the saved ones, so the state
 * file stays proportional to what the API changes make of the rules file,
 * not to how many requests it took.
 *
 * The contract. Let F be any rules file and L the saved requests (state.h);
 * replay(F, L) is what the broker builds at start. Folding request N into L
 * gives L' with
 *
 *     replay(F, L') == replay(F, L + N)
 *
 * for the buses (name, description), rules (pattern, description, state) and
 * targets (id, type, endpoint, topic, high-water mark) that result, provided
 * replay(F, L + N) applies every request as it applied when it was made (the
 * rules file is the one the changes were made against, each request still
 * succeeds). Two things may differ: the order in which List* shows rules and
 * targets (a folded rule or target is created where its surviving request
 * stands), and checks that weigh other objects against the one being
 * changed (max-* limits, a shared endpoint's HighWaterMark), which run on
 * intermediate states where folded-away objects are absent or still as the
 * rules file defines them.
 *
 * The folds, by N's action (names compared as the handlers resolve them:
 * EventBusName absent is "default", an ARN is narrowed to its last part):
 *
 *   DeleteEventBus B   drops every earlier request on B and on B's rules:
 *                      after it B is gone, whatever came before.
 *   DeleteRule B/R     drops every earlier request on B/R; when it dropped
 *                      any, it is saved with Force: true (the targets the
 *                      dropped requests removed may be the rules file's).
 *   PutRule B/R, EnableRule, DisableRule (State only)
 *                      set fields; nothing reads a rule's fields but later
 *                      requests that set them again. So within B/R's scope
 *                      (the requests after the last DeleteRule B/R,
 *                      CreateEventBus B or DeleteEventBus B), N's fields
 *                      are merged into the first PutRule of B/R, which
 *                      stays where it is (it may be what creates the rule,
 *                      and later requests need the rule to exist); later
 *                      PutRules lose N's fields (and go when none is left);
 *                      when N sets State, every EnableRule/DisableRule of
 *                      B/R in scope goes. N itself is then not saved.
 *                      Without a PutRule in scope (a rule of the rules
 *                      file, say) N is appended. A PutRule that sets no
 *                      field is dropped.
 *   PutTargets B/R     first loses the entries that failed (the reply's
 *                      FailedEntries: they changed nothing); then, within
 *                      B/R's scope, each id it sets is removed from earlier
 *                      PutTargets entries and RemoveTargets Ids (requests
 *                      left empty go). An id given twice in N and reported
 *                      failed is ambiguous: its entries stay and fold
 *                      nothing.
 *   RemoveTargets B/R  the same for the ids it names; it is kept (it may
 *                      remove the rules file's targets).
 *   CreateEventBus     appended.
 *
 * The last delete of each name is always kept, because it may delete what
 * the rules file defines: the log grows with the objects the API made or
 * changed and with each distinct name deleted, not with repetition.
 *
 * A pure function: it reads its inputs and writes `out`, nothing else.
 */
#ifndef ZB_BROKER_STATE_FOLD_H
#define ZB_BROKER_STATE_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "zb_buf.h"

/* What a fold needs to know of a saved request first: a hash of the bus
 * it names, as resolved. Computed once per request (a fold then decodes
 * only the requests whose hash is the new request's). */
typedef struct state_key {
    uint64_t bus;        /* 0: names no bus (not a mutation, or not decodable) */
} state_key_t;

void state_fold_key(const void *op, size_t len, state_key_t *key);

/* One saved request: a msgpack map, borrowed, and its key. */
typedef struct state_op {
    const uint8_t *data;
    size_t len;
    state_key_t key;     /* state_fold_key(data, len) */
} state_op_t;

/* Folds req[0..len) — a mutating request that succeeded, whose reply was
 * reply[0..reply_len) — into ops[0..n): appends the folded log to `out`
 * (its requests back to back, msgpack maps) and sets *count to how many it
 * holds (at most n + 1). When not NULL, offsets[i] (the i-th request's
 * start in `out`, counted from out's length on entry) and keys[i] are set
 * for each, in arrays of n + 1. Requests that cannot be decoded are kept as
 * they are and fold nothing. Returns 0, or -1 when memory runs out (`out`
 * is then partial). */
int state_fold(const state_op_t *ops, size_t n, const void *req, size_t len, const void *reply,
               size_t reply_len, zb_buf_t *out, size_t *count, size_t *offsets,
               state_key_t *keys);

#endif
