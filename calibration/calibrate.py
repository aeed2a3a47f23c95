"""Calibrating a scenario from a patient-level extract.

:func:`calibrate_extract` fits what the data identifies directly (arrivals, referral mix,
assessment duration, leaving hazards, throughput with its change points, support), then tunes by
simulation what it cannot: the effective clinical capacity, which interacts with leaving the list
and with hours lost when nobody is waiting. The tuning replays the last ``replay_months`` of
history from the children actually waiting then, with common random numbers across candidate
values, and matches the observed list size and the censored (Kaplan–Meier) waits; a multiplier
outside :data:`MULTIPLIER_RANGE` is reported with its likely causes, never absorbed silently.
The result starts on the first day after the last complete month of the extract (the day after
the extract date when that is a month end) from the children waiting then, held in the scenario
itself (``backlog.waiting``): the calibration reads and writes no file, so an uploaded extract
can stay in memory. :func:`calibration.report.write_calibration` writes them out as
``backlog.csv`` for the analyst's folder.

>>> from model.scenario import Scenario
>>> from calibration.synth import synthesise_extract
>>> from calibration.extract import read_extract
>>> truth = Scenario().replace({"backlog.count": 300, "arrivals.referrals_per_month": 60,
...                             "assessment.professions.0.wte": 1.0})
>>> table = read_extract(synthesise_extract(truth, "2025-12-31", 36), "2025-12-31")
>>> result = calibrate_extract(table, CalibrationOptions(replications=1, tune=False))
>>> result.scenario.simulation.start_date.isoformat()  # the day after the extract date
'2026-01-01'
>>> len(result.scenario.backlog.waiting.referral_date) == len(result.backlog)
True
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from model.executors import Executor, get_executor
from model.uncertainty import simulate_replication as simulate
from model.scenario import DAYS_PER_YEAR, Scenario, ScenarioError, build_scenario

from .extract import PathwayTable, quality_report, still_waiting
from .fitters import (
    ArrivalsFitter,
    CapacityFitter,
    DurationFitter,
    ExitHazardFitter,
    ReferralMixFitter,
    parse_month_ranges,
    poisson_rate_interval,
    wilson_interval,
)
from .observed import KM_WEEKS, list_leave_date, month_range, monthly_flows, wait_observations
from .observed import km_survival
from .rereferral import ROUTES as REREFERRAL_ROUTES
from .rereferral import ReReferralFitter, at_risk_at
from .synth import result_to_extract

log = logging.getLogger(__name__)

BACKLOG_FILE = "backlog.csv"
BACKLOG_COLUMNS = ("referral_date", "pathway", "age_at_referral", "priority", "looked_after_or_cin",
                   "deprivation_quintile", "locality")


class CalibrationError(ValueError):
    """The data cannot support a calibration (too short, nobody assessed, ...); says why."""


@dataclass(frozen=True)
class CalibrationOptions:
    """Choices for :func:`calibrate_extract`.

    ``history_months``: months of complete history fitted (the extract must hold every referral
    from their start); ``referrals_from`` overrides their first month. ``exclude_months`` are left
    out of the arrivals fit (``"2020-03..2020-08"``); ``break_month`` is the first month of a
    reporting break (a step in the referral level, e.g. ``"2025-12"``). ``replay_months``: months replayed by the
    simulation-based tuning; ``replications`` per candidate; ``tune=False`` skips it.

    ``executor`` runs each candidate's replications: ``"serial"`` (default), ``"local"`` (a
    process per core), ``"dask"`` (a new LocalCluster) or an executor object
    (:func:`model.executors.get_executor`). The numbers are the same whichever runs them. It is
    opened once for the whole calibration (one pool or cluster for every candidate) and closed
    at the end; an executor object the caller has already opened (``with executor:``) stays
    open. It is left out of comparisons and hashing, since it does not change the result.
    """

    history_months: int = 36
    referrals_from: str | None = None
    exclude_months: str | None = None
    break_month: str | None = None
    replay_months: int = 24
    replications: int = 3
    seed: int = 20240601
    tune: bool = True
    capacity_bounds: tuple[float, float] = (0.5, 2.0)
    horizon_months: int | None = None
    executor: str | Executor = field(default="serial", compare=False)


@contextmanager
def opened_executor(executor: str | Executor) -> Iterator[Executor]:
    """``executor`` (a name or an object) open for the ``with`` block: a process pool or Dask
    cluster is started once here rather than once per ``map``, and stopped at the end.

    ndpath's executors are context managers that may be entered again while open (a no-op), so
    an executor the caller opened stays open after the block; one it did not open is closed.
    """
    built = get_executor(executor)
    with ExitStack() as stack:
        if hasattr(built, "__enter__"):
            stack.enter_context(built)  # type: ignore[arg-type]
        elif isinstance(executor, str) and callable(getattr(built, "close", None)):
            stack.callback(built.close)  # type: ignore[attr-defined]
        yield built


@dataclass
class Parameter:
    """One calibrated value with its interval and where it came from."""

    name: str
    estimate: Any
    ci_low: float | None = None
    ci_high: float | None = None
    unit: str = ""
    source: str = "fitted"
    events: float | None = None
    """For a rate: the events counted (its numerator)."""
    exposure: float | None = None
    """For a rate: the time at risk it was counted over (its denominator), in ``exposure_unit``."""
    exposure_unit: str = ""
    note: str = ""
    """How it was estimated, or why it is undefined."""

    def as_dict(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, (np.floating, np.integer)):
                return clean(v.item())
            return v

        out = {"estimate": clean(self.estimate), "ci_low": clean(self.ci_low),
               "ci_high": clean(self.ci_high), "unit": self.unit, "source": self.source}
        if self.events is not None:
            out.update({"events": clean(self.events), "exposure": clean(self.exposure),
                        "exposure_unit": self.exposure_unit})
        if self.note:
            out["note"] = self.note
        return out


KM_BLIND_SHARE = 0.95
"""At the last checkpoint, this share or more of children not yet assessed in both the data and
the replay: the waits check cannot see the waits (:attr:`Tuning.km_blind`)."""

MULTIPLIER_RANGE = (0.8, 1.25)
"""Capacity multipliers inside this range are read as the simulation refining the throughput
estimate (hours lost when nobody is waiting, leaving interacting with capacity: a few percent to
about 20%). Outside it, the model reproduces the history only by changing capacity by more
than that, so something else the data holds is missing from the model: the report warns."""

MULTIPLIER_MEANING = (
    "the factor by which the simulation scaled the capacity measured from throughput "
    "(assessments started a month) so that the replay of recent history reproduces the observed "
    "list and waits; 1 means the measured throughput reproduces them as it is")

LOW_CAUSES = (
    "demand to the list under-estimated (referrals still in vetting, re-referrals, children "
    "returning after profiling)",
    "leaving hazards or the needs-met hazard over-estimated (exits counted without their time "
    "at risk, or leaving at profiling coded as leaving the list)",
    "throughput over-stating capacity (a one-off block of outsourced or waiting-list-initiative "
    "assessments, assessment starts recorded twice)")
HIGH_CAUSES = (
    "exits from the list missing from the extract (discharges without a reason, closures "
    "recorded elsewhere), so the model's list grows faster than the real one",
    "demand over-estimated (rejected referrals not coded as rejected, a reporting change)",
    "throughput measured when the list was short (demand, not capacity), or capacity that rose "
    "near the end of the history")


@dataclass
class Tuning:
    """The simulation-based step: the capacity multiplier and how well the replay fits."""

    capacity_multiplier: float
    loss: float
    loss_untuned: float
    evaluations: list[tuple[float, float]]
    observed: pd.DataFrame
    """Replayed months: ``month, waiting_end, referrals`` (observed)."""
    simulated: pd.DataFrame
    """``month, p5, p50, p95`` of the simulated list size with the chosen multiplier, and
    ``referrals`` (mean simulated referrals a month)."""
    km_observed: np.ndarray
    km_simulated: np.ndarray
    km_weeks: np.ndarray
    replay_start: pd.Timestamp
    replications: int
    bounds: tuple[float, float] = (0.5, 2.0)
    tuned: bool = True
    """False with ``tune=False`` (``--no-tune``): the multiplier is 1, not searched for."""

    @property
    def list_error_pct(self) -> float:
        """Mean absolute error of the simulated median list size, % of the observed."""
        obs = self.observed["waiting_end"].to_numpy()
        sim = self.simulated["p50"].to_numpy()
        return float(np.mean(np.abs(sim - obs) / np.maximum(obs, 1.0)) * 100)

    @property
    def list_end_error_pct(self) -> float:
        """Signed error of the simulated median list at the replay's last month, %."""
        obs = float(self.observed["waiting_end"].iloc[-1])
        return float((self.simulated["p50"].iloc[-1] - obs) / max(obs, 1.0) * 100)

    @property
    def referral_error_pct(self) -> float:
        """Mean absolute error of the replay's monthly referrals (fitted arrivals), % of the
        mean observed month: a month with few or no referrals (an incomplete extract) weighs
        as its count, rather than dividing by it (one empty month read "within 635%")."""
        if "referrals" not in self.observed or "referrals" not in self.simulated:
            return math.nan
        obs = self.observed["referrals"].to_numpy(dtype=float)
        sim = self.simulated["referrals"].to_numpy(dtype=float)
        return float(np.sum(np.abs(sim - obs)) / max(float(np.sum(obs)), 1.0) * 100)

    @property
    def km_max_gap(self) -> float:
        """Largest gap between the observed (censored, Kaplan-Meier) and simulated shares not
        yet assessed at the checkpoint weeks."""
        gap = np.abs(self.km_observed - self.km_simulated)
        return float(np.nanmax(gap)) if np.isfinite(gap).any() else math.nan

    @property
    def km_blind(self) -> str | None:
        """Why the waits check tells little, when at its last checkpoint nearly every child
        (95% or more) was still not assessed in the data and in the replay: waits longer than
        the checkpoints all look alike to it, so a small gap is no sign of a good fit."""
        obs, sim = self.km_observed[-1:], self.km_simulated[-1:]
        if not len(obs) or not (np.isfinite(obs[0]) and np.isfinite(sim[0])):
            return None
        if min(obs[0], sim[0]) < KM_BLIND_SHARE:
            return None
        weeks = f"{self.km_weeks[-1]:g}"
        return (f"the waits check sees little here: {obs[0]:.0%} of the children in the data "
                f"and {sim[0]:.0%} in the replay were not yet assessed {weeks} weeks after "
                f"referral, so it cannot tell waits longer than {weeks} weeks apart; the list "
                "size is the check that can")

    @property
    def in_range(self) -> bool:
        low, high = MULTIPLIER_RANGE
        return low <= self.capacity_multiplier <= high

    @property
    def warning(self) -> str | None:
        """Why a multiplier outside :data:`MULTIPLIER_RANGE` matters and its likely causes."""
        if self.in_range:
            return None
        m = self.capacity_multiplier
        low, high = MULTIPLIER_RANGE
        causes = LOW_CAUSES if m < low else HIGH_CAUSES
        edge = (" It is at the edge of its search range, so even this does not reproduce the "
                "history." if min(abs(m - self.bounds[0]), abs(m - self.bounds[1])) < 0.02
                else "")
        return (f"WARNING: capacity multiplier {m:.2f} is outside {low:g}-{high:g}: the model "
                f"reproduces the history only by {'cutting' if m < low else 'raising'} the "
                f"capacity measured from throughput by {abs(m - 1):.0%}, so the projection's "
                "capacity stands in for something the model is missing." + edge
                + " Likely causes: " + "; ".join(causes) + ". Check these before using the "
                "projection; the back-test (ndpath backtest) shows whether it holds.")

    def headline(self) -> list[str]:
        """The first lines of a report: the multiplier, what it is, a warning, the fit."""
        if not self.tuned:
            lines = ["Capacity multiplier not tuned (--no-tune): the simulation uses the capacity "
                     "measured from throughput as it is (a multiplier of 1); the replay below "
                     "shows how well that reproduces the history."]
        else:
            lines = [f"Capacity multiplier {self.capacity_multiplier:.3f} ({MULTIPLIER_MEANING}; "
                     f"expected within {MULTIPLIER_RANGE[0]:g}-{MULTIPLIER_RANGE[1]:g})."]
        if self.warning:
            lines.append(self.warning)
        lines.append(
            f"Fit of the replay of the last {len(self.observed)} months from "
            f"{self.replay_start.date()}: list size within {self.list_error_pct:.1f}% on average "
            f"({self.list_end_error_pct:+.1f}% at the end); censored waits (share not yet "
            f"assessed, Kaplan-Meier) within {100 * self.km_max_gap:.1f} percentage points; "
            f"referrals within {self.referral_error_pct:.1f}% a month.")
        if self.km_blind:
            lines.append(f"Note: {self.km_blind}.")
        return lines


@dataclass
class Calibration:
    """Everything :func:`calibrate_extract` found; :meth:`write` puts it on disk."""

    scenario: Scenario
    backlog: pd.DataFrame
    parameters: list[Parameter]
    fitters: dict[str, Any]
    flows: pd.DataFrame
    tuning: Tuning | None
    notes: list[str]
    kept_defaults: list[str]
    quality: dict[str, Any] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    """Changes the calibration itself made (imputed attributes of the children waiting,
    referrals left out of a share, months left out of a fit): ``what, rows, effect``."""
    warnings: list[str] = field(default_factory=list)
    """What may make the fit wrong without stopping it (a month with no referrals, see
    :func:`empty_month_warnings`): the first lines of the report, fit.json's ``warnings``."""
    options: CalibrationOptions | None = None
    """The options it ran with (their seed is in fit.json's provenance)."""

    def seeds(self) -> dict[str, int | None]:
        """Every seed the calibration drew random numbers from: the simulated replays of recent
        history (the tuning's and the goodness of fit's, ``--seed``; ``None`` when none ran)
        and the imputation of the starting list's blank attributes."""
        replayed = self.tuning is not None and self.options is not None
        return {"replay": self.options.seed if replayed else None,  # type: ignore[union-attr]
                "backlog_imputation": IMPUTATION_SEED}

    def parameter_dict(self) -> dict[str, dict[str, Any]]:
        return {p.name: p.as_dict() for p in self.parameters}

    @property
    def data_changes(self) -> list[dict[str, Any]]:
        """Every imputation, exclusion and aggregation made to the data on the way in:
        ``what, rows, effect`` (reading the extract, then calibrating)."""
        return list(self.quality.get("changes", [])) + list(self.changes)

    def headline(self) -> list[str]:
        """The report's first lines: the multiplier and what it stands for (with a warning
        outside :data:`MULTIPLIER_RANGE`), the goodness of fit, and how much of the data was
        changed on the way in."""
        lines = self.tuning.headline() if self.tuning is not None else [
            "No simulation-based tuning was run: capacity is the throughput estimate as measured."]
        lines += [f"WARNING: {w}" for w in self.warnings]
        changes = self.data_changes
        # each change's own count: one row can be changed in more than one way (the referrals
        # still in vetting are left out of a share and kept on the list by a chance), so a sum
        # would count it twice
        counts = ", ".join(f"{int(c.get('rows', 0)):,}" for c in changes)
        lines.append(f"Data changed on the way in: {len(changes)} kind(s) of change, of "
                     f"{counts} cell(s) or row(s) (listed under 'Changes to the data')."
                     if changes else "Data changed on the way in: nothing imputed, excluded "
                     "or aggregated.")
        return lines


# -------------------------------------------------------------------------------------------------
# Windows


def last_complete_month(extract_date: pd.Timestamp) -> pd.Period:
    """The last calendar month the extract covers in full (the extract date's own month when
    it is that month's last day)."""
    when = pd.Timestamp(extract_date)
    return when.to_period("M") if (when + pd.Timedelta(days=1)).day == 1 else when.to_period("M") - 1


def projection_start(table: PathwayTable) -> pd.Timestamp:
    """Where a calibrated projection starts: the first day of the month after the last complete
    month of the extract (the day after the extract date when that is a month end). The same
    rule for ``calibrate`` and ``backtest``."""
    return (last_complete_month(table.extract_date) + 1).to_timestamp(how="start")


def complete_months(table: PathwayTable, options: CalibrationOptions) -> pd.PeriodIndex:
    """The months fitted: whole calendar months up to the extract date, from ``referrals_from``
    or the last ``history_months`` (never before the first referral's month)."""
    last = last_complete_month(table.extract_date)
    first_data = table.data["referral_date"].min().to_period("M")
    if options.referrals_from:
        try:
            first = pd.Period(options.referrals_from, freq="M")
        except ValueError:
            raise CalibrationError(f"--referrals-from {options.referrals_from!r}: write it as "
                                   "YYYY-MM") from None
    else:
        first = max(last - options.history_months + 1, first_data + 1)
    count = (last - first).n + 1
    if count < 6:
        raise CalibrationError(
            f"only {max(0, count)} complete month(s) of history from {first} to "
            f"{last}: calibration needs at least 6 (12 or more for seasonality)")
    return pd.period_range(first, last, freq="M")


def empty_months(data: pd.DataFrame, extract_date: pd.Timestamp) -> pd.PeriodIndex:
    """Months inside the extract's span with no referral among the rows used: from the first
    referral's month to the last complete month before the extract date."""
    referred = pd.to_datetime(data["referral_date"]).dropna().dt.to_period("M")
    if referred.empty:
        return pd.PeriodIndex([], freq="M")
    span = pd.period_range(referred.min(), last_complete_month(extract_date), freq="M")
    return span.difference(pd.PeriodIndex(referred.unique(), freq="M"))


def empty_month_warnings(empty: pd.PeriodIndex, fitted: pd.PeriodIndex,
                         excluded: Sequence[pd.Period] = ()) -> list[str]:
    """One warning for each month with no referrals (:func:`empty_months`), saying what it does
    to the fit. A warning, not an error: a small service can have a month with none, and the fit
    runs either way. A month left out with ``--exclude-months`` is not fitted, so not warned."""
    out = []
    left_out = set(excluded)
    for month in empty:
        if month in left_out:
            continue
        ask = f"{month} has no referrals: is the extract incomplete?"
        if month in fitted:
            out.append(f"{ask} It is fitted as a month with none, which pulls the fitted "
                       "referral rate down and widens the growth interval. If its referrals are "
                       "missing, export the extract again with them; to leave the month out of "
                       f"the referral fit, pass --exclude-months {month}; if the service had "
                       "none that month, nothing needs changing.")
        else:
            out.append(f"{ask} It is before the fitted history ({fitted[0]} to {fitted[-1]}), so "
                       "the referral fit does not use it, but children referred then and "
                       "missing from the extract are missing from the list at the start.")
    return out


def fitted_description(table: PathwayTable, months: pd.PeriodIndex) -> str:
    """How many referrals were fitted, over which months, and (when they differ) how many rows
    were read and used: ``Fitted to the 11,290 referrals received 2023-01 to 2025-12 (21,408
    rows read, all used; the 10,118 referred outside those months are not in the referral rate,
    only in the list, waits, exits and outcomes)``."""
    referred = pd.to_datetime(table.data["referral_date"])
    inside = int(((referred >= months[0].to_timestamp(how="start"))
                  & (referred < (months[-1] + 1).to_timestamp(how="start"))).sum())
    read, used = table.input_rows, len(table.data)
    text = f"Fitted to the {inside:,} referrals received {months[0]} to {months[-1]}"
    if inside == used == read:
        return text
    rows = (f"{read:,} rows read, all used" if used == read
            else f"{read:,} rows read, {read - used:,} set aside, {used:,} used")
    # the earlier referrals are in the starting list, the waits and exits of those on the list
    # in the window (delayed entry), the outcome shares and re-referrals: not the referral rate
    outside = ("" if inside == used else f"; the {used - inside:,} referred outside those months "
               "are not in the referral rate, only in the list, waits, exits and outcomes")
    return f"{text} ({rows}{outside})"


# -------------------------------------------------------------------------------------------------
# Direct fits


def fit_exits(data: pd.DataFrame, window_start: pd.Timestamp, until: pd.Timestamp,
              alpha: float = 0.05, vetting_days: float = 0.0) -> ExitHazardFitter:
    """Cause-specific hazards of leaving the list from everyone on it during the window.

    ``vetting_days``: the model's leaving clocks start after vetting, so a referral's time at
    risk starts that many days after it (the extract has no vetting date; the scenario's mean
    vetting delay is used). Referrals before the window enter at its start (delayed entry).
    """
    referral = pd.to_datetime(data["referral_date"])
    leave = list_leave_date(data)
    ended = leave.notna() & (leave <= until)
    exit_ = leave.where(ended, until)
    entry = referral + pd.Timedelta(days=vetting_days)
    entry = entry.where(entry > window_start, window_start)
    on = (exit_ >= entry).to_numpy() & (referral <= until).to_numpy()
    discharged = ended & (leave != pd.to_datetime(data.get("assessment_start_date")))
    reason = data["discharge_reason"] if "discharge_reason" in data else pd.Series(None, index=data.index)
    cause = np.where(discharged.to_numpy(), reason.fillna("").to_numpy(dtype=object), "")
    day = pd.Timedelta(days=1)
    return ExitHazardFitter(alpha).fit(
        ((entry - window_start) / day).to_numpy(dtype=float)[on],
        ((exit_ - window_start) / day).to_numpy(dtype=float)[on], cause[on],
        still_waiting=~ended.to_numpy()[on])


def fit_waits(data: pd.DataFrame, window_start: pd.Timestamp, until: pd.Timestamp,
              alpha: float = 0.05) -> DurationFitter:
    """Referral → assessment start for everyone on the list during the window: referrals before
    it enter late (at the wait they had reached), discharges and the extract date censor."""
    referral = pd.to_datetime(data["referral_date"])
    leave = list_leave_date(data)
    on = (leave.isna() | (leave >= window_start)) & (referral <= until)
    d = data[on.to_numpy()]
    durations, observed = wait_observations(d, referral.min(), until, until)
    entry = ((window_start - pd.to_datetime(d["referral_date"])) / pd.Timedelta(days=1)).clip(lower=0)
    return DurationFitter(alpha, label="wait_to_assessment").fit(
        durations, observed, np.minimum(entry.to_numpy(dtype=float), durations))


def fit_elapsed(data: pd.DataFrame, window_start: pd.Timestamp, until: pd.Timestamp,
                alpha: float = 0.05) -> DurationFitter | None:
    """Assessment start → end, censored for assessments still under way at the extract date."""
    if "assessment_end_date" not in data or "assessment_start_date" not in data:
        return None
    start = pd.to_datetime(data["assessment_start_date"])
    end = pd.to_datetime(data["assessment_end_date"])
    chosen = (start >= window_start).to_numpy()
    observed = end[chosen].notna().to_numpy()
    duration = ((end[chosen].where(end[chosen].notna(), until) - start[chosen])
                / pd.Timedelta(days=1)).to_numpy(dtype=float)
    if observed.sum() < 10:
        return None
    return DurationFitter(alpha, label="assessment_elapsed").fit(duration, observed)


@dataclass(frozen=True)
class SupportExposure:
    """Needs met while supported: events over the supported time at risk, and how it was counted."""

    events: int
    exposure_years: float
    supported: int
    outside_episode: int
    """``needs_met`` discharges with no recorded support episode around them (not counted)."""
    method: str
    """How each episode's end was known: ``support_end_date`` or an assumed episode length."""


def _quantiles_days(weeks: Any, k: int = 400) -> np.ndarray:
    """``k`` evenly spaced quantiles (days) of a distribution in weeks (a scenario's)."""
    return np.asarray(weeks.ppf((np.arange(k) + 0.5) / k), dtype=float) * 7.0


def support_exposure(data: pd.DataFrame, window_start: pd.Timestamp, until: pd.Timestamp,
                     episode_weeks: Any = None, plan_weeks: Any = None) -> SupportExposure:
    """The needs-met hazard's events and time at risk: supported time on the list only.

    A child is at risk of "needs met" from their support start (or the window's start, for an
    episode already under way then: delayed entry) to the first of the episode's end, leaving
    the list (assessment start or any discharge) and the extract date (censoring). An event is
    a ``needs_met`` discharge in that time; ``needs_led`` and ``signposted`` discharges (leaving
    at profiling) are not events.

    The episode's end is ``support_end_date`` where the extract has it (blank: still under way).
    Without it, the episode length is unknown: each child's time at risk is then its expected
    value under the scenario's episode length (``episode_weeks``; ``plan_weeks`` for a
    needs-led plan, see :func:`needs_led_plan`), E[min(episode, observed) - entry], and every
    needs-met discharge while on the list counts (the model ends needs met only in an episode).
    Counting every child as supported for exactly the mean episode would bias the hazard low
    (about 10% with the default 12 ± 4 weeks: the events in longer episodes are lost).
    """
    support = pd.to_datetime(data["support_start_date"])
    supported = support.notna()
    day = pd.Timedelta(days=1)
    leave = list_leave_date(data)
    left = leave.notna() & (leave <= until)
    observed_to = leave.where(left, until)
    entry = support.where(support > window_start, window_start)
    reason = data["discharge_reason"] if "discharge_reason" in data else pd.Series(
        None, index=data.index, dtype=object)
    gone = pd.to_datetime(data["discharge_date"]) if "discharge_date" in data else pd.Series(
        pd.NaT, index=data.index)
    met = (reason == "needs_met") & gone.notna() & (gone <= until) & (gone >= window_start)
    if "support_end_date" in data:
        ends = pd.to_datetime(data["support_end_date"])
        stop = observed_to.where(ends.isna() | (ends > observed_to), ends)
        days = ((stop - entry) / day).where(supported, 0.0).clip(lower=0.0).to_numpy(float)
        method = "support_end_date (episodes under way at the extract date censored there)"
    else:
        if episode_weeks is None:
            raise ValueError("without support_end_date the episode length must be given")
        plan = needs_led_plan(data).to_numpy()
        lo = ((entry - support) / day).to_numpy(dtype=float)
        hi = ((observed_to - support) / day).to_numpy(dtype=float)
        days = np.zeros(len(data))
        for mask, weeks in ((~plan, episode_weeks), (plan, plan_weeks or episode_weeks)):
            pick = mask & supported.to_numpy() & (hi > lo)
            if pick.any():
                q = _quantiles_days(weeks)[None, :]
                days[pick] = (np.clip(q, lo[pick, None], hi[pick, None])
                              - lo[pick, None]).mean(axis=1)
        stop = observed_to
        method = ("expected episode time under the base scenario's episode lengths "
                  f"(mean {episode_weeks.mean_value:.0f} weeks"
                  + (f", needs-led plans {plan_weeks.mean_value:.0f} weeks" if plan_weeks else "")
                  + "): the extract has no support_end_date")
    within = met & supported & (gone >= entry) & (gone <= stop) & (leave == gone)
    return SupportExposure(int(within.sum()), float(days.sum()) / DAYS_PER_YEAR,
                           int((supported & (days > 0)).sum()), int((met & ~within).sum()), method)


def fit_requested_anyway(data: pd.DataFrame, alpha: float = 0.05) -> Parameter | None:
    """Of the children triaged ``needs_led`` or ``signposted``, the share who joined the
    diagnostic list anyway (not discharged with that reason on their triage date)."""
    if not {"triage_outcome", "triage_date", "discharge_reason", "discharge_date"} <= set(data.columns):
        return None
    routed = data["triage_outcome"].isin(["needs_led", "signposted"]) & data["triage_date"].notna()
    n = int(routed.sum())
    if n == 0:
        return None
    left = (routed & (data["discharge_reason"] == data["triage_outcome"])
            & (pd.to_datetime(data["discharge_date"]) == pd.to_datetime(data["triage_date"])))
    stayed = n - int(left.sum())
    low, high = wilson_interval(stayed, n, alpha)
    return Parameter("profiling.diagnosis_requested_anyway", stayed / n, low, high,
                     "share of those triaged needs-led or signposted", events=float(stayed),
                     exposure=float(n), exposure_unit="children triaged away from the list")


def vetting_decided(data: pd.DataFrame, until: pd.Timestamp, base: Scenario) -> pd.Series:
    """Referrals whose vetting was decided by the extract date: rejected, or with a later step
    recorded (triage, support, assessment, discharge), or referred longer ago than the base
    scenario's 95th percentile vetting time. The rest may still be in vetting: counting them as
    accepted would bias the acceptance share up."""
    referral = pd.to_datetime(data["referral_date"])
    later = pd.Series(False, index=data.index)
    for column in ("triage_date", "support_start_date", "assessment_start_date", "discharge_date"):
        if column in data:
            later |= data[column].notna()
    if not base.vetting.enabled:
        return pd.Series(True, index=data.index)
    days = float(base.vetting.duration_days.ppf(np.array([0.95]))[0])
    return later | (referral <= until - pd.Timedelta(days=math.ceil(days)))


def needs_led_plan(data: pd.DataFrame) -> pd.Series:
    """Support that is a needs-led plan from profiling (it starts on the triage date of a child
    triaged ``needs_led``), not a support-while-waiting place."""
    if not {"triage_outcome", "triage_date", "support_start_date"} <= set(data.columns):
        return pd.Series(False, index=data.index)
    return ((data["triage_outcome"] == "needs_led")
            & (pd.to_datetime(data["triage_date"]) == pd.to_datetime(data["support_start_date"])))


def fit_support(data: pd.DataFrame, months: pd.PeriodIndex, until: pd.Timestamp,
                alpha: float = 0.05, episode_weeks: Any = None,
                plan_weeks: Any = None) -> dict[str, Parameter]:
    """Support starts a month (last 12 months) and the needs-met hazard while supported.

    The hazard is ``needs_met`` discharges over the supported time on the list in the history
    window (:func:`support_exposure`), with an exact Poisson interval; it is undefined (no
    estimate, no interval, a message) when the data hold no supported time.
    """
    if "support_start_date" not in data or data["support_start_date"].notna().sum() == 0:
        return {}
    support = pd.to_datetime(data["support_start_date"])
    recent = months[-12:]
    # a needs-led plan is the profiling team's, not a place of the support-while-waiting offer
    places = support.where(~needs_led_plan(data))
    starts = places.dt.to_period("M").value_counts().reindex(recent, fill_value=0)
    rate = float(starts.mean())
    low, high = poisson_rate_interval(float(starts.sum()), len(starts), alpha)
    out = {"support.starts_per_month": Parameter("support.starts_per_month", round(rate, 3), low,
                                                 high, "support starts/month (last 12 months)",
                                                 events=float(starts.sum()),
                                                 exposure=float(len(starts)),
                                                 exposure_unit="months")}
    if "discharge_reason" not in data:
        return out
    window_start = months[0].to_timestamp(how="start")
    ex = support_exposure(data, window_start, until, episode_weeks, plan_weeks)
    if ex.exposure_years > 0:
        lo, hi = poisson_rate_interval(ex.events, ex.exposure_years, alpha)
        estimate: float = round(ex.events / ex.exposure_years, 6)
        message = ""
    else:
        estimate, lo, hi = math.nan, math.nan, math.nan
        message = "no supported time on the list in the window: the hazard is not identified"
    out["support.needs_met_per_year"] = Parameter(
        "support.needs_met_per_year", estimate, lo, hi,
        "needs met per supported child-year on the list", events=float(ex.events),
        exposure=ex.exposure_years, exposure_unit="supported child-years",
        note="; ".join(x for x in (f"time at risk from {ex.method}", message,
                                   f"{ex.outside_episode} needs_met discharge(s) outside a "
                                   "support episode not counted" if ex.outside_episode else "")
                       if x))
    return out


# -------------------------------------------------------------------------------------------------
# Backlog table (the starting state)

IMPUTATION_SEED = 20240601
"""The fixed seed of the draws that fill a blank attribute of a child on the starting list."""


def backlog_at(data: pd.DataFrame, moment: pd.Timestamp, inclusive: bool = True,
               changes: list[dict[str, Any]] | None = None, seed: int = IMPUTATION_SEED,
               before_list: dict[str, tuple[pd.Series, float]] | None = None) -> pd.DataFrame:
    """The children on the list at ``moment`` as a ``backlog.table`` frame (no ids).

    ``inclusive``: count those referred on that day (the end of the day); otherwise the list as
    the day begins. A blank attribute is imputed from the extract's own mix of that attribute
    (a draw from its referrals' values, with a fixed seed, so priority rules see as many urgent
    and looked-after children among them as among the rest), never set to the commonest value;
    each imputation is appended to ``changes`` (``what, rows, effect``). An attribute blank for
    every child waiting is left out (the scenario's referral mix then supplies it), and said.
    """
    referral = pd.to_datetime(data["referral_date"])
    leave = list_leave_date(data)
    referred = referral <= moment if inclusive else referral < moment
    gone = (leave <= moment) if inclusive else (leave < moment)
    on = referred & ~gone.fillna(False)
    rng = np.random.default_rng([seed, int(on.sum())])
    # the model starts every child waiting on the diagnostic list; a child still in vetting or
    # waiting for profiling at ``moment`` joins it only with the fitted probability (accepted;
    # sent on by profiling), so each is kept with that probability (a fixed-seed draw)
    for stage, (mask, keep) in (before_list or {}).items():
        pending = on & mask.reindex(on.index, fill_value=False)
        if not pending.any() or keep >= 1.0:
            continue
        dropped = pending & pd.Series(rng.random(len(on)) >= keep, index=on.index)
        on &= ~dropped
        if changes is not None:
            changes.append({"what": f"children {stage} on {pd.Timestamp(moment).date()}: kept on "
                            f"the starting list with probability {keep:.3f} (the model starts "
                            "every child waiting on the diagnostic list)",
                            "rows": int(pending.sum()),
                            "effect": f"{int(dropped.sum())} taken as not joining the list"})
    rows = data[on.to_numpy()]
    out = pd.DataFrame({"referral_date": pd.to_datetime(rows["referral_date"]).dt.strftime("%Y-%m-%d")})
    for column in BACKLOG_COLUMNS[1:]:
        if column not in rows:
            continue
        values = rows[column]
        missing = values.isna().to_numpy()
        if missing.all():
            if changes is not None and len(rows):
                changes.append({"what": f"{column} blank for every child waiting: left out of "
                                "the starting list (the scenario's referral mix supplies it)",
                                "rows": int(missing.sum()), "effect": "drawn from the mix"})
            continue
        if missing.any():
            pool = data[column].dropna()
            shares = pool.value_counts(normalize=True)
            if column == "age_at_referral":
                fill = rng.choice(pool.to_numpy(dtype=float), int(missing.sum()))
                effect = f"ages drawn from the extract's {len(pool):,} known ages"
            else:
                fill = rng.choice(shares.index.to_numpy(dtype=object), int(missing.sum()),
                                  p=shares.to_numpy(dtype=float))
                effect = ("drawn from the extract's own mix: " + ", ".join(
                    f"{k} {v:.1%}" for k, v in shares.items()))
            values = values.astype(object).copy()
            values[missing] = fill
            if changes is not None:
                changes.append({"what": f"{column} blank for children waiting on "
                                f"{pd.Timestamp(moment).date()}: imputed", "rows": int(missing.sum()),
                                "effect": effect})
        if column == "deprivation_quintile":
            values = values.astype(float).astype(int)
        out[column] = values.to_numpy()
    return out.sort_values("referral_date", kind="stable").reset_index(drop=True)


# -------------------------------------------------------------------------------------------------
# Simulation-based tuning


def waiting_columns(backlog: pd.DataFrame) -> dict[str, tuple[Any, ...]]:
    """A :func:`backlog_at` frame as ``backlog.waiting`` columns (held in the scenario itself).

    The values are those a ``backlog.table`` CSV of the frame would be read as, so a scenario
    with these columns simulates exactly as one naming the CSV.
    """
    columns: dict[str, tuple[Any, ...]] = {
        "referral_date": tuple(d.date() for d in pd.to_datetime(backlog["referral_date"]))}
    for column in BACKLOG_COLUMNS[1:]:
        if column not in backlog:
            continue
        values = backlog[column]
        if column in ("pathway", "priority"):
            columns[column] = tuple(str(v).strip().lower() for v in values)
        elif column == "looked_after_or_cin":
            columns[column] = tuple(str(v).strip().lower() in ("yes", "true", "1") for v in values)
        elif column == "age_at_referral":
            columns[column] = tuple(float(v) for v in values)
        elif column == "locality":
            columns[column] = tuple(str(v) for v in values)
        else:
            columns[column] = tuple(int(v) for v in values)
    return columns


def with_backlog(scenario: Scenario, backlog: pd.DataFrame) -> Scenario:
    """``scenario`` starting from the children in ``backlog``, held in the scenario itself
    (``backlog.waiting``): nothing is written to disk, so uploaded data stays in memory."""
    return scenario.replace({"backlog.enabled": True, "backlog.table": None, "backlog.count": 0,
                             "backlog.waiting": waiting_columns(backlog)})


def with_backlog_file(scenario: Scenario, name: str = BACKLOG_FILE) -> Scenario:
    """``scenario`` reading its children waiting from the CSV ``name`` instead of its own
    ``backlog.waiting`` columns (for a calibration folder an analyst can read)."""
    return scenario.replace({"backlog.waiting": None, "backlog.table": name})


def _simulate_view(scenario: Scenario, replication: int, seed: int, months: pd.PeriodIndex,
                   until: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One replay through the extract lens: (list size at each month end, KM at KM_WEEKS,
    referrals a month)."""
    result = simulate(scenario, replication, seed)
    view = result_to_extract(result, until, ids=False, as_text=False)
    flows = monthly_flows(view, months)
    start = months[0].to_timestamp(how="start")
    durations, observed = wait_observations(view, start, until, until)
    return (flows["waiting_end"].to_numpy(),
            km_survival(durations, observed, np.asarray(KM_WEEKS, float) * 7.0),
            flows["referrals"].to_numpy())


def _replay_task(task: tuple[Scenario, int, int, pd.PeriodIndex, pd.Timestamp]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One replication of one candidate, for an executor (module level, so it pickles)."""
    scenario, replication, seed, months, until = task
    return _simulate_view(scenario, replication, seed, months, until)


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN (a KM point beyond every replication's follow-up stays NaN)."""
    counts = np.isfinite(values).sum(axis=0)
    sums = np.where(np.isfinite(values), values, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _loss(sim_lists: np.ndarray, obs_list: np.ndarray, sim_km: np.ndarray,
          obs_km: np.ndarray) -> float:
    """Mean squared relative list error plus mean squared KM gap (each 5% counts alike)."""
    rel = (sim_lists.mean(axis=0) - obs_list) / np.maximum(obs_list, 1.0)
    gap = _nanmean(sim_km) - obs_km
    gap = gap[np.isfinite(gap)]
    return float(np.mean(rel**2) + (np.mean(gap**2) if len(gap) else 0.0))


def tune_capacity(replay: Scenario, data: pd.DataFrame, months: pd.PeriodIndex,
                  until: pd.Timestamp, options: CalibrationOptions) -> Tuning:
    """Find the multiplier of the fitted clinical capacity whose replay best matches the observed
    list size and censored waits. Every candidate uses the same seeds (common random numbers),
    so the loss is a smooth function of the multiplier and a bounded scalar search works.

    Each candidate's replications run through ``options.executor``, opened once for the search;
    results come back in replication order, so the search is the same on any executor."""
    with opened_executor(options.executor) as executor:
        return _tune_capacity(replay, data, months, until, options, executor)


def _tune_capacity(replay: Scenario, data: pd.DataFrame, months: pd.PeriodIndex,
                   until: pd.Timestamp, options: CalibrationOptions, executor: Executor
                   ) -> Tuning:
    observed = monthly_flows(data, months)
    obs_list = observed["waiting_end"].to_numpy()
    start = months[0].to_timestamp(how="start")
    durations, obs_flag = wait_observations(data, start, until, until)
    weeks = np.asarray(KM_WEEKS, float)
    obs_km = km_survival(durations, obs_flag, weeks * 7.0)
    base = replay.assessment
    evaluations: list[tuple[float, float]] = []
    cache: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def run(theta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = round(theta, 6)
        if key not in cache:
            scaled = replay.replace({
                "assessment.professions": [{**p.model_dump(), "wte": p.wte * theta}
                                           for p in base.professions],
                "assessment.staffing_changes": [{**c.model_dump(), "wte_change": c.wte_change * theta}
                                                for c in base.staffing_changes]})
            runs = executor.map(_replay_task, [(scaled, r, options.seed, months, until)
                                               for r in range(options.replications)])
            cache[key] = (np.array([r[0] for r in runs]), np.array([r[1] for r in runs]),
                          np.array([r[2] for r in runs]))
        return cache[key]

    def loss(theta: float) -> float:
        lists, kms, _ = run(theta)
        value = _loss(lists, obs_list, kms, obs_km)
        evaluations.append((float(theta), value))
        return value

    untuned = loss(1.0)
    if options.tune:
        low, high = options.capacity_bounds
        best = optimize.minimize_scalar(loss, bounds=(low, high), method="bounded",
                                        options={"xatol": 0.005, "maxiter": 25})
        theta = float(best.x) if best.fun < untuned else 1.0
    else:
        theta = 1.0
    lists, kms, referrals = run(theta)
    simulated = pd.DataFrame({"month": observed["month"],
                              "p5": np.percentile(lists, 5, axis=0),
                              "p50": np.median(lists, axis=0),
                              "p95": np.percentile(lists, 95, axis=0),
                              "referrals": referrals.mean(axis=0)})
    tuning = Tuning(theta, _loss(lists, obs_list, kms, obs_km), untuned, evaluations,
                    observed[["month", "waiting_end", "referrals"]], simulated, obs_km,
                    _nanmean(kms), weeks, start, options.replications,
                    tuple(options.capacity_bounds), options.tune)  # type: ignore[arg-type]
    if tuning.warning:
        log.warning("%s", tuning.warning)
    return tuning


# -------------------------------------------------------------------------------------------------
# The whole calibration


def arrivals_notes(arrivals: ArrivalsFitter) -> list[str]:
    """What the referral forecast did that a reader must know: a fallback seasonality, a
    reporting break, counts more variable than Poisson."""
    notes = []
    if arrivals.season_mode_ != "months":
        notes.append(arrivals.season_note_ + (" The base scenario's profile is replaced."
                                              if arrivals.season_mode_ == "flat" else ""))
    if arrivals.break_month_ is not None:
        low, high = arrivals.break_ratio_ci_
        notes.append(f"Reporting break from {arrivals.break_month_}: referrals x"
                     f"{arrivals.break_ratio_:.3f} (95% {low:.3f} to {high:.3f}) after it; the "
                     "forecast and the scenario carry the level after the break.")
    if arrivals.family_ == "negative_binomial":
        notes.append(f"Referrals vary more than Poisson (variance / mean "
                     f"{arrivals.dispersion_:.1f}): fitted as negative binomial (alpha "
                     f"{arrivals.nb_alpha_:.3g}), so intervals are wider than Poisson ones.")
    return notes


def later_referrals(data: pd.DataFrame) -> pd.Series:
    """True for a referral of a child (``child_id``) referred before in the extract."""
    if "child_id" not in data:
        return pd.Series(False, index=data.index)
    ordered = data.assign(_when=pd.to_datetime(data["referral_date"])).sort_values(
        "_when", kind="stable")
    repeat = ordered["child_id"].notna() & ordered.duplicated("child_id")
    return repeat.reindex(data.index)


def at_risk_overrides(data: pd.DataFrame, moment: pd.Timestamp, rereferral: ReReferralFitter,
                      transfer_age: float | None) -> dict[str, Any]:
    """``rereferral.at_risk_at_start`` for a run starting the day after ``moment`` (nothing when
    no re-referral hazard was fitted)."""
    if not rereferral.rates_:
        return {}
    return {f"rereferral.at_risk_at_start.{route}": n
            for route, n in at_risk_at(data, moment, transfer_age).items()}


def _params_from_summary(summary: pd.DataFrame, source: str = "fitted") -> list[Parameter]:
    return [Parameter(r["parameter"], float(r["estimate"]), float(r["ci_low"]),
                      float(r["ci_high"]), r["unit"], source) for _, r in summary.iterrows()]


def calibrate_extract(table: PathwayTable, options: CalibrationOptions = CalibrationOptions(),
                      base: Scenario | None = None) -> Calibration:
    """Calibrate a scenario from a validated extract; see the module docstring.

    ``base`` supplies what the data does not identify (default: the built-in defaults).
    Everything happens in memory: the replay and the result hold their children waiting in
    ``backlog.waiting``, so no file is read or written. Raises :class:`CalibrationError` when
    the data cannot support a calibration.
    """
    base = base or Scenario()
    data = table.data
    until = table.extract_date
    notes: list[str] = []
    kept: list[str] = []
    months = complete_months(table, options)
    window_start = months[0].to_timestamp(how="start")
    flows = monthly_flows(data, months)
    indexed = flows.set_index(pd.PeriodIndex(flows["month"], freq="M"))
    if not table.has("assessment_start_date") or data["assessment_start_date"].notna().sum() < 10:
        raise CalibrationError("the extract has fewer than 10 assessment start dates: capacity "
                               "cannot be estimated (add assessment_start_date)")
    notes.append(f"History fitted: {months[0]} to {months[-1]} ({len(months)} complete months); "
                 "the extract must hold every referral from the first of these "
                 "(--referrals-from to change).")

    # failure demand (issue 11): with child_id, a child's later referrals are re-referrals;
    # the model makes them from the fitted hazards, so the arrivals are the first referrals
    transfer_age = base.leaving.age_out_years if base.leaving.age_out else None
    rereferral = ReReferralFitter(transfer_age=transfer_age).fit(data, until)
    referrals = indexed["referrals"]
    if rereferral.rates_:
        later = later_referrals(data)
        referrals = pd.Series(
            monthly_flows(data[~later], months)["referrals"].to_numpy(), index=indexed.index)
        notes.append(f"Re-referrals: {int(later.sum()):,} referrals of children referred before "
                     "in the extract are left out of the arrivals fit; the projection makes "
                     "re-referrals from the fitted hazards, including from the children who had "
                     "left and not come back by the start.")
    try:
        arrivals = ArrivalsFitter().fit(referrals, exclude=options.exclude_months,
                                        break_month=options.break_month)
    except ValueError as error:
        raise CalibrationError(f"arrivals: {error}") from None
    except (ArithmeticError, np.linalg.LinAlgError) as error:
        raise CalibrationError(f"arrivals: the referral counts cannot be fitted ({error}); "
                               "check the referral dates, or give a longer history") from None
    notes += arrivals_notes(arrivals)
    warnings = empty_month_warnings(empty_months(data, until), months, arrivals.excluded_months_)
    for warning in warnings:
        log.warning("%s", warning)
    changes: list[dict[str, Any]] = []
    in_window = data[pd.to_datetime(data["referral_date"]) >= window_start]
    decided = vetting_decided(in_window, until, base)
    mix = ReferralMixFitter().fit(in_window, vetting_decided=decided)
    if getattr(mix, "vetting_undecided_", 0):
        changes.append({"what": "referrals possibly still in vetting at the extract date (no "
                        "later step recorded, referred within the base scenario's 95th "
                        "percentile vetting time): left out of the vetting acceptance share",
                        "rows": mix.vetting_undecided_,
                        "effect": "they count neither as accepted nor as rejected"})
    if len(arrivals.excluded_months_):
        changes.append({"what": "months left out of the arrivals fit (--exclude-months): "
                        + ", ".join(str(m) for m in arrivals.excluded_months_),
                        "rows": len(arrivals.excluded_months_), "effect": "not fitted"})
    outcome_mix = ReferralMixFitter().fit(data)
    vetting_days = base.vetting.duration_days.mean_value if base.vetting.enabled else 0.0
    exits = fit_exits(data, window_start, until, vetting_days=vetting_days)
    waits = fit_waits(data, window_start, until)
    elapsed = fit_elapsed(data, window_start, until)
    try:
        capacity = CapacityFitter().fit(indexed["assessments_started"], indexed["waiting_start"])
        demand_limited = False
    except ValueError:
        # a demand-limited service: the list was short nearly every month, so throughput is
        # demand, and only a lower bound on capacity; the tuning may raise it, never lower it
        capacity = CapacityFitter().fit(indexed["assessments_started"])
        demand_limited = True
        notes.append("Capacity is not identified: the list was short in almost every month, so "
                     "assessments started measure demand, not capacity. The throughput is used "
                     "as a lower bound and the simulation may only raise it.")
        kept.append("assessment capacity (not identified: demand-limited; throughput is a "
                    "lower bound)")
    if len(capacity.unconstrained_months_):
        notes.append(f"{len(capacity.unconstrained_months_)} month(s) had a short list and were "
                     "left out of the capacity fit (throughput there is demand, not capacity).")
    support = fit_support(data, months, until,
                          episode_weeks=base.support.episode_weeks,
                          plan_weeks=base.profiling.needs_led_plan_weeks)

    overrides: dict[str, Any] = {}
    overrides.update(arrivals.to_scenario(months[-1] + 1))
    mix_over = mix.to_scenario()
    if "assessment.outcome" in outcome_mix.to_scenario():
        mix_over["assessment.outcome"] = outcome_mix.to_scenario()["assessment.outcome"]
    if "localities.names" in mix_over:
        # every locality in the extract is named (a child waiting may be from one with no
        # referrals in the window: a share of 0)
        window = dict(zip(mix_over["localities.names"], mix_over["localities.shares"]))
        every = sorted(set(data["locality"].dropna().astype(str)) | set(window))
        mix_over["localities.names"] = every
        mix_over["localities.shares"] = [window.get(name, 0.0) for name in every]
    profiling_on = "profiling.routing" in mix_over
    overrides.update(mix_over)
    overrides["profiling.enabled"] = profiling_on
    overrides.update(exits.to_scenario())
    if elapsed is not None:
        overrides.update(elapsed.to_scenario("assessment.elapsed_weeks"))
    else:
        kept.append("assessment.elapsed_weeks (no assessment end dates)")
    for key, parameter in support.items():
        if isinstance(parameter.estimate, float) and not math.isfinite(parameter.estimate):
            kept.append(f"{key} ({parameter.note})")
            notes.append(f"{key} is not identified by this extract ({parameter.note}); the base "
                         "scenario's value is kept and its interval is undefined.")
            continue
        overrides[key] = parameter.estimate
    if "support.starts_per_month" in support:
        # the extract shows starts a month, not a caseload: keep the fitted number's meaning
        overrides["support.capacity"] = "starts_per_month"
        if not table.has("support_end_date"):
            kept.append("support.episode_weeks (the extract has no support_end_date)")
        else:
            kept.append("support.episode_weeks (support_end_date is used for the needs-met "
                        "time at risk; the episode length stays the base scenario's)")
    if not support:
        kept += ["support capacity", "support.needs_met_per_year (no support_start_date)"]
    if not table.has("discharge_reason"):
        kept.append("leaving hazards (no discharge_reason): estimated as zero")
    if base.assessment.capacity_model == "by_profession":
        kept += ["assessment.recipes (hours by profession: the extract has no profession column, "
                 "so throughput identifies only what the team does together; every profession's "
                 "WTE is scaled by one factor so that the profession whose hours run out first "
                 "gives the fitted throughput)"]
    else:
        kept += ["assessment.hours_per_assessment (throughput identifies hours / hours per "
                 "assessment, not each; the capacity is set through WTE)"]
    kept += ["assessment job plans, leave and profession mix (only total capacity is identified)",
             "vetting.duration_days", "support.uptake", "escalation (assumption-driven)"]
    if profiling_on:
        kept.append("profiling practitioner capacity (routing fitted from triage_outcome)")
        anyway = fit_requested_anyway(in_window)
        if anyway is not None:
            overrides["profiling.diagnosis_requested_anyway"] = round(anyway.estimate, 6)
            support["profiling.diagnosis_requested_anyway"] = anyway
    if rereferral.rates_:
        overrides.update(rereferral.overrides())
        for note in rereferral.notes_:
            kept.append(f"re-referral: {note}")
    else:
        # without child_id re-referrals cannot be told from first referrals: they are inside
        # the fitted referral rate, so the model must not add them again
        overrides["rereferral.enabled"] = False
        why = (rereferral.notes_[0] if rereferral.notes_ else "no child left by a route that "
               "can bring them back")
        kept.append("re-referral: switched off, because re-referrals are inside the fitted "
                    f"referral rate ({why.split(':')[0]}); add child_id to fit it")
        notes.append("Re-referral is off in the calibrated scenario: without child_id the "
                     "children coming back cannot be told from new referrals, so they are in "
                     "the fitted referral rate. A changed front door's failure demand is not "
                     "projected; add child_id (pseudonymised) to fit it.")
    try:
        fitted = base.replace(overrides)
    except ScenarioError as error:
        raise CalibrationError(f"the fitted values do not make a valid scenario: {error}") from None

    # simulation-based tuning of capacity on a replay of the last months
    replay_months = months[-min(options.replay_months, len(months)):]
    replay_start = replay_months[0].to_timestamp(how="start")
    replay = fitted.replace({
        **arrivals.to_scenario(replay_months[0]),
        **capacity.to_scenario(fitted, staffing_from=replay_months[0]),
        "simulation.start_date": replay_start.date(),
        "simulation.horizon_months": len(replay_months),
        **at_risk_overrides(data, replay_start - pd.Timedelta(days=1), rereferral,
                            transfer_age)})
    def before_list(moment: pd.Timestamp) -> dict[str, tuple[pd.Series, float]]:
        """Children not yet on the diagnostic list at the end of ``moment``, and the fitted
        probability that each joins it."""
        out: dict[str, tuple[pd.Series, float]] = {}
        as_then = data.copy()
        for column in ("triage_date", "support_start_date", "assessment_start_date",
                       "discharge_date"):
            if column in as_then:
                as_then.loc[as_then[column] > moment, column] = pd.NaT
        if "discharge_reason" in as_then and base.vetting.enabled:
            accept = float(fitted.vetting.accept_probability)
            out["possibly still in vetting"] = (~vetting_decided(as_then, moment, base), accept)
        if profiling_on and "triage_date" in data:
            r = fitted.profiling.routing
            onward = r.diagnostic + (1 - r.diagnostic) * fitted.profiling.diagnosis_requested_anyway
            # waiting for profiling: not triaged yet, and referred more recently than 95% of
            # the triaged children took to reach triage (a child waiting longer without a
            # triage date joined the list without one: referred before profiling began)
            gap = ((pd.to_datetime(data["triage_date"]) - pd.to_datetime(data["referral_date"]))
                   / pd.Timedelta(days=1)).dropna()
            recent = pd.to_datetime(as_then["referral_date"]) > moment - pd.Timedelta(
                days=float(gap.quantile(0.95)) if len(gap) else 0.0)
            untriaged = (as_then["triage_date"].isna() & recent
                         & vetting_decided(as_then, moment, base))
            out["waiting for profiling"] = (untriaged, float(onward))
        return out

    replay = with_backlog(replay, backlog_at(data, replay_start - pd.Timedelta(days=1),
                                             before_list=before_list(replay_start
                                                                     - pd.Timedelta(days=1))))
    if demand_limited:
        options = replace(options, capacity_bounds=(1.0, options.capacity_bounds[1]))
    tuning = tune_capacity(replay, data, replay_months, until, options)

    # one calendar (issue 9): the projection starts on the first day of the month after the last
    # complete month of data, from the children waiting at the end of that month's last day, so
    # each of its months is a calendar month and no referral is counted twice (the backlog holds
    # referrals to the end of ``listed_on``; the model's arrivals start the day after)
    start = projection_start(table)
    listed_on = start - pd.Timedelta(days=1)
    backlog = backlog_at(data, listed_on, inclusive=True, changes=changes,
                         before_list=before_list(listed_on))
    if listed_on < until:
        notes.append(f"The extract date {until.date()} is not the last day of a month: the "
                     f"projection starts on {start.date()} from the list at the end of "
                     f"{listed_on.date()} (so its months are calendar months); the "
                     f"{(until - listed_on).days} later day(s) are used in the fits only.")
    final_rate = capacity.assessments_per_month_ * tuning.capacity_multiplier
    final = fitted.replace({
        **capacity.to_scenario(fitted, assessments_per_month=final_rate),
        **at_risk_overrides(data, listed_on, rereferral, transfer_age),
        "simulation.start_date": start.date(),
        "meta.name": f"Calibrated from {Path(str(table.source)).name} at {until.date()}",
        "meta.description": (f"{fitted_description(table, months)}, starting on {start.date()} "
                             f"from the {len(backlog):,} children waiting at the end of "
                             f"{listed_on.date()}."),
        "meta.illustrative": False,
        **({"simulation.horizon_months": options.horizon_months} if options.horizon_months else {}),
    })
    final = with_backlog(final, backlog)

    parameters = _params_from_summary(arrivals.summary)
    parameters += _params_from_summary(mix.summary)
    hazards = _params_from_summary(exits.summary)
    for p in hazards:  # every rate with its events and time at risk
        if p.name.startswith("hazard_"):
            p.events = float(exits.events_.get(p.name[len("hazard_"):], 0))
            p.exposure, p.exposure_unit = exits.exposure_years_, "child-years on the list"
    parameters += hazards
    parameters += _params_from_summary(waits.summary)
    if elapsed is not None:
        parameters += _params_from_summary(elapsed.summary)
    for fitter in (waits, elapsed):
        if fitter is not None and fitter.message_:
            notes.append(fitter.message_ + ".")
    parameters += _params_from_summary(capacity.summary)
    parameters += list(support.values())
    for route, rate in rereferral.rates_.items():
        parameters.append(Parameter(
            REREFERRAL_ROUTES[route], rate, *rereferral.intervals_[route], "per year",
            events=float(rereferral.events_[route]), exposure=rereferral.exposure_years_[route],
            exposure_unit="child-years since leaving",
            note="new referrals of the same child_id over the time since they left"))
    hours = final.assessment.hours_per_assessment.mean_value
    low, high = capacity.assessments_per_month_ci_
    parameters.append(Parameter("capacity_multiplier", tuning.capacity_multiplier, None, None,
                                "x throughput capacity",
                                "simulation-calibrated" if tuning.tuned else "not tuned",
                                note=tuning.warning or (MULTIPLIER_MEANING if tuning.tuned else
                                                        "not tuned (--no-tune): the capacity "
                                                        "measured from throughput as it is")))
    parameters.append(Parameter(
        "clinical_hours_per_week", final.assessment.clinical_hours_per_week(),
        capacity.clinical_hours_per_week(low * tuning.capacity_multiplier, hours),
        capacity.clinical_hours_per_week(high * tuning.capacity_multiplier, hours),
        f"hours/week at {hours:g} h per assessment", "simulation-calibrated"))
    parameters.append(Parameter("backlog_children", len(backlog), None, None,
                                f"children waiting at the end of {listed_on.date()}", "extract"))
    fitters = {"arrivals": arrivals, "referral_mix": mix, "exits": exits, "waits": waits,
               "rereferral": rereferral,
               "elapsed": elapsed, "capacity": capacity}
    return Calibration(final, backlog, parameters, fitters, flows, tuning, notes, kept,
                       quality_report(table), changes, warnings, options)


__all__ = ["CalibrationOptions", "opened_executor", "Calibration", "CalibrationError", "Parameter", "Tuning",
           "calibrate_extract", "backlog_at", "projection_start", "last_complete_month",
           "support_exposure", "fit_support", "needs_led_plan", "tune_capacity", "fit_exits", "fit_waits",
           "fit_elapsed", "complete_months", "BACKLOG_FILE", "waiting_columns", "with_backlog",
           "with_backlog_file", "empty_months", "empty_month_warnings", "fitted_description"]


