"""Fast paths give exactly the results of the straightforward code they replace.

The FIFO servers fast path gives the SimPy model's results on the same random numbers, and the
counting forms of the monthly series give the numbers of a mask per month.

A run that is a single first-come-first-served queue with identical servers (the textbook
reductions) skips SimPy and uses the Kiefer-Wolfowitz recursion. These tests run both paths on the
same scenario and seed and require every table to be identical, float for float, including
backlogs, vetting, exits while waiting, ageing out, escalations and ties between events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from model.metrics import (WAIT_BANDS, ChildTimes, _monthly_medians, _wait_band_counts,
                           monthly_metrics, on_stage_at, on_stage_counts, replication_metrics)
from model.eventlog import DETAIL
from model.pathway import PathwayModel, SimulationResult, month_starts
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


# -------------------------------------------------------------------------------------------------
# The counting forms of the monthly series against the mask-per-month definitions


def _random_times(seed: int, n: int, ends: np.ndarray) -> ChildTimes:
    """Children with random list spells, some never joining, some never leaving, and some whose
    waits cross a band edge exactly at a month end (the case a rounding slip would get wrong)."""
    rng = np.random.default_rng(seed)
    referral = rng.uniform(-900.0, ends[-1], n)
    edge_hit = rng.random(n) < 0.2
    pick = rng.integers(0, len(ends), n)
    weeks = rng.choice([0.0, 13.0, 52.0, 104.0], n)
    at_edge = ends[pick] - weeks * 7.0
    ulps = rng.integers(-4, 5, n)  # a few ulps either side: where the two roundings disagree
    referral = np.where(edge_hit, at_edge + ulps * np.spacing(at_edge), referral)
    join = np.maximum(referral + rng.exponential(10.0, n), np.where(referral < 0, 0.0, -np.inf))
    join = np.maximum(np.where(edge_hit, np.minimum(join, ends[pick]), join), referral)
    join[rng.random(n) < 0.1] = np.nan
    leave = join + rng.exponential(300.0, n)
    leave[rng.random(n) < 0.3] = np.nan
    leave = np.where(rng.random(n) < 0.05, join, leave)  # joined and left at the same instant
    nan = np.full(n, np.nan)
    return ChildTimes(referral=referral, backlog=referral < 0, vetting_leave=nan, list_join=join, list_leave=leave,
                      profiling_join=nan, profiling_leave=nan, assessment_start=nan,
                      assessment_end=nan, exit=nan, exit_reason=np.full(n, "", dtype=object),
                      first_support=nan)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_monthly_counts_match_masks(seed: int) -> None:
    ends = month_starts("2026-01-01", 48)[1:]
    t = _random_times(seed, 20_000, ends)
    expected_list = [on_stage_at(t.list_join, t.list_leave, e).sum() for e in ends]
    np.testing.assert_array_equal(on_stage_counts(t.list_join, t.list_leave, ends), expected_list)
    bands = _wait_band_counts(t, ends)
    for name, low, high in WAIT_BANDS:
        expected = []
        for e in ends:
            waited = e - t.referral[on_stage_at(t.list_join, t.list_leave, e)]
            expected.append(((waited >= low * 7.0) & (waited < high * 7.0)).sum())
        np.testing.assert_array_equal(bands[name], expected, err_msg=name)
    assert sum(bands[name].sum() for name, _, _ in WAIT_BANDS) == sum(expected_list)


def test_monthly_medians_match_numpy() -> None:
    rng = np.random.default_rng(4)
    month = rng.integers(0, 30, 5_000)
    month[month == 7] = 8  # a month with no starts
    values = np.round(rng.exponential(40.0, 5_000), 1)  # ties, odd and even counts
    got = _monthly_medians(month, values, 30)
    for k in range(30):
        chosen = values[month == k]
        if len(chosen):
            assert got[k] == np.median(chosen)
        else:
            assert np.isnan(got[k])


# -------------------------------------------------------------------------------------------------
# Batched intake: the referrals due before the next event, and the list at the start, taken in
# as arrays rather than child by child

SHIPPED = Path(__file__).resolve().parents[1] / "scenarios"
PATHWAY_SHORT = ["simulation.horizon_months=15", "backlog.count=1500"]
INTAKE_CASES = {
    # by profession, vetting, re-referral after withdrawing, support offered on joining
    "default": ("default.toml", []),
    # profiling: the first queue is the profiling tool's; returns after a needs-led exit
    "needs_led": ("needs_led_profiling.toml", []),
    # three queues and the birthday heap
    "priority": ("prioritise_vulnerable.toml", ["support.offer=priority"]),
    "longest_waiting_pooled": ("default.toml", ["support.offer=longest_waiting",
                                                "assessment.capacity_model=clinical_hours",
                                                "vetting.enabled=false"]),
    # many children leave or age out during vetting and at the start
    "leaving_fast": ("default.toml", ["leaving.withdrawal_per_year=3.0", "leaving.moved_per_year=1.0",
                                      "vetting.accept_probability=0.6",
                                      "rereferral.after_withdrawn_per_year=2.0"]),
}


def _batched_and_per_child(scenario: Scenario, replication: int,
                           edit: Callable[[PathwayModel], None] | None = None
                           ) -> tuple[SimulationResult, SimulationResult]:
    models = [PathwayModel(scenario, replication, fast_paths=fast) for fast in (True, False)]
    if edit is not None:
        for model in models:
            edit(model)
    batched, per_child = (model.run() for model in models)
    return batched, per_child


def _assert_same(a: SimulationResult, b: SimulationResult) -> None:
    pd.testing.assert_frame_equal(a.events, b.events, check_exact=True)
    pd.testing.assert_frame_equal(a.children, b.children, check_exact=True)
    pd.testing.assert_frame_equal(a.capacity, b.capacity, check_exact=True)


@pytest.mark.parametrize("case", sorted(INTAKE_CASES))
def test_batched_intake_matches_child_by_child_exactly(case: str) -> None:
    file, overrides = INTAKE_CASES[case]
    scenario = load_scenario(SHIPPED / file, PATHWAY_SHORT + overrides)
    batched, per_child = _batched_and_per_child(scenario, 1)
    events = batched.events
    assert (events["event"] == "list_join").sum() > 1000
    assert (events["detail"] == "rejected").sum() > 0 or not scenario.vetting.enabled
    _assert_same(batched, per_child)


@pytest.mark.parametrize("at_start", [50, 0], ids=["start_and_vetting", "vetting_only"])
def test_batched_intake_matches_when_a_leaving_at_intake_schedules_a_return(at_start: int
                                                                           ) -> None:
    """A child whose withdrawal falls at the moment they are taken in (at the start, or when
    vetted) leaves then and may come back: the batch falls back to child by child. With only
    the feed's referrals falling back, the list at the start is still taken in as a batch and
    its withdrawals, kept on the feed's clock, must become events of their own."""
    scenario = load_scenario(SHIPPED / "default.toml", PATHWAY_SHORT)

    def withdraw_at_intake(model: PathwayModel) -> None:
        c = model.c
        backlog = np.flatnonzero(c.backlog)[:at_start]
        new = np.flatnonzero(~c.backlog)[:: 97]
        model.exit_time[backlog] = 0.0
        model.exit_time[new] = c.referral[new] + c.vet_delay[new]
        model.exit_reason[np.concatenate([backlog, new])] = DETAIL["withdrawn"]

    batched, per_child = _batched_and_per_child(scenario, 0, withdraw_at_intake)
    returns = batched.events[(batched.events["event"] == "referral")
                             & (batched.events["detail"] == "rereferral")]
    assert len(returns) > 0
    _assert_same(batched, per_child)


def test_event_log_interleaves_many_blocks_and_rows_as_appended() -> None:
    """Random runs of single rows, blocks and runs of a source's rows (a block first, several
    in a row, empty ones, a block last; runs that follow on and runs that skip rows) come back
    exactly in the order appended."""
    from model.eventlog import EventLog

    rng = np.random.default_rng(7)
    source = (rng.random(200), np.arange(200), np.full(200, 5, np.int8),
              (np.arange(200) % 9).astype(np.int8))
    for _ in range(20):
        log, expected, taken = EventLog(), [], 0
        for step in range(int(rng.integers(1, 40))):
            if rng.random() < 0.3:  # runs of a source's rows: mostly following on, some skipped
                first = taken + int(rng.integers(0, 2))
                end = first + int(rng.integers(0, 4))
                log.add_rows(source, first, end)
                expected.extend(zip(*(c[first:end].tolist() for c in source)))
                taken = end
            elif rng.random() < 0.5:
                n = int(rng.integers(0, 4))
                times = rng.random(n)
                log.add_block(times, np.full(n, step), np.full(n, 1, np.int8),
                              np.full(n, step % 7, np.int8))
                expected.extend((t, step, 1, step % 7) for t in times.tolist())
            else:
                t = float(rng.random())
                log.add(t, step, 2, 3)
                expected.append((t, step, 2, 3))
        assert list(zip(*(c.tolist() for c in log.columns()))) == expected


def test_event_log_keeps_the_order_of_single_rows_and_blocks() -> None:
    """Rows added one at a time and blocks of numpy rows come back in the order appended, also
    when the columns are asked for before more rows come (as escalations do)."""
    from model.eventlog import EventLog

    log, expected = EventLog(), []

    def block(times: list[float], child: int) -> None:
        n = len(times)
        log.add_block(np.array(times), np.full(n, child), np.full(n, 1, np.int8),
                      np.full(n, 2, np.int8))
        expected.extend((t, child, 1, 2) for t in times)

    def single(t: float, child: int) -> None:
        log.add(t, child, 3, 4)
        expected.append((t, child, 3, 4))

    single(5.0, 0)
    block([1.0, 2.0], 1)
    block([], 9)
    single(1.0, 2)
    single(0.0, 3)
    block([7.0], 4)
    assert list(zip(*(c.tolist() for c in log.columns()))) == expected
    single(2.0, 5)
    block([3.0], 6)
    assert list(zip(*(c.tolist() for c in log.columns()))) == expected
    assert len(log) == len(expected)
    frame = log.to_frame()  # sorted by time, ties in the order appended
    ordered = sorted(range(len(expected)), key=lambda k: expected[k][0])
    assert frame["child"].tolist() == [expected[k][1] for k in ordered]
