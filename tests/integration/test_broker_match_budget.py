"""An event whose matching would exceed the matcher's work budget is refused
as that entry's LimitExceededException, naming why; its neighbours in the
request are accepted and delivered, and the broker keeps serving."""
from broker_util import entry, free_port, nothing_more, put_events, receive, request, subscriber


def test_an_event_too_complex_to_match_is_refused_clearly_and_its_neighbours_delivered(broker):
    sock = broker.client()
    ep = f"tcp://127.0.0.1:{free_port()}"
    # Two fields of one rule inside one array: matching must find one element
    # holding both (array consistency).
    r = request(sock, "PutRule", Name="pair",
                EventPattern='{"detail": {"items": {"x": ["1"], "y": ["2"]}}}')
    assert "RuleArn" in r, r
    assert request(sock, "PutTargets", Rule="pair",
                   Targets=[{"Id": "t", "Endpoint": ep}])["FailedEntryCount"] == 0
    sub = subscriber(broker.ctx, ep)

    # 7,000 elements with x and 7,000 with y, never together: every pair
    # would have to be compared.
    hostile = {"items": [{"x": "1"}] * 7000 + [{"y": "2"}] * 7000}
    fine = {"items": [{"x": "1"}, {"x": "1", "y": "2"}]}
    r = put_events(sock, entry(detail=fine), entry(detail=hostile), entry(detail=fine))
    assert r["FailedEntryCount"] == 1, r
    bad = r["Entries"][1]
    assert bad["ErrorCode"] == "LimitExceededException", bad
    assert "too complex to match" in bad["ErrorMessage"], bad
    assert "EventId" in r["Entries"][0] and "EventId" in r["Entries"][2]

    got = [receive(sub)[1]["id"] for _ in range(2)]
    assert got == [r["Entries"][0]["EventId"], r["Entries"][2]["EventId"]]
    assert nothing_more(sub)
    assert "EventBuses" in request(sock, "ListEventBuses")
