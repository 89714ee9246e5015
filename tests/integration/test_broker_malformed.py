"""Bad input gets a precise error and never hurts the broker."""
import random

import msgpack
import pytest

from broker_util import (entry, free_port, nothing_more, receive, request, rules_with_target,
                         subscriber)


def raw(sock, body):
    sock.send(body)
    return msgpack.unpackb(sock.recv(), raw=False, strict_map_key=False)


def still_serving(broker, sock):
    assert broker.proc.poll() is None, broker.log_text()
    r = request(sock, "ListEventBuses")
    assert r["EventBuses"][0]["Name"] == "default"


@pytest.mark.parametrize("body, code, message", [
    (b"", "SerializationException", "Request body is not valid msgpack."),
    (b"\xc1", "SerializationException", "Request body is not valid msgpack."),
    (b"\x81\xa6Action", "SerializationException", "Request body is not valid msgpack."),
    (msgpack.packb([1, 2]), "SerializationException", "Request body is not a msgpack map."),
    (msgpack.packb(7), "SerializationException", "Request body is not a msgpack map."),
    (msgpack.packb({"Action": "ListEventBuses"}) + b"\x00", "SerializationException",
     "Request body is not valid msgpack."),
    (msgpack.packb({}), "SerializationException", "Action is a required field."),
    (msgpack.packb({"Action": 5}), "SerializationException", "Action is a required field."),
    (msgpack.packb({"Action": b"PutEvents"}, use_bin_type=True), "SerializationException",
     "Action is a required field."),
    (msgpack.packb({"Action": "putevents"}), "UnknownOperationException",
     "Unknown action: putevents."),
    (msgpack.packb({"Action": "\x00\u00e9" + "x" * 500}), "UnknownOperationException", None),
    (b"\x91" * 100000, "SerializationException", None),
    (b"\x81\xa1a" + b"\x81\xa1a" * 2000 + b"\xc0", "SerializationException", None),
], ids=["empty", "reserved-byte", "truncated", "array", "int", "trailing-bytes", "no-action",
        "action-int", "action-bin", "unknown-action", "hostile-action-name", "deep-arrays",
        "deep-maps"])
def test_malformed_requests_get_an_error_reply(broker, body, code, message):
    sock = broker.client()
    r = raw(sock, body)
    assert r["Error"]["Code"] == code
    if message:
        assert r["Error"]["Message"] == message
    still_serving(broker, sock)


@pytest.mark.parametrize("fields, message", [
    ({"Action": "PutEvents", "Entries": "x"},
     "Parameter Entries is not valid. Reason: Entries must be an array."),
    ({"Action": "PutRule", "Name": 5, "EventPattern": "{}"},
     "Parameter Name is not valid. Reason: Name must be a string."),
    ({"Action": "PutRule", "Name": "r", "EventPattern": '{"a": ["b"]}', "State": "ON"},
     "Parameter State is not valid. Reason: must be ENABLED or DISABLED."),
    ({"Action": "PutRule", "Name": "r", "ScheduleExpression": "rate(1 minute)"},
     "Parameter ScheduleExpression is not valid. Reason: scheduled rules are not supported."),
    ({"Action": "PutRule", "Name": "r"},
     "Parameter EventPattern is not valid. Reason: EventPattern is a required argument."),
    ({"Action": "ListRules", "Limit": "ten"},
     "Parameter Limit is not valid. Reason: must be an integer from 1 to 100."),
    ({"Action": "ListRules", "NextToken": "abc"}, "The NextToken is not valid."),
    ({"Action": "PutTargets", "Rule": "nope", "Targets": []},
     "Rule nope does not exist on EventBus default."),
], ids=["entries-type", "name-type", "state-value", "schedule", "pattern-missing", "limit-type",
        "next-token", "unknown-rule"])
def test_invalid_fields_are_named_in_the_error(broker, fields, message):
    sock = broker.client()
    r = raw(sock, msgpack.packb(fields))
    assert r["Error"]["Message"] == message, r
    still_serving(broker, sock)


def test_oversized_request_is_refused_and_the_connection_stays_usable(broker):
    sock = broker.client()
    big = msgpack.packb({"Action": "PutEvents",
                         "Entries": [entry(detail={"pad": "x" * (1 << 20)})]})
    r = raw(sock, big)
    assert r["Error"]["Code"] == "LimitExceededException"
    assert "max-request-bytes" in r["Error"]["Message"]
    still_serving(broker, sock)


def test_malformed_details_are_refused_per_entry(broker):
    sock = broker.client()
    deep = "[" * 200 + "]" * 200
    r = raw(sock, msgpack.packb({"Action": "PutEvents", "Entries": [
        entry(detail={1: "int key"}),
        entry(detail={"b": b"bytes"}),
        entry(detail={"f": float("nan")}),
        entry(detail='{"a": ' + deep + '}'),
        entry(detail='{"a": 1,}'),
        entry(detail='{"a": "\\ud800"}'),
        entry(detail='{"a": 1e400}'),
        entry(detail={"ok": [1, {"x": None}]}),
    ]}, use_bin_type=True))
    codes = [e.get("ErrorCode") for e in r["Entries"]]
    assert codes == ["MalformedDetail"] * 7 + [None], r
    bad_utf8 = b"\x82\xa6Action\xa9PutEvents\xa7Entries\x91\x83\xa6Source\xa2\xff\xfe" \
               b"\xaaDetailType\xa1x\xa6Detail\x80"
    r = raw(sock, bad_utf8)
    assert r["Entries"][0]["ErrorCode"] == "InvalidArgument"
    still_serving(broker, sock)


def _nest(levels):
    d = {}
    for _ in range(levels - 1):
        d = {"a": d}
    return d


def _eight_entries(seventh, first=()):
    """A PutEvents body of eight good entries for bus orders, the seventh
    replaced by `seventh`, with `first` fields before Action."""
    entries = [entry(bus="orders", detail={"amount": 500, "seq": i}) for i in range(8)]
    entries[6] = seventh
    body = dict(first)
    body.update({"Action": "PutEvents", "RequestId": "r-7", "Entries": entries})
    return body


# Each body is valid msgpack but for one spot inside the seventh of eight
# entries: the first six are good, yet none may be accepted or delivered.
@pytest.mark.parametrize("body", [
    msgpack.packb(_eight_entries(entry(bus="orders", detail={"amount": 500, "mark": 7})))
    .replace(b"\xa4mark\x07", b"\xa4mark\xc1"),
    msgpack.packb(_eight_entries(entry(bus="orders", detail={"amount": 500, "x": [1, [2, 7]]})))
    .replace(b"\x92\x02\x07", b"\x92\x02\xc1"),
    msgpack.packb(_eight_entries(entry(bus="orders", detail={"amount": 500}, Extra=7777)))
    .replace(b"\xa5Extra\xcd\x1e\x61", b"\xa5Extra\xc1\xc1\xc1"),
    msgpack.packb(_eight_entries("ENTRY7MARK")).replace(b"\xaaENTRY7MARK", b"\xc1"),
    msgpack.packb(_eight_entries(entry(bus="orders", detail=_nest(64)))),
    msgpack.packb(_eight_entries(entry(bus="orders", detail={"amount": 500, "mark": 7}),
                                 first={"Entries": 0}))
    .replace(b"\xa4mark\x07", b"\xa4mark\xc1"),
], ids=["reserved-byte-in-detail", "reserved-byte-deep-in-detail", "reserved-byte-in-other-key",
        "reserved-byte-as-entry", "detail-past-the-request-depth", "entries-before-action"])
def test_invalid_msgpack_in_a_late_entry_refuses_the_whole_request(broker_factory, body):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(rules_with_target(ep))
    sub = subscriber(b.ctx, ep)
    sock = b.client()
    sock.send(body)
    # The reply a body that is not msgpack gets, byte for byte.
    assert sock.recv() == msgpack.packb({"Error": {"Code": "SerializationException",
                                                   "Message": "Request body is not valid msgpack."}})
    assert nothing_more(sub), "no entry of the refused request is delivered"
    r = request(sock, "PutEvents", Entries=[entry(bus="orders", detail={"amount": 500, "seq": 99})])
    assert r["FailedEntryCount"] == 0
    assert receive(sub)[1]["detail"]["seq"] == 99
    m = request(sock, "GetMetrics")
    assert m["PutEventsRequests"] == 1 and m["PutEventsEntriesCount"] == 1, m


def test_random_bytes_never_hurt_the_broker(broker):
    sock = broker.client()
    rnd = random.Random(1234)
    seeds = [msgpack.packb({"Action": "PutEvents", "Entries": [entry(detail={"a": [1, 2.5]})]}),
             msgpack.packb({"Action": "PutRule", "Name": "r", "EventPattern": '{"a": ["b"]}'}),
             msgpack.packb({"Action": "PutTargets", "Rule": "r", "Targets": [
                 {"Id": "t", "Endpoint": "inproc://x"}]})]
    for i in range(600):
        if i % 2:
            body = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 64)))
        else:
            b = bytearray(rnd.choice(seeds))
            for _ in range(rnd.randrange(1, 4)):
                b[rnd.randrange(len(b))] = rnd.getrandbits(8)
            body = bytes(b)
        sock.send(body)
        reply = sock.recv()
        assert isinstance(msgpack.unpackb(reply, raw=False, strict_map_key=False), dict)
    still_serving(broker, sock)


def test_multi_frame_requests_use_the_last_frame_and_echo_the_route(broker):
    sock = broker.client()
    sock.send_multipart([b"hop", msgpack.packb({"Action": "ListEventBuses"})])
    frames = sock.recv_multipart()
    assert frames[0] == b"hop"
    assert msgpack.unpackb(frames[1])["EventBuses"][0]["Name"] == "default"
    # Too many route frames cannot be answered safely: dropped, not fatal.
    sock.send_multipart([b"x"] * 12 + [msgpack.packb({"Action": "ListEventBuses"})])
    still_serving(broker, sock)


def test_a_client_that_vanishes_mid_pipeline_does_not_hurt(broker):
    s = broker.client()
    for _ in range(200):
        s.send(msgpack.packb({"Action": "PutEvents", "Entries": [entry()]}))
    s.close()
    still_serving(broker, broker.client())


def test_a_message_far_beyond_the_limit_costs_only_its_sender(broker):
    huge = broker.client()
    huge.send(b"\x80" * (3 << 20))  # > 2 x max-request-bytes: the connection is dropped
    other = broker.client()
    still_serving(broker, other)


@pytest.mark.parametrize("action,fields,key", [
    ("PutTargets", {"Rule": "r", "Targets": [{"Id": "t", "Endpoint": "inproc://y\x00zz"}]},
     "Endpoint"),
    ("PutTargets", {"Rule": "r", "Targets": [{"Id": "t", "Endpoint": "inproc://y",
                                              "Topic": "a\x00b"}]}, "Topic"),
    ("PutRule", {"Name": "r2", "EventPattern": '{"source": ["x"]}\x00junk'}, "EventPattern"),
    ("PutRule", {"Name": "r2", "EventPattern": '{"source": ["x"]}', "Description": "a\x00b"},
     "Description"),
    ("CreateEventBus", {"Name": "b", "Description": "a\x00b"}, "Description"),
    ("ListRules", {"NamePrefix": "r\x00x"}, "NamePrefix"),
    ("ListEventBuses", {"NamePrefix": "d\x00x"}, "NamePrefix"),
])
def test_a_string_with_a_nul_is_refused_naming_the_parameter(broker, action, fields, key):
    s = broker.client()
    assert "RuleArn" in request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    r = request(s, action, **fields)
    message = f"Parameter {key} is not valid. Reason: {key} must not contain a NUL character."
    if action == "PutTargets":
        assert r["FailedEntries"] == [{"TargetId": "t", "ErrorCode": "ValidationException",
                                       "ErrorMessage": message}]
    else:
        assert r["Error"] == {"Code": "ValidationException", "Message": message}


def _map(*pairs):
    """A msgpack map of (key, packed value) pairs, keys repeated as given."""
    n = len(pairs)
    head = bytes([0x80 | n]) if n < 16 else b"\xde" + n.to_bytes(2, "big")
    return head + b"".join(msgpack.packb(k) + v for k, v in pairs)


_ACTION = ("Action", msgpack.packb("PutEvents"))
_GOOD = msgpack.packb([entry()])
_LIMITS_20 = """\
broker:
  listen: {listen}
  limits:
    max-entries-per-request: 20
buses:
  - name: default
"""
_TOO_MANY = ("1 validation error detected: Value at 'entries' failed to satisfy constraint: "
             "Member must have length less than or equal to 20 (max-entries-per-request)")


# Entries is read as the request is decoded; what the reply says is still
# what the decoded request holds: the last of a repeated key, nothing past
# the most keys a request keeps, and no Entries for other actions.
@pytest.mark.parametrize("body, want", [
    (_map(_ACTION, ("Entries", _GOOD),
          ("Entries", msgpack.packb([entry(), entry(bus="nope")]))), (1, 2)),
    (_map(_ACTION, ("Entries", msgpack.packb([entry()] * 3)), ("Entries", msgpack.packb("x"))),
     "Parameter Entries is not valid. Reason: Entries must be an array."),
    (_map(_ACTION, ("Entries", msgpack.packb([entry()] * 21)), ("Entries", _GOOD)), (0, 1)),
    (_map(_ACTION, ("Entries", _GOOD), ("Entries", msgpack.packb([entry()] * 21))), _TOO_MANY),
    (_map(_ACTION, ("Entries", _GOOD), ("Entries", msgpack.packb([]))),
     "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: "
     "Member must have length greater than or equal to 1"),
    (_map(_ACTION, *[(f"k{i}", msgpack.packb(i)) for i in range(31)], ("Entries", _GOOD)),
     "Parameter Entries is not valid. Reason: Entries is a required argument."),
    (_map(("Entries", _GOOD), *[(f"k{i}", msgpack.packb(i)) for i in range(30)], _ACTION,
          ("Entries", msgpack.packb([entry(), entry()]))), (0, 2)),
    (_map(("Action", msgpack.packb("ListEventBuses")),
          ("Entries", msgpack.packb([1, None, "x", [entry()]]))), "buses"),
    (_map(("Action", msgpack.packb("ListEventBuses")),
          ("Entries", msgpack.packb([entry()] * 21))), "buses"),
], ids=["repeated-last-wins", "repeated-last-not-an-array", "repeated-first-too-many",
        "repeated-last-too-many", "repeated-last-empty", "past-the-most-keys",
        "repeated-past-the-most-keys", "other-action-odd-entries", "other-action-many-entries"])
def test_entries_read_while_decoding_answer_as_the_decoded_request(broker_factory, body, want):
    b = broker_factory(_LIMITS_20)
    sock = b.client()
    r = raw(sock, body)
    if want == "buses":
        assert [x["Name"] for x in r["EventBuses"]] == ["default"]
        accepted = 0
    elif isinstance(want, str):
        assert r == {"Error": {"Code": "ValidationException", "Message": want}}
        accepted = 0
    else:
        failed, n = want
        assert r["FailedEntryCount"] == failed and len(r["Entries"]) == n, r
        accepted = n
    m = request(sock, "GetMetrics")
    assert m["PutEventsEntriesCount"] == accepted, m


def test_a_bus_deleted_and_created_again_within_one_burst_is_looked_up_again(broker_factory):
    b = broker_factory(rules_with_target(f"tcp://127.0.0.1:{free_port()}"))
    sock = b.client()
    put = msgpack.packb({"Action": "PutEvents", "Entries": [entry(bus="orders")]})
    burst = [put, msgpack.packb({"Action": "DeleteEventBus", "Name": "orders"}), put,
             msgpack.packb({"Action": "CreateEventBus", "Name": "orders"}), put]
    for body in burst:  # all sent before the first reply is read: one burst
        sock.send(body)
    r = [msgpack.unpackb(sock.recv(), raw=False) for _ in burst]
    assert r[0]["FailedEntryCount"] == 0
    assert r[1] == {}
    assert r[2]["Entries"] == [{"ErrorCode": "ResourceNotFoundException",
                                "ErrorMessage": "Event bus orders does not exist."}]
    assert "EventBusArn" in r[3]
    assert r[4]["FailedEntryCount"] == 0
    m = request(sock, "GetMetrics")
    orders = [x for x in m["Buses"] if x["Name"] == "orders"]
    assert orders[0]["PutEventsEntriesCount"] == 1, m
