"""The app's "Who benefits?" view, "What families worry about" panel and the pack's two slides."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import equity
from model.experiment import run_replications
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


def test_family_sentences_name_the_concerns_and_round_counts(results):
    status_quo = equity.family_sentences(results["Status quo"])
    needs_led = equity.family_sentences(results["Needs-led"])
    assert any("turned 18 without an assessment" in line for line in status_quo)
    assert not any("profiling tool" in line for line in status_quo)
    assert any("profiling tool routed" in line for line in needs_led)
    assert any("coming back" in line for line in needs_led)
    assert equity._count(3.2) == "fewer than 5" and equity._count(1234.0) == "about 1,235"


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
    slide = equity.pack_slides(results)[1]
    text = slide.figure.texts[0].get_text().replace("\n    ", " ")
    assert text.count("assessments found no condition") == 2


def test_pack_has_who_benefits_and_families_slides(results):
    titles = [slide.title for slide in equity.pack_slides(results)]
    assert titles == ["Who benefits? Waits by group", "What families worry about"]
