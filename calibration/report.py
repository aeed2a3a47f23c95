"""Writing a calibration to disk: calibrated.toml, backlog.csv, fit.json, report.md, figures.

The folder is what an analyst hands on: ``ndpath run DIR/calibrated.toml`` projects from the
extract date; ``fit.json`` holds every parameter with its interval and source; ``report.md``
shows the goodness of fit. No referral id appears in any of these files, and counts below 5 in
the report's tables are suppressed (NHS disclosure practice).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model import __version__
from model.scenario import Scenario

from .calibrate import BACKLOG_FILE, MULTIPLIER_RANGE, Calibration, with_backlog_file
from .fitters import MONTH_NAMES

log = logging.getLogger(__name__)

CALIBRATED = "calibrated.toml"
FIT = "fit.json"
REPORT = "report.md"
QUARANTINE = "quarantine.csv"
ARRIVALS_FIGURE = "arrivals.png"
SMALL_COUNT = 5


class OutputFolderError(ValueError):
    """The output folder already holds a calibration (use --overwrite)."""


def prepare_output(out: str | Path, overwrite: bool = False,
                   files: Sequence[str] | None = None) -> Path:
    """Create ``out``; refuse a folder that already holds files unless ``overwrite``.

    With ``overwrite``, the files a calibration writes (``files``, by default
    :data:`CALIBRATION_FILES`: an extract's and a monthly series' alike) are removed first, so
    none of an earlier calibration outlives the new one (a quarantine.csv, the extract's
    figures beside a monthly fit); other files in the folder are left alone.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{path} exists and is not a folder")
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise OutputFolderError(f"{path} already holds files; choose another --out or pass "
                                "--overwrite")
    path.mkdir(parents=True, exist_ok=True)
    if overwrite:
        from model.results import remove_files

        remove_files(path, CALIBRATION_FILES if files is None else files)
    return path


def calibration_provenance(source: str | Path | None, command: Sequence[str],
                           seeds: Mapping[str, int | None]) -> dict[str, Any]:
    """fit.json's ``provenance``: the data file read (path as given, SHA-256 and size in bytes;
    ``None`` when the data did not come from a file), every seed used, and what wrote it (the
    ndpath and library versions, the command line and the time, as a run records them)."""
    from model.results import input_file, software_provenance

    is_file = source is not None and Path(source).is_file()
    return {"input_file": input_file(source) if is_file else None,  # type: ignore[arg-type]
            "seeds": dict(seeds),
            **software_provenance(list(command) if command else None)}


def with_source(scenario: Scenario, provenance: Mapping[str, Any],
                warnings: Sequence[str] = ()) -> Scenario:
    """The calibrated scenario with its data file's name and SHA-256 (``meta.source_file``,
    ``meta.source_sha256``) and the calibration's warnings (``meta.warnings``), so a run of it
    records where it came from and says what to be wary of."""
    source = provenance.get("input_file")
    # set even when there is no file: a base scenario's own source is not this calibration's
    return scenario.replace({
        "meta.warnings": list(warnings) or None,
        "meta.source_file": None if source is None else Path(source["path"]).name,
        "meta.source_sha256": None if source is None else source["sha256"]})


def _source_comment(provenance: Mapping[str, Any]) -> str:
    """calibrated.toml's header line naming the data and the seeds (meta has the SHA-256)."""
    source = provenance.get("input_file")
    seeds = ", ".join(f"{k.replace('_', ' ')} seed {v}" for k, v in provenance["seeds"].items()
                      if v is not None)
    said = [f"from {Path(source['path']).name} (SHA-256 in meta.source_sha256)"] if source else []
    said += [seeds] if seeds else []
    return f"# Fitted {'; '.join(said)}.\n" if said else ""


def provenance_lines(provenance: Mapping[str, Any]) -> list[str]:
    """report.md's provenance section: the data file's SHA-256, the seeds, the versions."""
    source = provenance.get("input_file")
    seeds = ", ".join(f"{k.replace('_', ' ')} {'none' if v is None else v}"
                      for k, v in provenance["seeds"].items()) or "none (nothing random)"
    lines = ["## Provenance", ""]
    lines.append(f"- data: {Path(source['path']).name}, {source['bytes']:,} bytes, SHA-256 "
                 f"`{source['sha256']}`" if source else "- data: not read from a file")
    lines += [f"- seeds: {seeds}",
              f"- ndpath {provenance['package']['version']}; "
              + ", ".join(f"{k} {v}" for k, v in provenance["versions"].items()),
              f"- command: `{provenance['command']}`" if provenance.get("command") else
              "- command: not recorded", ""]
    return lines


def suppress_small(value: float) -> str:
    """A count as text, or ``"<5"`` when it is 1-4 (disclosure control)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    return "<5" if 0 < value < SMALL_COUNT else f"{value:,.0f}"


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (pd.Timestamp, pd.Period)):
        return str(value)
    return str(value)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(_clean(dict(data)), indent=2, default=_json_default) + "\n")


# -------------------------------------------------------------------------------------------------
# Figures (shared by the report, the notebook and the back-test)


def arrivals_figure(calibration: Calibration) -> Figure:
    """Observed monthly referrals against the fitted trend and seasonality."""
    return fitted_arrivals_figure(calibration.fitters["arrivals"])


def fitted_arrivals_figure(fitter: Any) -> Figure:
    """An :class:`~calibration.fitters.ArrivalsFitter`'s monthly referrals, observed against
    fitted (an extract's or a monthly series')."""
    counts = fitter.counts_
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    x = counts.index.to_timestamp()
    ax.plot(x, counts.to_numpy(), "o-", color="#444", ms=3, lw=1, label="observed")
    excluded = counts.index.isin(fitter.excluded_months_)
    if excluded.any():
        ax.plot(x[excluded], counts.to_numpy()[excluded], "x", color="#c33", ms=7,
                label="excluded from the fit")
    ax.plot(x, fitter.predict(counts.index).to_numpy(), color="#1f77b4", lw=2,
            label=f"fitted (growth {fitter.annual_growth_:+.1%}/yr)")
    ax.set_ylabel("referrals a month")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Referrals: observed and fitted")
    fig.tight_layout()
    return fig


def waits_figure(calibration: Calibration) -> Figure:
    """Kaplan–Meier waits (with interval) against the parametric fit and the replay."""
    waits = calibration.fitters["waits"]
    km = waits.km_
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    weeks = km["days"].to_numpy() / 7
    ax.step(weeks, km["survival"], where="post", color="#444", label="observed (Kaplan-Meier)")
    ax.fill_between(weeks, km["ci_low"], km["ci_high"], step="post", color="#444", alpha=0.15)
    grid = np.linspace(0, max(weeks.max(), 1), 200)
    ax.plot(grid, waits.survival(grid * 7), color="#1f77b4", lw=1.5,
            label=f"{waits.family_} fit")
    t = calibration.tuning
    if t is not None:
        ax.plot(t.km_weeks, t.km_simulated, "s", color="#d62728",
                label="simulated (replay of recent referrals)")
        ax.plot(t.km_weeks, t.km_observed, "o", mfc="none", color="#444",
                label="observed (recent referrals)")
    ax.axvline(13, color="#999", ls=":", lw=1)
    ax.set_xlabel("weeks since referral")
    ax.set_ylabel("share not yet assessed")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Wait to assessment (children still waiting are censored)")
    fig.tight_layout()
    return fig


def list_figure(calibration: Calibration) -> Figure:
    """Observed list size against the simulated replay (median and 5-95% band)."""
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    flows = calibration.flows
    x = pd.PeriodIndex(flows["month"], freq="M").to_timestamp()
    ax.plot(x, flows["waiting_end"], "o-", color="#444", ms=3, lw=1, label="observed")
    t = calibration.tuning
    if t is not None:
        xs = pd.PeriodIndex(t.simulated["month"], freq="M").to_timestamp()
        ax.fill_between(xs, t.simulated["p5"], t.simulated["p95"], color="#d62728", alpha=0.2)
        ax.plot(xs, t.simulated["p50"], color="#d62728", lw=2,
                label=f"simulated replay (median, 5-95%; {t.replications} replications)")
    ax.set_ylabel("children waiting (month end)")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Waiting list: observed and simulated")
    fig.tight_layout()
    return fig


def capacity_figure(calibration: Calibration) -> Figure:
    """Assessments started a month, the capacity measured from them (its segments between
    change points) and, when the tuning scaled it, the capacity the projection uses (the last
    segment times the multiplier), each named in the legend."""
    cap = calibration.fitters["capacity"]
    fig = Figure(figsize=(8, 3.4))
    ax = fig.subplots()
    x = cap.starts_.index.to_timestamp()
    ax.bar(x, cap.starts_.to_numpy(), width=20, color="#bbb", label="assessments started")
    last_end, last_level = None, None
    for k, (_, seg) in enumerate(cap.segments_.iterrows()):
        a = pd.Period(seg["from"], freq="M").to_timestamp()
        b = (pd.Period(seg["to"], freq="M") + 1).to_timestamp()
        ax.plot([a, b], [seg["assessments_per_month"]] * 2, color="#1f77b4", lw=2.5,
                label="capacity measured from them" if k == 0 else None)
        last_end, last_level = (a, b), float(seg["assessments_per_month"])
    tuning = calibration.tuning
    if (tuning is not None and last_level is not None and last_end is not None
            and abs(tuning.capacity_multiplier - 1) > 5e-4):
        used = last_level * tuning.capacity_multiplier
        ax.plot(list(last_end), [used] * 2, color="#d62728", lw=2, ls="--",
                label=f"used in the projection: x {tuning.capacity_multiplier:.3f} = {used:.1f}")
    ax.set_ylabel("assessments started a month")
    ax.set_title(f"Throughput and capacity ({len(cap.change_points_)} change point(s))")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1),
              ncol=3)  # under the plot, clear of the bars
    fig.tight_layout()
    return fig


FIGURES = {ARRIVALS_FIGURE: arrivals_figure, "waits_km.png": waits_figure,
           "list_size.png": list_figure, "capacity.png": capacity_figure}
CALIBRATION_FILES = (CALIBRATED, FIT, REPORT, BACKLOG_FILE, QUARANTINE, *FIGURES)
"""Every file ``ndpath calibrate`` writes, from an extract or (a subset) a monthly series: what
``--overwrite`` removes before writing."""


# -------------------------------------------------------------------------------------------------
# Writing


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(share: float) -> str:
    """A share as a percentage with one decimal ("99.6%"), "-" when undefined."""
    return f"{100 * share:.1f}%" if math.isfinite(share) else "-"


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def write_calibration(calibration: Calibration, out: str | Path, overwrite: bool = False,
                      command: Sequence[str] = (), figures: bool = True,
                      extra: Mapping[str, Any] | None = None, prepared: bool = False,
                      source: str | Path | None = None) -> Path:
    """Write the calibration folder; returns its path.

    ``source``: the extract file read (its SHA-256 goes into fit.json, report.md and the
    calibrated scenario's ``meta.source_sha256``).

    ``prepared``: ``out`` was made ready by :func:`prepare_output` already (the command line
    does, then writes quarantine.csv into it), so nothing in it is checked or removed here.
    """
    folder = Path(out) if prepared else prepare_output(out, overwrite)
    # the calibrated scenario holds its children waiting inline (backlog.waiting); the folder
    # gives them as a readable table beside it instead
    calibration.backlog.to_csv(folder / BACKLOG_FILE, index=False)
    provenance = calibration_provenance(source, command, calibration.seeds())
    tuning = calibration.tuning
    warnings = [tuning.warning] if tuning is not None and tuning.warning else []
    scenario = with_source(with_backlog_file(calibration.scenario, BACKLOG_FILE), provenance,
                           warnings)
    header = ("# Calibrated by ndpath calibrate from a pathway extract. Fitted values, intervals\n"
              "# and sources are in fit.json; the goodness of fit is in report.md.\n"
              f"# backlog.table lists the {len(calibration.backlog):,} children waiting at the start.\n"
              + _source_comment(provenance))
    (folder / CALIBRATED).write_text(header + scenario.to_toml())
    fit = {
        "ndpath_version": __version__,
        "command": list(command),
        "provenance": provenance,
        "headline": calibration.headline(),
        "warnings": calibration.warnings,
        "data_changes": calibration.data_changes,
        "extract": calibration.quality,
        "parameters": calibration.parameter_dict(),
        "kept_defaults": calibration.kept_defaults,
        "notes": calibration.notes,
        "goodness_of_fit": None if tuning is None else {
            "replay_start": str(tuning.replay_start.date()),
            "replications": tuning.replications,
            "capacity_multiplier": tuning.capacity_multiplier,
            "capacity_multiplier_expected_range": list(MULTIPLIER_RANGE),
            "capacity_multiplier_warning": tuning.warning,
            "loss": tuning.loss, "loss_untuned": tuning.loss_untuned,
            "list_size_mean_abs_error_pct": tuning.list_error_pct,
            "list_size_end_error_pct": tuning.list_end_error_pct,
            "referrals_mean_abs_error_pct": tuning.referral_error_pct,
            "km_max_gap": tuning.km_max_gap,
            "km_weeks": tuning.km_weeks.tolist(),
            "km_observed": tuning.km_observed.tolist(),
            "km_simulated": tuning.km_simulated.tolist(),
        },
        **(dict(extra) if extra else {}),
    }
    write_json(folder / FIT, fit)
    if figures:
        for name, make in FIGURES.items():
            figure = make(calibration)
            figure.savefig(folder / name, dpi=110)
    (folder / REPORT).write_text(report_markdown(calibration, figures, provenance))
    return folder


def changes_section(changes: Sequence[Mapping[str, Any]]) -> list[str]:
    """'Changes to the data': every imputation, exclusion and aggregation, with its count."""
    lines = ["## Changes to the data", ""]
    if not changes:
        return lines + ["Nothing was imputed, excluded or aggregated.", ""]
    rows = [(c["what"], f"{int(c.get('rows', 0)):,}", c.get("effect", "")) for c in changes]
    return lines + [_markdown_table(("what", "rows or cells", "effect"), rows), ""]


def _rate_text(p: Any) -> str:
    if p.events is None:
        return ""
    exposure = _fmt(p.exposure)
    return f"{_fmt(p.events)} over {exposure} {p.exposure_unit}".strip()


def report_markdown(calibration: Calibration, figures: bool = True,
                    provenance: Mapping[str, Any] | None = None) -> str:
    """The report: its first lines are the capacity multiplier (what it stands for, a warning
    outside the expected range), the goodness of fit and the changes made to the data; then the
    data, the fitted values with intervals (each rate with its events and time at risk), what
    stayed default, and the fit in detail."""
    q = calibration.quality
    lines = ["# Calibration report", ""]
    lines += [f"**{line}**" if line.startswith("WARNING") else line
              for line in calibration.headline()]
    lines += [""]
    if q:
        lines += [
            f"Extract date **{q.get('extract_date')}**: {q.get('input_rows', 0):,} rows read, "
            f"{q.get('valid_rows', 0):,} used, **{q.get('quarantined_rows', 0):,} quarantined** "
            f"({q.get('problems', 0):,} problems); {q.get('still_waiting', 0):,} children still "
            "waiting (their waits are right-censored at the extract date, not dropped).", ""]
    lines += [f"- {n}" for n in calibration.notes] + [""]
    lines += changes_section(calibration.data_changes)
    lines += ["## Fitted values", "",
              "95% intervals (a blank interval is undefined: the data do not identify the "
              "value). Sources: *fitted* (directly from the extract), "
              "*simulation-calibrated* (tuned so the model reproduces the list and waits), "
              "*extract* (counted). A rate shows its events over its time at risk.", ""]
    rows: list[tuple[Any, ...]] = [
        (p.name, _fmt(p.estimate), _fmt(p.ci_low), _fmt(p.ci_high), p.unit, _rate_text(p),
         p.source) for p in calibration.parameters]
    lines += [_markdown_table(("parameter", "estimate", "low", "high", "unit",
                               "events / time at risk", "source"), rows), ""]
    notes = [(p.name, p.note) for p in calibration.parameters if p.note]
    lines += [f"- {name}: {note}" for name, note in notes] + ([""] if notes else [])
    lines += ["## Kept from the base scenario (not identified by this data)", ""]
    lines += [f"- {k}" for k in calibration.kept_defaults] + [""]
    t = calibration.tuning
    if t is not None:
        lines += ["## Goodness of fit", "",
                  f"The last {len(t.observed)} months were replayed from the children waiting on "
                  f"{t.replay_start.date()} ({t.replications} replications, common random "
                  f"numbers). Capacity multiplier **{t.capacity_multiplier:.3f}**"
                  + ("" if t.tuned else " (not tuned: the capacity measured from throughput "
                     "as it is)") + " (misfit "
                  f"{t.loss:.2g}, against {t.loss_untuned:.2g} untuned: the mean squared "
                  f"relative error of the list plus the mean squared gap of the waits curve; 0 "
                  f"is a perfect fit).", "",
                  f"- list size: mean absolute error of the simulated median "
                  f"**{t.list_error_pct:.1f}%** of the observed",
                  f"- waits: largest gap between the observed and simulated Kaplan-Meier "
                  f"curves (shares not yet assessed at a given week) "
                  f"**{100 * t.km_max_gap:.1f} percentage points**", ""]
        if t.km_blind:
            lines += [f"Note: {t.km_blind}.", ""]
        rows = [(f"{w:g}", _pct(o), _pct(s)) for w, o, s in
                zip(t.km_weeks, t.km_observed, t.km_simulated)]
        lines += [_markdown_table(("weeks after referral", "observed not yet assessed",
                                   "simulated not yet assessed"), rows), ""]
        rows = [(m, suppress_small(o), suppress_small(s)) for m, o, s in
                zip(t.observed["month"], t.observed["waiting_end"], t.simulated["p50"])]
        lines += [_markdown_table(("month", "observed list", "simulated median"), rows), ""]
    if provenance is not None:
        lines += provenance_lines(provenance)
    if figures:
        lines += ["## Figures", "", "![referrals](arrivals.png)", "", "![waits](waits_km.png)", "",
                  "![list size](list_size.png)", "", "![capacity](capacity.png)", ""]
    return "\n".join(lines)


__all__ = ["write_calibration", "report_markdown", "prepare_output", "OutputFolderError",
           "FIGURES", "CALIBRATED", "FIT", "REPORT", "QUARANTINE", "CALIBRATION_FILES",
           "calibration_provenance", "with_source", "provenance_lines", "write_json", "suppress_small", "MONTH_NAMES",
           "changes_section"]
