"""Helpers for the zbridged tests: subscribers, rules files, requests."""
import json
import time

import msgpack
import zmq
from zmq.utils.monitor import recv_monitor_message

from conftest import free_port, request  # noqa: F401  (re-exported)


def subscriber(ctx, endpoint, topic=b"", hwm=None):
    """A SUB socket connected to `endpoint`, subscribed to `topic`, and
    known to be connected (so no event published after this is missed).
    `hwm`: its receive high-water mark (0: unbounded), else ZeroMQ's."""
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    if hwm is not None:
        sub.setsockopt(zmq.RCVHWM, hwm)
    sub.setsockopt(zmq.RCVTIMEO, 2000)
    mon = sub.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    mon.setsockopt(zmq.RCVTIMEO, 5000)
    sub.subscribe(topic)
    sub.connect(endpoint)
    ev = recv_monitor_message(mon)
    assert ev["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED
    sub.disable_monitor()
    mon.close()
    # The subscription travels after the handshake; give it a moment.
    time.sleep(0.05)
    return sub


def receive(sub, timeout=2.0):
    """(topic, envelope dict) of the next delivered event."""
    sub.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
    frames = sub.recv_multipart()
    assert len(frames) == 2, frames
    return frames[0], msgpack.unpackb(frames[1], raw=False)


def nothing_more(sub, wait=0.2):
    """True if no further event arrives within `wait` seconds."""
    return not sub.poll(int(wait * 1000))


def entry(source="shop.orders", detail_type="OrderCreated", detail=None, bus=None, **extra):
    e = {"Source": source, "DetailType": detail_type,
         "Detail": detail if detail is not None else {}}
    if bus:
        e["EventBusName"] = bus
    e.update(extra)
    return e


def put_events(sock, *entries, **fields):
    return request(sock, "PutEvents", Entries=list(entries), **fields)


def rules_with_target(endpoint, pattern=None, bus="orders", rule="big-orders", topic=None,
                      state="ENABLED"):
    """A rules file with one bus, one rule and one pub target."""
    pattern = pattern or {"source": ["shop.orders"], "detail": {"amount": [{"numeric": [">", 100]}]}}
    t = f"\n            topic: \"{topic}\"" if topic else ""
    return f"""\
broker:
  listen: {{listen}}
buses:
  - name: default
  - name: {bus}
    rules:
      - name: {rule}
        state: {state}
        event-pattern: '{json.dumps(pattern)}'
        targets:
          - id: t1
            endpoint: {endpoint}{t}
"""


def start_again(b):
    """Starts the stopped broker b again and waits for this run's "ready"
    (its log is appended to, so earlier runs' lines are counted out)."""
    runs = b.log_text().count("ready on")
    b.start(wait=False)
    deadline = time.monotonic() + 10
    while b.log_text().count("ready on") <= runs:
        assert time.monotonic() < deadline and b.proc.poll() is None, b.log_text()
        time.sleep(0.02)
