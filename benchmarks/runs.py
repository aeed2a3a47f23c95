"""Benchmarks (b)-(e): the default scenario through the local process pool, scaling with horizon
and replications, peak memory, and calibration time."""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOML = ROOT / "scenarios" / "default.toml"
WORKERS = 2


def default_scenario(months: int = 60, overrides: list[str] | None = None):  # type: ignore[no-untyped-def]
    from model.scenario import load_scenario

    return load_scenario(DEFAULT_TOML, [f"simulation.horizon_months={months}", *(overrides or [])])


def children_simulated(per_replication, scenario) -> int:  # type: ignore[no-untyped-def]
    """Children the runs saw: new referrals plus the starting list, summed over replications."""
    backlog = scenario.backlog.count if scenario.backlog.enabled else 0
    return int(per_replication["referrals"].sum()) + backlog * len(per_replication)


@dataclass(frozen=True)
class ReplicationRun:
    replications: int
    months: int
    seconds: float
    children: int
    cpu_seconds: float
    """CPU time of this process and the pool's workers together (user + system)."""

    @property
    def children_per_second(self) -> float:
        return self.children / self.seconds


def time_replications(replications: int, months: int, workers: int = WORKERS,
                      overrides: list[str] | None = None) -> ReplicationRun:
    """Wall time of ``run_replications`` on the default scenario through a local process pool."""
    from model.executors import LocalProcessExecutor
    from model.experiment import run_replications

    scenario = default_scenario(months, overrides)
    cpu = _cpu_seconds()
    start = time.perf_counter()
    result = run_replications(scenario, replications, executor=LocalProcessExecutor(workers))
    seconds = time.perf_counter() - start
    # the pool's workers have exited (and been waited for) by now, so RUSAGE_CHILDREN has them
    return ReplicationRun(replications, months, seconds,
                          children_simulated(result.per_replication, scenario),
                          _cpu_seconds() - cpu)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def linear_fit(x: list[float], y: list[float]) -> dict[str, float]:
    """Least-squares line ``y = intercept + slope x`` and its R²."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(xs, ys, 1)
    residual = ys - (intercept + slope * xs)
    total = ((ys - ys.mean()) ** 2).sum()
    r2 = 1.0 - float((residual**2).sum() / total) if total > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2}


def round_robin(points: list[tuple[int, int, list[str] | None]],
                repeats: int) -> list[tuple[ReplicationRun, list[float]]]:
    """Time every ``(replications, months, overrides)`` point ``repeats`` times, going round the
    points each time (so a burst of other work on a shared machine does not spoil every timing
    of one point); the fastest run of each point, and all its timings."""
    timed: list[list[ReplicationRun]] = [[] for _ in points]
    for _ in range(repeats):
        for k, (replications, months, overrides) in enumerate(points):
            timed[k].append(time_replications(replications, months, overrides=overrides))
    return [(min(runs, key=lambda r: r.seconds), [r.seconds for r in runs]) for runs in timed]


def scaling(years: list[int], replications: list[int], base_replications: int,
            base_months: int, repeats: int = 1) -> dict[str, object]:
    """Wall time against horizon (no demand growth, so the work per year is constant) and
    against the number of replications (default scenario), each the best of ``repeats``."""
    flat = ["arrivals.annual_growth=0.0"]
    horizon = round_robin([(base_replications, 12 * y, flat) for y in years], repeats)
    reps = round_robin([(r, base_months, None) for r in replications], repeats)
    return {
        "horizon": {
            "replications": base_replications,
            "years": years,
            "seconds": [run.seconds for run, _ in horizon],
            "all_seconds": [every for _, every in horizon],
            "children_per_second": [run.children_per_second for run, _ in horizon],
            "fit": linear_fit([float(y) for y in years], [run.seconds for run, _ in horizon]),
        },
        "replications": {
            "months": base_months,
            "replications": replications,
            "seconds": [run.seconds for run, _ in reps],
            "all_seconds": [every for _, every in reps],
            "fit": linear_fit([float(r) for r in replications], [run.seconds for run, _ in reps]),
        },
    }


def peak_memory(replications: int, months: int, workers: int = WORKERS) -> dict[str, float]:
    """Peak memory of a run, measured in a fresh interpreter (see :mod:`benchmarks.memory`)."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", str(replications), str(months), str(workers)],
        cwd=ROOT, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def calibration() -> dict[str, object]:
    """Benchmark (e) from ``benchmarks/calibration.py:run()`` when the calibration exists."""
    try:
        module = importlib.import_module("benchmarks.calibration")
    except ModuleNotFoundError as error:
        if error.name not in ("benchmarks.calibration", "calibration"):
            raise
        return {"available": False, "reason": f"not yet available ({error.name} not found)"}
    start = time.perf_counter()
    figures = dict(module.run())
    return {"available": True, "wall_seconds": time.perf_counter() - start, **figures}
