"""The README's SQL examples, run against the demo database that
scripts/setup.sh makes (rar_demo), so that the README cannot drift from what
rar does.

Every ```sql block of README.md is run with psql in a transaction that is
rolled back (the demo stays as it was), and must not fail unless its shown
output says ERROR. A block followed by a ```text block must print exactly
that text (psql's aligned output, NOTICEs and errors included). An HTML
comment right before a block (invisible on GitHub) changes that:

    <!-- readme: skip REASON -->       not run (another session, another database)
    <!-- readme: mask REGEX -->        what REGEX matches is not compared
                                       (a time left, say)
    <!-- readme: tolerance 0.1 -->     numbers compared within 10% (figures
                                       of a trained model: floating point
                                       differs between CPUs), white space
                                       runs compared as one space

Regenerate the shown outputs with `python3 tests/python/test_readme.py
--print`, which prints each block's actual output.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEMO_DB = os.environ.get("RAR_DEMO_DB", "rar_demo")
MARK = re.compile(r"<!--\s*readme:\s*(\w+)\s*(.*?)\s*-->")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def blocks():
    """(line, sql, expected output or None, marks) of every ```sql block."""
    lines = README.read_text().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() != "```sql":
            i += 1
            continue
        start = i
        marks = {}
        j = start - 1
        while j >= 0 and (lines[j].strip() == "" or MARK.search(lines[j])):
            m = MARK.search(lines[j])
            if m:
                marks[m.group(1)] = m.group(2)
            j -= 1
        end = lines.index("```", start + 1)
        sql = "\n".join(lines[start + 1 : end])
        expected = None
        k = end + 1
        while k < len(lines) and lines[k].strip() == "":
            k += 1
        if k < len(lines) and lines[k].strip() == "```text":
            close = lines.index("```", k + 1)
            expected = "\n".join(lines[k + 1 : close])
        out.append((start + 1, sql, expected, marks))
        i = end + 1
    return out


def run(sql):
    """psql's output of the block, NOTICEs and errors in place."""
    proc = subprocess.run(
        ["psql", "-X", "-q", "-d", DEMO_DB, "-P", "pager=off", "-v", "ON_ERROR_STOP=0"],
        input="BEGIN;\n" + sql + "\nROLLBACK;\n",
        capture_output=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    text = re.sub(r"^psql:<stdin>:\d+: ", "", proc.stdout, flags=re.M)
    return "\n".join(line.rstrip() for line in text.rstrip("\n").split("\n"))


def normalized(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def same_within(expected, actual, tolerance):
    """Lines equal but for numbers within `tolerance` (relative) and white space."""
    e_lines, a_lines = normalized(expected).split("\n"), normalized(actual).split("\n")
    if len(e_lines) != len(a_lines):
        return False
    for e, a in zip(e_lines, a_lines):
        e, a = " ".join(e.split()), " ".join(a.split())
        if NUMBER.sub("#", e) != NUMBER.sub("#", a):
            return False
        for x, y in zip(NUMBER.findall(e), NUMBER.findall(a)):
            x, y = float(x), float(y)
            if abs(x - y) > tolerance * max(abs(x), abs(y), 1e-12):
                return False
    return True


BLOCKS = blocks()


def test_the_readme_has_checked_examples():
    checked = [b for b in BLOCKS if b[2] is not None and "skip" not in b[3]]
    assert len(BLOCKS) >= 20 and len(checked) >= 12, (len(BLOCKS), len(checked))


@pytest.mark.parametrize("line,sql,expected,marks", BLOCKS, ids=[f"README.md:{b[0]}" for b in BLOCKS])
def test_readme_example(line, sql, expected, marks):
    if "skip" in marks:
        pytest.skip(marks["skip"])
    actual = run(sql)
    if "mask" in marks and expected is not None:
        expected = re.sub(marks["mask"], "…", expected)
        actual = re.sub(marks["mask"], "…", actual)
    if expected is None:
        assert "ERROR:" not in actual, f"README.md:{line} fails:\n{actual}"
        return
    if "tolerance" in marks:
        assert same_within(expected, actual, float(marks["tolerance"])), (
            f"README.md:{line} shows\n{expected}\nbut gives\n{actual}"
        )
    else:
        assert normalized(expected) == normalized(actual), f"README.md:{line} shows\n{expected}\nbut gives\n{actual}"


if __name__ == "__main__":
    # --print [LINE ...]: the actual output of every block (or those given).
    only = {int(a) for a in sys.argv[2:]} if len(sys.argv) > 2 else None
    for line, sql, expected, marks in BLOCKS:
        if "skip" in marks or (only and line not in only):
            continue
        print(f"==== README.md:{line} {marks}")
        print(run(sql))
