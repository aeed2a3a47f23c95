"""The SimPy model of the pathway: referral, vetting, profiling triage, the diagnostic list,
MDT assessment, support while waiting and leaving the list.

Design for speed and for common random numbers:

* Every child's random numbers (attributes, vetting, routing, professional hours, exits, ...) are
  drawn up front, vectorised, from per-element streams in referral order. Two scenarios run with
  the same seed therefore see the same children with the same luck.
* Capacity is modelled by clinic *sessions* that pull children from a list (no process per
  waiting child). Leaving the list is decided by pre-drawn competing-risk times and applied
  lazily: a child whose exit time has passed is logged as leaving at that time when a session
  reaches them, or when the run ends.
* The model writes an event log (:mod:`model.eventlog`); it never computes metrics.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import simpy
from scipy import special

from .distributions import Distribution, Fixed
from .eventlog import DETAIL, EVENT, EventLog
from .scenario import DAYS_PER_YEAR, Scenario, ScenarioError
from .streams import Streams

PATHWAYS = ("autism", "adhd", "both")
PRIORITIES = ("routine", "urgent")
OUTCOMES = ("autism", "adhd", "other_nd", "none")
WORKING_SESSION_DAYS = 7.0  # profiling and support sessions run weekly

# stage codes (the children's state at the end of the run comes from the log, these are internal)
_NOT_YET, _PROFILING, _LIST, _ASSESSED, _EXITED = 0, 1, 2, 3, 4

_E = EVENT
_D = DETAIL

LATE = simpy.events.NORMAL + 1
"""Event priority of the support intake: after every ordinary event due at the same moment."""


class _Late(simpy.events.Timeout):
    """A timeout processed after every ordinary event due at the same time.

    The support intake waits on these, so that at a moment when a clinic session also runs (or
    a referral joins the list) the intake comes last, by rule rather than by the order in which
    the processes happen to have been started: a child taken for assessment is not offered a
    place at that moment, and a child who has just joined can be.
    """

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        # Timeout.__init__ inlined (as SimPy itself does) with a later priority
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        self.env = env
        self.callbacks = []
        self._value = None
        self._delay = delay
        self._ok = True
        env.schedule(self, LATE, delay)  # type: ignore[arg-type]


class _Call(simpy.events.Timeout):
    """A timeout that calls ``action(child, time)`` when processed: a timer, not a process.

    The same event as ``env.timeout(delay)`` with a callback appended (the same priority and
    place in the queue), without a closure or a bound method per timer.
    """

    def __init__(self, env: simpy.Environment, delay: float,
                 action: Callable[[int, float], None], child: int, time: float) -> None:
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        self.env = env
        self.callbacks = [_call]
        self._value = None
        self._delay = delay
        self._ok = True
        self.action, self.child, self.time = action, child, time
        env.schedule(self, simpy.events.NORMAL, delay)  # type: ignore[arg-type]


def _call(event: simpy.Event) -> None:
    event.action(event.child, event.time)  # type: ignore[attr-defined]


def poisson_ppf(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Inverse CDF of the Poisson distribution: the smallest ``k`` with ``P(X <= k) > u``.

    Used with one uniform per child so that a child whose hazard falls has no more events than
    before (counts are monotone in the mean for a fixed ``u``), which keeps paired differences
    between scenarios sharp. Small means (all that a pathway produces) are summed term by term;
    large ones go to SciPy.
    """
    u = np.asarray(u, dtype=float)
    mean = np.asarray(mean, dtype=float)
    out = np.zeros(len(u), dtype=np.int64)
    large = mean > 30.0
    if large.any():
        q, mu = u[large], mean[large]  # SciPy's Poisson inverse CDF, without scipy.stats
        count = np.ceil(special.pdtrik(q, mu))
        below = np.maximum(count - 1, 0)
        out[large] = np.where(special.pdtr(below, mu) >= q, below, count).astype(np.int64)
    small = np.flatnonzero(~large)
    term = np.exp(-mean[small])
    cdf = term.copy()
    k = 0
    while len(small):
        more = u[small] >= cdf
        small, term, cdf = small[more], term[more], cdf[more]
        if not len(small):
            break
        k += 1
        out[small] = k
        term = term * mean[small] / k
        cdf = cdf + term
        if k > 200:  # rounding left a u beyond the summed CDF: the tail is empty in practice
            break
    return out


@dataclass(frozen=True)
class SimulationResult:
    """What one replication produced: the log and its tables, nothing computed from them."""

    scenario: Scenario
    replication: int
    seed: int
    events: pd.DataFrame
    """Event log, sorted by time (see :mod:`model.eventlog`)."""
    children: pd.DataFrame
    """One row per child: id, referral_day, attributes, ``backlog`` flag."""
    capacity: pd.DataFrame
    """Capacity ledger: one row per session (``time_days, stage, hours_available, hours_used``).

    A session's ``hours_available`` are the clinical hours of ``[time_days, next session)``, the
    last one's only up to the horizon, so they sum to the clinical hours of the horizon.
    ``hours_used`` never exceeds ``hours_available``: an assessment that needs more hours than a
    session has left borrows them from the next session. In the servers model the first row holds
    ``servers x horizon`` server-days available and each later row one service's busy days.
    Support rows, one per weekly intake: for a caseload, the places and the places in use after
    the intake; for starts a month, the starts the week adds and those made.
    """
    month_starts_days: np.ndarray = field(repr=False)
    """Days from the start to the first day of each month; the last entry is the horizon."""
    outsourced_starts: tuple[int, ...] = ()
    """Assessments each outsourced block started in the horizon, in the scenario's block order
    (the log cannot tell overlapping blocks apart, and each block has its own price)."""

    @property
    def horizon_days(self) -> float:
        return float(self.month_starts_days[-1])


def month_starts(start: pd.Timestamp | str, months: int) -> np.ndarray:
    """Day offsets of the first day of each calendar month from ``start`` (``months + 1`` values)."""
    start = pd.Timestamp(start)
    # each edge k months from the start itself: repeated one-month steps (date_range) drift from
    # a start on the 29th-31st to the 28th after February, shortening every later month
    firsts = pd.DatetimeIndex([start + pd.DateOffset(months=k) for k in range(months + 1)])
    return ((firsts - start) / pd.Timedelta(days=1)).to_numpy(dtype=float)


# -------------------------------------------------------------------------------------------------
# Children: who arrives, when, and their pre-drawn random numbers


class _OnDemand:
    """Per-child durations whose inverse CDF is worked out only for the children who need one.

    The uniforms are drawn for every child (so every stream is where it was) and
    ``scale * dist.ppf(u)`` is computed the first time a child's value is needed: for the children
    a session is about to start, all at once (:meth:`prepare`), or else for the rest of the
    child's block when it is read. Most children never start an assessment or a support episode
    within the horizon, and a gamma's inverse CDF is the costliest draw. The inverse CDFs are
    elementwise, so each value is the one computing them all at once gives
    (``tests/test_model_distributions.py``).
    """

    BLOCK = 256

    def __init__(self, dist: Distribution, u: np.ndarray, scale: float = 1.0) -> None:
        self.dist, self.u, self.scale = dist, u, scale
        self.values = np.zeros(len(u))
        self.ready = np.zeros(len(u), dtype=bool)

    def __len__(self) -> int:
        return len(self.u)

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):  # the first rows (``_Children.truncate``)
            start, stop, step = i.indices(len(self.u))
            if start != 0 or step != 1:
                raise ValueError("only a leading slice of on-demand durations is supported")
            return self._rows(stop)
        if not self.ready[i]:
            first = i - i % self.BLOCK
            self._work_out(first + np.flatnonzero(~self.ready[first:first + self.BLOCK]))
        return self.values[i]

    def prepare(self, rows: list[int]) -> None:
        """Work out the values of the children in ``rows`` in one call of the inverse CDF
        (a session's starts: one call rather than a block for each child)."""
        index = np.asarray(rows, dtype=np.int64)
        self._work_out(index[~self.ready[index]])

    def _work_out(self, index: np.ndarray) -> None:
        if len(index):
            self.values[index] = self.scale * self.dist.ppf(self.u[index])
            self.ready[index] = True

    def all(self) -> np.ndarray:
        """Every child's value (those not yet needed worked out now)."""
        self._work_out(np.flatnonzero(~self.ready))
        return self.values

    def _rows(self, n: int) -> "_OnDemand":
        out = _OnDemand(self.dist, self.u[:n], self.scale)
        out.values[:] = self.values[:n]
        out.ready[:] = self.ready[:n]
        return out

    def concatenate(self, more: "_OnDemand") -> "_OnDemand":
        if more.dist != self.dist or more.scale != self.scale:
            raise ValueError("on-demand durations of different distributions")
        return _OnDemand(self.dist, np.concatenate([self.u, more.u]), self.scale)


@dataclass
class _Children:
    referral: np.ndarray        # day of referral (negative for the backlog)
    backlog: np.ndarray         # bool
    pathway: np.ndarray         # index into PATHWAYS
    urgent: np.ndarray          # bool
    looked_after: np.ndarray    # bool
    quintile: np.ndarray        # 1..5
    age: np.ndarray             # years at referral
    vet_delay: np.ndarray       # days
    vet_accept_u: np.ndarray
    profile_hours: np.ndarray
    route_u: np.ndarray
    anyway_u: np.ndarray
    assess_hours: np.ndarray
    elapsed_days: np.ndarray
    service_days: np.ndarray
    outcome_u: np.ndarray
    exit_e: np.ndarray          # (n, 3) unit exponentials: withdrawn, moved, private
    uptake_u: np.ndarray
    needs_met_e: np.ndarray
    support_days: np.ndarray    # length of a support-while-waiting episode, if one starts
    plan_days: np.ndarray       # length of a needs-led plan, if one is made
    escalation_u: np.ndarray    # one uniform per child for the number of escalations
    locality: np.ndarray        # index into scenario.localities.names (0 when there are none)
    return_e: np.ndarray        # unit exponential: when a child who left may be referred again
    origin: np.ndarray          # the child's first referral (its own index unless a re-referral)
    rereferral: np.ndarray      # bool: this referral is a child coming back
    # issue 12 (each from its own streams, drawn only when used; empty or zeros otherwise)
    recipe_hours: np.ndarray    # (n, parts): hours by recipe part (recipe_parts), by_profession
    follow_up_u: np.ndarray     # uniform: starts follow-up after a diagnosis (follow_up.*_share)
    discharge_e: np.ndarray     # unit exponential: when a child in medication follow-up leaves

    @property
    def n(self) -> int:
        return len(self.referral)

    def extend(self, more: dict[str, Any]) -> None:
        """Append rows in place (every field), so code holding this object sees them."""
        for name, values in more.items():
            old = getattr(self, name)
            setattr(self, name, old.concatenate(values) if isinstance(old, _OnDemand)
                    else np.concatenate([old, values]))

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` rows of every field."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name)[:n])


def _cumulative_intensity(scenario: Scenario, horizon_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Daily grid and cumulative expected referrals Λ(t) (a piecewise-constant daily rate).

    The convention (documented on :class:`model.scenario.Arrivals`): ``seasonality`` holds ratios
    of *monthly counts*, so the daily rate in calendar month m is
    ``referrals_per_month * seasonality[m] * trend(t) / days_in_month(m)`` and a month's expected
    count is ``referrals_per_month * seasonality[m]`` times the trend, however many days it has.
    The trend ``(1 + annual_growth) ** (t / 365.25)`` grows continuously; each day gets its exact
    mean over the day, so Λ integrates it without a midpoint error.
    """
    arrivals = scenario.arrivals
    days = np.arange(0.0, math.ceil(horizon_days) + 1.0)
    start = pd.Timestamp(scenario.simulation.start_date)
    dates = start + pd.to_timedelta(days[:-1], unit="D")
    season = np.asarray(arrivals.seasonality)[dates.month.to_numpy() - 1]
    per_day = arrivals.referrals_per_month / dates.days_in_month.to_numpy(dtype=float)
    log_growth = math.log1p(arrivals.annual_growth) / DAYS_PER_YEAR  # per day
    # mean of exp(log_growth * t) over [d, d + 1): exp(log_growth * d) * expm1(log_growth) / log_growth
    day_mean = math.expm1(log_growth) / log_growth if log_growth != 0 else 1.0
    trend = np.exp(log_growth * days[:-1]) * day_mean
    rate = per_day * season * trend
    return days, np.concatenate([[0.0], np.cumsum(rate)])


def expected_monthly_referrals(scenario: Scenario) -> pd.Series:
    """Expected new referrals in each month of the horizon: the model's intensity integrated.

    Indexed by the month (``pd.Period``) each simulated month starts in; with a start on the 1st
    these are calendar months and each value is
    ``referrals_per_month * seasonality[m] * (mean trend over the month)``. Zero when arrivals
    are off. A pure function of the scenario (no random numbers).

    >>> from model.scenario import Scenario
    >>> s = Scenario().replace({"arrivals.annual_growth": 0.0, "simulation.horizon_months": 2})
    >>> [round(x, 1) for x in expected_monthly_referrals(s)]  # 250 x Jan 0.934, Feb 0.979
    [233.5, 244.8]
    """
    sim = scenario.simulation
    start = pd.Timestamp(sim.start_date)
    edges = month_starts(start, sim.horizon_months)
    months = pd.PeriodIndex([(start + pd.DateOffset(months=k)).to_period("M")
                             for k in range(sim.horizon_months)], freq="M")
    if not scenario.arrivals.enabled:
        return pd.Series(np.zeros(len(months)), index=months, name="expected_referrals")
    days, cum = _cumulative_intensity(scenario, float(edges[-1]))
    return pd.Series(np.diff(np.interp(edges, days, cum)), index=months, name="expected_referrals")


def referral_times(scenario: Scenario, streams: Streams, horizon_days: float) -> np.ndarray:
    """Referral days in ``[0, horizon)``: a non-homogeneous Poisson process by time rescaling.

    Unit-rate Poisson points are mapped through the inverse of Λ(t), so a scenario with more
    demand sees the same sequence of children, arriving a little earlier.
    """
    if not scenario.arrivals.enabled:
        return np.empty(0)
    days, cum = _cumulative_intensity(scenario, horizon_days)
    total = np.interp(horizon_days, days, cum)
    rng = streams["arrivals.times"]
    gaps = -np.log1p(-rng.random(int(total * 1.1) + 50))
    points = np.cumsum(gaps)
    while points[-1] < total:
        more = np.cumsum(-np.log1p(-rng.random(int(total * 0.2) + 50))) + points[-1]
        points = np.concatenate([points, more])
    points = points[points < total]
    return np.interp(points, cum, days)


def _categorical(u: np.ndarray, probabilities: list[float]) -> np.ndarray:
    cdf = np.cumsum(probabilities)
    cdf[-1] = 1.0 + 1e-12
    return np.searchsorted(cdf, u, side="right")


def _attributes(scenario: Scenario, streams: Streams, prefix: str, n: int) -> dict[str, np.ndarray]:
    mix = scenario.referral_mix
    shares = scenario.localities.shares
    # drawn only when the scenario names localities (its own stream: no other number moves)
    locality = (_categorical(streams.uniforms(f"{prefix}.locality", n), list(shares))
                if shares else np.zeros(n, dtype=np.int64))
    return {
        "locality": locality,
        "pathway": _categorical(streams.uniforms(f"{prefix}.pathway", n), list(mix.pathway.as_dict().values())),
        "urgent": streams.uniforms(f"{prefix}.priority", n) < mix.priority.urgent,
        "looked_after": streams.uniforms(f"{prefix}.looked_after", n) < mix.looked_after_or_cin,
        "quintile": _categorical(streams.uniforms(f"{prefix}.quintile", n),
                                 list(mix.deprivation_quintile)) + 1,
        "age": mix.age_at_referral_years.ppf(streams.uniforms(f"{prefix}.age", n)),
    }


def recipe_parts(scenario: Scenario) -> list[tuple[str, str, Distribution]]:
    """The recipe parts drawn for every child: (recipe, profession, hours), in column order of
    ``recipe_hours`` (none unless ``capacity_model = "by_profession"``)."""
    a = scenario.assessment
    if a.capacity_model != "by_profession":
        return []
    recipes = a.recipes
    parts: list[tuple[str, str, Distribution]] = []
    for name, recipe in (("autism", recipes.autism), ("adhd", recipes.adhd),
                         ("both", recipes.both)):
        if recipe is not None:
            parts.extend((name, profession, dist) for profession, dist in recipe.hours.items())
    return parts


def _recipe_draws(scenario: Scenario, streams: Streams, prefix: str, n: int) -> np.ndarray:
    """Each child's hours for every recipe part (one stream per part, so adding a profession's
    WTE or another part leaves every other number as it was)."""
    parts = recipe_parts(scenario)
    out = np.zeros((n, len(parts)))
    for k, (recipe, profession, dist) in enumerate(parts):
        out[:, k] = dist.ppf(streams.uniforms(f"{prefix}.recipe_{recipe}_{profession}", n))
    return out


def _draws(scenario: Scenario, streams: Streams, prefix: str, n: int) -> dict[str, Any]:
    """Per-child random numbers for every later stage, from per-element streams.

    The list at the start was vetted before it (``prefix`` ``"backlog"``): its vetting delays
    are never read, so their inverse CDF is not worked out (zeros; the stream is its own, so no
    other number moves).
    """
    a = scenario.assessment
    hours_model = a.capacity_model != "servers"  # clinical hours, pooled or by profession

    def durations(used: bool, dist: Distribution, name: str) -> np.ndarray:
        # a stage that is off never reads its durations; skipping the (costly) inverse CDF
        # changes no other numbers, because every stream is independent of the others
        return dist.ppf(streams.uniforms(f"{prefix}.{name}", n)) if used else np.zeros(n)

    def on_demand(used: bool, dist: Distribution, name: str, scale: float = 1.0) -> Any:
        # read child by child, by the children who reach that stage: worked out when first read
        return _OnDemand(dist, streams.uniforms(f"{prefix}.{name}", n), scale) if used else (
            _OnDemand(Fixed(kind="fixed", value=0.0), np.zeros(n)))

    return {
        "vet_delay": durations(scenario.vetting.enabled and prefix != "backlog",
                               scenario.vetting.duration_days, "vetting_delay"),
        "vet_accept_u": streams.uniforms(f"{prefix}.vetting_accept", n),
        "profile_hours": on_demand(scenario.profiling.enabled,
                                   scenario.profiling.hours_per_profile, "profiling_hours"),
        "route_u": streams.uniforms(f"{prefix}.routing", n),
        "anyway_u": streams.uniforms(f"{prefix}.diagnosis_anyway", n),
        "assess_hours": durations(a.capacity_model == "clinical_hours", a.hours_per_assessment,
                                  "assessment_hours"),
        "elapsed_days": on_demand(hours_model, a.elapsed_weeks, "assessment_elapsed", 7.0),
        "service_days": durations(not hours_model, a.service_days, "service"),
        "outcome_u": streams.uniforms(f"{prefix}.outcome", n),
        "exit_e": np.column_stack([streams.exponentials(f"{prefix}.exit_{k}", n)
                                   for k in ("withdrawn", "moved", "private")]),
        "uptake_u": streams.uniforms(f"{prefix}.support_uptake", n),
        "needs_met_e": streams.exponentials(f"{prefix}.needs_met", n),
        # streams added later keep their own names, so no earlier number changes
        "support_days": on_demand(scenario.support.enabled, scenario.support.episode_weeks,
                                  "support_episode", 7.0),
        "plan_days": on_demand(scenario.profiling.enabled,
                               scenario.profiling.needs_led_plan_weeks, "needs_led_plan", 7.0),
        "escalation_u": streams.uniforms(f"{prefix}.escalation_count", n),
        # re-referral (issue 11): drawn only when it is on, from its own stream
        "return_e": (streams.exponentials(f"{prefix}.rereferral_return", n)
                     if scenario.rereferral.enabled else np.zeros(n)),
        # issue 12: recipes by profession and post-diagnostic follow-up, each from own streams
        "recipe_hours": _recipe_draws(scenario, streams, prefix, n),
        "follow_up_u": (streams.uniforms(f"{prefix}.follow_up_start", n)
                        if scenario.follow_up.enabled else np.ones(n)),
        "discharge_e": (streams.exponentials(f"{prefix}.follow_up_discharge", n)
                        if scenario.follow_up.enabled else np.zeros(n)),
    }


def read_backlog_table(path: str | Path, start: pd.Timestamp,
                       localities: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a table of the children waiting at the start; every problem names its row and column.

    A ``locality`` column must use the scenario's ``localities.names``.
    """
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ScenarioError([f"backlog.table: cannot read {path}: {error}"]) from None
    problems: list[str] = []
    if "referral_date" not in table.columns:
        raise ScenarioError([f"backlog.table {path}: missing required column referral_date "
                             f"(columns found: {list(table.columns)})"])
    known = {"referral_date", "pathway", "age_at_referral", "priority", "looked_after_or_cin",
             "deprivation_quintile", "locality"}
    for extra in sorted(set(table.columns) - known):
        problems.append(f"backlog.table {path}: unknown column {extra!r} (known: {sorted(known)})")
    out = pd.DataFrame(index=table.index)
    dates = pd.to_datetime(table["referral_date"], format="%Y-%m-%d", errors="coerce")
    for row in np.flatnonzero(dates.isna().to_numpy()):
        problems.append(f"backlog.table row {row + 2}, column referral_date: "
                        f"{table['referral_date'].iloc[row]!r} is not a YYYY-MM-DD date")
    for row in np.flatnonzero((dates > start).to_numpy()):
        problems.append(f"backlog.table row {row + 2}, column referral_date: "
                        f"{table['referral_date'].iloc[row]} is after the start date {start.date()}")
    out["referral_date"] = dates

    def coded(column: str, codes: tuple[str, ...]) -> None:
        if column not in table.columns:
            return
        values = table[column].str.strip().str.lower()
        for row in np.flatnonzero(~values.isin(codes).to_numpy()):
            problems.append(f"backlog.table row {row + 2}, column {column}: "
                            f"{table[column].iloc[row]!r} is not one of {list(codes)}")
        out[column] = values

    coded("pathway", PATHWAYS)
    coded("priority", PRIORITIES)
    if "locality" in table.columns:
        values = table["locality"].str.strip()
        for row in np.flatnonzero(~values.isin(localities).to_numpy()):
            problems.append(f"backlog.table row {row + 2}, column locality: "
                            f"{table['locality'].iloc[row]!r} is not one of the scenario's "
                            f"localities.names {list(localities)}")
        out["locality"] = values
    coded("looked_after_or_cin", ("true", "false", "1", "0", "yes", "no"))
    for column, low, high in (("age_at_referral", 0.0, 18.0), ("deprivation_quintile", 1, 5)):
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            bad = values.isna() | (values < low) | (values > high)
            for row in np.flatnonzero(bad.to_numpy()):
                problems.append(f"backlog.table row {row + 2}, column {column}: "
                                f"{table[column].iloc[row]!r} is not a number in [{low}, {high}]")
            out[column] = values
    if problems:
        raise ScenarioError(problems, f"backlog table {path}")
    return out.sort_values("referral_date", kind="stable").reset_index(drop=True)


def _ages_still_waiting(scenario: Scenario, streams: Streams, waited: np.ndarray) -> np.ndarray:
    """Ages at referral for children still on the list, so younger than the transfer age now.

    Drawn from the referral mix conditional on that (inverse CDF on the truncated range).
    """
    limit = scenario.leaving.age_out_years - waited / DAYS_PER_YEAR
    age_dist = scenario.referral_mix.age_at_referral_years
    grid = np.linspace(0.0, 1.0, 2001)
    ages = age_dist.ppf(grid)
    cap = np.interp(limit, ages, grid, left=0.0, right=1.0)
    u = streams.uniforms("backlog.age_truncated", len(waited))
    return np.minimum(age_dist.ppf(u * cap), np.maximum(limit - 1e-3, 0.0))


def _waiting_table(scenario: Scenario, start: pd.Timestamp) -> pd.DataFrame | None:
    """The children waiting as a table (from ``backlog.waiting`` or ``backlog.table``), oldest first."""
    backlog = scenario.backlog
    if backlog.table is not None:
        return read_backlog_table(backlog.table, start, scenario.localities.names)
    if backlog.waiting is None:
        return None
    table = backlog.waiting.to_frame()
    late = table.index[table["referral_date"] > start]
    if len(late):
        raise ScenarioError([
            f"backlog.waiting.referral_date[{k}] = {table['referral_date'][k].date()} is after the "
            f"start date {start.date()}" for k in late[:20]])
    return table.sort_values("referral_date", kind="stable").reset_index(drop=True)


def _backlog(scenario: Scenario, streams: Streams) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Referral days (negative) and attributes of the children on the list at the start.

    Returned oldest first, which is their order on a first-come-first-served list.
    """
    backlog = scenario.backlog
    if not backlog.enabled:
        return np.empty(0), _attributes(scenario, streams, "backlog", 0)
    start = pd.Timestamp(scenario.simulation.start_date)
    table = _waiting_table(scenario, start)
    if table is not None:
        n = len(table)
        attrs = _attributes(scenario, streams, "backlog", n)
        waited = ((start - table["referral_date"]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        if "pathway" in table:
            attrs["pathway"] = table["pathway"].map(PATHWAYS.index).to_numpy()
        if "priority" in table:
            attrs["urgent"] = (table["priority"] == "urgent").to_numpy()
        if "looked_after_or_cin" in table:
            attrs["looked_after"] = table["looked_after_or_cin"].isin(["true", "1", "yes"]).to_numpy()
        if "deprivation_quintile" in table:
            attrs["quintile"] = table["deprivation_quintile"].to_numpy(dtype=int)
        if "locality" in table:
            attrs["locality"] = table["locality"].map(scenario.localities.names.index).to_numpy()
        if "age_at_referral" in table:
            attrs["age"] = table["age_at_referral"].to_numpy(dtype=float)
        elif scenario.leaving.age_out:
            attrs["age"] = _ages_still_waiting(scenario, streams, waited)
        return -waited, attrs
    n = backlog.count
    waited = 7.0 * backlog.waited_weeks.ppf(streams.uniforms("backlog.waited", n))
    attrs = _attributes(scenario, streams, "backlog", n)
    if scenario.leaving.age_out:
        attrs["age"] = _ages_still_waiting(scenario, streams, waited)
    order = np.argsort(-waited, kind="stable")
    return -waited[order], {k: v[order] for k, v in attrs.items()}


def _joined(parts: list[Any]) -> Any:
    """Rows of the backlog, new referrals and earlier leavers one after another (arrays, or
    durations worked out on demand)."""
    if isinstance(parts[0], _OnDemand):
        out = parts[0]
        for part in parts[1:]:
            out = out.concatenate(part)
        return out
    return np.concatenate(parts)


def draw_children(scenario: Scenario, streams: Streams, horizon_days: float) -> _Children:
    """Everyone the run will see: the backlog (oldest first), then new referrals in time order."""
    backlog_days, backlog_attrs = _backlog(scenario, streams)
    new_days = referral_times(scenario, streams, horizon_days)
    new_attrs = _attributes(scenario, streams, "new", len(new_days))
    b_draws = _draws(scenario, streams, "backlog", len(backlog_days))
    n_draws = _draws(scenario, streams, "new", len(new_days))
    back_days = _returns_of_earlier_leavers(scenario, streams, horizon_days)
    back_attrs = _attributes(scenario, streams, "pending", len(back_days))
    p_draws = _draws(scenario, streams, "pending", len(back_days))
    joined = {k: np.concatenate([backlog_attrs[k], new_attrs[k], back_attrs[k]]) for k in new_attrs}
    draws = {k: _joined([b_draws[k], n_draws[k], p_draws[k]]) for k in n_draws}
    backlog_flag = np.concatenate([np.ones(len(backlog_days), bool),
                                   np.zeros(len(new_days) + len(back_days), bool)])
    n = len(backlog_flag)
    rereferral = np.zeros(n, dtype=bool)
    rereferral[n - len(back_days):] = True
    return _Children(referral=np.concatenate([backlog_days, new_days, back_days]),
                     backlog=backlog_flag, origin=np.arange(n), rereferral=rereferral,
                     **joined, **draws)


def _returns_of_earlier_leavers(scenario: Scenario, streams: Streams,
                                horizon_days: float) -> np.ndarray:
    """Days in ``[0, horizon)`` on which children who left before the start come back
    (``rereferral.at_risk_at_start``): each at its route's constant hazard from the start, in
    time order. Empty when re-referral is off."""
    rr = scenario.rereferral
    if not rr.enabled:
        return np.empty(0)
    rates = rr.rates_per_day()
    days = []
    for route, count in rr.at_risk_at_start.as_dict().items():
        if count == 0 or rates[route] <= 0:
            continue
        back = streams.exponentials(f"pending.return_{route}", count) / rates[route]
        days.append(back[back < horizon_days])
    return np.sort(np.concatenate(days)) if days else np.empty(0)


# -------------------------------------------------------------------------------------------------
# The model


def _pushing_onto(heap: list[Any]) -> Callable[[list[Any]], None]:
    def push(items: list[Any]) -> None:
        for item in items:
            heapq.heappush(heap, item)
    return push


class _Intake:
    """Children taken in, in a fixed order, as arrays rather than child by child: what
    :meth:`PathwayModel._take_in` (or, for the list at the start, ``_gone``,
    ``_watch_withdrawal`` and ``_join_list``) would do to each, worked out at once from the
    children's own draws (nothing another child does changes them before they are taken in), then
    applied a run of children at a time by :meth:`take`: log rows in the same order, the same
    queues and offers, and each withdrawal logged on the feed's clock at the time its timer
    would have fired (:meth:`PathwayModel._feed_watch`), so the numbers are the same float for
    float (``tests/test_fast_path.py``).

    ``possible`` is False when a child leaves at the moment of intake by a route that brings them
    back (a timer scheduled in the middle of the run): the caller then goes child by child.
    Never with ``servers``, where joining the list may start an assessment.
    """

    def __init__(self, model: "PathwayModel", ids: np.ndarray, times: np.ndarray, *,
                 vetted: bool, profiling: bool) -> None:
        self.model = model
        c, n = model.c, len(ids)
        reason, exit_time = model.exit_reason[ids], model.exit_time[ids]
        if vetted:
            rejected = c.vet_accept_u[ids] >= model.scenario.vetting.accept_probability
        else:
            rejected = np.zeros(n, dtype=bool)
        gone = ~rejected & (exit_time <= times)
        returning = list(model.return_rates)
        self.possible = not ((gone & np.isin(reason, returning)).any()
                             or (rejected.any() and _D["rejected"] in returning))
        if not self.possible:
            return
        joins = ~(rejected | gone)
        # each child's rows: vetted (or the rejection), then the exit or joining the first queue
        rows = np.column_stack([np.full(n, vetted), ~rejected])
        self.row_end = np.cumsum(rows.sum(axis=1)).tolist()
        rows = rows.ravel()
        joined_event = _E["profiling_join"] if profiling else _E["list_join"]
        self.time = np.column_stack([times, np.where(gone, exit_time, times)]).ravel()[rows]
        self.child = np.repeat(ids.astype(np.int64), 2)[rows]
        self.event = np.column_stack([np.where(rejected, _E["exit"], _E["vetted"]),
                                      np.where(gone, _E["exit"], joined_event)]
                                     ).ravel()[rows].astype(np.int8)
        self.detail = np.column_stack([np.where(rejected, _D["rejected"], _D["accepted"]),
                                       np.where(gone, reason, 0)]).ravel()[rows].astype(np.int8)
        self.rows = (self.time, self.child, self.event, self.detail)
        self.ids = ids
        self.stage = np.where(joins, _PROFILING if profiling else _LIST, _EXITED).astype(np.int8)
        self.id_list, self.stage_list = ids.tolist(), self.stage.tolist()
        self.profiling = profiling
        position = np.arange(n)
        # what each run of children feeds, in intake order: [positions, items, apply, taken so far]
        self.streams: list[list[Any]] = []

        def stream(mask: np.ndarray, items: list[Any], apply: Callable[[list[Any]], Any]) -> None:
            if mask.any():
                self.streams.append([position[mask].tolist(), items, apply, 0])

        if _D["withdrawn"] in model.return_rates:
            watch = joins & (model.exit_reason[ids] == _D["withdrawn"]) & (exit_time < model.horizon)
            def watch_all(run: list[int]) -> None:
                for i in run:
                    model._feed_watch(i)

            stream(watch, ids[watch].tolist(), watch_all)
        if profiling:
            stream(joins, ids[joins].tolist(), model.profiling_queue.extend)
            return
        placed = ~joins
        if model.priority:
            for rule in model.static_rules:
                flag = {"urgent": c.urgent, "looked_after": c.looked_after}.get(rule)
                if flag is not None:
                    here = flag[ids] & ~placed
                    stream(here, ids[here].tolist(), model.queues[rule].extend)
                    placed = placed | here
        stream(~placed, ids[~placed].tolist(), model.queues["routine"].extend)
        if model.near_18:
            stream(joins, list(zip(model.birthday[ids[joins]].tolist(), ids[joins].tolist())),
                   _pushing_onto(model.birthday_heap))
        sup = model.scenario.support
        if not sup.enabled:
            return
        offered = joins & ~model.supported[ids] & (c.uptake_u[ids] < sup.uptake)
        if model.offer_rule == "on_joining":
            model.offer_joined[ids[offered]] = np.where(c.backlog[ids], c.referral[ids],
                                                        times)[offered]
            stream(offered, ids[offered].tolist(), model.offer_window.extend)
        elif model.offer_rule == "longest_waiting":
            stream(offered, list(zip(c.referral[ids[offered]].tolist(), ids[offered].tolist())),
                   _pushing_onto(model.offer_heap))
        else:
            urgent, looked_after = c.urgent[ids], c.looked_after[ids]
            for name, here in (("urgent", offered & urgent),
                               ("looked_after", offered & ~urgent & looked_after),
                               ("rest", offered & ~urgent & ~looked_after)):
                stream(here, ids[here].tolist(), model.offer_groups[name].extend)

    def take(self, k: int, stop: int) -> int:
        """Take in the children at positions ``k`` to ``stop - 1``; returns ``stop``."""
        model = self.model
        if stop <= k:
            return k
        first = self.row_end[k - 1] if k else 0
        last = self.row_end[stop - 1]
        model.log.add_rows(self.rows, first, last)
        if stop - k == 1:
            model.stage[self.id_list[k]] = self.stage_list[k]
        else:
            model.stage[self.ids[k:stop]] = self.stage[k:stop]
        for stream in self.streams:
            positions, items, apply, lo = stream
            hi = bisect.bisect_left(positions, stop, lo)
            if hi > lo:
                apply(items[lo:hi])
                stream[3] = hi
        return stop


class PathwayModel:
    """One replication of the pathway on a SimPy environment.

    >>> from model.scenario import Scenario
    >>> result = PathwayModel(Scenario().replace({"simulation.horizon_months": 3}), 0).run()
    >>> sorted(result.events["event"].unique())[:3]
    ['assessment_end', 'assessment_start', 'escalation']
    """

    def __init__(self, scenario: Scenario, replication: int = 0, seed: int | None = None,
                 fast_paths: bool = True) -> None:
        self.scenario = scenario
        self.fast_paths = fast_paths
        self.replication = replication
        self.seed = scenario.simulation.seed if seed is None else seed
        self.streams = Streams(self.seed, replication)
        sim = scenario.simulation
        self.months = month_starts(pd.Timestamp(sim.start_date), sim.horizon_months)
        self.horizon = float(self.months[-1])
        self.env = simpy.Environment()
        self.log = EventLog()
        self.capacity_rows: list[tuple[float, str, float, float]] = []
        self.c = draw_children(scenario, self.streams, self.horizon)
        n = self.c.n
        self.n_original = self.n_used = n  # rows in use; re-referrals add rows as they come
        # exit reason code -> hazard of a new referral per day (empty: nobody comes back)
        rr = scenario.rereferral
        self.return_rates: dict[int, float] = (
            {_D[k]: v for k, v in rr.rates_per_day().items() if v > 0} if rr.enabled else {})
        self.outcome = np.zeros(n, dtype=np.int64)  # latent outcome code (set in run)
        self.stage = np.zeros(n, dtype=np.int8)
        self.supported = np.zeros(n, dtype=bool)
        self.exit_time = np.full(n, np.inf)
        self.exit_reason = np.zeros(n, dtype=np.int8)
        self._set_exit_clocks()
        # the diagnostic list
        a = scenario.assessment
        self.priority = a.discipline == "priority"
        static_rules = [r for r in a.priority_order if r != "near_18"] if self.priority else []
        self.near_18 = self.priority and "near_18" in a.priority_order
        self.rule_order = list(a.priority_order) if self.priority else []
        self.queues: dict[str, deque[int]] = {r: deque() for r in (*static_rules, "routine")}
        self.static_rules = static_rules
        self.birthday_heap: list[tuple[float, int]] = []
        self.near_18_days = a.near_18_months * DAYS_PER_YEAR / 12
        self.profiling_queue: deque[int] = deque()
        # support while waiting: who is waiting for a place, kept as the offer rule needs it
        support = scenario.support
        self.offer_rule = support.offer
        self.offer_window_days = support.offer_window_weeks * 7.0
        self.offer_joined = np.full(n, np.nan)  # when the offer was made (on_joining)
        self.offer_window: deque[int] = deque()  # on_joining, within the window, joining order
        self.offer_lapsed: list[int] = []        # on_joining, past the window, latest joiner last
        self.offer_heap: list[tuple[float, int]] = []  # longest_waiting: (referral day, child)
        self.offer_groups: dict[str, deque[int]] = {
            g: deque() for g in ("urgent", "looked_after", "rest")}  # priority
        # episodes running: both kinds of support, with when each will end unless cut short
        self.in_support = np.zeros(n, dtype=bool)
        self.support_kind = np.zeros(n, dtype=np.int8)
        self.episode_end = np.full(n, np.inf)
        self.episodes: list[tuple[float, int]] = []  # heap: (planned end, child)
        self.caseload = 0  # support-while-waiting places in use
        self.free_servers = a.servers
        self.outsourced_starts = [0] * len(a.outsourced)
        # days from the start to each staffing change, read once rather than every session
        start = pd.Timestamp(scenario.simulation.start_date)
        self._change_days = [(pd.Timestamp(change.date) - start) / pd.Timedelta(days=1)
                             for change in a.staffing_changes]
        # clinical hours as linear pieces between knots, built on first use (clinical_hours_between)
        self._knots: list[float] | None = None
        self._pieces: list[tuple[float, float]] = []
        self._cum_hours: list[float] = []
        self._taken_from: str = "routine"  # the queue _next_child took its child from
        # withdrawals the feed logs on its own clock (_feed_watch): (due, order watched, child)
        self.feed_withdrawals: list[tuple[float, int, int]] = []
        self._watched = 0
        self._setup_team()

    # -- exits ---------------------------------------------------------------------------------

    def _set_exit_clocks(self) -> None:
        """Competing-risk exit times, running from when a child starts waiting (memoryless)."""
        times, reasons, birthday = self._exit_clocks(slice(None))
        if len(times):
            self.exit_time, self.exit_reason = times, reasons
        self.birthday = birthday

    def _exit_clocks(self, rows: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exit times, reasons and transfer-age birthdays of the children in ``rows``."""
        c, leaving = self.c, self.scenario.leaving
        referral, age = c.referral[rows], c.age[rows]
        start = np.maximum(referral, 0.0)
        if self.scenario.vetting.enabled:
            start = np.where(c.backlog[rows], start, start + c.vet_delay[rows])
        hazards = np.array([leaving.withdrawal_per_year, leaving.moved_per_year,
                            leaving.private_per_year]) / DAYS_PER_YEAR
        with np.errstate(divide="ignore", over="ignore"):  # a tiny hazard: never leaves
            times = np.where(hazards > 0,
                             start[:, None] + c.exit_e[rows] / np.where(hazards > 0, hazards, 1),
                             np.inf)
        codes = np.array([_D["withdrawn"], _D["moved"], _D["private"]], dtype=np.int8)
        birthday = referral + (leaving.age_out_years - age) * DAYS_PER_YEAR
        if leaving.age_out:
            # a child referred at or over the transfer age transfers at once (day 0 for the list
            # at the start), never at a birthday before their referral
            times = np.column_stack([times, np.maximum(birthday, np.maximum(referral, 0.0))])
            codes = np.append(codes, np.int8(_D["aged_out"]))
        first = np.argmin(times, axis=1) if len(times) else np.zeros(0, dtype=np.int64)
        return times[np.arange(len(first)), first], codes[first], birthday

    def _gone(self, i: int, now: float) -> bool:
        """True if child ``i`` has left the pathway by ``now``; logs the exit the first time."""
        if self.stage[i] == _EXITED:
            return True
        if self.exit_time[i] <= now:
            self._exit(i, self.exit_time[i], int(self.exit_reason[i]))
            return True
        return False

    def _exit(self, i: int, time: float, reason: int) -> None:
        self.stage[i] = _EXITED
        self.log.add(time, i, _E["exit"], reason)
        if self.in_support[i]:
            self._end_support(i, time, _D["left"])
        if self.return_rates and reason in self.return_rates:
            self._schedule_return(i, time, reason)

    # -- re-referral (failure demand) --------------------------------------------------------------

    def _watch_withdrawal(self, i: int, now: float) -> None:
        """With re-referral after withdrawing on, log a withdrawal when it falls due (not lazily
        when a session reaches the child), so that the child's return runs from that day."""
        if (self.exit_reason[i] == _D["withdrawn"] and self.exit_time[i] < self.horizon
                and _D["withdrawn"] in self.return_rates):
            due = float(self.exit_time[i])
            # relative to the clock, not to ``now``: the feed takes in a batch of referrals at
            # their own times before the clock reaches them
            self._after(max(due - self.env.now, 0.0), self._withdrawal_due, i, due)

    def _feed_watch(self, i: int) -> None:
        """:meth:`_watch_withdrawal` for a child taken in by the batched intake (the list at the
        start, the feed's referrals): the withdrawal goes on the feed's own clock
        (``feed_withdrawals``), which logs it in time order among the children it takes in,
        before the next event that reads the queues, rather than as an event of its own. A
        withdrawal changes only that child and schedules their return at its own time, so
        logging it ahead of the clock changes nothing another event reads
        (``tests/test_fast_path.py`` holds it to the child-by-child path)."""
        if (self.exit_reason[i] == _D["withdrawn"] and self.exit_time[i] < self.horizon
                and _D["withdrawn"] in self.return_rates):
            heapq.heappush(self.feed_withdrawals, (float(self.exit_time[i]), self._watched, i))
            self._watched += 1

    def _after(self, delay: float, action: Callable[[int, float], None], i: int,
               time: float) -> None:
        """Call ``action(i, time)`` ``delay`` days from now (an event, not a process)."""
        _Call(self.env, delay, action, i, time)

    def _withdrawal_due(self, i: int, due: float) -> None:
        # still waiting and this withdrawal still the first exit (support may have met needs
        # first); the clock may read a rounding short of ``due``, so the time is not compared
        if (self.stage[i] in (_LIST, _PROFILING) and self.exit_reason[i] == _D["withdrawn"]
                and self.exit_time[i] == due):
            self._exit(i, due, _D["withdrawn"])

    def _schedule_return(self, i: int, time: float, reason: int) -> None:
        """Child ``i`` left at ``time`` for ``reason``: referred again after a drawn delay, if that
        falls before the horizon and before the transfer age."""
        back = time + float(self.c.return_e[i]) / self.return_rates[reason]
        if back >= self.horizon:
            return
        back = max(back, self.env.now)  # the clock may read a rounding past the exit time
        leaving = self.scenario.leaving
        if leaving.age_out and back >= self.birthday[i]:
            return  # an adult by then: not a referral to children's services
        self._after(back - self.env.now, self._rereferred, i, back)

    def _rereferred(self, i: int, now: float) -> None:
        """A new referral of the child first referred as ``origin[i]``: its own vetting, exits
        and later draws; the same attributes and latent outcome."""
        j = self._add_child(i, now)
        self.log.add(now, j, _E["referral"], _D["rereferral"])
        c, vetting = self.c, self.scenario.vetting
        ready = now + (float(c.vet_delay[j]) if vetting.enabled else 0.0)
        if ready >= self.horizon:
            return
        if ready == now:
            self._take_in(j, now)
        else:
            self._after(ready - now, self._take_in, j, ready)

    def _add_child(self, i: int, now: float) -> int:
        """A row for child ``i`` referred again at ``now`` (rows are drawn in blocks)."""
        c = self.c
        if self.n_used == c.n:
            self._grow(max(64, self.n_original // 8))
        j = self.n_used
        self.n_used += 1
        for name in ("pathway", "urgent", "looked_after", "quintile", "locality", "outcome_u"):
            getattr(c, name)[j] = getattr(c, name)[i]
        c.origin[j] = c.origin[i]
        c.rereferral[j] = True
        c.referral[j] = now
        c.age[j] = c.age[i] + (now - c.referral[i]) / DAYS_PER_YEAR
        self._exit_clock_one(j)
        self.outcome[j] = self.outcome[i]
        self._outcome_detail.append(self._outcome_detail[i])
        return j

    def _exit_clock_one(self, j: int) -> None:
        """:meth:`_exit_clocks` for one child in plain floats (a re-referral, as it comes)."""
        c, leaving = self.c, self.scenario.leaving
        referral = float(c.referral[j])
        start = max(referral, 0.0)
        if self.scenario.vetting.enabled and not c.backlog[j]:
            start = start + float(c.vet_delay[j])
        best, reason = math.inf, _D["withdrawn"]
        for k, (per_year, code) in enumerate(((leaving.withdrawal_per_year, "withdrawn"),
                                              (leaving.moved_per_year, "moved"),
                                              (leaving.private_per_year, "private"))):
            hazard = per_year / DAYS_PER_YEAR
            t = start + float(c.exit_e[j, k]) / hazard if hazard > 0 else math.inf
            if t < best:
                best, reason = t, _D[code]
        birthday = referral + (leaving.age_out_years - float(c.age[j])) * DAYS_PER_YEAR
        if leaving.age_out:
            t = max(birthday, max(referral, 0.0))
            if t < best:
                best, reason = t, _D["aged_out"]
        self.exit_time[j], self.exit_reason[j], self.birthday[j] = best, reason, birthday

    def _grow(self, k: int) -> None:
        """``k`` more rows for re-referrals: fresh draws from the ``rereferral.*`` streams (in
        blocks of a size fixed by the run, so the numbers do not depend on timing)."""
        draws = _draws(self.scenario, self.streams, "rereferral", k)
        blank = {"referral": np.full(k, np.inf), "backlog": np.zeros(k, bool),
                 "pathway": np.zeros(k, np.int64), "urgent": np.zeros(k, bool),
                 "looked_after": np.zeros(k, bool), "quintile": np.ones(k, np.int64),
                 "age": np.zeros(k), "locality": np.zeros(k, np.int64),
                 "origin": np.zeros(k, np.int64), "rereferral": np.zeros(k, bool)}
        self.c.extend({**blank, **draws})
        for name, fill in (("stage", _NOT_YET), ("supported", False), ("exit_time", np.inf),
                           ("exit_reason", 0), ("offer_joined", np.nan), ("in_support", False),
                           ("support_kind", 0), ("episode_end", np.inf), ("birthday", np.inf),
                           ("outcome", 0)):
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.full(k, fill, dtype=old.dtype)]))

    # -- referral, vetting, profiling ------------------------------------------------------------

    def _feed(self):  # type: ignore[no-untyped-def]
        """Process: new referrals reach their first queue after vetting, in time order."""
        c, env, log, vetting = self.c, self.env, self.log, self.scenario.vetting
        new = np.flatnonzero(~c.backlog)
        log.extend(c.referral[new], new, _E["referral"],
                   np.where(c.rereferral[new], _D["rereferral"], _D["new"]))
        ready = c.referral[new] + (c.vet_delay[new] if vetting.enabled else 0.0)
        order = np.argsort(ready, kind="stable")
        # In the clinical-hours model taking in a referral schedules nothing, so the referrals
        # due before the next scheduled event are taken in without an event each: the same order
        # and times, without a SimPy timeout per child (most of the feed's cost).
        batch = self.scenario.assessment.capacity_model != "servers"
        if batch and self.fast_paths:
            # and as arrays (:class:`_Intake`): the same rows, timers and state as child by child
            ids, times = new[order], ready[order]
            end = int(np.searchsorted(times, self.horizon, side="left"))
            intake = _Intake(self, ids[:end], times[:end], vetted=vetting.enabled,
                             profiling=self.scenario.profiling.enabled)
            if intake.possible:
                # the referrals and the withdrawals on the feed's clock, in time order, each
                # before the next event (a session, a returning child) unless the clock is there
                due, heap, k = times[:end].tolist(), self.feed_withdrawals, 0
                while k < end or heap:
                    t = due[k] if k < end else math.inf
                    w = heap[0][0] if heap else math.inf
                    next_event = env.peek()
                    if min(t, w) > env.now and min(t, w) >= next_event:
                        yield env.timeout(min(t, w) - env.now)
                    elif t <= w:
                        # due by the clock or before the next event and withdrawal: taken in now
                        stop = max(bisect.bisect_left(due, min(next_event, w), k),
                                   bisect.bisect_right(due, env.now, k), k + 1)
                        k = intake.take(k, stop)
                    else:
                        _, _, i = heapq.heappop(heap)
                        self._withdrawal_due(i, w)
                return
        # child by child: the withdrawals of the list at the start are events of their own
        for due_at, _, i in sorted(self.feed_withdrawals):
            self._after(max(due_at - env.now, 0.0), self._withdrawal_due, i, due_at)
        self.feed_withdrawals = []
        next_event = env.peek() if batch else -math.inf
        for i, t in zip(new[order].tolist(), ready[order].tolist()):
            if t >= self.horizon:
                break
            if t > env.now and t >= next_event:
                yield env.timeout(t - env.now)
                if batch:
                    next_event = env.peek()
            self._take_in(i, t)

    def _take_in(self, i: int, t: float) -> None:
        """A referral that has been vetted for ``t`` days reaches its first queue (or leaves)."""
        c, log, vetting = self.c, self.log, self.scenario.vetting
        if vetting.enabled:
            if c.vet_accept_u[i] >= vetting.accept_probability:
                self._exit(i, t, _D["rejected"])
                return
            log.add(t, i, _E["vetted"], _D["accepted"])
        if self._gone(i, t):
            return
        if self.return_rates:
            self._watch_withdrawal(i, t)
        if self.scenario.profiling.enabled:
            self.stage[i] = _PROFILING
            log.add(t, i, _E["profiling_join"])
            self.profiling_queue.append(i)
        else:
            self._join_list(i, t)

    def _profiling_sessions(self):  # type: ignore[no-untyped-def]
        """Process: each week practitioners profile children from their queue, first come first served."""
        p, env, log, c = self.scenario.profiling, self.env, self.log, self.c
        weekly = (p.practitioner_wte * p.hours_per_wte_week * p.job_plan_share
                  * (1 - p.leave_weeks_per_year * 7.0 / DAYS_PER_YEAR))
        hours = weekly * WORKING_SESSION_DAYS / 7.0
        routing = np.cumsum([p.routing.needs_led, p.routing.diagnostic, p.routing.signposted])
        accuracy = self.scenario.profiling_accuracy
        # routed away (by accuracy): the share of those who get a needs-led plan
        away = p.routing.needs_led + p.routing.signposted
        needs_led_share = p.routing.needs_led / away if away > 0 else 1.0
        none = OUTCOMES.index("none")
        diagnosable = 1.0 - self.scenario.assessment.outcome.as_dict()["none"]
        sensitivity, false_positive_rate = accuracy.send_on(
            p.routing.diagnostic / routing[-1], diagnosable)
        budget = 0.0
        queue = self.profiling_queue
        while True:
            now = env.now
            budget += hours
            while budget > 0 and queue:
                i = queue.popleft()
                if self._gone(i, now):
                    continue
                budget -= c.profile_hours[i]
                if accuracy.enabled:
                    route = self._route_by_outcome(float(c.route_u[i]), self.outcome[i] != none,
                                                   sensitivity, false_positive_rate,
                                                   needs_led_share)
                else:
                    route = int(np.searchsorted(routing, c.route_u[i] * routing[-1], side="right"))
                    route = min(route, 2)
                if route == 1:
                    log.add(now, i, _E["profiled"], _D["diagnostic"])
                    self._join_list(i, now)
                    continue
                name = "needs_led" if route == 0 else "signposted"
                log.add(now, i, _E["profiled"], _D[name])
                if route == 0:
                    self._start_support(i, now, _D["needs_led_plan"])
                if c.anyway_u[i] < p.diagnosis_requested_anyway:
                    self._join_list(i, now)
                else:
                    self._exit(i, now, _D[name])
            lost = 0.0
            if not queue and budget > 0:
                lost, budget = budget, 0.0  # practitioner time with nobody to see is not banked
            self.capacity_rows.append((now, "profiling", hours, hours - lost))
            yield env.timeout(WORKING_SESSION_DAYS)

    @staticmethod
    def _route_by_outcome(u: float, diagnosable: bool, sensitivity: float,
                          false_positive_rate: float, needs_led_share: float) -> int:
        """Route 0 needs-led, 1 diagnostic, 2 signposted: on to the list with probability
        ``sensitivity`` for a child an assessment would diagnose, ``false_positive_rate`` for one
        it would not; the rest split by the routing's needs-led share (one uniform for both)."""
        send = sensitivity if diagnosable else false_positive_rate
        if u < send:
            return 1
        rest = (u - send) / (1.0 - send)
        return 0 if rest < needs_led_share else 2

    # -- support while waiting -------------------------------------------------------------------

    def _start_support(self, i: int, now: float, kind: int) -> None:
        """Start child ``i``'s one episode of support (a needs-led plan or a place)."""
        if self.supported[i]:
            return
        self.supported[i] = True
        self.log.add(now, i, _E["support_start"], kind)
        plan = kind == _D["needs_led_plan"]
        end = now + float(self.c.plan_days[i] if plan else self.c.support_days[i])
        rate = self.scenario.support.needs_met_per_year / DAYS_PER_YEAR
        if rate > 0:
            # the hazard runs on supported time only: a pre-drawn unit exponential, spent
            # within this episode or not at all
            met = now + self.c.needs_met_e[i] / rate
            if met < end and met < self.exit_time[i]:
                self.exit_time[i] = met
                self.exit_reason[i] = _D["needs_met"]
        self.in_support[i] = True
        self.support_kind[i] = kind
        self.episode_end[i] = end
        if not plan:
            self.caseload += 1  # a needs-led plan is the profiling team's: it takes no place
        heapq.heappush(self.episodes, (min(end, float(self.exit_time[i])), i))

    def _end_support(self, i: int, time: float, why: int) -> None:
        self.in_support[i] = False
        self.log.add(time, i, _E["support_end"], why)
        if self.support_kind[i] == _D["support_while_waiting"]:
            self.caseload -= 1

    def _release_support(self, now: float) -> None:
        """End the episodes due by ``now``: run their length, or the child left the pathway."""
        heap = self.episodes
        while heap and heap[0][0] <= now:
            t, i = heapq.heappop(heap)
            if self.in_support[i]:  # not already ended by assessment or a logged exit
                ran = t >= self.episode_end[i]
                self._end_support(i, t, _D["episode_end"] if ran else _D["left"])

    def _wait_for_offer(self, i: int, now: float) -> None:
        """Child ``i`` joins the list having taken up the offer: wait for a place by the rule."""
        c = self.c
        if self.offer_rule == "on_joining":
            # the children already waiting at the start were offered when they joined, at an
            # unknown date after their referral: their offer is counted from the referral
            self.offer_joined[i] = c.referral[i] if c.backlog[i] else now
            self.offer_window.append(i)
        elif self.offer_rule == "longest_waiting":
            heapq.heappush(self.offer_heap, (float(c.referral[i]), i))
        else:
            group = "urgent" if c.urgent[i] else "looked_after" if c.looked_after[i] else "rest"
            self.offer_groups[group].append(i)

    def _can_take_place(self, i: int, now: float) -> bool:
        # stage first: a child already taken for assessment must not be logged as leaving
        return self.stage[i] == _LIST and not self.supported[i] and not self._gone(i, now)

    def _next_offer(self, now: float) -> int | None:
        """The child a free place goes to under the offer rule (``None``: nobody is waiting)."""
        if self.offer_rule == "on_joining":
            window, lapsed, joined = self.offer_window, self.offer_lapsed, self.offer_joined
            # joining times only grow along the window, so offers lapse from its front
            while window and joined[window[0]] + self.offer_window_days < now:
                lapsed.append(window.popleft())
            while window:
                i = window.popleft()
                if self._can_take_place(i, now):
                    return i
            while lapsed:  # a place no recent joiner needs: the latest joiner among the rest
                i = lapsed.pop()
                if self._can_take_place(i, now):
                    return i
            return None
        if self.offer_rule == "longest_waiting":
            heap = self.offer_heap
            while heap:
                _, i = heapq.heappop(heap)
                if self._can_take_place(i, now):
                    return i
            return None
        for group in self.offer_groups.values():  # urgent, looked-after, the rest
            while group:
                i = group.popleft()
                if self._can_take_place(i, now):
                    return i
        return None

    def _support_sessions(self):  # type: ignore[no-untyped-def]
        """Process: the weekly support intake fills free places by the offer rule.

        Every intake, the first at day 0 too, waits on a :class:`_Late` timeout, so it comes
        after the clinic sessions and referrals of the same moment.
        """
        s, env = self.scenario.support, self.env
        caseload = s.capacity == "caseload"
        starts = 0.0 if caseload else (s.starts_per_month or 0.0)
        per_week = starts * 12.0 / DAYS_PER_YEAR * WORKING_SESSION_DAYS
        budget = 0.0
        yield _Late(env, 0.0)
        while True:
            now = env.now
            self._release_support(now)
            if caseload:
                free = s.places - self.caseload
            else:
                budget += per_week
                free = int(budget + 1e-9)
            # the children this intake starts, chosen first: choosing one changes nothing the
            # next choice reads but that child's own state (a child chosen twice would be
            # passed over once supported, as here), so their episode lengths are worked out in
            # one call
            chosen: list[int] = []
            picked: set[int] = set()
            nobody_left = False
            while len(chosen) < free:
                i = self._next_offer(now)
                if i is None:
                    nobody_left = True
                    break
                if i not in picked:
                    picked.add(i)
                    chosen.append(i)
            if chosen:
                self.c.support_days.prepare(chosen)
            for i in chosen:
                self._start_support(i, now, _D["support_while_waiting"])
            started = len(chosen)
            if caseload:
                # places, and places in use after the intake
                self.capacity_rows.append((now, "support", float(s.places), float(self.caseload)))
            else:
                budget -= started
                if nobody_left:
                    budget = min(budget, 1.0)  # starts nobody was waiting for are not banked
                self.capacity_rows.append((now, "support", per_week, float(started)))
            yield _Late(env, WORKING_SESSION_DAYS)

    # -- the diagnostic list ---------------------------------------------------------------------

    def _join_list(self, i: int, now: float) -> None:
        self.stage[i] = _LIST
        self.log.add(now, i, _E["list_join"])
        c = self.c
        if self.priority:
            for rule in self.static_rules:
                if (rule == "urgent" and c.urgent[i]) or (rule == "looked_after" and c.looked_after[i]):
                    self.queues[rule].append(i)
                    break
            else:
                self.queues["routine"].append(i)
            if self.near_18:
                heapq.heappush(self.birthday_heap, (self.birthday[i], i))
        else:
            self.queues["routine"].append(i)
        sup = self.scenario.support
        if sup.enabled and not self.supported[i] and c.uptake_u[i] < sup.uptake:
            self._wait_for_offer(i, now)  # families who would decline are never offered
        if self.scenario.assessment.capacity_model == "servers" and self.free_servers:
            self._serve(now)

    def _valid(self, i: int, now: float) -> bool:
        return self.stage[i] == _LIST and not self._gone(i, now)

    def _next_child(self, now: float) -> int | None:
        """The next child to assess under the queue discipline, skipping those who have left."""
        if self.priority:
            for rule in self.rule_order:
                if rule == "near_18":
                    heap = self.birthday_heap
                    while heap and heap[0][0] - now <= self.near_18_days:
                        _, i = heapq.heappop(heap)
                        if self._valid(i, now):
                            self._taken_from = rule
                            return i
                else:
                    queue = self.queues[rule]
                    while queue:
                        i = queue.popleft()
                        if self._valid(i, now):
                            self._taken_from = rule
                            return i
        queue = self.queues["routine"]
        while queue:
            i = queue.popleft()
            if self._valid(i, now):
                self._taken_from = "routine"
                return i
        return None

    def _put_back(self, held: list[tuple[str, int]]) -> None:
        """Return children taken by :meth:`_next_child` but not started to their places."""
        for source, i in reversed(held):
            if source == "near_18":
                heapq.heappush(self.birthday_heap, (self.birthday[i], i))
            else:
                self.queues[source].appendleft(i)

    def _start_assessment(self, i: int, now: float, provider: int, ends: bool = True) -> float:
        """Log the start (and the end, if within the horizon and ``ends``: a recipe in sequence
        ends when its last part is done); return the elapsed days."""
        c = self.c
        if self.in_support[i]:
            self._end_support(i, now, _D["assessed"])
        self.stage[i] = _ASSESSED
        self.log.add(now, i, _E["assessment_start"], provider)
        if self.scenario.assessment.capacity_model == "servers":
            elapsed = float(c.service_days[i])
        else:
            elapsed = float(c.elapsed_days[i])
        if ends:
            self._end_assessment(i, now + elapsed)
        return elapsed

    def _end_assessment(self, i: int, end: float) -> None:
        """Log the outcome at ``end`` (if within the horizon) and start any follow-up then."""
        if end <= self.horizon:
            self.log.add(end, i, _E["assessment_end"], self._outcome_detail[i])
            if self.follow_up_on:
                self._start_follow_up(i, end)

    def _clinic_sessions(self):  # type: ignore[no-untyped-def]
        """Process: each session adds the MDT's clinical hours and pulls children while hours remain.

        A session at ``now`` grants the clinical hours of ``[now, min(now + interval, horizon))``
        (integrated exactly over staffing changes and their ramps), so the last session before the
        horizon grants only the hours up to it. Children are started while the budget is positive;
        the last one may overdraw it, and the deficit is carried to the next session.
        """
        a, env, c = self.scenario.assessment, self.env, self.c
        interval = a.session_interval_days
        budget = 0.0
        while True:
            now = env.now
            hours = self.clinical_hours_between(now, min(now + interval, self.horizon))
            budget += hours
            while budget > 0:
                i = self._next_child(now)
                if i is None:
                    break
                budget -= c.assess_hours[i]
                self._start_assessment(i, now, _D["nhs"])
            lost = 0.0
            if budget > 0:
                lost, budget = budget, 0.0  # clinical hours with nobody waiting are not banked
            # hours of this session spent on assessment; a deficit is carried to the next session
            self.capacity_rows.append((now, "assessment", hours, hours - lost))
            yield env.timeout(interval)

    def _wte_at(self, t: np.ndarray, upto: dict[str, int] | None = None) -> dict[str, np.ndarray]:
        """Each profession's WTE at times ``t``: changes in list order, each ramping linearly from
        its date and the running total never below zero.

        ``upto`` (finding where the clipping bites): for a profession, apply only its first ``upto[name]``
        changes and leave the last of them unclipped.
        """
        a = self.scenario.assessment
        wte = {p.name: np.full(t.shape, p.wte) for p in a.professions}
        seen = dict.fromkeys(wte, 0)
        for change, change_day in zip(a.staffing_changes, self._change_days):
            name = change.profession
            seen[name] += 1
            limit = None if upto is None else upto.get(name)
            if limit is not None and seen[name] > limit:
                continue
            since = t - change_day
            if change.ramp_weeks == 0:
                ramp = (since > 0).astype(float)
            else:
                with np.errstate(over="ignore"):  # a ramp of a few seconds: a step, by the clip
                    ramp = np.clip(since / (7.0 * change.ramp_weeks), 0.0, 1.0)
            total = wte[name] + change.wte_change * ramp
            wte[name] = total if limit is not None and seen[name] == limit else np.maximum(total, 0.0)
        return wte

    def _hours_per_week(self, t: np.ndarray) -> np.ndarray:
        """Clinical hours per week at times ``t``: the scenario's rule, which is linear in WTE."""
        a = self.scenario.assessment
        names = [p.name for p in a.professions]
        wte = self._wte_at(t)
        total = np.zeros(t.shape)
        for name in names:
            total += wte[name] * a.clinical_hours_per_week({m: float(m == name) for m in names})
        return total

    def _hours_knots(self) -> np.ndarray:
        """Times between which the clinical hours per week are linear: 0, the horizon, each change
        date and ramp end, and each time a profession's running WTE total crosses zero."""
        a, horizon = self.scenario.assessment, self.horizon
        knots = {0.0, horizon}
        for change, day in zip(a.staffing_changes, self._change_days):
            for t in (day, day + 7.0 * change.ramp_weeks):
                if 0.0 < t < horizon:
                    knots.add(float(t))
        points = np.array(sorted(knots))
        counts: dict[str, int] = {}
        for change in a.staffing_changes:
            counts[change.profession] = counts.get(change.profession, 0) + 1
        for name, n in counts.items():
            for j in range(1, n + 1):
                # the total after this profession's j-th change, before clipping, is linear between
                # the points so far (earlier crossings are among them): find where it crosses zero
                # from its one-sided limits (a change with no ramp steps at its date, a knot)
                lo, hi = points[:-1], points[1:]
                g1 = self._wte_at(lo + (hi - lo) / 4, {name: j})[name]
                g2 = self._wte_at(lo + 3 * (hi - lo) / 4, {name: j})[name]
                left, right = g1 - (g2 - g1) / 2, g2 + (g2 - g1) / 2
                cross = left * right < 0
                roots = lo[cross] + (hi - lo)[cross] * left[cross] / (left[cross] - right[cross])
                points = np.union1d(points, roots)
        return points

    def clinical_hours_between(self, t0: float, t1: float) -> float:
        """Clinical hours the MDT gives to assessment in ``[t0, t1]`` (days), integrated exactly.

        The hours per week are linear between :meth:`_hours_knots`, so each piece integrates
        exactly; the pieces are built once, and each call is a search and a little arithmetic
        (sessions much shorter than a week call it often).
        """
        if t1 <= t0:
            return 0.0
        if self._knots is None:
            knots = self._hours_knots()
            low, high = knots[:-1], knots[1:]
            hours = self._hours_per_week
            # per piece, hours a day = level + slope * (t - low), from two interior points (a
            # change with no ramp steps at a knot, so the knots themselves are not evaluated)
            q1 = hours(low + (high - low) / 4) / 7.0
            q3 = hours(low + 3 * (high - low) / 4) / 7.0
            slope = (q3 - q1) / ((high - low) / 2)
            level = q1 - slope * (high - low) / 4
            width = high - low
            self._knots = knots.tolist()
            self._pieces = list(zip(level.tolist(), slope.tolist()))
            self._cum_hours = np.concatenate([[0.0], np.cumsum(width * (level + slope * width / 2))]).tolist()
        if len(self._pieces) == 1 and self._pieces[0][1] == 0.0:  # no staffing change: a constant
            return self._pieces[0][0] * (min(t1, self._knots[-1]) - max(t0, 0.0))
        return self._cumulative_hours(t1) - self._cumulative_hours(t0)

    def _cumulative_hours(self, t: float) -> float:
        knots = self._knots
        assert knots is not None
        t = min(max(t, 0.0), knots[-1])
        k = min(bisect.bisect_right(knots, t) - 1, len(knots) - 2)
        level, slope = self._pieces[k]
        x = t - knots[k]
        return self._cum_hours[k] + x * (level + slope * x / 2)

    # -- capacity by profession and post-diagnostic follow-up (issue 12) ---------------------

    def _setup_team(self) -> None:
        """The hour pools sessions draw on and each pathway's recipe as stages of parts.

        ``by_profession``: one pool per profession; a stage is a list of ``(pool, column of
        recipe_hours)`` needed together, and a pathway's stages follow one another. The pooled
        model with follow-up on runs the same sessions with one pool (the team) and one stage
        of the child's ``hours_per_assessment``.
        """
        sc = self.scenario
        a, fu = sc.assessment, sc.follow_up
        self.follow_up_on = fu.enabled
        self.by_profession = a.capacity_model == "by_profession"
        self.team_sessions = self.by_profession or (fu.enabled and a.capacity_model == "clinical_hours")
        names = [p.name for p in a.professions]
        self.pool_names = names if self.by_profession else ["team"]
        pool = {n: k for k, n in enumerate(self.pool_names)}
        if self.by_profession:
            columns = {(r, n): k for k, (r, n, _) in enumerate(recipe_parts(sc))}
            recipes = a.recipes

            def stages(recipe_name: str) -> list[list[tuple[int, int]]]:
                recipe = getattr(recipes, recipe_name)
                parts = [(pool[n], columns[(recipe_name, n)]) for n in recipe.hours]
                return [parts] if recipe.mode == "joint" else [[part] for part in parts]

            if recipes.both is not None:
                both = stages("both")
            elif recipes.both_assessed == "together":  # one joint appointment, hours added
                both = [[part for stage in stages("autism") + stages("adhd") for part in stage]]
            else:  # the autism assessment, then the ADHD one
                both = stages("autism") + stages("adhd")
            self.stages = [stages("autism"), stages("adhd"), both]
        else:
            self.stages = [[[(0, -1)]]] * 3  # column -1: the child's hours_per_assessment
        self.in_progress: list[tuple[int, int]] = []  # (child, next stage) of recipes in sequence
        # follow-up: appointments (time, order, child, kind, appointments done) and their hours
        # by pool; kinds 0 titration, 1 review, 2 autism
        self.follow_up_heap: list[tuple[float, int, int, int, int]] = []
        self._follow_up_order = 0
        self.follow_up_end: dict[int, float] = {}  # child -> when their follow-up ends
        self.follow_up_hours = np.zeros((3, len(self.pool_names)))
        for kind, table in enumerate((fu.titration_hours, fu.review_hours, fu.autism_hours)):
            for name, hours in table.items():
                self.follow_up_hours[kind, pool.get(name, 0)] += hours
        self.follow_up_unmet = 0.0

    def _pool_hours(self, k: int, t0: float, t1: float) -> float:
        """Clinical hours of pool ``k`` in ``[t0, t1]``: a profession's, or the team's."""
        if not self.by_profession:
            return self.clinical_hours_between(t0, t1)
        return self._profession_hours_between(self.pool_names[k], t0, t1)

    def _profession_hours_between(self, name: str, t0: float, t1: float) -> float:
        """:meth:`clinical_hours_between` for one profession (its WTE is linear between the
        same knots, so each piece integrates exactly)."""
        if t1 <= t0:
            return 0.0
        cache = self.__dict__.setdefault("_profession_pieces", {})
        if name not in cache:
            knots = self._hours_knots()
            low, high = knots[:-1], knots[1:]
            per_wte = self.scenario.assessment.profession_hours_per_week(name)

            def hours(t: np.ndarray) -> np.ndarray:
                return self._wte_at(t)[name] * per_wte

            q1 = hours(low + (high - low) / 4) / 7.0
            q3 = hours(low + 3 * (high - low) / 4) / 7.0
            slope = (q3 - q1) / ((high - low) / 2)
            level = q1 - slope * (high - low) / 4
            width = high - low
            cum = np.concatenate([[0.0], np.cumsum(width * (level + slope * width / 2))])
            cache[name] = (knots.tolist(), list(zip(level.tolist(), slope.tolist())), cum.tolist())
        knots, pieces, cum = cache[name]

        def upto(t: float) -> float:
            t = min(max(t, 0.0), knots[-1])
            k = min(bisect.bisect_right(knots, t) - 1, len(knots) - 2)
            level, slope = pieces[k]
            x = t - knots[k]
            return cum[k] + x * (level + slope * x / 2)

        return upto(t1) - upto(t0)

    def _part_hours(self, i: int, column: int) -> float:
        return float(self.c.assess_hours[i] if column < 0 else self.c.recipe_hours[i, column])

    def _team_sessions(self):  # type: ignore[no-untyped-def]
        """Process: each session adds every pool's clinical hours for ``[now, now + interval)``,
        charges the follow-up appointments due in it (first, or after new assessments), carries
        on assessments whose recipe is in sequence, then starts new ones.

        A child starts when every profession in the first stage of their pathway's recipe has
        hours left; one who cannot keeps their place and the session goes on to the next child
        whose recipe can start (a booking team filling the clinics it has), until no pathway can.
        Hours left in a pool at the end of a session are not banked; a pool overdrawn by the
        last child it took carries the deficit to the next session.
        """
        a, env = self.scenario.assessment, self.env
        fu = self.scenario.follow_up
        interval = a.session_interval_days
        pools = len(self.pool_names)
        budget = np.zeros(pools)
        first = fu.priority == "follow_up_first"
        while True:
            now = env.now
            end = min(now + interval, self.horizon)
            hours = np.array([self._pool_hours(k, now, end) for k in range(pools)])
            budget += hours
            due = self._follow_up_due(now, end) if self.follow_up_on else np.zeros(pools)
            if first:
                charged = due
                budget -= due
            if self.in_progress:
                self._continue_assessments(now, budget)
            self._start_new(now, budget)
            if not first:
                charged = np.minimum(due, np.maximum(budget, 0.0))
                budget -= charged
                self.follow_up_unmet += float((due - charged).sum())
            lost = np.maximum(budget, 0.0)  # hours with nobody (who fits) waiting: not banked
            budget = np.minimum(budget, 0.0)
            used = hours - lost
            rows = self.capacity_rows
            rows.append((now, "assessment", float(hours.sum()), float(used.sum())))
            for k, name in enumerate(self.pool_names):
                rows.append((now, f"profession:{name}", float(hours[k]), float(used[k])))
                if self.follow_up_on:
                    rows.append((now, f"follow_up:{name}", float(due[k]), float(charged[k])))
            yield env.timeout(interval)

    def _fits(self, stage: list[tuple[int, int]], budget: list[float]) -> bool:
        for k, _ in stage:
            if not budget[k] > 0:
                return False
        return True

    def _charge(self, i: int, stage: list[tuple[int, int]], budget: list[float]) -> None:
        for k, column in stage:
            budget[k] -= self._part_hours(i, column)

    def _start_new(self, now: float, budget: np.ndarray) -> None:
        """Start children from the list while a pathway's first stage has the hours."""
        c, stages, fits = self.c, self.stages, self._fits
        hours = budget.tolist()  # plain floats while children are charged: the same arithmetic
        firsts = [stages[p][0] for p in range(3)]
        present = self.pathways_present
        blocked = [p not in present or not fits(firsts[p], hours) for p in range(3)]
        held: list[tuple[str, int]] = []
        while not (blocked[0] and blocked[1] and blocked[2]):
            i = self._next_child(now)
            if i is None:
                break
            p = int(c.pathway[i])
            if blocked[p]:
                held.append((self._taken_from, i))
                continue
            recipe = stages[p]
            self._charge(i, recipe[0], hours)
            self._start_assessment(i, now, _D["nhs"], ends=len(recipe) == 1)
            if len(recipe) > 1:
                self.in_progress.append((i, 1))
            for q in range(3):
                if not blocked[q] and not fits(firsts[q], hours):
                    blocked[q] = True
        if held:
            self._put_back(held)
        budget[:] = hours

    def _continue_assessments(self, now: float, budget: np.ndarray) -> None:
        """Recipes in sequence: the next part of each assessment under way (in the order they
        reached it) when its professions have hours; the last part done, the outcome follows
        ``elapsed_weeks`` later. Parts started this session continue from the next."""
        waiting: list[tuple[int, int]] = []
        hours = budget.tolist()
        for i, k in self.in_progress:
            recipe = self.stages[int(self.c.pathway[i])]
            if not self._fits(recipe[k], hours):
                waiting.append((i, k))
                continue
            self._charge(i, recipe[k], hours)
            if k + 1 < len(recipe):
                waiting.append((i, k + 1))
            else:
                self._end_assessment(i, now + float(self.c.elapsed_days[i]))
        self.in_progress = waiting
        budget[:] = hours

    def _start_follow_up(self, i: int, diagnosed: float) -> None:
        """After a diagnosis at ``diagnosed``: medication follow-up (ADHD) or appointments
        (autism), for the share the scenario gives; the end is logged when it falls in the
        horizon."""
        fu, outcome = self.scenario.follow_up, int(self.outcome[i])
        u = float(self.c.follow_up_u[i])
        if outcome == 1 and u < fu.medication_share:
            hazard = fu.discharge_per_year / DAYS_PER_YEAR
            discharge = diagnosed + (float(self.c.discharge_e[i]) / hazard if hazard > 0 else math.inf)
            adult = float(self.birthday[i]) if self.scenario.leaving.age_out else math.inf
            finish, why = (discharge, "discharged") if discharge < adult else (adult, "aged_out")
            if finish <= diagnosed:
                return
            kind = 0 if fu.titration_appointments > 0 else 1
            first = diagnosed if kind == 0 else diagnosed + fu.review_interval_months * DAYS_PER_YEAR / 12
            detail = "adhd"
        elif outcome == 0 and u < fu.autism_share and fu.autism_appointments > 0:
            kind, first, detail = 2, diagnosed, "autism"
            finish = diagnosed + (fu.autism_appointments - 1) * 7.0 * fu.autism_interval_weeks
            why = "completed"
        else:
            return
        self.log.add(diagnosed, i, _E["follow_up_start"], _D[detail])
        if finish <= self.horizon:
            self.log.add(finish, i, _E["follow_up_end"], _D[why])
        self.follow_up_end[i] = finish
        self._book(first, i, kind, 0)

    def _book(self, t: float, i: int, kind: int, done: int) -> None:
        if t < self.horizon and (t < self.follow_up_end[i] or (kind == 2 and t <= self.follow_up_end[i])):
            self._follow_up_order += 1
            heapq.heappush(self.follow_up_heap, (t, self._follow_up_order, i, kind, done))

    def _follow_up_due(self, now: float, end: float) -> np.ndarray:
        """Hours by pool of the follow-up appointments in ``[now, end)`` (booking the next of
        each), plus the starting caseload's reviews in that time."""
        fu, heap = self.scenario.follow_up, self.follow_up_heap
        due = np.zeros(len(self.pool_names))
        review_days = fu.review_interval_months * DAYS_PER_YEAR / 12
        while heap and heap[0][0] < end:
            t, _, i, kind, done = heapq.heappop(heap)
            due += self.follow_up_hours[kind]
            if kind == 0:
                if done + 1 < fu.titration_appointments:
                    self._book(t + 7.0 * fu.titration_interval_weeks, i, 0, done + 1)
                else:
                    self._book(t + review_days, i, 1, 0)
            elif kind == 1:
                self._book(t + review_days, i, 1, done + 1)
            elif done + 1 < fu.autism_appointments:
                self._book(t + 7.0 * fu.autism_interval_weeks, i, 2, done + 1)
        if fu.initial_caseload:
            # expected reviews of the starting caseload: N e^{-rt} children, one review each
            # review interval, integrated over the session
            rate = (fu.discharge_per_year + 1.0 / fu.initial_caseload_years_to_18) / DAYS_PER_YEAR
            children_days = fu.initial_caseload * (math.exp(-rate * now) - math.exp(-rate * end)) / rate
            due += self.follow_up_hours[1] * children_days / review_days
        return due

    def _serve(self, now: float) -> None:
        """Servers mode: start as many children as there are free servers."""
        while self.free_servers:
            i = self._next_child(now)
            if i is None:
                return
            self.free_servers -= 1
            elapsed = self._start_assessment(i, now, _D["nhs"])
            busy = min(elapsed, self.horizon - now)
            self.capacity_rows.append((now, "assessment", 0.0, busy))
            self.env.timeout(elapsed).callbacks.append(self._server_free)

    def _server_free(self, event: simpy.Event) -> None:
        self.free_servers += 1
        self._serve(self.env.now)

    def _outsourced(self, block_index: int):  # type: ignore[no-untyped-def]
        """Process: a block of outsourced assessments, spread evenly over its dates."""
        block = self.scenario.assessment.outsourced[block_index]
        start = pd.Timestamp(self.scenario.simulation.start_date)
        first = (pd.Timestamp(block.start_date) - start) / pd.Timedelta(days=1)
        last = (pd.Timestamp(block.end_date) - start) / pd.Timedelta(days=1)
        env = self.env
        # a block that began before the start date used its places for those days already
        done = round(block.assessments * min(1.0, max(0.0, -first) / (last - first)))
        t = first
        while True:
            if t >= 0:
                if t > env.now:
                    yield env.timeout(t - env.now)
                target = round(block.assessments * min(1.0, (t - first) / (last - first)))
                while done < target:
                    i = self._next_child(env.now)
                    if i is None:
                        break
                    self._start_assessment(i, env.now, _D["outsourced"])
                    self.outsourced_starts[block_index] += 1
                    done += 1
                done = max(done, target)  # places unused for want of children are lost
            if t >= last:
                return
            t = min(t + WORKING_SESSION_DAYS, last)

    # -- run -------------------------------------------------------------------------------------

    def run(self) -> SimulationResult:
        """Run to the horizon and return the event log and tables."""
        sc, c, log = self.scenario, self.c, self.log
        self._outcome_cdf = np.cumsum(list(sc.assessment.outcome.as_dict().values()))
        self._outcome_cdf[-1] = 1.0 + 1e-12
        # every child's outcome code at once (one vectorised search, not one per assessment)
        outcome = np.minimum(np.searchsorted(self._outcome_cdf, c.outcome_u, side="right"), 3)
        self.outcome = outcome.astype(np.int64)  # the latent outcome: what an assessment would find
        self._outcome_detail: list[int] = np.array([_D[name] for name in OUTCOMES])[outcome].tolist()
        # pathways that can reach the list (re-referrals keep theirs): the others never block
        self.pathways_present = set(np.unique(c.pathway).tolist())
        backlog = np.flatnonzero(c.backlog)
        log.extend(c.referral[backlog], backlog, _E["referral"], _D["backlog"])
        if self.fast_paths and self._single_fifo_servers_queue():
            self._run_fifo_servers(backlog)
        else:
            self._run_events(backlog)
        self._finish()
        c = self.c  # rows re-referrals added, unused ones dropped
        children = pd.DataFrame({
            "child": np.arange(c.n),
            "referral_day": c.referral,
            "backlog": c.backlog,
            "pathway": pd.Categorical.from_codes(c.pathway, PATHWAYS),
            "priority": pd.Categorical.from_codes(c.urgent.astype(np.int8), PRIORITIES),
            "looked_after_or_cin": c.looked_after,
            "deprivation_quintile": c.quintile.astype(np.int8),
            "age_at_referral": c.age,
            # issue 11: who the child is across referrals, what an assessment would find, where
            "child_id": c.origin,
            "rereferral": c.rereferral,
            "latent_outcome": pd.Categorical.from_codes(self.outcome.astype(np.int8), OUTCOMES),
        })
        if sc.localities.names:
            children["locality"] = pd.Categorical.from_codes(c.locality.astype(np.int8),
                                                             sc.localities.names)
        capacity = pd.DataFrame(self.capacity_rows,
                                columns=["time_days", "stage", "hours_available", "hours_used"])
        return SimulationResult(sc, self.replication, self.seed, log.to_frame(), children,
                                capacity, self.months, tuple(self.outsourced_starts))

    def _run_events(self, backlog: np.ndarray) -> None:
        """The general path: SimPy processes for the feed, the sessions and the servers."""
        sc, env = self.scenario, self.env
        intake = None
        if self.fast_paths and sc.assessment.capacity_model != "servers":
            intake = _Intake(self, backlog, np.zeros(len(backlog)), vetted=False, profiling=False)
        if intake is not None and intake.possible:
            intake.take(0, len(backlog))
        else:
            for i in backlog.tolist():  # oldest first: their order on the list
                if not self._gone(i, 0.0):
                    if self.return_rates:
                        self._watch_withdrawal(i, 0.0)
                    self._join_list(i, 0.0)
        processes = [self._feed()]
        if sc.profiling.enabled:
            processes.append(self._profiling_sessions())
        if sc.support.enabled:
            processes.append(self._support_sessions())
        if self.team_sessions:
            processes.append(self._team_sessions())
        elif sc.assessment.capacity_model == "clinical_hours":
            processes.append(self._clinic_sessions())
        else:
            self.capacity_rows.append((0.0, "assessment", float(sc.assessment.servers * self.horizon), 0.0))
            self._serve(0.0)
        processes.extend(self._outsourced(k) for k in range(len(sc.assessment.outsourced)))
        for process in processes:
            env.process(process)
        env.run(until=self.horizon)
        # The sessions are still waiting on events in the queue at the horizon, and their frames
        # hold this model: a reference cycle through the environment that keeps the log and the
        # children's arrays alive until a full garbage collection, so a worker running many
        # replications grew by megabytes each. Closing the generators breaks the cycle.
        for process in processes:
            process.close()
        self._keep_used_rows()

    def _keep_used_rows(self) -> None:
        """Drop the re-referral rows drawn but not used (every per-child array)."""
        n = self.n_used
        if n == self.c.n:
            return
        self.c.truncate(n)
        for name in ("stage", "supported", "exit_time", "exit_reason", "offer_joined",
                     "in_support", "support_kind", "episode_end", "birthday", "outcome"):
            setattr(self, name, getattr(self, name)[:n])

    def _single_fifo_servers_queue(self) -> bool:
        """True when the run is one first-come-first-served queue with identical servers."""
        sc = self.scenario
        return (sc.assessment.capacity_model == "servers" and sc.assessment.discipline == "fifo"
                and not sc.profiling.enabled and not sc.support.enabled
                and not sc.assessment.outsourced and not self.return_rates)

    def _run_fifo_servers(self, backlog: np.ndarray) -> None:
        """Exact event-free path for a single FIFO queue with identical servers.

        Under first come first served each child, in list order, takes the earliest free server
        (the Kiefer-Wolfowitz recursion): start = max(joined, earliest free), so no events are
        needed. A child whose exit time has passed by then leaves, as in the lazy removal of the
        event path. The floats, the log and the capacity ledger are the same as the SimPy path's
        (``tests/test_fast_path.py`` checks it on the same random numbers); this path only saves
        SimPy's event overhead, which dominates the textbook reductions.
        """
        sc, c, log, horizon = self.scenario, self.c, self.log, self.horizon
        vetting = sc.vetting
        exit_time = self.exit_time.tolist()
        exit_reason = self.exit_reason.tolist()
        service = c.service_days.tolist()
        outcome_detail = self._outcome_detail
        free = [0.0] * sc.assessment.servers  # heap: when each server is next free
        capacity = self.capacity_rows
        # the log's rows, column by column (appending to lists is the cheapest way in CPython)
        times: list[float] = []
        who: list[int] = []
        events: list[int] = []
        details: list[int] = []
        at, ch, ev, de = times.append, who.append, events.append, details.append

        def add(time: float, i: int, event: int, detail: int) -> None:
            at(time)
            ch(i)
            ev(event)
            de(detail)

        def flush() -> None:
            log.add_columns(times, who, events, details)
            for column in (times, who, events, details):
                column.clear()
        joined: list[int] = []
        started: list[int] = []
        exited: list[int] = []
        e_join, e_start, e_end, e_exit, e_vet = (_E["list_join"], _E["assessment_start"],
                                                 _E["assessment_end"], _E["exit"], _E["vetted"])
        nhs = _D["nhs"]
        heapreplace = heapq.heapreplace

        def take(i: int, joined_at: float) -> None:
            start = free[0]
            if start < joined_at:
                start = joined_at
            if start >= horizon:  # no server frees before the horizon: stays on the list
                return
            if exit_time[i] <= start:  # left while waiting: found gone when reached
                add(exit_time[i], i, e_exit, exit_reason[i])
                exited.append(i)
                return
            elapsed = service[i]
            heapreplace(free, start + elapsed)
            add(start, i, e_start, nhs)
            end = start + elapsed
            if end <= horizon:
                add(end, i, e_end, outcome_detail[i])
            capacity.append((start, "assessment", 0.0, min(elapsed, horizon - start)))
            started.append(i)

        # the same order of log rows and ledger entries as the event path: the backlog joins at
        # time 0 and takes the free servers at once; the rest of it waits for servers to free
        servers = sc.assessment.servers
        waiting_backlog: list[int] = []
        for i in backlog.tolist():  # oldest first: their order on the list
            if exit_time[i] <= 0.0:
                add(exit_time[i], i, e_exit, exit_reason[i])
                exited.append(i)
                continue
            add(0.0, i, e_join, 0)
            joined.append(i)
            if len(started) < servers:
                take(i, 0.0)
            else:
                waiting_backlog.append(i)
        capacity.append((0.0, "assessment", float(servers * horizon), 0.0))
        flush()
        new = np.flatnonzero(~c.backlog)
        log.extend(c.referral[new], new, _E["referral"],
                   np.where(c.rereferral[new], _D["rereferral"], _D["new"]))
        for i in waiting_backlog:
            take(i, 0.0)
        ready = c.referral[new] + (c.vet_delay[new] if vetting.enabled else 0.0)
        order = np.argsort(ready, kind="stable")
        accept_u = c.vet_accept_u.tolist()
        rejected, accepted = _D["rejected"], _D["accepted"]
        for i, t in zip(new[order].tolist(), ready[order].tolist()):
            if t >= horizon:
                break
            if vetting.enabled:
                if accept_u[i] >= vetting.accept_probability:
                    add(t, i, e_exit, rejected)
                    exited.append(i)
                    continue
                add(t, i, e_vet, accepted)
            if exit_time[i] <= t:
                add(exit_time[i], i, e_exit, exit_reason[i])
                exited.append(i)
                continue
            add(t, i, e_join, 0)
            joined.append(i)
            take(i, t)
        flush()
        self.stage[joined] = _LIST
        self.stage[started] = _ASSESSED
        self.stage[exited] = _EXITED

    def _finish(self) -> None:
        """Log the exits that fell due before the horizon and escalations while waiting."""
        c, horizon = self.c, self.horizon
        waiting = np.flatnonzero((self.stage == _LIST) | (self.stage == _PROFILING))
        self._exit_all(waiting[self.exit_time[waiting] <= horizon])
        self._release_support(horizon)  # episodes that ran their length by the horizon
        if self.scenario.escalation.enabled:
            self._escalations()

    def _exit_all(self, due: np.ndarray) -> None:
        """:meth:`_exit` for each child in ``due`` in turn, at their exit times, once the run
        has stopped: the same rows in the same order (each exit, then the end of the support it
        cuts short), as arrays. A return it would schedule falls after the run, so none is."""
        if not len(due):
            return
        time = self.exit_time[due]
        supported = self.in_support[due]
        # each child's rows: the exit, then (if supported) the support's end, both at its exit
        rows = np.column_stack([np.ones(len(due), dtype=bool), supported]).ravel()
        self.log.add_block(np.repeat(time, 2)[rows], np.repeat(due.astype(np.int64), 2)[rows],
                           np.tile(np.array([_E["exit"], _E["support_end"]], dtype=np.int8),
                                   len(due))[rows],
                           np.column_stack([self.exit_reason[due].astype(np.int8),
                                            np.full(len(due), _D["left"], dtype=np.int8)]
                                           ).ravel()[rows])
        self.stage[due] = _EXITED
        ended = due[supported]
        self.in_support[ended] = False
        self.caseload -= int((self.support_kind[ended] == _D["support_while_waiting"]).sum())

    def _escalations(self) -> None:
        """Escalations: a Poisson process while waiting, at a lower rate while supported.

        A child is exposed from referral (day 0 for the backlog) until assessment starts, they
        leave, or the horizon; within that, at ``support_risk_ratio`` times the rate between
        ``support_start`` and ``support_end`` and at the full rate before and after. The count
        is the inverse Poisson CDF of the child's own uniform (common random numbers: less
        exposure, never more events); the times are placed by inverting the cumulative hazard.
        """
        esc = self.scenario.escalation
        # (a child starts, leaves, starts support and ends it at most once: row order is moot)
        time, child, event, _ = self.log.columns()
        n = self.c.n
        start = np.maximum(self.c.referral, 0.0)
        end = np.full(n, self.horizon)
        for code in (_E["assessment_start"], _E["exit"]):
            rows = event == code
            end[child[rows]] = np.minimum(end[child[rows]], time[rows])
        support_on = np.full(n, np.inf)
        rows = event == _E["support_start"]
        support_on[child[rows]] = time[rows]
        support_off = np.full(n, np.inf)  # still supported at the horizon
        rows = event == _E["support_end"]
        support_off[child[rows]] = time[rows]
        referred = start < self.horizon
        end = np.maximum(end, start)
        rate_u = esc.unsupported_per_year / DAYS_PER_YEAR
        rate_s = rate_u * esc.support_risk_ratio
        on = np.clip(support_on, start, end)
        off = np.clip(support_off, on, end)
        h_before = np.where(referred, rate_u * (on - start), 0.0)
        h_during = np.where(referred, rate_s * (off - on), 0.0)
        h_after = np.where(referred, rate_u * (end - off), 0.0)
        hazard = h_before + h_during + h_after
        counts = poisson_ppf(self.c.escalation_u, hazard)
        who = np.repeat(np.arange(n), counts)
        if not len(who):
            return
        # place each event by inverting the piecewise-linear cumulative hazard
        target = self.streams["escalation"].random(len(who)) * hazard[who]
        h1, h2 = h_before[who], h_before[who] + h_during[who]
        times = np.where(
            target < h1, start[who] + target / max(rate_u, 1e-300),
            np.where(target < h2, on[who] + (target - h1) / max(rate_s, 1e-300),
                     off[who] + (target - h2) / max(rate_u, 1e-300)))
        self.log.extend(np.minimum(times, end[who]), who, _E["escalation"], 0)


def simulate(scenario: Scenario, replication: int = 0, seed: int | None = None) -> SimulationResult:
    """Run one replication of ``scenario`` exactly as given (base seed from the scenario unless
    ``seed`` is given).

    The engine runs one concrete scenario: parameter uncertainty is drawn above it, before the
    replication starts (:func:`model.uncertainty.simulate_replication` draws, then calls this).
    """
    base = scenario.simulation.seed if seed is None else seed
    return PathwayModel(scenario, replication, base).run()
