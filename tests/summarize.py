#!/usr/bin/python3
"""summarize.py [--runner-failures N] JUNIT_XML... — one line: "N passed, N failed, N skipped".

Sums every <testcase> of the JUnit files given (meson's testlog.junit.xml,
where each TAP line is a test case, and pytest's --junitxml). Missing files
are skipped with a note, so a suite that did not run shows as fewer tests,
never as a crash of the summary. --runner-failures N counts N more failures:
runners that exited non-zero while their logs show no failing case (a crash
between TAP lines, a build step that broke). Exit status: 1 if anything failed.
"""
import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(args):
    totals = [0, 0, 0]
    if args[:1] == ["--runner-failures"]:
        totals[1] = int(args[1])
        args = args[2:]
    paths = args
    for path in paths:
        try:
            got = count(path)
        except FileNotFoundError:
            print(f"summarize: {path}: not found (suite did not run)", file=sys.stderr)
            continue
        except ET.ParseError as exc:
            print(f"summarize: {path}: {exc}", file=sys.stderr)
            totals[1] += 1
            continue
        totals = [a + b for a, b in zip(totals, got)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
