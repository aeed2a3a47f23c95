"""What a new user's trial found, pinned by its consequence: totals say their period, a card's
parts never read bigger than the card, a fan chart marks the number its sentence gives, the
default waits of "Who benefits?" count every stage, a withheld group is said, and the "Clear
change?" cells are short enough for the table to fit a laptop.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.dates import date2num

from app import core, equity, figures, pack
from model.experiment import ExperimentResult, compare, run_replications
from model.labels import label, short_label
from model.scenario import Scenario

NAN = math.nan


def result_of(values: dict[str, list[float]], scenario: Scenario | None = None
              ) -> ExperimentResult:
    """An experiment result with the given per-replication values (no monthly series)."""
    per_rep = pd.DataFrame({"replication": range(len(next(iter(values.values())))), **values})
    monthly = pd.DataFrame(columns=["replication", "month", "metric", "value"])
    return ExperimentResult(scenario or Scenario(), 1, per_rep, monthly)


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


# -------------------------------------------------------------------------------------------------
# 1. Totals over the horizon say their period; a card's parts never exceed it


@pytest.mark.parametrize(("months", "end"), [(60, "December 2030"), (18, "June 2027")])
def test_a_total_over_the_projection_says_its_period_on_the_card_its_help_and_the_tables(
        months: int, end: str) -> None:
    """"Total cost £5.1m" and "Crises while waiting 7,198" did not say over what: a
    commissioner read a five-year cost as a year's."""
    scenario = Scenario().replace({"simulation.horizon_months": months})
    period = f"over the {months} months to {end}"
    values = {m: [10.0, 12.0] for m in core.HEADLINE_METRICS}
    values |= {m: [5.0, 6.0] for m, _ in (*core.WAITING_STAGES, *core.WAITING_OVER_52W_STAGES)}
    base, other = result_of(values, scenario), result_of(
        {m: [v + 3.0 for v in vs] for m, vs in values.items()}, scenario)
    numbers_shown = core.numbers_table({"A": base, "B": other}, core.HEADLINE_METRICS)
    differences = core.differences_table(compare(base, other), "A", "B", scenario)
    for metric in ("cost_total", "escalations"):
        assert core.card_label(metric, scenario) == f"{short_label(metric)}, {months} months"
        assert period in core.card_help(base, metric)
        assert period in core.period_label(metric, scenario)
        for table in (numbers_shown, differences):
            assert core.period_label(metric, scenario) in list(table["Measure"])
    assert core.period_label("cost_total", scenario).startswith(f"Total cost (£) {period}: ")
    for metric in ("waiting_total_end", "total_wait_weeks_p50_end",
                   "pct_referrals_assessed_within_13w"):  # at the end, or a share: no period
        assert core.card_label(metric, scenario) == short_label(metric)
        assert "months to" not in core.card_help(base, metric)
        assert label(metric) in list(numbers_shown["Measure"])


def test_the_families_counts_say_their_period() -> None:
    scenario = Scenario().replace({"simulation.horizon_months": 24})
    said = equity.families_period({"A": result_of({"referrals": [1.0]}, scenario)})
    assert "over the 24 months to December 2027" in said


def _stages(total: str, parts: dict[str, float]) -> ExperimentResult:
    stages = (core.WAITING_STAGES if total == "waiting_total_end"
              else core.WAITING_OVER_52W_STAGES)
    values = {m: [parts.get(m, 0.0)] * 2 for m, _ in stages}
    values[total] = [sum(parts.values())] * 2
    values["pct_waiting_over_52w_end"] = [50.0] * 2
    return result_of(values)


@pytest.mark.parametrize(("total", "parts"), [
    ("waiting_total_over_52w_end", {"waiting_over_52w_end": 9_755.6, "profiling_over_52w_end": 0.4}),
    ("waiting_total_over_52w_end", {"waiting_over_52w_end": 9_702.0, "profiling_over_52w_end": 54.0}),
    ("waiting_total_end", {"waiting_list_end": 12_648.1, "vetting_end": 154.9}),
    ("waiting_total_end", {"waiting_list_end": 1_249.0, "profiling_queue_end": 3.0}),
])
def test_no_part_of_a_card_reads_bigger_than_the_card(total: str, parts: dict[str, float]) -> None:
    """The card said 9,756 and its help "Of them, about 9,800 on the diagnostic list": the
    part, rounded, read bigger than the whole."""
    result = _stages(total, parts)
    card = numbers(core.fmt_metric(total, result.metric(total)["mean"]))[0]
    help_text = core.card_help(result, total)
    said = help_text.split("Of them, ", 1)[1]
    shown = numbers(said)
    assert len(shown) == len(parts), help_text
    assert all(part <= card for part in shown), help_text
    assert abs(sum(shown) - card) <= len(parts), help_text  # the parts add up to the card


# -------------------------------------------------------------------------------------------------
# 2. The fan charts mark the average the sentences give


@pytest.fixture(scope="module")
def runs() -> dict[str, ExperimentResult]:
    out = {}
    for name, key in (("Status quo", "default"), ("Combined package", "combined")):
        scenario = core.load_shipped(key)[0].replace(
            {"simulation.horizon_months": 12, "simulation.replications": 3})
        out[name] = run_replications(scenario, executor="serial")
    return out


def _dots(figure) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(float(date2num(line.get_xdata())[0]), float(line.get_ydata()[0]))
            for line in figure.axes[0].get_lines() if line.get_gid() == "average_of_projections"]


@pytest.mark.parametrize(("slide_name", "metric", "said"), [
    ("projected_list", "waiting_list_end", "{} on the diagnostic list"),
    ("waits", "waiting_over_52w_end", "about {} children on the diagnostic list have waited"),
])
def test_each_fan_slide_marks_the_average_its_sentence_gives_at_the_last_month(
        runs, slide_name: str, metric: str, said: str) -> None:
    """The line is the middle projection and the sentence the average: a facilitator reading
    the line's end quoted another number. A dot at the end is the sentence's number."""
    slide = next(s for s in pack.slides(runs, "2026-01") if s.name == slide_name)
    dots = _dots(slide.figure)
    assert len(dots) == len(runs)
    for (x, y), (name, result), sentence in zip(dots, runs.items(), slide.takeaways):
        mean = result.metric(metric)["mean"]
        assert y == pytest.approx(mean)
        assert said.format(core.about(mean)) in sentence.removeprefix(f"{name}: ")
        line = next(line for line in slide.figure.axes[0].get_lines()
                    if line.get_label() == name)  # the scenario's middle projection
        assert x == pytest.approx(max(date2num(line.get_xdata())))  # at its last month
    legend = [t.get_text() for t in slide.figure.legends[0].get_texts()]
    assert figures.AVERAGE_MARK in legend
    assert "number in the sentence" in figures.AVERAGE_MARK


def test_the_app_pages_own_fan_charts_have_no_dot_without_a_sentence(runs) -> None:
    assert not _dots(figures.list_chart(runs, "2026-01"))
    assert not _dots(figures.wait_trend_chart(runs, "2026-01"))


def test_the_every_stage_diamond_is_said_in_plain_words() -> None:
    assert figures.EVERY_STAGE_MARK == "Waiting at any stage, at the end"
    assert "card" not in figures.EVERY_STAGE_MARK and "app" not in figures.EVERY_STAGE_MARK


def test_the_cover_says_the_dot_is_the_sentences_average(runs) -> None:
    scenarios = {n: r.scenario for n, r in runs.items()}
    lines = pack.cover_lines(scenarios, "Title", runs)[1]
    assert any("dot" in line and "average" in line and "middle projection" in line
               for line in lines)


# -------------------------------------------------------------------------------------------------
# 3. Who benefits? counts every stage by default; a withheld group is said


def test_who_benefits_shows_the_wait_of_every_stage_first_and_on_the_pack_slide(runs) -> None:
    """The list's own median made the combined package look harmful (158 against 96 weeks)
    while the wait of every stage fell (95 to 75): children supported off the list leave an
    older list behind."""
    assert equity.VIEW_METRICS[0] == "total_wait_weeks_p50_end"
    assert equity.PACK_WAIT_METRIC == "total_wait_weeks_p50_end"
    slide = equity.pack_slides(runs)[0]
    title = slide.figure.axes[0].get_title(loc="left")
    assert title.replace("\n", " ") == label("total_wait_weeks_p50_end")
    assert slide.takeaways and all("at any stage" in line for line in slide.takeaways)
    assert "diagnostic list alone" in equity.LIST_WAITS_NOTE
    assert "leave the list" in equity.LIST_WAITS_NOTE


def _groups(cells: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"replication": rep, "variable": "looked_after_or_cin", "group": group,
                          "metric": metric, "value": value}
                         for (group, metric), values in cells.items()
                         for rep, value in enumerate(values)])


def test_a_group_too_small_to_show_is_said_in_the_sentence_not_dropped() -> None:
    """Three looked-after children waiting: their median is withheld; the slide's sentence left
    them out without a word."""
    import dataclasses

    cells = {("yes", "waiting_total_end"): [3.0, 3.0, 3.0, 3.0],
             ("yes", "total_wait_weeks_p50_end"): [50.0, 60.0, 55.0, 70.0],
             ("no", "waiting_total_end"): [200.0, 200.0, 200.0, 200.0],
             ("no", "total_wait_weeks_p50_end"): [80.0, 80.0, 80.0, 80.0]}
    result = dataclasses.replace(result_of({"waiting_total_end": [203.0] * 4}),
                                 groups=_groups(cells))
    said = equity._gap_sentence(result, "looked_after_or_cin", "total_wait_weeks_p50_end")
    assert said == ("looked-after children and children in need: too few to show, "
                    "others 80 weeks")
    lines = equity.pack_slides({"A": result})[0].takeaways
    assert len(lines) == 1 and "looked-after children and children in need: too few to show" \
        in lines[0]


# -------------------------------------------------------------------------------------------------
# 4. "Clear change?" cells fit the table


GRID = [(-20.0, -10.0), (10.0, 20.0), (-20.0, 30.0), (0.0, 0.0), (NAN, NAN), (0.04, 3.0)]


@pytest.mark.parametrize("metric", [*core.HEADLINE_METRICS, *equity.VIEW_METRICS, "referrals"])
def test_every_clear_change_cell_is_two_words_at_most(metric: str) -> None:
    """"not clear: the interval inc…" was cut at 1440 wide and pushed the table off a 1024
    screen: the cell says the verdict, the caption says why."""
    said = {core.clear_change(metric, low, high) for low, high in GRID}
    said |= {core.clear_change(metric, 1.0, 2.0, NAN)}
    said |= {equity.group_clear_change(metric, low, high, gap=gap) for low, high in GRID
             for gap in (False, True)}
    said |= {equity.group_clear_change(metric, 1.0, 2.0, NAN)}
    assert {"not clear", "cannot tell"} <= said
    assert all(len(words.split()) <= 2 for words in said), said


def test_the_captions_say_what_not_clear_and_cannot_tell_mean() -> None:
    for note in (core.VERDICT_NOTE, equity.GROUP_VERDICT_NOTE):
        assert "“not clear” when the 95% interval" in note or "“not clear” when" in note
        assert "“cannot tell” when there is no difference to compute" in note
        assert "too few projections" in note


def test_who_benefits_differences_come_one_table_per_scenario_without_a_name_on_each_row(
        runs) -> None:
    """The scenario's long name on every row pushed the change and "Clear change?" off a
    1024-wide screen: one table per scenario, its name above it."""
    three = {**runs, "Again": runs["Combined package"]}
    tables = equity.differences_by_scenario(three, "looked_after_or_cin")
    assert list(tables) == ["Combined package", "Again"]
    whole = equity.differences_by_group(three, "looked_after_or_cin")
    for name, table in tables.items():
        assert "scenario" not in table.columns
        assert list(table.columns) == ["measure", "group", "change (95% interval)",
                                       "Clear change?"]
        mine = whole[whole["scenario"] == name].drop(columns="scenario").reset_index(drop=True)
        pd.testing.assert_frame_equal(table, mine)
