"""Support while waiting as a real offer: episodes with a length, a caseload of places, a named
offer rule, and a benefit that applies only while a family is supported.

Each test pins a rule by its consequence in the event log (``support_start`` / ``support_end``),
not by the code's internals.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from helpers import first_time, mean_interval, still_service
from model.metrics import replication_metrics
from model.pathway import SimulationResult, simulate
from model.scenario import DAYS_PER_YEAR, Scenario, ScenarioError, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT_36 = ["simulation.horizon_months=36"]


def _default(*overrides: str) -> Scenario:
    return load_scenario(SCENARIOS / "default.toml", [*DEFAULT_36, *overrides])


def _episodes(result: SimulationResult, kind: str = "support_while_waiting") -> pd.DataFrame:
    """One row per episode of ``kind``: child, start, end (NaN while running at the horizon), why."""
    ev = result.events
    starts = ev[(ev["event"] == "support_start") & (ev["detail"] == kind)]
    ends = ev[ev["event"] == "support_end"].set_index("child")
    out = pd.DataFrame({"child": starts["child"].to_numpy(),
                        "start": starts["time_days"].to_numpy()})
    out["end"] = ends["time_days"].reindex(out["child"]).to_numpy()
    out["why"] = ends["detail"].astype(str).reindex(out["child"]).to_numpy()
    return out


def _caseload_after(episodes: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """Episodes running just after each of ``times`` (started at or before, not ended by then)."""
    starts = np.sort(episodes["start"].to_numpy())
    ends = np.sort(episodes["end"].dropna().to_numpy())
    return (np.searchsorted(starts, times, side="right")
            - np.searchsorted(ends, times, side="right"))


def _peak_caseload(episodes: pd.DataFrame) -> int:
    """The most episodes running at once (an end and a start at the same moment: end first)."""
    ended = episodes["end"].dropna().to_numpy()
    times = np.concatenate([episodes["start"].to_numpy(), ended])
    step = np.concatenate([np.ones(len(episodes)), -np.ones(len(ended))])
    order = np.lexsort((step, times))
    return int(np.cumsum(step[order]).max()) if len(times) else 0


# -------------------------------------------------------------------------------------------------
# Capacity


def test_more_places_mean_fewer_escalations() -> None:
    """The default scenario: 20 -> 40 places, paired on the same children (issue 8 item 2)."""
    diffs = []
    for k in range(6):
        few, more = (replication_metrics(simulate(_default(f"support.places={places}"), k))
                     for places in (20, 40))
        assert more["support_starts"] > few["support_starts"]
        diffs.append(more["escalations"] - few["escalations"])
    mean, low, high = mean_interval(np.asarray(diffs))
    assert high < 0, f"escalations, 40 - 20 places: {diffs} (95% interval {low:.1f} to {high:.1f})"


def test_the_caseload_never_exceeds_the_places_and_freed_places_are_refilled() -> None:
    scenario = _default()
    places = scenario.support.places
    result = simulate(scenario, 0)
    episodes = _episodes(result)
    assert _peak_caseload(episodes) <= places
    # the default offer is oversubscribed: every weekly intake fills the places freed since the
    # last (episodes that ran their length, children assessed or gone), so the caseload is full
    intakes = result.capacity.loc[result.capacity["stage"] == "support", "time_days"].to_numpy()
    assert len(intakes) > 150
    np.testing.assert_array_equal(_caseload_after(episodes, intakes), places)
    # and the places turn over: far more families than places are supported
    assert len(episodes) > 10 * places
    assert set(episodes["why"].dropna()) <= {"episode_end", "assessed", "left"}


def test_starts_a_month_is_kept_where_a_file_says_so_and_the_episode_still_ends_support() -> None:
    scenario = _default('support.capacity="starts_per_month"', "support.starts_per_month=40")
    result = simulate(scenario, 0)
    episodes = _episodes(result)
    per_month = len(episodes) / 36
    assert 38 < per_month <= 40.5  # starts a month, not a caseload
    ran = episodes[episodes["why"] == "episode_end"]
    assert len(ran) > 0.8 * len(episodes)
    lengths = (ran["end"] - ran["start"]).to_numpy() / 7
    assert abs(lengths.mean() - 12.0) < 1.0  # cut short only by assessment or leaving


def test_an_old_starts_a_month_file_gets_an_error_naming_the_fix() -> None:
    with pytest.raises(ScenarioError, match='capacity = "starts_per_month"') as error:
        _default("support.starts_per_month=200")
    assert "places" in str(error.value)
    with pytest.raises(ScenarioError, match="cost_per_week"):
        _default("support.cost_per_episode=600")


# -------------------------------------------------------------------------------------------------
# Who is offered a place


@pytest.mark.parametrize("offer", ["on_joining", "longest_waiting", "priority"])
def test_a_supported_child_is_supported_before_their_assessment_starts(offer: str) -> None:
    """The intake comes after the clinic session of the same moment (by rule, not by process
    order): a child taken for assessment then is not offered a place, even under
    ``longest_waiting``, whose candidates are the next to be assessed."""
    # under on_joining support comes early in a years-long wait: a short list, so that the
    # supported are assessed within the horizon
    short = ["backlog.count=500", "arrivals.referrals_per_month=60"] if offer == "on_joining" else []
    result = simulate(_default(f"support.offer={offer}", *short), 0)
    episodes = _episodes(result)
    assessed = first_time(result, "assessment_start")[episodes["child"].to_numpy()]
    seen = np.isfinite(assessed)
    assert seen.sum() > 50
    assert (episodes["start"].to_numpy()[seen] < assessed[seen]).all()
    # an episode cut short by assessment ends exactly when the assessment starts
    cut = episodes["why"].to_numpy() == "assessed"
    np.testing.assert_array_equal(episodes["end"].to_numpy()[cut], assessed[cut])


def _weeks_waited_at_support(result: SimulationResult) -> np.ndarray:
    episodes = _episodes(result)
    referral = result.children["referral_day"].to_numpy()[episodes["child"].to_numpy()]
    return (episodes["start"].to_numpy() - referral) / 7


def test_on_joining_supports_children_early_in_their_wait_longest_waiting_late() -> None:
    joining = _weeks_waited_at_support(simulate(_default("support.offer=on_joining"), 0))
    longest = _weeks_waited_at_support(simulate(_default("support.offer=longest_waiting"), 0))
    # within the 13-week offer window of joining the list (after about 2 weeks of vetting)
    assert np.median(joining) < 20 and np.quantile(joining, 0.95) < 22
    assert np.median(longest) > 100
    assert np.median(joining) < np.median(longest) / 5


def test_on_joining_gives_spare_places_to_the_latest_joiners_past_the_window() -> None:
    """Places nobody within the offer window needs are not left empty: they go to the families
    who joined most recently among the rest (here the whole list is past the window)."""
    scenario = still_service({"backlog.count": 500, "support.enabled": True,
                              "support.uptake": 1.0, "support.places": 50,
                              "support.offer_window_weeks": 0.0,
                              "simulation.horizon_months": 3})
    result = simulate(scenario, 0)
    day0 = _episodes(result).query("start == 0")
    referral = result.children["referral_day"].to_numpy()
    newest = np.sort(referral)[-50:]
    np.testing.assert_array_equal(np.sort(referral[day0["child"].to_numpy()]), newest)


def test_priority_offers_urgent_then_looked_after_then_the_rest_by_joining() -> None:
    base = _default("support.offer=priority", "support.uptake=1.0")
    first = simulate(base.replace({"simulation.horizon_months": 1}), 0)
    children = first.children
    # on the list at the day-0 intake: joined at 0 and not taken by the clinic session before it
    on_list = (first_time(first, "list_join") == 0.0) & ~(first_time(first, "assessment_start") == 0.0)
    urgent = on_list & (children["priority"] == "urgent").to_numpy()
    looked_after = on_list & ~urgent & children["looked_after_or_cin"].to_numpy()
    extra = 10
    places = int(urgent.sum()) + extra
    result = simulate(base.replace({"simulation.horizon_months": 1, "support.places": places}), 0)
    day0 = set(_episodes(result).query("start == 0")["child"])
    # every urgent child waiting, then the first looked-after children in list order (the
    # backlog is listed oldest first)
    expected = set(np.flatnonzero(urgent)) | set(np.flatnonzero(looked_after)[:extra])
    assert day0 == expected


# -------------------------------------------------------------------------------------------------
# The benefit applies only while supported


def test_support_with_no_benefit_changes_nothing_in_escalations_or_exits() -> None:
    no_benefit = ["escalation.support_risk_ratio=1.0", "support.needs_met_per_year=0.0"]
    counts = ["escalations", "withdrawals", "needs_led_exits", "aged_out", "assessments_started",
              "waiting_list_end"]
    for k in range(2):
        none = replication_metrics(simulate(_default("support.places=0", *no_benefit), k))
        many = replication_metrics(simulate(_default("support.places=550", *no_benefit), k))
        assert many["support_starts"] > 1000
        assert {m: many[m] for m in counts} == {m: none[m] for m in counts}


def _escalation_rates(result: SimulationResult) -> dict[str, tuple[int, float]]:
    """Escalations and child-years before, during and after each child's support episode (a
    still service: nobody is assessed or leaves, so everyone is exposed to the horizon)."""
    horizon = result.horizon_days
    n = len(result.children)
    on = np.minimum(np.nan_to_num(first_time(result, "support_start"), nan=horizon), horizon)
    off = np.minimum(np.nan_to_num(first_time(result, "support_end"), nan=horizon), horizon)
    start = np.maximum(result.children["referral_day"].to_numpy(), 0.0)
    ev = result.events[result.events["event"] == "escalation"]
    who, when = ev["child"].to_numpy(), ev["time_days"].to_numpy()
    state = np.where(when < on[who], "before", np.where(when < off[who], "during", "after"))
    years = {"before": on - start, "during": off - on, "after": np.full(n, horizon) - off}
    return {s: (int((state == s).sum()), float(years[s].sum()) / DAYS_PER_YEAR)
            for s in ("before", "during", "after")}


def test_escalation_is_lower_during_the_episode_and_back_to_the_full_rate_after() -> None:
    scenario = still_service({
        "backlog.count": 4000, "simulation.horizon_months": 24, "support.enabled": True,
        "support.uptake": 1.0, "support.places": 1000,
        "support.episode_weeks": {"kind": "fixed", "value": 26.0},
        "support.needs_met_per_year": 0.0, "escalation.enabled": True,
        "escalation.unsupported_per_year": 0.3, "escalation.support_risk_ratio": 0.5})
    rates = _escalation_rates(simulate(scenario, 0))
    expected = {"before": 0.3, "during": 0.15, "after": 0.3}
    for state, (events, years) in rates.items():
        assert years > 1500, (state, years)
        mean = expected[state] * years
        assert abs(events - mean) < 4 * math.sqrt(mean), (state, events, mean, rates)


def test_needs_met_exits_happen_only_within_an_episode_at_the_stated_hazard() -> None:
    weeks, rate = 8.0, 2.0  # a high hazard, so that an episode often ends in needs met
    scenario = still_service({
        "backlog.count": 3000, "simulation.horizon_months": 24, "support.enabled": True,
        "support.uptake": 1.0, "support.places": 5000,
        "support.episode_weeks": {"kind": "fixed", "value": weeks},
        "support.needs_met_per_year": rate})
    result = simulate(scenario, 0)
    episodes = _episodes(result).set_index("child")
    ev = result.events
    met = ev[(ev["event"] == "exit") & (ev["detail"] == "needs_met")]
    inside = episodes.loc[met["child"]]
    assert (met["time_days"].to_numpy() >= inside["start"].to_numpy()).all()
    assert (met["time_days"].to_numpy() <= inside["start"].to_numpy() + 7 * weeks + 1e-9).all()
    # the episode ends when the family leaves
    np.testing.assert_array_equal(inside["end"].to_numpy(), met["time_days"].to_numpy())
    assert (inside["why"] == "left").all()
    # P(needs met within an episode) = 1 - exp(-rate x length); afterwards the hazard is zero
    p = 1 - math.exp(-rate * 7 * weeks / DAYS_PER_YEAR)
    n = len(episodes)
    assert n == 3000
    assert abs(len(met) - n * p) < 4 * math.sqrt(n * p * (1 - p))


def test_episode_lengths_recover_the_distribution_when_nothing_cuts_them_short() -> None:
    scenario = still_service({
        "backlog.count": 2000, "simulation.horizon_months": 36, "support.enabled": True,
        "support.uptake": 1.0, "support.places": 2000, "support.needs_met_per_year": 0.0,
        "support.episode_weeks": {"kind": "gamma", "mean": 12.0, "sd": 6.0}})
    episodes = _episodes(simulate(scenario, 0))
    assert len(episodes) == 2000 and (episodes["why"] == "episode_end").all()
    weeks = (episodes["end"] - episodes["start"]).to_numpy() / 7
    mean, low, high = mean_interval(weeks)
    assert abs(mean - 12.0) < 3 * 6.0 / math.sqrt(len(weeks)), (mean, low, high)
    assert abs(weeks.std(ddof=1) - 6.0) < 0.5


def test_a_needs_led_plan_is_support_but_takes_no_place() -> None:
    scenario = load_scenario(SCENARIOS / "needs_led_profiling.toml",
                             ["simulation.horizon_months=12", "support.places=0",
                              "profiling.diagnosis_requested_anyway=0.5"])
    result = simulate(scenario, 0)
    ev = result.events
    starts = ev[ev["event"] == "support_start"]
    assert (starts["detail"] == "needs_led_plan").all() and len(starts) > 100
    plans = _episodes(result, "needs_led_plan")
    # a family who asks for a diagnosis anyway stays supported by its plan on the list
    stayed = plans[np.isfinite(first_time(result, "list_join")[plans["child"].to_numpy()])]
    assert len(stayed) > 20
    ran = stayed[stayed["why"] == "episode_end"]
    assert len(ran) and ((ran["end"] - ran["start"]) > 0).all()


def test_support_numbers_do_not_move_other_random_numbers() -> None:
    """Common random numbers: the episode lengths come from their own stream, so the children,
    their exits and their assessments are the same with and without support."""
    off = simulate(_default("support.enabled=false"), 0)
    on = simulate(_default("support.places=0"), 0)
    pd.testing.assert_frame_equal(off.children, on.children)
    for event in ("referral", "list_join", "assessment_start", "exit"):
        np.testing.assert_array_equal(first_time(off, event), first_time(on, event))


def _first_support_weeks(result: SimulationResult) -> Any:
    return replication_metrics(result)["pct_supported_within_13w"]


def test_support_within_13_weeks_rises_with_places_under_on_joining() -> None:
    few = _first_support_weeks(simulate(_default("support.places=20"), 0))
    many = _first_support_weeks(simulate(_default("support.places=550"), 0))
    assert many > few + 10
