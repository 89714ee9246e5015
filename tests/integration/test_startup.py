"""zbridged starts on a rules file, serves its endpoint, and stops cleanly."""
import signal
import subprocess

import msgpack
import zmq

from conftest import ZBRIDGED, ROOT


def test_starts_on_the_repository_rules_file_and_stops_on_sigterm(broker_factory):
    rules = (ROOT / "rules.yaml").read_text()
    rules = rules.replace("tcp://127.0.0.1:7400", "{listen}")
    b = broker_factory(rules)
    assert b.proc.poll() is None
    assert b.stop() == 0


def test_stops_cleanly_on_sigint(broker):
    broker.signal(signal.SIGINT)
    assert broker.proc.wait(10) == 0


def test_answers_a_dealer_and_a_req_client(broker):
    for kind in (zmq.DEALER, zmq.REQ):
        sock = broker.client(kind)
        sock.send(msgpack.packb({"Action": "ListEventBuses"}))
        reply = msgpack.unpackb(sock.recv(), raw=False)
        names = [b["Name"] for b in reply["EventBuses"]]
        assert "default" in names
        sock.close()


def test_refuses_a_missing_rules_file(tmp_path):
    res = subprocess.run([str(ZBRIDGED), "--config", str(tmp_path / "nope.yaml")],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 1
    assert "nope.yaml" in res.stderr


def test_refuses_invalid_yaml_naming_line_and_column(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("broker:\n  listen: [unclosed\n")
    res = subprocess.run([str(ZBRIDGED), "--config", str(bad)],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 1
    assert f"{bad}:3:1" in res.stderr or f"{bad}:2:" in res.stderr, res.stderr
