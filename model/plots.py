"""Charts of ndpath results, shared by the command line, the app and notebooks.

Every function takes tidy frames (or :class:`~model.experiment.ExperimentResult` objects) and
returns a :class:`matplotlib.figure.Figure` built directly, never through ``pyplot``, so no global
"current figure" leaks between callers (the app serves several sessions at once) and any backend,
``Agg`` included, can render it. Words come from :mod:`model.labels`, colours from its
colour-blind-safe ``PALETTE``, and type is large enough for a projector.

Conventions, so that a reader never has to guess:

* Uncertainty is always drawn: bands across replications for series (p5-p95 and p25-p75 around
  the median), 95% intervals for means and paired differences.
* Month-end stocks (list sizes) are plotted at the end of their month and flows (referrals,
  assessments, waits of those starting) in the middle of it; the "today" line is the start date.

>>> from model.scenario import Scenario
>>> from model.experiment import run_replications
>>> s = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 100})
>>> result = run_replications(s, replications=2, executor="serial")
>>> type(fan_chart(result.timeseries)).__name__
'Figure'
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Mapping, Sequence, Union

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .labels import (
    PALETTE,
    change_unit,
    columns_that_fit,
    fmt_change_interval,
    fmt_money,
    label,
    short_label,
)
from .metrics import WAIT_BANDS, WEEK, child_times, mean_ci, on_stage_at, within_range

if TYPE_CHECKING:
    from .experiment import ExperimentResult

FONT = 14
"""Base font size in points: readable from the back of a room when projected."""

STOCK_METRICS = frozenset({"waiting_list", "profiling_queue", "vetting_queue", "waiting_total",
                           "list_wait_weeks_p50", "list_wait_weeks_p92", "pct_waiting_over_13w",
                           "waiting_over_52w",
                           *(n for n, _, _ in WAIT_BANDS)})
"""Monthly series measured at the end of the month (the rest are counts within the month)."""

WAIT_METRICS = ("list_wait_weeks_p50_end", "list_wait_weeks_p92_end")
WAIT_WORDS = ("Half have waited at least", "1 in 12 have waited at least")
"""The list-based waits (incomplete pathways, as NHS England publishes them) and their words."""

DIFFERENCE_METRICS = (
    "waiting_list_end",
    "waiting_total_end",
    "list_wait_weeks_p50_end",
    "list_wait_weeks_p92_end",
    "waiting_over_52w_end",
    "pct_waiting_over_52w_end",
    "pct_referrals_assessed_within_13w",
    "time_to_first_support_weeks_p50",
    "assessments_completed",
    "withdrawals",
    "escalations",
    "cost_total",
)
"""What :func:`differences_chart` shows by default: the numbers commissioners ask about."""

BAND_COLOURS = (PALETTE[2], PALETTE[4], PALETTE[1], PALETTE[5])
"""Wait bands from short (green) to long (vermillion)."""

Results = Union["ExperimentResult", Mapping[str, "ExperimentResult"], pd.DataFrame]


# -------------------------------------------------------------------------------------------------
# Helpers


def new_figure(width: float = 11.0, height: float = 5.8) -> Figure:
    """A white figure with constrained layout (no pyplot involved)."""
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.set_facecolor("white")
    return figure


def legend_columns(labels: Sequence[str], figure: Figure, most: int = 4,
                   fontsize: float = FONT - 1) -> int:
    """How many columns (up to ``most``) a legend under ``figure`` takes so that it fits the
    figure's width with each label whole: all in one row when they fit, else fewer columns
    (three long scenario names in one row ran past both edges of the figure, "Combined
    package" cut off a page drawn at its own size). Entries fill the rows left to right."""
    from matplotlib.textpath import TextPath

    em = fontsize / 72  # inches
    # each entry: its words, the line sample (2 em) and the gap after it (0.8 em)
    widths = [max(TextPath((0, 0), line, size=fontsize).get_extents().width / 72
                  for line in str(text).split("\n")) + 2.8 * em
              for text in labels]  # a wrapped entry (legend_words): its widest line
    # within the legend's own border, 2 em between columns
    return columns_that_fit(widths, figure.get_figwidth() - 2 * em, gap=2.0 * em, most=most)


def text_inches(text: str, fontsize: float, bold: bool = False) -> float:
    """Inches ``text`` (one line) takes at ``fontsize`` points in matplotlib's default font."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    if not text.strip():
        return 0.0
    prop = FontProperties(size=fontsize, weight="bold" if bold else "normal")
    return float(TextPath((0, 0), text, prop=prop).get_extents().width) / 72


def wrap_to(text: str, inches: float, fontsize: float, bold: bool = False) -> str:
    """``text`` wrapped between words so that no line is wider than ``inches`` at ``fontsize``
    (a word wider than that stays whole on its own line); as it is when it fits. A chart drawn
    narrow for a projector's slide keeps its words inside the figure, where the browser shows
    them at the size they were drawn, rather than widening the picture past its own width."""
    if text_inches(text, fontsize, bold) <= inches:
        return text

    def greedy(room: float) -> list[str]:
        lines: list[str] = []
        for word in text.split(" "):
            if lines and text_inches(f"{lines[-1]} {word}", fontsize, bold) <= room:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines

    lines = greedy(inches)
    # as many lines, of even lengths: the narrowest room that needs no more of them (never a
    # last line of one short word, "(%)", under a full one)
    low, high = inches / len(lines), inches
    for _ in range(12):
        middle = (low + high) / 2
        low, high = (low, middle) if len(greedy(middle)) <= len(lines) else (middle, high)
    return "\n".join(greedy(high))


TITLE_INDENT = 1.1
"""Inches left of a chart's title: the axis label and tick numbers, where the title starts (it
is aligned with the plot's left edge)."""


def legend_words(text: str, figure: Figure, fontsize: float = FONT - 1) -> str:
    """A legend entry (or its title) wrapped to the width of ``figure``, less the legend's
    border, the line sample and the gap after it (:func:`legend_columns`' measure)."""
    em = fontsize / 72
    return wrap_to(text, figure.get_figwidth() - 4.8 * em, fontsize)


TICK_INCHES = 1.0
"""Inches of a time axis each month's label ("2026-01") takes with room either side, at the
ticks' size: a narrow chart gets fewer labels rather than labels run into one another."""


def _date_ticks(ax: Axes) -> None:
    """Month labels on a time axis no closer than :data:`TICK_INCHES` (at the pack's 11 inches
    the labels matplotlib chooses anyway)."""
    from matplotlib.dates import AutoDateLocator

    most = max(3, int(_width(ax) / TICK_INCHES))
    ax.xaxis.set_major_locator(AutoDateLocator(maxticks=most))


def _width(ax: Axes) -> float:
    """The width in inches of the figure ``ax`` is drawn on."""
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    return float(figure.get_figwidth())


def _style(ax: Axes, title: str, ylabel: str = "", xlabel: str = "",
           title_room: float | None = None) -> None:
    """Title (wrapped to ``title_room`` inches, by default the figure's width less
    :data:`TITLE_INDENT`), axis labels and ticks at the projector's sizes."""
    room = _width(ax) - TITLE_INDENT if title_room is None else title_room
    ax.set_title(wrap_to(title, room, FONT + 4, bold=True), fontsize=FONT + 4, loc="left",
                 fontweight="bold")
    if ylabel:
        # a long label wraps rather than running past the axis
        ax.set_ylabel(textwrap.fill(ylabel, 40), fontsize=FONT)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)


def colour(index: int) -> str:
    """The ``index``-th colour of the palette (cycling)."""
    return PALETTE[index % len(PALETTE)]


def month_positions(months: pd.Series | Sequence[str], metric: str) -> pd.DatetimeIndex:
    """Where a month's value sits on the time axis: its end for stocks, its middle for flows."""
    starts = pd.DatetimeIndex(pd.to_datetime(pd.Series(months).astype(str).str[:7],
                                             format="%Y-%m"))
    if metric in STOCK_METRICS:
        return starts + pd.offsets.MonthBegin(1)
    return starts + pd.Timedelta(days=14)


def _today(today: str | None, months: pd.Series) -> pd.Timestamp | None:
    if today is not None:
        text = str(today)
        return pd.Timestamp(text if len(text) > 7 else f"{text}-01")
    if len(months) == 0:
        return None
    return pd.Timestamp(f"{sorted(months.astype(str))[0][:7]}-01")


def _scenario_frames(timeseries: pd.DataFrame | None,
                     scenarios: Mapping[str, pd.DataFrame] | Sequence[str] | None
                     ) -> dict[str, pd.DataFrame]:
    """``{name: timeseries}`` from a dict, or by splitting a frame on its ``scenario`` column."""
    if isinstance(scenarios, Mapping):
        return dict(scenarios)
    if timeseries is None:
        raise ValueError("give a timeseries frame or a dict of them in scenarios=")
    if "scenario" not in timeseries:
        return {"": timeseries}
    names = list(scenarios) if scenarios is not None else list(
        dict.fromkeys(timeseries["scenario"]))
    return {name: timeseries[timeseries["scenario"] == name] for name in names}


def _draw_today(ax: Axes, when: pd.Timestamp | None, text: str | None = None) -> None:
    """The dashed start-of-projection line, labelled with its date (not "today": a calibrated
    projection starts on its extract date, which may be months ago)."""
    if when is None:
        return
    ax.axvline(when, color="black", linestyle="--", linewidth=1.8)
    ax.annotate(text or f"start of projection, {when:%b %Y}", (when, 0.0), xycoords=("data", "axes fraction"), xytext=(5, 5),
                textcoords="offset points", va="bottom", fontsize=FONT, fontweight="bold")


# -------------------------------------------------------------------------------------------------
# Charts


def fan_chart(
    timeseries: pd.DataFrame | None = None,
    metric: str = "waiting_list",
    *,
    scenarios: Mapping[str, pd.DataFrame] | Sequence[str] | None = None,
    today: str | None = None,
    title: str | None = None,
    today_label: str | None = None,
    size: tuple[float, float] | None = None,
) -> Figure:
    """A monthly series as a fan: median line, p25-p75 and p5-p95 bands across replications.

    ``timeseries`` is ``ExperimentResult.timeseries`` (``month, metric, p5 .. p95``), or several
    scenarios stacked with a ``scenario`` column (``scenarios`` then picks and orders them).
    Alternatively pass ``scenarios={name: timeseries}`` to overlay several runs. A dashed "today"
    line marks ``today`` (``YYYY-MM`` or a date), by default the start of the first month.

    Draws, per scenario, two bands (``PolyCollection``) and one median line, plus the today line.
    ``size`` is the figure's (width, height) in inches (by default 11 x 5.8): narrower, the same
    type is larger beside the plot, as a projector's slide needs; the title and the legend's
    words wrap to fit it.
    """
    frames = _scenario_frames(timeseries, scenarios)
    figure = new_figure(*(size or (11.0, 5.8)))
    ax = figure.subplots()
    all_months = pd.concat([f.loc[f["metric"] == metric, "month"] for f in frames.values()])
    if all_months.empty:
        raise ValueError(f"no monthly series named {metric!r} in the timeseries")
    for i, (name, frame) in enumerate(frames.items()):
        rows = frame[frame["metric"] == metric].sort_values("month")
        x = month_positions(rows["month"], metric)
        c = colour(i)
        ax.fill_between(x, rows["p5"], rows["p95"], color=c, alpha=0.15, linewidth=0)
        ax.fill_between(x, rows["p25"], rows["p75"], color=c, alpha=0.35, linewidth=0)
        ax.plot(x, rows["p50"], color=c, linewidth=3, label=name or "Middle projection")
    _draw_today(ax, _today(today, all_months), today_label)
    _date_ticks(ax)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter("{x:,.0f}")
    _style(ax, title or label(metric), label(metric))
    names = [legend_words(name or "Middle projection", figure) for name in frames]
    figure.legend(ax.get_legend_handles_labels()[0], names, fontsize=FONT - 1, frameon=False,
                  loc="outside lower center", ncols=legend_columns(names, figure),
                  title=legend_words("Line: middle projection. Shading: 1 in 2 and 9 in 10 "
                                     "projections", figure, FONT - 2),
                  title_fontsize=FONT - 2)
    return figure


def _as_results(results: Results, scenarios: Sequence[str] | None
                ) -> tuple[dict[str, pd.DataFrame], dict[str, "ExperimentResult"]]:
    """Per-replication frames by scenario name, and the ExperimentResults if given."""
    from .experiment import ExperimentResult

    if isinstance(results, ExperimentResult):
        return {"": results.per_replication}, {"": results}
    if isinstance(results, pd.DataFrame):
        if "scenario" not in results:
            return {"": results}, {}
        names = list(scenarios) if scenarios is not None else list(
            dict.fromkeys(results["scenario"]))
        return {n: results[results["scenario"] == n] for n in names}, {}
    chosen = list(scenarios) if scenarios is not None else list(results)
    return ({n: results[n].per_replication for n in chosen}, {n: results[n] for n in chosen})


def waits_from_logs(result: "ExperimentResult") -> np.ndarray:
    """Time already waited (weeks, referral to the end of the horizon) by every child on the
    diagnostic list at the end, pooled over the kept event logs.

    The list-based view, as the scalar ``list_wait_weeks_*_end`` metrics count it. Raises
    ``ValueError`` if the run kept no logs.
    """
    if not result.logs:
        raise ValueError("this run kept no event logs: run with keep_logs=True (--keep-logs)")
    waits = []
    for log in result.logs:
        t = child_times(log)
        end = log.horizon_days
        waiting = on_stage_at(t.list_join, t.list_leave, end)
        waits.append((end - t.referral[waiting]) / WEEK)
    return np.concatenate(waits) if waits else np.array([])


def wait_distribution(results: Results, *, scenarios: Sequence[str] | None = None,
                      title: str | None = None) -> Figure:
    """How long the children still waiting at the end have waited so far (list-based).

    Takes an :class:`ExperimentResult`, a dict ``{name: ExperimentResult}``, or a per-replication
    frame (with a ``scenario`` column for several). Two honest views, chosen by what is available:

    * every result kept its event logs (``keep_logs=True``): a histogram of the time each child on
      the list at the end has waited, pooled over replications, as the share of the list in each
      13-week bin, with the NICE 13-week line. This is the distribution itself.
    * otherwise: bars of the median and 92nd percentile of the time waited, each the mean over
      replications with its 95% interval.

    This is how NHS England publishes waits (incomplete pathways): a measure over the children
    who were seen would reward seeing the newest referrals first.
    """
    frames, experiments = _as_results(results, scenarios)
    if experiments and len(experiments) == len(frames) and all(r.logs for r in experiments.values()):
        return _wait_histogram({n: waits_from_logs(r) for n, r in experiments.items()},
                               {n: r.replications for n, r in experiments.items()}, title)
    return _wait_bars(frames, title)


def _wait_histogram(waits: Mapping[str, np.ndarray], replications: Mapping[str, int],
                    title: str | None) -> Figure:
    figure = new_figure()
    ax = figure.subplots()
    longest = max((float(w.max()) for w in waits.values() if len(w)), default=13.0)
    edges = np.arange(0.0, 13.0 * (math.floor(longest / 13.0) + 2), 13.0)
    for i, (name, w) in enumerate(waits.items()):
        if not len(w):
            continue
        weights = np.full(len(w), 100.0 / len(w))
        ax.hist(w, bins=list(edges), weights=weights, histtype="stepfilled" if len(waits) == 1 else "step",
                linewidth=2.5, color=colour(i), alpha=0.8 if len(waits) == 1 else 1.0,
                label=f"{name or 'Children waiting'} ({len(w) / replications[name]:,.0f} waiting "
                      f"at the end, average of {replications[name]} projections)")
    ax.axvline(13, color="black", linestyle="--", linewidth=1.8)
    ax.annotate("13 weeks (NICE)", (13, 1.0), xycoords=("data", "axes fraction"),
                xytext=(5, -5), textcoords="offset points", va="top", fontsize=FONT - 1)
    _style(ax, title or "How long the children still waiting have waited",
           "Children waiting at the end (%)", "Weeks waited so far (13-week bins)")
    figure.legend(fontsize=FONT - 1, frameon=False, loc="outside lower center",
                  ncols=legend_columns(ax.get_legend_handles_labels()[1], figure, most=2))
    return figure


def _bar_interval(values: np.ndarray, metric: str) -> tuple[float, float, float]:
    """A bar's mean and its 95% interval, cut to the values the metric can take (as every
    table does: :func:`model.metrics.within_range`)."""
    mean, low, high, _ = mean_ci(values)
    low, high = within_range(metric, low, high)
    return mean, low, high


def _wait_bars(frames: Mapping[str, pd.DataFrame], title: str | None) -> Figure:
    figure = new_figure()
    ax = figure.subplots()
    width = 0.8 / max(len(frames), 1)
    x = np.arange(len(WAIT_METRICS))
    for i, (name, frame) in enumerate(frames.items()):
        stats = [_bar_interval(frame[m].to_numpy(), m) if m in frame else (math.nan,) * 3
                 for m in WAIT_METRICS]
        means = np.array([s[0] for s in stats], dtype=float)
        err = np.array([[s[0] - s[1], s[2] - s[0]] if math.isfinite(s[1]) else [0.0, 0.0]
                        for s in stats]).T
        ax.bar(x + i * width, np.nan_to_num(means), width * 0.95, yerr=err, capsize=6,
               color=colour(i), label=name or None, error_kw={"linewidth": 2})
        # each number above its whisker, not drawn over it
        for k, (m, top) in enumerate(zip(means, np.nan_to_num(means) + err[1])):
            ax.annotate(f"{m:.0f}" if math.isfinite(m) else "nobody waiting",
                        (x[k] + i * width, top), xytext=(0, 4), textcoords="offset points",
                        ha="center", va="bottom", fontsize=FONT)
    ax.margins(y=0.15)  # room above the tallest whisker for its number
    ax.set_xticks(x + width * (len(frames) - 1) / 2, WAIT_WORDS, fontsize=FONT)
    _style(ax, title or "How long the children still waiting have waited", "Weeks waited so far",
           "Children on the diagnostic list at the end; whiskers: 95% interval")
    if len(frames) > 1:
        ax.legend(fontsize=FONT - 1, frameon=False)
    return figure


WAIT_BANDS_TITLE = "Children on the diagnostic list, by how long they have waited"
"""The wait-bands chart's title (the PNG's and the app's): the bands count the diagnostic list
only, not the children waiting for a needs profile or for vetting."""


def wait_bands(timeseries: pd.DataFrame, *, today: str | None = None,
               title: str | None = None) -> Figure:
    """The diagnostic list month by month, stacked by how long children have waited.

    Each band is the median across replications of the number in it (so the stack's height is
    close to, but not exactly, the median list size). Draws four stacked areas, shortest wait at
    the bottom.
    """
    names = [name for name, _, _ in WAIT_BANDS]
    rows = timeseries[timeseries["metric"].isin(names)]
    if rows.empty:
        raise ValueError("no wait-band series (list_wait_*) in the timeseries")
    wide = rows.pivot(index="month", columns="metric", values="p50").reindex(columns=names)
    wide = wide.sort_index().fillna(0.0)
    figure = new_figure()
    ax = figure.subplots()
    x = month_positions(wide.index.to_series(), names[0])
    ax.stackplot(x, *[wide[n].to_numpy() for n in names], labels=[label(n) for n in names],
                 colors=BAND_COLOURS, alpha=0.9)
    _draw_today(ax, _today(today, wide.index.to_series()))
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter("{x:,.0f}")
    _style(ax, title or WAIT_BANDS_TITLE, "Children on the list (middle projection)")
    handles, labels_ = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels_[::-1], fontsize=FONT - 1, frameon=False, loc="upper left")
    return figure


DIFFERENCE_LABEL_CHARS = 34
"""Characters a line of a measure's name takes left of the differences chart (longer names wrap,
so the plot keeps its width)."""
WORDS_FONT = FONT - 3
"""Points: the change's words right of the differences chart."""


def _words_inches(words: Sequence[str]) -> float:
    """Inches the widest of ``words`` takes at :data:`WORDS_FONT` (DejaVu Sans digits are 0.64
    em wide; a little to spare)."""
    longest = max((len(w) for w in words), default=0)
    return 0.66 * WORDS_FONT / 72 * longest + 0.3


def differences_chart(compare_frame: pd.DataFrame, metrics: Sequence[str] | None = None, *,
                      title: str | None = None, short_labels: bool = False,
                      labels: Mapping[str, str] | None = None) -> Figure:
    """Paired differences against the baseline, with 95% intervals, one row per metric.

    Rows are titled by ``labels`` where it names the metric (the app's titles, a total with its
    period: "Total cost, 60 months"), else by the short card title (``short_labels``) or the
    full label.

    ``compare_frame`` is :func:`model.experiment.compare`'s output (``metric, baseline, scenario,
    difference, ci_low, ci_high, n``) or ``comparison.csv`` (with a ``comparison`` column naming
    the other scenario, one marker per comparison, and ``baseline_mean``). Metrics have different
    units, so the axis is the change as a % of the baseline mean; the change in the metric's own
    units ("+£1.40m", "-0.38 weeks (-0.53 to -0.23)", "+1.2 points (+0.8 to +1.6)") is written
    in a column of its own right of the plot, as wide as its longest words, so it never runs
    into the plot or past the figure. Metrics whose baseline is zero or undefined cannot be shown as a %
    and are listed under the chart instead of dropped silently.
    """
    frame = compare_frame.copy()
    if "baseline_mean" in frame and "baseline" not in frame:
        frame["baseline"] = frame["baseline_mean"]
    if "comparison" not in frame:
        frame["comparison"] = ""
    wanted = list(metrics) if metrics is not None else [
        m for m in DIFFERENCE_METRICS if m in set(frame["metric"])] or list(
            dict.fromkeys(frame["metric"]))
    frame = frame[frame["metric"].isin(wanted)]
    ok = np.isfinite(frame["baseline"]) & (frame["baseline"].abs() > 1e-9) & np.isfinite(
        frame["difference"])
    skipped = sorted(set(frame.loc[~ok, "metric"]) - set(frame.loc[ok, "metric"]))
    frame = frame[ok]
    frame = frame.assign(words=[fmt_change_interval(m, d, lo, hi) for m, d, lo, hi in zip(
        frame["metric"], frame["difference"], frame["ci_low"], frame["ci_high"])])
    shown = [m for m in wanted if m in set(frame["metric"])]
    comparisons = list(dict.fromkeys(frame["comparison"]))
    words_in = _words_inches(list(frame["words"]))
    # the app's narrow columns take the short card titles (the table beside it has the full ones)
    default = short_label if short_labels else label

    def row_title(metric: str) -> str:
        return labels[metric] if labels and metric in labels else default(metric)

    titles = [textwrap.fill(row_title(m), DIFFERENCE_LABEL_CHARS, break_on_hyphens=False)
              for m in shown]
    # a row as tall as its longest title (a full label with its period wraps onto 4 lines)
    row_inches = max(0.75, 0.22 * max((t.count("\n") + 1 for t in titles), default=1) + 0.15)
    figure = new_figure(12, row_inches * max(len(shown), 1) * max(1, 0.6 * len(comparisons))
                        + 2.6)
    # the plot, then the words' column (sharing the rows): constrained layout keeps them apart
    ax, side = figure.subplots(1, 2, sharey=True, gridspec_kw={
        "width_ratios": [max(12 - 3.6 - words_in, 3.0), words_in], "wspace": 0.01})
    side.axis("off")
    row = {m: k for k, m in enumerate(shown)}
    step = 0.7 / max(len(comparisons), 1)
    for i, name in enumerate(comparisons):
        rows = frame[frame["comparison"] == name]
        y = np.array([row[m] for m in rows["metric"]], dtype=float) + (i - (len(comparisons) - 1) / 2) * step
        scale = 100.0 / rows["baseline"].abs().to_numpy()
        mid = rows["difference"].to_numpy() * scale
        low = np.where(np.isfinite(rows["ci_low"]), rows["ci_low"] * scale, mid)
        high = np.where(np.isfinite(rows["ci_high"]), rows["ci_high"] * scale, mid)
        ax.errorbar(mid, y, xerr=np.vstack([mid - low, high - mid]), fmt="o", color=colour(i),
                    capsize=6, markersize=9, linewidth=2.5, label=name or None)
        for yy, words in zip(y, rows["words"]):
            side.text(0.0, yy, words, transform=side.get_yaxis_transform(), va="center",
                      ha="left", fontsize=WORDS_FONT, color=colour(i))
    ax.axvline(0, color="black", linewidth=1.2)
    ax.set_yticks(range(len(shown)), titles, fontsize=FONT - 1)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    xlabel = ("Change against the baseline (% of its value), dot: average, bar: 95% interval\n"
              "Right: the change in the measure's own unit, with its 95% interval")
    if skipped:
        xlabel += "\n" + textwrap.fill("Not shown (baseline is zero or undefined): " + "; ".join(
            labels[m] if labels and m in labels else label(m) for m in skipped), 80)
    _style(ax, title or "What changes against the baseline", xlabel=xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", visible=False)
    if len(comparisons) > 1 or comparisons[:1] != [""]:
        figure.legend(fontsize=FONT - 1, frameon=False, loc="outside lower center",
                      ncols=legend_columns(comparisons, figure, most=3))
    return figure


BAR_NAMES_SHARE = 0.4
"""The share of a bar chart's width its scenarios' names may take before they wrap (the
shipped names stay on one line at 11 inches)."""


def scenario_bars(per_replication: pd.DataFrame, metric: str,
                  scenarios: Sequence[str] | None = None, *, title: str | None = None,
                  size: tuple[float, float] | None = None) -> Figure:
    """One horizontal bar per scenario: the mean over replications with its 95% interval.

    ``per_replication`` holds several scenarios stacked with a ``scenario`` column. ``size``
    is the figure's (width, height) in inches (by default 11 wide, an inch a bar and 2 more);
    the scenarios' names wrap to :data:`BAR_NAMES_SHARE` of its width, the title to the rest.
    """
    frames, _ = _as_results(per_replication, scenarios)
    names = list(frames)
    figure = new_figure(*(size or (11, 1.0 * len(names) + 2.0)))
    ax = figure.subplots()
    stats = [_bar_interval(frames[n][metric].to_numpy(), metric) for n in names]
    means = np.array([s[0] if math.isfinite(s[0]) else 0.0 for s in stats])
    err = np.array([[s[0] - s[1], s[2] - s[0]] if math.isfinite(s[1]) else [0.0, 0.0]
                    for s in stats]).T
    y = np.arange(len(names))
    ax.barh(y, means, color=[colour(i) for i in range(len(names))], xerr=err, capsize=6,
            ecolor="black")
    room = BAR_NAMES_SHARE * figure.get_figwidth()
    shown_names = [wrap_to(n or label(metric), room, FONT) for n in names]
    ax.set_yticks(y, shown_names, fontsize=FONT)
    ax.invert_yaxis()
    for k, (m, end) in enumerate(zip(means, means + err[1])):
        shown = fmt_money(m) if change_unit(metric) == "£" else f"{m:,.0f}"  # money as everywhere
        # beyond the whisker's end, not over the whisker
        ax.text(end, k, f"  {shown}", va="center", ha="left", fontsize=FONT, fontweight="bold")
    ax.margins(x=0.18)  # room beyond the longest whisker for its number
    widest = max(text_inches(line, FONT) for n in shown_names for line in n.split("\n"))
    plot = figure.get_figwidth() - widest - 0.5  # inches: the bars' width, about
    _style(ax, "", xlabel=wrap_to("Bar: average over projections; whisker: 95% interval",
                                  max(plot, 2.0), FONT))
    # the title over the whole figure, from its left edge: over the bars alone it ran past the
    # figure's right edge (and wrapped to three lines on a narrow one)
    words = title or label(metric)
    figure.suptitle(wrap_to(words, figure.get_figwidth() - 0.2, FONT + 4, bold=True),
                    x=0.01, ha="left", fontsize=FONT + 4, fontweight="bold")
    ax.grid(axis="y", visible=False)
    return figure


__all__ = ["fan_chart", "wait_distribution", "wait_bands", "differences_chart", "scenario_bars",
           "waits_from_logs", "new_figure", "month_positions", "FONT", "STOCK_METRICS"]
