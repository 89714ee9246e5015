/*
 * handle_get_metrics.c — GetMetrics: counters per broker, bus, rule and
 * target, named after EventBridge's CloudWatch metrics, and the
 * ingest-to-publish latency percentiles.
 */
#include "backlog.h"
#include "handlers.h"
#include "metrics.h"
#include "target_pub.h"

static void s_counter(zb_buf_t *out, const char *name, uint64_t v)
{
    zb_put_cstr(out, name);
    zb_mpk_put_uint(out, v);
}

static void s_latency(zb_buf_t *out, const zb_hist_t *h)
{
    zb_mpk_put_map(out, 6);
    s_counter(out, "Count", h->count);
    static const struct {
        const char *name;
        double q;
    } qs[] = { { "p50", 0.5 }, { "p90", 0.9 }, { "p99", 0.99 }, { "p999", 0.999 } };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        zb_put_cstr(out, qs[i].name);
        zb_mpk_put_double(out, (double) metrics__percentile(h, qs[i].q) / 1000.0);
    }
    zb_put_cstr(out, "Max");
    zb_mpk_put_double(out, (double) h->max / 1000.0);
}

int handle__get_metrics(zb_broker_t *b, const zb_request_t *req, zb_buf_t *reply,
                        zb_proto_error_t *err)
{
    zb_reply_begin(reply, req, 10);
    zb_put_cstr(reply, "ProtocolVersion");
    zb_mpk_put_uint(reply, ZB_PROTO_VERSION);
    zb_put_cstr(reply, "UptimeSeconds");
    zb_mpk_put_double(reply, (double) (metrics__now_ns() - b->started_ns) / 1e9);
    s_counter(reply, "PutEventsRequests", b->put_events_requests);
    s_counter(reply, "PutEventsEntriesCount", b->entries_count);
    s_counter(reply, "PutEventsFailedEntriesCount", b->failed_entries);
    s_counter(reply, "PubSockets", target_pub__sockets(b));
    s_counter(reply, "RepliesHeld", backlog__held(b->backlog));
    s_counter(reply, "RepliesDropped", backlog__dropped(b->backlog));
    zb_put_cstr(reply, "IngestiontoInvocationStartLatency");
    s_latency(reply, &b->latency);
    zb_put_cstr(reply, "Buses");
    zb_mpk_put_array(reply, (uint32_t) b->reg->nbuses);
    for (size_t i = 0; i < b->reg->nbuses; i++) {
        const zb_bus_t *bus = b->reg->buses[i];
        zb_mpk_put_map(reply, 10);
        zb_put_cstr(reply, "Name");
        zb_put_cstr(reply, bus->name);
        zb_put_cstr(reply, "IngestiontoInvocationStartLatency");
        s_latency(reply, &bus->latency);
        s_counter(reply, "PutEventsEntriesCount", bus->entries + bus->failed_entries);
        s_counter(reply, "PutEventsFailedEntriesCount", bus->failed_entries);
        s_counter(reply, "MatchedEvents", bus->matched);
        s_counter(reply, "TriggeredRules", bus->triggered);
        s_counter(reply, "Invocations", bus->invocations);
        s_counter(reply, "FailedInvocations", bus->failed_invocations);
        zb_put_cstr(reply, "RuleCount");
        zb_mpk_put_uint(reply, bus->nrules);
        zb_put_cstr(reply, "Rules");
        zb_mpk_put_array(reply, (uint32_t) bus->nrules);
        for (size_t j = 0; j < bus->nslots; j++) {
            const zb_rule_t *r = bus->slots[j];
            if (!r)
                continue;
            zb_mpk_put_map(reply, 6);
            zb_put_cstr(reply, "Name");
            zb_put_cstr(reply, r->name);
            s_counter(reply, "MatchedEvents", r->matched);
            s_counter(reply, "TriggeredRules", r->matched);
            s_counter(reply, "Invocations", r->invocations);
            s_counter(reply, "FailedInvocations", r->failed_invocations);
            zb_put_cstr(reply, "Targets");
            zb_mpk_put_array(reply, (uint32_t) r->ntargets);
            for (size_t k = 0; k < r->ntargets; k++) {
                const zb_target_t *t = r->targets[k];
                zb_mpk_put_map(reply, 3);
                zb_put_cstr(reply, "Id");
                zb_put_cstr(reply, t->id);
                s_counter(reply, "Invocations", t->invocations);
                s_counter(reply, "FailedInvocations", t->failed_invocations);
            }
        }
    }
    return 0;
}
