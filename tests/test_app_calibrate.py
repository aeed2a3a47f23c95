"""The app's Calibrate page and scenario uploads under AppTest, and calibration in memory.

The page runs with reduced tuning (12 months replayed, 2 replications per candidate) and short
projections, as a user would set them, so the whole file stays around a minute or two.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_helpers import start_app, errors, table_with

from app import calibrating, layout
from app.scenario_files import scenario_from_toml
from calibration.backtest import run_backtest
from calibration.calibrate import CalibrationOptions, Parameter, calibrate_extract
from calibration.extract import read_extract
from calibration.report import write_calibration
from calibration.synth import synthesise_extract
from model.pathway import simulate
from model.scenario import Scenario, ScenarioError, load_scenario

SMALL = {"horizon_months": 12, "replications": 3, "cal_tune_reps": 2, "cal_replay": 12,
         "cal_bt_reps": 4}


def start(page: str = "app/pages/calibrate.py") -> AppTest:
    return start_app(SMALL, page, timeout=300)






def number(text: str) -> float:
    return float(text.replace(",", "").replace("£", "").split()[0])


# -------------------------------------------------------------------------------------------------
# The synthetic example: validate, fit, back-test, use, run


@pytest.mark.slow
def test_synthetic_example_fits_backtests_and_runs_on_the_scenario_page() -> None:
    at = start()
    assert at.success[0].value.startswith("Read ")
    still_waiting = int(number(next(m.value for m in at.metric if m.label.startswith("Still"))))

    at.button(key="cal_fit").click().run()
    assert not at.exception and not at.error, errors(at)
    assert "**Fitted.**" in at.success[1].value and "replayed" in at.success[1].value
    fitted = table_with(at, "parameter").set_index("parameter")
    assert fitted.loc["capacity_multiplier", "source"] == "tuned by simulation"
    assert fitted.loc["annual_growth", "95% low"] != ""  # intervals are shown
    assert len(at.get("image")) == 4  # list, arrivals, waits and capacity figures
    texts = " ".join(m.value for m in at.markdown)
    assert "hours_per_assessment" in texts and "History fitted" in texts  # kept vs fitted
    calibration = at.session_state["ndpath_calibration_fit"]["result"]
    scenario = calibration.scenario
    # self-contained: starts the day after the extract date from the children still waiting in
    # the extract (less those in vetting the fitted acceptance takes as not joining, listed)
    assert scenario.backlog.table is None and scenario.backlog.waiting is not None
    dropped = sum(int(c["effect"].split()[0]) for c in calibration.changes
                  if "kept on the starting list" in c["what"])
    assert len(scenario.backlog.waiting.referral_date) == still_waiting - dropped
    assert scenario.simulation.start_date == dt.date(2026, 1, 1)
    assert fitted.loc["backlog_children", "estimate"] == f"{still_waiting - dropped:,}"

    at.button(key="cal_backtest").click().run()
    assert not at.exception and not at.error, errors(at)
    table = table_with(at, "mean absolute error (%)")
    assert len(table) == 12  # three measures x (model + three baselines)
    model_list = table[(table["measure"] == "Children waiting (month end)")
                       & (table["method"] == "ndpath (calibrated)")]
    assert float(model_list["mean absolute error (%)"].iloc[0]) < 10  # issue 3's bar
    assert len(at.get("image")) == 5
    assert any(m.value.startswith("**Over the 12 held-out months") for m in at.markdown)

    at.button(key="cal_use").click().run()
    name = str(at.text_input(key="cal_use_name").value)
    assert name.startswith("Calibrated: synthetic example")
    assert "now its starting scenario" in at.success[-1].value

    at.switch_page("app/pages/scenario.py").run()
    assert not at.exception and not at.error, errors(at)
    assert at.selectbox(key="base_scenario").value == f"session:{name}"
    offered = at.selectbox(key="base_scenario")  # under a name its narrow box shows whole
    assert layout.short_names([name])[name] in offered.options and name in offered.help
    assert at.subheader[0].value == f"Projection: {name}"
    run = at.session_state["ndpath_scenario_run"]
    assert run["baseline"].simulation.horizon_months == 12  # the user's run settings stay
    assert run["baseline"].backlog.waiting == scenario.backlog.waiting
    before = number(next(m.value for m in at.metric if m.label.startswith("Children waiting")))
    assert before > 0
    # the levers start at the calibrated scenario's positions (no change), and move it the
    # right way; the start stays the calibrated scenario through the change
    assert at.slider(key="add_wte_0").value == 0.0
    at.slider(key="add_wte_0").set_value(4.0)
    at.button(key="run").click().run()
    assert at.session_state["ndpath_start"].startswith("session:Calibrated")
    edited = at.session_state["ndpath_scenario_run"]["edited"]
    assert edited.assessment.professions[0].wte == pytest.approx(
        scenario.assessment.professions[0].wte + 4.0)
    assert not at.exception and not at.error, errors(at)
    after = number(next(m.value for m in at.metric if m.label.startswith("Children waiting")))
    assert after < before


def test_a_fit_that_the_data_cannot_support_is_a_message() -> None:
    rows = [f"c{i},2025-0{1 + i // 6}-1{i % 6},," for i in range(9)]
    data = ("referral_id,referral_date,assessment_start_date,discharge_date\n"
            + "\n".join(rows)).encode()
    at = start()
    at.radio(key="cal_source").set_value("upload").run()
    at.date_input(key="cal_extract_date").set_value(dt.date(2025, 2, 28))
    at.file_uploader(key="cal_upload").set_value(("small.csv", data, "text/csv")).run()
    at.button(key="cal_fit").click().run()
    assert not at.exception
    assert "This data cannot be calibrated" in errors(at) and "complete month" in errors(at)
    # nonsense options disable Fit with a message
    at.text_input(key="cal_exclude").set_value("March 2020").run()
    assert at.button(key="cal_fit").disabled and "YYYY-MM" in errors(at)


# -------------------------------------------------------------------------------------------------
# Monthly series


def test_monthly_example_calibrates_and_is_offered_to_the_other_pages() -> None:
    at = start()
    at.radio(key="cal_kind").set_value("monthly").run()
    assert not at.exception and not at.error, errors(at)
    assert at.multiselect(key="cal_monthly_age_bands").value == ["0-17"]
    assert at.text_input(key="cal_monthly_exclude").value == "2020-03..2020-08"
    assert at.success[0].value.startswith("Read 27 months, 2019-04 to 2021-06")
    at.button(key="cal_monthly_fit").click().run()
    assert not at.exception and not at.error, errors(at)
    fitted = table_with(at, "parameter").set_index("parameter")
    # what issue 3 found in the England series: growth and an August trough
    assert float(fitted.loc["annual_growth", "95% low"]) > 0
    assert float(fitted.loc["seasonality_aug", "estimate"]) < 1
    assert any("2020-03, 2020-04" in m.value for m in at.markdown)  # excluded months named
    assert any("backlog (no open_referrals)" in m.value for m in at.markdown)  # kept, and said
    assert len(at.get("image")) == 1
    at.button(key="cal_monthly_use").click().run()
    name = at.text_input(key="cal_monthly_use_name").value
    kept = at.session_state["ndpath_session_scenarios"][name]
    assert kept.simulation.start_date == dt.date(2021, 7, 1)
    assert kept.meta.name == name
    # national scale: the page says a projection will be slow
    assert any("minutes" in w.value for w in at.warning)
    # what the calibration warned of goes with the scenario, and the Scenario page says it
    assert kept.meta.warnings and any("providers" in w for w in kept.meta.warnings)
    at.switch_page("app/pages/scenario.py").run()
    said = [w.value for w in at.warning if w.value.startswith("From its calibration:")]
    assert len(said) == len(kept.meta.warnings)


BAD_SERIES = (b"month,new_referrals\n"
              b"2024-01,100\n"
              b"2024-02,-3\n"
              b"Feb 24,90\n")


def test_a_bad_monthly_upload_lists_every_problem() -> None:
    at = start()
    at.radio(key="cal_kind").set_value("monthly").run()
    at.radio(key="cal_monthly_source").set_value("upload").run()
    at.file_uploader(key="cal_monthly_upload").set_value(("series.csv", BAD_SERIES,
                                                           "text/csv")).run()
    assert not at.exception
    assert "This series cannot be used as it is: 2 problem(s)" in errors(at)
    problems = table_with(at, "fix")
    assert set(problems["column"]) == {"month", "new_referrals"}
    assert set(problems["row"]) == {3, 4}
    assert not [b for b in at.button if b.key == "cal_monthly_fit"]


# -------------------------------------------------------------------------------------------------
# Scenario files uploaded on the Scenario page


def test_uploaded_scenario_files_start_the_scenario_page_or_say_what_is_wrong() -> None:
    at = start("app/pages/scenario.py")
    upload = at.file_uploader(key="scenario_upload")
    upload.set_value(("mine.toml", b"[assessment]\nwtee = 3\n", "application/toml")).run()
    assert not at.exception
    assert "mine.toml cannot be used: 1 problem(s)" in errors(at)
    assert "assessment.wtee: unknown key" in errors(at)
    at.file_uploader(key="scenario_upload").set_value(
        ("calibrated.toml", b'[backlog]\ntable = "backlog.csv"\n', "application/toml")).run()
    assert "backlog.table = 'backlog.csv'" in errors(at)
    assert "Calibrate page" in errors(at) and "backlog.waiting" in errors(at)
    # one profession in the team: the pooled model (the default's recipes name three)
    good = (b'extends = "default.toml"\n[meta]\nname = "Nine psychologists"\n'
            b'[assessment]\ncapacity_model = "clinical_hours"\n'
            b"[[assessment.professions]]\nname = \"psychologist\"\nwte = 9.0\n")
    at.file_uploader(key="scenario_upload").set_value(("good.toml", good,
                                                       "application/toml")).run()
    assert not at.exception and not at.error, errors(at)
    assert at.selectbox(key="base_scenario").value == "session:Nine psychologists (from good.toml)"
    assert at.subheader[0].value == "Projection: Nine psychologists"
    assert at.slider(key="add_wte_0").value == 0.0
    assert "(now 9.0)" in at.slider(key="add_wte_0").label
    assert at.session_state["ndpath_scenario_run"]["baseline"].simulation.horizon_months == 12


def test_scenario_files_naming_other_files_are_refused() -> None:
    with pytest.raises(ScenarioError, match="can only extend a shipped scenario"):
        scenario_from_toml("a.toml", b'extends = "../secret.toml"\n')
    with pytest.raises(ScenarioError, match="not valid TOML"):
        scenario_from_toml("a.toml", b"[meta\n")
    with pytest.raises(ScenarioError, match="not text"):
        scenario_from_toml("a.toml", b"\xff\xfe\x00[")
    # a disabled backlog may keep a table it does not read
    off = scenario_from_toml("a.toml", b'[backlog]\nenabled = false\ntable = "x.csv"\n')
    assert not off.backlog.enabled


# -------------------------------------------------------------------------------------------------
# Calibration in memory


@pytest.fixture(scope="module")
def small_table():  # type: ignore[no-untyped-def]
    truth = Scenario().replace({"backlog.count": 300, "arrivals.referrals_per_month": 60,
                                "assessment.professions.0.wte": 1.0})
    return read_extract(synthesise_extract(truth, "2025-12-31", 36), "2025-12-31")


_WRITES: list[str] = []
_WATCHING: list[bool] = []


def _audit(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    """Record files opened for writing and folders made while a test watches (an audit hook:
    it sees every open, including ones cleaned up before the call returns)."""
    if not _WATCHING:
        return
    if event == "open" and isinstance(args[1], str) and set(args[1]) & set("wax+"):
        _WRITES.append(f"open {args[0]} {args[1]}")
    elif event in ("os.mkdir", "os.rename", "os.remove", "shutil.rmtree"):
        _WRITES.append(f"{event} {args[0]}")


sys.addaudithook(_audit)


def test_calibration_and_backtest_write_no_files(small_table, tmp_path, monkeypatch) -> None:
    here, temp = tmp_path / "cwd", tmp_path / "tmp"
    here.mkdir()
    temp.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    options = CalibrationOptions(replications=1, replay_months=12)
    _WRITES.clear()
    _WATCHING.append(True)
    try:
        calibration = calibrate_extract(small_table, options)
        backtest = run_backtest(small_table, 6, options, replications=2)
    finally:
        _WATCHING.clear()
    assert _WRITES == []
    assert os.listdir(here) == [] and os.listdir(temp) == []
    assert calibration.scenario.backlog.waiting is not None
    assert backtest.calibration.scenario.backlog.waiting is not None


def test_inline_children_run_exactly_as_the_calibration_folder_does(small_table,
                                                                    tmp_path) -> None:
    calibration = calibrate_extract(small_table, CalibrationOptions(replications=1, tune=False))
    scenario = calibration.scenario.replace({"simulation.horizon_months": 6})
    folder = write_calibration(calibration, tmp_path / "out", figures=False)
    text = (folder / "calibrated.toml").read_text()
    assert 'table = "backlog.csv"' in text and "[backlog.waiting]" not in text
    on_disk = load_scenario(folder / "calibrated.toml", ["simulation.horizon_months=6"])
    assert len(pd.read_csv(folder / "backlog.csv")) == len(calibration.backlog) > 0
    a, b = simulate(scenario, 0, 11), simulate(on_disk, 0, 11)
    assert a.events.equals(b.events) and a.children.equals(b.children)
    # the app's TOML download reads back to the same scenario
    assert scenario_from_toml("calibrated.toml", scenario.to_toml().encode()) == scenario


def test_counts_of_children_below_five_are_suppressed_in_the_fitted_values() -> None:
    table = calibrating.parameters_table([
        Parameter("backlog_children", 3, None, None, "children waiting", "extract"),
        Parameter("backlog.count", 12, None, None, "children", "series"),
        Parameter("annual_growth", 0.03, 0.01, 0.05, "per year"),
        Parameter("dispersion", 2.0, float("nan"), np.nan, "")]).set_index("parameter")
    assert table.loc["backlog_children", "estimate"] == "<5"
    assert table.loc["backlog.count", "estimate"] == "12"
    assert table.loc["annual_growth", ["estimate", "95% low", "95% high"]].tolist() == [
        "0.03", "0.01", "0.05"]
    assert table.loc["dispersion", "95% low"] == ""


def test_the_bundled_monthly_example_is_the_public_series_with_its_source_note() -> None:
    frame = calibrating.example_monthly()
    assert list(frame.columns) == ["month", "age_band", "new_referrals"]
    assert frame["month"].min() == "2019-04" and frame["month"].max() == "2021-06"
    note = (Path(calibrating.EXAMPLE_MONTHLY).parent / "README.md").read_text()
    assert "Open Government Licence v3.0" in note and "ASD12" in note


def test_a_large_run_warning_says_the_children_as_an_estimate() -> None:
    """The warning said "about 311,852 children": an estimate, said to the child."""
    base = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "default.toml")
    small = base.replace({"simulation.horizon_months": 12})
    assert calibrating.large_run_warning(small) == ""
    large = base.replace({"simulation.horizon_months": 120,
                          "arrivals.referrals_per_month": 2_500.0})
    children = calibrating.referrals_over_horizon(large)
    assert calibrating.LARGE_RUN < children < 1e6 and round(children) % 1000  # not already round
    said = calibrating.large_run_warning(large)
    shown = said.split("about ")[1].split(" children")[0]
    assert shown == f"{round(children, -3):,.0f}", said  # three figures from 100,000


def test_monthly_upload_sums_the_age_bands_chosen_and_says_a_band_some_months_lack() -> None:
    """Several bands chosen are summed month by month (the command line's ``--age-band`` once
    for each); none chosen sums every band and says which band some months lack."""
    months = pd.period_range("2022-01", periods=24, freq="M").astype(str)
    rows = [f"{m},{band},{count}" for k, m in enumerate(months)
            for band, count in (("5-11", 100 + k), ("12-17", 50 + 2 * k), ("18-24", 30))
            if not (band == "18-24" and k < 2)]
    data = ("month,age_band,new_referrals\n" + "\n".join(rows)).encode()
    at = start()
    at.radio(key="cal_kind").set_value("monthly").run()
    at.radio(key="cal_monthly_source").set_value("upload").run()
    at.file_uploader(key="cal_monthly_upload").set_value(("bands.csv", data, "text/csv")).run()
    assert not at.exception, errors(at)
    at.multiselect(key="cal_monthly_age_bands").set_value(["5-11", "12-17"]).run()
    assert not at.exception and not at.error, errors(at)
    series = table_with(at, "new_referrals")
    assert series["new_referrals"].astype(int).tolist() == [150 + 3 * k for k in range(24)]
    at.multiselect(key="cal_monthly_age_bands").set_value(["12-17"]).run()
    assert table_with(at, "new_referrals")["new_referrals"].astype(int).tolist() == [
        50 + 2 * k for k in range(24)]
    # the two months without an 18-24 row: said when every band is summed
    at.multiselect(key="cal_monthly_age_bands").set_value([]).run()
    at.button(key="cal_monthly_fit").click().run()
    assert not at.exception, errors(at)
    said = " ".join(w.value for w in at.warning)
    assert "18-24 has no row for 2 month(s)" in said and "2022-01..2022-02" in said
    # several bands, one lacking months: refused with the band named
    at.multiselect(key="cal_monthly_age_bands").set_value(["5-11", "18-24"]).run()
    assert "18-24" in errors(at) and "2022-01..2022-02" in errors(at)
