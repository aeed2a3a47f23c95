"""Which profession's hours are the constraint: named from a run's own per-profession
utilisation (the numbers ``professions.csv`` holds), so a commissioner who adds paediatricians to
a team that waits on psychologists is told why the list barely moves.

Small runs (12 months, 3 replications, serial): the default's list of 7,000 children keeps every
profession busy from the first week, so which one runs out shows at once.
"""

from __future__ import annotations

import re

import pytest

from app import core
from model.experiment import ExperimentResult, run_replications
from model.results import profession_table
from model.staffing import constrained_professions, constraint_sentence


def run(wte: tuple[float, float, float] | None = None, **overrides: object) -> ExperimentResult:
    base = core.load_shipped("default")[0]
    levers = core.levers_from(base, replications=3).with_changes(horizon_months=12)
    if wte is not None:
        levers = levers.with_changes(wte=wte)
    scenario = core.apply_levers(base, levers)
    if overrides:
        scenario = scenario.replace(dict(overrides))
    return run_replications(scenario, executor="serial", groups=False)


@pytest.fixture(scope="module")
def status_quo() -> ExperimentResult:
    return run()


@pytest.fixture(scope="module")
def more_paediatricians() -> ExperimentResult:
    return run((5.0, 3.0, 2.0))


def used(result: ExperimentResult) -> dict[str, float]:
    """Each profession's share of its hours used, as professions.csv has it."""
    table = profession_table(result)
    table = table[table["metric"] == "utilisation"]
    return dict(zip(table["profession"], table["mean"]))


def shares_said(sentence: str) -> list[int]:
    return [int(x) for x in re.findall(r"(\d+)%", sentence)]


def test_the_default_team_waits_on_its_psychologists_and_the_note_says_so(status_quo):
    shares = used(status_quo)
    assert max(shares, key=shares.get) == "psychologist"  # the run's own busiest profession
    assert constrained_professions(status_quo) == ["psychologist"]
    note = core.constraint_note(status_quo)
    assert note.startswith("Psychologists' hours are the constraint: ")
    # every share is the run's, rounded, busiest first: psychologists, then the others
    expected = sorted(shares.values(), reverse=True)
    assert shares_said(note) == [round(100 * s) for s in expected]
    assert "paediatricians" in note and "speech and language therapists" in note
    assert "over the 12 months" in note and "averages of 3 projections" in note
    assert note.endswith("Adding other professions alone changes little.")


def test_more_paediatricians_leave_the_psychologists_the_constraint(status_quo,
                                                                      more_paediatricians):
    """+2 paediatrician WTE: the paediatricians' share falls, the psychologists stay the
    constraint; the note is read from the run shown, not from the starting scenario."""
    before, after = used(status_quo), used(more_paediatricians)
    assert after["paediatrician"] < before["paediatrician"] - 0.2
    note = core.constraint_note(more_paediatricians)
    assert note.startswith("Psychologists' hours are the constraint")
    assert f"paediatricians {round(100 * after['paediatrician'])}%" in note
    assert f"paediatricians {round(100 * before['paediatrician'])}%" not in note


def test_more_psychologists_move_the_constraint_to_the_paediatricians():
    result = run((3.0, 5.0, 2.0))
    assert constrained_professions(result) == ["paediatrician"]
    note = constraint_sentence(result)
    assert note.startswith("Paediatricians' hours are the constraint")
    assert f"psychologists {round(100 * used(result)['psychologist'])}%" in note


def test_two_professions_nearly_as_busy_are_both_named():
    # half a speech and language therapist: they run out, and the paediatricians almost do
    result = run((3.0, 3.0, 0.5))
    shares = used(result)
    assert constrained_professions(result) == ["speech_and_language_therapist", "paediatrician"]
    assert shares["paediatrician"] >= 0.9
    note = constraint_sentence(result)
    assert note.startswith("Speech and language therapists' and paediatricians' hours are the "
                           "constraint")
    assert f"(psychologists {round(100 * shares['psychologist'])}%;" in note


def test_a_team_with_hours_to_spare_is_not_said_to_be_constrained():
    # no list at the start and a tenth of the referrals: every profession has hours left over
    result = run((6.0, 6.0, 4.0), **{"backlog.enabled": False, "arrivals.referrals_per_month": 25.0})
    shares = used(result)
    assert max(shares.values()) < 0.9
    assert constrained_professions(result) == []
    note = constraint_sentence(result)
    assert note.startswith("No profession's hours ran out: the busiest, ")
    assert "constraint" not in note and "changes little" not in note
    assert "%; averages of 3 projections)." in note
    assert shares_said(note) == [round(100 * s) for s in sorted(shares.values(), reverse=True)]


def test_a_needed_profession_with_no_hours_is_the_constraint():
    result = run((0.0, 3.0, 2.0))
    assert constrained_professions(result) == ["paediatrician"]
    assert constraint_sentence(result).startswith(
        "Paediatricians have no clinical hours for the service (0 WTE)")


def test_nothing_is_said_when_the_team_pools_its_hours():
    result = run(**{"assessment.capacity_model": "clinical_hours"})
    assert constrained_professions(result) == []
    assert core.constraint_note(result) == ""
