"""The per-replication summaries give exactly the numbers of the code they replaced.

``model.metrics`` summarises every replication from numpy arrays computed once (category codes,
one sort, counts by group) instead of pandas masks and a frame per group. The straightforward
code it replaced is kept, unchanged, in ``tests/summaries_reference.py``; here both summarise the
same event logs, for scenarios that take different paths through the code (profiling, priority
for the vulnerable, ADHD follow-up by profession, localities, support while waiting, outsourcing,
staffing changes, a slow front door, the fast FIFO path, a horizon too short for some groups to
have anyone), and every table, dict and array must be equal float for float: same keys in the
same order, same columns, dtypes and row order, NaN where the old code had NaN. Not
approximately: nothing here changes the order of a floating-point sum, so nothing is allowed to
change a last bit.
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import summaries_reference as old
from model import metrics as new
from model.costs import costs
from model.experiment import _Task, run_one
from model.pathway import SimulationResult
from model.scenario import Scenario, load_scenario
from model.uncertainty import simulate_replication

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = {"simulation.horizon_months": 24}
SEED = 20261122

CASES: dict[str, tuple[str, dict, tuple[int, ...]]] = {
    "default": ("default.toml", SHORT, (0, 1)),
    "needs_led_profiling": ("needs_led_profiling.toml", SHORT, (0,)),
    "prioritise_vulnerable": ("prioritise_vulnerable.toml", SHORT, (0,)),
    "adhd_follow_up": ("adhd_follow_up.toml", SHORT, (0,)),
    # no scenario file names localities: three, one of them with no children at all
    "localities": ("default.toml", {**SHORT, "localities.names": ["North", "South", "Coast"],
                                    "localities.shares": [0.6, 0.4, 0.0]}, (0,)),
    "support_while_waiting": ("support_while_waiting.toml", SHORT, (0,)),
    # a front door that cannot keep up: year-long waiters in the needs-profile queue and in vetting, so the
    # any-stage waits (whole run and by group) differ from the diagnostic list's
    "front_door_queues": ("needs_led_profiling.toml", {
        **SHORT, "profiling.practitioner_wte": 0.5,
        "vetting.duration_days": {"kind": "gamma", "mean": 300.0, "sd": 150.0}}, (0,)),
    "outsourced_backlog": ("outsourced_backlog.toml", SHORT, (0,)),
    "combined": ("combined.toml", SHORT, (0,)),
    # the FIFO fast path (no SimPy), with a list at the start, vetting and every way of leaving
    "fast_path": ("validation/mmc.toml", {
        "simulation.horizon_months": 18, "backlog.enabled": True, "backlog.count": 400,
        "vetting.enabled": True, "leaving.withdrawal_per_year": 0.5,
        "leaving.moved_per_year": 0.2, "leaving.private_per_year": 0.3, "leaving.age_out": True,
        "escalation.enabled": True}, (0,)),
    # two months and a small list: months and groups with nobody in them, medians not reached
    "tiny": ("default.toml", {"simulation.horizon_months": 2, "backlog.count": 30}, (0,)),
}

RUNS = [(case, k) for case, (_, _, reps) in CASES.items() for k in reps]


@lru_cache(maxsize=None)
def scenario(case: str) -> Scenario:
    path, overrides, _ = CASES[case]
    return load_scenario(SCENARIOS / path, overrides)


@lru_cache(maxsize=None)
def run(case: str, replication: int) -> SimulationResult:
    return simulate_replication(scenario(case), replication, SEED)


def same_number(a: object, b: object) -> bool:
    """Equal, of the same type, with NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)  # type: ignore[arg-type]
    return a == b


def assert_same_dict(got: dict, want: dict) -> None:
    assert list(got) == list(want), "the same metrics in the same order"
    wrong = {k: (got[k], want[k]) for k in want if not same_number(got[k], want[k])}
    assert not wrong, f"metrics differ (new, old): {wrong}"


def assert_same_arrays(got: object, want: object) -> None:
    """The fields of two dataclasses of arrays are equal, dtype and all (NaN equal to NaN)."""
    fields = [f.name for f in dataclasses.fields(want)]  # type: ignore[arg-type]
    assert [f.name for f in dataclasses.fields(got)] == fields  # type: ignore[arg-type]
    for name in fields:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name, strict=True)


@pytest.mark.parametrize(("case", "replication"), RUNS)
def test_child_times_are_unchanged(case: str, replication: int) -> None:
    r = run(case, replication)
    assert_same_arrays(new.child_times(r), old.child_times(r))


@pytest.mark.parametrize(("case", "replication"), RUNS)
def test_replication_metrics_are_unchanged(case: str, replication: int) -> None:
    r = run(case, replication)
    want = old.replication_metrics(r, old.child_times(r))
    assert_same_dict(new.replication_metrics(r, new.child_times(r)), want)
    assert_same_dict(new.replication_metrics(r), want)  # times computed inside
    assert_same_dict(costs(r), old.costs(r))
    assert_same_dict(new.team_metrics(r), old.team_metrics(r))


@pytest.mark.parametrize(("case", "replication"), RUNS)
def test_monthly_metrics_are_unchanged(case: str, replication: int) -> None:
    r = run(case, replication)
    want = old.monthly_metrics(r, old.child_times(r))
    pd.testing.assert_frame_equal(new.monthly_metrics(r, new.child_times(r)), want, check_exact=True)
    pd.testing.assert_frame_equal(new.monthly_metrics(r), want, check_exact=True)
    assert new.month_labels(r) == old.month_labels(r)


@pytest.mark.parametrize(("case", "replication"), RUNS)
def test_group_metrics_are_unchanged(case: str, replication: int) -> None:
    r = run(case, replication)
    t_old, t_new = old.child_times(r), new.child_times(r)
    want = old.group_metrics(r, t_old)
    pd.testing.assert_frame_equal(new.group_metrics(r, t_new), want, check_exact=True)
    pd.testing.assert_frame_equal(new.group_metrics(r), want, check_exact=True)
    some = ("priority", "age_band", "locality")
    pd.testing.assert_frame_equal(new.group_metrics(r, t_new, variables=some),
                                  old.group_metrics(r, t_old, variables=some), check_exact=True)


@pytest.mark.parametrize(("case", "replication"), RUNS)
def test_family_and_cohort_pieces_are_unchanged(case: str, replication: int) -> None:
    r = run(case, replication)
    t_old, t_new = old.child_times(r), new.child_times(r)
    h_old, h_new = old.child_histories(r, t_old), new.child_histories(r, t_new)
    assert_same_arrays(h_new, h_old)
    assert_same_dict(new.family_metrics(r, t_new), old.family_metrics(r, t_old))
    counts_old, counts_new = old._event_counts(r), new._event_counts(r)
    assert list(counts_new) == list(counts_old)
    for name in counts_old:
        np.testing.assert_array_equal(counts_new[name], counts_old[name], strict=True)
    labels = old.group_labels(r)
    for rows in (np.ones(len(r.children), dtype=bool), labels["priority"] == "urgent",
                 labels["age_band"] == "16-17"):
        assert_same_dict(new.cohort_metrics(t_new, r.horizon_days, counts_new, rows),
                         old.cohort_metrics(t_old, r.horizon_days, counts_old, rows))
        assert_same_dict(new.family_metrics(r, t_new, h_new, rows[h_new.first]),
                         old.family_metrics(r, t_old, h_old, rows[h_old.first]))
    for variable, label in new.group_labels(r).items():
        np.testing.assert_array_equal(label, labels[variable], strict=True)


@pytest.mark.parametrize("case", ["default", "localities", "adhd_follow_up"])
def test_a_worker_returns_the_old_summaries(case: str) -> None:
    """``run_one`` (what every ``ndpath run``, app Run and sweep calls per replication)."""
    out = run_one(_Task(scenario(case), 0, SEED, keep_log=False))
    r = run(case, 0)
    t = old.child_times(r)
    assert_same_dict(out.metrics, old.replication_metrics(r, t))
    pd.testing.assert_frame_equal(out.monthly, old.monthly_metrics(r, t), check_exact=True)
    assert out.groups is not None
    pd.testing.assert_frame_equal(out.groups, old.group_metrics(r, t), check_exact=True)
    assert run_one(_Task(scenario(case), 0, SEED, keep_log=False, groups=False)).groups is None


def test_times_that_do_not_match_the_log_are_read_as_given() -> None:
    """Times passed in are used as they are, even where they differ from the log's (the exit
    reasons are then read from them, not from the log's codes)."""
    r = run("default", 0)
    t = new.child_times(r)
    reason = t.exit_reason.copy()
    reason[reason == "aged_out"] = "withdrawn"
    reason[np.flatnonzero(reason == "")[:50]] = "rejected"
    changed = dataclasses.replace(t, exit_reason=reason)
    changed_old = old.ChildTimes(**dataclasses.asdict(changed))
    assert_same_dict(new.replication_metrics(r, changed), old.replication_metrics(r, changed_old))
    pd.testing.assert_frame_equal(new.group_metrics(r, changed),
                                  old.group_metrics(r, changed_old), check_exact=True)
    assert_same_arrays(new.child_histories(r, changed), old.child_histories(r, changed_old))


def test_quantiles_of_sorted_values_are_numpys_to_the_last_bit() -> None:
    rng = np.random.default_rng(7)
    for n in [1, 2, 3, 4, 5, 7, 10, 11, 100, 101, 1000, 2047]:
        for values in (rng.gamma(2.0, 30.0, n), np.round(rng.gamma(2.0, 30.0, n)),  # ties
                       1826.0 - rng.uniform(-1500.0, 1826.0, n)):
            ordered = np.sort(values)
            for q in (0.0, 0.05, 0.25, 0.5, 0.75, 0.9, 0.92, 0.95, 1.0, 1 / 3):
                want = float(np.quantile(values, q))
                got = new._sorted_quantile(ordered, q)
                assert got == want, (n, q, got, want)
    assert math.isnan(new._sorted_quantile(np.array([]), 0.5))
    with_nan = np.sort(np.array([3.0, np.nan, 1.0]))
    assert math.isnan(new._sorted_quantile(with_nan, 0.5)) and math.isnan(np.quantile(with_nan, 0.5))


def test_estimates_by_segment_are_each_segments_own() -> None:
    """Aalen-Johansen over each group of a once-sorted cohort equals the estimate of that group
    alone, empty groups included."""
    rng = np.random.default_rng(11)
    n = 3000
    duration = np.round(rng.exponential(200.0, n))  # ties, as days
    event = rng.random(n) < 0.5
    competing = ~event & (rng.random(n) < 0.3)
    group = rng.integers(-1, 6, n)
    group[group == 3] = 4  # group 3 empty
    order = np.lexsort((~(event | competing), duration))
    cohort = new._Cohort(order, duration[order], event[order], competing[order])
    for k, got in enumerate(cohort.by_group(group, 6)):
        pick = group == k
        want = old.cumulative_incidence(duration[pick], event[pick], competing[pick])
        np.testing.assert_array_equal(got.days, want.days, strict=True)
        np.testing.assert_array_equal(got.incidence, want.incidence, strict=True)
        assert got.last_censored == want.last_censored
