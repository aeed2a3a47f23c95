"""Extreme and simple cases with exact (or exactly known distributional) answers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import first_time
from model.metrics import replication_metrics
from model.pathway import SimulationResult, simulate
from model.scenario import DAYS_PER_YEAR, Scenario

# One clinician giving exactly 37.5 hours a week, nobody leaving, every other stage off.
BARE: dict[str, Any] = {
    "simulation.horizon_months": 12,
    "arrivals.enabled": False,
    "backlog.count": 2000,
    "vetting.enabled": False,
    "support.enabled": False,
    "escalation.enabled": False,
    "leaving.withdrawal_per_year": 0.0,
    "leaving.moved_per_year": 0.0,
    "leaving.private_per_year": 0.0,
    "leaving.age_out": False,
    "assessment.professions": [{"name": "clinician", "wte": 1.0, "job_plan_share": 1.0,
                                "cost_per_wte_year": 100_000.0}],
    "assessment.leave_weeks_per_year": 0.0,
    "assessment.hours_per_assessment": {"kind": "fixed", "value": 10.0},
}


def bare(extra: dict[str, Any] | None = None) -> Scenario:
    return Scenario().replace({**BARE, **(extra or {})})


def _starts_per_session(result: SimulationResult) -> pd.Series:
    ev = result.events
    return ev[ev["event"] == "assessment_start"].groupby("time_days").size()


def test_fixed_hours_under_overload_give_exact_throughput() -> None:
    """37.5 h a week, 10 h each, always someone waiting: after k sessions ceil(H_k / 10) started,
    H_k the hours granted so far (3.75 assessments a week).

    A session takes children while it has hours left; the last one borrows from the next session.
    The last session (day 364 of 365) grants only the hours up to the horizon: one day's.
    """
    result = simulate(bare(), 0)
    per_session = _starts_per_session(result)
    sessions = np.arange(0.0, result.horizon_days, 7.0)
    assert list(per_session.index) == list(sessions)
    cumulative = per_session.cumsum().to_numpy()
    k = np.arange(1, len(sessions) + 1)
    granted = 37.5 / 7.0 * np.minimum(7.0 * k, result.horizon_days)
    np.testing.assert_array_equal(cumulative, np.ceil(granted / 10.0 - 1e-9))
    metrics = replication_metrics(result)
    assert metrics["clinician_utilisation"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["assessments_started"] == math.ceil(37.5 / 7.0 * result.horizon_days / 10.0)
    assert metrics["waiting_list_end"] == 2000 - metrics["assessments_started"]
    # completed: started at least 8 weeks (fixed elapsed) before the horizon
    fixed = bare({"assessment.elapsed_weeks": {"kind": "fixed", "value": 8.0}})
    result = simulate(fixed, 0)
    start = first_time(result, "assessment_start")
    assert replication_metrics(result)["assessments_completed"] == \
        int((start + 56.0 <= result.horizon_days).sum())


def test_session_interval_does_not_change_the_hours() -> None:
    """Daily sessions give the same hours as weekly ones: 37.5 / 7 per day."""
    result = simulate(bare({"assessment.session_interval_days": 1.0}), 0)
    cap = result.capacity[result.capacity["stage"] == "assessment"]
    assert cap["hours_available"].to_numpy() == pytest.approx(37.5 / 7.0, rel=1e-12)
    started = replication_metrics(result)["assessments_started"]
    days = len(cap)
    assert started == math.ceil(37.5 / 7.0 * days / 10.0 - 1e-9)


def test_zero_capacity_assesses_nobody() -> None:
    scenario = bare({"assessment.professions.0.wte": 0.0, "arrivals.enabled": True,
                     "vetting.enabled": True})
    result = simulate(scenario, 0)
    metrics = replication_metrics(result)
    assert metrics["assessments_started"] == 0 and metrics["assessments_completed"] == 0
    assert not (result.events["event"] == "assessment_start").any()
    assert math.isnan(metrics["clinician_utilisation"])
    accepted = (result.events["event"] == "vetted").sum()
    assert metrics["waiting_list_end"] == 2000 + accepted


def test_staffing_change_ramps_up_linearly() -> None:
    scenario = bare({"assessment.staffing_changes": [
        {"date": "2026-03-01", "profession": "clinician", "wte_change": 1.0, "ramp_weeks": 4.0}]})
    result = simulate(scenario, 0)
    cap = result.capacity[result.capacity["stage"] == "assessment"]
    change_day = (pd.Timestamp("2026-03-01") - pd.Timestamp("2026-01-01")).days
    # a session's hours are the integral of 37.5 / 7 x WTE(t) a day over [start, min(start + 7,
    # horizon)); the extra WTE ramps 0 -> 1 over 28 days, whose integral from 0 to t is F(t)
    ramp = 28.0

    def ramp_integral(t: np.ndarray) -> np.ndarray:
        since = np.clip(t - change_day, 0.0, None)
        return np.where(since <= ramp, since**2 / (2 * ramp), ramp / 2 + since - ramp)

    begin = cap["time_days"].to_numpy()
    end = np.minimum(begin + 7.0, result.horizon_days)
    exact = 37.5 / 7.0 * ((end - begin) + ramp_integral(end) - ramp_integral(begin))
    np.testing.assert_allclose(cap["hours_available"].to_numpy(), exact, rtol=1e-12)
    # the session of day 56 straddles the change on day 59: 3 days before it, 4 of ramp after
    straddle = begin == 56.0
    assert cap["hours_available"].to_numpy()[straddle] == pytest.approx(
        37.5 / 7.0 * (7.0 + 4.0**2 / (2 * ramp)), rel=1e-12)
    years = result.horizon_days / DAYS_PER_YEAR
    cost = replication_metrics(result)["cost_total"]
    assert cost == pytest.approx(100_000 * years + 100_000 * (result.horizon_days - change_day)
                                 / DAYS_PER_YEAR, rel=1e-12)


def test_outsourced_block_buys_exactly_its_assessments() -> None:
    scenario = bare({"assessment.professions.0.wte": 0.0, "assessment.outsourced": [
        {"start_date": "2026-03-01", "end_date": "2026-09-01", "assessments": 500,
         "cost_per_assessment": 2000.0}]})
    result = simulate(scenario, 0)
    ev = result.events
    starts = ev[ev["event"] == "assessment_start"]
    assert (starts["detail"] == "outsourced").all() and len(starts) == 500
    first = (pd.Timestamp("2026-03-01") - pd.Timestamp("2026-01-01")).days
    last = (pd.Timestamp("2026-09-01") - pd.Timestamp("2026-01-01")).days
    times = starts["time_days"].to_numpy()
    assert times.min() >= first and times.max() <= last
    # spread evenly: at each weekly step the running total is the block's share of elapsed time
    steps = np.unique(times)
    running = np.searchsorted(np.sort(times), steps, side="right")
    np.testing.assert_array_equal(running, np.round(500 * (steps - first) / (last - first)))
    metrics = replication_metrics(result)
    assert metrics["outsourced_assessments"] == 500
    assert metrics["cost_total"] == pytest.approx(500 * 2000.0, rel=1e-12)


def test_outsourced_block_that_began_before_the_start_buys_only_the_rest() -> None:
    """Places of the days before the start were used then: no catch-up burst on day 0."""
    scenario = bare({"assessment.professions.0.wte": 0.0, "assessment.outsourced": [
        {"start_date": "2025-10-01", "end_date": "2026-04-01", "assessments": 600}]})
    result = simulate(scenario, 0)
    starts = result.events[result.events["event"] == "assessment_start"]
    first = (pd.Timestamp("2025-10-01") - pd.Timestamp("2026-01-01")).days
    last = (pd.Timestamp("2026-04-01") - pd.Timestamp("2026-01-01")).days
    assert len(starts) == 600 - round(600 * -first / (last - first))
    per_step = starts.groupby("time_days").size()
    assert per_step.max() <= math.ceil(600 * 7 / (last - first)) + 1


def test_servers_with_fixed_service_work_in_waves() -> None:
    scenario = bare({"assessment.capacity_model": "servers", "assessment.servers": 7,
                     "assessment.service_days": {"kind": "fixed", "value": 10.0}})
    result = simulate(scenario, 0)
    per_time = _starts_per_session(result)
    waves = np.arange(0.0, result.horizon_days, 10.0)
    assert list(per_time.index) == list(waves) and (per_time == 7).all()
    metrics = replication_metrics(result)
    assert metrics["assessments_completed"] == 7 * math.floor(result.horizon_days / 10.0)
    assert metrics["clinician_utilisation"] == pytest.approx(1.0, abs=1e-12)


def test_vetting_and_profiling_switches_route_everyone() -> None:
    on = {"arrivals.enabled": True, "vetting.enabled": True, "backlog.count": 0}
    rejected = simulate(bare({**on, "vetting.accept_probability": 0.0}), 0)
    ev = rejected.events
    new = (ev["event"] == "referral").sum()
    assert new > 0 and not (ev["event"] == "list_join").any()
    assert (ev.loc[ev["event"] == "exit", "detail"] == "rejected").all()
    profiled = simulate(bare({**on, "vetting.accept_probability": 1.0, "profiling.enabled": True,
                              "profiling.practitioner_wte": 50.0,
                              "profiling.routing": {"needs_led": 0.0, "diagnostic": 1.0,
                                                    "signposted": 0.0}}), 0)
    ev = profiled.events
    assert not (ev["event"] == "exit").any()
    assert (ev["event"] == "profiled").sum() == (ev["event"] == "list_join").sum() > 0
    needs_led = simulate(bare({**on, "vetting.accept_probability": 1.0, "profiling.enabled": True,
                               "profiling.practitioner_wte": 50.0,
                               "profiling.diagnosis_requested_anyway": 0.0,
                               "profiling.routing": {"needs_led": 1.0, "diagnostic": 0.0,
                                                     "signposted": 0.0}}), 0)
    ev = needs_led.events
    exits = ev[ev["event"] == "exit"]
    assert len(exits) == (ev["event"] == "profiled").sum() > 0
    assert (exits["detail"] == "needs_led").all() and not (ev["event"] == "list_join").any()
    support = ev[ev["event"] == "support_start"]
    assert (support["detail"] == "needs_led_plan").all()
    assert set(support["child"]) == set(exits["child"])
    metrics = replication_metrics(needs_led)
    assert metrics["needs_led_exits"] == len(exits)


def _referral_counts(scenario: Scenario, replications: int) -> np.ndarray:
    """Monthly new referrals per replication (rows) with every other stage switched off."""
    out = []
    for k in range(replications):
        result = simulate(scenario, k)
        days = result.children["referral_day"].to_numpy()
        out.append(np.histogram(days, bins=result.month_starts_days)[0])
    return np.asarray(out)


def test_arrivals_alone_are_poisson_with_the_right_mean() -> None:
    scenario = bare({"arrivals.enabled": True, "backlog.enabled": False,
                     "assessment.professions.0.wte": 0.0, "arrivals.referrals_per_month": 100.0,
                     "arrivals.annual_growth": 0.0, "arrivals.seasonality": [1.0] * 12})
    totals = _referral_counts(scenario, 120).sum(axis=1)
    expected = 100.0 * 12  # a flat profile: 100 in every calendar month
    assert abs(totals.mean() - expected) < 4 * math.sqrt(expected / len(totals))
    # Poisson: variance equals the mean (dispersion test, two-sided 0.1%)
    dispersion = (len(totals) - 1) * totals.var(ddof=1) / expected
    assert stats.chi2(len(totals) - 1).cdf(dispersion) > 0.0005
    assert stats.chi2(len(totals) - 1).sf(dispersion) > 0.0005


def test_arrivals_follow_trend_and_seasonality() -> None:
    season = [0.934, 0.979, 1.174, 0.987, 1.157, 1.004, 1.174, 0.714, 0.766, 1.203, 1.0, 0.909]
    growth = 0.5
    scenario = bare({"arrivals.enabled": True, "backlog.enabled": False,
                     "assessment.professions.0.wte": 0.0, "arrivals.referrals_per_month": 150.0,
                     "arrivals.annual_growth": growth, "arrivals.seasonality": season,
                     "simulation.horizon_months": 24})
    counts = _referral_counts(scenario, 60)
    edges = simulate(scenario, 0).month_starts_days
    log_g = math.log1p(growth)
    # seasonality is a ratio of monthly counts: month m expects 150 x season[m] x the mean of
    # (1 + g)^(t / year) over the month (its exact integral over the month / the month's days)
    trend = DAYS_PER_YEAR / log_g * np.diff(np.exp(log_g * edges / DAYS_PER_YEAR)) / np.diff(edges)
    months = pd.date_range("2026-01-01", periods=24, freq="MS").month.to_numpy() - 1
    expected = 150.0 * np.asarray(season)[months] * trend
    observed = counts.mean(axis=0)
    z = (observed - expected) / np.sqrt(expected / len(counts))
    assert np.abs(z).max() < 4, z
    assert stats.chi2(24).sf((z**2).sum()) > 0.001


def test_leaving_hazards_give_the_right_shares() -> None:
    """With no capacity, backlog children leave at the summed hazard, by route in proportion."""
    hazards = {"withdrawn": 0.4, "moved": 0.2, "private": 0.6}
    scenario = bare({"assessment.professions.0.wte": 0.0, "backlog.count": 20_000,
                     "leaving.withdrawal_per_year": hazards["withdrawn"],
                     "leaving.moved_per_year": hazards["moved"],
                     "leaving.private_per_year": hazards["private"]})
    result = simulate(scenario, 0)
    years = result.horizon_days / DAYS_PER_YEAR
    total = sum(hazards.values())
    exits = result.events[result.events["event"] == "exit"]
    p = 1 - math.exp(-total * years)
    n = 20_000
    assert abs(len(exits) - n * p) < 4 * math.sqrt(n * p * (1 - p))
    shares = exits["detail"].astype(str).value_counts() / len(exits)
    for reason, rate in hazards.items():
        q = rate / total
        assert abs(shares[reason] - q) < 4 * math.sqrt(q * (1 - q) / len(exits))
    # times: exponential from day 0 (memoryless), so the mean exit time given exit is known
    t = exits["time_days"].to_numpy() / DAYS_PER_YEAR
    mean_given_exit = 1 / total - years * math.exp(-total * years) / p
    assert abs(t.mean() - mean_given_exit) < 4 * t.std() / math.sqrt(len(t))


def test_children_turn_eighteen_on_their_birthday(tmp_path: Any) -> None:
    ages = np.linspace(15.5, 17.9, 50)
    table = tmp_path / "waiting.csv"
    pd.DataFrame({"referral_date": ["2025-06-01"] * 50, "age_at_referral": ages}).to_csv(
        table, index=False)
    scenario = bare({"assessment.professions.0.wte": 0.0, "leaving.age_out": True,
                     "backlog.table": str(table)})
    result = simulate(scenario, 0)
    exit_time = first_time(result, "exit")
    referral = result.children["referral_day"].to_numpy()
    birthday = referral + (18.0 - result.children["age_at_referral"].to_numpy()) * DAYS_PER_YEAR
    due = birthday <= result.horizon_days
    assert due.sum() > 10 and (~due).sum() > 0
    np.testing.assert_allclose(exit_time[due], np.maximum(birthday[due], 0.0), atol=1e-9)
    assert np.isnan(exit_time[~due]).all()
    assert replication_metrics(result)["aged_out"] == due.sum()


@pytest.mark.parametrize("supported", [False, True])
def test_escalations_are_poisson_at_the_stated_rate(supported: bool) -> None:
    extra: dict[str, Any] = {"assessment.professions.0.wte": 0.0, "backlog.count": 5000,
                             "escalation.enabled": True, "escalation.unsupported_per_year": 0.3,
                             "escalation.support_risk_ratio": 0.5}
    if supported:  # a place for everyone at the first intake, day 0, for the whole horizon
        extra.update({"support.enabled": True, "support.places": 10_000,
                      "support.episode_weeks": {"kind": "fixed", "value": 10_000.0},
                      "support.uptake": 1.0, "support.needs_met_per_year": 0.0})
    result = simulate(bare(extra), 0)
    years = result.horizon_days / DAYS_PER_YEAR
    rate = 0.3 * (0.5 if supported else 1.0)
    expected = 5000 * rate * years
    count = replication_metrics(result)["escalations"]
    assert abs(count - expected) < 4 * math.sqrt(expected)
    if supported:
        assert (first_time(result, "support_start")[result.children["backlog"]] == 0.0).all()


def test_staff_cost_is_the_whole_post_whatever_the_job_plan_share() -> None:
    """Posts are costed whole (model.costs): the job-plan share shapes capacity, not pay."""
    scenario = bare({"assessment.professions": [
        {"name": "a", "wte": 2.0, "job_plan_share": 0.5, "cost_per_wte_year": 120_000.0},
        {"name": "b", "wte": 1.5, "job_plan_share": 1.0, "cost_per_wte_year": 80_000.0}]})
    result = simulate(scenario, 0)
    years = result.horizon_days / DAYS_PER_YEAR
    assert replication_metrics(result)["cost_total"] == pytest.approx(
        (2.0 * 120_000 + 1.5 * 80_000) * years, rel=1e-12)


def test_priority_discipline_takes_children_in_rule_order(tmp_path: Any) -> None:
    """Urgent first, then looked-after, then those turning 18 soonest, then everyone else; each
    group first come first served (backlog table, so the order is known exactly)."""
    rows = []
    for k in range(40):
        group = "urgent" if k % 8 == 0 else "looked_after" if k % 8 == 1 else \
            "near_18" if k % 8 in (2, 3) else "routine"
        referral = pd.Timestamp("2025-12-01") - pd.Timedelta(days=10 * k)
        # near-18 children turn 18 between 2 and 11 months after the start, latest referred soonest
        months_to_18 = 2 + (k % 37) / 4
        age = (18 - months_to_18 / 12 - (pd.Timestamp("2026-01-01") - referral).days / DAYS_PER_YEAR
               if group == "near_18" else 5.0)
        rows.append({"referral_date": referral.strftime("%Y-%m-%d"),
                     "priority": "urgent" if group == "urgent" else "routine",
                     "looked_after_or_cin": "yes" if group == "looked_after" else "no",
                     "age_at_referral": round(age, 6)})
    table = tmp_path / "waiting.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    scenario = bare({"backlog.table": str(table), "leaving.age_out": True,
                     "assessment.discipline": "priority",
                     "assessment.priority_order": ["urgent", "looked_after", "near_18"]})
    result = simulate(scenario, 0)
    children = result.children
    order = result.events.loc[result.events["event"] == "assessment_start", "child"].to_numpy()
    assert len(order) == 40
    urgent = (children["priority"] == "urgent").to_numpy()
    looked_after = children["looked_after_or_cin"].to_numpy() & ~urgent
    birthday = (children["referral_day"] + (18 - children["age_at_referral"]) * DAYS_PER_YEAR).to_numpy()
    near = (birthday < 365) & ~urgent & ~looked_after
    referral = children["referral_day"].to_numpy()
    n_u, n_l, n_n = urgent.sum(), looked_after.sum(), near.sum()
    assert (n_u, n_l, n_n) == (5, 5, 10)
    groups = [order[:n_u], order[n_u:n_u + n_l], order[n_u + n_l:n_u + n_l + n_n],
              order[n_u + n_l + n_n:]]
    assert urgent[groups[0]].all() and looked_after[groups[1]].all() and near[groups[2]].all()
    assert (np.diff(referral[groups[0]]) >= 0).all() and (np.diff(referral[groups[1]]) >= 0).all()
    assert (np.diff(birthday[groups[2]]) >= 0).all(), "turning 18 soonest first"
    assert (np.diff(referral[groups[3]]) >= 0).all(), "the rest first come first served"
