"""The examples in examples/ run and do what the README says they do.

The producers run against a scripted broker, the subscribers against a
scripted target; both languages must put the same request on the wire and
print the same lines.
"""
import json
import os
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


def sanitize_flags():
    """The build's -fsanitize flags: a program linked against a sanitized
    libzbridge must carry the same runtime."""
    options = json.loads((BUILD / "meson-info" / "intro-buildoptions.json").read_text())
    value = next((o["value"] for o in options if o["name"] == "b_sanitize"), "none")
    return [] if value == "none" else [f"-fsanitize={value}"]


def test_installed_library_builds_the_c_producer_with_pkg_config(tmp_path, scripted_broker):
    """`meson install` ships zbridge.h, libzbridge.so and libzbridge.pc, and
    they are enough to build an example outside the tree."""
    dest = tmp_path / "dest"
    res = subprocess.run(["meson", "install", "-C", str(BUILD), "--no-rebuild", "--quiet",
                          "--destdir", str(dest)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    pcs = list(dest.rglob("libzbridge.pc"))
    assert len(pcs) == 1
    assert list(dest.rglob("zbridge.h")) and list(dest.rglob("zbridge.1"))
    env = dict(os.environ, PKG_CONFIG_PATH=str(pcs[0].parent), PKG_CONFIG_SYSROOT_DIR=str(dest))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libzbridge"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    exe = tmp_path / "producer"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", *sanitize_flags(), "-o", str(exe),
                    str(ROOT / "examples" / "c" / "producer.c"), *flags],
                   check=True, timeout=120)
    libdir = [f[2:] for f in flags if f.startswith("-L")][0]
    res = subprocess.run([str(exe), scripted_broker.endpoint], capture_output=True, text=True,
                         timeout=30, env=dict(os.environ, LD_LIBRARY_PATH=libdir))
    assert res.stdout.splitlines()[0] == "0190a0b0-0000-7000-8000-000000000000"


def test_the_readme_c_snippet_compiles_against_the_library(tmp_path):
    """The README's client-library snippet, wrapped in main(), builds."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Client library"):]
    snippet = section[section.index("```c\n") + 5:section.index("```", section.index("```c\n") + 5)]
    includes = "".join(line + "\n" for line in snippet.splitlines() if line.startswith("#include"))
    body = "".join(line + "\n" for line in snippet.splitlines() if not line.startswith("#include"))
    src = tmp_path / "snippet.c"
    src.write_text("#include <stdio.h>\n#include <stdlib.h>\n" + includes
                   + "int main(void)\n{\n" + body + "return 0;\n}\n")
    res = subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", *sanitize_flags(),
                          f"-I{ROOT / 'client'}", "-o", str(tmp_path / "snippet"), str(src),
                          f"-L{BUILD / 'client'}", "-lzbridge"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
