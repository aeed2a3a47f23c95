"""Experiments: replications of a scenario through an executor, and paired comparisons.

Workers return summaries (scalar metrics and monthly series), not event logs, unless
``keep_logs=True``. Replication ``k`` always uses the streams of ``(seed, k)``, so results are
identical whichever executor runs them, and two scenarios run with the same seed share their
random numbers (common random numbers).

>>> from model.scenario import Scenario
>>> from model.experiment import run_replications
>>> s = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 100})
>>> result = run_replications(s, replications=2, executor="serial")
>>> list(result.summary.columns)
['metric', 'mean', 'ci_low', 'ci_high', 'n']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from .executors import Executor, get_executor
from .metrics import paired_differences, percentile_bands, replication_summaries, summarise
from .pathway import SimulationResult
from .scenario import Scenario
from .uncertainty import simulate_replication


@dataclass(frozen=True)
class ReplicationOutput:
    """What a worker sends back for one replication."""

    replication: int
    metrics: dict[str, float]
    monthly: pd.DataFrame
    log: SimulationResult | None = None
    groups: pd.DataFrame | None = None
    """By-group metrics (``variable, group, metric, value``; :func:`model.metrics.group_metrics`)."""


@dataclass(frozen=True)
class _Task:
    scenario: Scenario
    replication: int
    seed: int
    keep_log: bool
    groups: bool = True


def run_one(task: _Task) -> ReplicationOutput:
    """Run and summarise one replication (module-level so that it pickles for workers)."""
    result = simulate_replication(task.scenario, task.replication, task.seed)
    metrics, monthly, groups = replication_summaries(result, groups=task.groups)
    return ReplicationOutput(task.replication, metrics, monthly,
                             result if task.keep_log else None, groups)


@dataclass(frozen=True)
class ExperimentResult:
    """Replications of one scenario: tidy frames with a ``replication`` column."""

    scenario: Scenario
    seed: int
    per_replication: pd.DataFrame
    """One row per replication, one column per scalar metric."""
    monthly: pd.DataFrame
    """``replication, month, metric, value``."""
    logs: list[SimulationResult] | None = field(default=None, repr=False)
    groups: pd.DataFrame | None = field(default=None, repr=False)
    """By-group metrics of every replication: ``replication, variable, group, metric, value``
    (raw, for computing; :mod:`model.equity` summarises them with disclosure control)."""
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)
    """The summary and bands, computed once (results, figures and the app each ask for them)."""

    @property
    def replications(self) -> int:
        return len(self.per_replication)

    @property
    def summary(self) -> pd.DataFrame:
        """``metric, mean, ci_low, ci_high, n`` across replications."""
        if "summary" not in self._cache:
            self._cache["summary"] = summarise(self.per_replication)
        return self._cache["summary"].copy()  # a copy: a caller may change its own

    @property
    def timeseries(self) -> pd.DataFrame:
        """``month, metric, p5, p25, p50, p75, p95`` across replications."""
        if "timeseries" not in self._cache:
            self._cache["timeseries"] = percentile_bands(self.monthly)
        return self._cache["timeseries"].copy()

    def metric(self, name: str) -> dict[str, float]:
        """``mean, ci_low, ci_high`` of one metric of the summary (``KeyError`` if unknown)."""
        if "by_metric" not in self._cache:  # one lookup table, not a frame indexed per call
            table = self.summary
            self._cache["by_metric"] = {
                str(m): {"mean": float(a), "ci_low": float(lo), "ci_high": float(hi)}
                for m, a, lo, hi in zip(table["metric"], table["mean"], table["ci_low"],
                                        table["ci_high"])}
        return dict(self._cache["by_metric"][name])


def replication_tasks(scenario: Scenario, replications: int | None = None,
                      seed: int | None = None, keep_logs: bool = False, groups: bool = True
                      ) -> list[_Task]:
    """The tasks :func:`run_replications` maps :func:`run_one` over (defaults from
    ``scenario.simulation``): what an executor is handed, in order.

    Raises ``ValueError`` for a non-positive number of replications.
    """
    n = scenario.simulation.replications if replications is None else replications
    base = scenario.simulation.seed if seed is None else seed
    if n < 1:
        raise ValueError(f"replications must be >= 1, got {n}")
    return [_Task(scenario, k, base, keep_logs, groups) for k in range(n)]


def run_replications(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    executor: str | Executor = "local",
    keep_logs: bool = False,
    on_done: Callable[[], None] | None = None,
    groups: bool = True,
) -> ExperimentResult:
    """Run ``replications`` of ``scenario`` (defaults from ``scenario.simulation``).

    ``groups`` computes the by-group metrics (``ExperimentResult.groups``); searches that need
    only the whole-run metrics (sensitivity, capacity) switch it off.

    Raises ``ValueError`` for a non-positive number of replications.
    """
    tasks = replication_tasks(scenario, replications, seed, keep_logs, groups)
    base = tasks[0].seed
    outputs = get_executor(executor).map(run_one, tasks, on_done)
    per_rep = pd.DataFrame([{"replication": o.replication, **o.metrics} for o in outputs])
    logs = [o.log for o in outputs if o.log is not None] if keep_logs else None
    monthly = _stacked([(o.replication, o.monthly) for o in outputs],
                       ["replication", "month", "metric", "value"])
    by_group = None
    if groups:
        by_group = _stacked([(o.replication, o.groups) for o in outputs if o.groups is not None],
                            ["replication", "variable", "group", "metric", "value"])
    return ExperimentResult(scenario, base, per_rep, monthly, logs, by_group)


def _stacked(frames: list[tuple[int, pd.DataFrame]], columns: list[str]) -> pd.DataFrame:
    """The replications' frames one under another with a ``replication`` column, copied once
    (not once per replication and again when stacked: 1,000 ten-year replications hold a
    few million monthly rows)."""
    stacked = pd.concat([frame for _, frame in frames], ignore_index=True)
    stacked.insert(0, "replication", np.repeat([k for k, _ in frames],
                                               [len(frame) for _, frame in frames]))
    return stacked[columns]


OWN_COLUMNS = tuple(f"{run}_own_{stat}" for run in ("baseline", "scenario")
                    for stat in ("mean", "ci_low", "ci_high", "n"))
"""The columns :func:`compare` adds beside the paired ones: each run's own summary."""


def compare(baseline: ExperimentResult, other: ExperimentResult) -> pd.DataFrame:
    """Paired differences ``other - baseline`` for every scalar metric, with 95% intervals.

    ``baseline`` and ``scenario`` are the means over the pairs the difference uses (so that
    baseline + difference = scenario); ``baseline_own_*`` and ``scenario_own_*`` (``mean,
    ci_low, ci_high, n``) are each run's own summary, over every replication where the metric is
    defined, as :attr:`ExperimentResult.summary` gives it. The two differ only where a metric is
    undefined in some replications: a median of one run that is never reached in the other has
    no paired value, but has its own.

    Raises ``ValueError`` if the two were not run with the same seed (no common random numbers).
    """
    if baseline.seed != other.seed:
        raise ValueError(f"paired comparison needs the same seed (got {baseline.seed} and "
                         f"{other.seed})")
    paired = paired_differences(baseline.per_replication, other.per_replication)
    if paired.empty:
        return paired
    for run, result in (("baseline", baseline), ("scenario", other)):
        own = result.summary.set_index("metric")
        for stat in ("mean", "ci_low", "ci_high", "n"):
            paired[f"{run}_own_{stat}"] = paired["metric"].map(own[stat])
    return paired
