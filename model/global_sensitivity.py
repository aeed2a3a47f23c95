"""Global sensitivity: every assumption varied at once over its range, ranked by rank correlation.

The one-at-a-time tornado (:mod:`model.sensitivity`) moves each assumption alone with the others
held at the scenario's values, so it cannot see an assumption that matters only in combination,
and each bar depends on where the others happen to sit. This module samples every assumption
together over its plausible range with a Latin hypercube (``scipy.stats.qmc.LatinHypercube``:
each range cut into ``samples`` equal strata, each stratum sampled once), runs each design point
with common random numbers (every point's replication ``k`` uses the streams of
``(seed, k)``, so points differ only in their parameters), and ranks the assumptions by

* the **partial rank correlation coefficient** (PRCC) between the assumption and the metric,
  removing the (rank-linear) effect of every other assumption: the share of the metric's
  monotone variation the assumption explains on its own, from -1 to 1; with a 95% interval from
  Fisher's z with ``samples - 3 - (assumptions - 1)`` degrees of freedom, and its p-value;
* the plain **Spearman** rank correlation beside it (the other assumptions as noise).

PRCC measures monotone effects (Marino, Hogue, Ray & Kirschner 2008, J Theor Biol 254:178, "A
methodology for performing global uncertainty and sensitivity analysis in systems biology"); an
effect that rises and falls within a range can show a PRCC near zero, and the design table is
written so the scatter can be inspected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats
from scipy.stats import qmc

from .assumptions import assumptions
from .executors import Executor, get_executor
from .experiment import _Task, run_one
from .labels import PALETTE, label
from .scenario import Scenario


@dataclass(frozen=True)
class GlobalSensitivity:
    """A Latin-hypercube sensitivity run: the design, its outputs and the ranking.

    ``design``: one row per design point with ``point``, every parameter's value and
    ``metric`` (the mean over the point's replications). ``per_replication``: the same with a
    ``replication`` column, one row per run. ``table``: one row per parameter (``parameter,
    low, high, prcc, prcc_ci_low, prcc_ci_high, prcc_p_value, spearman, spearman_p_value,
    rank``), most influential first.
    """

    metric: str
    samples: int
    replications: int
    seed: int
    design_seed: int
    design: pd.DataFrame
    per_replication: pd.DataFrame
    table: pd.DataFrame


def _ranges(scenario: Scenario, keys: list[str] | None,
            ranges: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    found = {a.key: (a.low, a.high) for a in assumptions(scenario)}
    chosen = dict(found) if keys is None else {}
    if keys is not None:
        unknown = sorted(set(keys) - set(found) - set(ranges or {}))
        if unknown:
            raise ValueError(f"not assumptions with a numeric range here: {unknown} (give a range "
                             "for any other numeric key with ranges=)")
        chosen = {k: found[k] for k in keys if k in found}
    for key, (low, high) in (ranges or {}).items():
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"range for {key}: need low < high, got {low} to {high}")
        chosen[key] = (float(low), float(high))
    wide = {k: v for k, v in chosen.items() if v[1] > v[0]}
    return dict(sorted(wide.items()))


def prcc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of each column of ``x`` (n x k) with ``y`` (n), the other
    columns' ranks regressed out of both (least squares with an intercept).

    NaN for a column when ``y`` has no variation or the design has too few points (n <= k + 1).
    """
    n, k = x.shape
    rx = np.column_stack([stats.rankdata(x[:, j]) for j in range(k)])
    ry = stats.rankdata(y)
    out = np.full(k, np.nan)
    if n <= k + 1 or np.ptp(ry) == 0:
        return out
    for j in range(k):
        others = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        denom = math.sqrt(float(res_x @ res_x) * float(res_y @ res_y))
        out[j] = float(res_x @ res_y) / denom if denom > 0 else np.nan
    return out


def _prcc_inference(r: float, n: int, k: int) -> tuple[float, float, float]:
    """95% interval (Fisher's z) and two-sided p-value of a PRCC with k - 1 covariates."""
    dof = n - 2 - (k - 1)
    if not math.isfinite(r) or dof < 2:
        return math.nan, math.nan, math.nan
    r = min(max(r, -0.999999), 0.999999)
    z, half = math.atanh(r), 1.959964 / math.sqrt(max(dof - 1, 1))
    t = r * math.sqrt(dof / (1 - r * r))
    return math.tanh(z - half), math.tanh(z + half), float(2 * stats.t.sf(abs(t), dof))


def latin_hypercube(
    scenario: Scenario,
    metric: str = "waiting_list_end",
    samples: int | None = None,
    replications: int = 2,
    seed: int | None = None,
    executor: str | Executor = "local",
    keys: list[str] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    design_seed: int = 0,
    on_done: Callable[[], None] | None = None,
) -> GlobalSensitivity:
    """Vary every assumption at once over its range (Latin hypercube) and rank them by PRCC.

    ``keys`` limits the analysis to some assumptions; ``ranges`` gives a range for any numeric
    scenario key (replacing an assumption's plausible range, or adding a key). ``samples``
    design points (default: 4 per parameter, at least 20), each run ``replications`` times with
    the scenario's seed (common random numbers), with the scenario's own parameter uncertainty
    switched off (the design is the uncertainty). ``design_seed`` seeds the hypercube, so the same
    arguments give the same numbers on any executor.

    Raises ``ValueError`` for an unknown key, a bad range, too few samples, or a metric the
    simulation does not report.
    """
    bounds = _ranges(scenario, keys, ranges)
    names = list(bounds)
    k = len(names)
    if k == 0:
        raise ValueError("no assumption with a range to vary")
    n = max(20, 4 * k) if samples is None else samples
    if n < k + 4:
        raise ValueError(f"samples = {n}: need at least {k + 4} for {k} parameters (PRCC needs "
                         "more design points than parameters)")
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    base_seed = scenario.simulation.seed if seed is None else seed
    unit = qmc.LatinHypercube(d=k, rng=np.random.default_rng(design_seed)).random(n)
    low = np.array([bounds[p][0] for p in names])
    high = np.array([bounds[p][1] for p in names])
    values = qmc.scale(unit, low, high)
    plain = scenario.replace({"uncertainty.enabled": False}) if scenario.uncertainty.enabled \
        else scenario
    points = [plain.replace(dict(zip(names, map(float, row)))) for row in values]
    tasks = [_Task(point, r, base_seed, False) for point in points for r in range(replications)]
    outputs = get_executor(executor).map(run_one, tasks, on_done)
    if metric not in outputs[0].metrics:
        raise ValueError(f"unknown metric {metric!r}")
    per_rep = pd.DataFrame({
        "point": np.repeat(np.arange(n), replications),
        "replication": [o.replication for o in outputs],
        **{p: np.repeat(values[:, j], replications) for j, p in enumerate(names)},
        metric: [o.metrics[metric] for o in outputs],
    })
    design = per_rep.groupby("point", as_index=False).agg(
        {**{p: "first" for p in names}, metric: "mean"})
    y = design[metric].to_numpy(dtype=float)
    finite = np.isfinite(y)
    x = values[finite]
    r_partial = prcc(x, y[finite])
    rows = []
    for j, p in enumerate(names):
        lo, hi, pval = _prcc_inference(r_partial[j], int(finite.sum()), k)
        if finite.sum() > 2 and np.ptp(y[finite]) > 0:
            rho, rho_p = stats.spearmanr(x[:, j], y[finite])
        else:
            rho, rho_p = math.nan, math.nan
        rows.append({"parameter": p, "low": bounds[p][0], "high": bounds[p][1],
                     "prcc": r_partial[j], "prcc_ci_low": lo, "prcc_ci_high": hi,
                     "prcc_p_value": pval, "spearman": float(rho), "spearman_p_value": float(rho_p)})
    table = pd.DataFrame(rows)
    order = np.argsort(-np.nan_to_num(np.abs(table["prcc"].to_numpy()), nan=-1.0), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return GlobalSensitivity(metric, n, replications, base_seed, design_seed, design, per_rep, table)


def prcc_chart(result: GlobalSensitivity) -> Figure:
    """Horizontal bars of each assumption's PRCC with its 95% interval, most influential on top."""
    table = result.table
    fig = Figure(figsize=(10, 0.5 * max(len(table), 2) + 1.8))
    ax = fig.subplots()
    rows = table.iloc[::-1]
    y = np.arange(len(rows))
    colours = [PALETTE[1] if v > 0 else PALETTE[0] for v in rows["prcc"].fillna(0)]
    ax.barh(y, rows["prcc"].fillna(0), color=colours, height=0.6)
    err = np.vstack([rows["prcc"] - rows["prcc_ci_low"], rows["prcc_ci_high"] - rows["prcc"]])
    ax.errorbar(rows["prcc"].fillna(0), y, xerr=np.nan_to_num(err), fmt="none", ecolor="black",
                capsize=3, linewidth=1)
    ax.set_yticks(y, [f"{label(p)} ({lo:g}-{hi:g})" for p, lo, hi in
                      zip(rows["parameter"], rows["low"], rows["high"])])
    ax.axvline(0, color="black", linewidth=1)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"Partial rank correlation with: {label(result.metric)} (95% interval)")
    ax.set_title(f"Which assumptions matter, all varied at once ({result.samples} Latin-hypercube "
                 f"points x {result.replications} replication{'' if result.replications == 1 else 's'})")
    fig.tight_layout()
    return fig


__all__ = ["GlobalSensitivity", "latin_hypercube", "prcc", "prcc_chart"]
