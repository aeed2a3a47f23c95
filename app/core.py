"""Levers, input checks, result tables and plain-language sentences for the app (no Streamlit).

A commissioner moves *levers*; :func:`apply_levers` turns them into a new scenario with
:meth:`Scenario.replace`, changing only the keys whose lever moved, so an untouched lever set
gives back the starting scenario exactly (same digest, same numbers). :func:`lever_problems`
says, in words, why a set of levers cannot be run.

>>> from model.scenario import Scenario
>>> base = Scenario()
>>> levers = levers_from(base)
>>> apply_levers(base, levers).digest() == with_run_settings(base, levers).digest()
True
>>> lever_problems(base, levers.with_changes(horizon_months=0))[0]
'The horizon is 0 months: choose at least 1 month to project.'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import pandas as pd

import model
from model.assumptions import assumptions
from model.experiment import ExperimentResult
from model.labels import fmt_number, fmt_signed, is_fraction, label, undefined_reason
from model.labels import POINTS_SHOWN_AS_ZERO, change_unit, fmt_money, fmt_points, in_points
from model.labels import HORIZON_TOTALS, card_label, horizon_end_words, period_label
from model.labels import period_words, short_label
from model.names import SCALAR_METRICS
from model.scenario import Scenario, ScenarioError, load_scenario_with_sources
from model.staffing import constraint_sentence
from model.uncertainty import centred_range

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "scenarios"
DEFAULT_SCENARIO = "default.toml"
DEFAULT_REPLICATIONS = 10
"""Modest, so the first view of the app appears within seconds; users can raise it."""

PriorityGroup = Literal["urgent", "looked_after", "near_18"]
PRIORITY_GROUPS: dict[str, str] = {
    "urgent": "Urgent referrals",
    "looked_after": "Looked-after children and children in need",
    "near_18": "Children about to turn 18",
}

HEADLINE_METRICS = (
    "waiting_total_end",
    "total_wait_weeks_p50_end",
    "waiting_total_over_52w_end",
    "pct_referrals_assessed_within_13w",
    "time_to_first_support_weeks_p50",
    "escalations",
    "cost_total",
)
"""The numbers a commissioner sees first, in order: list-based and referral-cohort measures
(never the waits of only those who were seen)."""

LOWER_IS_BETTER = {
    "waiting_list_end", "waiting_total_end", "list_wait_weeks_p50_end", "list_wait_weeks_p92_end",
    "list_wait_weeks_mean_end",
    "pct_waiting_over_13w_end", "pct_waiting_over_52w_end", "pct_waiting_over_104w_end",
    "waiting_over_13w_end", "waiting_over_52w_end", "waiting_over_104w_end",
    "total_wait_weeks_p50_end", "waiting_total_over_13w_end", "waiting_total_over_52w_end",
    "waiting_total_over_104w_end", "profiling_wait_weeks_p50_end", "profiling_over_52w_end",
    "vetting_over_52w_end",
    "referral_to_assessment_weeks_p50", "wait_of_those_assessed_weeks_p50",
    "wait_of_those_assessed_weeks_p90", "wait_of_those_assessed_weeks_mean",
    "time_to_first_support_weeks_p50", "escalations", "aged_out", "cost_total",
    "cost_per_assessment", "vetting_end", "profiling_queue_end", "list_child_weeks",
    "re_referrals", "routed_away_would_be_diagnosed", "would_be_diagnosed_unassessed",
    "would_be_diagnosed_left_unassessed", "turned_18_without_assessment",
    "turned_18_after_needs_led_exit", "follow_up_hours_unmet",
    "supported_without_diagnosis_weeks_to_support_p50",
}
"""Measures where less is better: for families (shorter waits, fewer crises), or, for the
costs, for the commissioner's budget (the cards colour a fall in them green)."""

HIGHER_IS_BETTER = {
    "pct_referrals_assessed_within_13w", "pct_referrals_assessed_within_52w",
    "pct_referrals_assessed_within_104w", "pct_of_those_assessed_within_13w",
    "pct_supported_within_13w", "pct_supported_within_52w", "assessments_started",
    "assessments_completed", "support_starts", "supported_without_diagnosis", "backlog_cleared",
}
"""Measures where more is better for families (sooner assessments, more support)."""

COST_METRICS = {m for m in SCALAR_METRICS if m.startswith("cost")}
"""Money: lower is better for the budget, but not better or worse for families in itself, so a
clear change in it is said as "costs more" or "costs less"."""

NEUTRAL_METRICS = {
    "referrals", "waiting_list_start", "needs_led_exits", "signposted", "rejected",
    "withdrawals", "clinician_utilisation", "in_assessment_end", "outsourced_assessments",
    "profiles_completed", "assessments_no_condition", "pct_profiled_to_diagnostic",
    "follow_up_starts", "follow_up_caseload_end", "follow_up_hours",
}
"""Measures that are neither better nor worse in themselves (more referrals, more children
signposted): a clear change in them is said as "higher" or "lower"."""


# -------------------------------------------------------------------------------------------------
# Shipped scenarios


def shipped_scenarios(directory: Path = SCENARIO_DIR) -> dict[str, Path]:
    """Scenario files a commissioner can start from, by file stem, the default first.

    The textbook validation reductions (``scenarios/validation/``) are left out: they are not
    services.
    """
    files = sorted(directory.glob("*.toml"), key=lambda p: (p.name != DEFAULT_SCENARIO, p.name))
    return {p.stem: p for p in files}


def load_shipped(name: str, directory: Path = SCENARIO_DIR) -> tuple[Scenario, dict[str, str]]:
    """A shipped scenario by stem, with the SHA-256 of every file it was built from."""
    files = shipped_scenarios(directory)
    if name not in files:
        raise ScenarioError([f"no shipped scenario called {name!r}; choose one of {sorted(files)}"])
    loaded = load_scenario_with_sources(files[name])
    hashes = {Path(f).name: h for f, h in loaded.file_hashes.items()}
    return loaded.scenario, hashes


# -------------------------------------------------------------------------------------------------
# Levers


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, 28))


def _months_between(start: dt.date, end: dt.date) -> int:
    return round((end - start).days / (365.25 / 12))


@dataclass(frozen=True)
class Levers:
    """Everything a commissioner can move on the Scenario page, in the units they think in."""

    wte: tuple[float, ...]
    """Clinician WTE, one per profession of the scenario, in its order."""
    profiling_enabled: bool
    profiling_wte: float
    pct_to_diagnosis: float
    """Of the families profiled, the share sent on to diagnostic assessment (0-100)."""
    pct_needs_led: float
    """Of the families profiled, the share given a needs-led support plan (0-100)."""
    support_places: float
    """Support capacity in the scenario's own unit: places (families supported at once) when
    ``support.capacity`` is ``caseload``, new episodes a month when it is ``starts_per_month``."""
    annual_growth_pct: float
    priority_order: tuple[str, ...]
    """Groups seen first, in order; empty means first come, first served."""
    outsourced_assessments: int
    outsourced_start_month: int
    """Months after the start of the projection that the block begins."""
    outsourced_months: int
    outsourced_cost: float
    horizon_months: int
    replications: int
    seed: int
    include_uncertainty: bool = False
    """Whether each replication also draws the assumptions over their plausible ranges."""

    def with_changes(self, **changes: Any) -> "Levers":
        return dataclasses.replace(self, **changes)


def levers_from(scenario: Scenario, replications: int = DEFAULT_REPLICATIONS) -> Levers:
    """The lever positions that reproduce ``scenario`` (replications: the app's default)."""
    a, p, sim = scenario.assessment, scenario.profiling, scenario.simulation
    block = a.outsourced[0] if a.outsourced else None
    return Levers(
        wte=tuple(float(x.wte) for x in a.professions),
        profiling_enabled=p.enabled,
        profiling_wte=float(p.practitioner_wte),
        pct_to_diagnosis=round(100 * p.routing.diagnostic, 1),
        pct_needs_led=round(100 * p.routing.needs_led, 1),
        support_places=support_capacity(scenario),
        annual_growth_pct=round(100 * scenario.arrivals.annual_growth, 1),
        priority_order=tuple(a.priority_order) if a.discipline == "priority" else (),
        outsourced_assessments=block.assessments if block else 0,
        outsourced_start_month=_months_between(sim.start_date, block.start_date) if block else 3,
        outsourced_months=max(1, _months_between(block.start_date, block.end_date)) if block else 12,
        outsourced_cost=float(block.cost_per_assessment) if block else 2000.0,
        horizon_months=sim.horizon_months,
        replications=replications,
        seed=sim.seed,
        include_uncertainty=scenario.uncertainty.enabled,
    )


def support_capacity(scenario: Scenario) -> float:
    """The support lever's position: places for a caseload, starts a month otherwise."""
    support = scenario.support
    if support.capacity == "caseload":
        return float(support.places)
    return float(support.starts_per_month or 0.0)


def support_unit(scenario: Scenario) -> str:
    """What the support lever counts, in words."""
    if scenario.support.capacity == "caseload":
        return "families supported at once"
    return "support starts a month"


def _lever_overrides(base: Scenario, levers: Levers) -> dict[str, Any]:
    """``Scenario.replace`` overrides for the levers that differ from ``base``'s positions."""
    was = levers_from(base, levers.replications)
    out: dict[str, Any] = {}
    for i, (old, new) in enumerate(zip(was.wte, levers.wte)):
        if old != new:
            out[f"assessment.professions.{i}.wte"] = float(new)
    if levers.profiling_enabled != was.profiling_enabled:
        out["profiling.enabled"] = levers.profiling_enabled
    if levers.profiling_wte != was.profiling_wte:
        out["profiling.practitioner_wte"] = float(levers.profiling_wte)
    if (levers.pct_to_diagnosis, levers.pct_needs_led) != (was.pct_to_diagnosis, was.pct_needs_led):
        diagnostic, needs_led = levers.pct_to_diagnosis / 100, levers.pct_needs_led / 100
        out["profiling.routing"] = {"diagnostic": diagnostic, "needs_led": needs_led,
                                    "signposted": max(0.0, 1.0 - diagnostic - needs_led)}
    if levers.support_places != was.support_places:
        if base.support.capacity == "caseload":
            out["support.places"] = int(round(levers.support_places))
        else:
            out["support.starts_per_month"] = float(levers.support_places)
    if levers.annual_growth_pct != was.annual_growth_pct:
        out["arrivals.annual_growth"] = levers.annual_growth_pct / 100
    if levers.priority_order != was.priority_order:
        out["assessment.discipline"] = "priority" if levers.priority_order else "fifo"
        if levers.priority_order:
            out["assessment.priority_order"] = list(levers.priority_order)
    block_fields = ("outsourced_assessments", "outsourced_start_month", "outsourced_months",
                    "outsourced_cost")
    if any(getattr(levers, f) != getattr(was, f) for f in block_fields):
        rest = [b.model_dump() for b in base.assessment.outsourced[1:]]
        first: list[dict[str, Any]] = []
        if levers.outsourced_assessments > 0:
            start = _add_months(base.simulation.start_date, levers.outsourced_start_month)
            first = [{"start_date": start,
                      "end_date": _add_months(start, levers.outsourced_months),
                      "assessments": int(levers.outsourced_assessments),
                      "cost_per_assessment": float(levers.outsourced_cost)}]
        out["assessment.outsourced"] = first + rest
    out.update(run_settings(levers))
    return out


def run_settings(levers: Levers) -> dict[str, Any]:
    """The run settings (not policy levers): applied to the baseline and the edit alike."""
    return {"simulation.horizon_months": int(levers.horizon_months),
            "simulation.replications": int(levers.replications),
            "simulation.seed": int(levers.seed)}


def with_run_settings(scenario: Scenario, levers: Levers) -> Scenario:
    """``scenario`` with the horizon, replications, seed and uncertainty setting of ``levers``
    (the paired baseline)."""
    return with_uncertainty(scenario.replace(run_settings(levers)), levers.include_uncertainty)


def apply_levers(base: Scenario, levers: Levers) -> Scenario:
    """A new scenario from ``base`` with the levers applied; raises ``ScenarioError``."""
    return with_uncertainty(base.replace(_lever_overrides(base, levers)),
                            levers.include_uncertainty)


# -------------------------------------------------------------------------------------------------
# Parameter uncertainty


def uncertain_ranges(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """The range each assumption is drawn from: its plausible range, moved with the scenario.

    :func:`model.assumptions.assumptions` centres each plausible range on the scenario's own
    value (``value - (default - low)`` to ``value + (high - default)``, within the key's allowed
    values), so a deliberate choice (a calibrated withdrawal rate rather than the default) is kept. With the
    same seed two scenarios draw the same point of their ranges, so their paired difference is
    still exactly the change made.
    """
    return {item.key: (item.low, item.high) for item in assumptions(scenario)}


def with_uncertainty(scenario: Scenario, include: bool) -> Scenario:
    """``scenario`` with parameter uncertainty switched on (assumptions drawn per replication,
    see :func:`uncertain_ranges`) or off.

    The ranges are worked out afresh from the scenario's values each time (so a lever moved on
    a scenario that already carries them moves its range too). Distributions a scenario file
    gives in ``uncertainty.parameters`` for keys that are not assumptions are kept.
    """
    if not include:
        if not scenario.uncertainty.enabled:
            return scenario
        return scenario.replace({"uncertainty.enabled": False})
    assumption_keys = {item.key for item in assumptions(scenario)}
    own = {key: dist.model_dump() for key, dist in scenario.uncertainty.parameters.items()
           if key not in assumption_keys}
    # each drawn over its range with the scenario's value as its mean (model.uncertainty)
    ranges = {item.key: centred_range(item.value, item.low, item.high).model_dump()
              for item in assumptions(scenario)}
    return scenario.replace({"uncertainty.enabled": True, "uncertainty.from_assumptions": False,
                             "uncertainty.parameters": own | ranges})


def without_uncertainty(scenario: Scenario) -> Scenario:
    """The scenario with its assumptions fixed (for one-at-a-time sensitivity analysis)."""
    return with_uncertainty(scenario, False)


def band_words(include: bool) -> str:
    """What the shading on the charts means, in plain words."""
    if include:
        return ("Shading shows the range of projections: chance, and what we don't know about "
                "the assumptions (how many families withdraw, how often children reach crisis, "
                "how much support helps, how fast referrals grow ...), each drawn from its "
                "plausible range, centred on the scenario's value.")
    return ("Shading shows the range of projections: chance only, with every assumption held "
            "at one value. What we don't know about the assumptions would make it wider.")


def uncertainty_note(include: bool) -> str:
    """One line for provenance and the summit pack."""
    return ("included: each projection drew each assumption from its plausible range, "
            "centred on the scenario's value"
            if include else "not included: the assumptions were held fixed (chance only)")


def lever_problems(base: Scenario, levers: Levers) -> list[str]:
    """Why these levers cannot be run, in plain words (empty when they can)."""
    problems: list[str] = []
    if levers.horizon_months < 1:
        problems.append(f"The horizon is {levers.horizon_months} months: choose at least 1 month "
                        "to project.")
    if levers.replications < 2:
        problems.append(f"{levers.replications} replication(s) cannot show uncertainty: choose at "
                        "least 2 (10 or more for decisions).")
    if base.assessment.capacity_model != "servers":  # pooled or by profession: staff hours
        other_blocks = sum(b.assessments for b in base.assessment.outsourced[1:])
        if sum(levers.wte) <= 0 and levers.outsourced_assessments <= 0 and other_blocks <= 0:
            problems.append("Every clinician WTE is zero and no assessments are outsourced, so "
                            "nobody could ever be assessed. Give at least one profession some "
                            "WTE, or outsource a block of assessments.")
    if levers.profiling_enabled:
        if levers.profiling_wte <= 0:
            problems.append("The profiling front door is on but has no practitioners (0 WTE), so "
                            "every referral would wait there for ever. Add practitioner WTE or "
                            "turn profiling off.")
    routed = levers.pct_to_diagnosis + levers.pct_needs_led
    if routed > 100 + 1e-9:  # checked even when profiling is off: the scenario keeps the routing
        problems.append(f"Profiling routing is impossible: {levers.pct_to_diagnosis:g}% sent "
                        f"to diagnosis plus {levers.pct_needs_led:g}% given needs-led support "
                        f"is {routed:g}%, more than 100%. Lower one of them.")
    if levers.outsourced_assessments > 0:
        if levers.outsourced_months < 1:
            problems.append("The outsourced block lasts 0 months: spread it over at least 1 "
                            "month, or set the number of outsourced assessments to 0.")
        if levers.outsourced_start_month >= levers.horizon_months >= 1:
            problems.append(f"The outsourced block starts {levers.outsourced_start_month} months "
                            f"in, after the end of the {levers.horizon_months}-month projection, "
                            "so it would change nothing. Start it earlier or lengthen the horizon.")
    if problems:
        return problems
    try:
        apply_levers(base, levers)
    except ScenarioError as error:
        problems.extend(error.problems)
    return problems


# -------------------------------------------------------------------------------------------------
# Results


def month_today(scenario: Scenario) -> str:
    """The month the projection starts from (the charts' start line), as ``YYYY-MM``."""
    return scenario.simulation.start_date.strftime("%Y-%m")


def summary_table(results: dict[str, ExperimentResult]) -> pd.DataFrame:
    """Long table ``scenario, metric, label, mean, ci_low, ci_high, n`` for several scenarios."""
    frames = []
    for name, result in results.items():
        s = result.summary.copy()
        s.insert(0, "scenario", name)
        s.insert(2, "label", s["metric"].map(label))
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


def results_csv(baseline_name: str, baseline: ExperimentResult, edited_name: str | None,
                edited: ExperimentResult | None, differences: pd.DataFrame | None) -> str:
    """The results download: both scenarios' summaries, then the paired differences."""
    runs = {baseline_name: baseline}
    if edited is not None and edited_name is not None:
        runs[edited_name] = edited
    table = summary_table(runs).assign(kind="estimate")
    if differences is not None and edited_name is not None:
        d = differences.rename(columns={"difference": "mean"})
        d = d.assign(scenario=f"{edited_name} minus {baseline_name}", label=d["metric"].map(label),
                     kind="paired difference")
        table = pd.concat([table, d[table.columns]], ignore_index=True)
    return table[["kind", "scenario", "metric", "label", "mean", "ci_low", "ci_high", "n"]].to_csv(
        index=False)


def _own(row: Any, run: str) -> tuple[float, float, float, int]:
    """A run's own ``mean, ci_low, ci_high, n`` from a :func:`model.experiment.compare` row
    (the paired mean, over the pairs, for a frame without the own columns)."""
    if hasattr(row, f"{run}_own_mean"):
        return (float(getattr(row, f"{run}_own_mean")), float(getattr(row, f"{run}_own_ci_low")),
                float(getattr(row, f"{run}_own_ci_high")), int(getattr(row, f"{run}_own_n")))
    return float(getattr(row, run)), math.nan, math.nan, int(row.n)


def _undefined_words(metric: str) -> tuple[str, str]:
    """What an undefined value of ``metric`` is called ("not reached", "nobody waiting at the
    end", "not defined") and, for "not defined", why (": no child started assessment"; else
    '')."""
    shown = fmt_metric(metric, math.nan)
    if shown == "nobody waiting":
        return "nobody waiting at the end", ""
    if shown != "-":
        return shown, ""
    return "not defined", f": {undefined_reason(metric)}"


def _no_difference(metric: str, baseline_name: str, scenario_name: str, baseline_n: int,
                   scenario_n: int) -> str:
    """Why a paired difference cannot be computed, naming the scenario(s) it is missing from
    ("no difference: not reached in “Status quo”")."""
    words, why = _undefined_words(metric)
    if baseline_n == 0 and scenario_n == 0:
        return f"no difference: {words} in either scenario{why}"
    if baseline_n == 0:
        return f"no difference: {words} in “{baseline_name}”{why}"
    if scenario_n == 0:
        return f"no difference: {words} in “{scenario_name}”{why}"
    return "no difference: never defined in the same projection of both"


def _reached_in_one(metric: str, baseline_n: int, scenario_n: int) -> str | None:
    """For a median wait ("not reached" when undefined: fewer than half got there within the
    horizon), which run reached it when only one did ("baseline" or "scenario"), else None.
    Reaching it at all is a shorter wait than never reaching it: a difference, not none."""
    if fmt_metric(metric, math.nan) != "not reached":
        return None
    if baseline_n == 0 and scenario_n > 0:
        return "scenario"
    if scenario_n == 0 and baseline_n > 0:
        return "baseline"
    return None


def differences_table(differences: pd.DataFrame, baseline_name: str = "Starting scenario",
                      scenario_name: str = "Your scenario",
                      scenario: Scenario | None = None) -> pd.DataFrame:
    """Paired differences for display, in the headline order: each scenario's own value (as the
    numbers table and the cards show it), the paired difference in the measure's own unit (in
    points for percentages), its interval, and whether it is a clear change, in words.

    The two value columns are named after the scenarios (``baseline_name``, ``scenario_name``).
    A difference that cannot be computed (a median reached in one scenario and not the other)
    says so and why, beside each scenario's own value; a difference that rounds to zero reads
    "no change", never "-0". With the ``scenario`` run, a total over the projection says its
    period (:func:`period_label`)."""
    order = {m: k for k, m in enumerate(HEADLINE_METRICS)}
    frame = differences.assign(_order=differences["metric"].map(lambda m: order.get(m, 99)))
    rows = []
    for r in frame.sort_values("_order", kind="stable").itertuples():
        metric = str(r.metric)
        difference, low, high, n = float(r.difference), float(r.ci_low), float(r.ci_high), int(r.n)
        base, scen = _own(r, "baseline"), _own(r, "scenario")
        if math.isfinite(difference):
            shown = fmt_delta(metric, difference)
            if math.isfinite(low) and math.isfinite(high):
                interval = f"{fmt_bound(metric, low)} to {fmt_bound(metric, high)}"
            else:
                interval = "not enough projections for an interval"
            if n < max(base[3], scen[3]):  # own averages over more projections than the pairs
                interval += f" (from the {n} projections where both have a value)"
        else:
            shown = _no_difference(metric, baseline_name, scenario_name, base[3], scen[3])
            interval = "-"
        verdict = clear_change(metric, low, high, difference)
        reached = _reached_in_one(metric, base[3], scen[3])
        if reached is not None:  # a median wait one scenario reaches and the other never does
            names = (scenario_name, baseline_name) if reached == "scenario" else (
                baseline_name, scenario_name)
            shown = f"reached in “{names[0]}”, not in “{names[1]}”"
            better = (reached == "scenario") == (direction(metric) == "lower is better")
            verdict = "better" if better else "worse"
        rows.append({
            "Measure": period_label(metric, scenario),
            baseline_name: fmt_estimate(metric, *base[:3]),
            scenario_name: fmt_estimate(metric, *scen[:3]),
            "Difference": shown,
            "95% interval of the difference": interval,
            "Clear change?": verdict,
        })
    return pd.DataFrame(rows)


def fmt_estimate(metric: str, mean: float, low: float = math.nan, high: float = math.nan) -> str:
    """An average and its 95% interval in the measure's unit ("41 weeks (20 weeks to 62
    weeks)"), as every table shows a scenario's own value; the interval is left off where it
    is undefined."""
    interval = (f" ({fmt_metric(metric, low)} to {fmt_metric(metric, high)})"
                if math.isfinite(low) and math.isfinite(high) else "")
    return fmt_metric(metric, mean) + interval


def numbers_table(results: dict[str, ExperimentResult], metrics: Sequence[str],
                  notes: bool = False) -> pd.DataFrame:
    """One row per measure (in the order given, labelled), one column per scenario: the average
    over the projections and its 95% interval, both in the measure's own unit; with ``notes``, a
    last column saying where a number is not defined in some projections. A total over the
    projection says its period (:func:`period_label`, of the first result's scenario: the
    results are run over the same months)."""
    summaries = {name: r.summary.set_index("metric") for name, r in results.items()}
    first = next(iter(results.values())).scenario if results else None
    rows = []
    for metric in metrics:
        row = {"Measure": period_label(metric, first)}
        why = []
        for name, summary in summaries.items():
            if metric not in summary.index:
                row[name] = "-"
                continue
            m = summary.loc[metric]
            row[name] = fmt_estimate(metric, float(m["mean"]), float(m["ci_low"]),
                                     float(m["ci_high"]))
            note = undefined_note(metric, int(m["n"]), results[name].replications)
            if note:
                why.append(f"{name}: {note}" if len(results) > 1 else note)
        if notes:
            row["Note"] = "; ".join(why)
        rows.append(row)
    return pd.DataFrame(rows)


NOT_CLEAR = "not clear"
"""The verdict on a difference whose 95% interval includes zero (:data:`VERDICT_NOTE` says
why, under the table: the cell stays short enough for the column to fit)."""
CANNOT_TELL = "cannot tell"
"""The verdict without a difference to compute or an interval (said in :data:`VERDICT_NOTE`)."""

STATISTIC = "average of the projections"
"""The one statistic every number on the cards, in the sentences and in the tables is."""


def statistic_note(replications: int) -> str:
    """What each headline number is, in words (shown under the cards and tables)."""
    return (f"Each number is the average of {replications} projections (the {STATISTIC}); "
            "ranges are 95% intervals of that average unless they say “9 in 10 projections”.")


VERDICT_NOTE = ("Clear change? says “better” or “worse” for families where the direction has a "
                "meaning for them, “costs more” or “costs less” for money, and “higher” or "
                "“lower” for a measure that is neither better nor worse in itself; “not clear” "
                "when the 95% interval includes no change (zero), so the difference could be "
                "chance; “cannot tell” when there is no difference to compute (a number not "
                "defined in a scenario) or too few projections for an interval.")
"""What the differences table's last column says, for a caption under it."""


def direction(metric: str) -> Literal["lower is better", "higher is better", "cost", "neutral"]:
    """Which way a change in ``metric`` counts (see :data:`LOWER_IS_BETTER` and the others)."""
    if metric in COST_METRICS:
        return "cost"
    if metric in LOWER_IS_BETTER:
        return "lower is better"
    if metric in HIGHER_IS_BETTER:
        return "higher is better"
    return "neutral"


def clear_change(metric: Any, low: float, high: float, difference: float | None = None) -> str:
    """Whether the paired interval excludes zero, and in which direction, in words: "better" or
    "worse" where the direction has a meaning for families, "costs more/less" for money,
    "higher/lower" otherwise; "not clear" when the interval includes zero; "no change" when
    the difference and its interval round to zero (or the difference does, with ``difference``
    given); "cannot tell" without a difference or an interval. Two words at most, so the
    table's column fits a laptop's screen; :data:`VERDICT_NOTE` says why under the table."""
    metric = str(metric)
    if difference is not None and not math.isfinite(difference):
        return CANNOT_TELL
    if not (math.isfinite(low) and math.isfinite(high)):
        return CANNOT_TELL
    if rounds_to_zero(metric, low) and rounds_to_zero(metric, high):
        return "no change"
    if low <= 0 <= high:
        return NOT_CLEAR
    if difference is not None and rounds_to_zero(metric, difference):
        return "no change"  # clear but too small to show at this rounding
    return change_words(metric, up=low > 0)


def change_words(metric: str, up: bool) -> str:
    """A clear change in ``metric`` in words, as :data:`VERDICT_NOTE` says: "better" or "worse"
    for families where the direction has a meaning for them, "costs more" or "costs less" for
    money, "higher" or "lower" otherwise (``up``: the change is a rise)."""
    kind = direction(metric)
    if kind == "cost":
        return "costs more" if up else "costs less"
    if kind == "lower is better":
        return "worse" if up else "better"
    if kind == "higher is better":
        return "better" if up else "worse"
    return "higher" if up else "lower"


def fmt_metric(metric: str, value: float) -> str:
    """A metric value with its unit (weeks, %, £); an undefined value as "not reached" (a median
    that fewer than half reached) or "-" (see :func:`model.labels.undefined_reason`)."""
    if not math.isfinite(value):
        if metric in ("time_to_first_support_weeks_p50", "referral_to_assessment_weeks_p50"):
            return "not reached"
        if metric.startswith(("list_wait_weeks_", "pct_waiting_over_")):
            return "nobody waiting"
        return "-"
    if is_fraction(metric):  # a share from 0 to 1: 0.85 is 85% (it showed as "1")
        value, metric = 100 * value, "pct_" + metric
    if metric.startswith("pct_"):
        return f"{value:.1f}%" if 0 < abs(value) < 10 else f"{value:.0f}%"
    if metric.startswith("cost"):
        return fmt_money(value)
    if "weeks" in metric:
        number = f"{value:,.0f}"
        return f"{number} week" if number in ("1", "-1") else f"{number} weeks"
    return f"{value:,.0f}"


def _in_points(metric: str) -> bool:
    """Whether a change in ``metric`` is in percentage points (a percentage or a share)."""
    return change_unit(metric) == "points"


def rounds_to_zero(metric: str, change: float) -> bool:
    """Whether a change in ``metric`` shows as zero at the rounding the tables use (0.4 weeks,
    0.04 percentage points, £0.40): a change that rounds to zero is "no change", never "-0"."""
    if not math.isfinite(change):
        return False
    if _in_points(metric):
        return abs(in_points(metric, change)) < POINTS_SHOWN_AS_ZERO
    return not any(digit in fmt_metric(metric, abs(change)) for digit in "123456789")


def fmt_delta(metric: str, change: float) -> str:
    """A change in a metric, signed; a change in a percentage (or a share from 0 to 1) is in
    percentage points, as the charts write it (:func:`model.labels.fmt_points`); a change that
    rounds to zero is "no change"."""
    if not math.isfinite(change):
        return "-"
    if rounds_to_zero(metric, change):
        return "no change"
    if _in_points(metric):
        return fmt_points(in_points(metric, change))
    return ("+" if change > 0 else "-") + fmt_metric(metric, abs(change))


def fmt_bound(metric: str, value: float) -> str:
    """One end of the interval of a change: as :func:`fmt_delta`, but a bound that rounds to
    zero gets one more decimal ("+0.3 weeks": "0 weeks" would read as an interval that
    reaches zero, beside a verdict that it does not), and one that still rounds to zero is a
    zero without a sign ("0 weeks", "0 points")."""
    if not rounds_to_zero(metric, value):
        return fmt_delta(metric, value)
    if _in_points(metric):
        return fmt_points(in_points(metric, value), bound=True)
    if metric.startswith("cost") or round(value, 1) == 0:
        return fmt_metric(metric, 0.0)
    return f"{value:+.1f}" + (" weeks" if "weeks" in metric else "")


def undefined_note(metric: str, defined_in: int, replications: int) -> str:
    """Why a number is missing from some projections, in words ('' when it is in all)."""
    if defined_in >= replications:
        return ""
    return (f"not defined in {replications - defined_in} of {replications} projections: "
            f"{undefined_reason(metric)}")


NOT_REACHED_IN_MOST = "not reached in most"
"""A median wait's card when fewer than half of the projections reach it: the average of the
few that do is of the luckiest projections, and shown alone it read as the service's."""


def card_value(result: ExperimentResult, metric: str) -> str:
    """A headline card's value: the average of the projections, as :func:`fmt_metric` writes
    it; a median wait that fewer than half of the projections reach is "not reached in most"
    (its help gives the few and their average)."""
    n, total = defined_in(result, metric)
    if 0 < n < 0.5 * total and fmt_metric(metric, math.nan) == "not reached":
        return NOT_REACHED_IN_MOST
    return fmt_metric(metric, result.metric(metric)["mean"])


def card_help(result: ExperimentResult, metric: str) -> str:
    """A headline card's help: the full label (with its period for a total over the
    projection, :func:`period_label`), the statistic shown (the average of the projections it is
    defined in, saying how many), and why it is undefined where it is; the parts of a count
    written as the card writes it, so none reads bigger than it."""
    per_rep = result.per_replication
    missing = int(per_rep[metric].isna().sum()) if metric in per_rep else 0
    total = len(per_rep)
    if missing == 0 or missing == total:
        words = f"{period_label(metric, result.scenario)}: the average of {total} projections"
    else:
        words = (f"{period_label(metric, result.scenario)}: the average of the {total - missing} "
                 f"of {total} projections "
                 f"where it is defined, "
                 f"{fmt_metric(metric, result.metric(metric)['mean'])}")
    if missing:
        words += (f". Not defined in {missing} of {total} projections: "
                  f"{undefined_reason(metric)}.")
    if metric == "waiting_total_end":
        parts = waiting_parts(result)
        if parts:  # written as the card writes the whole, so no part reads bigger than it
            words += f". Of them, {_stages_words(parts, exact=True)}."
    if metric == "waiting_over_52w_end":
        share = result.metric("pct_waiting_over_52w_end")["mean"]
        if math.isfinite(share):
            words += f": {share:.0f}% of the children on the list."
    if metric == "waiting_total_over_52w_end":
        parts = waiting_parts(result, WAITING_OVER_52W_STAGES)
        if parts:  # written as the card writes the whole, so no part reads bigger than it
            words += f". Of them, {_stages_words(parts, exact=True)}."
    if metric == "total_wait_weeks_p50_end":
        words += (", counted from referral for every child waiting at any stage (diagnostic "
                  "list, needs profile, vetting)")
    if metric == "list_wait_weeks_p50_end":
        words += (". A list that fewer new children join is older: this can rise while fewer "
                  "children wait, so read it with the number waiting a year or more.")
    return words


def constraint_note(result: ExperimentResult) -> str:
    """Which profession's hours hold the assessments back in ``result``, in plain words
    ("Psychologists' hours are the constraint: 97% of their clinical hours were used ..."),
    from each profession's share of its hours used; ``""`` when the scenario pools the team's
    hours or uses servers (no profession can be named).

    It says why more of another profession changes little: an assessment starts only when every
    profession it needs has hours (:func:`model.staffing.constraint_sentence`, the line
    ``ndpath run`` prints)."""
    return constraint_sentence(result)


def fmt_number_whole(value: float) -> str:
    """A count to the whole child, as a card writes it ("9,756")."""
    return f"{value:,.0f}"


ABOUT_FIGURES = 3
"""Significant figures of a count said "about": an average of projections is not known to the
child ("about 21,400", never "about 21,355"; "about 123,000", never "about 123,456")."""


def about(value: float) -> str:
    """A count rounded the way people say it, no more precise than a projection is: to the
    nearest 10 from 100, to the nearest 100 from 1,000 and to :data:`ABOUT_FIGURES`
    significant figures from 100,000 ("about 460", "about 1,200", "about 21,400", "about
    123,000"); whole below 100."""
    if not math.isfinite(value):
        return "-"
    size = abs(value)
    if size >= 100:
        digits = max(1 if size < 1000 else 2, int(math.floor(math.log10(size))) + 1 - ABOUT_FIGURES)
        value = round(value, -digits)
    return f"{value:,.0f}"


# -------------------------------------------------------------------------------------------------
# One-line takeaways for the Present page


def _band(result: ExperimentResult, metric: str, month: str | None = None) -> pd.Series | None:
    ts = result.timeseries
    rows = ts[ts["metric"] == metric].dropna(subset=["p50"])
    if month is not None:
        rows = rows[rows["month"] == month]
    return None if rows.empty else rows.iloc[-1]


def _month_words(month: str) -> str:
    return dt.datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def list_range(result: ExperimentResult) -> tuple[float, float] | None:
    """The 9-in-10 range (5th to 95th percentile) of the list size at the end of the horizon."""
    end = _band(result, "waiting_list")
    return None if end is None else (float(end["p5"]), float(end["p95"]))


def start_words(scenario: Scenario) -> str:
    """The start of the projection in words ("January 2026"), where charts draw their line."""
    return f"{scenario.simulation.start_date:%B %Y}"


def start_line_label(scenario: Scenario) -> str:
    """The label of the charts' start-of-projection line (its date, not "today")."""
    return f"start of projection, {scenario.simulation.start_date:%b %Y}"


WAITING_STAGES = (("waiting_list_end", "on the diagnostic list for an assessment"),
                  ("profiling_queue_end", "waiting for a needs profile"),
                  ("vetting_end", "waiting for their referral to be vetted"))
"""The stages ``waiting_total_end`` adds up, and what the children at each are waiting for."""

WAITING_OVER_52W_STAGES = tuple(zip(
    ("waiting_over_52w_end", "profiling_over_52w_end", "vetting_over_52w_end"),
    (words for _, words in WAITING_STAGES)))
"""The stages ``waiting_total_over_52w_end`` adds up: WAITING_STAGES' children who have waited
a year or more, in the same order and words."""


def waiting_parts(result: ExperimentResult,
                  stages: tuple[tuple[str, str], ...] = WAITING_STAGES) -> list[tuple[str, float]]:
    """The children waiting at the end by stage (the averages of the projections, which add up
    to ``waiting_total_end``'s, or to the total of the ``stages`` given), each with its words;
    the stages nobody is at are left out."""
    parts = [(words, result.metric(metric)["mean"]) for metric, words in stages]
    return [(words, value) for words, value in parts if math.isfinite(value) and value > 0]


def _stages_words(parts: list[tuple[str, float]], since: str = "", exact: bool = False) -> str:
    """Each stage's count in words, the diagnostic list's with ``since`` after it: "4,600 on
    the diagnostic list for an assessment (down from ...), 4,500 waiting for a needs profile
    and 120 waiting for their referral to be vetted"; rounded as :func:`about` rounds (as the
    sentences round their whole), or with ``exact`` to the whole child (as the cards write
    theirs: a part rounded to "about 9,800" read bigger than a card's 9,756)."""
    said = [f"{fmt_number_whole(value) if exact else about(value)} {words}"
            + (f" ({since})" if since and words ==
                                          WAITING_STAGES[0][1] else "")
            for words, value in parts]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]


def takeaway_list(result: ExperimentResult) -> str:
    """One sentence on how many children will be waiting: everyone waiting at any stage, then
    how many of them are at each stage (the diagnostic list, a needs profile, vetting), the
    averages of the projections (as the cards show them), then the 9-in-10 range of the
    diagnostic list the chart draws."""
    start = result.metric("waiting_list_start")["mean"]
    total = result.metric("waiting_total_end")["mean"]
    on_list = result.metric("waiting_list_end")["mean"]
    end = _band(result, "waiting_list")
    if end is None or not math.isfinite(total):
        return "No list size was recorded."
    change = "up from" if on_list > start else "down from" if on_list < start else "as"
    covers = ("allowing for chance and what we don't know about the assumptions"
              if result.scenario.uncertainty.enabled else
              "by chance alone, with the assumptions held fixed")
    when = f"By the end of {horizon_end_words(result.scenario)}"
    since = f"{change} {about(start)} in {start_words(result.scenario)}"
    ranges = (f"9 in 10 projections had between {about(end['p5'])} and {about(end['p95'])} "
              f"on the diagnostic list, {covers}")
    parts = waiting_parts(result)
    if not parts:
        return f"{when} nobody is likely to be waiting ({since} on the diagnostic list; {ranges})."
    if [words for words, _ in parts] == [WAITING_STAGES[0][1]]:  # only the diagnostic list
        return (f"{when} about {about(total)} children are likely to be waiting, all "
                f"{WAITING_STAGES[0][1]} ({since}; average of {result.replications} projections; "
                f"{ranges}).")
    return (f"{when} about {about(total)} children are likely to be waiting at any stage: "
            f"{_stages_words(parts, since)} (averages of {result.replications} projections; "
            f"{ranges}).")


def defined_in(result: ExperimentResult, metric: str) -> tuple[int, int]:
    """(projections where ``metric`` has a value, all projections): its average is over the
    first, a share beside it over the second."""
    per_rep = result.per_replication
    if metric not in per_rep:
        return 0, len(per_rep)
    return int(per_rep[metric].notna().sum()), len(per_rep)


def in_the_projections(result: ExperimentResult, metric: str, where: str) -> str:
    """" in the 9 of 10 projections {where}" when ``metric`` has a value in some projections
    but not all ('' when in all or none): its average is over those alone, so a sentence that
    quotes it beside a share of every projection says so, as the cards' help does ("not
    defined in 1 of 10 projections")."""
    n, total = defined_in(result, metric)
    return f" in the {n} of {total} projections {where}" if 0 < n < total else ""


def _weeks_words(weeks: float) -> str:
    years = f" (about {weeks / 52.18:.1f} years)" if weeks >= 52 else ""
    return f"{weeks:.0f} weeks{years}"


def _stages_besides_list(parts: list[tuple[str, float]]) -> str:
    """The stages other than the diagnostic list that ``parts`` holds, as one phrase: "waiting
    for a needs profile or for their referral to be vetted" ('' when there are none)."""
    said = [words for words, _ in parts if words != WAITING_STAGES[0][1]]
    return " or ".join(said[:1] + [words.removeprefix("waiting ") for words in said[1:]])


def over_year_elsewhere(result: ExperimentResult) -> tuple[str, str]:
    """(the stages besides the diagnostic list whose children have waited a year or more, in
    words; the count at every stage, rounded as the sentences round it) when counting every
    stage changes the rounded count of the diagnostic list's (``waiting_over_52w_end``), as the
    app's "Waiting a year or more, any stage" card (``waiting_total_over_52w_end``) counts: a
    slow needs-profile queue holds children the list count misses. ``("", "")`` when the two
    round to the same number."""
    try:
        on_list = result.metric("waiting_over_52w_end")["mean"]
        anywhere = result.metric("waiting_total_over_52w_end")["mean"]
    except KeyError:  # results from before the any-stage waits
        return "", ""
    if not (math.isfinite(on_list) and math.isfinite(anywhere)) or about(anywhere) == about(
            on_list):
        return "", ""
    stages = _stages_besides_list(waiting_parts(result, WAITING_OVER_52W_STAGES))
    return (stages, about(anywhere)) if stages else ("", "")


OLDER_LIST_WORDS = ("When fewer children join the list, the children on it have waited "
                    "longer, so this wait can grow while fewer children wait.")
"""Why a front door lengthens the list's own median wait, for families (the cards' help and the
list-waits note under the charts say the same): said when the wait of every stage is not."""


def any_stage_wait(result: ExperimentResult) -> str:
    """A sentence on the median time waited so far by every child still waiting, at any stage
    (``total_wait_weeks_p50_end``: diagnostic list, needs profile, vetting, from referral),
    naming the stages besides the list that hold children at the end ("Counting the children
    still waiting for a needs profile too, half of all the children waiting have waited 91
    weeks (about 1.7 years) or more."), with the projections it is defined in when not all;
    ``""`` when no stage besides the list holds anyone, when it rounds to the list's own median
    (the same number said twice) or for results from before it.

    A front door that moves children off the list leaves an older list behind: its median rises
    while fewer children wait, and the median of every stage does not."""
    try:
        anywhere = result.metric("total_wait_weeks_p50_end")["mean"]
        on_list = result.metric("list_wait_weeks_p50_end")["mean"]
        stages = _stages_besides_list(waiting_parts(result))
    except KeyError:  # results from before the any-stage waits
        return ""
    if not stages or not math.isfinite(anywhere) or (
            math.isfinite(on_list) and _weeks_words(anywhere) == _weeks_words(on_list)):
        return ""
    some = in_the_projections(result, "total_wait_weeks_p50_end", "where anyone is still waiting")
    said = (f"counting the children still {stages} too, half of all the children waiting have "
            f"waited {_weeks_words(anywhere)} or more")
    if some:
        return f"In{some.removeprefix(' in')}, {said}."
    listed, total = defined_in(result, "list_wait_weeks_p50_end")
    every = f" (average of all {total} projections)" if listed < total else ""
    return f"{said[0].upper()}{said[1:]}{every}."


def takeaway_wait(result: ExperimentResult) -> str:
    """One sentence on long waits: how many children on the diagnostic list at the end have
    waited a year or more (list-based, as NHS England publishes waits), then, when it differs,
    how many have including the children still waiting for a needs profile or for their
    referral to be vetted (the app's "Waiting a year or more, any stage" card, rounded), then how
    long half of the children on the list have waited, then how long half of all the children
    waiting at any stage have (:func:`any_stage_wait`), then the NICE 13-week share of new
    referrals: each the average of the projections, as the cards show them ("... about 4,200
    children on the diagnostic list have waited a year or more; including children still
    waiting for a needs profile, about 6,000 have. Half of the children on the diagnostic list
    have waited ...").

    It leads with the count: a list that fewer new children join is older, so its median can
    rise while fewer children wait long. The median of every stage follows the list's, so a
    front door that moves children off the list does not read as longer waits; where it cannot
    (a front door, and nobody waiting for a profile at the end) the sentence says why the list's
    median rises (:data:`OLDER_LIST_WORDS`)."""
    over_year = result.metric("waiting_over_52w_end")["mean"]
    waited = result.metric("list_wait_weeks_p50_end")["mean"]
    within = result.metric("pct_referrals_assessed_within_13w")["mean"]
    end = _band(result, "waiting_over_52w")
    nice = (f" {within:.0f}% of new referrals start assessment within the 13 weeks NICE "
            "recommends." if math.isfinite(within) else "")
    when = f"By the end of {horizon_end_words(result.scenario)}"
    elsewhere, anywhere = over_year_elsewhere(result)
    if end is None or not math.isfinite(waited):
        if elsewhere:  # nobody on the list, but a queue before it holds long waiters
            return (f"{when} nobody is on the diagnostic list waiting for an assessment, but "
                    f"about {anywhere} children still {elsewhere} have waited a year or more "
                    f"(average of {result.replications} projections).{nice}")
        return f"{when} nobody is on the diagnostic list waiting for an assessment.{nice}"
    counted = (f"{when} about {about(over_year)} children on the diagnostic list have waited a "
               "year or more")
    some = in_the_projections(result, "list_wait_weeks_p50_end",
                              "where anyone is still on the "
                              + ("diagnostic list" if elsewhere else "list"))
    # the median of every stage after the list's (or, with a front door, why the list's rises)
    stages = any_stage_wait(result)
    why = "" if stages or not result.scenario.profiling.enabled else OLDER_LIST_WORDS
    more = " " + (stages or why) if stages or why else ""
    averages = f"averages of {result.replications} projections"
    if elsewhere:  # the list count first (as published), then every stage's (the app's card)
        counted += f"; including children still {elsewhere}, about {anywhere} have"
        if some:  # the median is of the projections with a list, the counts of them all
            return (f"{counted} ({averages}). "
                    f"In{some.removeprefix(' in')}, half of the children on it have waited "
                    f"{_weeks_words(waited)} or more.{more}{nice}")
        if stages:  # the averages said once, after both medians
            return (f"{counted}. Half of the children on the diagnostic list have waited "
                    f"{_weeks_words(waited)} or more.{more[:-1]} ({averages}).{nice}")
        return (f"{counted}. Half of the children on the diagnostic list have waited "
                f"{_weeks_words(waited)} or more ({averages}).{more}{nice}")
    if some:  # the median is of the projections with a list, the count of them all
        return (f"{counted} (average of {result.replications} projections);{some}, half "
                f"of the children on the list have waited {_weeks_words(waited)} or more."
                f"{more}{nice}")
    if stages:  # the averages said once, after both medians
        return (f"{counted}; half of the children on the list have waited "
                f"{_weeks_words(waited)} or more.{more[:-1]} ({averages}).{nice}")
    return (f"{counted}; half of the children on the list have waited "
            f"{_weeks_words(waited)} or more ({averages}).{more}{nice}")


def takeaway_support(result: ExperimentResult) -> str:
    """One sentence on the time from referral to first support (undefined said in words).

    It leads with the shares supported within 13 weeks and a year, which every projection has
    (averages over all of them). The median time to first support follows only when every
    projection has one: it exists only where half of new referrals are supported within the
    horizon, so averaged over those projections alone it is of the ones with the most support,
    and beside the shares it read as a contradiction ("50% within a year; ... half within about
    37 weeks"). Otherwise the sentence says in how many projections fewer than half are
    supported by the end."""
    metric = "time_to_first_support_weeks_p50"
    m = result.metric(metric)
    within = result.metric("pct_supported_within_13w")["mean"]
    year = result.metric("pct_supported_within_52w")["mean"]
    shares = (f"{within:.0f}% of new referrals are supported within 13 weeks of referral"
              + (f" and {year:.0f}% within a year" if math.isfinite(year) else ""))
    reached, total = defined_in(result, metric)
    if reached < 0.5 * total or not math.isfinite(m["mean"]):
        return f"{shares}; most families get no support while they wait."
    if reached < total:
        # the median of the projections that reach it, beside shares of every projection, read
        # as a contradiction ("50% within a year; ... half within about 37 weeks"): the shares
        # alone, and how many projections never get half supported
        return (f"{shares}; in {total - reached} of {total} projections fewer than half are "
                f"supported by the end.")
    return f"{shares}; half of new referrals are supported within about {m['mean']:.0f} weeks."


# -------------------------------------------------------------------------------------------------
# Scenarios of different services


def service_words(result: ExperimentResult) -> str:
    """What a scenario's service starts from, in words: its start date, the children on its
    diagnostic list at the start (as run) and its referrals a month (before growth)."""
    s = result.scenario
    on_list = result.metric("waiting_list_start")["mean"]
    rate = s.arrivals.referrals_per_month if s.arrivals.enabled else 0.0
    listed = f"{on_list:,.0f}" if math.isfinite(on_list) else "no"
    return (f"from {s.simulation.start_date:%-d %B %Y} with {listed} children on the diagnostic "
            f"list and {rate:,.0f} referrals a month")


def different_services(results: Mapping[str, ExperimentResult]) -> str:
    """A warning when the scenarios start from different services (another start date, list at
    the start or referral volume: a calibrated service beside the shipped example, say), so
    their differences are not the effect of a policy; '' when they all start from the same.

    Policies are levers on one service: none of them changes where it starts from."""
    groups: dict[str, list[str]] = {}
    for name, result in results.items():
        groups.setdefault(service_words(result), []).append(name)
    if len(groups) < 2:
        return ""

    def names(group: list[str]) -> str:
        quoted = [f"“{n}”" for n in group]
        return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]

    starts = "; ".join(f"{names(group)} {'start' if len(group) > 1 else 'starts'} {words}"
                       for words, group in groups.items())
    return ("These scenarios describe different services, not one service under different "
            f"policies: {starts}. Differences between them come from where each service starts, "
            "not from the effect of a policy: compare a policy with a scenario of its own "
            "service.")


# -------------------------------------------------------------------------------------------------
# Provenance


def provenance(name: str, scenario: Scenario, files: dict[str, str] | None = None,
               data_hash: str | None = None) -> dict[str, Any]:
    """What a result was computed from: enough to reproduce it with ``ndpath run``."""
    out: dict[str, Any] = {
        "scenario": name,
        "scenario_name": scenario.meta.name,
        "seed": scenario.simulation.seed,
        "replications": scenario.simulation.replications,
        "horizon_months": scenario.simulation.horizon_months,
        "ndpath_version": model.__version__,
        "scenario_digest": scenario.digest(),
        "parameter_uncertainty": uncertainty_note(scenario.uncertainty.enabled),
    }
    if files:
        out["files"] = files
    if data_hash:
        out["input_data_sha256"] = data_hash
    return out


def scenario_filename(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    return f"{safe.strip('_') or 'scenario'}.toml"


def named(scenario: Scenario, name: str, description: str) -> Scenario:
    """``scenario`` renamed (for the TOML download), other values untouched."""
    return scenario.replace({"meta.name": name, "meta.description": description})


def _signed(value: float, unit: str = "") -> str:
    return f"{value:+,.1f}{unit}".replace("+-", "-")


def describe_changes(base: Scenario, levers: Levers) -> list[str]:
    """The levers that differ from ``base``, each as a short sentence a commissioner would say
    ("+2.0 psychologist WTE", "looked-after children seen first", "profiling front door on")."""
    was = levers_from(base, levers.replications)
    words: list[str] = []
    for p, a, b in zip(base.assessment.professions, was.wte, levers.wte):
        if a != b:
            words.append(f"{_signed(b - a)} {p.name.replace('_', ' ')} WTE ({a:.1f} → {b:.1f})")
    if levers.profiling_enabled != was.profiling_enabled:
        words.append("profiling front door " + ("on" if levers.profiling_enabled else "off"))
    if levers.profiling_wte != was.profiling_wte:
        words.append(f"{_signed(levers.profiling_wte - was.profiling_wte)} profiling "
                     f"practitioner WTE ({was.profiling_wte:.1f} → {levers.profiling_wte:.1f})")
    if levers.pct_to_diagnosis != was.pct_to_diagnosis:
        words.append(f"{levers.pct_to_diagnosis:.0f}% of profiled families sent on to "
                     f"diagnostic assessment (was {was.pct_to_diagnosis:.0f}%)")
    if levers.pct_needs_led != was.pct_needs_led:
        words.append(f"{levers.pct_needs_led:.0f}% of profiled families given needs-led support "
                     f"(was {was.pct_needs_led:.0f}%)")
    if levers.support_places != was.support_places:
        change = levers.support_places - was.support_places
        words.append(f"{change:+,.0f} {support_unit(base)} ({was.support_places:,.0f} → "
                     f"{levers.support_places:,.0f})")
    if levers.annual_growth_pct != was.annual_growth_pct:
        words.append(f"referrals growing {levers.annual_growth_pct:g}% a year (was "
                     f"{was.annual_growth_pct:g}%)")
    if levers.priority_order != was.priority_order:
        if levers.priority_order:
            groups = [PRIORITY_GROUPS[g].lower() for g in levers.priority_order]
            words.append(("then ".join(f"{g} " for g in groups)).strip() + " seen first")
        else:
            words.append("everyone seen in order of referral (first come, first served)")
    block = ("outsourced_assessments", "outsourced_start_month", "outsourced_months",
             "outsourced_cost")
    if any(getattr(levers, f) != getattr(was, f) for f in block):
        if levers.outsourced_assessments > 0:
            start = _add_months(base.simulation.start_date, levers.outsourced_start_month)
            words.append(f"{levers.outsourced_assessments:,} assessments bought from another "
                         f"provider over {levers.outsourced_months} months from {start:%B %Y}, "
                         f"at {fmt_money(levers.outsourced_cost, exact=True)} each")
        else:
            words.append("no assessments bought from another provider")
    return words


# -------------------------------------------------------------------------------------------------
# Which assumptions matter (one-at-a-time sensitivity)


def _range_words(key: str, low: float, high: float) -> str:
    """A plausible range as people read it (percentages for shares and rates)."""
    if key.endswith(("_per_year", "annual_growth", "uptake", "probability", "looked_after_or_cin")):
        return f"{100 * low:g}% to {100 * high:g}%"
    if key.endswith("risk_ratio"):
        return f"{low:g} to {high:g} times"
    if key.startswith(("support.cost", "profiling.cost")):
        return f"{fmt_money(low, exact=True)} to {fmt_money(high, exact=True)}"
    return f"{low:g} to {high:g}"


def sensitivity_for_chart(table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`model.sensitivity.one_at_a_time` table with plain labels for the chart."""
    return table.assign(parameter=table["parameter"].map(label))


def _swing(metric: str, change: float) -> str:
    """One end of an assumption's swing in ``metric``: money as every table writes it
    ("+£850k"), other measures as numbers with their sign."""
    if change_unit(metric) == "£":
        return fmt_money(float(change), signed=True)
    return fmt_signed(float(change))


def sensitivity_sentence(table: pd.DataFrame, metric: str) -> str:
    """Names the two assumptions that move ``metric`` most, in plain words."""
    if table.empty:
        return "This scenario has no assumptions with a plausible range to vary."
    if not math.isfinite(float(table["swing"].iloc[0])) or float(table["swing"].iloc[0]) == 0:
        return f"None of the assumptions changes “{label(metric)}” in these runs."

    def words(row: Any) -> str:
        key = str(row.parameter)
        return (f"“{label(key)}”: from one end of its plausible range to the other "
                f"({_range_words(key, float(row.low), float(row.high))}) the number changes by "
                f"{_swing(metric, row.diff_low)} to {_swing(metric, row.diff_high)}")

    rows = list(table.head(2).itertuples())
    sentence = (f"The assumption that matters most for “{label(metric)}” is {words(rows[0])}.")
    if len(rows) > 1 and float(rows[1].swing) > 0:
        second = rows[1]
        sentence += (f" Next comes “{label(str(second.parameter))}” "
                     f"({_range_words(str(second.parameter), float(second.low), float(second.high))}:"
                     f" {_swing(metric, second.diff_low)} to {_swing(metric, second.diff_high)}).")
    return sentence
