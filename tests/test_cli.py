"""The ``ndpath`` command line and the results folder it writes.

One real subprocess run checks the installed entry point end to end; the rest call
``main([...])`` in-process (quicker), with small horizons and ``--executor serial`` where the
process pool is not the point.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ndpath.cli import clearance_summary, main
from model.experiment import ExperimentResult
from model.results import ResultsFolderError, read_results
from model.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "default.toml"
EXTRA = ROOT / "scenarios" / "extra_clinicians.toml"

# DESIGN.md section 3, written out here rather than imported, so the test fails if the code drops one
DESIGN_METRICS = (
    "referrals", "waiting_list_end", "waiting_total_end", "list_wait_weeks_p50_end",
    "list_wait_weeks_p92_end", "pct_waiting_over_13w_end", "pct_waiting_over_52w_end",
    "pct_waiting_over_104w_end", "pct_referrals_assessed_within_13w",
    "pct_referrals_assessed_within_52w", "pct_referrals_assessed_within_104w",
    "referral_to_assessment_weeks_p50", "wait_of_those_assessed_weeks_p50",
    "wait_of_those_assessed_weeks_p90", "wait_of_those_assessed_weeks_mean",
    "pct_of_those_assessed_within_13w", "time_to_first_support_weeks_p50",
    "pct_supported_within_13w", "pct_supported_within_52w", "assessments_completed",
    "needs_led_exits", "signposted", "rejected", "withdrawals", "aged_out", "escalations",
    "clinician_utilisation", "cost_total",
)
FAST = ["--replications", "2", "--months", "4", "--executor", "serial", "--quiet",
        "--set", "backlog.count=200", "--no-figures"]


def ndpath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ndpath", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def run_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -------------------------------------------------------------------------------------------------
# ndpath run: the "done when" command


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("run") / "x"
    done = ndpath("run", str(DEFAULT), "--replications", "4", "--months", "24", "--out", str(out),
                  "--quiet")
    return done, out


def test_run_writes_every_design_metric_with_mean_and_interval(default_run) -> None:  # type: ignore[no-untyped-def]
    done, out = default_run
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    for name in DESIGN_METRICS:
        entry = summary["metrics"][name]
        assert set(entry) >= {"mean", "ci_low", "ci_high"}, name
        if entry["mean"] is not None and entry["n"] >= 2:
            assert entry["ci_low"] <= entry["mean"] <= entry["ci_high"], name
    # the numbers a commissioner reads first are defined in this scenario
    for name in ("referrals", "waiting_list_end", "list_wait_weeks_p50_end",
                 "pct_waiting_over_52w_end", "assessments_completed", "cost_total"):
        assert summary["metrics"][name]["mean"] is not None and summary["metrics"][name]["ci_low"] is not None
    assert summary["metrics"]["waiting_list_end"]["mean"] > 0
    assert summary["provenance"]["replications"] == 4
    # the table printed on stdout carries the same waiting list
    assert "Children on the diagnostic waiting list at the end" in done.stdout


def test_run_folder_has_the_stable_files(default_run) -> None:  # type: ignore[no-untyped-def]
    _, out = default_run
    ts = pd.read_csv(out / "timeseries.csv", dtype={"month": str})
    assert list(ts.columns) == ["month", "metric", "p5", "p25", "p50", "p75", "p95"]
    assert "referrals" in set(ts["metric"]) and "waiting_list" in set(ts["metric"])
    assert ts["month"].nunique() == 24 and ts["month"].iloc[0] == "2026-01"
    ordered = ts[["p5", "p25", "p50", "p75", "p95"]].dropna().to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all()
    per_rep = pd.read_csv(out / "per_replication.csv")
    assert list(per_rep["replication"]) == [0, 1, 2, 3]
    for figure in ("list_size_fan.png", "wait_distribution.png", "list_by_wait_band.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_provenance_reproduces_the_run(default_run) -> None:  # type: ignore[no-untyped-def]
    _, out = default_run
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 20261122 and prov["replications"] == 4 and prov["months"] == 24
    assert prov["start"] == "2026-01-01"
    assert prov["scenario"]["simulation"]["horizon_months"] == 24  # --months recorded in the scenario
    paths = [f["path"] for f in prov["input_files"]]
    assert str(DEFAULT) in paths
    import hashlib

    assert prov["input_files"][paths.index(str(DEFAULT))]["sha256"] == hashlib.sha256(
        DEFAULT.read_bytes()).hexdigest()
    for key in ("python", "numpy", "simpy"):
        assert prov["versions"][key]
    assert prov["package"]["version"] and "--months 24" in prov["command"]
    # scenario.toml is the resolved scenario: it loads back to the same digest
    assert load_scenario(out / "scenario.toml").digest() == prov["scenario_digest"]
    assert load_scenario(DEFAULT, ["simulation.horizon_months=24", "simulation.replications=4"]
                         ).digest() == prov["scenario_digest"]


def test_read_results_gives_back_what_was_written(default_run) -> None:  # type: ignore[no-untyped-def]
    _, out = default_run
    saved = read_results(out)
    rebuilt = saved.experiment()
    written = saved.summary.set_index("metric")
    again = rebuilt.summary.set_index("metric")
    for name in DESIGN_METRICS:
        for column in ("mean", "ci_low", "ci_high"):
            a, b = written.at[name, column], again.at[name, column]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12), name


def test_read_results_refuses_a_folder_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(ResultsFolderError, match="summary.json"):
        read_results(tmp_path)


def test_same_seed_same_summary_other_seed_differs(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    runs = {}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        code, _, err = run_main(capsys, "run", DEFAULT, *FAST, "--seed", seed,
                                "--out", tmp_path / name)
        assert code == 0, err
        runs[name] = json.loads((tmp_path / name / "summary.json").read_text())["metrics"]
    assert runs["a"] == runs["b"]
    assert runs["a"]["referrals"] != runs["c"]["referrals"]


def test_serial_and_process_pool_write_the_same_numbers(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--replications", "2", "--months", "3", "--set", "backlog.count=100", "--quiet",
            "--no-figures"]
    assert run_main(capsys, "run", DEFAULT, *args, "--executor", "serial", "--out", tmp_path / "s")[0] == 0
    assert run_main(capsys, "run", DEFAULT, *args, "--executor", "local", "--workers", "2",
                    "--out", tmp_path / "l")[0] == 0
    serial = json.loads((tmp_path / "s" / "summary.json").read_text())["metrics"]
    pool = json.loads((tmp_path / "l" / "summary.json").read_text())["metrics"]
    assert serial == pool


# -------------------------------------------------------------------------------------------------
# User errors: exit 2, a message naming the key, no traceback


def test_unknown_set_key_subprocess(tmp_path: Path) -> None:
    done = ndpath("run", str(DEFAULT), "--set", "assessment.wtee=3", "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert "assessment.wtee" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()  # nothing written for a run that never started


def _variant(tmp_path: Path, body: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{DEFAULT}"\n{body}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "key"), [
    ("[assessment]\nwtee = 3", "assessment.wtee"),
    ('[arrivals]\nannual_growth = "fast"', "arrivals.annual_growth"),
    ("[arrivals]\nreferrals_per_month = -5.0", "arrivals.referrals_per_month"),
    ("[referral_mix.pathway]\nautism = 0.9", "referral_mix.pathway"),
])
def test_bad_scenario_file_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         body: str, key: str) -> None:
    code, _, err = run_main(capsys, "run", _variant(tmp_path, body), *FAST, "--out", tmp_path / "o")
    assert code == 2
    assert key in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "needle"), [
    (["--set", "assessment.wtee=3"], "assessment.wtee"),
    (["--set", "referral_mix.pathway.autism=0.9"], "sum to 1"),
    (["--months", "0"], "simulation.horizon_months"),
    (["--replications", "0"], "simulation.replications"),
    (["--start", "2026-13-01"], "simulation.start_date"),
    (["--set", "nonsense"], "key.path=value"),
])
def test_bad_options_name_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  args: list[str], needle: str) -> None:
    code, _, err = run_main(capsys, "run", DEFAULT, *FAST, *args, "--out", tmp_path / "o")
    assert code == 2, err
    assert needle in err
    assert "Traceback" not in err


def test_missing_file_and_bad_extends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "run", tmp_path / "nope.toml", *FAST, "--out", tmp_path / "o")
    assert code == 2 and "nope.toml" in err and "not found" in err
    bad = tmp_path / "bad_extends.toml"
    bad.write_text('extends = "no_such_base.toml"\n', encoding="utf-8")
    code, _, err = run_main(capsys, "run", bad, *FAST, "--out", tmp_path / "o")
    assert code == 2 and "no_such_base.toml" in err and "extends" in err
    assert "Traceback" not in err


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "run", DEFAULT, "--replications", "many")
    assert code == 2 and "--replications" in err
    code, _, err = run_main(capsys, "run", DEFAULT, "--executor", "cloud")
    assert code == 2 and "--executor" in err


def test_dask_scheduler_needs_dask_executor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "run", DEFAULT, "--executor", "serial", "--dask-scheduler",
                            "tcp://127.0.0.1:8786", "--out", tmp_path / "o")
    assert code == 2 and "--dask-scheduler" in err


def test_existing_results_folder_is_refused_then_overwritten_on_request(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    out.mkdir()
    keep = out / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    code, _, err = run_main(capsys, "run", DEFAULT, *FAST, "--out", out)
    assert code == 2 and "--overwrite" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    code, _, err = run_main(capsys, "run", DEFAULT, *FAST, "--out", out, "--overwrite")
    assert code == 0, err
    assert (out / "summary.json").exists() and keep.read_text() == "mine"
    # a second run into the same folder is refused again, and leaves the first results alone
    before = (out / "summary.json").read_bytes()
    code, _, _ = run_main(capsys, "run", DEFAULT, *FAST, "--seed", "1", "--out", out)
    assert code == 2 and (out / "summary.json").read_bytes() == before


# -------------------------------------------------------------------------------------------------
# ndpath compare


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("compare") / "c"
    code = main(["compare", str(DEFAULT), str(EXTRA), "--replications", "4", "--months", "24",
                 "--executor", "serial", "--quiet", "--out", str(out)])
    assert code == 0
    return out, ""


def test_compare_extra_clinicians_shortens_the_list(comparison) -> None:  # type: ignore[no-untyped-def]
    out, _ = comparison
    table = pd.read_csv(out / "comparison.csv")
    assert {"comparison", "metric", "baseline_mean", "scenario_mean", "difference", "ci_low",
            "ci_high", "n"} <= set(table.columns)
    row = table[(table["comparison"] == "extra_clinicians")
                & (table["metric"] == "waiting_list_end")].iloc[0]
    assert row["difference"] < 0 and row["ci_high"] < 0  # the interval excludes no change
    assert row["difference"] == pytest.approx(row["scenario_mean"] - row["baseline_mean"])
    done = table[(table["metric"] == "assessments_completed")].iloc[0]
    assert done["ci_low"] > 0
    # common random numbers: the same new referrals arrive in both, replication by replication,
    # so referrals differ only by the children who withdrew and came back
    refs = table[table["metric"] == "referrals"].iloc[0]
    again = table[table["metric"] == "re_referrals"].iloc[0]
    assert refs["difference"] == pytest.approx(again["difference"], abs=1e-9)
    assert refs["baseline_mean"] - again["baseline_mean"] == pytest.approx(
        refs["scenario_mean"] - again["scenario_mean"], abs=1e-9)


def test_compare_writes_each_scenario_and_the_charts(comparison) -> None:  # type: ignore[no-untyped-def]
    out, _ = comparison
    for name in ("default", "extra_clinicians"):
        assert json.loads((out / name / "summary.json").read_text())["provenance"]["seed"] == 20261122
    for figure in ("differences.png", "list_size_fan.png", "wait_distribution.png"):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["baseline"] == "default" and prov["seed"] == 20261122
    assert prov["scenarios"]["extra_clinicians"]["scenario_digest"] == json.loads(
        (out / "extra_clinicians" / "provenance.json").read_text())["scenario_digest"]
    clearance = pd.read_csv(out / "clearance.csv")
    assert list(clearance["scenario"]) == ["default", "extra_clinicians"]
    assert clearance["backlog_cleared_mean"].between(0, 1).all()


def test_compare_forces_the_baseline_seed_and_says_so(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    other = _variant(tmp_path, "[simulation]\nseed = 99", "other_seed.toml")
    code, out, err = run_main(capsys, "compare", DEFAULT, other, *FAST, "--out", tmp_path / "c")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "c" / "comparison.csv")
    assert table.loc[table["metric"] == "referrals", "difference"].iloc[0] == 0
    assert "Referrals received" in out


def test_compare_reports_every_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _variant(tmp_path, "[assessment]\nwtee = 3", "a.toml")
    b = _variant(tmp_path, "[support]\nslots = 3", "b.toml")
    code, _, err = run_main(capsys, "compare", DEFAULT, a, b, *FAST, "--out", tmp_path / "c")
    assert code == 2 and "assessment.wtee" in err and "support.slots" in err
    assert not (tmp_path / "c").exists()


def test_scenarios_lists_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "scenarios")
    assert code == 0
    assert "default.toml" in out and "extra_clinicians.toml" in out
    assert load_scenario(DEFAULT).meta.name in out


# -------------------------------------------------------------------------------------------------
# The backlog question, on a constructed result with known answers


def _constructed() -> ExperimentResult:
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    over_13 = {0: [5, 0, 3, 0], 1: [5, 5, 0, 0]}  # children waiting over 13 weeks, per month end
    lists = {0: [90, 110, 95, 80], 1: [90, 110, 95, 80]}
    rows = []
    for rep in (0, 1):
        for k, month in enumerate(months):
            rows += [{"replication": rep, "month": month, "metric": "list_wait_13_52w",
                      "value": over_13[rep][k]},
                     {"replication": rep, "month": month, "metric": "list_wait_52_104w", "value": 0},
                     {"replication": rep, "month": month, "metric": "list_wait_104w_plus", "value": 0},
                     {"replication": rep, "month": month, "metric": "waiting_list",
                      "value": lists[rep][k]}]
    per_rep = pd.DataFrame({"replication": [0, 1], "backlog_cleared": [1.0, 1.0],
                            "waiting_list_start": [100.0, 100.0]})
    return ExperimentResult(Scenario(), 1, per_rep, pd.DataFrame(rows))


def test_clearance_summary_known_answers() -> None:
    answer = clearance_summary(_constructed())
    # replication 1 first clears in March, replication 0 in February
    assert answer["month_cleared_half"] == "2026-02"
    assert answer["month_cleared_nine_in_ten"] == "2026-03"
    # the list dips in January, is above its start in February, stays below from March
    assert answer["month_median_list_below_start"] == "2026-03"
    assert answer["backlog_cleared_mean"] == 1.0


# -------------------------------------------------------------------------------------------------
# the command line's own package (issue 13): on top of model and calibration, light to start


def test_help_imports_no_numerical_library() -> None:
    """``ndpath --help`` builds every subcommand's parser without numpy, pandas, scipy,
    matplotlib, dask or pydantic (imports happen when a command runs)."""
    heavy = ("numpy", "pandas", "scipy", "matplotlib", "dask", "distributed", "pydantic",
             "simpy", "statsmodels")
    code = ("import sys, contextlib, io\n"
            "from ndpath.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    code = main(['--help'])\n"
            "for command in ('run', 'compare', 'sweep', 'calibrate', 'validate'):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        main([command, '--help'])\n"
            f"print(code, sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(maxsplit=1) == ["0", "[]\n"]


def test_a_run_imports_neither_scipy_stats_nor_dask(tmp_path: Path) -> None:
    """``ndpath run`` (files and figures) loads what it uses: scipy.stats (about half a second
    to import) and dask are for other commands."""
    code = ("import sys, contextlib, io\n"
            "from ndpath.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = main(['run', 'default', '--replications', '2', '--months', '3', '--out', "
            f"{str(tmp_path / 'run')!r}, '--quiet', '--executor', 'serial'])\n"
            "print(code, sorted(m for m in sys.modules if m.startswith(('scipy.stats', 'dask'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(maxsplit=1) == ["0", "[]\n"]
    assert (tmp_path / "run" / "list_size_fan.png").exists()


def test_engine_and_calibration_do_not_import_the_command_line() -> None:
    """The command line sits on top: importing the library never loads ``ndpath``."""
    code = ("import sys, model.experiment, model.results, calibration.calibrate, "
            "calibration.backtest\nprint(sorted(m for m in sys.modules if m.split('.')[0] == "
            "'ndpath' or m in ('model.cli', 'calibration.cli')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["ndpath", "model.cli", "calibration.cli"])
def test_every_entry_point_reports_a_user_error_without_a_traceback(module: str,
                                                                    tmp_path: Path) -> None:
    """``python -m ndpath`` and the compatible ``model.cli`` / ``calibration.cli`` shims."""
    done = subprocess.run([sys.executable, "-m", module, "run", "no_such_scenario", "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "ndpath scenarios" in done.stderr


# -------------------------------------------------------------------------------------------------
# Which profession's hours are the constraint: the line after the summary (the app says the same)


def test_run_says_which_profession_holds_the_assessments_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two more paediatricians in a team that waits on its psychologists: the summary is
    followed by the line naming the psychologists, with the shares professions.csv holds, the
    same line the app shows for that scenario."""
    from model.experiment import run_replications
    from model.staffing import constraint_sentence

    out = tmp_path / "more_paediatricians"
    code, printed, _ = run_main(capsys, "run", DEFAULT, "--replications", "2", "--months", "6",
                                "--executor", "serial", "--quiet", "--no-figures",
                                "--set", "assessment.professions.0.wte=5", "--out", out)
    assert code == 0
    lines = printed.splitlines()
    said = [line for line in lines if "hours are the constraint" in line]
    assert len(said) == 1 and said[0].startswith("Psychologists' hours are the constraint: ")
    sanity = next(i for i, line in enumerate(lines) if line.startswith("Queueing sanity check"))
    assert lines.index(said[0]) < sanity  # after the summary table, before the sanity check
    table = pd.read_csv(out / "professions.csv")
    used = table[table["metric"] == "utilisation"].set_index("profession")["mean"]
    assert used.idxmax() == "psychologist"
    assert f"paediatricians {round(100 * used['paediatrician'])}%" in said[0]
    assert (f"speech and language therapists "
            f"{round(100 * used['speech_and_language_therapist'])}%") in said[0]
    assert f"constraint: {round(100 * used['psychologist'])}% of their" in said[0]
    # the app's words: the same sentence from the same scenario, run again with its seed
    again = run_replications(load_scenario(out / "scenario.toml"), executor="serial")
    assert said[0] == constraint_sentence(again)


def test_run_of_a_pooled_team_names_no_profession(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, printed, _ = run_main(capsys, "run", DEFAULT, *FAST,
                                "--set", "assessment.capacity_model=clinical_hours",
                                "--out", tmp_path / "pooled")
    assert code == 0
    assert "hours are the constraint" not in printed and "hours ran out" not in printed


def test_the_readme_pairs_its_two_runs_of_the_default():
    """The README runs the default, then a variant to compare with it: the same seed,
    replications and months, so the two folders are paired (each replication the same
    children) and their difference is the change, not luck."""
    import shlex

    from ndpath.cli import _overrides, build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    runs = {}
    for line in readme.splitlines():
        if line.startswith("ndpath run scenarios/default.toml") and "--out results/" in line:
            args = build_parser().parse_args(shlex.split(line.split("#")[0])[1:])
            scenario = load_scenario(ROOT / args.scenario, _overrides(args))
            runs[str(args.out)] = scenario.simulation
    assert set(runs) == {"results/default", "results/more"}
    first, more = runs["results/default"], runs["results/more"]
    assert (more.seed, more.replications, more.horizon_months, more.start_date) == (
        first.seed, first.replications, first.horizon_months, first.start_date)


def test_the_run_table_leaves_out_rows_about_a_stage_the_scenario_does_not_have() -> None:
    """A row of zeros about needs profiles in a scenario with no profiling tool reads as if the
    service profiled children and none waited; the table leaves such rows out and says so."""
    from model.experiment import run_replications
    from model.labels import label
    from ndpath.cli import summary_table

    small = {"simulation.horizon_months": 6, "backlog.count": 300}
    without = Scenario().replace({**small, "profiling.enabled": False, "vetting.enabled": True})

    def flat(text: str) -> str:  # a long label wraps over lines: its words, in order
        return " ".join(text.split())

    text = flat(summary_table(run_replications(without, 2, 1, "serial", groups=False)))
    for metric in ("profiling_over_52w_end", "signposted", "routed_away_would_be_diagnosed"):
        assert label(metric) not in text
    assert label("rejected") in text and label("waiting_total_over_52w_end") in text
    assert "left out: no profiling tool (needs profiles)" in text
    with_tool = without.replace({"profiling.enabled": True, "vetting.enabled": False})
    text = flat(summary_table(run_replications(with_tool, 2, 1, "serial", groups=False)))
    assert label("profiling_over_52w_end") in text and label("signposted") in text
    assert label("rejected") not in text and "no vetting" in text


def test_a_long_label_wraps_so_the_table_fits_a_terminal_with_its_numbers_on_its_last_line() -> None:
    from ndpath.cli import LABEL_WIDTH, _table

    long = "Children waiting at any stage (diagnostic list, needs profile, vetting) at the end " \
           "who have waited 1 year or more since referral"
    text = _table(("", "mean", "95% interval"), [(long, "9,148", "9,108 to 9,188"),
                                                  ("Referrals received", "18,809", "18,740 to 18,878")])
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= LABEL_WIDTH + 2 + 6 + 2 + 16
    assert len(long) > LABEL_WIDTH and " ".join(text.split()).count(long) == 1
    wrapped = [line for line in lines if line.startswith("Children waiting")]
    assert wrapped and "9,148" not in wrapped[0]  # the numbers sit on the label's last line
    last = next(line for line in lines if "9,148" in line)
    assert long.endswith(last.split("  ")[0].strip()) and last.rstrip().endswith("9,108 to 9,188")
    assert lines[1].startswith("---")  # the rule under a one-line header
