"""Fixtures that start the real zbridged and talk to it over real sockets.

The binaries come from $ZB_BUILD_DIR (set by scripts/test), else build/.
Each broker gets free loopback ports and its own copy of the rules file in a
temporary directory, so tests never share state and can run in any order.
"""
import os
import pathlib
import signal
import socket
import subprocess
import time

import msgpack
import pytest
import zmq

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("ZB_BUILD_DIR", ROOT / "build"))
ZBRIDGED = BUILD / "broker" / "zbridged"
ZBRIDGE = BUILD / "cli" / "zbridge"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A running zbridged. Stop it with stop(); the fixture does it anyway."""

    def __init__(self, workdir, rules_text, extra_args=()):
        self.workdir = pathlib.Path(workdir)
        self.port = free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.rules = self.workdir / "rules.yaml"
        self.rules.write_text(rules_text.replace("{listen}", self.endpoint))
        self.log = self.workdir / "zbridged.log"
        self.extra_args = list(extra_args)
        self.proc = None
        self.ctx = zmq.Context.instance()

    def start(self, wait=True):
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(ZBRIDGED), "--config", str(self.rules), *self.extra_args],
            cwd=self.workdir, stdout=self._logf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready" in self.log_text():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"zbridged exited {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.02)
        raise AssertionError(f"zbridged not ready after {timeout}s:\n{self.log_text()}")

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10.0):
        """SIGTERM, wait, return the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"zbridged ignored SIGTERM for {timeout}s:\n{self.log_text()}")
        finally:
            self._logf.close()

    def client(self, kind=zmq.DEALER):
        """A connected DEALER (or REQ) socket with a 5 s receive timeout."""
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, 5000)
        sock.connect(self.endpoint)
        return sock


def request(sock, action, **fields):
    """Sends one msgpack request on a DEALER socket and returns the decoded reply."""
    fields["Action"] = action
    sock.send(msgpack.packb(fields, use_bin_type=True))
    return msgpack.unpackb(sock.recv(), raw=False, timestamp=3)


MINIMAL_RULES = """\
broker:
  listen: {listen}
buses:
  - name: default
"""


@pytest.fixture
def broker_factory(tmp_path):
    """broker_factory(rules_text) -> started Broker; all are stopped at teardown."""
    started = []

    def make(rules_text=MINIMAL_RULES, start=True, extra_args=()):
        b = Broker(tmp_path, rules_text, extra_args)
        started.append(b)
        return b.start() if start else b

    yield make
    for b in started:
        b.stop()


@pytest.fixture
def broker(broker_factory):
    return broker_factory()
