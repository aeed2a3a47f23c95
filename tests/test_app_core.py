"""The app's pure helpers: levers -> scenario, input checks, downloads, takeaways, summit pack."""

from __future__ import annotations

import io
import tomllib
import zipfile

import pandas as pd
import pytest

from app import core, pack
from model.experiment import compare, run_replications
from model.scenario import build_scenario, load_scenario


@pytest.fixture(scope="module")
def base():
    return core.load_shipped("default")[0]


@pytest.fixture(scope="module")
def small_runs(base):
    """Starting scenario and a +3 WTE edit, 12 months, 3 replications, same seed (psychologists:
    by profession they bind in the default, issue 12)."""
    levers = core.levers_from(base, replications=3).with_changes(horizon_months=12)
    edited = core.apply_levers(base, levers.with_changes(wte=(3.0, 6.0, 2.0)))
    baseline = core.with_run_settings(base, levers)
    return (baseline, run_replications(baseline, executor="serial"),
            edited, run_replications(edited, executor="serial"))


def test_shipped_scenarios_start_with_default_and_leave_out_validation():
    names = list(core.shipped_scenarios())
    assert names[0] == "default"
    assert "mmc" not in names and "combined" in names


def test_untouched_levers_give_back_the_starting_scenario(base):
    for stem in core.shipped_scenarios():
        scenario = core.load_shipped(stem)[0]
        levers = core.levers_from(scenario)
        assert core.lever_problems(scenario, levers) == []
        assert core.apply_levers(scenario, levers) == core.with_run_settings(scenario, levers)


def test_each_lever_sets_its_key(base):
    levers = core.levers_from(base)
    edited = core.apply_levers(base, levers.with_changes(
        wte=(4.5, 3.0, 0.0), profiling_enabled=True, profiling_wte=3.0, pct_to_diagnosis=30.0,
        pct_needs_led=50.0, support_places=120.0, annual_growth_pct=2.0,
        priority_order=("looked_after", "urgent"), outsourced_assessments=600,
        outsourced_start_month=6, outsourced_months=6, outsourced_cost=2500.0,
        horizon_months=24, replications=5, seed=7))
    assert [p.wte for p in edited.assessment.professions] == [4.5, 3.0, 0.0]
    assert edited.profiling.enabled and edited.profiling.practitioner_wte == 3.0
    assert edited.profiling.routing.as_dict() == pytest.approx(
        {"needs_led": 0.5, "diagnostic": 0.3, "signposted": 0.2})
    assert edited.support.places == 120  # a caseload scenario: the lever moves its places
    assert edited.arrivals.annual_growth == pytest.approx(0.02)
    assert edited.assessment.discipline == "priority"
    assert edited.assessment.priority_order == ("looked_after", "urgent")
    (block,) = edited.assessment.outsourced
    assert (block.start_date.isoformat(), block.end_date.isoformat()) == ("2026-07-01", "2027-01-01")
    assert (block.assessments, block.cost_per_assessment) == (600, 2500.0)
    sim = edited.simulation
    assert (sim.horizon_months, sim.replications, sim.seed) == (24, 5, 7)
    # everything the levers do not touch is the starting scenario's
    assert edited.backlog == base.backlog and edited.leaving == base.leaving


def test_emptying_the_priority_order_goes_back_to_first_come_first_served():
    scenario = core.load_shipped("prioritise_vulnerable")[0]
    edited = core.apply_levers(scenario, core.levers_from(scenario).with_changes(priority_order=()))
    assert edited.assessment.discipline == "fifo"


@pytest.mark.parametrize("changes, words", [
    ({"horizon_months": 0}, "horizon is 0 months"),
    ({"replications": 1}, "cannot show uncertainty"),
    ({"wte": (0.0, 0.0, 0.0)}, "nobody could ever be assessed"),
    ({"profiling_enabled": True, "profiling_wte": 0.0}, "has no practitioners"),
    ({"profiling_enabled": True, "pct_to_diagnosis": 70.0, "pct_needs_led": 40.0},
     "routing is impossible"),
    ({"outsourced_assessments": 100, "outsourced_months": 0}, "lasts 0 months"),
    ({"outsourced_assessments": 100, "outsourced_start_month": 60}, "after the end"),
])
def test_inputs_that_make_no_sense_are_named(base, changes, words):
    problems = core.lever_problems(base, core.levers_from(base).with_changes(**changes))
    assert len(problems) == 1 and words in problems[0]


def test_zero_wte_is_fine_when_assessments_are_outsourced(base):
    levers = core.levers_from(base).with_changes(wte=(0.0, 0.0, 0.0), outsourced_assessments=500)
    assert core.lever_problems(base, levers) == []


def test_routing_is_checked_once_in_plain_words_even_with_profiling_off(base):
    levers = core.levers_from(base).with_changes(pct_to_diagnosis=90.0, pct_needs_led=90.0)
    (problem,) = core.lever_problems(base, levers)
    assert problem.startswith("Profiling routing is impossible: 90% sent to diagnosis")


def test_downloaded_toml_reloads_to_the_same_scenario(base, tmp_path):
    levers = core.levers_from(base).with_changes(wte=(5.0, 3.0, 2.0), support_places=90.0)
    edited = core.named(core.apply_levers(base, levers), "Status quo (edited)",
                        "; ".join(core.describe_changes(base, levers)))
    assert build_scenario(tomllib.loads(edited.to_toml())).digest() == edited.digest()
    path = tmp_path / core.scenario_filename(edited.meta.name)
    path.write_text(edited.to_toml())
    assert path.name == "status_quo__edited.toml"
    assert load_scenario(path) == edited  # what `ndpath run` reads
    assert "+2.0 paediatrician WTE (3.0 → 5.0)" in edited.meta.description


def test_more_clinicians_shorten_the_list_and_csv_holds_paired_differences(small_runs):
    baseline, base_result, edited, edit_result = small_runs
    diff = compare(base_result, edit_result).set_index("metric")
    assert diff.loc["waiting_list_end", "ci_high"] < 0
    assert diff.loc["assessments_completed", "ci_low"] > 0
    text = core.results_csv("Status quo", base_result, "Your scenario", edit_result,
                            diff.reset_index())
    table = pd.read_csv(io.StringIO(text))
    assert set(table["kind"]) == {"estimate", "paired difference"}
    row = table[(table["kind"] == "paired difference") & (table["metric"] == "waiting_list_end")]
    assert row["mean"].iloc[0] == pytest.approx(diff.loc["waiting_list_end", "difference"])
    shown = core.differences_table(diff.reset_index()).set_index("Measure")
    assert shown.loc["Children on the diagnostic waiting list at the end", "Clear change?"] == "better"
    assert (shown.loc["Referrals received", "Clear change?"]
            == "not clear")


def test_takeaways_quote_the_projection(small_runs):
    _, result, _, _ = small_runs
    end = result.timeseries.query("metric == 'waiting_list'").iloc[-1]
    sentence = core.takeaway_list(result)
    assert core.about(end["p50"]) in sentence and "By the end of December 2026" in sentence
    # the wait sentence leads with the count waiting a year or more (the chart's middle line),
    # then the list-based median waited, both from the monthly bands the charts show
    ts = result.timeseries
    over = ts.query("metric == 'waiting_over_52w'").iloc[-1]
    waited = ts.query("metric == 'list_wait_weeks_p50'").iloc[-1]
    sentence = core.takeaway_wait(result)
    assert sentence.startswith(f"By the end of December 2026 about {core.about(over['p50'])} "
                               "children on the diagnostic list")
    assert f"have waited {waited['p50']:.0f} weeks" in sentence
    assert "support" in core.takeaway_support(result)


def test_summit_pack_has_a_pdf_and_pngs_that_need_no_server(small_runs):
    baseline, base_result, edited, edit_result = small_runs
    document, archive = pack.summit_pack({"Status quo": base_result, "More staff": edit_result},
                                         {"Status quo": baseline, "More staff": edited})
    assert document.startswith(b"%PDF") and document.count(b"/Type /Page\n") + document.count(
        b"/Type /Page ") >= 4  # cover + three charts
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert sorted(n for n in names if n.endswith(".png")) == [
        "1_projected_list.png", "2_waits.png", "3_first_support.png",
        "4_who_benefits.png", "5_families.png", "6_families.png"]
    # issue 11: who benefits, and what families worry about (a slide for each scenario)
    assert {"summit_pack.pdf", "takeaways.txt", "provenance.json"} <= set(names)
    text = zipfile.ZipFile(io.BytesIO(archive)).read("takeaways.txt").decode()
    assert "More staff:" in text and "Status quo:" in text


def test_formatting_is_plain():
    assert core.fmt_metric("cost_total", 3_614_702) == "£3.61m"  # as the charts write money
    assert core.fmt_metric("pct_of_those_assessed_within_13w", 12.4) == "12%"
    assert core.fmt_metric("time_to_first_support_weeks_p50", float("nan")) == "not reached"
    assert core.about(11_966) == "12,000" and core.about(187) == "190"
    # an average of projections is not known to the child: never "about 123,456"
    assert core.about(21_355) == "21,400" and core.about(123_456) == "123,000"
    assert core.about(1_234_567) == "1,230,000" and core.about(1_234) == "1,200"
    assert core.about(47.4) == "47"
    # shares from 0 to 1 read as percentages (utilisation 0.853 showed as "1", a 40% chance as "0")
    assert core.fmt_metric("clinician_utilisation", 0.853) == "85%"
    assert core.fmt_metric("utilisation_psychologist", 0.97) == "97%"
    assert core.fmt_metric("backlog_cleared", 0.4) == "40%"
    assert core.fmt_delta("clinician_utilisation", -0.031) == "-3.1 points"


def test_no_page_draws_an_internal_note():
    """A bare string in a page script (a docstring after a constant, say) is drawn on the page
    by Streamlit's "magic": the Calibrate page showed "Base-scenario choice meaning…"."""
    import ast
    from pathlib import Path

    for page in sorted((Path(core.ROOT) / "app" / "pages").glob("*.py")):
        tree = ast.parse(page.read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if not isinstance(body, list):
                continue
            for k, statement in enumerate(body):
                docstring = k == 0 and isinstance(node, (ast.Module, ast.FunctionDef,
                                                          ast.ClassDef))
                bare = (isinstance(statement, ast.Expr)
                        and isinstance(statement.value, ast.Constant)
                        and isinstance(statement.value.value, str))
                assert docstring or not bare, (
                    f"{page.name}:{statement.lineno} draws {statement.value.value[:50]!r}")


def test_changes_read_as_sentences_with_exact_steps(base):
    levers = core.levers_from(base)
    changed = levers.with_changes(
        wte=(levers.wte[0], levers.wte[1] + 2.0, levers.wte[2]), profiling_enabled=True,
        priority_order=("looked_after",), support_places=levers.support_places + 20)
    words = core.describe_changes(base, changed)
    assert "+2.0 psychologist WTE (3.0 → 5.0)" in words
    assert "profiling front door on" in words
    assert "looked-after children and children in need seen first" in words
    assert "+20 families supported at once (110 → 130)" in words
    assert not any("()" in w or "True" in w or "False" in w for w in words)


def test_a_percentage_changes_in_points_and_no_change_says_so():
    assert core.fmt_delta("pct_referrals_assessed_within_13w", 2.14) == "+2.1 points"
    assert core.fmt_delta("waiting_total_end", -120.0) == "-120"
    assert core.fmt_delta("cost_total", 2_400_000) == "+£2.40m"
    assert core.fmt_delta("waiting_total_end", float("nan")) == "-"


def test_a_calibrated_growth_below_the_default_runs_with_uncertainty_included(base):
    """A moved plausible range stays non-negative: growth of 7.7% (a calibrated value) gave a
    drawn range reaching -0.3%, which no uniform distribution accepts, and every run failed."""
    from model.experiment import run_replications

    scenario = core.with_uncertainty(base.replace({
        "arrivals.annual_growth": 0.077, "simulation.horizon_months": 3,
        "simulation.replications": 2}), True)
    low, high = core.uncertain_ranges(scenario)["arrivals.annual_growth"]
    assert low == 0.0 and high == pytest.approx(0.197)
    assert run_replications(scenario, executor="serial").replications == 2


def test_per_profession_labels_read_as_english():
    from model.labels import profession_label

    assert profession_label("follow_up_hours", "paediatrician") == (
        "Clinical hours the paediatricians gave to post-diagnostic follow-up")
    assert profession_label("utilisation", "psychologist").startswith(
        "Share of the psychologists' clinical hours")


def test_a_change_in_a_share_reads_in_points_on_the_charts_as_in_the_tables():
    """Utilisation is a share from 0 to 1: a fall of 0.031 is "-3.1 points" in the tables and
    on the charts (which gave it as a bare "-0.03", then as "-3.10 %-points")."""
    from model.labels import fmt_change, fmt_change_interval

    assert core.fmt_delta("clinician_utilisation", -0.031) == "-3.1 points"
    assert fmt_change("clinician_utilisation", -0.031) == "-3.1 points"
    assert fmt_change_interval("utilisation_psychologist", -0.031, -0.05, -0.012) == (
        "-3.1 points (-5.0 to -1.2)")


def test_money_is_written_the_same_way_on_the_cards_in_the_tables_and_the_sentences():
    """A cost change on the Scenario page's card read "+£849,912" beside "+£1.40m" on the
    differences chart: every place writes money to three significant figures."""
    from model.labels import fmt_change, fmt_change_interval

    assert core.fmt_delta("cost_total", 849_912) == "+£850k"  # the card's change
    assert core.fmt_delta("cost_total", -849_912) == "-£850k"
    assert core.fmt_metric("cost_total", 849_912) == "£850k"  # the card's value
    assert core.fmt_metric("cost_per_assessment", 2_346.2) == "£2,350"
    assert fmt_change("cost_total", 849_912) == "+£850k"  # the differences chart's words
    assert fmt_change_interval("cost_total", 849_912, 812_345, 887_654) == \
        "+£850k (+£812k to +£888k)"
    # the differences table's interval of a cost change
    assert core.fmt_bound("cost_total", 1_399_721) == "+£1.40m"
    # an assumption's swing in the cost, in the sensitivity sentence
    table = pd.DataFrame({"parameter": ["support.cost_per_week"], "low": [40.0], "high": [60.0],
                          "diff_low": [-849_912.0], "diff_high": [1_399_721.0],
                          "swing": [2_249_633.0]})
    said = core.sensitivity_sentence(table, "cost_total")
    assert "-£850k to +£1.40m" in said and "£40 to £60" in said, said
    # a price someone typed is said as typed, not rounded as a projection is
    assert core._range_words("support.cost_per_week", 2_345.0, 2_999.0) == "£2,345 to £2,999"
