"""Figures for the app and the summit pack, and their export (PNG, zip, PDF).

The charts themselves come from :mod:`model.plots`, the same functions the command line and the
notebooks use; this module only gathers the app's results into the frames they take, and writes
figures out. Figures are :class:`matplotlib.figure.Figure` objects (no pyplot state), so
concurrent sessions do not share a current figure.
"""

from __future__ import annotations

import io
import zipfile
from typing import Mapping

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from model import plots
from model.experiment import ExperimentResult
from model.scenario import Scenario

from . import core


def combined_timeseries(results: Mapping[str, ExperimentResult]) -> pd.DataFrame:
    """Percentile bands of several scenarios in one frame with a ``scenario`` column."""
    return pd.concat([r.timeseries.assign(scenario=name) for name, r in results.items()],
                     ignore_index=True)


def combined_per_replication(results: Mapping[str, ExperimentResult]) -> pd.DataFrame:
    """Per-replication scalar metrics of several scenarios, with a ``scenario`` column."""
    return pd.concat([r.per_replication.assign(scenario=name) for name, r in results.items()],
                     ignore_index=True)


def _start_label(results: Mapping[str, ExperimentResult]) -> str:
    return core.start_line_label(next(iter(results.values())).scenario)


AVERAGE_MARK = "Average of the projections, at the end: the number in the sentence"
"""The legend's words for a fan chart's dot at its last month: the line is the middle
projection (the median), the sentences beside the chart give the average of the projections,
which can differ; the dot shows the number a facilitator reads out."""

LIST_AVERAGE_METRIC = "waiting_list_end"
"""The end-of-horizon number the list chart's sentence gives for its series (``waiting_list``):
the children on the diagnostic list (:func:`app.core.takeaway_list`)."""
WAITS_AVERAGE_METRIC = "waiting_over_52w_end"
"""The end-of-horizon number the waits chart's sentence gives for its series
(``waiting_over_52w``): the list's children waiting a year or more (:func:`core.takeaway_wait`)."""


Size = tuple[float, float] | None
"""A chart's (width, height) in inches; None: its own size (the pack's and the page's)."""

SLIDE_SIZE: tuple[float, float] = (6.4, 4.8)
"""Inches: a chart as presentation mode draws it, for the slide's chart column (three fifths
of the screen, :data:`app.layout.SLIDE_CHART_PX` pixels wide). The browser scales the picture
to the column, so a point of type is ``column pixels / (72 * picture inches)`` pixels on
screen: drawn at the pack's 11 inches, the legend's 12 points were 8.7 pixels at 1024x768; at
6.4 inches they are 15 (:func:`on_screen_px`), and the 4:3 shape leaves the column's height
for the caption under it."""


SLIDE_LEAST_POINTS = plots.FONT - 2
"""Points: the smallest type on a chart of the slides (the legend's title; ticks and legend
entries are a point larger)."""


def on_screen_px(points: float, dpi: float, picture_px: float, shown_px: float) -> float:
    """How many pixels tall type of ``points`` is on screen, in a picture drawn at ``dpi``
    ``picture_px`` pixels wide that the browser shows ``shown_px`` wide."""
    return points / 72 * dpi * shown_px / picture_px


def list_chart(results: Mapping[str, ExperimentResult], today: str,
               mark_average: bool = False, size: Size = None) -> Figure:
    """Children waiting, month by month, with 50% and 90% bands and the start-of-projection
    line labelled with its date; with ``mark_average`` (the Present page and the pack, where a
    sentence stands beside it), a dot at the last month at the average of the projections
    (:func:`mark_averages`). ``size``: :data:`SLIDE_SIZE` for presentation mode."""
    figure = plots.fan_chart(combined_timeseries(results), "waiting_list",
                             scenarios=list(results), today=today,
                             today_label=_start_label(results), size=size)
    if mark_average:
        mark_averages(figure, results, "waiting_list", LIST_AVERAGE_METRIC)
    return figure


def average_marks(results: Mapping[str, ExperimentResult], series: str,
                  metric: str) -> list[tuple[int, str, float]]:
    """(scenario's index, last month of ``series``, average of ``metric`` over the projections)
    for each scenario with both: where :func:`mark_averages` puts its dots."""
    marks = []
    for i, result in enumerate(results.values()):
        ts = result.timeseries
        months = ts.loc[ts["metric"] == series, "month"]
        value = result.metric(metric)["mean"] if metric in set(result.summary["metric"]) \
            else float("nan")
        if months.empty or not pd.notna(value):
            continue
        marks.append((i, str(max(months)), float(value)))
    return marks


def mark_averages(figure: Figure, results: Mapping[str, ExperimentResult], series: str,
                  metric: str) -> None:
    """A filled dot in each scenario's colour at the last month of the fan of ``series``, at
    the average over the projections of ``metric`` (the number its sentence gives), with a
    legend entry saying so (:data:`AVERAGE_MARK`): the line is the middle projection, and a
    facilitator reading the line's end would quote another number than the sentence's."""
    ax = figure.axes[0]
    left, right = ax.get_xlim()
    marks = average_marks(results, series, metric)
    for i, month, value in marks:
        x = plots.month_positions([month], series)[0]
        ax.plot([x], [value], linestyle="none", marker="o", markersize=11,
                markerfacecolor=plots.colour(i), markeredgecolor="white", markeredgewidth=1.5,
                zorder=6, gid="average_of_projections")
    if not marks:
        return
    ax.set_xlim(left, right)
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, max(top, 1.06 * max(value for _, _, value in marks)))
    dot = Line2D([], [], linestyle="none", marker="o", markersize=10, markerfacecolor="#444444",
                 markeredgecolor="white")
    _add_to_legend(figure, dot, AVERAGE_MARK)


def _add_to_legend(figure: Figure, handle: Artist, words: str) -> None:
    """The figure's legend (fan_chart's: the scenarios' lines) rebuilt with one entry more."""
    old = figure.legends[0]
    handles: list[Artist] = [*(h for h in old.legend_handles if h is not None), handle]
    labels = [*(t.get_text() for t in old.get_texts()), plots.legend_words(words, figure)]
    title = old.get_title()
    old.remove()
    figure.legend(handles, labels, fontsize=plots.FONT - 1, frameon=False,
                  loc="outside lower center", ncols=plots.legend_columns(labels, figure),
                  title=title.get_text(), title_fontsize=title.get_fontsize())


def wait_chart(results: Mapping[str, ExperimentResult]) -> Figure:
    """How long the children still waiting at the end have waited, for each scenario."""
    return plots.wait_distribution(combined_per_replication(results), scenarios=list(results))


EVERY_STAGE_MARK = "Waiting at any stage, at the end"
"""The legend's words for the waits chart's diamonds: the app's card "Waiting a year or more,
any stage" (diagnostic list, needs profile, vetting) in words a summit audience reads, short
enough to share a legend row."""


def wait_trend_chart(results: Mapping[str, ExperimentResult], today: str,
                     mark_average: bool = False, size: Size = None) -> Figure:
    """Month by month, how many children on the diagnostic list have waited a year or more
    (list-based, as NHS England publishes waits), with a hollow diamond at the end, in the
    scenario's colour, at the count of every stage (the app's "Waiting a year or more, any
    stage" card) for each scenario where counting the children waiting for a needs profile or
    vetting changes the rounded count (:func:`core.over_year_elsewhere`, as the sentence says).

    The count, not the median: a list that fewer new children join is older, so its median
    time waited can rise while fewer children wait long; the count does not mislead that way.
    With ``mark_average``, a dot at the last month at the list's average of the projections,
    the number the sentence gives (:func:`mark_averages`). ``size`` as :func:`list_chart`'s."""
    figure = plots.fan_chart(combined_timeseries(results), "waiting_over_52w",
                             scenarios=list(results), today=today,
                             today_label=_start_label(results), size=size)
    if mark_average:
        mark_averages(figure, results, "waiting_over_52w", WAITS_AVERAGE_METRIC)
    _mark_every_stage(figure, results)
    return figure


def _mark_every_stage(figure: Figure, results: Mapping[str, ExperimentResult]) -> None:
    """The diamonds of :func:`wait_trend_chart` and their legend entry (nothing where no
    scenario's count changes)."""
    ax = figure.axes[0]
    left, right = ax.get_xlim()  # the diamonds sit on the last month: the axis stays as drawn
    highest = 0.0
    for i, result in enumerate(results.values()):
        if not core.over_year_elsewhere(result)[0]:
            continue
        ts = result.timeseries
        months = ts.loc[ts["metric"] == "waiting_over_52w", "month"]
        if months.empty:
            continue
        x = plots.month_positions([max(months)], "waiting_over_52w")[0]
        y = result.metric("waiting_total_over_52w_end")["mean"]
        ax.plot([x], [y], linestyle="none", marker="D", markersize=12, markerfacecolor="white",
                markeredgecolor=plots.colour(i), markeredgewidth=3, zorder=5)
        highest = max(highest, y)
    if not highest:
        return
    ax.set_xlim(left, right)
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, max(top, 1.06 * highest))
    diamond = Line2D([], [], linestyle="none", marker="D", markersize=10,
                     markerfacecolor="white", markeredgecolor="#444444", markeredgewidth=2.5)
    _add_to_legend(figure, diamond, EVERY_STAGE_MARK)


def bands_chart(result: ExperimentResult) -> Figure:
    """The list by how long children have waited (under 13 weeks ... over 2 years)."""
    return plots.wait_bands(result.timeseries, today=core.month_today(result.scenario))


def differences_chart(differences: pd.DataFrame, scenario: Scenario) -> Figure:
    """Paired differences of the headline measures, with their 95% intervals, each row titled
    as its card is (a total with the period of the ``scenario`` run: "Total cost, 60
    months")."""
    metrics = list(core.HEADLINE_METRICS)
    return plots.differences_chart(differences, metrics=metrics, short_labels=True,
                                   labels={m: core.card_label(m, scenario) for m in metrics})


def support_chart(results: Mapping[str, ExperimentResult], size: Size = None) -> Figure:
    """Share of families supported within 13 weeks of referral, per scenario, with intervals
    (``size`` as :func:`list_chart`'s)."""
    return plots.scenario_bars(combined_per_replication(results), "pct_supported_within_13w",
                               scenarios=list(results), size=size)


def to_png(figure: Figure, dpi: int = 150, tight: bool = True) -> bytes:
    """The figure as PNG bytes, cropped to what is drawn (``tight``) or at its own size."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buffer.getvalue()


def pngs_zip(figures: Mapping[str, Figure], extra: Mapping[str, bytes] | None = None,
             tight: bool = True) -> bytes:
    """A zip of the figures as PNGs (``<name>.png``), plus any extra files; ``tight=False``
    keeps each page at its own size (the pack's 16:9 pages)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, figure in figures.items():
            archive.writestr(f"{name}.png", to_png(figure, tight=tight))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pdf(pages: list[Figure], title: str, tight: bool = True) -> bytes:
    """The figures as a multi-page PDF, one per page (each at its own size with ``tight=False``,
    cropped to what is drawn otherwise)."""
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": title, "Creator": "ndpath"}) as document:
        for figure in pages:
            document.savefig(figure, bbox_inches="tight" if tight else None)
    return buffer.getvalue()
