"""Every app page under Streamlit's AppTest: widgets driven by key, results, disabled runs.

Runs are kept small (12 months, 3 replications) by setting the widgets' values before the first
run, as a user would with the inputs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from app_helpers import start_app, errors, table_with, tables

from app import core, equity
from model.labels import label, short_label

SMALL = {"horizon_months": 12, "replications": 3}
"""The session's projection settings: one set, shared by every page."""


def start(page: str | None = None) -> AppTest:
    return start_app(SMALL, page)


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}






@pytest.fixture(scope="module")
def scenario_page() -> AppTest:
    return start()


def figures_of(money: str) -> int:
    """The significant figures of a sum of money as shown ("£1.40m": 2, "£849,912": 6)."""
    import re

    return len(re.sub(r"\D", "", money.split("(")[0]).strip("0"))


def run_of(at: AppTest):  # type: ignore[no-untyped-def]
    """The starting scenario the page last ran (its horizon names the cards' period)."""
    return at.session_state["ndpath_scenario_run"]["baseline"]


def test_landing_page_shows_the_default_projection(scenario_page):
    at = scenario_page
    assert not at.error
    assert at.subheader[0].value.startswith("Projection: Status quo")
    values = metric_values(at)
    shown = at.session_state["ndpath_scenario_run"]["baseline"]  # 12 months: "Total cost, 12 months"
    assert list(values) == [core.card_label(m, shown) for m in core.HEADLINE_METRICS]
    assert values.get("Total cost, 12 months") and values.get("Crises while waiting, 12 months")
    list_end = int(values[short_label("waiting_total_end")].replace(",", ""))
    assert 5000 < list_end < 12000  # a 12-month projection of a 7,000-child list
    assert not at.button(key="run").disabled
    assert at.session_state["ndpath_scenario_run"]["baseline"].simulation.horizon_months == 12
    # the default assesses by profession: its clinician levers apply (no "do not apply" note)
    assert at.session_state["ndpath_scenario_run"]["baseline"].assessment.capacity_model == "by_profession"
    assert not any("do not apply" in i.value for i in at.info)


def test_the_scenario_page_says_demand_against_capacity_with_the_sanity_checks_load(
        scenario_page):
    """Every status-quo view shows about 0% assessed within 13 weeks: one line under the cards
    says why, with the sanity table's own load (4.88, "about 4.9 times")."""
    at = scenario_page
    said = [m.value for m in at.markdown if m.value.startswith("Referrals reaching the diagnostic")]
    assert len(said) == 1
    sanity = next(d.value for d in at.dataframe if "Formula" in d.value.columns)
    load = float(sanity[sanity["What"].str.startswith("Load")].iloc[0]["Formula"])
    assert load > 4 and f"about {load:.1f} times the assessments the team can start a week: " \
        "the list grows whatever the queue order" in said[0]


def test_more_clinicians_then_run_shows_a_shorter_list_against_the_baseline():
    at = start()
    before = metric_values(at)[short_label("waiting_total_end")]
    # +3 psychologist WTE, from 3: the profession whose hours bind in the default (more
    # paediatricians alone change little, and the page says so)
    at.slider(key="add_wte_1").set_value(3.0)
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("Your scenario against")
    waiting = next(m for m in at.metric if m.label.startswith("Children waiting"))
    assert waiting.value != before and waiting.delta.startswith("-")
    cost = next(m for m in at.metric if m.label == core.card_label("cost_total", run_of(at)))
    delta = cost.delta.replace("\u2060", "")  # the word joiner that keeps the sign with it
    assert delta.startswith("+£") and figures_of(delta) <= 3, delta  # not "+£849,912"
    assert figures_of(cost.value) <= 3, cost.value
    run = at.session_state["ndpath_scenario_run"]
    assert run["edited"].assessment.professions[1].wte == 6.0
    assert "+3.0 psychologist WTE (3.0 → 6.0)" in " ".join(m.value for m in at.markdown)
    assert run["edited"].simulation.seed == run["baseline"].simulation.seed
    table = table_with(at, "95% interval of the difference").set_index("Measure")
    assert table.loc[label("waiting_list_end"), "Clear change?"] == "better"
    assert [b.label for b in at.get("download_button")] == [
        "Scenario (TOML)", "Results (CSV)", "Monthly series (CSV)", "Figures (PNG, zip)"]
    # the edited scenario is offered on the other pages
    assert "Your scenario (edited)" in at.session_state["ndpath_session_scenarios"]


def test_a_moved_lever_starts_its_run_at_once_and_run_shows_the_same_numbers():
    """Moving a lever starts the new scenario's replications on the pool while the page asks for
    Run; a second move drops the first's; Run collects the second's, and its cards are exactly
    what the same scenario run from nothing in this process gives."""
    from concurrent.futures import wait

    from app import state
    from model.experiment import run_replications

    at = start()
    at.slider(key="add_wte_0").set_value(1.0).run()
    first, = [k for k in at.session_state[state.STARTED_KEY] if k in state._started]
    baseline = at.session_state["ndpath_scenario_run"]["baseline"]
    assert state._run_key(baseline) not in state._started  # shown already: not run again
    at.slider(key="add_wte_0").set_value(2.0).run()
    assert first not in state._started
    second, = [k for k in at.session_state[state.STARTED_KEY] if k in state._started]
    wait(state._started[second][1], timeout=120)
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    assert second not in state._started  # collected by the click
    edited = at.session_state["ndpath_scenario_run"]["edited"]
    assert state._run_key(edited) == second
    fresh = run_replications(edited, executor="serial")
    for metric in core.HEADLINE_METRICS:
        card = next(m for m in at.metric if m.label == core.card_label(metric, edited))
        assert card.value == core.fmt_metric(metric, fresh.metric(metric)["mean"]), metric


def constraint_notes(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown
            if "hours are the constraint" in m.value or "hours ran out" in m.value]


def test_the_results_say_which_profession_holds_assessments_back():
    """+2 paediatrician WTE in a team that waits on its psychologists: the page says that the
    psychologists' hours are the constraint, with the shares of the run shown (the edit's, the
    same numbers a run of that scenario from nothing gives)."""
    from model.experiment import run_replications

    at = start()
    first = constraint_notes(at)
    baseline = at.session_state["ndpath_scenario_run"]["baseline"]
    assert first == [core.constraint_note(run_replications(baseline, executor="serial"))]
    assert first[0].startswith("Psychologists' hours are the constraint")
    at.slider(key="add_wte_0").set_value(2.0)  # +2 paediatrician WTE, from 3
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    edited = at.session_state["ndpath_scenario_run"]["edited"]
    after = constraint_notes(at)
    assert after == [core.constraint_note(run_replications(edited, executor="serial"))]
    assert after[0].startswith("Psychologists' hours are the constraint")
    assert after != first  # the paediatricians' share of the edit, not of the starting team
    assert after[0].endswith("Adding other professions alone changes little.")


def test_no_profession_is_named_when_the_team_pools_its_hours():
    pooled = core.load_shipped("default")[0].replace(
        {"assessment.capacity_model": "clinical_hours", "meta.name": "Pooled team"})
    at = start_app(SMALL | {"ndpath_session_scenarios": {"Pooled team": pooled},
                            "ndpath_start": "session:Pooled team"})
    assert at.subheader[0].value == "Projection: Pooled team"
    assert constraint_notes(at) == []
    assert not any("constraint" in m.value for m in at.markdown)


def test_what_would_it_take_starts_at_the_headline_target_ndpath_capacity_uses(scenario_page):
    """The list-based 13-week share (the README's headline), at the percentage
    ``ndpath capacity`` aims for unless told otherwise."""
    from app.pages import scenario
    from ndpath.cli import build_parser

    defaults = build_parser().parse_args(["capacity", "default.toml", "--by", "2027-01"])
    at = scenario_page
    target = at.selectbox(key="wwit_target")
    assert target.value == {"list": "list_13w", "referrals": "referrals_13w"}[defaults.measure]
    assert target.options[0] == scenario.TARGETS[target.value]  # the first on offer
    assert at.number_input(key="wwit_pct").value == defaults.target


@pytest.mark.parametrize("key, value, words", [
    ("horizon_months", 0, "horizon is 0 months"),
    ("replications", 1, "cannot show uncertainty"),
])
def test_run_is_disabled_with_a_message_for_nonsense(scenario_page, key, value, words):
    at = scenario_page
    at.number_input(key=key).set_value(value).run()
    assert at.button(key="run").disabled
    assert words in errors(at) and not at.exception
    at.number_input(key=key).set_value(SMALL[key]).run()
    assert not at.button(key="run").disabled


def test_all_clinicians_at_zero_without_outsourcing_disables_run(scenario_page):
    at = scenario_page
    for i, wte in enumerate((3.0, 3.0, 2.0)):
        at.slider(key=f"add_wte_{i}").set_value(-wte)
    at.run()
    assert at.button(key="run").disabled and "nobody could ever be assessed" in errors(at)
    at.number_input(key="outsourced_n").set_value(500).run()
    assert not at.button(key="run").disabled and not at.error
    for i in range(3):
        at.slider(key=f"add_wte_{i}").set_value(0.0)
    at.number_input(key="outsourced_n").set_value(0).run()


def test_impossible_profiling_routing_disables_run(scenario_page):
    at = scenario_page
    at.toggle(key="profiling_enabled").set_value(True).run()
    at.slider(key="pct_to_diagnosis").set_value(70.0)
    at.slider(key="pct_needs_led").set_value(45.0).run()
    assert at.button(key="run").disabled and "routing is impossible" in errors(at)
    at.slider(key="pct_needs_led").set_value(20.0).run()
    assert not at.button(key="run").disabled
    at.number_input(key="profiling_wte").set_value(0.0).run()
    assert at.button(key="run").disabled and "no practitioners" in errors(at)
    at.slider(key="pct_to_diagnosis").set_value(40.0)
    at.slider(key="pct_needs_led").set_value(45.0)
    at.number_input(key="profiling_wte").set_value(6.0)
    at.toggle(key="profiling_enabled").set_value(False).run()
    assert not at.error


def test_choosing_another_starting_scenario_resets_the_levers(scenario_page):
    at = scenario_page
    at.selectbox(key="base_scenario").set_value("shipped:outsourced_backlog").run()
    assert not at.exception and not at.error
    assert at.number_input(key="outsourced_n").value == 1500
    assert at.session_state["horizon_months"] == 12  # a session setting: kept
    assert at.session_state["ndpath_start"] == "shipped:outsourced_backlog"  # for every page
    assert at.markdown[0].value.startswith("**Starting scenario:** Outsourced backlog block")
    at.selectbox(key="base_scenario").set_value("shipped:default").run()


def test_compare_page_runs_scenarios_side_by_side():
    at = start("app/pages/compare.py")
    assert not at.error
    at.multiselect(key="compare_scenarios").set_value(
        ["shipped:default", "shipped:extra_clinicians"])
    at.button(key="compare_run").click().run()
    assert not at.exception and not at.error
    table = next(t for t in tables(at) if "Measure" in t.columns
                 and "Extra clinicians" in t.columns)
    assert list(table.columns) == ["Measure", "Status quo (illustrative Leeds-sized service)",
                                   "Extra clinicians"]
    # the cards' measures in the cards' order, each in its unit with its interval
    assert list(table["Measure"][:3]) == [label(m) for m in core.HEADLINE_METRICS[:3]]
    # a total over the projection says its period, in both tables: not read as a year's
    cost_label = "Total cost (£) over the 12 months to December 2026: " + label(
        "cost_total").split(": ", 1)[1]
    assert list(table["Measure"]).index(cost_label) > 3  # not alphabetical
    diff = table_with(at, "95% interval of the difference").set_index("Measure")
    assert diff.loc[label("waiting_total_end"), "Clear change?"] == "better"
    assert cost_label in diff.index
    assert label("escalations") + ", over the 12 months to December 2026" in diff.index
    # the list-only waits chart says why a front door lengthens the list's own waits
    assert equity.LIST_WAITS_NOTE in [c.value for c in at.caption]
    # the difference table names the two scenarios, not "Starting scenario/Your scenario"
    assert "Extra clinicians" in diff.columns and "Your scenario" not in diff.columns
    cost = table.set_index("Measure").loc[cost_label, "Extra clinicians"]
    assert cost.startswith("£") and " to £" in cost
    assert all(figures_of(pounds) <= 3 for pounds in cost.split(" to ")), cost
    change = diff.loc[cost_label, "Difference"]
    assert change.startswith("+£") and figures_of(change) <= 3, change
    at.multiselect(key="compare_scenarios").set_value([]).run()
    assert at.button(key="compare_run").disabled and "at least one scenario" in errors(at)


def test_present_page_shows_plain_charts_and_builds_the_pack():
    at = start("app/pages/present.py")
    assert not at.error
    assert [h.value for h in at.header] == [title for _, title, _ in __import__(
        "app.pack", fromlist=["TAKEAWAYS"]).TAKEAWAYS] + ["What families worry about"]  # issue 11
    lines = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert len(lines) == 3 * 2  # one takeaway per chart per scenario (default and combined)
    assert any("children are likely to be waiting" in line for line in lines)
    at.button(key="pack_build").click().run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == [
        "Summit pack (PDF)", "Slides (PowerPoint)", "Everything (zip)"]
    at.number_input(key="replications").set_value(1).run()
    assert at.button(key="present_run").disabled and "cannot show uncertainty" in errors(at)


BAD_EXTRACT = (b"referral_id,referral_date,assessment_start_date,outcome\n"
               b"a1,2024-13-01,,\n"
               b"a1,01/03/2024,2023-01-01,ASD\n"
               b"a3,2024-04-01,2026-05-01,maybe\n")


def test_calibrate_page_checks_the_synthetic_example_and_suppresses_small_counts():
    at = start("app/pages/calibrate.py")
    assert not at.error
    assert at.success[0].value.startswith("Read ")
    monthly = table_with(at, "referrals")
    cells = monthly[["referrals", "assessments_started", "discharges"]].to_numpy().ravel()
    assert all(c == "<5" or c == "" or c == "0" or int(c) >= 5 for c in cells)
    # fitting waits for the user (tests/test_app_calibrate.py fits, back-tests and uses it)
    assert not at.button(key="cal_fit").disabled
    assert any("Press **Fit**" in i.value for i in at.info)


def test_a_bad_upload_lists_every_problem_with_row_column_and_fix():
    at = start("app/pages/calibrate.py")
    at.radio(key="cal_source").set_value("upload").run()
    at.file_uploader(key="cal_upload").set_value(("extract.csv", BAD_EXTRACT, "text/csv")).run()
    assert not at.exception
    # the extract date is proposed as the latest date in the file (and asked for), so the
    # 2026 assessment is not flagged as after it
    assert at.date_input(key="cal_extract_date").value == dt.date(2026, 5, 1)
    assert any("latest date in the file is 01 May 2026" in c.value for c in at.caption)
    assert "5 problem(s) in its rows" in errors(at)
    problems = table_with(at, "fix")
    assert set(problems["column"]) == {"referral_id", "referral_date", "assessment_start_date",
                                       "outcome"}
    assert "is before the referral date" in set(problems["problem"])
    # quarantine sets the three bad rows aside rather than stopping
    at.radio(key="cal_on_error").set_value("quarantine").run()
    assert "3 row(s) were set aside" in at.warning[0].value
    at.file_uploader(key="cal_upload").set_value(("extract.xlsx", b"not a workbook",
                                                  "application/vnd.ms-excel")).run()
    # a file that cannot be read is one problem with the whole file, said once, not a row
    assert not at.exception and "cannot be read" in errors(at)
    assert "set the bad rows aside" not in errors(at)


def test_counts_below_five_from_an_upload_are_suppressed():
    rows = [f"c{i},2025-0{1 + i // 6}-1{i % 6},," for i in range(9)]  # 6 in Jan, 3 in Feb
    data = ("referral_id,referral_date,assessment_start_date,discharge_date\n"
            + "\n".join(rows)).encode()
    at = start("app/pages/calibrate.py")
    at.radio(key="cal_source").set_value("upload").run()
    at.date_input(key="cal_extract_date").set_value(dt.date(2025, 2, 28))
    at.file_uploader(key="cal_upload").set_value(("small.csv", data, "text/csv")).run()
    assert not at.exception and not at.error
    monthly = table_with(at, "referrals").set_index("month")
    assert monthly.loc["2025-01", "referrals"] == "6"
    assert monthly.loc["2025-02", "referrals"] == "<5"
    assert monthly.loc["2025-02", "waiting_end"] == "9"
