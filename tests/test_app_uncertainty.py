"""The app is honest about uncertainty: the option to include what we don't know about the
assumptions, what the bands are said to mean, and "Which assumptions matter?".

Runs are small (12 months, 4 replications; 2 per run for the sensitivity analysis) and share the
cache between tests where they can.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app_helpers import start_app

from app import core, pack
from model.experiment import compare, run_replications

SMALL = {"horizon_months": 12, "replications": 4, "sens_replications": 2}


def start(page: str | None = None) -> AppTest:
    return start_app(SMALL, page)


def list_range_shown(at: AppTest) -> tuple[float, float]:
    """The "9 in 10 projections between A and B" the Waiting list tab quotes."""
    text = " ".join(c.value for c in at.caption)
    found = re.search(r"9 in 10 projections had between ([\d,]+) and ([\d,]+)", text)
    assert found, text
    low, high = (float(x.replace(",", "")) for x in found.groups())
    return low, high


def provenance(at: AppTest) -> dict[str, Any]:
    """The provenance shown in the *Provenance and downloads* tab."""
    value = at.json[0].value
    return value if isinstance(value, dict) else json.loads(value)


@pytest.fixture(scope="module")
def scenario_page() -> AppTest:
    return start()


def test_including_uncertainty_widens_the_list_interval_and_provenance_says_so(scenario_page):
    at = scenario_page
    # one setting for the session, on at first (honest bands); switched off here to compare
    assert at.checkbox(key="include_uncertainty").value is True
    at.checkbox(key="include_uncertainty").uncheck().run()
    at.button(key="run").click().run()
    chance_only = list_range_shown(at)
    assert "chance only" in " ".join(c.value for c in at.caption)
    assert provenance(at)["parameter_uncertainty"].startswith("not included")

    at.checkbox(key="include_uncertainty").check().run()
    assert "press **Run**" in " ".join(i.value for i in at.info)  # a setting, applied on Run
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    with_unknowns = list_range_shown(at)
    captions = " ".join(c.value for c in at.caption)
    assert "what we don't know about the assumptions" in captions
    assert "allowing for chance and what we don't know" in captions
    assert provenance(at)["parameter_uncertainty"].startswith("included")
    # the same children, the assumptions now drawn over their ranges: a wider 9-in-10 range
    assert with_unknowns[1] - with_unknowns[0] > 2 * (chance_only[1] - chance_only[0])


def test_a_lever_still_acts_with_uncertainty_on_and_the_pair_stays_sharp(scenario_page):
    """Both scenarios draw the same assumptions, and a lever on an assumption (support places)
    moves its range rather than being drawn over: the paired difference is the change made."""
    at = scenario_page
    at.number_input(key="support_places").set_value(550.0)
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    run = at.session_state["ndpath_scenario_run"]
    assert run["baseline"].uncertainty.enabled and run["edited"].uncertainty.enabled
    base = run_replications(run["baseline"], executor="serial")
    edit = run_replications(run["edited"], executor="serial")
    per_rep = edit.per_replication["support_starts"] - base.per_replication["support_starts"]
    assert (per_rep > 0).all()  # more places in every replication, not a fresh draw of 0-200
    diff = compare(base, edit).set_index("metric").loc["waiting_list_end"]
    # paired: the interval of the difference is much narrower than either scenario's own range
    low, high = core.list_range(base)
    assert diff["ci_high"] - diff["ci_low"] < (high - low) / 2


def test_which_assumptions_matter_draws_the_tornado_and_names_an_assumption(scenario_page):
    at = scenario_page
    assert not [m for m in at.markdown if "matters most" in m.value]  # not run until asked
    charts_before = len(at.get("image"))
    at.selectbox(key="sens_metric").set_value("waiting_total_end")
    at.button(key="sens_run").click().run()
    assert not at.exception and not at.error
    sentence = next(m.value for m in at.markdown if "matters most" in m.value)
    named = re.findall(r"“([^”]+)”", sentence)
    # the assumptions of the scenario the page starts from (the shipped default)
    starting = core.load_shipped(core.DEFAULT_SCENARIO.removesuffix(".toml"))[0]
    assumption_labels = {core.label(a.key) for a in core.assumptions(starting)}
    assert named[1] in assumption_labels  # names an assumption (after the measure)
    assert len(at.get("image")) == charts_before + 1  # the tornado chart
    stored = at.session_state["ndpath_sensitivity"][1]
    assert len(stored) == len(assumption_labels)
    assert core.label(stored["parameter"].iloc[0]) == named[1]  # the largest swing is named


def test_one_uncertainty_setting_holds_on_every_page_and_each_says_which_band_it_shows():
    at = start()
    at.checkbox(key="include_uncertainty").uncheck().run()  # switched off on the Scenario page
    at.switch_page("app/pages/present.py").run()
    assert at.checkbox(key="include_uncertainty").value is False  # ... and so on Present
    said = " ".join(m.value for m in at.markdown)
    assert "Shading shows the range of projections: chance only" in said
    assert "chance only" in " ".join(c.value for c in at.caption)  # the page's badge
    at.switch_page("app/pages/compare.py").run()
    assert at.checkbox(key="include_uncertainty").value is False
    at.checkbox(key="include_uncertainty").check().run()
    at.switch_page("app/pages/present.py").run()
    assert at.checkbox(key="include_uncertainty").value is True
    at.button(key="present_run").click().run()
    said = " ".join(m.value for m in at.markdown)
    assert "Shading shows the range of projections: chance, and what we don't know" in said
    at.checkbox(key="include_uncertainty").uncheck()
    at.button(key="present_run").click().run()
    assert not at.exception and not at.error
    said = " ".join(m.value for m in at.markdown)
    assert "Shading shows the range of projections: chance only" in said
    assert "by chance alone" in said  # the list takeaway says so too


def test_ranges_are_the_plausible_ranges_moved_with_the_scenario_and_kept_allowed():
    base = core.load_shipped("default")[0]
    plausible = {a.key: (a.low, a.high) for a in core.assumptions(base)}
    assert core.uncertain_ranges(base) == plausible  # the status quo sits at ndpath's defaults
    more_support = core.uncertain_ranges(core.load_shipped("support_while_waiting")[0])
    assert "support.starts_per_month" not in more_support  # a decision to compare, not an unknown
    edge = core.uncertain_ranges(base.replace({"escalation.support_risk_ratio": 0.9,
                                               "arrivals.annual_growth": 0.02,
                                               "leaving.withdrawal_per_year": 0.3}))
    assert edge["escalation.support_risk_ratio"] == pytest.approx((0.7, 1.0))  # at most 1
    # moved with the value, and kept non-negative as the stated range 0-20% is: a uniform draw
    # cannot be negative, and a range reaching below zero made every run fail
    assert edge["arrivals.annual_growth"] == pytest.approx((0.0, 0.14))
    assert edge["leaving.withdrawal_per_year"] == pytest.approx((0.28, 0.36))
    assert core.with_uncertainty(core.with_uncertainty(base, True), False) \
        .uncertainty.enabled is False


def test_the_summit_pack_states_which_band_it_shows():
    base = core.load_shipped("default")[0].replace(
        {"simulation.horizon_months": 6, "simulation.replications": 2})
    for include, words in ((True, "what we don't know"), (False, "chance only")):
        scenario = core.with_uncertainty(base, include)
        result = run_replications(scenario, executor="serial")
        cover = pack._cover({"Status quo": scenario}, "t")
        assert any(words in t.get_text().replace("\n", " ") for t in cover.texts)
        archive = pack.summit_pack({"Status quo": result}, {"Status quo": scenario})[1]
        text = zipfile.ZipFile(io.BytesIO(archive)).read("takeaways.txt").decode()
        assert text.startswith("Shading shows the range of projections") and words in text


def test_the_app_draws_each_assumption_with_the_scenario_value_as_its_mean():
    """Including what we don't know widens the bands about the scenario's own assumptions: each
    drawn distribution's mean is the value the levers show, over the range the page states
    (a uniform over 0-20% about 8% growth averaged 10%, and moved every projection's middle)."""
    for name in ("default", "support_while_waiting"):
        base = core.load_shipped(name)[0]
        edge = base.replace({"arrivals.annual_growth": 0.02, "leaving.withdrawal_per_year": 0.3})
        for scenario in (base, edge):
            uncertain = core.with_uncertainty(scenario, True)
            ranges = core.uncertain_ranges(scenario)
            for item in core.assumptions(scenario):
                dist = uncertain.uncertainty.parameters[item.key]
                assert dist.mean_value == pytest.approx(item.value), (name, item.key)
                assert dist.ppf([0.0, 1.0]).tolist() == pytest.approx(list(ranges[item.key]))
