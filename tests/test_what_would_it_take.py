""""What would it take?": :func:`model.questions.least_lever`, the search the app's Scenario page
and ``ndpath capacity`` share, for every target and lever.

Small scenarios (12-18 months, 3 replications, serial) keep each search to seconds. The answers
are checked against the search's own definition (the answer meets the target on average, a
tolerance less does not), against direction (a harder target needs more), and against the levers'
meaning (an outsourced block of N a month is N a month for the horizon).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from app import core
from model.experiment import run_replications
from model.questions import Lever, Target, least_extra_capacity, least_lever


@pytest.fixture(scope="module")
def base():
    return core.load_shipped("default")[0].replace(
        {"simulation.horizon_months": 6, "simulation.replications": 3})


def mean_at(scenario, target: Target) -> float:
    result = run_replications(scenario, executor="serial")
    m = result.monthly[result.monthly["month"] == target.by]
    return float(target.values(m.pivot(index="replication", columns="metric",
                                       values="value")).mean())


def test_list_below_n_by_outsourcing_meets_it_and_a_tolerance_less_does_not(base):
    target = Target("list_below", 6500, "2026-06")
    lever = Lever("outsourced_per_month")
    answer = least_lever(base, target, lever, executor="serial")
    assert answer.amount is not None and answer.amount > 0
    assert target.met(mean_at(lever.apply(base, answer.amount), target))
    assert not target.met(mean_at(lever.apply(base, answer.amount - lever.tolerance), target))
    # the level each projection needs brackets the answer, and the chance is of that level
    low, high = answer.needed_range()
    assert low <= answer.amount <= high or math.isclose(low, high)
    assert 0 < answer.probability_met <= 1
    assert "children waiting at the end of June 2026" in answer.sentence()


def test_a_harder_target_needs_more(base):
    lever = Lever("wte")
    easy = least_lever(base, Target("list_below", 7000, "2026-06"), lever, executor="serial",
                       tolerance=1.0)
    hard = least_lever(base, Target("list_below", 6500, "2026-06"), lever, executor="serial",
                       tolerance=1.0)
    assert easy.amount is not None and hard.amount is not None
    assert hard.amount > easy.amount


def test_an_outsourced_lever_is_that_many_a_month_for_the_horizon(base):
    made = Lever("outsourced_per_month").apply(base, 25)
    block = made.assessment.outsourced[-1]
    assert block.assessments == 25 * 6
    assert block.start_date == base.simulation.start_date
    assert pd.Period(block.end_date, freq="M") == pd.Period("2026-07", freq="M")


def test_one_profession_is_added_alone_and_support_places_are_places(base):
    made = Lever("wte", "psychologist").apply(base, 2.0)
    change = made.assessment.staffing_changes[-1]
    assert (change.profession, change.wte_change, change.date) == (
        "psychologist", 2.0, base.simulation.start_date)
    more = Lever("support_places").apply(base, 40)
    assert more.support.places == base.support.places + 40
    with pytest.raises(ValueError, match="choose one of"):
        Lever("wte", "astrologer").apply(base, 1.0)


def test_nobody_waiting_a_year_is_met_when_no_projection_has_anyone_waiting_that_long(base):
    # a short horizon from a list with long waits: only a great deal of outsourcing clears it
    target = Target("nobody_over_52w", 0, "2026-06")
    answer = least_lever(base, target, Lever("outsourced_per_month"), executor="serial",
                         max_amount=2000)
    assert answer.amount is not None
    assert answer.probability_met == 1.0  # an average of 0 means every projection has nobody
    assert np.isfinite(answer.needed).all()


def test_a_target_out_of_reach_says_so(base):
    answer = least_lever(base, Target("nobody_over_52w", 0, "2026-03"), Lever("support_places"),
                         executor="serial", max_amount=40)
    assert answer.amount is None and "does not reach" in answer.sentence()


def test_bad_targets_are_refused_in_words(base):
    with pytest.raises(ValueError, match=r"\(0, 100\]"):
        Target("referrals_13w", 120, "2026-06")
    with pytest.raises(ValueError, match="within the horizon"):
        least_lever(base, Target("list_below", 10, "2031-01"), Lever("wte"), executor="serial")
    with pytest.raises(ValueError, match="have not all had 13 weeks"):
        least_lever(base, Target("referrals_13w", 50, "2026-06"), Lever("wte"),
                    executor="serial")


@pytest.mark.slow
def test_capacity_is_the_same_search_as_least_lever(base):
    """``ndpath capacity`` (least_extra_capacity) and the app give the same answer."""
    scenario = base.replace({"simulation.horizon_months": 10})
    cli = least_extra_capacity(scenario, 30.0, "2026-06", replications=2, executor="serial",
                               measure="referrals", tolerance_wte=1.0)
    app = least_lever(scenario, Target("referrals_13w", 30.0, "2026-06"), Lever("wte"),
                      replications=2, executor="serial", tolerance=1.0)
    assert cli.extra_wte == app.amount
    assert cli.probability_met == app.probability_met
    assert list(cli.evaluations["extra_wte"]) == list(app.evaluations["amount"])
