"""Executors: the same numbers on one core, a local process pool, a Dask LocalCluster and a Dask
cluster reached by its address; results in task order; clear errors for bad options."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from model.dask_executor import DaskConnectionError, DaskExecutor
from model.executors import LocalProcessExecutor, SerialExecutor, get_executor
from model.experiment import ExperimentResult, run_replications
from model.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
REPLICATIONS = 4


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    # small but complete: backlog, vetting, support, escalations, every metric defined
    return load_scenario(ROOT / "scenarios" / "default.toml",
                         ["simulation.horizon_months=12", "backlog.count=800"])


@pytest.fixture(scope="module")
def serial(scenario: Scenario) -> ExperimentResult:
    return run_replications(scenario, REPLICATIONS, executor="serial")


def assert_same_numbers(a: ExperimentResult, b: ExperimentResult) -> None:
    pd.testing.assert_frame_equal(a.per_replication, b.per_replication, check_exact=True)
    pd.testing.assert_frame_equal(a.monthly, b.monthly, check_exact=True)


def _square_after(k: int) -> int:
    # later items finish first, so returning in completion order would be caught
    time.sleep(0.05 * (4 - k))
    return k * k


def test_replications_differ_so_the_comparisons_mean_something(serial: ExperimentResult) -> None:
    assert serial.per_replication["waiting_list_end"].nunique() == REPLICATIONS
    assert list(serial.per_replication["replication"]) == list(range(REPLICATIONS))


def test_local_pool_gives_the_serial_numbers(scenario: Scenario, serial: ExperimentResult) -> None:
    assert_same_numbers(serial, run_replications(scenario, REPLICATIONS,
                                                 executor=LocalProcessExecutor(2)))


def test_executors_return_in_task_order_and_report_progress() -> None:
    for executor in (SerialExecutor(), LocalProcessExecutor(2)):
        done: list[int] = []
        assert executor.map(_square_after, [0, 1, 2, 3], lambda: done.append(1)) == [0, 1, 4, 9]
        assert len(done) == 4


def test_local_pool_opened_once_serves_every_map_and_nested_blocks() -> None:
    executor = LocalProcessExecutor(2)
    with executor:
        pool = executor._pool
        assert pool is not None
        with executor:  # a nested block (a calibration given an open executor) keeps the pool
            assert executor.map(_square_after, [0, 1, 2, 3]) == [0, 1, 4, 9]
        assert executor._pool is pool
        assert executor.map(_square_after, [3, 2]) == [9, 4]
    assert executor._pool is None
    assert executor.map(_square_after, [1, 2]) == [1, 4]  # and a pool per map again


def test_a_pool_kept_open_from_a_fork_server_gives_the_serial_numbers(
        scenario: Scenario, serial: ExperimentResult) -> None:
    """The app's pool: started once from a fork server, kept through ``with`` blocks (a search
    given it), the same numbers as one core."""
    executor = LocalProcessExecutor(2, start_method="forkserver", preload=("model.experiment",))
    executor.keep_open(wait_for_workers=True, import_main=False)
    try:
        pool = executor._pool
        assert pool is not None and len(pool._processes) == 2  # every worker started at once
        assert_same_numbers(serial, run_replications(scenario, REPLICATIONS, executor=executor))
        with executor:
            assert executor.map(_square_after, [0, 1, 2, 3]) == [0, 1, 4, 9]
        assert executor._pool is pool and not executor.broken
        assert_same_numbers(serial, run_replications(scenario, REPLICATIONS, executor=executor))
    finally:
        executor.close()
    assert executor._pool is None


@pytest.mark.parametrize("import_main", [True, False])
def test_workers_import_the_main_module_again_only_when_asked(
        import_main: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit runs each page script as ``__main__``: a worker that imported it again would
    run the page. ``import_main=False`` starts the workers without it."""
    import types

    marker = tmp_path / "imported"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('x')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    executor = LocalProcessExecutor(2, start_method="forkserver")
    try:
        executor.keep_open(wait_for_workers=True, import_main=import_main)
    finally:
        executor.close()
    assert sys.modules["__main__"] is page  # put back after the workers started
    assert marker.exists() == import_main


def test_get_executor_builds_dask_from_cli_options() -> None:
    executor = get_executor("dask", scheduler="tcp://127.0.0.1:8786", n_workers=3)
    assert isinstance(executor, DaskExecutor)
    assert executor.scheduler == "tcp://127.0.0.1:8786"
    assert get_executor("dask").n_workers == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("address", ["127.0.0.1:8786", "http://127.0.0.1:8786", "tcp://host",
                                     "tcp://host:port", ""])
def test_dask_rejects_a_malformed_address(address: str) -> None:
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        DaskExecutor(scheduler=address)


def test_dask_rejects_no_workers() -> None:
    with pytest.raises(ValueError, match="n_workers must be >= 1"):
        DaskExecutor(n_workers=0)


def test_dask_with_nothing_to_do_starts_nothing() -> None:
    assert DaskExecutor(scheduler="tcp://127.0.0.1:1").map(_square_after, []) == []


@pytest.mark.slow
def test_dask_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import model.dask_executor as dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(DaskConnectionError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        DaskExecutor(scheduler="tcp://127.0.0.1:9").map(_square_after, [1])


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_numbers(scenario: Scenario,
                                                     serial: ExperimentResult) -> None:
    done: list[int] = []
    with DaskExecutor(n_workers=2) as executor:
        assert executor.map(_square_after, [0, 1, 2, 3]) == [0, 1, 4, 9]
        result = run_replications(scenario, REPLICATIONS, executor=executor,
                                  on_done=lambda: done.append(1))
        # workers register asynchronously (and a busy machine may restart one): wait, then check
        executor._client.wait_for_workers(2, timeout=120)
        workers = executor._client.scheduler_info()["workers"]
        assert len(workers) == 2 and all(w["nthreads"] == 1 for w in workers.values())
        client = executor._client
        with executor:  # entering an open executor (as a calibration does) keeps its cluster
            assert executor._client is client
        assert executor._client is client
    assert executor._client is None
    assert len(done) == REPLICATIONS
    assert_same_numbers(serial, result)


def _scheduler_address(scheduler_file: Path, timeout_s: float = 60.0) -> str:
    """The address the scheduler wrote, once the file is complete."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return str(json.loads(scheduler_file.read_text())["address"])
        except (OSError, ValueError, KeyError):  # not written yet, or half written
            time.sleep(0.2)
    raise TimeoutError(f"the Dask scheduler wrote no address to {scheduler_file}")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real scheduler and worker started as the docs say, on loopback; yields the address."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes = [scheduler]
    try:
        address = _scheduler_address(scheduler_file)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2",
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_dask_cluster_by_address_gives_the_serial_numbers(dask_cluster: str, scenario: Scenario,
                                                          serial: ExperimentResult) -> None:
    assert dask_cluster.startswith("tcp://127.0.0.1:")
    executor = get_executor("dask", scheduler=dask_cluster)
    with executor:  # type: ignore[attr-defined]
        executor._client.wait_for_workers(2, timeout=60)  # type: ignore[attr-defined]
        result = run_replications(scenario, REPLICATIONS, executor=executor)
    assert_same_numbers(serial, result)
    # and without the context manager: a connection per run, closed afterwards
    again = run_replications(scenario, 2, executor=get_executor("dask", scheduler=dask_cluster))
    pd.testing.assert_frame_equal(again.per_replication, serial.per_replication.iloc[:2],
                                  check_exact=True)


def test_event_log_grows_after_to_frame_while_its_frame_is_held() -> None:
    """Dask workers sample stacks and keep frames alive; the log must still grow afterwards
    (escalations are appended after the log has been read once)."""
    import numpy as np

    from model.eventlog import EventLog

    log = EventLog()
    log.add(1.0, 0, 0)
    held = []

    def keep_frames(frame, event, arg):  # type: ignore[no-untyped-def]
        if event == "return" and frame.f_code.co_name == "to_frame":
            held.append(frame)

    sys.setprofile(keep_frames)
    try:
        log.to_frame()
    finally:
        sys.setprofile(None)
    assert held
    log.extend(np.array([2.0]), np.array([1]), 0, 0)
    assert len(log) == 2
