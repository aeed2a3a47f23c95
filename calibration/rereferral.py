"""Fit the re-referral hazards (failure demand) from an extract where a child can be followed.

An extract can carry ``child_id`` (DESIGN.md 4a: pseudonymised; the same child on a later row is
a re-referral). For every referral that ended without an assessment by a route that can bring a
child back (a needs-led plan or signposting at triage, or withdrawing from the list), the child
is at risk of a new referral from that day until their next referral (an event), the extract
date or their 18th birthday (censored). The constant hazard's estimate is events / time at risk, with an exact Poisson
95% interval; a route with no one leaving by it keeps the scenario's value, and an extract
without ``child_id`` keeps every default, saying so.

>>> import pandas as pd
>>> rows = pd.DataFrame({"child_id": ["a", "a", "b"],
...                      "referral_date": ["2023-01-01", "2023-07-01", "2023-01-01"],
...                      "triage_date": ["2023-01-10", None, "2023-01-10"],
...                      "triage_outcome": ["signposted", None, "signposted"]})
>>> fit = ReReferralFitter().fit(rows, extract_date="2024-01-10")
>>> fit.events_["signposted"], round(fit.exposure_years_["signposted"], 2)
(1, 1.47)
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from scipy import stats

ROUTES = {
    "needs_led": "rereferral.after_needs_led_per_year",
    "signposted": "rereferral.after_signposted_per_year",
    "withdrawn": "rereferral.after_withdrawn_per_year",
}
"""How a referral ended -> the scenario key of the hazard of coming back after it."""


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce")


def _codes(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index)
    return frame[column].astype("string").str.strip().str.lower().fillna("")


def leavers(extract: pd.DataFrame, transfer_age: float | None = 18.0) -> pd.DataFrame:
    """The referrals that ended by a route a child can come back from, one row each:
    ``route, left, next_referral, adult`` (the child's next referral in the extract, NaT if
    none; the day they reach ``transfer_age``, NaT if their age is unknown or it is ``None``).

    A referral ended by a route on its discharge date (``discharge_reason``); an extract without
    ``discharge_reason`` ends it on the triage date for a needs-led or signposted
    ``triage_outcome``, unless the child was assessed anyway (a child sent to a needs-led plan
    who also joined the list did not leave). Rows without ``child_id`` cannot be followed and
    are left out.
    """
    if "child_id" not in extract:
        return pd.DataFrame(columns=["route", "left", "next_referral", "adult"])
    data = pd.DataFrame({
        "child": extract["child_id"].astype("string"),
        "referral": _dates(extract, "referral_date"),
        "triage": _dates(extract, "triage_date"),
        "triage_outcome": _codes(extract, "triage_outcome"),
        "discharge": _dates(extract, "discharge_date"),
        "discharge_reason": _codes(extract, "discharge_reason"),
        "assessed": _dates(extract, "assessment_start_date").notna(),
        "age": (pd.to_numeric(extract["age_at_referral"], errors="coerce")
                if "age_at_referral" in extract else pd.Series(float("nan"), index=extract.index)),
    }).dropna(subset=["child", "referral"])
    data = data.sort_values(["child", "referral"], kind="stable")
    data["next_referral"] = data.groupby("child")["referral"].shift(-1)
    route = pd.Series(pd.NA, index=data.index, dtype="string")
    left = pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns]")
    for name in ROUTES:
        if "discharge_reason" in extract:
            ended = (data["discharge_reason"] == name) & data["discharge"].notna()
            when = data["discharge"]
        else:
            ended = ((data["triage_outcome"] == name) & data["triage"].notna()
                     & ~data["assessed"])
            when = data["triage"]
        route = route.where(~ended, name)
        left = left.where(~ended, when)
    adult = (data["referral"] + pd.to_timedelta((transfer_age - data["age"]) * 365.25, unit="D")
             if transfer_age is not None else pd.Series(pd.NaT, index=data.index))
    out = pd.DataFrame({"route": route, "left": left, "next_referral": data["next_referral"],
                        "adult": adult})
    return out[out["route"].notna()].reset_index(drop=True)


def at_risk_at(extract: pd.DataFrame, moment: str | dt.date | pd.Timestamp,
               transfer_age: float | None = 18.0) -> dict[str, int]:
    """Children who had left by each route on or before ``moment`` and were neither referred
    again nor adults by then: the ``rereferral.at_risk_at_start`` of a projection starting the
    day after ``moment``."""
    when = pd.Timestamp(moment)
    rows = leavers(extract, transfer_age)
    waiting_to_return = ((rows["left"] <= when)
                         & ~(rows["next_referral"] <= when)
                         & ~(rows["adult"] <= when))
    counts = rows.loc[waiting_to_return, "route"].value_counts()
    return {route: int(counts.get(route, 0)) for route in ROUTES}


@dataclass
class ReReferralFitter:
    """Re-referral hazards per year by route, lifelines-style: ``fit`` returns self; fitted
    values end in ``_``."""

    alpha: float = 0.05
    transfer_age: float | None = 18.0
    """Children are not referred to children's services again from this age (the model's
    ``leaving.age_out_years``): with ``age_at_referral`` in the extract, time at risk ends at
    it. ``None`` counts time at risk at every age."""
    events_: dict[str, int] = field(default_factory=dict)
    exposure_years_: dict[str, float] = field(default_factory=dict)
    rates_: dict[str, float] = field(default_factory=dict)
    intervals_: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes_: list[str] = field(default_factory=list)

    def fit(self, extract: pd.DataFrame, extract_date: str | dt.date | pd.Timestamp
            ) -> "ReReferralFitter":
        """Fit from rows of an extract (``child_id``, ``referral_date`` and, where present,
        ``triage_date``/``triage_outcome``, ``discharge_date``/``discharge_reason``,
        ``assessment_start_date`` and ``age_at_referral``); see :func:`leavers` for when a
        referral ended by a route. Each is at risk from then until the child's next referral
        (an event), the extract date or the transfer age (censored).

        Raises ``ValueError`` naming the column if ``referral_date`` is missing.
        """
        if "referral_date" not in extract:
            raise ValueError("re-referral fit: the extract needs a referral_date column")
        self.events_, self.exposure_years_, self.rates_, self.intervals_ = {}, {}, {}, {}
        self.notes_ = []
        if "child_id" not in extract or extract["child_id"].isna().all():
            self.notes_.append("no child_id column: re-referrals cannot be seen, so the "
                               "scenario's re-referral hazards are kept (assumptions)")
            return self
        end = pd.Timestamp(extract_date)
        every = leavers(extract, self.transfer_age)
        for route in ROUTES:
            rows = every[(every["route"] == route) & (every["left"] <= end)]
            stop = rows["adult"].where(rows["adult"] < end, end)
            came_back = rows["next_referral"].notna() & (rows["next_referral"] <= stop)
            until = rows["next_referral"].where(came_back, stop)
            years = float(((until - rows["left"]).dt.days.clip(lower=0) / 365.25).sum())
            events = int(came_back.sum())
            if len(rows) == 0 or years <= 0:
                self.notes_.append(f"nobody left by {route} in the extract: "
                                   f"{ROUTES[route]} keeps the scenario's value")
                continue
            self.events_[route], self.exposure_years_[route] = events, years
            self.rates_[route] = events / years
            low = stats.chi2.ppf(self.alpha / 2, 2 * events) / 2 / years if events else 0.0
            high = stats.chi2.ppf(1 - self.alpha / 2, 2 * events + 2) / 2 / years
            self.intervals_[route] = (float(low), float(high))
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """``route, key, events, years_at_risk, rate_per_year, ci_low, ci_high``."""
        return pd.DataFrame([{"route": r, "key": ROUTES[r], "events": self.events_[r],
                              "years_at_risk": self.exposure_years_[r],
                              "rate_per_year": self.rates_[r], "ci_low": self.intervals_[r][0],
                              "ci_high": self.intervals_[r][1]} for r in self.rates_])

    def overrides(self) -> dict[str, Any]:
        """Scenario overrides: the fitted hazards, and re-referral switched on if any was fitted."""
        if not self.rates_:
            return {}
        return {"rereferral.enabled": True,
                **{ROUTES[r]: float(rate) for r, rate in self.rates_.items()}}

    def __repr__(self) -> str:
        fitted = ", ".join(f"{r} {self.rates_[r]:.3g}/yr ({self.events_[r]} returns)"
                           for r in self.rates_) or "nothing fitted"
        return f"<ReReferralFitter: {fitted}>"


__all__ = ["ReReferralFitter", "ROUTES", "leavers", "at_risk_at"]
