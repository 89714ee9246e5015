"""Saved API changes and their failure modes: a target that cannot be
restored is reported, and a change that cannot be saved is undone without
losing what was there before."""
import socket

import msgpack

from broker_util import entry, free_port, put_events, receive, request, start_again, subscriber


def test_a_saved_target_that_cannot_be_reopened_is_logged_by_id(broker_factory):
    b = broker_factory()
    s = b.client()
    request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    port = free_port()
    assert request(s, "PutTargets", Rule="r", Targets=[
        {"Id": "kept", "Endpoint": f"tcp://127.0.0.1:{port}"}])["FailedEntryCount"] == 0
    s.close()
    assert b.stop() == 0
    hog = socket.socket()
    try:
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hog.bind(("127.0.0.1", port))
        hog.listen()
        start_again(b)
        log = b.log_text()
        assert "change 2 (PutTargets): target kept of rule r on EventBus default was not " \
               "restored: Target kept: cannot bind" in log, log
    finally:
        hog.close()


def test_an_unsaved_delete_keeps_every_target_bound_and_delivering(broker_factory):
    b = broker_factory()
    s = b.client()
    request(s, "CreateEventBus", Name="keep")
    request(s, "PutRule", Name="r", EventBusName="keep", EventPattern='{"source": ["x"]}')
    eps = [f"tcp://127.0.0.1:{free_port()}" for _ in range(20)]
    assert request(s, "PutTargets", Rule="r", EventBusName="keep", Targets=[
        {"Id": f"t{i}", "Endpoint": e} for i, e in enumerate(eps)])["FailedEntryCount"] == 0
    # The next save fails: its temporary file's name is taken by a directory.
    (b.workdir / "rules.yaml.state.tmp").mkdir()
    for _ in range(3):
        r = request(s, "DeleteEventBus", Name="keep")
        assert "could not be saved" in r["Error"]["Message"]
        targets = request(s, "ListTargetsByRule", Rule="r", EventBusName="keep")["Targets"]
        assert sorted(t["Id"] for t in targets) == sorted(f"t{i}" for i in range(20))
    sub = subscriber(b.ctx, eps[-1])
    assert put_events(s, entry(source="x", bus="keep"))["FailedEntryCount"] == 0
    assert receive(sub)[1]["source"] == "x"
    assert "not restored" not in b.log_text()


def saved_actions(b):
    path = b.workdir / "rules.yaml.state"
    if not path.exists():
        return []
    return [(op["Action"], op.get("Name", op.get("Rule")))
            for op in msgpack.unpackb(path.read_bytes())["Ops"]]


def saved_ops(b):
    path = b.workdir / "rules.yaml.state"
    return msgpack.unpackb(path.read_bytes())["Ops"] if path.exists() else []


def test_repeating_a_change_does_not_grow_the_state_file(broker_factory):
    b = broker_factory()
    s = b.client()
    for i in range(5):
        assert "RuleArn" in request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}',
                                    RequestId=i)
        assert request(s, "DisableRule", Name="r") == {}
        assert request(s, "DisableRule", Name="r", RequestId=i) == {"RequestId": i}
    # Each PutRule above re-enabled nothing (State absent): the rule stays
    # disabled, and the file holds one request that says so.
    assert saved_ops(b) == [{"Action": "PutRule", "Name": "r", "EventPattern": '{"source": ["x"]}',
                             "RequestId": 0, "State": "DISABLED"}]
    # Setting back what an earlier change set is a change: it is saved,
    # folded into the same request.
    request(s, "PutRule", Name="r", EventPattern='{"source": ["y"]}')
    assert saved_ops(b)[0]["EventPattern"] == '{"source": ["y"]}'
    request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    assert saved_actions(b) == [("PutRule", "r")]
    assert saved_ops(b)[0]["EventPattern"] == '{"source": ["x"]}'


def test_targets_requests_that_change_nothing_are_not_saved(broker_factory):
    b = broker_factory()
    s = b.client()
    request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    for _ in range(5):
        assert request(s, "RemoveTargets", Rule="r", Ids=["nope"])["FailedEntryCount"] == 1
        assert request(s, "PutTargets", Rule="r", Targets=[
            {"Id": "t", "Endpoint": "bogus://x"}])["FailedEntryCount"] == 1
    assert saved_actions(b) == [("PutRule", "r")]


def test_the_state_file_has_a_byte_cap(broker_factory):
    b = broker_factory("broker:\n  listen: {listen}\n  limits:\n    max-state-bytes: 4096\n"
                       "buses:\n  - name: default\n")
    s = b.client()
    pattern = '{"source": ["' + "a" * 2500 + '"]}'
    assert "RuleArn" in request(s, "PutRule", Name="r1", EventPattern=pattern)
    r = request(s, "PutRule", Name="r2", EventPattern=pattern)
    assert r["Error"]["Code"] == "LimitExceededException"
    assert "would exceed 4096 bytes (max-state-bytes)" in r["Error"]["Message"]
    assert [x["Name"] for x in request(s, "ListRules")["Rules"]] == ["r1"]
    assert (b.workdir / "rules.yaml.state").stat().st_size < 4096
