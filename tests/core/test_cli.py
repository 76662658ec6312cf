"""``python -m screening score``: JSON on success; exit 2 with one stderr line otherwise."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.core import cli

from .support import shared_catalogue

CATALOGUE = shared_catalogue()
AUDIT = CATALOGUE.instrument("audit")
ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FACTS = ["--sex", "female", "--age", "72", "--setting", "home_care"]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, stdout=out, stderr=err, catalogue=CATALOGUE)
    return status, out.getvalue(), err.getvalue()


def assert_rejected(status: int, out: str, err: str) -> str:
    assert status == 2, (status, out, err)
    assert out == ""
    lines = err.split("\n")
    assert len(lines) == 2 and lines[1] == "" and lines[0].strip(), err
    return lines[0]


def test_issue_example() -> None:
    status, out, err = run(["audit", "--answers", "2,1,1,1,0,0,1,1,0,0", *FACTS])
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert list(document) == [
        "instrument", "instrument_version", "rule_set", "rule_set_version", "total",
        "subscores", "zone", "level", "flags", "pathways", "follow_up_weeks",
    ]  # fmt: skip
    assert document["instrument"] == "audit" and document["rule_set"] == "sondre-land"
    assert (document["total"], document["subscores"], document["zone"]) == (7, {"audit_c": 4}, "I")
    assert document["level"] == 2 and document["follow_up_weeks"] == 8
    assert [p["id"] for p in document["pathways"]] == ["elder_care"]
    assert all(set(entry) == {"id", "reason"} for entry in document["flags"] + document["pathways"])


def test_options_medication_rule_set_and_language() -> None:
    argv = ["audit", "--answers", "2,1,1,1,0,0,1,1,0,0", *FACTS, "--medication", "sedatives,fall"]
    status, out, _ = run([*argv, "--rule-set", "sondre-land", "--lang", "en"])
    document = json.loads(out)
    assert status == 0 and [p["id"] for p in document["pathways"]] == ["elder_care", "gp"]
    assert "medication and fall review" in document["pathways"][1]["reason"]
    status, out, _ = run([*argv, "--rule-set", "who-2001"])
    document = json.loads(out)
    assert status == 0 and document["rule_set"] == "who-2001" and document["pathways"] == []


def test_dudit_document() -> None:
    status, out, _ = run(["dudit", "--answers", "0,0,0,0,0,0,0,0,0,1,1", *FACTS])
    document = json.loads(out)
    assert status == 0
    assert set(document) == {
        "instrument", "instrument_version", "rule_set", "rule_set_version", "total",
        "positive", "dependence", "flags", "pathways",
    }  # fmt: skip
    assert (document["total"], document["positive"], document["dependence"]) == (4, True, False)
    assert [f["id"] for f in document["flags"]] == ["lifetime_only"]


def test_not_asked_marker_and_leading_dash() -> None:
    status, out, _ = run(["audit", "--answers", "0,-,-,-,-,-,-,-,0,0", *FACTS])
    assert status == 0 and json.loads(out)["total"] == 0
    # a leading "-" is still taken as the value of --answers (and rejected: q1 is always asked)
    line = assert_rejected(*run(["audit", "--answers", "-,-,-,-,-,-,-,-,0,0", *FACTS]))
    assert "q1:" in line


def test_rejections_name_the_item() -> None:
    cases = {
        "q2:": ["audit", "--answers", "0,1,-,-,-,-,-,-,0,0", *FACTS],
        "q3:": ["audit", "--answers", "1,0,\uff13,-,-,-,-,-,0,0", *FACTS],
        "q9:": ["audit", "--answers", "1,0,0,-,-,-,-,-,3,0", *FACTS],
        "q4:": ["audit", "--answers", "1,1,0,-,-,-,-,-,0,0", *FACTS],
        "--answers:": ["audit", "--answers", "1,0,0", *FACTS],
        "age:": ["audit", "--answers", "1,0,0,-,-,-,-,-,0,0", "--sex", "male", "--age",
                 "\u0667\u0662", "--setting", "gp_practice"],
        "medication:": ["audit", "--answers", "1,0,0,-,-,-,-,-,0,0", *FACTS, "--medication",
                        "aspirin"],
        "--sex": ["audit", "--answers", "1,0,0,-,-,-,-,-,0,0", "--sex", "x", "--age", "70",
                  "--setting", "gp_practice"],
        "'gad'": ["gad", "--answers", "1", *FACTS],
        "who-2001": ["dudit", "--answers", "0,0,0,0,0,0,0,0,0,0,0", *FACTS, "--rule-set",
                     "who-2001"],
        "required": ["audit", "--answers", "1,0,0,-,-,-,-,-,0,0"],
        "unrecognized": ["audit", "--answers", "1,0,0,-,-,-,-,-,0,0", *FACTS, "extra\nline"],
    }  # fmt: skip
    for needle, argv in cases.items():
        line = assert_rejected(*run(argv))
        assert needle in line, (needle, line)


def test_messages_in_both_languages() -> None:
    argv = ["audit", "--answers", "0,1,-,-,-,-,-,-,0,0", *FACTS]
    nb = assert_rejected(*run([*argv, "--lang", "nb"]))
    en = assert_rejected(*run([*argv, "--lang", "en"]))
    assert "stilles ikke" in nb and "not asked" in en


def test_help_goes_to_stdout() -> None:
    status, out, err = run(["--help"])
    assert status == 0 and "--answers" in out and err == ""


TOKENS = st.one_of(
    st.sampled_from(["0", "1", "2", "4", "5", "-", "", " 1", "1 ", "+1", "-1", "01", "1.0"]),
    st.sampled_from(["\uff13", "\u0663", "\u00b2", "\u2167", "\U0001d7d9", "true", "None"]),
    st.text(max_size=3),
)


@FUZZ
@given(st.lists(TOKENS, min_size=0, max_size=13))
def test_any_answer_list_is_scored_or_rejected_in_one_line(tokens: list[str]) -> None:
    status, out, err = run(["audit", "--answers", ",".join(tokens), *FACTS])
    if status == 0:
        assert err == "" and json.loads(out)["instrument"] == "audit"
    else:
        assert_rejected(status, out, err)


@FUZZ
@given(st.data())
def test_one_bad_token_is_named(data: st.DataObject) -> None:
    tokens = ["2", "1", "1", "1", "0", "0", "1", "1", "0", "0"]
    position = data.draw(st.integers(0, 9))
    bad = data.draw(
        st.text(min_size=1, max_size=4).filter(
            lambda t: t != "-" and not (t.isascii() and t.isdigit()) and "," not in t
        )
    )
    tokens[position] = bad
    line = assert_rejected(*run(["audit", "--answers", ",".join(tokens), *FACTS]))
    assert f"q{position + 1}:" in line


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(cli.VALUE_OPTIONS)), max_size=8))
def test_any_argv_exits_0_or_2_with_one_line(argv: list[str]) -> None:
    status, out, err = run(argv)
    if "-h" in argv or "--help" in argv:
        assert status in (0, 2)
    if status == 0:
        assert err == ""
    else:
        assert_rejected(status, out, err)


# --------------------------------------------------------------------------- real processes


def python_m_screening(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "screening", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=False,
    )  # fmt: skip


def stderr_lines(process: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in process.stderr.splitlines() if not line.startswith("import time:")]


def imported(process: subprocess.CompletedProcess[str]) -> set[str]:
    return {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in process.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_subprocess_success_without_flask() -> None:
    process = python_m_screening(
        "score", "audit", "--answers", "2,1,1,1,0,0,1,1,0,0", "--sex", "female", "--age", "72",
        "--setting", "home_care",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-500:]
    assert stderr_lines(process) == []
    assert json.loads(process.stdout)["level"] == 2
    assert not imported(process) & {"flask", "sqlalchemy", "wtforms", "cryptography"}


def test_subprocess_invalid_input() -> None:
    process = python_m_screening(
        "score", "audit", "--answers", "0,1,-,-,-,-,-,-,0,0", "--sex", "female", "--age", "72",
        "--setting", "home_care", "--lang", "en",
    )  # fmt: skip
    assert process.returncode == 2 and process.stdout == ""
    lines = stderr_lines(process)
    assert len(lines) == 1 and "q2" in lines[0] and "not asked" in lines[0]


def test_subprocess_unknown_command() -> None:
    process = python_m_screening("frobnicate")
    assert process.returncode == 2 and process.stdout == ""
    assert "usage" in process.stderr


def test_subprocess_argparse_error_is_one_line() -> None:
    process = python_m_screening("score", "audit", "--answers")
    assert process.returncode == 2 and process.stdout == ""
    assert len(stderr_lines(process)) == 1
