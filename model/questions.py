"""The questions commissioners ask of a set of runs.

* "When is the backlog cleared, and with what probability?" — :func:`backlog_clearance`.
* "What is the least extra capacity that gets 90% of children seen within 13 weeks by date D?"
  — :func:`least_extra_capacity`, a bisection over extra WTE with common random numbers, on one
  of two named measures (:data:`CAPACITY_MEASURES`): the list-based share of the children waiting
  at the end of month D who have waited under 13 weeks (as NHS England's waiting-time standards
  count incomplete pathways; the default), or the share of month D's new referrals whose
  assessment started within 13 weeks of referral (NICE QS51, referral cohort).
* "What would it take?" — :func:`least_lever`, the same search for any :class:`Target` (a 13-week
  share of the list or of a month's referrals, the children waiting below N, nobody waiting over
  a year) and any :class:`Lever` (WTE of one profession or of the whole team in proportion,
  assessments bought a month, support places), with the level each projection needs and the
  chance of meeting the target at the answer. :func:`least_extra_capacity` is this search with
  the whole team's WTE as the lever.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Callable, Literal

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


TargetKind = Literal["list_13w", "referrals_13w", "list_below", "nobody_over_52w"]
TARGET_WORDS: dict[str, str] = {
    "list_13w": "of the children waiting at the end of the month, the share who have waited under "
                "13 weeks",
    "referrals_13w": "of the month's new referrals, the share whose assessment started within 13 "
                     "weeks of referral",
    "list_below": "the children waiting at the end of the month (every stage)",
    "nobody_over_52w": "the children still waiting at the end of the month who have waited a "
                       "year or more",
}


@dataclass(frozen=True)
class Target:
    """What a service wants to reach in month ``by`` (``YYYY-MM``), judged on the average of the
    projections (as the cards show it).

    ``list_13w`` / ``referrals_13w``: at least ``value`` percent; ``list_below``: at most
    ``value`` children waiting; ``nobody_over_52w``: at most ``value`` children (default 0)
    waiting a year or more.
    """

    kind: TargetKind
    value: float
    by: str

    def __post_init__(self) -> None:
        if self.kind not in TARGET_WORDS:
            raise ValueError(f"target {self.kind!r}: choose one of {sorted(TARGET_WORDS)}")
        if self.kind in ("list_13w", "referrals_13w") and not 0 < self.value <= 100:
            raise ValueError(f"a share target must be in (0, 100], got {self.value}")
        if self.kind in ("list_below", "nobody_over_52w") and self.value < 0:
            raise ValueError(f"a count target cannot be negative, got {self.value}")

    @property
    def higher_is_better(self) -> bool:
        return self.kind in ("list_13w", "referrals_13w")

    def values(self, by_rep: pd.DataFrame) -> np.ndarray:
        """The measure in month ``by``, one value per replication (``by_rep``: replication x
        monthly metric)."""
        if self.kind == "list_13w":
            # an empty list meets the target: nobody is waiting at all
            over = by_rep["pct_waiting_over_13w"].to_numpy(dtype=float)
            return np.where(np.isfinite(over), 100.0 - over, 100.0)
        if self.kind == "referrals_13w":
            # a month with no referrals has no share; it cannot show the target met
            return np.nan_to_num(by_rep["pct_referrals_assessed_within_13w"].to_numpy(dtype=float))
        column = "waiting_total" if self.kind == "list_below" else "waiting_over_52w"
        return by_rep[column].to_numpy(dtype=float)

    def met(self, values: np.ndarray | float) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return values >= self.value if self.higher_is_better else values <= self.value

    def words(self) -> str:
        month = pd.Period(self.by, freq="M").strftime("%B %Y")
        if self.kind == "list_13w":
            return f"{self.value:g}% of the children waiting having waited under 13 weeks in {month}"
        if self.kind == "referrals_13w":
            return f"{self.value:g}% of {month}'s referrals assessed within 13 weeks of referral"
        if self.kind == "list_below":
            return f"no more than {self.value:,.0f} children waiting at the end of {month}"
        if self.value == 0:
            return f"nobody waiting a year or more at the end of {month}"
        return (f"no more than {self.value:,.0f} children waiting a year or more at the end of "
                f"{month}")


LeverKind = Literal["wte", "outsourced_per_month", "support_places"]


@dataclass(frozen=True)
class Lever:
    """What is added, from the start of the projection to its end: clinician WTE (of one
    ``profession``, or of the whole team in proportion to its WTE when ``None``), assessments
    bought from another provider each month (at ``cost_per_assessment``), or support places
    (support starts a month when the scenario counts support that way)."""

    kind: LeverKind
    profession: str | None = None
    cost_per_assessment: float = 2000.0

    @property
    def step(self) -> float:
        """The first amount tried above zero (doubled until the target is met)."""
        return 1.0 if self.kind == "wte" else 10.0

    @property
    def tolerance(self) -> float:
        return 0.25 if self.kind == "wte" else 5.0

    def rounded_up(self, amount: float) -> float:
        return math.ceil(amount * 10 - 1e-9) / 10 if self.kind == "wte" else float(
            math.ceil(amount - 1e-9))

    def apply(self, scenario: Scenario, amount: float) -> Scenario:
        """``scenario`` with ``amount`` more of this lever from its start date."""
        if amount <= 0:
            return scenario
        sim = scenario.simulation
        if self.kind == "wte":
            if self.profession is None:
                return with_extra_wte(scenario, amount)
            names = [p.name for p in scenario.assessment.professions]
            if self.profession not in names:
                raise ValueError(f"profession {self.profession!r}: choose one of {names}")
            change = StaffingChange(date=sim.start_date, profession=self.profession,
                                    wte_change=amount, ramp_weeks=0.0)
            changes = (*scenario.assessment.staffing_changes, change)
            return scenario.replace(
                {"assessment.staffing_changes": [c.model_dump() for c in changes]})
        if self.kind == "outsourced_per_month":
            end = (pd.Period(sim.start_date, freq="M") + sim.horizon_months).start_time.date()
            block = {"start_date": sim.start_date, "end_date": end,
                     "assessments": int(round(amount * sim.horizon_months)),
                     "cost_per_assessment": float(self.cost_per_assessment)}
            blocks = [b.model_dump() for b in scenario.assessment.outsourced] + [block]
            return scenario.replace({"assessment.outsourced": blocks})
        support = scenario.support
        if support.capacity == "caseload":
            return scenario.replace({"support.enabled": True,
                                     "support.places": int(support.places + round(amount))})
        return scenario.replace({"support.enabled": True, "support.starts_per_month":
                                 float(support.starts_per_month or 0.0) + amount})

    def unit(self, amount: float) -> str:
        if self.kind == "wte":
            who = self.profession.replace("_", " ") if self.profession else "clinician"
            return f"{amount:.1f} extra {who} WTE"
        if self.kind == "outsourced_per_month":
            return f"{amount:,.0f} assessments a month bought from another provider"
        return f"{amount:,.0f} more support places"


@dataclass(frozen=True)
class LeverAnswer:
    """The least amount of a lever that meets a target on average, and the evidence for it."""

    target: Target
    lever: Lever
    amount: float | None
    """``None`` when even ``max_amount`` does not meet the target."""
    achieved: float
    """Average over the projections of the target's measure at ``amount`` (or at the most
    tried, when not reached)."""
    probability_met: float
    """Share of projections meeting the target at ``amount``."""
    evaluations: pd.DataFrame
    """Every amount tried: ``amount, mean, probability_met``, in increasing amount."""
    needed: np.ndarray
    """Per projection, the least amount tried at which it met the target (``inf``: none did)."""

    def needed_range(self, coverage: float = 0.9) -> tuple[float, float]:
        """The range of the amount each projection needs: ``coverage`` of them fall in it (the
        upper end ``inf`` when more than the rest never met it)."""
        tail = (1 - coverage) / 2
        finite = np.where(np.isfinite(self.needed), self.needed, np.inf)
        low, high = np.quantile(finite, [tail, 1 - tail], method="inverted_cdf")
        return float(low), float(high)

    def sentence(self) -> str:
        words = self.target.words()
        if self.amount is None:
            most = float(self.evaluations["amount"].max())
            return (f"Even {self.lever.unit(most)} does not reach {words} on average "
                    f"({100 * self.probability_met:.0f}% of projections reach it there).")
        low, high = self.needed_range()
        spread = (f"9 in 10 projections need between {self.lever.unit(low).split(' ', 1)[0]} "
                  f"and {'more than the most tried' if not math.isfinite(high) else self.lever.unit(high).split(' ', 1)[0]}")
        return (f"About {self.lever.unit(self.amount)} from the start reaches {words} on "
                f"average ({spread}); at that level the target is met in "
                f"{100 * self.probability_met:.0f}% of projections.")


def least_lever(
    scenario: Scenario,
    target: Target,
    lever: Lever,
    replications: int | None = None,
    seed: int | None = None,
    executor: str | Executor = "local",
    max_amount: float | None = None,
    tolerance: float | None = None,
    on_evaluation: "Callable[[float, float, float], None] | None" = None,
) -> LeverAnswer:
    """The least amount of ``lever`` at which the average over the projections of ``target``'s
    measure in its month meets it: zero, then ``lever.step`` doubled until met, then bisection
    to within ``tolerance`` (default ``lever.tolerance``), rounded up.

    Every evaluation uses the same seed, so the children and their luck are the same at every
    level (common random numbers) and the search is not misled by noise; ``on_evaluation`` is
    called with (amount, mean, probability met) after each (for a progress display).
    """
    month = _month_label(scenario, target.by)
    sim = scenario.simulation
    if target.kind == "referrals_13w":
        last = pd.Period(sim.start_date, freq="M") + sim.horizon_months - 1
        followed = pd.Period(month, freq="M").end_time + pd.Timedelta(weeks=13)
        if followed > (last + 1).start_time:
            raise ValueError(
                f"by = {month}: its referrals have not all had 13 weeks by the end of the "
                f"horizon ({last}); choose {last - 4} or earlier, or lengthen the horizon")
    target = Target(target.kind, target.value, month)
    top = max_amount if max_amount is not None else (200.0 if lever.kind == "wte" else 5000.0)
    tol = tolerance if tolerance is not None else lever.tolerance
    rows: list[dict[str, float]] = []
    met_by_amount: dict[float, np.ndarray] = {}

    def evaluate(amount: float) -> tuple[bool, float, float]:
        result = run_replications(lever.apply(scenario, amount), replications, seed, executor,
                                  groups=False)
        m = result.monthly[result.monthly["month"] == month]
        by_rep = m.pivot(index="replication", columns="metric", values="value").sort_index()
        values = target.values(by_rep)
        mean = float(values.mean())
        met = target.met(values)
        met_by_amount[amount] = met
        rows.append({"amount": amount, "mean": mean, "probability_met": float(met.mean())})
        if on_evaluation is not None:
            on_evaluation(amount, mean, float(met.mean()))
        return bool(target.met(mean)), mean, float(met.mean())

    def answer(amount: float | None, mean: float, met: float) -> LeverAnswer:
        tried = sorted(met_by_amount)
        reps = len(next(iter(met_by_amount.values())))
        needed = np.full(reps, np.inf)
        for a in reversed(tried):
            needed = np.where(met_by_amount[a], a, needed)
        return LeverAnswer(target, lever, amount, mean, met,
                           pd.DataFrame(rows).sort_values("amount").reset_index(drop=True),
                           needed)

    low, high = 0.0, min(lever.step, top)
    ok, mean, met = evaluate(low)
    if ok:
        return answer(0.0, mean, met)
    while True:
        ok, mean, met = evaluate(high)
        if ok:
            break
        if high >= top:
            return answer(None, mean, met)
        low, high = high, min(2 * high, top)
    best = (high, mean, met)
    while high - low > tol:
        mid = (low + high) / 2
        ok, mean, met = evaluate(mid)
        if ok:
            high, best = mid, (mid, mean, met)
        else:
            low = mid
    amount, mean, met = best
    return answer(lever.rounded_up(amount), mean, met)


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
    kind: TargetKind = "list_13w" if measure == "list" else "referrals_13w"
    found = least_lever(scenario, Target(kind, target_pct, month), Lever("wte"), replications,
                        seed, executor, max_amount=max_extra_wte, tolerance=tolerance_wte)
    evaluations = found.evaluations.rename(columns={"amount": "extra_wte", "mean": "mean_pct"})
    return CapacityAnswer(target_pct, month, measure, found.amount, found.achieved,
                          found.probability_met, evaluations)
