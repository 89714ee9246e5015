/*
 * backlog.h — replies a peer's ZeroMQ queue has no room for, held in order
 * until it has.
 *
 * Why: the router queues at most ZB_REPLY_QUEUE_MESSAGES replies per peer
 * and would silently drop the rest. A client that pipelines more requests
 * than that, and reads its replies, can still find the queue full for a
 * moment (the broker answered faster than ZeroMQ's I/O thread wrote): its
 * events were accepted, but it would never learn their ids. With the
 * router in mandatory mode a full queue is reported instead (EAGAIN), and
 * the reply waits here, behind any earlier one for the same peer, so a
 * DEALER still gets its replies in request order.
 *
 * Bound: what is held for one peer is at most `max_bytes` (the rules
 * file's queue-bytes: what one slow reader may hold of the broker's
 * memory, as for a subscriber; the worst case is peers x queue-bytes). A
 * reply that would pass it is dropped, and so is every later one until
 * what is held has been sent: the peer misses one run of replies each
 * time, not scattered ones. Drops are counted, and logged once per
 * episode: that peer is not reading its replies. Replies to a peer that
 * has gone are dropped, as ZeroMQ would.
 *
 * Cost: a peer without held replies costs one test of a counter per reply
 * (nothing is held in the common case); held ones are retried after every
 * burst and, while any are held, at least every millisecond (loop.c).
 */
#ifndef ZB_BROKER_BACKLOG_H
#define ZB_BROKER_BACKLOG_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct zb_backlog zb_backlog_t;

/* NULL when memory runs out. */
zb_backlog_t *backlog__new(void);

/* Closes every held reply (dropped: the caller says how many, see
 * backlog__held); *self_p becomes NULL. Safe on NULL. */
void backlog__destroy(zb_backlog_t **self_p);

/* Sends one reply on `router` (a ROUTER socket with ZMQ_ROUTER_MANDATORY
 * set): `parts[0]` is the peer's routing id, then the rest of the route,
 * then the body; n >= 2. Sent now unless the peer has replies held or its
 * queue is full; then held behind them, unless that would pass max_bytes
 * held for the peer (dropped). Takes the messages over in every case:
 * each is sent, held or closed. */
void backlog__send(zb_backlog_t *self, void *router, zmq_msg_t *parts, int n,
                   size_t max_bytes);

/* Sends what is held, oldest first per peer, until each peer's queue is
 * full again or its backlog is empty. Returns the replies still held. */
size_t backlog__retry(zb_backlog_t *self, void *router);

/* Replies held now. */
size_t backlog__held(const zb_backlog_t *self);

/* Replies dropped so far because a peer's backlog was full. */
uint64_t backlog__dropped(const zb_backlog_t *self);

#endif
