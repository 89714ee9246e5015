"""zbridged starts on a rules file, serves its endpoint, and stops cleanly."""
import signal
import subprocess

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


def test_accepts_a_dealer_connection(broker):
    sock = broker.client(zmq.DEALER)
    # A connected peer shows up as a completed TCP handshake: the monitor
    # reports it even before any request is made.
    mon = sock.get_monitor_socket(zmq.EVENT_CONNECTED)
    mon.setsockopt(zmq.RCVTIMEO, 5000)
    from zmq.utils.monitor import recv_monitor_message
    ev = recv_monitor_message(mon)
    assert ev["event"] == zmq.EVENT_CONNECTED
    sock.disable_monitor()
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
