"""A target's ipc:// endpoint can never destroy a file or steal a live socket.

Binding ipc://PATH unlinks whatever is at PATH, and endpoints arrive from any
client through PutTargets, so the broker must refuse paths that hold a file
or a socket somebody still serves (its own request endpoint included).
"""
import zmq

from conftest import request

RULES_ON_IPC = """\
broker:
  listen: ipc://{sock}
buses:
  - name: default
"""


def put_rule_and_target(sock, endpoint):
    r = request(sock, "PutRule", Name="r", EventPattern='{"source": ["x"]}')
    assert "RuleArn" in r, r
    return request(sock, "PutTargets", Rule="r", Targets=[{"Id": "t", "Endpoint": endpoint}])


def test_an_ipc_target_on_an_existing_file_is_refused_and_the_file_kept(broker, tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    sock = broker.client()
    r = put_rule_and_target(sock, f"ipc://{victim}")
    assert r["FailedEntryCount"] == 1, r
    assert "not a socket" in r["FailedEntries"][0]["ErrorMessage"]
    assert victim.read_text() == "keep me"
    assert broker.rules.read_text().startswith("broker:")


def test_an_ipc_target_cannot_take_the_brokers_own_socket(broker_factory, tmp_path):
    path = tmp_path / "zb.sock"
    b = broker_factory(RULES_ON_IPC.replace("{sock}", str(path)))
    b.endpoint = f"ipc://{path}"
    sock = b.client()
    # Same file, different spelling: string comparison alone would let it by.
    r = put_rule_and_target(sock, f"ipc://{tmp_path}//zb.sock")
    assert r["FailedEntryCount"] == 1, r
    assert "another listener" in r["FailedEntries"][0]["ErrorMessage"]
    # The request socket still serves new clients.
    other = b.client(zmq.DEALER)
    assert "EventBuses" in request(other, "ListEventBuses")


def test_a_stale_ipc_socket_file_is_reused(broker, tmp_path):
    stale = tmp_path / "stale.sock"
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.PUB)
    s.bind(f"ipc://{stale}")
    s.close(0)  # libzmq leaves the socket file behind only on crashes; make one
    if not stale.exists():
        import socket as pysock
        u = pysock.socket(pysock.AF_UNIX)
        u.bind(str(stale))
        u.close()
    r = put_rule_and_target(broker.client(), f"ipc://{stale}")
    assert r["FailedEntryCount"] == 0, r
