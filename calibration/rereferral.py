"""Fit the re-referral hazards (failure demand) from an extract where a child can be followed.

An extract can carry ``child_id`` (DESIGN.md 4a: pseudonymised; the same child on a later row is
a re-referral). For every referral that ended without an assessment by a route that can bring a
child back (a needs-led plan or signposting at triage, or withdrawing from the list), the child
is at risk of a new referral from that day until their next referral (an event) or the extract
date (censored). The constant hazard's estimate is events / time at risk, with an exact Poisson
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


@dataclass
class ReReferralFitter:
    """Re-referral hazards per year by route, lifelines-style: ``fit`` returns self; fitted
    values end in ``_``."""

    alpha: float = 0.05
    events_: dict[str, int] = field(default_factory=dict)
    exposure_years_: dict[str, float] = field(default_factory=dict)
    rates_: dict[str, float] = field(default_factory=dict)
    intervals_: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes_: list[str] = field(default_factory=list)

    def fit(self, extract: pd.DataFrame, extract_date: str | dt.date | pd.Timestamp
            ) -> "ReReferralFitter":
        """Fit from rows of an extract (``child_id``, ``referral_date`` and, where present,
        ``triage_date``/``triage_outcome`` and ``discharge_date``/``discharge_reason``).

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
        data = pd.DataFrame({
            "child": extract["child_id"].astype("string"),
            "referral": _dates(extract, "referral_date"),
            "triage": _dates(extract, "triage_date"),
            "triage_outcome": _codes(extract, "triage_outcome"),
            "discharge": _dates(extract, "discharge_date"),
            "discharge_reason": _codes(extract, "discharge_reason"),
        }).dropna(subset=["child", "referral"])
        data = data.sort_values(["child", "referral"], kind="stable")
        data["next_referral"] = data.groupby("child")["referral"].shift(-1)
        for route in ROUTES:
            by_triage = (data["triage_outcome"] == route) & data["triage"].notna()
            by_discharge = (data["discharge_reason"] == route) & data["discharge"].notna()
            left = data["triage"].where(by_triage, data["discharge"].where(by_discharge))
            rows = data[left.notna()]
            left = left[left.notna()]
            came_back = rows["next_referral"].notna() & (rows["next_referral"] <= end)
            until = rows["next_referral"].where(came_back, end)
            years = ((until - left).dt.days.clip(lower=0) / 365.25).sum()
            events = int(came_back.sum())
            if len(rows) == 0 or years <= 0:
                self.notes_.append(f"nobody left by {route} in the extract: "
                                   f"{ROUTES[route]} keeps the scenario's value")
                continue
            self.events_[route], self.exposure_years_[route] = events, float(years)
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


__all__ = ["ReReferralFitter", "ROUTES"]
