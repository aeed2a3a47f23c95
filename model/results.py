"""A run on disk: the results folder that the command line writes and the app and notebooks read.

A folder holds (names and shapes are stable; other tools read them):

``summary.json``
    ``{"metrics": {name: {"mean", "ci_low", "ci_high", "n"}}, "provenance": {...}}``; a value that
    is undefined (no child started assessment, fewer than two replications for an interval) is
    ``null``, never a made-up number. ``n`` counts the replications with a defined value.
``timeseries.csv``
    Monthly percentile bands across replications, long: ``month, metric, p5, p25, p50, p75, p95``.
``per_replication.csv``
    One row per replication, one column per scalar metric.
``monthly.csv``
    Every replication's monthly series, long: ``replication, month, metric, value``.
``backlog_clearance.csv``
    By month, the share of replications in which nobody on the list has waited over 13 weeks
    (``probability_cleared``) and the share in which that had happened at least once by then
    (``first_cleared_share``).
``equity.csv``, ``equity_gaps.csv``
    Who benefits: every metric by group (looked-after / child in need, deprivation quintile, age
    band, pathway, priority, locality) with its 95% interval, and the gaps between groups,
    under disclosure control (:mod:`model.equity`, :mod:`model.disclosure`): counts under 5
    suppressed with complementary suppression, counts rounded to the nearest 5.
``professions.csv``
    With capacity by profession or follow-up (issue 12): each profession's share of its
    clinical hours used and its follow-up hours, ``profession, metric, label, mean, ci_low,
    ci_high, n`` (the ``{metric}_{profession}`` columns of ``per_replication.csv``).
``provenance.json``
    The resolved scenario, its digest, every input file with its SHA-256, seed, replications,
    horizon, start, package and library versions, the command line, the time and the executor;
    for a scenario written by ``ndpath calibrate``, the data file it was fitted to
    (``calibrated_from``: name and SHA-256) and its calibration's ``warnings``.
``scenario.toml``
    The resolved scenario, which ``ndpath run`` reads back to the same numbers.
``list_size_fan.png``, ``wait_distribution.png``, ``list_by_wait_band.png``
    The figures (:mod:`model.plots`).

An existing non-empty folder is never overwritten silently: :func:`prepare_folder` refuses it
unless ``overwrite=True``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .experiment import ExperimentResult
from .scenario import Scenario, build_scenario, load_scenario

if TYPE_CHECKING:  # matplotlib is imported only when figures are drawn
    from matplotlib.figure import Figure

SUMMARY = "summary.json"
TIMESERIES = "timeseries.csv"
PER_REPLICATION = "per_replication.csv"
MONTHLY = "monthly.csv"
CLEARANCE = "backlog_clearance.csv"
PROVENANCE = "provenance.json"
SCENARIO = "scenario.toml"
EQUITY = "equity.csv"
EQUITY_GAPS = "equity_gaps.csv"
PROFESSIONS = "professions.csv"
FIGURES = {
    "list_size_fan.png": "the list size fan chart",
    "wait_distribution.png": "how long the children still waiting have waited",
    "list_by_wait_band.png": "the list by wait band",
}
RESULT_FILES = (SUMMARY, TIMESERIES, PER_REPLICATION, MONTHLY, CLEARANCE, PROVENANCE, SCENARIO,
                EQUITY, EQUITY_GAPS, PROFESSIONS, *FIGURES)


class ResultsFolderError(ValueError):
    """The results folder cannot be used (it holds results already, or is not a folder)."""


# -------------------------------------------------------------------------------------------------
# Provenance


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def library_versions() -> dict[str, str]:
    """The versions of Python and the libraries the numbers depend on, for provenance (a run's
    and a sweep's)."""
    return {"python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "simpy": _version("simpy"), "scipy": _version("scipy")}


def software_provenance(command: Sequence[str] | None = None,
                        created: dt.datetime | None = None) -> dict[str, Any]:
    """What wrote an output and when: the ndpath version, the library versions, the command
    line as typed and the time (a run's, a comparison's and a calibration's provenance)."""
    from . import __version__

    return {
        "package": {"name": "ndpath", "version": __version__},
        "versions": library_versions(),
        "command": shlex.join(command) if command is not None else None,
        "created": (created or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
    }


def input_file(path: str | Path) -> dict[str, Any]:
    """A data file as provenance records it: ``path``, ``sha256`` and ``bytes``."""
    from .scenario import file_sha256

    return {"path": str(path), "sha256": file_sha256(path), "bytes": Path(path).stat().st_size}


def calibrated_from(scenario: Scenario) -> dict[str, Any] | None:
    """The data file a calibrated scenario was fitted to (``meta.source_file`` and
    ``meta.source_sha256``), or ``None`` for a scenario not written by ndpath calibrate."""
    meta = scenario.meta
    if meta.source_sha256 is None and meta.source_file is None:
        return None
    return {"path": meta.source_file, "sha256": meta.source_sha256}


def scenario_as_run(experiment: ExperimentResult) -> Scenario:
    """The scenario with the seed and number of replications that actually ran.

    ``run_replications`` takes both as arguments; a folder that recorded the scenario file's own
    values would rerun to other numbers.
    """
    sim = experiment.scenario.simulation
    if sim.seed == experiment.seed and sim.replications == experiment.replications:
        return experiment.scenario
    return experiment.scenario.replace({"simulation.seed": experiment.seed,
                                        "simulation.replications": experiment.replications})


def build_provenance(
    experiment: ExperimentResult,
    file_hashes: Mapping[str, str] | None = None,
    *,
    command: Sequence[str] | None = None,
    executor: Mapping[str, Any] | str = "local",
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce ``experiment`` and to know what it was built from.

    ``file_hashes`` is ``LoadedScenario.file_hashes`` (path -> SHA-256 of every input file: the
    scenario, the files it extends, a backlog table); ``command`` the argument list.
    """
    scenario = scenario_as_run(experiment)
    sim = scenario.simulation
    return {
        "scenario_name": scenario.meta.name,
        "illustrative": scenario.meta.illustrative,
        "scenario_digest": scenario.digest(),
        "input_files": [{"path": path, "sha256": digest}
                        for path, digest in (file_hashes or {}).items()],
        "seed": experiment.seed,
        "replications": experiment.replications,
        "months": sim.horizon_months,
        "start": sim.start_date.isoformat(),
        "calibrated_from": calibrated_from(scenario),
        "warnings": list(scenario.meta.warnings or []),
        **software_provenance(command, created),  # package, versions, command, created
        "executor": {"name": executor} if isinstance(executor, str) else dict(executor),
        "scenario": scenario.model_dump(mode="json"),
    }


# -------------------------------------------------------------------------------------------------
# Writing


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def summary_dict(experiment: ExperimentResult) -> dict[str, dict[str, float | int | None]]:
    """``{name: {"mean", "ci_low", "ci_high", "n"}}`` with NaN as ``None``."""
    return {
        str(row["metric"]): {"mean": _finite_or_none(row["mean"]),
                             "ci_low": _finite_or_none(row["ci_low"]),
                             "ci_high": _finite_or_none(row["ci_high"]),
                             "n": int(row["n"])}
        for _, row in experiment.summary.iterrows()
    }


def _json(data: Any) -> str:
    # allow_nan=False: a NaN that slipped through is a bug here, not a value for readers to parse
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (NaN is refused: write ``None`` for undefined values)."""
    Path(path).write_text(_json(data), encoding="utf-8")


def prepare_folder(out_dir: str | Path, overwrite: bool = False) -> Path:
    """Create ``out_dir`` or check it may be written. Call before a long run, not after.

    Raises :class:`ResultsFolderError` if it is a file, or a non-empty folder and ``overwrite``
    is false.
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ResultsFolderError(f"--out {path}: is a file, not a folder; choose another path")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise ResultsFolderError(
            f"--out {path}: the folder exists and is not empty; choose another folder or add "
            "--overwrite to replace the results in it")
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_files(folder: Path, names: Sequence[str]) -> None:
    """Delete the files ``names`` of ``folder`` (those absent are skipped): what ``--overwrite``
    clears before a command writes, so no file of an earlier run outlives it. Only the names a
    command writes are given; anything else in the folder is the user's and is left alone."""
    for name in names:
        (Path(folder) / name).unlink(missing_ok=True)


def is_results_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a results folder written by ndpath (its ``provenance.json`` is a
    run's: a scenario digest and the ndpath package)."""
    try:
        provenance = json.loads((Path(folder) / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(provenance, dict) and "scenario_digest" in provenance
            and (provenance.get("package") or {}).get("name") == "ndpath")


def remove_results_folder(folder: Path, also: Sequence[str] = ()) -> bool:
    """Delete a results folder's files (:data:`RESULT_FILES` and ``also``), then the folder if
    nothing else is in it. Returns whether the folder is gone (a file ndpath did not write is
    kept, and so is the folder holding it)."""
    folder = Path(folder)
    remove_files(folder, (*RESULT_FILES, *also))
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return not folder.exists()


def write_results(
    out_dir: str | Path,
    experiment: ExperimentResult,
    provenance: Mapping[str, Any],
    figures: bool = True,
    *,
    overwrite: bool = False,
    today: str | None = None,
    executor: Any = None,
) -> Path:
    """Write ``experiment`` as a results folder (see the module docstring) and return its path.

    Raises :class:`ResultsFolderError` if the folder holds anything and ``overwrite`` is false.
    With ``overwrite`` the files this function writes are replaced (and stale figures removed
    when ``figures`` is false); other files in the folder are left alone.

    ``executor``: a local process pool that is open (the one the run used) draws the figures in
    a worker while this process writes the tables; the files are the same either way.
    """
    path = prepare_folder(out_dir, overwrite)
    remove_files(path, RESULT_FILES)
    drawing = _draw_elsewhere(executor, path, experiment, today) if figures else None
    try:
        _write_tables(path, experiment, provenance)
    finally:
        if drawing is not None:
            drawing.result()  # the worker's error, if any, is raised here
    if figures and drawing is None:
        write_figures(path, experiment, today=today)
    return path


def _draw_elsewhere(executor: Any, path: Path, experiment: ExperimentResult,
                    today: str | None) -> Any:
    """The figures started in a worker of ``executor``'s open pool (a future), or ``None``
    when there is no open local pool to draw them in."""
    if not getattr(executor, "is_open", False):  # a local pool, open: it can take a task
        return None
    return executor.submit(_draw_figures, [(str(path), experiment, today)])[0]


def _draw_figures(task: tuple[str, ExperimentResult, str | None]) -> None:
    path, experiment, today = task
    write_figures(Path(path), experiment, today=today)


def _write_tables(path: Path, experiment: ExperimentResult, provenance: Mapping[str, Any]) -> None:
    """Every file of a results folder but the figures."""
    from .questions import backlog_clearance

    provenance = dict(provenance)
    (path / SUMMARY).write_text(_json({"metrics": summary_dict(experiment),
                                       "provenance": provenance}), encoding="utf-8")
    (path / PROVENANCE).write_text(_json(provenance), encoding="utf-8")
    experiment.timeseries.to_csv(path / TIMESERIES, index=False)
    experiment.per_replication.to_csv(path / PER_REPLICATION, index=False)
    experiment.monthly.to_csv(path / MONTHLY, index=False)
    backlog_clearance(experiment).to_csv(path / CLEARANCE, index=False)
    if experiment.groups is not None:
        write_equity(path, experiment)
    professions = profession_table(experiment)
    if len(professions):
        professions.to_csv(path / PROFESSIONS, index=False)
    (path / SCENARIO).write_text(_scenario_toml(scenario_as_run(experiment), provenance),
                                 encoding="utf-8")


def profession_table(experiment: ExperimentResult) -> pd.DataFrame:
    """Per profession, the mean and 95% interval of each per-profession metric (empty when the
    run has none: the pooled model without follow-up)."""
    from .labels import profession_label
    from .metrics import PROFESSION_METRICS, mean_ci

    rows = []
    per_rep = experiment.per_replication
    for p in experiment.scenario.assessment.professions:
        for metric in PROFESSION_METRICS:
            column = f"{metric}_{p.name}"
            if column not in per_rep:
                continue
            values = per_rep[column].to_numpy(dtype=float)
            mean, low, high, n = mean_ci(values[np.isfinite(values)])
            rows.append({"profession": p.name, "metric": metric,
                         "label": profession_label(metric, p.name),
                         "mean": mean, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows, columns=["profession", "metric", "label", "mean", "ci_low",
                                       "ci_high", "n"])


def write_equity(path: Path, experiment: ExperimentResult) -> None:
    """``equity.csv`` and ``equity_gaps.csv``, under disclosure control (never the raw values)."""
    from .equity import equity_gaps, equity_table
    from .labels import label

    table = equity_table(experiment.groups)
    table.insert(3, "label", table["metric"].map(label))
    table.to_csv(path / EQUITY, index=False)
    gaps = equity_gaps(experiment.groups)
    gaps.insert(5, "label", gaps["metric"].map(label))
    gaps.to_csv(path / EQUITY_GAPS, index=False)


def _scenario_toml(scenario: Scenario, provenance: Mapping[str, Any]) -> str:
    header = (f"# The scenario as resolved for this run (digest {scenario.digest()}).\n"
              f"# Run it again with: ndpath run {SCENARIO}\n")
    if provenance.get("command"):
        header += f"# Written by: {provenance['command']}\n"
    return header + scenario.to_toml()


def write_figures(path: Path, experiment: ExperimentResult, today: str | None = None) -> None:
    """The three standard figures of one run, as PNG."""
    from . import plots

    made = {
        "list_size_fan.png": plots.fan_chart(experiment.timeseries, "waiting_list", today=today),
        "wait_distribution.png": plots.wait_distribution(experiment),
        "list_by_wait_band.png": plots.wait_bands(experiment.timeseries, today=today),
    }
    for name, figure in made.items():
        save_png(figure, path / name)


def save_png(figure: Figure, path: Path, dpi: int = 120) -> None:
    """Save a figure as PNG, with room for text drawn outside its axes."""
    figure.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")


# -------------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class SavedResults:
    """A results folder read back: the frames as written, and the run's provenance."""

    path: Path
    summary: pd.DataFrame
    """``metric, mean, ci_low, ci_high, n`` (undefined values as NaN)."""
    timeseries: pd.DataFrame
    per_replication: pd.DataFrame
    monthly: pd.DataFrame | None
    provenance: dict[str, Any]
    scenario: Scenario
    equity: pd.DataFrame | None = None
    """``equity.csv`` (by group, disclosure-controlled) when the folder has one."""

    def metric(self, name: str) -> dict[str, float]:
        row = self.summary.set_index("metric").loc[name]
        return {"mean": float(row["mean"]), "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"])}

    def experiment(self) -> ExperimentResult:
        """The run as an :class:`ExperimentResult` (for :mod:`model.plots` and comparisons).

        Raises ``ValueError`` if the folder has no ``monthly.csv``.
        """
        if self.monthly is None:
            raise ValueError(f"{self.path} has no {MONTHLY}: cannot rebuild the experiment")
        return ExperimentResult(self.scenario, int(self.provenance["seed"]),
                                self.per_replication, self.monthly)


def read_results(out_dir: str | Path) -> SavedResults:
    """Read a folder written by :func:`write_results` (or ``ndpath run``).

    Raises :class:`ResultsFolderError` naming the missing file if it is not a results folder.
    """
    path = Path(out_dir)
    for name in (SUMMARY, TIMESERIES, PER_REPLICATION, PROVENANCE):
        if not (path / name).is_file():
            raise ResultsFolderError(f"{path}: no {name}; is this a folder written by ndpath run?")
    summary_data = json.loads((path / SUMMARY).read_text(encoding="utf-8"))
    summary = pd.DataFrame([{"metric": name, **{k: (math.nan if v is None else v)
                                                for k, v in values.items()}}
                            for name, values in summary_data["metrics"].items()])
    provenance = json.loads((path / PROVENANCE).read_text(encoding="utf-8"))
    scenario = (load_scenario(path / SCENARIO) if (path / SCENARIO).is_file()
                else build_scenario(provenance["scenario"]))
    monthly = pd.read_csv(path / MONTHLY, dtype={"month": str}) if (path / MONTHLY).is_file() else None
    return SavedResults(
        path=path,
        summary=summary,
        timeseries=pd.read_csv(path / TIMESERIES, dtype={"month": str}),
        per_replication=pd.read_csv(path / PER_REPLICATION),
        monthly=monthly,
        provenance=provenance,
        scenario=scenario,
        equity=(pd.read_csv(path / EQUITY, dtype={"group": str}) if (path / EQUITY).is_file()
                else None),
    )


__all__ = ["write_results", "read_results", "prepare_folder", "remove_files",
           "remove_results_folder", "is_results_folder", "software_provenance", "input_file",
           "calibrated_from", "library_versions", "build_provenance", "summary_dict",
           "SavedResults", "ResultsFolderError", "RESULT_FILES", "FIGURES"]
