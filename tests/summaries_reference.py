"""The per-replication summaries as they were before they were rewritten for speed, unchanged:
the reference that tests/test_summaries_equal.py holds the fast ones to, number for number.

Copied from model/metrics.py (the per-replication functions and their helpers) and model/costs.py
(``costs`` and ``support_weeks_delivered``) at the commit before the rewrite; only the imports
differ, and the helpers the rewrite left unchanged are imported from model.metrics rather than
copied. Do not "fix" anything here: it is the old behaviour, bugs and all. Metrics added
since the rewrite (the any-stage waits, whole-run and by group) are added here written the plain
way (np.quantile on unsorted values, a count per stage), so the fast code is held to them too.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from model.costs import COST_COMPONENTS, staff_post_cost
from model.metrics import (  # unchanged by the rewrite: shared, not copied
    ChildHistory,
    ChildTimes,
    CumulativeIncidence,
    _cohort_within,
    _first_end_waited,
    _in_window,
    _list_child_weeks,
    _monthly_medians,
    _share,
    _subset,
    group_labels,
    group_levels,
    on_stage_at,
    on_stage_counts,
)
from model.pathway import SimulationResult
from model.scenario import DAYS_PER_WEEK, DAYS_PER_YEAR

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
    list_join, profiling_join = _first(ev, "list_join", n), _first(ev, "profiling_join", n)
    backlog = result.children["backlog"].to_numpy(dtype=bool)
    vetted = np.fmin(np.fmin(_first(ev, "vetted", n), exit_), np.fmin(list_join, profiling_join))
    return ChildTimes(
        referral=result.children["referral_day"].to_numpy(dtype=float),
        backlog=backlog,
        vetting_leave=np.where(backlog, np.nan, vetted),
        list_join=list_join,
        list_leave=np.fmin(start, exit_),
        profiling_join=profiling_join,
        profiling_leave=np.fmin(profiled, exit_),
        assessment_start=start,
        assessment_end=_first(ev, "assessment_end", n),
        exit=exit_,
        exit_reason=reason,
        first_support=_first(ev, "support_start", n),
    )


# -------------------------------------------------------------------------------------------------
# Time-to-event estimates over the referral cohort


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
    duration, event, competing = duration[order], event[order], competing[order]
    at_risk = len(duration) - np.arange(len(duration))
    any_event = (event | competing).astype(float)
    survival_after = np.cumprod(1.0 - any_event / np.maximum(at_risk, 1))
    survival_before = np.concatenate([[1.0], survival_after[:-1]])
    incidence = np.cumsum(survival_before * event / np.maximum(at_risk, 1))
    last_censored = bool(len(duration)) and not (event[-1] or competing[-1])
    return CumulativeIncidence(duration, incidence, last_censored)


def _cohort_incidence(times: ChildTimes, horizon: float, event_time: np.ndarray,
                      other_time: np.ndarray) -> CumulativeIncidence:
    """Incidence of ``event_time`` among new referrals in the horizon, ``other_time`` competing,
    children with neither by the horizon censored there."""
    new = _in_window(times.referral, 0.0, horizon)
    ref, first, other = times.referral[new], event_time[new], other_time[new]
    event = first <= np.fmin(other, horizon)
    competing = ~event & (other <= horizon)
    end = np.where(event, first, np.where(competing, other, horizon))
    return cumulative_incidence(end - ref, event, competing)


def support_incidence(times: ChildTimes, horizon: float) -> CumulativeIncidence:
    """First support among new referrals (assessment start or leaving unsupported compete)."""
    return _cohort_incidence(times, horizon, times.first_support,
                             np.fmin(times.assessment_start, times.exit))


def assessment_incidence(times: ChildTimes, horizon: float) -> CumulativeIncidence:
    """Start of assessment among new referrals; leaving without one (rejected at vetting,
    needs-led or signposted after profiling, withdrawn, moved, private, turned 18) competes."""
    return _cohort_incidence(times, horizon, times.assessment_start, times.exit)


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else math.nan


def replication_metrics(result: SimulationResult, times: ChildTimes | None = None) -> dict[str, float]:
    """Every scalar metric of one replication (see :data:`SCALAR_METRICS`).

    ``times`` is ``child_times(result)`` if the caller already has it (it is computed otherwise).
    Undefined values (a median not reached, a share of nobody) are NaN, never 0.
    """
    ev, horizon = result.events, result.horizon_days
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
    vetting_end = on_stage_at(t.referral, t.vetting_leave, horizon) & ~t.backlog
    profiling_end = on_stage_at(t.profiling_join, t.profiling_leave, horizon)
    # the list as it stands at the start, before the first session (at day 0) takes anyone
    start_list = (t.list_join <= 0.0) & ~(t.list_leave < 0.0)
    support = support_incidence(t, horizon)
    assessed = assessment_incidence(t, horizon)
    cap = result.capacity[result.capacity["stage"] == "assessment"]
    available = cap["hours_available"].sum()
    metrics = {
        # re-referrals are referrals too (and counted again in re_referrals)
        "referrals": count("referral", "new", "rereferral"),
        "waiting_list_end": float(end_list.sum()),
        "waiting_total_end": float(end_list.sum() + vetting_end.sum() + profiling_end.sum()),
        "list_wait_weeks_p50_end": _quantile(waited_end, 0.5) / WEEK,
        "list_wait_weeks_p92_end": _quantile(waited_end, 0.92) / WEEK,
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
        # added with the any-stage waits: everyone waiting at any stage at the end, from referral
        "total_wait_weeks_p50_end": _quantile(np.concatenate([
            waited_end, horizon - t.referral[profiling_end], horizon - t.referral[vetting_end]]),
            0.5) / WEEK,
        "waiting_total_over_13w_end": float(sum(
            ((horizon - t.referral[m]) >= THIRTEEN_WEEKS).sum()
            for m in (end_list, profiling_end, vetting_end))),
        "waiting_total_over_52w_end": float(sum(
            ((horizon - t.referral[m]) >= 52 * WEEK).sum()
            for m in (end_list, profiling_end, vetting_end))),
        "waiting_total_over_104w_end": float(sum(
            ((horizon - t.referral[m]) >= 104 * WEEK).sum()
            for m in (end_list, profiling_end, vetting_end))),
        "profiling_wait_weeks_p50_end": _quantile(horizon - t.referral[profiling_end], 0.5) / WEEK,
        "profiling_over_52w_end": float(((horizon - t.referral[profiling_end]) >= 52 * WEEK).sum()),
        "vetting_over_52w_end": float(((horizon - t.referral[vetting_end]) >= 52 * WEEK).sum()),
        "pct_referrals_assessed_within_13w": 100 * assessed.at(THIRTEEN_WEEKS),
        "pct_referrals_assessed_within_52w": 100 * assessed.at(52 * WEEK),
        "pct_referrals_assessed_within_104w": 100 * assessed.at(104 * WEEK),
        "referral_to_assessment_weeks_p50": assessed.median_days() / WEEK,
        "wait_of_those_assessed_weeks_p50": _quantile(waits, 0.5) / WEEK,
        "wait_of_those_assessed_weeks_p90": _quantile(waits, 0.9) / WEEK,
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
        "clinician_utilisation": float(cap["hours_used"].sum() / available) if available > 0 else math.nan,
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
    metrics.update(family_metrics(result, t))
    metrics.update(team_metrics(result))
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
    sc, ev, cap, horizon = result.scenario, result.events, result.capacity, result.horizon_days
    fu = sc.follow_up
    event = ev["event"].to_numpy()
    in_horizon = ev["time_days"].to_numpy() <= horizon + 1e-9
    started = ev["child"].to_numpy()[(event == "follow_up_start") & in_horizon]
    ended = ev["child"].to_numpy()[(event == "follow_up_end") & in_horizon]
    still = float(len(np.setdiff1d(started, ended)))
    if fu.enabled and fu.initial_caseload:
        rate = (fu.discharge_per_year + 1.0 / fu.initial_caseload_years_to_18) / 365.25
        still += fu.initial_caseload * math.exp(-rate * horizon)
    stage = cap["stage"].astype(str)
    follow = cap[stage.str.startswith("follow_up:")]
    out = {
        "follow_up_starts": float(len(started)),
        "follow_up_caseload_end": still,
        "follow_up_hours": float(follow["hours_used"].sum()),
        "follow_up_hours_unmet": float((follow["hours_available"] - follow["hours_used"]).sum()),
    }
    if sc.assessment.capacity_model == "by_profession":
        for p in sc.assessment.professions:
            rows = cap[stage == f"profession:{p.name}"]
            available = float(rows["hours_available"].sum())
            out[f"utilisation_{p.name}"] = (float(rows["hours_used"].sum()) / available
                                            if available > 0 else math.nan)
            out[f"follow_up_hours_{p.name}"] = float(
                cap.loc[stage == f"follow_up:{p.name}", "hours_used"].sum())
    return out


# -------------------------------------------------------------------------------------------------
# What families worry about (issue 11): counted once per child, across their referrals

NEEDS_LED_EXITS = ("needs_led", "needs_met", "signposted")
"""Leaving without an assessment through the front door's offer (a plan, needs met, signposted)."""
LEFT_UNASSESSED = ("rejected", "needs_led", "needs_met", "signposted", "withdrawn", "aged_out")
"""Leaving without an assessment here or elsewhere (moving away or going private are not)."""


def child_histories(result: SimulationResult, t: ChildTimes) -> ChildHistory:
    """Per child across referrals: assessed, diagnosed or supported by the horizon, routed away
    by the profiling tool, how their last referral ended, and whether they turn 18 in the horizon."""
    children, ev, horizon = result.children, result.events, result.horizon_days
    n = len(children)
    origin = (children["child_id"].to_numpy(dtype=np.int64) if "child_id" in children
              else np.arange(n))
    latent = (children["latent_outcome"].astype(str).to_numpy() if "latent_outcome" in children
              else np.full(n, "none", dtype=object))
    ids, first, key = np.unique(origin, return_index=True, return_inverse=True)
    m = len(ids)

    def any_of(mask: np.ndarray) -> np.ndarray:
        return np.bincount(key[mask], minlength=m) > 0

    assessed = any_of(t.assessment_start <= horizon)
    diagnosable = latent != "none"
    diagnosed = any_of((t.assessment_end <= horizon) & diagnosable)
    support_day = np.full(m, np.inf)
    has = t.first_support <= horizon
    np.minimum.at(support_day, key[has], t.first_support[has])
    referral = t.referral[first]
    prow = ev[(ev["event"] == "profiled") & ev["detail"].isin(["needs_led", "signposted"])
              & (ev["time_days"] <= horizon)]
    routed = np.zeros(n, dtype=bool)
    routed[prow["child"].to_numpy()] = True
    # the last referral of each child: the latest referral day (rows come in time order)
    last = np.zeros(m, dtype=np.int64)
    np.maximum.at(last, key, np.arange(n))
    exited = t.exit[last] <= horizon
    reason = np.where(exited & ~np.isfinite(t.assessment_start[last]), t.exit_reason[last], "")
    age = children["age_at_referral"].to_numpy(dtype=float)[first]
    age_out = result.scenario.leaving.age_out_years
    turns_18 = referral + (age_out - age) * 365.25 <= horizon
    still = ~exited & ~np.isfinite(t.assessment_start[last])
    return ChildHistory(
        first=first, would_be_diagnosed=diagnosable[first], assessed=assessed,
        diagnosed=diagnosed, supported=np.isfinite(support_day),
        weeks_to_support=(support_day - referral) / WEEK, routed_away=any_of(routed),
        last_exit_reason=reason, left_unassessed=np.isin(reason, LEFT_UNASSESSED),
        needs_led_exit=np.isin(reason, NEEDS_LED_EXITS), still_in_pathway=still, turns_18=turns_18,
        aged_out=any_of(t.exit_reason == "aged_out"))


def family_metrics(result: SimulationResult, t: ChildTimes,
                   history: ChildHistory | None = None,
                   children: np.ndarray | None = None) -> dict[str, float]:
    """The families' concerns as counts of children (each child once, however often referred).

    ``children`` selects entries of ``history`` (a group); all of them by default.
    """
    h = child_histories(result, t) if history is None else history
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
    return [(start + pd.DateOffset(months=k)).strftime("%Y-%m")
            for k in range(len(result.month_starts_days) - 1)]


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


def _list_wait_quantiles(t: ChildTimes, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and 92nd percentile of the time already waited (referral to each month end) by the
    children on the diagnostic list then, in weeks; NaN for a month with nobody waiting."""
    ever = np.isfinite(t.list_join)
    join, leave, referral = t.list_join[ever], t.list_leave[ever], t.referral[ever]
    p50, p92 = np.full(len(ends), np.nan), np.full(len(ends), np.nan)
    for k, end in enumerate(ends):
        waited = end - referral[on_stage_at(join, leave, end)]
        if len(waited):
            p50[k], p92[k] = np.quantile(waited, [0.5, 0.92]) / WEEK
    return p50, p92


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

    referral = ev["event"] == "referral"
    rows["referrals"] = flow(referral & ev["detail"].isin(["new", "rereferral"]))
    rows["re_referrals"] = flow(referral & (ev["detail"] == "rereferral"))
    rows["assessments_started"] = flow(ev["event"] == "assessment_start")
    rows["assessments_completed"] = flow(ev["event"] == "assessment_end")
    rows["support_starts"] = flow(ev["event"] == "support_start")
    rows["escalations"] = flow(ev["event"] == "escalation")
    ends = edges[1:]
    rows["waiting_list"] = on_stage_counts(t.list_join, t.list_leave, ends)
    rows["profiling_queue"] = on_stage_counts(t.profiling_join, t.profiling_leave, ends)
    new = ~t.backlog
    rows["vetting_queue"] = on_stage_counts(t.referral[new], t.vetting_leave[new], ends)
    rows["waiting_total"] = rows["waiting_list"] + rows["profiling_queue"] + rows["vetting_queue"]
    rows.update(_wait_band_counts(t, ends))
    rows["list_wait_weeks_p50"], rows["list_wait_weeks_p92"] = _list_wait_quantiles(t, ends)
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
    "waiting_total_end",  # added with the any-stage waits by group
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
    "total_wait_weeks_p50_end",  # added with the any-stage waits by group
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


def cohort_metrics(t: ChildTimes, horizon: float, event_counts: dict[str, np.ndarray],
                   rows: np.ndarray) -> dict[str, float]:
    """The waits, shares and counts of the child rows in ``rows``, defined exactly as in
    :func:`replication_metrics` (which equals this over every row)."""
    s = _subset(t, rows)
    end_list = on_stage_at(s.list_join, s.list_leave, horizon)
    waited_end = horizon - s.referral[end_list]
    vetting_end = on_stage_at(s.referral, s.vetting_leave, horizon) & ~s.backlog
    profiling_end = on_stage_at(s.profiling_join, s.profiling_leave, horizon)
    support = support_incidence(s, horizon)
    assessed = assessment_incidence(s, horizon)
    out = {
        "children": float(rows.sum()),
        "waiting_list_end": float(end_list.sum()),
        "waiting_over_52w_end": float((waited_end >= 52 * WEEK).sum()),
        "list_wait_weeks_p50_end": _quantile(waited_end, 0.5) / WEEK,
        "list_wait_weeks_p92_end": _quantile(waited_end, 0.92) / WEEK,
        "pct_waiting_over_52w_end": _share(waited_end >= 52 * WEEK),
        # added with the any-stage waits by group: the group's children waiting at the end on
        # the diagnostic list, for a needs profile or in vetting, each wait from referral
        "waiting_total_end": float(end_list.sum() + vetting_end.sum() + profiling_end.sum()),
        "waiting_total_over_52w_end": float(sum(
            ((horizon - s.referral[m]) >= 52 * WEEK).sum()
            for m in (end_list, profiling_end, vetting_end))),
        "total_wait_weeks_p50_end": _quantile(np.concatenate([
            waited_end, horizon - s.referral[profiling_end], horizon - s.referral[vetting_end]]),
            0.5) / WEEK,
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
    ev, n = result.events, len(result.children)
    ev = ev[_in_window(ev["time_days"].to_numpy(), 0.0, result.horizon_days + 1e-9)]
    # category codes, not strings: comparing strings row by row is most of the cost
    event = ev["event"].cat.codes.to_numpy()
    detail = ev["detail"].cat.codes.to_numpy()
    child = ev["child"].to_numpy()
    E = {name: k for k, name in enumerate(ev["event"].cat.categories)}
    D = {name: k for k, name in enumerate(ev["detail"].cat.categories)}

    def per_child(mask: np.ndarray) -> np.ndarray:
        return np.bincount(child[mask], minlength=n)[:n]

    def among(*names: str) -> np.ndarray:
        return np.isin(detail, [D[name] for name in names])

    exit_ = event == E["exit"]
    referral = event == E["referral"]
    return {
        "referrals": per_child(referral & among("new", "rereferral")),
        "re_referrals": per_child(referral & among("rereferral")),
        "needs_led_exits": per_child(exit_ & among("needs_led", "needs_met")),
        "signposted": per_child(exit_ & among("signposted")),
        "withdrawals": per_child(exit_ & among("withdrawn", "moved", "private")),
        "aged_out": per_child(exit_ & among("aged_out")),
        "escalations": per_child(event == E["escalation"]),
    }


def group_metrics(result: SimulationResult, times: ChildTimes | None = None,
                  variables: tuple[str, ...] = GROUP_VARIABLES) -> pd.DataFrame:
    """By-group metrics of one replication, long: ``variable, group, metric, value``.

    Waits and shares are over the child rows of the group (a child referred again is in the
    group of each referral); the families' counts count each child once, in the group of their
    first referral. Over the groups of a variable the counts add up to the whole run's.
    """
    t = child_times(result) if times is None else times
    horizon = result.horizon_days
    labels = group_labels(result)
    counts = _event_counts(result)
    history = child_histories(result, t)
    localities = result.scenario.localities.names
    records: list[tuple[str, str, str, float]] = []
    for variable in variables:
        if variable not in labels:
            continue
        label = labels[variable]
        for group in group_levels(variable, localities=localities):
            rows = label == group
            values = cohort_metrics(t, horizon, counts, rows)
            values.update(family_metrics(result, t, history, rows[history.first]))
            records.extend((variable, group, name, values[name]) for name in GROUP_METRICS)
    return pd.DataFrame(records, columns=["variable", "group", "metric", "value"])


def support_weeks_delivered(result: SimulationResult) -> float:
    """Weeks of support while waiting given within the horizon, summed over episodes (the log's
    ``support_start`` to ``support_end``, or to the horizon for an episode still running)."""
    ev, horizon = result.events, result.horizon_days
    starts = ev[(ev["event"] == "support_start") & (ev["detail"] == "support_while_waiting")]
    if not len(starts):
        return 0.0
    ends = ev[ev["event"] == "support_end"]
    end_of = pd.Series(ends["time_days"].to_numpy(), index=ends["child"].to_numpy())
    begin = starts["time_days"].to_numpy()
    finish = end_of.reindex(starts["child"].to_numpy()).to_numpy(dtype=float)
    finish = np.where(np.isnan(finish), horizon, np.minimum(finish, horizon))
    begin = np.clip(begin, 0.0, horizon)
    return float(np.maximum(finish - begin, 0.0).sum() / DAYS_PER_WEEK)


def costs(result: SimulationResult) -> dict[str, float]:
    """Every cost metric of one replication: the components, ``cost_total`` (their sum) and
    ``cost_per_assessment`` (NaN when no assessment was completed), in pounds."""
    sc, ev, horizon = result.scenario, result.events, result.horizon_days
    start = pd.Timestamp(sc.simulation.start_date)
    in_horizon = ((ev["time_days"] >= 0.0) & (ev["time_days"] < horizon + 1e-9)).to_numpy()
    profiling = sc.profiling
    plans = int(((ev["event"] == "support_start") & (ev["detail"] == "needs_led_plan")).to_numpy()
                [in_horizon].sum())
    # each block's own count: counting the log's outsourced starts within a block's dates would
    # charge a start twice where blocks overlap, and at the wrong price
    outsourced = sum(float(n) * block.cost_per_assessment
                     for block, n in zip(sc.assessment.outsourced, result.outsourced_starts,
                                         strict=True))
    out = {
        "cost_assessment_staff": staff_post_cost(sc.assessment, start, horizon),
        "cost_outsourced": float(outsourced),
        "cost_profiling": (profiling.practitioner_wte * profiling.cost_per_wte_year
                           * horizon / DAYS_PER_YEAR) if profiling.enabled else 0.0,
        "cost_needs_led_plans": plans * profiling.cost_per_needs_led_plan,
        "cost_support": support_weeks_delivered(result) * sc.support.cost_per_week,
    }
    out["cost_total"] = float(sum(out[name] for name in COST_COMPONENTS))
    completed = int(((ev["event"] == "assessment_end").to_numpy() & in_horizon).sum())
    assessment_cost = out["cost_assessment_staff"] + out["cost_outsourced"]
    out["cost_per_assessment"] = assessment_cost / completed if completed else math.nan
    return out


__all__ = ["COST_COMPONENTS", "COST_RULE", "costs", "staff_post_cost", "support_weeks_delivered"]
