"""The shared charts: they draw what the frames say, with their uncertainty, and no pyplot state."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.dates import num2date
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from model import plots
from model.experiment import ExperimentResult, compare, run_replications
from model.labels import label
from model.metrics import WAIT_BANDS
from model.scenario import Scenario


def _scenario(wte: float = 2.0) -> Scenario:
    return Scenario().replace({
        "simulation.horizon_months": 6,
        "backlog.count": 150,
        "arrivals.referrals_per_month": 60.0,
        "assessment.professions": [{"name": "clinician", "wte": wte, "job_plan_share": 1.0}],
    })


@pytest.fixture(scope="module")
def runs() -> dict[str, ExperimentResult]:
    return {
        "Status quo": run_replications(_scenario(2.0), 3, seed=5, executor="serial", keep_logs=True),
        "More staff": run_replications(_scenario(4.0), 3, seed=5, executor="serial", keep_logs=True),
    }


def _date(value: object) -> pd.Timestamp:
    """A plotted x value as a timestamp (matplotlib keeps dates or day numbers)."""
    if isinstance(value, (float, np.floating)):
        return pd.Timestamp(num2date(value)).tz_localize(None)
    return pd.Timestamp(value)  # type: ignore[arg-type]


def _first_x(line: Line2D) -> pd.Timestamp:
    return _date(np.asarray(line.get_xdata(), dtype=object)[0])


def _ys(poly: PolyCollection) -> np.ndarray:
    return np.asarray(poly.get_paths()[0].vertices)[:, 1]


def _fills(figure: Figure) -> list[PolyCollection]:
    return [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]


def test_fan_chart_draws_bands_median_and_today(runs: dict[str, ExperimentResult]) -> None:
    ts = runs["Status quo"].timeseries
    figure = plots.fan_chart(ts)
    ax = figure.axes[0]
    assert isinstance(figure, Figure)
    assert len(_fills(figure)) == 2  # p5-p95 and p25-p75
    median, today = ax.lines  # the median line, then the dashed today line
    rows = ts[ts["metric"] == "waiting_list"]
    assert np.allclose(median.get_ydata(), rows["p50"].to_numpy())
    # list sizes are month-end values: January's sits on 1 February; today is 1 January
    first = _first_x(median)
    assert (first.year, first.month, first.day) == (2026, 2, 1)
    when = _first_x(today)
    assert (when.year, when.month, when.day) == (2026, 1, 1)
    assert label("waiting_list") in ax.get_title(loc="left")


def test_fan_chart_bands_enclose_the_median(runs: dict[str, ExperimentResult]) -> None:
    figure = plots.fan_chart(runs["Status quo"].timeseries, "referrals")
    outer, inner = _fills(figure)
    median = np.asarray(figure.axes[0].lines[0].get_ydata(), dtype=float)
    assert _ys(outer).min() <= np.min(median) and np.max(median) <= _ys(outer).max()
    # flows sit mid-month
    x = _first_x(figure.axes[0].lines[0])
    assert (x.month, x.day) == (1, 15)


def test_fan_chart_overlays_scenarios(runs: dict[str, ExperimentResult]) -> None:
    as_dict = plots.fan_chart(scenarios={n: r.timeseries for n, r in runs.items()}, today="2026-03")
    assert len(_fills(as_dict)) == 4 and len(as_dict.axes[0].lines) == 3
    when = _first_x(as_dict.axes[0].lines[-1])
    assert (when.month, when.day) == (3, 1)
    stacked = pd.concat([r.timeseries.assign(scenario=n) for n, r in runs.items()])
    one = plots.fan_chart(stacked, "waiting_list", scenarios=["More staff"])
    assert len(_fills(one)) == 2
    more = stacked[(stacked["scenario"] == "More staff") & (stacked["metric"] == "waiting_list")]
    assert np.allclose(one.axes[0].lines[0].get_ydata(), more["p50"].to_numpy())


LONG_NAMES = ("Status quo (illustrative Leeds-sized service)",
              "ADHD follow-up on the same paediatricians", "Combined package",
              "Needs-led profiling front door", "Prioritise vulnerable children",
              "More support while waiting")
"""Compare's first three scenarios, then more of the shipped ones (Compare takes up to six)."""


@pytest.mark.parametrize("count", [2, 3, 4, 6])
def test_a_legend_of_long_scenario_names_fits_the_figure(runs: dict[str, ExperimentResult],
                                                         count: int) -> None:
    """Under the list's fan chart, every scenario's name is whole inside the figure, as a page
    of the pack drawn at its own size keeps it (three names in one row ran past both edges:
    "Combined package" was cut); short names still share one row."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    timeseries = runs["Status quo"].timeseries
    names = LONG_NAMES[:count]
    figure = plots.fan_chart(scenarios={n: timeseries for n in names})
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    legend = figure.legends[0]
    texts = [t.get_window_extent(canvas.get_renderer()) for t in legend.get_texts()]
    assert [t.get_text() for t in legend.get_texts()] == list(names)
    assert all(box.x0 >= 0 and box.x1 <= figure.bbox.x1 for box in texts)
    short = plots.fan_chart(scenarios={n: timeseries for n in ("A", "B", "C")})
    FigureCanvasAgg(short).draw()
    assert len({round(t.get_window_extent().y0) for t in short.legends[0].get_texts()}) == 1

def test_fan_chart_unknown_metric_is_an_error(runs: dict[str, ExperimentResult]) -> None:
    with pytest.raises(ValueError, match="no_such_metric"):
        plots.fan_chart(runs["Status quo"].timeseries, "no_such_metric")


def test_wait_distribution_bars_show_means_over_replications(runs: dict[str, ExperimentResult]) -> None:
    figure = plots.wait_distribution(runs["Status quo"].per_replication)
    bars = [c for c in figure.axes[0].containers if isinstance(c, BarContainer)]
    assert len(bars) == 1 and len(bars[0].patches) == 2  # median and 92nd percentile waited
    per_rep = runs["Status quo"].per_replication
    expected = [per_rep[m].mean() for m in plots.WAIT_METRICS]
    assert np.allclose([p.get_height() for p in bars[0].patches], expected)
    stacked = pd.concat([r.per_replication.assign(scenario=n) for n, r in runs.items()])
    two = plots.wait_distribution(stacked)
    assert len([c for c in two.axes[0].containers if isinstance(c, BarContainer)]) == 2


def test_wait_distribution_from_logs_is_the_histogram_of_waits(runs: dict[str, ExperimentResult]) -> None:
    result = runs["Status quo"]
    waits = plots.waits_from_logs(result)
    per_rep = result.per_replication
    # pooled waits are exactly the children behind the list-based wait metrics: those on the
    # diagnostic list at the end, with the time they have waited so far
    assert len(waits) == per_rep["waiting_list_end"].sum()
    over_year = (per_rep["pct_waiting_over_52w_end"] * per_rep["waiting_list_end"]).sum() / 100
    assert (waits >= 52).sum() == pytest.approx(over_year)
    if len(result.logs) == 1:
        assert np.median(waits) == pytest.approx(per_rep["list_wait_weeks_p50_end"].iloc[0])
    figure = plots.wait_distribution(result)
    assert figure.axes[0].get_xlabel().startswith("Weeks waited")
    # one filled step patch whose bins hold 100% of the children
    heights = np.histogram(waits, bins=np.arange(0, 13 * (np.floor(waits.max() / 13) + 2), 13),
                           weights=np.full(len(waits), 100 / len(waits)))[0]
    assert heights.sum() == pytest.approx(100.0)
    assert len(figure.axes[0].patches) == 1


def test_wait_distribution_without_logs_falls_back_to_bars(runs: dict[str, ExperimentResult]) -> None:
    no_logs = run_replications(_scenario(), 2, seed=5, executor="serial")
    figure = plots.wait_distribution(no_logs)
    assert sum(isinstance(c, BarContainer) for c in figure.axes[0].containers) == 1
    with pytest.raises(ValueError, match="keep_logs"):
        plots.waits_from_logs(no_logs)


def test_wait_bands_stack_the_four_medians(runs: dict[str, ExperimentResult]) -> None:
    ts = runs["Status quo"].timeseries
    figure = plots.wait_bands(ts)
    assert len(_fills(figure)) == 4
    names = [n for n, _, _ in WAIT_BANDS]
    top = _ys(_fills(figure)[-1]).max()
    totals = ts[ts["metric"].isin(names)].groupby("month")["p50"].sum()
    assert top == pytest.approx(totals.max())
    legend = figure.axes[0].get_legend()
    assert legend is not None
    assert sorted(t.get_text() for t in legend.get_texts()) == sorted(label(n) for n in names)
    # the bands count the diagnostic list only: its title and axis say so, as the app's chart
    title = figure.axes[0].get_title(loc="left").replace("\n", " ")
    assert title.startswith("Children on the diagnostic list")
    assert "on the list" in figure.axes[0].get_ylabel().replace("\n", " ")
    from app import charts

    spec = charts.bands_chart(runs["Status quo"], "2026-01").spec
    text = spec["title"]["text"] if isinstance(spec["title"], dict) else spec["title"]
    said = " ".join(text) if isinstance(text, list) else str(text)
    assert said.startswith("Children on the diagnostic list")


def test_differences_chart_one_marker_per_metric_and_comparison(runs: dict[str, ExperimentResult]) -> None:
    diff = compare(runs["Status quo"], runs["More staff"])
    metrics = ["waiting_list_end", "assessments_completed", "escalations"]
    figure = plots.differences_chart(diff, metrics)
    ax = figure.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1
    x = bars[0].lines[0].get_xdata()
    rows = diff.set_index("metric").loc[metrics]
    assert np.allclose(x, 100 * rows["difference"] / rows["baseline"].abs())
    # long names wrap onto more lines, the words unchanged
    assert [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()] == [
        label(m) for m in metrics]
    two = pd.concat([diff.assign(comparison="A"), diff.assign(comparison="B")])
    assert sum(isinstance(c, ErrorbarContainer) for c in plots.differences_chart(two, metrics).axes[0].containers) == 2


def test_differences_chart_lists_what_it_cannot_show() -> None:
    frame = pd.DataFrame({"metric": ["waiting_list_end", "pct_referrals_assessed_within_13w"],
                          "baseline": [100.0, 0.0], "scenario": [90.0, 5.0],
                          "difference": [-10.0, 5.0], "ci_low": [-12.0, 4.0],
                          "ci_high": [-8.0, 6.0], "n": [3, 3]})
    figure = plots.differences_chart(frame)
    ax = figure.axes[0]
    assert [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()] == [
        label("waiting_list_end")]
    assert "Not shown (baseline is zero or undefined): Of all new referrals" in ax.get_xlabel()


HEADLINE_DIFFERENCES = pd.DataFrame({
    "metric": ["waiting_total_end", "list_wait_weeks_p50_end", "pct_referrals_assessed_within_13w",
               "escalations", "cost_total"],
    "baseline": [12_800.0, 95.0, 4.0, 900.0, 5_300_000.0],
    "scenario": [12_759.0, 94.6, 5.2, 895.5, 6_699_721.0],
    "difference": [-41.0, -0.38, 1.2, -4.5, 1_399_721.0],
    "ci_low": [-58.5, -0.53, 0.8, -9.27, 1_399_619.0],
    "ci_high": [-23.5, -0.23, 1.6, 0.27, 1_399_948.0],
    "n": [10] * 5})
"""Paired differences as +2 paediatrician WTE gives them, one measure of each unit."""
UNITS_SAID = ["-41.0 (-58.5 to -23.5)", "-0.38 weeks (-0.53 to -0.23)",
              "+1.2 points (+0.8 to +1.6)", "-4.50 (-9.27 to +0.27)", "+£1.40m"]


def _boxes(figure: Figure, texts: list) -> list:  # type: ignore[type-arg]
    renderer = figure.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in texts if t.get_text()]


@pytest.mark.parametrize("short_labels", [True, False])
@pytest.mark.parametrize("comparisons", [1, 2])
def test_differences_chart_says_each_change_in_its_unit_clear_of_the_plot(short_labels: bool,
                                                                          comparisons: int) -> None:
    """"+£1.40m", not "+1,399,721"; weeks and points named; and the words sit in their own
    column: right of the plot (clear of the dots and of the names), inside the figure (kept
    without cropping), never over one another."""
    frame = HEADLINE_DIFFERENCES if comparisons == 1 else pd.concat(
        [HEADLINE_DIFFERENCES.assign(comparison=name) for name in ("A", "Scenario B")])
    figure = plots.differences_chart(frame, list(HEADLINE_DIFFERENCES["metric"]),
                                     short_labels=short_labels)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()  # laid out and drawn as a saved PNG is
    ax, side = figure.axes[:2]
    words = [t for t in side.texts]
    assert [t.get_text() for t in words] == UNITS_SAID * comparisons
    names = _boxes(figure, ax.get_yticklabels())
    said = _boxes(figure, words)
    plot = ax.get_window_extent(figure.canvas.get_renderer())
    edge = figure.bbox
    assert all(b.x0 >= plot.x1 for b in said)  # right of the plot and its dots
    assert all(b.x1 <= plot.x0 for b in names)  # the names left of it
    assert all(b.x1 <= edge.x1 and b.x0 >= edge.x0 for b in said + names)
    for i, a in enumerate(said):
        assert not any(a.overlaps(b) for b in said[i + 1:])


def test_differences_chart_rows_titled_with_their_period_do_not_overlap() -> None:
    """A full label with its period ("Total cost (£) over the 24 months to December 2027:
    whole staff posts ...", as the command line titles a total) wraps onto four lines: each row
    is tall enough that no title runs into the next (half a line between them at least)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from model.labels import period_label

    scenario = Scenario().replace({"simulation.horizon_months": 24})
    metrics = list(plots.DIFFERENCE_METRICS)  # what ndpath compare draws
    frame = pd.DataFrame({"metric": metrics, "baseline": 100.0, "scenario": 90.0,
                          "difference": -10.0, "ci_low": -12.0, "ci_high": -8.0, "n": 4})
    # as in a status quo that assesses nobody within 13 weeks: two rows listed under the chart
    frame.loc[frame["metric"].isin(["pct_referrals_assessed_within_13w",
                                    "time_to_first_support_weeks_p50"]), "baseline"] = 0.0
    figure = plots.differences_chart(frame, labels={m: period_label(m, scenario) for m in metrics})
    FigureCanvasAgg(figure).draw()
    titles = figure.axes[0].get_yticklabels()
    assert max(t.get_text().count("\n") for t in titles) >= 3  # four lines or more
    names = _boxes(figure, titles)  # top to bottom
    space = 6 * figure.dpi / 72  # 6 points, half a line, between one title and the next
    for i, (above, below) in enumerate(zip(names, names[1:])):
        assert above.y0 - below.y1 >= space, titles[i].get_text()


def test_scenario_bars_show_means(runs: dict[str, ExperimentResult]) -> None:
    stacked = pd.concat([r.per_replication.assign(scenario=n) for n, r in runs.items()])
    figure = plots.scenario_bars(stacked, "waiting_list_end")
    widths = [p.get_width() for p in figure.axes[0].patches if isinstance(p, Rectangle)]
    assert np.allclose(widths, [r.per_replication["waiting_list_end"].mean() for r in runs.values()])
    # a cost's bar says its money as every table does ("£1.40m"), not "1,399,721"
    from model.labels import fmt_money

    costs = plots.scenario_bars(stacked, "cost_total")
    said = [t.get_text().strip() for t in costs.axes[0].texts if t.get_text().startswith("  ")]
    assert said == [fmt_money(r.per_replication["cost_total"].mean()) for r in runs.values()]


def test_no_pyplot_figures_are_left_open(runs: dict[str, ExperimentResult]) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.fan_chart(runs["Status quo"].timeseries)
    plots.wait_bands(runs["Status quo"].timeseries)
    plots.wait_distribution(runs)
    assert plt.get_fignums() == before


def test_a_bar_s_number_sits_beyond_its_whisker_and_the_whisker_stays_above_zero() -> None:
    """The support slide's numbers were drawn over the error whiskers; and a whisker of a share
    from few, spread projections ran below zero."""
    frame = pd.concat([pd.DataFrame({"scenario": "A", "pct_supported_within_13w": [1.0, 30.0, 2.0]}),
                       pd.DataFrame({"scenario": "B", "pct_supported_within_13w": [50.0, 52.0, 48.0]})])
    figure = plots.scenario_bars(frame, "pct_supported_within_13w")
    ax = figure.axes[0]
    ends = []
    for container in ax.containers:
        if isinstance(container, BarContainer) and container.errorbar is not None:
            segments = container.errorbar.lines[2][0].get_segments()
            ends = [(seg[:, 0].min(), seg[:, 0].max()) for seg in segments]
    assert ends and all(low >= 0 for low, _ in ends)  # cut at zero, as the tables are
    said = [t for t in ax.texts if t.get_text().startswith("  ")]
    assert len(said) == 2
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    to_data = ax.transData.inverted()
    for text, (_, high) in zip(said, ends):
        left = to_data.transform(text.get_window_extent(renderer))[0][0]
        assert left >= high - 1e-9  # the number starts where the whisker ends
        assert text.get_window_extent(renderer).x1 <= ax.get_window_extent(renderer).x1 + 1
