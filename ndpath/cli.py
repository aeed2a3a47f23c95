"""The ``ndpath`` command line.

``ndpath run SCENARIO`` projects one scenario and writes a results folder
(:mod:`model.results`); ``ndpath compare BASELINE OTHER...`` runs several with common random
numbers and reports paired differences; ``ndpath sweep`` runs a grid of lever values;
``ndpath scenarios`` lists the shipped scenarios. The calibration commands (validate, calibrate,
backtest, synth) are in :mod:`ndpath.calibration_commands`.

This package sits on top of ``model`` and ``calibration``; neither imports it. Each command
imports what it needs when it runs, so ``ndpath --help`` loads no numerical library.

Results go to stdout, progress and notes to stderr. A user error (a bad scenario file or option,
a results folder that already holds results) prints its message and exits with code 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import math
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from typing import TYPE_CHECKING

# Only the standard library and two import-free modules here: ``ndpath --help`` must not wait for
# numpy, pandas, scipy, matplotlib or dask. Each command imports what it uses.
from model.labels import HORIZON_TOTALS, card_label, change_unit, fmt_money, fmt_number
from model.labels import is_fraction, label, period_label, short_label, undefined_reason
from model.names import SCALAR_METRICS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from model.executors import Executor
    from model.experiment import ExperimentResult
    from model.scenario import LoadedScenario, Scenario

log = logging.getLogger("ndpath")

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
"""Ctrl-C, as a shell reports a program stopped by SIGINT (128 + 2)."""


TABLE_METRICS = (
    "referrals", "waiting_list_end", "waiting_total_end",
    "total_wait_weeks_p50_end", "waiting_total_over_52w_end", "profiling_over_52w_end",
    "list_wait_weeks_p50_end", "list_wait_weeks_p92_end",
    "pct_waiting_over_13w_end", "pct_waiting_over_52w_end", "pct_waiting_over_104w_end",
    "waiting_over_52w_end",
    "pct_referrals_assessed_within_13w", "pct_referrals_assessed_within_52w",
    "referral_to_assessment_weeks_p50",
    "time_to_first_support_weeks_p50", "pct_supported_within_13w", "pct_supported_within_52w",
    "assessments_completed", "needs_led_exits", "signposted", "rejected", "withdrawals",
    "aged_out", "escalations", "clinician_utilisation", "cost_total",
    "wait_of_those_assessed_weeks_p50", "pct_of_those_assessed_within_13w",
    "backlog_cleared",
    # what families worry about (issue 11)
    "re_referrals", "pct_profiled_to_diagnostic", "routed_away_would_be_diagnosed",
    "assessments_no_condition", "supported_without_diagnosis", "would_be_diagnosed_unassessed",
    "would_be_diagnosed_left_unassessed", "turned_18_without_assessment",
)
"""What the printed table shows: DESIGN.md section 3's metrics (list-based waits first, the
referral cohort, then the waits of those assessed, which are never the headline) and the backlog
question."""

COMPARISON = "comparison.csv"
EQUITY_COMPARISON = "equity_comparison.csv"
CLEARANCE_SUMMARY = "clearance.csv"
COMPARE_FIGURES = ("differences.png", "list_size_fan.png", "wait_distribution.png")
COMPARE_FILES = ("provenance.json", COMPARISON, EQUITY_COMPARISON, CLEARANCE_SUMMARY,
                 *COMPARE_FIGURES)
"""What ``ndpath compare`` writes at the top of its folder (each scenario has a subfolder)."""


class UserError(Exception):
    """A mistake the user can fix (an option, a path); printed without a traceback, exit 2.

    Subcommands added by other packages may raise it too.
    """


# -------------------------------------------------------------------------------------------------
# Arguments


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario key, e.g. --set assessment.professions.0.wte=6 "
                             "(repeatable; keys as in docs/scenario-reference.md)")
    parser.add_argument("--replications", type=int, metavar="N",
                        help="replications (default: the scenario's simulation.replications)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="base seed (default: the scenario's simulation.seed)")
    parser.add_argument("--months", type=int, metavar="M",
                        help="horizon in calendar months (simulation.horizon_months)")
    parser.add_argument("--uncertainty", action="store_true",
                        help="include what we don't know about the assumptions: each replication "
                             "draws each from its plausible range, centred on the scenario's "
                             "value, as the app does by default "
                             "(uncertainty.enabled and uncertainty.from_assumptions)")
    parser.add_argument("--start", metavar="YYYY-MM-DD",
                        help="start date, 'today' on the charts (simulation.start_date)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="results folder (default: results/<name>-<time>); "
                             "an existing non-empty folder is refused unless --overwrite")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results in an existing --out folder")
    add_executor_options(parser)
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep every replication's event log in memory (the wait chart then "
                             "shows the full distribution of waits)")
    parser.add_argument("--no-figures", dest="figures", action="store_false",
                        help="write the tables only")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or notes")


def build_parser() -> argparse.ArgumentParser:
    """The ``ndpath`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ndpath",
        description="Simulate the children's autism/ADHD assessment pathway and its waiting list.")
    from model import __version__

    parser.add_argument("--version", action="version", version=f"ndpath {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="project one scenario and write a results folder",
                         description="Project one scenario: replications, summary with 95% "
                                     "intervals, monthly bands, figures and provenance.")
    run.add_argument("scenario", type=Path, metavar="SCENARIO",
                     help="scenario TOML file, or a shipped scenario by name (ndpath scenarios)")
    run.add_argument("--by", action="append", default=[], metavar="GROUP",
                     help="also print who benefits by GROUP: quintile, looked_after, age, "
                          "pathway, priority or locality (repeatable; every group is in "
                          "equity.csv in the results folder either way)")
    _add_run_options(run)
    run.set_defaults(handler=command_run)

    check = sub.add_parser(
        "check", help="check scenario files and options without running them",
        description="Load and validate each scenario (following extends, with --set and the "
                    "simulation options applied) and list every problem with its key; exit 0 "
                    "when all are valid, 2 otherwise. Nothing is run or written.")
    check.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                       help="scenario TOML files or shipped scenario names")
    check.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a scenario key (as for run)")
    for flag, kind, meta in (("--replications", int, "N"), ("--seed", int, "S"),
                             ("--months", int, "M"), ("--start", str, "YYYY-MM-DD")):
        check.add_argument(flag, type=kind, metavar=meta, help=f"as for run ({flag})")
    check.set_defaults(handler=command_check)

    comp = sub.add_parser("compare", help="compare scenarios against a baseline (paired differences)",
                          description="Run a baseline and other scenarios with the same seed "
                                      "(common random numbers) and report paired differences "
                                      "with 95% intervals.")
    comp.add_argument("baseline", type=Path, metavar="BASELINE", help="baseline scenario TOML")
    comp.add_argument("others", type=Path, nargs="+", metavar="OTHER", help="scenarios to compare")
    _add_run_options(comp)
    comp.set_defaults(handler=command_compare)

    sens = sub.add_parser(
        "sensitivity", help="how much each assumption's plausible range moves a metric",
        description="Move each assumption (a default with no good public figure) to the low and "
                    "high end of its plausible range, one at a time, with common random numbers; "
                    "writes sensitivity.csv and a tornado chart.")
    sens.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    sens.add_argument("--metric", default="waiting_list_end", choices=SCALAR_METRICS,
                      metavar="METRIC", help="metric to watch (default waiting_list_end)")
    sens.add_argument("--only", action="append", default=None, metavar="KEY",
                      help="only this assumption (repeatable), e.g. leaving.withdrawal_per_year")
    sens.add_argument("--method", choices=("oat", "global"), default="oat",
                      help="oat: one at a time, a tornado (default); global: every assumption "
                           "at once over a Latin hypercube, ranked by partial rank correlation")
    sens.add_argument("--samples", type=int, metavar="N",
                      help="--method global: design points (default 4 per assumption, at least 20)")
    sens.add_argument("--range", dest="ranges", action="append", default=[], metavar="KEY=LOW:HIGH",
                      help="--method global: explore this range for a numeric key instead of its "
                           "plausible range (repeatable), e.g. leaving.withdrawal_per_year=0.01:0.2")
    sens.add_argument("--design-seed", type=int, default=0, metavar="S",
                      help="--method global: seed of the Latin hypercube (default 0)")
    _add_run_options(sens)
    sens.set_defaults(handler=command_sensitivity)

    cap = sub.add_parser(
        "capacity", help="least extra WTE to reach a 13-week target by a date",
        description="Search (bisection, common random numbers) for the least extra clinical WTE, "
                    "split across professions in proportion to their WTE and starting at the "
                    "start date, so that in month BY the mean of the chosen measure reaches "
                    "TARGET percent. --measure list (default): of the children waiting at the "
                    "end of the month, the share who have waited under 13 weeks (as NHS England "
                    "counts incomplete pathways). --measure referrals: of the month's new "
                    "referrals, the share whose assessment started within 13 weeks (NICE QS51).")
    cap.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    cap.add_argument("--target", type=float, default=90.0, metavar="PCT",
                     help="percent to reach (default 90)")
    cap.add_argument("--measure", choices=("list", "referrals"), default="list",
                     help="what the target counts (default list: the children waiting)")
    cap.add_argument("--by", required=True, metavar="YYYY-MM", help="month to reach it in")
    cap.add_argument("--max-extra-wte", type=float, default=200.0, metavar="WTE",
                     help="give up above this many extra WTE (default 200, at most 10,000)")
    _add_run_options(cap)
    cap.set_defaults(handler=command_capacity)

    sweep = sub.add_parser(
        "sweep", help="every combination of lever values, into one Parquet file (resumable)",
        description="Run the product of the --grid values (common random numbers: every "
                    "scenario with the same seed and replications) on the local pool or Dask, "
                    "streaming each finished scenario to disk. The same command again resumes an "
                    "interrupted sweep: finished scenarios are not rerun.")
    sweep.add_argument("scenario", type=Path, metavar="SCENARIO",
                       help="base scenario TOML file, or a shipped scenario by name")
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                       help="a lever and its values, e.g. --grid assessment.professions.0.wte=3,4,5 "
                            "(repeatable: the sweep runs every combination)")
    sweep.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a base scenario key (as for run)")
    for flag, kind, meta in (("--replications", int, "N"), ("--seed", int, "S"),
                             ("--months", int, "M"), ("--start", str, "YYYY-MM-DD")):
        sweep.add_argument(flag, type=kind, metavar=meta, help=f"as for run ({flag})")
    sweep.add_argument("--out", type=Path, metavar="FILE.parquet",
                       help="results file (default results/<scenario>-sweep.parquet); one row per "
                            "scenario and replication")
    sweep.add_argument("--overwrite", action="store_true",
                       help="start afresh: discard the results already in --out")
    add_executor_options(sweep)
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or notes")
    sweep.set_defaults(handler=command_sweep)
    add_staffing_command(sub)

    scen = sub.add_parser("scenarios", help="list the shipped scenarios")
    scen.add_argument("directory", type=Path, nargs="?", default=None,
                      help="folder to list (default: the shipped scenarios)")
    scen.set_defaults(handler=command_scenarios)

    parser.set_defaults(user_errors=_add_calibration(sub))
    return parser


def _add_calibration(sub: Any) -> tuple[tuple[str, str], ...]:
    """Register the calibration subcommands (:mod:`ndpath.calibration_commands`).

    Returns the calibration's user errors as (module, class) names, which :func:`main` reports
    like any other user error (message, exit 2, no traceback) without importing them first.
    """
    from . import calibration_commands

    calibration_commands.add_subcommands(sub)
    return calibration_commands.USER_ERRORS


# -------------------------------------------------------------------------------------------------
# Shared steps


def _check_run_options(args: argparse.Namespace) -> None:
    """The simulation options are in range before any scenario is read (exit 2 otherwise)."""
    for flag, value, low, high, what in (
            ("--months", args.months, 1, 600,
             "calendar months to simulate, simulation.horizon_months"),
            ("--replications", args.replications, 1, 100_000,
             "independent runs, simulation.replications"),
            ("--seed", args.seed, 0, None, "a whole number, simulation.seed"),
            ("--workers", getattr(args, "workers", None), 1, 10_000, "worker processes")):
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            limit = f"from {low} to {high:,}" if high is not None else f"{low} or more"
            raise UserError(f"{flag} {value}: must be {limit} ({what})")
    if args.start is not None:
        try:
            dt.date.fromisoformat(args.start.strip())
        except ValueError:
            raise UserError(f"--start {args.start!r} (simulation.start_date): not a calendar "
                            "date; write it as YYYY-MM-DD, e.g. --start 2026-04-01") from None


def _overrides(args: argparse.Namespace, forced: dict[str, Any] | None = None) -> list[str]:
    """``--set`` items, then the run options mapped onto ``simulation.*``; an option and a
    ``--set`` of the same key with different values is refused, not silently resolved."""
    _check_run_options(args)
    items = list(args.overrides)
    if args.months is not None:
        items.append(f"simulation.horizon_months={args.months}")
    if args.start is not None:
        items.append(f"simulation.start_date={args.start.strip()}")
    if args.replications is not None:
        items.append(f"simulation.replications={args.replications}")
    if args.seed is not None:
        items.append(f"simulation.seed={args.seed}")
    if getattr(args, "uncertainty", False):
        items += ["uncertainty.enabled=true", "uncertainty.from_assumptions=true"]
    # the baseline's calendar in a comparison replaces each scenario's own (a note says so)
    forced_keys = {f"{key}=" for key in (forced or {})}
    items = [i for i in items if not any(i.replace(" ", "").startswith(k) for k in forced_keys)]
    for key, value in (forced or {}).items():
        items.append(f"{key}={value}")
    return items


@dataclass(frozen=True)
class ExecutorChoice:
    name: str
    options: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **{k: v for k, v in self.options.items() if v is not None}}


def add_executor_options(parser: argparse.ArgumentParser, default: str = "local") -> None:
    """``--executor``, ``--workers`` and ``--dask-scheduler`` (read by :func:`executor_choice`)."""
    parser.add_argument("--executor", choices=("serial", "local", "dask"),
                        help="where replications run: serial (this process), local (a process "
                             "per core), dask (a Dask cluster); default " + default)
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes for local, or workers of a new Dask cluster")
    parser.add_argument("--dask-scheduler", metavar="ADDR",
                        help="address tcp://HOST:PORT of a running Dask scheduler (implies "
                             "--executor dask); without it --executor dask starts a local cluster")
    parser.set_defaults(executor_default=default)


def executor_choice(args: argparse.Namespace) -> ExecutorChoice:
    """The executor the options ask for, checked (a :class:`UserError` if they conflict)."""
    default = getattr(args, "executor_default", "local")
    name = args.executor or ("dask" if args.dask_scheduler else default)
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: must be at least 1")
    if args.dask_scheduler and name != "dask":
        raise UserError(f"--dask-scheduler needs --executor dask (got --executor {name})")
    if name == "dask":
        return ExecutorChoice("dask", {"scheduler": args.dask_scheduler, "n_workers": args.workers})
    if name == "local":
        return ExecutorChoice("local", {"max_workers": args.workers})
    return ExecutorChoice("serial", {})


def open_executor(choice: ExecutorChoice, stack: ExitStack) -> Executor:
    """Build the executor and open it for the life of ``stack``: one process pool, Dask
    LocalCluster or scheduler connection serves every run of the command.

    A malformed scheduler address, an unreachable scheduler or a missing Dask install is a
    :class:`UserError` (exit 2), not a traceback.
    """
    from model.executors import get_executor

    from model.dask_executor import DaskConnectionError

    try:
        executor = get_executor(choice.name, **{k: v for k, v in choice.options.items()
                                                if v is not None})
        if hasattr(executor, "__enter__"):
            stack.enter_context(executor)  # type: ignore[arg-type]
        elif callable(getattr(executor, "close", None)):
            stack.callback(executor.close)  # type: ignore[attr-defined]
    except ImportError as error:
        raise UserError(f"--executor {choice.name}: not available ({error})") from None
    except ValueError as error:  # a malformed --dask-scheduler address
        raise UserError(f"--dask-scheduler: {error}") from None
    except DaskConnectionError as error:
        raise UserError(str(error)) from None
    return executor


def _default_out(stem: str) -> Path:
    return Path("results") / f"{stem}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _note(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


def _progress(args: argparse.Namespace, total: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="replication", disable=args.quiet, file=sys.stderr,
                leave=False)


def _fmt_metric(metric: str, value: float) -> str:
    if is_fraction(metric) and value is not None and math.isfinite(value):
        return f"{100 * value:.0f}%"  # a share from 0 to 1, as the app shows it
    if change_unit(metric) == "£":
        return fmt_money(value)  # "£1.40m", as the app and the pack write money
    return fmt_number(value)


def draws_assumptions(scenario: Scenario) -> bool:
    """Whether each replication draws the assumptions from their plausible ranges (so its
    intervals include what we don't know about them), or varies by chance only."""
    u = scenario.uncertainty
    return bool(u.enabled and (u.from_assumptions or u.parameters))


def interval_heading(scenarios: Sequence[Scenario], replications: int,
                     paired: bool = False) -> str:
    """What a table's "95% interval" column is: a t-interval of the mean over the
    replications, not the spread of the projections (the fan charts' shading), so an interval
    as narrow as "£2.14m to £2.14m" is not read as certainty; and whether it includes what we
    don't know about the assumptions ("chance and assumptions") or chance only."""
    drawn = "chance and assumptions" if any(map(draws_assumptions, scenarios)) else "chance only"
    if paired:
        return (f"95% interval of the mean difference over {replications} paired "
                f"replications ({drawn})")
    return f"95% interval of the mean over {replications} replications ({drawn})"


def bands_note(scenario: Scenario) -> str:
    """How to include the assumptions when a run's intervals are chance only ('' when they
    are included): the tables' headers say which (:func:`interval_heading`)."""
    if draws_assumptions(scenario):
        return ""
    return ("The assumptions are held fixed here; --uncertainty (the app's default) also draws "
            "them from their plausible ranges, which moves the averages too, not only the "
            "intervals.")


def _wrapped(text: str) -> str:
    """A note printed above or below a table, wrapped to the width of its labels."""
    import textwrap

    return "\n".join(textwrap.wrap(text, LABEL_WIDTH))


STAGE_METRICS = {
    "profiling": ("profiling_over_52w_end", "signposted", "pct_profiled_to_diagnostic",
                  "routed_away_would_be_diagnosed"),
    "vetting": ("rejected",),
    "rereferral": ("re_referrals",),
}
"""Rows about a stage of the pathway: left out of one scenario's table when the scenario does not
have that stage (a row of zeros there reads as if the stage were in the service)."""

STAGE_WORDS = {"profiling": "no profiling tool (needs profiles)", "vetting": "no vetting",
               "rereferral": "no re-referral of children who left"}


def stages_off(scenario: Scenario) -> list[str]:
    """The stages of :data:`STAGE_METRICS` this scenario does not have."""
    return [stage for stage in STAGE_METRICS if not getattr(scenario, stage).enabled]


def summary_table(experiment: ExperimentResult, metrics: Sequence[str] = TABLE_METRICS) -> str:
    """The key metrics as a plain-text table: label (a total with its period), mean and 95%
    interval of the mean, the header saying what that interval is (:func:`interval_heading`).
    Rows about a stage the scenario does not have are left out, and a line says so."""
    summary = experiment.summary.set_index("metric")
    total = experiment.replications
    off = stages_off(experiment.scenario)
    metrics = [m for m in metrics if not any(m in STAGE_METRICS[stage] for stage in off)]

    def defined_in(m: str) -> str:
        # a metric undefined in some replications (e.g. the median time to first support when
        # fewer than half were supported) is averaged over the others only: say so
        n = int(summary.at[m, "n"])
        return "" if n == total else f"defined in {n} of {total}"

    shown = [m for m in metrics if m in summary.index]
    # a total over the projection says its period ("..., over the 24 months to December 2027")
    rows = [(period_label(m, experiment.scenario), _fmt_metric(m, summary.at[m, "mean"]),
             f"{_fmt_metric(m, summary.at[m, 'ci_low'])} to {_fmt_metric(m, summary.at[m, 'ci_high'])}",
             defined_in(m))
            for m in shown]
    left_out = ("\nRows about a stage this scenario does not have are left out: "
                + "; ".join(STAGE_WORDS[stage] for stage in off) + "." if off else "")
    heading = interval_heading([experiment.scenario], total)
    return (_table((heading, "mean", "95% interval", "replications"), rows) + left_out
            + undefined_notes(summary, shown, total))


def undefined_notes(summary: pd.DataFrame, metrics: Sequence[str], total: int) -> str:
    """One line per metric undefined in some replications, saying why ('' when none is)."""
    lines = [f"  - {label(m)}: not defined in {total - int(summary.at[m, 'n'])} of {total} "
             f"replication(s): {undefined_reason(m)}"
             for m in metrics if int(summary.at[m, "n"]) < total]
    return ("\nNot defined (-, averaged over the other replications):\n" + "\n".join(lines)
            if lines else "")


LABEL_WIDTH = 72
"""The widest the first column of a printed table gets: a longer label wraps onto more lines,
its numbers on the last, so the table fits a terminal (labels run to 140 characters)."""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    import textwrap

    first = [textwrap.wrap(str(r[0]), LABEL_WIDTH) or [""] for r in [header, *rows]]
    widths = [max(len(line) for lines in first for line in lines)]
    widths += [max(len(str(r[k])) for r in [header, *rows]) for k in range(1, len(header))]
    lines: list[str] = []
    for r, label_lines in zip([header, *rows], first):
        lines.extend(line.rstrip() for line in label_lines[:-1])
        cells = ([label_lines[-1].ljust(widths[0])]
                 + [str(c).rjust(w) for c, w in zip(r[1:], widths[1:])])
        lines.append("  ".join(cells).rstrip())
    lines.insert(len(first[0]), "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _load(path: Path, overrides: Sequence[str]) -> LoadedScenario:
    from model.scenario import load_scenario_with_sources

    return load_scenario_with_sources(path, overrides)


def _run(args: argparse.Namespace, loaded: LoadedScenario, executor: Executor, bar: Any
         ) -> ExperimentResult:
    from model.experiment import run_replications

    sim = loaded.scenario.simulation
    return run_replications(loaded.scenario, sim.replications, sim.seed, executor,
                            keep_logs=args.keep_logs, on_done=lambda: bar.update(1))


# -------------------------------------------------------------------------------------------------
# run


def scenario_warnings(scenario: Scenario, name: str | None = None) -> list[str]:
    """The warnings its calibration wrote into a scenario (``meta.warnings``), one line each,
    printed with every run of it so they are not lost once the scenario leaves its folder; and
    where it was calibrated from."""
    meta = scenario.meta
    lines = [f"Warning{f' ({name})' if name else ''}, from the calibration of this scenario: {w}"
             for w in meta.warnings or ()]
    if lines and meta.source_sha256:
        lines.append(f"  (calibrated from {meta.source_file or 'a data file'}, SHA-256 "
                     f"{meta.source_sha256[:12]}...; provenance.json has it in full)")
    return lines


def command_run(args: argparse.Namespace) -> int:
    """``ndpath run``: one scenario to a results folder."""
    from model.results import build_provenance, prepare_folder, write_results
    from model.staffing import constraint_sentence

    choice = executor_choice(args)
    loaded = _load(args.scenario, _overrides(args))
    by = _group_variables(args.by)
    out = prepare_folder(args.out or _default_out(args.scenario.stem), args.overwrite)
    with ExitStack() as stack:
        executor = open_executor(choice, stack)
        bar = stack.enter_context(_progress(args, loaded.scenario.simulation.replications,
                                            args.scenario.stem))
        experiment = _run(args, loaded, executor, bar)
        bar.close()
        provenance = build_provenance(experiment, loaded.file_hashes,
                                      command=["ndpath", *args.argv], executor=choice.describe())
        # with the pool still open: a worker draws the figures while the tables are written
        write_results(out, experiment, provenance, figures=args.figures, overwrite=True,
                      executor=executor)
    panel = write_sanity(out, experiment)
    sim = loaded.scenario.simulation
    # the table's header says the replications and what its intervals include
    print(f"{loaded.scenario.meta.name}: {sim.horizon_months} months from {sim.start_date}, "
          f"seed {experiment.seed}")
    if bands_note(loaded.scenario):
        print(_wrapped(bands_note(loaded.scenario)))
    for line in scenario_warnings(loaded.scenario):
        print(line)
    print(summary_table(experiment))
    constraint = constraint_sentence(experiment)
    if constraint:  # by profession: which profession's hours run out (the app says the same)
        print("\n" + constraint)
    print(sanity_section(panel))
    for variable in by:
        print(equity_text(experiment, variable))
    _note(args, f"\nResults written to {out}")
    return EXIT_OK


EQUITY_TABLE_METRICS = (
    "children",
    "waiting_list_end", "list_wait_weeks_p50_end", "pct_waiting_over_52w_end",
    "waiting_over_52w_end",
    "waiting_total_end", "total_wait_weeks_p50_end", "waiting_total_over_52w_end",
    "pct_referrals_assessed_within_13w", "pct_referrals_assessed_within_52w",
    "time_to_first_support_weeks_p50", "escalations", "needs_led_exits", "aged_out",
    "re_referrals", "routed_away_would_be_diagnosed", "would_be_diagnosed_unassessed",
    "turned_18_without_assessment",
)
"""What ``ndpath run --by GROUP`` prints (equity.csv has every by-group metric): the diagnostic
list's count and waits, then the same of everyone waiting at any stage (list, needs profile,
vetting, from referral), each row titled with which it is."""


def _group_variables(names: Sequence[str]) -> list[str]:
    from model.equity import resolve_variable

    try:
        return list(dict.fromkeys(resolve_variable(name) for name in names))
    except ValueError as error:
        raise UserError(str(error)) from None


def equity_text(experiment: ExperimentResult, variable: str) -> str:
    """Who benefits by one group variable: groups x metrics with 95% intervals, then the gap."""
    from model.equity import (GAPS, SHORT_LABELS, VARIABLE_LABELS, by_variable, equity_gaps,
                         equity_table, format_interval)
    from model.metrics import GROUP_RATE_METRICS

    table = equity_table(experiment.groups)
    if variable not in set(table["variable"]):
        return (f"\nBy {VARIABLE_LABELS[variable].lower()}: not in this scenario (set "
                "localities.names and localities.shares to report localities)")
    wide = by_variable(table, variable, EQUITY_TABLE_METRICS)

    def title(metric: str) -> str:  # a total with its period, as the app's by-group rows
        return card_label(metric, experiment.scenario, SHORT_LABELS.get(metric, label(metric)))

    rows = [(title(m), *wide.loc[m].tolist()) for m in wide.index]
    interval = interval_heading([experiment.scenario], experiment.replications)
    text = (f"\nBy {VARIABLE_LABELS[variable].lower()} (mean [{interval}]; counts rounded to "
            "the nearest 5, fewer than 5 suppressed):\n" + _table(("", *wide.columns), rows))
    if variable in GAPS:
        gaps = equity_gaps(experiment.groups)
        # waits and shares only: a gap in counts mostly measures the groups' sizes
        gaps = gaps[(gaps["variable"] == variable) & gaps["metric"].isin(GROUP_RATE_METRICS)]
        focus, reference, words = GAPS[variable]
        lines = [(title(r.metric), "suppressed" if r.suppressed else
                  format_interval(r.difference, r.ci_low, r.ci_high)) for r in gaps.itertuples()]
        text += (f"\n\nGap, {words} (paired within replications; equity_gaps.csv has every "
                 "metric):\n" + _table(("", "gap"), lines))
    return text


# -------------------------------------------------------------------------------------------------
# compare


SANITY = "sanity.csv"


def write_sanity(out: Path, experiment: ExperimentResult) -> pd.DataFrame:
    """The queueing sanity panel (:mod:`model.waitinglist`) of a run, written as ``sanity.csv``."""
    from model.waitinglist import sanity_panel

    panel = sanity_panel(experiment.scenario, experiment.per_replication, experiment.monthly)
    panel.to_csv(out / SANITY, index=False)
    return panel


def sanity_section(panel: pd.DataFrame) -> str:
    """The panel as a section of the printed summary."""
    from model.waitinglist import SOURCE, panel_text

    return ("\nQueueing sanity check: the NHS waiting-list formulas for this scenario, and whether "
            "the simulation agrees where their assumptions hold\n"
            f"({SOURCE}; 13-week target; {SANITY} has every assumption and tolerance)\n"
            + panel_text(panel))


def clearance_summary(experiment: ExperimentResult) -> dict[str, Any]:
    """Answers to "when is the backlog cleared, with what probability?" for one scenario.

    * ``backlog_cleared_*``: the chance (mean over replications, with 95% interval) that nobody
      on the list has waited over 13 weeks at the end of the horizon.
    * ``month_cleared_half`` / ``month_cleared_nine_in_ten``: the first month by which at least
      half / nine in ten of the projections have had, at some month end, nobody waiting over 13
      weeks (empty when that does not happen within the horizon).
    * ``month_median_list_below_start``: the month from which the median list size stays below
      the list at the start until the end of the horizon (empty if it ends above): the list has
      come down for good, not just dipped.
    """
    from model.questions import backlog_clearance

    cleared = experiment.metric("backlog_cleared")
    by_month = backlog_clearance(experiment)

    def first_month(share: float) -> str:
        hit = by_month.loc[by_month["first_cleared_share"] >= share, "month"]
        return str(hit.iloc[0]) if len(hit) else ""

    start = float(experiment.per_replication["waiting_list_start"].median())
    ts = experiment.timeseries
    lists = ts[ts["metric"] == "waiting_list"].sort_values("month")
    below = lists["p50"].to_numpy() < start
    # the month from which the median list stays below its start to the end of the horizon, so
    # that a one-month dip followed by growth does not count as the list coming down
    not_below = [k for k, b in enumerate(below) if not b]
    stays = len(below) if not below.any() else (not_below[-1] + 1 if not_below else 0)
    from_month = str(lists["month"].iloc[stays]) if stays < len(below) else ""
    return {
        "backlog_cleared_mean": cleared["mean"],
        "backlog_cleared_ci_low": cleared["ci_low"],
        "backlog_cleared_ci_high": cleared["ci_high"],
        "month_cleared_half": first_month(0.5),
        "month_cleared_nine_in_ten": first_month(0.9),
        "waiting_list_start": start,
        "month_median_list_below_start": from_month,
    }


def _unique_names(paths: Sequence[Path]) -> list[str]:
    names: list[str] = []
    for path in paths:
        name, k = path.stem, 2
        while name in names:
            name, k = f"{path.stem}-{k}", k + 1
        names.append(name)
    return names


def _load_all(args: argparse.Namespace) -> list[LoadedScenario]:
    """Load every scenario, collecting every file's problems before giving up."""
    from model.scenario import ScenarioError

    paths = [args.baseline, *args.others]
    loaded: list[LoadedScenario] = []
    problems: list[str] = []
    base_overrides = _overrides(args)
    for k, path in enumerate(paths):
        try:
            if k == 0:
                loaded.append(_load(path, base_overrides))
            else:
                sim = loaded[0].scenario.simulation
                # every scenario runs with the baseline's seed, replications and calendar, so
                # replication k of each sees the same children and luck (common random numbers)
                loaded.append(_load(path, _overrides(args, {
                    "simulation.seed": sim.seed, "simulation.replications": sim.replications,
                    "simulation.horizon_months": sim.horizon_months,
                    "simulation.start_date": sim.start_date.isoformat()})))
        except ScenarioError as error:
            problems.append(str(error))
            if k == 0:
                break
    if problems:
        raise UserError("\n".join(problems))
    return loaded


def _calendar_notes(paths: Sequence[Path], loaded: Sequence[LoadedScenario],
                    args: argparse.Namespace) -> None:
    """Say when a scenario's own calendar was replaced by the baseline's."""
    from model.scenario import ScenarioError

    base = loaded[0].scenario.simulation
    for path, item in zip(paths[1:], loaded[1:]):
        try:
            own = _load(path, _overrides(args)).scenario.simulation
        except ScenarioError:
            continue
        for key in ("seed", "replications", "horizon_months", "start_date"):
            if getattr(own, key) != getattr(base, key):
                _note(args, f"note: {path}: simulation.{key} = {getattr(own, key)} replaced by the "
                            f"baseline's {getattr(base, key)} for a paired comparison")


def command_compare(args: argparse.Namespace) -> int:
    """``ndpath compare``: paired differences of each scenario against the baseline."""
    import pandas as pd
    from model.results import build_provenance, prepare_folder, save_png, write_results

    from model import plots

    choice = executor_choice(args)
    paths = [args.baseline, *args.others]
    loaded = _load_all(args)
    _calendar_notes(paths, loaded, args)
    names = _unique_names(paths)
    out = prepare_folder(args.out or _default_out("compare"), args.overwrite)
    results: dict[str, ExperimentResult] = {}
    n = loaded[0].scenario.simulation.replications
    with ExitStack() as stack:
        executor = open_executor(choice, stack)
        bar = stack.enter_context(_progress(args, n * len(loaded), "compare"))
        for name, item in zip(names, loaded):
            bar.set_description(name)
            results[name] = _run(args, item, executor, bar)
        bar.close()
        if args.overwrite:
            clear_compare_folder(out)
        for name, item in zip(names, loaded):
            provenance = build_provenance(results[name], item.file_hashes,
                                          command=["ndpath", *args.argv],
                                          executor=choice.describe())
            # a worker of the open pool draws each run's figures while its tables are written
            write_results(out / name, results[name], provenance, figures=args.figures,
                          overwrite=args.overwrite, executor=executor)

    base_name = names[0]
    (out / "provenance.json").write_text(json.dumps(
        compare_provenance(results, loaded, names, args, choice), indent=2) + "\n", encoding="utf-8")
    comparison = comparison_frame(results, base_name)
    comparison.to_csv(out / COMPARISON, index=False)
    equity_comparison_frame(results, base_name).to_csv(out / EQUITY_COMPARISON, index=False)
    clearance = pd.DataFrame([{"scenario": name, **clearance_summary(r)}
                              for name, r in results.items()])
    clearance.to_csv(out / CLEARANCE_SUMMARY, index=False)
    if args.figures:
        figures = {
            "differences.png": differences_figure(comparison, results[base_name].scenario),
            "list_size_fan.png": plots.fan_chart(
                None, "waiting_list", scenarios={n: r.timeseries for n, r in results.items()}),
            "wait_distribution.png": plots.wait_distribution(results),
        }
        for file_name, figure in figures.items():
            save_png(figure, out / file_name)

    sim = loaded[0].scenario.simulation
    # each table's header says the paired replications and what its intervals include
    print(f"Baseline: {base_name} ({loaded[0].scenario.meta.name}); {sim.horizon_months} "
          f"months from {sim.start_date}, seed {results[base_name].seed}, the same for every "
          "scenario (paired)")
    if not any(draws_assumptions(r.scenario) for r in results.values()):
        print(_wrapped(bands_note(loaded[0].scenario)))
    for name, item in zip(names, loaded):
        for line in scenario_warnings(item.scenario, name):
            print(line)
    for name in names[1:]:
        print(f"\n{name} minus {base_name} ({results[name].scenario.meta.name}):")
        print(comparison_table(comparison[comparison["comparison"] == name],
                               own=(results[base_name], results[name])))
    print("\nWhen is the backlog cleared (nobody waiting over 13 weeks)?")
    print(clearance_table(clearance))
    _note(args, f"\nResults written to {out}")
    return EXIT_OK


def clear_compare_folder(out: Path) -> None:
    """``compare --overwrite``: remove what an earlier comparison wrote in ``out`` (its top files
    and every scenario subfolder: those its provenance.json names and any other holding an
    ndpath run), so no scenario, table or figure of it outlives the new one. Files ndpath did
    not write are kept, with a note on the console when they keep an old subfolder."""
    from model.results import is_results_folder, remove_files, remove_results_folder

    folders: set[str] = set()
    try:
        old = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
        folders |= {str(s.get("folder")) for s in (old.get("scenarios") or {}).values()
                    if isinstance(s, dict)}
    except (OSError, ValueError, AttributeError):
        pass
    folders |= {p.name for p in out.iterdir() if p.is_dir() and is_results_folder(p)}
    for name in sorted(folders):
        folder = out / name
        if Path(name).name != name or name == ".." or not folder.is_dir():  # out's own only
            continue
        if not remove_results_folder(folder, also=(SANITY,)):
            # said even with --quiet: the folder looks like part of the new comparison
            print(f"note: {folder} holds files ndpath did not write: kept, with the earlier "
                  "comparison's results removed from it", file=sys.stderr)
    remove_files(out, COMPARE_FILES)


def differences_figure(comparison: pd.DataFrame, scenario: Scenario) -> Any:
    """``differences.png``: the paired differences, each row titled as the tables title it (a
    total with the period of the ``scenario`` run, :func:`model.labels.period_label`)."""
    from model import plots

    return plots.differences_chart(comparison, labels={
        m: period_label(m, scenario) for m in set(comparison["metric"])})


def compare_provenance(results: dict[str, ExperimentResult], loaded: Sequence[LoadedScenario],
                       names: Sequence[str], args: argparse.Namespace, choice: ExecutorChoice
                       ) -> dict[str, Any]:
    """The comparison's own provenance: shared settings, and each scenario's digest and files
    (its full provenance is in its subfolder)."""
    from model.results import build_provenance

    base = build_provenance(results[names[0]], loaded[0].file_hashes,
                            command=["ndpath", *args.argv], executor=choice.describe())
    shared = {k: base[k] for k in ("seed", "replications", "months", "start", "package",
                                   "versions", "command", "created", "executor")}
    return {"baseline": names[0], **shared, "scenarios": {
        name: {"folder": name, "scenario_name": results[name].scenario.meta.name,
               "scenario_digest": results[name].scenario.digest(),
               "input_files": [{"path": p, "sha256": h} for p, h in item.file_hashes.items()]}
        for name, item in zip(names, loaded)}}


def comparison_frame(results: dict[str, ExperimentResult], baseline: str) -> pd.DataFrame:
    """Paired differences of every scenario against ``baseline``, as written to comparison.csv.

    Columns: ``comparison, metric, label, baseline_mean, scenario_mean, difference, ci_low,
    ci_high, n``.
    """
    import pandas as pd
    from model.experiment import OWN_COLUMNS, compare

    frames = []
    for name, result in results.items():
        if name == baseline:
            continue
        # comparison.csv keeps its columns: the paired means, not each run's own summary
        diff = compare(results[baseline], result).drop(columns=list(OWN_COLUMNS),
                                                       errors="ignore")
        diff = diff.rename(columns={"baseline": "baseline_mean", "scenario": "scenario_mean"})
        diff.insert(0, "comparison", name)
        diff.insert(2, "label", diff["metric"].map(label))
        frames.append(diff)
    return pd.concat(frames, ignore_index=True)


def equity_comparison_frame(results: dict[str, ExperimentResult], baseline: str) -> pd.DataFrame:
    """By group, paired differences of every scenario against ``baseline`` and the change in
    each gap (disclosure-controlled), as written to equity_comparison.csv."""
    import pandas as pd

    from model.equity import equity_comparison

    frames = []
    for name, result in results.items():
        if name == baseline or result.groups is None or results[baseline].groups is None:
            continue
        frame = equity_comparison(results[baseline].groups, result.groups)
        frame.insert(0, "comparison", name)
        frame.insert(4, "label", frame["metric"].map(label))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def comparison_table(frame: pd.DataFrame, metrics: Sequence[str] = TABLE_METRICS,
                     own: tuple[ExperimentResult, ExperimentResult] | None = None) -> str:
    """The paired differences as a plain-text table. With ``own`` (the baseline's and the
    scenario's results) the two value columns are each run's own mean, as ``ndpath run`` and
    the app print them, rather than the means over the pairs the difference uses (a median
    never reached in the baseline has no pair, but has its own value); a total says the
    baseline's period, and the header what the interval is (:func:`interval_heading`)."""
    rows = []
    period = own[0].scenario if own is not None else None
    indexed = frame.set_index("metric")
    for m in metrics:
        if m not in indexed.index:
            continue
        r = indexed.loc[m]
        base_value, other_value = ((own[0].metric(m)["mean"], own[1].metric(m)["mean"])
                                   if own is not None else (r["baseline_mean"], r["scenario_mean"]))
        rows.append((period_label(m, period), _fmt_metric(m, base_value), _fmt_metric(m, other_value),
                     _fmt_signed(m, r["difference"]),
                     f"{_fmt_signed(m, r['ci_low'])} to {_fmt_signed(m, r['ci_high'])}"))
    undefined = [m for m in metrics if m in indexed.index
                 and not math.isfinite(float(indexed.at[m, "difference"]))]

    def where(m: str) -> str:  # which run lacks the value, when one has it
        if own is None:
            return ""
        lacking = [side for side, result in zip(("the baseline", "the scenario"), own)
                   if not math.isfinite(result.metric(m)["mean"])]
        return f" in {' and '.join(lacking)}" if len(lacking) == 1 else ""

    notes = "".join(f"\n  - {label(m)}: no paired difference: not defined{where(m)} "
                    f"({undefined_reason(m)})" for m in undefined)
    heading = (interval_heading([own[0].scenario, own[1].scenario], own[0].replications,
                                paired=True) if own is not None else "")
    return _table((heading, "baseline", "scenario", "difference", "95% interval"), rows) + (
        "\nNot defined (-):" + notes if notes else "")


def _fmt_signed(metric: str, value: float) -> str:
    if change_unit(metric) == "£":
        return fmt_money(value, signed=True)
    text = _fmt_metric(metric, value)
    return text if text == "-" or text.startswith("-") else f"+{text}"


def clearance_table(clearance: pd.DataFrame) -> str:
    rows = []
    for _, r in clearance.iterrows():
        chance = (f"{_fmt_metric('backlog_cleared', r['backlog_cleared_mean'])} "
                  f"({_fmt_metric('backlog_cleared', r['backlog_cleared_ci_low'])} to "
                  f"{_fmt_metric('backlog_cleared', r['backlog_cleared_ci_high'])})")
        rows.append((r["scenario"], chance, r["month_cleared_half"] or "not in horizon",
                     r["month_cleared_nine_in_ten"] or "not in horizon",
                     r["month_median_list_below_start"] or "not in horizon"))
    return _table(("", "chance cleared at end", "cleared in 1 of 2 by", "in 9 of 10 by",
                   "list stays below start from"), rows)


# -------------------------------------------------------------------------------------------------
# sensitivity and capacity


def _parse_ranges(items: Sequence[str]) -> dict[str, tuple[float, float]]:
    ranges = {}
    for item in items:
        key, sep, span = item.partition("=")
        low, colon, high = span.partition(":")
        try:
            if not (sep and colon and key.strip()):
                raise ValueError
            ranges[key.strip()] = (float(low), float(high))
        except ValueError:
            raise UserError(f"--range {item!r}: write it as KEY=LOW:HIGH, e.g. "
                            "leaving.withdrawal_per_year=0.01:0.2") from None
    return ranges


def command_global_sensitivity(args: argparse.Namespace) -> int:
    """``ndpath sensitivity --method global``: a Latin hypercube over every assumption at once."""
    from model.results import prepare_folder, save_png

    from model.global_sensitivity import latin_hypercube, prcc_chart
    from model.results import write_json

    choice = executor_choice(args)
    ranges = _parse_ranges(args.ranges)
    loaded = _load(args.scenario, _overrides(args))
    sim = loaded.scenario.simulation
    # two replications per design point unless asked: the design's spread is the signal
    replications = args.replications if args.replications is not None else 2
    out = prepare_folder(args.out or _default_out(f"{args.scenario.stem}-global-sensitivity"),
                         args.overwrite)
    with ExitStack() as stack:
        executor = open_executor(choice, stack)
        try:
            result = latin_hypercube(loaded.scenario, args.metric, args.samples, replications,
                                     sim.seed, executor, keys=args.only, ranges=ranges,
                                     design_seed=args.design_seed)
        except ValueError as error:
            raise UserError(f"--method global: {error}") from None
    result.table.to_csv(out / "global_sensitivity.csv", index=False)
    result.design.to_csv(out / "global_design.csv", index=False)
    if args.figures:
        save_png(prcc_chart(result), out / "prcc.png")
    write_json(out / "provenance.json", {
        "method": "latin_hypercube_prcc", "metric": args.metric, "samples": result.samples,
        "replications_per_point": replications, "design_seed": args.design_seed,
        "ranges": {r.parameter: [r.low, r.high] for r in result.table.itertuples()},
        "scenario": loaded.scenario.model_dump(mode="json"),
        "scenario_digest": loaded.scenario.digest(), "seed": sim.seed,
        "command": ["ndpath", *args.argv],
        "input_files": [{"path": p, "sha256": h} for p, h in loaded.file_hashes.items()]})
    print(f"{label(args.metric)}: every assumption varied at once over its range "
          f"({result.samples} Latin-hypercube points x {replications} replication(s), common random "
          "numbers); partial rank correlation (PRCC) with its 95% interval, Spearman beside it")
    rows = [(str(r.rank), r.parameter, f"{r.low:g} to {r.high:g}", f"{r.prcc:+.2f}",
             f"{r.prcc_ci_low:+.2f} to {r.prcc_ci_high:+.2f}", f"{r.spearman:+.2f}")
            for r in result.table.itertuples()]
    print(_table(("rank", "assumption", "range", "PRCC", "95% interval", "Spearman"), rows))
    _note(args, f"\nResults written to {out}")
    return EXIT_OK


def command_sensitivity(args: argparse.Namespace) -> int:
    """``ndpath sensitivity``: one-at-a-time over the assumptions' plausible ranges."""
    from model.results import prepare_folder, save_png

    from model.results import write_json
    from model.sensitivity import one_at_a_time, tornado_chart

    if args.method == "global":
        return command_global_sensitivity(args)
    if args.samples is not None or args.ranges:
        raise UserError("--samples and --range apply to --method global only")
    if args.uncertainty:
        raise UserError("--uncertainty does not apply to one-at-a-time sensitivity: it moves "
                        "one assumption with the others held fixed (drop --uncertainty)")
    choice = executor_choice(args)
    loaded = _load(args.scenario, _overrides(args))
    if loaded.scenario.uncertainty.enabled:
        # drawn assumptions would replace the one being moved: held fixed, as the app does
        loaded = dataclasses.replace(loaded, scenario=loaded.scenario.replace(
            {"uncertainty.enabled": False}))
        _note(args, "The scenario's parameter uncertainty is switched off here: one-at-a-time "
                    "sensitivity moves one assumption with the others held fixed.")
    out = prepare_folder(args.out or _default_out(f"{args.scenario.stem}-sensitivity"),
                         args.overwrite)
    sim = loaded.scenario.simulation
    with ExitStack() as stack:
        executor = open_executor(choice, stack)
        try:
            table = one_at_a_time(loaded.scenario, args.metric, sim.replications, sim.seed,
                                  executor, keys=args.only)
        except ValueError as error:
            raise UserError(f"--only: {error}") from None
    table.to_csv(out / "sensitivity.csv", index=False)
    if args.figures and len(table):
        save_png(tornado_chart(table, args.metric), out / "tornado.png")
    write_json(out / "provenance.json", {
        "metric": args.metric, "scenario": loaded.scenario.model_dump(mode="json"),
        "scenario_digest": loaded.scenario.digest(), "seed": sim.seed,
        "replications": sim.replications, "command": ["ndpath", *args.argv],
        "input_files": [{"path": p, "sha256": h} for p, h in loaded.file_hashes.items()]})
    rows = [(r.parameter, f"{r.low:g} to {r.high:g}", _fmt_signed(args.metric, r.diff_low),
             _fmt_signed(args.metric, r.diff_high)) for r in table.itertuples()]
    print(f"{label(args.metric)}: baseline {_fmt_metric(args.metric, table['baseline'].iloc[0]) if len(table) else '-'}"
          f"; change at each end of the plausible range ({sim.replications} paired replications)")
    print(_table(("assumption", "range", "at low end", "at high end"), rows))
    _note(args, f"\nResults written to {out}")
    return EXIT_OK


def command_capacity(args: argparse.Namespace) -> int:
    """``ndpath capacity``: the least extra WTE that meets a 13-week target by a month."""
    from model.results import prepare_folder

    from model.questions import least_extra_capacity

    if not (math.isfinite(args.target) and 0 < args.target <= 100):
        raise UserError(f"--target {args.target:g}: a percentage above 0 and at most 100, "
                        "e.g. --target 90")
    if not (math.isfinite(args.max_extra_wte) and 0 < args.max_extra_wte <= 10_000):
        raise UserError(f"--max-extra-wte {args.max_extra_wte:g}: extra whole-time equivalents "
                        "above 0 and at most 10,000, e.g. --max-extra-wte 50")
    choice = executor_choice(args)
    loaded = _load(args.scenario, _overrides(args))
    sim = loaded.scenario.simulation
    out = prepare_folder(args.out, args.overwrite) if args.out else None
    with ExitStack() as stack:
        executor = open_executor(choice, stack)
        try:
            answer = least_extra_capacity(loaded.scenario, args.target, args.by, sim.replications,
                                          sim.seed, executor, max_extra_wte=args.max_extra_wte,
                                          measure=args.measure)
        except ValueError as error:
            raise UserError(str(error)) from None
    print(answer.sentence())
    print(_table(("extra WTE", "mean %" + (" waiting under 13 weeks" if args.measure == "list"
                                           else " of referrals assessed within 13 weeks"),
                  "replications meeting target"),
                 [(f"{r.extra_wte:g}", f"{r.mean_pct:.1f}", f"{100 * r.probability_met:.0f}%")
                  for r in answer.evaluations.itertuples()]))
    if out is not None:
        answer.evaluations.to_csv(out / "capacity_search.csv", index=False)
        _note(args, f"\nResults written to {out}")
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# sweep

SWEEP_TABLE_METRICS = ("waiting_list_end", "pct_waiting_over_13w_end",
                       "pct_referrals_assessed_within_13w", "cost_total")
"""What ``ndpath sweep`` prints per scenario (the Parquet file has every metric)."""


SWEEP_OPTION_KEYS = (("--months", "months", "simulation.horizon_months"),
                     ("--start", "start", "simulation.start_date"),
                     ("--replications", "replications", "simulation.replications"),
                     ("--seed", "seed", "simulation.seed"))
"""The sweep's options that set a scenario key, as (flag, attribute, key)."""


def _refuse_grid_clashes(args: argparse.Namespace, grid: dict[str, list[str]]) -> None:
    """A key set by ``--set`` (or an option such as ``--months``) and by ``--grid`` is refused
    (:class:`UserError`): the grid's values would replace the other silently, and the sweep
    would not run the value asked for. A key inside a grid key's table, or a table holding
    it, clashes too."""
    given = []
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if sep:
            given.append(("--set", key.strip(), value.strip()))
    for flag, attribute, key in SWEEP_OPTION_KEYS:
        if getattr(args, attribute, None) is not None:
            given.append((flag, key, str(getattr(args, attribute)).strip()))
    problems = []
    for source, key, value in given:
        for grid_key, values in grid.items():
            if key == grid_key or grid_key.startswith(key + ".") or key.startswith(grid_key + "."):
                name = key if key == grid_key else f"{key} (by {source}) and {grid_key} (by --grid)"
                problems.append(f"{name}: given twice ({source} {value} and --grid "
                                f"{','.join(values)}); give it once: in --grid to sweep it, or "
                                f"in {source} for one value")
    if problems:
        raise UserError("\n".join(problems))


def sweep_calendar(scenarios: Sequence[Scenario]) -> str:
    """The sweep's months and start ("24 months from 2026-01-01"), or that the grid sets them."""
    calendars = {(s.simulation.horizon_months, s.simulation.start_date) for s in scenarios}
    if len(calendars) != 1:
        return "the months and start the grid gives each scenario"
    months, start = calendars.pop()
    return f"{months} month{'s' if months != 1 else ''} from {start}"


def sweep_variation(scenarios: Sequence[Scenario]) -> str:
    """What the replications of the sweep's scenarios vary: chance only, or the assumptions too
    (as :func:`interval_heading` says it for a run's table)."""
    drawn = {draws_assumptions(s) for s in scenarios}
    if drawn == {True}:
        return "chance and assumptions"
    return "chance only" if drawn == {False} else "chance only, or chance and assumptions, as the grid sets"


def sweep_column(metric: str, scenarios: Sequence[Scenario]) -> str:
    """A column of the sweep's table: a total with its period ("Total cost, 24 months"), a
    short label, or else the metric's name (as in the Parquet file)."""
    if metric in HORIZON_TOTALS:
        months = {s.simulation.horizon_months for s in scenarios}
        if len(months) == 1:
            return card_label(metric, scenarios[0])
        return f"{short_label(metric)}, over each scenario's months"
    return label(metric) if len(label(metric)) < 40 else metric


def command_sweep(args: argparse.Namespace) -> int:
    """``ndpath sweep``: every combination of lever values into one Parquet file."""
    import numpy as np

    from model.sweep import SweepError, parse_grid, run_sweep

    choice = executor_choice(args)
    try:
        grid = parse_grid(args.grid)
    except SweepError as error:
        raise UserError(str(error)) from None
    _refuse_grid_clashes(args, grid)
    loaded = _load(args.scenario, _overrides(args))
    out: Path = args.out or Path("results") / f"{args.scenario.stem}-sweep.parquet"
    if out.suffix.lower() != ".parquet" or out.is_dir():
        raise UserError(f"--out {out}: give a file name ending in .parquet, e.g. "
                        f"--out results/{args.scenario.stem}-sweep.parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    sim = loaded.scenario.simulation
    saved: list[str] = []
    with ExitStack() as stack:
        executor = open_executor(choice, stack)
        bar = stack.enter_context(_progress(args, 0, "sweep"))

        def plan(to_run: int, finished: int) -> None:
            bar.total = to_run * sim.replications
            bar.refresh()
            if finished:
                _note(args, f"resuming {out}: {finished} scenario(s) already finished, "
                            f"{to_run} to run")

        try:
            result = run_sweep(loaded.scenario, grid, out, sim.replications, sim.seed, executor,
                               overwrite=args.overwrite, on_done=lambda: bar.update(1),
                               on_scenario=saved.append, on_plan=plan,
                               file_hashes=loaded.file_hashes, command=["ndpath", *args.argv])
        except SweepError as error:
            raise UserError(str(error)) from None
        except KeyboardInterrupt:  # said here, once (not again as main's 'ndpath: interrupted')
            print(f"ndpath sweep: interrupted; {len(saved)} more scenario(s) saved in {out}; "
                  "run the same command again to resume", file=sys.stderr)
            return EXIT_INTERRUPTED
    import pandas as pd

    table = pd.read_parquet(out)
    means = table.groupby("scenario", sort=False)[
        [m for m in SWEEP_TABLE_METRICS if m in table]].mean()
    scenarios = [point.scenario for point in result.points]
    print(f"{loaded.scenario.meta.name}: {len(result.points)} scenario(s) x {sim.replications} "
          f"replications, {sweep_calendar(scenarios)}, seed {sim.seed} (common random numbers); "
          f"ran {len(result.ran)}, already finished {len(result.skipped)}")
    rows = [(name, *(_fmt_metric(m, float(v)) if np.isfinite(v) else "-" for m, v in r.items()))
            for name, r in means.iterrows()]
    print(_table((f"scenario (mean over {sim.replications} replications, "
                  f"{sweep_variation(scenarios)})",
                  *(sweep_column(m, scenarios) for m in means.columns)), rows))
    _note(args, f"\nResults written to {out} (one row per scenario and replication)")
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# staffing (issue 12): which post should we fund?

TARGET_KINDS = ("list_13w", "referrals_13w", "list_below", "nobody_over_52w")


def add_staffing_command(sub: Any) -> None:
    """``ndpath staffing``: its arguments (the logic is :mod:`model.staffing`)."""
    st = sub.add_parser(
        "staffing", help="which post should we fund? +1 WTE of each profession, and the fewest "
                         "extra WTE by profession mix to meet a target",
        description="For one more WTE of each profession (from the start date, common random "
                    "numbers), the paired change in the list, the headline waits, the "
                    "assessments, the cost and the child-weeks of waiting, with 95% intervals, "
                    "and the cost per child-week of waiting avoided; ranked. With --by, the "
                    "fewest extra WTE that meets --target in that month, searched for each "
                    "profession alone, the team in proportion and the balanced mix (the "
                    "profession that binds first).")
    st.add_argument("scenario", type=Path, metavar="SCENARIO",
                    help="scenario TOML file, or a shipped scenario by name")
    st.add_argument("--extra-wte", type=float, default=1.0, metavar="WTE",
                    help="WTE added to each profession in turn (default 1)")
    st.add_argument("--by", metavar="YYYY-MM", help="also find the fewest extra WTE that meets "
                                                    "the target in this month")
    st.add_argument("--target-kind", choices=TARGET_KINDS, default="list_13w",
                    help="list_13w (default): %% of the list waiting under 13 weeks; "
                         "referrals_13w: %% of the month's referrals assessed within 13 weeks; "
                         "list_below: at most N children waiting; nobody_over_52w: at most N "
                         "waiting a year or more")
    st.add_argument("--target", type=float, default=None, metavar="VALUE",
                    help="the target's value (default 90 for a share, 0 for nobody over 52 "
                         "weeks; required for list_below)")
    st.add_argument("--max-extra-wte", type=float, default=60.0, metavar="WTE",
                    help="give up above this many extra WTE (default 60)")
    _add_run_options(st)
    st.set_defaults(handler=command_staffing)


def command_staffing(args: argparse.Namespace) -> int:
    """``ndpath staffing``: the effect of one more post of each profession, ranked."""
    from model.questions import Target
    from model.results import prepare_folder
    from model.staffing import (assessments_per_week_by_profession, effects_table, fewest_wte,
                                post_effects)

    if not (math.isfinite(args.extra_wte) and 0 < args.extra_wte <= 1_000):
        raise UserError(f"--extra-wte {args.extra_wte:g}: WTE above 0 and at most 1,000, "
                        "e.g. --extra-wte 1")
    if not (math.isfinite(args.max_extra_wte) and 0 < args.max_extra_wte <= 10_000):
        raise UserError(f"--max-extra-wte {args.max_extra_wte:g}: above 0 and at most 10,000")
    target = None
    if args.by is not None:
        value = args.target
        if value is None:
            if args.target_kind == "list_below":
                raise UserError("--target-kind list_below needs --target N (children waiting), "
                                "e.g. --target 2000")
            value = 0.0 if args.target_kind == "nobody_over_52w" else 90.0
        try:
            target = Target(args.target_kind, float(value), args.by)
        except ValueError as error:
            raise UserError(f"--target: {error}") from None
    choice = executor_choice(args)
    loaded = _load(args.scenario, _overrides(args))
    scenario, sim = loaded.scenario, loaded.scenario.simulation
    out = prepare_folder(args.out, args.overwrite) if args.out else None
    rates = assessments_per_week_by_profession(scenario)
    _note(args, "Assessments a week each profession's hours allow (the recipes' arithmetic, at "
                "the start): " + ", ".join(
                    f"{n.replace('_', ' ')} {r:.1f}" for n, r in rates.items() if math.isfinite(r)))
    with ExitStack() as stack:
        executor = open_executor(choice, stack)
        try:
            effects = post_effects(scenario, args.extra_wte, sim.replications, sim.seed, executor,
                                   on_done=lambda name: _note(args, f"  ran +{args.extra_wte:g} "
                                                                    f"WTE {name}"))
            fewest = (fewest_wte(scenario, target, sim.replications, sim.seed, executor,
                                 max_wte=args.max_extra_wte) if target is not None else None)
        except ValueError as error:
            raise UserError(str(error)) from None
    print(effects.sentence())
    words = effects_table(effects)
    print(_table(list(words.columns), [[str(v) for v in row] for row in words.to_numpy()]))
    print(f"Paired differences against the scenario as it is ({effects.replications} "
          f"projections, seed {effects.seed}); cost per child-week avoided = extra cost / "
          "child-weeks of waiting avoided on the list in the projection.")
    if fewest is not None:
        print()
        print(fewest.sentence())
        print(_table(("mix", "extra WTE", "split", "mean at that level", "projections meeting"),
                     [(r.mix.replace("_", " "),
                       "not met" if not math.isfinite(float(r.extra_wte)) else f"{r.extra_wte:.1f}", r.split,
                       f"{r.achieved:,.1f}", f"{100 * r.probability_met:.0f}%")
                      for r in fewest.table.itertuples()]))
    if out is not None:
        effects.ranking.to_csv(out / "staffing.csv", index=False)
        effects.differences.to_csv(out / "staffing_differences.csv", index=False)
        if fewest is not None:
            fewest.table.to_csv(out / "staffing_fewest_wte.csv", index=False)
        _note(args, f"\nResults written to {out}")
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# scenarios


def command_check(args: argparse.Namespace) -> int:
    """``ndpath check``: validate scenarios and options; nothing runs."""
    from model.scenario import ScenarioError

    items = _overrides(args)
    problems: list[str] = []
    for path in args.scenarios:
        try:
            loaded = _load(path, items)
        except ScenarioError as error:
            problems.append(str(error))
            continue
        s = loaded.scenario
        print(f"{path}: valid: {s.meta.name} ({s.simulation.horizon_months} months from "
              f"{s.simulation.start_date}, {s.simulation.replications} replications, seed "
              f"{s.simulation.seed}; {len(loaded.files)} file(s) read)")
    if problems:
        raise UserError("\n".join(problems))
    return EXIT_OK


def command_scenarios(args: argparse.Namespace) -> int:
    """``ndpath scenarios``: every scenario file under a folder with its name and description."""
    from model.scenario import ScenarioError, load_scenario_with_sources, shipped_scenarios_dir

    # the shipped scenarios: scenarios/ in the repository, installed with the package in a wheel
    directory: Path = args.directory if args.directory is not None else shipped_scenarios_dir()
    if not directory.is_dir():
        raise UserError(f"{directory}: no such folder")
    rows = []
    for path in sorted(directory.rglob("*.toml")):
        try:
            meta = load_scenario_with_sources(path).scenario.meta
            rows.append((str(path.relative_to(directory)), meta.name, meta.description))
        except ScenarioError as error:
            rows.append((str(path.relative_to(directory)), "(does not load)", error.problems[0]))
    for file, name, description in rows:
        print(f"{file}\n    {name}\n    {description}" if description else f"{file}\n    {name}")
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# Entry point


def _handler(args: argparse.Namespace) -> Callable[..., int]:
    handler = getattr(args, "handler", None) or getattr(args, "func", None)
    if handler is None:
        raise UserError(f"{args.command}: no handler registered")
    return handler  # type: ignore[no-any-return]


USER_ERRORS: tuple[tuple[str, str], ...] = (
    ("model.scenario", "ScenarioError"), ("model.results", "ResultsFolderError"),
    ("model.sweep", "SweepError"))
"""User errors raised by the packages below, by (module, class) name: a module that was never
imported cannot have raised its error, so :func:`main` need not import it to catch it."""


def _is_user_error(error: BaseException, names: Sequence[tuple[str, str]]) -> bool:
    if isinstance(error, UserError):
        return True
    for module_name, class_name in names:
        module = sys.modules.get(module_name)
        kind = getattr(module, class_name, None) if module is not None else None
        if isinstance(kind, type) and isinstance(error, kind):
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ndpath`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse's own usage errors (already printed), --help, --version
        return int(stop.code or 0)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # a calibration's warnings (a misfit multiplier, a month with no referrals) are in its
    # result, which the commands print: its log would say each a second time
    logging.getLogger("calibration.calibrate").setLevel(logging.ERROR)
    handler = _handler(args)
    args.argv = argv  # for provenance: the command line as typed
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("ndpath: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the output was piped into a program that stopped reading (head)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:
        if not _is_user_error(error, (*USER_ERRORS, *args.user_errors)):
            raise
        print(f"ndpath {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    # ``python -m ndpath.cli`` runs this file as ``__main__``; the calibration commands import
    # ``ndpath.cli``, a second copy whose UserError this copy would not catch. Run that copy.
    from ndpath.cli import main as _main

    sys.exit(_main())
