"""``ndpath validate``: the counts a data manager reads first add up, and each problem quotes the
cell it is about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ndpath.cli import main

HEADER = "referral_id,referral_date,pathway,assessment_start_date,assessment_end_date,outcome\n"


def _extract(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "extract.csv"
    path.write_text(HEADER + rows)
    return path


def _report(path: Path, capsys: pytest.CaptureFixture[str], *more: str) -> tuple[int, dict, str]:
    code = main(["validate", str(path), "--extract-date", "2025-01-01", "--json", *more])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_a_row_kept_with_a_bad_optional_value_counts_as_a_row_with_a_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # row 3's pathway is unknown (kept, read as missing); row 4's referral date is unreadable
    # (set aside); rows 2 and 5 are sound
    path = _extract(tmp_path, "1,2024-01-05,autism,2024-06-01,2024-07-01,autism\n"
                              "2,2024-02-05,banana,,,\n"
                              "3,2024-13-05,adhd,,,\n"
                              "4,2024-03-05,adhd,,,\n")
    code, report, err = _report(path, capsys)
    assert code == 2 and "row 3, column pathway: 'banana'" in err
    assert report["input_rows"] == 4 and report["problems"] == 2
    assert report["rows_with_problems"] == 2  # not 1: the kept row has a problem too
    assert report["quarantined_rows"] == 1 and report["kept_with_missing"] == 1
    assert report["valid_rows"] == 3
    assert report["rows_with_problems"] == report["quarantined_rows"] + report["kept_with_missing"]
    main(["validate", str(path), "--extract-date", "2025-01-01"])
    text = capsys.readouterr().out
    assert "rows with problems 2 of 4 (2 problem(s))" in text
    assert "1 would be set aside and 1 kept with a bad value read as missing, so 3 row(s) used" in text


def test_a_blank_outcome_is_not_quoted_as_the_date_beside_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _extract(tmp_path, "1,2024-01-05,autism,2024-06-01,2024-07-01,\n")
    code, _, err = _report(path, capsys)
    assert code == 2
    assert ("row 2, column outcome: is blank but assessment_end_date is given ('2024-07-01')"
            in err)
    assert "column outcome: '2024-07-01'" not in err


def test_with_quarantine_the_extract_is_usable_and_the_problems_are_still_listed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _extract(tmp_path, "1,2024-01-05,autism,,,\n2,2024-13-05,adhd,,,\n")
    code, report, err = _report(path, capsys, "--on-error", "quarantine")
    assert code == 0  # the JSON on stdout parsed; the problems went to stderr
    assert report["quarantined_rows"] == 1 and report["valid_rows"] == 1
    assert "row 3, column referral_date: '2024-13-05' is not a date" in err
    assert "pass --on-error quarantine" not in err  # it was passed
    code, _, _ = _report(path, capsys)
    assert code == 2  # the default still stops
