"""Every event the broker accepts can be read back by its subscribers: the
envelope adds one level to Detail, so Detail's own depth leaves room for it."""
import json
import subprocess
import time

from broker_util import entry, free_port, put_events, request
from conftest import ZBRIDGE


def nest(levels):
    d = {}
    for _ in range(levels - 1):
        d = {"a": d}
    return d


def test_the_deepest_accepted_detail_reaches_zbridge_tail(broker):
    s = broker.client()
    ep = f"tcp://127.0.0.1:{free_port()}"
    request(s, "PutRule", Name="r", EventPattern='{"source": ["deep"]}')
    assert request(s, "PutTargets", Rule="r",
                   Targets=[{"Id": "t", "Endpoint": ep}])["FailedEntryCount"] == 0
    # The deepest JSON Detail the broker accepts, whatever its limit is.
    deepest = next(n for n in range(70, 0, -1)
                   if put_events(s, entry(detail=json.dumps(nest(n))))["FailedEntryCount"] == 0)
    tail = subprocess.Popen([str(ZBRIDGE), "tail", "--endpoint", ep, "--count", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    # PUB/SUB: keep putting until tail has subscribed and printed one.
    while tail.poll() is None and time.monotonic() < deadline:
        r = put_events(s, entry(source="deep", detail=json.dumps(nest(deepest))))
        assert r["FailedEntryCount"] == 0, r
        time.sleep(0.05)
    stdout, stderr = tail.communicate(timeout=5)
    assert tail.returncode == 0, stderr
    assert json.loads(stdout.decode().splitlines()[0])["detail"] == nest(deepest)


def test_a_detail_one_level_too_deep_is_that_entrys_malformed_detail(broker):
    s = broker.client()
    r = put_events(s, entry(detail=nest(63)), entry(detail=json.dumps(nest(63))), entry())
    assert r["FailedEntryCount"] == 2, r
    assert r["Entries"][0] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert r["Entries"][1] == r["Entries"][0]
    assert "EventId" in r["Entries"][2]
