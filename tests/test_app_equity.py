"""The app's "Who benefits?" view, "What families worry about" panel and the pack's two slides."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from app import charts, core, equity
from model.equity import SHORT_LABELS, equity_comparison
from model.experiment import run_replications
from model.labels import label
from model.metrics import GROUP_COUNT_METRICS, GROUP_METRICS
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SHORT = ["simulation.horizon_months=6", "simulation.replications=2", "backlog.count=600"]


@pytest.fixture(scope="module")
def results():
    return {name: run_replications(load_scenario(ROOT / "scenarios" / f, SHORT), executor="serial")
            for name, f in (("Status quo", "default.toml"),
                            ("Needs-led", "needs_led_profiling.toml"))}


def test_who_benefits_chart_table_and_differences(results):
    figure = equity.who_benefits_chart(results, "deprivation_quintile", "list_wait_weeks_p50_end")
    ax = figure.axes[0]
    assert len(ax.patches) == 10  # five quintiles, two scenarios
    table = equity.group_table(results, "looked_after_or_cin")
    assert list(table.columns) == ["Status quo", "Needs-led"]
    assert table.index.get_level_values("group").isin(["yes", "no"]).all()
    diff = equity.differences_by_group(results, "deprivation_quintile")
    assert (diff["scenario"] == "Needs-led").all() and diff["group"].str.startswith("gap").any()


def test_who_benefits_shows_the_any_stage_year_or_more_count_beside_the_lists(results):
    """A front door that moves children off the diagnostic list into a needs-profile queue does
    not hide them: the view offers the any-stage wait and count, titled apart from the list's."""
    assert {"total_wait_weeks_p50_end", "waiting_total_over_52w_end"} <= set(equity.VIEW_METRICS)
    table = equity.group_table(results, "looked_after_or_cin")
    measures = list(dict.fromkeys(table.index.get_level_values("measure")))
    assert SHORT_LABELS["waiting_total_over_52w_end"] in measures
    assert SHORT_LABELS["total_wait_weeks_p50_end"] in measures
    assert SHORT_LABELS["list_wait_weeks_p50_end"] in measures
    # every by-group title is its own, and says which waiting it counts
    titles = [SHORT_LABELS[m] for m in GROUP_METRICS if m in SHORT_LABELS]
    assert len(set(titles)) == len(titles)
    for name in ("waiting_total_end", "waiting_total_over_52w_end", "total_wait_weeks_p50_end"):
        assert "any stage" in SHORT_LABELS[name], name
        assert "any stage (diagnostic list, needs profile, vetting)" in label(name), name
    for name in ("waiting_list_end", "waiting_over_52w_end", "list_wait_weeks_p50_end",
                 "list_wait_weeks_p92_end", "pct_waiting_over_52w_end"):
        assert "list" in SHORT_LABELS[name] and "any stage" not in SHORT_LABELS[name], name
    assert "from referral" in label("total_wait_weeks_p50_end")
    assert "since referral" in label("waiting_total_over_52w_end")


def numbers_in(cell: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"[-+]?\d[\d,]*(?:\.\d+)?", cell)]


def test_who_benefits_tables_round_counts_to_5_and_write_intervals_in_words(results):
    """The caption says counts are rounded to the nearest 5: the changes in counts were not
    ("-78.9 [-108, -49.6]"), and both tables wrote intervals "[a, b]" where every other table
    says "a to b". Waits and shares keep their own figures."""
    table = equity.group_table(results, "deprivation_quintile")
    diff = equity.differences_by_group(results, "deprivation_quintile")
    period = results["Status quo"].scenario
    counts = {equity.measure_title(m, period) for m in GROUP_COUNT_METRICS if m in SHORT_LABELS}
    assert "Crises while waiting, 6 months" in counts  # a total's rows say their period
    cells = [(measure, cell) for (measure, _), row in table.iterrows() for cell in row]
    cells += list(zip(diff["measure"], diff["change (95% interval)"]))
    shown = [(m, c) for m, c in cells if c not in ("-", "not shown (fewer than 5)")]
    assert not any("[" in c for _, c in shown)
    assert all(re.fullmatch(r"\S+ \(\S+ to \S+\)", c) for _, c in shown), shown
    counted = [n for m, c in shown if m in counts for n in numbers_in(c)]
    assert counted and all(n % 5 == 0 for n in counted)
    raw = equity_comparison(results["Status quo"].groups, results["Needs-led"].groups)
    raw = raw[raw["variable"].eq("deprivation_quintile") & raw["metric"].isin(GROUP_COUNT_METRICS)
              & ~raw["suppressed"]]
    assert (raw["difference"] % 5 != 0).any()  # so the rounding is the table's doing
    waits = [n for m, c in shown if m == SHORT_LABELS["list_wait_weeks_p50_end"]
             for n in numbers_in(c)]
    assert waits and any(n % 5 for n in waits)  # a wait is not a count: not rounded to 5
    # exact: a count and its change rounded to 5, signed; a wait as it is; zero unsigned
    assert equity.interval_words("escalations", -364.6, -574.2, -156.3, signed=True) == \
        "-365 (-575 to -155)"
    assert equity.interval_words("escalations", 2.4, -1.0, 6.0, signed=True) == "0 (0 to +5)"
    assert equity.interval_words("list_wait_weeks_p50_end", 95.63, 88.2, 103.4) == \
        "95.6 (88.2 to 103)"
    assert equity.interval_words("pct_supported_within_52w", -12.7, -15.7, -9.6, signed=True) \
        == "-12.7 (-15.7 to -9.6)"
    assert equity.interval_words("escalations", 120.0, math.nan, math.nan) == "120"


@pytest.fixture(scope="module")
def three_years():
    """The status quo and the needs-led front door over 36 months (2 replications)."""
    settings = ["simulation.horizon_months=36", "simulation.replications=2", "backlog.count=600"]
    return {name: run_replications(load_scenario(ROOT / "scenarios" / f, settings),
                                   executor="serial")
            for name, f in (("Status quo", "default.toml"),
                            ("Needs-led", "needs_led_profiling.toml"))}


def test_the_by_group_totals_say_their_period_as_the_cards_do(three_years):
    """"Crises while waiting" by group, beside a card reading "Crises while waiting, 36
    months", did not say over what; the same words as the card now, in the table, the changes
    by group and the chart's title and axis. A count at the end or a wait has no period."""
    crises = "Crises while waiting, 36 months"
    scenario = three_years["Status quo"].scenario
    assert core.card_label("escalations", scenario) == crises  # the card's title
    table = equity.group_table(three_years, "looked_after_or_cin")
    measures = list(dict.fromkeys(table.index.get_level_values("measure")))
    assert crises in measures and "Crises while waiting" not in measures
    assert "Turned 18, never assessed, 36 months" in measures  # every total, not only crises
    assert len(table.loc[crises]) == 2  # its groups (yes, no) under the one title
    assert SHORT_LABELS["waiting_total_over_52w_end"] in measures  # at the end: no period
    assert SHORT_LABELS["total_wait_weeks_p50_end"] in measures  # a wait: no period
    # in the order offered, the total where its metric is
    order = [equity.measure_title(m, scenario) for m in equity.VIEW_METRICS]
    assert measures == [m for m in order if m in measures]
    diff = equity.differences_by_group(three_years, "looked_after_or_cin")
    assert crises in set(diff["measure"]) and "Crises while waiting" not in set(diff["measure"])
    chart = charts.who_benefits_chart(equity._tables(three_years), "looked_after_or_cin",
                                      "escalations", scenario)
    title = " ".join(chart.spec["title"]["text"])  # in lines that fit a 1024-wide column
    assert title == core.period_label("escalations", scenario)
    assert "over the 36 months to December 2028" in title
    assert max(len(line) for line in chart.spec["title"]["text"]) <= charts.TITLE_CHARS
    assert chart.spec["layer"][0]["encoding"]["y"]["title"] == crises
    figure = equity.who_benefits_chart(three_years, "looked_after_or_cin", "escalations")
    assert figure.axes[0].get_ylabel().replace("\n", " ") == crises  # wrapped to fit
    assert "36 months to December 2028" in figure.axes[0].get_title(loc="left").replace("\n", " ")


def test_family_sentences_name_the_concerns_and_round_counts(results):
    status_quo = equity.family_sentences(results["Status quo"])
    needs_led = equity.family_sentences(results["Needs-led"])
    assert any("turned 18 without an assessment" in line for line in status_quo)
    assert not any("profiling tool" in line for line in status_quo)
    assert any("profiling tool routed" in line for line in needs_led)
    assert any("coming back" in line for line in needs_led)
    assert equity._count(3.2) == "fewer than 5" and equity._count(47.0) == "about 45"
    # from 100, as honest as an average of projections is: never "about 21,355"
    assert equity._count(1234.0) == "about 1,200" and equity._count(21_353.0) == "about 21,400"
    assert equity._count(187.0) == "about 190"


def test_both_scenarios_say_how_many_assessments_found_no_condition(results):
    """With and without the profiling tool: the line said for the one scenario with it alone
    read as if the other's assessments found no child without a condition."""
    assert not results["Status quo"].scenario.profiling.enabled
    assert results["Needs-led"].scenario.profiling.enabled
    for result in results.values():
        found = result.per_replication["assessments_no_condition"]
        assert found.notna().all() and found.mean() > 0
        said = f"{equity._count(found.mean()).capitalize()} assessments found no condition."
        assert said in equity.family_sentences(result)
    for slide, name in zip(equity.pack_slides(results)[1:], results, strict=True):
        assert slide.text[0] == name  # a slide for each scenario, named
        assert sum("assessments found no condition" in line for line in slide.text) == 1


def test_pack_has_who_benefits_and_families_slides(results):
    """A "What families worry about" slide for each scenario: three scenarios' sentences on one
    slide were 8 points in the deck, too small to read in a room."""
    titles = [slide.title for slide in equity.pack_slides(results)]
    assert titles == ["Who benefits? Waits by group", *["What families worry about"] * 2]
    said = [s.text for s in equity.pack_slides(results)[1:]]
    assert said == [(name, *(f"  • {line}" for line in equity.family_sentences(result)))
                    for name, result in results.items()]


def test_the_families_slide_says_how_its_counts_are_rounded_as_they_are(results):
    """The slide's note said "rounded to the nearest 5" beside "about 1,500": the note beside the
    sentences says the rule the sentences follow, and every count in them follows it."""
    import re

    for slide in equity.pack_slides(results)[1:]:
        assert slide.takeaways == (equity.families_period(results), equity.FAMILY_COUNTS_NOTE)
    assert "nearest 5 under 100" in equity.FAMILY_COUNTS_NOTE
    for result in results.values():
        for line in equity.family_sentences(result):
            for text in re.findall(r"about ([\d,]+)", line):
                n = int(text.replace(",", ""))
                assert (n % 5 == 0) if n < 100 else (core.about(n) == text), line


def test_a_clear_change_by_group_says_better_or_worse_as_the_other_tables_do():
    """The by-group differences said "yes" beside "0 (0 to +5)": the verdict came from the
    unrounded interval, and said yes/no where every other table says better/worse. It is
    decided on the interval as shown, in the words of the differences table."""
    from app import core

    # escalations: fewer is better for families; the interval as shown reaches zero
    assert equity.interval_words("escalations", 2.4, 0.4, 4.6, signed=True) == "0 (0 to +5)"
    assert equity.group_clear_change("escalations", 0.4, 4.6) == \
        "not clear"
    assert equity.group_clear_change("escalations", 2.6, 9.0) == "worse"  # "+5 to +10"
    assert equity.group_clear_change("escalations", -9.0, -2.6) == "better"
    assert equity.group_clear_change("escalations", -2.0, 2.0) == "no change"  # "0 to 0"
    # a wait, one decimal: "+0.0" is zero as shown
    assert equity.group_clear_change("list_wait_weeks_p50_end", 0.04, 3.0) == \
        "not clear"
    assert equity.group_clear_change("list_wait_weeks_p50_end", 0.06, 3.0) == "worse"
    # more supported within a year is better
    assert equity.group_clear_change("pct_supported_within_52w", 1.0, 3.0) == "better"
    # a gap's change is neither: it depends on which group was ahead
    assert equity.group_clear_change("list_wait_weeks_p50_end", 1.0, 3.0, gap=True) == "higher"
    assert equity.group_clear_change("list_wait_weeks_p50_end", -3.0, -1.0, gap=True) == "lower"
    assert equity.group_clear_change("escalations", math.nan, math.nan) == \
        "cannot tell"
    assert equity.group_clear_change("escalations", math.nan, math.nan, math.nan) == \
        "cannot tell"
    for metric in equity.VIEW_METRICS:  # the same words as the differences table
        assert equity.group_clear_change(metric, 10.0, 20.0) == core.clear_change(metric, 10.0, 20.0)
        assert equity.group_clear_change(metric, -20.0, -10.0) == \
            core.clear_change(metric, -20.0, -10.0)


def test_the_differences_by_group_never_say_clear_beside_an_interval_shown_reaching_zero(results):
    diff = equity.differences_by_group(results, "deprivation_quintile")
    assert "clear change" not in diff.columns and "Clear change?" in diff.columns
    verdicts = set(diff["Clear change?"]) - {""}
    assert verdicts and verdicts <= {"better", "worse", "higher", "lower", "no change",
                                     "not clear",
                                     "cannot tell",
                                     "cannot tell"}
    for change, verdict in zip(diff["change (95% interval)"], diff["Clear change?"]):
        if verdict in ("better", "worse", "higher", "lower"):
            low, high = numbers_in(change)[1:]
            assert low * high > 0, (change, verdict)  # both ends shown, on one side of zero
    gaps = diff[diff["group"].str.startswith("gap")]
    assert not gaps["Clear change?"].isin(["better", "worse"]).any()
