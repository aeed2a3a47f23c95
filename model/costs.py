"""Costs of a scenario over the horizon: one stated rule for every staff group, like with like.

The rule (:data:`COST_RULE`, printed in the scenario reference and the ``cost_total`` label):

* **Staff the service employs are costed for the whole post**: WTE x ``cost_per_wte_year`` for
  the time they are in post, from each staffing change's date (a recruit is paid during the
  ramp-up). The commissioner pays for posts; the job-plan share and leave only shape the clinical
  hours the posts give to assessment. Clinicians (every profession of the MDT) and profiling
  practitioners follow the same rule.
* **What is bought per child is costed per unit delivered in the horizon**: outsourced
  assessments at each block's price per assessment started; needs-led support plans at
  ``profiling.cost_per_needs_led_plan`` each; support while waiting at ``support.cost_per_week``
  for every week of support delivered (so an episode costs its length, cut short when the child
  starts assessment or leaves; places nobody uses cost nothing).

Left out: overheads (estates, management, IT), the clinicians' other work (follow-up, ADHD
medication reviews), and the cost of crises and escalations to other services.

``cost_per_assessment`` is the cost of assessment (clinical staff and outsourced assessments)
divided by the assessments completed in the horizon; profiling, needs-led plans and support are
not in it.

These are pure functions of a replication's result (its scenario and event log).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .pathway import SimulationResult
from .scenario import DAYS_PER_WEEK, DAYS_PER_YEAR, Assessment

COST_COMPONENTS = (
    "cost_assessment_staff",
    "cost_outsourced",
    "cost_profiling",
    "cost_needs_led_plans",
    "cost_support",
)
"""The parts of ``cost_total``, which is their sum."""

COST_RULE = (
    "Staff the service employs (every clinical profession and the profiling practitioners) are "
    "costed for the whole post, WTE x cost per WTE-year from each staffing change's date; the "
    "job-plan share and leave only set the hours the posts give to assessment. What is bought "
    "per child is costed per unit delivered in the horizon: outsourced assessments per "
    "assessment started, needs-led plans per plan, support while waiting per week of support "
    "given. Overheads, the clinicians' other work and the cost of crises are left out. Cost per "
    "assessment is clinical staff and outsourced assessments over assessments completed."
)


def staff_post_cost(assessment: Assessment, start_date: pd.Timestamp, horizon_days: float) -> float:
    """Whole-post cost of the MDT over ``[0, horizon)``: WTE x cost per WTE-year, by time in post.

    Staffing changes count from their dates (the ramp-up shapes capacity, not pay). Between
    change dates the WTE is built as the model builds it, in list order and never below zero, so
    a loss larger than the team stops its cost at zero instead of making it negative.
    """
    rate = {p.name: p.cost_per_wte_year for p in assessment.professions}
    days = [(pd.Timestamp(change.date) - start_date) / pd.Timedelta(days=1)
            for change in assessment.staffing_changes]
    edges = sorted({0.0, horizon_days, *(min(max(d, 0.0), horizon_days) for d in days)})
    cost = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        wte = {p.name: p.wte for p in assessment.professions}
        for change, day in zip(assessment.staffing_changes, days):
            if day <= low:
                wte[change.profession] = max(0.0, wte[change.profession] + change.wte_change)
        cost += sum(wte[name] * rate[name] for name in wte) * (high - low) / DAYS_PER_YEAR
    return float(cost)


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """``(column == value).to_numpy()``: for a categorical column, by comparing its codes (the
    log's event and detail), without pandas' comparison machinery."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        return column.cat.codes.to_numpy() == categories.get_loc(value)
    return (column == value).to_numpy()


def support_weeks_delivered(result: SimulationResult) -> float:
    """Weeks of support while waiting given within the horizon, summed over episodes (the log's
    ``support_start`` to ``support_end``, or to the horizon for an episode still running)."""
    ev, horizon = result.events, result.horizon_days
    starts = _equals(ev["event"], "support_start") & _equals(ev["detail"], "support_while_waiting")
    if not starts.any():
        return 0.0
    child, time = ev["child"].to_numpy(), ev["time_days"].to_numpy()
    ends = _equals(ev["event"], "support_end")
    ended = child[ends]
    if len(ended) and np.bincount(ended).max() > 1:
        twice = np.flatnonzero(np.bincount(ended) > 1)
        raise ValueError(f"support_end logged more than once for child rows {twice[:5].tolist()}: "
                         "a child is supported once")
    # each start's child's end (NaN if none), looked up by child row
    end_of = np.full(max(int(child.max()), 0) + 1, np.nan)
    end_of[ended] = time[ends]
    finish = end_of[child[starts]]
    finish = np.where(np.isnan(finish), horizon, np.minimum(finish, horizon))
    begin = np.clip(time[starts], 0.0, horizon)
    return float(np.maximum(finish - begin, 0.0).sum() / DAYS_PER_WEEK)


def costs(result: SimulationResult) -> dict[str, float]:
    """Every cost metric of one replication: the components, ``cost_total`` (their sum) and
    ``cost_per_assessment`` (NaN when no assessment was completed), in pounds."""
    sc, ev, horizon = result.scenario, result.events, result.horizon_days
    start = pd.Timestamp(sc.simulation.start_date)
    time = ev["time_days"].to_numpy()
    in_horizon = (time >= 0.0) & (time < horizon + 1e-9)
    profiling = sc.profiling
    plans = int((_equals(ev["event"], "support_start") & _equals(ev["detail"], "needs_led_plan"))
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
    completed = int((_equals(ev["event"], "assessment_end") & in_horizon).sum())
    assessment_cost = out["cost_assessment_staff"] + out["cost_outsourced"]
    out["cost_per_assessment"] = assessment_cost / completed if completed else math.nan
    return out


__all__ = ["COST_COMPONENTS", "COST_RULE", "costs", "staff_post_cost", "support_weeks_delivered"]
