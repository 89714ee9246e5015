"""Requests served in bursts: deliveries are staged and handed over together
(broker/outbox.h). What a client can observe must not change: every
accepted event is delivered once and in order, replies come back in request
order, and an action pipelined behind PutEvents sees those events handed
over already."""
import json

import msgpack
import zmq

from broker_util import entry, free_port, nothing_more, receive, rules_with_target, subscriber


def _pipeline(sock, requests):
    """Sends every request before reading any reply; returns the replies."""
    for i, (action, fields) in enumerate(requests):
        sock.send(msgpack.packb(dict(fields, Action=action, RequestId=i), use_bin_type=True))
    replies = [msgpack.unpackb(sock.recv(), raw=False) for _ in requests]
    assert [r["RequestId"] for r in replies] == list(range(len(requests))), \
        "replies come back in request order"
    return replies


def _unbounded_rules(ep):
    """One rule whose target queues without bound (high-water-mark 0), so a
    flood is never dropped for a slow subscriber (the documented policy
    when the mark is reached)."""
    return rules_with_target(ep) + "            high-water-mark: 0\n"


def _events(n, start=0, bus="orders"):
    return [entry(detail={"amount": 500, "seq": start + i}, bus=bus) for i in range(n)]


def test_pipelined_bursts_deliver_every_event_once_and_in_order(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(_unbounded_rules(ep))
    sub = subscriber(b.ctx, ep, hwm=0)
    sock = b.client()
    # 300 requests of 10 entries plus 300 of 1, all in flight at once: the
    # broker serves them in bursts far larger than one request.
    reqs = [("PutEvents", {"Entries": _events(10, 10 * i)}) for i in range(300)]
    reqs += [("PutEvents", {"Entries": _events(1, 3000 + i)}) for i in range(300)]
    replies = _pipeline(sock, reqs)
    ids = []
    for r in replies:
        assert r["FailedEntryCount"] == 0
        ids += [e["EventId"] for e in r["Entries"]]
    got = []
    for _ in range(3300):
        topic, env = receive(sub, timeout=5)
        got.append((env["detail"]["seq"], env["id"]))
    assert [s for s, _ in got] == list(range(3300)), "each event once, in acceptance order"
    assert [i for _, i in got] == ids, "each envelope carries the id its reply gave"
    assert nothing_more(sub)


def test_an_action_pipelined_behind_put_events_sees_them_handed_over(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(rules_with_target(ep))
    sub = subscriber(b.ctx, ep)
    sock = b.client()
    # Same burst: events, then the metrics, then the target is removed,
    # then more events (which no longer have a target).
    replies = _pipeline(sock, [
        ("PutEvents", {"Entries": _events(5)}),
        ("GetMetrics", {}),
        ("RemoveTargets", {"Rule": "big-orders", "EventBusName": "orders", "Ids": ["t1"]}),
        ("PutEvents", {"Entries": _events(5, 100)}),
        ("GetMetrics", {}),
    ])
    assert replies[0]["FailedEntryCount"] == 0 and replies[3]["FailedEntryCount"] == 0
    assert replies[2]["FailedEntryCount"] == 0

    def invocations(m):
        bus = next(x for x in m["Buses"] if x["Name"] == "orders")
        rule = next(x for x in bus["Rules"] if x["Name"] == "big-orders")
        return rule["MatchedEvents"], rule["Invocations"], m["IngestiontoInvocationStartLatency"]["Count"]

    assert invocations(replies[1]) == (5, 5, 5), json.dumps(replies[1])
    assert invocations(replies[4]) == (10, 5, 5), "the later events matched but had no target"
    seqs = [receive(sub)[1]["detail"]["seq"] for _ in range(5)]
    assert seqs == list(range(5))
    assert nothing_more(sub)


def test_sigterm_mid_flood_delivers_everything_acknowledged(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(_unbounded_rules(ep))
    sub = subscriber(b.ctx, ep, hwm=0)
    sock = b.client()
    n = 400
    for i in range(n):
        sock.send(msgpack.packb({"Action": "PutEvents", "RequestId": i,
                                 "Entries": _events(10, 10 * i)}, use_bin_type=True))
    # Read a few replies, then stop the broker while the rest are in flight.
    acked = []
    for _ in range(20):
        r = msgpack.unpackb(sock.recv(), raw=False)
        acked += [e["EventId"] for e in r["Entries"] if "EventId" in e]
    b.stop()
    sock.setsockopt(zmq.RCVTIMEO, 500)
    while True:
        try:
            r = msgpack.unpackb(sock.recv(), raw=False)
        except zmq.Again:
            break
        acked += [e["EventId"] for e in r["Entries"] if "EventId" in e]
    delivered = set()
    while sub.poll(1000):
        delivered.add(msgpack.unpackb(sub.recv_multipart()[1], raw=False)["id"])
    missing = [i for i in acked if i not in delivered]
    assert not missing, f"{len(missing)} acknowledged events were not delivered"
