"""Charts the app needs that :mod:`model.plots` does not provide (yet).

Same conventions as the shared plotting module: labels from :mod:`model.labels`, the Okabe-Ito
palette, large type for a projector, and uncertainty drawn as bands or interval bars.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from model.labels import PALETTE, label

FONT = 13


def _figure(width: float = 10, height: float = 5.2) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.set_facecolor("white")
    return figure


def _style(ax, title: str, ylabel: str) -> None:  # type: ignore[no-untyped-def]
    ax.set_title(title, fontsize=FONT + 3, loc="left")
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)


def scenario_bars(per_replication: pd.DataFrame, metric: str,
                  scenarios: Sequence[str] | None = None) -> Figure:
    """One bar per scenario: the mean over replications with its 95% interval."""
    from model.metrics import mean_ci

    names = list(scenarios or per_replication["scenario"].unique())
    figure = _figure(10, 4.8)
    ax = figure.subplots()
    means, errors = [], []
    for name in names:
        mean, low, high, _ = mean_ci(
            per_replication.loc[per_replication["scenario"] == name, metric].to_numpy())
        means.append(mean if math.isfinite(mean) else 0.0)
        errors.append([mean - low, high - mean] if math.isfinite(low) else [0.0, 0.0])
    y = np.arange(len(names))
    ax.barh(y, means, color=[PALETTE[i % len(PALETTE)] for i in range(len(names))],
            xerr=np.array(errors).T, capsize=6, ecolor="black")
    ax.set_yticks(y, names, fontsize=FONT)
    ax.invert_yaxis()
    for k, m in enumerate(means):
        ax.text(m, k, f"  {m:,.0f}", va="center", ha="left", fontsize=FONT, fontweight="bold")
    ax.set_title(label(metric), fontsize=FONT + 3, loc="left")
    ax.tick_params(labelsize=FONT - 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel("Bars: average over projections; whiskers: 95% interval", fontsize=FONT - 2)
    return figure


def _months(values: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values.astype(str), format="%Y-%m"))


def fan_chart(timeseries: pd.DataFrame, metric: str, scenarios: Sequence[str] | None = None,
              today: str | None = None) -> Figure:
    """Median line with 50% and 90% bands for each scenario, and a dashed "today" line."""
    ts = timeseries[timeseries["metric"] == metric]
    if "scenario" not in ts:
        ts = ts.assign(scenario="")
    names = list(scenarios or ts["scenario"].unique())
    figure = _figure()
    ax = figure.subplots()
    for i, name in enumerate(names):
        rows = ts[ts["scenario"] == name].dropna(subset=["p50"])
        x = _months(rows["month"])
        colour = PALETTE[i % len(PALETTE)]
        ax.fill_between(x, rows["p5"], rows["p95"], color=colour, alpha=0.15, linewidth=0)
        ax.fill_between(x, rows["p25"], rows["p75"], color=colour, alpha=0.35, linewidth=0)
        ax.plot(x, rows["p50"], color=colour, linewidth=2.5, label=name or label(metric))
    if today is not None:
        when = pd.Timestamp(f"{today}-01")
        ax.axvline(when, color="black", linestyle="--", linewidth=1.5)
        ax.annotate("today", (when, 0.0), xycoords=("data", "axes fraction"),
                    xytext=(5, 6), textcoords="offset points", va="bottom", fontsize=FONT,
                    fontweight="bold")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    _style(ax, label(metric), "")
    ax.legend(fontsize=FONT - 1, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.1),
              ncols=min(len(names), 2),
              title="Line: middle projection; shading: 1 in 2 and 9 in 10 ranges",
              title_fontsize=FONT - 3)
    return figure


WAIT_METRICS = ("wait_to_assessment_weeks_p50", "wait_to_assessment_weeks_mean",
                "wait_to_assessment_weeks_p90")
WAIT_WORDS = ("Half wait less than", "Average wait", "9 in 10 wait less than")


def wait_distribution(per_replication: pd.DataFrame,
                      scenarios: Sequence[str] | None = None) -> Figure:
    """Waits to assessment (median, mean, 90th centile) per scenario, with 95% intervals."""
    from model.metrics import mean_ci

    frame = per_replication if "scenario" in per_replication else per_replication.assign(scenario="")
    names = list(scenarios or frame["scenario"].unique())
    figure = _figure(10, 4.8)
    ax = figure.subplots()
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(WAIT_METRICS))
    for i, name in enumerate(names):
        rows = frame[frame["scenario"] == name]
        stats = [mean_ci(rows[m].to_numpy()) for m in WAIT_METRICS]
        means = np.array([s[0] for s in stats])
        err = np.array([[s[0] - s[1], s[2] - s[0]] if math.isfinite(s[1]) else [0, 0]
                        for s in stats]).T
        bars = ax.bar(x + i * width, np.nan_to_num(means), width * 0.95, yerr=err, capsize=5,
                      color=PALETTE[i % len(PALETTE)], label=name or None)
        ax.bar_label(bars, labels=[f"{m:.0f}" if math.isfinite(m) else "-" for m in means],
                     fontsize=FONT - 1, padding=3)
    ax.set_xticks(x + width * (len(names) - 1) / 2, WAIT_WORDS, fontsize=FONT)
    _style(ax, "Wait from referral to assessment (children assessed in the period)", "Weeks")
    if len(names) > 1:
        ax.legend(fontsize=FONT - 1, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.1),
                  ncols=2)
    return figure


def wait_bands(timeseries: pd.DataFrame) -> Figure:
    """The diagnostic list month by month, stacked by how long children have waited (medians)."""
    from model.metrics import WAIT_BANDS

    figure = _figure()
    ax = figure.subplots()
    names = [name for name, _, _ in WAIT_BANDS]
    rows = timeseries[timeseries["metric"].isin(names)]
    wide = rows.pivot(index="month", columns="metric", values="p50")[names].fillna(0.0)
    colours = [PALETTE[2], PALETTE[4], PALETTE[1], PALETTE[5]]
    ax.stackplot(_months(wide.index.to_series()), *[wide[n] for n in names],
                 labels=[label(n) for n in names], colors=colours, alpha=0.9)
    _style(ax, "Children waiting, by how long they have waited", "Children (middle projection)")
    ax.legend(fontsize=FONT - 1, frameon=False, loc="upper left")
    return figure


def _signed(value: float) -> str:
    return f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+,.1f}"


def differences_chart(compare_frame: pd.DataFrame, metrics: Sequence[str] | None = None) -> Figure:
    """Paired differences with 95% intervals: one panel per metric, each in its own units.

    Each panel is centred on zero (no change), so the side a point falls on is the direction of
    the change and an interval crossing the line is no clear change.
    """
    frame = compare_frame.set_index("metric")
    names = [m for m in (metrics or list(frame.index)) if m in frame.index
             and math.isfinite(float(frame.loc[m, "difference"]))]
    figure = _figure(10, 0.95 * max(len(names), 1) + 0.8)
    axes = np.atleast_1d(figure.subplots(max(len(names), 1), 1))
    for ax, name in zip(axes, names):
        row = frame.loc[name]
        mid, low, high = (float(row[c]) for c in ("difference", "ci_low", "ci_high"))
        has_ci = math.isfinite(low) and math.isfinite(high)
        reach = max(abs(mid), abs(low) if has_ci else 0, abs(high) if has_ci else 0) or 1.0
        ax.axvline(0, color="black", linewidth=1.2)
        if has_ci:
            ax.plot([low, high], [0, 0], color=PALETTE[0], linewidth=4, solid_capstyle="butt")
        ax.plot([mid], [0], "o", color=PALETTE[0], markersize=11)
        ax.set_xlim(-1.35 * reach, 1.35 * reach)
        ax.set_yticks([])
        ax.spines[["top", "right", "left"]].set_visible(False)
        ax.tick_params(labelsize=FONT - 3)
        interval = f" (95% interval {_signed(low)} to {_signed(high)})" if has_ci else ""
        ax.set_title(f"{label(name)}: {_signed(mid)}{interval}", fontsize=FONT - 1, loc="left")
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}" if reach >= 10 else "{x:,.1f}"))
    figure.suptitle("Your scenario minus the starting one (0 = no change)", fontsize=FONT + 2,
                    x=0.01, ha="left")
    return figure
