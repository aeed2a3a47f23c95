"""Capacity by profession (issue 12): recipes, joint and in-sequence parts, the both pathway,
each profession's hours, by-pathway waits, post-diagnostic follow-up on the same clinicians.

Exact answers on small services with fixed hours; the statistical direction-of-effect test for
the shipped default (the binding profession) is in test_staffing.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from helpers import NO_FLOWS
from model.metrics import group_metrics, replication_metrics
from model.pathway import PathwayModel, simulate
from model.scenario import WEEKS_PER_YEAR, Scenario, ScenarioError

FIXED = lambda v: {"kind": "fixed", "value": v}  # noqa: E731

TEAM = [{"name": "paediatrician", "wte": 2.0, "job_plan_share": 0.5},
        {"name": "psychologist", "wte": 3.0, "job_plan_share": 0.6},
        {"name": "speech_and_language_therapist", "wte": 1.5, "job_plan_share": 0.4}]

OVERLOADED: dict[str, Any] = {
    **NO_FLOWS,
    "simulation.horizon_months": 12,
    "backlog.count": 3000,
    "assessment.professions": TEAM,
    "assessment.hours_per_assessment": FIXED(10.0),
    "assessment.elapsed_weeks": FIXED(4.0),
}


def _proportional(total: float) -> dict[str, Any]:
    """A recipe giving each profession its share of the team's hours (every pathway the same)."""
    weight = {p["name"]: p["wte"] * p["job_plan_share"] for p in TEAM}
    hours = {n: FIXED(total * w / sum(weight.values())) for n, w in weight.items()}
    recipe = {"mode": "joint", "hours": hours}
    return {"autism": recipe, "adhd": recipe, "both": recipe}


def _starts(result: Any) -> np.ndarray:
    ev = result.events
    return ev[ev["event"] == "assessment_start"][["time_days", "child"]].to_numpy()


def test_by_profession_agrees_with_the_pooled_model_when_the_recipe_is_proportional() -> None:
    """The same children start on the same days; staffing changes with ramps included, and a
    list that empties (arrivals on) so hours are also lost the same way."""
    changes = [{"date": "2026-03-10", "profession": "psychologist", "wte_change": 1.5,
                "ramp_weeks": 10.0},
               {"date": "2026-06-01", "profession": "paediatrician", "wte_change": 1.0,
                "ramp_weeks": 0.0},
               {"date": "2026-06-01", "profession": "speech_and_language_therapist",
                "wte_change": 0.75, "ramp_weeks": 6.0}]
    base = {**OVERLOADED, "backlog.count": 400, "arrivals.enabled": True,
            "arrivals.referrals_per_month": 60.0, "assessment.staffing_changes": changes}
    # a psychologist job plan change alone would break the proportions: keep the team's shape
    pooled = Scenario().replace(base)
    team = pooled.replace({"assessment.capacity_model": "by_profession",
                           "assessment.recipes": _proportional(10.0)})
    # the changes scale every profession in proportion to its share of the team
    weight = {p["name"]: p["wte"] * p["job_plan_share"] for p in TEAM}
    scale = [{"date": c["date"], "profession": n, "ramp_weeks": c["ramp_weeks"],
              "wte_change": 0.3 * TEAM[k]["wte"]}
             for c in changes[:1] for k, n in enumerate(weight)]
    pooled, team = (s.replace({"assessment.staffing_changes": scale}) for s in (pooled, team))
    a, b = simulate(pooled, 0), simulate(team, 0)
    assert len(_starts(a)) > 500
    np.testing.assert_array_equal(_starts(a), _starts(b))
    ma, mb = replication_metrics(a), replication_metrics(b)
    for name in ("waiting_list_end", "assessments_completed", "list_wait_weeks_p50_end"):
        assert ma[name] == mb[name], name
    assert ma["clinician_utilisation"] == pytest.approx(mb["clinician_utilisation"], rel=1e-9)
    # each profession is used as the team is: the same share of its hours
    for p in TEAM:
        assert mb[f"utilisation_{p['name']}"] == pytest.approx(ma["clinician_utilisation"],
                                                               rel=1e-6)


def test_each_profession_gets_its_wte_job_plan_leave_and_ramped_changes() -> None:
    """Hours of one profession over the year by hand: WTE x share x 37.5 x (1 - leave/52.18)
    a week, plus a change ramping linearly over 10 weeks from day 100."""
    sc = Scenario().replace({**OVERLOADED, "assessment.capacity_model": "by_profession",
                             "assessment.staffing_changes": [
                                 {"date": "2026-04-11", "profession": "psychologist",
                                  "wte_change": 2.0, "ramp_weeks": 10.0}]})
    model = PathwayModel(sc, 0)
    working = 1 - 7.0 / WEEKS_PER_YEAR
    per_wte_day = 37.5 * working / 7.0
    horizon = 365.0
    for name, wte, share in (("paediatrician", 2.0, 0.5), ("speech_and_language_therapist", 1.5, 0.4)):
        assert model._profession_hours_between(name, 0.0, horizon) == pytest.approx(
            wte * share * per_wte_day * horizon, rel=1e-12)
    change_day, ramp = 100.0, 70.0
    extra = 2.0 * (ramp / 2 + (horizon - change_day - ramp))  # WTE-days the change adds
    expected = 0.6 * per_wte_day * (3.0 * horizon + extra)
    assert model._profession_hours_between("psychologist", 0.0, horizon) == pytest.approx(
        expected, rel=1e-12)
    # mid-ramp window: the average WTE over [100, 135] is 3 + 2 x 0.25
    assert model._profession_hours_between("psychologist", 100.0, 135.0) == pytest.approx(
        0.6 * per_wte_day * 35.0 * 3.5, rel=1e-12)
    total = sum(model._profession_hours_between(p["name"], 0.0, horizon) for p in TEAM)
    assert total == pytest.approx(model.clinical_hours_between(0.0, horizon), rel=1e-12)


def _two_professions(mode: str) -> Scenario:
    """Profession a: 10 h a week, 1 h per child; b: 10 h a week, 2 h per child (b binds)."""
    team = [{"name": "a", "wte": 1.0, "job_plan_share": 1.0},
            {"name": "b", "wte": 1.0, "job_plan_share": 1.0}]
    recipe = {"mode": mode, "hours": {"a": FIXED(1.0), "b": FIXED(2.0)}}
    return Scenario().replace({
        **OVERLOADED, "assessment.professions": team, "assessment.hours_per_wte_week": 10.0,
        "assessment.leave_weeks_per_year": 0.0, "assessment.capacity_model": "by_profession",
        "assessment.recipes": {"autism": recipe, "adhd": recipe, "both": recipe}})


def test_joint_waits_for_every_profession_and_sequence_starts_with_the_first() -> None:
    """Joint: 5 children a week (b's 10 h / 2 h). In sequence: 10 a week start with a (a's
    10 h / 1 h), b still finishes 5 a week, so the rest wait part-way through assessment."""
    weeks = 10
    results = {mode: simulate(_two_professions(mode), 0) for mode in ("joint", "sequence")}
    starts = {m: int((_starts(r)[:, 0] < 7.0 * weeks).sum()) for m, r in results.items()}
    assert starts == {"joint": 5 * weeks, "sequence": 10 * weeks}
    joint, seq = (replication_metrics(results[m]) for m in ("joint", "sequence"))
    assert joint["utilisation_b"] == pytest.approx(1.0)
    assert joint["utilisation_a"] == pytest.approx(0.5, abs=0.01)
    assert seq["utilisation_a"] == pytest.approx(1.0)
    # the same throughput at the binding profession: completions agree within a week's worth
    assert abs(joint["assessments_completed"] - seq["assessments_completed"]) <= 5
    assert seq["in_assessment_end"] > 200 > joint["in_assessment_end"]
    # child-weeks on the list: everyone joined on day 0 and nobody leaves, so each child's
    # weeks are their start day (or the horizon) over 7
    started = dict(zip(_starts(results["joint"])[:, 1], _starts(results["joint"])[:, 0]))
    weeks = sum(started.get(i, 365.0) for i in range(3000)) / 7.0
    assert joint["list_child_weeks"] == pytest.approx(weeks)
    # in sequence an assessment ends elapsed_weeks after its last part, a week or more later
    ev = results["sequence"].events
    start = ev[ev["event"] == "assessment_start"].set_index("child")["time_days"]
    end = ev[ev["event"] == "assessment_end"].set_index("child")["time_days"]
    assert ((end - start.reindex(end.index)) >= 28.0 + 7.0).all()


def test_the_both_pathway_is_assessed_together_or_one_after_the_other() -> None:
    """Both: autism (a 2 h) and ADHD (b 2 h). Together: one joint appointment, the outcome
    elapsed_weeks after the start; one after the other: the ADHD part a session later."""
    team = [{"name": "a", "wte": 1.0, "job_plan_share": 1.0},
            {"name": "b", "wte": 1.0, "job_plan_share": 1.0}]
    base = {**OVERLOADED, "assessment.professions": team, "assessment.hours_per_wte_week": 10.0,
            "assessment.leave_weeks_per_year": 0.0, "assessment.capacity_model": "by_profession",
            "referral_mix.pathway": {"autism": 0.0, "adhd": 0.0, "both": 1.0},
            "assessment.recipes.autism": {"hours": {"a": FIXED(2.0)}},
            "assessment.recipes.adhd": {"hours": {"b": FIXED(2.0)}}}
    gaps = {}
    for how in ("together", "one_after_the_other"):
        result = simulate(Scenario().replace({**base, "assessment.recipes.both_assessed": how}), 0)
        ev = result.events
        start = ev[ev["event"] == "assessment_start"].set_index("child")["time_days"]
        end = ev[ev["event"] == "assessment_end"].set_index("child")["time_days"]
        gaps[how] = (end - start.reindex(end.index)).to_numpy()
        # five a week either way: each profession's 10 hours, 2 hours a child
        assert int((start < 70.0).sum()) == 50
    np.testing.assert_allclose(gaps["together"], 28.0)
    np.testing.assert_allclose(gaps["one_after_the_other"], 35.0)


def test_a_pathway_whose_profession_has_hours_is_not_held_up_by_another() -> None:
    """Psychology is short and only autism needs it: ADHD children (paediatrician only) are
    seen within weeks while autistic children wait; by-pathway metrics (the equity module) show
    it. Stopping the clinic at the first child who cannot start would make both wait."""
    recipes = {"autism": {"hours": {"psychologist": FIXED(10.0), "paediatrician": FIXED(1.0)}},
               "adhd": {"hours": {"paediatrician": FIXED(3.0)}}}
    sc = Scenario().replace({
        **OVERLOADED, "backlog.count": 300, "arrivals.enabled": True,
        "arrivals.referrals_per_month": 60.0, "simulation.horizon_months": 18,
        "assessment.professions.0.wte": 4.0,
        "referral_mix.pathway": {"autism": 0.6, "adhd": 0.4, "both": 0.0},
        "assessment.capacity_model": "by_profession", "assessment.recipes": recipes})
    result = simulate(sc, 0)
    groups = group_metrics(result, variables=("pathway",)).set_index(["group", "metric"])["value"]
    assert groups[("adhd", "pct_referrals_assessed_within_13w")] > 90
    assert groups[("autism", "pct_referrals_assessed_within_13w")] < 10
    assert groups[("adhd", "waiting_list_end")] < 0.1 * groups[("autism", "waiting_list_end")]


FOLLOW_UP: dict[str, Any] = {
    "follow_up.enabled": True,
    "follow_up.medication_share": 0.6,
    "follow_up.titration_appointments": 3,
    "follow_up.titration_interval_weeks": 2.0,
    "follow_up.titration_hours": {"paediatrician": 1.0},
    "follow_up.review_interval_months": 3.0,
    "follow_up.review_hours": {"paediatrician": 0.5, "psychologist": 0.25},
    "follow_up.discharge_per_year": 0.2,
}


def _follow_up_scenario(**more: Any) -> Scenario:
    return Scenario().replace({
        **OVERLOADED, "simulation.horizon_months": 24, "backlog.count": 3000,
        "leaving.age_out": True, "assessment.capacity_model": "by_profession",
        "assessment.outcome": {"autism": 0.3, "adhd": 0.5, "other_nd": 0.1, "none": 0.1},
        **FOLLOW_UP, **more})


def _appointment_hours(result: Any) -> dict[str, float]:
    """Follow-up hours by profession from the log, appointment by appointment: titration from
    diagnosis every 2 weeks (3), then a review every 3 months, while before the end (or the
    horizon)."""
    ev, horizon = result.events, result.horizon_days
    start = ev[ev["event"] == "follow_up_start"].set_index("child")["time_days"]
    end = ev[ev["event"] == "follow_up_end"].set_index("child")["time_days"]
    review = 3.0 * 365.25 / 12
    hours = {"paediatrician": 0.0, "psychologist": 0.0}
    for child, t0 in start.items():
        stop = min(end.get(child, np.inf), horizon)
        times = [t0 + 14.0 * k for k in range(3)]
        titration = sum(t < stop for t in times)
        t, reviews = times[-1] + review, 0
        while t < stop:
            reviews, t = reviews + 1, t + review
        hours["paediatrician"] += 1.0 * titration + 0.5 * reviews
        hours["psychologist"] += 0.25 * reviews
    return hours


def test_follow_up_is_charged_appointment_by_appointment_to_named_professions() -> None:
    result = simulate(_follow_up_scenario(), 0)
    metrics = replication_metrics(result)
    expected = _appointment_hours(result)
    assert metrics["follow_up_starts"] > 150
    assert metrics["follow_up_hours_paediatrician"] == pytest.approx(expected["paediatrician"])
    assert metrics["follow_up_hours_psychologist"] == pytest.approx(expected["psychologist"])
    assert metrics["follow_up_hours_speech_and_language_therapist"] == 0.0
    assert metrics["follow_up_hours"] == pytest.approx(sum(expected.values()))
    assert metrics["follow_up_hours_unmet"] == 0.0  # follow-up first: every review happens
    # only ADHD diagnoses start medication follow-up, about the share asked for
    ev = result.events
    outcome = ev[ev["event"] == "assessment_end"].set_index("child")["detail"]
    started = ev[ev["event"] == "follow_up_start"]["child"]
    assert set(outcome.loc[started]) == {"adhd"}
    assert len(started) / (outcome == "adhd").sum() == pytest.approx(0.6, abs=0.06)


def test_follow_up_caseload_grows_with_diagnoses_and_takes_hours_from_new_assessments() -> None:
    off = replication_metrics(simulate(_follow_up_scenario(**{"follow_up.enabled": False}), 0))
    on = replication_metrics(simulate(_follow_up_scenario(), 0))
    more = replication_metrics(simulate(_follow_up_scenario(**{
        "assessment.outcome": {"autism": 0.1, "adhd": 0.7, "other_nd": 0.1, "none": 0.1}}), 0))
    assert off["follow_up_caseload_end"] == 0 and off["follow_up_hours"] == 0
    assert more["follow_up_caseload_end"] > 1.2 * on["follow_up_caseload_end"] > 0
    assert more["follow_up_hours"] > on["follow_up_hours"]
    # the paediatricians' follow-up hours come out of new assessments
    assert on["assessments_started"] < off["assessments_started"]
    assert more["assessments_started"] < on["assessments_started"]
    # assessments first: new assessments keep their hours, reviews go unmet
    later = replication_metrics(simulate(_follow_up_scenario(
        **{"follow_up.priority": "assessments_first"}), 0))
    assert later["assessments_started"] > on["assessments_started"]
    assert later["follow_up_hours_unmet"] > 0


def test_a_starting_caseload_takes_its_expected_review_hours() -> None:
    """500 children on reviews at the start, leaving at 0.2 + 1/4 a year: the expected review
    hours integrate N e^{-rt} over the horizon (no diagnoses: nobody is assessed)."""
    sc = _follow_up_scenario(**{"follow_up.initial_caseload": 500,
                                "follow_up.initial_caseload_years_to_18": 4.0,
                                "assessment.outcome": {"autism": 0.5, "adhd": 0.0,
                                                       "other_nd": 0.4, "none": 0.1}})
    metrics = replication_metrics(simulate(sc, 0))
    rate = (0.2 + 0.25) / 365.25
    horizon = 730.0  # 2026-2027
    child_days = 500 * (1 - np.exp(-rate * horizon)) / rate
    reviews = child_days / (3.0 * 365.25 / 12)
    assert metrics["follow_up_hours"] == pytest.approx(reviews * 0.75, rel=1e-9)
    assert metrics["follow_up_caseload_end"] == pytest.approx(500 * np.exp(-rate * horizon))


def test_recipes_and_follow_up_must_name_the_team() -> None:
    with pytest.raises(ScenarioError, match="recipes name \\['nurse'\\]"):
        Scenario().replace({"assessment.capacity_model": "by_profession",
                            "assessment.recipes.adhd": {"hours": {"nurse": FIXED(2.0)}}})
    with pytest.raises(ScenarioError, match="follow_up names \\['psychiatrist'\\]"):
        Scenario().replace({"follow_up.enabled": True,
                            "follow_up.review_hours": {"psychiatrist": 0.5}})
    with pytest.raises(ScenarioError, match="hours is empty"):
        Scenario().replace({"assessment.capacity_model": "by_profession",
                            "assessment.recipes.adhd": {"hours": {}}})


def test_calibration_scales_the_team_so_the_binding_profession_gives_the_throughput() -> None:
    """The extract has no profession column: the recipes and the team's shape are kept, and one
    factor scales every profession so the binding one allows the fitted 40 assessments a month
    (the pooled model: the team's hours over hours per assessment, as before)."""
    import pandas as pd

    from calibration.fitters import CapacityFitter
    from model.staffing import assessments_per_week_by_profession

    months = pd.period_range("2024-01", periods=18, freq="M").astype(str)
    fit = CapacityFitter().fit(pd.Series(40.0, index=months), pd.Series(5000.0, index=months))
    base = Scenario().replace({"assessment.capacity_model": "by_profession"})
    scaled = base.replace(fit.to_scenario(base))
    per_week = assessments_per_week_by_profession(scaled)
    assert min(per_week.values()) == pytest.approx(40.0 * 12 / WEEKS_PER_YEAR, rel=1e-3)
    ratio = [p.wte / q.wte for p, q in zip(scaled.assessment.professions,
                                          base.assessment.professions)]
    assert max(ratio) == pytest.approx(min(ratio), rel=1e-3)
    pooled = Scenario()
    hours = pooled.replace(fit.to_scenario(pooled)).assessment.clinical_hours_per_week()
    assert hours == pytest.approx(40.0 * 12 / WEEKS_PER_YEAR * 11.5, rel=1e-3)


def test_utilisation_by_profession_is_written_with_its_labels(tmp_path: Any) -> None:
    import pandas as pd

    from model.experiment import run_replications
    from model.labels import label
    from model.results import PROFESSIONS, write_results

    sc = Scenario().replace({**OVERLOADED, "assessment.capacity_model": "by_profession",
                             "simulation.horizon_months": 6, "backlog.count": 600})
    experiment = run_replications(sc, 2, executor="serial")
    write_results(tmp_path / "run", experiment, {"seed": 1}, figures=False)
    table = pd.read_csv(tmp_path / "run" / PROFESSIONS).set_index(["profession", "metric"])
    per_rep = experiment.per_replication
    for p in TEAM:
        row = table.loc[(p["name"], "utilisation")]
        assert row["mean"] == pytest.approx(per_rep[f"utilisation_{p['name']}"].mean())
        assert 0 < row["mean"] <= 1
        assert row["label"] == label(f"utilisation_{p['name']}", (p["name"],))
    assert label("utilisation_psychologist", ("psychologist",)) == (
        "Share of the psychologists' clinical hours for the service used (assessment and "
        "follow-up)")
