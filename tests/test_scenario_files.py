"""Scenario files: every shipped file loads, every kind of mistake gives a clear error naming the
key path and the value, files round-trip, and variants never change the scenario they came from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.scenario import Scenario, ScenarioError, build_scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").rglob("*.toml"))
DEFAULT = ROOT / "scenarios" / "default.toml"


def test_the_scenario_library_is_all_there() -> None:
    names = {p.relative_to(ROOT / "scenarios").as_posix() for p in SHIPPED}
    assert {"default.toml", "extra_clinicians.toml", "needs_led_profiling.toml",
            "support_while_waiting.toml", "outsourced_backlog.toml", "prioritise_vulnerable.toml",
            "combined.toml", "validation/mmc.toml", "validation/mmc_abandonment.toml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT / "scenarios").as_posix())
def test_every_shipped_scenario_loads_and_round_trips(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    again = tmp_path / "again.toml"
    again.write_text(scenario.to_toml())
    reloaded = load_scenario(again)
    assert reloaded == scenario
    assert reloaded.digest() == scenario.digest()
    assert build_scenario(scenario.to_dict()) == scenario


def test_variants_change_what_they_say() -> None:
    base = load_scenario(DEFAULT)
    assert base.meta.illustrative and "illustrative" in base.meta.name.lower()
    assert base.backlog.count > 1000 and base.arrivals.annual_growth > 0
    assert not base.profiling.enabled
    profiling = load_scenario(ROOT / "scenarios" / "needs_led_profiling.toml")
    assert profiling.profiling.enabled
    assert profiling.profiling.routing.diagnostic == pytest.approx(0.4)
    # besides the front door it routes by the latent outcome and has failure demand (issue 11)
    assert profiling.profiling_accuracy.enabled and profiling.rereferral.enabled
    assert profiling.replace({"profiling.enabled": False, "meta": base.meta.model_dump(),
                              "profiling_accuracy": base.profiling_accuracy.model_dump(),
                              "rereferral": base.rereferral.model_dump()}) == base
    assert load_scenario(ROOT / "scenarios" / "prioritise_vulnerable.toml").assessment.discipline \
        == "priority"
    assert sum(c.wte_change for c in load_scenario(
        ROOT / "scenarios" / "extra_clinicians.toml").assessment.staffing_changes) > 0
    mmc = load_scenario(ROOT / "scenarios" / "validation" / "mmc.toml")
    assert mmc.arrivals.referrals_per_month * 12 / 365.25 == pytest.approx(9.0)
    abandonment = load_scenario(ROOT / "scenarios" / "validation" / "mmc_abandonment.toml")
    assert abandonment.leaving.withdrawal_per_year / 365.25 == pytest.approx(0.5)
    assert abandonment.assessment.servers == mmc.assessment.servers == 10


def _problems(tmp_path: Path, text: str, name: str = "bad.toml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(path.parent) in str(error.value) or name in str(error.value)
    return error.value.problems


BASE = f'extends = "{DEFAULT}"\n'

BAD_FILES = {
    "unknown key": (BASE + "[assessment]\nsessions_per_week = 3\n",
                    ["assessment.sessions_per_week", "unknown key"]),
    "unknown section": (BASE + "[staffing]\nwte = 3\n", ["staffing", "unknown key"]),
    "unknown key in a distribution": (
        BASE + '[vetting]\nduration_days = { kind = "gamma", mean = 14.0, sd = 7.0, shape = 2 }\n',
        ["vetting.duration_days", "shape", "unknown key"]),
    "wrong type": (BASE + '[arrivals]\nreferrals_per_month = "lots"\n',
                   ["arrivals.referrals_per_month", "'lots'", "number"]),
    "wrong type of table": (BASE + "[backlog]\ncount = 12.5\n", ["backlog.count", "12.5"]),
    "out of range": (BASE + "[vetting]\naccept_probability = 1.5\n",
                     ["vetting.accept_probability", "1.5", "must be at most 1"]),
    "negative WTE": (BASE + "[[assessment.professions]]\nname = \"psychologist\"\nwte = -2\n",
                     ["assessment.professions[0].wte", "-2"]),
    "distribution parameter out of range": (
        BASE + '[assessment]\nhours_per_assessment = { kind = "lognormal", mean = -1.0, sd = 7.0 }\n',
        ["assessment.hours_per_assessment.mean", "-1.0"]),
    "routing not summing to 1": (
        BASE + "[profiling]\nrouting = { needs_led = 0.5, diagnostic = 0.4, signposted = 0.2 }\n",
        ["profiling.routing", "sum to 1", "1.1"]),
    "outcomes not summing to 1": (
        BASE + "[assessment]\noutcome = { autism = 0.5, adhd = 0.25, other_nd = 0.19, none = 0.11 }\n",
        ["assessment.outcome", "sum to 1"]),
    "seasonality not averaging 1": (
        BASE + "[arrivals]\nseasonality = [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        ["arrivals.seasonality", "average 1", "1.083"]),
    "seasonality of 11 months": (
        BASE + "[arrivals]\nseasonality = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        ["arrivals.seasonality", "12 monthly"]),
    "unknown distribution kind": (
        BASE + '[assessment]\nhours_per_assessment = { kind = "triangular", mean = 11.5, sd = 7.0 }\n',
        ["assessment.hours_per_assessment", "'triangular'", "lognormal"]),
    "staffing change for an unknown profession": (
        BASE + "[[assessment.staffing_changes]]\ndate = 2026-04-01\nprofession = \"dentist\"\n"
        "wte_change = 2.0\n",
        ["staffing_changes[0].profession", "'dentist'", "paediatrician"]),
    "outsourced block ending before it starts": (
        BASE + "[[assessment.outsourced]]\nstart_date = 2026-05-01\nend_date = 2026-04-01\n"
        "assessments = 10\n", ["assessment.outsourced[0]", "2026-04-01", "2026-05-01"]),
    "not TOML": ("[assessment\n", ["not valid TOML", "line 1"]),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_gives_a_clear_error(kind: str, tmp_path: Path) -> None:
    text, expected = BAD_FILES[kind]
    problems = _problems(tmp_path, text)
    assert len(problems) == 1, problems
    for fragment in expected:
        assert fragment in problems[0], f"{fragment!r} not in {problems[0]!r}"


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    problems = _problems(tmp_path, BASE + "[vetting]\naccept_probability = 2.0\nspeed = 1\n"
                         "[arrivals]\nreferrals_per_month = -5\n")
    joined = "\n".join(problems)
    assert len(problems) == 3
    for fragment in ("vetting.accept_probability = 2.0", "vetting.speed",
                     "arrivals.referrals_per_month = -5"):
        assert fragment in joined


def test_extends_cycle_is_named(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    problems = _problems(tmp_path, 'extends = "b.toml"\n', "a.toml")
    assert "cycle" in problems[0] and "a.toml -> " in problems[0] and "b.toml" in problems[0]


def test_missing_extends_file_is_named(tmp_path: Path) -> None:
    problems = _problems(tmp_path, 'extends = "nope.toml"\n', "variant.toml")
    assert "file not found" in problems[0] and "nope.toml" in problems[0]
    assert "variant.toml" in problems[0], "the file that names the missing base is named too"


def test_bad_override_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"assessment\.professions\.7\.wte"):
        load_scenario(DEFAULT, ["assessment.professions.7.wte=4"])
    with pytest.raises(ScenarioError, match="key.path=value"):
        load_scenario(DEFAULT, ["assessment.servers"])
    with pytest.raises(ScenarioError, match=r"simulation\.horizon_month.*unknown key"):
        load_scenario(DEFAULT, ["simulation.horizon_month=3"])
    assert load_scenario(DEFAULT, ["simulation.horizon_months=3"]).simulation.horizon_months == 3


def test_replace_never_mutates_the_original() -> None:
    base = load_scenario(DEFAULT)
    before = base.model_dump()
    digest = base.digest()
    variant = base.replace({"assessment.professions.0.wte": 9.0, "backlog.count": 5,
                            "arrivals.seasonality": [1.0] * 12})
    assert variant.assessment.professions[0].wte == 9.0 and variant.backlog.count == 5
    assert base.model_dump() == before and base.digest() == digest
    assert base.assessment.professions[0].wte == 3.0
    with pytest.raises(Exception):
        base.backlog.count = 3  # type: ignore[misc]
    with pytest.raises(ScenarioError):
        base.replace({"vetting.accept_probability": 3.0})
    assert base.digest() == digest


def test_replace_does_not_change_the_overrides_it_is_given() -> None:
    professions = [{"name": "clinician", "wte": 1.0}]
    # one profession: the pooled model (the default's recipes name three professions)
    overrides = {"assessment.professions": professions, "assessment.professions.0.wte": 0.0,
                 "assessment.capacity_model": "clinical_hours"}
    variant = load_scenario(DEFAULT).replace(overrides)
    assert variant.assessment.professions[0].wte == 0.0
    assert professions == [{"name": "clinician", "wte": 1.0}]
    assert overrides["assessment.professions"] is professions


@pytest.mark.parametrize("text, said", [
    ("[arivals]\nreferrals_per_month = 100\n", "did you mean 'arrivals'?"),
    ("[arrivals]\nreferals_per_month = 100\n", "did you mean 'referrals_per_month'?"),
    ('[assessment]\nprofessions = [{ name = "psychologist", wte = 3, wtee = 1 }]\n',
     "did you mean 'wte'?"),
])
def test_a_misspelt_key_is_told_the_key_it_is_close_to(tmp_path: Path, text: str,
                                                        said: str) -> None:
    problems = _problems(tmp_path, BASE + text)
    assert len(problems) == 1 and "unknown key" in problems[0] and said in problems[0]


def test_a_key_close_to_nothing_gets_no_guess(tmp_path: Path) -> None:
    problems = _problems(tmp_path, BASE + "zzz = 1\n")
    assert "did you mean" not in problems[0] and "docs/scenario-reference.md" in problems[0]


def test_a_misspelt_file_is_told_the_file_beside_it(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text("")
    with pytest.raises(ScenarioError) as error:
        load_scenario(tmp_path / "defualt.toml")
    assert f"did you mean {tmp_path / 'default.toml'}?" in error.value.problems[0]
    with pytest.raises(ScenarioError) as error:
        load_scenario(tmp_path / "qqq.toml")
    assert "did you mean" not in error.value.problems[0]
