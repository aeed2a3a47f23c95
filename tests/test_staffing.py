"""Which post should we fund? (issue 12): with the default team, the profession whose hours run
out first limits assessments, so adding it shortens the list and the waits (paired, 95%) while
adding one that does not bind changes little; the fewest-WTE search by profession mix."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import pytest

from model.experiment import compare, run_replications
from model.questions import Lever, Target
from model.scenario import Scenario, load_scenario
from model.staffing import (MixLever, assessments_per_week_by_profession, balanced_mix,
                            binding_profession, effects_table, fewest_wte, post_effects,
                            recipe_hours_by_profession, with_extra)

SHORT = ["simulation.horizon_months=18"]


def test_the_recipe_arithmetic_names_the_binding_profession() -> None:
    """Default recipes over the default mix: paediatrician 0.55 x 2.5 + 0.30 x 4.5 + 0.15 x 7,
    psychologist 0.55 x 5 + 0.30 x 4 + 0.15 x 9, therapist 0.70 x 3.5 hours an assessment."""
    s = load_scenario("scenarios/default.toml")
    need = recipe_hours_by_profession(s)
    assert need == pytest.approx({"paediatrician": 3.775, "psychologist": 5.3,
                                  "speech_and_language_therapist": 2.45})
    per_week = assessments_per_week_by_profession(s)
    working = 37.5 * (1 - 7.0 / (365.25 / 7))
    assert per_week["psychologist"] == pytest.approx(3.0 * 0.6 * working / 5.3)
    assert binding_profession(s) == "psychologist"
    # the balanced mix raises the psychologists first, then them and the paediatricians
    assert set(balanced_mix(s, 0.5)) == {"psychologist"}
    three = balanced_mix(s, 3.0)
    assert sum(three.values()) == pytest.approx(3.0)
    rates = assessments_per_week_by_profession(s, three)
    assert rates["psychologist"] == pytest.approx(rates["paediatrician"], rel=1e-6)
    # the search's balanced lever adds exactly that mix, from the start date, at full strength
    added = MixLever("wte").apply(s, 0.5).assessment.staffing_changes
    assert [(c.profession, c.ramp_weeks) for c in added] == [("psychologist", 0.0)]
    assert added[0].wte_change == pytest.approx(0.5)
    # the pooled model splits the team's hours per assessment as the team's hours are split
    pooled = s.replace({"assessment.capacity_model": "clinical_hours"})
    assert sum(recipe_hours_by_profession(pooled).values()) == pytest.approx(11.5)


@pytest.mark.slow
def test_adding_the_binding_profession_shortens_the_list_and_a_non_binding_one_changes_little() -> None:
    s = load_scenario("scenarios/default.toml", overrides=SHORT)
    effects = post_effects(s, 1.0, replications=5)
    rank = effects.ranking.set_index("profession")
    psych = rank.loc["psychologist"]
    assert effects.ranking.iloc[0]["profession"] == "psychologist" == effects.binding
    # the binding profession: shorter list and waits, the 95% intervals below zero
    for name in ("waiting_list_end", "list_wait_weeks_p50_end", "list_wait_weeks_p92_end"):
        assert psych[f"{name}_ci_high"] < 0, name
    assert psych["waiting_list_end"] < -50
    assert psych["cost_total"] == pytest.approx(85_000 * 18 / 12, rel=0.01)  # the post's cost
    # the child-weeks avoided are the paired change in list_child_weeks, whose interval gives
    # the cost per child-week avoided its interval
    assert psych["child_weeks_avoided"] == pytest.approx(-psych["list_child_weeks"])
    assert psych["child_weeks_avoided"] > 20 * abs(psych["waiting_list_end"])
    assert psych["cost_per_child_week_avoided"] == pytest.approx(
        psych["cost_total"] / -psych["list_child_weeks"])
    assert psych["cost_per_child_week_avoided_ci_low"] == pytest.approx(
        psych["cost_total"] / -psych["list_child_weeks_ci_low"])
    # a profession that does not bind: the change is a few children at most, both ways possible
    slt = rank.loc["speech_and_language_therapist"]
    assert abs(slt["waiting_list_end"]) < 0.05 * abs(psych["waiting_list_end"])
    assert slt["waiting_list_end_ci_low"] <= 0 <= slt["waiting_list_end_ci_high"] or abs(
        slt["waiting_list_end"]) < 5
    assert math.isnan(slt["cost_per_child_week_avoided"])
    assert "psychologist WTE shortens the list" in effects.sentence()
    words = effects_table(effects)
    assert words.iloc[0]["+1 WTE of"] == "psychologist"
    assert words.iloc[-1]["£ per child-week avoided"].startswith("not defined")
    # money as every table writes it: "+£128k", not "+127,500"
    assert re.fullmatch(r"\+£\d+(\.\d)?k( \(.*\))?", words.iloc[0]["cost (£)"]), words.iloc[0]
    # the pooled model cannot tell the posts apart by profession: any hours shorten the list
    pooled = s.replace({"assessment.capacity_model": "clinical_hours"})
    base, more = (run_replications(x, 2, groups=False) for x in (
        pooled, with_extra(pooled, {"speech_and_language_therapist": 1.0})))
    diff = compare(base, more).set_index("metric")
    assert diff.loc["waiting_list_end", "ci_high"] < 0


def _small() -> Scenario:
    return load_scenario("scenarios/default.toml", overrides=[
        "simulation.horizon_months=24", "backlog.count=800", "arrivals.referrals_per_month=60",
        "support.enabled=false", "escalation.enabled=false"])


@pytest.mark.slow
def test_the_fewest_extra_wte_comes_from_the_mix_that_raises_the_binding_profession() -> None:
    s = _small()
    target = Target("list_below", 400.0, "2027-12")
    levers = [Lever("wte", profession="speech_and_language_therapist"),
              Lever("wte", profession="psychologist"), MixLever("wte")]
    found = fewest_wte(s, target, replications=2, levers=levers, max_wte=4.0, tolerance=0.5)
    table = found.table.set_index("mix")
    # therapists do not bind, and psychologists alone soon meet the paediatricians' limit
    assert math.isnan(table.loc["speech_and_language_therapist", "extra_wte"])
    assert math.isnan(table.loc["psychologist", "extra_wte"])
    # the balanced mix (psychologists first, then with paediatricians) meets it
    assert table.loc["balanced", "extra_wte"] <= 4.0
    assert "psychologist" in table.loc["balanced", "split"]
    assert "paediatrician" in table.loc["balanced", "split"]
    assert found.best is not None and found.best["mix"] == "balanced"
    assert "The fewest" in found.sentence()


def test_post_effects_refuses_nonsense() -> None:
    s = _small()
    with pytest.raises(ValueError, match="extra_wte must be above 0"):
        post_effects(s, 0.0, replications=1)
    with pytest.raises(ValueError, match="choose from"):
        with_extra(s, {"nurse": 1.0})


def test_ndpath_staffing_ranks_the_posts_and_writes_the_tables(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from ndpath.cli import main

    # the fewest-WTE search itself is tested above; here the command's tables
    code = main(["staffing", "default", "--months", "6", "--replications", "2", "--executor",
                 "serial", "--set", "backlog.count=1500", "--out", str(tmp_path / "st"),
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.index("psychologist WTE shortens the list") < out.index("rank")
    table = pd.read_csv(tmp_path / "st" / "staffing.csv")
    assert list(table["profession"])[0] == "psychologist"
    assert set(table["profession"]) == {"paediatrician", "psychologist",
                                        "speech_and_language_therapist"}
    assert not (tmp_path / "st" / "staffing_fewest_wte.csv").exists()  # no --by, no search
    differences = pd.read_csv(tmp_path / "st" / "staffing_differences.csv")
    assert len(differences) == 3 * 7
    assert main(["staffing", "default", "--extra-wte", "0"]) == 2
    assert "--extra-wte 0" in capsys.readouterr().err
    assert main(["staffing", "default", "--by", "2026-06", "--target-kind", "list_below"]) == 2
    assert "needs --target N" in capsys.readouterr().err
