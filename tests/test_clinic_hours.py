"""The clinic sessions' hours: exactly the clinical hours of the horizon, however the sessions fall.

A session at day s grants the hours of [s, min(s + interval, horizon)), integrated over staffing
changes, their ramps and a team that a loss takes to zero. Before issue 8 each session granted a
full interval at its midpoint's WTE, so the last session before the horizon granted hours past
it (91-day sessions over 12 months: 5 x 91 = 455 days of hours in a 365-day year, +25%), and a
session straddling a change got its midpoint's WTE for the whole interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from helpers import NO_FLOWS
from model.metrics import replication_metrics
from model.pathway import PathwayModel, simulate
from model.scenario import Scenario

HOURS_PER_WTE_DAY = 37.5 / 7.0

# one clinician giving 37.5 hours a week (no leave), a list that never empties, nobody leaving
OVERLOADED: dict[str, Any] = {
    **NO_FLOWS,
    "simulation.horizon_months": 12,  # 2026: 365 days
    "backlog.count": 3000,
    "assessment.professions": [{"name": "clinician", "wte": 1.0, "job_plan_share": 1.0}],
    "assessment.leave_weeks_per_year": 0.0,
    "assessment.hours_per_assessment": {"kind": "fixed", "value": 10.0},
    "assessment.session_interval_days": 91.0,
}


def _ledger(result: Any) -> Any:
    return result.capacity[result.capacity["stage"] == "assessment"]


def test_91_day_sessions_grant_exactly_the_hours_of_the_horizon() -> None:
    """Sessions on days 0, 91, 182, 273 and 364 of 365: the last grants one day's hours."""
    result = simulate(Scenario().replace(OVERLOADED), 0)
    cap = _ledger(result)
    assert result.horizon_days == 365.0
    np.testing.assert_array_equal(cap["time_days"].to_numpy(), [0.0, 91.0, 182.0, 273.0, 364.0])
    np.testing.assert_allclose(cap["hours_available"].to_numpy(),
                               HOURS_PER_WTE_DAY * np.array([91.0, 91.0, 91.0, 91.0, 1.0]),
                               rtol=1e-12)
    assert cap["hours_available"].sum() == pytest.approx(37.5 * 365.0 / 7.0, rel=1e-12)
    # the ledger and the utilisation agree: the list never empties, so every hour is used
    assert (cap["hours_used"] <= cap["hours_available"] + 1e-9).all()
    metrics = replication_metrics(result)
    assert metrics["clinician_utilisation"] == pytest.approx(1.0, abs=1e-12)
    # 10 hours each, a child started while hours remain: ceil(hours granted so far / 10)
    granted = np.cumsum(cap["hours_available"].to_numpy())
    starts = result.events[result.events["event"] == "assessment_start"].groupby("time_days").size()
    np.testing.assert_array_equal(starts.cumsum().to_numpy(), np.ceil(granted / 10.0 - 1e-9))


def test_sessions_straddling_staffing_changes_get_their_exact_hours() -> None:
    """A loss of 3 WTE ramped over 10 weeks from day 40 takes the one clinician to zero on day
    40 + 70 / 3; 2 WTE join on day 150 with no ramp. By hand, in WTE-days:
    [0, 91): 40 + (70 / 3) / 2 = 51.67; [91, 182): 2 x 32 = 64; [182, 273) and [273, 364): 182;
    [364, 365): 2. The loss is clipped at zero before the recruits are added (the model's rule).
    """
    changes = [
        {"date": "2026-02-10", "profession": "clinician", "wte_change": -3.0, "ramp_weeks": 10.0},
        {"date": "2026-05-31", "profession": "clinician", "wte_change": 2.0, "ramp_weeks": 0.0},
    ]
    scenario = Scenario().replace({**OVERLOADED, "assessment.staffing_changes": changes})
    result = simulate(scenario, 0)
    wte_days = np.array([40.0 + 70.0 / 3.0 / 2.0, 64.0, 182.0, 182.0, 2.0])
    np.testing.assert_allclose(_ledger(result)["hours_available"].to_numpy(),
                               HOURS_PER_WTE_DAY * wte_days, rtol=1e-12)
    # any window: [10, 70) holds 30 days at 1 WTE, the ramp from 40 to the zero at 63.33, nothing
    model = PathwayModel(scenario, 0)
    assert model.clinical_hours_between(10.0, 70.0) == pytest.approx(
        HOURS_PER_WTE_DAY * (30.0 + 70.0 / 3.0 / 2.0), rel=1e-12)
    assert model.clinical_hours_between(100.0, 160.0) == pytest.approx(
        HOURS_PER_WTE_DAY * 2.0 * 10.0, rel=1e-12)
    assert model.clinical_hours_between(0.0, model.horizon) == pytest.approx(
        HOURS_PER_WTE_DAY * wte_days.sum(), rel=1e-12)


def test_session_hours_add_up_for_any_interval() -> None:
    """Whatever the interval (dividing the horizon or not), the sessions' hours sum to the year's."""
    for interval in (1.0, 7.0, 10.5, 30.0, 91.0):
        result = simulate(Scenario().replace({**OVERLOADED,
                                              "assessment.session_interval_days": interval}), 0)
        total = _ledger(result)["hours_available"].sum()
        assert total == pytest.approx(37.5 * 365.0 / 7.0, rel=1e-12), interval
