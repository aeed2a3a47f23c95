"""The Calibrate page's work without Streamlit: options, tables, figures and names.

Everything here takes and returns objects in memory; nothing reads or writes patient data on
disk (the calibration itself holds the children waiting in ``backlog.waiting``). Tables that
carry counts from the user's data go through :func:`app.upload.suppress_small` before they are
shown or exported.

>>> options = app_options(history_months=24, exclude_months=" ", replay_months=12,
...                       replications=2, tune=True)
>>> (options.history_months, options.exclude_months, options.replications)
(24, None, 2)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from calibration import ENGLAND_MONTHLY, ENGLAND_MONTHLY_AGE_BAND, ENGLAND_MONTHLY_EXCLUDE
from calibration.backtest import Backtest
from calibration.calibrate import Calibration, CalibrationOptions, Parameter, Tuning
from calibration.monthly import MonthlyCalibration, MonthlySeries
from model.labels import PALETTE
from model.scenario import Scenario

from .core import about
from .upload import SMALL_COUNT, suppress_small

EXAMPLE_MONTHLY = ENGLAND_MONTHLY
"""NHS England's monthly new autism referrals (ASD12, OGL v3.0), the monthly example."""
EXAMPLE_MONTHLY_AGE_BAND = ENGLAND_MONTHLY_AGE_BAND
"""The children's age band, chosen for the example (the command line's default too)."""
EXAMPLE_MONTHLY_EXCLUDE = ENGLAND_MONTHLY_EXCLUDE
"""The COVID-19 trough, left out of the arrivals fit of the example (as on the command line)."""

SOURCES = {"fitted": "fitted from the data", "simulation-calibrated": "tuned by simulation",
           "extract": "counted in the extract", "series": "read from the series"}
METHOD_NAMES = {"model": "ndpath (calibrated)", "seasonal_naive": "Same month last year",
                "linear_trend": "Straight-line trend", "flow_balance": "Flow balance"}
METRIC_NAMES = {"waiting_end": "Children waiting (month end)", "referrals": "Referrals a month",
                "assessments_started": "Assessments started a month"}
COUNT_PARAMETERS = {"backlog_children", "backlog.count"}
"""Parameters that are counts of children (suppressed below 5 in tables)."""


def file_problem_words(problem: Any) -> str:
    """A problem with the whole file (no row) as a sentence: what is wrong and the fix."""
    # the value too: "Column “age_band” value “18-24” has no row for 2 month(s) ..." names
    # which band of several, where the column alone did not
    where = (f"Column “{problem.column}”" + (f" value “{problem.value}”" if problem.value else "")
             if problem.column else f"“{problem.value}”" if problem.value else "The file")
    return f"{where} {problem.message} ({problem.fix})"


def latest_date(raw: pd.DataFrame) -> "dt.date | None":
    """The latest readable date in any of an extract's date columns (``None`` when none can be
    read): the app proposes it as the extract date, the day the data was pulled."""
    from calibration.extract import DATE_COLUMNS, parse_dates, read_raw

    text = read_raw(raw)
    latest = None
    for column in DATE_COLUMNS:
        if column in text:
            dates, _ = parse_dates(text[column].astype(str))
            if dates.notna().any():
                day = dates.max().date()
                latest = day if latest is None else max(latest, day)
    return latest


def app_options(history_months: int, exclude_months: str, replay_months: int,
                replications: int, tune: bool, seed: int = CalibrationOptions.seed
                ) -> CalibrationOptions:
    """Calibration options from the page's inputs (a blank exclusion means none)."""
    return CalibrationOptions(history_months=int(history_months),
                              exclude_months=exclude_months.strip() or None,
                              replay_months=int(replay_months), replications=int(replications),
                              tune=bool(tune), seed=int(seed))


def fingerprint(*parts: Any) -> str:
    """A short digest of what a result was computed from (to tell when inputs changed)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def parameters_table(parameters: Iterable[Parameter]) -> pd.DataFrame:
    """Fitted values as text: estimate and 95% interval, unit and where each came from.

    Counts of children (the list at the start) from 1 to 4 show as ``"<5"``.
    """
    rows = []
    for p in parameters:
        small = (p.name in COUNT_PARAMETERS and isinstance(p.estimate, (int, float, np.number))
                 and 0 < float(p.estimate) < SMALL_COUNT)
        rows.append({"parameter": p.name,
                     "estimate": f"<{SMALL_COUNT}" if small else _number(p.estimate),
                     "95% low": _number(p.ci_low), "95% high": _number(p.ci_high),
                     "unit": p.unit, "source": SOURCES.get(p.source, p.source)})
    return pd.DataFrame(rows, columns=["parameter", "estimate", "95% low", "95% high", "unit",
                                       "source"])


def list_fit_table(tuning: Tuning) -> pd.DataFrame:
    """Observed month-end list against the replay (median and 5-95%), counts below 5 suppressed."""
    frame = pd.DataFrame({"month": tuning.observed["month"].astype(str).to_numpy(),
                          "observed": tuning.observed["waiting_end"].to_numpy(),
                          "simulated median": tuning.simulated["p50"].round().to_numpy(),
                          "simulated 5%": tuning.simulated["p5"].round().to_numpy(),
                          "simulated 95%": tuning.simulated["p95"].round().to_numpy()})
    return suppress_small(frame)


def km_table(tuning: Tuning) -> pd.DataFrame:
    """Share not yet assessed at each checkpoint: observed (Kaplan-Meier) and simulated."""
    return pd.DataFrame({"weeks since referral": tuning.km_weeks.astype(int),
                         "observed": np.round(tuning.km_observed, 3),
                         "simulated": np.round(tuning.km_simulated, 3)})


def tuning_summary(tuning: Tuning | None) -> str:
    """The simulation-based step in one or two sentences."""
    if tuning is None:
        return "No simulation-based tuning was run."
    moved = ("kept at the throughput estimate (tuning was switched off or did not improve "
             "the fit)" if tuning.capacity_multiplier == 1.0 else
             f"scaled by **{tuning.capacity_multiplier:.3f}** from the throughput estimate")
    # the multiplier's warning (outside calibration.calibrate.MULTIPLIER_RANGE) comes first
    warning = f"**{tuning.warning}**\n\n" if tuning.warning else ""
    return warning + (f"The last {len(tuning.observed)} months were replayed from the children waiting on "
            f"{tuning.replay_start:%d %B %Y} ({tuning.replications} replication(s) per candidate, "
            f"common random numbers). Capacity was {moved}: the misfit (mean squared relative "
            f"error of the list plus mean squared gap of the waits curve; 0 is a perfect fit) "
            f"is {tuning.loss:.2g} against {tuning.loss_untuned:.2g} untuned. The simulated "
            f"median list is within **{tuning.list_error_pct:.1f}%** of the observed on "
            f"average; the largest gap between the observed and simulated shares still waiting "
            f"at a given week is **{100 * tuning.km_max_gap:.1f} percentage points**.")


def calibrated_name(source: str, calibration: Calibration | MonthlyCalibration) -> str:
    """A display name for a calibrated scenario: where its data came from and when it starts."""
    start = calibration.scenario.simulation.start_date
    kind = "monthly series" if isinstance(calibration, MonthlyCalibration) else "extract"
    return f"Calibrated: {source} ({kind}, from {start:%d %b %Y})"


def renamed(scenario: Scenario, name: str) -> Scenario:
    return scenario.replace({"meta.name": name})


def referrals_over_horizon(scenario: Scenario) -> float:
    """Roughly how many children one replication will simulate (list at the start + referrals)."""
    a = scenario.arrivals
    months = scenario.simulation.horizon_months
    growth = (1 + a.annual_growth) ** (np.arange(months) / 12) if a.enabled else np.zeros(months)
    waiting = scenario.backlog.waiting
    start_list = (len(waiting.referral_date) if waiting is not None else scenario.backlog.count)
    return float(a.referrals_per_month * growth.sum()) + (start_list if scenario.backlog.enabled
                                                          else 0)


LARGE_RUN = 250_000
"""Children a replication simulates above which the Calibrate page warns that projections are
slow."""


def large_run_warning(scenario: Scenario) -> str:
    """The Calibrate page's warning for a scenario that simulates more than :data:`LARGE_RUN`
    children a replication, the number said as :func:`app.core.about` says a count ("about
    312,000", never "about 311,852": it is an estimate); ``""`` below that."""
    children = referrals_over_horizon(scenario)
    if children <= LARGE_RUN:
        return ""
    return (f"This scenario simulates about {about(children)} children per replication over "
            "its horizon: a projection will take minutes. Shorten the horizon or use fewer "
            "replications on the Scenario page.")


# -------------------------------------------------------------------------------------------------
# Back-test


def backtest_errors_table(backtest: Backtest) -> pd.DataFrame:
    """Mean absolute % error and % error at the end, by measure and method (model first)."""
    errors = backtest.errors.copy()
    errors["measure"] = errors["metric"].map(METRIC_NAMES)
    errors["method"] = errors["method"].map(METHOD_NAMES)
    errors["mean absolute error (%)"] = errors["mape_pct"].round(1)
    errors["error at the end (%)"] = errors["end_error_pct"].round(1)
    return errors[["measure", "method", "mean absolute error (%)", "error at the end (%)"]]


def backtest_comparison_table(backtest: Backtest) -> pd.DataFrame:
    """Month by month: what happened, the model (median, 5-95%) and the baselines.

    The actual counts come from the user's data: 1-4 show as ``"<5"``; projections are rounded.
    """
    c = backtest.comparison.copy()
    out = pd.DataFrame({"month": c["month"], "measure": c["metric"].map(METRIC_NAMES),
                        "what happened": c["actual"]})
    for column, name in (("model", METHOD_NAMES["model"]), ("model_p5", "ndpath 5%"),
                         ("model_p95", "ndpath 95%"),
                         *((m, METHOD_NAMES[m]) for m in ("seasonal_naive", "linear_trend",
                                                           "flow_balance"))):
        out[name] = c[column].round()
    return suppress_small(out, ["what happened"])


def backtest_figure(backtest: Backtest) -> Figure:
    """List size and referrals over the held-out months: what happened, the model, baselines."""
    figure = Figure(figsize=(11, 4))
    axes = figure.subplots(1, 2)
    styles = {"seasonal_naive": ":", "linear_trend": "--", "flow_balance": "-."}
    for ax, metric in zip(axes, ("waiting_end", "referrals")):
        sub = backtest.comparison[backtest.comparison["metric"] == metric]
        x = pd.PeriodIndex(sub["month"], freq="M").to_timestamp()
        ax.fill_between(x, sub["model_p5"], sub["model_p95"], color=PALETTE[0], alpha=0.2)
        ax.plot(x, sub["model"], color=PALETTE[0], lw=2.5,
                label=f"{METHOD_NAMES['model']}: median, 5-95%")
        for k, (method, style) in enumerate(styles.items()):
            ax.plot(x, sub[method], style, color=PALETTE[1 + k], lw=1.5,
                    label=METHOD_NAMES[method])
        ax.plot(x, sub["actual"], "o-", color=PALETTE[7], ms=4, lw=1.5, label="What happened")
        ax.set_title(METRIC_NAMES[metric])
        ax.set_ylim(bottom=0)
        ax.tick_params(axis="x", labelrotation=30)
    axes[0].legend(frameon=False, fontsize=8)
    figure.suptitle(f"Back-test: calibrated on the data known on {backtest.cut:%d %B %Y}")
    figure.tight_layout()
    return figure


def backtest_sentence(backtest: Backtest) -> str:
    """Plain words: how far off the model's list was, against the best baseline."""
    model = backtest.error("waiting_end", "model")
    others = {m: backtest.error("waiting_end", m) for m in METHOD_NAMES if m != "model"}
    best = min(others, key=lambda m: others[m])
    verdict = ("closer than" if model < others[best] else
               "no closer than")
    return (f"Over the {backtest.comparison['month'].nunique()} held-out months the model's list was off "
            f"by {model:.1f}% on average, {verdict} the best simple method "
            f"({METHOD_NAMES[best].lower()}, {others[best]:.1f}%).")


# -------------------------------------------------------------------------------------------------
# Monthly series


def example_monthly() -> pd.DataFrame:
    """The bundled England series as text cells (as an upload would be read)."""
    return pd.read_csv(EXAMPLE_MONTHLY, dtype=str, keep_default_na=False)


def monthly_table(series: MonthlySeries) -> pd.DataFrame:
    """The series used (after choosing a group), counts below 5 suppressed."""
    data = series.data.reset_index()
    data["month"] = data["month"].astype(str)
    counts = [c for c in data.columns if c != "month"]
    return suppress_small(data, counts)


def monthly_arrivals_figure(result: MonthlyCalibration) -> Figure:
    """Monthly referrals: observed, excluded months, and the fitted trend with seasonality."""
    fitter = result.arrivals
    counts = fitter.counts_
    figure = Figure(figsize=(9, 3.8))
    ax = figure.subplots()
    x = counts.index.to_timestamp()
    ax.plot(x, counts.to_numpy(), "o-", color=PALETTE[7], ms=3, lw=1, label="observed")
    excluded = counts.index.isin(fitter.excluded_months_)
    if excluded.any():
        ax.plot(x[excluded], counts.to_numpy()[excluded], "x", color=PALETTE[5], ms=8,
                mew=2, label="left out of the fit")
    ax.plot(x, fitter.predict(counts.index).to_numpy(), color=PALETTE[0], lw=2.5,
            label=f"fitted (growth {fitter.annual_growth_:+.1%} a year)")
    ax.set_ylabel("referrals a month")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=9)
    ax.set_title("Referrals: observed and fitted")
    figure.tight_layout()
    return figure


__all__ = ["app_options", "fingerprint", "parameters_table", "list_fit_table", "km_table",
           "tuning_summary", "calibrated_name", "renamed", "referrals_over_horizon",
           "LARGE_RUN", "large_run_warning",
           "backtest_errors_table", "backtest_comparison_table", "backtest_figure",
           "backtest_sentence", "example_monthly", "monthly_table", "monthly_arrivals_figure",
           "EXAMPLE_MONTHLY", "EXAMPLE_MONTHLY_AGE_BAND", "EXAMPLE_MONTHLY_EXCLUDE"]
