"""Invariants over random valid scenarios (hypothesis): whatever the parameters, waits are not
negative, clinicians are not used beyond their hours, lists never hold fewer than nobody, every
event falls inside the run and each child moves through the pathway in order, once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import STAGES, end_states, event_counts, first_time
from model.metrics import SCALAR_METRICS, monthly_metrics, replication_metrics
from model.pathway import SimulationResult, simulate
from model.scenario import Scenario

BASE = Scenario()

probability = st.floats(0.0, 1.0)
hazard = st.floats(0.0, 3.0)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random but valid scenario over a small space, short enough to run in a blink."""
    routing = draw(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda r: sum(r) > 0.05))
    total = sum(routing)
    needs_led, diagnostic = routing[0] / total, routing[1] / total
    overrides: dict[str, Any] = {
        "simulation.horizon_months": draw(st.integers(1, 9)),
        "simulation.seed": draw(st.integers(0, 2**32)),
        "arrivals.enabled": draw(st.booleans()),
        "arrivals.referrals_per_month": draw(st.floats(0.0, 150.0)),
        "arrivals.annual_growth": draw(st.floats(-0.5, 2.0)),
        "backlog.enabled": draw(st.booleans()),
        "backlog.count": draw(st.integers(0, 400)),
        "vetting.enabled": draw(st.booleans()),
        "vetting.accept_probability": draw(probability),
        "profiling.enabled": draw(st.booleans()),
        "profiling.practitioner_wte": draw(st.floats(0.0, 4.0)),
        "profiling.routing": {"needs_led": needs_led, "diagnostic": diagnostic,
                              "signposted": max(0.0, 1.0 - needs_led - diagnostic)},
        "profiling.diagnosis_requested_anyway": draw(probability),
        "assessment.discipline": draw(st.sampled_from(["fifo", "priority"])),
        "assessment.session_interval_days": draw(st.sampled_from([1.0, 7.0, 14.0])),
        "assessment.professions.0.wte": draw(st.floats(0.0, 6.0)),
        "assessment.professions.1.wte": draw(st.floats(0.0, 6.0)),
        "assessment.professions.2.wte": draw(st.floats(0.0, 4.0)),
        "assessment.hours_per_assessment": draw(st.sampled_from([
            {"kind": "lognormal", "mean": 11.5, "sd": 7.0}, {"kind": "fixed", "value": 12.0},
            {"kind": "gamma", "mean": 30.0, "sd": 10.0}])),
        "support.enabled": draw(st.booleans()),
        "support.offer": draw(st.sampled_from(["on_joining", "longest_waiting", "priority"])),
        "support.offer_window_weeks": draw(st.sampled_from([0.0, 4.0, 13.0, 520.0])),
        "support.episode_weeks": draw(st.sampled_from([
            {"kind": "gamma", "mean": 12.0, "sd": 4.0}, {"kind": "fixed", "value": 1.0},
            {"kind": "exponential", "mean": 30.0}])),
        "support.uptake": draw(probability),
        "support.needs_met_per_year": draw(hazard),
        "leaving.withdrawal_per_year": draw(hazard),
        "leaving.moved_per_year": draw(hazard),
        "leaving.private_per_year": draw(hazard),
        "leaving.age_out": draw(st.booleans()),
        "escalation.enabled": draw(st.booleans()),
        "escalation.unsupported_per_year": draw(hazard),
        "escalation.support_risk_ratio": draw(probability),
        # issue 11: routing by the latent outcome, failure demand
        "profiling_accuracy.enabled": draw(st.booleans()),
        "profiling_accuracy.sensitivity": draw(probability),
        "profiling_accuracy.false_positive_rate": draw(probability),
        "rereferral.enabled": draw(st.booleans()),
        "rereferral.after_needs_led_per_year": draw(hazard),
        "rereferral.after_signposted_per_year": draw(hazard),
        "rereferral.after_withdrawn_per_year": draw(hazard),
    }
    if draw(st.booleans()):
        overrides["support.places"] = draw(st.integers(0, 200))
    else:
        overrides["support.capacity"] = "starts_per_month"
        overrides["support.starts_per_month"] = draw(st.floats(0.0, 100.0))
    if draw(st.booleans()):
        overrides["assessment.staffing_changes"] = [{
            "date": "2026-02-15", "profession": "psychologist",
            "wte_change": draw(st.floats(-8.0, 8.0)), "ramp_weeks": draw(st.floats(0.0, 20.0))}]
    if draw(st.booleans()):
        overrides["assessment.outsourced"] = [{
            "start_date": "2026-01-20", "end_date": "2026-06-01",
            "assessments": draw(st.integers(0, 300))}]
    return BASE.replace(overrides)


def _check_support(result: SimulationResult) -> None:
    """Support episodes from the log: each child supported at most once, an end after its start,
    support while waiting only for a child on the list and before their assessment, the caseload
    within the places, and needs met only while supported."""
    ev = result.events
    counts = event_counts(result)
    assert (counts["support_start"] <= 1).all() and (counts["support_end"] <= counts["support_start"]).all()
    start, end = first_time(result, "support_start"), first_time(result, "support_end")
    ended = np.isfinite(end)
    assert (end[ended] >= start[ended]).all()
    swiw = np.isfinite(first_time(result, "support_start", "support_while_waiting"))
    joined, assessed = first_time(result, "list_join"), first_time(result, "assessment_start")
    assert (start[swiw] >= joined[swiw]).all()
    seen = swiw & np.isfinite(assessed)
    assert (start[seen] < assessed[seen]).all(), "supported at or after the assessment started"
    if result.scenario.support.capacity == "caseload" and swiw.any():
        times = np.concatenate([start[swiw], end[swiw & ended]])
        step = np.concatenate([np.ones(swiw.sum()), -np.ones((swiw & ended).sum())])
        order = np.lexsort((step, times))
        assert np.cumsum(step[order]).max() <= result.scenario.support.places
    met = ev[(ev["event"] == "exit") & (ev["detail"] == "needs_met")]["child"].to_numpy()
    exit_ = first_time(result, "exit")
    assert (exit_[met] == end[met]).all(), "needs met outside a support episode"


def _check_invariants(result: SimulationResult) -> None:
    ev, horizon = result.events, result.horizon_days
    referral = result.children["referral_day"].to_numpy()
    times = ev["time_days"].to_numpy()
    # every event inside [earliest referral, horizon]
    if len(times):
        assert times.min() >= referral.min() - 1e-9
        assert times.max() <= horizon + 1e-9
    assert (referral[~result.children["backlog"].to_numpy()] >= 0).all()
    assert (referral[result.children["backlog"].to_numpy()] <= 0).all()
    # nobody's clock runs backwards: each stage no earlier than the one before it
    order = ["referral", "vetted", "profiling_join", "profiled", "list_join", "assessment_start",
             "assessment_end"]
    last = first_time(result, "referral")
    for event in order[1:]:
        t = first_time(result, event)
        seen = np.isfinite(t)
        assert (t[seen] >= last[seen] - 1e-9).all(), f"{event} before an earlier stage"
        last = np.where(seen, t, last)
    for event in ("exit", "support_start", "escalation"):
        t = first_time(result, event)
        seen = np.isfinite(t)
        assert (t[seen] >= np.maximum(referral[seen], 0.0 if event != "exit" else -np.inf)
                - 1e-9).all(), f"{event} before referral"
    start, end = first_time(result, "assessment_start"), first_time(result, "assessment_end")
    exit_ = first_time(result, "exit")
    joined = first_time(result, "list_join")
    left_list = np.isfinite(exit_) & np.isfinite(joined)
    assert (exit_[left_list] >= joined[left_list] - 1e-9).all(), "left the list before joining it"
    counts = event_counts(result)
    assert (counts["assessment_start"] <= 1).all(), "a child started assessment twice"
    assert (counts["exit"] <= 1).all(), "a child left twice"
    assert not ((counts["exit"] > 0) & (counts["assessment_start"] > 0)).any()
    assert ((end - start)[np.isfinite(end)] >= 0).all()
    # waits are never negative
    waits = (start - referral)[np.isfinite(start)]
    assert (waits >= -1e-9).all()
    # every child is in exactly one end state
    states = end_states(result)
    assert (np.sum([states[s] for s in STAGES], axis=0) == 1).all()
    # the diagnostic list, replayed from the log in time order, never holds fewer than nobody
    on = (ev["event"] == "list_join").to_numpy().astype(int)
    child = ev["child"].to_numpy()
    listed = np.isfinite(joined)
    leaves = (ev["event"] == "assessment_start").to_numpy() | (
        (ev["event"] == "exit").to_numpy() & listed[child])
    # joins first at equal times: a child can join and be taken in the same instant
    key = np.lexsort((-on, times))
    assert (np.cumsum((on - leaves.astype(int))[key]) >= 0).all(), "the list went below zero"
    # capacity: never more hours used than available, session by session and overall
    cap = result.capacity
    assert (cap["hours_used"] >= -1e-9).all()
    per_session = ["profiling"]
    if result.scenario.assessment.capacity_model == "clinical_hours":
        per_session.append("assessment")
    sessions = cap[cap["stage"].isin(per_session)]
    assert (sessions["hours_used"] <= sessions["hours_available"] + 1e-9).all()
    support = cap[cap["stage"] == "support"]
    if result.scenario.support.capacity == "caseload":
        # places in use after each intake never exceed the places
        assert (support["hours_used"] <= support["hours_available"]).all()
    else:
        # starts carry over while families wait for them: used never exceeds starts so far
        assert (support["hours_used"].cumsum() <= support["hours_available"].cumsum() + 1e-9).all()
    _check_support(result)
    metrics = replication_metrics(result)
    utilisation = metrics["clinician_utilisation"]
    assert np.isnan(utilisation) or 0.0 <= utilisation <= 1.0 + 1e-12
    for name in [m for m in SCALAR_METRICS if "_weeks_" in m]:
        assert np.isnan(metrics[name]) or metrics[name] >= -1e-9, name
    assert metrics["list_wait_weeks_p50_end"] <= metrics["list_wait_weeks_p92_end"] or np.isnan(
        metrics["list_wait_weeks_p50_end"])
    for name in [m for m in SCALAR_METRICS if m.startswith("pct_")]:
        assert np.isnan(metrics[name]) or 0.0 <= metrics[name] <= 100.0, name
    # the cumulative shares grow with the threshold, and a list share is null only for no list
    for family in ("pct_referrals_assessed_within_{}w", "pct_supported_within_{}w"):
        shares = [metrics[family.format(w)] for w in (13, 52, 104) if family.format(w) in metrics]
        finite = [x for x in shares if np.isfinite(x)]
        assert finite == sorted(finite), family
    over = [metrics[f"pct_waiting_over_{w}w_end"] for w in (13, 52, 104)]
    assert np.isnan(over).all() == (metrics["waiting_list_end"] == 0)
    assert np.isnan(over).all() or over == sorted(over, reverse=True)
    monthly = monthly_metrics(result)
    sizes = monthly[monthly["metric"].isin(["waiting_list", "profiling_queue", "list_wait_0_13w",
                                            "list_wait_13_52w", "list_wait_52_104w",
                                            "list_wait_104w_plus"])]
    assert (sizes["value"] >= 0).all()
    assert metrics["waiting_list_end"] >= 0


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_invariants_hold_over_random_scenarios(scenario: Scenario) -> None:
    _check_invariants(simulate(scenario, replication=1))


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 40))
def test_invariants_hold_in_the_servers_model(scenario: Scenario, servers: int) -> None:
    s = scenario.replace({"assessment.capacity_model": "servers", "assessment.servers": servers,
                          "assessment.service_days": {"kind": "exponential", "mean": 20.0}})
    _check_invariants(simulate(s, replication=2))
