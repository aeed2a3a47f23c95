"""How the pages lay numbers and names out: a sign stays with its number in the tables and on
the cards, a card whose change rounds to zero says "no change" without an arrow, and the
sidebar's Start from box shows each scenario's name whole.

The line breaking is checked in a real Chromium on a bare HTML page with the app's own style
(no app server): each cell in a column as narrow as its words allow, so that every line break
the browser may take is taken.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from app import core, layout
from model.experiment import ExperimentResult, run_replications
from model.labels import short_label

WJ = layout.WORD_JOINER
CHROMIUM = Path("/usr/bin/chromium")

CHANGES = {  # metric: values of a change or an interval's end, each unit's small and large
    "cost_total": (2_400_000.0, -2_800_000.0, 169_538.0, -345.0, 171.0, 0.3),
    "pct_referrals_assessed_within_13w": (3.1, 1.2, -5.0, 0.03, -12.3),
    "clinician_utilisation": (-0.031, 0.0004, 0.13),
    "list_wait_weeks_p50_end": (36.0, -0.2, 0.6, -2.0),
    "waiting_total_end": (-2_662.0, 145.0, -1.0),
}


def table_cells() -> list[str]:
    """The table cells the pages write for those changes: the change, its interval, and each
    scenario's own value with its interval."""
    cells = []
    for metric, values in CHANGES.items():
        for value in values:
            cells += [core.fmt_delta(metric, value),
                      f"{core.fmt_bound(metric, value)} to {core.fmt_bound(metric, -value)}",
                      core.fmt_estimate(metric, abs(value), -abs(value), 2 * abs(value))]
    return cells


def test_keep_signs_joins_each_sign_to_its_number_and_changes_nothing_else():
    assert layout.keep_signs("+£2.8m to +£5.4m") == f"+{WJ}£2.8m to +{WJ}£5.4m"
    assert layout.keep_signs("-3,162 to -2,163") == f"-{WJ}3,162 to -{WJ}2,163"
    assert layout.keep_signs("8 weeks (-3 weeks to 19 weeks)") == f"8 weeks (-{WJ}3 weeks to 19 weeks)"
    for words in ("Crises or school breakdowns while waiting (assumption-driven)", "-",
                  "no change", "Children 5-18", "£6.1m (£4.5m to £7.7m)"):
        assert layout.keep_signs(words) == words
    for text in table_cells():
        shown = layout.cell(text)
        assert shown.replace(WJ, "") == (text if text != "-" else "–")  # only joiners added
        assert shown == text or shown.count(WJ) == text.count("+") + text.count("-")
    assert layout.cell("-") == "–" and layout.cell(3.0) == 3.0


def test_the_formatters_stay_plain_text_for_the_downloads_and_the_command_line():
    """The joiners are the page's: a formatter's words (in the CSV, the pack, a sentence) have
    none."""
    for metric, values in CHANGES.items():
        for value in values:
            for text in (core.fmt_delta(metric, value), core.fmt_bound(metric, value),
                         core.fmt_metric(metric, value)):
                assert WJ not in text and text.isprintable(), text


LINE_END_SIGNS = """() => {
  // every line break the browser took inside a cell: the character before it and after it
  const found = [];
  for (const td of document.querySelectorAll('td')) {
    const chars = [];
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
      for (let i = 0; i < node.length; i++) {
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const box = range.getClientRects()[0];
        if (box && node.data[i] !== '\\u2060') chars.push({c: node.data[i], top: box.top});
      }
    }
    let lines = 1;
    for (let i = 1; i < chars.length; i++) {
      if (chars[i].top > chars[i - 1].top + 2) {
        lines += 1;
        const before = chars[i - 1].c === ' ' && i > 1 ? chars[i - 2].c : chars[i - 1].c;
        if ('+-\\u2212'.includes(before)) found.push(td.textContent);
      }
    }
    td.dataset.lines = lines;
  }
  return {found, lines: [...document.querySelectorAll('td')].map(td => +td.dataset.lines)};
}"""


@pytest.mark.browser
def test_no_table_cell_breaks_a_line_after_a_sign_in_a_browser():
    """Each cell alone in a table squeezed to nothing (so a line breaks wherever the browser
    allows), with the app's style: no line ends on a "+" or "-" ("+£2.8m to +" then "£5.4m";
    "+3" then ".1" with cells that could break anywhere)."""
    from html import escape

    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium")
    cells = [layout.cell(c) for c in table_cells()]
    rows = "".join(f"<tr><td>{escape(c)}</td></tr>" for c in cells)
    html = (f"<html><head><meta charset='utf-8'>{layout.STYLE}</head><body>"
            f"<div data-testid='stTable'><table style='width:1px'>{rows}</table></div>"
            "</body></html>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            page.set_content(html)
            drawn = page.evaluate(LINE_END_SIGNS)
        finally:
            browser.close()
    assert max(drawn["lines"]) > 2  # squeezed: the cells do break (between words)
    assert drawn["found"] == []


# -------------------------------------------------------------------------------------------------
# The headline cards


@pytest.fixture(scope="module")
def starting_run() -> ExperimentResult:
    base = core.load_shipped("default")[0]
    levers = core.levers_from(base, replications=2).with_changes(horizon_months=6)
    return run_replications(core.with_run_settings(base, levers), executor="serial")


def _cards(base, edited):  # type: ignore[no-untyped-def]  # run by AppTest as a script
    from app.pages.scenario import headline

    headline(base, edited)


def test_a_card_whose_change_rounds_to_zero_says_no_change_without_an_arrow(starting_run):
    """+0.3 children waiting (shows as 0) is "no change", no arrow and no colour; +5 weeks is a
    change with its arrow, in the colour that says worse for a wait."""
    per_rep = starting_run.per_replication.copy()
    per_rep["waiting_total_end"] += 0.3
    per_rep["total_wait_weeks_p50_end"] += 5.0
    edited = ExperimentResult(starting_run.scenario, starting_run.seed, per_rep,
                              starting_run.monthly)
    assert core.rounds_to_zero("waiting_total_end", 0.3)  # the case at issue
    at = AppTest.from_function(_cards, args=(starting_run, edited), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    cards = {m.label: m for m in at.metric}
    waiting = cards[short_label("waiting_total_end")]
    assert waiting.delta == "no change"
    assert waiting.proto.direction == MetricProto.MetricDirection.NONE
    assert waiting.proto.color == MetricProto.MetricColor.GRAY
    wait = cards[short_label("total_wait_weeks_p50_end")]
    assert wait.delta == f"+{WJ}5 weeks"
    assert wait.proto.direction == MetricProto.MetricDirection.UP
    assert wait.proto.color == MetricProto.MetricColor.RED  # a longer wait is worse
    for metric in core.HEADLINE_METRICS:  # the others did not move
        if metric not in ("waiting_total_end", "total_wait_weeks_p50_end") and math.isfinite(
                starting_run.metric(metric)["mean"]):
            assert cards[core.card_label(metric, edited.scenario)].delta == "no change", metric


# -------------------------------------------------------------------------------------------------
# The sidebar's Start from box


def test_a_long_scenario_name_is_shortened_for_the_start_from_box_never_to_look_like_another():
    names = ["Status quo (illustrative Leeds-sized service)",
             "ADHD follow-up on the same paediatricians", "Needs-led profiling front door",
             "Your scenario (edited)", "Calibrated: leeds_extract_2025_final.csv (extract)",
             "Twin (from a.toml)", "Twin (from b.toml)"]
    shown = layout.short_names(names)
    assert shown["Status quo (illustrative Leeds-sized service)"] == "Status quo"
    assert shown["ADHD follow-up on the same paediatricians"] == "ADHD follow-up on the same…"
    assert shown["Needs-led profiling front door"] == "Needs-led profiling front door"  # fits
    assert shown["Your scenario (edited)"] == "Your scenario (edited)"
    assert shown["Calibrated: leeds_extract_2025_final.csv (extract)"].startswith(
        "Calibrated: leeds_extract")
    # two that would read alike keep their names
    assert shown["Twin (from a.toml)"] == "Twin (from a.toml)"
    assert all(len(short) <= layout.SELECT_CHARS for name, short in shown.items()
               if not name.startswith("Twin"))
    assert len(set(shown.values())) == len(names)


def test_the_start_from_box_offers_the_short_names_and_its_help_says_the_full_one():
    from app_helpers import start_app

    at = start_app({"horizon_months": 6, "replications": 2})
    box = at.selectbox(key="base_scenario")
    names = [core.load_shipped(stem)[0].meta.name for stem in core.shipped_scenarios()]
    assert box.options == [layout.short_names(names)[n] for n in names]
    assert box.options[0] == "Status quo" and names[0] in box.help
