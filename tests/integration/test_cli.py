"""The zbridge CLI's contract, against a scripted broker and publisher.

These pin what the CLI itself owns: flags become the right request fields,
replies print as the AWS CLI prints them, errors and exit codes match the
AWS CLI's, nothing hangs. The same flows against the real zbridged live in
test_cli_broker.py.
"""
import json
import os
import subprocess
import threading
import time

import msgpack
import pytest
import zmq

from conftest import ZBRIDGE, free_port


class FakeBroker:
    """A ROUTER on loopback answering each request with respond(request).

    respond returns a dict to send back, or None to stay silent. Every
    decoded request is kept in .requests.
    """

    def __init__(self, respond):
        self.respond = respond
        self.requests = []
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(self.endpoint)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            if not self.sock.poll(20):
                continue
            frames = self.sock.recv_multipart()
            req = msgpack.unpackb(frames[-1], raw=False)
            self.requests.append(req)
            reply = self.respond(req)
            if reply is not None:
                self.sock.send_multipart(frames[:-1] + [msgpack.packb(reply, use_bin_type=True)])

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()
        self.ctx.term()


@pytest.fixture
def fake_broker():
    started = []

    def make(respond=lambda req: {"Echo": req}):
        b = FakeBroker(respond)
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


def zbridge(*args, endpoint=None, env=None, timeout=20):
    """Runs the CLI; returns the CompletedProcess (text mode)."""
    argv = [str(ZBRIDGE), *args]
    if endpoint:
        argv += ["--endpoint", endpoint]
    full_env = dict(os.environ)
    full_env.pop("ZBRIDGE_ENDPOINT", None)
    full_env.update(env or {})
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env)


# ---- requests: flags become EventBridge fields --------------------------------

REQUESTS = [
    (["create-event-bus", "--name", "orders", "--description", "Orders"],
     {"Action": "CreateEventBus", "Name": "orders", "Description": "Orders"}),
    (["delete-event-bus", "--name", "orders"],
     {"Action": "DeleteEventBus", "Name": "orders"}),
    (["describe-event-bus"], {"Action": "DescribeEventBus"}),
    (["describe-event-bus", "--name", "orders"], {"Action": "DescribeEventBus", "Name": "orders"}),
    (["list-event-buses", "--name-prefix", "or", "--limit", "5"],
     {"Action": "ListEventBuses", "NamePrefix": "or", "Limit": 5}),
    (["put-rule", "--name", "big", "--event-bus-name", "orders",
      "--event-pattern", '{"source": ["shop"]}', "--state", "DISABLED", "--description", "d"],
     {"Action": "PutRule", "Name": "big", "EventBusName": "orders",
      "EventPattern": '{"source": ["shop"]}', "State": "DISABLED", "Description": "d"}),
    (["describe-rule", "--name", "big"], {"Action": "DescribeRule", "Name": "big"}),
    (["list-rules", "--event-bus-name", "orders", "--name-prefix", "b"],
     {"Action": "ListRules", "EventBusName": "orders", "NamePrefix": "b"}),
    (["delete-rule", "--name", "big", "--force"],
     {"Action": "DeleteRule", "Name": "big", "Force": True}),
    (["delete-rule", "--name", "big", "--no-force"],
     {"Action": "DeleteRule", "Name": "big", "Force": False}),
    (["enable-rule", "--name", "big", "--event-bus-name", "orders"],
     {"Action": "EnableRule", "Name": "big", "EventBusName": "orders"}),
    (["disable-rule", "--name=big"], {"Action": "DisableRule", "Name": "big"}),
    (["put-targets", "--rule", "big", "--targets",
      '[{"Id": "1", "Type": "pub", "Endpoint": "tcp://127.0.0.1:7501", "HighWaterMark": 10}]'],
     {"Action": "PutTargets", "Rule": "big",
      "Targets": [{"Id": "1", "Type": "pub", "Endpoint": "tcp://127.0.0.1:7501",
                   "HighWaterMark": 10}]}),
    (["remove-targets", "--rule", "big", "--ids", "1", "2"],
     {"Action": "RemoveTargets", "Rule": "big", "Ids": ["1", "2"]}),
    (["remove-targets", "--rule", "big", "--ids", '["1"]'],
     {"Action": "RemoveTargets", "Rule": "big", "Ids": ["1"]}),
    (["list-targets-by-rule", "--rule", "big", "--event-bus-name", "orders"],
     {"Action": "ListTargetsByRule", "Rule": "big", "EventBusName": "orders"}),
    (["put-events", "--entries",
      '[{"Source": "shop", "DetailType": "OrderPlaced", "Detail": "{\\"id\\": 1}"}]'],
     {"Action": "PutEvents", "Entries": [{"Source": "shop", "DetailType": "OrderPlaced",
                                          "Detail": '{"id": 1}'}]}),
    (["get-metrics"], {"Action": "GetMetrics"}),
]


@pytest.mark.parametrize("argv,expected", REQUESTS, ids=[" ".join(a[:1] + a[1:2]) for a, _ in REQUESTS])
def test_flags_become_the_actions_fields(fake_broker, argv, expected):
    b = fake_broker(lambda req: {"Ok": True})
    res = zbridge(*argv, endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    assert b.requests == [expected]


def test_reply_prints_as_json_with_two_space_indent(fake_broker):
    reply = {"EventBuses": [{"Name": "default", "Arn": "arn:zbridge:events:local:0:event-bus/default"}],
             "Empty": [], "Nothing": {}}
    b = fake_broker(lambda req: reply)
    res = zbridge("get-metrics", endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    assert res.stdout == json.dumps(reply, indent=2) + "\n"
    assert res.stderr == ""


def test_reply_strings_with_json_punctuation_and_unicode_print_intact(fake_broker):
    reply = {"Description": 'a {b}, [c]: "d" \\ e\n\tf', "Name": "caf\u00e9 \u2603",
             "Nested": {"x": [1, -2, 3.25, True, False, None, {"y": []}]}}
    b = fake_broker(lambda req: reply)
    res = zbridge("describe-rule", "--name", "r", endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == reply
    assert res.stdout == json.dumps(reply, indent=2, ensure_ascii=False) + "\n"


def test_an_empty_reply_prints_nothing(fake_broker):
    b = fake_broker(lambda req: {})
    res = zbridge("enable-rule", "--name", "r", endpoint=b.endpoint)
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")


def test_broker_error_prints_as_the_aws_cli_and_exits_254(fake_broker):
    b = fake_broker(lambda req: {"Error": {"Code": "ResourceNotFoundException",
                                           "Message": "Rule r does not exist on EventBus default."}})
    res = zbridge("describe-rule", "--name", "r", endpoint=b.endpoint)
    assert res.returncode == 254
    assert res.stdout == ""
    assert res.stderr == ("\nAn error occurred (ResourceNotFoundException) when calling the "
                          "DescribeRule operation: Rule r does not exist on EventBus default.\n")


def test_a_reply_that_is_not_a_map_is_an_error(fake_broker):
    b = fake_broker(lambda req: ["not", "a", "map"])
    res = zbridge("get-metrics", endpoint=b.endpoint)
    assert res.returncode == 255
    assert res.stderr == "\nthe reply to GetMetrics is not a msgpack map\n"


def test_an_error_that_is_not_a_map_is_an_error_not_a_success(fake_broker):
    b = fake_broker(lambda req: {"Error": "boom"})
    res = zbridge("describe-rule", "--name", "r", endpoint=b.endpoint)
    assert res.returncode == 255
    assert res.stdout == ""
    assert res.stderr == "\nthe reply to DescribeRule has an Error that is not a map\n"


def test_put_events_with_failed_entries_exits_0_like_the_aws_cli(fake_broker):
    reply = {"FailedEntryCount": 1,
             "Entries": [{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}]}
    b = fake_broker(lambda req: reply)
    res = zbridge("put-events", "--entries",
                  '[{"Source": "s", "DetailType": "t", "Detail": "nope"}]', endpoint=b.endpoint)
    assert res.returncode == 0
    assert json.loads(res.stdout) == reply


def paged_rules(req):
    """Three rules, two per page; NextToken is the index of the next one."""
    start = int(req.get("NextToken", "0"))
    rules = [{"Name": f"r{i}"} for i in range(3)][start:start + 2]
    reply = {"Rules": rules}
    if start + 2 < 3:
        reply["NextToken"] = str(start + 2)
    return reply


def test_list_commands_fetch_every_page_like_the_aws_cli(fake_broker):
    b = fake_broker(paged_rules)
    res = zbridge("list-rules", "--event-bus-name", "orders", endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"Rules": [{"Name": "r0"}, {"Name": "r1"}, {"Name": "r2"}]}
    assert b.requests == [{"Action": "ListRules", "EventBusName": "orders"},
                          {"Action": "ListRules", "EventBusName": "orders", "NextToken": "2"}]


def test_list_commands_return_one_page_when_paging_by_hand(fake_broker):
    b = fake_broker(paged_rules)
    res = zbridge("list-rules", "--next-token", "0", endpoint=b.endpoint)
    assert json.loads(res.stdout) == {"Rules": [{"Name": "r0"}, {"Name": "r1"}], "NextToken": "2"}
    res = zbridge("list-rules", "--limit", "2", endpoint=b.endpoint)
    assert json.loads(res.stdout)["NextToken"] == "2"
    assert len(b.requests) == 2


def test_a_next_token_that_never_moves_is_an_error_not_a_loop(fake_broker):
    b = fake_broker(lambda req: {"EventBuses": [{"Name": "x"}], "NextToken": "same"})
    res = zbridge("list-event-buses", endpoint=b.endpoint)
    assert res.returncode == 255
    assert "malformed page of ListEventBuses" in res.stderr
    assert len(b.requests) == 2


def test_tokens_that_alternate_on_empty_pages_are_an_error_not_a_loop(fake_broker):
    b = fake_broker(lambda req: {"EventBuses": [],
                                 "NextToken": "b" if req.get("NextToken") == "a" else "a"})
    res = zbridge("list-event-buses", endpoint=b.endpoint, timeout=10)
    assert res.returncode == 255
    assert "malformed page of ListEventBuses" in res.stderr
    assert len(b.requests) == 1


def test_a_broker_paging_without_end_is_cut_off(fake_broker):
    b = fake_broker(lambda req: {"EventBuses": [{"Name": "x"}],
                                 "NextToken": str(int(req.get("NextToken", "0")) + 1)})
    res = zbridge("list-event-buses", endpoint=b.endpoint, timeout=60)
    assert res.returncode == 255
    assert len(b.requests) == 10000


def test_endpoint_comes_from_zbridge_endpoint_when_no_flag(fake_broker):
    b = fake_broker(lambda req: {"Ok": True})
    res = zbridge("get-metrics", env={"ZBRIDGE_ENDPOINT": b.endpoint})
    assert res.returncode == 0, res.stderr
    assert b.requests == [{"Action": "GetMetrics"}]


def test_global_options_may_come_before_the_command(fake_broker):
    b = fake_broker(lambda req: {"Ok": True})
    res = zbridge("--endpoint", b.endpoint, "--cli-read-timeout=5", "describe-rule", "--name", "r")
    assert res.returncode == 0, res.stderr
    assert b.requests == [{"Action": "DescribeRule", "Name": "r"}]


def test_cli_input_json_gives_the_fields_and_flags_override_them(fake_broker, tmp_path):
    b = fake_broker(lambda req: {})
    res = zbridge("put-rule", "--cli-input-json",
                  '{"Name": "r", "EventPattern": "{}", "State": "DISABLED"}',
                  "--state", "ENABLED", endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    (tmp_path / "in.json").write_text('{"Rule": "r", "Targets": [{"Id": "t", "Endpoint": "ipc://x"}]}')
    res = zbridge("put-targets", "--cli-input-json", f"file://{tmp_path}/in.json",
                  endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    assert b.requests == [
        {"Action": "PutRule", "State": "ENABLED", "Name": "r", "EventPattern": "{}"},
        {"Action": "PutTargets", "Rule": "r", "Targets": [{"Id": "t", "Endpoint": "ipc://x"}]}]


def test_cli_input_json_must_be_a_json_object(fake_broker):
    b = fake_broker()
    res = zbridge("put-rule", "--name", "r", "--cli-input-json", "[1]", endpoint=b.endpoint)
    assert res.returncode == 252
    assert "Error parsing parameter '--cli-input-json': expected a JSON object" in res.stderr
    res = zbridge("put-rule", "--name", "r", "--cli-input-json", "{", endpoint=b.endpoint)
    assert res.returncode == 252
    assert "Error parsing parameter '--cli-input-json': Invalid JSON" in res.stderr
    assert b.requests == []


def test_json_and_strings_are_read_from_file_urls(fake_broker, tmp_path):
    b = fake_broker(lambda req: {})
    (tmp_path / "pattern.json").write_text('{"source": ["shop"]}\n')
    (tmp_path / "targets.json").write_text('[{"Id": "t", "Endpoint": "ipc://x"}]')
    res = zbridge("put-rule", "--name", "r", "--event-pattern", f"file://{tmp_path}/pattern.json",
                  endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    res = zbridge("put-targets", "--rule", "r", "--targets", f"file://{tmp_path}/targets.json",
                  endpoint=b.endpoint)
    assert res.returncode == 0, res.stderr
    assert b.requests[0]["EventPattern"] == '{"source": ["shop"]}\n'
    assert b.requests[1]["Targets"] == [{"Id": "t", "Endpoint": "ipc://x"}]


# ---- errors that never reach a broker ----------------------------------------

@pytest.mark.parametrize("argv,flag", [
    (["put-events", "--entries", '[{"Source": "s",}]'], "--entries"),
    (["put-events", "--entries", "not json"], "--entries"),
    (["put-targets", "--rule", "r", "--targets", '[{"Id": 1'], "--targets"),
    (["remove-targets", "--rule", "r", "--ids", '["a", ]'], "--ids"),
])
def test_invalid_json_argument_is_refused_before_sending(fake_broker, argv, flag):
    b = fake_broker()
    res = zbridge(*argv, endpoint=b.endpoint)
    assert res.returncode == 252
    assert f"Error parsing parameter '{flag}': Invalid JSON:" in res.stderr
    assert "JSON received:" in res.stderr
    assert b.requests == []


def test_missing_paramfile_is_a_parameter_error(tmp_path):
    res = zbridge("put-events", "--entries", f"file://{tmp_path}/nope.json")
    assert res.returncode == 252
    assert "Error parsing parameter '--entries': Unable to load paramfile" in res.stderr


@pytest.mark.parametrize("argv,missing", [
    (["create-event-bus"], "--name"),
    (["delete-event-bus"], "--name"),
    (["put-rule", "--event-pattern", "{}"], "--name"),
    (["describe-rule"], "--name"),
    (["delete-rule"], "--name"),
    (["enable-rule"], "--name"),
    (["disable-rule"], "--name"),
    (["put-targets", "--rule", "r"], "--targets"),
    (["remove-targets", "--rule", "r"], "--ids"),
    (["list-targets-by-rule"], "--rule"),
    (["put-events"], "--entries"),
    (["tail"], "--endpoint"),
])
def test_missing_required_argument_is_a_usage_error(argv, missing):
    res = zbridge(*argv)
    assert res.returncode == 252
    assert f"the following arguments are required: {missing}" in res.stderr


def test_unknown_option_and_unknown_command_are_usage_errors():
    res = zbridge("list-rules", "--bogus", "1")
    assert (res.returncode, res.stderr) == (252, "\nUnknown options: --bogus\n")
    res = zbridge("put-bogus")
    assert res.returncode == 252
    assert "invalid choice: 'put-bogus'" in res.stderr


def test_malformed_endpoint_is_a_usage_error():
    res = zbridge("get-metrics", endpoint="localhost:7400")
    assert res.returncode == 252
    assert "Invalid endpoint" in res.stderr


def test_bad_timeout_value_is_a_usage_error():
    res = zbridge("get-metrics", "--cli-read-timeout", "soon")
    assert res.returncode == 252
    assert "--cli-read-timeout" in res.stderr


# ---- no broker, silent broker: errors, never hangs ---------------------------

def test_unreachable_broker_fails_after_the_connect_timeout():
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    res = zbridge("list-event-buses", "--cli-connect-timeout", "0.5", endpoint=endpoint)
    took = time.monotonic() - t0
    assert res.returncode == 255
    assert res.stderr == f'\nCould not connect to the endpoint URL: "{endpoint}"\n'
    assert 0.4 < took < 5


def test_silent_broker_fails_after_the_read_timeout(fake_broker):
    b = fake_broker(lambda req: None)
    t0 = time.monotonic()
    res = zbridge("list-event-buses", "--cli-read-timeout", "0.5", endpoint=b.endpoint)
    took = time.monotonic() - t0
    assert res.returncode == 255
    assert res.stderr == f'\nRead timeout on endpoint URL: "{b.endpoint}"\n'
    assert 0.4 < took < 5
    assert len(b.requests) == 1


# ---- help ----------------------------------------------------------------------

COMMANDS = ["create-event-bus", "delete-event-bus", "describe-event-bus", "list-event-buses",
            "put-rule", "describe-rule", "list-rules", "delete-rule", "enable-rule",
            "disable-rule", "put-targets", "remove-targets", "list-targets-by-rule",
            "put-events", "get-metrics", "tail", "validate"]


def test_top_level_help_lists_every_command():
    res = zbridge("--help")
    assert res.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in res.stdout, name
    assert "--cli-read-timeout" in res.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name):
    res = zbridge(name, "--help")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"{name}\n")
    assert f"usage: zbridge {name}" in res.stdout


# ---- tail ------------------------------------------------------------------------

ENVELOPE = {"version": "0", "id": "0190a0b0-0000-7000-8000-000000000001",
            "detail-type": "OrderPlaced", "source": "shop", "account": "000000000000",
            "time": "2026-01-31T12:00:00Z", "region": "local", "resources": ["arn:a"],
            "detail": {"id": 7, "total": 12.5, "tags": ["x"]}}


class Publisher:
    """A bound PUB socket standing in for a target."""

    def __init__(self):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.PUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.sock.bind(self.endpoint)

    def send_multipart(self, frames):
        self.sock.send_multipart(frames)

    def close(self):
        self.sock.close()
        self.ctx.term()


@pytest.fixture
def publisher():
    pub = Publisher()
    yield pub
    pub.close()


def publish_until_exit(pub, proc, messages, timeout=10):
    """Publishes `messages` ([topic, envelope] pairs) over and over until
    `proc` exits: PUB/SUB has no way to know when tail has subscribed."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for topic, env in messages:
            pub.send_multipart([topic.encode(), msgpack.packb(env, use_bin_type=True)])
        time.sleep(0.05)
    out, err = proc.communicate(timeout=5)
    return proc.returncode, out, err


def test_tail_prints_each_event_as_one_json_line_and_stops_after_count(publisher):
    proc = subprocess.Popen([str(ZBRIDGE), "tail", "--endpoint", publisher.endpoint,
                             "--count", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    rc, out, err = publish_until_exit(publisher, proc, [("rule1", ENVELOPE)])
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert json.loads(line) == ENVELOPE
        assert line == json.dumps(ENVELOPE, separators=(",", ":"))


def test_tail_filters_by_topic_prefix_and_can_show_the_topic(publisher):
    proc = subprocess.Popen([str(ZBRIDGE), "tail", "--endpoint", publisher.endpoint,
                             "--topic", "orders.", "--count", "2", "--with-topic"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    other = dict(ENVELOPE, source="billing")
    rc, out, err = publish_until_exit(publisher, proc, [("billing.x", other),
                                                        ("orders.placed", ENVELOPE)])
    assert rc == 0, err
    for line in out.splitlines():
        assert json.loads(line) == {"topic": "orders.placed", "event": ENVELOPE}


def test_tail_fails_when_no_event_arrives_within_the_read_timeout(publisher):
    res = zbridge("tail", "--endpoint", publisher.endpoint, "--cli-read-timeout", "0.3")
    assert res.returncode == 255
    assert res.stderr == f'\nRead timeout on endpoint URL: "{publisher.endpoint}"\n'


def test_tail_takes_flag_equals_value_forms(publisher):
    res = zbridge("tail", f"--endpoint={publisher.endpoint}", "--cli-read-timeout=0.2")
    assert res.returncode == 255
    assert "Read timeout" in res.stderr


@pytest.mark.parametrize("argv", [["--count", "0"], ["--count", "x"],
                                  ["--cli-read-timeout", "-1"], ["--bogus"], ["--topic"]])
def test_tail_refuses_bad_options(publisher, argv):
    res = zbridge("tail", "--endpoint", publisher.endpoint, *argv)
    assert res.returncode == 252, res.stderr


def test_tail_stops_cleanly_on_sigint(publisher):
    import signal
    proc = subprocess.Popen([str(ZBRIDGE), "tail", "--endpoint", publisher.endpoint],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(5) == 0
