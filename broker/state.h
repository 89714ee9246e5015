/*
 * state.h — API changes, kept in a file of their own beside the rules file.
 *
 * The rules file is its owner's: the broker never rewrites it. Every
 * successful mutating request (CreateEventBus, PutRule, PutTargets, ...) is
 * recorded in the state file; at start and at every reload the broker loads
 * the rules file, then replays the saved requests in order on top of it. So
 * an API change wins over the file for the objects it touches, and the file
 * still governs everything else. A replayed request that no longer applies
 * (its bus was removed from the file, say) is skipped with a warning.
 *
 * Recording folds: a new request drops or rewrites the earlier ones it
 * makes redundant (a PutRule of a rule merges into the rule's first saved
 * PutRule, a DeleteRule drops everything saved about the rule, ...), so
 * the file grows with the objects the API made or changed, not with the
 * number of requests. Replaying the folded requests builds the same buses,
 * rules and targets as replaying every request would: state_fold.h states
 * the folds and the exact promise.
 *
 * File format: one msgpack map {"Version": 1, "Ops": [request, ...]},
 * replaced atomically (write to PATH.tmp, fsync, rename) on every change.
 */
#ifndef ZB_BROKER_STATE_H
#define ZB_BROKER_STATE_H

#include <stddef.h>

#include "zb_buf.h"

typedef struct zb_state zb_state_t;

zb_state_t *state__new(const char *path);
void state__destroy(zb_state_t **self_p);

/* Reads the file; a missing file is an empty state. Returns 0, or -1 with
 * a line in errors when the file exists but cannot be read or parsed. */
int state__load(zb_state_t *self, zb_buf_t *errors);

size_t state__count(const zb_state_t *self);
/* The i-th saved request (a msgpack map, possibly rewritten by a fold). */
const void *state__op(const zb_state_t *self, size_t i, size_t *len);

/* Most saved requests, counted after folding: with this many saved,
 * mutating requests are refused (fold them into the rules file and delete
 * the state file). */
#define ZB_STATE_MAX_CHANGES 100000

/* Records a mutating request that succeeded (reply[0..reply_len) is what
 * the broker answered): folds it into the saved requests (state_fold.h:
 * earlier requests it makes redundant go, some are rewritten, it may
 * itself be folded into an earlier one) and saves the file, unless the
 * fold left the saved requests as they were. Returns 0, or -1 with the
 * reason in why; the state is then as before the call. */
int state__record(zb_state_t *self, const void *req, size_t len, const void *reply,
                  size_t reply_len, char *why, size_t whylen);

const char *state__path(const zb_state_t *self);
/* Bytes of the saved requests after folding (the file is this plus a
 * few): max-state-bytes bounds it. */
size_t state__bytes(const zb_state_t *self);

#endif
