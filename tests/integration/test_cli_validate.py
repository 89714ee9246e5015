"""zbridge validate checks a rules file exactly as zbridged does: same
verdict, same messages, since both run the broker's config loader."""
import subprocess

import pytest

from conftest import ROOT, ZBRIDGE, ZBRIDGED


def validate(path):
    return subprocess.run([str(ZBRIDGE), "validate", str(path)], capture_output=True,
                          text=True, timeout=20)


def broker_check(path):
    return subprocess.run([str(ZBRIDGED), "--check", "--config", str(path)],
                          capture_output=True, text=True, timeout=20)


def test_the_repository_rules_file_is_valid():
    res = validate(ROOT / "rules.yaml")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"{ROOT / 'rules.yaml'}: OK (")
    assert res.stderr == ""


BAD_FILES = {
    "invalid_yaml": "broker:\n  listen: [unclosed\n",
    "bad_endpoint_and_names": (
        "broker:\n  listen: nope\nbuses:\n  - name: \"bad name\"\n    rules:\n"
        "      - name: r\n        event-pattern: {\"source\": []}\n"),
    "pattern_not_json": (
        "buses:\n  - name: default\n    rules:\n      - name: r\n"
        "        event-pattern: '{\"source\": [\"a\",]}'\n"),
    "not_a_mapping": "- just\n- a list\n",
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_an_invalid_file_gets_the_brokers_verdict_and_messages(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(BAD_FILES[name])
    ours, theirs = validate(path), broker_check(path)
    assert ours.returncode == 1
    assert theirs.returncode == 1
    assert ours.stderr == theirs.stderr
    assert ours.stderr.startswith(f"{path}:")
    assert ours.stdout == ""


def test_a_missing_file_is_reported_with_its_path(tmp_path):
    res = validate(tmp_path / "nope.yaml")
    assert res.returncode == 1
    assert "nope.yaml" in res.stderr


def test_validate_without_a_file_is_a_usage_error():
    res = subprocess.run([str(ZBRIDGE), "validate"], capture_output=True, text=True, timeout=20)
    assert res.returncode == 252
    assert "the following arguments are required: FILE" in res.stderr
