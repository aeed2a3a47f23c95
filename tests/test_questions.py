"""The commissioner's questions: backlog clearance and the least extra capacity for a target."""

from __future__ import annotations

import numpy as np
import pytest

from model.experiment import run_replications
from model.questions import backlog_clearance, least_extra_capacity, with_extra_wte
from helpers import NO_FLOWS
from model.scenario import Scenario

WEEKS_PER_MONTH = 365.25 / 12 / 7


def _small_service(backlog: int = 300) -> Scenario:
    """One profession, fixed 10 hours per assessment, 40 referrals a month, no exits."""
    return Scenario().replace({
        **NO_FLOWS,
        "arrivals.enabled": True,
        "simulation.horizon_months": 24,
        "arrivals.referrals_per_month": 40.0,
        "arrivals.annual_growth": 0.0,
        "arrivals.seasonality": [1.0] * 12,
        "backlog.count": backlog,
        "assessment.professions": [{"name": "clinician", "wte": 1.0, "job_plan_share": 1.0}],
        "assessment.leave_weeks_per_year": 0.0,
        "assessment.hours_per_assessment": {"kind": "fixed", "value": 10.0},
    })


def test_with_extra_wte_adds_hours_in_proportion() -> None:
    s = _small_service()
    more = with_extra_wte(s, 2.0)
    assert more.assessment.clinical_hours_per_week() == s.assessment.clinical_hours_per_week()
    assert sum(c.wte_change for c in more.assessment.staffing_changes) == pytest.approx(2.0)
    assert s.assessment.staffing_changes == ()  # the original is untouched


def test_backlog_clearance_is_a_probability_and_responds_to_capacity() -> None:
    s = _small_service()
    starved = backlog_clearance(run_replications(s, 3, executor="serial"))
    # 1 WTE = 37.5 h/week = 3.75 assessments/week < 40/month demand: never cleared
    assert (starved["probability_cleared"] == 0).all()
    flush = backlog_clearance(run_replications(with_extra_wte(s, 9.0), 3, executor="serial"))
    assert flush["probability_cleared"].between(0, 1).all()
    assert np.all(np.diff(flush["first_cleared_share"]) >= 0)
    assert flush["probability_cleared"].iloc[-1] == 1.0


def test_least_extra_capacity_brackets_the_demand() -> None:
    s = _small_service()
    answer = least_extra_capacity(s, target_pct=90, by="2027-12", replications=3,
                                  executor="serial", tolerance_wte=0.25)
    assert answer.extra_wte is not None
    assert answer.achieved_pct >= 90
    # demand: 40 referrals/month x 10 h = ~92 h/week; capacity (1 + extra) x 37.5 h must exceed it
    demand_hours = 40 / WEEKS_PER_MONTH * 10
    assert (1 + answer.extra_wte) * 37.5 > demand_hours
    # and the search saw the target fail just below the answer
    tried = answer.evaluations
    below = tried[tried["extra_wte"] < answer.extra_wte - 0.25]
    assert (below["mean_pct"] < 90).all() and len(below) > 0


def test_least_extra_capacity_rejects_a_month_outside_the_horizon() -> None:
    with pytest.raises(ValueError, match="within the horizon"):
        least_extra_capacity(_small_service(), by="2031-01", executor="serial")
