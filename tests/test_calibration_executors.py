"""Calibration and back-test loops on an executor: the same tuning and calibrated scenario on one
core, a local process pool and a Dask LocalCluster, with one pool (or cluster) per calibration
rather than one per candidate; executor mistakes on the command line are user errors (exit 2,
no traceback)."""

from __future__ import annotations

import socket
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import model.dask_executor as dask_executor
import model.executors as executors
from calibration.backtest import run_backtest
from calibration.calibrate import Calibration, CalibrationOptions, calibrate_extract
from calibration.extract import PathwayTable, read_extract
from calibration.synth import synthesise_extract
from ndpath.cli import main
from model.executors import LocalProcessExecutor
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
EXTRACT_DATE = "2025-12-31"
# a small service whose list grows: a few hundred waiting, 36 months of history (about 2,700
# referrals), so a calibration takes a couple of seconds yet the search tries several candidates
TRUTH = Scenario().replace({"backlog.count": 300, "arrivals.referrals_per_month": 60.0,
                            "assessment.professions.0.wte": 1.0})
OPTIONS = CalibrationOptions(replications=2, replay_months=12)


@pytest.fixture(scope="module")
def extract() -> pd.DataFrame:
    return synthesise_extract(TRUTH, EXTRACT_DATE, 36, seed=3)


@pytest.fixture(scope="module")
def table(extract: pd.DataFrame) -> PathwayTable:
    return read_extract(extract, EXTRACT_DATE)


@pytest.fixture(scope="module")
def serial(table: PathwayTable) -> Calibration:
    return calibrate_extract(table, OPTIONS)


@pytest.fixture(scope="module")
def extract_file(extract: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extract") / "extract.csv"
    extract.to_csv(path, index=False)
    return path


def assert_same_calibration(a: Calibration, b: Calibration) -> None:
    assert a.tuning.capacity_multiplier == b.tuning.capacity_multiplier
    assert a.tuning.evaluations == b.tuning.evaluations
    pd.testing.assert_frame_equal(a.tuning.simulated, b.tuning.simulated, check_exact=True)
    assert a.scenario.digest() == b.scenario.digest()


class CountingPool(ProcessPoolExecutor):
    started = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CountingPool.started += 1
        super().__init__(*args, **kwargs)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> type[CountingPool]:
    CountingPool.started = 0
    monkeypatch.setattr(executors, "ProcessPoolExecutor", CountingPool)
    return CountingPool


def test_the_search_tries_several_candidates(serial: Calibration) -> None:
    # otherwise "one pool for the calibration" and "same search" below would say little
    assert len({round(theta, 6) for theta, _ in serial.tuning.evaluations}) >= 4
    assert serial.tuning.capacity_multiplier != 1.0


def test_local_pool_gives_the_serial_calibration_with_one_pool(
        table: PathwayTable, serial: Calibration, pools: type[CountingPool]) -> None:
    local = calibrate_extract(table, CalibrationOptions(replications=2, replay_months=12,
                                                        executor=LocalProcessExecutor(2)))
    assert_same_calibration(serial, local)
    assert pools.started == 1


def test_an_executor_the_caller_opened_stays_open(table: PathwayTable, serial: Calibration,
                                                  pools: type[CountingPool]) -> None:
    with LocalProcessExecutor(2) as executor:
        first = calibrate_extract(table, CalibrationOptions(replications=2, replay_months=12,
                                                            executor=executor))
        assert executor._pool is not None  # the caller's pool is still usable
        assert executor.map(abs, [-1, -2, -3]) == [1, 2, 3]
    assert executor._pool is None
    assert pools.started == 1
    assert_same_calibration(serial, first)


def test_options_compare_equal_whatever_the_executor() -> None:
    assert OPTIONS == CalibrationOptions(replications=2, replay_months=12, executor="dask")


def test_backtest_on_a_pool_gives_the_serial_backtest_with_one_pool(
        table: PathwayTable, pools: type[CountingPool]) -> None:
    options = CalibrationOptions(replications=2, replay_months=12, tune=False)
    serial = run_backtest(table, 6, options, replications=3)
    local = run_backtest(table, 6, CalibrationOptions(replications=2, replay_months=12,
                                                      tune=False,
                                                      executor=LocalProcessExecutor(2)),
                         replications=3)
    pd.testing.assert_frame_equal(serial.comparison, local.comparison, check_exact=True)
    pd.testing.assert_frame_equal(serial.waits, local.waits, check_exact=True)
    assert serial.comparison["model_p5"].lt(serial.comparison["model_p95"]).any()
    assert pools.started == 1  # the calibration's replay and the projection share the pool


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_calibration_with_one_cluster(
        table: PathwayTable, serial: Calibration, monkeypatch: pytest.MonkeyPatch) -> None:
    import distributed

    started: list[int] = []

    class CountingCluster(distributed.LocalCluster):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            started.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", CountingCluster)
    dask = calibrate_extract(table, CalibrationOptions(replications=2, replay_months=12,
                                                       executor="dask"))
    assert_same_calibration(serial, dask)
    assert len(started) == 1


# -------------------------------------------------------------------------------------------------
# The command line


def _free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _calibrate_args(extract_file: Path, out: Path) -> list[str]:
    return ["calibrate", str(extract_file), "--extract-date", EXTRACT_DATE, "--replications",
            "2", "--replay-months", "12", "--out", str(out)]


def _run_args(out: Path) -> list[str]:
    return ["run", str(ROOT / "scenarios" / "default.toml"), "--months", "2", "--replications",
            "2", "--set", "backlog.count=50", "--out", str(out), "--quiet", "--no-figures"]


def _compare_args(out: Path) -> list[str]:
    return ["compare", str(ROOT / "scenarios" / "default.toml"),
            str(ROOT / "scenarios" / "extra_clinicians.toml"), "--months", "2",
            "--replications", "2", "--set", "backlog.count=50", "--out", str(out), "--quiet",
            "--no-figures"]


@pytest.mark.parametrize("address", ["127.0.0.1:8786", "tcp://127.0.0.1", "not an address"])
@pytest.mark.parametrize("command", ["calibrate", "backtest", "run", "compare"])
def test_a_malformed_scheduler_address_is_a_user_error(
        command: str, address: str, extract_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    args = {"calibrate": _calibrate_args(extract_file, out),
            "backtest": ["backtest", str(extract_file), "--extract-date", EXTRACT_DATE,
                         "--out", str(out)],
            "run": _run_args(out), "compare": _compare_args(out)}[command]
    assert main([*args, "--dask-scheduler", address]) == 2
    err = capsys.readouterr().err
    assert f"ndpath {command}: error: --dask-scheduler:" in err
    assert "tcp://HOST:PORT" in err and repr(address) in err
    assert "Traceback" not in err
    if command in ("calibrate", "backtest"):
        assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize("command", ["calibrate", "compare"])
def test_an_unreachable_scheduler_is_a_user_error(
        command: str, extract_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1)
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "out"
    args = _calibrate_args(extract_file, out) if command == "calibrate" else _compare_args(out)
    assert main([*args, "--dask-scheduler", address]) == 2
    err = capsys.readouterr().err
    assert f"ndpath {command}: error: cannot reach the Dask scheduler at {address}" in err
    assert "Traceback" not in err


def test_scheduler_with_another_executor_is_a_user_error(
        extract_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _calibrate_args(extract_file, tmp_path / "out")
    assert main([*args, "--executor", "local", "--dask-scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "--dask-scheduler needs --executor dask" in capsys.readouterr().err
    assert main([*args, "--workers", "0"]) == 2
    assert "--workers 0: must be at least 1" in capsys.readouterr().err


def test_calibrate_command_on_a_pool_writes_the_serial_scenario(
        extract_file: Path, tmp_path: Path, pools: type[CountingPool],
        capsys: pytest.CaptureFixture[str]) -> None:
    for executor in ("serial", "local"):
        args = _calibrate_args(extract_file, tmp_path / executor)
        assert main([*args, "--executor", executor, "--workers", "2"]) == 0
    capsys.readouterr()
    assert pools.started == 1
    assert ((tmp_path / "serial" / "calibrated.toml").read_text()
            == (tmp_path / "local" / "calibrated.toml").read_text())


def test_compare_opens_one_pool_for_all_its_scenarios(tmp_path: Path,
                                                      pools: type[CountingPool]) -> None:
    assert main([*_compare_args(tmp_path / "out"), "--executor", "local", "--workers", "2"]) == 0
    assert pools.started == 1


@pytest.mark.slow
def test_compare_on_dask_starts_one_local_cluster(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import distributed

    started: list[int] = []

    class CountingCluster(distributed.LocalCluster):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            started.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", CountingCluster)
    assert main([*_compare_args(tmp_path / "out"), "--executor", "dask", "--workers", "2"]) == 0
    assert len(started) == 1
