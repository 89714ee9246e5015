"""Target plugins: loaded from broker.plugins, behind the same ABI as pub."""
import json
import subprocess
import time

from broker_util import entry, put_events, request
from conftest import BUILD, ZBRIDGED

PLUGIN = BUILD / "plugins" / "zb_target_file.so"


def rules(plugin_path, out):
    return f"""\
broker:
  listen: {{listen}}
  plugins:
    - path: {plugin_path}
      options: {{verbose: "no"}}
buses:
  - name: default
    rules:
      - name: all
        event-pattern: {{source: [shop.orders]}}
        targets:
          - id: audit
            type: file
            endpoint: {out}
"""


def lines(path, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            got = path.read_text().splitlines()
            if len(got) >= n:
                return [json.loads(x) for x in got]
        time.sleep(0.02)
    raise AssertionError(f"{path} has fewer than {n} lines")


def test_a_plugin_kind_receives_events_from_the_file_and_the_api(broker_factory, tmp_path):
    out = tmp_path / "audit.jsonl"
    b = broker_factory(rules(PLUGIN, out))
    assert "target kind 'file' ready" in b.log_text()
    s = b.client()
    api_out = tmp_path / "api.jsonl"
    r = request(s, "PutTargets", Rule="all", Targets=[
        {"Id": "api", "Type": "file", "Endpoint": str(api_out)}])
    assert r["FailedEntryCount"] == 0, r
    r = put_events(s, entry(detail={"amount": 7}), entry(source="other"))
    ev = lines(out, 1)
    assert len(ev) == 1 and ev[0]["detail"] == {"amount": 7}
    assert ev[0]["id"] == r["Entries"][0]["EventId"]
    assert ev[0]["source"] == "shop.orders" and ev[0]["version"] == "0"
    assert lines(api_out, 1)[0]["id"] == ev[0]["id"]
    t = request(s, "ListTargetsByRule", Rule="all")["Targets"]
    assert sorted(x["Type"] for x in t) == ["file", "file"]
    assert b.stop() == 0


def test_a_missing_plugin_names_its_line(tmp_path):
    f = tmp_path / "rules.yaml"
    f.write_text(rules(tmp_path / "nope.so", tmp_path / "x").replace("{listen}",
                                                                      "tcp://127.0.0.1:1"))
    res = subprocess.run([str(ZBRIDGED), "--config", str(f)], capture_output=True, text=True,
                         timeout=10)
    assert res.returncode == 1
    assert f"{f}:4:7: plugin {tmp_path}/nope.so: cannot load" in res.stderr, res.stderr


def test_a_target_type_without_plugins_is_a_config_error(tmp_path):
    f = tmp_path / "rules.yaml"
    f.write_text(rules(PLUGIN, tmp_path / "x").replace(
        f"  plugins:\n    - path: {PLUGIN}\n      options: {{verbose: \"no\"}}\n", ""))
    res = subprocess.run([str(ZBRIDGED), "--check", "--config", str(f)], capture_output=True,
                         text=True, timeout=10)
    assert res.returncode == 1
    assert "unknown target type 'file' (known: pub; broker.plugins add more)" in res.stderr
