"""``ndpath sensitivity`` and ``ndpath capacity``: the analyst's and commissioner's questions."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from model.labels import fmt_number, label
from ndpath.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "default.toml"
FAST = ["--replications", "3", "--months", "12", "--executor", "serial", "--quiet"]


def test_sensitivity_writes_the_table_and_the_tornado(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sens"
    code = main(["sensitivity", str(DEFAULT), *FAST, "--set", "backlog.count=800",
                 "--only", "leaving.private_per_year", "--only", "support.cost_per_week",
                 "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table["parameter"]) == ["leaving.private_per_year", "support.cost_per_week"]
    # more families going private shortens the list; a price cannot move it at all
    private = table.iloc[0]
    assert private["diff_high"] < 0 < private["diff_low"]
    assert (table.iloc[1][["diff_low", "diff_high"]] == 0).all()
    assert (out / "tornado.png").stat().st_size > 0 and (out / "provenance.json").exists()
    assert "leaving.private_per_year" in capsys.readouterr().out


def test_sensitivity_names_an_unknown_assumption(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sensitivity", str(DEFAULT), *FAST, "--only", "leaving.withdrawl_per_year",
                 "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "leaving.withdrawl_per_year" in err and "Traceback" not in err


def test_capacity_answers_in_words_and_refuses_a_month_outside_the_horizon(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = [*FAST, "--set", "backlog.count=100", "--set", "arrivals.referrals_per_month=30"]
    code = main(["capacity", str(DEFAULT), *common, "--by", "2026-12", "--out", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert code == 0 and "extra WTE" in out
    search = pd.read_csv(tmp_path / "c" / "capacity_search.csv")
    assert search["extra_wte"].min() == 0 and search["mean_pct"].max() >= 90
    code = main(["capacity", str(DEFAULT), *common, "--by", "2031-01"])
    err = capsys.readouterr().err
    assert code == 2 and "within the horizon" in err and "Traceback" not in err


def test_the_summary_table_says_when_a_metric_is_undefined_in_some_replications(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # the status quo supports too few families for a median time to first support
    code = main(["run", str(DEFAULT), *FAST, "--set", "backlog.count=800", "--no-figures",
                 "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if "first support" in row)
    assert code == 0 and "defined in 0 of 3" in line
    assert "defined in" not in next(row for row in out.splitlines() if "Referrals received" in row)


def test_the_command_line_prints_a_number_as_the_app_and_the_checks_do(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """One rule for digits everywhere (model.labels.fmt_number): a mean of 644.7 children is
    "645" in the command line's table, the app and the sanity panel, not "644.7" in one."""
    from app import core
    from model.labels import fmt_number, fmt_signed, period_label
    from model.results import read_results
    from model.waitinglist import format_value

    assert [fmt_number(v) for v in (12_345.6, 644.7, 92.34, 0.851, -150.2, math.nan, None,
                                    0.0, 0.004)] == [
        "12,346", "645", "92.3", "0.85", "-150", "-", "-", "0", "0.00"]
    assert [fmt_signed(v) for v in (644.7, -3.21, 0.0, math.nan)] == ["+645", "-3.21", "0", "-"]
    assert format_value(644.7) == core.fmt_number(644.7) == "645"
    code = main(["run", str(DEFAULT), *FAST, "--no-figures", "--out", str(tmp_path / "r")])
    out = " ".join(capsys.readouterr().out.split())  # a long label wraps: its words, in order
    result = read_results(tmp_path / "r")
    summary = result.summary.set_index("metric")
    for metric in ("rejected", "withdrawals", "waiting_list_end"):
        mean = float(summary.at[metric, "mean"])
        title = period_label(metric, result.scenario)  # a total with its period
        assert code == 0 and out.split(title + " ", 1)[1].split()[0] == fmt_number(mean)


def test_run_with_uncertainty_gives_the_apps_numbers_and_says_what_its_intervals_hold(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The app includes what we don't know by default and the command line does not: the header
    says which, and ``--uncertainty`` gives exactly the app's numbers for the same scenario."""
    from app import core
    from model.experiment import run_replications
    from model.results import read_results
    from model.scenario import load_scenario

    assert main(["run", str(DEFAULT), *FAST, "--no-figures", "--out", str(tmp_path / "a")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    # the app's default numbers differ from these in their averages too, not only the intervals
    assert "(chance only)" in out and "moves the averages too" in out
    assert main(["run", str(DEFAULT), *FAST, "--no-figures", "--uncertainty",
                 "--out", str(tmp_path / "b")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(chance and assumptions)" in out and "chance only" not in out
    assert "moves the averages too" not in out
    saved = read_results(tmp_path / "b").summary.set_index("metric")
    base = load_scenario(DEFAULT, ["simulation.replications=3", "simulation.horizon_months=12"])
    app = run_replications(core.with_uncertainty(base, True), executor="serial")
    for metric in ("waiting_total_end", "list_wait_weeks_p50_end", "referrals", "withdrawals"):
        assert saved.at[metric, "mean"] == pytest.approx(app.metric(metric)["mean"], rel=1e-9)


def test_sensitivity_holds_the_other_assumptions_fixed_even_when_the_scenario_draws_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario that draws its assumptions would overwrite the one being moved with a draw:
    one-at-a-time sensitivity switches the drawing off (and refuses --uncertainty)."""
    only = ["--only", "leaving.withdrawal_per_year"]
    assert main(["sensitivity", str(DEFAULT), *FAST, *only, "--uncertainty", "--out",
                 str(tmp_path / "x")]) == 2
    assert "--uncertainty does not apply" in capsys.readouterr().err
    assert main(["sensitivity", str(DEFAULT), *FAST, *only, "--no-figures",
                 "--out", str(tmp_path / "a")]) == 0
    assert main(["sensitivity", str(DEFAULT), *FAST, *only, "--no-figures", "--set",
                 "uncertainty.enabled=true", "--set", "uncertainty.from_assumptions=true",
                 "--out", str(tmp_path / "b")]) == 0
    fixed, drawn = (pd.read_csv(tmp_path / k / "sensitivity.csv") for k in "ab")
    pd.testing.assert_frame_equal(fixed, drawn)


def test_compare_prints_each_scenarios_own_value_where_the_difference_is_undefined(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The combined package reaches a median time to first support and the status quo does
    not: the table shows the package's own median (as ndpath run and the app do), not "-",
    and says the difference is undefined because the baseline has no value."""
    from model.results import read_results

    combined = ROOT / "scenarios" / "combined.toml"
    assert main(["compare", str(DEFAULT), str(combined), *FAST, "--no-figures",
                 "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    metric = "time_to_first_support_weeks_p50"
    row = next(r for r in out.splitlines() if r.startswith(label(metric)))
    base, other = row[len(label(metric)):].split()[:2]
    saved = {p.name: read_results(p).summary.set_index("metric")
             for p in (tmp_path / "c").iterdir() if p.is_dir()}
    own = [s.at[metric, "mean"] for s in saved.values()]
    assert base == "-" and other == fmt_number(next(v for v in own if math.isfinite(v)))
    assert f"{label(metric)}: no paired difference: not defined in the baseline" in out
