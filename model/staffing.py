"""Which post should we fund? (issue 12): the effect of one more WTE of each profession, and the
fewest extra WTE, by profession mix, that meet a target by a date.

Every run here uses the scenario's seed for every variant, so the variants see the same children
with the same luck (common random numbers) and the differences have tight intervals.

>>> from model.scenario import Scenario
>>> s = Scenario().replace({"assessment.capacity_model": "by_profession"})
>>> binding_profession(s)
'psychologist'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .executors import Executor
from .experiment import ExperimentResult, compare, run_replications
from .labels import fmt_change_interval, fmt_money
from .questions import Lever, LeverAnswer, Target, least_lever
from .scenario import Scenario, StaffingChange

STAFFING_METRICS = (
    "waiting_list_end",
    "list_wait_weeks_p50_end",
    "list_wait_weeks_p92_end",
    "pct_referrals_assessed_within_13w",
    "assessments_completed",
    "list_child_weeks",
    "cost_total",
)
"""What ``ndpath staffing`` reports for each extra post: the list, the headline waits, the
throughput, the child-weeks of waiting and the cost."""


# -------------------------------------------------------------------------------------------------
# The recipe's arithmetic (no simulation): what each profession allows


def recipe_hours_by_profession(scenario: Scenario) -> dict[str, float]:
    """Mean hours one assessment needs from each profession, over the referral mix of pathways
    (the pooled model: the team's hours per assessment, split as the team's hours are)."""
    a = scenario.assessment
    names = [p.name for p in a.professions]
    if a.capacity_model != "by_profession":
        total = a.clinical_hours_per_week()
        mean = a.hours_per_assessment.mean_value
        return {n: (mean * a.profession_hours_per_week(n, p.wte) / total if total > 0 else 0.0)
                for n, p in zip(names, a.professions)}
    recipes = a.recipes
    autism, adhd = recipes.autism.mean_hours(), recipes.adhd.mean_hours()
    both = (recipes.both.mean_hours() if recipes.both is not None else
            {n: autism.get(n, 0.0) + adhd.get(n, 0.0) for n in names})
    mix = scenario.referral_mix.pathway
    return {n: mix.autism * autism.get(n, 0.0) + mix.adhd * adhd.get(n, 0.0)
            + mix.both * both.get(n, 0.0) for n in names}


def assessments_per_week_by_profession(scenario: Scenario,
                                       extra: dict[str, float] | None = None) -> dict[str, float]:
    """Assessments a week each profession's hours allow at its starting WTE plus ``extra``
    (``inf`` for a profession the recipes do not need). The least is what the team can do."""
    a = scenario.assessment
    need = recipe_hours_by_profession(scenario)
    more = extra or {}
    return {p.name: (a.profession_hours_per_week(p.name, p.wte + more.get(p.name, 0.0))
                     / need[p.name] if need[p.name] > 0 else math.inf) for p in a.professions}


def binding_profession(scenario: Scenario) -> str | None:
    """The profession whose hours run out first by the recipe's arithmetic (``None`` when no
    profession is needed)."""
    rates = assessments_per_week_by_profession(scenario)
    finite = {n: r for n, r in rates.items() if math.isfinite(r)}
    return min(finite, key=lambda n: finite[n]) if finite else None


def balanced_mix(scenario: Scenario, extra_wte: float) -> dict[str, float]:
    """``extra_wte`` split to raise the assessments a week the team can do as far as possible:
    water-filling on each profession's assessments a week (the binding profession first, then it
    and the next together, ...), by the recipe's arithmetic."""
    a = scenario.assessment
    need = recipe_hours_by_profession(scenario)
    rate = assessments_per_week_by_profession(scenario)
    # assessments a week one extra WTE of each needed profession adds
    gain = {p.name: a.profession_hours_per_week(p.name) / need[p.name]
            for p in a.professions if need[p.name] > 0 and a.profession_hours_per_week(p.name) > 0}
    if not gain or extra_wte <= 0:
        return {}

    def wte_for(level: float) -> dict[str, float]:
        return {n: max(0.0, (level - rate[n]) / g) for n, g in gain.items()}

    low = min(rate[n] for n in gain)
    high = low + extra_wte * max(gain.values()) + 1.0
    for _ in range(200):  # bisection on the level reached; the WTE used grows with it
        mid = (low + high) / 2
        if sum(wte_for(mid).values()) > extra_wte:
            high = mid
        else:
            low = mid
    mix = wte_for(low)
    scale = extra_wte / sum(mix.values()) if sum(mix.values()) > 0 else 0.0
    return {n: w * scale for n, w in mix.items() if w * scale > 1e-9}


def with_extra(scenario: Scenario, wte_by_profession: dict[str, float]) -> Scenario:
    """``scenario`` with more WTE of each named profession from its start date, at full
    capacity at once (no ramp: the question is which post, not how fast it is filled)."""
    names = [p.name for p in scenario.assessment.professions]
    unknown = [n for n in wte_by_profession if n not in names]
    if unknown:
        raise ValueError(f"profession(s) {unknown}: choose from {names}")
    when = scenario.simulation.start_date
    changes = (*scenario.assessment.staffing_changes, *(
        StaffingChange(date=when, profession=n, wte_change=w, ramp_weeks=0.0)
        for n, w in wte_by_profession.items() if w > 0))
    return scenario.replace({"assessment.staffing_changes": [c.model_dump() for c in changes]})


# -------------------------------------------------------------------------------------------------
# Which profession's hours ran out in a run (from its utilisation, not the arithmetic)

CONSTRAINT_SHARE = 0.90
"""A profession that used at least this share of its hours over the run is a constraint..."""
CONSTRAINT_GAP = 0.05
"""... when it is also within this much (5 points) of the busiest profession: an assessment
starts only when every profession it needs has hours, so the busiest profession holds the
others back, and one nearly as busy would hold them back as soon as it had more."""


def hours_used_by_profession(experiment: ExperimentResult) -> dict[str, float]:
    """Each profession's share of its clinical hours for the service used over the run
    (assessment and follow-up), the average over replications as ``professions.csv`` gives it;
    ``nan`` for a profession with no hours. Empty for a run that does not assess by
    profession (the pooled model, servers)."""
    from .results import profession_table

    if experiment.scenario.assessment.capacity_model != "by_profession":
        return {}
    table = profession_table(experiment)
    table = table[table["metric"] == "utilisation"]
    return {str(r.profession): float(r.mean) for r in table.itertuples()}


def constrained_professions(experiment: ExperimentResult) -> list[str]:
    """The professions whose hours held the run's assessments back, busiest first: a profession
    the recipes need that had no hours at all, or else those that used at least
    :data:`CONSTRAINT_SHARE` of their hours and are within :data:`CONSTRAINT_GAP` of the busiest
    (empty when none did, or when the run does not assess by profession)."""
    used = hours_used_by_profession(experiment)
    need = recipe_hours_by_profession(experiment.scenario) if used else {}
    missing = [n for n, u in used.items() if not math.isfinite(u) and need.get(n, 0.0) > 0]
    if missing:
        return missing
    finite = {n: u for n, u in used.items() if math.isfinite(u)}
    if not finite:
        return []
    busiest = max(finite.values())
    return sorted((n for n, u in finite.items()
                   if u >= CONSTRAINT_SHARE and u >= busiest - CONSTRAINT_GAP),
                  key=lambda n: -finite[n])


def _people(name: str) -> str:
    return name.replace("_", " ") + "s"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def constraint_sentence(experiment: ExperimentResult) -> str:
    """Which profession's hours are the constraint in this run, in plain words, from each
    profession's share of its hours used (:func:`hours_used_by_profession`); ``""`` for a run
    that does not assess by profession.

    For example: "Psychologists' hours are the constraint: 97% of their clinical hours were
    used over the 60 months (paediatricians 84%, speech and language therapists 67%; averages
    of 10 projections). Adding other professions alone changes little."
    """
    used = hours_used_by_profession(experiment)
    if not used:
        return ""
    binding = constrained_professions(experiment)
    if binding and not math.isfinite(used[binding[0]]):
        who = _and([_people(b) for b in binding])
        return (f"{who[0].upper()}{who[1:]} have no clinical hours for the service (0 WTE), "
                "and the assessments need them: those assessments cannot start until some are "
                "added, whatever is added of the other professions.")

    def pct(name: str) -> str:
        return f"{100 * used[name]:.0f}%" if math.isfinite(used[name]) else "no hours"

    def shares(names: list[str]) -> str:
        """The others' shares, then how many projections they average, in brackets."""
        listed = ", ".join(f"{_people(n)} {pct(n)}" for n in names)
        return f"({listed + '; ' if listed else ''}averages of {experiment.replications} projections)"

    others = sorted((n for n in used if n not in binding),
                    key=lambda n: -used[n] if math.isfinite(used[n]) else 1.0)
    over = f"over the {experiment.scenario.simulation.horizon_months} months"
    if not binding:
        busiest = others[0]
        return (f"No profession's hours ran out: the busiest, {_people(busiest)}, used "
                f"{pct(busiest)} of their clinical hours {over} {shares(others[1:])}.")
    who = _and([_people(b) + "'" for b in binding])
    sentence = (f"{who[0].upper()}{who[1:]} hours are the constraint: "
                f"{_and([pct(b) for b in binding])} of their clinical hours were used {over} "
                f"{shares(others)}.")
    if others:
        return sentence + " Adding other professions alone changes little."
    return sentence + " Adding one profession alone changes little: the team needs more of each."


# -------------------------------------------------------------------------------------------------
# +1 WTE of each profession, with common random numbers


@dataclass(frozen=True)
class PostEffects:
    """The effect of ``extra_wte`` more of each profession against the scenario as it is."""

    scenario: Scenario
    extra_wte: float
    replications: int
    seed: int
    differences: pd.DataFrame
    """Long: ``profession, metric, baseline, scenario, difference, ci_low, ci_high, n`` (paired
    differences, post minus baseline, 95% intervals)."""
    ranking: pd.DataFrame
    """One row per profession, best first (most child-weeks of waiting avoided): the change in
    each of :data:`STAFFING_METRICS` with its interval, ``child_weeks_avoided`` and
    ``cost_per_child_week_avoided`` (with an interval from the child-weeks' interval; the extra
    cost is almost exactly the post's, so its spread is left out; null when the waiting avoided
    is not distinguishable from zero)."""
    binding: str | None = None
    """The profession that binds by the recipe's arithmetic."""

    def sentence(self) -> str:
        best = self.ranking.iloc[0]
        who = str(best["profession"]).replace("_", " ")
        words = (f"{self.extra_wte:g} more {who} WTE shortens the list at the end by "
                 f"{-best['waiting_list_end']:,.0f} (95% CI {-best['waiting_list_end_ci_high']:,.0f}"
                 f" to {-best['waiting_list_end_ci_low']:,.0f})")
        cost = best["cost_per_child_week_avoided"]
        if math.isfinite(cost):
            words += f", at {fmt_money(cost)} per child-week of waiting avoided"
        return words + f" ({self.replications} paired projections)."


def _change(mean: float, low: float, high: float, digits: int = 0) -> str:
    if not math.isfinite(mean):
        return "-"
    text = f"{mean:+,.{digits}f}"
    if math.isfinite(low) and math.isfinite(high):
        text += f" ({low:+,.{digits}f} to {high:+,.{digits}f})"
    return text


def _money_change(mean: float, low: float, high: float) -> str:
    """A change in pounds and its interval, as every table writes money ("+£85.0k (+£85.0k to
    +£85.0k)" is "+£85.0k"): :func:`model.labels.fmt_change_interval`."""
    return fmt_change_interval("cost_total", mean, low, high)


def effects_table(effects: PostEffects) -> pd.DataFrame:
    """The ranking in words for a report: each change with its 95% interval."""
    rows = []
    for r in effects.ranking.to_dict("records"):
        def col(name: str, digits: int = 0) -> str:
            return _change(r[name], r[f"{name}_ci_low"], r[f"{name}_ci_high"], digits)

        cost = r["cost_per_child_week_avoided"]
        rows.append({
            "rank": r["rank"],
            f"+{effects.extra_wte:g} WTE of": str(r["profession"]).replace("_", " "),
            "list at the end": col("waiting_list_end"),
            "median waited (weeks)": col("list_wait_weeks_p50_end", 1),
            "92nd percentile waited (weeks)": col("list_wait_weeks_p92_end", 1),
            "assessed within 13 weeks (points)": col("pct_referrals_assessed_within_13w", 1),
            "cost (£)": _money_change(r["cost_total"], r["cost_total_ci_low"],
                                      r["cost_total_ci_high"]),
            "child-weeks of waiting avoided": (
                f"{r['child_weeks_avoided'] + 0.0:,.0f} ({r['child_weeks_avoided_ci_low'] + 0.0:,.0f}"
                f" to {r['child_weeks_avoided_ci_high'] + 0.0:,.0f})"),
            "£ per child-week avoided": (
                f"{fmt_money(cost)} ({fmt_money(r['cost_per_child_week_avoided_ci_low'])} to "
                f"{fmt_money(r['cost_per_child_week_avoided_ci_high'])})" if math.isfinite(cost)
                else "not defined: no waiting avoided beyond chance"),
        })
    return pd.DataFrame(rows)


def _ranking(differences: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for profession, part in differences.groupby("profession", sort=False):
        d = part.set_index("metric")
        row: dict[str, object] = {"profession": profession}
        for name in STAFFING_METRICS:
            if name in d.index:
                row[name] = float(d.loc[name, "difference"])
                row[f"{name}_ci_low"] = float(d.loc[name, "ci_low"])
                row[f"{name}_ci_high"] = float(d.loc[name, "ci_high"])
        avoided = -float(d.loc["list_child_weeks", "difference"])
        low, high = (-float(d.loc["list_child_weeks", "ci_high"]),
                     -float(d.loc["list_child_weeks", "ci_low"]))
        cost = float(d.loc["cost_total", "difference"])
        row["child_weeks_avoided"] = avoided
        row["child_weeks_avoided_ci_low"], row["child_weeks_avoided_ci_high"] = low, high
        defined = low > 0  # the interval excludes no waiting avoided
        row["cost_per_child_week_avoided"] = cost / avoided if defined else math.nan
        row["cost_per_child_week_avoided_ci_low"] = cost / high if defined else math.nan
        row["cost_per_child_week_avoided_ci_high"] = cost / low if defined else math.nan
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("child_weeks_avoided", ascending=False,
                                           kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def post_effects(
    scenario: Scenario,
    extra_wte: float = 1.0,
    replications: int | None = None,
    seed: int | None = None,
    executor: str | Executor = "local",
    on_done: Callable[[str], None] | None = None,
) -> PostEffects:
    """For ``extra_wte`` more of each profession (one at a time, from the start date), the
    paired change in :data:`STAFFING_METRICS` against ``scenario``, ranked by the child-weeks of
    waiting avoided.

    Raises ``ValueError`` for a non-positive ``extra_wte`` or a team with no professions.
    """
    if not extra_wte > 0:
        raise ValueError(f"extra_wte must be above 0, got {extra_wte}")
    professions = [p.name for p in scenario.assessment.professions]
    if not professions:
        raise ValueError("the scenario has no professions to add to")
    n = scenario.simulation.replications if replications is None else replications
    base_seed = scenario.simulation.seed if seed is None else seed
    baseline = run_replications(scenario, n, base_seed, executor, groups=False)
    parts = []
    for name in professions:
        variant: ExperimentResult = run_replications(
            with_extra(scenario, {name: extra_wte}), n, base_seed, executor, groups=False)
        diff = compare(baseline, variant)
        diff = diff[diff["metric"].isin(STAFFING_METRICS)].assign(profession=name)
        parts.append(diff)
        if on_done is not None:
            on_done(name)
    differences = pd.concat(parts, ignore_index=True)[
        ["profession", "metric", "baseline", "scenario", "difference", "ci_low", "ci_high", "n"]]
    return PostEffects(scenario, extra_wte, n, base_seed, differences, _ranking(differences),
                       binding_profession(scenario))


# -------------------------------------------------------------------------------------------------
# The fewest extra WTE, by profession mix, that meet a target by a date


@dataclass(frozen=True)
class MixLever(Lever):
    """Extra WTE split across professions: in fixed ``shares`` (profession, share summing to
    1), or, with no shares, by :func:`balanced_mix` (the binding profession first)."""

    shares: tuple[tuple[str, float], ...] = ()
    name: str = "balanced"

    def split(self, scenario: Scenario, amount: float) -> dict[str, float]:
        if self.shares:
            return {n: amount * s for n, s in self.shares}
        return balanced_mix(scenario, amount)

    def apply(self, scenario: Scenario, amount: float) -> Scenario:
        if amount <= 0:
            return scenario
        return with_extra(scenario, self.split(scenario, amount))

    def unit(self, amount: float) -> str:
        return f"{amount:.1f} extra WTE ({self.name})"


def candidate_mixes(scenario: Scenario) -> list[Lever]:
    """The mixes searched: each profession alone, the team in proportion to its WTE, and the
    balanced mix (binding profession first)."""
    levers: list[Lever] = [Lever("wte", profession=p.name) for p in scenario.assessment.professions]
    levers.append(Lever("wte"))
    if scenario.assessment.capacity_model == "by_profession":
        levers.append(MixLever("wte"))
    return levers


def mix_name(lever: Lever) -> str:
    if isinstance(lever, MixLever):
        return lever.name
    return lever.profession or "team in proportion"


@dataclass(frozen=True)
class FewestWTE:
    """The fewest extra WTE meeting ``target`` among the mixes searched."""

    target: Target
    answers: dict[str, LeverAnswer] = field(repr=False)
    table: pd.DataFrame
    """One row per mix, fewest first: ``mix, extra_wte`` (null: not met within the most tried),
    ``achieved, probability_met, split`` (the WTE by profession at that amount)."""

    @property
    def best(self) -> pd.Series | None:
        met = self.table[self.table["extra_wte"].notna()]
        return met.iloc[0] if len(met) else None

    def sentence(self) -> str:
        best = self.best
        if best is None:
            return f"No mix searched reaches {self.target.words()}."
        if best["extra_wte"] == 0:
            return f"The scenario as it is reaches {self.target.words()}: no extra WTE needed."
        return (f"The fewest: about {best['extra_wte']:.1f} extra WTE ({best['mix']}: "
                f"{best['split']}) reaches {self.target.words()} on average; met in "
                f"{100 * best['probability_met']:.0f}% of projections.")


def fewest_wte(
    scenario: Scenario,
    target: Target,
    replications: int | None = None,
    seed: int | None = None,
    executor: str | Executor = "local",
    max_wte: float = 60.0,
    levers: list[Lever] | None = None,
    tolerance: float | None = None,
    on_done: Callable[[str], None] | None = None,
) -> FewestWTE:
    """:func:`model.questions.least_lever` for each mix of :func:`candidate_mixes` (common
    random numbers throughout), ranked by the extra WTE each needs."""
    found: dict[str, LeverAnswer] = {}
    rows = []
    for lever in levers or candidate_mixes(scenario):
        name = mix_name(lever)
        answer = least_lever(scenario, target, lever, replications, seed, executor,
                             max_amount=max_wte, tolerance=tolerance)
        found[name] = answer
        amount = answer.amount
        if amount is None:
            split = ""
        elif isinstance(lever, MixLever):
            split = _words(lever.split(scenario, amount))
        elif lever.profession is None:
            total = sum(p.wte for p in scenario.assessment.professions)
            split = _words({p.name: amount * p.wte / total for p in scenario.assessment.professions})
        else:
            split = _words({lever.profession: amount})
        rows.append({"mix": name, "extra_wte": amount, "achieved": answer.achieved,
                     "probability_met": answer.probability_met, "split": split})
        if on_done is not None:
            on_done(name)
    table = pd.DataFrame(rows).sort_values("extra_wte", na_position="last",
                                           kind="stable").reset_index(drop=True)
    return FewestWTE(target, found, table)


def _words(split: dict[str, float]) -> str:
    return ", ".join(f"{w:.1f} {n.replace('_', ' ')}" for n, w in split.items() if w > 0)


__all__ = ["CONSTRAINT_GAP", "CONSTRAINT_SHARE", "STAFFING_METRICS", "FewestWTE", "MixLever",
           "PostEffects", "assessments_per_week_by_profession", "constrained_professions",
           "constraint_sentence", "effects_table", "hours_used_by_profession",
           "balanced_mix", "binding_profession", "candidate_mixes", "fewest_wte", "post_effects",
           "recipe_hours_by_profession", "with_extra"]
