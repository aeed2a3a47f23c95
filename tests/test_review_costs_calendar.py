"""Review findings: costs of outsourced blocks and the monthly calendar.

Each test pins a number a commissioner reads (cost_total, the horizon, month edges) on a small
scenario where the right answer is known exactly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from model.metrics import replication_metrics
from model.pathway import month_starts, simulate
from model.scenario import Scenario

from helpers import still_service


def _quiet(months: int = 12) -> Scenario:
    """No arrivals, no leaving, no staff: only what the test adds moves children."""
    return still_service({"simulation.horizon_months": months, "backlog.count": 2_000})


def test_overlapping_outsourced_blocks_are_each_paid_once() -> None:
    """Two blocks whose dates overlap: each outsourced assessment is paid once, at its own price.

    The list never runs dry, so every place is used: 200 at 1,000 and 50 at 3,000.
    """
    blocks = [
        {"start_date": dt.date(2026, 1, 1), "end_date": dt.date(2026, 12, 1),
         "assessments": 200, "cost_per_assessment": 1_000.0},
        {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 6, 1),
         "assessments": 50, "cost_per_assessment": 3_000.0},
    ]
    scenario = _quiet().replace({"assessment.outsourced": blocks})
    result = simulate(scenario, 0)
    metrics = replication_metrics(result)
    assert metrics["outsourced_assessments"] == 250
    assert metrics["cost_total"] == 200 * 1_000.0 + 50 * 3_000.0


def test_one_outsourced_block_costs_its_assessments() -> None:
    """The single-block case (a control for the test above): places used x price."""
    block = {"start_date": dt.date(2026, 2, 1), "end_date": dt.date(2026, 8, 1),
             "assessments": 120, "cost_per_assessment": 2_500.0}
    result = simulate(_quiet().replace({"assessment.outsourced": [block]}), 0)
    metrics = replication_metrics(result)
    assert metrics["outsourced_assessments"] == 120
    assert metrics["cost_total"] == 120 * 2_500.0


def test_month_edges_do_not_drift_from_a_start_late_in_the_month() -> None:
    """Month k starts k calendar months after the start date, however late in the month it is.

    From 31 January, 12 months end on 31 January next year (365 days), not on the 28th or 29th
    that repeated one-month steps drift to after February.
    """
    edges = month_starts(pd.Timestamp("2026-01-31"), 12)
    expected = [(pd.Timestamp("2026-01-31") + pd.DateOffset(months=k) - pd.Timestamp("2026-01-31"))
                / pd.Timedelta(days=1) for k in range(13)]
    np.testing.assert_array_equal(edges, expected)
    assert edges[-1] == 365.0


def test_a_loss_larger_than_the_staff_does_not_make_their_cost_negative() -> None:
    """Losing 5 WTE psychologists from a team of 3 leaves none (the model's capacity stops at
    zero); their cost stops at zero too, rather than paying the service for 2 missing staff.
    Posts are costed whole (model.costs), whatever share of the week goes to assessment."""
    scenario = _quiet().replace({
        "assessment.professions.0.wte": 3.0,
        "assessment.professions.1.wte": 3.0,
        "assessment.professions.2.wte": 2.0,
        "assessment.staffing_changes": [
            {"date": dt.date(2026, 1, 1), "profession": "psychologist", "wte_change": -5.0,
             "ramp_weeks": 0.0}],
    })
    result = simulate(scenario, 0)
    years = result.horizon_days / 365.25
    paed, _, salt = scenario.assessment.professions
    expected = (paed.wte * paed.cost_per_wte_year + salt.wte * salt.cost_per_wte_year) * years
    assert abs(replication_metrics(result)["cost_total"] - expected) < 1e-6 * expected


def test_staffing_changes_cost_from_their_dates() -> None:
    """A control for the test above: +1 WTE from month 4 and -1 WTE from month 7 of 12."""
    scenario = _quiet().replace({
        "assessment.professions.1.wte": 2.0,
        "assessment.staffing_changes": [
            {"date": dt.date(2026, 4, 1), "profession": "psychologist", "wte_change": 1.0},
            {"date": dt.date(2026, 7, 1), "profession": "psychologist", "wte_change": -1.0}],
    })
    result = simulate(scenario, 0)
    psych = scenario.assessment.professions[1]
    rate = psych.cost_per_wte_year  # the whole post
    days_2, days_3 = 90 + (365 - 181), 181 - 90  # 2 WTE outside April-June, 3 WTE in it
    expected = rate * (2.0 * days_2 + 3.0 * days_3) / 365.25
    assert abs(replication_metrics(result)["cost_total"] - expected) < 1e-6 * expected
