/*
 * backlog.c — replies held per peer until its queue has room. See backlog.h.
 */
#include "backlog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

/* Peers with replies held, by routing id. Few in practice (a peer has a
 * backlog only while its queue is full); buckets keep a flood of peers
 * that do not read from making every reply a long search. */
#define BUCKETS 256

typedef struct held {
    struct held *next;
    size_t bytes;
    int n;
    zmq_msg_t parts[];
} held_t;

typedef struct peer {
    struct peer *next;         /* in its bucket */
    held_t *head, *tail;       /* oldest first */
    size_t bytes;              /* held for this peer */
    uint64_t dropped;          /* while this backlog lasts */
    size_t id_len;
    unsigned char id[];
} peer_t;

struct zb_backlog {
    peer_t *buckets[BUCKETS];
    size_t npeers;
    size_t nheld;
    uint64_t dropped;
};

zb_backlog_t *backlog__new(void)
{
    return calloc(1, sizeof(zb_backlog_t));
}

static void s_close(zmq_msg_t *parts, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
}

/* Frees a peer and what it holds (closed, not sent). */
static void s_peer_free(zb_backlog_t *self, peer_t *p)
{
    while (p->head) {
        held_t *h = p->head;
        p->head = h->next;
        s_close(h->parts, h->n);
        free(h);
        self->nheld--;
    }
    free(p);
    self->npeers--;
}

void backlog__destroy(zb_backlog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zb_backlog_t *self = *self_p;
    for (size_t i = 0; i < BUCKETS; i++)
        while (self->buckets[i]) {
            peer_t *p = self->buckets[i];
            self->buckets[i] = p->next;
            s_peer_free(self, p);
        }
    free(self);
    *self_p = NULL;
}

static size_t s_bucket(const unsigned char *id, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ id[i]) * 16777619u;
    return h % BUCKETS;
}

static peer_t **s_find(zb_backlog_t *self, const zmq_msg_t *id)
{
    size_t len = zmq_msg_size(id);
    const unsigned char *bytes = zmq_msg_data((zmq_msg_t *) id);
    peer_t **pp = &self->buckets[s_bucket(bytes, len)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->id_len == len && memcmp((*pp)->id, bytes, len) == 0)
            break;
    return pp;
}

/* Tries to send one reply. Returns 0 when sent (the messages are taken),
 * 1 when the peer's queue is full (nothing sent, the messages are left as
 * they were), -1 when the peer is gone (the messages are closed). */
static int s_try(void *router, zmq_msg_t *parts, int n)
{
    /* The routing id alone decides: the router checks the peer's queue
     * when it is given, and takes the rest of a message it accepted. */
    if (zmq_msg_send(&parts[0], router, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        if (errno == EAGAIN)
            return 1;
        s_close(parts, n);
        return -1;
    }
    for (int i = 1; i < n; i++)
        if (zmq_msg_send(&parts[i], router, (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) == -1)
            zmq_msg_close(&parts[i]);
    return 0;
}

static void s_drop(zb_backlog_t *self, peer_t *p, zmq_msg_t *parts, int n)
{
    s_close(parts, n);
    self->dropped++;
    if (p && p->dropped++ == 0)
        broker__log("a client is not reading its replies: %zu bytes are held for it, the "
                    "most allowed (queue-bytes); further replies to it are dropped until it "
                    "reads",
                    p->bytes);
}

/* Appends a reply to p's backlog, or drops it (over max_bytes, or out of
 * memory). Once one is dropped, every later one is too until the backlog
 * has drained: the peer then misses one run of replies, not scattered
 * ones between replies it gets. */
static void s_hold(zb_backlog_t *self, peer_t *p, zmq_msg_t *parts, int n, size_t max_bytes)
{
    size_t bytes = sizeof(held_t) + (size_t) n * sizeof(zmq_msg_t);
    for (int i = 0; i < n; i++)
        bytes += zmq_msg_size(&parts[i]);
    held_t *h = !p->dropped && p->bytes + bytes <= max_bytes
                    ? malloc(sizeof(held_t) + (size_t) n * sizeof(zmq_msg_t))
                    : NULL;
    if (!h) {
        s_drop(self, p, parts, n);
        return;
    }
    h->next = NULL;
    h->bytes = bytes;
    h->n = n;
    for (int i = 0; i < n; i++) {
        zmq_msg_init(&h->parts[i]);
        zmq_msg_move(&h->parts[i], &parts[i]);
    }
    if (p->tail)
        p->tail->next = h;
    else
        p->head = h;
    p->tail = h;
    p->bytes += bytes;
    self->nheld++;
}

void backlog__send(zb_backlog_t *self, void *router, zmq_msg_t *parts, int n, size_t max_bytes)
{
    peer_t **pp = NULL;
    if (self->npeers) {
        pp = s_find(self, &parts[0]);
        if (*pp) {
            s_hold(self, *pp, parts, n, max_bytes);
            return;
        }
    }
    if (s_try(router, parts, n) != 1)
        return;
    /* The peer's queue is full: it gets a backlog. */
    size_t len = zmq_msg_size(&parts[0]);
    peer_t *p = calloc(1, sizeof *p + len);
    if (!p) {
        s_drop(self, NULL, parts, n);
        return;
    }
    memcpy(p->id, zmq_msg_data(&parts[0]), len);
    p->id_len = len;
    if (!pp)
        pp = s_find(self, &parts[0]);
    *pp = p;
    self->npeers++;
    s_hold(self, p, parts, n, max_bytes);
    if (!p->head) { /* dropped at once (max_bytes below one reply) */
        *pp = p->next;
        s_peer_free(self, p);
    }
}

size_t backlog__retry(zb_backlog_t *self, void *router)
{
    if (!self->npeers)
        return 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        peer_t **pp = &self->buckets[i];
        while (*pp) {
            peer_t *p = *pp;
            int rc = 0;
            while (p->head && (rc = s_try(router, p->head->parts, p->head->n)) == 0) {
                held_t *h = p->head;
                p->head = h->next;
                p->bytes -= h->bytes;
                free(h);
                self->nheld--;
            }
            if (rc == -1) { /* gone: the head was closed by s_try */
                held_t *h = p->head;
                p->head = h->next;
                free(h);
                self->nheld--;
            }
            if (p->head && rc != -1) {
                pp = &p->next;
                continue;
            }
            if (p->dropped)
                broker__log("a client that was not reading its replies %s; %llu replies to it "
                            "were dropped",
                            rc == -1 ? "has gone" : "caught up",
                            (unsigned long long) p->dropped);
            *pp = p->next;
            s_peer_free(self, p);
        }
    }
    return self->nheld;
}

size_t backlog__held(const zb_backlog_t *self)
{
    return self->nheld;
}

uint64_t backlog__dropped(const zb_backlog_t *self)
{
    return self->dropped;
}
