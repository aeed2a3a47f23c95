"""Monthly aggregate series (DESIGN.md section 4b) and what they can calibrate.

A series has ``month`` (YYYY-MM) and ``new_referrals``, and where known ``closed_referrals``,
``open_referrals`` (end of month), ``open_over_13_weeks`` and ``assessments_completed``, with
optional ``age_band`` / ``pathway`` columns (rows are summed over them unless one is chosen).
This is the shape of NHS England's Autism Statistics (ASD12, ASD13, ASD16, ASD16a).

Aggregates identify arrivals (trend and seasonality) and, with closed and open counts, throughput
and the starting list through flow balance: ``open(t) ≈ open(t-1) + new(t) - closed(t)``. The
rest stays at the base scenario's values, and :class:`MonthlyCalibration` says which.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from model.scenario import Scenario, ScenarioError

from .calibrate import CalibrationError, Parameter, _params_from_summary, arrivals_notes
from .extract import (BLANKS, ExtractError, Problem, _no_such_day, consecutive_runs,
                      misspelt_columns, read_raw)
from .fitters import ArrivalsFitter, CapacityFitter

COUNT_COLUMNS = ("new_referrals", "closed_referrals", "open_referrals", "open_over_13_weeks",
                 "assessments_completed")
GROUP_COLUMNS = ("age_band", "pathway")
ALL_GROUPS = "all"
"""``age_band="all"`` (``--age-band all``) sums every band on purpose, as no choice does (unless
the file has a band of that name, which is then the one kept)."""
LARGEST_COUNT = 10_000_000
"""No service, nor all of England, counts 10 million referrals (or children waiting) in a month:
a bigger count is a typing or unit mistake."""


@dataclass(frozen=True)
class MonthlySeries:
    """A validated monthly series, one row per month (summed over groups)."""

    data: pd.DataFrame
    """Indexed by month (``Period``), columns among :data:`COUNT_COLUMNS`."""
    source: str
    groups: dict[str, list[str]] = field(default_factory=dict)
    """Group values present, and which were kept."""
    changes: list[dict[str, object]] = field(default_factory=list)
    """Every aggregation and blank made on reading: ``what, rows, effect``."""
    warnings: list[str] = field(default_factory=list)
    """What makes the series a poor picture of a children's service (adults' referrals summed
    in, see :func:`adult_bands`); carried into :attr:`MonthlyCalibration.warnings`."""


def includes_adults(band: str) -> bool:
    """Whether an age band's label covers anyone 18 or over: ``"18-24"``, ``"65andOver"``,
    ``"18+"``, ``"16-25"``, ``"Adults"`` do; ``"0-17"``, ``"5-11"``, ``"Under 18"`` do not. A
    label with no age in it (``"Unknown"``) is not taken for adults."""
    text = band.strip().lower()
    if re.search(r"adult", text):
        return True
    ages = [int(n) for n in re.findall(r"\d+", text)]
    if not ages:
        return False
    if re.search(r"under|below|less than|younger than|<", text):
        return ages[0] - 1 >= 18
    if len(ages) >= 2:
        return max(ages[:2]) >= 18
    return ages[0] >= 18 or bool(re.search(r"over|plus|older|\+|>", text))


def adult_bands(bands: Sequence[str]) -> list[str]:
    """The bands among ``bands`` that cover adults (see :func:`includes_adults`)."""
    return [b for b in bands if includes_adults(b)]


MONTH_FORMS = (
    (re.compile(r"\d{1,2}/\d{4}"), "MM/YYYY", "04/2019"),
    (re.compile(r"\d{1,2}-\d{4}"), "MM-YYYY", "04-2019"),
    (re.compile(r"\d{4}/\d{1,2}"), "YYYY/MM", "2019/04"),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "DD/MM/YYYY", "01/04/2019"),
    (re.compile(r"[A-Za-z]{3,9}[ -]\d{2}(\d{2})?"), "a month name and year", "Apr-19"),
)
"""Ways of writing a month that are not ``YYYY-MM``, recognised so the problem can say which
(``is written MM/YYYY``) and many alike can be said in one line."""


def check_month_column(raw: pd.DataFrame) -> tuple[pd.Series, list[Problem]]:
    """Months as ``YYYY-MM`` (a full date such as 2019-04-01 is accepted)."""
    text = raw["month"].str.strip()
    months = pd.to_datetime(text.str.slice(0, 7), format="%Y-%m", errors="coerce")
    problems = []
    for i in np.flatnonzero(months.isna().to_numpy()):
        value = text.iloc[i]
        parts = value.split("-")
        reason = (_no_such_day(int(parts[0]), int(parts[1]), 1)
                  if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() else None)
        form = next(((name, example) for pattern, name, example in MONTH_FORMS
                     if pattern.fullmatch(value)), None)
        if reason:
            message, fix = "is not a month", f"{reason}: check the month (written YYYY-MM)"
        elif form:  # the fix names no value of its own, so the rows alike group in one line
            message = f"is written {form[0]}, not YYYY-MM"
            fix = f"write YYYY-MM, e.g. 2019-04 for {form[1]}"
        else:
            message, fix = "is not a month", "write months as YYYY-MM, e.g. 2024-03"
        problems.append(Problem(int(i) + 2, "month", value, message, fix))
    return months.dt.to_period("M"), problems


def read_monthly(source: str | Path | pd.DataFrame, age_band: str | Sequence[str] | None = None,
                 pathway: str | None = None) -> MonthlySeries:
    """Read and validate a monthly series; raises :class:`ExtractError` with every problem.

    ``age_band`` / ``pathway`` keep only those rows (e.g. ``"0-17"`` for a children's service);
    otherwise (or with :data:`ALL_GROUPS`, ``"all"``) rows are summed over every group.
    ``age_band`` may be several bands (``["5-11", "12-17"]``), summed month by month: each must
    be in the file, none given twice, and each must have a row in every month another has (a
    band missing from a month would be counted as none). Summing age bands that cover adults
    (:func:`adult_bands`), every band or chosen ones, is done as asked but warned about in
    :attr:`MonthlySeries.warnings`: ndpath models a children's pathway.
    """
    bands = [age_band] if isinstance(age_band, str) else list(age_band or [])
    several = len(bands) > 1
    age_band = bands if several else (bands[0] if bands else None)  # one band: as before
    raw = read_raw(source)
    origin = str(source) if not isinstance(source, pd.DataFrame) else "monthly series"
    problems: list[Problem] = []
    for column in ("month", "new_referrals"):
        if column not in raw.columns:
            problems.append(Problem(None, column, "", "required column is missing",
                                    f"add a column named {column} (columns found: "
                                    f"{', '.join(raw.columns)})"))
    problems += misspelt_columns(list(raw.columns), ("month", *COUNT_COLUMNS, *GROUP_COLUMNS))
    if problems:
        raise ExtractError(problems, origin, quarantine_hint=False,
                           monthly=True)
    months, month_problems = check_month_column(raw)
    problems += month_problems
    counts = pd.DataFrame(index=raw.index)
    for column in COUNT_COLUMNS:
        if column not in raw.columns:
            continue
        text = raw[column].str.strip()
        blank = text.str.lower().isin(BLANKS)
        values = pd.to_numeric(text.str.replace(",", "", regex=False).where(~blank), errors="coerce")
        unreadable = ~blank & (values.isna() | ~np.isfinite(values.fillna(0)) | (values < 0))
        fraction = ~blank & ~unreadable & (values % 1 != 0)
        huge = ~blank & ~unreadable & (values > LARGEST_COUNT)
        for mask, message, fix in (
                (unreadable, "is not a count (a whole number >= 0)",
                 "give the count, or leave the cell blank if unknown"),
                (fraction, "is not a whole number: a count of referrals or children has no "
                           "fractions", "give the count itself (not an average or a rate), or "
                                        "leave the cell blank if unknown"),
                (huge, f"is more than {LARGEST_COUNT:,} in one month, more than any service (or "
                       "England) counts", "check the column holds counts, not ids or totals")):
            problems += [Problem(int(i) + 2, column, text.iloc[i], message, fix)
                         for i in np.flatnonzero(mask.to_numpy())]
        counts[column] = values
    groups: dict[str, list[str]] = {}
    summed_on_purpose = False
    keep = pd.Series(True, index=raw.index)
    for column, chosen in (("age_band", age_band), ("pathway", pathway)):
        if column not in raw.columns:
            if chosen is not None:
                given = chosen if isinstance(chosen, str) else ", ".join(chosen)
                problems.append(Problem(None, column, given, f"--{column.replace('_', '-')} was "
                                        f"given but the file has no {column} column",
                                        "drop the option or add the column"))
            continue
        values = raw[column].str.strip()
        groups[column] = sorted(values.unique().tolist())
        if not isinstance(chosen, (str, type(None))):  # several age bands, to be summed
            problems += _chosen_band_problems(list(chosen), groups[column])
            keep &= values.isin(list(chosen))
            continue
        if chosen is not None and chosen.strip().lower() == ALL_GROUPS and chosen not in groups[column]:
            chosen = None  # every group summed, on purpose
            if column == "age_band":
                age_band, summed_on_purpose = None, True
            else:
                pathway = None
        if chosen is not None:
            if chosen not in groups[column]:
                problems.append(Problem(None, column, chosen, "is not in the file",
                                        f"choose one of {', '.join(groups[column])}"
                                        + _comma_hint(column, chosen)))
            keep &= values == chosen
    if problems:
        raise ExtractError(problems, origin, quarantine_hint=False,
                           monthly=True)
    counts["month"] = months
    counts = counts[keep.to_numpy()]
    group_cols = [c for c in GROUP_COLUMNS if c in raw.columns]
    duplicated = raw[keep.to_numpy()].assign(month=months[keep.to_numpy()]).duplicated(
        ["month", *group_cols], keep=False)
    dupes = [Problem(int(i) + 2, "month", str(months.iloc[i]), "appears twice for the same group",
                     "keep one row per month (and group)")
             for i in np.flatnonzero(keep.to_numpy()) if duplicated.loc[i]]
    if dupes:
        raise ExtractError(dupes, origin, quarantine_hint=False,
                           monthly=True)
    gaps_summed: list[str] = []  # every band summed: the bands some months lack, said
    if several:
        gaps = _bands_missing_months(raw["age_band"].str.strip()[keep.to_numpy()],
                                     months[keep.to_numpy()], bands)
        if gaps:
            raise ExtractError(gaps, origin, quarantine_hint=False,
                           monthly=True)
    elif age_band is None and len(groups.get("age_band", [])) > 1:
        for band, lacking in _lacking_months(raw["age_band"].str.strip()[keep.to_numpy()],
                                             months[keep.to_numpy()], groups["age_band"]):
            gaps_summed.append(f"age band {band} has no row for {len(lacking)} month(s) the "
                               f"other bands have ({month_ranges(lacking)}): those months' "
                               "totals count none of its referrals")
    grouped = counts.groupby("month")
    series = grouped.sum(min_count=1).sort_index()
    if series.empty:
        raise ExtractError([Problem(None, None, "", "has no rows for the chosen group",
                                    "choose another --age-band / --pathway")], origin,
                           monthly=True)
    if series["new_referrals"].notna().sum() == 0:
        raise ExtractError([Problem(None, "new_referrals", "", "has no counts (every cell is "
                                    "blank)", "give the referrals received in each month")],
                           origin, monthly=True)
    changes: list[dict[str, object]] = []
    size = grouped.size().sort_index()
    if group_cols and (size > 1).any():
        picked = {c for c, v in (("age_band", age_band), ("pathway", pathway))
                  if isinstance(v, str)}
        summed = [c for c in group_cols if c not in picked]
        values_summed = {c: bands if c == "age_band" and several else groups[c] for c in summed}
        changes.append({"what": f"rows summed over {', '.join(summed)} "
                        f"({', '.join(', '.join(values_summed[c]) for c in summed)}) to one "
                        "count a month",
                        "rows": int(size.sum()), "effect": f"{len(size)} monthly totals"})
    # a month whose count is blank for some groups but not others is not the sum of the rest:
    # summing what is there (pandas' min_count=1) turned one blank cell of 200 into 100
    blank_any = grouped.agg(lambda x: x.isna().any()).sort_index()
    blank_all = grouped.agg(lambda x: x.isna().all()).sort_index()
    for column in series.columns:
        partial = blank_any[column] & ~blank_all[column]
        for month in series.index[partial.to_numpy()]:
            missing = int(counts.loc[counts["month"] == month, column].isna().sum())
            changes.append({"what": f"{column} {month}: blank for {missing} of {int(size[month])} "
                            "group(s)", "rows": missing,
                            "effect": "the month's total is left blank, not summed from the "
                            "groups that have it"})
        series.loc[partial.to_numpy(), column] = np.nan
        whole = blank_all[column].to_numpy()
        if whole.any():
            changes.append({"what": f"{column} blank in {int(whole.sum())} month(s): "
                            + ", ".join(str(m) for m in series.index[whole]), "rows": int(whole.sum()),
                            "effect": "no count for those months (left out of the fits that use it)"})
    full = pd.period_range(series.index.min(), series.index.max(), freq="M")
    missing = full.difference(series.index)
    if len(missing):
        raise ExtractError([Problem(None, "month", str(m), "is missing from the series",
                                    "add the month (a blank count is allowed)") for m in missing],
                           origin, monthly=True)
    for gap in gaps_summed:
        changes.append({"what": gap, "rows": 0, "effect": "summed without that band"})
    warnings = [f"The {gap}; add its rows (a blank count where it is not known) or choose "
                "bands with --age-band." for gap in gaps_summed]
    adults = adult_bands(groups.get("age_band", [])) if age_band is None else []
    if adults:
        children = [b for b in groups["age_band"] if b not in adults]
        how = ("every age band was asked for (--age-band all)" if summed_on_purpose else
               "no age band was chosen")
        if len(children) > 1:  # children in several bands: the hint names them all
            choose = (" Choose the children's bands (--age-band on the command line, once for "
                      "each: " + _band_options(children) + ")")
        else:
            choose = (" Choose the children's band (--age-band on the command line"
                      + (f", e.g. --age-band {children[0]}" if children else "") + ")")
        warnings.append(
            f"The series' age bands include adults ({', '.join(adults)}) and {how}, so the "
            "referrals of every band were summed, adults' with children's; ndpath models a "
            "children's pathway, so the fitted demand is larger than a children's service's."
            + ("" if summed_on_purpose else
               choose + ", or give --age-band all to sum every band on purpose."))
    chosen_adults = adult_bands(bands) if several else []
    if chosen_adults:
        children = [b for b in bands if b not in chosen_adults]
        warnings.append(
            f"The age bands chosen ({', '.join(bands)}) include adults "
            f"({', '.join(chosen_adults)}), whose referrals were summed into the series"
            + (f" with the children's ({', '.join(children)}); ndpath models a children's "
               "pathway, so the fitted demand is larger than a children's service's. Leave the "
               f"adult band(s) out to fit children's referrals: {_band_options(children)}."
               if children else "; ndpath models a children's pathway, so the fitted demand is "
               "not a children's service's."))
    return MonthlySeries(series, origin, groups, changes, warnings)


def _band_options(bands: Sequence[str]) -> str:
    """``--age-band 0-4 --age-band 5-11 ...``, youngest band first."""
    def youngest(band: str) -> tuple[float, str]:
        ages = re.findall(r"\d+", band)
        return (float(ages[0]) if ages else math.inf, band)

    return " ".join(f"--age-band {b}" for b in sorted(bands, key=youngest))


def _comma_hint(column: str, chosen: str) -> str:
    """How to sum bands, for a band name with commas in it (``--age-band 5-11,12-17``)."""
    parts = [p.strip() for p in chosen.split(",") if p.strip()]
    if column != "age_band" or len(parts) < 2:
        return ""
    return ("; to sum several bands give --age-band once for each, e.g. "
            + " ".join(f"--age-band {p}" for p in parts))


def _chosen_band_problems(chosen: list[str], present: list[str]) -> list[Problem]:
    """What is wrong with several age bands chosen to be summed: a band given twice (counted
    twice), ``all`` beside others, a band not in the file."""
    problems = []
    for band in dict.fromkeys(chosen):
        times = chosen.count(band)
        if times > 1:
            problems.append(Problem(
                None, "age_band", band, f"is given {times} times in --age-band, so its "
                f"referrals would be counted {times} times", "give each band once"))
        elif band.strip().lower() == ALL_GROUPS and band not in present:
            problems.append(Problem(
                None, "age_band", band, "sums every band, so it cannot be given with other "
                "bands", "give either --age-band all or the bands to sum, each once"))
        elif band not in present:
            problems.append(Problem(
                None, "age_band", band, "is not in the file", f"the file's bands are "
                f"{', '.join(present)}: "
                + (_comma_hint("age_band", band).removeprefix("; ") or "give --age-band once "
                   "for each band to sum, each spelt as in the file")))
    return problems


def _lacking_months(band_of: pd.Series, month_of: pd.Series,
                    bands: Sequence[str]) -> list[tuple[str, list[pd.Period]]]:
    """Each band with no row in some month another of ``bands`` has, and those months."""
    every = set(month_of)
    lacking = [(band, sorted(every - set(month_of[(band_of == band).to_numpy()])))
               for band in bands]
    return [(band, months) for band, months in lacking if months]


def _bands_missing_months(band_of: pd.Series, month_of: pd.Series,
                          bands: Sequence[str]) -> list[Problem]:
    """A chosen band with no row in a month another chosen band has: its referrals would
    silently count as none that month, so the sum would dip."""
    return [Problem(None, "age_band", band, f"has no row for {len(lacking)} month(s) that the "
                    f"other chosen band(s) have: {month_ranges(lacking)}; summed, those months "
                    "would count none of its referrals", "add the band's rows for those months, "
                    "with a blank count where it is not known, or leave the band out of the "
                    "bands chosen (--age-band on the command line)")
            for band, lacking in _lacking_months(band_of, month_of, bands)]


def month_ranges(months: Sequence[pd.Period]) -> str:
    """Months as ranges: ``2021-04..2021-06, 2021-09`` (in the order of the calendar)."""
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 1 else str(r[0])
                     for r in consecutive_runs(months))


@dataclass
class MonthlyCalibration:
    """What an aggregate series calibrated, and what it left at the base scenario's values."""

    scenario: Scenario
    arrivals: ArrivalsFitter
    capacity: CapacityFitter | None
    parameters: list[Parameter]
    notes: list[str]
    kept_defaults: list[str]
    flow_balance: pd.DataFrame | None
    series: MonthlySeries
    changes: list[dict[str, object]] = field(default_factory=list)
    """Every aggregation, blank and exclusion: ``what, rows, effect``."""
    warnings: list[str] = field(default_factory=list)
    """What makes the calibrated scenario a poor picture of the service (see
    :func:`size_warnings`): said before anyone runs it."""


SIZE_RATIO = 2.0
"""Fitted referrals this many times the base scenario's (or fewer than its 1 / SIZE_RATIO) make
the base's team and starting list, kept where the series cannot give them, the wrong size."""


def size_warnings(scenario: Scenario, base: Scenario, capacity_kept: bool,
                  backlog_kept: bool) -> list[str]:
    """Warnings when the fitted demand does not fit what was kept from ``base``.

    An aggregate series without assessments_completed (or closed and open counts) leaves the
    assessment team at the base scenario's, and one without open_referrals leaves its starting
    list. Both are sized for the base's referrals; a series of a service two or more times
    larger or smaller (a national series against the shipped local example) projects a list
    that grows, or empties, because of the mismatch rather than the service.
    """
    from model.waitinglist import scenario_queue

    fitted = scenario.arrivals.referrals_per_month
    was = base.arrivals.referrals_per_month if base.arrivals.enabled else 0.0
    if not (capacity_kept or backlog_kept) or was <= 0 or fitted <= 0:
        return []
    ratio = fitted / was
    if 1 / SIZE_RATIO < ratio < SIZE_RATIO:
        return []
    size = (f"{ratio:.0f} times" if ratio >= SIZE_RATIO else f"{1 / ratio:.0f} times fewer than")
    warnings = []
    if capacity_kept:
        q = scenario_queue(scenario)
        capacity = q.capacity_start + q.outsourced_horizon
        load = q.demand_first_year / capacity if capacity > 0 else math.inf
        wte = sum(p.wte for p in scenario.assessment.professions)
        growth = (f"the list grows by about {q.demand_first_year - capacity:,.0f} children a "
                  "week" if load > 1 else "the team has time to spare")
        warnings.append(
            f"The fitted referrals at the start ({fitted:,.0f} a month) are {size} the base scenario's "
            f"({was:,.0f} a month), but the assessment team is the base scenario's "
            f"({wte:g} WTE, about {q.capacity_start:,.0f} assessments a week): demand is "
            f"{load:.1f} times capacity in the first year, so {growth} because of that "
            "mismatch. Give --base a scenario with this service's team (assessment.professions), "
            "or a series with assessments_completed (or closed_referrals and open_referrals).")
    if backlog_kept:
        count = scenario.backlog.count if scenario.backlog.enabled else 0
        start = (f"The starting list ({count:,} children) is the base scenario's, sized for "
                 f"{was:,.0f} referrals a month, not {fitted:,.0f}." if count else
                 "The projection starts with nobody waiting, as the base scenario does, though "
                 f"a service with {fitted:,.0f} referrals a month has a list.")
        warnings.append(f"{start} Give --base a scenario with this service's list "
                        "(backlog.count), or a series with open_referrals.")
    return warnings


def _source_caveats(source: str) -> list[str]:
    """The data's own caveats: the bundled England series' (:data:`ENGLAND_MONTHLY_CAVEAT`)."""
    from . import ENGLAND_MONTHLY, ENGLAND_MONTHLY_CAVEAT

    try:
        bundled = Path(source).resolve() == ENGLAND_MONTHLY.resolve()
    except (OSError, ValueError):
        bundled = False
    return [ENGLAND_MONTHLY_CAVEAT] if bundled else []


def calibrate_monthly(series: MonthlySeries, exclude_months: str | None = None,
                      base: Scenario | None = None,
                      break_month: str | None = None) -> MonthlyCalibration:
    """Fit arrivals and, where the series has them, the starting list and throughput.

    ``break_month``: the first month of a reporting break (a step in the number of providers
    submitting); the arrivals fit a step there and the scenario carries the level after it.
    The calibrated scenario starts on the first day of the month after the last month of data.
    Raises :class:`CalibrationError` when too few months remain.
    """
    base = base or Scenario()
    data = series.data
    notes: list[str] = []
    kept: list[str] = []
    changes = list(series.changes)
    blank = data.index[data["new_referrals"].isna().to_numpy()]
    referrals = data["new_referrals"].dropna()
    if len(referrals) and (referrals == 0).all():
        raise CalibrationError(
            "new_referrals is 0 in every month: there is no demand to fit; check the column (or "
            "the --age-band / --pathway chosen)")
    try:
        arrivals = ArrivalsFitter().fit(referrals, exclude=exclude_months, break_month=break_month)
    except ValueError as error:
        raise CalibrationError(str(error)) from None
    except (ArithmeticError, np.linalg.LinAlgError) as error:
        raise CalibrationError(
            f"the referral counts cannot be fitted ({error}): a trend and seasonality need "
            "months with referrals in them; check for long runs of zeros or one huge "
            "month") from None
    if len(blank):
        notes.append(f"{len(blank)} month(s) have no new_referrals count and are left out of the "
                     "arrivals fit: " + ", ".join(str(m) for m in blank))
        changes.append({"what": "months with no new_referrals count left out of the arrivals "
                        "fit: " + ", ".join(str(m) for m in blank), "rows": len(blank),
                        "effect": "not fitted"})
    if len(arrivals.excluded_months_):
        changes.append({"what": "months left out of the arrivals fit (--exclude-months): "
                        + ", ".join(str(m) for m in arrivals.excluded_months_),
                        "rows": len(arrivals.excluded_months_), "effect": "not fitted"})
    start = data.index[-1] + 1
    overrides: dict[str, Any] = {**arrivals.to_scenario(start),
                                 "simulation.start_date": start.to_timestamp().date(),
                                 "meta.name": f"Calibrated from monthly series {Path(series.source).name}",
                                 "meta.description": (f"Arrivals fitted to {arrivals.n_months_} "
                                                      f"months to {data.index[-1]}."),
                                 "meta.illustrative": False}
    parameters = _params_from_summary(arrivals.summary)
    if len(arrivals.excluded_months_):
        notes.append("Excluded from the arrivals fit: "
                     + ", ".join(str(m) for m in arrivals.excluded_months_))
    notes += arrivals_notes(arrivals)
    open_ = data["open_referrals"].dropna() if "open_referrals" in data else pd.Series(dtype=float)
    if len(open_):
        last_open = int(open_.iloc[-1])
        overrides.update({"backlog.enabled": True, "backlog.count": last_open, "backlog.table": None})
        parameters.append(Parameter("backlog.count", last_open, None, None,
                                    f"open referrals at the end of {open_.index[-1]}", "series"))
        over = data["open_over_13_weeks"].dropna() if "open_over_13_weeks" in data else None
        if over is not None and len(over) and over.index[-1] == open_.index[-1] and last_open > 0:
            share = float(over.iloc[-1]) / last_open
            hist = base.backlog.waited_weeks
            edges = (0.0, 13.0, 52.0, 104.0, 156.0, 208.0)
            tail = np.asarray(getattr(hist, "weights", (0.16, 0.34, 0.28, 0.14, 0.08))[1:], float)
            if len(tail) != 4:
                tail = np.array([0.34, 0.28, 0.14, 0.08])
            weights = [1 - share, *(share * tail / tail.sum())]
            overrides["backlog.waited_weeks"] = {"kind": "histogram", "edges": list(edges),
                                                 "weights": [round(w, 6) for w in weights]}
            parameters.append(Parameter("backlog.share_over_13_weeks", share, None, None, "share",
                                        "series"))
            kept.append("backlog waits beyond 13 weeks: split as the base scenario's bands")
        else:
            kept.append("backlog.waited_weeks (no open_over_13_weeks)")
    else:
        kept.append("backlog (no open_referrals)")
    overrides.pop("backlog.table", None)
    capacity = None
    flow = None
    if {"closed_referrals", "open_referrals"} <= set(data.columns):
        d = data[["new_referrals", "closed_referrals", "open_referrals"]].dropna()
        expected = d["open_referrals"].shift(1) + d["new_referrals"] - d["closed_referrals"]
        flow = pd.DataFrame({"month": d.index.astype(str), "open": d["open_referrals"],
                             "flow_balance": expected}).iloc[1:]
        gap = (flow["open"] - flow["flow_balance"]).abs() / flow["open"].clip(lower=1)
        if len(gap):
            notes.append(f"Flow balance open(t) = open(t-1) + new(t) - closed(t) holds to "
                         f"{gap.mean() * 100:.1f}% on average (larger gaps mean referrals "
                         "reopened, moved between providers or counted differently).")
    throughput_source = None
    if "assessments_completed" in data and data["assessments_completed"].notna().sum() >= 3:
        throughput = data["assessments_completed"].dropna()
        throughput_source = "assessments_completed"
    elif {"closed_referrals", "open_referrals"} <= set(data.columns):
        d = data[["closed_referrals", "open_referrals"]].dropna()
        hazard = (base.leaving.withdrawal_per_year + base.leaving.moved_per_year
                  + base.leaving.private_per_year)
        # closures are assessments plus leaving the list; leaving is estimated from the list size
        throughput = (d["closed_referrals"] - d["open_referrals"].shift(1) * hazard / 12).dropna()
        throughput = throughput.clip(lower=0)
        throughput_source = "closed_referrals minus leaving at the base scenario's hazards"
    else:
        throughput = None
    if throughput is not None and len(throughput) >= 3:
        capacity = CapacityFitter().fit(throughput)
        try:
            overrides.update({k: v for k, v in capacity.to_scenario(base).items()})
        except ValueError as error:
            raise CalibrationError(str(error)) from None
        parameters += _params_from_summary(capacity.summary)
        notes.append(f"Capacity from {throughput_source}.")
    else:
        kept.append("assessment capacity (needs assessments_completed, or closed and open counts)")
    kept += ["referral mix", "leaving hazards", "assessment duration and hours",
             "support", "escalation"]
    try:
        scenario = base.replace(overrides)
    except ScenarioError as error:
        raise CalibrationError(f"the fitted values do not make a valid scenario: {error}") from None
    # the team kept from a base scenario of another size is not this service's: the scenario
    # stays illustrative, and every warning travels with it (printed whenever it is run)
    team = size_warnings(scenario, base, capacity is None, False)
    warnings = [*_source_caveats(series.source), *series.warnings, *team,
                *size_warnings(scenario, base, False, not len(open_))]
    scenario = scenario.replace({"meta.illustrative": bool(team),
                                 "meta.warnings": warnings or None})
    return MonthlyCalibration(scenario, arrivals, capacity, parameters, notes, kept, flow, series,
                              changes, warnings)


def write_monthly_calibration(result: MonthlyCalibration, folder: Path,
                              command: Sequence[str] = ()) -> None:
    """calibrated.toml, fit.json, report.md and arrivals.png in ``folder`` (already prepared)."""
    from model import __version__

    from .report import (_fmt, _markdown_table, _source_comment, calibration_provenance,
                         changes_section, fitted_arrivals_figure, provenance_lines, with_source,
                         write_json)

    provenance = calibration_provenance(result.series.source, command, {})  # nothing random
    scenario = with_source(result.scenario, provenance, result.warnings)
    header = ("# Calibrated by ndpath calibrate --monthly from an aggregate series; see report.md\n"
              "# for what was fitted and what stayed at the base scenario's values.\n"
              + _source_comment(provenance))
    if result.warnings:
        header += (f"# {len(result.warnings)} warning(s) in meta.warnings, said again whenever "
                   "this scenario is run.\n")
    (folder / "calibrated.toml").write_text(header + scenario.to_toml())
    write_json(folder / "fit.json", {
        "ndpath_version": __version__, "provenance": provenance,
        "command": list(command), "source": result.series.source,
        "parameters": {p.name: p.as_dict() for p in result.parameters},
        "kept_defaults": result.kept_defaults, "notes": result.notes,
        "warnings": result.warnings,
        "excluded_months": [str(m) for m in result.arrivals.excluded_months_],
        "groups": result.series.groups, "data_changes": result.changes,
    })
    fig = fitted_arrivals_figure(result.arrivals)
    fig.savefig(folder / "arrivals.png", dpi=110)
    rows = [(p.name, _fmt(p.estimate), _fmt(p.ci_low), _fmt(p.ci_high), p.unit, p.source)
            for p in result.parameters]
    text = ["# Calibration from a monthly series", "",
            f"Source: {Path(result.series.source).name}; the scenario starts "
            f"{result.scenario.simulation.start_date}.", ""]
    text += [f"**Warning:** {w}" for w in result.warnings] + ([""] if result.warnings else [])
    text += [f"- {n}" for n in result.notes] + [""]
    text += changes_section(result.changes)
    text += ["## Fitted values (95% intervals)", ""]
    text += [_markdown_table(("parameter", "estimate", "low", "high", "unit", "source"), rows), ""]
    text += ["## Kept from the base scenario (aggregates do not identify them)", ""]
    text += [f"- {k}" for k in result.kept_defaults]
    text += ["", *provenance_lines(provenance)]
    text += ["![referrals](arrivals.png)", ""]
    (folder / "report.md").write_text("\n".join(text))


__all__ = ["MonthlySeries", "MonthlyCalibration", "read_monthly", "calibrate_monthly", "month_ranges",
           "write_monthly_calibration", "COUNT_COLUMNS", "ALL_GROUPS", "adult_bands",
           "includes_adults"]


