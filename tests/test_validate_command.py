"""``ndpath validate``: the counts a data manager reads first add up, and each problem quotes the
cell it is about."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
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


# row 3: a bad optional pathway on a sound row (kept, read as missing); row 4: an unreadable
# referral date (set aside); row 5: both (set aside, the bad pathway going with its row)
MIXED = ("1,2024-01-05,autism,2024-06-01,2024-07-01,autism\n"
         "2,2024-02-05,dyslexia,,,\n"
         "3,2024-13-05,adhd,,,\n"
         "4,2024-13-06,banana,,,\n"
         "5,2024-03-05,adhd,,,\n")


def test_the_default_stop_mode_logs_no_rows_as_quarantined(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    path = _extract(tmp_path, MIXED)
    with caplog.at_level(logging.INFO, logger="calibration.extract"):
        assert main(["validate", str(path), "--extract-date", "2025-01-01"]) == 2
    said = caplog.text + capsys.readouterr().err
    assert "quarantined" not in said and "read as missing, their rows kept" not in said
    caplog.clear()
    # asked for, quarantine is what happens, and the log may say so (with the true counts)
    with caplog.at_level(logging.INFO, logger="calibration.extract"):
        assert main(["validate", str(path), "--extract-date", "2025-01-01",
                     "--on-error", "quarantine"]) == 0
    assert "2 of 5 rows quarantined" in caplog.text
    assert "1 bad optional attribute value(s) read as missing, their rows kept" in caplog.text


def _help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([command, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_validate_help_does_not_promise_a_quarantine_file_it_does_not_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help("validate", capsys)
    assert "validate writes no quarantine.csv" in text
    assert "aside in quarantine.csv" not in text
    assert "handling: row set aside, or row kept with the value read as missing" in text
    # calibrate, which does write it, still says so
    assert "set bad rows aside in quarantine.csv (in --out)" in _help("calibrate", capsys)
    # and validate indeed writes none, in either mode
    path = _extract(tmp_path, MIXED)
    for mode in ("stop", "quarantine"):
        main(["validate", str(path), "--extract-date", "2025-01-01", "--on-error", mode,
              "--problems", str(tmp_path / "problems.csv")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract.csv", "problems.csv"]


def test_each_problem_says_whether_its_row_is_set_aside_or_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _extract(tmp_path, MIXED)
    problems = tmp_path / "problems.csv"
    expected = {(3, "pathway"): "row kept; value read as missing",
                (4, "referral_date"): "row set aside",
                (5, "referral_date"): "row set aside",
                (5, "pathway"): "row set aside"}
    for mode, code in (("stop", 2), ("quarantine", 0)):
        assert main(["validate", str(path), "--extract-date", "2025-01-01", "--on-error", mode,
                     "--problems", str(problems)]) == code
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("  - row")]
        assert len(lines) == 4
        for line in lines:
            row = int(line.split(",")[0].removeprefix("  - row "))
            column = line.split("column ")[1].split(":")[0]
            assert line.endswith(f"[{expected[(row, column)]}]"), line
        if mode == "stop":
            assert "each marked with what --on-error quarantine does with it" in err
        frame = pd.read_csv(problems)
        assert list(frame.columns) == ["row", "column", "value", "problem", "fix", "handling"]
        assert {(r, c): h for r, c, h in zip(frame["row"], frame["column"], frame["handling"])
                } == expected
    # the marks agree with the counts: one row kept with a value read as missing, two set aside
    _, report, _ = _report(path, capsys)
    assert report["kept_with_missing"] == 1 and report["quarantined_rows"] == 2


def test_the_summary_says_how_many_dates_were_read_day_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _extract(tmp_path, "1,03/04/2024,autism,25/06/2024,2024-07-01,autism\n"
                              "2,2024-02-05,adhd,,,\n"
                              "3,14/02/2024,adhd,,,\n")
    assert main(["validate", str(path), "--extract-date", "2025-01-01"]) == 0
    text = capsys.readouterr().out
    assert "dates written NN/NN/YYYY were read day-first, as DD/MM/YYYY" in text
    assert "referral_date            2 read as DD/MM: 1 can only be DD/MM, 1 could also be MM/DD" in text
    assert "assessment_start_date    1 read as DD/MM: 1 can only be DD/MM, 0 could also be MM/DD" in text
    assert "assessment_end_date" not in text.split("read day-first")[1].split("completeness")[0]
    plain = _extract(tmp_path, "1,2024-01-05,autism,,,\n")
    main(["validate", str(plain), "--extract-date", "2025-01-01"])
    assert "read day-first" not in capsys.readouterr().out


def test_a_month_first_extract_is_refused_by_validate_and_calibrate_with_quarantine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _extract(tmp_path, "".join(f"{i},03/04/2024,autism,,,\n" for i in range(5))
                    + "9,03/24/2024,autism,,,\n")
    for argv in (["validate", str(path), "--extract-date", "2025-01-01", "--on-error", "quarantine"],
                 ["calibrate", str(path), "--extract-date", "2025-01-01", "--on-error",
                  "quarantine", "--out", str(tmp_path / "cal"), "--no-tune"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert ("column referral_date: looks written month-first (US order, MM/DD/YYYY): 1 "
                "cell(s) can only be MM/DD") in err
        assert "5 ambiguous cell(s)" in err
        assert "(write dates as YYYY-MM-DD, or DD/MM/YYYY throughout)" in err
    assert not (tmp_path / "cal" / "calibrated.toml").exists()
