"""What a peer that never reads can make the broker hold: subscriber queues
are bounded in bytes by default."""
import resource

import msgpack
import zmq

from broker_util import free_port, request


def limits_rules(limits):
    return "broker:\n  listen: {listen}\n  limits:\n" + "".join(
        f"    {k}: {v}\n" for k, v in limits.items()) + "buses:\n  - name: default\n"


def hwm_of_new_target(b):
    s = b.client()
    request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    ep = f"tcp://127.0.0.1:{free_port()}"
    assert request(s, "PutTargets", Rule="r",
                   Targets=[{"Id": "t", "Endpoint": ep}])["FailedEntryCount"] == 0
    return request(s, "ListTargetsByRule", Rule="r")["Targets"][0]["HighWaterMark"]


def test_default_high_water_mark_keeps_a_subscriber_queue_within_64_mib(broker_factory):
    # 64 MiB / 256 KiB entries: a subscriber that never reads holds 64 MiB at most.
    assert hwm_of_new_target(broker_factory()) == 256


def test_default_high_water_mark_follows_queue_bytes_and_max_entry_bytes(broker_factory):
    b = broker_factory(limits_rules({"queue-bytes": 1048576, "max-entry-bytes": 4096}))
    assert hwm_of_new_target(b) == 256


def test_default_high_water_mark_has_a_floor(broker_factory):
    b = broker_factory(limits_rules({"queue-bytes": 1024, "max-entry-bytes": 1048576}))
    assert hwm_of_new_target(b) == 64


def test_file_targets_without_a_mark_get_the_byte_derived_default(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory("broker:\n  listen: {listen}\n  limits:\n    queue-bytes: 33554432\n"
                       "buses:\n  - name: default\n    rules:\n      - name: r\n"
                       "        event-pattern: {source: [x]}\n        targets:\n"
                       f"          - {{id: t, endpoint: '{ep}'}}\n")
    s = b.client()
    assert request(s, "ListTargetsByRule", Rule="r")["Targets"][0]["HighWaterMark"] == 128


def test_a_request_id_over_1_kib_is_refused_and_not_echoed(broker):
    s = broker.client()
    r = request(s, "ListEventBuses", RequestId="x" * 2000)
    assert r == {"Error": {"Code": "ValidationException", "Message":
                           "Parameter RequestId is not valid. Reason: must encode in at most "
                           "1024 bytes."}}
    assert request(s, "ListEventBuses", RequestId="x" * 1000)["RequestId"] == "x" * 1000


def nested(depth):
    v = 1
    for _ in range(depth):
        v = [v]
    return v


def test_a_request_id_nested_deeper_than_8_levels_is_refused(broker):
    # Echoed at the depth it came in, a RequestId as deep as the request
    # limit allows made a reply deeper than readers accept.
    s = broker.client()
    r = request(s, "PutEvents", RequestId=nested(62), Entries=[])
    assert r == {"Error": {"Code": "ValidationException", "Message":
                           "Parameter RequestId is not valid. Reason: must nest at most "
                           "8 levels."}}
    assert request(s, "ListEventBuses", RequestId=nested(8))["RequestId"] == nested(8)


def test_list_rules_pages_end_early_by_bytes(broker_factory):
    b = broker_factory("broker:\n  listen: {listen}\n  limits:\n    max-request-bytes: 4194304\n"
                       "buses:\n  - name: default\n")
    s = b.client()
    big = '{"source": ["' + "a" * 100000 + '"]}'
    for i in range(10):
        assert "RuleArn" in request(s, "PutRule", Name=f"r{i}", EventPattern=big)
    s.setsockopt(zmq.MAXMSGSIZE, -1)
    names, token, pages = [], None, 0
    while True:
        fields = {"NextToken": token} if token else {}
        s.send(msgpack.packb({"Action": "ListRules", **fields}))
        raw = s.recv()
        assert len(raw) < 400 * 1024
        r = msgpack.unpackb(raw)
        names += [x["Name"] for x in r["Rules"]]
        pages += 1
        token = r.get("NextToken")
        if not token:
            break
    assert names == [f"r{i}" for i in range(10)] and pages == 5  # two 100 KB rules per 256 KiB page


def test_one_item_larger_than_a_page_still_makes_progress(broker_factory):
    b = broker_factory("broker:\n  listen: {listen}\n  limits:\n    max-request-bytes: 4194304\n"
                       "buses:\n  - name: default\n")
    s = b.client()
    big = '{"source": ["' + "a" * 300000 + '"]}'
    for i in range(2):
        assert "RuleArn" in request(s, "PutRule", Name=f"r{i}", EventPattern=big)
    r = request(s, "ListRules")
    assert [x["Name"] for x in r["Rules"]] == ["r0"] and r["NextToken"] == "1"
    r = request(s, "ListRules", NextToken="1")
    assert [x["Name"] for x in r["Rules"]] == ["r1"] and "NextToken" not in r


def test_distinct_pub_endpoints_are_limited_with_a_clear_error(broker_factory):
    b = broker_factory(limits_rules({"max-pub-endpoints": 3}))
    s = b.client()
    request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    eps = [f"tcp://127.0.0.1:{free_port()}" for _ in range(5)]
    r = request(s, "PutTargets", Rule="r", Targets=[
        {"Id": f"t{i}", "Endpoint": e} for i, e in enumerate(eps)])
    assert r["FailedEntryCount"] == 2
    assert r["FailedEntries"][0] == {
        "TargetId": "t3", "ErrorCode": "LimitExceededException",
        "ErrorMessage": "The requested resource exceeds the maximum number allowed: 3 pub "
                        "endpoints (max-pub-endpoints)."}
    # An endpoint already open is shared, so it costs nothing more.
    r = request(s, "PutTargets", Rule="r", Targets=[{"Id": "again", "Endpoint": eps[0]}])
    assert r["FailedEntryCount"] == 0
    assert request(s, "GetMetrics")["PubSockets"] == 3


def test_the_default_endpoint_limit_leaves_descriptors_for_clients(broker_factory):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        b = broker_factory()  # inherits the 1024 soft limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    s = b.client()
    for rule in range(3):
        request(s, "PutRule", Name=f"r{rule}", EventPattern='{"source": ["x"]}')
        r = request(s, "PutTargets", Rule=f"r{rule}", Targets=[
            {"Id": f"t{i}", "Endpoint": f"tcp://127.0.0.1:{free_port()}"} for i in range(100)])
    assert request(s, "GetMetrics")["PubSockets"] == (1024 - 256) // 4
    assert r["FailedEntries"][-1]["ErrorCode"] == "LimitExceededException"
    # Fresh clients are still served, and changes still save.
    for _ in range(20):
        c = b.client()
        assert request(c, "CreateEventBus", Name=f"b{_}")["EventBusArn"]
        c.close()


def test_list_targets_by_rule_pages_by_count_and_bytes(broker_factory):
    b = broker_factory()
    s = b.client()
    request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    for i in range(6):
        assert request(s, "PutTargets", Rule="r", Targets=[
            {"Id": f"t{i}", "Endpoint": "inproc://shared", "Topic": str(i) * 100000}]
        )["FailedEntryCount"] == 0
    ids, token, pages = [], None, 0
    while True:
        r = request(s, "ListTargetsByRule", Rule="r", **({"NextToken": token} if token else {}))
        ids += [t["Id"] for t in r["Targets"]]
        pages += 1
        token = r.get("NextToken")
        if not token:
            break
    assert ids == [f"t{i}" for i in range(6)] and pages == 3  # two 100 KB topics a page
    r = request(s, "ListTargetsByRule", Rule="r", Limit=1)
    assert [t["Id"] for t in r["Targets"]] == ["t0"] and r["NextToken"] == "1"
