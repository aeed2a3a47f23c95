"""The exact FIFO servers fast path gives the SimPy model's results on the same random numbers.

A run that is a single first-come-first-served queue with identical servers (the textbook
reductions) skips SimPy and uses the Kiefer-Wolfowitz recursion. These tests run both paths on the
same scenario and seed and require every table to be identical, float for float, including
backlogs, vetting, exits while waiting, ageing out, escalations and ties between events.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from model.metrics import monthly_metrics, replication_metrics
from model.pathway import PathwayModel, SimulationResult
from model.scenario import Scenario, load_scenario

VALIDATION = Path(__file__).resolve().parents[1] / "scenarios" / "validation"

SHORT = ["simulation.horizon_months=18"]
BUSY_START = [
    # a list at the start, vetting, every way of leaving, escalations: all the fast path handles
    "backlog.enabled=true", "backlog.count=400", "vetting.enabled=true",
    "leaving.withdrawal_per_year=0.5", "leaving.moved_per_year=0.2", "leaving.private_per_year=0.3",
    "leaving.age_out=true", "escalation.enabled=true",
]
TIES = [
    # fixed service times and a backlog at time 0: several servers free at the same instant
    "backlog.enabled=true", "backlog.count=60", "assessment.servers=3",
    "assessment.service_days={kind='fixed', value=1.0}",
]

CASES = {
    "mmc": ("mmc.toml", SHORT),
    "mmc_abandonment": ("mmc_abandonment.toml", SHORT),
    "busy_start": ("mmc.toml", SHORT + BUSY_START),
    "ties": ("mmc.toml", SHORT + TIES),
    "overloaded_with_exits": ("mmc_abandonment.toml", SHORT + BUSY_START + ["assessment.servers=6"]),
}


def _both(scenario: Scenario, replication: int) -> tuple[SimulationResult, SimulationResult, PathwayModel]:
    fast_model = PathwayModel(scenario, replication, fast_paths=True)
    fast = fast_model.run()
    slow_model = PathwayModel(scenario, replication, fast_paths=False)
    slow = slow_model.run()
    assert fast_model.env.now == 0.0, "the fast path should not have run SimPy"
    assert slow_model.env.now == pytest.approx(slow.horizon_days), "the SimPy path ran to the horizon"
    return fast, slow, fast_model


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_matches_simpy_path_exactly(case: str) -> None:
    file, overrides = CASES[case]
    scenario = load_scenario(VALIDATION / file, overrides)
    for replication in (0, 1):
        fast, slow, _ = _both(scenario, replication)
        assert len(fast.events) > 1000
        pd.testing.assert_frame_equal(fast.events, slow.events, check_exact=True)
        pd.testing.assert_frame_equal(fast.capacity, slow.capacity, check_exact=True)
        pd.testing.assert_frame_equal(fast.children, slow.children, check_exact=True)
        assert replication_metrics(fast) == pytest.approx(replication_metrics(slow), rel=0, abs=0,
                                                          nan_ok=True)
        pd.testing.assert_frame_equal(monthly_metrics(fast), monthly_metrics(slow), check_exact=True)


def test_cases_exercise_what_they_claim() -> None:
    """The comparison is only worth something if exits, ties and a queue actually happen."""
    busy = load_scenario(VALIDATION / "mmc_abandonment.toml", SHORT + BUSY_START + ["assessment.servers=6"])
    fast, _, model = _both(busy, 0)
    exits = fast.events[fast.events["event"] == "exit"]["detail"].astype(str)
    assert {"rejected", "withdrawn", "aged_out"} <= set(exits)
    assert (fast.events["event"] == "escalation").any()
    metrics = replication_metrics(fast)
    assert metrics["waiting_list_end"] > 0 and metrics["assessments_started"] > 0
    ties = load_scenario(VALIDATION / "mmc.toml", SHORT + TIES)
    fast, _, _ = _both(ties, 0)
    starts = fast.events[fast.events["event"] == "assessment_start"]["time_days"]
    assert starts.duplicated().sum() > 100  # many children start at the same instant


def test_fast_path_is_not_used_where_it_would_be_wrong() -> None:
    for overrides in (["assessment.discipline=priority"], ["support.enabled=true"],
                      ["profiling.enabled=true"]):
        scenario = load_scenario(VALIDATION / "mmc.toml", ["simulation.horizon_months=2", *overrides])
        model = PathwayModel(scenario, 0)
        model.run()
        assert model.env.now > 0.0, overrides
