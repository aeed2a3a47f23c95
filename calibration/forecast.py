"""Back-test of the referral forecast on a monthly series, against the simple methods.

:func:`backtest_referrals` fits :class:`~calibration.fitters.ArrivalsFitter` (the forecast the
calibrated scenario expects) to a series cut ``holdout_months`` before its end, forecasts the
held-out months with a prediction interval, and compares it with what happened and with the
simple methods of :mod:`calibration.backtest`:

* **seasonal naive**: the same month last year;
* **straight-line trend**: a least-squares line through the last 24 months before the cut;
* **flow balance**: for referrals, the mean of the last 12 months (no trend, no season).

It reports each method's mean absolute percentage error and error of the held-out total, and
the share of held-out months inside the model's prediction interval (its coverage, which should
be near the nominal level). :func:`synthetic_referrals` gives the shipped synthetic services'
monthly referrals from the model's own arrival process, to back-test on a known truth.

>>> from calibration import ENGLAND_MONTHLY
>>> from calibration.monthly import read_monthly
>>> series = read_monthly(ENGLAND_MONTHLY, age_band="0-17").data["new_referrals"]
>>> bt = backtest_referrals(series, 6, exclude="2020-03..2020-08")
>>> bt.error("model") < bt.error("seasonal_naive")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from .backtest import METHOD_LABELS, METHODS, _baselines
from .fitters import ArrivalsFitter, parse_month_ranges


@dataclass
class ReferralBacktest:
    """The held-out months month by month, and each method's error."""

    comparison: pd.DataFrame
    """``month, actual, model, model_low, model_high, covered, seasonal_naive, linear_trend,
    flow_balance`` (``model`` is the forecast's mean; ``covered``: actual inside the interval)."""
    errors: pd.DataFrame
    """``method, mape_pct, total_error_pct``."""
    fitter: ArrivalsFitter
    level: float
    cut: pd.Period
    """The last month fitted."""
    left_out: list[str]
    """Held-out months left out of the scoring (they are in ``exclude``)."""

    def error(self, method: str, kind: str = "mape_pct") -> float:
        return float(self.errors.loc[self.errors["method"] == method, kind].iloc[0])

    @property
    def coverage(self) -> float:
        """Share of the scored held-out months inside the ``level`` prediction interval."""
        return float(self.comparison["covered"].mean())

    def verdict(self) -> str:
        simple = {m: self.error(m) for m in METHODS[1:]}
        best = min(simple, key=lambda m: simple[m])
        model = self.error("model")
        n = len(self.comparison)
        cover = (f"{int(self.comparison['covered'].sum())} of {n} held-out months inside the "
                 f"model's {self.level:.0%} prediction interval")
        if model <= simple[best]:
            return (f"The referral forecast beat every simple method: mean absolute error "
                    f"{model:.1f}% a month against {simple[best]:.1f}% for "
                    f"{METHOD_LABELS[best]}; {cover}.")
        return (f"WARNING: {METHOD_LABELS[best]} forecast referrals better than the model: "
                f"{simple[best]:.1f}% against {model:.1f}% mean absolute error a month; {cover}.")


def backtest_referrals(counts: pd.Series, holdout_months: int = 6,
                       exclude: str | Iterable[pd.Period] | None = None,
                       break_month: str | pd.Period | None = None, level: float = 0.9,
                       seasonality: bool | str | None = None,
                       family: str = "auto") -> ReferralBacktest:
    """Fit the referral forecast to ``counts`` less its last ``holdout_months`` and score it.

    ``exclude`` months are left out of the fit, and of the scoring when they are held out.
    ``break_month`` must leave at least three fitted months after it (it is known at the cut).
    Raises ``ValueError`` when the series is too short for the hold-out.
    """
    counts = pd.Series(counts).copy()
    counts.index = pd.PeriodIndex([pd.Period(m, freq="M") for m in counts.index])
    counts = counts.sort_index().dropna()
    if holdout_months < 1:
        raise ValueError("holdout_months must be at least 1")
    if len(counts) < holdout_months + 6:
        raise ValueError(f"a {holdout_months}-month back-test needs at least "
                         f"{holdout_months + 6} months of referrals, got {len(counts)}")
    history, held = counts.iloc[:-holdout_months], counts.iloc[-holdout_months:]
    excluded = (set(parse_month_ranges(exclude)) if isinstance(exclude, str) or exclude is None
                else {pd.Period(m, freq="M") for m in exclude})
    fitter = ArrivalsFitter().fit(history, exclude=excluded, seasonality=seasonality,
                                  break_month=break_month, family=family)
    forecast = fitter.forecast(held.index, level=level)
    simple = _baselines(history, holdout_months, None, level=False)
    table = pd.DataFrame({"month": held.index.astype(str), "actual": held.to_numpy(dtype=float),
                          "model": forecast["mean"].to_numpy(),
                          "model_low": forecast["low"].to_numpy(),
                          "model_high": forecast["high"].to_numpy(),
                          **{m: simple[m] for m in METHODS[1:]}})
    table["covered"] = (table["model_low"] <= table["actual"]) & (table["actual"]
                                                                   <= table["model_high"])
    scored = ~held.index.isin(list(excluded))
    left_out = [str(m) for m in held.index[~scored]]
    table = table[scored].reset_index(drop=True)
    if table.empty:
        raise ValueError("every held-out month is excluded: nothing to score")
    actual = table["actual"].to_numpy()
    errors = []
    for method in METHODS:
        pred = table[method].to_numpy()
        rel = (pred - actual) / np.maximum(actual, 1.0)
        errors.append({"method": method, "mape_pct": float(np.mean(np.abs(rel)) * 100),
                       "total_error_pct": float((pred.sum() - actual.sum())
                                                / max(actual.sum(), 1.0) * 100)})
    return ReferralBacktest(table, pd.DataFrame(errors), fitter, level, history.index[-1],
                            left_out)


def synthetic_referrals(name: str, months: int = 60, start: str = "2021-01-01",
                        seed: int = 1, scale: float = 1.0) -> pd.Series:
    """Monthly referrals of the synthetic service ``name`` (:mod:`calibration.services`), drawn
    from the model's own arrival process (``model.pathway.referral_times``) over ``months``
    months from ``start``: a Poisson process with the service's trend and seasonality."""
    from model.pathway import month_starts, referral_times
    from model.streams import Streams

    from .services import service

    scenario = service(name, scale).replace({"simulation.start_date": start,
                                             "simulation.horizon_months": months})
    edges = month_starts(start, months)
    days = referral_times(scenario, Streams(seed, 0), edges[-1])
    index = pd.period_range(pd.Period(start, freq="M"), periods=months, freq="M")
    return pd.Series(np.histogram(days, bins=edges)[0], index=index)


__all__ = ["ReferralBacktest", "backtest_referrals", "synthetic_referrals"]
