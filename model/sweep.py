"""Scenario sweeps: every combination of a few lever values, with common random numbers.

``run_sweep(base, {"assessment.professions.0.wte": ["3", "6"], "support.places": ["0", "300"]},
out="sweep.parquet")`` runs the product of the values (here 4 scenarios), every one with the same
seed and replication numbers, so replication ``k`` of each sees the same children and the same
luck and differences between scenarios are paired. Replications of several scenarios go to the
executor together (serial, a local process pool or Dask); the numbers do not depend on which.

Results stream to disk as scenarios finish: each finished scenario is written at once, atomically,
as one small Parquet file in ``OUT.parts/``; the tidy file ``OUT`` (one row per scenario and
replication: ``scenario``, one column per lever with the value the scenario ran with, ``seed``,
``replication``, then every scalar metric) is assembled from them when the sweep stops, finished
or interrupted. Running the same sweep again resumes it: scenarios already in ``OUT`` or its
parts are not rerun. A different base scenario, grid, seed or number of replications in the same
``OUT`` is refused (:class:`SweepError`) unless asked to start afresh.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .executors import Executor, get_executor
from .scenario import Scenario, ScenarioError, _parse_value

TASKS_PER_BATCH = 16
"""Replications sent to the executor at once (several scenarios when each has few): enough to
keep a pool or cluster busy, few enough that finished scenarios reach the disk soon."""

METADATA_KEY = b"ndpath.sweep"


class SweepError(ValueError):
    """A sweep cannot run as asked (a malformed grid, or ``out`` holds a different sweep)."""


@dataclass(frozen=True)
class SweepPoint:
    """One scenario of the grid: its id (``key=value;key=value`` in grid order), the values
    asked for and the concrete scenario."""

    id: str
    values: dict[str, str]
    scenario: Scenario


@dataclass
class SweepResult:
    """What a call of :func:`run_sweep` did: the file, the scenarios it ran and those it found
    already finished."""

    path: Path
    points: list[SweepPoint]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.ran) + len(self.skipped) == len(self.points)


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """``["key=v1,v2", ...]`` as ``{key: [v1, v2]}`` (order kept); a :class:`SweepError` names
    each malformed item."""
    grid: dict[str, list[str]] = {}
    problems = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        values = [v.strip() for v in text.split(",")]
        if not sep or not key or any(not part.strip() for part in key.split(".")):
            problems.append(f"--grid {item!r}: write it as key.path=v1,v2,..., e.g. "
                            "--grid assessment.professions.0.wte=3,4,5")
        elif not text.strip() or any(not v for v in values):
            problems.append(f"--grid {item!r}: give one or more values separated by commas, "
                            "with none empty")
        elif key in grid:
            problems.append(f"--grid {key}: given twice; list all its values in one --grid")
        elif len(set(values)) < len(values):
            problems.append(f"--grid {item!r}: a value is listed twice")
        else:
            grid[key] = values
    if not items:
        problems.append("no --grid given: name at least one lever, e.g. "
                        "--grid support.places=0,300")
    if problems:
        raise SweepError("\n".join(problems))
    return grid


def grid_points(base: Scenario, grid: Mapping[str, Sequence[str]]) -> list[SweepPoint]:
    """Every combination of the grid's values applied to ``base`` (the last key varies fastest).

    Every point is built and validated before anything runs: a :class:`ScenarioError` lists the
    problems of every invalid combination, each named by its point.
    """
    keys = list(grid)
    points: list[SweepPoint] = []
    problems: list[str] = []
    for combination in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combination))
        point_id = ";".join(f"{k}={v}" for k, v in values.items())
        try:
            scenario = base.replace([f"{k}={v}" for k, v in values.items()])
        except ScenarioError as error:
            problems.extend(f"{point_id}: {p}{_read_as(p, values)}" for p in error.problems)
            continue
        points.append(SweepPoint(point_id, values, scenario))
    if problems:
        raise ScenarioError(problems, "--grid")
    return points


def _read_as(problem: str, values: Mapping[str, str]) -> str:
    """" (1e3 is read as 1000.0)" when ``problem`` is about a grid value typed otherwise than
    the number it is read as (as ``--set`` says it), else ''."""
    where = re.sub(r"\[(\d+)\]", r".\1", problem.split(" = ", 1)[0])  # professions[0] as .0
    for key, text in values.items():
        value = _parse_value(text)
        if where == key and isinstance(value, float) and text != repr(value):
            return f" ({text} is read as {value!r})"
    return ""


def lever_value(scenario: Scenario, key: str) -> Any:
    """The value of ``key`` (a ``--set`` style path) in ``scenario``, as it ran."""
    node: Any = scenario.to_dict()
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, (dict, list)):
        return json.dumps(node, sort_keys=True)
    return node


def _replication_metrics(task: tuple[Scenario, int, int]) -> dict[str, float]:
    """One replication's scalar metrics (module level, so it pickles to workers)."""
    from .experiment import _Task, run_one

    scenario, replication, seed = task
    return run_one(_Task(scenario, replication, seed, False, False)).metrics


def _metadata(base: Scenario, grid: Mapping[str, Sequence[str]], replications: int, seed: int,
              file_hashes: Mapping[str, str] | None = None, command: Sequence[str] | None = None
              ) -> dict[str, Any]:
    """The sweep's settings and where it came from: what makes it this sweep (compared on resume)
    and what reproduces it (package and library versions, the command)."""
    import shlex

    from . import __version__
    from .results import library_versions

    return {"base_scenario_digest": base.digest(),
            BASE_DIGEST_KEY: base_digest_without_runs(base),
            "base_scenario_name": base.meta.name,
            "grid": {k: list(v) for k, v in grid.items()},
            "replications": replications, "seed": seed,
            "horizon_months": base.simulation.horizon_months,
            "start_date": base.simulation.start_date.isoformat(),
            "package_version": __version__,
            "input_files": [{"path": path, "sha256": digest}
                            for path, digest in (file_hashes or {}).items()],
            "versions": library_versions(),
            "command": shlex.join(command) if command is not None else None}


BASE_DIGEST_KEY = "base_scenario_digest_without_replications_seed"
"""The metadata key of :func:`base_digest_without_runs` (files written by ndpath before it was
recorded have only ``base_scenario_digest``, of the whole base)."""


def base_digest_without_runs(base: Scenario) -> str:
    """A SHA-256 of the base scenario with ``simulation.replications`` and ``simulation.seed``
    left out: the sweep records those itself, so a resume that changes only the number of
    replications (or the seed) is told that, not 'another base scenario' as well."""
    settings = base.model_dump(mode="json")
    for key in ("replications", "seed"):
        settings["simulation"].pop(key, None)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def parts_folder(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def _part_path(parts: Path, point_id: str) -> Path:
    return parts / (hashlib.sha256(point_id.encode()).hexdigest()[:20] + ".parquet")


def _input_digests(metadata: Mapping[str, Any]) -> list[str]:
    # the files' contents, not where they were read from: a sweep resumed from another folder is
    # the same sweep; a backlog table edited in between is not
    return sorted(f["sha256"] for f in metadata.get("input_files") or [])


def _base_key(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    """The base digest to compare: the one without replications and seed when both files have
    it, else (a file from before it was recorded) the whole base's."""
    return BASE_DIGEST_KEY if BASE_DIGEST_KEY in found and BASE_DIGEST_KEY in wanted else \
        "base_scenario_digest"


def _same_sweep(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    keys = (_base_key(found, wanted), "grid", "replications", "seed")
    same_inputs = (not found.get("input_files") or not wanted.get("input_files")
                   or _input_digests(found) == _input_digests(wanted))
    return same_inputs and all(found.get(k) == wanted.get(k) for k in keys)


def read_sweep_metadata(path: Path) -> dict[str, Any] | None:
    """The sweep settings stored in a sweep Parquet file (``None`` if it has none)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else None


def _write_table(frame: pd.DataFrame, path: Path, metadata: Mapping[str, Any]) -> None:
    """Write ``frame`` with the sweep's settings in the file's metadata, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           METADATA_KEY: json.dumps(metadata).encode()})
    partial = path.with_name(path.name + ".writing")
    pq.write_table(table, partial)
    os.replace(partial, path)  # a reader never sees half a file


def _finished(out: Path, parts: Path, wanted: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Rows of the scenarios already finished in ``out`` and its parts, by point id."""
    frames: dict[str, pd.DataFrame] = {}
    sources = ([out] if out.exists() else []) + (sorted(parts.glob("*.parquet"))
                                                  if parts.is_dir() else [])
    for path in sources:
        try:
            found = read_sweep_metadata(path)
        except Exception:  # noqa: BLE001 - an unreadable part is a scenario to run again
            continue
        if found is None:
            raise SweepError(
                f"{path} is a Parquet file but not an ndpath sweep (it has no sweep settings); "
                "choose another --out, or pass --overwrite to replace it")
        if not _same_sweep(found, wanted):
            raise SweepError(
                f"{path} holds a different sweep ({_difference(found, wanted)}); choose another "
                "--out or pass --overwrite to start afresh")
        frame = pd.read_parquet(path)
        for point_id, rows in frame.groupby("scenario", sort=False):
            frames[str(point_id)] = rows.reset_index(drop=True)
    return frames


def _difference(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    """What differs between the sweep in a file and the one asked for, in words."""
    words = {"grid": "another grid", "replications": "another number of replications",
             "seed": "another seed"}
    differ = [word for key, word in words.items() if found.get(key) != wanted.get(key)]
    base = _base_key(found, wanted)
    runs_differ = any(found.get(k) != wanted.get(k) for k in ("replications", "seed"))
    if found.get(base) != wanted.get(base):
        if base == BASE_DIGEST_KEY or not runs_differ:
            differ.insert(0, "another base scenario")
        else:  # the whole base's digest holds its replications and seed: it cannot tell
            differ.append("perhaps another base scenario too (the file, from an earlier "
                          "ndpath, records only a digest of the whole base, its replications "
                          "and seed included)")
    if (found.get("input_files") and wanted.get("input_files")
            and _input_digests(found) != _input_digests(wanted)):
        differ.append("input files (the scenario or its backlog table) changed since")
    return ", ".join(differ) or "other settings"


def _rows(point: SweepPoint, metrics: Sequence[Mapping[str, float]], seed: int) -> pd.DataFrame:
    frame = pd.DataFrame([dict(m) for m in metrics])
    frame.insert(0, "replication", range(len(metrics)))
    frame.insert(0, "seed", seed)
    for position, key in enumerate(point.values):
        frame.insert(position, key, lever_value(point.scenario, key))
    frame.insert(0, "scenario", point.id)
    return frame


def run_sweep(base: Scenario, grid: Mapping[str, Sequence[str]], out: str | Path,
              replications: int | None = None, seed: int | None = None,
              executor: str | Executor = "local", overwrite: bool = False,
              on_done: Callable[[], None] | None = None,
              on_scenario: Callable[[str], None] | None = None,
              on_plan: Callable[[int, int], None] | None = None,
              tasks_per_batch: int = TASKS_PER_BATCH,
              file_hashes: Mapping[str, str] | None = None,
              command: Sequence[str] | None = None) -> SweepResult:
    """Run every grid point of ``base`` (see the module docstring) into the Parquet file ``out``.

    ``on_plan(to_run, already_finished)`` is called once the finished scenarios are known,
    ``on_done`` once per finished replication (progress bars), ``on_scenario`` with
    the id of each scenario once its rows are safely on disk. ``tasks_per_batch`` replications
    go to the executor at once (whole scenarios; at least one). An interruption (KeyboardInterrupt)
    leaves every finished scenario on disk and ``out`` holding them; calling again resumes.

    ``file_hashes`` (``LoadedScenario.file_hashes``: path -> SHA-256 of the scenario file, the
    files it extends and its backlog table) and ``command`` (the argument list) are recorded in
    the file's metadata with the package and library versions; a resume whose input files'
    contents have changed is refused, as a different sweep.

    Raises :class:`SweepError` when ``out`` holds a different sweep (unless ``overwrite``) and
    :class:`~model.scenario.ScenarioError` when a grid value is not valid for its key.
    """
    out = Path(out)
    n = base.simulation.replications if replications is None else replications
    seed = base.simulation.seed if seed is None else seed
    if n < 1:
        raise SweepError(f"replications must be at least 1, got {n}")
    points = grid_points(base, grid)
    metadata = _metadata(base, grid, n, seed, file_hashes, command)
    parts = parts_folder(out)
    if overwrite:
        out.unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)
    done = _finished(out, parts, metadata)
    result = SweepResult(out, points, skipped=[p.id for p in points if p.id in done])
    todo = [p for p in points if p.id not in done]
    if on_plan:
        on_plan(len(todo), len(result.skipped))
    parts.mkdir(parents=True, exist_ok=True)
    runner = get_executor(executor)
    per_batch = max(1, math.ceil(tasks_per_batch / n))
    try:
        for start in range(0, len(todo), per_batch):
            batch = todo[start:start + per_batch]
            tasks = [(p.scenario, k, seed) for p in batch for k in range(n)]
            metrics = runner.map(_replication_metrics, tasks, on_done)
            for j, point in enumerate(batch):
                rows = _rows(point, metrics[j * n:(j + 1) * n], seed)
                _write_table(rows, _part_path(parts, point.id), metadata)
                done[point.id] = rows
                result.ran.append(point.id)
                if on_scenario:
                    on_scenario(point.id)
    finally:
        _assemble(out, parts, points, done, metadata, complete=len(done) == len(points))
    return result


def _assemble(out: Path, parts: Path, points: Sequence[SweepPoint],
              done: Mapping[str, pd.DataFrame], metadata: Mapping[str, Any], complete: bool
              ) -> None:
    """Write ``out`` from every finished scenario in grid order; once the sweep is complete the
    parts are no longer needed."""
    finished = [done[p.id] for p in points if p.id in done]
    if finished:
        _write_table(pd.concat(finished, ignore_index=True), out, metadata)
    if complete:
        shutil.rmtree(parts, ignore_errors=True)


def read_sweep(path: str | Path) -> pd.DataFrame:
    """A sweep's tidy table: one row per scenario and replication."""
    return pd.read_parquet(path)
