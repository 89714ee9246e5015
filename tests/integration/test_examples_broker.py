"""The examples against the real zbridged: a producer's events reach a
subscriber through a rule and a pub target, in every pairing of C and
Python."""
import json
import subprocess
import time

import pytest

from conftest import free_port
from test_cli import zbridge
from test_examples import PRODUCERS, SUBSCRIBERS


@pytest.fixture
def shop_target(broker):
    """The default bus with a rule for the shop's orders and a pub target;
    returns (broker endpoint, target endpoint)."""
    target = f"tcp://127.0.0.1:{free_port()}"
    for argv in (["put-rule", "--name", "shop", "--event-pattern",
                  '{"source": ["com.example.shop"], "detail-type": ["OrderPlaced"]}'],
                 ["put-targets", "--rule", "shop", "--targets",
                  json.dumps([{"Id": "1", "Type": "pub", "Endpoint": target}])]):
        res = zbridge(*argv, endpoint=broker.endpoint)
        assert res.returncode == 0, res.stderr
    return broker.endpoint, target


@pytest.mark.parametrize("producer", PRODUCERS)
@pytest.mark.parametrize("subscriber", SUBSCRIBERS)
def test_producer_events_reach_the_subscriber(shop_target, producer, subscriber):
    broker_ep, target = shop_target
    sub = subprocess.Popen(SUBSCRIBERS[subscriber](target, 2), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    # PUB/SUB: run the producer until the subscriber has joined and seen a
    # whole batch (the two events of one run are published back to back).
    while sub.poll() is None and time.monotonic() < deadline:
        res = subprocess.run(PRODUCERS[producer](broker_ep), capture_output=True, text=True,
                             timeout=30)
        assert res.returncode == 0, res.stderr
        assert [len(line) for line in res.stdout.splitlines()] == [36, 36]  # two EventIds
        time.sleep(0.1)
    out, err = sub.communicate(timeout=5)
    assert sub.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    for line in lines:
        topic, source, detail_type, detail = line.split(" ", 3)
        assert (topic, source, detail_type) == ("shop", "com.example.shop", "OrderPlaced")
        assert json.loads(detail)["order"] in (1, 2)
