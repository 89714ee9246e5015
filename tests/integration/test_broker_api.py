"""The getting-started flow and the control API, over real sockets."""
import datetime
import json
import re
import uuid

import msgpack
import pytest
import zmq

from broker_util import entry, free_port, nothing_more, put_events, receive, request, subscriber

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def api(broker):
    sock = broker.client()
    yield broker, sock
    sock.close()


def test_getting_started_flow_delivers_exactly_the_matching_events(api):
    broker, sock = api
    ep = f"tcp://127.0.0.1:{free_port()}"
    assert request(sock, "CreateEventBus", Name="orders") == {
        "EventBusArn": "arn:zbridge:events:local:000000000000:event-bus/orders"}
    r = request(sock, "PutRule", Name="big-orders", EventBusName="orders",
                EventPattern=json.dumps({"source": ["shop.orders"],
                                         "detail": {"amount": [{"numeric": [">", 100]}]}}))
    assert r == {"RuleArn": "arn:zbridge:events:local:000000000000:rule/orders/big-orders"}
    r = request(sock, "PutTargets", Rule="big-orders", EventBusName="orders",
                Targets=[{"Id": "billing", "Type": "pub", "Endpoint": ep, "Topic": "{rule}"}])
    assert r == {"FailedEntryCount": 0, "FailedEntries": []}
    sub = subscriber(broker.ctx, ep)
    r = put_events(sock,
                   entry(detail={"amount": 150, "order": "o-1"}, bus="orders",
                         Resources=["arn:shop:order/o-1"]),
                   entry(detail={"amount": 50}, bus="orders"),
                   entry(source="shop.other", detail={"amount": 500}, bus="orders"),
                   entry(detail={"amount": 101}),  # default bus: no rule there
                   entry(detail={"amount": 200},
                         bus="arn:zbridge:events:local:000000000000:event-bus/orders"))
    assert r["FailedEntryCount"] == 0
    ids = [e["EventId"] for e in r["Entries"]]
    assert len(ids) == 5 and all(UUID7.match(i) for i in ids)
    assert len(set(ids)) == 5 and ids == sorted(ids), "v7 ids are time-ordered"
    topic, env = receive(sub)
    assert topic == b"big-orders"
    assert list(env) == ["version", "id", "detail-type", "source", "account", "time",
                         "region", "resources", "detail"]
    assert env["version"] == "0"
    assert env["id"] == ids[0]
    assert uuid.UUID(env["id"]).version == 7
    assert env["detail-type"] == "OrderCreated"
    assert env["source"] == "shop.orders"
    assert env["account"] == "000000000000" and env["region"] == "local"
    assert env["resources"] == ["arn:shop:order/o-1"]
    assert env["detail"] == {"amount": 150, "order": "o-1"}
    t = datetime.datetime.strptime(env["time"], "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.utcnow()
    assert abs((now - t).total_seconds()) < 60
    _, env = receive(sub)
    assert env["id"] == ids[4], "a bus ARN names the bus"
    assert nothing_more(sub)
    sub.close()


def test_json_string_detail_is_delivered_as_a_map(api):
    broker, sock = api
    ep = f"tcp://127.0.0.1:{free_port()}"
    request(sock, "PutRule", Name="all", EventPattern='{"source": ["shop.orders"]}')
    request(sock, "PutTargets", Rule="all", Targets=[{"Id": "t", "Endpoint": ep}])
    sub = subscriber(broker.ctx, ep)
    detail = {"amount": 12.5, "items": [{"sku": "a", "qty": 2}], "gift": False, "note": None,
              "big": 12345678901234, "text": "h\u00e9llo"}
    r = put_events(sock, entry(detail=json.dumps(detail)), entry(detail=detail))
    assert r["FailedEntryCount"] == 0
    _, env1 = receive(sub)
    _, env2 = receive(sub)
    assert env1["detail"] == detail
    assert env2["detail"] == detail


def test_detail_forms_are_matched_the_same_way(api):
    broker, sock = api
    ep = f"tcp://127.0.0.1:{free_port()}"
    request(sock, "PutRule", Name="big",
            EventPattern='{"detail": {"amount": [{"numeric": [">", 100]}]}}')
    request(sock, "PutTargets", Rule="big", Targets=[{"Id": "t", "Endpoint": ep}])
    sub = subscriber(broker.ctx, ep)
    put_events(sock, entry(detail='{"amount": 150}'), entry(detail='{"amount": 99}'),
               entry(detail={"amount": 150.5}), entry(detail={"amount": 100}))
    got = [receive(sub)[1]["detail"]["amount"] for _ in range(2)]
    assert got == [150, 150.5]
    assert nothing_more(sub)


BIG_LIMITS = """\
broker:
  listen: {listen}
  limits:
    max-entries-per-request: 20
    max-entry-bytes: 1000
buses:
  - name: default
"""


def test_partial_failures_keep_request_order_and_good_entries_succeed(broker_factory):
    broker = broker_factory(BIG_LIMITS)
    sock = broker.client()
    r = put_events(sock,
                   entry(),
                   {"DetailType": "x", "Detail": {}},
                   {"Source": "s", "Detail": {}},
                   {"Source": "s", "DetailType": "x"},
                   entry(detail="not json"),
                   entry(detail="[1, 2]"),
                   entry(detail=42),
                   entry(bus="nope"),
                   entry(Time="yesterday"),
                   entry(Resources="arn:x"),
                   "not a map",
                   entry(Time="2024-02-29T12:00:00+02:00"))
    assert r["FailedEntryCount"] == 10
    codes = [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in r["Entries"]]
    assert "EventId" in r["Entries"][0] and "EventId" in r["Entries"][-1]
    assert codes[1] == ("InvalidArgument",
                        "Parameter Source is not valid. Reason: Source is a required argument.")
    assert codes[2] == ("InvalidArgument",
                        "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
    assert codes[3] == ("InvalidArgument",
                        "Parameter Detail is not valid. Reason: Detail is a required argument.")
    assert codes[4] == ("MalformedDetail", "Detail is malformed.")
    assert codes[5] == ("MalformedDetail", "Detail is malformed.")
    assert codes[6] == ("MalformedDetail", "Detail is malformed.")
    assert codes[7] == ("ResourceNotFoundException", "Event bus nope does not exist.")
    assert codes[8][0] == "InvalidArgument" and "Time" in codes[8][1]
    assert codes[9][0] == "InvalidArgument" and "Resources" in codes[9][1]
    assert codes[10] == ("InvalidArgument", "Entry is not a map.")


def test_entries_of_one_request_each_go_to_the_bus_they_name(broker):
    sock = broker.client()
    for name in ("o", "orders", "orders2"):
        request(sock, "CreateEventBus", Name=name)
    arn = "arn:zbridge:events:local:000000000000:event-bus/"
    names = ["orders", "orders", "o", "orders2", None, "nope", arn + "orders", "orders2",
             "ord", arn + "o"]
    r = put_events(sock, *[entry(bus=n) for n in names])
    codes = [e.get("ErrorCode") for e in r["Entries"]]
    assert codes == [None] * 5 + ["ResourceNotFoundException"] + [None] * 2 + \
        ["ResourceNotFoundException", None], r
    counts = {b["Name"]: b["PutEventsEntriesCount"] for b in request(sock, "GetMetrics")["Buses"]}
    assert counts == {"default": 1, "o": 2, "orders": 3, "orders2": 2}, counts


def test_entries_naming_buses_by_long_names_sharing_a_prefix_go_to_each(broker):
    sock = broker.client()
    long1, long2 = "bus-with-a-long-name-1", "bus-with-a-long-name-12"
    for name in ("bus-of-16-bytes-", "bus-of-16-bytes2", long1, long2):
        request(sock, "CreateEventBus", Name=name)
    names = ["bus-of-16-bytes-", "bus-of-16-bytes2", "bus-of-16-bytes-", long1, long2, long1,
             long1 + "3", "bus-of-16-bytes", long2]
    r = put_events(sock, *[entry(bus=n) for n in names])
    codes = [e.get("ErrorCode") for e in r["Entries"]]
    assert codes == [None] * 6 + ["ResourceNotFoundException"] * 2 + [None], r
    counts = {b["Name"]: b["PutEventsEntriesCount"] for b in request(sock, "GetMetrics")["Buses"]}
    assert counts == {"default": 0, "bus-of-16-bytes-": 2, "bus-of-16-bytes2": 1, long1: 2,
                      long2: 2}, counts


def test_limits_are_clear_errors(broker_factory):
    broker = broker_factory(BIG_LIMITS)
    sock = broker.client()
    r = put_events(sock, entry(detail={"pad": "x" * 2000}), entry())
    assert r["FailedEntryCount"] == 1
    assert r["Entries"][0] == {
        "ErrorCode": "LimitExceededException",
        "ErrorMessage": r["Entries"][0]["ErrorMessage"]}
    assert "exceeds the limit of 1000 bytes" in r["Entries"][0]["ErrorMessage"]
    r = put_events(sock, *[entry()] * 21)
    assert r["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 20" in r["Error"]["Message"]
    r = put_events(sock)
    assert r["Error"]["Code"] == "ValidationException"
    r = request(sock, "PutEvents")
    assert r["Error"]["Message"] == \
        "Parameter Entries is not valid. Reason: Entries is a required argument."
    assert put_events(sock, entry())["FailedEntryCount"] == 0


def test_time_is_taken_from_rfc3339_or_msgpack_timestamp(api):
    broker, sock = api
    ep = f"tcp://127.0.0.1:{free_port()}"
    request(sock, "PutRule", Name="all", EventPattern='{"source": ["shop.orders"]}')
    request(sock, "PutTargets", Rule="all", Targets=[{"Id": "t", "Endpoint": ep}])
    sub = subscriber(broker.ctx, ep)
    ts = msgpack.Timestamp(1700000000, 5)
    sock.send(msgpack.packb({"Action": "PutEvents", "Entries": [
        entry(Time="2024-02-29T12:00:00.250+02:00"), entry(Time=ts)]}, datetime=False))
    r = msgpack.unpackb(sock.recv())
    assert r["FailedEntryCount"] == 0, r
    assert receive(sub)[1]["time"] == "2024-02-29T10:00:00Z"
    assert receive(sub)[1]["time"] == "2023-11-14T22:13:20Z"


def test_request_id_is_echoed_for_pipelined_clients(api):
    broker, sock = api
    for i in range(20):
        sock.send(msgpack.packb({"Action": "PutEvents", "RequestId": [i, "x"],
                                 "Entries": [entry()]}))
    for i in range(20):
        r = msgpack.unpackb(sock.recv())
        assert r["RequestId"] == [i, "x"]
    r = request(sock, "Bogus", RequestId={"k": 1})
    assert r == {"RequestId": {"k": 1},
                 "Error": {"Code": "UnknownOperationException", "Message": "Unknown action: Bogus."}}


def test_req_socket_gets_its_reply_through_the_delimiter(broker):
    sock = broker.client(zmq.REQ)
    sock.send(msgpack.packb({"Action": "ListEventBuses"}))
    r = msgpack.unpackb(sock.recv())
    assert [b["Name"] for b in r["EventBuses"]] == ["default"]
    sock.send(b"\x00garbage")
    r = msgpack.unpackb(sock.recv())
    assert r["Error"]["Code"] == "SerializationException"
    sock.close()


def test_several_rules_and_targets_share_an_endpoint_and_each_pair_publishes_once(api):
    broker, sock = api
    ep = f"tcp://127.0.0.1:{free_port()}"
    request(sock, "PutRule", Name="r1", EventPattern='{"source": ["shop.orders"]}')
    request(sock, "PutRule", Name="r2", EventPattern='{"detail-type": ["OrderCreated"]}')
    request(sock, "PutRule", Name="off", EventPattern='{"source": ["shop.orders"]}',
            State="DISABLED")
    request(sock, "PutTargets", Rule="r1", Targets=[
        {"Id": "a", "Endpoint": ep, "Topic": "{rule}.{target}"},
        {"Id": "b", "Endpoint": ep, "Topic": "{rule}.{target}"}])
    request(sock, "PutTargets", Rule="r2", Targets=[
        {"Id": "a", "Endpoint": ep, "Topic": "{bus}/{source}/{detail-type}"}])
    request(sock, "PutTargets", Rule="off", Targets=[{"Id": "a", "Endpoint": ep}])
    sub = subscriber(broker.ctx, ep)
    put_events(sock, entry())
    topics = sorted(receive(sub)[0] for _ in range(3))
    assert topics == [b"default/shop.orders/OrderCreated", b"r1.a", b"r1.b"]
    assert nothing_more(sub)
    m = request(sock, "GetMetrics")
    assert m["PubSockets"] == 1


def test_subscribers_filter_by_topic_prefix(api):
    broker, sock = api
    ep = f"tcp://127.0.0.1:{free_port()}"
    request(sock, "PutRule", Name="r", EventPattern='{"source": [{"prefix": "shop."}]}')
    request(sock, "PutTargets", Rule="r", Targets=[{"Id": "a", "Endpoint": ep,
                                                    "Topic": "{source}"}])
    sub = subscriber(broker.ctx, ep, b"shop.pay")
    put_events(sock, entry(source="shop.orders"), entry(source="shop.payments"))
    assert receive(sub)[0] == b"shop.payments"
    assert nothing_more(sub)


def test_rule_and_bus_control_actions(api):
    broker, sock = api
    assert request(sock, "CreateEventBus", Name="orders", Description="d")["EventBusArn"]
    assert request(sock, "CreateEventBus", Name="orders")["Error"] == {
        "Code": "ResourceAlreadyExistsException", "Message": "Event bus orders already exists."}
    assert request(sock, "DescribeEventBus", Name="orders") == {
        "Name": "orders", "Arn": "arn:zbridge:events:local:000000000000:event-bus/orders",
        "Description": "d"}
    assert request(sock, "DescribeEventBus", Name="zz")["Error"]["Code"] == "ResourceNotFoundException"
    assert request(sock, "CreateEventBus", Name="bad/name")["Error"]["Code"] == "ValidationException"
    assert request(sock, "CreateEventBus")["Error"]["Message"] == \
        "Parameter Name is not valid. Reason: Name is a required argument."
    names = [b["Name"] for b in request(sock, "ListEventBuses")["EventBuses"]]
    assert names == ["default", "orders"]
    page = request(sock, "ListEventBuses", Limit=1)
    assert [b["Name"] for b in page["EventBuses"]] == ["default"]
    page = request(sock, "ListEventBuses", Limit=1, NextToken=page["NextToken"])
    assert [b["Name"] for b in page["EventBuses"]] == ["orders"] and "NextToken" not in page

    bad = request(sock, "PutRule", Name="r", EventBusName="orders", EventPattern='{"source": []}')
    assert bad["Error"]["Code"] == "InvalidEventPatternException"
    assert "Event pattern is not valid" in bad["Error"]["Message"]
    assert request(sock, "PutRule", Name="r", EventBusName="orders",
                   EventPattern='{"source": ["a"]}', Description="first")["RuleArn"]
    d = request(sock, "DescribeRule", Name="r", EventBusName="orders")
    assert d["State"] == "ENABLED" and d["EventPattern"] == '{"source": ["a"]}'
    assert d["Description"] == "first" and d["EventBusName"] == "orders"
    assert request(sock, "DisableRule", Name="r", EventBusName="orders") == {}
    assert request(sock, "DescribeRule", Name="r", EventBusName="orders")["State"] == "DISABLED"
    assert request(sock, "EnableRule", Name="r", EventBusName="orders") == {}
    assert request(sock, "DescribeRule", Name="nope", EventBusName="orders")["Error"] == {
        "Code": "ResourceNotFoundException", "Message": "Rule nope does not exist on EventBus orders."}
    rules = request(sock, "ListRules", EventBusName="orders", NamePrefix="r")["Rules"]
    assert [x["Name"] for x in rules] == ["r"]
    ep = f"tcp://127.0.0.1:{free_port()}"
    r = request(sock, "PutTargets", Rule="r", EventBusName="orders", Targets=[
        {"Id": "ok", "Endpoint": ep, "HighWaterMark": 10},
        {"Id": "bad", "Endpoint": "carrier-pigeon://x"},
        {"Endpoint": ep}])
    assert r["FailedEntryCount"] == 2
    assert [f["TargetId"] for f in r["FailedEntries"]] == ["bad", "?"]
    assert all(f["ErrorCode"] == "ValidationException" for f in r["FailedEntries"])
    t = request(sock, "ListTargetsByRule", Rule="r", EventBusName="orders")["Targets"]
    assert t == [{"Id": "ok", "Type": "pub", "Endpoint": ep, "Topic": "{rule}",
                  "HighWaterMark": 10}]
    r = request(sock, "PutTargets", Rule="r", EventBusName="orders", Targets=[
        {"Id": "other", "Endpoint": ep, "HighWaterMark": 20}])
    assert r["FailedEntryCount"] == 1
    assert "open with HighWaterMark 10" in r["FailedEntries"][0]["ErrorMessage"]
    r = request(sock, "PutTargets", Rule="r", EventBusName="orders", Targets=[
        {"Id": "ok", "Endpoint": ep, "HighWaterMark": 20}])
    assert r["FailedEntryCount"] == 0, "a target may change its own socket's mark"
    r = request(sock, "DeleteRule", Name="r", EventBusName="orders")
    assert r["Error"] == {"Code": "ValidationException",
                          "Message": "Rule can't be deleted since it has targets."}
    r = request(sock, "RemoveTargets", Rule="r", EventBusName="orders", Ids=["ok", "ghost"])
    assert r["FailedEntryCount"] == 1 and r["FailedEntries"][0]["TargetId"] == "ghost"
    assert request(sock, "DeleteRule", Name="r", EventBusName="orders") == {}
    assert request(sock, "DeleteEventBus", Name="default")["Error"]["Code"] == "ValidationException"
    assert request(sock, "DeleteEventBus", Name="orders") == {}
    assert request(sock, "DeleteEventBus", Name="orders")["Error"]["Code"] == "ResourceNotFoundException"


def test_test_event_pattern(api):
    _, sock = api
    ev = json.dumps({"source": "shop.orders", "detail": {"amount": 150}})
    pat = '{"detail": {"amount": [{"numeric": [">", 100]}]}}'
    assert request(sock, "TestEventPattern", EventPattern=pat, Event=ev) == {"Result": True}
    assert request(sock, "TestEventPattern", EventPattern=pat,
                   Event={"detail": {"amount": 5}}) == {"Result": False}
    r = request(sock, "TestEventPattern", EventPattern='{"a": 1}', Event=ev)
    assert r["Error"]["Code"] == "InvalidEventPatternException"
    r = request(sock, "TestEventPattern", EventPattern=pat, Event="[1]")
    assert r["Error"]["Code"] == "ValidationException"


def test_get_metrics_counts_per_bus_rule_and_target(api):
    broker, sock = api
    ep = f"tcp://127.0.0.1:{free_port()}"
    request(sock, "PutRule", Name="r", EventPattern='{"source": ["shop.orders"]}')
    request(sock, "PutTargets", Rule="r", Targets=[{"Id": "t", "Endpoint": ep}])
    put_events(sock, entry(), entry(), entry(source="x"), {"Source": "bad"})
    m = request(sock, "GetMetrics")
    assert m["PutEventsRequests"] == 1
    assert m["PutEventsEntriesCount"] == 4 and m["PutEventsFailedEntriesCount"] == 1
    bus = m["Buses"][0]
    assert bus["Name"] == "default" and bus["MatchedEvents"] == 2
    assert bus["TriggeredRules"] == 2 and bus["Invocations"] == 2
    rule = bus["Rules"][0]
    assert (rule["Name"], rule["MatchedEvents"], rule["Invocations"]) == ("r", 2, 2)
    assert rule["Targets"] == [{"Id": "t", "Invocations": 2, "FailedInvocations": 0}]
    lat = m["IngestiontoInvocationStartLatency"]
    assert lat["Count"] == 2 and 0 < lat["p50"] <= lat["p99"] <= lat["Max"] * 1.07
    assert bus["IngestiontoInvocationStartLatency"]["Count"] == 2


def test_a_stuck_subscriber_never_stalls_ingest_or_other_targets(api):
    broker, sock = api
    slow_ep = f"tcp://127.0.0.1:{free_port()}"
    fast_ep = f"tcp://127.0.0.1:{free_port()}"
    request(sock, "PutRule", Name="r", EventPattern='{"source": ["shop.orders"]}')
    r = request(sock, "PutTargets", Rule="r", Targets=[
        {"Id": "slow", "Endpoint": slow_ep, "HighWaterMark": 10},
        {"Id": "fast", "Endpoint": fast_ep, "HighWaterMark": 0}])
    assert r["FailedEntryCount"] == 0
    stuck = subscriber(broker.ctx, slow_ep)
    stuck.setsockopt(zmq.RCVHWM, 1)  # and it never reads
    fast = subscriber(broker.ctx, fast_ep)
    fast.setsockopt(zmq.RCVHWM, 0)
    pad = "x" * 2000
    n = 3000
    for i in range(n // 10):
        sock.send(msgpack.packb({"Action": "PutEvents", "Entries": [
            entry(detail={"seq": i * 10 + k, "pad": pad}) for k in range(10)]}))
    for _ in range(n // 10):
        assert msgpack.unpackb(sock.recv())["FailedEntryCount"] == 0
    seqs = [receive(fast)[1]["detail"]["seq"] for _ in range(n)]
    assert seqs == list(range(n))
    stuck.close()
