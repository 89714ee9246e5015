"""The state file is folded as changes are saved: it stays as small as the
objects the API made or changed, however many requests it took, and a
restart (which replays it) rebuilds exactly what was served before."""
import random

import msgpack

from broker_util import request, start_again
from conftest import Broker

RULES_WITH_FILE_OBJECTS = """\
broker:
  listen: {listen}
buses:
  - name: default
    rules:
      - name: r1
        event-pattern: {source: [file]}
        targets:
          - id: t1
            endpoint: ipc://{dir}/file-t1
  - name: b2
    description: from the file
    rules:
      - name: r2
        description: file rule
        state: DISABLED
        event-pattern: {source: [file2]}
        targets:
          - id: t2
            endpoint: ipc://{dir}/file-t2
            topic: "{bus}"
"""


def with_file_objects(workdir):
    """A broker on RULES_WITH_FILE_OBJECTS in workdir, started."""
    workdir.mkdir(exist_ok=True)
    return Broker(workdir, RULES_WITH_FILE_OBJECTS.replace("{dir}", str(workdir))).start()


def state_path(b):
    return b.workdir / "rules.yaml.state"


def saved(b):
    p = state_path(b)
    return msgpack.unpackb(p.read_bytes())["Ops"] if p.exists() else []


def restart(b):
    """Stops b and starts it again."""
    assert b.stop() == 0
    start_again(b)


def pages(s, action, key, **fields):
    items, token = [], None
    while True:
        extra = {"NextToken": token} if token else {}
        r = request(s, action, **fields, **extra)
        assert "Error" not in r, r
        items += r[key]
        token = r.get("NextToken")
        if not token:
            return items


def snapshot(s):
    """Every bus, rule and target the broker serves, in a canonical order."""
    out = []
    for bus in sorted(pages(s, "ListEventBuses", "EventBuses"), key=lambda x: x["Name"]):
        out.append(("bus", bus["Name"], bus.get("Description")))
        rules = pages(s, "ListRules", "Rules", EventBusName=bus["Name"])
        for rule in sorted(rules, key=lambda x: x["Name"]):
            out.append(("rule", bus["Name"], rule["Name"], rule["EventPattern"], rule["State"],
                        rule.get("Description")))
            targets = pages(s, "ListTargetsByRule", "Targets", Rule=rule["Name"],
                            EventBusName=bus["Name"])
            for t in sorted(targets, key=lambda x: x["Id"]):
                out.append(("target", bus["Name"], rule["Name"], tuple(sorted(t.items()))))
    return out


def test_a_rule_put_again_and_again_is_saved_once(broker_factory):
    b = broker_factory()
    s = b.client()
    for i in range(5000):
        pattern = '{"source": ["%s"]}' % ("x" if i % 2 else "y")
        assert "RuleArn" in request(s, "PutRule", Name="r", EventPattern=pattern, RequestId=i)
    # Unfolded, 5,000 requests of some 60 bytes each.
    assert state_path(b).stat().st_size < 200
    assert [op["EventPattern"] for op in saved(b)] == ['{"source": ["x"]}']
    restart(b)
    s = b.client()
    assert request(s, "DescribeRule", Name="r")["EventPattern"] == '{"source": ["x"]}'


def test_the_byte_cap_bounds_the_folded_changes(broker_factory):
    b = broker_factory("broker:\n  listen: {listen}\n  limits:\n    max-state-bytes: 4096\n"
                       "buses:\n  - name: default\n")
    s = b.client()
    for i in range(50):
        pattern = '{"source": ["%s"]}' % (str(i % 2) * 1000)
        assert "RuleArn" in request(s, "PutRule", Name="r", EventPattern=pattern), i
    assert state_path(b).stat().st_size < 4096
    # The cap still holds what the folded changes cannot fit.
    r = request(s, "PutRule", Name="r2", EventPattern='{"source": ["%s"]}' % ("z" * 3000))
    assert r["Error"]["Code"] == "LimitExceededException"


def test_toggling_rules_keeps_one_state_per_rule(tmp_path):
    b = with_file_objects(tmp_path)
    try:
        s_toggling(b)
    finally:
        b.stop()


def s_toggling(b):
    s = b.client()
    request(s, "PutRule", Name="api", EventPattern='{"source": ["a"]}')
    for i in range(1000):
        for name, bus in (("api", "default"), ("r1", "default"), ("r2", "b2")):
            assert request(s, "DisableRule" if i % 2 else "EnableRule", Name=name,
                           EventBusName=bus) == {}
    assert state_path(b).stat().st_size < 400
    assert len(saved(b)) == 3  # PutRule api (with its State), and one toggle per file rule
    before = snapshot(s)
    assert [x[4] for x in before if x[0] == "rule"] == ["DISABLED"] * 3
    restart(b)
    assert snapshot(b.client()) == before


def test_creating_and_deleting_again_and_again_keeps_one_delete(broker_factory):
    b = broker_factory()
    s = b.client()
    for i in range(300):
        ep = f"ipc://{b.workdir}/t{i}"  # a fresh one: a closed socket may hold its name a moment
        assert "EventBusArn" in request(s, "CreateEventBus", Name="tmp")
        assert "RuleArn" in request(s, "PutRule", Name="r", EventBusName="tmp",
                                    EventPattern='{"source": ["a"]}')
        assert "RuleArn" in request(s, "PutRule", Name="r", EventPattern='{"source": ["a"]}',
                                    Description=f"round {i}")
        assert request(s, "PutTargets", Rule="r", Targets=[
            {"Id": "t", "Endpoint": ep}])["FailedEntryCount"] == 0
        assert request(s, "RemoveTargets", Rule="r", Ids=["t"])["FailedEntryCount"] == 0
        assert request(s, "DeleteRule", Name="r") == {}
        assert request(s, "DeleteEventBus", Name="tmp") == {}
    # Unfolded: 2,100 requests. Folded: the two deletes (they may delete
    # what a rules file defines, so they stay).
    assert [(op["Action"], op["Name"]) for op in saved(b)] == [
        ("DeleteRule", "r"), ("DeleteEventBus", "tmp")]
    assert state_path(b).stat().st_size < 200
    before = snapshot(s)
    restart(b)
    assert snapshot(b.client()) == before


def test_changes_to_the_rules_files_rules_survive_a_restart(tmp_path):
    b = with_file_objects(tmp_path)
    try:
        s = b.client()
        # A toggle, then a PutRule without State: the toggle must stay.
        assert request(s, "DisableRule", Name="r1") == {}
        assert "RuleArn" in request(s, "PutRule", Name="r1", EventPattern='{"source": ["a"]}')
        # The file's target removed, then the rule deleted without Force:
        # saved with the delete alone, the delete must still apply.
        assert request(s, "RemoveTargets", Rule="r2", EventBusName="b2",
                       Ids=["t2"])["FailedEntryCount"] == 0
        assert request(s, "DeleteRule", Name="r2", EventBusName="b2") == {}
        before = snapshot(s)
        assert ("rule", "default", "r1", '{"source": ["a"]}', "DISABLED", None) in before
        assert not [x for x in before if x[0] == "rule" and x[2] == "r2"]
        restart(b)
        assert snapshot(b.client()) == before
    finally:
        b.stop()


def random_request(rnd, workdir, i):
    bus = rnd.choice(["default", "b1", "b2", "b3"])
    rule = rnd.choice(["r1", "r2", "r3"])
    if rnd.random() < 0.5:  # the rules file's own rules, half the time
        bus, rule = rnd.choice([("default", "r1"), ("b2", "r2")])
    how = rnd.randrange(3)
    busf = {} if bus == "default" and how == 0 else {
        "EventBusName": f"arn:zbridge:events:local:000000000000:event-bus/{bus}" if how == 1
        else bus}
    kind = rnd.randrange(20)
    if kind == 0:
        return "CreateEventBus", {"Name": bus}
    if kind == 1:
        return "DeleteEventBus", {"Name": bus}
    if kind <= 7:
        f = {"Name": rule, "RequestId": i, **busf}
        if rnd.random() < 0.75:
            f["EventPattern"] = '{"source": ["%s"]}' % rnd.choice("abc")
        if rnd.random() < 0.33:
            f["Description"] = "d%d" % rnd.randrange(3)
        if rnd.random() < 0.33:
            f["State"] = rnd.choice(["ENABLED", "DISABLED"])
        return "PutRule", f
    if kind <= 9:
        f = {"Name": rule, **busf}
        if rnd.random() < 0.5:
            f["Force"] = True
        return "DeleteRule", f
    if kind <= 12:
        return rnd.choice(["EnableRule", "DisableRule"]), {"Name": rule, **busf}
    if kind <= 17:
        targets = []
        for _ in range(rnd.randrange(1, 4)):
            t = {"Id": rnd.choice(["t1", "t2", "t3"]), "Topic": "x%d" % rnd.randrange(3),
                 "Endpoint": rnd.choice([f"ipc://{workdir}/e1", f"ipc://{workdir}/e2",
                                         f"ipc://{workdir}/e3", "bogus://nope"])}
            targets.append(t)
        return "PutTargets", {"Rule": rule, "Targets": targets, **busf}
    return "RemoveTargets", {"Rule": rule, "Ids": rnd.sample(["t1", "t2", "t3"],
                                                             rnd.randrange(1, 3)), **busf}


def test_a_restart_rebuilds_what_random_changes_made(tmp_path):
    for seed in range(1, 31):
        b = with_file_objects(tmp_path / f"seed{seed}")
        try:
            s_random_changes_then_restart(b, random.Random(seed))
        finally:
            b.stop()


def s_random_changes_then_restart(b, rnd):
    s = b.client()
    # Short runs too: the last changes to an object are the ones nothing
    # overrides, where a wrong fold shows.
    for i in range(rnd.randrange(10, 300)):
        action, fields = random_request(rnd, b.workdir, i)
        request(s, action, **fields)
    before = snapshot(s)
    # 4 buses (create, delete), 12 (bus, rule) pairs (delete, PutRule, a
    # toggle, one request per target id): far below the requests applied.
    assert len(saved(b)) <= 4 * 2 + 12 * (3 + 3)
    s.close()
    restart(b)
    assert snapshot(b.client()) == before
