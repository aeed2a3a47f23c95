"""Fuzzing every input boundary through the command line (issue 14).

Thousands of mutated scenario files, ``--set`` options, command options, extracts and monthly
series (see ``tests/fuzz_inputs.py``) run through ``ndpath`` in this process. Every case must end
with exit 0 or 2 and no traceback; every case the fuzzer knows is invalid must exit 2 with a
message naming its key, column or problem. The run is seeded, so a failure is reproducible; each
failure found while building this was kept below as a regression case.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from fuzz_inputs import Case, Outcome, all_cases, run_case

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "default.toml"
QUICK = (130, 60, 40, 20)
"""Scenario, --set, extract and monthly cases of the quick run (options and specials added)."""
FULL = (470, 150, 100, 30)


def _fuzz(tmp_path: Path, counts: tuple[int, int, int, int], seed: int) -> list[Outcome]:
    cases = all_cases(*counts, seed=seed)
    outcomes: list[Outcome] = []
    for k, case in enumerate(cases):
        outcomes += run_case(case, tmp_path / f"case{k}")
    tally = collections.Counter("crash" if o.crash or o.code not in (0, 2) else f"exit {o.code}"
                                for o in outcomes)
    runs = sum(1 for o in outcomes if o.case.kind.endswith("/run"))
    print(f"\nfuzz seed {seed}: {len(cases)} cases ({runs} also run), {dict(tally)}, "
          f"{sum(c.invalid for c in cases)} marked invalid")
    bad = [o for o in outcomes if not o.ok]
    assert not bad, f"{len(bad)} of {len(outcomes)} outcomes wrong:\n\n" + "\n\n".join(
        o.describe() for o in bad[:15])
    return outcomes


def test_fuzz_quick(tmp_path: Path) -> None:
    """A few hundred cases of every kind (the quick suite)."""
    outcomes = _fuzz(tmp_path, QUICK, seed=1)
    assert len({o.case.kind for o in outcomes}) >= 6
    assert len(outcomes) >= 250


@pytest.mark.slow
def test_fuzz_full(tmp_path: Path) -> None:
    """About 800 more cases: with the quick ones, the full suite fuzzes over a thousand."""
    outcomes = _fuzz(tmp_path, FULL, seed=14)
    cases = sum(1 for o in outcomes if not o.case.kind.endswith("/run"))
    assert cases + len(all_cases(*QUICK, seed=1)) >= 1000
    # both ends are exercised: the fuzzer is not only producing garbage nor only good files
    codes = collections.Counter(o.code for o in outcomes)
    assert codes[0] >= 80 and codes[2] >= 400


def test_fuzzer_cannot_pass_a_crash(tmp_path: Path) -> None:
    """The fuzzer's own check fails a case that raises, exits 1, or accepts an invalid input."""
    crash = run_case(Case("plant", "raises", ["run", "default", "--months", "nope"]), tmp_path)[0]
    assert crash.code == 2 and crash.ok  # argparse's usage error: fine
    accepted = Outcome(Case("plant", "accepted", ["check", "default"], invalid=True), 0, "", "")
    traceback = Outcome(Case("plant", "traceback", ["check"]), 2, "", "error\nTraceback (most")
    raised = Outcome(Case("plant", "raised", ["check"]), None, "", "", crash="ValueError")
    unnamed = Outcome(Case("plant", "unnamed", ["check"], invalid=True, fragment="places"), 2, "",
                      "error: something is wrong")
    assert not any(o.ok for o in (accepted, traceback, raised, unnamed))


# -------------------------------------------------------------------------------------------------
# Regression cases: each class of issue 14, and each failure the fuzzer found while this was built

EXTENDS = f'extends = "{DEFAULT}"\n'
RUN = ["--months", "2", "--replications", "1", "--no-figures", "--executor", "serial",
       "--quiet", "--overwrite"]

SCENARIO_REGRESSIONS = {
    # crashes on main
    "nan histogram weight": (EXTENDS + "[backlog]\nwaited_weeks = { kind = \"histogram\", "
                             "edges = [0, 13, 52], weights = [nan, 1] }\n",
                             "backlog.waited_weeks.weights[0] = nan: must be a finite number"),
    "inf histogram edge": (EXTENDS + "[backlog]\nwaited_weeks = { kind = \"histogram\", "
                           "edges = [0, 13, inf], weights = [1, 1] }\n", "edges[2] = inf"),
    "inf cost": (EXTENDS + "[support]\ncost_per_week = inf\n", "support.cost_per_week = inf"),
    "nan distribution mean": (EXTENDS + "[vetting]\nduration_days = { kind = \"gamma\", "
                              "mean = nan, sd = 1 }\n", "vetting.duration_days.mean = nan"),
    "extends a folder": ('extends = "."\n', "is a folder"),
    "extends empty": ('extends = ""\n', "extends = '': must name a scenario file"),
    "lognormal enormous sd": (EXTENDS + "[assessment]\nhours_per_assessment = { kind = "
                              "\"lognormal\", mean = 11, sd = 1e300 }\n",
                              "hours_per_assessment.sd = 1e+300: must be at most"),
    "lognormal sd far above mean": (EXTENDS + "[assessment]\nhours_per_assessment = { kind = "
                                    "\"lognormal\", mean = 1e-6, sd = 1000 }\n",
                                    "more than 1000 times the mean"),
    "weibull too narrow to solve": (EXTENDS + "[assessment]\nelapsed_weeks = { kind = "
                                    "\"weibull\", mean = 8, sd = 0.001 }\n", "no Weibull"),
    "huge cost overflows the total": (EXTENDS + "[[assessment.professions]]\nname = \"x\"\n"
                                      "wte = 1\ncost_per_wte_year = 1e308\n",
                                      "cost_per_wte_year = 1e+308: must be at most"),
    # invalid accepted on main
    "quoted number": (EXTENDS + "[support]\ncost_per_week = \"1e3\"\n", "text in quotes"),
    "boolean as number": (EXTENDS + "[support]\nplaces = true\n", "true/false is not a number"),
    "number as boolean": (EXTENDS + "[support]\nenabled = 1\n", "must be true or false"),
    "fraction for a count": (EXTENDS + "[backlog]\ncount = 10.5\n", "whole number"),
    "date in day-first order": (EXTENDS + "[simulation]\nstart_date = \"01/04/2026\"\n",
                                "YYYY-MM-DD"),
    "impossible date": (EXTENDS + "[simulation]\nstart_date = \"2026-02-30\"\n",
                        "February 2026 has 28 days"),
    "date as a number": (EXTENDS + "[simulation]\nstart_date = 20260101\n", "must be a date"),
    "empty outcome mix": (EXTENDS + "[assessment]\noutcome = {}\n", "assessment.outcome = {}"),
    "partial mix without base": ("[referral_mix]\npathway = { autism = 1.0 }\n",
                                 "not adhd, both"),
    "negative near_18_months": (EXTENDS + "[assessment]\nnear_18_months = -1\n",
                                "near_18_months = -1: must be at least 0 (months before"),
    "profession named =": (EXTENDS + "[[assessment.professions]]\nname = \"=\"\nwte = 1\n",
                           "professions[0].name = '='"),
    "empty key name": (EXTENDS + "[support]\n\"\" = 1\n", "a key with an empty name"),
    "empty file": ("", "the file is empty"),
    "only comments": ("# nothing here\n", "holds only comments"),
    "negative histogram edge for ages": (EXTENDS + "[referral_mix]\nage_at_referral_years = { "
                                         "kind = \"histogram\", edges = [-2, 5, 18], weights = "
                                         "[1, 1] }\n", "can give values below 0"),
    "backlog table is a folder": (EXTENDS + "[backlog]\ntable = \".\"\n", "is a folder"),
}


@pytest.mark.parametrize("name", sorted(SCENARIO_REGRESSIONS))
def test_scenario_regressions_exit_2_naming_the_key(name: str, tmp_path: Path) -> None:
    text, fragment = SCENARIO_REGRESSIONS[name]
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    # run, not check: a value that passed validation on main crashed only when the run was
    # written, so these go the whole way
    outcome = run_case(Case("regression", name, ["run", str(path), *RUN, "--out",
                                                 str(tmp_path / "out")], invalid=True,
                            fragment=fragment), tmp_path)[0]
    assert outcome.ok, outcome.describe()


def test_non_utf8_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes('[meta]\nname = "Caf\u00e9"\n'.encode("latin-1"))
    outcome = run_case(Case("regression", "latin-1", ["check", str(path)], invalid=True,
                            fragment="not UTF-8 text (byte 0xe9 on line 2"), tmp_path)[0]
    assert outcome.ok, outcome.describe()


SET_REGRESSIONS = {
    "support.enabled=-0": "support.enabled = 0: must be true or false",
    "support.places=true": "true/false is not a number",
    'arrivals.referrals_per_month="250"': "text in quotes",
    "arrivals.annual_growth=nan": "finite",
    "assessment.professions.-1.wte=2": "no negative positions",
    # past the end of a list: how many items it has and how they are numbered
    "assessment.professions.9.wte=2": "assessment.professions has 3 item(s), numbered 0 to 2",
    "support..places=2": "empty part",
    "assessment.professions.0.name==": "professions[0].name = '='",
}


@pytest.mark.parametrize("item", sorted(SET_REGRESSIONS))
def test_set_regressions(item: str, tmp_path: Path) -> None:
    outcome = run_case(Case("regression", item, ["check", "default", "--set", item],
                            invalid=True, fragment=SET_REGRESSIONS[item]), tmp_path)[0]
    assert outcome.ok, outcome.describe()


def _rows(n: int) -> str:
    return "".join(f"r{i},2024-0{1 + i % 9}-1{i % 10}\n" for i in range(n))


TABLE_REGRESSIONS = {
    "extract header only": ("e", "referral_id,referral_date\n", "has column names but no rows"),
    "extract column twice": ("e", "referral_id,referral_date,Referral_Date\na,2024-01-01,"
                             "2024-02-01\n", "column referral_date: appears 2 times"),
    "extract column misspelt": ("e", "referral_id,referral_date,assesment_start_date\n"
                                "a,2024-01-01,2024-02-01\n", "looks like assessment_start_date"),
    "extract impossible date": ("e", "referral_id,referral_date\na,31/02/2023\n",
                                "February 2023 has 28 days"),
    "extract impossible ISO date": ("e", "referral_id,referral_date\na,2023-04-31\n",
                                    "April 2023 has 30 days"),
    "extract semicolons": ("e", "referral_id;referral_date\na;2024-01-01\n",
                           "separated by semicolons"),
    "extract tabs": ("e", "referral_id\treferral_date\na\t2024-01-01\n", "separated by tabs"),
    "extract empty": ("e", "", "the file is empty"),
    "monthly header only": ("m", "month,new_referrals\n", "has column names but no rows"),
    "monthly all zeros": ("m", "month,new_referrals\n" + "".join(
        f"202{y}-{m:02d},0\n" for y in (0, 1) for m in range(1, 13)), "0 in every month"),
    "monthly all blank": ("m", "month,new_referrals\n" + "".join(
        f"2020-{m:02d},nan\n" for m in range(1, 13)), "has no counts"),
    "monthly huge counts": ("m", "month,new_referrals\n" + "".join(
        f"2020-{m:02d},{10 ** 20 if m == 5 else 100}\n" for m in range(1, 13)),
        "row 6, column new_referrals"),
    "monthly fractional counts": ("m", "month,new_referrals\n" + "".join(
        f"2020-{m:02d},{m + 0.5}\n" for m in range(1, 13)), "is not a whole number"),
    "monthly Month and month": ("m", "Month,month,new_referrals\n2020-01,2020-01,5\n",
                                "column month: appears 2 times (headers 'Month', 'month'"),
    "monthly semicolons": ("m", "month;new_referrals\n2020-01;5\n", "separated by semicolons"),
    "monthly month 13": ("m", "month,new_referrals\n2020-13,5\n", "there is no month 13"),
}


@pytest.mark.parametrize("name", sorted(TABLE_REGRESSIONS))
def test_table_regressions(name: str, tmp_path: Path) -> None:
    which, text, fragment = TABLE_REGRESSIONS[name]
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    argv = (["validate", str(path), "--extract-date", "2025-12-31"] if which == "e" else
            ["calibrate", "--monthly", str(path), "--out", str(tmp_path / "o"), "--overwrite"])
    outcome = run_case(Case("regression", name, argv, invalid=True, fragment=fragment), tmp_path)[0]
    assert outcome.ok, outcome.describe()


def test_latin1_extract_names_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("referral_id,referral_date,note\na,2024-01-01,caf\u00e9\n".encode("latin-1"))
    outcome = run_case(Case("regression", "latin-1 extract",
                            ["validate", str(path), "--extract-date", "2025-12-31"], invalid=True,
                            fragment="CSV UTF-8"), tmp_path)[0]
    assert outcome.ok, outcome.describe()


def test_upload_reader_is_the_same_boundary() -> None:
    """The app's upload path reads bytes with the command line's reader: same problems."""
    from app.upload import frame_from_upload
    from calibration.extract import ExtractError

    for data, fragment in ((b"referral_id;referral_date\na;2024-01-01\n", "semicolons"),
                           (b"referral_id,referral_date\n", "no rows"),
                           (b"referral_id,referral_date,referral_date\na,b,c\n", "appears 2"),
                           (b"referral_id,x\na,caf\xe9\n", "UTF-8")):
        with pytest.raises(ExtractError, match=fragment):
            frame_from_upload("upload.csv", data)
    frame = frame_from_upload("upload.csv", b"Referral ID,referral_date\na,2024-01-01\n")
    assert list(frame.columns) == ["referral_id", "referral_date"]


def test_set_past_an_empty_list_says_it_is_empty() -> None:
    """A scenario file's empty list (``staffing_changes = []``) has no item 0 to set."""
    from model.scenario import ScenarioError, _apply_overrides

    with pytest.raises(ScenarioError, match="assessment.staffing_changes is empty"):
        _apply_overrides({"assessment": {"staffing_changes": []}},
                         {"assessment.staffing_changes.0.date": "2026-06-01"})
