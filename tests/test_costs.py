"""Costs like with like (model.costs): whole posts for every staff group, bought services per unit
delivered, the total as the sum of its parts, and cost per assessment over assessment costs only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import first_time, still_service
from model.costs import COST_COMPONENTS, COST_RULE
from model.labels import label
from model.metrics import SCALAR_METRICS, replication_metrics
from model.pathway import simulate
from model.scenario import DAYS_PER_YEAR, Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _plus_two_psychologists(scenario: Scenario, date: str) -> Scenario:
    return scenario.replace({"assessment.staffing_changes": [
        {"date": date, "profession": "psychologist", "wte_change": 2.0, "ramp_weeks": 16.0}]})


@pytest.mark.parametrize("support", [False, True])
def test_two_more_psychologists_for_the_whole_horizon_cost_exactly_two_posts(support: bool) -> None:
    base = load_scenario(SCENARIOS / "default.toml",
                         ["simulation.horizon_months=24", f"support.enabled={str(support).lower()}"])
    more = _plus_two_psychologists(base, "2026-01-01")  # the start date: in post throughout
    b, m = (replication_metrics(simulate(s, 0)) for s in (base, more))
    years = simulate(base.replace({"simulation.horizon_months": 24}), 0).horizon_days / DAYS_PER_YEAR
    posts = 2 * 85_000.0 * years  # whole posts: the job-plan share (0.6) shapes hours, not pay
    assert m["cost_assessment_staff"] - b["cost_assessment_staff"] == pytest.approx(posts, rel=1e-12)
    if not support:  # nothing else is bought: the total moves by exactly the posts
        assert m["cost_total"] - b["cost_total"] == pytest.approx(posts, rel=1e-12)
    assert m["assessments_completed"] > b["assessments_completed"]


def test_a_recruit_is_paid_from_the_change_date_during_the_ramp_up() -> None:
    base = load_scenario(SCENARIOS / "default.toml", ["simulation.horizon_months=12"])
    more = _plus_two_psychologists(base, "2026-04-01")
    result = simulate(more, 0)
    in_post = result.horizon_days - 90  # 1 January to 1 April 2026
    diff = (replication_metrics(result)["cost_assessment_staff"]
            - replication_metrics(simulate(base, 0))["cost_assessment_staff"])
    assert diff == pytest.approx(2 * 85_000.0 * in_post / DAYS_PER_YEAR, rel=1e-12)


def test_the_total_is_the_sum_of_its_parts_and_each_part_is_its_rule() -> None:
    scenario = load_scenario(SCENARIOS / "combined.toml", [
        "simulation.horizon_months=12",
        'assessment.outsourced=[{start_date = 2026-02-01, end_date = 2026-08-01, '
        'assessments = 150, cost_per_assessment = 2000.0}]'])
    result = simulate(scenario, 0)
    metrics = replication_metrics(result)
    years = result.horizon_days / DAYS_PER_YEAR
    assert all(metrics[name] > 0 for name in COST_COMPONENTS)
    assert metrics["cost_total"] == pytest.approx(sum(metrics[n] for n in COST_COMPONENTS),
                                                  rel=1e-12)
    # profiling practitioners: whole posts, as clinicians
    p = scenario.profiling
    assert metrics["cost_profiling"] == pytest.approx(p.practitioner_wte * p.cost_per_wte_year * years,
                                                      rel=1e-12)
    # outsourced: per assessment started
    assert metrics["cost_outsourced"] == metrics["outsourced_assessments"] * 2000.0 == 150 * 2000.0
    # needs-led plans: per plan
    ev = result.events
    plans = ((ev["event"] == "support_start") & (ev["detail"] == "needs_led_plan")).sum()
    assert plans > 0
    assert metrics["cost_needs_led_plans"] == pytest.approx(plans * p.cost_per_needs_led_plan)
    # support while waiting: per week of support given in the horizon, worked out from the log
    start = first_time(result, "support_start", "support_while_waiting")
    end = np.fmin(first_time(result, "support_end"), result.horizon_days)
    given = np.isfinite(start)
    weeks = float((np.where(np.isnan(end), result.horizon_days, end) - start)[given].sum()) / 7
    assert weeks > 0
    assert metrics["cost_support"] == pytest.approx(weeks * scenario.support.cost_per_week, rel=1e-9)
    # cost per assessment: clinical posts and outsourcing over assessments completed, nothing else
    assessment = metrics["cost_assessment_staff"] + metrics["cost_outsourced"]
    assert metrics["cost_per_assessment"] == pytest.approx(
        assessment / metrics["assessments_completed"], rel=1e-12)


@pytest.mark.parametrize("weeks", [4.0, 8.0])
def test_an_episode_costs_its_length(weeks: float) -> None:
    """300 families supported from day 0 with nothing to cut their episodes short: the support
    cost is families x weeks x the weekly price, so twice the length costs twice as much."""
    scenario = still_service({"simulation.horizon_months": 3, "backlog.count": 300,
                              "support.enabled": True, "support.places": 300,
                              "support.uptake": 1.0, "support.needs_met_per_year": 0.0,
                              "support.episode_weeks": {"kind": "fixed", "value": weeks}})
    metrics = replication_metrics(simulate(scenario, 0))
    assert metrics["support_starts"] == 300
    assert metrics["cost_support"] == pytest.approx(300 * weeks * 50.0, rel=1e-12)
    assert metrics["cost_total"] == metrics["cost_support"]  # no staff, nothing else bought


def test_the_rule_is_stated_where_the_total_is_read() -> None:
    total = label("cost_total")
    assert "whole staff posts" in total and "not overheads or the cost of crises" in total
    assert "whole post" in COST_RULE and "left out" in COST_RULE
    assert set(COST_COMPONENTS) <= set(SCALAR_METRICS)
    for name in (*COST_COMPONENTS, "cost_per_assessment"):
        assert label(name) != name.replace("_", " "), f"{name} has no label"
    reference = (Path(__file__).resolve().parents[1] / "docs" / "scenario-reference.md").read_text()
    assert "## Costs" in reference and COST_RULE in reference
