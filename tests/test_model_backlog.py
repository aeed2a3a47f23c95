"""The initial backlog keeps the time its children have already waited and their order.

Given as a count (waits drawn from ``backlog.waited_weeks``) or as a table of the children
actually waiting (``backlog.table``), a backlog child's referral day is negative, its wait at
assessment includes the time already waited, and under first come first served (with nobody
leaving) the backlog is assessed in order of referral date, before any new referral.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import first_time
from model.distributions import Histogram
from model.metrics import replication_metrics
from model.pathway import SimulationResult, simulate
from model.scenario import DAYS_PER_YEAR, Scenario, ScenarioError, load_scenario

DEFAULT = Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"

NOBODY_LEAVES = {
    "leaving.withdrawal_per_year": 0.0, "leaving.moved_per_year": 0.0,
    "leaving.private_per_year": 0.0, "leaving.age_out": False,
    "support.needs_met_per_year": 0.0,
}


def _fifo_backlog(count: int = 800) -> Scenario:
    return Scenario().replace({
        **NOBODY_LEAVES, "simulation.horizon_months": 18, "backlog.count": count,
        "arrivals.referrals_per_month": 40.0, "assessment.discipline": "fifo"})


def _assessment_order(result: SimulationResult) -> np.ndarray:
    ev = result.events
    return ev.loc[ev["event"] == "assessment_start", "child"].to_numpy()


def test_backlog_children_keep_their_time_already_waited() -> None:
    scenario = _fifo_backlog()
    result = simulate(scenario, 0)
    children = result.children
    backlog = children["backlog"].to_numpy()
    referral = children["referral_day"].to_numpy()
    assert backlog.sum() == 800
    assert (referral[backlog] < 0).all() and (referral[~backlog] >= 0).all()
    # the waits already done follow backlog.waited_weeks (piecewise uniform over the bands)
    waited_weeks = -referral[backlog] / 7.0
    dist = scenario.backlog.waited_weeks
    assert isinstance(dist, Histogram)
    assert waited_weeks.min() >= dist.edges[0] and waited_weeks.max() <= dist.edges[-1]
    se = waited_weeks.std() / np.sqrt(len(waited_weeks))
    assert abs(waited_weeks.mean() - dist.mean_value) < 4 * se
    shares = np.histogram(waited_weeks, bins=dist.edges)[0] / len(waited_weeks)
    expected = np.asarray(dist.weights) / sum(dist.weights)
    assert np.abs(shares - expected).max() < 4 * np.sqrt(expected * (1 - expected) / 800).max()
    # their wait at assessment counts from the referral, before the run started
    start = first_time(result, "assessment_start")
    started = backlog & np.isfinite(start)
    assert started.sum() > 100
    wait = start[started] - referral[started]
    assert (wait >= -referral[started]).all() and (wait > start[started]).all()
    metrics = replication_metrics(result)
    all_started = np.isfinite(start) & (start < result.horizon_days)
    assert metrics["wait_of_those_assessed_weeks_mean"] == pytest.approx(
        float((start - referral)[all_started].mean()) / 7.0, rel=1e-12)
    # at the start the whole backlog is on the list, with its waits in the wait bands
    assert metrics["waiting_list_start"] == 800


def test_backlog_is_assessed_first_come_first_served() -> None:
    result = simulate(_fifo_backlog(), 0)
    order = _assessment_order(result)
    referral = result.children["referral_day"].to_numpy()
    backlog = result.children["backlog"].to_numpy()
    assert len(order) > backlog.sum(), "the run reaches new referrals too"
    # the log keeps the order children were taken in, within a session as well: the backlog
    # by referral date, everyone by the day they joined the list (new referrals after vetting)
    in_backlog = order[backlog[order]]
    assert (np.diff(referral[in_backlog]) >= 0).all(), "backlog assessed out of referral order"
    joined = first_time(result, "list_join")
    assert (np.diff(joined[order]) >= 0).all(), "assessed out of list order"
    first_new = np.flatnonzero(~backlog[order])[0]
    assert backlog[order[:first_new]].all() and backlog[order[:first_new]].sum() == backlog.sum()


def test_backlog_ages_are_still_under_the_transfer_age() -> None:
    scenario = Scenario().replace({"backlog.count": 3000, "simulation.horizon_months": 1})
    result = simulate(scenario, 0)
    children = result.children[result.children["backlog"]]
    age_now = children["age_at_referral"] - children["referral_day"] / DAYS_PER_YEAR
    assert (age_now < scenario.leaving.age_out_years).all()


def _write_table(folder: Path, rows: list[dict[str, str]]) -> Path:
    path = folder / "waiting.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _table_scenario(folder: Path, table: Path, extra: str = "") -> Path:
    text = (f'extends = "{DEFAULT}"\n\n[simulation]\nhorizon_months = 18\n\n'
            f'[backlog]\nenabled = true\ntable = "{table.name}"\n{extra}')
    path = folder / "with_table.toml"
    path.write_text(text)
    return path


def test_backlog_table_keeps_dates_attributes_and_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2026-01-01")
    days_ago = rng.integers(1, 1500, size=300)
    rows = [{"referral_date": (start - pd.Timedelta(days=int(d))).strftime("%Y-%m-%d"),
             "pathway": ["autism", "ADHD", " both "][k % 3],
             "priority": "routine", "age_at_referral": "6"}
            for k, d in enumerate(days_ago)]  # deliberately not in date order
    table = _write_table(tmp_path, rows)
    scenario = load_scenario(_table_scenario(tmp_path, table))
    scenario = scenario.replace({**NOBODY_LEAVES, "assessment.professions.0.wte": 6.0})
    result = simulate(scenario, 0)
    children = result.children[result.children["backlog"]]
    assert len(children) == 300
    # exactly the days already waited, oldest first
    assert sorted(-children["referral_day"].to_numpy()) == sorted(days_ago.astype(float))
    assert (np.diff(children["referral_day"].to_numpy()) >= 0).all()
    assert set(children["pathway"].astype(str)) == {"autism", "adhd", "both"}
    assert (children["age_at_referral"] == 6.0).all()
    order = _assessment_order(result)
    backlog = result.children["backlog"].to_numpy()
    taken = order[backlog[order]]
    assert len(taken) == 300, "with ample capacity the whole table is assessed"
    referral = result.children["referral_day"].to_numpy()
    assert (np.diff(referral[taken]) >= 0).all()
    start = first_time(result, "assessment_start")
    assert ((start - referral)[taken] >= days_ago.min()).all()


def test_backlog_table_without_ages_keeps_children_under_the_transfer_age(tmp_path: Path) -> None:
    start = pd.Timestamp("2026-01-01")
    rows = [{"referral_date": (start - pd.Timedelta(days=int(d))).strftime("%Y-%m-%d")}
            for d in np.linspace(10, 2000, 400)]
    scenario = load_scenario(_table_scenario(tmp_path, _write_table(tmp_path, rows)))
    result = simulate(scenario, 0)
    children = result.children[result.children["backlog"]]
    age_now = children["age_at_referral"] - children["referral_day"] / DAYS_PER_YEAR
    assert (age_now < scenario.leaving.age_out_years).all(), \
        "children on today's list are under the transfer age"


def test_backlog_table_bad_date_names_row_and_column(tmp_path: Path) -> None:
    rows = [{"referral_date": "2024-03-01", "pathway": "autism"},
            {"referral_date": "2024-13-01", "pathway": "autism"},
            {"referral_date": "2024-05-01", "pathway": "dyslexia"}]
    scenario = load_scenario(_table_scenario(tmp_path, _write_table(tmp_path, rows)))
    with pytest.raises(ScenarioError) as error:
        simulate(scenario, 0)
    problems = "\n".join(error.value.problems)
    assert "row 3, column referral_date" in problems and "'2024-13-01'" in problems
    assert "row 4, column pathway" in problems and "'dyslexia'" in problems
    assert len(error.value.problems) == 2


def test_backlog_table_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = _table_scenario(tmp_path, tmp_path / "nowhere.csv")
    with pytest.raises(ScenarioError, match=r"backlog\.table = .*nowhere\.csv.*file not found"):
        load_scenario(path)
