"""The rules file: schema, YAML 1.2 scalars, and errors that name file:line:col."""
import json
import subprocess

import pytest

from broker_util import entry, free_port, nothing_more, put_events, receive, request, subscriber
from conftest import ROOT, ZBRIDGED


def check(tmp_path, text):
    f = tmp_path / "rules.yaml"
    f.write_text(text)
    res = subprocess.run([str(ZBRIDGED), "--check", "--config", str(f)],
                         capture_output=True, text=True, timeout=10)
    return res.returncode, res.stdout + res.stderr, str(f)


def test_check_accepts_the_repository_rules_file():
    res = subprocess.run([str(ZBRIDGED), "--check", "--config", str(ROOT / "rules.yaml")],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    assert "OK" in res.stdout


BAD = """\
broker:
  listen: tcp://127.0.0.1:7400
  colour: blue
buses:
  - name: orders
    rules:
      - name: r1
        event-pattern:
          source: []
        targets:
          - id: t1
            endpoint: tcp://127.0.0.1:99999
          - id: t1
            endpoint: carrier://pigeon
      - name: r1
        state: enabled
        event-pattern: '{"source": ["a"]}'
        tragets: []
  - name: orders
"""


@pytest.mark.parametrize("where, what", [
    ("3:3", "unknown key 'colour'"),
    ("9:19", "rule r1: Event pattern is not valid. Reason: Empty arrays are not allowed"),
    ("12:23", "bad endpoint 'tcp://127.0.0.1:99999': port must be 1 to 65535"),
    ("13:13", "duplicate target id 't1' in rule r1"),
    ("14:23", "bad endpoint 'carrier://pigeon'"),
    ("15:9", "duplicate rule name 'r1' on bus orders"),
    ("16:16", "state must be ENABLED or DISABLED, not 'enabled'"),
    ("18:9", "unknown key 'tragets'"),
    ("19:5", "duplicate bus name 'orders'"),
], ids=["unknown-key", "invalid-pattern", "bad-port", "duplicate-target", "bad-scheme",
        "duplicate-rule", "bad-state", "misspelt-key", "duplicate-bus"])
def test_every_error_names_file_line_and_column(tmp_path, where, what):
    rc, out, path = check(tmp_path, BAD)
    assert rc == 1
    lines = [ln for ln in out.splitlines() if ln.startswith(f"{path}:{where}: ")]
    assert lines and what in lines[0], out


def test_duplicate_keys_in_a_yaml_pattern_are_refused(tmp_path):
    rc, out, path = check(tmp_path, "buses:\n  - name: b\n    rules:\n      - name: r\n"
                                    "        event-pattern:\n          source: [a]\n"
                                    "          source: [b]\n")
    assert rc == 1 and f"{path}:7:11: event pattern: duplicate key 'source'" in out, out


def test_targets_sharing_an_endpoint_must_agree_on_the_high_water_mark(tmp_path):
    rc, out, path = check(tmp_path, "buses:\n  - name: b\n    rules:\n      - name: r\n"
                                    "        event-pattern: {source: [a]}\n        targets:\n"
                                    "          - {id: t1, endpoint: 'inproc://x', high-water-mark: 5}\n"
                                    "          - {id: t2, endpoint: 'inproc://x'}\n")
    assert rc == 1 and f"{path}:8:13: target t2: high-water-mark 256 differs from 5" in out, out


def test_invalid_yaml_names_line_and_column(tmp_path):
    rc, out, path = check(tmp_path, "buses:\n  - name: a\n   bad: [\n")
    assert rc == 1 and f"{path}:3:" in out and "invalid YAML" in out


def test_the_broker_refuses_to_start_on_an_invalid_file(tmp_path):
    f = tmp_path / "rules.yaml"
    f.write_text(BAD)
    res = subprocess.run([str(ZBRIDGED), "--config", str(f)], capture_output=True, text=True,
                         timeout=10)
    assert res.returncode == 1 and f"{f}:9:19:" in res.stderr


def test_plain_scalars_follow_the_yaml_1_2_core_schema(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(f"""\
broker:
  listen: {{listen}}
buses:
  - name: default
    rules:
      - name: r
        event-pattern:
          detail:
            answer: [yes, on, no, 'true', 0x1F, 1e2, ~, .5]
        targets:
          - id: t
            endpoint: {ep}
""")
    sock = b.client()
    d = request(sock, "DescribeRule", Name="r")
    assert json.loads(d["EventPattern"]) == {
        "detail": {"answer": ["yes", "on", "no", "true", 31, 100, None, 0.5]}}
    sub = subscriber(b.ctx, ep)
    put_events(sock, entry(detail={"answer": "on"}), entry(detail={"answer": True}),
               entry(detail={"answer": 31}))
    assert receive(sub)[1]["detail"] == {"answer": "on"}
    assert receive(sub)[1]["detail"] == {"answer": 31}
    assert nothing_more(sub)


def test_pattern_as_json_string_topic_template_and_disabled_rules(broker_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    b = broker_factory(f"""\
broker:
  listen: {{listen}}
  account: "123456789012"
  region: eu-west-1
buses:
  - name: orders
    rules:
      - name: big
        event-pattern: '{{"detail": {{"amount": [{{"numeric": [">", 100]}}]}}}}'
        targets:
          - id: t
            endpoint: {ep}
            topic: "{{bus}}.{{rule}}.{{target}}.{{source}}.{{detail-type}}"
      - name: off
        state: DISABLED
        event-pattern: {{source: [shop.orders]}}
        targets:
          - id: t
            endpoint: {ep}
""")
    sock = b.client()
    sub = subscriber(b.ctx, ep)
    r = put_events(sock, entry(detail={"amount": 500}, bus="orders"))
    assert r["FailedEntryCount"] == 0
    topic, env = receive(sub)
    assert topic == b"orders.big.t.shop.orders.OrderCreated"
    assert env["account"] == "123456789012" and env["region"] == "eu-west-1"
    assert nothing_more(sub)


def _aliases(levels):
    text = ("buses:\n  - name: x\n    rules:\n      - name: r\n        event-pattern:\n"
            "          a0: &a0 [" + ",".join(['"x"'] * 10) + "]\n")
    for i in range(1, levels):
        text += f"          a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n"
    return text


@pytest.mark.parametrize("text, what", [
    ("broker: " + "[" * 100000 + "\n", "1:265: collections nest deeper than 256 levels"),
    ("broker:\n" + "".join(f"  k{i}: 1\n" for i in range(100000)), "broker has more than 64 keys"),
    ("buses:\n" + "".join(f"  - name: b{i}\n" for i in range(100000)),
     "100000 buses; the limit is 100 (max-buses)"),
    (_aliases(12), "event pattern is larger than 262144 bytes as JSON"),
], ids=["deep-flow-nesting", "many-keys", "many-buses", "alias-bomb"])
def test_hostile_files_are_refused_quickly(tmp_path, text, what):
    rc, out, path = check(tmp_path, text)
    assert rc == 1 and what in out, out[:500]
