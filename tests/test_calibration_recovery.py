"""End to end: a synthetic extract from a known scenario, censored at the extract date, is
calibrated back to that scenario; the back-test projects the list within 10%; the command line
writes its folders and reports user errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calibration.backtest import run_backtest
from calibration.calibrate import Calibration, CalibrationOptions, calibrate_extract
from calibration.extract import PathwayTable, read_extract
from calibration.synth import synthesise_extract
from ndpath.cli import main
from model.scenario import Scenario, load_scenario

EXTRACT_DATE = "2025-12-31"

# A moderate service: ~120 referrals a month growing 10% a year against ~100 assessments a
# month, so children wait months (many still waiting, censored, at the extract date).
TRUTH = Scenario().replace({
    "arrivals.referrals_per_month": 120.0, "arrivals.annual_growth": 0.10,
    "backlog.count": 800,
    "assessment.professions": [{"name": "mdt", "wte": 8.2, "job_plan_share": 1.0}],
    "leaving.withdrawal_per_year": 0.10, "leaving.moved_per_year": 0.04,
    "leaving.private_per_year": 0.08,
})
TRUE_ASSESSMENTS_PER_MONTH = (TRUTH.assessment.clinical_hours_per_week() * 52.1786 / 12
                              / TRUTH.assessment.hours_per_assessment.mean_value)


def se(ci: tuple[float, float]) -> float:
    return (ci[1] - ci[0]) / (2 * 1.96)


@pytest.fixture(scope="module")
def table() -> PathwayTable:
    return read_extract(synthesise_extract(TRUTH, EXTRACT_DATE, 48), EXTRACT_DATE)


@pytest.fixture(scope="module")
def calibration(table: PathwayTable) -> Calibration:
    return calibrate_extract(table, CalibrationOptions())


def test_growth_and_seasonality_recovered(calibration: Calibration) -> None:
    a = calibration.fitters["arrivals"]
    assert se(a.annual_growth_ci_) < 0.03
    assert abs(a.annual_growth_ - 0.10) < 3 * se(a.annual_growth_ci_)
    truth = pd.Series(TRUTH.arrivals.seasonality)
    half = (a.seasonality_ci_[:, 1] - a.seasonality_ci_[:, 0]) / 2
    assert (half < 0.12).all()
    assert ((a.seasonality_ - truth).abs() < 1.65 * half).all()  # within 3.3 standard errors
    # the level at the extract date: 120 a month four years earlier, grown 10% a year
    level = a.referrals_per_month_at("2026-01")
    assert level[1] <= 120 * 1.1 ** 4 <= level[2]


def test_capacity_recovered_by_throughput_and_simulation(calibration: Calibration) -> None:
    cap = calibration.fitters["capacity"]
    low, high = cap.assessments_per_month_ci_
    assert low <= TRUE_ASSESSMENTS_PER_MONTH <= high
    calibrated = calibration.scenario.assessment.clinical_hours_per_week()
    true_hours = TRUTH.assessment.clinical_hours_per_week()
    # the throughput interval is about +-6%; the tuned value must stay within it
    assert abs(calibrated / true_hours - 1) < 0.06
    t = calibration.tuning
    assert t is not None and t.loss <= t.loss_untuned
    assert t.list_error_pct < 5 and t.km_max_gap < 0.05


def test_leaving_hazards_recovered_and_censoring_matters(calibration: Calibration) -> None:
    exits = calibration.fitters["exits"]
    truth = {"withdrawn": 0.10, "moved": 0.04, "private": 0.08}
    for cause, rate in truth.items():
        assert abs(exits.hazards_[cause] - rate) < 3 * se(exits.hazards_ci_[cause]), cause
    # dropping the children still waiting (as tools that ignore censoring do) is measurably worse
    total = sum(truth.values())
    fitted = sum(exits.hazards_[k] for k in truth)
    naive = sum(exits.naive_hazards_[k] for k in truth)
    events = sum(exits.events_.get(k, 0) for k in truth)
    se_total = fitted / events**0.5  # Poisson: the total hazard's standard error
    assert abs(naive - total) > 2 * abs(fitted - total)
    assert naive - fitted > 3 * se_total  # the bias is well beyond the sampling error


def test_elapsed_weeks_and_mix_recovered(calibration: Calibration) -> None:
    elapsed = calibration.fitters["elapsed"]
    assert abs(elapsed.mean_ / 7 - 8.0) < 3 * se(elapsed.mean_ci_) / 7
    mix = calibration.fitters["referral_mix"]
    for code, share in TRUTH.referral_mix.pathway.as_dict().items():
        low, high = mix.intervals_["pathway"][code]
        assert low - 0.01 <= share <= high + 0.01


def test_starting_state_is_the_children_waiting(calibration: Calibration,
                                                table: PathwayTable) -> None:
    from calibration.extract import still_waiting

    # every child still waiting, less those still in vetting whom the fitted acceptance takes
    # as not joining the list (counted in the calibration's changes)
    dropped = sum(int(c["effect"].split()[0]) for c in calibration.changes
                  if "kept on the starting list" in c["what"])
    assert len(calibration.backlog) == int(still_waiting(table.data).sum()) - dropped
    # one calendar: the projection starts the day after the extract date (a month end here)
    assert calibration.scenario.simulation.start_date.isoformat() == "2026-01-01"
    assert list(calibration.backlog.columns)[0] == "referral_date"
    assert "child" not in calibration.backlog.columns


BACKTEST_MARGIN_PP = {"waiting_end": 2.0, "referrals": 2.0, "assessments_started": 12.0}
"""How much worse than the best simple method the model may be, in percentage points of the
measure compared (backtest.MEASURES). On these services (about 75 referrals and 18 assessments
a month) the month-to-month Poisson noise is about 12% on referrals and the 12-month total of
assessments has a standard error of about 4%, so a margin of about half a standard error for
referrals and the list; the total of assessments is compared within its own uncertainty below
(the simple methods carry last year's throughput forward, which on a service with constant
capacity is the truth plus noise, so the model is only asked not to be far worse)."""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["status_quo_capacity_limited", "profiling_capacity_limited"])
def test_backtest_beats_or_matches_each_simple_method(name: str) -> None:
    from calibration.services import service

    truth = service(name, 0.3)
    extract = read_extract(synthesise_extract(truth, EXTRACT_DATE, 48), EXTRACT_DATE)
    bt = run_backtest(extract, holdout_months=12, replications=8,
                      options=CalibrationOptions(replications=2))
    assert set(bt.errors["method"]) == {"model", "seasonal_naive", "linear_trend", "flow_balance"}
    # the list 12 months on within 5% (issue 9's bar), the multiplier in its expected range
    assert abs(bt.error("waiting_end", "model", "end_error_pct")) < 5
    assert bt.calibration.tuning is not None and bt.calibration.tuning.in_range
    # the held-out assessments against the fitted capacity's own uncertainty: its standard
    # error (quasi-Poisson throughput interval) and the held-out total's (Poisson), 3 of them.
    # At this size that is about 15%, so a final capacity 10% low is caught by
    # test_calibration_trust.py::test_the_shipped_capacity_is_the_tuned_throughput, not here
    cap = bt.calibration.fitters["capacity"]
    se_cap = (cap.assessments_per_month_ci_[1] - cap.assessments_per_month_ci_[0]) / (
        2 * 1.96 * cap.assessments_per_month_)
    held = bt.comparison[bt.comparison["metric"] == "assessments_started"]["actual"].sum()
    tolerance = 3 * 100 * (se_cap**2 + 1 / held) ** 0.5
    assert abs(bt.error("assessments_started", "model", "total_error_pct")) < tolerance
    versus = bt.versus_simple().set_index("metric")
    for metric, margin in BACKTEST_MARGIN_PP.items():
        row = versus.loc[metric]
        assert row["worse_by"] <= margin, (metric, row.to_dict())
    assert not bt.verdict().startswith("WARNING") or (versus["worse_by"] > 0).any()
    # the referral forecast the scenario expects, with its 90% interval (issue 9 item 5): the
    # held-out months are Poisson referrals, so at least 8 of 12 fall inside (binomial
    # probability of fewer under 90% coverage: 0.4%)
    forecast = bt.referral_forecast
    assert forecast is not None and list(forecast["month"]) == list(
        bt.comparison[bt.comparison["metric"] == "referrals"]["month"])
    assert forecast["covered"].sum() >= 8, forecast


@pytest.mark.slow
def test_command_line_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth_file = tmp_path / "truth.toml"
    truth_file.write_text(TRUTH.replace({"backlog.count": 300,
                                         "arrivals.referrals_per_month": 60.0}).to_toml())
    extract = tmp_path / "extract.csv"
    assert main(["synth", str(truth_file), "--extract-date", EXTRACT_DATE, "--history-months",
                 "36", "--out", str(extract)]) == 0
    frame = pd.read_csv(extract, dtype=str, keep_default_na=False)
    frame.loc[5, "referral_date"] = "31/02/2024"  # not a date
    frame.loc[9, "pathway"] = "dyslexia"
    frame.to_csv(extract, index=False)
    ids = set(frame["referral_id"])

    assert main(["validate", str(extract), "--extract-date", EXTRACT_DATE]) == 2
    err = capsys.readouterr().err
    assert "row 7, column referral_date: '31/02/2024' is not a date we can read" in err
    assert "row 11, column pathway: 'dyslexia' is not a known code" in err
    assert "Traceback" not in err

    out = tmp_path / "cal"
    args = ["calibrate", str(extract), "--extract-date", EXTRACT_DATE, "--out", str(out),
            "--replications", "1", "--replay-months", "12"]
    assert main(args) == 2  # stops on the bad rows by default
    assert "--on-error quarantine" in capsys.readouterr().err
    assert main([*args, "--on-error", "quarantine"]) == 0
    err = capsys.readouterr().err
    assert "1 of" in err  # the bad date's row set aside
    # the bad pathway is read as missing, its row kept: said once, by the command
    assert err.count("1 bad optional attribute value(s) read as missing, their rows kept") == 1
    quarantine = pd.read_csv(out / "quarantine.csv")
    assert len(quarantine) == 1
    for name in ("calibrated.toml", "fit.json", "report.md", "backlog.csv", "waits_km.png"):
        assert (out / name).exists(), name
    fit = json.loads((out / "fit.json").read_text())
    assert fit["parameters"]["annual_growth"]["ci_low"] is not None
    scenario = load_scenario(out / "calibrated.toml")
    assert scenario.simulation.start_date.isoformat() == "2026-01-01"
    text = "".join(p.read_text(errors="ignore") for p in out.iterdir() if p.suffix != ".png")
    assert not any(i in text for i in ids)  # no referral id in any output

    assert main(["run", str(out / "calibrated.toml"), "--replications", "2", "--months", "6",
                 "--executor", "serial", "--out", str(tmp_path / "run"), "--quiet",
                 "--no-figures"]) == 0
    assert main(args + ["--on-error", "quarantine"]) == 2  # folder exists: refused
    assert "--overwrite" in capsys.readouterr().err
    assert main(["calibrate", "--monthly", str(extract), "--out", str(tmp_path / "m")]) == 2
    assert "required column is missing" in capsys.readouterr().err
    assert main(["synth", str(truth_file), "--extract-date", EXTRACT_DATE, "--out",
                 str(tmp_path / "x.txt")]) == 2


@pytest.mark.slow
def test_calibration_notebook_runs() -> None:
    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).resolve().parents[1] / "notebooks" / "01_calibration.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = "".join(str(o.get("text", "")) for c in notebook.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "lowest month: aug" in outputs
