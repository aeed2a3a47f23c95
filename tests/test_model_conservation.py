"""Conservation: every referral, backlog and new, is accounted for exactly once at the end.

From the event log alone each child is either gone (one exit event, by one route), assessed
(assessment ended), or still in the system at a known stage: in vetting, in the profiling queue,
on the diagnostic list or in assessment. The stage counts must add up to the children exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import STAGES, end_states, event_counts, first_time
from model.eventlog import EXIT_REASONS
from model.metrics import monthly_metrics, replication_metrics
from model.pathway import SimulationResult, simulate
from model.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = ["simulation.horizon_months=18"]

CASES = {
    "default": ("default.toml", []),
    "profiling": ("needs_led_profiling.toml", []),
    # too few practitioners: a queue is still waiting for profiling at the end
    "profiling_scarce": ("needs_led_profiling.toml", ["profiling.practitioner_wte=1.0"]),
    "outsourced": ("outsourced_backlog.toml", []),
    "priority": ("prioritise_vulnerable.toml", []),
    "combined": ("combined.toml", []),
    "more_support": ("support_while_waiting.toml", ["support.needs_met_per_year=2.0"]),
}


def _run(name: str, replication: int = 0) -> SimulationResult:
    file, extra = CASES[name]
    return simulate(load_scenario(SCENARIOS / file, SHORT + extra), replication)


@pytest.fixture(scope="module", params=sorted(CASES))
def result(request: pytest.FixtureRequest) -> SimulationResult:
    return _run(request.param)


def test_every_child_is_in_exactly_one_end_state(result: SimulationResult) -> None:
    states = end_states(result)
    membership = np.sum([states[s] for s in STAGES], axis=0)
    nowhere, twice = np.flatnonzero(membership == 0), np.flatnonzero(membership > 1)
    assert not len(nowhere), f"children in no end state: {nowhere[:10]}"
    assert not len(twice), f"children in two end states: {twice[:10]}"
    counts = {s: int(states[s].sum()) for s in STAGES}
    children = result.children
    assert sum(counts.values()) == len(children)
    assert len(children) == int(children["backlog"].sum()) + int((~children["backlog"]).sum())


def test_each_event_happens_at_most_once_per_child(result: SimulationResult) -> None:
    k = event_counts(result)
    assert (k["referral"] == 1).all(), "every child is referred exactly once"
    for event in ("vetted", "profiling_join", "profiled", "list_join", "support_start",
                  "assessment_start", "assessment_end", "exit"):
        repeated = np.flatnonzero(k[event] > 1)
        assert not len(repeated), f"{event} more than once for children {repeated[:10]}"
    both = np.flatnonzero((k["assessment_start"] > 0) & (k["exit"] > 0))
    assert not len(both), f"children both assessed and exited: {both[:10]}"
    orphan_end = np.flatnonzero((k["assessment_end"] > 0) & (k["assessment_start"] == 0))
    assert not len(orphan_end), f"assessment ended without starting: {orphan_end[:10]}"


def test_routes_are_consistent_with_the_stages(result: SimulationResult) -> None:
    sc = result.scenario
    states = end_states(result)
    k = event_counts(result)
    backlog = result.children["backlog"].to_numpy()
    referral_detail = first_time(result, "referral", "backlog")
    assert (np.isfinite(referral_detail) == backlog).all(), "referral detail matches the backlog flag"
    assert not (states["in_vetting"] & backlog).any(), "backlog children are already vetted"
    if not sc.profiling.enabled:
        assert not (k["profiling_join"] > 0).any()
    started = k["assessment_start"] > 0
    assert not (started & (k["list_join"] == 0)).any(), "assessed children came from the list"
    ev = result.events
    exits = ev[ev["event"] == "exit"]
    reasons = exits["detail"].astype(str)
    assert set(reasons) <= set(EXIT_REASONS)
    profiled = k["profiled"] > 0
    for reason in ("needs_led", "signposted"):
        who = exits.loc[reasons == reason, "child"].to_numpy()
        assert profiled[who].all(), f"{reason} exits come only after profiling"
    rejected = exits.loc[reasons == "rejected", "child"].to_numpy()
    assert not (k["list_join"][rejected] > 0).any(), "rejected children never joined the list"
    assert not backlog[rejected].any(), "backlog children are not re-vetted"


def test_stage_counts_agree_with_the_metrics(result: SimulationResult) -> None:
    states = end_states(result)
    metrics = replication_metrics(result)
    ev = result.events
    exits = ev[ev["event"] == "exit"]["detail"].astype(str).value_counts()
    assert metrics["waiting_list_end"] == states["on_list"].sum()
    assert metrics["referrals"] == (~result.children["backlog"]).sum()
    assert metrics["assessments_completed"] == states["assessed"].sum()
    joined_at_start = first_time(result, "list_join") <= 0.0
    assert metrics["waiting_list_start"] == joined_at_start.sum()
    assert joined_at_start.sum() <= result.children["backlog"].sum()
    assert metrics["withdrawals"] == sum(exits.get(r, 0) for r in ("withdrawn", "moved", "private"))
    assert metrics["aged_out"] == exits.get("aged_out", 0)
    assert metrics["needs_led_exits"] == exits.get("needs_led", 0) + exits.get("needs_met", 0)
    assert states["exited"].sum() == exits.sum()
    # flow balance of the list: joined = taken for assessment + left from the list + still there
    k = event_counts(result)
    on_list_exit = (k["list_join"] > 0) & (k["exit"] > 0)
    assert (k["list_join"] > 0).sum() == (k["assessment_start"] > 0).sum() + on_list_exit.sum() \
        + states["on_list"].sum()


def test_every_stage_is_reached_somewhere() -> None:
    """The end states are not vacuous: across the cases each stage holds children."""
    totals = dict.fromkeys(STAGES, 0)
    for name in ("default", "profiling_scarce"):
        states = end_states(_run(name))
        for s in STAGES:
            totals[s] += int(states[s].sum())
    assert all(v > 0 for v in totals.values()), totals


EXIT_METRICS = ("rejected", "needs_led_exits", "signposted", "withdrawals", "aged_out")
"""Every way of leaving without an assessment, as a reported metric."""


def test_the_reported_metrics_add_back_to_the_referrals_and_the_backlog(result: SimulationResult) -> None:
    """Children on the list at the start + new referrals = every exit metric + assessments
    started + everyone still waiting at any stage, from the metrics alone (what a reader adds up),
    and each stage's count is the log's."""
    m = replication_metrics(result)
    came_in = m["waiting_list_start"] + m["referrals"]
    went = sum(m[name] for name in EXIT_METRICS) + m["assessments_started"] + m["waiting_total_end"]
    assert came_in == went, {name: m[name] for name in (*EXIT_METRICS, "assessments_started",
                                                        "waiting_total_end")}
    states = end_states(result)
    assert m["waiting_total_end"] == m["vetting_end"] + m["profiling_queue_end"] + m["waiting_list_end"]
    assert m["vetting_end"] == states["in_vetting"].sum()
    assert m["profiling_queue_end"] == states["in_profiling"].sum()
    assert m["assessments_started"] == m["assessments_completed"] + m["in_assessment_end"]
    assert m["in_assessment_end"] == states["in_assessment"].sum()
    exits = result.events.loc[result.events["event"] == "exit", "detail"].astype(str).value_counts()
    for weeks in (13, 52, 104):
        count, share = m[f"waiting_over_{weeks}w_end"], m[f"pct_waiting_over_{weeks}w_end"]
        assert count == pytest.approx(share * m["waiting_list_end"] / 100, abs=1e-6)
    assert m["signposted"] == exits.get("signposted", 0)
    assert m["rejected"] == exits.get("rejected", 0)
    if result.scenario.profiling.enabled:
        assert m["signposted"] > 0 and m["profiling_queue_end"] + m["profiles_completed"] > 0
    if result.scenario.vetting.enabled:
        assert m["rejected"] > 0


def test_the_monthly_stage_sizes_add_up_to_everyone_waiting(result: SimulationResult) -> None:
    monthly = monthly_metrics(result).pivot(index="month", columns="metric", values="value")
    parts = monthly["waiting_list"] + monthly["profiling_queue"] + monthly["vetting_queue"]
    np.testing.assert_array_equal(monthly["waiting_total"].to_numpy(), parts.to_numpy())
    m = replication_metrics(result)
    assert monthly["waiting_total"].iloc[-1] == m["waiting_total_end"]
    assert monthly["vetting_queue"].iloc[-1] == m["vetting_end"]
    assert monthly["waiting_over_52w"].iloc[-1] == m["waiting_over_52w_end"]
