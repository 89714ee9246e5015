"""The zbridge CLI against the real zbridged: EventBridge's getting-started
flow end to end, then every broker command's happy path and error path."""
import json
import subprocess
import time

import pytest

from conftest import ZBRIDGE, free_port, request
from test_cli import zbridge


class Cli:
    """Runs zbridge against one broker; ok() expects success and returns the
    parsed output, fail() expects a broker error and returns stderr."""

    def __init__(self, broker):
        self.endpoint = broker.endpoint

    def run(self, *args):
        return zbridge(*args, endpoint=self.endpoint)

    def ok(self, *args):
        res = self.run(*args)
        assert res.returncode == 0, f"{args}: {res.stderr}"
        assert res.stderr == ""
        return json.loads(res.stdout) if res.stdout else None

    def fail(self, code, action, *args):
        res = self.run(*args)
        assert res.returncode == 254, f"{args}: {res.returncode} {res.stdout} {res.stderr}"
        prefix = f"\nAn error occurred ({code}) when calling the {action} operation: "
        assert res.stderr.startswith(prefix), res.stderr
        assert res.stdout == ""
        return res.stderr[len(prefix):].rstrip("\n")


@pytest.fixture
def cli(broker):
    return Cli(broker)


ARN = "arn:zbridge:events:local:000000000000"
BIG_ORDERS = '{"source": ["com.example.shop"], "detail": {"total": [{"numeric": [">", 100]}]}}'


def entry(total, bus="orders"):
    return {"Source": "com.example.shop", "DetailType": "OrderPlaced",
            "Detail": json.dumps({"total": total}), "EventBusName": bus}


def test_getting_started_create_bus_rule_targets_put_events_and_tail_receives(cli):
    assert cli.ok("create-event-bus", "--name", "orders") == {
        "EventBusArn": f"{ARN}:event-bus/orders"}
    assert cli.ok("put-rule", "--name", "big-orders", "--event-bus-name", "orders",
                  "--event-pattern", BIG_ORDERS) == {"RuleArn": f"{ARN}:rule/orders/big-orders"}
    target = f"tcp://127.0.0.1:{free_port()}"
    assert cli.ok("put-targets", "--rule", "big-orders", "--event-bus-name", "orders",
                  "--targets", json.dumps([{"Id": "1", "Type": "pub", "Endpoint": target}])) == {
        "FailedEntryCount": 0, "FailedEntries": []}

    tail = subprocess.Popen([str(ZBRIDGE), "tail", "--endpoint", target, "--count", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ids = set()
    deadline = time.monotonic() + 15
    # PUB/SUB: keep putting until tail has subscribed and seen one. The
    # small order never matches, so only big ones can reach tail.
    while tail.poll() is None and time.monotonic() < deadline:
        out = cli.ok("put-events", "--entries", json.dumps([entry(5), entry(250)]))
        assert out["FailedEntryCount"] == 0
        ids.add(out["Entries"][1]["EventId"])
        time.sleep(0.05)
    stdout, stderr = tail.communicate(timeout=5)
    assert tail.returncode == 0, stderr
    (line,) = stdout.splitlines()
    event = json.loads(line)
    assert event["id"] in ids
    assert event["source"] == "com.example.shop"
    assert event["detail-type"] == "OrderPlaced"
    assert event["detail"] == {"total": 250}
    assert event["account"] == "000000000000" and event["region"] == "local"


# ---- event buses -------------------------------------------------------------

def test_create_event_bus_twice_is_resource_already_exists(cli):
    cli.ok("create-event-bus", "--name", "orders", "--description", "Orders")
    msg = cli.fail("ResourceAlreadyExistsException", "CreateEventBus",
                   "create-event-bus", "--name", "orders")
    assert msg == "Event bus orders already exists."


def test_describe_and_list_event_buses(cli):
    cli.ok("create-event-bus", "--name", "orders", "--description", "Orders")
    assert cli.ok("describe-event-bus") == {"Name": "default", "Arn": f"{ARN}:event-bus/default"}
    assert cli.ok("describe-event-bus", "--name", "orders") == {
        "Name": "orders", "Arn": f"{ARN}:event-bus/orders", "Description": "Orders"}
    names = [b["Name"] for b in cli.ok("list-event-buses")["EventBuses"]]
    assert sorted(names) == ["default", "orders"]
    assert [b["Name"] for b in cli.ok("list-event-buses", "--name-prefix", "or")["EventBuses"]] == ["orders"]


def test_describe_unknown_bus_is_resource_not_found(cli):
    msg = cli.fail("ResourceNotFoundException", "DescribeEventBus",
                   "describe-event-bus", "--name", "nope")
    assert msg == "Event bus nope does not exist."


def test_list_event_buses_with_a_bad_limit_is_a_validation_error(cli):
    cli.fail("ValidationException", "ListEventBuses", "list-event-buses", "--limit", "0")


def test_delete_event_bus_then_it_is_gone(cli):
    cli.ok("create-event-bus", "--name", "orders")
    assert cli.ok("delete-event-bus", "--name", "orders") is None
    cli.fail("ResourceNotFoundException", "DescribeEventBus", "describe-event-bus", "--name", "orders")
    cli.fail("ResourceNotFoundException", "DeleteEventBus", "delete-event-bus", "--name", "orders")


def test_delete_default_bus_is_refused(cli):
    msg = cli.fail("ValidationException", "DeleteEventBus", "delete-event-bus", "--name", "default")
    assert msg == "Cannot delete event bus default."


# ---- rules ---------------------------------------------------------------------

def test_put_describe_list_enable_disable_rule(cli):
    cli.ok("put-rule", "--name", "big", "--event-pattern", BIG_ORDERS, "--description", "d")
    rule = cli.ok("describe-rule", "--name", "big")
    assert rule["Name"] == "big" and rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"]) == json.loads(BIG_ORDERS)
    assert rule["EventBusName"] == "default" and rule["Arn"] == f"{ARN}:rule/default/big"
    cli.ok("put-rule", "--name", "small", "--event-pattern", '{"source": ["x"]}')
    assert [r["Name"] for r in cli.ok("list-rules", "--name-prefix", "b")["Rules"]] == ["big"]
    assert sorted(r["Name"] for r in cli.ok("list-rules")["Rules"]) == ["big", "small"]
    assert cli.ok("disable-rule", "--name", "big") is None
    assert cli.ok("describe-rule", "--name", "big")["State"] == "DISABLED"
    assert cli.ok("enable-rule", "--name", "big") is None
    assert cli.ok("describe-rule", "--name", "big")["State"] == "ENABLED"


def test_put_rule_with_an_invalid_pattern_is_invalid_event_pattern(cli):
    msg = cli.fail("InvalidEventPatternException", "PutRule",
                   "put-rule", "--name", "r", "--event-pattern", '{"source": []}')
    assert msg.startswith("Event pattern is not valid.")


def test_put_rule_on_an_unknown_bus_is_resource_not_found(cli):
    cli.fail("ResourceNotFoundException", "PutRule", "put-rule", "--name", "r",
             "--event-bus-name", "nope", "--event-pattern", '{"source": ["x"]}')


@pytest.mark.parametrize("command,action", [
    ("describe-rule", "DescribeRule"), ("delete-rule", "DeleteRule"),
    ("enable-rule", "EnableRule"), ("disable-rule", "DisableRule")])
def test_rule_commands_on_an_unknown_rule_are_resource_not_found(cli, command, action):
    msg = cli.fail("ResourceNotFoundException", action, command, "--name", "nope")
    assert msg == "Rule nope does not exist on EventBus default."


def test_list_rules_shows_every_rule_across_pages(broker, cli):
    sock = broker.client()
    for i in range(130):  # the broker's pages hold 100
        assert request(sock, "PutRule", Name=f"r{i:03}", EventPattern='{"source": ["x"]}') == {
            "RuleArn": f"{ARN}:rule/default/r{i:03}"}
    names = [r["Name"] for r in cli.ok("list-rules")["Rules"]]
    assert sorted(names) == [f"r{i:03}" for i in range(130)]
    page = cli.ok("list-rules", "--limit", "100")
    assert len(page["Rules"]) == 100 and "NextToken" in page


def test_list_rules_on_an_unknown_bus_is_resource_not_found(cli):
    cli.fail("ResourceNotFoundException", "ListRules", "list-rules", "--event-bus-name", "nope")


def test_delete_rule_with_targets_needs_force(cli):
    cli.ok("put-rule", "--name", "r", "--event-pattern", '{"source": ["x"]}')
    cli.ok("put-targets", "--rule", "r", "--targets",
           json.dumps([{"Id": "t", "Endpoint": f"tcp://127.0.0.1:{free_port()}"}]))
    msg = cli.fail("ValidationException", "DeleteRule", "delete-rule", "--name", "r")
    assert msg == "Rule can't be deleted since it has targets."
    assert cli.ok("delete-rule", "--name", "r", "--force") is None
    cli.fail("ResourceNotFoundException", "DescribeRule", "describe-rule", "--name", "r")


# ---- targets ---------------------------------------------------------------------

def test_put_list_and_remove_targets(cli):
    cli.ok("put-rule", "--name", "r", "--event-pattern", '{"source": ["x"]}')
    ep1, ep2 = (f"tcp://127.0.0.1:{free_port()}" for _ in range(2))
    cli.ok("put-targets", "--rule", "r", "--targets",
           json.dumps([{"Id": "a", "Type": "pub", "Endpoint": ep1},
                       {"Id": "b", "Type": "pub", "Endpoint": ep2, "Topic": "orders.{rule}"}]))
    targets = {t["Id"]: t for t in cli.ok("list-targets-by-rule", "--rule", "r")["Targets"]}
    assert set(targets) == {"a", "b"}
    assert targets["b"]["Endpoint"] == ep2 and targets["b"]["Topic"] == "orders.{rule}"
    assert cli.ok("remove-targets", "--rule", "r", "--ids", "a") == {
        "FailedEntryCount": 0, "FailedEntries": []}
    assert [t["Id"] for t in cli.ok("list-targets-by-rule", "--rule", "r")["Targets"]] == ["b"]


def test_put_targets_with_a_bad_endpoint_reports_a_failed_entry(cli):
    cli.ok("put-rule", "--name", "r", "--event-pattern", '{"source": ["x"]}')
    out = cli.ok("put-targets", "--rule", "r", "--targets",
                 json.dumps([{"Id": "a", "Type": "pub", "Endpoint": "nonsense"}]))
    assert out["FailedEntryCount"] == 1
    assert out["FailedEntries"][0]["TargetId"] == "a"


@pytest.mark.parametrize("argv,action", [
    (["put-targets", "--rule", "nope", "--targets", '[{"Id": "a", "Endpoint": "ipc://x"}]'],
     "PutTargets"),
    (["remove-targets", "--rule", "nope", "--ids", "a"], "RemoveTargets"),
    (["list-targets-by-rule", "--rule", "nope"], "ListTargetsByRule"),
])
def test_target_commands_on_an_unknown_rule_are_resource_not_found(cli, argv, action):
    cli.fail("ResourceNotFoundException", action, *argv)


# ---- events and metrics ----------------------------------------------------------

def test_put_events_reports_per_entry_results_and_exits_0(cli):
    out = cli.ok("put-events", "--entries", json.dumps([entry(1, bus="default"), entry(2, bus="nope")]))
    assert out["FailedEntryCount"] == 1
    assert len(out["Entries"][0]["EventId"]) == 36
    assert out["Entries"][1] == {"ErrorCode": "ResourceNotFoundException",
                                 "ErrorMessage": "Event bus nope does not exist."}


def test_put_events_with_too_many_entries_is_a_validation_error(cli):
    cli.fail("ValidationException", "PutEvents", "put-events", "--entries",
             json.dumps([entry(i, bus="default") for i in range(11)]))


def test_get_metrics_counts_put_events(cli):
    cli.ok("put-events", "--entries", json.dumps([entry(1, bus="default")]))
    metrics = cli.ok("get-metrics")
    assert metrics["ProtocolVersion"] == 1
    assert metrics["PutEventsEntriesCount"] >= 1


def test_get_metrics_against_a_stopped_broker_fails_fast(broker):
    broker.stop()
    res = zbridge("get-metrics", "--cli-connect-timeout", "0.5", endpoint=broker.endpoint)
    assert res.returncode == 255
    assert "Could not connect to the endpoint URL" in res.stderr


def test_list_targets_by_rule_follows_next_token(cli):
    cli.ok("put-rule", "--name", "paged", "--event-pattern", '{"source": ["x"]}')
    for i in range(3):  # 100 KB topics: two targets fill a page
        cli.ok("put-targets", "--rule", "paged", "--targets", json.dumps(
            [{"Id": f"t{i}", "Endpoint": "inproc://paged", "Topic": str(i) * 100000}]))
    out = cli.ok("list-targets-by-rule", "--rule", "paged")
    assert [t["Id"] for t in out["Targets"]] == ["t0", "t1", "t2"]
    out = cli.ok("list-targets-by-rule", "--rule", "paged", "--limit", "1")
    assert [t["Id"] for t in out["Targets"]] == ["t0"] and out["NextToken"] == "1"
