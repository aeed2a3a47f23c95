"""The questions commissioners ask of a set of runs.

* "When is the backlog cleared, and with what probability?" — :func:`backlog_clearance`.
* "What is the least extra capacity that gets 90% of children seen within 13 weeks by date D?"
  — :func:`least_extra_capacity`, a bisection over extra WTE with common random numbers, on one
  of two named measures (:data:`CAPACITY_MEASURES`): the list-based share of the children waiting
  at the end of month D who have waited under 13 weeks (as NHS England's waiting-time standards
  count incomplete pathways; the default), or the share of month D's new referrals whose
  assessment started within 13 weeks of referral (NICE QS51, referral cohort).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .executors import Executor
from .experiment import ExperimentResult, run_replications
from .scenario import Scenario, StaffingChange

_OVER_13_WEEKS = ("list_wait_13_52w", "list_wait_52_104w", "list_wait_104w_plus")

CapacityMeasure = Literal["list", "referrals"]
CAPACITY_MEASURES: dict[str, str] = {
    "list": "of the children waiting at the end of the month, the share who have waited under 13 "
            "weeks",
    "referrals": "of the month's new referrals, the share whose assessment started within 13 "
                 "weeks of referral",
}
"""What each capacity target counts, in words (shown with every answer)."""


def backlog_clearance(result: ExperimentResult) -> pd.DataFrame:
    """Probability, by month, that nobody on the list has waited over 13 weeks.

    Returns ``month, probability_cleared, first_cleared_share``: the share of replications with no
    child waiting over 13 weeks at that month's end, and the share that had reached that state at
    least once by then.
    """
    monthly = result.monthly[result.monthly["metric"].isin(_OVER_13_WEEKS)]
    over = monthly.groupby(["replication", "month"])["value"].sum().unstack("month")
    cleared = over <= 0
    ever = cleared.cummax(axis=1)
    return pd.DataFrame({
        "month": cleared.columns,
        "probability_cleared": cleared.mean(axis=0).to_numpy(),
        "first_cleared_share": ever.mean(axis=0).to_numpy(),
    }).reset_index(drop=True)


@dataclass(frozen=True)
class CapacityAnswer:
    """The least extra WTE found, and the evidence for it."""

    target_pct: float
    by_month: str
    measure: CapacityMeasure
    extra_wte: float | None
    """``None`` when even ``max_extra_wte`` does not reach the target."""
    achieved_pct: float
    """Mean across replications of the measure in ``by_month``."""
    probability_met: float
    """Share of replications meeting the target in ``by_month`` at ``extra_wte``."""
    evaluations: pd.DataFrame
    """Every extra WTE tried: ``extra_wte, mean_pct, probability_met``."""

    def sentence(self) -> str:
        counts = CAPACITY_MEASURES[self.measure]
        if self.extra_wte is None:
            return (f"Even {self.evaluations['extra_wte'].max():g} extra WTE does not reach "
                    f"{self.target_pct:g}% in {self.by_month} ({counts}).")
        return (f"About {self.extra_wte:.1f} extra WTE (from the start date) reaches "
                f"{self.achieved_pct:.0f}% in {self.by_month} ({counts}; target "
                f"{self.target_pct:g}%; met in {100 * self.probability_met:.0f}% of replications).")


def with_extra_wte(scenario: Scenario, extra_wte: float, start: dt.date | None = None) -> Scenario:
    """The scenario with ``extra_wte`` more staff, split across professions in proportion to WTE.

    The extra staff arrive at ``start`` (default the scenario's start date) at full capacity.
    """
    professions = scenario.assessment.professions
    total = sum(p.wte for p in professions)
    if total <= 0:
        raise ValueError("the scenario has no clinical WTE to scale; add a profession first")
    when = start or scenario.simulation.start_date
    changes = tuple(scenario.assessment.staffing_changes) + tuple(
        StaffingChange(date=when, profession=p.name, wte_change=extra_wte * p.wte / total,
                       ramp_weeks=0.0)
        for p in professions if p.wte > 0)
    return scenario.replace({"assessment.staffing_changes": [c.model_dump() for c in changes]})


def _month_label(scenario: Scenario, by: str | dt.date) -> str:
    label = pd.Period(str(by)[:7], freq="M")
    start = pd.Period(scenario.simulation.start_date, freq="M")
    end = start + scenario.simulation.horizon_months - 1
    if not start <= label <= end:
        raise ValueError(f"by = {by}: must be a month within the horizon ({start} to {end})")
    return str(label)


def least_extra_capacity(
    scenario: Scenario,
    target_pct: float = 90.0,
    by: str | dt.date | None = None,
    replications: int = 10,
    seed: int | None = None,
    executor: str | Executor = "local",
    max_extra_wte: float = 200.0,
    tolerance_wte: float = 0.25,
    measure: CapacityMeasure = "list",
) -> CapacityAnswer:
    """Least extra WTE so that, in month ``by`` (default: the horizon's last month), the mean over
    replications of ``measure`` (:data:`CAPACITY_MEASURES`) is at least ``target_pct``.

    ``"list"``: at the end of month ``by``, the share of the children on the diagnostic list who
    have waited under 13 weeks (an empty list meets any target: nobody is waiting). ``"referrals"``:
    of the children referred in month ``by``, the share whose assessment started within 13 weeks
    (leaving first counts as not assessed); ``by`` must then end at least 13 weeks before the
    horizon, so every one of them has been followed that long.

    Every evaluation uses the same seed, so the children and their luck are the same at every
    staffing level (common random numbers) and the search is not misled by noise. The share is
    non-decreasing in capacity in all but rare cases; the evaluations table shows the path.
    """
    if not 0 < target_pct <= 100:
        raise ValueError(f"target_pct must be in (0, 100], got {target_pct}")
    if measure not in CAPACITY_MEASURES:
        raise ValueError(f"measure = {measure!r}: choose one of {sorted(CAPACITY_MEASURES)}")
    sim = scenario.simulation
    first = pd.Period(sim.start_date, freq="M")
    last = first + sim.horizon_months - 1
    if measure == "referrals" and by is None:
        # the last month whose referrals have all had 13 weeks by the horizon
        by = str(last - 4)
    month = _month_label(scenario, by or str(last))
    if measure == "referrals":
        followed = pd.Period(month, freq="M").end_time + pd.Timedelta(weeks=13)
        if followed > (last + 1).start_time:
            raise ValueError(
                f"by = {month}: its referrals have not all had 13 weeks by the end of the "
                f"horizon ({last}); choose {last - 4} or earlier, or lengthen the horizon")
    rows: list[dict[str, float]] = []

    def evaluate(extra: float) -> tuple[float, float]:
        result = run_replications(with_extra_wte(scenario, extra), replications, seed, executor,
                                  groups=False)
        m = result.monthly[result.monthly["month"] == month]
        by_rep = m.pivot(index="replication", columns="metric", values="value")
        if measure == "list":
            # an empty list meets the target: nobody is waiting at all
            over = by_rep["pct_waiting_over_13w"].to_numpy(dtype=float)
            values = np.where(np.isfinite(over), 100.0 - over, 100.0)
        else:
            # a month with no referrals has no share; it cannot show the target met
            values = np.nan_to_num(by_rep["pct_referrals_assessed_within_13w"].to_numpy(dtype=float))
        mean, met = float(values.mean()), float((values >= target_pct).mean())
        rows.append({"extra_wte": extra, "mean_pct": mean, "probability_met": met})
        return mean, met

    low, high = 0.0, 1.0
    mean, met = evaluate(low)
    if mean >= target_pct:
        return CapacityAnswer(target_pct, month, measure, 0.0, mean, met, pd.DataFrame(rows))
    while True:
        mean, met = evaluate(high)
        if mean >= target_pct:
            break
        if high >= max_extra_wte:
            return CapacityAnswer(target_pct, month, measure, None, mean, met, pd.DataFrame(rows))
        low, high = high, min(2 * high, max_extra_wte)
    best = (high, mean, met)
    while high - low > tolerance_wte:
        mid = (low + high) / 2
        mean, met = evaluate(mid)
        if mean >= target_pct:
            high, best = mid, (mid, mean, met)
        else:
            low = mid
    extra, mean, met = best
    return CapacityAnswer(target_pct, month, measure, math.ceil(extra * 10) / 10, mean, met,
                          pd.DataFrame(rows).sort_values("extra_wte").reset_index(drop=True))
