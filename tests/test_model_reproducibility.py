"""Same seed, same numbers: on any executor, whatever the number of replications."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import small_scenario
from model.experiment import run_replications
from model.pathway import simulate

SCENARIO = small_scenario({"profiling.enabled": True, "assessment.discipline": "priority"})


def test_same_seed_gives_identical_results() -> None:
    first = run_replications(SCENARIO, 3, executor="serial")
    second = run_replications(SCENARIO, 3, executor="serial")
    pd.testing.assert_frame_equal(first.per_replication, second.per_replication, check_exact=True)
    pd.testing.assert_frame_equal(first.monthly, second.monthly, check_exact=True)
    pd.testing.assert_frame_equal(first.summary, second.summary, check_exact=True)


def test_same_seed_gives_identical_event_logs() -> None:
    a, b = simulate(SCENARIO, 2), simulate(SCENARIO, 2)
    pd.testing.assert_frame_equal(a.events, b.events, check_exact=True)
    pd.testing.assert_frame_equal(a.children, b.children, check_exact=True)
    pd.testing.assert_frame_equal(a.capacity, b.capacity, check_exact=True)


def test_another_seed_or_replication_gives_other_numbers() -> None:
    """The equality tests above would pass trivially if randomness were ignored."""
    base = run_replications(SCENARIO, 2, executor="serial").per_replication
    other = run_replications(SCENARIO, 2, seed=SCENARIO.simulation.seed + 1,
                             executor="serial").per_replication
    assert not base.drop(columns="replication").equals(other.drop(columns="replication"))
    assert not base.iloc[0, 1:].equals(base.iloc[1, 1:])


def test_serial_and_process_pool_agree_exactly() -> None:
    serial = run_replications(SCENARIO, 4, executor="serial")
    pooled = run_replications(SCENARIO, 4, executor="local")
    pd.testing.assert_frame_equal(serial.per_replication, pooled.per_replication, check_exact=True)
    pd.testing.assert_frame_equal(serial.monthly, pooled.monthly, check_exact=True)


@pytest.mark.parametrize("more", [5, 7])
def test_a_replication_does_not_depend_on_how_many_are_run(more: int) -> None:
    few = run_replications(SCENARIO, 2, executor="serial").per_replication
    many = run_replications(SCENARIO, more, executor="serial").per_replication
    pd.testing.assert_frame_equal(few, many.iloc[:2], check_exact=True)


def test_scenario_seed_is_the_default_and_an_explicit_seed_overrides_it() -> None:
    reseeded = SCENARIO.replace({"simulation.seed": 99})
    by_scenario = run_replications(reseeded, 2, executor="serial").per_replication
    by_argument = run_replications(SCENARIO, 2, seed=99, executor="serial").per_replication
    pd.testing.assert_frame_equal(by_scenario, by_argument, check_exact=True)
