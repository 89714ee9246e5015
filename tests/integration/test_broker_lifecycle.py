"""Restart, reload and shutdown: API changes persist, reloads are atomic,
SIGTERM publishes everything that was accepted."""
import signal
import time

import msgpack

from broker_util import entry, free_port, nothing_more, put_events, receive, request, subscriber


def wait_log(broker, word, count=1, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.log_text().count(word) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{word!r} not logged {count}x:\n{broker.log_text()}")


def rewrite(broker, text):
    broker.rules.write_text(text.replace("{listen}", broker.endpoint))


def file_rules(ep, extra="", hwm=None):
    # hwm: a burst test's subscriber must not drop (0 = unbounded queue)
    mark = f"\n            high-water-mark: {hwm}" if hwm is not None else ""
    return f"""\
# hand-written: keep this comment
broker:
  listen: {{listen}}
buses:
  - name: default
  - name: orders
    rules:
      - name: from-file
        event-pattern: {{source: [shop.orders]}}
        targets:
          - id: t
            endpoint: {ep}
            topic: file{mark}
{extra}"""


def test_restart_keeps_api_changes_and_never_rewrites_the_rules_file(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(file_rules(ep))
    original = b.rules.read_bytes()
    s = b.client()
    assert "EventBusArn" in request(s, "CreateEventBus", Name="audit")
    assert "RuleArn" in request(s, "PutRule", Name="all", EventBusName="audit",
                                EventPattern='{"source": [{"prefix": ""}]}')
    assert request(s, "PutTargets", Rule="all", EventBusName="audit",
                   Targets=[{"Id": "t", "Endpoint": ep, "Topic": "audit"}])["FailedEntryCount"] == 0
    assert request(s, "DisableRule", Name="from-file", EventBusName="orders") == {}
    assert "Error" in request(s, "CreateEventBus", Name="audit")  # failures are not saved
    s.close()
    assert b.stop() == 0
    assert b.rules.read_bytes() == original
    assert (b.workdir / "rules.yaml.state").exists()

    b.start()
    s = b.client()
    assert [x["Name"] for x in request(s, "ListEventBuses")["EventBuses"]] == \
        ["default", "orders", "audit"]
    assert request(s, "DescribeRule", Name="from-file", EventBusName="orders")["State"] == "DISABLED"
    sub = subscriber(b.ctx, ep)
    put_events(s, entry(bus="orders"), entry(bus="audit"))
    assert receive(sub)[0] == b"audit"
    assert nothing_more(sub)
    assert "no longer applies" not in b.log_text()


def test_sighup_reload_swaps_rules_and_keeps_subscribers_connected(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    ep2 = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(file_rules(ep))
    s = b.client()
    request(s, "PutRule", Name="api-rule", EventBusName="orders",
            EventPattern='{"detail-type": ["Api"]}')
    request(s, "PutTargets", Rule="api-rule", EventBusName="orders",
            Targets=[{"Id": "t", "Endpoint": ep, "Topic": "api"}])
    sub = subscriber(b.ctx, ep)
    put_events(s, entry(bus="orders"))
    assert receive(sub)[0] == b"file"
    rewrite(b, file_rules(ep, f"""\
      - name: added
        event-pattern: {{detail-type: [Added]}}
        targets:
          - id: t
            endpoint: {ep}
            topic: added
          - id: t2
            endpoint: {ep2}
"""))
    b.signal(signal.SIGHUP)
    wait_log(b, "reloaded")
    # Same SUB socket, no reconnect: the endpoint's socket stayed bound.
    sub2 = subscriber(b.ctx, ep2)
    put_events(s, entry(bus="orders", detail_type="Added"), entry(bus="orders", detail_type="Api"))
    topics = sorted(receive(sub)[0] for _ in range(4))
    assert topics == [b"added", b"api", b"file", b"file"]
    assert receive(sub2)[0] == b"added"
    assert nothing_more(sub)
    m = request(s, "GetMetrics")
    orders = [x for x in m["Buses"] if x["Name"] == "orders"][0]
    from_file = [r for r in orders["Rules"] if r["Name"] == "from-file"][0]
    assert from_file["MatchedEvents"] == 3, "counters survive a reload"


def test_an_invalid_reload_is_refused_and_the_old_rules_keep_serving(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(file_rules(ep))
    s = b.client()
    sub = subscriber(b.ctx, ep)
    rewrite(b, file_rules(ep, """\
      - name: broken
        event-pattern: {source: []}
"""))
    b.signal(signal.SIGHUP)
    wait_log(b, "reload refused")
    assert f"{b.rules}:15:33:" in b.log_text() and "Empty arrays are not allowed" in b.log_text()
    put_events(s, entry(bus="orders"))
    assert receive(sub)[0] == b"file"
    assert [r["Name"] for r in request(s, "ListRules", EventBusName="orders")["Rules"]] == \
        ["from-file"]


def test_watch_reloads_when_the_file_changes(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    text = file_rules(ep).replace("  listen: {listen}\n", "  listen: {listen}\n  watch: true\n")
    b = broker_factory(text)
    s = b.client()
    time.sleep(0.05)
    rewrite(b, text.replace("topic: file", "topic: changed"))
    wait_log(b, "reloaded")
    sub = subscriber(b.ctx, ep)
    put_events(s, entry(bus="orders"))
    assert receive(sub)[0] == b"changed"


def test_sigterm_publishes_everything_accepted_and_exits_0(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(file_rules(ep, hwm=0))
    s = b.client()
    sub = subscriber(b.ctx, ep)
    sub.setsockopt(__import__("zmq").RCVHWM, 0)
    n = 2000
    for i in range(n // 10):
        s.send(msgpack.packb({"Action": "PutEvents", "Entries": [
            entry(bus="orders", detail={"seq": i * 10 + k}) for k in range(10)]}))
    for _ in range(n // 10):
        assert msgpack.unpackb(s.recv())["FailedEntryCount"] == 0
    assert b.stop() == 0
    seqs = [receive(sub)[1]["detail"]["seq"] for _ in range(n)]
    assert seqs == list(range(n))
    assert "stopped" in b.log_text()


def test_sigint_stops_too(broker):
    broker.signal(signal.SIGINT)
    assert broker.proc.wait(10) == 0


def test_a_change_that_cannot_be_saved_is_not_applied(broker_factory, tmp_path):
    b = broker_factory(extra_args=("--state", str(tmp_path / "missing-dir" / "x.state")))
    s = b.client()
    r = request(s, "CreateEventBus", Name="audit")
    assert r["Error"]["Code"] == "InternalException"
    assert "could not be saved" in r["Error"]["Message"]
    assert [x["Name"] for x in request(s, "ListEventBuses")["EventBuses"]] == ["default"]
    assert put_events(s, entry())["FailedEntryCount"] == 0


def test_toggling_a_rule_does_not_grow_the_state_file(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(file_rules(ep))
    s = b.client()
    for i in range(50):
        action = "DisableRule" if i % 2 == 0 else "EnableRule"
        assert request(s, action, Name="from-file", EventBusName="orders") == {}
    state = msgpack.unpackb((b.workdir / "rules.yaml.state").read_bytes())
    assert state["Version"] == 1
    assert [op["Action"] for op in state["Ops"]] == ["EnableRule"]
    assert request(s, "DisableRule", Name="from-file", EventBusName="orders") == {}
    s.close()
    assert b.stop() == 0
    b.start()
    s = b.client()
    assert request(s, "DescribeRule", Name="from-file", EventBusName="orders")["State"] == "DISABLED"


def test_reloading_under_load_loses_no_accepted_event(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(file_rules(ep, hwm=0))
    s = b.client()
    sub = subscriber(b.ctx, ep)
    sub.setsockopt(__import__("zmq").RCVHWM, 0)
    n = 3000
    for i in range(n // 10):
        s.send(msgpack.packb({"Action": "PutEvents", "Entries": [
            entry(bus="orders", detail={"seq": i * 10 + k}) for k in range(10)]}))
        if i in (50, 150, 250):
            rewrite(b, file_rules(ep, hwm=0) + f"# reload {i}\n")
            b.signal(signal.SIGHUP)
    accepted = 0
    for _ in range(n // 10):
        r = msgpack.unpackb(s.recv())
        accepted += len(r["Entries"]) - r["FailedEntryCount"]
    assert accepted == n
    seqs = [receive(sub)[1]["detail"]["seq"] for _ in range(n)]
    assert seqs == list(range(n))
    wait_log(b, "reloaded", count=1)
