/*
 * state.h — API changes, kept in a file of their own beside the rules file.
 *
 * The rules file is its owner's: the broker never rewrites it. Every
 * successful mutating request (CreateEventBus, PutRule, PutTargets, ...) is
 * appended, as the request it was, to the state file; at start and at every
 * reload the broker loads the rules file, then replays these requests in
 * order on top of it. So an API change wins over the file for the objects
 * it touches, and the file still governs everything else. A replayed
 * request that no longer applies (its bus was removed from the file, say)
 * is skipped with a warning.
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
/* The i-th saved request (a msgpack map). */
const void *state__op(const zb_state_t *self, size_t i, size_t *len);

/* Most changes kept: beyond it mutating requests are refused (fold them
 * into the rules file and delete the state file). */
#define ZB_STATE_MAX_CHANGES 100000

/* Appends a request and saves the file. Returns 0, or -1 with the reason
 * in why; the state is then as before the call. */
int state__append(zb_state_t *self, const void *req, size_t len, char *why, size_t whylen);

/* Like state__append, but the new request takes the place of the last one
 * (which it makes redundant, e.g. EnableRule after DisableRule of the same
 * rule): a client toggling a rule does not grow the file. */
int state__replace_last(zb_state_t *self, const void *req, size_t len, char *why,
                        size_t whylen);

const char *state__path(const zb_state_t *self);
/* Bytes of the saved requests (the file is this plus a few). */
size_t state__bytes(const zb_state_t *self);

#endif
