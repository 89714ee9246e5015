"""The examples in examples/ run and do what the README says they do.

The producers run against a scripted broker, the subscribers against a
scripted target; both languages must put the same request on the wire and
print the same lines.
"""
import subprocess
import time

import msgpack
import pytest

from conftest import BUILD, ROOT
from test_cli import FakeBroker, Publisher

PYTHON = "/usr/bin/python3"
PRODUCERS = {
    "c": lambda ep: [str(BUILD / "examples" / "producer"), ep],
    "python": lambda ep: [PYTHON, str(ROOT / "examples" / "python" / "producer.py"), ep],
}
SUBSCRIBERS = {
    "c": lambda ep, n: [str(BUILD / "examples" / "subscriber"), ep, str(n)],
    "python": lambda ep, n: [PYTHON, str(ROOT / "examples" / "python" / "subscriber.py"), ep, str(n)],
}

EXPECTED_REQUEST = {
    "Action": "PutEvents",
    "Entries": [
        {"Source": "com.example.shop", "DetailType": "OrderPlaced",
         "Detail": '{"order": 1, "total": 42.5, "country": "NL"}',
         "Resources": ["arn:example:shop:order/1"]},
        {"Source": "com.example.shop", "DetailType": "OrderPlaced",
         "Detail": '{"order": 2, "total": 7, "country": "FR"}'},
    ],
}


def put_events_reply(req):
    """EventIds for good entries; an entry with country FR fails."""
    entries = []
    for i, e in enumerate(req["Entries"]):
        if '"FR"' in e["Detail"]:
            entries.append({"ErrorCode": "InvalidArgument", "ErrorMessage": "no FR today"})
        else:
            entries.append({"EventId": f"0190a0b0-0000-7000-8000-00000000000{i}"})
    return {"FailedEntryCount": sum("ErrorCode" in e for e in entries), "Entries": entries}


@pytest.fixture
def scripted_broker():
    b = FakeBroker(put_events_reply)
    yield b
    b.stop()


@pytest.fixture
def target():
    pub = Publisher()
    yield pub
    pub.close()


@pytest.mark.parametrize("lang", PRODUCERS)
def test_producer_puts_two_events_and_prints_one_line_per_entry(scripted_broker, lang):
    res = subprocess.run(PRODUCERS[lang](scripted_broker.endpoint), capture_output=True,
                         text=True, timeout=30)
    assert scripted_broker.requests == [EXPECTED_REQUEST]
    assert res.stdout.splitlines() == ["0190a0b0-0000-7000-8000-000000000000",
                                       "InvalidArgument: no FR today"]
    assert res.returncode == 1  # one entry failed


@pytest.mark.parametrize("lang", PRODUCERS)
def test_producer_reports_a_broker_error(lang):
    b = FakeBroker(lambda req: {"Error": {"Code": "ValidationException", "Message": "nope"}})
    try:
        res = subprocess.run(PRODUCERS[lang](b.endpoint), capture_output=True, text=True,
                             timeout=30)
    finally:
        b.stop()
    assert res.returncode == 1
    assert "PutEvents failed: ValidationException: nope" in res.stderr


ENVELOPE = {"version": "0", "id": "0190a0b0-0000-7000-8000-000000000001",
            "detail-type": "OrderPlaced", "source": "com.example.shop",
            "account": "000000000000", "time": "2026-01-31T12:00:00Z", "region": "local",
            "resources": [], "detail": {"order": 1, "total": 42.5, "country": "NL"}}


@pytest.mark.parametrize("lang", SUBSCRIBERS)
def test_subscriber_prints_topic_source_detail_type_and_detail(target, lang):
    proc = subprocess.Popen(SUBSCRIBERS[lang](target.endpoint, 2), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while proc.poll() is None and time.monotonic() < deadline:
        target.send_multipart([b"big-orders", msgpack.packb(ENVELOPE)])
        time.sleep(0.05)
    out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, err
    assert out.splitlines() == ['big-orders com.example.shop OrderPlaced '
                                '{"order":1,"total":42.5,"country":"NL"}'] * 2
