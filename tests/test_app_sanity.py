"""The sanity panel in the app (app/sanity.py): the expander under a projection and the pack page."""

from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from app.core import apply_levers, levers_from, load_shipped
from app.sanity import TITLE, load_line, pack_page, sanity_table
from model.experiment import run_replications
from model.scenario import Scenario
from model.waitinglist import list_load, sanity_panel, scenario_queue


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    s = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 300})
    return run_replications(s, 2, executor="serial")


def test_table_and_pack_page(result) -> None:  # type: ignore[no-untyped-def]
    table = sanity_table(result)
    assert list(table.columns) == ["What", "Formula", "Simulation (95% interval)", "Check",
                                   "Assumptions and notes"]
    load = table[table["What"].str.startswith("Load")].iloc[0]
    assert float(load["Formula"]) > 1  # the default team is far below demand
    assert "agrees" in set(table["Check"])  # referrals a week at least
    page = pack_page(result, "Default")
    assert page.texts[0].get_text().startswith(TITLE)


def _page() -> None:
    from app.sanity import render
    from model.experiment import run_replications
    from model.scenario import Scenario

    s = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 300})
    render(run_replications(s, 2, executor="serial"))


def test_expander_renders() -> None:
    at = AppTest.from_function(_page, default_timeout=60).run()
    assert not at.exception
    assert at.expander[0].label == TITLE
    assert len(at.dataframe) == 1


def table_load(scenario: Scenario) -> float:
    """The sanity table's "Load: demand / capacity" value: the panel's number the table prints
    (to 3 figures, checked here), unrounded."""
    result = run_replications(scenario, 2, executor="serial")
    table = sanity_table(result)
    printed = table[table["What"].str.startswith("Load: demand / capacity")].iloc[0]["Formula"]
    panel = sanity_panel(result.scenario, result.per_replication, result.monthly)
    value = float(panel.set_index("key").loc["load", "value"])
    if math.isfinite(value):  # the number the table shows ("-" for no capacity at all)
        assert float(printed) == pytest.approx(value, rel=0.005)
    return value


def test_the_load_line_says_the_sanity_tables_load_in_words() -> None:
    """The default's demand is about 4.9 times its capacity, so every status-quo view shows
    about 0% assessed within 13 weeks: the page says so in one line, with the sanity table's
    own number (the same function, not a second formula)."""
    default = load_shipped("default")[0]
    load = table_load(default)
    assert load == pytest.approx(4.88, abs=0.005)
    assert load_line(default) == (
        "Referrals reaching the diagnostic list are about 4.9 times the assessments the team "
        "can start a week: the list grows whatever the queue order (first year's referrals "
        "against the team at the start; see the sanity check below).")
    # the panel's load row is the function the line uses
    panel = sanity_panel(default).set_index("key")
    assert panel.loc["load", "value"] == list_load(scenario_queue(default))
    # a front door: fewer reach the list, and the line follows the table (2.2)
    front = load_shipped("needs_led_profiling")[0]
    assert f"about {table_load(front):.1f} times" in load_line(front)
    assert "about 2.2 times" in load_line(front)
    # outsourcing counts in both, and the line names the provider
    bought = load_shipped("outsourced_backlog")[0]
    assert f"about {table_load(bought):.1f} times the assessments the team and the outsourced " \
           "provider can start" in load_line(bought)


def test_the_load_line_below_one_says_the_team_can_keep_up() -> None:
    few = load_shipped("default")[0].replace({"arrivals.referrals_per_month": 40})
    load = table_load(few)
    assert load < 1
    said = load_line(few)
    assert said.startswith(f"Referrals reaching the diagnostic list are about {load:.1f} times ")
    assert "the team can keep up, so the list can come down" in said and "grows" not in said
    # nobody reaching the list: nothing to say; a team with no hours: every referral adds
    assert load_line(few.replace({"arrivals.enabled": False})) == ""
    nobody = apply_levers(few, levers_from(few).with_changes(wte=(0.0, 0.0, 0.0)))
    assert table_load(nobody) == math.inf
    assert load_line(nobody).startswith("The team can start no assessments a week: every "
                                        "referral reaching the diagnostic list adds to it")
    # just over 1 (rounds to 1.0): not "about 1.0 times ... grows"
    near = few.replace({"arrivals.referrals_per_month": 40 * 1.02 / load})
    assert 1 < table_load(near) < 1.05
    assert load_line(near).startswith("Referrals reaching the diagnostic list are a little more "
                                      "than the assessments")
    # the panel's demand is of the first year, or of the months a shorter projection has
    short = load_shipped("default")[0].replace({"simulation.horizon_months": 3})
    assert f"about {table_load(short):.1f} times" in load_line(short)
    assert "(first 3 months' referrals against the team at the start" in load_line(short)
