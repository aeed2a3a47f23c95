"""``ndpath sweep``: the product of lever values with common random numbers, streamed to one
Parquet file, resumable, with the same numbers serial, on a local pool and on Dask."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.executors import get_executor
from model.experiment import run_replications
from model.scenario import Scenario, ScenarioError
from model.sweep import (SweepError, grid_points, parse_grid, parts_folder, read_sweep,
                         read_sweep_metadata, run_sweep)
from ndpath.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASE = Scenario().replace({"simulation.horizon_months": 4, "backlog.count": 200,
                           "simulation.seed": 99})
GRID = {"assessment.professions.0.wte": ["3", "6"], "support.places": ["0", "250"]}
REPLICATIONS = 2


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("serial") / "sweep.parquet"
    result = run_sweep(BASE, GRID, out, REPLICATIONS, executor="serial")
    assert result.complete and len(result.ran) == 4 and not result.skipped
    assert not parts_folder(out).exists()  # a finished sweep leaves one file
    return read_sweep(out)


def test_every_combination_runs_with_its_values_applied_and_common_random_numbers(
        serial: pd.DataFrame) -> None:
    assert len(serial) == 4 * REPLICATIONS
    assert list(serial.columns[:5]) == ["scenario", "assessment.professions.0.wte",
                                        "support.places", "seed", "replication"]
    assert (serial["seed"] == 99).all()
    for point in grid_points(BASE, GRID):
        rows = serial[serial["scenario"] == point.id].reset_index(drop=True)
        # the lever columns read the scenario that ran, not the text asked for
        assert rows["assessment.professions.0.wte"].eq(float(point.values[
            "assessment.professions.0.wte"])).all()
        assert rows["support.places"].eq(int(point.values["support.places"])).all()
        # each scenario's numbers are exactly a run of that scenario with the sweep's seed:
        # the same replications as `ndpath run` would give, and common random numbers
        alone = run_replications(point.scenario, REPLICATIONS, 99, "serial", groups=False)
        expected = alone.per_replication.reset_index(drop=True)
        pd.testing.assert_frame_equal(rows[expected.columns], expected, check_dtype=False)
    # more paediatricians: fewer waiting (the lever reaches the engine), paired replication-wise
    low = serial[serial["assessment.professions.0.wte"] == 3.0]
    high = serial[serial["assessment.professions.0.wte"] == 6.0]
    assert (high["waiting_list_end"].to_numpy() < low["waiting_list_end"].to_numpy()).all()
    # the same children arrive in every scenario (common random numbers)
    assert serial.groupby("replication")["referrals"].nunique().eq(1).all()


def test_an_interrupted_sweep_on_a_dask_cluster_resumes_without_rerunning(
        serial: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "sweep.parquet"
    seen: list[str] = []

    def stop_after_two(point_id: str) -> None:
        seen.append(point_id)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with get_executor("dask", n_workers=2) as dask:
        with pytest.raises(KeyboardInterrupt):
            # one scenario per batch, so the interruption falls between scenarios
            run_sweep(BASE, GRID, out, REPLICATIONS, executor=dask, on_scenario=stop_after_two,
                      tasks_per_batch=REPLICATIONS)
        partial = read_sweep(out)  # what finished is readable at once
        assert sorted(partial["scenario"].unique()) == sorted(seen)
        assert read_sweep_metadata(out)["grid"] == GRID
        resumed = run_sweep(BASE, GRID, out, REPLICATIONS, executor=dask)
    assert sorted(resumed.skipped) == sorted(seen)
    assert sorted(resumed.ran) == sorted(set(p.id for p in resumed.points) - set(seen))
    pd.testing.assert_frame_equal(read_sweep(out), serial)
    assert not parts_folder(out).exists()


def test_local_pool_from_the_command_line_gives_the_same_file(
        serial: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.parquet"
    args = ["sweep", "-", "--grid", "assessment.professions.0.wte=3,6", "--grid",
            "support.places=0,250", "--replications", str(REPLICATIONS), "--seed", "99",
            "--months", "4", "--set", "backlog.count=200", "--out", str(out), "--quiet"]
    toml = tmp_path / "base.toml"
    toml.write_text(Scenario().to_toml())
    args[1] = str(toml)
    assert main([*args, "--executor", "local", "--workers", "2"]) == 0
    pd.testing.assert_frame_equal(read_sweep(out), serial)
    # again: nothing reruns, the file holds the same rows
    capsys.readouterr()
    assert main([*args, "--executor", "serial"]) == 0
    assert "ran 0, already finished 4" in capsys.readouterr().out
    pd.testing.assert_frame_equal(read_sweep(out), serial)
    # a different grid in the same file is refused, unless asked to start afresh
    other = [a if a != "support.places=0,250" else "support.places=0,100" for a in args]
    assert main([*other, "--executor", "serial"]) == 2
    assert main([*other, "--executor", "serial", "--overwrite"]) == 0
    assert sorted(read_sweep(out)["support.places"].unique()) == [0, 100]


def test_a_finished_scenario_is_not_rerun_and_a_damaged_part_is(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    grid = {"support.places": ["0", "100", "200"]}
    ran: list[str] = []

    def stop(point_id: str) -> None:
        ran.append(point_id)
        if len(ran) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(BASE, grid, out, 1, executor="serial", on_scenario=stop)
    parts = sorted(parts_folder(out).glob("*.parquet"))
    assert len(parts) == 2
    out.unlink()  # the assembled file lost: the parts still say what finished
    parts[0].write_bytes(b"not parquet")  # and a damaged part is run again
    again = run_sweep(BASE, grid, out, 1, executor="serial")
    assert len(again.skipped) == 1 and len(again.ran) == 2
    assert list(read_sweep(out)["support.places"]) == [0, 100, 200]


def test_bad_grids_are_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for items, words in ((["support.places"], "key.path=v1,v2"),
                         (["support.places="], "one or more values"),
                         (["support.places=1,,2"], "none empty"),
                         (["support.places=1", "support.places=2"], "given twice"),
                         (["support.places=1,1"], "listed twice"),
                         ([], "no --grid")):
        with pytest.raises(SweepError, match=words):
            parse_grid(items)
    with pytest.raises(ScenarioError, match="support.placez"):
        grid_points(BASE, {"support.placez": ["1"]})
    with pytest.raises(ScenarioError, match=r"support.places=-5"):
        grid_points(BASE, {"support.places": ["10", "-5"]})
    for args in (["sweep", "default", "--grid", "nonsense"],
                 ["sweep", "default", "--grid", "support.placez=1,2", "--out",
                  str(tmp_path / "x.parquet")],
                 ["sweep", "default", "--grid", "support.places=1", "--out",
                  str(tmp_path / "x.csv")]):
        assert main(args) == 2
        assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()


def test_the_help_lists_the_sweep_without_loading_numerical_libraries() -> None:
    code = ("import sys, contextlib, io\nfrom ndpath.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as text:\n    main(['sweep', '--help'])\n"
            "print('--grid' in text.getvalue(), 'pandas' in sys.modules, 'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.stdout.split() == ["True", "False", "False"], done.stderr


def test_the_file_records_its_inputs_and_an_edited_backlog_table_is_not_resumed_as_the_same(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sweep file says what it was built from (each input file's SHA-256, the command, the
    versions); rerunning after the backlog table was edited must not pass off the old numbers as
    the new table's (the scenario itself, naming the same file, is unchanged)."""
    table = tmp_path / "waiting.csv"
    table.write_text("referral_date,priority,looked_after_or_cin,age_at_referral\n"
                     "2024-01-01,routine,false,6.0\n2025-06-01,urgent,true,9.5\n")
    toml = tmp_path / "base.toml"
    toml.write_text(BASE.replace({"backlog.table": str(table)}).to_toml())
    out = tmp_path / "s.parquet"
    args = ["sweep", str(toml), "--grid", "support.places=0,100", "--replications", "1",
            "--out", str(out), "--quiet", "--executor", "serial"]
    assert main(args) == 0
    meta = read_sweep_metadata(out)
    recorded = {Path(f["path"]).name: f["sha256"] for f in meta["input_files"]}
    assert recorded == {"base.toml": hashlib.sha256(toml.read_bytes()).hexdigest(),
                        "waiting.csv": hashlib.sha256(table.read_bytes()).hexdigest()}
    assert meta["command"].startswith("ndpath sweep ") and "support.places=0,100" in meta["command"]
    assert meta["package_version"] and meta["versions"]["numpy"]
    capsys.readouterr()
    assert main(args) == 0  # unchanged inputs: resumed, nothing rerun
    assert "ran 0, already finished 2" in capsys.readouterr().out
    with table.open("a") as f:
        f.write("2023-03-04,routine,false,12.0\n")  # one more child waiting
    assert main(args) == 2
    assert "input files" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    again = {Path(f["path"]).name: f["sha256"] for f in read_sweep_metadata(out)["input_files"]}
    assert again["waiting.csv"] == hashlib.sha256(table.read_bytes()).hexdigest()


def test_a_parquet_file_that_is_not_a_sweep_is_not_taken_for_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(out)
    args = ["sweep", "default", "--grid", "support.places=0,100", "--replications", "1",
            "--months", "2", "--set", "backlog.count=50", "--out", str(out), "--quiet",
            "--executor", "serial"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not an ndpath sweep" in err and "Traceback" not in err
    assert pd.read_parquet(out).equals(pd.DataFrame({"x": [1, 2]}))  # nothing overwritten


def _quick_cli(out: Path, *more: str) -> list[str]:
    return ["sweep", "default", "--grid", "support.places=0,100", "--replications", "1",
            "--months", "2", "--set", "backlog.count=50", "--out", str(out), "--quiet",
            "--executor", "serial", *more]


def _with(args: list[str], option: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(option) + 1] = value
    return args


def _replaced(args: list[str], item: str, by: str) -> list[str]:
    return [by if a == item else a for a in args]


def test_a_resume_that_changes_only_the_replications_or_seed_says_only_that(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line puts --replications and --seed into the base scenario, whose digest
    therefore changed with them: the refusal named 'another base scenario' the user never
    changed."""
    out = tmp_path / "s.parquet"
    args = _quick_cli(out)
    assert main(args) == 0
    capsys.readouterr()
    for changed, words in ((_with(args, "--replications", "2"), "another number of replications"),
                           ([*args, "--seed", "7"], "another seed"),
                           (_replaced(args, "backlog.count=50", "backlog.count=60"),
                            "another base scenario")):
        assert main(changed) == 2
        err = capsys.readouterr().err
        assert f"holds a different sweep ({words}); choose another --out" in err, err
    # the same in the library: bases that differ only in their own replications and seed
    grid = {"support.places": ["0"]}
    lib = tmp_path / "lib.parquet"
    run_sweep(BASE.replace({"simulation.replications": 1}), grid, lib, 1, executor="serial")
    with pytest.raises(SweepError, match=r"\(another number of replications\)"):
        run_sweep(BASE.replace({"simulation.replications": 2}), grid, lib, 2, executor="serial")
    # the numbers depend on the replications and seed the sweep ran with, not the base's own
    same = run_sweep(BASE.replace({"simulation.replications": 5, "simulation.seed": 3}), grid,
                     lib, 1, BASE.simulation.seed, executor="serial")
    assert same.skipped == ["support.places=0"] and not same.ran


def test_a_sweep_file_from_before_the_base_digest_without_runs_still_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    from model.sweep import BASE_DIGEST_KEY, METADATA_KEY, _write_table

    out = tmp_path / "old.parquet"
    args = _quick_cli(out)
    assert main(args) == 0

    def as_written_before() -> None:
        meta = read_sweep_metadata(out)
        meta.pop(BASE_DIGEST_KEY, None)  # as an earlier ndpath wrote it
        _write_table(pq.read_table(out).to_pandas(), out, meta)
        assert METADATA_KEY in pq.read_schema(out).metadata

    as_written_before()
    capsys.readouterr()
    assert main(args) == 0
    assert "ran 0, already finished 2" in capsys.readouterr().out
    assert BASE_DIGEST_KEY in read_sweep_metadata(out)  # the resumed file records it now
    as_written_before()
    assert main(_with(args, "--replications", "2")) == 2
    err = capsys.readouterr().err
    assert "another number of replications, perhaps another base scenario too" in err
    assert main(_replaced(args, "backlog.count=50", "backlog.count=60")) == 2
    assert "(another base scenario)" in capsys.readouterr().err


def test_ctrl_c_says_once_what_was_saved_and_the_sweep_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import model.sweep as sweep

    out = tmp_path / "s.parquet"
    real = sweep._replication_metrics
    calls: list[int] = []

    def interrupted(task):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(sweep, "_replication_metrics", interrupted)
    assert main(_quick_cli(out)) == 130
    err = capsys.readouterr().err
    assert err.count("interrupted") == 1, err
    assert "ndpath sweep: interrupted; 0 more scenario(s) saved" in err
    assert "run the same command again to resume" in err
    monkeypatch.setattr(sweep, "_replication_metrics", real)
    assert main(_quick_cli(out)) == 0
    assert "ran 2, already finished 0" in capsys.readouterr().out


def test_the_file_records_the_horizon_start_date_and_simulation_libraries(
        tmp_path: Path) -> None:
    from importlib.metadata import version

    out = tmp_path / "s.parquet"
    assert main([*_quick_cli(out), "--set", "simulation.start_date=2026-04-01"]) == 0
    meta = read_sweep_metadata(out)
    assert meta["horizon_months"] == 2 and meta["start_date"] == "2026-04-01"
    assert meta["versions"]["scipy"] == version("scipy")
    assert meta["versions"]["simpy"] == version("simpy")
