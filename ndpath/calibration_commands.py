"""The calibration commands of ``ndpath``: validate, calibrate, backtest, synth.

:mod:`ndpath.cli` calls :func:`add_subcommands`. Handlers print results to stdout and notes to
stderr; a user error (bad extract, option or folder) raises ``ndpath.cli.UserError`` so the
command exits with code 2 and the message, never a traceback. The calibration package is
imported when a command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from typing import TYPE_CHECKING

from .cli import add_executor_options, executor_choice, open_executor

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from model.scenario import Scenario

log = logging.getLogger(__name__)

USER_ERRORS: tuple[tuple[str, str], ...] = (("calibration.extract", "ExtractError"),)
"""The calibration's user errors by (module, class) name (see :func:`ndpath.cli.main`)."""


def _user_error(message: str) -> Exception:
    from .cli import UserError

    return UserError(message)


def _date(text: str) -> pd.Timestamp:
    """An ISO date option (argparse reports a bad one as a usage error, exit 2)."""
    import datetime as dt
    import re

    import pandas as pd

    try:
        return pd.Timestamp(dt.date.fromisoformat(text.strip()))
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a day of the calendar (that month has no such day); check "
                "the date") from None
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD") from None


ON_ERROR_HELP = ("stop on any bad row (default, listing every problem) or set bad rows aside "
                 "in quarantine.csv (in --out) and use the rest; a bad optional attribute "
                 "(pathway, age, priority, ...) is read as missing and its row kept")
VALIDATE_ON_ERROR_HELP = (
    "stop (default): list every problem, each marked with what quarantine would do with its "
    "row, and exit 2 if there are any; quarantine: report the extract as calibrate "
    "--on-error quarantine would use it (bad rows set aside, a bad optional attribute read as "
    "missing and its row kept) and exit 0. validate writes no quarantine.csv: --problems FILE "
    "lists every problem with what is done with its row")


def _add_extract_options(p: argparse.ArgumentParser, on_error_help: str = ON_ERROR_HELP) -> None:
    p.add_argument("--extract-date", type=_date, required=True, metavar="YYYY-MM-DD",
                   help="the date the extract was pulled: children with no assessment or "
                        "discharge by then are still waiting (censored)")
    p.add_argument("--on-error", choices=("stop", "quarantine"), default="stop",
                   help=on_error_help)


def _add_calibration_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", type=Path, metavar="SCENARIO",
                   help="scenario supplying what the data does not identify "
                        "(default: the built-in defaults)")
    p.add_argument("--history-months", type=int, default=36, metavar="N",
                   help="months of complete history to fit (default 36)")
    p.add_argument("--referrals-from", metavar="YYYY-MM",
                   help="first month from which the extract holds every referral")
    p.add_argument("--exclude-months", metavar="RANGES",
                   help="months left out of the arrivals fit, e.g. 2020-03..2020-08,2021-01, "
                        "or 'none' (default: none; 2020-03..2020-08 for --monthly england)")
    p.add_argument("--break-month", metavar="YYYY-MM",
                   help="first month of a reporting break (a step change in the number of "
                        "providers submitting, e.g. 2025-12): the referral forecast fits a step "
                        "there and carries the level after it")
    p.add_argument("--replay-months", type=int, default=24, metavar="N",
                   help="months replayed by the simulation-based tuning (default 24)")
    p.add_argument("--replications", type=int, default=3, metavar="N",
                   help="replications per candidate in the tuning (default 3)")
    p.add_argument("--seed", type=int, default=20240601, metavar="S", help="seed of the tuning")
    p.add_argument("--no-tune", dest="tune", action="store_false",
                   help="skip the simulation-based tuning (direct fits only)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace files in an existing --out")
    # serial by default: a few replications per candidate gain little from a pool on a laptop
    add_executor_options(p, default="serial")


def add_subcommands(subparsers: Any) -> None:
    """Register ``validate``, ``calibrate``, ``backtest`` and ``synth``."""
    v = subparsers.add_parser("validate", help="check a pathway extract and report its quality",
                              description="Read and check a patient-level extract (CSV, Excel or "
                                          "Parquet): counts, date ranges, completeness, and every "
                                          "problem with its row, column and fix.")
    v.add_argument("extract", type=Path, metavar="EXTRACT")
    _add_extract_options(v, VALIDATE_ON_ERROR_HELP)
    v.add_argument("--problems", type=Path, metavar="FILE",
                   help="write every problem to a CSV (row, column, value, problem, fix, and "
                        "handling: row set aside, or row kept with the value read as missing)")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(handler=command_validate)

    c = subparsers.add_parser("calibrate", help="calibrate a scenario from an extract or a "
                                                "monthly series",
                              description="Fit a scenario to a patient-level extract (or, with "
                                          "--monthly, an aggregate series) and write "
                                          "calibrated.toml, fit.json and report.md.")
    c.add_argument("extract", type=Path, nargs="?", metavar="EXTRACT")
    c.add_argument("--monthly", type=Path, metavar="FILE",
                   help="an aggregate monthly series (month, new_referrals, ...) instead; "
                        "'england' is the bundled NHS England series, fitted by default to "
                        "age band 0-17 without 2020-03..2020-08 (the COVID-19 trough), as in "
                        "the app")
    c.add_argument("--age-band", action="append", metavar="BAND",
                   help="with --monthly: keep only this age band (e.g. 0-17); repeat it to sum "
                        "several bands month by month (--age-band 5-11 --age-band 12-17); "
                        "'all' sums every band; default: 0-17 for 'england', every band summed "
                        "for a file; a sum including adults' bands is warned about")
    c.add_argument("--pathway", help="with --monthly: keep only this pathway")
    c.add_argument("--extract-date", type=_date, metavar="YYYY-MM-DD",
                   help="the date the extract was pulled (required with EXTRACT)")
    c.add_argument("--on-error", choices=("stop", "quarantine"), default="stop",
                   help=ON_ERROR_HELP)
    c.add_argument("--months", type=int, metavar="M",
                   help="horizon of the calibrated scenario in months")
    _add_calibration_options(c)
    c.set_defaults(handler=command_calibrate)

    b = subparsers.add_parser("backtest", help="calibrate on older data and compare the "
                                               "projection with what happened",
                              description="Calibrate on the extract as known --holdout-months "
                                          "before its date, project, and compare with what "
                                          "happened and with naive baselines.")
    b.add_argument("extract", type=Path, metavar="EXTRACT")
    _add_extract_options(b)
    b.add_argument("--holdout-months", type=int, default=12, metavar="N")
    b.add_argument("--projection-replications", type=int, default=10, metavar="N")
    _add_calibration_options(b)
    b.set_defaults(handler=command_backtest)

    s = subparsers.add_parser("synth", help="write a synthetic extract from a scenario",
                              description="Run a scenario over the months before --extract-date "
                                          "and write what the service's system would hold: one "
                                          "row per referral in the extract format.")
    s.add_argument("scenario", type=Path, metavar="SCENARIO")
    s.add_argument("--extract-date", type=_date, required=True, metavar="YYYY-MM-DD")
    s.add_argument("--history-months", type=int, default=48, metavar="N")
    s.add_argument("--seed", type=int, metavar="S")
    s.add_argument("--messy", action="store_true",
                   help="write dates and codes in the mixed forms real extracts use")
    s.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="extract file (.csv, .xlsx or .parquet)")
    s.add_argument("--overwrite", action="store_true")
    s.set_defaults(handler=command_synth)


# -------------------------------------------------------------------------------------------------
# Handlers


def _read(args: argparse.Namespace) -> Any:
    from calibration.extract import ExtractError, read_extract

    try:
        # quiet: what reading set aside or read as missing is said once, by _quarantine_note,
        # not a second time by the library's log
        return read_extract(args.extract, args.extract_date, on_error=args.on_error, quiet=True)
    except ExtractError as error:
        raise _user_error(str(error)) from None


def _quarantine_note(table: Any, out: Path | None) -> None:
    from calibration.extract import write_quarantine

    aside = {p.row for p in table.problems if p not in table.set_missing}
    kept = [p for p in table.set_missing if p.row not in aside]
    if kept:
        print(f"{len(kept)} bad optional attribute value(s) read as missing, their rows kept "
              "(listed under 'Changes to the data' in report.md).", file=sys.stderr)
    n = len(table.quarantine)
    if n == 0:
        return
    if out is not None:
        from calibration.report import QUARANTINE

        path = write_quarantine(table, out / QUARANTINE)
        where = f"; they are in {path}"
    else:
        where = ""
    print(f"{n} of {table.input_rows} rows quarantined ({len(table.problems)} problems){where}; "
          f"{len(table.data)} rows used.", file=sys.stderr)


def _absent_note(table: Any) -> None:
    """Say which columns ndpath reads are not in the extract, and what that means."""
    from calibration.extract import ABSENT_MEANS

    for column, meaning in ABSENT_MEANS.items():
        if not table.has(column):
            print(f"note: the extract has no {column} column: {meaning}", file=sys.stderr)


def _base(args: argparse.Namespace) -> Scenario:
    from model.scenario import Scenario, ScenarioError, load_scenario

    if getattr(args, "base", None) is None:
        return Scenario()
    try:
        return load_scenario(args.base)
    except ScenarioError as error:
        raise _user_error(str(error)) from None


def _options(args: argparse.Namespace) -> Any:
    from calibration.calibrate import CalibrationOptions
    from calibration.fitters import parse_month_ranges

    for name in ("history_months", "replay_months", "replications"):
        if getattr(args, name) < 1:
            raise _user_error(f"--{name.replace('_', '-')} must be at least 1")
    if args.history_months > 600 or args.replay_months > 600:
        raise _user_error("--history-months and --replay-months are months of data: at most 600")
    if args.seed < 0:
        raise _user_error(f"--seed {args.seed}: a seed is a whole number, 0 or more")
    if getattr(args, "months", None) is not None and not 1 <= args.months <= 600:
        raise _user_error(f"--months {args.months}: the calibrated scenario's horizon, from 1 to "
                          "600 months")
    if args.exclude_months is not None and args.exclude_months.strip().lower() == "none":
        args.exclude_months = ""  # none left out, said explicitly (over a default)
    try:
        parse_month_ranges(args.exclude_months)
    except ValueError as error:
        raise _user_error(f"--exclude-months: {error}") from None
    if args.break_month is not None:
        try:
            if len(parse_month_ranges(args.break_month)) != 1:
                raise ValueError("give one month")
        except ValueError:
            raise _user_error(f"--break-month {args.break_month!r}: give one month as YYYY-MM, "
                              "e.g. 2025-12") from None
    return CalibrationOptions(history_months=args.history_months,
                              referrals_from=args.referrals_from,
                              exclude_months=args.exclude_months or None,
                              break_month=args.break_month,
                              replay_months=args.replay_months, replications=args.replications,
                              seed=args.seed, tune=args.tune,
                              horizon_months=getattr(args, "months", None))


def _open(args: argparse.Namespace, stack: ExitStack) -> Any:
    """The ``--executor`` asked for, open for the life of ``stack`` (one pool or Dask cluster
    for the whole calibration); a bad address or unreachable scheduler is a user error."""
    return open_executor(executor_choice(args), stack)


def _command(args: argparse.Namespace, argv: Sequence[str]) -> list[str]:
    """The command line as typed, for the provenance (``ndpath.cli.main`` sets ``args.argv``)."""
    return ["ndpath", *(argv or getattr(args, "argv", ()))]


def _prepare(out: Path, overwrite: bool, files: Sequence[str] | None = None) -> Path:
    """The output folder, created or (``--overwrite``) cleared of the command's own files."""
    from calibration.report import OutputFolderError, prepare_output

    try:
        return prepare_output(out, overwrite, files)
    except OutputFolderError as error:
        raise _user_error(str(error)) from None


def command_validate(args: argparse.Namespace, argv: Sequence[str] = ()) -> int:
    """``ndpath validate``: the data-quality report (exit 2 when there are problems)."""
    from calibration.extract import (ExtractError, problem_handling, problems_frame,
                                     quality_report, read_extract)

    try:
        # read as quarantine would, to count what it would do; in stop mode nothing is set
        # aside, so nothing is logged as if it were
        table = read_extract(args.extract, args.extract_date, on_error="quarantine",
                             quiet=args.on_error == "stop")
    except ExtractError as error:  # whole-file problems
        raise _user_error(str(error)) from None
    report = quality_report(table)
    marks = problem_handling(table, table.problems)
    if args.problems is not None:
        problems_frame(table.problems, table).to_csv(args.problems, index=False)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.extract}: {report['input_rows']} rows, extract date {report['extract_date']}")
        print(f"  rows with problems {report['rows_with_problems']} of {report['input_rows']} "
              f"({report['problems']} problem(s)); with --on-error quarantine "
              f"{report['quarantined_rows']} would be set aside and "
              f"{report['kept_with_missing']} kept with a bad value read as missing, "
              f"so {report['valid_rows']} row(s) used")
        print(f"  still waiting {report['still_waiting']}, assessed {report['assessed']}, "
              f"discharged {report['discharged']}")
        print(f"  dates (of the {report['valid_rows']} rows used):")
        for column, d in report["dates"].items():  # type: ignore[attr-defined]
            print(f"    {column:<24} {d['first'] or '-'} to {d['last'] or '-'} ({d['count']} given)")
        day_first = report["read_day_first"]
        if day_first:
            print("  dates written NN/NN/YYYY were read day-first, as DD/MM/YYYY (UK order; "
                  "03/04/2024 is 3 April):")
            for column, d in day_first.items():  # type: ignore[attr-defined]
                print(f"    {column:<24} {d['cells']:,} read as DD/MM: {d['day_first_only']:,} "
                      f"can only be DD/MM, {d['ambiguous']:,} could also be MM/DD")
        print(f"  completeness (share of the {report['valid_rows']} rows used with a value):")
        for column, share in report["completeness"].items():  # type: ignore[attr-defined]
            print(f"    {column:<24} {share:.1%}")
        if report["ignored_columns"]:
            print(f"  columns not used: {', '.join(report['ignored_columns'])}")  # type: ignore[arg-type]
        absent = report["absent_columns"]
        if absent:
            print("  columns not in the file:")
            for column, meaning in absent.items():  # type: ignore[attr-defined]
                print(f"    {column:<24} {meaning}")
    if table.problems and args.on_error == "stop":
        raise _user_error(str(ExtractError(table.problems, str(args.extract), marks=marks)))
    if table.problems:  # --on-error quarantine: usable, the problems said as what happens
        print(f"{len(table.problems)} problem(s), handled as --on-error quarantine says "
              f"(ndpath calibrate with --on-error quarantine writes the set-aside rows to "
              f"quarantine.csv):", file=sys.stderr)
        for problem, mark in zip(table.problems[:ExtractError.SHOWN], marks):
            print(f"  - {problem}" + (f" [{mark}]" if mark else ""), file=sys.stderr)
        if len(table.problems) > ExtractError.SHOWN:
            print(f"  ... and {len(table.problems) - ExtractError.SHOWN} more (--problems FILE "
                  "writes them all)", file=sys.stderr)
        return 0
    print("No problems found.")
    return 0


def command_calibrate(args: argparse.Namespace, argv: Sequence[str] = ()) -> int:
    """``ndpath calibrate``: an extract (or --monthly series) to a calibrated scenario folder."""
    from calibration.calibrate import CalibrationError, calibrate_extract
    from calibration.extract import ExtractError

    if (args.extract is None) == (args.monthly is None):
        raise _user_error("give either an EXTRACT (with --extract-date) or --monthly FILE")
    base = _base(args)
    options = _options(args)
    if args.monthly is not None:
        from calibration.monthly import (calibrate_monthly, month_ranges, read_monthly,
                                         write_monthly_calibration)

        from calibration import ENGLAND_MONTHLY

        if str(args.monthly).lower() == "england" and not args.monthly.exists():
            args.monthly = ENGLAND_MONTHLY  # the bundled series, installed with the package
        if args.monthly.resolve() == ENGLAND_MONTHLY:
            _england_defaults(args)
        try:
            series = read_monthly(args.monthly, args.age_band, args.pathway)
            result = calibrate_monthly(series, args.exclude_months or None, base,
                                       args.break_month)
        except (ExtractError, CalibrationError) as error:
            raise _user_error(str(error)) from None
        if args.months:
            result.scenario = result.scenario.replace({"simulation.horizon_months": args.months})
        out = _prepare(args.out, args.overwrite)
        write_monthly_calibration(result, out, _command(args, argv))
        a = result.arrivals
        low, high = a.annual_growth_ci_
        print(_groups_used(series, args))
        print(f"Arrivals: {a.referrals_per_month_:,.0f} referrals/month, growth "
              f"{a.annual_growth_:+.1%}/yr (95% {low:+.1%} to {high:+.1%}), lowest month "
              f"{a.trough_month_}, {len(a.excluded_months_)} month(s) excluded"
              + (f" ({month_ranges(a.excluded_months_)})" if len(a.excluded_months_) else ""))
        for note in result.notes:
            print(f"  {note}")
        print("Kept from the base scenario: " + "; ".join(result.kept_defaults))
        for warning in result.warnings:
            print(f"Warning: {warning}", file=sys.stderr)
        print(f"Written to {out} (ndpath run {out / 'calibrated.toml'})")
        return 0
    if args.extract_date is None:
        raise _user_error("--extract-date is required with an EXTRACT")
    executor_choice(args)  # option mistakes before the extract is read
    table = _read(args)
    _absent_note(table)
    with ExitStack() as stack:
        options = replace(options, executor=_open(args, stack))
        out = _prepare(args.out, args.overwrite)
        _quarantine_note(table, out)
        try:
            calibration = calibrate_extract(table, options, base)
        except CalibrationError as error:
            raise _user_error(str(error)) from None
    from calibration.report import write_calibration

    write_calibration(calibration, out, prepared=True, command=_command(args, argv),
                      source=args.extract)
    _print_summary(calibration)
    print(f"Written to {out} (ndpath run {out / 'calibrated.toml'})")
    return 0


def _england_defaults(args: argparse.Namespace) -> None:
    """The bundled England series' defaults (the app's: one definition in :mod:`calibration`)
    where the command line chose none, said on the console with how to change them."""
    from calibration import ENGLAND_MONTHLY_AGE_BAND, ENGLAND_MONTHLY_EXCLUDE

    if args.age_band is None:
        args.age_band = ENGLAND_MONTHLY_AGE_BAND
        print(f"note: the England series counts referrals of every age; fitting age band "
              f"{ENGLAND_MONTHLY_AGE_BAND} (children), as the app does. --age-band all sums "
              "every band, adults included; --age-band 18-24 (etc.) fits another.",
              file=sys.stderr)
    if args.exclude_months is None:
        args.exclude_months = ENGLAND_MONTHLY_EXCLUDE
        print(f"note: leaving {ENGLAND_MONTHLY_EXCLUDE} (the COVID-19 trough) out of the "
              "referrals fit, as the app does. --exclude-months none keeps every month; "
              "--exclude-months 2020-04..2020-06 (etc.) leaves out others.", file=sys.stderr)


def _groups_used(series: Any, args: argparse.Namespace) -> str:
    """Which age band(s) and pathway of the series were fitted, in one line."""
    said = []
    bands = [args.age_band] if isinstance(args.age_band, str) else list(args.age_band or [])
    age_band: str | list[str] | None = bands[0] if len(bands) == 1 else (bands or None)
    for column, chosen in (("age_band", age_band), ("pathway", args.pathway)):
        values = series.groups.get(column)
        if not values:
            continue
        option = f"--{column.replace('_', '-')}"
        if isinstance(chosen, list):  # several bands (each in the file: read_monthly checked)
            said.append(f"age bands {', '.join(chosen)} summed month by month ({option} to "
                        "change)")
        elif chosen is not None and chosen in values:
            said.append(f"{column.replace('_', ' ')} {chosen} ({option} to change)")
        else:
            said.append(f"every {column.replace('_', ' ')} summed ({', '.join(values)}; "
                        f"{option} keeps one)")
    return "Series: " + ("; ".join(said) if said else "one count a month (no age bands or "
                                                        "pathways)")


def _print_summary(calibration: Any) -> None:
    for line in calibration.headline():  # the multiplier, a warning, the fit, the data changes
        print(line)
    a = calibration.fitters["arrivals"]
    low, high = a.annual_growth_ci_
    print(f"Arrivals: {a.referrals_per_month_:,.1f} referrals/month, growth "
          f"{a.annual_growth_:+.1%}/yr (95% {low:+.1%} to {high:+.1%})")
    cap = calibration.fitters["capacity"]
    t = calibration.tuning
    print(f"Capacity: {cap.assessments_per_month_ * t.capacity_multiplier:,.1f} assessments/month "
          f"({len(cap.change_points_)} change point(s); simulation multiplier "
          f"{t.capacity_multiplier:.3f})")
    ex = calibration.fitters["exits"]
    print("Leaving the list (per child-year): " + ", ".join(
        f"{k} {ex.hazards_[k]:.3f}" for k in ("withdrawn", "moved", "private")))
    w = calibration.fitters["waits"]
    print(f"Wait to assessment: Kaplan-Meier median {w.km_median_ / 7:.1f} weeks "
          f"({w.n_censored_} of {w.n_} censored); completed waits only would say "
          f"{w.naive_median_ / 7:.1f}")
    print(f"Starting list: {len(calibration.backlog)} children waiting")


def command_backtest(args: argparse.Namespace, argv: Sequence[str] = ()) -> int:
    """``ndpath backtest``: calibrate on older data, project, compare with what happened."""
    from calibration.backtest import BACKTEST_FILES, run_backtest, write_backtest
    from calibration.calibrate import CalibrationError

    if args.holdout_months < 1 or args.projection_replications < 1:
        raise _user_error("--holdout-months and --projection-replications must be at least 1")
    options, base = _options(args), _base(args)
    executor_choice(args)  # option mistakes before the extract is read
    table = _read(args)
    with ExitStack() as stack:
        options = replace(options, executor=_open(args, stack))
        out = _prepare(args.out, args.overwrite, BACKTEST_FILES)
        _quarantine_note(table, out)
        try:
            bt = run_backtest(table, args.holdout_months, options, base,
                              args.projection_replications)
        except CalibrationError as error:
            raise _user_error(f"back-test: {error}") from None
    write_backtest(bt, out)
    print(bt.verdict())
    for line in bt.calibration.headline():
        print(line)
    print(f"Calibrated on the data as known on {bt.cut.date()}; projected "
          f"{args.holdout_months} months.")
    print(f"{'metric':<20} {'method':<15} {'mean abs error':>15} {'error at end':>13} "
          f"{'error of total':>15}")
    for _, r in bt.errors.iterrows():
        print(f"{r['metric']:<20} {r['method']:<15} {r['mape_pct']:>14.1f}% "
              f"{r['end_error_pct']:>+12.1f}% {r['total_error_pct']:>+14.1f}%")
    print(f"Written to {out}")
    return 0


def command_synth(args: argparse.Namespace, argv: Sequence[str] = ()) -> int:
    """``ndpath synth``: a synthetic extract from a scenario."""
    from calibration.synth import make_messy, synthesise_extract
    from model.scenario import ScenarioError, load_scenario

    if not 1 <= args.history_months <= 600:
        raise _user_error(f"--history-months {args.history_months}: months of history to "
                          "synthesise, from 1 to 600")
    if args.seed is not None and args.seed < 0:
        raise _user_error(f"--seed {args.seed}: a seed is a whole number, 0 or more")
    if args.out.is_dir():
        raise _user_error(f"--out {args.out} is a folder; give a file name such as "
                          f"{args.out / 'extract.csv'}")
    if args.out.exists() and not args.overwrite:
        raise _user_error(f"{args.out} exists; choose another --out or pass --overwrite")
    suffix = args.out.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        raise _user_error(f"--out {args.out}: use a .csv, .xlsx or .parquet file name")
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        raise _user_error(str(error)) from None
    extract = synthesise_extract(scenario, args.extract_date, args.history_months,
                                 seed=args.seed)
    if args.messy:
        extract = make_messy(extract, seed=args.seed or 0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        extract.to_csv(args.out, index=False)
    elif suffix == ".xlsx":
        extract.to_excel(args.out, index=False)
    else:
        extract.astype(str).to_parquet(args.out, index=False)
    print(f"{len(extract)} referrals to {args.extract_date.date()} written to {args.out}")
    return 0


__all__ = ["add_subcommands", "command_validate", "command_calibrate", "command_backtest",
           "command_synth"]
