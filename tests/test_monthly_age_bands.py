"""Several age bands of a monthly series summed before the fit (``--age-band 5-11 --age-band
12-17``): the sum is the month-by-month sum of the bands, the fit is the fit of a file summed by
hand, and every way the choice can go wrong (a band not in the file, a band twice, a band missing
in some months) is refused with the reason. One band reads as it did.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration import ENGLAND_MONTHLY
from calibration.extract import ExtractError
from calibration.monthly import calibrate_monthly, read_monthly
from ndpath.cli import main

MONTHS = pd.period_range("2021-01", periods=30, freq="M")
BANDS = ("0-4", "5-11", "12-17", "18-24")
LEVEL = {"0-4": 40, "5-11": 300, "12-17": 170, "18-24": 60}


def _counts() -> dict[str, list[int]]:
    """Each band's referrals a month: its own level, trend and noise, so a sum that drops a
    band, or counts one twice, is a different series."""
    rng = np.random.default_rng(5)
    return {band: [int(rng.poisson(LEVEL[band] * (1 + 0.01 * i)
                                   * (0.8 if m.month == 8 else 1.0)))
                   for i, m in enumerate(MONTHS)] for band in BANDS}


COUNTS = _counts()


def _write(path: Path, drop: tuple[tuple[str, str], ...] = (),
           blank: tuple[tuple[str, str], ...] = ()) -> Path:
    """The series by band, one row per month and band, less the (band, month) rows in ``drop``
    and with the count blank for those in ``blank``."""
    rows = [{"month": str(m), "age_band": band,
             "new_referrals": "" if (band, str(m)) in blank else str(COUNTS[band][i])}
            for i, m in enumerate(MONTHS) for band in BANDS if (band, str(m)) not in drop]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _hand_summed(path: Path, bands: tuple[str, ...]) -> Path:
    """The bands summed by hand from the counts written, in a file with no age_band column."""
    totals = [sum(COUNTS[b][i] for b in bands) for i in range(len(MONTHS))]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"month": [str(m) for m in MONTHS],
                  "new_referrals": [str(t) for t in totals]}).to_csv(path, index=False)
    return path


def _referrals(series) -> pd.Series:  # type: ignore[no-untyped-def]
    return series.data["new_referrals"]


def _fit_json(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "fit.json").read_text())


# -------------------------------------------------------------------------------------------------
# The sum


@pytest.mark.parametrize("bands", [("5-11", "12-17"), ("12-17", "5-11"), ("0-4", "5-11", "12-17")])
def test_several_bands_are_the_month_by_month_sum_of_each_band(tmp_path, bands) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "series.csv")
    summed = _referrals(read_monthly(path, list(bands)))
    singles = [_referrals(read_monthly(path, band)) for band in bands]
    assert summed.index.equals(singles[0].index) and len(summed) == len(MONTHS)
    assert summed.tolist() == sum(singles[1:], singles[0]).tolist()
    # and that is the count written for each band, added up
    assert summed.tolist() == [sum(COUNTS[b][i] for b in bands) for i in range(len(MONTHS))]


def test_several_bands_are_recorded_as_summed_and_only_those(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "series.csv")
    series = read_monthly(path, ["5-11", "12-17"])
    assert [c["what"] for c in series.changes] == [
        "rows summed over age_band (5-11, 12-17) to one count a month"]
    assert series.changes[0]["rows"] == 2 * len(MONTHS)
    assert series.groups == {"age_band": sorted(BANDS)}  # the bands present, as for one band
    assert series.warnings == []  # no adults among them


def test_a_blank_count_in_one_chosen_band_blanks_the_month_as_for_every_band(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A row there with its count blank is not a missing row: the month's total is left blank
    (not the other band's count alone) and said, as when every band is summed."""
    path = _write(tmp_path / "series.csv", blank=(("12-17", "2022-05"),))
    series = read_monthly(path, ["5-11", "12-17"])
    referrals = _referrals(series)
    assert math.isnan(referrals[pd.Period("2022-05", "M")])
    assert referrals.notna().sum() == len(MONTHS) - 1
    assert any(str(c["what"]).startswith("new_referrals 2022-05: blank for 1 of 2")
               for c in series.changes)


def test_the_fit_from_several_bands_is_the_fit_from_a_file_summed_by_hand(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    bands = ("5-11", "12-17")
    path = _write(tmp_path / "bands" / "series.csv")
    by_hand = _hand_summed(tmp_path / "hand" / "series.csv", bands)  # same name: same meta.name
    fit = calibrate_monthly(read_monthly(path, list(bands)))
    hand = calibrate_monthly(read_monthly(by_hand))
    assert fit.arrivals.referrals_per_month_ == hand.arrivals.referrals_per_month_
    assert fit.arrivals.annual_growth_ == hand.arrivals.annual_growth_
    assert fit.scenario.to_toml() == hand.scenario.to_toml()
    # the fitted rate is the two bands' together, not either alone
    alone = calibrate_monthly(read_monthly(path, "5-11")).arrivals.referrals_per_month_
    assert fit.arrivals.referrals_per_month_ == pytest.approx(
        alone * (LEVEL["5-11"] + LEVEL["12-17"]) / LEVEL["5-11"], rel=0.05)

    out, out_hand = tmp_path / "out", tmp_path / "out_hand"
    assert main(["calibrate", "--monthly", str(path), "--age-band", "5-11", "--age-band",
                 "12-17", "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert main(["calibrate", "--monthly", str(by_hand), "--out", str(out_hand)]) == 0
    capsys.readouterr()
    written, written_hand = _fit_json(out), _fit_json(out_hand)
    assert written["parameters"] == written_hand["parameters"]
    def unsourced(path: Path) -> list[str]:  # the two files differ: so do their SHA-256
        return [line for line in path.read_text().splitlines()
                if not line.startswith("source_sha256 = ")]

    assert unsourced(out / "calibrated.toml") == unsourced(out_hand / "calibrated.toml")
    # every band chosen is said and recorded, not only the first
    assert "Series: age bands 5-11, 12-17 summed month by month (--age-band to change)" in said.out
    assert f"{fit.arrivals.referrals_per_month_:,.0f} referrals/month" in said.out
    assert written["command"][-6:-2] == ["--age-band", "5-11", "--age-band", "12-17"]
    assert any(c["what"] == "rows summed over age_band (5-11, 12-17) to one count a month"
               for c in written["data_changes"])
    assert "rows summed over age_band (5-11, 12-17)" in (out / "report.md").read_text()
    assert "include adults" not in said.err  # children's bands: no adults summed in


# -------------------------------------------------------------------------------------------------
# Refused, with the reason


def _refused(argv: list[str], capsys) -> str:  # type: ignore[no-untyped-def]
    assert main(["calibrate", "--monthly", *argv]) == 2
    said = capsys.readouterr()
    assert "Traceback" not in said.err and said.out == ""
    return said.err


def test_a_band_not_in_the_file_is_named_with_the_bands_there(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "series.csv")
    err = _refused([str(path), "--age-band", "5-11", "--age-band", "12-16", "--out",
                    str(tmp_path / "o")], capsys)
    assert "column age_band: '12-16' is not in the file" in err
    assert "the file's bands are 0-4, 12-17, 18-24, 5-11" in err
    assert "give --age-band once for each band to sum" in err
    assert "'5-11'" not in err  # the band that is there is not blamed
    assert not (tmp_path / "o").exists()
    with pytest.raises(ExtractError) as raised:  # every bad band at once
        read_monthly(path, ["5-12", "5-11", "12-16"])
    assert [p.value for p in raised.value.problems] == ["5-12", "12-16"]


def test_bands_given_with_commas_are_told_to_repeat_the_option(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "series.csv")
    err = _refused([str(path), "--age-band", "5-11,12-17", "--out", str(tmp_path / "o")], capsys)
    assert "'5-11,12-17' is not in the file" in err
    assert "choose one of 0-4, 12-17, 18-24, 5-11" in err
    assert "give --age-band once for each, e.g. --age-band 5-11 --age-band 12-17" in err


def test_a_band_given_twice_is_refused_as_it_would_be_counted_twice(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "series.csv")
    err = _refused([str(path), "--age-band", "5-11", "--age-band", "12-17", "--age-band",
                    "5-11", "--out", str(tmp_path / "o")], capsys)
    assert "column age_band: '5-11' is given 2 times in --age-band" in err
    assert "counted 2 times" in err and "give each band once" in err
    assert "'12-17'" not in err
    err = _refused([str(path), "--age-band", "all", "--age-band", "5-11", "--out",
                    str(tmp_path / "o")], capsys)
    assert "'all' sums every band, so it cannot be given with other bands" in err


def test_a_band_missing_in_some_months_is_refused_naming_the_months(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    gaps = (("12-17", "2021-03"), ("12-17", "2022-07"), ("12-17", "2022-08"), ("0-4", "2023-06"))
    path = _write(tmp_path / "series.csv", drop=gaps)
    err = _refused([str(path), "--age-band", "5-11", "--age-band", "12-17", "--out",
                    str(tmp_path / "o")], capsys)
    assert ("column age_band: '12-17' has no row for 3 month(s) that the other chosen band(s) "
            "have: 2021-03, 2022-07..2022-08") in err
    assert "leave the band out of the bands chosen (--age-band" in err and "'0-4'" not in err  # 0-4 not chosen
    # the last months, as in the bundled England series (no 65andOver rows after 2021-03)
    err = _refused(["england", "--age-band", "0-17", "--age-band", "65andOver", "--out",
                    str(tmp_path / "o")], capsys)
    assert "'65andOver' has no row for 3 month(s)" in err and "2021-04..2021-06" in err
    # one band alone keeps its months: the gap is then a month missing from the series
    with pytest.raises(ExtractError, match="2022-07.*is missing from the series"):
        read_monthly(path, "12-17")


# -------------------------------------------------------------------------------------------------
# Adults' bands among those chosen


def test_several_bands_including_an_adults_band_are_warned_about(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "series.csv")
    series = read_monthly(path, ["12-17", "18-24"])
    assert len(series.warnings) == 1
    warning = series.warnings[0]
    assert "The age bands chosen (12-17, 18-24) include adults (18-24)" in warning
    assert "Leave the adult band(s) out to fit children's referrals: --age-band 12-17." in warning
    assert read_monthly(path, ["18-24", "5-11", "0-4"]).warnings[0].endswith(
        "--age-band 0-4 --age-band 5-11.")  # the children's bands, youngest first
    adults_only = read_monthly(path, "18-24").warnings
    assert adults_only == []  # one band chosen on purpose, as before
    out = tmp_path / "out"
    assert main(["calibrate", "--monthly", "england", "--age-band", "0-17", "--age-band",
                 "18-24", "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert "Warning: The age bands chosen (0-17, 18-24) include adults (18-24)" in said.err
    assert "Series: age bands 0-17, 18-24 summed month by month" in said.out
    assert any("include adults (18-24)" in w for w in _fit_json(out)["warnings"])
    assert "include adults (18-24)" in (out / "report.md").read_text()


def test_several_adults_bands_alone_are_warned_about(capsys) -> None:  # type: ignore[no-untyped-def]
    warnings = read_monthly(ENGLAND_MONTHLY, ["18-24", "25-34"]).warnings
    assert len(warnings) == 1 and "include adults (18-24, 25-34)" in warnings[0]
    assert "not a children's service's" in warnings[0]


def test_with_no_band_chosen_every_childrens_band_is_suggested(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Children split into 0-4, 5-11, 12-17: the hint is all three, not 0-4 alone."""
    warning = read_monthly(_write(tmp_path / "series.csv")).warnings[0]
    assert "include adults (18-24) and no age band was chosen" in warning
    assert ("Choose the children's bands (--age-band on the command line, once for each: "
            "--age-band 0-4 --age-band 5-11 --age-band 12-17)") in warning


# -------------------------------------------------------------------------------------------------
# One band, as before


def test_one_band_reads_and_fits_as_before(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "series.csv")
    one, listed = read_monthly(path, "5-11"), read_monthly(path, ["5-11"])
    assert _referrals(one).tolist() == COUNTS["5-11"]
    assert _referrals(one).equals(_referrals(listed))
    assert (one.changes, one.warnings, one.groups) == (listed.changes, listed.warnings,
                                                       listed.groups)
    assert one.changes == [] and one.warnings == []
    out = tmp_path / "out"
    assert main(["calibrate", "--monthly", str(path), "--age-band", "5-11", "--out",
                 str(out)]) == 0
    said = capsys.readouterr()
    assert "Series: age band 5-11 (--age-band to change)" in said.out
    fit = calibrate_monthly(one)
    written = _fit_json(out)
    assert [written["parameters"][p.name]["estimate"] for p in fit.parameters] == (
        pytest.approx([p.estimate for p in fit.parameters], rel=1e-12))
    assert written["data_changes"] == [] and written["warnings"] == fit.warnings


def test_the_help_says_how_to_give_several_bands(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "1000")  # one line an option: no break inside --age-band
    assert main(["calibrate", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "repeat it to sum several bands month by month (--age-band 5-11 --age-band 12-17)" in text


@pytest.mark.parametrize("age_band", ["all", None], ids=["all", "none_chosen"])
def test_every_band_summed_says_which_band_some_months_lack(tmp_path: Path,
                                                            age_band: str | None) -> None:
    """Summing every band (``--age-band all``, or none chosen) over months where one band has
    no row counts none of that band's referrals then: the sum goes on (the published England
    series lacks 65andOver for three months) but the band and the months are said, in the
    warnings and in the record of the data changes; the totals are those of the rows there."""
    gap = (("12-17", "2021-04"), ("12-17", "2021-05"), ("12-17", "2022-01"))
    path = _write(tmp_path / "gap.csv", drop=gap)
    series = read_monthly(path, age_band)
    said = [w for w in series.warnings if "12-17" in w and "no row" in w]
    assert len(said) == 1
    assert "3 month(s)" in said[0] and "2021-04..2021-05, 2022-01" in said[0]
    assert any("age band 12-17 has no row" in str(c["what"]) for c in series.changes)
    april = [i for i, m in enumerate(MONTHS) if str(m) == "2021-04"][0]
    assert _referrals(series).iloc[april] == sum(COUNTS[b][april] for b in BANDS if b != "12-17")
    # every band present every month: nothing said
    whole = read_monthly(_write(tmp_path / "whole.csv"), age_band)
    assert not any("no row" in w for w in whole.warnings)
