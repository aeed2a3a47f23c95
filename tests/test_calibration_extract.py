"""Reading and validating pathway extracts: formats, messy values, every kind of bad input,
quarantine accounting and pseudonymisation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from calibration.extract import (
    ExtractError,
    Problem,
    parse_dates,
    quality_report,
    read_extract,
    still_waiting,
)
from calibration.monthly import read_monthly
from calibration.synth import make_messy, synthesise_extract
from model.scenario import Scenario

EXTRACT_DATE = "2024-06-30"


def clean_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "referral_id": ["NHS001", "NHS002", "NHS003", "NHS004"],
        "referral_date": ["2024-01-05", "2024-02-10", "2024-03-01", "2024-04-20"],
        "pathway": ["autism", "adhd", "both", "autism"],
        "assessment_start_date": ["2024-03-01", "", "", ""],
        "assessment_end_date": ["2024-04-01", "", "", ""],
        "outcome": ["autism", "", "", ""],
        "discharge_date": ["", "2024-05-01", "", ""],
        "discharge_reason": ["", "withdrawn", "", ""],
    })


def problems_of(frame: pd.DataFrame) -> list[str]:
    with pytest.raises(ExtractError) as info:
        read_extract(frame, EXTRACT_DATE)
    return [str(p) for p in info.value.problems]


def test_a_clean_extract_reads_with_types_and_censoring() -> None:
    table = read_extract(clean_rows(), EXTRACT_DATE)
    assert len(table.data) == 4 and len(table.quarantine) == 0
    assert table.data["referral_date"].dtype.kind == "M"
    assert list(still_waiting(table.data)) == [False, False, True, True]


def test_dates_in_iso_uk_and_excel_serial_forms_agree() -> None:
    text = pd.Series(["2024-03-01", "01/03/2024", "1-3-2024", "01.03.2024", "45352",
                      "2024-03-01 00:00:00", "N/A", ""])
    dates, bad = parse_dates(text)
    assert not bad.any()
    assert set(dates.dropna()) == {pd.Timestamp("2024-03-01")}
    assert dates.isna().sum() == 2  # the blanks


def test_codes_are_case_and_space_insensitive_and_synonyms_map() -> None:
    frame = clean_rows()
    frame["pathway"] = [" ASD", "ADHD ", "asd+adhd", "Autistic Spectrum Disorder"]
    frame["discharge_reason"] = ["", "Parent withdrew", "", ""]
    table = read_extract(frame, EXTRACT_DATE)
    assert list(table.data["pathway"]) == ["autism", "adhd", "both", "autism"]
    assert table.data["discharge_reason"].iloc[1] == "withdrawn"


@pytest.mark.parametrize("blank", ["", "N/A", "NULL", "null", "NA", "nan"])
def test_blank_forms_are_blank_not_errors(blank: str) -> None:
    frame = clean_rows()
    frame.loc[2, "pathway"] = blank
    frame.loc[3, "assessment_start_date"] = blank
    table = read_extract(frame, EXTRACT_DATE)
    assert table.data["pathway"].iloc[2] is None
    assert pd.isna(table.data["assessment_start_date"].iloc[3])


@pytest.mark.parametrize("column, value, expected", [
    ("referral_date", "2024-31-01", "is not a date we can read"),
    ("referral_date", "03/25/2024", "month-first"),
    ("referral_date", "1/3/24", "two-digit years are ambiguous"),
    ("assessment_start_date", "2023-12-01", "is before the referral date"),
    ("assessment_end_date", "2024-02-01", "is before the assessment start date"),
    ("assessment_end_date", "2024-07-15", "is after the extract date 2024-06-30"),
    ("pathway", "dyslexia", "is not a known code"),
    ("outcome", "maybe", "is not a known code"),
])
def test_each_bad_value_is_reported_with_row_column_and_fix(column: str, value: str,
                                                           expected: str) -> None:
    frame = clean_rows()
    frame.loc[0, column] = value
    problems = problems_of(frame)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"row 2, column {column}:")
    assert expected in problems[0]
    assert "(" in problems[0] and problems[0].endswith(")")  # the fix, in brackets


def test_duplicate_ids_name_each_other_and_the_columns_they_differ_in() -> None:
    frame = clean_rows()
    frame.loc[3, "referral_id"] = "NHS001"
    problems = problems_of(frame)
    differ = ("the copies differ in referral_date, assessment_start_date, assessment_end_date, "
              "outcome, so which is right is unknown and none is used")
    assert problems == [
        f"row 2, column referral_id: duplicate referral id (the same id is on row 5); {differ} "
        "(keep one row per referral: merge or remove the copies)",
        f"row 5, column referral_id: duplicate referral id (the same id is on row 2); {differ} "
        "(keep one row per referral: merge or remove the copies)",
    ]


def _with_copies(frame: pd.DataFrame, *rows: int) -> pd.DataFrame:
    """``frame`` with the records at ``rows`` (0-based) appended again, unchanged."""
    return pd.concat([frame, frame.iloc[list(rows)]], ignore_index=True)


def test_quarantine_keeps_the_first_of_exact_copies_and_sets_the_later_ones_aside() -> None:
    # rows 2 and 3 copied to rows 6 and 7; row 2 copied a second time to row 8
    frame = _with_copies(clean_rows(), 0, 1, 0)
    table = read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert list(table.quarantine["row"]) == [6, 7, 8]
    assert len(table.data) == 4  # every referral once
    assert list(table.data["referral_date"].dt.strftime("%Y-%m-%d")) == list(
        clean_rows()["referral_date"])
    assert list(table.quarantine["problems"]) == [
        f"referral_id: duplicate referral id: a copy of row {r} (every column ndpath reads is "
        "the same): the first is kept (if it has no other problem), the copy is not used"
        for r in (2, 3, 2)]
    assert len(table.data) + len(table.quarantine) == table.input_rows
    # the first copy itself is no problem; in stop mode the copies still stop the reading
    assert [p.row for p in table.problems] == [6, 7, 8]
    assert all(p.startswith(("row 6", "row 7", "row 8")) for p in problems_of(frame))


def test_copies_that_differ_are_all_set_aside_naming_what_differs() -> None:
    frame = _with_copies(clean_rows(), 0, 1)
    frame.loc[5, "discharge_reason"] = "moved"  # row 7: row 3's copy, another reason
    table = read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert list(table.quarantine["row"]) == [3, 6, 7]  # row 2's exact copy: the first kept
    by_row = dict(zip(table.quarantine["row"], table.quarantine["problems"]))
    assert "the same id is on row 7); the copies differ in discharge_reason," in by_row[3]
    assert "the same id is on row 3); the copies differ in discharge_reason," in by_row[7]
    assert "a copy of row 2" in by_row[6]
    # a copy written in another date form or case still differs as text: it is not taken as
    # the same without a word
    frame = _with_copies(clean_rows(), 0)
    frame.loc[4, "referral_date"] = "05/01/2024"
    table = read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert list(table.quarantine["row"]) == [2, 6]


def test_a_first_copy_with_its_own_problem_goes_with_its_copies() -> None:
    frame = clean_rows()
    frame.loc[0, "referral_date"] = "garbage"
    table = read_extract(_with_copies(frame, 0), EXTRACT_DATE, on_error="quarantine")
    assert list(table.quarantine["row"]) == [2, 6]  # both bad dates: nothing usable kept


def test_columns_ndpath_does_not_read_do_not_make_copies_differ() -> None:
    frame = clean_rows()
    frame["exported_at"] = ["09:00", "09:00", "09:00", "09:00"]
    frame = _with_copies(frame, 2)
    frame.loc[4, "exported_at"] = "09:05"
    table = read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert list(table.quarantine["row"]) == [6] and "a copy of row 4" in table.quarantine[
        "problems"].iloc[0]


def test_missing_required_column_stops_even_with_quarantine() -> None:
    frame = clean_rows().drop(columns=["referral_date"])
    with pytest.raises(ExtractError) as info:
        read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert "column referral_date: required column is missing" in str(info.value)


def test_every_problem_is_collected_in_one_error() -> None:
    frame = clean_rows()
    frame.loc[0, "referral_date"] = "garbage"
    frame.loc[1, "pathway"] = "unknown"
    frame.loc[2, "discharge_date"] = "2030-01-01"
    frame.loc[2, "discharge_reason"] = "moved"
    problems = problems_of(frame)
    assert [p.split(":")[0] for p in problems] == [
        "row 2, column referral_date", "row 3, column pathway", "row 4, column discharge_date"]


def test_quarantine_sets_aside_exactly_the_bad_rows_and_loses_none() -> None:
    scenario = Scenario().replace({"backlog.count": 100, "arrivals.referrals_per_month": 40})
    frame = synthesise_extract(scenario, EXTRACT_DATE, history_months=12)
    n = len(frame)
    bad_rows = [3, 11, 50]
    frame.loc[3, "referral_date"] = "not a date"
    frame.loc[10, "pathway"] = "xyz"  # a bad optional attribute: read as missing, row kept
    frame["age_at_referral"] = frame["age_at_referral"].astype(str)
    frame.loc[12, "age_at_referral"] = "ninety"
    frame.loc[11, "referral_id"] = frame.loc[50, "referral_id"]  # duplicate pair: both set aside
    table = read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert len(table.quarantine) == len(bad_rows)
    assert len(table.data) + len(table.quarantine) == table.input_rows == n
    assert sorted(table.quarantine["row"]) == [r + 2 for r in bad_rows]
    report = quality_report(table)
    assert report["quarantined_rows"] == len(bad_rows)
    # the referral with the bad attribute is used, the attribute missing, and both are listed
    assert [(p.row, p.column) for p in table.set_missing] == [(12, "pathway"),
                                                              (14, "age_at_referral")]
    assert table.data["pathway"].isna().sum() == 1 and table.data["age_at_referral"].isna().sum() == 1
    changes = {c["what"].split(":")[0]: c["rows"] for c in report["changes"]}
    assert changes["pathway"] == 1 and changes["age_at_referral"] == 1
    assert any(c["what"].startswith("rows quarantined") and c["rows"] == 3
               for c in report["changes"])


def test_ids_are_pseudonymised_everywhere(tmp_path: Path) -> None:
    frame = clean_rows()
    frame.loc[1, "referral_date"] = "bad date"
    table = read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert len(table.quarantine) == 1
    text = table.data.to_csv() + table.quarantine.to_csv()
    for original in frame["referral_id"]:
        assert original not in text
    again = read_extract(clean_rows(), EXTRACT_DATE, key=b"k")
    same = read_extract(clean_rows(), EXTRACT_DATE, key=b"k")
    assert list(again.data["child"]) == list(same.data["child"])  # stable within one key


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_file_formats_read_to_the_same_table(tmp_path: Path, suffix: str) -> None:
    scenario = Scenario().replace({"backlog.count": 40, "arrivals.referrals_per_month": 20})
    frame = synthesise_extract(scenario, EXTRACT_DATE, history_months=6)
    path = tmp_path / f"extract{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        # Excel users keep real dates: write the date columns as dates
        typed = frame.copy()
        for c in [c for c in typed.columns if c.endswith("_date")]:
            typed[c] = pd.to_datetime(typed[c].replace("", None))
        typed.to_excel(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    expected = read_extract(frame, EXTRACT_DATE).data.drop(columns="child")
    got = read_extract(path, EXTRACT_DATE).data.drop(columns="child")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_messy_extract_reads_to_the_clean_table() -> None:
    scenario = Scenario().replace({"backlog.count": 200, "arrivals.referrals_per_month": 60})
    clean = synthesise_extract(scenario, EXTRACT_DATE, history_months=12)
    messy = make_messy(clean, seed=3, share=0.5)
    assert (messy.astype(str) != clean.astype(str)).to_numpy().mean() > 0.1  # really messy
    a = read_extract(clean, EXTRACT_DATE).data.drop(columns="child")
    b = read_extract(messy, EXTRACT_DATE).data.drop(columns="child")
    pd.testing.assert_frame_equal(a, b)


def test_unreadable_file_and_wrong_type_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="file not found"):
        read_extract(tmp_path / "missing.csv", EXTRACT_DATE)
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ExtractError, match="save the extract as .csv, .xlsx or .parquet"):
        read_extract(tmp_path / "x.json", EXTRACT_DATE)


def test_monthly_series_problems_are_listed() -> None:
    frame = pd.DataFrame({"month": ["2024-01", "2024-02", "24-3", "2024-04"],
                          "new_referrals": ["10", "-3", "12", "x"]})
    with pytest.raises(ExtractError) as info:
        read_monthly(frame)
    text = str(info.value)
    assert "row 4, column month: '24-3' is not a month" in text
    assert "row 3, column new_referrals: '-3' is not a count" in text
    assert "row 5, column new_referrals: 'x' is not a count" in text
    gap = pd.DataFrame({"month": ["2024-01", "2024-03"], "new_referrals": ["1", "2"]})
    with pytest.raises(ExtractError, match="2024-02.*is missing from the series"):
        read_monthly(gap)


# -------------------------------------------------------------------------------------------------
# The day/month order of a date column


def _referral_dates(dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"referral_id": [f"R{i}" for i in range(len(dates))],
                         "referral_date": dates})


def _column_problems(error: ExtractError) -> list:
    return [p for p in error.problems if p.row is None]


@pytest.mark.parametrize("on_error", ["stop", "quarantine"])
def test_a_month_first_column_stops_even_with_quarantine_naming_its_counts(on_error: str) -> None:
    # 03/04/2024 on five rows would read as 3 April; 03/24/2024 shows the column is month-first
    frame = _referral_dates(["03/04/2024"] * 5 + ["03/24/2024", "04/13/2024", "2024-03-01"])
    with pytest.raises(ExtractError) as info:
        read_extract(frame, EXTRACT_DATE, on_error=on_error)  # type: ignore[arg-type]
    [column] = _column_problems(info.value)
    assert column.column == "referral_date"
    assert "month-first (US order" in column.message
    assert "2 cell(s) can only be MM/DD" in column.message
    assert "5 ambiguous cell(s)" in column.message
    assert "'03/04/2024' on row 2" in column.message and "'03/24/2024' on row 7" in column.message
    assert column.fix == "write dates as YYYY-MM-DD, or DD/MM/YYYY throughout"
    assert str(column).startswith("column referral_date: looks written month-first")
    assert "stops the reading even with --on-error quarantine" in str(info.value)


def test_a_column_mixing_day_first_and_month_first_cells_is_a_column_problem() -> None:
    frame = _referral_dates(["25/03/2024", "03/04/2024", "03/24/2024", "01/02/2024"])
    with pytest.raises(ExtractError) as info:
        read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    [column] = _column_problems(info.value)
    assert column.column == "referral_date" and "mixes day-first and month-first" in column.message
    assert "1 cell(s) can only be DD/MM" in column.message
    assert "1 cell(s) can only be MM/DD" in column.message
    assert "2 ambiguous cell(s)" in column.message
    # mixed with no ambiguous cell: still unknown which order the column is in
    with pytest.raises(ExtractError) as info:
        read_extract(_referral_dates(["25/03/2024", "03/24/2024"]), EXTRACT_DATE,
                     on_error="quarantine")
    [column] = _column_problems(info.value)
    assert "there are no ambiguous cells" in column.message


def test_only_the_column_with_the_month_first_cells_is_a_problem() -> None:
    # a US-order support column beside a UK referral column: the problem names that column
    frame = _referral_dates(["25/01/2024", "03/02/2024", "04/03/2024"])
    frame["support_start_date"] = ["02/03/2024", "03/25/2024", "04/05/2024"]
    with pytest.raises(ExtractError) as info:
        read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert [p.column for p in _column_problems(info.value)] == ["support_start_date"]


@pytest.mark.parametrize("dates, expected", [
    # all day-first, with cells that can only be day-first
    (["03/04/2024", "25/03/2024", "2024-05-01"], ["2024-04-03", "2024-03-25", "2024-05-01"]),
    # all ambiguous: read day-first (the UK order), as before
    (["03/04/2024", "01/02/2024", "05/05/2024"], ["2024-04-03", "2024-02-01", "2024-05-05"]),
])
def test_a_day_first_or_all_ambiguous_column_reads_day_first_and_says_so(
        dates: list[str], expected: list[str]) -> None:
    table = read_extract(_referral_dates(dates), EXTRACT_DATE)
    assert list(table.data["referral_date"].dt.strftime("%Y-%m-%d")) == expected
    [(column, cells, ambiguous, only)] = table.read_day_first
    slashed = sum("/" in d for d in dates)
    assert (column, cells) == ("referral_date", slashed)
    assert ambiguous == sum(d in ("03/04/2024", "01/02/2024") for d in dates)  # not 05/05
    assert only == dates.count("25/03/2024")
    assert quality_report(table)["read_day_first"] == {
        "referral_date": {"cells": cells, "ambiguous": ambiguous, "day_first_only": only}}


def test_month_first_cells_with_no_ambiguous_cell_stay_row_problems() -> None:
    # nothing would be misread: the month-first row is set aside, the others used
    frame = _referral_dates(["03/25/2024", "2024-03-01", "2024-03-02"])
    table = read_extract(frame, EXTRACT_DATE, on_error="quarantine")
    assert len(table.data) == 2 and list(table.quarantine["row"]) == [2]
    assert table.read_day_first == ()


def test_an_iso_extract_says_nothing_was_read_day_first() -> None:
    assert read_extract(clean_rows(), EXTRACT_DATE).read_day_first == ()


def _england_months_as(form: str, tmp_path: Path) -> Path:
    from calibration import ENGLAND_MONTHLY

    frame = pd.read_csv(ENGLAND_MONTHLY, dtype=str)
    year, month = frame["month"].str.slice(0, 4), frame["month"].str.slice(5, 7)
    frame["month"] = {"MM/YYYY": month + "/" + year, "YYYY/MM": year + "/" + month}[form]
    path = tmp_path / "series.csv"
    frame.to_csv(path, index=False)
    return path


def test_many_months_written_one_wrong_way_are_one_line_and_no_advice_that_cannot_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """186 rows with months as 04/2019: one line with the count, rows and the fix; never the
    advice to run ndpath validate, which cannot read a monthly series."""
    from ndpath.cli import main

    path = _england_months_as("MM/YYYY", tmp_path)
    rows = len(pd.read_csv(path))
    assert main(["calibrate", "--monthly", str(path), "--age-band", "0-17",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"has {rows} problem(s):" in err
    assert (f"column month: {rows} rows like '04/2019', '05/2019', '06/2019', ... "
            f"(rows 2-{rows + 1}): each is written MM/YYYY, not YYYY-MM (write YYYY-MM, "
            "e.g. 2019-04 for 04/2019)") in err
    assert err.count("\n  - ") == 1
    assert "validate" not in err and "more" not in err
    # the one form said, by name, for another way of writing it
    with pytest.raises(ExtractError, match="each is written YYYY/MM, not YYYY-MM"):
        read_monthly(_england_months_as("YYYY/MM", tmp_path))


def test_a_monthly_series_problems_of_one_kind_are_one_line_and_others_each_theirs() -> None:
    # 150 problems of one kind (different values): one line; more than the 100 an extract shows
    frame = pd.DataFrame({"month": [str(m) for m in pd.period_range("2010-01", periods=150,
                                                                    freq="M")],
                          "new_referrals": [f"x{i}" for i in range(150)]})
    with pytest.raises(ExtractError) as info:
        read_monthly(frame)
    text = str(info.value)
    assert "150 rows like 'x0', 'x1', 'x2', ... (rows 2-151): each is not a count" in text
    mixed = pd.DataFrame({"month": ["2024-01", "04/2024", "2024-03", "2024-04"],
                          "new_referrals": ["1", "2", "x", "4"]})
    with pytest.raises(ExtractError) as info:
        read_monthly(mixed)
    text = str(info.value)  # two of a kind or fewer: each on its own line, with its row
    assert "row 3, column month: '04/2024' is written MM/YYYY, not YYYY-MM" in text
    assert "row 4, column new_referrals: 'x' is not a count" in text


def test_every_problem_of_a_monthly_series_is_shown_when_none_are_alike() -> None:
    problems = [Problem(i + 2, "new_referrals", "x", f"problem {i}", "fix") for i in range(150)]
    text = str(ExtractError(problems, "series.csv", quarantine_hint=False, monthly=True))
    assert all(f"row {i + 2}, column new_referrals: 'x' problem {i} (fix)" in text
               for i in range(150))
    assert "more" not in text and "validate" not in text


def test_alike_rows_are_said_as_runs() -> None:
    from calibration.extract import row_ranges

    assert row_ranges([2, 3, 4, 9, 11, 12]) == "rows 2-4, 9, 11-12"
    assert row_ranges([5]) == "row 5"
    assert row_ranges(list(range(2, 40, 2))) == "rows 2, 4, 6, 8, 10, 12 and 13 more"


def test_an_extracts_problems_still_point_to_validate() -> None:
    problems = [Problem(i + 2, "referral_date", "x", "is not a date", "fix") for i in range(150)]
    text = str(ExtractError(problems, "extract.csv"))
    assert "... and 50 more (ndpath validate --problems FILE writes them all)" in text
