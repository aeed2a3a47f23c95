"""What the Compare and Present pages and the summit pack say: tables that never contradict one
another, changes that never read "-0", verdicts in one vocabulary, sentences that say what they
count and name one end date, and a warning when the scenarios describe different services.

The differences table is checked on hand-made replications (exact numbers), the sentences on
small runs of the shipped scenarios, and the pages under AppTest.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest

from app import core, equity, pack
from app_helpers import start_app, table_with, tables
from model.experiment import ExperimentResult, compare, run_replications
from model.labels import label
from model.names import SCALAR_METRICS
from model.scenario import Scenario

NAN = math.nan
SUPPORT = "time_to_first_support_weeks_p50"


def result_of(values: dict[str, list[float]], scenario: Scenario | None = None
              ) -> ExperimentResult:
    """An experiment result with the given per-replication values (no monthly series)."""
    per_rep = pd.DataFrame({"replication": range(len(next(iter(values.values())))), **values})
    monthly = pd.DataFrame(columns=["replication", "month", "metric", "value"])
    return ExperimentResult(scenario or Scenario(), 1, per_rep, monthly)


# -------------------------------------------------------------------------------------------------
# 1. The differences table shows each scenario's own value, as the numbers table does


def test_a_median_not_reached_in_the_baseline_keeps_the_other_scenarios_own_value():
    """Status quo never reaches the support median; Combined does (20, 41, 62 weeks). The
    paired mean is undefined, but Combined's own value is not: the old table said "not
    reached" for Combined under a numbers table that said 41 weeks."""
    base = result_of({SUPPORT: [NAN, NAN, NAN], "waiting_total_end": [100.0, 110.0, 120.0]})
    other = result_of({SUPPORT: [20.0, 41.0, 62.0], "waiting_total_end": [90.0, 95.0, 100.0]})
    results = {"Status quo": base, "Combined": other}
    numbers = core.numbers_table(results, [SUPPORT, "waiting_total_end"]).set_index("Measure")
    shown = core.differences_table(compare(base, other), "Status quo", "Combined")
    shown = shown.set_index("Measure")
    for metric in (SUPPORT, "waiting_total_end"):
        for name in results:  # the same words, interval and all, as the numbers table
            assert shown.loc[label(metric), name] == numbers.loc[label(metric), name]
    row = shown.loc[label(SUPPORT)]
    assert row["Combined"].startswith("41 weeks (") and row["Status quo"] == "not reached"
    # reaching a median wait at all is shorter than never reaching it: a gain, not "no difference"
    assert row["Difference"] == "reached in “Combined”, not in “Status quo”"
    assert row["Clear change?"] == "better"
    # and the other way round (a loss), and in both (nothing to compare)
    shown = core.differences_table(compare(other, base), "Combined", "Status quo")
    row = shown.set_index("Measure").loc[label(SUPPORT)]
    assert row["Difference"] == "reached in “Combined”, not in “Status quo”"
    assert row["Clear change?"] == "worse"
    shown = core.differences_table(compare(base, base), "A", "B").set_index("Measure")
    assert shown.loc[label(SUPPORT), "Difference"] == "no difference: not reached in either scenario"


def test_a_difference_over_fewer_projections_than_the_averages_says_so():
    """Defined in 2 of 3 projections of the baseline: its own average is over those 2 (25
    weeks), the scenario's over all 3 (20), the paired difference over the 2 pairs (-6)."""
    base = result_of({SUPPORT: [20.0, 30.0, NAN]})
    other = result_of({SUPPORT: [15.0, 23.0, 22.0]})
    row = core.differences_table(compare(base, other), "A", "B").iloc[0]
    assert row["A"].startswith("25 weeks") and row["B"].startswith("20 weeks")
    assert row["Difference"] == "-6 weeks"
    assert row["95% interval of the difference"].endswith(
        "(from the 2 projections where both have a value)")


def test_compare_carries_each_runs_own_summary():
    base = result_of({SUPPORT: [20.0, 30.0, NAN]})
    other = result_of({SUPPORT: [15.0, 23.0, 22.0]})
    row = compare(base, other).set_index("metric").loc[SUPPORT]
    assert row["baseline"] == 25.0 and row["baseline_own_mean"] == 25.0
    assert row["scenario"] == 19.0 and row["scenario_own_mean"] == 20.0  # pairs vs all three
    assert (row["baseline_own_n"], row["scenario_own_n"], row["n"]) == (2, 3, 2)
    own = other.summary.set_index("metric").loc[SUPPORT]
    assert (row["scenario_own_ci_low"], row["scenario_own_ci_high"]) == (own["ci_low"],
                                                                         own["ci_high"])


# -------------------------------------------------------------------------------------------------
# 2. No "-0", and one vocabulary for the verdict


def test_a_change_that_rounds_to_zero_is_no_change_never_minus_zero():
    assert core.fmt_delta("list_wait_weeks_p50_end", -0.3) == "no change"
    assert core.fmt_delta("waiting_total_end", -0.4) == "no change"
    assert core.fmt_delta("pct_waiting_over_52w_end", -0.04) == "no change"
    assert core.fmt_delta("cost_total", -0.3) == "no change"
    assert core.fmt_delta("list_wait_weeks_p50_end", -0.6) == "-1 week"  # one week, not weeks
    assert core.fmt_delta("list_wait_weeks_p50_end", 2.0) == "+2 weeks"
    assert core.fmt_bound("list_wait_weeks_p50_end", -0.2) == "-0.2 weeks"  # not "0 weeks"
    assert core.fmt_bound("list_wait_weeks_p50_end", 0.04) == "0 weeks"
    assert core.fmt_bound("pct_waiting_over_52w_end", 0.03) == "+0.03 points"
    assert core.fmt_metric("time_to_first_support_weeks_p50", 1.2) == "1 week"
    # a shift of a third of a week in every projection: clear, but it shows as nothing
    base = result_of({"list_wait_weeks_p50_end": [50.0, 60.0, 70.0]})
    other = result_of({"list_wait_weeks_p50_end": [49.7, 59.65, 69.68]})
    row = core.differences_table(compare(base, other)).iloc[0]
    assert row["Difference"] == "no change" and row["Clear change?"] == "no change"
    assert row["95% interval of the difference"] == "-0.4 weeks to -0.3 weeks"
    assert "-0 " not in " ".join(row.astype(str))


def test_every_measure_has_a_direction_and_the_verdict_uses_it():
    sets = (core.LOWER_IS_BETTER - core.COST_METRICS, core.HIGHER_IS_BETTER, core.COST_METRICS,
            core.NEUTRAL_METRICS)
    assert set().union(*sets) == set(SCALAR_METRICS), "a new measure needs a direction"
    assert sum(len(s) for s in sets) == len(SCALAR_METRICS), "a measure with two directions"
    # similar rows read alike: the mean wait (was "lower") as the median; the 13-week share
    # (was "higher") as better
    assert core.clear_change("list_wait_weeks_mean_end", -5, -2) == "better"
    assert core.clear_change("list_wait_weeks_p50_end", -5, -2) == "better"
    assert core.clear_change("pct_referrals_assessed_within_13w", 2, 5) == "better"
    assert core.clear_change("pct_referrals_assessed_within_13w", -5, -2) == "worse"
    assert core.clear_change("cost_total", 2e5, 5e5) == "costs more"
    assert core.clear_change("referrals", 20, 50) == "higher"
    assert core.clear_change("waiting_total_end", -20, 30) == "not clear"
    assert core.clear_change("waiting_total_end", NAN, NAN) == "cannot tell"


# -------------------------------------------------------------------------------------------------
# 3 and 4. The sentences say what they count and name the horizon's last month


@pytest.fixture(scope="module")
def runs() -> dict[str, ExperimentResult]:
    """The Present page's default pair: 12 months from January 2026, 3 replications."""
    settings = {"simulation.horizon_months": 12, "simulation.replications": 3}
    return {name: run_replications(core.load_shipped(stem)[0].replace(settings),
                                   executor="serial")
            for name, stem in (("Status quo", "default"), ("Combined package", "combined"))}


def test_the_list_sentence_counts_every_stage_by_name(runs):
    result = runs["Combined package"]
    said = core.takeaway_list(result)
    mean = {m: result.metric(m)["mean"] for m in ("waiting_total_end", "waiting_list_end",
                                                  "profiling_queue_end", "vetting_end")}
    assert mean["profiling_queue_end"] > 0  # the front door holds children: the case at issue
    assert (f"about {core.about(mean['waiting_total_end'])} children are likely to be waiting at "
            "any stage: ") in said
    assert f"{core.about(mean['waiting_list_end'])} on the diagnostic list for an assessment" in said
    assert f"{core.about(mean['profiling_queue_end'])} waiting for a needs profile" in said
    assert f"{core.about(mean['vetting_end'])} waiting for their referral to be vetted" in said
    assert "waiting for an assessment," not in said  # the old words: the total is not that
    assert mean["waiting_total_end"] == pytest.approx(
        mean["waiting_list_end"] + mean["profiling_queue_end"] + mean["vetting_end"])
    helped = core.card_help(result, "waiting_total_end")
    assert f"{mean['profiling_queue_end']:,.0f} waiting for a needs profile" in helped


def test_every_sentence_names_the_last_month_of_the_horizon(runs):
    """12 months from 1 January 2026 end at the end of December 2026 (the charts' last month):
    the families' sentence said "By January 2027" beside the others' "By December 2026"."""
    said = []
    for result in runs.values():
        assert result.timeseries["month"].max() == "2026-12"
        assert core.horizon_end_words(result.scenario) == "December 2026"
        said += [core.takeaway_list(result), core.takeaway_wait(result),
                 *equity.family_sentences(result)]
    _, cover = pack.cover_lines({n: r.scenario for n, r in runs.items()}, "Title", runs)
    said += cover
    text = " ".join(said)
    assert "2027" not in text
    assert text.count("By the end of December 2026") == 2 * 2 + 2  # list, wait; families
    assert "to the end of December 2026 (12 months)" in text
    later = Scenario().replace({"simulation.start_date": "2026-03-15",
                                "simulation.horizon_months": 60})
    assert core.horizon_end_words(later) == "February 2031"


def with_months(values: dict[str, list[float]], month_values: dict[str, list[float]]
                ) -> ExperimentResult:
    """:func:`result_of` with one month end of the given per-replication monthly values."""
    rows = [{"replication": rep, "month": "2026-12", "metric": metric, "value": value}
            for metric, per_rep in month_values.items() for rep, value in enumerate(per_rep)]
    per_rep = pd.DataFrame({"replication": range(len(next(iter(values.values())))), **values})
    return ExperimentResult(Scenario(), 1, per_rep, pd.DataFrame(rows))


def test_a_median_some_projections_never_reach_says_in_how_many_it_is():
    """Half supported in 3 of 5 projections (20, 30, 40 weeks: 30 on average) beside shares of
    all 5: "within about 30 weeks" alone read as if every projection got there."""
    shares = {"pct_supported_within_13w": [40.0, 30.0, 20.0, 10.0, 10.0],
              "pct_supported_within_52w": [70.0, 60.0, 55.0, 30.0, 35.0]}
    some = result_of({SUPPORT: [20.0, 30.0, 40.0, NAN, NAN], **shares})
    said = core.takeaway_support(some)
    # the shares every projection has come first, then the median with the projections it is of
    assert said == ("22% of new referrals are supported within 13 weeks of referral and 50% "
                    "within a year; in 2 of 5 projections fewer than half are supported by the "
                    "end.")
    assert "30 weeks" not in said  # the median of the 3 that reach it is not the service's
    every = result_of({SUPPORT: [20.0, 30.0, 40.0, 25.0, 35.0], **shares})
    assert core.takeaway_support(every) == (
        "22% of new referrals are supported within 13 weeks of referral and 50% within a year; "
        "half of new referrals are supported within about 30 weeks.")
    most_never = result_of({SUPPORT: [20.0, 30.0, NAN, NAN, NAN], **shares})
    assert core.takeaway_support(most_never).endswith("most families get no support while "
                                                      "they wait.")
    assert "projections" not in core.takeaway_support(most_never)


def test_the_list_wait_median_says_in_how_many_projections_anyone_is_still_waiting():
    """Nobody left on the list in 1 of 4 projections: the median wait (60 weeks) is of the other
    3; the count waiting a year or more is of all 4 (0 where the list is empty)."""
    values = {"list_wait_weeks_p50_end": [50.0, 60.0, 70.0, NAN],
              "waiting_over_52w_end": [400.0, 500.0, 600.0, 0.0],
              "pct_referrals_assessed_within_13w": [10.0, 10.0, 10.0, 30.0]}
    some = with_months(values, {"waiting_over_52w": [400.0, 500.0, 600.0, 0.0]})
    said = core.takeaway_wait(some)
    assert ("about 380 children on the diagnostic list have waited a year or more (average of 4 "
            "projections); in the 3 of 4 projections where anyone is still on the list, half of "
            "the children on the list have waited 60 weeks (about 1.1 years) or more.") in said
    every = with_months(values | {"list_wait_weeks_p50_end": [50.0, 60.0, 70.0, 60.0]},
                        {"waiting_over_52w": [400.0, 500.0, 600.0, 0.0]})
    assert "projections where" not in core.takeaway_wait(every)
    assert "or more (averages of 4 projections)." in core.takeaway_wait(every)


def long_waits(on_list: list[float], profiling: list[float], vetting: list[float],
               median: list[float] | None = None) -> ExperimentResult:
    """:func:`with_months` with the year-or-more counts by stage (the any-stage count their
    sum, as the engine adds them up) and the list's median wait (60 weeks unless given)."""
    values = {"waiting_over_52w_end": on_list, "profiling_over_52w_end": profiling,
              "vetting_over_52w_end": vetting,
              "waiting_total_over_52w_end": [a + b + c for a, b, c in
                                             zip(on_list, profiling, vetting)],
              "list_wait_weeks_p50_end": median or [60.0] * len(on_list),
              "pct_referrals_assessed_within_13w": [10.0] * len(on_list)}
    return with_months(values, {"waiting_over_52w": on_list})


def test_the_year_or_more_sentence_adds_the_children_a_needs_profile_queue_holds():
    """The app's card counts a year or more at any stage; the sentence (the pack's waits slide,
    Present) counted the diagnostic list only, so a slow needs-profile queue made the card and
    the pack differ with nothing to say why. The list count comes first (as NHS England
    publishes it), then the count of every stage, the card's."""
    slow = long_waits([400.0, 500.0, 600.0, 500.0], [800.0, 700.0, 900.0, 800.0], [0.0] * 4)
    said = core.takeaway_wait(slow)
    assert said == (
        "By the end of December 2030 about 500 children on the diagnostic list have waited a "
        "year or more; including children still waiting for a needs profile, about 1,300 have. "
        "Half of the children on the diagnostic list have waited 60 weeks (about 1.1 years) or "
        "more (averages of 4 projections). 10% of new referrals start assessment within the 13 "
        "weeks NICE recommends.")
    card = slow.metric("waiting_total_over_52w_end")["mean"]  # the app's card
    assert "waiting_total_over_52w_end" in core.HEADLINE_METRICS
    assert f"about {core.about(card)} have" in said and core.fmt_metric(
        "waiting_total_over_52w_end", card) == "1,300"
    # vetting too, and vetting alone, by their own words
    both = long_waits([500.0] * 4, [800.0] * 4, [20.0] * 4)
    assert ("; including children still waiting for a needs profile or for their referral to be "
            "vetted, about 1,300 have.") in core.takeaway_wait(both)
    vetting = long_waits([500.0] * 4, [0.0] * 4, [60.0] * 4)
    assert ("; including children still waiting for their referral to be vetted, about 560 "
            "have.") in core.takeaway_wait(vetting)


def test_the_year_or_more_sentence_says_one_count_when_every_stage_rounds_to_it():
    """No profiling (or a queue with nobody a year in it): one count, in the words it had. A
    few children in vetting that round away add nothing either: "about 4,600 ...; including
    ..., about 4,600 have" would say the same number twice."""
    same = long_waits([4600.0] * 4, [0.0] * 4, [0.0] * 4)
    said = core.takeaway_wait(same)
    assert said == (
        "By the end of December 2030 about 4,600 children on the diagnostic list have waited a "
        "year or more; half of the children on the list have waited 60 weeks (about 1.1 years) "
        "or more (averages of 4 projections). 10% of new referrals start assessment within the "
        "13 weeks NICE recommends.")
    rounded_away = long_waits([4610.0] * 4, [0.0] * 4, [20.0] * 4)  # 4,630 is about 4,600 too
    assert core.takeaway_wait(rounded_away) == said
    assert "including" not in core.takeaway_wait(rounded_away)
    assert core.over_year_elsewhere(rounded_away) == ("", "")
    # results from before the any-stage counts: the list count alone, no error
    old = with_months({"waiting_over_52w_end": [500.0] * 4,
                       "list_wait_weeks_p50_end": [60.0] * 4,
                       "pct_referrals_assessed_within_13w": [10.0] * 4},
                      {"waiting_over_52w": [500.0] * 4})
    assert "including" not in core.takeaway_wait(old)


def test_the_every_stage_count_is_over_every_projection_the_median_over_those_with_a_list():
    """Nobody left on the list in 1 of 4 projections: both counts are averages of all 4 (0 on
    the list where it is empty), the median of the other 3; and with nobody on the list in any,
    the queue's long waiters are still said."""
    some = long_waits([400.0, 500.0, 600.0, 0.0], [700.0, 800.0, 900.0, 1000.0], [0.0] * 4,
                      median=[50.0, 60.0, 70.0, NAN])
    said = core.takeaway_wait(some)
    assert said.startswith(
        "By the end of December 2030 about 380 children on the diagnostic list have waited a "
        "year or more; including children still waiting for a needs profile, about 1,200 have "
        "(averages of 4 projections). In the 3 of 4 projections where anyone is still on the "
        "diagnostic list, half of the children on it have waited 60 weeks (about 1.1 years) or "
        "more."), said
    empty = long_waits([0.0] * 4, [700.0] * 4, [0.0] * 4, median=[NAN] * 4)
    assert core.takeaway_wait(empty).startswith(
        "By the end of December 2030 nobody is on the diagnostic list waiting for an assessment, "
        "but about 700 children still waiting for a needs profile have waited a year or more "
        "(average of 4 projections).")
    nobody = long_waits([0.0] * 4, [0.0] * 4, [0.0] * 4, median=[NAN] * 4)
    assert core.takeaway_wait(nobody).startswith(
        "By the end of December 2030 nobody is on the diagnostic list waiting for an "
        "assessment. 10%")


FRONT_DOOR = Scenario().replace({"profiling.enabled": True})
"""A scenario with the profiling front door (needs-led routing) on."""


def waits_by_stage(list_median: list[float], any_median: list[float],
                   profiling: list[float], scenario: Scenario | None = None,
                   on_list: list[float] | None = None) -> ExperimentResult:
    """A result with the diagnostic list's median wait and every stage's, the children waiting
    for a needs profile (``profiling``) beside 5,000 on the list (or ``on_list``), nobody in
    vetting and 4,000 on the list a year or more (none in the profile queue)."""
    n = len(list_median)
    listed = on_list or [5000.0] * n
    values = {"waiting_over_52w_end": [4000.0] * n, "profiling_over_52w_end": [0.0] * n,
              "vetting_over_52w_end": [0.0] * n, "waiting_total_over_52w_end": [4000.0] * n,
              "waiting_list_end": listed, "profiling_queue_end": profiling,
              "vetting_end": [0.0] * n,
              "list_wait_weeks_p50_end": list_median, "total_wait_weeks_p50_end": any_median,
              "pct_referrals_assessed_within_13w": [10.0] * n}
    rows = [{"replication": rep, "month": "2030-12", "metric": "waiting_over_52w",
             "value": 4000.0} for rep in range(n)]
    per_rep = pd.DataFrame({"replication": range(n), **values})
    return ExperimentResult(scenario or Scenario(), 1, per_rep, pd.DataFrame(rows))


def test_a_front_door_that_lengthens_the_lists_wait_says_the_wait_of_every_stage():
    """The front door moves children off the list: the list's own median rises (100 -> 130
    weeks) while the median of every child still waiting, at any stage, falls (100 -> 85). The
    sentence said only the list's, so the package read as longer waits for families."""
    status_quo = waits_by_stage([100.0] * 4, [100.0] * 4, [0.0] * 4)
    front = waits_by_stage([120.0, 130.0, 140.0, 130.0], [80.0, 85.0, 90.0, 85.0],
                           [2000.0] * 4, FRONT_DOOR)
    assert front.metric("list_wait_weeks_p50_end")["mean"] > status_quo.metric(
        "list_wait_weeks_p50_end")["mean"]  # the case at issue: the list's median rises
    assert front.metric("total_wait_weeks_p50_end")["mean"] < status_quo.metric(
        "total_wait_weeks_p50_end")["mean"]  # while every stage's falls
    assert core.takeaway_wait(front) == (
        "By the end of December 2030 about 4,000 children on the diagnostic list have waited a "
        "year or more; half of the children on the list have waited 130 weeks (about 2.5 years) "
        "or more. Counting the children still waiting for a needs profile too, half of all the "
        "children waiting have waited 85 weeks (about 1.6 years) or more (averages of 4 "
        "projections). 10% of new referrals start assessment within the 13 weeks NICE "
        "recommends.")
    # the status quo has only the list: one median, said once, and no explanation
    said = core.takeaway_wait(status_quo)
    assert "half of all the children waiting" not in said and core.OLDER_LIST_WORDS not in said
    assert "have waited 100 weeks (about 1.9 years) or more (averages of 4 projections)." in said
    # the combined package's 60-month numbers: a list of 150 weeks, every stage 91
    combined = waits_by_stage([150.0] * 4, [91.0] * 4, [2000.0] * 4, FRONT_DOOR)
    assert "have waited 91 weeks (about 1.7 years) or more" in core.takeaway_wait(combined)


def test_the_wait_of_every_stage_is_said_for_a_real_front_door(runs):
    result = runs["Combined package"]
    anywhere = result.metric("total_wait_weeks_p50_end")["mean"]
    on_list = result.metric("list_wait_weeks_p50_end")["mean"]
    assert result.metric("profiling_queue_end")["mean"] > 0  # the front door holds children
    assert f"{anywhere:.0f}" != f"{on_list:.0f}"  # two numbers to say
    said = core.takeaway_wait(result)
    assert f"half of the children on the list have waited {on_list:.0f} weeks" in said
    assert ("Counting the children still waiting for a needs profile or for their referral to "
            f"be vetted too, half of all the children waiting have waited {anywhere:.0f} weeks"
            in said)
    assert said.count("projections") == 1  # the averages said once
    # and the status quo says its own, so the two can be set side by side
    status_quo = runs["Status quo"]
    assert (f"half of all the children waiting have waited "
            f"{status_quo.metric('total_wait_weeks_p50_end')['mean']:.0f} weeks"
            in core.takeaway_wait(status_quo))


def test_the_wait_of_every_stage_says_the_projections_it_is_of():
    """Nobody left on the list in 1 of 4 projections (its median of the other 3) while
    children wait for a profile in all 4 (every stage's median of all 4); and nobody waiting
    anywhere in 1 of 4 (every stage's median of the other 3)."""
    some_list = waits_by_stage([120.0, 130.0, 140.0, NAN], [80.0, 85.0, 90.0, 95.0],
                               [2000.0] * 4, FRONT_DOOR, on_list=[5000.0] * 3 + [0.0])
    assert core.takeaway_wait(some_list) == (
        "By the end of December 2030 about 4,000 children on the diagnostic list have waited a "
        "year or more (average of 4 projections); in the 3 of 4 projections where anyone is "
        "still on the list, half of the children on the list have waited 130 weeks (about 2.5 "
        "years) or more. Counting the children still waiting for a needs profile too, half of "
        "all the children waiting have waited 88 weeks (about 1.7 years) or more (average of "
        "all 4 projections). 10% of new referrals start assessment within the 13 weeks NICE "
        "recommends.")
    some_anywhere = waits_by_stage([120.0, 130.0, 140.0, NAN], [80.0, 85.0, 90.0, NAN],
                                   [2000.0] * 3 + [0.0], FRONT_DOOR,
                                   on_list=[5000.0] * 3 + [0.0])
    assert ("half of the children on the list have waited 130 weeks (about 2.5 years) or "
            "more. In the 3 of 4 projections where anyone is still waiting, counting the "
            "children still waiting for a needs profile too, half of all the children waiting "
            "have waited 85 weeks (about 1.6 years) or more. 10%") in core.takeaway_wait(
                some_anywhere)


def test_a_front_door_with_nobody_waiting_for_a_profile_says_why_the_lists_wait_rises():
    """No needs-profile queue at the end: every stage's median is the list's, so the sentence
    says why the list's can rise (fewer children join it) instead; the same median for every
    stage is not said twice."""
    same = waits_by_stage([130.0] * 4, [130.2] * 4, [0.0] * 4, FRONT_DOOR)
    said = core.takeaway_wait(same)
    assert said.count("130 weeks") == 1 and "half of all the children waiting" not in said
    assert said.endswith(f"or more (averages of 4 projections). {core.OLDER_LIST_WORDS} 10% of "
                         "new referrals start assessment within the 13 weeks NICE recommends.")
    # a queue for a profile whose children's waits round to the list's: nothing to add but why
    rounds = waits_by_stage([130.0] * 4, [130.3] * 4, [50.0] * 4, FRONT_DOOR)
    assert "half of all the children waiting" not in core.takeaway_wait(rounds)
    assert core.OLDER_LIST_WORDS in core.takeaway_wait(rounds)
    # without a front door, no explanation is needed
    assert core.OLDER_LIST_WORDS not in core.takeaway_wait(
        waits_by_stage([130.0] * 4, [130.0] * 4, [0.0] * 4))


def test_the_families_support_wait_says_in_how_many_projections_any_were_supported():
    supported = {"supported_without_diagnosis": [30.0, 20.0, 0.0, 0.0]}
    some = result_of(supported | {"supported_without_diagnosis_weeks_to_support_p50":
                                  [6.0, 10.0, NAN, NAN]})
    assert equity.family_sentences(some)[0] == (
        "About 10 children were supported without a diagnosis; in the 2 of 4 projections where "
        "any were, half of them had waited 8 weeks or less for that support.")
    every = result_of({"supported_without_diagnosis": [30.0, 20.0, 5.0, 5.0],
                       "supported_without_diagnosis_weeks_to_support_p50": [6.0, 10.0, 8.0, 8.0]})
    assert equity.family_sentences(every)[0] == (
        "About 15 children were supported without a diagnosis; half of them had waited 8 weeks "
        "or less for that support.")


def test_a_groups_median_wait_says_in_how_many_projections_the_group_is_still_waiting():
    """Looked-after children still waiting in 3 of 4 projections: their median (60 weeks) is of
    those 3, the others' (80) of all 4."""
    cells = {("yes", "waiting_list_end"): [20.0, 20.0, 0.0, 20.0],
             ("yes", "list_wait_weeks_p50_end"): [50.0, 60.0, NAN, 70.0],
             ("no", "waiting_list_end"): [200.0, 200.0, 200.0, 200.0],
             ("no", "list_wait_weeks_p50_end"): [80.0, 80.0, 80.0, 80.0]}
    groups = pd.DataFrame([{"replication": rep, "variable": "looked_after_or_cin", "group": group,
                            "metric": metric, "value": value}
                           for (group, metric), values in cells.items()
                           for rep, value in enumerate(values)])
    result = dataclasses.replace(result_of({"waiting_list_end": [220.0] * 4}), groups=groups)
    said = equity._gap_sentence(result, "looked_after_or_cin", "list_wait_weeks_p50_end")
    assert said == ("looked-after children and children in need 60 weeks (in the 3 of 4 "
                    "projections where any are still waiting), others 80")


# -------------------------------------------------------------------------------------------------
# 6. Scenarios of different services


def test_scenarios_of_different_services_are_named_with_where_each_starts(runs):
    combined = runs["Combined package"]
    assert core.different_services(runs) == ""  # the shipped ones: one service
    calibrated = combined.scenario.replace({"backlog.count": 10_200,
                                            "arrivals.referrals_per_month": 240.0,
                                            "meta.name": "Calibrated: synthetic example"})
    per_rep = combined.per_replication.assign(waiting_list_start=10_200.0)
    other = ExperimentResult(calibrated, combined.seed, per_rep, combined.monthly)
    warning = core.different_services({"Calibrated: synthetic example": other,
                                       "Combined package": combined,
                                       "Status quo": runs["Status quo"]})
    assert warning.startswith("These scenarios describe different services")
    assert ("“Calibrated: synthetic example” starts from 1 January 2026 with 10,200 children on "
            "the diagnostic list and 240 referrals a month") in warning
    assert ("“Combined package” and “Status quo” start from 1 January 2026 with 7,000 children "
            "on the diagnostic list and 250 referrals a month") in warning
    assert "not from the effect of a policy" in warning
    # a policy lever (growth) is not another service
    grown = ExperimentResult(combined.scenario.replace({"arrivals.annual_growth": 0.2}),
                             combined.seed, combined.per_replication, combined.monthly)
    assert core.different_services({"a": combined, "b": grown}) == ""
    lines = pack.cover_lines({"x": calibrated, "y": combined.scenario}, "T",
                             {"x": other, "y": combined})[1]
    assert lines[0] == f"WARNING: {core.different_services({'x': other, 'y': combined})}"


# -------------------------------------------------------------------------------------------------
# The pages


SMALL = {"horizon_months": 12, "replications": 3}


def other_service() -> Scenario:
    """A scenario of another service (a larger list at the start), as a calibrated one is."""
    return core.load_shipped("default")[0].replace({"backlog.count": 9_000,
                                                    "meta.name": "Another service"})


def test_compare_page_differences_agree_with_the_numbers_table():
    at = start_app(SMALL | {"compare_scenarios": ["shipped:default", "shipped:combined"]},
                   "app/pages/compare.py")
    at.button(key="compare_run").click().run()
    assert not at.exception and not at.error
    assert not any("different services" in w.value for w in at.warning)
    numbers = next(t for t in tables(at) if "Measure" in t.columns
                   and "Difference" not in t.columns).set_index("Measure")
    diff = table_with(at, "95% interval of the difference").set_index("Measure")
    base, other = "Status quo (illustrative Leeds-sized service)", "Combined package"
    support = label(SUPPORT)
    assert numbers.loc[support, base] == "not reached" and numbers.loc[support, other] != (
        "not reached")  # the case at issue: reached only in Combined
    for measure in diff.index:
        for name in (base, other):
            assert diff.loc[measure, name] == numbers.loc[measure, name], measure
    assert diff.loc[support, "Difference"] == f"reached in “{other}”, not in “{base}”"
    assert diff.loc[support, "Clear change?"] == "better"
    assert not diff.apply(lambda column: column.str.contains(r"(?<![\d.])-0(?![\d.,])")).any().any()
    verdicts = set(diff["Clear change?"])
    assert verdicts <= {"better", "worse", "costs more", "costs less", "higher", "lower",
                        "no change", "not clear",
                        "cannot tell"}, verdicts


@pytest.mark.parametrize("page, key, run", [("app/pages/compare.py", "compare_scenarios",
                                             "compare_run"),
                                            ("app/pages/present.py", "present_scenarios",
                                             "present_run")])
def test_the_pages_warn_when_the_scenarios_are_of_different_services(page, key, run):
    settings = SMALL | {"ndpath_session_scenarios": {"Another service": other_service()},
                        key: ["session:Another service", "shipped:combined"]}
    at = start_app(settings, page)
    at.button(key=run).click().run()
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning if "different services" in w.value]
    assert warnings and "“Another service” starts from 1 January 2026 with 9,000 children" in \
        warnings[0] and "not from the effect of a policy" in warnings[0]


def test_present_page_says_nhs_and_one_end_date_and_no_warning_for_one_service():
    at = start_app(SMALL, "app/pages/present.py")  # the default pair: Status quo and Combined
    assert not at.exception and not at.error
    assert not any("different services" in w.value for w in at.warning)
    captions = " ".join(c.value for c in at.caption)
    assert "as NHS statistics do" in captions and "nhs statistics" not in captions
    words = " ".join(m.value for m in at.markdown)
    assert words.count("By the end of December 2026") >= 2 * 2 + 2 and "2027" not in words
    assert "children are likely to be waiting at any stage" in words


def test_a_fault_in_the_code_is_not_blamed_on_the_users_choices():
    """A page whose code changed under a running server said "Something went wrong: module
    'app.layout' has no attribute 'words_style'. Try fewer scenarios or other settings.": no
    setting fixes that. A fault in the code says to restart the app and report it."""
    from app import layout

    fault = layout.failure_words(AttributeError("module 'app.layout' has no attribute 'x'"),
                                 "Try fewer scenarios or other settings.")
    assert "restart the app" in fault and "Try fewer scenarios" not in fault
    assert "not your choices" in fault
    choice = layout.failure_words(ValueError("no scenario chosen"),
                                  "Try fewer scenarios or other settings.")
    assert choice == "Something went wrong: no scenario chosen. Try fewer scenarios or other settings."
    for page in ("compare", "present", "scenario", "calibrate"):  # every page says it one way
        text = (Path(__file__).resolve().parents[1] / "app" / "pages" / f"{page}.py").read_text()
        assert "layout.page_failed(error," in text and 'st.error(f"Something went wrong' not in text
