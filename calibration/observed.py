"""What an extract shows, month by month: the statistics calibration matches.

Every function takes the parsed extract frame (:attr:`PathwayTable.data`, or a simulated history
through :func:`calibration.synth.result_to_extract` with ``as_text=False``), so the data and the
model are measured with the same ruler.

A child is *on the list* (waiting) from referral until the first of assessment start and
discharge; at a month end the list holds the children referred by then and not yet gone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
WEEK_DAYS = 7.0
KM_WEEKS = (13, 26, 39, 52, 78, 104)
"""Weeks at which the wait survival curve is compared (NICE's 13 weeks, then up to two years)."""


def _column(data: pd.DataFrame, name: str) -> pd.Series:
    if name in data:
        return pd.to_datetime(data[name])
    return pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns]")


def list_leave_date(data: pd.DataFrame) -> pd.Series:
    """When each child left the list: the first of assessment start and discharge (NaT if not)."""
    start, gone = _column(data, "assessment_start_date"), _column(data, "discharge_date")
    return start.where(start.notna() & (gone.isna() | (start <= gone)), gone)


def month_range(first: pd.Timestamp | str, last: pd.Timestamp | str) -> pd.PeriodIndex:
    """Calendar months from the month of ``first`` to the month of ``last`` inclusive."""
    return pd.period_range(pd.Timestamp(first).to_period("M"), pd.Timestamp(last).to_period("M"),
                           freq="M")


def _count_by_month(dates: pd.Series, months: pd.PeriodIndex) -> np.ndarray:
    d = pd.to_datetime(dates).dropna()
    counts = d.dt.to_period("M").value_counts()
    return counts.reindex(months, fill_value=0).to_numpy(dtype=float)


def _count_at_or_before(dates: pd.Series, moments: pd.DatetimeIndex) -> np.ndarray:
    values = np.sort(pd.to_datetime(dates).dropna().to_numpy(dtype="datetime64[ns]"))
    return np.searchsorted(values, moments.to_numpy(dtype="datetime64[ns]"), side="right")


def month_ends(months: pd.PeriodIndex) -> pd.DatetimeIndex:
    """The last day of each month (a date: the list is counted at the end of that day)."""
    return months.to_timestamp(how="start") + pd.offsets.MonthEnd(0)


def waiting_at(data: pd.DataFrame, moments: pd.DatetimeIndex) -> np.ndarray:
    """List size at the end of each day in ``moments`` (referred by then, not yet gone)."""
    referred = _count_at_or_before(data["referral_date"], moments)
    gone = _count_at_or_before(list_leave_date(data), moments)
    return (referred - gone).astype(float)


def monthly_flows(data: pd.DataFrame, months: pd.PeriodIndex) -> pd.DataFrame:
    """Per month: ``referrals``, ``assessments_started``, ``discharges``, ``waiting_end``
    (list at the month end) and ``waiting_start`` (at the end of the month before)."""
    leave = list_leave_date(data)
    start = _column(data, "assessment_start_date")
    ends = month_ends(months)
    frame = pd.DataFrame({
        "month": months.astype(str),
        "referrals": _count_by_month(data["referral_date"], months),
        "assessments_started": _count_by_month(start, months),
        "discharges": _count_by_month(leave.where(leave != start), months),
        "waiting_end": waiting_at(data, ends),
    })
    frame["waiting_start"] = waiting_at(data, months.to_timestamp(how="start") - DAY)
    return frame


def wait_observations(data: pd.DataFrame, cohort_from: pd.Timestamp, cohort_to: pd.Timestamp,
                      at: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Waits (days) from referral to assessment start for children referred in
    ``[cohort_from, cohort_to]``, as seen on ``at``: (durations, observed).

    A child still waiting on ``at`` is censored there; one discharged without assessment is
    censored at the discharge (their wait for assessment was not seen to end).
    """
    referral = pd.to_datetime(data["referral_date"])
    cohort = ((referral >= cohort_from) & (referral <= cohort_to)).to_numpy()
    start = _column(data, "assessment_start_date")[cohort]
    gone = _column(data, "discharge_date")[cohort]
    referral = referral[cohort]
    observed = (start.notna() & (start <= at) & (gone.isna() | (start <= gone))).to_numpy()
    end = start.where(observed, gone.where(gone.notna() & (gone <= at), at))
    end = end.where(end <= at, at)
    durations = ((end - referral) / DAY).to_numpy(dtype=float)
    return durations, observed


def km_survival(durations: np.ndarray, observed: np.ndarray, at_days: np.ndarray) -> np.ndarray:
    """Kaplan–Meier survival at ``at_days`` (vectorised; NaN beyond the last follow-up)."""
    if len(durations) == 0:
        return np.full(len(at_days), np.nan)
    order = np.argsort(durations, kind="stable")
    d, e = durations[order], observed[order].astype(float)
    times, first = np.unique(d, return_index=True)
    events = np.add.reduceat(e, first)
    at_risk = len(d) - first
    surv = np.cumprod(1.0 - events / at_risk)
    idx = np.searchsorted(times, at_days, side="right") - 1
    out = np.where(idx >= 0, surv[np.maximum(idx, 0)], 1.0)
    return np.where(np.asarray(at_days) <= d.max(), out, np.nan)


__all__ = ["monthly_flows", "waiting_at", "wait_observations", "km_survival", "list_leave_date",
           "month_range", "month_ends", "KM_WEEKS"]
