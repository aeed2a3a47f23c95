"""The app's on-screen charts, drawn by the browser (Vega-Lite, Streamlit's native charts).

They show the same numbers as the matplotlib figures of :mod:`app.figures` (which stay for the
PNG downloads and the summit pack): the percentile bands of ``ExperimentResult.timeseries``,
the 95% intervals of :func:`model.metrics.mean_ci`, the paired differences of
:func:`model.experiment.compare` and the disclosure-controlled by-group tables of
:mod:`model.equity`. Titles, axis words and colours follow :mod:`model.plots`. Only the drawing
moves to the browser: a rerun sends a small table and a chart description instead of drawing
and compressing a picture (about a second a chart on the server).

Each chart is a :class:`Chart`: the frame it draws (``data``, for a test to check the numbers
behind it) and a Vega-Lite description (``spec``), written as plain dictionaries rather than
through Altair, whose checks of the description cost a tenth of a second a chart on every rerun.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from model.equity import SHORT_LABELS, VARIABLE_LABELS
from model.experiment import ExperimentResult
from model.labels import PALETTE, columns_that_fit, fmt_change_interval, label
from model.metrics import WAIT_BANDS, mean_ci
from model.plots import (BAND_COLOURS, WAIT_BANDS_TITLE, WAIT_METRICS, WAIT_WORDS, colour,
                         month_positions)
from model.scenario import Scenario

from . import core

HEIGHT = 300
"""Pixels: the plot's height (the title, axes and legend come on top of it)."""
FONT = 13
FAN_LEGEND = "Line: middle projection. Shading: 1 in 2 and 9 in 10 projections"
MONTH_AXIS = "Month (children waiting at the end of each month)"
Spec = dict[str, Any]


@dataclass(frozen=True)
class Chart:
    """A chart for :func:`draw`: the frame drawn, its Vega-Lite description and words for
    screen readers."""

    data: pd.DataFrame
    spec: Spec
    alt: str


def draw(chart: Chart) -> None:
    """Draw ``chart`` as wide as its column (Streamlit's Vega-Lite element)."""
    import streamlit as st

    st.vega_lite_chart(chart.data, chart.spec, width="stretch", alt=chart.alt)


TITLE_CHARS = 64
"""Characters in a line of a long chart title: the by-group chart's full label and period fits
its column at 1024 wide in lines this long (about 77 fit in one)."""


def _title(text: str | list[str], subtitle: str | list[str] | None = None) -> Spec:
    out: Spec = {"text": text, "anchor": "start", "fontSize": FONT + 4, "fontWeight": "bold"}
    if subtitle:
        out |= {"subtitle": subtitle, "subtitleFontSize": FONT - 1, "subtitleColor": "#444444"}
    return out


AUTOSIZE: Spec = {"type": "fit-x", "contains": "padding"}
"""As wide as the column; the height is the plot's, with the title, axes and legend added
(Streamlit's default, ``fit``, squeezes the plot into the height instead)."""
CONFIG: Spec = {
    "axis": {"labelFontSize": FONT, "titleFontSize": FONT, "gridOpacity": 0.3},
    "legend": {"labelFontSize": FONT, "titleFontSize": FONT - 1, "orient": "bottom",
               "titleLimit": 700, "labelLimit": 400},
    "view": {"strokeWidth": 0},
}


def _scenario_scale(names: Sequence[str]) -> Spec:
    return {"domain": list(names), "range": [colour(i) for i in range(len(names))]}


LEGEND_WIDTH = 600
"""Pixels a legend row under a chart may take: a chart is about 650 wide at 1024x768 with the
sidebar open (Compare's, Scenario's), wider at 1440."""
LEGEND_CHAR = 5.8
"""Pixels: a generous average width of a character of a legend label (13 px Source Sans
averages 5.2: "Status quo (illustrative Leeds-sized service)" is 233 px)."""
LEGEND_ENTRY = 40
"""Pixels of an entry besides its words: the swatch, the gap after it and the column gap."""


def legend_columns(names: Sequence[str]) -> int:
    """How many columns the legend of ``names`` (scenarios) under a chart takes: all of them in
    one row when they fit :data:`LEGEND_WIDTH`, else as many as fit, each name whole (three long
    names in one row ran past the chart at 1024 wide: "Combined package" was cut). Entries fill
    the rows left to right, so column ``c`` holds names ``c``, ``c + columns``, ..."""
    return columns_that_fit([LEGEND_CHAR * len(str(name)) + LEGEND_ENTRY for name in names],
                            LEGEND_WIDTH)


def _scenario_legend(names: Sequence[str]) -> Spec | None:
    """The legend of a scenario colour: none for one scenario, else in rows that fit."""
    return None if len(names) == 1 else {"columns": legend_columns(names)}


def _epoch_ms(when: pd.Timestamp) -> float:
    """A naive timestamp as Vega-Lite reads the frame's: milliseconds since 1970 (UTC)."""
    return float(pd.Timestamp(when).value // 1_000_000)


def _start_line(when: pd.Timestamp, text: str) -> list[Spec]:
    """The dashed start-of-projection line, labelled with its date at the top of the plot, where
    the list has not yet grown (not "today": a calibrated projection starts on its extract
    date)."""
    data = {"values": [{"when": _epoch_ms(when), "text": text}]}
    x = {"field": "when", "type": "temporal"}
    return [
        {"data": data, "mark": {"type": "rule", "color": "black", "strokeDash": [6, 4],
                                "strokeWidth": 1.8}, "encoding": {"x": x}},
        {"data": data, "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 5,
                                "dy": 4, "fontSize": FONT, "fontWeight": "bold"},
         "encoding": {"x": x, "y": {"value": 0}, "text": {"field": "text"}}},
    ]


def _month_x(title: str = MONTH_AXIS) -> Spec:
    return {"field": "when", "type": "temporal", "title": title,
            "axis": {"format": "%b %Y", "labelAngle": 0, "tickCount": 8}}


def _today(today: str) -> pd.Timestamp:
    return pd.Timestamp(today if len(str(today)) > 7 else f"{today}-01")


# -------------------------------------------------------------------------------------------------
# The waiting list: a fan of percentile bands


def fan_frame(timeseries: pd.DataFrame, metric: str, scenarios: Sequence[str]) -> pd.DataFrame:
    """The bands the fan chart draws: ``scenario, month, when, p5 .. p95`` (``when``: the
    month's place on the time axis, as :func:`model.plots.month_positions` puts it)."""
    frames = []
    for name in scenarios:
        rows = timeseries[(timeseries["scenario"] == name) & (timeseries["metric"] == metric)]
        rows = rows.sort_values("month")
        frames.append(pd.DataFrame({
            "scenario": name, "month": rows["month"].astype(str).to_numpy(),
            "when": month_positions(rows["month"], metric),
            **{p: rows[p].to_numpy(dtype=float) for p in ("p5", "p25", "p50", "p75", "p95")}}))
    return pd.concat(frames, ignore_index=True)


def fan_chart(timeseries: pd.DataFrame, metric: str, scenarios: Sequence[str], today: str,
              today_label: str) -> Chart:
    """A monthly series as a fan, as :func:`model.plots.fan_chart` draws it: per scenario the
    median line and the p25-p75 and p5-p95 bands across replications, and the dashed
    start-of-projection line."""
    data = fan_frame(timeseries, metric, scenarios)
    if data.empty:
        raise ValueError(f"no monthly series named {metric!r} in the timeseries")
    x = _month_x()
    color = {"field": "scenario", "type": "nominal", "title": FAN_LEGEND,
             "scale": _scenario_scale(scenarios), "sort": list(scenarios),
             "legend": {"columns": legend_columns(scenarios)}}
    y = {"field": "p50", "type": "quantitative", "title": label(metric),
         "scale": {"zero": True}, "axis": {"format": ",.0f"}}
    tooltip = [{"field": "scenario", "title": "Scenario"}, {"field": "month", "title": "Month"},
               {"field": "p50", "title": "Middle projection", "format": ",.0f"},
               {"field": "p25", "title": "1 in 2 projections from", "format": ",.0f"},
               {"field": "p75", "title": "1 in 2 projections to", "format": ",.0f"},
               {"field": "p5", "title": "9 in 10 projections from", "format": ",.0f"},
               {"field": "p95", "title": "9 in 10 projections to", "format": ",.0f"}]
    layers = [
        {"mark": {"type": "area", "opacity": 0.15},
         "encoding": {"x": x, "y": y | {"field": "p5"}, "y2": {"field": "p95"}, "color": color}},
        {"mark": {"type": "area", "opacity": 0.35},
         "encoding": {"x": x, "y": y | {"field": "p25"}, "y2": {"field": "p75"}, "color": color}},
        {"mark": {"type": "line", "strokeWidth": 3},
         "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip}},
        *_start_line(_today(today), today_label),
    ]
    spec = {"title": _title(label(metric)), "height": HEIGHT, "layer": layers,
            "config": CONFIG, "autosize": AUTOSIZE}
    return Chart(data, spec, f"{label(metric)}, month by month: the middle projection and the "
                             "1 in 2 and 9 in 10 bands, per scenario")


def list_chart(results: Mapping[str, ExperimentResult], today: str) -> Chart:
    """Children on the diagnostic list month by month, with 50% and 90% bands, per scenario
    (the on-screen twin of :func:`app.figures.list_chart`)."""
    from .figures import combined_timeseries

    first = next(iter(results.values())).scenario
    return fan_chart(combined_timeseries(results), "waiting_list", list(results), today,
                     core.start_line_label(first))


# -------------------------------------------------------------------------------------------------
# Waits of the children still waiting


def wait_frame(results: Mapping[str, ExperimentResult]) -> pd.DataFrame:
    """The bars of the wait chart: per scenario and wait, the mean over replications of the
    list-based wait at the end and its 95% interval (:func:`model.metrics.mean_ci`, as
    :func:`model.plots.wait_distribution` draws runs without event logs)."""
    rows = []
    for name, result in results.items():
        frame = result.per_replication
        for metric, words in zip(WAIT_METRICS, WAIT_WORDS):
            mean, low, high, _ = (mean_ci(frame[metric].to_numpy()) if metric in frame
                                  else (math.nan, math.nan, math.nan, 0))
            shown = math.isfinite(mean)
            rows.append({"scenario": name, "wait": words, "metric": metric,
                         "mean": mean if shown else 0.0,
                         "ci_low": low if math.isfinite(low) else None,
                         "ci_high": high if math.isfinite(high) else None,
                         "top": high if math.isfinite(high) else (mean if shown else 0.0),
                         "text": f"{mean:.0f}" if shown else "nobody waiting"})
    return pd.DataFrame(rows)


def wait_chart(results: Mapping[str, ExperimentResult]) -> Chart:
    """How long the children still waiting at the end have waited, for each scenario: the
    median and 92nd percentile of the time waited, each the mean over replications with its
    95% interval, the mean written above each bar."""
    data = wait_frame(results)
    names = list(results)
    x = {"field": "wait", "type": "nominal", "sort": list(WAIT_WORDS),
         "title": "Children on the diagnostic list at the end; whiskers: 95% interval",
         "axis": {"labelAngle": 0, "labelLimit": 400}}
    offset = {"field": "scenario", "type": "nominal", "sort": names}
    y = {"type": "quantitative", "title": "Weeks waited so far"}
    color = {"field": "scenario", "type": "nominal", "scale": _scenario_scale(names),
             "title": None, "sort": names, "legend": _scenario_legend(names)}
    layers = [
        {"mark": {"type": "bar"},
         "encoding": {"x": x, "xOffset": offset, "y": y | {"field": "mean"}, "color": color,
                      "tooltip": [{"field": "scenario", "title": "Scenario"},
                                  {"field": "wait", "title": "Wait"},
                                  {"field": "mean", "title": "Weeks (average)", "format": ".1f"},
                                  {"field": "ci_low", "title": "95% interval from",
                                   "format": ".1f"},
                                  {"field": "ci_high", "title": "95% interval to",
                                   "format": ".1f"}]}},
        {"mark": {"type": "errorbar", "ticks": {"size": 16}, "color": "black", "thickness": 2},
         "encoding": {"x": x, "xOffset": offset, "y": y | {"field": "ci_low"},
                      "y2": {"field": "ci_high"}}},
        {"mark": {"type": "text", "baseline": "bottom", "dy": -6, "fontSize": FONT},
         "encoding": {"x": x, "xOffset": offset, "y": y | {"field": "top"},
                      "text": {"field": "text"}}},
    ]
    spec = {"title": _title("How long the children still waiting have waited"),
            "height": HEIGHT, "layer": layers, "config": CONFIG, "autosize": AUTOSIZE}
    return Chart(data, spec, "How long the children still waiting at the end have waited: "
                             "half have waited at least, and 1 in 12 at least, per scenario")


def bands_frame(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The stacked bands: per month and wait band the median across replications of the
    number in it (``month, when, band, order, children``), as :func:`model.plots.wait_bands`
    stacks them."""
    names = [name for name, _, _ in WAIT_BANDS]
    rows = timeseries[timeseries["metric"].isin(names)]
    if rows.empty:
        raise ValueError("no wait-band series (list_wait_*) in the timeseries")
    wide = rows.pivot(index="month", columns="metric", values="p50").reindex(columns=names)
    wide = wide.sort_index().fillna(0.0)
    when = month_positions(wide.index.to_series(), names[0])
    return pd.concat([pd.DataFrame({"month": wide.index.astype(str), "when": when,
                                    "band": label(n), "order": k,
                                    "children": wide[n].to_numpy(dtype=float)})
                      for k, n in enumerate(names)], ignore_index=True)


def bands_chart(result: ExperimentResult, today: str) -> Chart:
    """The diagnostic list month by month, stacked by how long children have waited, the
    shortest wait at the bottom (the on-screen twin of :func:`app.figures.bands_chart`)."""
    data = bands_frame(result.timeseries)
    bands = [label(n) for n, _, _ in WAIT_BANDS]
    area = {"mark": {"type": "area", "opacity": 0.9},
            "encoding": {
                "x": _month_x(),
                "y": {"field": "children", "type": "quantitative", "stack": "zero",
                      "title": "Children on the diagnostic list (middle projection)",
                      "axis": {"format": ",.0f"}},
                "color": {"field": "band", "type": "nominal", "sort": bands,
                          "title": "How long they have waited",
                          "scale": {"domain": bands, "range": list(BAND_COLOURS)}},
                "order": {"field": "order", "type": "quantitative", "sort": "ascending"},
                "tooltip": [{"field": "month", "title": "Month"},
                            {"field": "band", "title": "Waited"},
                            {"field": "children", "title": "Children (middle projection)",
                             "format": ",.0f"}]}}
    spec = {"title": _title(WAIT_BANDS_TITLE),
            "height": HEIGHT,
            "layer": [area, *_start_line(_today(today), core.start_line_label(result.scenario))],
            "config": CONFIG, "autosize": AUTOSIZE}
    return Chart(data, spec, "Children on the diagnostic list month by month, by how long "
                             "they have waited")


# -------------------------------------------------------------------------------------------------
# Paired differences


def differences_frame(differences: pd.DataFrame, metrics: Sequence[str], scenario: Scenario
                      ) -> tuple[pd.DataFrame, list[str]]:
    """The rows of the differences chart, as :func:`model.plots.differences_chart` computes
    them: each change as a % of the baseline mean with its 95% interval, and the change in the
    metric's own units in words; and the metrics not shown (their baseline zero or undefined).
    Each row is titled as its card is, a total over the projection with the period of the
    ``scenario`` run ("Total cost, 60 months": :func:`app.core.card_label`)."""
    frame = differences[differences["metric"].isin(list(metrics))]
    ok = np.isfinite(frame["baseline"]) & (frame["baseline"].abs() > 1e-9) & np.isfinite(
        frame["difference"])
    skipped = sorted(set(frame.loc[~ok, "metric"]) - set(frame.loc[ok, "metric"]))
    frame = frame[ok]
    order = {m: k for k, m in enumerate(metrics)}
    frame = frame.assign(_order=frame["metric"].map(order)).sort_values("_order", kind="stable")
    scale = 100.0 / frame["baseline"].abs().to_numpy()
    mid = frame["difference"].to_numpy() * scale
    low = np.where(np.isfinite(frame["ci_low"]), frame["ci_low"] * scale, mid)
    high = np.where(np.isfinite(frame["ci_high"]), frame["ci_high"] * scale, mid)
    data = pd.DataFrame({
        "metric": frame["metric"].to_numpy(),
        "measure": [core.card_label(m, scenario) for m in frame["metric"]],
        "pct": mid, "pct_low": low, "pct_high": high,
        "words": [fmt_change_interval(m, d, lo, hi) for m, d, lo, hi in
                  zip(frame["metric"], frame["difference"], frame["ci_low"], frame["ci_high"])]})
    return data, skipped


WORDS_FONT = FONT - 1
"""Points: the change's words right of the differences chart."""


def differences_chart(differences: pd.DataFrame, metrics: Sequence[str],
                      scenario: Scenario) -> Chart:
    """Paired differences of the headline measures against the starting scenario, each as a %
    of its value with its 95% interval, and the change in the measure's own units beside it
    ("+£1.40m", "-0.38 weeks (-0.53 to -0.23)", "+1.2 points (+0.8 to +1.6)") in a column of
    its own, as wide as its longest words. A total's row says the period of the ``scenario``
    run, as its card does ("Crises while waiting, 60 months").

    The words are a text mark right of the plot, so the chart's automatic size (``AUTOSIZE``)
    counts them: the plot takes what the names and the words leave. The padding is only a
    margin: room for the words reserved there as well would be counted twice and squeeze the
    plot (at 1024 wide, to a sliver with its dots against their words)."""
    data, skipped = differences_frame(differences, metrics, scenario)
    measures = list(data["measure"])
    rows = max(len(measures), 1)
    xtitle = ["Change (% of the starting value)", "dot: average; bar: 95% interval"]
    subtitle = ["The change in each measure's own unit on the right (£, weeks, points or a "
                "count), with its 95% interval."]
    if skipped:  # listed, not dropped silently (as model.plots does)
        subtitle.append("Not shown (its starting value is zero or undefined): "
                        + "; ".join(core.card_label(m, scenario) for m in skipped) + ".")
    extent = float(np.nanmax(np.abs(data[["pct_low", "pct_high"]].to_numpy()))) if len(data) \
        else math.nan
    extent = extent * 1.1 if math.isfinite(extent) and extent > 0 else 1.0
    y = {"field": "measure", "type": "nominal", "sort": measures, "title": None,
         "axis": {"labelLimit": 260}}
    x = {"type": "quantitative", "title": xtitle, "scale": {"domain": [-extent, extent]}}
    tooltip = [{"field": "measure", "title": "Measure"},
               {"field": "words", "title": "Change (95% interval)"},
               {"field": "pct", "title": "% of the starting value", "format": "+.1f"}]
    layers = [
        {"data": {"values": [{"zero": 0.0}]}, "mark": {"type": "rule", "color": "black"},
         "encoding": {"x": x | {"field": "zero"}}},
        {"mark": {"type": "rule", "strokeWidth": 2.5, "color": PALETTE[0]},
         "encoding": {"y": y, "x": x | {"field": "pct_low"}, "x2": {"field": "pct_high"}}},
        {"mark": {"type": "point", "filled": True, "size": 110, "color": PALETTE[0],
                  "opacity": 1},
         "encoding": {"y": y, "x": x | {"field": "pct"}, "tooltip": tooltip}},
        # the change in the measure's own units, right of the plot (as model.plots writes it)
        {"mark": {"type": "text", "align": "left", "dx": 10, "fontSize": WORDS_FONT,
                  "color": PALETTE[0]},
         "encoding": {"y": y, "x": {"value": {"expr": "width"}}, "text": {"field": "words"}}},
    ]
    spec = {"title": _title("What changes against the starting scenario", subtitle),
            "height": 40 * rows, "padding": {"right": 12, "left": 5, "top": 5, "bottom": 5},
            "layer": layers, "config": CONFIG, "autosize": AUTOSIZE}
    return Chart(data, spec, "Change of each headline measure against the starting scenario, "
                             "with its 95% interval")


# -------------------------------------------------------------------------------------------------
# Who benefits?


def who_benefits_frame(tables: Mapping[str, pd.DataFrame], variable: str,
                       metric: str) -> pd.DataFrame:
    """The bars by group of each scenario (``scenario, group, mean, ci_low, ci_high, shown``)
    from :func:`model.equity.equity_table` tables, as :func:`app.equity.who_benefits_chart`
    draws them; suppressed groups are kept, with ``shown`` false and no numbers."""
    groups: list[str] = []
    for table in tables.values():
        for g in table[table["variable"] == variable]["group"]:
            if g not in groups:
                groups.append(g)
    rows = []
    for name, table in tables.items():
        sub = table[(table["variable"] == variable) & (table["metric"] == metric)].set_index(
            "group")
        for g in groups:
            mean = float(sub["mean"].get(g, math.nan))
            low = float(sub["ci_low"].get(g, math.nan))
            high = float(sub["ci_high"].get(g, math.nan))
            shown = math.isfinite(mean)
            rows.append({"scenario": name, "group": str(g), "mean": mean if shown else None,
                         "ci_low": (low if math.isfinite(low) else mean) if shown else None,
                         "ci_high": (high if math.isfinite(high) else mean) if shown else None,
                         "shown": shown, "text": "" if shown else "n/s"})
    return pd.DataFrame(rows)


def who_benefits_chart(tables: Mapping[str, pd.DataFrame], variable: str, metric: str,
                       scenario: Scenario | None = None) -> Chart:
    """Bars by group for each scenario with 95% intervals, suppressed groups marked "n/s"; a
    total over the projection says the period of the ``scenario`` run in its title and axis
    (:func:`app.core.period_label`, :func:`app.core.card_label`)."""
    data = who_benefits_frame(tables, variable, metric)
    names = list(tables)
    groups = list(dict.fromkeys(data["group"]))
    short = SHORT_LABELS.get(metric, label(metric))
    ytitle = core.card_label(metric, scenario, short) if scenario is not None else short
    title = core.period_label(metric, scenario)
    x = {"field": "group", "type": "nominal", "sort": groups,
         "title": VARIABLE_LABELS.get(variable, variable),
         "axis": {"labelAngle": 0, "labelLimit": 200}}
    offset = {"field": "scenario", "type": "nominal", "sort": names}
    y = {"type": "quantitative", "title": ytitle}
    color = {"field": "scenario", "type": "nominal", "scale": _scenario_scale(names),
             "title": None, "sort": names, "legend": _scenario_legend(names)}
    shown = {"filter": "datum.shown"}
    layers = [
        {"transform": [shown], "mark": {"type": "bar"},
         "encoding": {"x": x, "xOffset": offset, "y": y | {"field": "mean"}, "color": color,
                      "tooltip": [{"field": "scenario", "title": "Scenario"},
                                  {"field": "group", "title": "Group"},
                                  {"field": "mean", "title": "Average", "format": ",.1f"},
                                  {"field": "ci_low", "title": "95% interval from",
                                   "format": ",.1f"},
                                  {"field": "ci_high", "title": "95% interval to",
                                   "format": ",.1f"}]}},
        {"transform": [shown],
         "mark": {"type": "errorbar", "ticks": {"size": 10}, "color": "#333333"},
         "encoding": {"x": x, "xOffset": offset, "y": y | {"field": "ci_low"},
                      "y2": {"field": "ci_high"}}},
        {"transform": [{"filter": "!datum.shown"}],
         "mark": {"type": "text", "baseline": "bottom", "dy": -2, "fontSize": FONT - 2,
                  "color": "#555555"},
         "encoding": {"x": x, "xOffset": offset, "y": {"value": {"expr": "height"}},
                      "text": {"field": "text"}}},
    ]
    # in lines: a title cannot wrap, and one line cut the period off at 1024 wide ("over the
    # 36 mo…")
    lines = textwrap.wrap(title, TITLE_CHARS, break_on_hyphens=False)
    spec = {"title": _title(lines, "Bars: average over replications; lines: 95% "
                                   "interval; n/s: not shown (fewer than 5 children)."),
            "height": HEIGHT - 40, "layer": layers, "config": CONFIG,
            "autosize": AUTOSIZE}
    return Chart(data, spec, f"{title} by group, per scenario, with 95% intervals")


__all__ = ["Chart", "draw", "list_chart", "fan_chart", "wait_chart", "bands_chart",
           "differences_chart", "who_benefits_chart", "fan_frame", "wait_frame", "bands_frame",
           "differences_frame", "who_benefits_frame"]
