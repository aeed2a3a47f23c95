"""The queueing sanity panel (model.waitinglist): the NHS waiting-list formulas against their
published worked examples, the panel's inputs against the scenario, and the simulation against
the formulas where their assumptions hold.

Worked examples (printed by R to 7 significant digits, reproduced to that precision):

* NHSRwaitinglist's "example walkthrough" vignette (``vignettes/example_walkthrough.Rmd``,
  rendered at nhs-r-community.github.io/NHSRwaitinglist/articles/example_walkthrough.html), the
  running example of Fong et al. 2022, *Understanding Waiting Lists Pressures* (medRxiv
  10.1101/2022.08.23.22279117): a P4 ENT list with demand 30 a week, capacity 27, 1,200
  waiting, a 52-week target and a mean wait of 63 weeks; and its P2 list (220 waiting, 24-week
  mean wait, 4-week target).
* The package README's ``wl_stats`` table (a simulated list: demand 9.818065 a week, capacity
  10.08372, cvs 1.131775 and 0.7003787, mean wait 1.8 weeks, 18-week target).
* The package's own unit tests (``tests/testthat/test-calc_target_capacity.R``,
  ``test-calc_relief_capacity.R``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.experiment import run_replications
from model.pathway import expected_monthly_referrals
from model.scenario import WEEKS_PER_YEAR, load_scenario
from model.waitinglist import (join_share, kingman_mean_wait, queue_load, relief_capacity,
                               sanity_panel, scenario_queue, share_over, target_capacity,
                               target_mean_wait, target_queue_size, waiting_list_pressure)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
VALIDATION = SCENARIOS / "validation" / "waiting_list_formulas.toml"


def printed(value: float, text: str) -> None:
    """``value`` as R prints it (7 significant digits) is ``text``."""
    assert f"{value:.7g}" == text, f"{value!r} prints as {value:.7g}, published {text}"


# -------------------------------------------------------------------------------------------------
# Published worked examples


def test_walkthrough_p4_ent_list() -> None:
    """Fong et al.'s P4 ENT list, as the NHSRwaitinglist walkthrough vignette prints it."""
    demand, capacity, queue, target, mean_wait = 30, 27, 1200, 52, 63
    printed(queue_load(demand, capacity), "1.111111")
    printed(target_mean_wait(target), "13")
    tq = target_queue_size(demand, target)
    printed(tq, "390")
    printed(queue / tq, "3.076923")
    printed(relief_capacity(demand, queue, tq, 26), "61.15385")
    # the vignette passes its variability parameter F as `factor` (F = 1 and F = 6.58)
    printed(target_capacity(demand, target, factor=1), "30.01923")
    printed(target_capacity(demand, target, factor=6.58), "30.12654")
    printed(waiting_list_pressure(mean_wait, target), "2.423077")
    printed(waiting_list_pressure(24, 4), "12")  # the P2 list


def test_readme_wl_stats_table() -> None:
    """The README's wl_stats row: 18-week target, factor 4, the list's own cvs."""
    demand, capacity = 9.818065, 10.08372
    # the load is printed from unrounded demand and capacity (0.9736549); from the printed
    # 7-digit inputs it can differ by their rounding, 5e-7 relative
    assert queue_load(demand, capacity) == pytest.approx(0.9736549, rel=1e-6)
    printed(target_queue_size(demand, 18), "44.18129")
    printed(target_capacity(demand, 18, 4, cv_demand=1.131775, cv_capacity=0.7003787), "10.01489")
    printed(waiting_list_pressure(1.8, 18), "0.2")


def test_package_unit_test_values() -> None:
    assert target_capacity(30, 52, 3, 1.1, 1.2) == pytest.approx(30.076442, abs=5e-7)
    got = [relief_capacity(*args) for args in [(30, 1200, 390, 26), (33, 800, 200, 30),
                                               (35, 250, 100, 15)]]
    assert got == pytest.approx([61.153846, 53, 45], abs=5e-7)


def test_kingman_and_the_tail_are_mm1_exactly() -> None:
    """For M/M/1 (cvs 1) Kingman's wait is lambda / (mu (mu - lambda)) and the tail rho e^-(mu-lambda)t;
    at target capacity the wait is load x target / 4 (the target-capacity formula drops the load)."""
    lam, mu = 0.8, 1.0
    assert kingman_mean_wait(lam, mu) == pytest.approx(lam / (mu * (mu - lam)))
    assert share_over(2.0, lam, mu) == pytest.approx(0.8 * math.exp(-0.4))
    tc = target_capacity(1.0, 13.0)
    assert tc == pytest.approx(17 / 13)
    assert kingman_mean_wait(1.0, tc) == pytest.approx((1 / tc) * 13 / 4)
    assert kingman_mean_wait(1.0, 1.0) == math.inf and queue_load(1.0, 0.0) == math.inf


# -------------------------------------------------------------------------------------------------
# The panel's inputs come from the scenario


def test_default_scenario_queue_from_first_principles() -> None:
    # the pooled team (capacity by profession, the default's model, is checked at the end)
    s = load_scenario(SCENARIOS / "default.toml", ['assessment.capacity_model="clinical_hours"'])
    q = scenario_queue(s)
    a = s.assessment
    hours = sum(p.wte * p.job_plan_share for p in a.professions) * 37.5 * (1 - 7 / WEEKS_PER_YEAR)
    assert q.capacity_start == pytest.approx(hours / 11.5)
    assert q.capacity_horizon == pytest.approx(q.capacity_start)  # no staffing changes
    expected = expected_monthly_referrals(s)
    first_year_weeks = (pd.Timestamp("2027-01-01") - pd.Timestamp("2026-01-01")).days / 7
    assert q.demand_first_year == pytest.approx(0.9 * expected.iloc[:12].sum() / first_year_weeks)
    assert q.queue_start == 7000
    assert q.cv_capacity == pytest.approx(7.0 / 11.5, rel=2e-3)  # lognormal sd 7, mean 11.5
    panel = sanity_panel(s).set_index("key")
    assert panel.at["load", "value"] == pytest.approx(q.demand_first_year / q.capacity_start)
    assert panel.at["load", "value"] > 4  # as Bristol's 252 referrals against 40 assessments
    tq = q.demand_first_year * 13 / 4
    assert panel.at["target_queue_size", "value"] == pytest.approx(tq)
    assert panel.at["relief_capacity", "value"] == pytest.approx(
        q.demand_first_year + (7000 - tq) / 26)
    assert panel.at["pressure_start", "value"] == pytest.approx(2 * q.mean_waited_start / 13)
    # not simulated: nothing is compared
    assert panel["agrees"].isna().all()
    # by profession: the psychologists' hours over their 5.3 hours an assessment (the recipes
    # over the referral mix) bind, and the comparison with the simulation is not judged
    by = scenario_queue(load_scenario(SCENARIOS / "default.toml"))
    psych = 3.0 * 0.6 * 37.5 * (1 - 7 / WEEKS_PER_YEAR)
    assert by.capacity_start == pytest.approx(psych / 5.3)
    assert by.capacity_horizon == pytest.approx(by.capacity_start)
    assert by.professions_limiting == 3


def test_join_share_and_staffing_changes() -> None:
    profiled = load_scenario(SCENARIOS / "needs_led_profiling.toml")
    r, p = profiled.profiling.routing, profiled.profiling
    assert join_share(profiled) == pytest.approx(
        profiled.vetting.accept_probability
        * (r.diagnostic + (r.needs_led + r.signposted) * p.diagnosis_requested_anyway))
    extra = load_scenario(SCENARIOS / "extra_clinicians.toml")
    q = scenario_queue(extra)
    assert q.capacity_start == pytest.approx(scenario_queue(load_scenario(
        SCENARIOS / "default.toml")).capacity_start)
    assert q.capacity_horizon > q.capacity_start  # 5 more WTE from April 2026


def test_validation_scenario_sits_at_target_capacity() -> None:
    q = scenario_queue(load_scenario(VALIDATION))
    assert q.demand_horizon == pytest.approx(1.0, rel=1e-3)
    assert q.capacity_horizon == pytest.approx(17 / 13)
    assert target_capacity(1.0, 13.0, 4, q.cv_demand, q.cv_capacity) == pytest.approx(
        q.capacity_horizon, rel=1e-3)


# -------------------------------------------------------------------------------------------------
# The simulation against the formulas


@pytest.mark.slow
def test_overloaded_list_throughput_is_the_formula_capacity() -> None:
    """With the list never empty every clinical hour is used: assessments started a week match
    clinical hours / mean hours per assessment; a scenario whose capacity the simulation did not
    run is flagged.

    The default team for 5 years (a smaller backlog, support and escalation off, to be quick):
    each replication's throughput varies by about 0.8% (the random hours of some 3,300
    assessments), so 8 replications resolve a capacity 3% off."""
    s = load_scenario(SCENARIOS / "default.toml", ["backlog.count=500", "support.enabled=false",
                                                   "escalation.enabled=false",
                                                   'assessment.capacity_model="clinical_hours"'])
    result = run_replications(s, 8, executor="serial")
    panel = sanity_panel(s, result.per_replication, result.monthly).set_index("key")
    row = panel.loc["capacity_horizon_per_week"]
    assert row["holds"] is True and row["agrees"] is True
    assert row["simulated"] == pytest.approx(row["value"], rel=0.02)
    assert panel.at["referrals_per_week", "agrees"] is True
    # children leave the list, so the plain growth formula is not judged
    assert panel.at["list_growth_per_week", "holds"] is False
    assert panel.at["list_growth_per_week", "agrees"] is None
    # the same results against a team 3% larger (paediatricians 3 -> 3.3 WTE): the check fails
    bigger = s.replace({"assessment.professions.0.wte": 3.3})
    wrong = sanity_panel(bigger, result.per_replication, result.monthly).set_index("key")
    assert wrong.at["capacity_horizon_per_week", "agrees"] is False


@pytest.mark.slow
def test_simulation_agrees_with_the_formulas_where_they_hold() -> None:
    """M/M/1 at the formulas' target capacity for 13 weeks (scenarios/validation/
    waiting_list_formulas.toml): the mean wait, the mean list and the share over 13 weeks.

    Theory (M/M/1, FIFO): W_q = rho / (mu - lambda) = (13/17) x 13/4 = 2.485 weeks, L_q =
    lambda W_q, P(W_q > 13) = rho e^-4 = 1.40%. The runs start empty, so the mean over 50 years
    is a little low (the transient: about 50 weeks' relaxation time against 2,600 weeks);
    replication error dominates: 24 replications give a standard error about 3% of the mean
    wait. The tolerance is the 99.9% t-interval plus nothing else (servers, no sessions).
    """
    s = load_scenario(VALIDATION)
    result = run_replications(s, 24, executor="serial")
    lam, mu = 1.0, 17 / 13
    rho = lam / mu
    wait = rho / (mu - lam)
    assert wait == pytest.approx(2.485, abs=1e-3)
    per_rep = result.per_replication
    waits = per_rep["wait_of_those_assessed_weeks_mean"].to_numpy()
    se = waits.std(ddof=1) / math.sqrt(len(waits))
    assert abs(waits.mean() - wait) <= 3.8 * se  # t(23) at 99.9%
    assert se < 0.05 * wait  # the test can tell the ρ factor (31%) from the truth
    panel = sanity_panel(s, per_rep, result.monthly).set_index("key")
    for key in ("mean_wait_steady_state", "mean_list_steady_state", "pct_over_13w_steady_state",
                "referrals_per_week"):
        assert panel.at[key, "holds"] is True, key
        assert panel.at[key, "agrees"] is True, (key, panel.loc[key].to_dict())
    assert panel.at["mean_wait_steady_state", "value"] == pytest.approx(wait, rel=1e-3)
    assert panel.at["pct_over_13w_steady_state", "value"] == pytest.approx(
        100 * rho * math.exp(-4), rel=1e-3)
    assert panel.at["mean_list_steady_state", "value"] == pytest.approx(lam * wait, rel=1e-3)
    # a list that empties: throughput is demand, not capacity, and is not judged
    assert panel.at["capacity_horizon_per_week", "holds"] is False
    # the same results against a service 10% slower, which they did not come from: Kingman says
    # 4.45 weeks and the check fails
    slower = s.replace({"assessment.service_days.mean": 7 * 13 / 17 * 1.1})
    wrong = sanity_panel(slower, per_rep, result.monthly).set_index("key")
    assert wrong.at["mean_wait_steady_state", "holds"] is True
    assert wrong.at["mean_wait_steady_state", "agrees"] is False
    assert wrong.at["mean_list_steady_state", "agrees"] is False


def test_ndpath_run_prints_the_panel_and_writes_sanity_csv(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ndpath.cli import main

    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "default.toml"), "--months", "2", "--replications", "2",
                 "--set", "backlog.count=200", "--executor", "serial", "--no-figures",
                 "--quiet", "--out", str(out)]) == 0
    printed_out = capsys.readouterr().out
    assert "Queueing sanity check" in printed_out and "Target list size" in printed_out
    panel = pd.read_csv(out / "sanity.csv")
    assert {"key", "quantity", "value", "simulated", "assumptions", "holds", "agrees",
            "tolerance"} <= set(panel.columns)
    assert "relief_capacity" in set(panel["key"])


def test_mean_time_waited_by_the_list_at_the_end() -> None:
    """list_wait_weeks_mean_end (the mean waiting-list pressure uses) from the log by hand."""
    from model.metrics import child_times, replication_metrics
    from model.pathway import simulate

    s = load_scenario(SCENARIOS / "default.toml", ["simulation.horizon_months=3",
                                                   "backlog.count=300"])
    result = simulate(s, 0)
    t = child_times(result)
    h = result.horizon_days
    on_list = (t.list_join <= h) & ~(t.list_leave <= h)
    by_hand = float(np.mean(h - t.referral[on_list])) / 7
    assert replication_metrics(result, t)["list_wait_weeks_mean_end"] == pytest.approx(by_hand)
    # a mean, not the median: the backlog's long waits pull it above
    assert by_hand > replication_metrics(result, t)["list_wait_weeks_p50_end"]


def test_the_shipped_default_referral_check_compares_new_referrals_with_new_referrals() -> None:
    """The default brings children back after they leave (re-referral): the formula's rate is
    the scenario's new referrals, so the simulated side is the new referrals only. Counting the
    re-referrals too said DISAGREES (70.1 a week against 72.1) on the shipped default."""
    s = load_scenario(SCENARIOS / "default.toml", ["simulation.horizon_months=60"])
    assert s.rereferral.enabled
    result = run_replications(s, 8, executor="local")
    per_rep = result.per_replication
    assert per_rep["re_referrals"].mean() > 100  # enough to tell the two counts apart
    row = sanity_panel(s, per_rep, result.monthly).set_index("key").loc["referrals_per_week"]
    weeks = scenario_queue(s).weeks
    new = (per_rep["referrals"] - per_rep["re_referrals"]) / weeks
    assert row["simulated"] == pytest.approx(new.mean(), rel=1e-12)
    assert row["agrees"] is True, row.to_dict()
