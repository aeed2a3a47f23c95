"""One-at-a-time sensitivity analysis over the assumptions' plausible ranges.

Parameters with no good public figure (withdrawal, escalation, the effect of support, ...) are
marked in the schema as assumptions with a plausible range. This module moves each in turn to
the ends of its range, with common random numbers, and reports how much a chosen metric moves:
the paired difference from the scenario as given, with its 95% interval. A tornado chart shows
which assumptions matter most for the decision at hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .assumptions import Assumption, assumptions, parse_range
from .executors import Executor
from .experiment import run_replications
from .labels import PALETTE, label
from .metrics import mean_ci
from .scenario import Scenario

__all__ = ["Assumption", "assumptions", "parse_range", "one_at_a_time", "tornado_chart"]


def one_at_a_time(
    scenario: Scenario,
    metric: str = "waiting_list_end",
    replications: int = 10,
    seed: int | None = None,
    executor: str | Executor = "local",
    keys: list[str] | None = None,
) -> pd.DataFrame:
    """Move each assumption to the low and high end of its range, one at a time.

    Returns one row per assumption: ``parameter, default, low, high, baseline, at_low,
    at_high, diff_low, diff_low_ci_low, diff_low_ci_high, diff_high, ..., swing``, sorted by
    swing (the absolute range of the paired differences), largest first.
    """
    items = [a for a in assumptions(scenario) if keys is None or a.key in keys]
    if keys is not None:
        unknown = sorted(set(keys) - {a.key for a in items})
        if unknown:
            raise ValueError(f"not assumptions with a numeric range here: {unknown}")
    base = run_replications(scenario, replications, seed, executor, groups=False).per_replication
    rows: list[dict[str, Any]] = []
    for item in items:
        row: dict[str, Any] = {"parameter": item.key, "default": item.default, "low": item.low,
                               "high": item.high, "baseline": float(base[metric].mean())}
        for end, value in (("low", item.low), ("high", item.high)):
            varied = run_replications(scenario.replace({item.key: value}), replications, seed,
                                      executor, groups=False).per_replication
            diff = varied[metric].to_numpy(float) - base[metric].to_numpy(float)
            mean, lo, hi, _ = mean_ci(diff)
            row.update({f"at_{end}": float(varied[metric].mean()), f"diff_{end}": mean,
                        f"diff_{end}_ci_low": lo, f"diff_{end}_ci_high": hi})
        row["swing"] = abs(row["diff_high"] - row["diff_low"])
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    return table


def tornado_chart(table: pd.DataFrame, metric: str = "waiting_list_end") -> Figure:
    """Horizontal bars of the change in ``metric`` at the low and high end of each range."""
    fig = Figure(figsize=(10, 0.55 * max(len(table), 2) + 1.8))
    ax = fig.subplots()
    rows = table.iloc[::-1]
    y = np.arange(len(rows))
    # the two ends side by side, so a shorter bar of the same sign is never hidden
    ax.barh(y - 0.2, rows["diff_low"], height=0.4, color=PALETTE[0], label="low end of range")
    ax.barh(y + 0.2, rows["diff_high"], height=0.4, color=PALETTE[1], label="high end of range")
    for end, offset in (("low", -0.2), ("high", 0.2)):
        err = np.vstack([rows[f"diff_{end}"] - rows[f"diff_{end}_ci_low"],
                         rows[f"diff_{end}_ci_high"] - rows[f"diff_{end}"]])
        ax.errorbar(rows[f"diff_{end}"], y + offset, xerr=np.nan_to_num(err), fmt="none",
                    ecolor="black", capsize=3, linewidth=1)
    ax.set_yticks(y, [f"{p} ({lo:g}-{hi:g})" for p, lo, hi in
                      zip(rows["parameter"], rows["low"], rows["high"])])
    ax.axvline(0, color="black", linewidth=1)
    ax.set_xlabel(f"Change in: {label(metric)} (95% interval)")
    ax.set_title("Which assumptions matter most")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
