"""The app's on-screen charts (Vega-Lite, drawn by the browser) show the numbers the matplotlib
figures of the downloads and the pack show: the same bands, intervals and differences; and each
description is valid Vega-Lite."""

from __future__ import annotations

import math

import jsonschema
import numpy as np
import pandas as pd
import pytest
from altair.vegalite.v6.schema.core import load_schema

from app import charts, core, equity, figures
from model import plots
from model.experiment import compare, run_replications
from model.labels import label, short_label
from model.metrics import WAIT_BANDS, mean_ci
from model.plots import WAIT_METRICS
from model.scenario import Scenario


@pytest.fixture(scope="module")
def runs():
    """The default and a +2 psychologist WTE edit, 12 months, 3 replications, same seed."""
    base = core.load_shipped("default")[0]
    levers = core.levers_from(base, replications=3).with_changes(horizon_months=12)
    edited = core.apply_levers(base, levers.with_changes(wte=(3.0, 5.0, 2.0)))
    baseline = core.with_run_settings(base, levers)
    results = {"Status quo": run_replications(baseline, executor="serial"),
               "Your scenario": run_replications(edited, executor="serial")}
    return results, compare(results["Status quo"], results["Your scenario"])


@pytest.fixture(scope="module")
def validator():
    schema = load_schema()
    return jsonschema.Draft7Validator(schema)


def every_chart(runs):
    results, differences = runs
    today = core.month_today(results["Status quo"].scenario)
    tables = equity._tables(results)
    return [charts.list_chart(results, today), charts.wait_chart(results),
            charts.bands_chart(results["Your scenario"], today),
            charts.differences_chart(differences, core.HEADLINE_METRICS,
                                     results["Status quo"].scenario),
            charts.who_benefits_chart(tables, "deprivation_quintile", "list_wait_weeks_p50_end"),
            charts.who_benefits_chart({"Status quo": tables["Status quo"]},
                                      "looked_after_or_cin", "escalations")]


def test_every_chart_is_valid_vega_lite_with_a_title_and_words_for_screen_readers(runs,
                                                                                validator):
    for chart in every_chart(runs):
        errors = [e.message for e in validator.iter_errors(chart.spec)]
        assert errors == [], errors[:3]
        assert chart.spec["title"]["text"] and chart.alt
        assert not chart.data.empty


def test_the_fan_draws_the_percentile_bands_of_every_scenario(runs):
    results, _ = runs
    chart = charts.list_chart(results, "2026-01")
    for name, result in results.items():
        drawn = chart.data[chart.data["scenario"] == name].reset_index(drop=True)
        bands = result.timeseries
        bands = bands[bands["metric"] == "waiting_list"].sort_values("month").reset_index(
            drop=True)
        for p in ("p5", "p25", "p50", "p75", "p95"):
            np.testing.assert_array_equal(drawn[p].to_numpy(), bands[p].to_numpy())
        assert list(drawn["month"]) == list(bands["month"].astype(str))
    # the y axis says what is counted; colours follow the palette, scenario by scenario
    line = chart.spec["layer"][2]["encoding"]
    assert line["y"]["title"] == core.label("waiting_list")
    assert line["color"]["scale"]["domain"] == list(results)


def test_the_wait_bars_are_the_means_and_intervals_of_the_summary(runs):
    results, _ = runs
    drawn = charts.wait_chart(results).data
    for name, result in results.items():
        for metric in WAIT_METRICS:
            row = drawn[(drawn["scenario"] == name) & (drawn["metric"] == metric)].iloc[0]
            mean, low, high, _ = mean_ci(result.per_replication[metric].to_numpy())
            assert (row["mean"], row["ci_low"], row["ci_high"]) == (mean, low, high)
            assert result.metric(metric)["mean"] == mean  # the card's number


def test_the_stacked_bands_are_the_medians_of_each_wait_band(runs):
    results, _ = runs
    result = results["Your scenario"]
    drawn = charts.bands_chart(result, "2026-01").data
    bands = result.timeseries
    for name, _, _ in WAIT_BANDS:
        expected = bands[bands["metric"] == name].sort_values("month")["p50"].to_numpy()
        got = drawn[drawn["band"] == core.label(name)]["children"].to_numpy()
        np.testing.assert_array_equal(got, expected)


def test_the_differences_are_the_paired_differences_as_a_share_of_the_baseline(runs):
    results, differences = runs
    scenario = results["Status quo"].scenario
    chart = charts.differences_chart(differences, core.HEADLINE_METRICS, scenario)
    for row in chart.data.itertuples():
        d = differences.set_index("metric").loc[row.metric]
        assert row.pct == pytest.approx(100 * d["difference"] / abs(d["baseline"]), rel=1e-12)
        assert row.measure == core.card_label(row.metric, scenario)  # titled as its card
    shown = [m for m in core.HEADLINE_METRICS if m in set(chart.data["metric"])]
    assert list(chart.data["metric"]) == shown  # in the cards' order


DIFFERENCES = pd.DataFrame({
    "metric": ["waiting_total_end", "total_wait_weeks_p50_end",
               "pct_referrals_assessed_within_13w", "escalations", "cost_total"],
    "baseline": [12_800.0, 95.0, 4.0, 900.0, 5_300_000.0],
    "scenario": [12_759.0, 94.6, 5.2, 895.5, 6_699_721.0],
    "difference": [-41.0, -0.38, 1.2, -4.5, 1_399_721.0],
    "ci_low": [-58.5, -0.53, 0.8, -9.27, 1_399_619.0],
    "ci_high": [-23.5, -0.23, 1.6, 0.27, 1_399_948.0], "n": [10] * 5})
"""Paired differences of the headline measures, each in its own unit (a compare() frame)."""


def test_the_differences_say_each_change_in_its_own_unit_as_the_png_does(runs):
    """"+£1.40m", not "+1,399,721"; weeks and points named; the browser's chart and the
    download's figure write the same words."""
    frame = DIFFERENCES.copy()
    chart = charts.differences_chart(frame, core.HEADLINE_METRICS, Scenario())
    words = dict(zip(chart.data["metric"], chart.data["words"]))
    assert words == {"waiting_total_end": "-41.0 (-58.5 to -23.5)",
                     "total_wait_weeks_p50_end": "-0.38 weeks (-0.53 to -0.23)",
                     "pct_referrals_assessed_within_13w": "+1.2 points (+0.8 to +1.6)",
                     "escalations": "-4.50 (-9.27 to +0.27)", "cost_total": "+£1.40m"}
    png = figures.differences_chart(frame, Scenario())
    assert [t.get_text() for t in png.axes[1].texts] == list(chart.data["words"])
    # a cost that differs across projections keeps its interval, in pounds
    spread = frame.assign(difference=[-41.0, -0.38, 1.2, -4.5, 60_000.0],
                          ci_low=[-58.5, -0.53, 0.8, -9.27, 40_000.0],
                          ci_high=[-23.5, -0.23, 1.6, 0.27, 80_000.0])
    cost = charts.differences_frame(spread, ["cost_total"], Scenario())[0]["words"].iloc[0]
    assert cost == "+£60.0k (+£40.0k to +£80.0k)"  # three figures, as all money
    # the words are drawn beside the plot with only a margin: the chart's own size counts them
    assert chart.spec["padding"]["right"] <= 20


@pytest.mark.parametrize(("months", "said"), [(36, "36 months"), (60, "60 months"),
                                            (1, "1 month")])
def test_the_differences_chart_says_the_period_of_a_total_as_its_card_does(months, said):
    """"Total cost" and "Crises while waiting" on the chart of changes, beside cards reading
    "Total cost, 60 months", did not say over what: a five-year cost read as a year's. The
    browser's chart and the download's PNG title a total's row as its card does; a count at the
    end, a wait and a share have no period."""
    scenario = Scenario().replace({"simulation.horizon_months": months})
    frame = DIFFERENCES.copy()
    chart = charts.differences_chart(frame, core.HEADLINE_METRICS, scenario)
    titles = dict(zip(chart.data["metric"], chart.data["measure"]))
    assert titles == {"waiting_total_end": "Children waiting",
                      "total_wait_weeks_p50_end": "Waited so far, any stage (median)",
                      "pct_referrals_assessed_within_13w": "Assessed within 13 weeks",
                      "escalations": f"Crises while waiting, {said}",
                      "cost_total": f"Total cost, {said}"}
    assert all(titles[m] == core.card_label(m, scenario) for m in titles)  # the cards' words
    png = figures.differences_chart(frame, scenario)
    ticks = [t.get_text().replace("\n", " ") for t in png.axes[0].get_yticklabels()]
    assert ticks == list(chart.data["measure"])
    # a total that cannot be shown as a % is listed under the chart with its period too
    zero = frame.assign(baseline=[12_800.0, 95.0, 4.0, 0.0, 5_300_000.0])
    subtitle = charts.differences_chart(zero, core.HEADLINE_METRICS, scenario).spec["title"]
    assert f"Crises while waiting, {said}." in subtitle["subtitle"][-1]
    figure = figures.differences_chart(zero, scenario)
    assert f"Crises while waiting, {said}" in figure.axes[0].get_xlabel().replace("\n", " ")


COMPARE_FIRST = ["Status quo (illustrative Leeds-sized service)",
                 "ADHD follow-up on the same paediatricians", "Combined package"]
"""The three scenarios Compare starts with."""


def test_a_legend_of_long_scenario_names_wraps_into_columns_that_fit_at_1024(runs):
    """Compare's three names in one row ran past the Who benefits? chart at 1024 wide ("Combined
    package" cut): they take two columns; short names keep one row; each scenario legend of
    the page's charts says so."""
    assert charts.legend_columns(COMPARE_FIRST) == 2
    assert charts.legend_columns(COMPARE_FIRST[:1] * 6) == 1
    assert charts.legend_columns(["Status quo", "Your scenario", "Extra clinicians"]) == 3
    results, _ = runs
    many = {name: results["Status quo"] for name in COMPARE_FIRST}
    tables = equity._tables(many)
    today = core.month_today(results["Status quo"].scenario)
    for chart in (charts.who_benefits_chart(tables, "looked_after_or_cin", "escalations"),
                  charts.wait_chart(many), charts.list_chart(many, today)):
        legends = [layer["encoding"]["color"]["legend"] for layer in chart.spec["layer"]
                   if "color" in layer.get("encoding", {})]
        assert legends and all(legend == {"columns": 2} for legend in legends), legends


SHARE_CHANGES = pd.DataFrame({
    "metric": ["clinician_utilisation", "utilisation_psychologist",
               "pct_referrals_assessed_within_13w", "pct_waiting_over_52w_end"],
    "baseline": [0.80, 0.97, 4.0, 60.0],
    "scenario": [0.769, 0.84, 5.2, 48.0],
    "difference": [-0.031, -0.13, 1.2, -12.3],
    "ci_low": [-0.05, -0.16, 0.03, -14.6],
    "ci_high": [-0.012, -0.1, 2.44, -9.96],
    "n": [10] * 4})
"""Changes in shares (0 to 1) and percentages: under 10 points, from 10, an end near zero."""


def test_the_chart_and_the_table_write_a_change_in_a_share_the_same_way():
    """The differences chart (the browser's and the PNG's) and the differences table write the
    same change in a share in the same words: "-3.1 points", never "-3.10 %-points" beside
    it; the interval's ends the same numbers too, the chart saying the unit once."""
    words = charts.differences_frame(SHARE_CHANGES, list(SHARE_CHANGES["metric"]), Scenario())[0]
    table = core.differences_table(SHARE_CHANGES)
    png = plots.differences_chart(SHARE_CHANGES, list(SHARE_CHANGES["metric"]))
    assert [t.get_text() for t in png.axes[1].texts] == list(words["words"])
    table = table.set_index("Measure")
    said = dict(zip(words["metric"], words["words"]))
    unit = " points"
    for metric in SHARE_CHANGES["metric"]:
        row = table.loc[label(metric)]
        low, high = row["95% interval of the difference"].split(" to ")
        assert low.endswith(unit) and high.endswith(unit), row
        assert said[metric] == (f"{row['Difference']} ({low.removesuffix(unit)} to "
                                f"{high.removesuffix(unit)})")
    assert [table.loc[label(m), "Difference"] for m in SHARE_CHANGES["metric"]] == [
        "-3.1 points", "-13 points", "+1.2 points", "-12 points"]
    assert said["pct_referrals_assessed_within_13w"] == "+1.2 points (+0.03 to +2.4)"


def test_who_benefits_bars_are_the_disclosure_controlled_table(runs):
    results, _ = runs
    tables = equity._tables(results)
    drawn = charts.who_benefits_chart(tables, "deprivation_quintile",
                                      "list_wait_weeks_p50_end").data
    assert len(drawn) == 10  # five quintiles, two scenarios
    for row in drawn.itertuples():
        table = tables[row.scenario]
        cell = table[(table["variable"] == "deprivation_quintile") & (table["group"] == row.group)
                     & (table["metric"] == "list_wait_weeks_p50_end")].iloc[0]
        if row.shown:
            assert row.mean == cell["mean"]
        else:  # suppressed: no number leaves the table
            assert math.isnan(cell["mean"]) and pd.isna(row.mean)


def test_the_png_download_keeps_the_matplotlib_figures(runs):
    from app.pages import scenario  # noqa: F401 - importing a page must not run it

    results, differences = runs
    made = scenario.scenario_figures(results, "2026-01", results["Your scenario"], differences)
    assert list(made) == ["waiting_list", "waits", "list_by_wait_band", "differences"]
    assert all(type(f).__name__ == "Figure" for f in made.values())
    assert made["waiting_list"].axes[0].get_title() == figures.list_chart(
        results, "2026-01").axes[0].get_title()
