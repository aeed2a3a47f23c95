"""Who benefits and who loses out: by-group results with 95% intervals and disclosure control.

The by-group metrics of each replication (:func:`model.metrics.group_metrics`, carried in
``ExperimentResult.groups``) are summarised here:

* :func:`equity_table`: every group variable, group and metric, mean and 95% interval over
  replications;
* :func:`equity_gaps`: the gap between two groups of a variable (most minus least deprived,
  looked-after or in need minus not, ...), paired within each replication;
* :func:`equity_comparison`: paired differences between two scenarios run with the same seed,
  by group, and the change in each gap (common random numbers keep both tight).

Published tables go through :mod:`model.disclosure` (``control=True``, the default): counts under
5 suppressed with complementary suppression over the groups of a variable (their total is the
whole-run metric), counts rounded to the nearest 5, and waits and shares suppressed where fewer
than 5 children are behind them; a gap or difference is suppressed wherever a cell it is made of
is.

>>> from model.scenario import Scenario
>>> from model.experiment import run_replications
>>> s = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 200})
>>> table = equity_table(run_replications(s, replications=2, executor="serial").groups)
>>> sorted(table["variable"].unique())[:2]
['age_band', 'deprivation_quintile']
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from .disclosure import THRESHOLD, protect_line, round_to_base
from .metrics import (GROUP_COUNT_METRICS, GROUP_METRICS, GROUP_VARIABLES, RATE_BASE, mean_ci,
                      possible_range)

VARIABLE_ALIASES = {
    "quintile": "deprivation_quintile", "deprivation": "deprivation_quintile",
    "imd": "deprivation_quintile", "looked_after": "looked_after_or_cin",
    "lac": "looked_after_or_cin", "cin": "looked_after_or_cin", "age": "age_band",
    **{name: name for name in GROUP_VARIABLES},
}
"""Names accepted for a group variable (``ndpath run --by quintile``)."""

VARIABLE_LABELS = {
    "looked_after_or_cin": "Looked-after child or child in need",
    "deprivation_quintile": "Deprivation quintile (1 = most deprived)",
    "age_band": "Age at referral",
    "pathway": "Pathway",
    "priority": "Priority at referral",
    "locality": "Locality",
}

GAPS: dict[str, tuple[str, str, str]] = {
    "deprivation_quintile": ("1", "5", "most minus least deprived"),
    "looked_after_or_cin": ("yes", "no", "looked-after or in need minus not"),
    "age_band": ("16-17", "under 5", "aged 16-17 minus under 5 at referral"),
    "pathway": ("adhd", "autism", "ADHD minus autism pathway"),
    "priority": ("urgent", "routine", "urgent minus routine"),
}
"""For each variable, the gap reported: (focus group, reference group, in words)."""


def resolve_variable(name: str) -> str:
    """The group variable a user's name means; ``ValueError`` naming the choices otherwise."""
    key = name.strip().lower().replace("-", "_")
    if key not in VARIABLE_ALIASES:
        raise ValueError(f"--by {name!r}: not a group variable; use one of "
                         f"{', '.join(GROUP_VARIABLES)} (or quintile, looked_after, age)")
    return VARIABLE_ALIASES[key]


def _wide(groups: pd.DataFrame) -> pd.DataFrame:
    """``replication`` x (variable, group, metric) values: the cells the runs have (a cell
    undefined in every replication stays, as NaN; no combinations that do not exist)."""
    keys = ["variable", "group", "metric"]
    wide = groups.pivot_table(index="replication", columns=keys, values="value",
                              aggfunc="first", dropna=False, sort=False)
    cells = pd.MultiIndex.from_frame(groups[keys].drop_duplicates())
    return wide.reindex(columns=cells)


def _raw_table(groups: pd.DataFrame) -> pd.DataFrame:
    """Mean and t-interval per cell over the finite values, as :func:`mean_ci` (vectorised)."""
    from scipy import special

    finite = groups[np.isfinite(groups["value"].to_numpy(dtype=float))]
    keys = ["variable", "group", "metric"]
    order = groups[keys].drop_duplicates()
    agg = finite.groupby(keys, sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    n = agg["count"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n >= 2, special.stdtrit(np.maximum(n - 1, 1), 0.975)
                        * agg["std"].to_numpy() / np.sqrt(np.maximum(n, 1)), np.nan)
    # cut to the values each metric can take (model.metrics.within_range): a count of a small
    # group has no negative lower end
    ranges = [possible_range(m) for m in agg["metric"]]
    lowest = np.array([r[0] for r in ranges]) if ranges else np.zeros(0)
    highest = np.array([r[1] for r in ranges]) if ranges else np.zeros(0)
    agg["ci_low"] = np.maximum(agg["mean"].to_numpy() - half, lowest)
    agg["ci_high"] = np.minimum(agg["mean"].to_numpy() + half, highest)
    agg["n"] = n
    out = order.merge(agg[keys + ["mean", "ci_low", "ci_high", "n"]], on=keys, how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    return out


def suppression_mask(table: pd.DataFrame, threshold: float = THRESHOLD) -> pd.Series:
    """True for the rows of an :func:`equity_table` (uncontrolled) that must not be published.

    Counts: primary and complementary suppression over the groups of each variable. Waits and
    shares: suppressed where their base count (:data:`model.metrics.RATE_BASE`) is under the
    threshold or itself suppressed as a small count.
    """
    hidden = pd.Series(False, index=table.index)
    for (variable, metric), frame in table.groupby(["variable", "metric"], sort=False):
        if metric not in GROUP_COUNT_METRICS:
            continue
        values = np.nan_to_num(frame["mean"].to_numpy(dtype=float), nan=0.0)
        hidden[frame.index] = protect_line(values, threshold)
    bases = table["metric"].map(RATE_BASE)
    rates = bases.notna().to_numpy()
    counts = table[["variable", "group", "metric", "mean"]].rename(
        columns={"metric": "base", "mean": "base_count"})
    looked = table.assign(base=bases).merge(counts, on=["variable", "group", "base"], how="left")
    count = looked["base_count"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        small = ~(np.isfinite(count) & (count >= threshold))
    hidden[rates & small] = True
    return hidden


def equity_table(groups: pd.DataFrame | None, control: bool = True) -> pd.DataFrame:
    """``variable, group, metric, mean, ci_low, ci_high, n, suppressed`` over replications.

    With ``control`` (the default, for anything published) suppressed values are NaN and counts
    are rounded to the nearest 5; without it the raw means (for computing, never for export).
    Raises ``ValueError`` if the experiment ran without by-group metrics.
    """
    if groups is None:
        raise ValueError("this run has no by-group metrics (run_replications(groups=True))")
    table = _raw_table(groups)
    table["suppressed"] = suppression_mask(table) if control else False
    if control:
        hidden = table["suppressed"].to_numpy()
        counts = table["metric"].isin(GROUP_COUNT_METRICS).to_numpy()
        for column in ("mean", "ci_low", "ci_high"):
            values = table[column].to_numpy(dtype=float).copy()
            values[counts] = round_to_base(values[counts])
            values[hidden] = math.nan
            table[column] = values
    return table


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, int]:
    both = np.isfinite(a) & np.isfinite(b)
    return mean_ci(a[both] - b[both])


def equity_gaps(groups: pd.DataFrame | None, control: bool = True) -> pd.DataFrame:
    """The gap between the two groups :data:`GAPS` names for each variable, by metric, paired
    within replications: ``variable, focus, reference, gap, metric, focus_mean, reference_mean,
    difference, ci_low, ci_high, n, suppressed``."""
    if groups is None:
        raise ValueError("this run has no by-group metrics (run_replications(groups=True))")
    wide = _wide(groups)
    hidden = _hidden_cells(groups) if control else set()
    rows = []
    for variable, (focus, reference, words) in GAPS.items():
        for metric in GROUP_METRICS:
            a_key, b_key = (variable, focus, metric), (variable, reference, metric)
            if a_key not in wide or b_key not in wide:
                continue
            a, b = wide[a_key].to_numpy(dtype=float), wide[b_key].to_numpy(dtype=float)
            mean, low, high, n = _paired(a, b)
            a_mean = float(a[np.isfinite(a)].mean()) if np.isfinite(a).any() else math.nan
            b_mean = float(b[np.isfinite(b)].mean()) if np.isfinite(b).any() else math.nan
            suppressed = a_key in hidden or b_key in hidden
            rows.append({"variable": variable, "focus": focus, "reference": reference,
                         "gap": words, "metric": metric,
                         "focus_mean": math.nan if suppressed else a_mean,
                         "reference_mean": math.nan if suppressed else b_mean,
                         "difference": math.nan if suppressed else mean,
                         "ci_low": math.nan if suppressed else low,
                         "ci_high": math.nan if suppressed else high, "n": n,
                         "suppressed": suppressed})
    return pd.DataFrame(rows)


def _hidden_cells(groups: pd.DataFrame) -> set[tuple[str, str, str]]:
    table = _raw_table(groups)
    mask = suppression_mask(table)
    return {tuple(row) for row in table.loc[mask, ["variable", "group", "metric"]].itertuples(
        index=False, name=None)}


def equity_comparison(baseline: pd.DataFrame | None, other: pd.DataFrame | None,
                      control: bool = True) -> pd.DataFrame:
    """Paired differences ``other - baseline`` by group (same seed, replications matched), and
    the change in each gap: ``variable, group, metric, baseline, scenario, difference, ci_low,
    ci_high, n, suppressed``; gap rows have ``group`` like ``"gap: 1 - 5"``."""
    if baseline is None or other is None:
        raise ValueError("both runs need by-group metrics (run_replications(groups=True))")
    wb, wo = _wide(baseline), _wide(other)
    common = wb.index.intersection(wo.index)
    wb, wo = wb.loc[common], wo.loc[common]
    hidden = (_hidden_cells(baseline) | _hidden_cells(other)) if control else set()
    rows = []

    def add(variable: str, group: str, metric: str, base: np.ndarray, alt: np.ndarray,
            suppressed: bool) -> None:
        mean, low, high, n = _paired(alt, base)
        both = np.isfinite(base) & np.isfinite(alt)
        values = {"baseline": float(base[both].mean()) if both.any() else math.nan,
                  "scenario": float(alt[both].mean()) if both.any() else math.nan,
                  "difference": mean, "ci_low": low, "ci_high": high}
        if suppressed:
            values = dict.fromkeys(values, math.nan)
        rows.append({"variable": variable, "group": group, "metric": metric, **values, "n": n,
                     "suppressed": suppressed})

    for key in wb.columns:
        if key not in wo:
            continue
        variable, group, metric = key
        add(variable, group, metric, wb[key].to_numpy(dtype=float), wo[key].to_numpy(dtype=float),
            key in hidden)
    for variable, (focus, reference, _) in GAPS.items():
        for metric in GROUP_METRICS:
            keys = [(variable, g, metric) for g in (focus, reference)]
            if not all(k in wb and k in wo for k in keys):
                continue
            gap_b = wb[keys[0]].to_numpy(dtype=float) - wb[keys[1]].to_numpy(dtype=float)
            gap_o = wo[keys[0]].to_numpy(dtype=float) - wo[keys[1]].to_numpy(dtype=float)
            add(variable, f"gap: {focus} - {reference}", metric, gap_b, gap_o,
                any(k in hidden for k in keys))
    return pd.DataFrame(rows)


def _number(value: float, count: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:,.0f}" if count or abs(value) >= 100 else f"{value:,.1f}"


def format_interval(mean: float, low: float, high: float, count: bool = False) -> str:
    """``"mean [low, high]"`` ("-" where undefined); whole numbers for ``count``."""
    if mean is None or not np.isfinite(mean):
        return "-"
    if low is None or not np.isfinite(low):
        return _number(mean, count)
    return f"{_number(mean, count)} [{_number(low, count)}, {_number(high, count)}]"


SHORT_LABELS = {
    "children": "Children",
    "referrals": "Referrals",
    "re_referrals": "Re-referrals",
    "waiting_list_end": "On the diagnostic list at the end",
    "waiting_over_52w_end": "Waiting a year+, diagnostic list",
    "waiting_total_end": "Waiting at any stage at the end",
    "waiting_total_over_52w_end": "Waiting a year+, any stage",
    "list_wait_weeks_p50_end": "Waited so far on the list, median (wks)",
    "list_wait_weeks_p92_end": "Waited so far on the list, 92nd pct (wks)",
    "total_wait_weeks_p50_end": "Waited so far, any stage, median (wks)",
    "pct_waiting_over_52w_end": "Of the list, waiting a year+ (%)",
    "pct_referrals_assessed_within_13w": "Referrals assessed in 13 wks (%)",
    "pct_referrals_assessed_within_52w": "Referrals assessed in 1 year (%)",
    "referral_to_assessment_weeks_p50": "Referral to assessment, median (wks)",
    "time_to_first_support_weeks_p50": "Referral to support, median (wks)",
    "pct_supported_within_13w": "Supported in 13 weeks (%)",
    "pct_supported_within_52w": "Supported in 1 year (%)",
    "assessments_started": "Assessments started",
    "needs_led_exits": "Needs met without assessment",
    "signposted": "Signposted",
    "withdrawals": "Left the list",
    "aged_out": "Turned 18 on the list",
    "escalations": "Crises while waiting",
    "routed_away_would_be_diagnosed": "Diagnosable, routed away",
    "supported_without_diagnosis": "Supported, no diagnosis",
    "would_be_diagnosed_unassessed": "Diagnosable, not assessed",
    "would_be_diagnosed_left_unassessed": "Diagnosable, left unassessed",
    "turned_18_without_assessment": "Turned 18, never assessed",
}
"""Row titles for by-group tables (the full label is in ``model.labels``). The diagnostic list's
counts and waits and the any-stage ones (list, needs profile, vetting, from referral) sit in the
same tables, so each title says which it is."""


def by_variable(table: pd.DataFrame, variable: str,
                metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """One variable of an :func:`equity_table` as groups x metrics of ``"mean [low, high]"``."""
    sub = table[table["variable"] == variable]
    if metrics is not None:
        sub = sub[sub["metric"].isin(metrics)]

    def cell(row: pd.Series) -> str:
        if row["suppressed"]:
            return "suppressed"
        return format_interval(row["mean"], row["ci_low"], row["ci_high"],
                               row["metric"] in GROUP_COUNT_METRICS)

    text = sub.assign(text=sub.apply(cell, axis=1))
    wide = text.pivot(index="metric", columns="group", values="text")
    metric_order = [m for m in (metrics or GROUP_METRICS) if m in wide.index]
    groups = list(dict.fromkeys(sub["group"]))
    return wide.loc[metric_order, groups]


__all__ = ["equity_table", "equity_gaps", "equity_comparison", "by_variable", "resolve_variable",
           "suppression_mask", "GAPS", "VARIABLE_LABELS"]
