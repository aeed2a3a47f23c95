"""Queueing sanity panel: the waiting-list formulas NHS teams use, beside every projection.

NHS analysts size waiting lists with a handful of queueing formulas from Fong, Mushtaq, House,
Gordon, Chen, Griffiths, Ahmad and Walton (2022), *Understanding Waiting Lists Pressures*
(medRxiv 10.1101/2022.08.23.22279117), implemented in the NHS-R Community's R package
`NHSRwaitinglist <https://github.com/nhs-r-community/NHSRwaitinglist>`_. This module has the
same formulas as pure functions, named as in the package (``calc_queue_load`` ->
:func:`queue_load`, ...), and a panel builder that applies them to a scenario and sets them
beside what the simulation did, saying for each row when the formula's assumptions hold and
whether the simulation agrees with it within a stated tolerance.

The formulas (demand and capacity in children a week, waits in weeks):

* load = demand / capacity; above 1 the list grows without end (Fact 1-2);
* target mean wait = target wait / factor (factor 4: with exponential waits ``exp(-4)`` = 1.8%
  miss the target; factor 6: 0.25%) (Fact 4);
* target queue size = demand x target wait / factor (Little's law at the target mean wait)
  (Fact 5-6); a list over twice it needs relief capacity (Fact 7);
* relief capacity = demand + (queue size - target queue size) / weeks to target (Fact 7);
* target capacity = demand + (cv_demand^2 + cv_capacity^2) / 2 x factor / target wait, the
  Kingman / Pollaczek-Khinchine formula solved for capacity in heavy traffic (Fact 8);
* waiting-list pressure = 2 x mean wait / target wait; above 1 the target is likely missed (Fact 9).

The package's worked examples (its README and the "example walkthrough" vignette, the paper's
P4 ENT list: demand 30 a week, capacity 27, 1,200 waiting, 52-week target) are reproduced to
their printed precision in ``tests/test_waitinglist.py``.

>>> round(queue_load(30, 27), 6), target_queue_size(30, 52), round(relief_capacity(30, 1200, 390, 26), 5)
(1.111111, 390.0, 61.15385)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .labels import fmt_number
from .metrics import mean_ci
from .pathway import PathwayModel, expected_monthly_referrals, month_starts, read_backlog_table
from .scenario import Scenario

SOURCE = ("Fong et al. 2022, Understanding Waiting Lists Pressures (medRxiv "
          "10.1101/2022.08.23.22279117); NHSRwaitinglist (NHS-R Community)")
NICE_TARGET_WEEKS = 13.0
"""NICE QS51: a diagnostic assessment should start within 13 weeks of referral."""
RELIEF_WEEKS = 26.0
"""NHSRwaitinglist's default time to bring an over-large list down to its target size."""
FACTOR = 4.0
"""Target mean wait = target / 4 (NHSRwaitinglist's default: 1.8% of waits over the target)."""


# -------------------------------------------------------------------------------------------------
# The formulas (NHSRwaitinglist's calc_* functions)


def queue_load(demand: float, capacity: float) -> float:
    """Demand over capacity (``calc_queue_load``): above 1 the list grows without end."""
    return demand / capacity if capacity > 0 else math.inf


def target_mean_wait(target_wait: float, factor: float = FACTOR) -> float:
    """The mean wait that meets ``target_wait`` for all but ``exp(-factor)`` of waits
    (``calc_target_mean_wait``): target / factor."""
    return target_wait / factor


def target_queue_size(demand: float, target_wait: float, factor: float = FACTOR) -> float:
    """Little's law at the target mean wait (``calc_target_queue_size``): demand x target / factor.

    Only meaningful when capacity exceeds demand.
    """
    return demand * target_mean_wait(target_wait, factor)


def relief_capacity(demand: float, queue_size: float, target_queue_size: float,
                    time_to_target: float = RELIEF_WEEKS) -> float:
    """Capacity a week that brings ``queue_size`` down to ``target_queue_size`` in
    ``time_to_target`` weeks while demand continues (``calc_relief_capacity``):
    demand + (queue size - target queue size) / time to target."""
    return demand + (queue_size - target_queue_size) / time_to_target


def target_capacity(demand: float, target_wait: float, factor: float = FACTOR,
                    cv_demand: float = 1.0, cv_capacity: float = 1.0) -> float:
    """Capacity a week that keeps the mean wait at ``target_wait / factor``
    (``calc_target_capacity``): demand + (cv_demand^2 + cv_capacity^2) / 2 x factor / target.

    This is Kingman's heavy-traffic formula for a single queue, mean wait
    ~ (cv_a^2 + cv_s^2) / 2 / (capacity - demand), solved for capacity. ``cv_demand`` is the
    coefficient of variation of the times between referrals (1 for Poisson referrals),
    ``cv_capacity`` that of the times between removals when the list is not empty.
    """
    return demand + (cv_demand**2 + cv_capacity**2) / 2 * (factor / target_wait)


def waiting_list_pressure(mean_wait: float, target_wait: float) -> float:
    """2 x mean wait / target (``calc_waiting_list_pressure``): above 1 the target is likely missed."""
    return 2 * mean_wait / target_wait


def kingman_mean_wait(demand: float, capacity: float, cv_demand: float = 1.0,
                      cv_capacity: float = 1.0) -> float:
    """Mean wait before removal from a stable single queue: Kingman's formula
    load x (cv_a^2 + cv_s^2) / 2 / (capacity - demand), exact for Poisson referrals
    (Pollaczek-Khinchine, M/G/1). Infinite when demand reaches capacity.

    The target-capacity formula is this with the load taken as 1 (heavy traffic), so at the
    target capacity the wait is load x target / factor, a little under target / factor.
    """
    if capacity <= demand:
        return math.inf
    return (demand / capacity) * (cv_demand**2 + cv_capacity**2) / 2 / (capacity - demand)


def share_over(wait: float, demand: float, capacity: float) -> float:
    """Share of waits over ``wait`` weeks in a stable M/M/1-like queue:
    load x exp(-(capacity - demand) x wait) (Fact 3: halves every fixed number of weeks)."""
    if capacity <= demand:
        return 1.0
    return (demand / capacity) * math.exp(-(capacity - demand) * wait)


# -------------------------------------------------------------------------------------------------
# What the scenario implies


def _cv(dist: Any, points: int = 200_001) -> float:
    """Coefficient of variation of a distribution, by quadrature of its inverse CDF."""
    u = (np.arange(points) + 0.5) / points
    x = np.asarray(dist.ppf(u), dtype=float)
    mean = float(x.mean())
    return float(x.std() / mean) if mean > 0 else math.nan


@dataclass(frozen=True)
class ScenarioQueue:
    """The diagnostic list as the formulas see it: demand, capacity and the list at the start.

    Rates are children a week. ``demand_first_year`` and ``capacity_start`` are "today" (what the
    formulas are applied to when planning); ``demand_horizon`` and ``capacity_horizon`` are the
    means over the projection (what the simulation's totals are compared with).
    """

    weeks: float
    referrals_horizon: float
    join_share: float
    demand_first_year: float
    demand_horizon: float
    capacity_start: float
    capacity_horizon: float
    outsourced_horizon: float
    cv_demand: float
    cv_capacity: float
    queue_start: float
    mean_waited_start: float
    annual_growth: float
    seasonality_spread: float
    fifo: bool
    leaving_per_year: float
    staffing_changes: int
    session_weeks: float
    engine: str
    professions_limiting: int = 1
    """By profession: how many professions the recipes need (more than one can run short in a
    session, so the least profession's capacity is an upper bound on throughput)."""


def join_share(scenario: Scenario) -> float:
    """Share of new referrals who reach the diagnostic list (before anyone leaves): accepted at
    vetting, and with profiling on, routed to diagnosis or asking for it anyway."""
    share = scenario.vetting.accept_probability if scenario.vetting.enabled else 1.0
    p = scenario.profiling
    if p.enabled:
        r = p.routing
        share *= r.diagnostic + (r.needs_led + r.signposted) * p.diagnosis_requested_anyway
    return share


def _mean_waited_start(scenario: Scenario) -> float:
    """Mean weeks already waited by the children on the list at the start."""
    backlog = scenario.backlog
    if not backlog.enabled:
        return math.nan
    start = pd.Timestamp(scenario.simulation.start_date)
    if backlog.table is not None:
        dates = read_backlog_table(backlog.table, start)["referral_date"]
    elif backlog.waiting is not None:
        dates = backlog.waiting.to_frame()["referral_date"]
    else:
        return backlog.waited_weeks.mean_value if backlog.count else math.nan
    return float(((start - dates) / pd.Timedelta(days=7)).mean()) if len(dates) else math.nan


def _queue_start(scenario: Scenario) -> float:
    backlog = scenario.backlog
    if not backlog.enabled:
        return 0.0
    if backlog.table is not None:
        start = pd.Timestamp(scenario.simulation.start_date)
        return float(len(read_backlog_table(backlog.table, start)))
    if backlog.waiting is not None:
        return float(len(backlog.waiting.referral_date))
    return float(backlog.count)


def scenario_queue(scenario: Scenario) -> ScenarioQueue:
    """Demand, capacity and variability of the diagnostic list implied by ``scenario``.

    Capacity is NHS assessments a week: the clinical hours the team gives to assessment
    (the engine's own rule, integrated over staffing changes and ramps) over the mean
    professional hours per assessment, or servers x 7 / mean service days; outsourced blocks
    are added over the horizon. No random numbers are drawn.
    """
    sim, a = scenario.simulation, scenario.assessment
    edges = month_starts(pd.Timestamp(sim.start_date), sim.horizon_months)
    weeks = float(edges[-1]) / 7.0
    expected = expected_monthly_referrals(scenario).to_numpy(dtype=float)
    first = min(12, len(expected))
    share = join_share(scenario)
    referrals_horizon = float(expected.sum()) / weeks
    demand_first_year = share * float(expected[:first].sum()) / (float(edges[first]) / 7.0)
    start = pd.Timestamp(sim.start_date)
    outsourced = 0.0
    for block in a.outsourced:
        b0 = (pd.Timestamp(block.start_date) - start).days
        b1 = (pd.Timestamp(block.end_date) - start).days
        inside = max(0.0, min(b1, edges[-1]) - max(b0, 0.0)) / (b1 - b0)
        outsourced += block.assessments * inside
    if a.capacity_model == "servers":
        per_week = a.servers * 7.0 / a.service_days.mean_value
        capacity_start = capacity_horizon = per_week
        cv_capacity = _cv(a.service_days)
        session_weeks = 0.0
    elif a.capacity_model == "by_profession":
        # the profession whose hours run out first: its hours over its mean hours per assessment
        from .staffing import assessments_per_week_by_profession, recipe_hours_by_profession

        need = recipe_hours_by_profession(scenario)
        capacity_start = min(assessments_per_week_by_profession(scenario).values())
        empty = scenario.replace({"arrivals.enabled": False, "backlog.enabled": False})
        model = PathwayModel(empty)
        capacity_horizon = min(
            model._profession_hours_between(n, 0.0, float(edges[-1])) / weeks / h
            for n, h in need.items() if h > 0)
        # the spread of the team's hours per assessment (Male et al.'s CV) stands in for the
        # binding profession's, which mixes the pathways' recipes
        cv_capacity = _cv(a.hours_per_assessment)
        session_weeks = a.session_interval_days / 7.0
    else:
        mean_hours = a.hours_per_assessment.mean_value
        capacity_start = a.clinical_hours_per_week() / mean_hours
        # the engine's own integral of the clinical hours (ramps and changes included), on a copy
        # of the scenario with nobody in it, so that no children are drawn
        empty = scenario.replace({"arrivals.enabled": False, "backlog.enabled": False})
        hours = PathwayModel(empty).clinical_hours_between(0.0, float(edges[-1]))
        capacity_horizon = hours / weeks / mean_hours
        cv_capacity = _cv(a.hours_per_assessment)
        session_weeks = a.session_interval_days / 7.0
    season = np.asarray(scenario.arrivals.seasonality, dtype=float)
    leaving = scenario.leaving
    return ScenarioQueue(
        weeks=weeks, referrals_horizon=referrals_horizon, join_share=share,
        demand_first_year=demand_first_year, demand_horizon=share * referrals_horizon,
        capacity_start=capacity_start, capacity_horizon=capacity_horizon,
        outsourced_horizon=outsourced / weeks,
        cv_demand=1.0,  # Poisson referrals: exponential times between them
        cv_capacity=cv_capacity, queue_start=_queue_start(scenario),
        mean_waited_start=_mean_waited_start(scenario),
        annual_growth=scenario.arrivals.annual_growth if scenario.arrivals.enabled else 0.0,
        seasonality_spread=float(season.max() - season.min()),
        fifo=a.discipline == "fifo",
        leaving_per_year=leaving.withdrawal_per_year + leaving.moved_per_year + leaving.private_per_year,
        staffing_changes=len(a.staffing_changes), session_weeks=session_weeks,
        engine=a.capacity_model,
        professions_limiting=(sum(1 for h in need.values() if h > 0)
                              if a.capacity_model == "by_profession" else 1))


def list_load(queue: ScenarioQueue) -> float:
    """The panel's load: children joining the diagnostic list a week in the first year over the
    assessments the team can start a week at the start (outsourced ones added, averaged over the
    horizon). Above 1 the list grows without end, whatever the order it is seen in."""
    return queue_load(queue.demand_first_year, queue.capacity_start + queue.outsourced_horizon)


# -------------------------------------------------------------------------------------------------
# The panel


@dataclass(frozen=True)
class SanityRow:
    """One line of the panel: a formula's value, the simulation's, and whether they agree."""

    key: str
    quantity: str
    """What the number means, in words."""
    formula: str
    value: float
    """The formula's value (or the scenario's expected value)."""
    unit: str
    simulated: float = math.nan
    sim_ci_low: float = math.nan
    sim_ci_high: float = math.nan
    assumptions: str = ""
    holds: bool | None = None
    """Whether the formula's assumptions hold in this scenario (None: not a formula with any)."""
    agrees: bool | None = None
    """Whether the simulation agrees within ``tolerance``; None when it is not compared (no
    simulated counterpart, or the assumptions do not hold)."""
    tolerance: str = ""
    note: str = ""


COLUMNS = tuple(SanityRow.__dataclass_fields__)


CHANCE = 0.001
"""How often a right formula is flagged by chance: the tolerance is the two-sided 99.9% point
of Student's t (n - 1 degrees of freedom) times the standard error, plus a named allowance."""


def _sim(per_rep: pd.DataFrame, column: str, scale: float = 1.0) -> tuple[float, float, float, float]:
    """Mean, 95% interval and the tolerance's half-width (t at 99.9% x standard error) of
    ``column`` x ``scale`` across replications."""
    if column not in per_rep:
        return math.nan, math.nan, math.nan, math.nan
    x = per_rep[column].to_numpy(dtype=float) * scale
    mean, low, high, n = mean_ci(x)
    return mean, low, high, _half_width(x)


def _half_width(values: np.ndarray) -> float:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return math.nan
    return float(special.stdtrit(len(x) - 1, 1 - CHANCE / 2) * x.std(ddof=1) / math.sqrt(len(x)))


SAMPLING = "replication error (t at 99.9% x standard error)"


def _within(simulated: float, expected: float, half_width: float, allowance: float) -> bool | None:
    if not (math.isfinite(simulated) and math.isfinite(expected) and math.isfinite(half_width)):
        return None
    return abs(simulated - expected) <= half_width + allowance


def _yes(flag: bool) -> str:
    return "holds" if flag else "does not hold"


def sanity_panel(scenario: Scenario, per_replication: pd.DataFrame | None = None,
                 monthly: pd.DataFrame | None = None, target_weeks: float = NICE_TARGET_WEEKS,
                 relief_weeks: float = RELIEF_WEEKS, factor: float = FACTOR) -> pd.DataFrame:
    """The queueing sanity panel for ``scenario`` and (optionally) its simulated results.

    ``per_replication`` and ``monthly`` are an :class:`~model.experiment.ExperimentResult`'s
    frames. Returns one row per quantity with the columns of :class:`SanityRow`: what it
    means, the formula and its value, the simulated mean and 95% interval, the formula's
    assumptions and whether they hold here, and whether the simulation agrees within the
    stated tolerance (the 99.9% t-interval half-width of the simulated mean across replications
    plus a named allowance, so a formula that is right is flagged by chance 1 time in 1,000).
    """
    q = scenario_queue(scenario)
    per_rep = per_replication if per_replication is not None else pd.DataFrame()
    weeks = q.weeks
    demand, capacity = q.demand_first_year, q.capacity_start
    rows: list[SanityRow] = []
    stable_demand = abs(q.annual_growth) <= 0.02 and q.seasonality_spread <= 0.1
    if monthly is not None and len(monthly):
        lists = monthly[monthly["metric"] == "waiting_list"]
        never_empty = bool(len(lists)) and bool((lists["value"] > 0).all())
        list_mean = lists.groupby("replication")["value"].mean()
    else:
        never_empty, list_mean = False, pd.Series(dtype=float)

    # demand: the scenario's expected referrals against the simulated new ones (always
    # comparable); children referred again after leaving are failure demand the formula does
    # not hold, so they are taken out of the simulated count, not compared with it
    new_referrals = per_rep.assign(new_referrals=per_rep["referrals"] - per_rep.get(
        "re_referrals", 0.0)) if "referrals" in per_rep else per_rep
    sim_ref = _sim(new_referrals, "new_referrals", 1 / weeks)
    rows.append(SanityRow(
        "referrals_per_week", "New referrals a week (over the projection)",
        "expected referrals in the horizon / weeks", q.referrals_horizon, "children a week",
        *sim_ref[:3], "none: the scenario's own arrival rate", True,
        _within(sim_ref[0], q.referrals_horizon, sim_ref[3], 0.0),
        SAMPLING + " (Poisson counts vary)"))
    rows.append(SanityRow(
        "demand_per_week", "Demand: children joining the diagnostic list a week (first year)",
        "referrals x share reaching the list", demand, "children a week",
        note=f"{100 * q.join_share:.0f}% of referrals reach the list (vetting, profiling and "
             "asking for diagnosis anyway), before anyone leaves"))
    # capacity: clinical hours / hours per assessment against the simulated starts
    nhs_starts = per_rep["assessments_started"] - per_rep.get("outsourced_assessments", 0.0) \
        if "assessments_started" in per_rep else None
    frame = pd.DataFrame({"nhs": nhs_starts}) if nhs_starts is not None else pd.DataFrame()
    sim_cap = _sim(frame, "nhs", 1 / weeks)
    formula = ("servers x 7 / mean service days" if q.engine == "servers" else
               "least over professions of (its clinical hours a week / its mean hours per "
               "assessment)" if q.engine == "by_profession" else
               "clinical hours a week (leave out) / mean hours per assessment")
    rows.append(SanityRow(
        "capacity_per_week", "Capacity: NHS assessments the team can start a week (at the start)",
        formula, capacity, "assessments a week",
        assumptions="the list never empties, so every clinical hour is used"))
    one_limit = q.professions_limiting <= 1
    cap_holds = never_empty and one_limit
    cap_words = ("the list never empties (every month-end list above 0 in every "
                 "replication), so throughput is capacity: " + _yes(never_empty))
    if not one_limit:
        cap_words += ("; one profession alone limits: no (by profession, another profession "
                      "can run short in a session, so the formula is an upper bound)")
    rows.append(SanityRow(
        "capacity_horizon_per_week",
        "Capacity over the projection (with staffing changes) against assessments started",
        formula + ", averaged over the horizon", q.capacity_horizon, "assessments a week",
        *sim_cap[:3], cap_words, cap_holds,
        _within(sim_cap[0], q.capacity_horizon, sim_cap[3], 0.01 * q.capacity_horizon)
        if cap_holds else None,
        SAMPLING + " + 1% (the last session's hours, carried overdrafts)"))
    if q.outsourced_horizon:
        rows.append(SanityRow(
            "outsourced_per_week", "Outsourced assessments a week (over the projection)",
            "block assessments inside the horizon / weeks", q.outsourced_horizon,
            "assessments a week", *_sim(per_rep, "outsourced_assessments", 1 / weeks)[:3]))
    load = list_load(q)
    rows.append(SanityRow(
        "load", "Load: demand / capacity (above 1 the list grows without end)",
        "demand / (capacity + outsourced)", load, "ratio",
        assumptions="stable demand and capacity", holds=stable_demand and not q.staffing_changes))
    growth_formula = (q.demand_horizon - q.capacity_horizon - q.outsourced_horizon)
    sim_growth = (_sim(per_rep.assign(growth=per_rep["waiting_list_end"] - per_rep["waiting_list_start"]),
                       "growth", 1 / weeks) if "waiting_list_end" in per_rep
                  else (math.nan,) * 4)
    leavers = _sim(per_rep.assign(gone=per_rep.get("withdrawals", 0.0) + per_rep.get("aged_out", 0.0)),
                   "gone", 1 / weeks)[0] if len(per_rep) else math.nan
    no_leaving = (q.leaving_per_year == 0 and not scenario.leaving.age_out
                  and not (scenario.support.enabled and scenario.support.needs_met_per_year > 0))
    growth_holds = cap_holds and no_leaving
    if growth_holds:
        growth_note = ""
    elif not no_leaving:
        gone = f" ({leavers:.1f} a week withdrew, moved, went private or turned 18 in the " \
               "simulation)" if math.isfinite(leavers) else ""
        growth_note = (f"children leave the list without assessment{gone}, so the list grows "
                       "more slowly than demand - capacity")
    else:
        growth_note = "the list empties at times, so it does not grow at demand - capacity"
    rows.append(SanityRow(
        "list_growth_per_week", "Change in the diagnostic list a week (over the projection)",
        "demand - capacity (load above 1)", growth_formula, "children a week", *sim_growth[:3],
        "load above 1 all along and nobody leaves the list without assessment: "
        + _yes(growth_holds), growth_holds,
        _within(sim_growth[0], growth_formula, sim_growth[3], 0.02 * q.demand_horizon)
        if growth_holds else None, SAMPLING + " + 2% of demand", note=growth_note))

    # the targets (Facts 4-8), applied to today's demand and list
    mean_target = target_mean_wait(target_weeks, factor)
    rows.append(SanityRow(
        "target_mean_wait", f"Mean wait that meets a {target_weeks:g}-week target",
        f"target / {factor:g}", mean_target, "weeks",
        assumptions=f"waits roughly exponential, so exp(-{factor:g}) = "
                    f"{100 * math.exp(-factor):.1f}% miss the target"))
    tq = target_queue_size(demand, target_weeks, factor)
    rows.append(SanityRow(
        "target_queue_size", f"Target list size for a {target_weeks:g}-week target",
        f"demand x target / {factor:g} (Little's law)", tq, "children",
        assumptions="capacity above demand (load under 1)", holds=load < 1))
    queue_now = _sim(per_rep, "waiting_list_start")[0] if "waiting_list_start" in per_rep \
        else q.queue_start
    rows.append(SanityRow(
        "queue_ratio_start", "List at the start over its target size (over 2: relief capacity needed)",
        "list at the start / target list size", queue_now / tq if tq > 0 else math.inf, "ratio",
        note=f"{queue_now:,.0f} children on the list at the start"))
    if "waiting_list_end" in per_rep:
        end = _sim(per_rep, "waiting_list_end", 1 / tq if tq > 0 else math.nan)
        rows.append(SanityRow(
            "queue_ratio_end", "List at the end of the projection over its target size",
            "simulated list at the end / target list size", math.nan, "ratio", *end[:3]))
    rel = relief_capacity(demand, queue_now, tq, relief_weeks)
    rows.append(SanityRow(
        "relief_capacity", f"Relief capacity: assessments a week to reach the target list size in "
                           f"{relief_weeks:g} weeks", "demand + (list - target list) / weeks",
        rel, "assessments a week", assumptions="demand steady meanwhile; needed when the list is "
        "over twice its target size", holds=stable_demand,
        note=(f"{rel / capacity:.1f} times today's capacity" if capacity > 0 else "")
        if tq <= 0 or queue_now > 2 * tq else "not needed: the list is under twice its target size"))
    tc = target_capacity(demand, target_weeks, factor, q.cv_demand, q.cv_capacity)
    rows.append(SanityRow(
        "target_capacity", f"Target capacity: assessments a week for a {mean_target:g}-week "
                           "mean wait at the target list size",
        "demand + (cv_demand^2 + cv_capacity^2) / 2 x factor / target", tc, "assessments a week",
        assumptions=f"heavy traffic (load near 1), stable demand; cv_demand = {q.cv_demand:.2f} "
                    f"(Poisson referrals), cv_capacity = {q.cv_capacity:.2f} (hours per "
                    "assessment)" if q.engine != "servers" else
                    f"heavy traffic, stable demand; cv_demand = {q.cv_demand:.2f}, cv_capacity = "
                    f"{q.cv_capacity:.2f} (service days)",
        holds=stable_demand,
        note=f"{tc - capacity:+.1f} a week from today's capacity" if capacity > 0 else ""))

    # the steady state the formulas describe, where it exists: mean wait and the tail
    kingman = kingman_mean_wait(q.demand_horizon, q.capacity_horizon + q.outsourced_horizon,
                                q.cv_demand, q.cv_capacity)
    mu = q.capacity_horizon + q.outsourced_horizon
    relax = (1 / (mu * (1 - math.sqrt(q.demand_horizon / mu)) ** 2)
             if 0 < q.demand_horizon < mu else math.inf)
    steady = (q.demand_horizon < mu and stable_demand and q.fifo and q.leaving_per_year == 0
              and not scenario.leaving.age_out and not q.staffing_changes
              and not q.outsourced_horizon and weeks >= 20 * relax
              and not scenario.profiling.enabled
              and not (scenario.support.enabled and scenario.support.needs_met_per_year > 0))
    assumptions = ("load under 1, stable demand, first come first served, nobody leaves "
                   "untreated, no staffing changes, horizon over 20 relaxation times "
                   f"({relax:,.0f} weeks each): " + _yes(steady))
    sim_wait = _sim(per_rep, "wait_of_those_assessed_weeks_mean")
    rows.append(SanityRow(
        "mean_wait_steady_state", "Mean wait of those assessed, in the steady state",
        "load x (cv_demand^2 + cv_capacity^2) / 2 / (capacity - demand) (Kingman; exact for "
        "Poisson referrals)", kingman, "weeks", *sim_wait[:3], assumptions, steady,
        _within(sim_wait[0], kingman, sim_wait[3], q.session_weeks) if steady else None,
        SAMPLING + " + one session interval (sessions move a wait by at most one)"))
    sim_over = _sim(per_rep, "pct_of_those_assessed_within_13w")
    # the share over 13 weeks is 100 - the share within: its interval flips
    sim_over = (100 - sim_over[0], 100 - sim_over[2], 100 - sim_over[1], sim_over[3])
    over = 100 * share_over(13.0, q.demand_horizon, mu)
    exponential = steady and math.isclose(q.cv_capacity, 1.0, abs_tol=0.05)
    rows.append(SanityRow(
        "pct_over_13w_steady_state", "Of those assessed, waited over 13 weeks, in the steady state",
        "100 x load x exp(-(capacity - demand) x 13)", over, "%", *sim_over[:3],
        "the steady state above with exponential removals (cv_capacity = 1): " + _yes(exponential),
        exponential, _within(sim_over[0], over, sim_over[3], 0.0) if exponential else None,
        SAMPLING))
    if len(list_mean):
        lm = mean_ci(list_mean.to_numpy(dtype=float))
        se = _half_width(list_mean.to_numpy(dtype=float))
        little = q.demand_horizon * kingman
        rows.append(SanityRow(
            "mean_list_steady_state", "Mean list size (month ends), in the steady state",
            "demand x mean wait (Little's law with Kingman's wait)", little, "children",
            lm[0], lm[1], lm[2], assumptions, steady,
            _within(lm[0], little, se, q.demand_horizon * q.session_weeks) if steady else None,
            SAMPLING + " + demand x one session interval"))

    # pressure (Fact 9): the list at the start from the scenario, at the end from the simulation
    rows.append(SanityRow(
        "pressure_start", "Waiting-list pressure at the start (over 1: the target is likely missed)",
        "2 x mean time waited so far / target", waiting_list_pressure(q.mean_waited_start, target_weeks)
        if math.isfinite(q.mean_waited_start) else math.nan, "ratio",
        note=f"mean time waited so far {q.mean_waited_start:.1f} weeks"
        if math.isfinite(q.mean_waited_start) else "nobody waiting at the start"))
    if "list_wait_weeks_mean_end" in per_rep:
        pe = _sim(per_rep, "list_wait_weeks_mean_end", 2 / target_weeks)
        rows.append(SanityRow(
            "pressure_end", "Waiting-list pressure at the end of the projection",
            "2 x mean time waited so far by the list at the end / target", math.nan, "ratio",
            *pe[:3]))
    return pd.DataFrame([asdict(r) for r in rows], columns=list(COLUMNS))


format_value = fmt_number
"""A panel number as printed (:func:`model.labels.fmt_number`)."""


def verdict(row: Any) -> str:
    """'agrees', 'DISAGREES', 'not comparable' or '' for one panel row."""
    if row["agrees"] is True:
        return "agrees"
    if row["agrees"] is False:
        return "DISAGREES"
    if row["holds"] is False and math.isfinite(row["simulated"]):
        return "assumptions do not hold"
    return ""


def panel_text(panel: pd.DataFrame) -> str:
    """The panel as a plain-text table for the command line, notes below it."""
    header = ("", "formula", "simulated (95% interval)", "check")
    rows = []
    for _, row in panel.iterrows():
        sim = "" if not math.isfinite(row["simulated"]) else (
            f"{format_value(row['simulated'])} ({format_value(row['sim_ci_low'])} to {format_value(row['sim_ci_high'])})")
        rows.append((row["quantity"], format_value(row["value"]), sim, verdict(row)))
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(4)]
    lines = ["  ".join([str(r[0]).ljust(widths[0]), *(str(c).rjust(w) for c, w in
                                                      zip(r[1:], widths[1:]))]).rstrip()
             for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  - {row['quantity']}: {row['note']}" for _, row in panel.iterrows() if row["note"]]
    return "\n".join(lines) + ("\nNotes:\n" + "\n".join(notes) if notes else "")


__all__ = ["format_value", "queue_load", "target_mean_wait", "target_queue_size", "relief_capacity",
           "target_capacity", "waiting_list_pressure", "kingman_mean_wait", "share_over",
           "scenario_queue", "ScenarioQueue", "list_load", "SanityRow", "sanity_panel", "panel_text",
           "join_share", "verdict", "SOURCE", "NICE_TARGET_WEEKS"]
