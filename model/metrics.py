"""Metrics: pure functions of one replication's event log, and summaries across replications.

Metric names are stable (DESIGN.md section 3); display labels live in :mod:`model.labels`.
Percentages are on a 0-100 scale; waits are in weeks.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import special

from .costs import costs
from .names import SCALAR_METRICS  # stdlib-only, so the CLI parser reads it cheaply
from .pathway import SimulationResult

WEEK = 7.0
THIRTEEN_WEEKS = 13 * WEEK

MONTHLY_METRICS = (
    "waiting_list",
    "profiling_queue",
    "vetting_queue",
    "waiting_total",
    "referrals",
    "assessments_started",
    "assessments_completed",
    "list_wait_weeks_p50",
    "list_wait_weeks_p92",
    "pct_waiting_over_13w",
    "waiting_over_52w",
    "pct_referrals_assessed_within_13w",
    "wait_of_those_assessed_weeks_p50",
    "pct_of_those_assessed_within_13w",
    "list_wait_0_13w",
    "list_wait_13_52w",
    "list_wait_52_104w",
    "list_wait_104w_plus",
    "support_starts",
    "escalations",
    "re_referrals",
)
"""Monthly series (value at month end for sizes and list-based waits, count in the month for
flows; ``pct_referrals_assessed_within_13w`` is by *referral* month, null for the months whose
referrals have not all had 13 weeks by the horizon)."""

WAIT_BANDS = (("list_wait_0_13w", 0, 13), ("list_wait_13_52w", 13, 52),
              ("list_wait_52_104w", 52, 104), ("list_wait_104w_plus", 104, math.inf))


@dataclass(frozen=True)
class ChildTimes:
    """First time of each event per child (NaN if it never happened), from the log."""

    referral: np.ndarray
    backlog: np.ndarray
    vetting_leave: np.ndarray
    """When a new referral left vetting (accepted, rejected, or went straight on); NaN for the
    backlog, who start on the list."""
    list_join: np.ndarray
    list_leave: np.ndarray
    profiling_join: np.ndarray
    profiling_leave: np.ndarray
    assessment_start: np.ndarray
    assessment_end: np.ndarray
    exit: np.ndarray
    exit_reason: np.ndarray
    first_support: np.ndarray


@dataclass(frozen=True)
class _LogArrays:
    """The event log's columns as numpy arrays, ``event`` and ``detail`` as integer codes (-1 for
    a missing value), and the log's rows grouped by event. Read once per replication: every
    count and first time is then a look-up of one event's rows, not a pandas mask over the
    whole log."""

    time: np.ndarray
    child: np.ndarray
    event: np.ndarray
    detail: np.ndarray
    event_codes: dict[str, int]
    detail_codes: dict[str, int]
    detail_names: np.ndarray
    """The detail names by code, as Python strings (an object array)."""
    by_event: np.ndarray
    """The log's rows sorted by event code, stably (so in log order within an event)."""
    event_starts: np.ndarray
    """``by_event[event_starts[e]:event_starts[e + 1]]`` are the rows of event code ``e``."""

    def rows(self, name: str, *details: str) -> np.ndarray:
        """The log rows (in log order) of event ``name``, only those with one of ``details`` if
        any are given."""
        code = self.event_codes.get(name)
        if code is None:
            return np.zeros(0, dtype=np.intp)
        rows = self.by_event[self.event_starts[code]:self.event_starts[code + 1]]
        return rows[self.detail_table(*details)[self.detail[rows]]] if details else rows

    def detail_table(self, *names: str) -> np.ndarray:
        """True at the codes of ``names``, indexed by a detail code; the last entry (code -1,
        a missing detail) is False."""
        table = np.zeros(len(self.detail_codes) + 1, dtype=bool)
        table[[self.detail_codes[name] for name in names if name in self.detail_codes]] = True
        return table


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a column and the names they stand for (-1: missing)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), list(column.cat.categories)
    codes, names = pd.factorize(column)
    return codes, list(names)


def _log_arrays(result: SimulationResult) -> _LogArrays:
    ev = result.events
    event, events = _codes(ev["event"])
    detail, details = _codes(ev["detail"])
    by_event = np.argsort(event, kind="stable")
    # rows with a missing event (code -1) sort first and belong to no event
    event_starts = np.searchsorted(event[by_event], np.arange(len(events) + 1), side="left")
    return _LogArrays(
        time=ev["time_days"].to_numpy(), child=ev["child"].to_numpy(), event=event, detail=detail,
        event_codes={name: k for k, name in enumerate(events)},
        detail_codes={name: k for k, name in enumerate(details)},
        detail_names=np.asarray(details, dtype=object), by_event=by_event,
        event_starts=event_starts)


def _child_times(result: SimulationResult, log: _LogArrays) -> ChildTimes:
    n = len(result.children)

    def first(name: str) -> np.ndarray:
        rows = log.rows(name)
        out = np.full(n, np.nan)
        # the log is sorted by time: assigning in reverse leaves each child's first time
        out[log.child[rows][::-1]] = log.time[rows][::-1]
        return out

    exits = log.rows("exit")
    reason = np.full(n, "", dtype=object)
    if (log.detail[exits] >= 0).all():
        reason[log.child[exits]] = log.detail_names[log.detail[exits]]
    else:  # a missing reason: as its string form reads
        exit_rows = result.events.iloc[exits]
        reason[exit_rows["child"].to_numpy()] = exit_rows["detail"].astype(str).to_numpy()
    start, exit_ = first("assessment_start"), first("exit")
    profiled = first("profiled")
    list_join, profiling_join = first("list_join"), first("profiling_join")
    backlog = result.children["backlog"].to_numpy(dtype=bool)
    vetted = np.fmin(np.fmin(first("vetted"), exit_), np.fmin(list_join, profiling_join))
    return ChildTimes(
        referral=result.children["referral_day"].to_numpy(dtype=float),
        backlog=backlog,
        vetting_leave=np.where(backlog, np.nan, vetted),
        list_join=list_join,
        list_leave=np.fmin(start, exit_),
        profiling_join=profiling_join,
        profiling_leave=np.fmin(profiled, exit_),
        assessment_start=start,
        assessment_end=first("assessment_end"),
        exit=exit_,
        exit_reason=reason,
        first_support=first("support_start"),
    )


def child_times(result: SimulationResult) -> ChildTimes:
    """Per-child event times from the event log (vectorised pivot)."""
    return _child_times(result, _log_arrays(result))


def _in_window(times: np.ndarray, low: float, high: float) -> np.ndarray:
    return (times >= low) & (times < high)


def on_stage_at(join: np.ndarray, leave: np.ndarray, t: float) -> np.ndarray:
    """Mask of children on a stage at time ``t`` (joined at or before, not yet left)."""
    return (join <= t) & ~(leave <= t)


def waiting_at(t: ChildTimes, day: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of the child rows waiting at ``day`` on the diagnostic list, for a needs profile,
    and in vetting (new referrals only: the list at the start was vetted before it): the stages
    the any-stage waits are over, each wait counted from referral."""
    return (on_stage_at(t.list_join, t.list_leave, day),
            on_stage_at(t.profiling_join, t.profiling_leave, day),
            on_stage_at(t.referral, t.vetting_leave, day) & ~t.backlog)


# -------------------------------------------------------------------------------------------------
# Time-to-event estimates over the referral cohort


@dataclass(frozen=True)
class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of one event with a competing event and censoring.

    ``days`` are the sorted follow-up times and ``incidence`` the estimate just after each; the
    estimate is a step function, right-continuous. :meth:`at` is null (NaN) beyond the last
    follow-up when that follow-up was censored (the data cannot say) and for an empty cohort.
    """

    days: np.ndarray
    incidence: np.ndarray
    last_censored: bool

    def at(self, days: float) -> float:
        """The estimated share with the event within ``days`` (inclusive)."""
        if not len(self.days) or (days > self.days[-1] and self.last_censored):
            return math.nan
        k = int(np.searchsorted(self.days, days, side="right"))
        return float(self.incidence[k - 1]) if k else 0.0

    def median_days(self) -> float:
        """The first time half the cohort has had the event; NaN if not reached."""
        reached = np.flatnonzero(self.incidence >= 0.5)
        return float(self.days[reached[0]]) if len(reached) else math.nan


def _sorted_incidence(duration: np.ndarray, event: np.ndarray,
                      competing: np.ndarray) -> CumulativeIncidence:
    """:func:`cumulative_incidence` of follow-ups already in its order (and ``competing``
    already excluding ``event``)."""
    at_risk = len(duration) - np.arange(len(duration))
    any_event = (event | competing).astype(float)
    survival_after = np.cumprod(1.0 - any_event / np.maximum(at_risk, 1))
    survival_before = np.concatenate([[1.0], survival_after[:-1]])
    incidence = np.cumsum(survival_before * event / np.maximum(at_risk, 1))
    last_censored = bool(len(duration)) and not (event[-1] or competing[-1])
    return CumulativeIncidence(duration, incidence, last_censored)


def _incidence_by_segment(duration: np.ndarray, event: np.ndarray, competing: np.ndarray,
                          bounds: np.ndarray) -> list[CumulativeIncidence]:
    """:func:`_sorted_incidence` of each segment ``[bounds[k], bounds[k + 1])`` of follow-ups in
    its order, the same numbers: each element's step computed for all segments at once (it
    depends only on the element and its segment's size), the running product and sum per
    segment."""
    low, high = int(bounds[0]), int(bounds[-1])
    duration, event, competing = duration[low:high], event[low:high], competing[low:high]
    starts, sizes = bounds[:-1] - low, np.diff(bounds)
    position = np.arange(high - low) - np.repeat(starts, sizes)  # within the segment
    at_risk = np.maximum(np.repeat(sizes, sizes) - position, 1)
    step = 1.0 - (event | competing).astype(float) / at_risk
    survival_after = np.empty(high - low)
    for a, b in zip(starts, starts + sizes):
        np.cumprod(step[a:b], out=survival_after[a:b])
    survival_before = np.empty(high - low)
    survival_before[1:] = survival_after[:-1]
    survival_before[starts[sizes > 0]] = 1.0
    incidence = survival_before * event / at_risk
    out = []
    for a, b in zip(starts, starts + sizes):
        np.cumsum(incidence[a:b], out=incidence[a:b])
        last_censored = bool(b > a) and not (event[b - 1] or competing[b - 1])
        out.append(CumulativeIncidence(duration[a:b], incidence[a:b], last_censored))
    return out


def _small_codes(codes: np.ndarray, groups: int) -> np.ndarray:
    """Group codes in the smallest integer type that holds them (a stable sort of 8- or 16-bit
    integers is a radix sort, several times faster than one of 64-bit integers)."""
    for dtype in (np.int8, np.int16):
        if groups < np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes


def cumulative_incidence(duration: np.ndarray, event: np.ndarray,
                         competing: np.ndarray) -> CumulativeIncidence:
    """Aalen-Johansen estimate for follow-up ``duration`` (days) ending in the ``event`` of
    interest, a ``competing`` event, or censoring (neither).

    With no censoring it is exactly the share who had the event by each time; ties between an
    event and a censoring are taken events first, as is usual.
    """
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event, dtype=bool)
    competing = np.asarray(competing, dtype=bool) & ~event
    censored = ~(event | competing)
    # events before censorings at the same time
    order = np.lexsort((censored, duration))
    return _sorted_incidence(duration[order], event[order], competing[order])


@dataclass(frozen=True)
class _Cohort:
    """The new referrals in the horizon with their follow-up to one event, sorted once in the
    estimator's order.

    The sort is stable, so the rows of any group come out in the order a sort of that group
    alone would give: a group's estimate is the same arithmetic on its rows, with no sort.
    """

    rows: np.ndarray
    """The child row of each follow-up."""
    duration: np.ndarray
    event: np.ndarray
    competing: np.ndarray

    def incidence(self) -> CumulativeIncidence:
        """The estimate over every follow-up."""
        return _sorted_incidence(self.duration, self.event, self.competing)

    def by_group(self, group: np.ndarray, groups: int) -> list[CumulativeIncidence]:
        """The estimate over the follow-ups of each group ``0 .. groups - 1``, where ``group``
        gives each child row's group (-1: none)."""
        codes = _small_codes(group[self.rows], groups)
        order = np.argsort(codes, kind="stable")  # each group's rows stay in the cohort's order
        bounds = np.searchsorted(codes[order], np.arange(groups + 1), side="left")
        return _incidence_by_segment(self.duration[order], self.event[order],
                                     self.competing[order], bounds)


def _cohort(times: ChildTimes, horizon: float, event_time: np.ndarray,
            other_time: np.ndarray) -> _Cohort:
    """New referrals in the horizon followed to ``event_time``, ``other_time`` competing,
    children with neither by the horizon censored there."""
    rows = np.flatnonzero(_in_window(times.referral, 0.0, horizon))
    ref, first, other = times.referral[rows], event_time[rows], other_time[rows]
    event = first <= np.fmin(other, horizon)
    competing = ~event & (other <= horizon)
    duration = np.where(event, first, np.where(competing, other, horizon)) - ref
    order = np.lexsort((~(event | competing), duration))  # as cumulative_incidence sorts
    return _Cohort(rows[order], duration[order], event[order], competing[order])


def _support_cohort(times: ChildTimes, horizon: float) -> _Cohort:
    return _cohort(times, horizon, times.first_support, np.fmin(times.assessment_start, times.exit))


def _assessment_cohort(times: ChildTimes, horizon: float) -> _Cohort:
    return _cohort(times, horizon, times.assessment_start, times.exit)


def support_incidence(times: ChildTimes, horizon: float) -> CumulativeIncidence:
    """First support among new referrals (assessment start or leaving unsupported compete)."""
    return _support_cohort(times, horizon).incidence()


def assessment_incidence(times: ChildTimes, horizon: float) -> CumulativeIncidence:
    """Start of assessment among new referrals; leaving without one (rejected at vetting,
    needs-led or signposted after profiling, withdrawn, moved, private, turned 18) competes."""
    return _assessment_cohort(times, horizon).incidence()


def _quantile_points(n: int, q: float) -> tuple[int, int, float]:
    """Where ``np.quantile`` (default "linear" method) reads the ``q`` quantile of ``n > 0``
    sorted values: the two positions and the weight between them, as numpy computes them."""
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return n - 1, n - 1, virtual + 1  # numpy's weight here; both values are the last
    below = math.floor(virtual)
    return below, below + 1, virtual - below


def _lerp(low: float, high: float, gamma: float) -> float:
    """numpy's interpolation between two order statistics (from the nearer end)."""
    diff = high - low
    return high - diff * (1 - gamma) if gamma >= 0.5 else low + diff * gamma


def _sorted_quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` of ``values`` sorted ascending; NaN for none.

    The same arithmetic as numpy's default ("linear") method, step for step, so the same number
    to the last bit; with the values sorted once, each quantile is a look-up instead of numpy's
    partition of a copy (which is most of the cost of a quantile of a group or a month).
    """
    n = len(values)
    if not n or math.isnan(values[-1]):  # numpy: a NaN (sorted last) makes every quantile NaN
        return math.nan
    below, above, gamma = _quantile_points(n, q)
    return _lerp(float(values[below]), float(values[above]), gamma)


def _quantile(values: np.ndarray, q: float) -> float:
    return _sorted_quantile(np.sort(values), q)


def _share(mask: np.ndarray) -> float:
    """A percentage of the children in ``mask``'s population; null for an empty population."""
    return 100 * float(mask.mean()) if len(mask) else math.nan


def _list_child_weeks(t: ChildTimes, horizon: float) -> float:
    joined = np.isfinite(t.list_join)
    begin = np.clip(t.list_join[joined], 0.0, horizon)
    end = np.clip(np.fmin(t.list_leave[joined], horizon), 0.0, horizon)
    return float(np.maximum(end - begin, 0.0).sum() / WEEK)


def _pandas_sum(values: np.ndarray) -> np.floating:
    """``pd.Series(values).sum()`` (NaN skipped, as zeros in place: the same summation)."""
    return np.where(np.isnan(values), 0.0, values).sum()


class _Replication:
    """What the summaries of one replication share, each part computed once, when first used:
    the log as arrays, the child times, the children's histories, the sorted cohorts."""

    def __init__(self, result: SimulationResult, times: ChildTimes | None = None) -> None:
        self.result = result
        self.horizon = result.horizon_days
        self._given_times = times

    @cached_property
    def log(self) -> _LogArrays:
        return _log_arrays(self.result)

    @cached_property
    def times(self) -> ChildTimes:
        if self._given_times is not None:
            return self._given_times
        return _child_times(self.result, self.log)

    @cached_property
    def in_horizon(self) -> np.ndarray:
        """The log rows within the horizon (time 0 to the horizon, inclusive)."""
        return _in_window(self.log.time, 0.0, self.horizon + 1e-9)

    @cached_property
    def exit_codes(self) -> np.ndarray | None:
        """Per child row, the detail code of its exit (-1 if none): ``times.exit_reason`` as
        codes. None if the log cannot give them (a missing reason, or times of another log)."""
        log = self.log
        exits = log.rows("exit")
        if not (log.detail[exits] >= 0).all():
            return None
        codes = np.full(len(self.result.children), -1, dtype=np.int64)
        codes[log.child[exits]] = log.detail[exits]
        if self._given_times is not None:
            names = np.array([*log.detail_names, ""], dtype=object)  # code -1: ""
            if not np.array_equal(names[codes], self._given_times.exit_reason):
                return None
        return codes

    @cached_property
    def history(self) -> ChildHistory:
        return _child_histories(self)

    @cached_property
    def assessment(self) -> _Cohort:
        return _assessment_cohort(self.times, self.horizon)

    @cached_property
    def support(self) -> _Cohort:
        return _support_cohort(self.times, self.horizon)

    @cached_property
    def event_children(self) -> dict[str, np.ndarray]:
        """For each by-group event count, the child row of each event it counts."""
        return _event_children(self)

    @cached_property
    def stage(self) -> tuple[np.ndarray, list[str]]:
        """The capacity ledger's stage as codes, and the stage names."""
        codes, names = pd.factorize(self.result.capacity["stage"])
        return codes, [str(name) for name in names]

    def stage_rows(self, keep: Callable[[str], bool]) -> np.ndarray:
        """The ledger rows whose stage name passes ``keep`` (a missing stage: none)."""
        codes, names = self.stage
        table = np.array([keep(name) for name in names] + [False], dtype=bool)
        return table[codes]

    def stage_is(self, name: str) -> np.ndarray:
        """The ledger rows of stage ``name``."""
        return self.stage_rows(lambda stage: stage == name)


def replication_metrics(result: SimulationResult, times: ChildTimes | None = None) -> dict[str, float]:
    """Every scalar metric of one replication (see :data:`SCALAR_METRICS`).

    ``times`` is ``child_times(result)`` if the caller already has it (it is computed otherwise).
    Undefined values (a median not reached, a share of nobody) are NaN, never 0.
    """
    return _replication_metrics(_Replication(result, times))


def _replication_metrics(s: _Replication) -> dict[str, float]:
    result, log, t, horizon = s.result, s.log, s.times, s.horizon
    # events within the horizon by event and detail (rows missing either are not counted)
    known = s.in_horizon & (log.event >= 0) & (log.detail >= 0)
    width = len(log.detail_codes)
    counts = np.bincount(log.event[known].astype(np.int64) * width + log.detail[known],
                         minlength=len(log.event_codes) * width).reshape(-1, width)

    def count(event: str, *details: str) -> float:
        code = log.event_codes.get(event)
        if code is None or not counts[code].any():
            return 0.0
        if not details:
            return float(counts[code].sum())
        return float(sum(int(counts[code, log.detail_codes[name]]) for name in details
                         if name in log.detail_codes))

    started = _in_window(t.assessment_start, 0.0, horizon)
    waits = t.assessment_start[started] - t.referral[started]
    end_list, profiling_end, vetting_end = waiting_at(t, horizon)
    waited_end = horizon - t.referral[end_list]
    # sorted copies for the quantiles (the means sum in the original order)
    waits_sorted, waited_end_sorted = np.sort(waits), np.sort(waited_end)
    # waited so far, from referral, by everyone waiting at any stage at the end (diagnostic
    # list, needs profile, vetting): a child moved off the list into a queue still waits
    profiling_waited_end = horizon - t.referral[profiling_end]
    vetting_waited_end = horizon - t.referral[vetting_end]
    total_waited_end = np.sort(np.concatenate([waited_end, profiling_waited_end,
                                               vetting_waited_end]))
    # the list as it stands at the start, before the first session (at day 0) takes anyone
    start_list = (t.list_join <= 0.0) & ~(t.list_leave < 0.0)
    support = s.support.incidence()
    assessed = s.assessment.incidence()
    cap = result.capacity
    assessment_rows = s.stage_is("assessment")
    available = _pandas_sum(cap["hours_available"].to_numpy()[assessment_rows])
    used = _pandas_sum(cap["hours_used"].to_numpy()[assessment_rows])
    metrics = {
        # re-referrals are referrals too (and counted again in re_referrals)
        "referrals": count("referral", "new", "rereferral"),
        "waiting_list_end": float(end_list.sum()),
        "waiting_total_end": float(end_list.sum() + vetting_end.sum() + profiling_end.sum()),
        "list_wait_weeks_p50_end": _sorted_quantile(waited_end_sorted, 0.5) / WEEK,
        "list_wait_weeks_p92_end": _sorted_quantile(waited_end_sorted, 0.92) / WEEK,
        # the mean, as NHSRwaitinglist's waiting-list pressure uses it (model.waitinglist)
        "list_wait_weeks_mean_end": float(waited_end.mean()) / WEEK if len(waited_end) else math.nan,
        # "over N weeks" is N weeks or more, as in the wait bands (WAIT_BANDS) and the clearance
        # question, so the end-of-horizon share and the last month's bands count the same children
        "pct_waiting_over_13w_end": _share(waited_end >= THIRTEEN_WEEKS),
        "pct_waiting_over_52w_end": _share(waited_end >= 52 * WEEK),
        "pct_waiting_over_104w_end": _share(waited_end >= 104 * WEEK),
        # the counts beside the shares: a smaller list can hold a larger share of long waiters
        # and still fewer children waiting a year
        "waiting_over_13w_end": float((waited_end >= THIRTEEN_WEEKS).sum()),
        "waiting_over_52w_end": float((waited_end >= 52 * WEEK).sum()),
        "waiting_over_104w_end": float((waited_end >= 104 * WEEK).sum()),
        # the same, of everyone waiting at any stage (list, needs profile, vetting), from referral
        "total_wait_weeks_p50_end": _sorted_quantile(total_waited_end, 0.5) / WEEK,
        "waiting_total_over_13w_end": float((total_waited_end >= THIRTEEN_WEEKS).sum()),
        "waiting_total_over_52w_end": float((total_waited_end >= 52 * WEEK).sum()),
        "waiting_total_over_104w_end": float((total_waited_end >= 104 * WEEK).sum()),
        "profiling_wait_weeks_p50_end": _sorted_quantile(np.sort(profiling_waited_end), 0.5) / WEEK,
        "profiling_over_52w_end": float((profiling_waited_end >= 52 * WEEK).sum()),
        "vetting_over_52w_end": float((vetting_waited_end >= 52 * WEEK).sum()),
        "pct_referrals_assessed_within_13w": 100 * assessed.at(THIRTEEN_WEEKS),
        "pct_referrals_assessed_within_52w": 100 * assessed.at(52 * WEEK),
        "pct_referrals_assessed_within_104w": 100 * assessed.at(104 * WEEK),
        "referral_to_assessment_weeks_p50": assessed.median_days() / WEEK,
        "wait_of_those_assessed_weeks_p50": _sorted_quantile(waits_sorted, 0.5) / WEEK,
        "wait_of_those_assessed_weeks_p90": _sorted_quantile(waits_sorted, 0.9) / WEEK,
        "wait_of_those_assessed_weeks_mean": float(waits.mean()) / WEEK if len(waits) else math.nan,
        "pct_of_those_assessed_within_13w": _share(waits <= THIRTEEN_WEEKS),
        "time_to_first_support_weeks_p50": support.median_days() / WEEK,
        "pct_supported_within_13w": 100 * support.at(THIRTEEN_WEEKS),
        "pct_supported_within_52w": 100 * support.at(52 * WEEK),
        "assessments_completed": count("assessment_end"),
        "needs_led_exits": count("exit", "needs_led", "needs_met"),
        "signposted": count("exit", "signposted"),
        "rejected": count("exit", "rejected"),
        "withdrawals": count("exit", "withdrawn", "moved", "private"),
        "aged_out": count("exit", "aged_out"),
        "escalations": count("escalation"),
        "clinician_utilisation": float(used / available) if available > 0 else math.nan,
        "waiting_list_start": float(start_list.sum()),
        "vetting_end": float(vetting_end.sum()),
        "profiling_queue_end": float(profiling_end.sum()),
        "assessments_started": float(started.sum()),
        "in_assessment_end": float((started & ~(t.assessment_end <= horizon)).sum()),
        "outsourced_assessments": count("assessment_start", "outsourced"),
        "profiles_completed": count("profiled"),
        "support_starts": count("support_start"),
        "backlog_cleared": float((waited_end < THIRTEEN_WEEKS).all()),
        # weeks children spent on the diagnostic list within the horizon, summed over children
        # (the list size integrated over time): what "child-weeks of waiting avoided" counts
        "list_child_weeks": _list_child_weeks(t, horizon),
    }
    metrics.update(costs(result))  # cost_total, its components and cost_per_assessment
    profiled = count("profiled")
    metrics.update({
        "re_referrals": count("referral", "rereferral"),
        "pct_profiled_to_diagnostic": (100 * count("profiled", "diagnostic") / profiled
                                       if profiled else math.nan),
        "assessments_no_condition": count("assessment_end", "none"),
    })
    metrics.update(_family_metrics(s.history))
    metrics.update(_team_metrics(s))
    return metrics


PROFESSION_METRICS = ("utilisation", "follow_up_hours")
"""Per profession, as ``{metric}_{profession}`` columns of the per-replication table (the names
depend on the scenario's professions, so they are not in :data:`SCALAR_METRICS`)."""


def team_metrics(result: SimulationResult) -> dict[str, float]:
    """Follow-up caseload and hours, and each profession's utilisation (``by_profession``).

    ``utilisation_{profession}``: share of the profession's clinical hours for the service used,
    by new assessments and follow-up; ``follow_up_hours_{profession}``: follow-up hours it gave.
    ``follow_up_caseload_end`` counts the children diagnosed in the run who are still in
    follow-up at the horizon, plus the starting caseload still expected then.
    """
    return _team_metrics(_Replication(result))


def _team_metrics(s: _Replication) -> dict[str, float]:
    sc, log, cap, horizon = s.result.scenario, s.log, s.result.capacity, s.horizon
    fu = sc.follow_up
    started, ended = log.rows("follow_up_start"), log.rows("follow_up_end")
    started = log.child[started[log.time[started] <= horizon + 1e-9]]
    ended = log.child[ended[log.time[ended] <= horizon + 1e-9]]
    still = float(len(np.setdiff1d(started, ended)))
    if fu.enabled and fu.initial_caseload:
        rate = (fu.discharge_per_year + 1.0 / fu.initial_caseload_years_to_18) / 365.25
        still += fu.initial_caseload * math.exp(-rate * horizon)
    hours_available = cap["hours_available"].to_numpy()
    hours_used = cap["hours_used"].to_numpy()
    follow = s.stage_rows(lambda name: name.startswith("follow_up:"))
    out = {
        "follow_up_starts": float(len(started)),
        "follow_up_caseload_end": still,
        "follow_up_hours": float(_pandas_sum(hours_used[follow])),
        "follow_up_hours_unmet": float(_pandas_sum(hours_available[follow] - hours_used[follow])),
    }
    if sc.assessment.capacity_model == "by_profession":
        for p in sc.assessment.professions:
            rows = s.stage_is(f"profession:{p.name}")
            available = float(_pandas_sum(hours_available[rows]))
            out[f"utilisation_{p.name}"] = (float(_pandas_sum(hours_used[rows])) / available
                                            if available > 0 else math.nan)
            out[f"follow_up_hours_{p.name}"] = float(
                _pandas_sum(hours_used[s.stage_is(f"follow_up:{p.name}")]))
    return out


# -------------------------------------------------------------------------------------------------
# What families worry about (issue 11): counted once per child, across their referrals

NEEDS_LED_EXITS = ("needs_led", "needs_met", "signposted")
"""Leaving without an assessment through the front door's offer (a plan, needs met, signposted)."""
LEFT_UNASSESSED = ("rejected", "needs_led", "needs_met", "signposted", "withdrawn", "aged_out")
"""Leaving without an assessment here or elsewhere (moving away or going private are not)."""


@dataclass(frozen=True)
class ChildHistory:
    """One entry per child (``child_id``), over all their referrals in the run.

    ``first`` is the row of their first referral (whose attributes place them in a group).
    """

    first: np.ndarray
    would_be_diagnosed: np.ndarray
    assessed: np.ndarray
    diagnosed: np.ndarray
    supported: np.ndarray
    weeks_to_support: np.ndarray
    routed_away: np.ndarray
    last_exit_reason: np.ndarray
    left_unassessed: np.ndarray
    """Their last referral ended without an assessment, here or elsewhere (LEFT_UNASSESSED)."""
    needs_led_exit: np.ndarray
    """Their last referral ended with a needs-led plan, needs met or signposting."""
    still_in_pathway: np.ndarray
    turns_18: np.ndarray
    aged_out: np.ndarray


def child_histories(result: SimulationResult, t: ChildTimes) -> ChildHistory:
    """Per child across referrals: assessed, diagnosed or supported by the horizon, routed away
    by the profiling tool, how their last referral ended, and whether they turn 18 in the horizon."""
    return _child_histories(_Replication(result, t))


def _diagnosable(children: pd.DataFrame) -> np.ndarray:
    """Per child row: an assessment would find a condition (``latent_outcome`` is not none)."""
    if "latent_outcome" not in children:
        return np.zeros(len(children), dtype=bool)
    latent = children["latent_outcome"]
    if isinstance(latent.dtype, pd.CategoricalDtype):
        names = list(latent.cat.categories)
        none = names.index("none") if "none" in names else -2  # a missing value is not "none"
        return latent.cat.codes.to_numpy() != none
    return latent.astype(str).to_numpy() != "none"


def _first_of_each(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_index=True, return_inverse=True)[1:]``: the position of each
    distinct id's first occurrence, ids ascending, and each position's distinct id's number.

    Ids are small non-negative integers (child ids number the children), so a table by id does
    it without sorting; other ids go through np.unique.
    """
    n = len(ids)
    if not n or ids.min() < 0 or ids.max() > 4 * n + 1000:
        return np.unique(ids, return_index=True, return_inverse=True)[1:]
    seen = np.zeros(int(ids.max()) + 1, dtype=bool)
    seen[ids] = True
    number = np.cumsum(seen) - 1  # each id's place among the distinct ids
    first_at = np.empty(len(seen), dtype=np.intp)
    first_at[ids[::-1]] = np.arange(n, dtype=np.intp)[::-1]  # the last write, the first position
    return first_at[seen], number[ids]


def _child_histories(s: _Replication) -> ChildHistory:
    result, log, t, horizon = s.result, s.log, s.times, s.horizon
    children = result.children
    n = len(children)
    origin = (children["child_id"].to_numpy(dtype=np.int64) if "child_id" in children
              else np.arange(n))
    first, key = _first_of_each(origin)
    m = len(first)

    def any_of(mask: np.ndarray) -> np.ndarray:
        return np.bincount(key[mask], minlength=m) > 0

    assessed = any_of(t.assessment_start <= horizon)
    diagnosable = _diagnosable(children)
    diagnosed = any_of((t.assessment_end <= horizon) & diagnosable)
    support_day = np.full(m, np.inf)
    has = t.first_support <= horizon
    np.minimum.at(support_day, key[has], t.first_support[has])
    referral = t.referral[first]
    prow = log.rows("profiled", "needs_led", "signposted")
    routed = np.zeros(n, dtype=bool)
    routed[log.child[prow[log.time[prow] <= horizon]]] = True
    # the last referral of each child: the latest referral day (rows come in time order)
    last = np.zeros(m, dtype=np.int64)
    np.maximum.at(last, key, np.arange(n))
    exited = t.exit[last] <= horizon
    ended_unassessed = exited & ~np.isfinite(t.assessment_start[last])
    codes = s.exit_codes
    if codes is not None:  # the reasons as codes: comparing strings is most of the cost
        reason_code = np.where(ended_unassessed, codes[last], -1)
        names = np.array([*log.detail_names, ""], dtype=object)  # code -1: ""
        reason = names[reason_code]
        left_unassessed = log.detail_table(*LEFT_UNASSESSED)[reason_code]
        needs_led_exit = log.detail_table(*NEEDS_LED_EXITS)[reason_code]
        aged_out = any_of(codes == log.detail_codes.get("aged_out", -2))
    else:
        reason = np.where(ended_unassessed, t.exit_reason[last], "")
        left_unassessed = np.isin(reason, LEFT_UNASSESSED)
        needs_led_exit = np.isin(reason, NEEDS_LED_EXITS)
        aged_out = any_of(t.exit_reason == "aged_out")
    age = children["age_at_referral"].to_numpy(dtype=float)[first]
    age_out = result.scenario.leaving.age_out_years
    turns_18 = referral + (age_out - age) * 365.25 <= horizon
    still = ~exited & ~np.isfinite(t.assessment_start[last])
    return ChildHistory(
        first=first, would_be_diagnosed=diagnosable[first], assessed=assessed,
        diagnosed=diagnosed, supported=np.isfinite(support_day),
        weeks_to_support=(support_day - referral) / WEEK, routed_away=any_of(routed),
        last_exit_reason=reason, left_unassessed=left_unassessed,
        needs_led_exit=needs_led_exit, still_in_pathway=still, turns_18=turns_18,
        aged_out=aged_out)


def family_metrics(result: SimulationResult, t: ChildTimes,
                   history: ChildHistory | None = None,
                   children: np.ndarray | None = None) -> dict[str, float]:
    """The families' concerns as counts of children (each child once, however often referred).

    ``children`` selects entries of ``history`` (a group); all of them by default.
    """
    h = child_histories(result, t) if history is None else history
    return _family_metrics(h, children)


def _family_metrics(h: ChildHistory, children: np.ndarray | None = None) -> dict[str, float]:
    pick = np.ones(len(h.first), dtype=bool) if children is None else children
    unassessed = ~h.assessed & pick
    supported_only = h.supported & ~h.diagnosed & pick
    wbd = h.would_be_diagnosed
    left = h.left_unassessed
    after_needs_led = unassessed & h.turns_18 & h.needs_led_exit
    on_list = unassessed & h.aged_out
    return {
        "routed_away_would_be_diagnosed": float((h.routed_away & wbd & pick).sum()),
        "supported_without_diagnosis": float(supported_only.sum()),
        "supported_without_diagnosis_weeks_to_support_p50": _quantile(
            h.weeks_to_support[supported_only], 0.5),
        "would_be_diagnosed_unassessed": float((unassessed & wbd).sum()),
        "would_be_diagnosed_left_unassessed": float((unassessed & wbd & left).sum()),
        "turned_18_without_assessment": float((on_list | after_needs_led).sum()),
        "turned_18_after_needs_led_exit": float((after_needs_led & ~on_list).sum()),
    }


def month_labels(result: SimulationResult) -> list[str]:
    start = pd.Timestamp(result.scenario.simulation.start_date)
    # the calendar month k months on (pd.DateOffset(months=k) moves the month, not the day)
    months = (start.year * 12 + start.month - 1 + k for k in range(len(result.month_starts_days) - 1))
    return [datetime.date(month // 12, month % 12 + 1, 1).strftime("%Y-%m") for month in months]


def on_stage_counts(join: np.ndarray, leave: np.ndarray, times: np.ndarray) -> np.ndarray:
    """How many children are on a stage at each of ``times``: :func:`on_stage_at` summed, by counting.

    On at ``t`` means joined at or before ``t`` and not left at or before ``t``, so the count is
    #(join <= t) - #(max(join, leave) <= t) over children who joined (NaN never compares true).
    Two sorted searches replace a pass over every child per time point.
    """
    joined = np.isfinite(join)
    left = joined & np.isfinite(leave)
    n_joined = np.searchsorted(np.sort(join[joined]), times, side="right")
    n_left = np.searchsorted(np.sort(np.maximum(join[left], leave[left])), times, side="right")
    return (n_joined - n_left).astype(float)


def _first_end_waited(ends: np.ndarray, referral: np.ndarray, threshold: float) -> np.ndarray:
    """Per child, the index of the first of ``ends`` with ``end - referral >= threshold``
    (``len(ends)`` if none), evaluated with exactly that float comparison.

    A sorted search on ``referral + threshold`` lands within a grid point of the answer (the
    two roundings can differ by an ulp); the comparison is monotone in ``end``, so stepping while
    it disagrees gives the exact index.
    """
    last = len(ends)
    k = np.searchsorted(ends, referral + threshold, side="left")
    while True:
        back = (k > 0) & (ends[np.maximum(k - 1, 0)] - referral >= threshold)
        ahead = (k < last) & ~(ends[np.minimum(k, last - 1)] - referral >= threshold)
        if not back.any() and not ahead.any():
            return k
        k = k - back + ahead


def _list_spells(t: ChildTimes, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each child who was ever on the list: the first of ``ends`` they were on it at and the
    first they were not (``len(ends)`` if never off), with their referral day.

    On the list at ``end`` is :func:`on_stage_at`: joined at or before it and not left at or
    before it, that is the ends ``[first_on, first_off)``.
    """
    ever = np.isfinite(t.list_join)
    join, leave, referral = t.list_join[ever], t.list_leave[ever], t.referral[ever]
    first_on = np.searchsorted(ends, join, side="left")  # first end with join <= end
    first_off = np.where(np.isfinite(leave), np.searchsorted(ends, leave, side="left"), len(ends))
    return first_on, first_off, referral


def _wait_band_counts(t: ChildTimes, ends: np.ndarray,
                      spells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                      ) -> dict[str, np.ndarray]:
    """Children on the list at each month end by how long they had waited (WAIT_BANDS).

    A child is on the list at ends ``[first_on, first_off)`` and has waited at least ``x`` from
    the first end where ``end - referral >= x``; counting those index ranges gives, exactly, the
    numbers of a mask per month and band without a pass over every child per month. A band
    [low, high) holds #(waited >= low) - #(waited >= high). ``spells`` is
    ``_list_spells(t, ends)`` if the caller has it.
    """
    first_on, first_off, referral = _list_spells(t, ends) if spells is None else spells
    last = len(ends)

    def at_least(weeks: float) -> np.ndarray:
        start = np.maximum(first_on, _first_end_waited(ends, referral, weeks * WEEK))
        some = start < first_off
        delta = (np.bincount(start[some], minlength=last + 1)
                 - np.bincount(first_off[some], minlength=last + 1))
        return np.cumsum(delta)[:last].astype(float)

    edges = {edge for _, low, high in WAIT_BANDS for edge in (low, high) if math.isfinite(edge)}
    counts = {edge: at_least(edge) for edge in edges}
    zero = np.zeros(last)
    return {name: counts[low] - (counts[high] if math.isfinite(high) else zero)
            for name, low, high in WAIT_BANDS}


def _monthly_medians(month: np.ndarray, values: np.ndarray, months: int) -> np.ndarray:
    """Median of ``values`` within each month (NaN where none), as ``np.median`` computes it."""
    order = np.lexsort((values, month))
    month, values = month[order], values[order]
    first = np.searchsorted(month, np.arange(months), side="left")
    count = np.searchsorted(month, np.arange(months), side="right") - first
    out = np.full(months, np.nan)
    some = count > 0
    low = first[some] + (count[some] - 1) // 2
    high = first[some] + count[some] // 2
    # np.median takes the mean of the middle pair (a single middle value for an odd count)
    out[some] = np.where(low == high, values[low], (values[low] + values[high]) / 2.0)
    return out


def _list_wait_quantiles(t: ChildTimes, ends: np.ndarray,
                         spells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Median and 92nd percentile of the time already waited (referral to each month end) by the
    children on the diagnostic list then, in weeks; NaN for a month with nobody waiting.
    ``spells`` is ``_list_spells(t, ends)`` if the caller has it."""
    first_on, first_off, referral = _list_spells(t, ends) if spells is None else spells
    some = first_on < first_off
    # latest referral first: each month's waits, end - referral, then come out sorted (the
    # rounded difference never falls as the referral day falls), so no sort per month
    order = np.argsort(-referral[some])  # (equal referral days wait equally long)
    first_on, first_off, referral = first_on[some][order], first_off[some][order], referral[some][order]
    # who joins and who leaves the list at each month end (positions in that order)
    months = np.arange(len(ends) + 1)
    joins = np.argsort(_small_codes(first_on, len(ends) + 1), kind="stable")
    leaves = np.argsort(_small_codes(first_off, len(ends) + 1), kind="stable")
    join_at = np.searchsorted(first_on[joins], months, side="left")
    leave_at = np.searchsorted(first_off[leaves], months, side="left")
    on = np.zeros(len(referral), dtype=bool)
    p50, p92 = np.full(len(ends), np.nan), np.full(len(ends), np.nan)
    for k, end in enumerate(ends):
        on[joins[join_at[k]:join_at[k + 1]]] = True
        on[leaves[leave_at[k]:leave_at[k + 1]]] = False
        waiting = np.flatnonzero(on)
        if not len(waiting) or math.isnan(end - referral[waiting[-1]]):
            continue  # nobody waiting (or a NaN wait: NaN, as np.quantile gives)
        for q, out in ((0.5, p50), (0.92, p92)):
            below, above, gamma = _quantile_points(len(waiting), q)
            waited_below = float(end - referral[waiting[below]])
            waited_above = float(end - referral[waiting[above]])
            out[k] = _lerp(waited_below, waited_above, gamma) / WEEK
    return p50, p92


def _cohort_within(t: ChildTimes, edges: np.ndarray, days: float) -> np.ndarray:
    """By referral month: the share of that month's new referrals whose assessment started within
    ``days`` of referral (leaving first counts as not assessed). Null for a month whose referrals
    have not all been followed for ``days`` by the horizon, or that had none."""
    new = ~t.backlog
    referral, start = t.referral[new], t.assessment_start[new]
    month = np.searchsorted(edges, referral, side="right") - 1
    months = len(edges) - 1
    keep = (month >= 0) & (month < months)
    month, within = month[keep], (start[keep] - referral[keep]) <= days
    referred = np.bincount(month, minlength=months)[:months]
    assessed = np.bincount(month[within], minlength=months)[:months]
    followed = edges[1:] + days <= edges[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(followed & (referred > 0), 100.0 * assessed / referred, np.nan)


def monthly_metrics(result: SimulationResult, times: ChildTimes | None = None) -> pd.DataFrame:
    """Monthly series of one replication, long format: ``month, metric, value``.

    ``times`` is ``child_times(result)`` if the caller already has it (it is computed otherwise).
    """
    return _monthly_metrics(_Replication(result, times))


def _monthly_metrics(s: _Replication) -> pd.DataFrame:
    result, log, t = s.result, s.log, s.times
    edges = result.month_starts_days
    labels = month_labels(result)
    months = len(edges) - 1
    rows: dict[str, np.ndarray] = {}

    def flow(event_rows: np.ndarray) -> np.ndarray:
        # counted as np.histogram(times, bins=edges) counts: months [start, next start), the
        # last one closed at the horizon
        times = log.time[event_rows]
        times = times[(times >= edges[0]) & (times <= edges[-1])]
        month = np.minimum(np.searchsorted(edges, times, side="right") - 1, months - 1)
        return np.bincount(month, minlength=months)[:months].astype(float)

    rows["referrals"] = flow(log.rows("referral", "new", "rereferral"))
    rows["re_referrals"] = flow(log.rows("referral", "rereferral"))
    rows["assessments_started"] = flow(log.rows("assessment_start"))
    rows["assessments_completed"] = flow(log.rows("assessment_end"))
    rows["support_starts"] = flow(log.rows("support_start"))
    rows["escalations"] = flow(log.rows("escalation"))
    ends = edges[1:]
    rows["waiting_list"] = on_stage_counts(t.list_join, t.list_leave, ends)
    rows["profiling_queue"] = on_stage_counts(t.profiling_join, t.profiling_leave, ends)
    new = ~t.backlog
    rows["vetting_queue"] = on_stage_counts(t.referral[new], t.vetting_leave[new], ends)
    rows["waiting_total"] = rows["waiting_list"] + rows["profiling_queue"] + rows["vetting_queue"]
    spells = _list_spells(t, ends)
    rows.update(_wait_band_counts(t, ends, spells))
    rows["list_wait_weeks_p50"], rows["list_wait_weeks_p92"] = _list_wait_quantiles(t, ends, spells)
    with np.errstate(invalid="ignore", divide="ignore"):
        on_list = rows["waiting_list"]
        rows["pct_waiting_over_13w"] = np.where(
            on_list > 0, 100.0 * (on_list - rows["list_wait_0_13w"]) / on_list, np.nan)
    rows["waiting_over_52w"] = rows["list_wait_52_104w"] + rows["list_wait_104w_plus"]
    rows["pct_referrals_assessed_within_13w"] = _cohort_within(t, edges, THIRTEEN_WEEKS)
    started = np.isfinite(t.assessment_start)
    month = np.searchsorted(edges, t.assessment_start[started], side="right") - 1
    wait_days = t.assessment_start[started] - t.referral[started]
    keep = (month >= 0) & (month < len(labels))
    month, wait_days = month[keep], wait_days[keep]
    rows["wait_of_those_assessed_weeks_p50"] = _monthly_medians(month, wait_days / WEEK, len(labels))
    within = np.bincount(month[wait_days <= THIRTEEN_WEEKS], minlength=len(labels) + 1)[:len(labels)]
    started_in = np.bincount(month, minlength=len(labels) + 1)[:len(labels)]
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["pct_of_those_assessed_within_13w"] = np.where(
            started_in > 0, 100.0 * within / started_in, np.nan)
    # one frame built at once (metric by metric, months in order), not one per metric concatenated
    return pd.DataFrame({
        "month": labels * len(MONTHLY_METRICS),
        "metric": np.repeat(np.array(MONTHLY_METRICS, dtype=object), len(labels)),
        "value": np.concatenate([np.asarray(rows[name], dtype=float) for name in MONTHLY_METRICS]),
    })


# -------------------------------------------------------------------------------------------------
# Across replications


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and t-interval over the finite values; the interval is NaN with fewer than 2."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def possible_range(metric: str) -> tuple[float, float]:
    """The values metric ``metric`` can take: 0 to 100 for a percentage (``pct_*``), 0 to 1 for
    a share (:func:`model.labels.is_fraction`), otherwise 0 and up (every scalar metric is a
    count, a time, hours or money; a difference between scenarios is not a metric)."""
    from .labels import is_fraction

    if metric.startswith("pct_"):
        return 0.0, 100.0
    if is_fraction(metric):
        return 0.0, 1.0
    return 0.0, math.inf


def within_range(metric: str, low: float, high: float) -> tuple[float, float]:
    """A t-interval cut to the values ``metric`` can take (:func:`possible_range`).

    With few replications, or a metric defined in few of them, a symmetric t-interval can run
    below zero or above 100% ("-55 to 117 weeks", "97% to 101%"): a range nobody can be in.
    The part outside is cut; the interval stays as wide as it is on the possible side."""
    lo, hi = possible_range(metric)
    return (max(low, lo) if math.isfinite(low) else low,
            min(high, hi) if math.isfinite(high) else high)


def summarise(per_replication: pd.DataFrame, metrics: tuple[str, ...] = SCALAR_METRICS) -> pd.DataFrame:
    """``metric, mean, ci_low, ci_high, n`` (n = replications with a finite value); each
    interval cut to the values its metric can take (:func:`within_range`)."""
    rows = []
    for name in metrics:
        if name in per_replication:
            mean, low, high, n = mean_ci(per_replication[name].to_numpy())
            low, high = within_range(name, low, high)
            rows.append({"metric": name, "mean": mean, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows)


PERCENTILES = (5, 25, 50, 75, 95)


def percentile_bands(monthly: pd.DataFrame) -> pd.DataFrame:
    """``month, metric, p5, p25, p50, p75, p95`` across replications (NaNs ignored)."""
    columns = [f"p{p}" for p in PERCENTILES]
    if not len(monthly):
        return pd.DataFrame(columns=["month", "metric", *columns])
    # one row per (metric, month) in order of first appearance, its values across replications;
    # the rows whose values are all finite and equally many (nearly all) go through one
    # np.percentile call along an axis, which gives the same numbers as a call per row
    codes, keys = pd.factorize(pd.MultiIndex.from_arrays([monthly["metric"], monthly["month"]]))
    values = monthly["value"].to_numpy(dtype=float)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(keys))
    bands = np.full((len(keys), len(PERCENTILES)), math.nan)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    grouped = values[order]
    width = int(counts.max())
    full = np.flatnonzero(counts == width)
    block = grouped[starts[full, None] + np.arange(width)[None, :]]
    clean = np.isfinite(block).all(axis=1)
    if clean.any():
        bands[full[clean]] = np.percentile(block[clean], PERCENTILES, axis=1).T
    rest = np.setdiff1d(np.arange(len(keys)), full[clean], assume_unique=True)
    for g in rest:  # a metric undefined in some replications, or fewer replications in a month
        x = grouped[starts[g]:starts[g] + counts[g]]
        x = x[np.isfinite(x)]
        if len(x):
            bands[g] = [float(np.percentile(x, p)) for p in PERCENTILES]
    out = pd.DataFrame(bands, columns=columns)
    out.insert(0, "metric", keys.get_level_values(0))
    out.insert(0, "month", keys.get_level_values(1))
    order_of = {name: i for i, name in enumerate(MONTHLY_METRICS)}
    out["_order"] = out["metric"].map(order_of)
    return out.sort_values(["_order", "month"]).drop(columns="_order").reset_index(drop=True)


def _percentile_bands_by_group(monthly: pd.DataFrame) -> pd.DataFrame:
    """The reference implementation of :func:`percentile_bands` (a pandas apply per group,
    about 40x slower): kept for the test that the fast one gives the same numbers."""
    def bands(values: pd.Series) -> pd.Series:
        x = values.to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if not len(x):
            return pd.Series({f"p{p}": math.nan for p in PERCENTILES})
        return pd.Series({f"p{p}": float(np.percentile(x, p)) for p in PERCENTILES})

    out = monthly.groupby(["metric", "month"], sort=False)["value"].apply(bands).unstack()
    out = out.reset_index()[["month", "metric", *[f"p{p}" for p in PERCENTILES]]]
    order = {name: i for i, name in enumerate(MONTHLY_METRICS)}
    out["_order"] = out["metric"].map(order)
    return out.sort_values(["_order", "month"]).drop(columns="_order").reset_index(drop=True)


def paired_differences(baseline: pd.DataFrame, other: pd.DataFrame,
                       metrics: tuple[str, ...] = SCALAR_METRICS) -> pd.DataFrame:
    """Per-metric paired difference (other - baseline) by replication, with its 95% interval.

    Replications are matched on their index, so both runs must share seed and replication
    numbers (common random numbers).
    """
    b = baseline.set_index("replication")
    o = other.set_index("replication")
    common = b.index.intersection(o.index)
    rows = []
    for name in metrics:
        if name not in b or name not in o:
            continue
        base = b.loc[common, name].to_numpy(dtype=float)
        alt = o.loc[common, name].to_numpy(dtype=float)
        # the baseline and scenario means are over the pairs the difference uses, so that each
        # row reads baseline + difference = scenario even where a metric is undefined in some
        # replications of one run
        both = np.isfinite(base) & np.isfinite(alt)
        mean, low, high, n = mean_ci(alt[both] - base[both])
        rows.append({"metric": name, "baseline": mean_ci(base[both])[0],
                     "scenario": mean_ci(alt[both])[0],
                     "difference": mean, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows)


# -------------------------------------------------------------------------------------------------
# By group (issue 11: who benefits and who loses out)

AGE_BANDS = (("under 5", 0.0, 5.0), ("5-10", 5.0, 11.0), ("11-15", 11.0, 16.0),
             ("16-17", 16.0, math.inf))
"""Age at referral bands (years): [low, high)."""

GROUP_VARIABLES = ("looked_after_or_cin", "deprivation_quintile", "age_band", "pathway",
                   "priority", "locality")
"""The group variables the model carries; ``locality`` only when the scenario names localities."""

GROUP_COUNT_METRICS = (
    "children",
    "referrals",
    "re_referrals",
    "waiting_list_end",
    "waiting_over_52w_end",
    "waiting_total_end",
    "waiting_total_over_52w_end",
    "assessments_started",
    "needs_led_exits",
    "signposted",
    "withdrawals",
    "aged_out",
    "escalations",
    "routed_away_would_be_diagnosed",
    "supported_without_diagnosis",
    "would_be_diagnosed_unassessed",
    "would_be_diagnosed_left_unassessed",
    "turned_18_without_assessment",
)
"""By-group counts: they add up over the groups of a variable to the whole (``children``:
every child the run saw, the list at the start and every referral in the horizon)."""

GROUP_RATE_METRICS = (
    "list_wait_weeks_p50_end",
    "list_wait_weeks_p92_end",
    "pct_waiting_over_52w_end",
    "total_wait_weeks_p50_end",
    "pct_referrals_assessed_within_13w",
    "pct_referrals_assessed_within_52w",
    "referral_to_assessment_weeks_p50",
    "time_to_first_support_weeks_p50",
    "pct_supported_within_13w",
    "pct_supported_within_52w",
)
"""By-group waits and shares (the same definitions as the whole-run metrics)."""

GROUP_METRICS = GROUP_COUNT_METRICS + GROUP_RATE_METRICS

RATE_BASE = {
    "list_wait_weeks_p50_end": "waiting_list_end",
    "list_wait_weeks_p92_end": "waiting_list_end",
    "pct_waiting_over_52w_end": "waiting_list_end",
    "total_wait_weeks_p50_end": "waiting_total_end",
    "pct_referrals_assessed_within_13w": "referrals",
    "pct_referrals_assessed_within_52w": "referrals",
    "referral_to_assessment_weeks_p50": "referrals",
    "time_to_first_support_weeks_p50": "referrals",
    "pct_supported_within_13w": "referrals",
    "pct_supported_within_52w": "referrals",
}
"""The count each rate is computed over (disclosure control suppresses a rate of few children)."""


def group_labels(result: SimulationResult) -> dict[str, np.ndarray]:
    """Each child row's group under each group variable, as strings."""
    ch = result.children
    age = ch["age_at_referral"].to_numpy(dtype=float)
    band = np.full(len(ch), AGE_BANDS[-1][0], dtype=object)
    for name, low, high in AGE_BANDS[::-1]:
        band[(age >= low) & (age < high)] = name

    def names(column: str) -> np.ndarray:
        codes = ch[column].cat.codes.to_numpy()
        return np.asarray(ch[column].cat.categories, dtype=object)[codes]

    labels = {
        "looked_after_or_cin": np.where(ch["looked_after_or_cin"].to_numpy(dtype=bool), "yes", "no"),
        "deprivation_quintile": np.array(["1", "2", "3", "4", "5"], dtype=object)[
            ch["deprivation_quintile"].to_numpy(dtype=int) - 1],
        "age_band": band,
        "pathway": names("pathway"),
        "priority": names("priority"),
    }
    if "locality" in ch:
        labels["locality"] = names("locality")
    return labels


def group_levels(variable: str, localities: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The groups of a variable in reporting order."""
    return {
        "looked_after_or_cin": ("yes", "no"),
        "deprivation_quintile": ("1", "2", "3", "4", "5"),
        "age_band": tuple(name for name, _, _ in AGE_BANDS),
        "pathway": ("autism", "adhd", "both"),
        "priority": ("urgent", "routine"),
        "locality": localities,
    }[variable]


def _subset(t: ChildTimes, rows: np.ndarray) -> ChildTimes:
    return ChildTimes(**{name: getattr(t, name)[rows] for name in ChildTimes.__dataclass_fields__})


def cohort_metrics(t: ChildTimes, horizon: float, event_counts: dict[str, np.ndarray],
                   rows: np.ndarray) -> dict[str, float]:
    """The waits, shares and counts of the child rows in ``rows``, defined exactly as in
    :func:`replication_metrics` (which equals this over every row). :func:`group_metrics` gives
    the same numbers for every group at once, without a subset per group."""
    s = _subset(t, rows)
    end_list, profiling_end, vetting_end = waiting_at(s, horizon)
    waited_end = horizon - s.referral[end_list]
    # every wait at any stage at the end (diagnostic list, needs profile, vetting), from referral
    waited_any = np.concatenate([horizon - s.referral[on]
                                 for on in (end_list, profiling_end, vetting_end)])
    support = support_incidence(s, horizon)
    assessed = assessment_incidence(s, horizon)
    out = {
        "children": float(rows.sum()),
        "waiting_list_end": float(end_list.sum()),
        "waiting_over_52w_end": float((waited_end >= 52 * WEEK).sum()),
        "list_wait_weeks_p50_end": _quantile(waited_end, 0.5) / WEEK,
        "list_wait_weeks_p92_end": _quantile(waited_end, 0.92) / WEEK,
        "pct_waiting_over_52w_end": _share(waited_end >= 52 * WEEK),
        "waiting_total_end": float(end_list.sum() + vetting_end.sum() + profiling_end.sum()),
        "waiting_total_over_52w_end": float((waited_any >= 52 * WEEK).sum()),
        "total_wait_weeks_p50_end": _quantile(waited_any, 0.5) / WEEK,
        "pct_referrals_assessed_within_13w": 100 * assessed.at(THIRTEEN_WEEKS),
        "pct_referrals_assessed_within_52w": 100 * assessed.at(52 * WEEK),
        "referral_to_assessment_weeks_p50": assessed.median_days() / WEEK,
        "time_to_first_support_weeks_p50": support.median_days() / WEEK,
        "pct_supported_within_13w": 100 * support.at(THIRTEEN_WEEKS),
        "pct_supported_within_52w": 100 * support.at(52 * WEEK),
        "assessments_started": float(_in_window(s.assessment_start, 0.0, horizon).sum()),
    }
    out.update({name: float(counts[rows].sum()) for name, counts in event_counts.items()})
    return out


def _event_counts(result: SimulationResult) -> dict[str, np.ndarray]:
    """Per child row, the events that the by-group counts add up (within the horizon)."""
    return _per_child_event_counts(_Replication(result))


def _per_child_event_counts(s: _Replication) -> dict[str, np.ndarray]:
    n = len(s.result.children)
    return {name: np.bincount(children, minlength=n)[:n]
            for name, children in s.event_children.items()}


def _event_children(s: _Replication) -> dict[str, np.ndarray]:
    log, keep = s.log, s.in_horizon

    def children(event: str, *details: str) -> np.ndarray:
        rows = log.rows(event, *details)
        return log.child[rows[keep[rows]]]

    return {
        "referrals": children("referral", "new", "rereferral"),
        "re_referrals": children("referral", "rereferral"),
        "needs_led_exits": children("exit", "needs_led", "needs_met"),
        "signposted": children("exit", "signposted"),
        "withdrawals": children("exit", "withdrawn", "moved", "private"),
        "aged_out": children("exit", "aged_out"),
        "escalations": children("escalation"),
    }


def _group_codes(children: pd.DataFrame, variable: str,
                 levels: tuple[str, ...]) -> np.ndarray | None:
    """Each child row's group under ``variable`` as its index in ``levels`` (-1: in none of
    them), the groups :func:`group_labels` names; None for a variable the children do not carry."""
    if variable == "looked_after_or_cin":
        return np.where(children["looked_after_or_cin"].to_numpy(dtype=bool), 0, 1)
    if variable == "deprivation_quintile":
        # quintile q is level q - 1, indexed as group_labels indexes its names
        return np.arange(5)[children["deprivation_quintile"].to_numpy(dtype=int) - 1]
    if variable == "age_band":
        age = children["age_at_referral"].to_numpy(dtype=float)
        band = np.full(len(children), len(AGE_BANDS) - 1)
        for k in range(len(AGE_BANDS) - 1, -1, -1):
            _, low, high = AGE_BANDS[k]
            band[(age >= low) & (age < high)] = k
        return band
    if variable in ("pathway", "priority") or (variable == "locality" and "locality" in children):
        column = children[variable]
        level = {name: k for k, name in enumerate(levels)}
        # a missing value (code -1) reads as the last category, as in group_labels
        lookup = np.array([level.get(name, -1) for name in column.cat.categories], dtype=np.int64)
        return lookup[column.cat.codes.to_numpy()]
    return None


def group_metrics(result: SimulationResult, times: ChildTimes | None = None,
                  variables: tuple[str, ...] = GROUP_VARIABLES) -> pd.DataFrame:
    """By-group metrics of one replication, long: ``variable, group, metric, value``.

    Waits and shares are over the child rows of the group (a child referred again is in the
    group of each referral); the families' counts count each child once, in the group of their
    first referral. Over the groups of a variable the counts add up to the whole run's.
    """
    return _group_metrics(_Replication(result, times), variables)


def _group_metrics(s: _Replication, variables: tuple[str, ...] = GROUP_VARIABLES) -> pd.DataFrame:
    # Every group's numbers from arrays computed once for the replication: counts by group are
    # bincounts of group codes, each group's waits a slice of one sorted array, its estimates the
    # estimator's arithmetic on its rows of the once-sorted cohorts. The same definitions (and
    # numbers) as cohort_metrics and family_metrics per group, without a copy of every array
    # per group.
    result, t, h, horizon = s.result, s.times, s.history, s.horizon
    children = result.children
    localities = result.scenario.localities.names
    stages = [np.flatnonzero(on) for on in waiting_at(t, horizon)]
    end_list = stages[0]
    waited = horizon - t.referral[end_list]
    by_wait = np.argsort(waited, kind="stable")
    end_list, waited = end_list[by_wait], waited[by_wait]
    # every child row waiting at any stage at the end (list, needs profile, vetting), by wait
    # from referral: the any-stage waits, sorted once like the list's
    end_any = np.concatenate(stages)
    waited_any = horizon - t.referral[end_any]
    by_wait = np.argsort(waited_any, kind="stable")
    end_any, waited_any = end_any[by_wait], waited_any[by_wait]
    started = _in_window(t.assessment_start, 0.0, horizon)
    event_children = s.event_children
    assessment, support = s.assessment, s.support
    unassessed = ~h.assessed
    wbd = h.would_be_diagnosed
    family = {
        "routed_away_would_be_diagnosed": h.routed_away & wbd,
        "supported_without_diagnosis": h.supported & ~h.diagnosed,
        "would_be_diagnosed_unassessed": unassessed & wbd,
        "would_be_diagnosed_left_unassessed": unassessed & wbd & h.left_unassessed,
        "turned_18_without_assessment": (unassessed & h.aged_out)
                                        | (unassessed & h.turns_18 & h.needs_led_exit),
    }
    records: list[tuple[str, str, str, float]] = []
    for variable in variables:
        if variable not in GROUP_VARIABLES:
            continue
        levels = group_levels(variable, localities=localities)
        code = _group_codes(children, variable, levels)
        if code is None:
            continue
        size = len(levels)
        binned = np.where(code >= 0, code, size)  # in none of the groups: one bin more

        def per_group(bins: np.ndarray) -> np.ndarray:
            return np.bincount(bins, minlength=size + 1)[:size]

        # the list at the horizon by group, each group's waits sorted ascending
        list_group = binned[end_list]
        group_waits = waited[np.argsort(_small_codes(list_group, size + 1), kind="stable")]
        on_list = per_group(list_group)
        starts = np.concatenate(([0], np.cumsum(on_list)))
        over_52w = per_group(list_group[waited >= 52 * WEEK])
        any_group = binned[end_any]
        group_any_waits = waited_any[np.argsort(_small_codes(any_group, size + 1), kind="stable")]
        on_any = per_group(any_group)
        starts_any = np.concatenate(([0], np.cumsum(on_any)))
        any_over_52w = per_group(any_group[waited_any >= 52 * WEEK])
        shares = {"children": per_group(binned), "assessments_started": per_group(binned[started])}
        event_counts = {name: per_group(binned[c]) for name, c in event_children.items()}
        first_group = binned[h.first]
        family_counts = {name: per_group(first_group[mask]) for name, mask in family.items()}
        assessed_by_group = assessment.by_group(code, size)
        supported_by_group = support.by_group(code, size)
        for k, group in enumerate(levels):
            waits = group_waits[starts[k]:starts[k + 1]]
            any_waits = group_any_waits[starts_any[k]:starts_any[k + 1]]
            assessed, supported = assessed_by_group[k], supported_by_group[k]
            values = {
                "children": float(shares["children"][k]),
                "waiting_list_end": float(on_list[k]),
                "waiting_over_52w_end": float(over_52w[k]),
                "list_wait_weeks_p50_end": _sorted_quantile(waits, 0.5) / WEEK,
                "list_wait_weeks_p92_end": _sorted_quantile(waits, 0.92) / WEEK,
                "pct_waiting_over_52w_end": (100 * float(over_52w[k] / on_list[k])
                                             if on_list[k] else math.nan),
                "waiting_total_end": float(on_any[k]),
                "waiting_total_over_52w_end": float(any_over_52w[k]),
                "total_wait_weeks_p50_end": _sorted_quantile(any_waits, 0.5) / WEEK,
                "pct_referrals_assessed_within_13w": 100 * assessed.at(THIRTEEN_WEEKS),
                "pct_referrals_assessed_within_52w": 100 * assessed.at(52 * WEEK),
                "referral_to_assessment_weeks_p50": assessed.median_days() / WEEK,
                "time_to_first_support_weeks_p50": supported.median_days() / WEEK,
                "pct_supported_within_13w": 100 * supported.at(THIRTEEN_WEEKS),
                "pct_supported_within_52w": 100 * supported.at(52 * WEEK),
                "assessments_started": float(shares["assessments_started"][k]),
            }
            values.update({name: float(c[k]) for name, c in event_counts.items()})
            values.update({name: float(c[k]) for name, c in family_counts.items()})
            records.extend((variable, group, name, values[name]) for name in GROUP_METRICS)
    return pd.DataFrame(records, columns=["variable", "group", "metric", "value"])


def replication_summaries(result: SimulationResult, times: ChildTimes | None = None,
                          groups: bool = True
                          ) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame | None]:
    """:func:`replication_metrics`, :func:`monthly_metrics` and (if ``groups``)
    :func:`group_metrics` of one replication, sharing the work they have in common (reading the
    log, the child times and histories, sorting the cohorts): what a worker sends back."""
    s = _Replication(result, times)
    return (_replication_metrics(s), _monthly_metrics(s),
            _group_metrics(s) if groups else None)
