/*
 * outbox.c — staged deliveries, handed over in bursts. See outbox.h.
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "zb_buf.h"

/* One (rule, target) delivery; offsets into the outbox's bytes, which may
 * move as they grow. */
typedef struct staged {
    zb_bus_t *bus;
    zb_rule_t *rule;
    zb_target_t *target;
    uint32_t event;            /* index into events */
    uint32_t topic_off, topic_len;
    /* The target's own topic when it has one fixed text (target.c): it
     * lives as long as the target, which outlives what is staged (see the
     * ordering contract), so it is not copied; else NULL and the topic is
     * at topic_off. */
    const char *topic;
} staged_t;

typedef struct staged_event {
    uint32_t env_off, env_len;
    uint32_t id_off;           /* ZB_UUID_LEN + 1 bytes, NUL-terminated */
    uint64_t ingest_ns;
} staged_event_t;

struct zb_outbox {
    zb_buf_t *bytes;
    /* The envelope being built: from env_at to the end of bytes. */
    bool building;
    bool env_staged;           /* it became the last event */
    size_t env_at;
    size_t env_len;            /* once staged (its id and topics follow it) */
    staged_event_t *events;
    uint32_t nevents, cap_events;
    staged_t *staged;
    uint32_t nstaged, cap_staged;
};

zb_outbox_t *outbox__new(void)
{
    zb_outbox_t *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->bytes = zb_buf_new(64 * 1024);
    if (!o->bytes) {
        free(o);
        return NULL;
    }
    return o;
}

void outbox__destroy(zb_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zb_outbox_t *o = *self_p;
    zb_buf_destroy(&o->bytes);
    free(o->events);
    free(o->staged);
    free(o);
    *self_p = NULL;
}

/* Room for one more element in *v (doubling). 0 or -1. */
static int s_room(void **v, uint32_t *cap, uint32_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    uint32_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, (size_t) c * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

zb_buf_t *outbox__envelope_begin(zb_outbox_t *self)
{
    self->building = true;
    self->env_staged = false;
    self->env_at = self->bytes->len;
    return self->bytes;
}

const char *outbox__envelope(const zb_outbox_t *self, size_t *len)
{
    *len = self->env_staged ? self->env_len : self->bytes->len - self->env_at;
    return self->bytes->data + self->env_at;
}

/* Makes the envelope being built, with its id, the current event: the
 * deliveries staged next belong to it. 0, or -1 when memory runs out. */
static int s_event(zb_outbox_t *self, const char *event_id, uint64_t ingest_ns)
{
    /* Offsets are 32-bit: a burst past 4 GiB is flushed long before (the
     * caller flushes at outbox__bytes() beyond a few MiB). */
    size_t at = self->env_at, envelope_len = self->bytes->len - at;
    if (envelope_len > UINT32_MAX / 2 || at > UINT32_MAX / 2
        || s_room((void **) &self->events, &self->cap_events, self->nevents, sizeof *self->events)
        || zb_buf_append(self->bytes, event_id, ZB_UUID_LEN + 1) == -1) /* with its NUL */
        return -1;
    staged_event_t *e = &self->events[self->nevents++];
    e->env_off = (uint32_t) at;
    e->env_len = (uint32_t) envelope_len;
    e->id_off = (uint32_t) (at + envelope_len);
    e->ingest_ns = ingest_ns;
    self->env_staged = true;
    self->env_len = envelope_len;
    return 0;
}

void outbox__envelope_end(zb_outbox_t *self)
{
    if (!self->env_staged) {
        self->bytes->len = self->env_at;
        self->bytes->data[self->env_at] = '\0';
    }
    self->building = false;
}

int outbox__stage(zb_outbox_t *self, const char *event_id, uint64_t ingest_ns, zb_bus_t *bus,
                  zb_rule_t *rule, zb_target_t *t, const char *topic, size_t topic_len)
{
    if (!self->env_staged && s_event(self, event_id, ingest_ns) == -1)
        return -1;
    if (topic_len > UINT32_MAX / 2 || self->bytes->len > UINT32_MAX / 2
        || s_room((void **) &self->staged, &self->cap_staged, self->nstaged, sizeof *self->staged))
        return -1;
    size_t at = self->bytes->len;
    bool fixed = topic == t->topic_static;
    if (!fixed && zb_buf_append(self->bytes, topic, topic_len) == -1)
        return -1;
    staged_t *s = &self->staged[self->nstaged++];
    s->topic = fixed ? topic : NULL;
    s->bus = bus;
    s->rule = rule;
    s->target = t;
    s->event = self->nevents - 1;
    s->topic_off = (uint32_t) at;
    s->topic_len = (uint32_t) topic_len;
    return 0;
}

void outbox__deliver(zb_broker_t *b, zb_bus_t *bus, zb_rule_t *rule, zb_target_t *t,
                     const zb_event_t *ev, uint64_t now_ns)
{
    zb_deliver_result_t res = t->kind->ops->deliver(t->handle, ev);
    t->invocations++;
    rule->invocations++;
    bus->invocations++;
    if (res != ZB_DELIVER_OK) {
        t->failed_invocations++;
        rule->failed_invocations++;
        bus->failed_invocations++;
    }
    uint64_t ns = now_ns > ev->ingest_ns ? now_ns - ev->ingest_ns : 0;
    metrics__record(&b->latency, ns);
    metrics__record(&bus->latency, ns);
}

/* Empties the outbox but for an envelope being built, which moves to the
 * start of the bytes. If it had become an event, that event was handed
 * over with the rest: only the envelope stays (without its id and
 * topics), for the deliveries the caller makes directly, and it is no
 * longer staged, so outbox__envelope_end drops it at once rather than
 * leave bytes no event refers to until the next flush. */
static void s_empty(zb_outbox_t *self)
{
    self->nstaged = 0;
    self->nevents = 0;
    if (!self->building) {
        zb_buf_reset(self->bytes);
        return;
    }
    size_t len = self->env_staged ? self->env_len : self->bytes->len - self->env_at;
    memmove(self->bytes->data, self->bytes->data + self->env_at, len);
    self->bytes->len = len;
    self->bytes->data[len] = '\0';
    self->env_at = 0;
    self->env_staged = false;
}

void outbox__flush(zb_outbox_t *self, zb_broker_t *b)
{
    if (self->nstaged == 0) {
        s_empty(self);
        return;
    }
    /* One clock read per burst: the latency recorded is ingest to
     * handover, staging included. */
    uint64_t now = metrics__now_ns();
    const char *base = self->bytes->data;
    /* One record for the burst, its fields that differ set per delivery: a
     * target has it for its deliver() call only (plugin.h), and clearing
     * the whole of it, reserved room included, for each would cost more
     * than filling it. */
    zb_event_t ev = { .size = sizeof ev, .attempt = 1 };
    for (uint32_t i = 0; i < self->nstaged; i++) {
        const staged_t *s = &self->staged[i];
        const staged_event_t *e = &self->events[s->event];
        ev.bus = s->bus->name;
        ev.rule = s->rule->name;
        ev.target_id = s->target->id;
        ev.topic = s->topic ? s->topic : base + s->topic_off;
        ev.topic_len = s->topic_len;
        ev.envelope = base + e->env_off;
        ev.envelope_len = e->env_len;
        ev.event_id = base + e->id_off;
        ev.ingest_ns = e->ingest_ns;
        outbox__deliver(b, s->bus, s->rule, s->target, &ev, now);
    }
    s_empty(self);
}

size_t outbox__bytes(const zb_outbox_t *self)
{
    /* Envelopes, ids and topics, and the records that point into them: an
     * event matching many rules with many targets stages little text but
     * many records. */
    return self->nstaged ? self->bytes->len + (size_t) self->nstaged * sizeof(staged_t)
                               + (size_t) self->nevents * sizeof(staged_event_t)
                         : 0;
}
