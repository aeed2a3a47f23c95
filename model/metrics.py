"""Metrics: pure functions of one replication's event log, and summaries across replications.

Metric names are stable (DESIGN.md section 3); display labels live in :mod:`model.labels`.
Percentages are on a 0-100 scale; waits are in weeks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .costs import costs
from .pathway import SimulationResult

WEEK = 7.0
THIRTEEN_WEEKS = 13 * WEEK

SCALAR_METRICS = (
    "referrals",
    "waiting_list_end",
    "wait_to_assessment_weeks_p50",
    "wait_to_assessment_weeks_p90",
    "wait_to_assessment_weeks_mean",
    "pct_assessed_within_13w",
    "pct_waiting_over_52w_end",
    "pct_waiting_over_104w_end",
    "time_to_first_support_weeks_p50",
    "assessments_completed",
    "needs_led_exits",
    "withdrawals",
    "aged_out",
    "escalations",
    "clinician_utilisation",
    "cost_total",
    # beyond the design card's list: context a commissioner asks for next
    "waiting_list_start",
    "assessments_started",
    "outsourced_assessments",
    "profiles_completed",
    "support_starts",
    "pct_supported_within_13w",
    "cost_per_assessment",
    "backlog_cleared",
    "cost_assessment_staff",
    "cost_outsourced",
    "cost_profiling",
    "cost_needs_led_plans",
    "cost_support",
)
"""Every scalar metric, in reporting order (the first 16 are DESIGN.md section 3's)."""

MONTHLY_METRICS = (
    "waiting_list",
    "profiling_queue",
    "referrals",
    "assessments_started",
    "assessments_completed",
    "wait_to_assessment_weeks_p50",
    "pct_assessed_within_13w",
    "list_wait_0_13w",
    "list_wait_13_52w",
    "list_wait_52_104w",
    "list_wait_104w_plus",
    "support_starts",
    "escalations",
)
"""Monthly series (value at month end for sizes, count in the month for flows)."""

WAIT_BANDS = (("list_wait_0_13w", 0, 13), ("list_wait_13_52w", 13, 52),
              ("list_wait_52_104w", 52, 104), ("list_wait_104w_plus", 104, math.inf))


@dataclass(frozen=True)
class ChildTimes:
    """First time of each event per child (NaN if it never happened), from the log."""

    referral: np.ndarray
    backlog: np.ndarray
    list_join: np.ndarray
    list_leave: np.ndarray
    profiling_join: np.ndarray
    profiling_leave: np.ndarray
    assessment_start: np.ndarray
    assessment_end: np.ndarray
    exit: np.ndarray
    exit_reason: np.ndarray
    first_support: np.ndarray


def _first(events: pd.DataFrame, name: str, n: int) -> np.ndarray:
    rows = events[events["event"] == name]
    out = np.full(n, np.nan)
    # the log is sorted by time: assigning in reverse leaves each child's first time
    out[rows["child"].to_numpy()[::-1]] = rows["time_days"].to_numpy()[::-1]
    return out


def child_times(result: SimulationResult) -> ChildTimes:
    """Per-child event times from the event log (vectorised pivot)."""
    ev, n = result.events, len(result.children)
    exit_rows = ev[ev["event"] == "exit"]
    reason = np.full(n, "", dtype=object)
    reason[exit_rows["child"].to_numpy()] = exit_rows["detail"].astype(str).to_numpy()
    start, exit_ = _first(ev, "assessment_start", n), _first(ev, "exit", n)
    profiled = _first(ev, "profiled", n)
    return ChildTimes(
        referral=result.children["referral_day"].to_numpy(dtype=float),
        backlog=result.children["backlog"].to_numpy(dtype=bool),
        list_join=_first(ev, "list_join", n),
        list_leave=np.fmin(start, exit_),
        profiling_join=_first(ev, "profiling_join", n),
        profiling_leave=np.fmin(profiled, exit_),
        assessment_start=start,
        assessment_end=_first(ev, "assessment_end", n),
        exit=exit_,
        exit_reason=reason,
        first_support=_first(ev, "support_start", n),
    )


def _in_window(times: np.ndarray, low: float, high: float) -> np.ndarray:
    return (times >= low) & (times < high)


def on_stage_at(join: np.ndarray, leave: np.ndarray, t: float) -> np.ndarray:
    """Mask of children on a stage at time ``t`` (joined at or before, not yet left)."""
    return (join <= t) & ~(leave <= t)


def support_cumulative_incidence(times: ChildTimes, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Aalen-Johansen cumulative incidence of first support among new referrals.

    Leaving the pathway unsupported (assessment start or exit) is a competing event; children
    still waiting unsupported at the horizon are censored there. Returns (weeks, incidence).
    """
    new = _in_window(times.referral, 0.0, horizon)
    ref = times.referral[new]
    support = times.first_support[new]
    other = np.fmin(times.assessment_start[new], times.exit[new])
    supported = support <= np.fmin(other, horizon)
    competing = ~supported & (other <= horizon)
    end = np.where(supported, support, np.where(competing, other, horizon))
    duration = end - ref
    order = np.argsort(duration, kind="stable")
    duration, supported, competing = duration[order], supported[order], competing[order]
    at_risk = len(duration) - np.arange(len(duration))
    any_event = (supported | competing).astype(float)
    survival_after = np.cumprod(1.0 - any_event / np.maximum(at_risk, 1))
    survival_before = np.concatenate([[1.0], survival_after[:-1]])
    incidence = np.cumsum(survival_before * supported / np.maximum(at_risk, 1))
    return duration / WEEK, incidence


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else math.nan


def replication_metrics(result: SimulationResult, times: ChildTimes | None = None) -> dict[str, float]:
    """Every scalar metric of one replication (see :data:`SCALAR_METRICS`).

    ``times`` is ``child_times(result)`` if the caller already has it (it is computed otherwise).
    """
    sc, ev, horizon = result.scenario, result.events, result.horizon_days
    t = child_times(result) if times is None else times
    in_horizon = _in_window(ev["time_days"].to_numpy(), 0.0, horizon + 1e-9)
    counts = ev[in_horizon].groupby(["event", "detail"], observed=True).size()

    def count(event: str, *details: str) -> float:
        if event not in counts.index.get_level_values(0):
            return 0.0
        sub = counts.loc[event]
        return float(sub.sum() if not details else sub.reindex(list(details), fill_value=0).sum())

    started = _in_window(t.assessment_start, 0.0, horizon)
    waits = (t.assessment_start[started] - t.referral[started])
    end_list = on_stage_at(t.list_join, t.list_leave, horizon)
    waited_end = horizon - t.referral[end_list]
    # the list as it stands at the start, before the first session (at day 0) takes anyone
    start_list = (t.list_join <= 0.0) & ~(t.list_leave < 0.0)
    weeks, incidence = support_cumulative_incidence(t, horizon)
    reached = np.flatnonzero(incidence >= 0.5)
    within_13 = np.flatnonzero(weeks <= 13)
    cap = result.capacity[result.capacity["stage"] == "assessment"]
    available = cap["hours_available"].sum()
    metrics = {
        "referrals": count("referral", "new"),
        "waiting_list_end": float(end_list.sum()),
        "wait_to_assessment_weeks_p50": _quantile(waits, 0.5) / WEEK,
        "wait_to_assessment_weeks_p90": _quantile(waits, 0.9) / WEEK,
        "wait_to_assessment_weeks_mean": float(waits.mean()) / WEEK if len(waits) else math.nan,
        "pct_assessed_within_13w": 100 * float((waits <= THIRTEEN_WEEKS).mean()) if len(waits) else math.nan,
        # "over N weeks" is N weeks or more, as in the wait bands (WAIT_BANDS) and the clearance
        # question, so the end-of-horizon share and the last month's bands count the same children
        "pct_waiting_over_52w_end": 100 * float((waited_end >= 52 * WEEK).mean()) if len(waited_end) else 0.0,
        "pct_waiting_over_104w_end": 100 * float((waited_end >= 104 * WEEK).mean()) if len(waited_end) else 0.0,
        "time_to_first_support_weeks_p50": float(weeks[reached[0]]) if len(reached) else math.nan,
        "assessments_completed": count("assessment_end"),
        "needs_led_exits": count("exit", "needs_led", "needs_met"),
        "withdrawals": count("exit", "withdrawn", "moved", "private"),
        "aged_out": count("exit", "aged_out"),
        "escalations": count("escalation"),
        "clinician_utilisation": float(cap["hours_used"].sum() / available) if available > 0 else math.nan,
        "waiting_list_start": float(start_list.sum()),
        "assessments_started": float(started.sum()),
        "outsourced_assessments": count("assessment_start", "outsourced"),
        "profiles_completed": count("profiled"),
        "support_starts": count("support_start"),
        "pct_supported_within_13w": 100 * float(incidence[within_13[-1]]) if len(within_13) else 0.0,
        "backlog_cleared": float((waited_end < THIRTEEN_WEEKS).all()),
    }
    metrics.update(costs(result))  # cost_total, its components and cost_per_assessment
    return metrics


def month_labels(result: SimulationResult) -> list[str]:
    start = pd.Timestamp(result.scenario.simulation.start_date)
    return [(start + pd.DateOffset(months=k)).strftime("%Y-%m")
            for k in range(len(result.month_starts_days) - 1)]


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


def _wait_band_counts(t: ChildTimes, ends: np.ndarray) -> dict[str, np.ndarray]:
    """Children on the list at each month end by how long they had waited (WAIT_BANDS).

    A child is on the list at ends ``[first_on, first_off)`` and has waited at least ``x`` from
    the first end where ``end - referral >= x``; counting those index ranges gives, exactly, the
    numbers of a mask per month and band without a pass over every child per month. A band
    [low, high) holds #(waited >= low) - #(waited >= high).
    """
    ever = np.isfinite(t.list_join)
    join, leave, referral = t.list_join[ever], t.list_leave[ever], t.referral[ever]
    last = len(ends)
    first_on = np.searchsorted(ends, join, side="left")  # first end with join <= end
    first_off = np.where(np.isfinite(leave), np.searchsorted(ends, leave, side="left"), last)

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


def monthly_metrics(result: SimulationResult, times: ChildTimes | None = None) -> pd.DataFrame:
    """Monthly series of one replication, long format: ``month, metric, value``.

    ``times`` is ``child_times(result)`` if the caller already has it (it is computed otherwise).
    """
    t = child_times(result) if times is None else times
    ev = result.events
    edges = result.month_starts_days
    labels = month_labels(result)
    rows: dict[str, np.ndarray] = {}

    def flow(mask: pd.Series | np.ndarray) -> np.ndarray:
        times = ev.loc[mask, "time_days"].to_numpy()
        return np.histogram(times, bins=edges)[0].astype(float)

    rows["referrals"] = flow((ev["event"] == "referral") & (ev["detail"] == "new"))
    rows["assessments_started"] = flow(ev["event"] == "assessment_start")
    rows["assessments_completed"] = flow(ev["event"] == "assessment_end")
    rows["support_starts"] = flow(ev["event"] == "support_start")
    rows["escalations"] = flow(ev["event"] == "escalation")
    ends = edges[1:]
    rows["waiting_list"] = on_stage_counts(t.list_join, t.list_leave, ends)
    rows["profiling_queue"] = on_stage_counts(t.profiling_join, t.profiling_leave, ends)
    rows.update(_wait_band_counts(t, ends))
    started = np.isfinite(t.assessment_start)
    month = np.searchsorted(edges, t.assessment_start[started], side="right") - 1
    wait = (t.assessment_start[started] - t.referral[started]) / WEEK
    keep = (month >= 0) & (month < len(labels))
    month, wait = month[keep], wait[keep]
    rows["wait_to_assessment_weeks_p50"] = _monthly_medians(month, wait, len(labels))
    within = np.bincount(month[wait <= 13], minlength=len(labels) + 1)[:len(labels)]
    started_in = np.bincount(month, minlength=len(labels) + 1)[:len(labels)]
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["pct_assessed_within_13w"] = np.where(started_in > 0, 100.0 * within / started_in, np.nan)
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
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def summarise(per_replication: pd.DataFrame, metrics: tuple[str, ...] = SCALAR_METRICS) -> pd.DataFrame:
    """``metric, mean, ci_low, ci_high, n`` (n = replications with a finite value)."""
    rows = []
    for name in metrics:
        if name in per_replication:
            mean, low, high, n = mean_ci(per_replication[name].to_numpy())
            rows.append({"metric": name, "mean": mean, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows)


PERCENTILES = (5, 25, 50, 75, 95)


def percentile_bands(monthly: pd.DataFrame) -> pd.DataFrame:
    """``month, metric, p5, p25, p50, p75, p95`` across replications (NaNs ignored)."""
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
