"""Synthetic extracts in the DESIGN.md 4a format, from the model.

Used by the tests (recovery from known parameters), by the simulation-based calibration (the
simulated history seen through the same "extract" lens as the data) and for demos (the app's
example upload). A synthetic extract is what the service's system would hold on the extract date:
dates after it do not exist, so children still waiting are right-censored exactly as in real data.

>>> from model.scenario import Scenario
>>> s = Scenario().replace({"backlog.count": 50, "arrivals.referrals_per_month": 20})
>>> extract = synthesise_extract(s, "2025-12-31", history_months=6)
>>> list(extract.columns)[:3]
['referral_id', 'referral_date', 'pathway']
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from model.metrics import child_times
from model.pathway import SimulationResult
from model.uncertainty import simulate_replication as simulate
from model.scenario import Scenario

EXTRACT_COLUMNS = ("referral_id", "referral_date", "pathway", "age_at_referral", "priority",
                   "looked_after_or_cin", "deprivation_quintile", "triage_date", "triage_outcome",
                   "support_start_date", "support_end_date", "assessment_start_date",
                   "assessment_end_date", "outcome", "discharge_date", "discharge_reason")

# the model's exit reasons are the extract's discharge codes one for one: leaving at profiling
# with a needs-led plan (``needs_led``) or signposted (``signposted``) is not "needs met while
# supported" (``needs_met``), and counting them as one puts a profiling-day exit, with no time
# supported, among the needs-met events (issue 9: a hazard of 0.10 a year fitted as 34.8)
_DISCHARGE = {"withdrawn": "withdrawn", "moved": "moved", "private": "private",
              "aged_out": "aged_out", "needs_met": "needs_met", "rejected": "rejected",
              "needs_led": "needs_led", "signposted": "signposted"}
_TRIAGE = {"diagnostic": "assessment", "needs_led": "needs_led", "signposted": "signposted"}


def history_scenario(scenario: Scenario, extract_date: str | dt.date | pd.Timestamp,
                     history_months: int) -> Scenario:
    """``scenario`` moved to run the ``history_months`` calendar months that end on the extract
    date (which must be the last day of a month, or the run ends at the month start before it)."""
    end = pd.Timestamp(extract_date).normalize() + pd.Timedelta(days=1)
    start = (end - pd.DateOffset(months=history_months))
    return scenario.replace({"simulation.start_date": start.date(),
                             "simulation.horizon_months": history_months})


def result_to_extract(result: SimulationResult, extract_date: str | dt.date | pd.Timestamp | None = None,
                      ids: bool = True, as_text: bool = True) -> pd.DataFrame:
    """One replication's children as an extract.

    Dates are calendar days (``start_date`` + whole days); events after ``extract_date``
    (default: the end of the run) are left out, so those children are censored there. With
    ``as_text`` (default) cells are strings as a file holds them (ISO dates, blanks ``""``);
    otherwise dates are timestamps and blanks NaT/None, the shape of :attr:`PathwayTable.data`.
    """
    start = pd.Timestamp(result.scenario.simulation.start_date)
    end_day = (result.horizon_days if extract_date is None
               else (pd.Timestamp(extract_date) - start) / pd.Timedelta(days=1) + 1.0)
    t = child_times(result)
    ev = result.events
    children = result.children
    keep = t.referral < end_day
    n = len(children)
    blank: Any = "" if as_text else None

    def dates(days: np.ndarray) -> np.ndarray:
        ok = np.isfinite(days) & (days < end_day)
        stamp = start + pd.to_timedelta(np.floor(np.where(ok, days, 0.0)), unit="D")
        if not as_text:
            return np.where(ok, stamp.to_numpy(), np.datetime64("NaT"))  # type: ignore[no-any-return]
        out = np.full(n, "", dtype=object)
        out[ok] = stamp[ok].strftime("%Y-%m-%d").to_numpy()
        return out

    def detail_of(event: str, known: dict[str, str]) -> np.ndarray:
        rows = ev[ev["event"] == event]
        out = np.full(n, blank, dtype=object)
        details = rows["detail"].astype(str).map(lambda d: known.get(d, d)).to_numpy()
        out[rows["child"].to_numpy()[::-1]] = details[::-1]
        return out

    support_end = np.full(n, np.nan)
    srow = ev[ev["event"] == "support_end"]
    support_end[srow["child"].to_numpy()[::-1]] = srow["time_days"].to_numpy()[::-1]
    profiled = np.full(n, np.nan)
    prow = ev[ev["event"] == "profiled"]
    profiled[prow["child"].to_numpy()] = prow["time_days"].to_numpy()
    # a discharge is leaving without assessment: exits after an assessment start are not one
    exit_day = np.where(np.isfinite(t.assessment_start), np.nan, t.exit)
    exit_day = np.where(exit_day < end_day, exit_day, np.nan)
    reason = np.where(np.isfinite(exit_day),
                      pd.Series(t.exit_reason).map(lambda r: _DISCHARGE.get(r, r)).to_numpy(), blank)
    pathway = children["pathway"].astype(str).to_numpy()
    frame = pd.DataFrame({
        "referral_date": dates(t.referral),
        "pathway": pathway,
        "age_at_referral": np.round(children["age_at_referral"].to_numpy(dtype=float), 2),
        "priority": children["priority"].astype(str).to_numpy(),
        "looked_after_or_cin": np.where(children["looked_after_or_cin"].to_numpy(), "yes", "no"),
        "deprivation_quintile": children["deprivation_quintile"].to_numpy(dtype=int),
        "triage_date": dates(profiled),
        "triage_outcome": np.where(np.isfinite(profiled) & (profiled < end_day),
                                   detail_of("profiled", _TRIAGE), blank),
        "support_start_date": dates(t.first_support),
        # a support episode under way at the extract date has no end yet (blank)
        "support_end_date": dates(np.where(t.first_support < end_day, support_end, np.nan)),
        "assessment_start_date": dates(t.assessment_start),
        "assessment_end_date": dates(t.assessment_end),
        "outcome": np.where(np.isfinite(t.assessment_end) & (t.assessment_end < end_day),
                            detail_of("assessment_end", {}), blank),
        "discharge_date": dates(exit_day),
        "discharge_reason": reason,
    })
    if result.scenario.localities.names:
        frame.insert(6, "locality", children["locality"].astype(str).to_numpy())
    frame = frame[keep].reset_index(drop=True)
    if not result.scenario.profiling.enabled:
        frame = frame.drop(columns=["triage_date", "triage_outcome"])
    if result.scenario.rereferral.enabled:
        # the same child on a later row is a re-referral (DESIGN.md 4a): ids for the first
        # referral of each child, shuffled so they say nothing about the order of referral
        origin = children["child_id"].to_numpy()[keep]
        shuffle = np.random.default_rng([result.seed, result.replication, 5]).permutation(n)
        frame["child_id"] = [f"C{shuffle[o]:08d}" for o in origin] if ids else origin
    if ids:
        rng = np.random.default_rng([result.seed, result.replication, 4])
        frame.insert(0, "referral_id", [f"R{x:010d}" for x in rng.choice(10**10, len(frame),
                                                                           replace=False)])
    elif not as_text:
        frame.insert(0, "child", np.arange(len(frame)))
    return frame


def synthesise_extract(scenario: Scenario, extract_date: str | dt.date | pd.Timestamp,
                       history_months: int = 48, replication: int = 0,
                       seed: int | None = None) -> pd.DataFrame:
    """A synthetic 4a extract: ``scenario`` run over the ``history_months`` before the extract
    date, every child referred by then (the starting backlog included) as one row."""
    history = history_scenario(scenario, extract_date, history_months)
    return result_to_extract(simulate(history, replication, seed), extract_date)


def make_messy(extract: pd.DataFrame, seed: int = 0, share: float = 0.3) -> pd.DataFrame:
    """The same extract as real systems write it: UK dates, Excel serials, mixed-case codes,
    synonyms and "N/A"/"NULL" blanks in about ``share`` of the cells. Reading it back gives the
    same table (the reader accepts all of these)."""
    rng = np.random.default_rng(seed)
    out = extract.astype(object).copy()
    for column in out.columns:
        pick = rng.random(len(out)) < share
        values = out[column].astype(str)
        if column.endswith("_date"):
            dates = pd.to_datetime(values.where(values != ""), format="%Y-%m-%d", errors="coerce")
            uk = dates.dt.strftime("%d/%m/%Y")
            serial = ((dates - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)).round()
            half = rng.random(len(out)) < 0.5
            new = np.where(half, uk, serial.map(lambda x: "" if pd.isna(x) else str(int(x))))
            values = values.where(~pick | (values == ""), pd.Series(new, index=values.index))
        elif column in ("pathway", "priority", "outcome", "discharge_reason"):
            synonyms = {"autism": "ASD", "routine": "Routine ", "withdrawn": " Withdrew",
                        "private": "Right to choose", "other_nd": "Other", "urgent": "URGENT"}
            values = values.where(~pick, values.map(lambda v: synonyms.get(v, v.upper())))
        blank = values == ""
        fill = pd.Series(rng.choice(["N/A", "NULL", ""], len(out)), index=values.index)
        values = values.where(~blank, fill)
        out[column] = values
    return out


__all__ = ["synthesise_extract", "result_to_extract", "history_scenario", "make_messy",
           "EXTRACT_COLUMNS"]
