"""Saved API changes and their failure modes: a target that cannot be
restored is reported, and a change that cannot be saved is undone without
losing what was there before."""
import socket
import time

from broker_util import entry, free_port, put_events, receive, request, subscriber


def restart(b):
    """Starts b again and waits for this run's "ready" (the log is appended to)."""
    runs = b.log_text().count("ready on")
    b.start(wait=False)
    deadline = time.monotonic() + 10
    while b.log_text().count("ready on") <= runs:
        assert time.monotonic() < deadline and b.proc.poll() is None, b.log_text()
        time.sleep(0.02)


def test_a_saved_target_that_cannot_be_reopened_is_logged_by_id(broker_factory):
    b = broker_factory()
    s = b.client()
    request(s, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    port = free_port()
    assert request(s, "PutTargets", Rule="r", Targets=[
        {"Id": "kept", "Endpoint": f"tcp://127.0.0.1:{port}"}])["FailedEntryCount"] == 0
    s.close()
    assert b.stop() == 0
    hog = socket.socket()
    try:
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hog.bind(("127.0.0.1", port))
        hog.listen()
        restart(b)
        log = b.log_text()
        assert "change 2 (PutTargets): target kept of rule r on EventBus default was not " \
               "restored: Target kept: cannot bind" in log, log
    finally:
        hog.close()


def test_an_unsaved_delete_keeps_every_target_bound_and_delivering(broker_factory):
    b = broker_factory()
    s = b.client()
    request(s, "CreateEventBus", Name="keep")
    request(s, "PutRule", Name="r", EventBusName="keep", EventPattern='{"source": ["x"]}')
    eps = [f"tcp://127.0.0.1:{free_port()}" for _ in range(20)]
    assert request(s, "PutTargets", Rule="r", EventBusName="keep", Targets=[
        {"Id": f"t{i}", "Endpoint": e} for i, e in enumerate(eps)])["FailedEntryCount"] == 0
    # The next save fails: its temporary file's name is taken by a directory.
    (b.workdir / "rules.yaml.state.tmp").mkdir()
    for _ in range(3):
        r = request(s, "DeleteEventBus", Name="keep")
        assert "could not be saved" in r["Error"]["Message"]
        targets = request(s, "ListTargetsByRule", Rule="r", EventBusName="keep")["Targets"]
        assert sorted(t["Id"] for t in targets) == sorted(f"t{i}" for i in range(20))
    sub = subscriber(b.ctx, eps[-1])
    assert put_events(s, entry(source="x", bus="keep"))["FailedEntryCount"] == 0
    assert receive(sub)[1]["source"] == "x"
    assert "not restored" not in b.log_text()
