"""Fitters, in the lifelines shape.

``Fitter(alpha=0.05).fit(data)`` returns the fitter; fitted values end in ``_``; ``summary`` is a
DataFrame (``parameter, estimate, ci_low, ci_high, unit``) with ``1 - alpha`` intervals;
``to_scenario()`` returns the fitted values as scenario overrides (``{"key.path": value}``), the
input :meth:`model.scenario.Scenario.replace` takes; ``repr`` says what was fitted.

* :class:`ArrivalsFitter`: referrals as a Poisson or negative binomial regression (statsmodels)
  with a yearly trend, month-of-year seasonality and an optional reporting break, months
  excluded on request; the referral forecast with prediction intervals.
* :class:`ReferralMixFitter`: shares of pathway, priority, looked-after, deprivation, age; the
  outcome mix; vetting acceptance; profiling routing.
* :class:`DurationFitter`: a duration with right-censoring: Kaplan–Meier (SciPy ``ecdf``) and
  the best of lognormal / gamma / Weibull by AIC, fitted by maximum likelihood with the censored
  observations contributing their survival.
* :class:`ExitHazardFitter`: leaving the list as competing risks: cause-specific constant hazards
  (events / time at risk, delayed entry and censoring), exact Poisson intervals, and the
  Aalen–Johansen cumulative incidence.
* :class:`CapacityFitter`: effective assessment capacity from monthly throughput, with its
  change points (binary segmentation, penalised likelihood).
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from model.scenario import DAYS_PER_YEAR, WEEKS_PER_YEAR, Scenario

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ["parameter", "estimate", "ci_low", "ci_high", "unit"]
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class NotFittedError(RuntimeError):
    """A fitted attribute was asked for before ``fit()``."""


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


def _row(parameter: str, estimate: float, low: float, high: float, unit: str) -> dict[str, Any]:
    return {"parameter": parameter, "estimate": float(estimate), "ci_low": float(low),
            "ci_high": float(high), "unit": unit}


def _pair(values: np.ndarray) -> tuple[float, float]:
    return float(values[0]), float(values[1])


def check_alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (e.g. 0.05 for 95% intervals), got {alpha}")
    return alpha


class _Fitter:
    alpha: float

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = check_alpha(alpha)
        self._fitted = False

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() first")


# -------------------------------------------------------------------------------------------------
# Arrivals


def parse_month_ranges(text: str | Iterable[str] | None) -> list[pd.Period]:
    """Months from ``"2020-03..2020-08,2021-01"`` (ranges inclusive) or a list of such items.

    Raises ``ValueError`` naming the item that is not ``YYYY-MM`` or ``YYYY-MM..YYYY-MM``.
    """
    if text is None:
        return []
    items = text.split(",") if isinstance(text, str) else list(text)
    months: list[pd.Period] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        first, sep, last = item.partition("..")
        parts = [first.strip(), last.strip()] if sep else [first.strip()]
        try:
            if not all(re.fullmatch(r"\d{4}-\d{2}", p) for p in parts):
                raise ValueError(item)
            a = pd.Period(parts[0], freq="M")
            b = pd.Period(parts[-1], freq="M")
        except (ValueError, TypeError):
            raise ValueError(f"month range {item!r}: write months as YYYY-MM and ranges as "
                             "YYYY-MM..YYYY-MM, e.g. 2020-03..2020-08") from None
        if b < a:
            raise ValueError(f"month range {item!r} ends before it starts")
        months.extend(pd.period_range(a, b, freq="M"))
    return months


SEASONAL_MODES = ("months", "fourier", "flat")
MONTH_EFFECTS_MIN_SPAN = 24
"""Months of history (first to last, excluded months included) needed before twelve
month-of-year effects are fitted: two years, so every calendar month is seen twice unless
excluded. Shorter histories fall back to :data:`FOURIER_HARMONICS` harmonics."""
FOURIER_HARMONICS = 2
"""Harmonics of the fallback seasonality (4 parameters: the yearly and the half-yearly wave)."""
FOURIER_MIN_MONTHS = 12
"""Fitted months needed for the Fourier fallback; fewer give a flat profile."""
BREAK_MIN_MONTHS = 3
"""Fitted months needed on each side of a reporting break."""


class ArrivalsFitter(_Fitter):
    """Monthly referrals as a count regression with trend, month-of-year seasonality and an
    optional reporting break, fitted with statsmodels; the forecast behind the scenario.

    ``log E[referrals in month m] = a + b * years(m) + s(month of year of m) + d * [m >= break]``,
    with ``years(m)`` at the middle of the month: the model's arrival process
    (:class:`model.scenario.Arrivals`), whose seasonality is a ratio of *monthly counts* (mean 1)
    and whose trend grows continuously by ``exp(b) - 1`` a year. There is no days-in-month
    offset: a 28-day February's count is ``level * s[feb]`` as the profile says, and the model
    spreads it over February's days.

    Seasonality ``s``: twelve month effects when the history spans at least
    :data:`MONTH_EFFECTS_MIN_SPAN` months and every calendar month is among the fitted ones;
    otherwise (a short history) a Fourier series of :data:`FOURIER_HARMONICS` harmonics from
    :data:`FOURIER_MIN_MONTHS` fitted months; otherwise flat. ``season_note_`` says which.

    The break ``d`` is a step in the level from ``break_month`` on (a change in the number of
    providers submitting, as NHS England's series had in December 2025): the forecast and the
    scenario carry the level after it.

    Counts: Poisson (statsmodels ``GLM``) or, when the counts vary more than Poisson (Pearson's
    statistic against chi-squared, at 5%; real series do), negative binomial NB2 (statsmodels
    ``GLM``, its ``alpha`` by the degrees-of-freedom-corrected moment equation): ``family_``. Parameter intervals
    come from the fitted covariance (quasi-Poisson scaled under Poisson), and
    :meth:`forecast`'s prediction intervals from draws of the coefficients and of the counts.

    >>> months = pd.period_range("2022-01", periods=36, freq="M")
    >>> counts = pd.Series(200 * 1.1 ** (np.arange(36) / 12), index=months).round()
    >>> fitter = ArrivalsFitter().fit(counts)
    >>> round(fitter.annual_growth_, 2)
    0.1
    """

    def fit(self, counts: pd.Series, exclude: Iterable[pd.Period] | str | None = None,
            seasonality: bool | str | None = None, break_month: pd.Period | str | None = None,
            family: str = "auto") -> "ArrivalsFitter":
        """Fit to ``counts`` (a Series indexed by month, or by anything ``pd.Period`` reads).

        ``exclude``: months left out of the fit (e.g. the spring 2020 COVID trough).
        ``seasonality``: ``"months"`` (or True), ``"fourier"``, ``"flat"`` (or False), or None
        for the rule in the class docstring. ``break_month``: first month after a reporting
        break. ``family``: ``"auto"``, ``"poisson"`` or ``"negative_binomial"``.
        Raises ``ValueError`` when fewer than 6 months remain, or the break has fewer than
        :data:`BREAK_MIN_MONTHS` fitted months on a side.
        """
        import statsmodels.api as sm

        if family not in ("auto", "poisson", "negative_binomial"):
            raise ValueError(f"family must be auto, poisson or negative_binomial, got {family!r}")
        counts = pd.Series(counts).copy()
        counts.index = pd.PeriodIndex([pd.Period(m, freq="M") for m in counts.index])
        counts = counts.groupby(level=0).sum().sort_index()
        if isinstance(exclude, str) or exclude is None:
            excluded = set(parse_month_ranges(exclude))
        else:
            excluded = set(pd.Period(m, freq="M") for m in exclude)
        used = counts[~counts.index.isin(list(excluded))]
        if (used < 0).any() or used.isna().any():
            raise ValueError("referral counts must be non-negative numbers")
        if len(used) < 6:
            raise ValueError(f"need at least 6 months of referrals to fit arrivals, got {len(used)}"
                             " after exclusions")
        span = (counts.index[-1] - counts.index[0]).n + 1
        every_month = bool(np.bincount(used.index.month.to_numpy() - 1, minlength=12).min() >= 1)
        if seasonality is None:
            if span >= MONTH_EFFECTS_MIN_SPAN and every_month and len(used) >= 20:
                mode = "months"
                self.season_note_ = (f"Seasonality: twelve month-of-year effects ({span} months "
                                     "of history).")
            elif len(used) >= FOURIER_MIN_MONTHS:
                mode = "fourier"
                self.season_note_ = (
                    f"Seasonality: the history is short ({span} months, {len(used)} fitted; "
                    f"month effects need {MONTH_EFFECTS_MIN_SPAN} months and every calendar "
                    f"month), so a smooth yearly pattern ({FOURIER_HARMONICS} harmonics, "
                    f"{2 * FOURIER_HARMONICS} parameters) was fitted instead of 12 month effects.")
            else:
                mode = "flat"
                self.season_note_ = (f"Seasonality not fitted ({len(used)} months fitted, "
                                     f"fewer than {FOURIER_MIN_MONTHS}): flat.")
        else:
            mode = ("months" if seasonality is True else "flat" if seasonality is False
                    else str(seasonality))
            if mode not in SEASONAL_MODES:
                raise ValueError(f"seasonality must be one of {', '.join(SEASONAL_MODES)}, "
                                 f"got {seasonality!r}")
            self.season_note_ = f"Seasonality: {mode} (as asked)."
        self.season_mode_ = mode
        self.seasonal_ = mode != "flat"
        self.break_month_ = None if break_month is None else pd.Period(break_month, freq="M")
        if self.break_month_ is not None:
            before = int((used.index < self.break_month_).sum())
            after = len(used) - before
            if min(before, after) < BREAK_MIN_MONTHS:
                raise ValueError(
                    f"break month {self.break_month_}: a reporting break needs at least "
                    f"{BREAK_MIN_MONTHS} fitted months on each side (found {before} before and "
                    f"{after} from it; the series runs {counts.index[0]} to {counts.index[-1]}). "
                    "Name the first month counted the new way, inside the history, or drop the "
                    "break")
        self.months_ = counts.index
        self.used_months_ = used.index
        self.excluded_months_ = pd.PeriodIndex(sorted(m for m in excluded if m in counts.index),
                                               freq="M")
        self.counts_ = counts
        self.reference_ = used.index[-1]
        X = self._design(used.index)
        y = used.to_numpy(dtype=float)
        dof = max(len(y) - X.shape[1], 1)
        with warnings.catch_warnings():  # an exact fit (a tiny or constant series) is not news
            warnings.simplefilter("ignore", sm.tools.sm_exceptions.PerfectSeparationWarning)
            poisson = sm.GLM(y, X, family=sm.families.Poisson()).fit()
        mu = poisson.fittedvalues
        pearson = float(np.sum((y - mu) ** 2 / mu))
        self.dispersion_ = max(1.0, pearson / dof)
        beta, cov = np.asarray(poisson.params), np.asarray(poisson.cov_params()) * self.dispersion_
        # overdispersion: Pearson's statistic of the Poisson fit against chi-squared(dof)
        self.overdispersion_p_ = float(stats.chi2.sf(pearson, dof))
        self.family_, self.nb_alpha_ = "poisson", 0.0
        if family == "negative_binomial" or (family == "auto" and self.overdispersion_p_ < 0.05):
            alpha, nb = self._fit_nb(sm, y, X, beta, mu, dof)
            if nb is not None:
                self.family_, self.nb_alpha_ = "negative_binomial", alpha
                beta, cov = np.asarray(nb.params), np.asarray(nb.cov_params())
        self.coef_ = beta
        self.cov_ = cov
        self.n_months_ = len(y)
        self.dof_ = dof
        self._fitted = True
        # derived values, with intervals from draws of the coefficients (delta method by sampling)
        self.cov_ = (self.cov_ + self.cov_.T) / 2  # exactly symmetric for the draws
        draws = np.random.default_rng(0).multivariate_normal(beta, self.cov_, size=4000,
                                                             check_valid="ignore")
        self._draws = draws
        z = _z(self.alpha)
        b, se_b = beta[1], math.sqrt(self.cov_[1, 1])
        self.annual_growth_ = math.expm1(b)
        self.annual_growth_ci_ = (math.expm1(b - z * se_b), math.expm1(b + z * se_b))
        season = self._season(draws)
        self.seasonality_ = self._season(beta[None, :])[0]
        q = [100 * self.alpha / 2, 100 * (1 - self.alpha / 2)]
        self.seasonality_ci_ = np.percentile(season, q, axis=0).T
        level = self._level(draws, self.reference_)
        self.referrals_per_month_ = float(self._level(beta[None, :], self.reference_)[0])
        low_level, high_level = np.percentile(level, q)
        self.referrals_per_month_ci_ = (float(low_level), float(high_level))
        if self.break_month_ is not None:
            d, se_d = beta[-1], math.sqrt(self.cov_[-1, -1])
            self.break_ratio_ = math.exp(d)
            self.break_ratio_ci_ = (math.exp(d - z * se_d), math.exp(d + z * se_d))
        return self

    @staticmethod
    def _fit_nb(sm: Any, y: np.ndarray, X: np.ndarray, beta: np.ndarray, mu: np.ndarray,
                dof: int) -> tuple[float, Any]:
        """NB2 GLM (statsmodels) with ``alpha`` by the moment equation
        ``sum (y - mu)^2 / (mu (1 + alpha mu)) = n - p``, alternated with the fit to convergence.

        The moment estimator counts the degrees of freedom the coefficients use; maximum
        likelihood does not, and with 14 coefficients on 48 months it puts ``alpha`` about 30%
        low (90% intervals then covered 79% of held-out months). Returns ``(0, None)`` when the
        counts are not overdispersed."""
        alpha, result = 0.0, None
        for _ in range(50):
            def pearson(a: float, mu: np.ndarray = mu) -> float:
                return float(np.sum((y - mu) ** 2 / (mu * (1 + a * mu)))) - dof

            if pearson(0.0) <= 0:
                return 0.0, None
            high = 1.0
            while pearson(high) > 0 and high < 1e6:
                high *= 10
            new = float(optimize.brentq(pearson, 0.0, high, xtol=1e-12))
            result = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=new)).fit(
                start_params=beta)
            beta, mu = np.asarray(result.params), np.asarray(result.fittedvalues)
            if abs(new - alpha) <= 1e-8 + 1e-4 * new:
                break
            alpha = new
        return new, result

    def _years(self, months: pd.PeriodIndex) -> np.ndarray:
        mid = months.to_timestamp(how="start") + (months.to_timestamp(how="end") -
                                                  months.to_timestamp(how="start")) / 2
        ref = self.reference_.to_timestamp(how="start")
        return ((mid - ref) / pd.Timedelta(days=1)).to_numpy(dtype=float) / DAYS_PER_YEAR

    def _season_columns(self, month_of_year: np.ndarray) -> list[np.ndarray]:
        """Seasonal design columns for calendar months 1..12."""
        if self.season_mode_ == "months":
            return [(month_of_year == k).astype(float) for k in range(2, 13)]
        if self.season_mode_ == "fourier":
            angle = 2 * np.pi * (month_of_year - 1) / 12
            return [f(k * angle) for k in range(1, FOURIER_HARMONICS + 1) for f in (np.sin, np.cos)]
        return []

    def _design(self, months: pd.PeriodIndex) -> np.ndarray:
        columns = [np.ones(len(months)), self._years(months)]
        columns += self._season_columns(months.month.to_numpy())
        if self.break_month_ is not None:
            columns.append((months >= self.break_month_).astype(float))
        # seasonality is a ratio of monthly counts (the model's convention): no log(days) offset
        return np.column_stack(columns)

    def _season_log(self, coefs: np.ndarray) -> np.ndarray:
        """log multipliers (not centred) of Jan..Dec for each row of coefficients."""
        S = self._season_columns(np.arange(1, 13))
        if not S:
            return np.zeros((len(coefs), 12))
        k = len(S)
        return coefs[:, 2:2 + k] @ np.column_stack(S).T

    def _season(self, coefs: np.ndarray) -> np.ndarray:
        mult = np.exp(self._season_log(coefs))
        return mult / mult.mean(axis=1, keepdims=True)

    def _level(self, coefs: np.ndarray, month: pd.Period) -> np.ndarray:
        """Referrals per month (before seasonality) at the start of ``month``, after the break
        when ``month`` is on or after it."""
        ref = self.reference_.to_timestamp(how="start")
        years = (month.to_timestamp(how="start") - ref) / pd.Timedelta(days=1) / DAYS_PER_YEAR
        mean_mult = np.exp(self._season_log(coefs)).mean(axis=1)
        shift = (coefs[:, -1] if self.break_month_ is not None and month >= self.break_month_
                 else 0.0)
        # the model's expected count in month m is rpm * season[m] * (1+g)^(t/365.25) (mean over m)
        return np.exp(coefs[:, 0] + coefs[:, 1] * years + shift) * mean_mult

    def referrals_per_month_at(self, month: pd.Period | str) -> tuple[float, float, float]:
        """Fitted referrals per month before seasonality at the start of ``month`` (with interval)."""
        self._check_fitted()
        month = pd.Period(month, freq="M")
        point = float(self._level(self.coef_[None, :], month)[0])
        q = [100 * self.alpha / 2, 100 * (1 - self.alpha / 2)]
        low, high = np.percentile(self._level(self._draws, month), q)
        return point, float(low), float(high)

    def predict(self, months: pd.PeriodIndex | Sequence[str]) -> pd.Series:
        """Expected referrals in each month (fitted trend, seasonality and break): the
        forecast's mean, and what a scenario from :meth:`to_scenario` expects."""
        self._check_fitted()
        months = pd.PeriodIndex([pd.Period(m, freq="M") for m in months])
        return pd.Series(np.exp(self._design(months) @ self.coef_), index=months)

    def forecast(self, months: pd.PeriodIndex | Sequence[str], level: float = 0.9,
                 seed: int = 1) -> pd.DataFrame:
        """Referrals forecast for ``months``: ``mean`` (= :meth:`predict`), and the ``low`` /
        ``high`` ends of the ``level`` prediction interval for each month's count.

        The interval holds the coefficients' uncertainty (4,000 draws from their covariance)
        and the count's own noise (Poisson, or negative binomial with the fitted ``alpha``):
        it is for the number that will be observed, not for its mean.
        """
        self._check_fitted()
        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1 (e.g. 0.9), got {level}")
        months = pd.PeriodIndex([pd.Period(m, freq="M") for m in months])
        rng = np.random.default_rng(seed)
        if self.family_ == "negative_binomial":
            # alpha and the coefficients' spread are estimated from dof degrees of freedom: each
            # draw scales both by dof / chi-squared(dof), as a t interval does a normal one
            # (without it, 90% intervals covered 86% of held-out months at 48 months)
            scale = self.dof_ / rng.chisquare(self.dof_, len(self._draws))
            centre = self.coef_[None, :]
            coefs = centre + (self._draws - centre) * np.sqrt(scale)[:, None]
            mu = np.exp(coefs @ self._design(months).T)  # draw x month
            n = 1 / (self.nb_alpha_ * scale)[:, None]
            counts = rng.negative_binomial(n, n / (n + mu))
        else:
            counts = rng.poisson(np.exp(self._draws @ self._design(months).T))
        tail = (1 - level) / 2
        low, high = np.quantile(counts, [tail, 1 - tail], axis=0)
        return pd.DataFrame({"mean": self.predict(months).to_numpy(), "low": low, "high": high},
                            index=months)

    @property
    def trough_month_(self) -> str:
        """The calendar month with the lowest seasonal multiplier (``"aug"``, ...)."""
        self._check_fitted()
        return MONTH_NAMES[int(np.argmin(self.seasonality_))]

    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        rows = [
            _row(f"referrals_per_month ({self.reference_})", self.referrals_per_month_,
                 *self.referrals_per_month_ci_, "referrals/month before seasonality"),
            _row("annual_growth", self.annual_growth_, *self.annual_growth_ci_, "per year"),
        ]
        for k, name in enumerate(MONTH_NAMES):
            low, high = self.seasonality_ci_[k]
            rows.append(_row(f"seasonality_{name}", self.seasonality_[k], low, high,
                             "multiplier (mean 1)"))
        if self.break_month_ is not None:
            rows.append(_row(f"reporting_break ({self.break_month_})", self.break_ratio_,
                             *self.break_ratio_ci_, "referrals after / before the break"))
        rows.append(_row("dispersion", self.dispersion_, math.nan, math.nan,
                         "variance / mean (1 = Poisson)"))
        if self.family_ == "negative_binomial":
            rows.append(_row("negative_binomial_alpha", self.nb_alpha_, math.nan, math.nan,
                             "variance = mean + alpha mean^2"))
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    def to_scenario(self, start: pd.Period | str | None = None) -> dict[str, Any]:
        """Arrivals overrides for a scenario starting at ``start`` (default: after the data):
        its expected monthly referrals are :meth:`predict`'s (the level after any break)."""
        self._check_fitted()
        month = pd.Period(start, freq="M") if start is not None else self.months_[-1] + 1
        season = np.round(self.seasonality_, 4)
        season[-1] = round(12 - season[:-1].sum(), 4)  # average exactly 1 after rounding
        return {"arrivals.referrals_per_month": round(self.referrals_per_month_at(month)[0], 3),
                "arrivals.annual_growth": round(self.annual_growth_, 5),
                "arrivals.seasonality": [float(x) for x in season]}

    def __repr__(self) -> str:
        if not self._fitted:
            return "<ArrivalsFitter: not fitted>"
        brk = f", break at {self.break_month_} x{self.break_ratio_:.2f}" if self.break_month_ else ""
        return (f"<ArrivalsFitter: fitted to {self.n_months_} months "
                f"({len(self.excluded_months_)} excluded), growth {self.annual_growth_:+.1%}/yr, "
                f"seasonality {self.season_mode_}{brk}, {self.family_}, "
                f"dispersion {self.dispersion_:.2f}>")



# -------------------------------------------------------------------------------------------------
# Referral mix and other shares


def wilson_interval(successes: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion (sensible near 0 and 1, unlike Wald)."""
    if n <= 0:
        return math.nan, math.nan
    z = _z(alpha)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


AGE_EDGES = (0.0, 2.0, 5.0, 8.0, 11.0, 14.0, 16.0, 17.0, 18.0)


def _normalised(shares: dict[str, float], digits: int = 6) -> dict[str, float]:
    """Rounded shares that sum to exactly 1 (the remainder goes to the largest)."""
    rounded = {k: round(v, digits) for k, v in shares.items()}
    largest = max(rounded, key=lambda k: rounded[k])
    rounded[largest] = round(1.0 - sum(v for k, v in rounded.items() if k != largest), digits)
    return rounded


class ReferralMixFitter(_Fitter):
    """Who is referred and what happens at vetting, triage and assessment, as shares.

    Blank cells are unknown and left out of each share (their count is in ``unknown_``).
    """

    CATEGORIES: dict[str, tuple[str, ...]] = {
        "pathway": ("autism", "adhd", "both"),
        "priority": ("routine", "urgent"),
        "outcome": ("autism", "adhd", "other_nd", "none"),
        "triage_outcome": ("needs_led", "assessment", "signposted"),
    }

    def fit(self, data: pd.DataFrame, vetting_decided: pd.Series | np.ndarray | None = None
            ) -> "ReferralMixFitter":
        """Shares from ``data``. ``vetting_decided`` (a mask over its rows): the referrals whose
        vetting had been decided by the extract date; only they count in the acceptance share
        (a referral still in vetting is neither accepted nor rejected yet). Default: all."""
        self.n_ = len(data)
        self.looked_after_or_cin_: float | None = None
        self.deprivation_quintile_: tuple[float, ...] | None = None
        self.age_weights_: tuple[float, ...] | None = None
        self.accept_probability_: float | None = None
        self.shares_: dict[str, dict[str, float]] = {}
        self.intervals_: dict[str, dict[str, tuple[float, float]]] = {}
        self.unknown_: dict[str, int] = {}
        for column, codes in self.CATEGORIES.items():
            if column not in data:
                continue
            values = data[column].dropna()
            if column == "outcome" and "assessment_end_date" in data:
                values = data.loc[data["assessment_end_date"].notna(), column].dropna()
            if len(values) == 0:
                continue
            counts = values.value_counts().reindex(list(codes), fill_value=0)
            n = float(counts.sum())
            self.shares_[column] = {k: float(v) / n for k, v in counts.items()}
            self.intervals_[column] = {k: wilson_interval(float(v), n, self.alpha)
                                       for k, v in counts.items()}
            self.unknown_[column] = int(data[column].isna().sum())
        if "looked_after_or_cin" in data and data["looked_after_or_cin"].notna().any():
            v = data["looked_after_or_cin"].dropna()
            self.looked_after_or_cin_ = float((v == "yes").mean())
            self.looked_after_or_cin_ci_ = wilson_interval(float((v == "yes").sum()), len(v),
                                                           self.alpha)
        else:
            self.looked_after_or_cin_ = None
        if "deprivation_quintile" in data and data["deprivation_quintile"].notna().any():
            q = data["deprivation_quintile"].dropna().astype(int)
            counts = q.value_counts().reindex([1, 2, 3, 4, 5], fill_value=0)
            self.deprivation_quintile_ = tuple(float(c) / len(q) for c in counts)
        else:
            self.deprivation_quintile_ = None
        self.locality_: dict[str, float] | None = None
        if "locality" in data and data["locality"].notna().any():
            places = data["locality"].dropna().astype(str)
            counts = places.value_counts().sort_index()
            n = float(counts.sum())
            self.locality_ = {str(k): float(v) / n for k, v in counts.items()}
            self.locality_ci_ = {str(k): wilson_interval(float(v), n, self.alpha)
                                 for k, v in counts.items()}
            self.unknown_["locality"] = int(data["locality"].isna().sum())
        if "age_at_referral" in data and data["age_at_referral"].notna().sum() >= 20:
            ages = data["age_at_referral"].dropna().to_numpy(dtype=float)
            counts = np.histogram(np.clip(ages, 0, 18 - 1e-9), bins=AGE_EDGES)[0]
            self.age_weights_ = tuple(float(c) / len(ages) for c in counts)
            self.age_median_ = float(np.median(ages))
        else:
            self.age_weights_ = None
        if "discharge_reason" in data:
            decided = (np.ones(len(data), dtype=bool) if vetting_decided is None
                       else np.asarray(vetting_decided, dtype=bool))
            self.vetting_undecided_ = int((~decided).sum())
            n = int(decided.sum())
            rejected = float((data["discharge_reason"].to_numpy()[decided] == "rejected").sum())
            self.accept_probability_ = 1.0 - rejected / max(n, 1)
            low, high = wilson_interval(n - rejected, n, self.alpha)
            self.accept_probability_ci_ = (low, high)
        else:
            self.accept_probability_ = None
        self._fitted = True
        return self

    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        rows = []
        for column, shares in self.shares_.items():
            for code, share in shares.items():
                rows.append(_row(f"{column}.{code}", share, *self.intervals_[column][code], "share"))
        if self.looked_after_or_cin_ is not None:
            rows.append(_row("looked_after_or_cin", self.looked_after_or_cin_,
                             *self.looked_after_or_cin_ci_, "share"))
        for place, share in (self.locality_ or {}).items():
            rows.append(_row(f"locality.{place}", share, *self.locality_ci_[place], "share"))
        if self.accept_probability_ is not None:
            rows.append(_row("vetting.accept_probability", self.accept_probability_,
                             *self.accept_probability_ci_, "share"))
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    def to_scenario(self) -> dict[str, Any]:
        self._check_fitted()
        out: dict[str, Any] = {}
        keys = {"pathway": "referral_mix.pathway", "priority": "referral_mix.priority",
                "outcome": "assessment.outcome", "triage_outcome": "profiling.routing"}
        for column, shares in self.shares_.items():
            if column == "triage_outcome":
                shares = {"needs_led": shares["needs_led"], "diagnostic": shares["assessment"],
                          "signposted": shares["signposted"]}
            out[keys[column]] = _normalised(shares)
        if self.looked_after_or_cin_ is not None:
            out["referral_mix.looked_after_or_cin"] = round(self.looked_after_or_cin_, 6)
        if self.deprivation_quintile_ is not None:
            q = _normalised({str(k): v for k, v in enumerate(self.deprivation_quintile_)})
            out["referral_mix.deprivation_quintile"] = [q[str(k)] for k in range(5)]
        if self.age_weights_ is not None:
            out["referral_mix.age_at_referral_years"] = {
                "kind": "histogram", "edges": list(AGE_EDGES),
                "weights": [round(w, 6) for w in self.age_weights_]}
        if self.locality_ is not None:
            shares = _normalised(self.locality_)
            out["localities.names"] = list(shares)
            out["localities.shares"] = list(shares.values())
        if self.accept_probability_ is not None:
            out["vetting.accept_probability"] = round(self.accept_probability_, 6)
        return out

    def __repr__(self) -> str:
        if not self._fitted:
            return "<ReferralMixFitter: not fitted>"
        return f"<ReferralMixFitter: fitted to {self.n_} referrals, {len(self.shares_)} coded columns>"


# -------------------------------------------------------------------------------------------------
# Durations with right-censoring

Family = Literal["lognormal", "gamma", "weibull"]
FAMILIES: tuple[Family, ...] = ("lognormal", "gamma", "weibull")


def _frozen(family: Family, p: np.ndarray) -> Any:
    """A SciPy distribution from unconstrained parameters (log shape, log scale)."""
    a, b = math.exp(p[0]), math.exp(p[1])
    if family == "lognormal":
        return stats.lognorm(a, scale=b)
    if family == "gamma":
        return stats.gamma(a, scale=b)
    return stats.weibull_min(a, scale=b)


def _neg_loglik(p: np.ndarray, family: Family, x: np.ndarray, observed: np.ndarray,
                entry: np.ndarray) -> float:
    """Minus the log-likelihood: density for completed durations, survival for censored ones,
    each conditioned on having survived to its entry (delayed entry)."""
    if np.any(np.abs(p) > 30):
        return 1e300
    d = _frozen(family, p)
    ll = d.logpdf(x[observed]).sum() + d.logsf(x[~observed]).sum()
    late = entry > 0
    if late.any():
        ll -= d.logsf(entry[late]).sum()
    return float(-ll) if np.isfinite(ll) else 1e300


def _moments(family: Family, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and median for rows of (log shape, log scale), in closed form."""
    a, b = np.exp(params[:, 0]), np.exp(params[:, 1])
    if family == "lognormal":
        mean = b * np.exp(a * a / 2)
        sd = mean * np.sqrt(np.expm1(a * a))
        median = b
    elif family == "gamma":
        mean, sd = a * b, np.sqrt(a) * b
        median = stats.gamma.ppf(0.5, a, scale=b)
    else:
        g1, g2 = special.gamma(1 + 1 / a), special.gamma(1 + 2 / a)
        mean, sd = b * g1, b * np.sqrt(np.maximum(g2 - g1 * g1, 0.0))
        median = b * math.log(2) ** (1 / a)
    return mean, sd, median


def kaplan_meier(durations: np.ndarray, observed: np.ndarray, entry: np.ndarray | None = None,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan–Meier survival with delayed entry, and Greenwood log-log pointwise intervals.

    Without entries this is SciPy's ``stats.ecdf`` survival for right-censored data (a test
    checks they agree). Columns: ``days, survival, ci_low, ci_high, at_risk, events``.
    """
    x = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    entry = np.zeros_like(x) if entry is None else np.asarray(entry, dtype=float)
    times = np.unique(x[e])
    events = np.bincount(np.searchsorted(times, x[e]), minlength=len(times)).astype(float)
    # at risk at t: entered before t and not yet ended (duration >= t)
    ends = np.sort(x)
    starts = np.sort(entry)
    at_risk = (np.searchsorted(starts, times, side="left")
               - np.searchsorted(ends, times, side="left")).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - events / at_risk, 1.0)
        surv = np.cumprod(factor)
        green = np.cumsum(np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0))
        z = _z(alpha)
        log_log = np.log(-np.log(np.clip(surv, 1e-300, 1 - 1e-15)))
        half = z * np.sqrt(green) / np.abs(np.log(np.clip(surv, 1e-300, 1 - 1e-15)))
        low = np.exp(-np.exp(log_log + half))
        high = np.exp(-np.exp(log_log - half))
    low = np.where(surv >= 1 - 1e-15, 1.0, low)
    high = np.where(surv >= 1 - 1e-15, 1.0, high)
    return pd.DataFrame({"days": times, "survival": surv, "ci_low": low, "ci_high": high,
                         "at_risk": at_risk, "events": events})


def _hessian(f: Any, p: np.ndarray, h: float = 1e-4) -> np.ndarray:
    k = len(p)
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            H[i, j] = (f(p + e_i + e_j) - f(p + e_i - e_j) - f(p - e_i + e_j) + f(p - e_i - e_j)) / (4 * h * h)
    return H


@dataclass(frozen=True)
class ParametricFit:
    """One family's censored maximum-likelihood fit (parameters on the log scale)."""

    family: Family
    params: np.ndarray
    cov: np.ndarray
    loglik: float

    @property
    def aic(self) -> float:
        return 4.0 - 2.0 * self.loglik

    def dist(self, params: np.ndarray | None = None) -> Any:
        return _frozen(self.family, self.params if params is None else params)


class DurationFitter(_Fitter):
    """A duration (days) with right-censoring: Kaplan–Meier and a parametric fit.

    Censored observations (children still waiting, assessments still under way) contribute
    their survival ``S(t)`` to the likelihood; dropping them, or counting their time so far as a
    completed duration, would bias every estimate downwards. ``naive_mean_`` / ``naive_median_``
    (completed durations only) are kept to show how much that matters.

    Dates are whole days, so half a day is added to every duration (a same-day event is not a
    zero duration, which no continuous family allows).
    """

    def __init__(self, alpha: float = 0.05, families: Sequence[Family] = FAMILIES,
                 label: str = "duration") -> None:
        super().__init__(alpha)
        self.families = tuple(families)
        self.label = label

    def fit(self, durations_days: np.ndarray, observed: np.ndarray,
            entry_days: np.ndarray | None = None) -> "DurationFitter":
        """Fit to durations in days; ``observed`` is False where the duration is censored.

        ``entry_days`` (delayed entry, left truncation): the duration each child had already
        reached when observation began (a child referred before the extract window is in the
        data only because they were still waiting when it opened). Kaplan–Meier then counts a
        child at risk only from their entry, and the likelihood conditions on surviving to it.
        Raises ``ValueError`` for negative durations, entries after exits, or fewer than 10
        completed durations.
        """
        x = np.asarray(durations_days, dtype=float)
        e = np.asarray(observed, dtype=bool)
        entry = np.zeros_like(x) if entry_days is None else np.asarray(entry_days, dtype=float)
        if not len(x) == len(e) == len(entry):
            raise ValueError("durations, observed flags and entries must have the same length")
        if np.any(x < 0) or not np.all(np.isfinite(x)):
            raise ValueError(f"{self.label}: durations must be finite and >= 0 (a date is out of "
                             "order in the data)")
        if np.any(entry > x) or np.any(entry < 0):
            raise ValueError(f"{self.label}: every entry must be between 0 and its duration")
        if e.sum() < 10:
            raise ValueError(f"{self.label}: need at least 10 completed durations to fit, got "
                             f"{int(e.sum())}")
        x = x + 0.5
        self.n_ = len(x)
        self.n_censored_ = int((~e).sum())
        self.n_delayed_entry_ = int((entry > 0).sum())
        self.durations_, self.observed_, self.entry_ = x, e, entry
        self.km_ = kaplan_meier(x, e, entry, self.alpha)
        self.km_median_ = self._km_quantile(self.km_["survival"], 0.5)
        self.km_median_ci_ = (self._km_quantile(self.km_["ci_low"], 0.5),
                              self._km_quantile(self.km_["ci_high"], 0.5))
        self.fits_ = {f: self._fit_family(f, x, e, entry) for f in self.families}
        self.best_ = min(self.fits_.values(), key=lambda fit: fit.aic)
        self.family_ = self.best_.family
        self.mean_, self.sd_, self.median_ = (float(v[0]) for v in
                                              _moments(self.family_, self.best_.params[None, :]))
        self.message_ = ""
        if np.all(np.isfinite(self.best_.cov)):
            draws = np.random.default_rng(1).multivariate_normal(self.best_.params,
                                                                 self.best_.cov, 4000)
            q = [100 * self.alpha / 2, 100 * (1 - self.alpha / 2)]
            means, sds, medians = _moments(self.family_, draws)
            self.mean_ci_ = _pair(np.percentile(means, q))
            self.sd_ci_ = _pair(np.percentile(sds, q))
            self.median_ci_ = _pair(np.percentile(medians, q))
        else:
            self.mean_ci_ = self.sd_ci_ = self.median_ci_ = (math.nan, math.nan)
            self.message_ = (f"{self.label}: the {self.family_} likelihood is flat at its "
                             "maximum, so the data do not identify its parameters: the interval "
                             "is undefined")
        done = x[e]
        self.naive_mean_ = float(done.mean())
        self.naive_median_ = float(np.median(done))
        self._fitted = True
        return self

    def _km_quantile(self, survival: pd.Series, q: float) -> float:
        """First time the curve reaches ``1 - q`` (NaN if it never does within follow-up)."""
        below = np.flatnonzero(survival.to_numpy() <= 1 - q)
        return float(self.km_["days"].iloc[below[0]]) if len(below) else math.nan

    def _fit_family(self, family: Family, x: np.ndarray, e: np.ndarray,
                    entry: np.ndarray) -> ParametricFit:
        # start from the moments of the completed durations (a sensible, finite point)
        m, v = max(x[e].mean(), 1.0), max(x[e].var(), 1.0)
        if family == "lognormal":
            s2 = math.log1p(v / m**2)
            start = np.array([0.5 * math.log(s2), math.log(m) - s2 / 2])
        elif family == "gamma":
            start = np.array([math.log(m * m / v), math.log(v / m)])
        else:
            start = np.array([0.0, math.log(m)])
        f = lambda p: _neg_loglik(p, family, x, e, entry)  # noqa: E731
        best = optimize.minimize(f, start, method="Nelder-Mead",
                                 options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 4000})
        params = best.x
        H = _hessian(f, params)
        try:
            cov = np.linalg.inv(H)
            if not np.all(np.linalg.eigvalsh((cov + cov.T) / 2) > 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            # a flat likelihood: the data do not identify the parameters, so the interval is
            # undefined (NaN), not a spuriously tight one from a made-up covariance
            cov = np.full((2, 2), np.nan)
            log.warning("%s: %s fit has a flat likelihood; its interval is undefined",
                        self.label, family)
        return ParametricFit(family, params, (cov + cov.T) / 2, -float(best.fun))

    def survival(self, days: np.ndarray) -> np.ndarray:
        """The parametric survival function at ``days``."""
        self._check_fitted()
        return self.best_.dist().sf(np.asarray(days, dtype=float) + 0.5)

    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        rows = [
            _row(f"{self.label}_mean", self.mean_, *self.mean_ci_, f"days ({self.family_})"),
            _row(f"{self.label}_sd", self.sd_, *self.sd_ci_, f"days ({self.family_})"),
            _row(f"{self.label}_median", self.median_, *self.median_ci_, f"days ({self.family_})"),
            _row(f"{self.label}_median_km", self.km_median_, *self.km_median_ci_,
                 "days (Kaplan-Meier)"),
            _row(f"{self.label}_median_completed_only", self.naive_median_, math.nan, math.nan,
                 "days (ignores censoring: biased low)"),
        ]
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    @property
    def aic_(self) -> dict[str, float]:
        self._check_fitted()
        return {f: fit.aic for f, fit in self.fits_.items()}

    def to_scenario(self, key: str, unit_days: float = 7.0) -> dict[str, Any]:
        """``{key: {kind, mean, sd}}`` in units of ``unit_days`` (7 = weeks)."""
        self._check_fitted()
        return {key: {"kind": self.family_, "mean": round(self.mean_ / unit_days, 4),
                      "sd": round(self.sd_ / unit_days, 4)}}

    def __repr__(self) -> str:
        if not self._fitted:
            return f"<DurationFitter({self.label}): not fitted>"
        return (f"<DurationFitter({self.label}): fitted with {self.n_} observations, "
                f"{self.n_censored_} right-censored; {self.family_} mean {self.mean_:.1f} days>")


# -------------------------------------------------------------------------------------------------
# Leaving the list: competing risks

LEAVING_CAUSES = {"withdrawn": "leaving.withdrawal_per_year", "moved": "leaving.moved_per_year",
                  "private": "leaving.private_per_year"}


def poisson_rate_interval(events: float, exposure: float, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate ``events / exposure``."""
    if exposure <= 0:
        return math.nan, math.nan
    low = stats.chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    return float(low / exposure), float(high / exposure)


class ExitHazardFitter(_Fitter):
    """Leaving the diagnostic list without assessment, as competing risks with censoring.

    Each child is at risk from ``entry`` (referral, or the start of the observation window when
    referred before it: delayed entry) to ``exit`` (assessment start, discharge, or the extract
    date). The cause-specific hazard of cause *k* is (discharges for *k*) / (total time at risk),
    the maximum-likelihood estimate for constant hazards with censoring; the intervals are exact
    Poisson. ``naive_hazards_`` drops the children still waiting (as tools that ignore censoring
    do), which overstates every hazard.
    """

    def fit(self, entry_days: np.ndarray, exit_days: np.ndarray, cause: np.ndarray,
            still_waiting: np.ndarray | None = None) -> "ExitHazardFitter":
        """``cause`` is the discharge reason where the stay ended in a discharge, else ``""``
        (assessment start, or still waiting: censored for every cause)."""
        entry = np.asarray(entry_days, dtype=float)
        exit_ = np.asarray(exit_days, dtype=float)
        cause = np.asarray(cause, dtype=object)
        if np.any(exit_ < entry):
            raise ValueError("time at risk is negative for some children (exit before entry)")
        exposure_years = float((exit_ - entry).sum()) / DAYS_PER_YEAR
        self.exposure_years_ = exposure_years
        self.n_ = len(entry)
        self.events_ = {k: int((cause == k).sum()) for k in sorted(set(cause) - {""})}
        self.hazards_: dict[str, float] = {}
        self.hazards_ci_: dict[str, tuple[float, float]] = {}
        # rejection happens at vetting, and a needs-led plan or signposting at profiling, before
        # the list: not hazards of leaving it (they end the time at risk, as censoring)
        # needs met happens only while supported: its hazard is over supported time
        # (calibration.calibrate.support_exposure), not time on the list
        routed = {"rejected", "needs_led", "signposted", "needs_met"}
        for k in (*LEAVING_CAUSES, *sorted(set(self.events_) - set(LEAVING_CAUSES) - routed)):
            events = self.events_.get(k, 0)
            self.hazards_[k] = events / exposure_years if exposure_years > 0 else math.nan
            self.hazards_ci_[k] = poisson_rate_interval(events, exposure_years, self.alpha)
        if still_waiting is not None:
            done = ~np.asarray(still_waiting, dtype=bool)
            naive_exposure = float((exit_[done] - entry[done]).sum()) / DAYS_PER_YEAR
            self.naive_hazards_ = {k: int((cause[done] == k).sum()) / naive_exposure
                                   if naive_exposure > 0 else math.nan for k in LEAVING_CAUSES}
        self._durations = exit_ - entry
        self._cause = cause
        self._fitted = True
        return self

    def cumulative_incidence(self, causes: Sequence[str] | None = None) -> pd.DataFrame:
        """Aalen–Johansen cumulative incidence of each cause by days at risk (every other way
        of leaving the list, assessment included, competes). Columns: ``days`` and one per cause."""
        self._check_fitted()
        causes = list(causes or LEAVING_CAUSES)
        d, c = self._durations, self._cause
        order = np.argsort(d, kind="stable")
        d, c = d[order], c[order]
        times, first = np.unique(d, return_index=True)
        at_risk = len(d) - first
        # every stay that ended (in any discharge, or assessment start coded "assessment") is an event
        any_event = np.add.reduceat((c != "").astype(float), first)
        surv_before = np.concatenate([[1.0], np.cumprod(1 - any_event / at_risk)[:-1]])
        out = {"days": times}
        for k in causes:
            events_k = np.add.reduceat((c == k).astype(float), first)
            out[k] = np.cumsum(surv_before * events_k / at_risk)
        return pd.DataFrame(out)

    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        rows = [_row(f"hazard_{k}", self.hazards_[k], *self.hazards_ci_[k], "per child-year on list")
                for k in self.hazards_]
        rows.append(_row("time_at_risk", self.exposure_years_, math.nan, math.nan, "child-years"))
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    def to_scenario(self) -> dict[str, Any]:
        self._check_fitted()
        return {key: round(self.hazards_[k], 6) for k, key in LEAVING_CAUSES.items()}

    def __repr__(self) -> str:
        if not self._fitted:
            return "<ExitHazardFitter: not fitted>"
        events = sum(self.events_.get(k, 0) for k in LEAVING_CAUSES)
        return (f"<ExitHazardFitter: {self.n_} children, {self.exposure_years_:.0f} child-years at "
                f"risk, {events} left the list (withdrawn/moved/private)>")


# -------------------------------------------------------------------------------------------------
# Capacity from throughput, with change points


def _segment_cost(counts: np.ndarray) -> float:
    """-2 log-likelihood of a Poisson segment with its own rate (constants dropped)."""
    total, n = counts.sum(), len(counts)
    if total <= 0:
        return 0.0
    return float(-2 * (total * math.log(total / n) - total))


class CapacityFitter(_Fitter):
    """Effective assessment capacity (assessments started a month) with its change points.

    Throughput measures capacity only while children are waiting; months whose list was short
    (fewer children waiting at the start than ``min_list_factor`` months of throughput) are left
    out and listed in ``unconstrained_months_``. Change points are found by binary segmentation
    of the Poisson counts, each split kept only when it lowers the penalised deviance by more than
    ``dispersion * penalty * log(n)`` (dispersion estimated from month-to-month differences, so
    ordinary noise does not create changes), and segments are at least ``min_segment`` months.
    """

    def __init__(self, alpha: float = 0.05, min_segment: int = 4, penalty: float = 3.0,
                 min_list_factor: float = 1.0) -> None:
        super().__init__(alpha)
        self.min_segment = min_segment
        self.penalty = penalty
        self.min_list_factor = min_list_factor

    def fit(self, starts: pd.Series, waiting_start: pd.Series | None = None) -> "CapacityFitter":
        """``starts``: assessments started per month (indexed by month); ``waiting_start``: the
        list at the start of each month (to find months where capacity was not the limit)."""
        starts = pd.Series(starts, dtype=float)
        starts.index = pd.PeriodIndex([pd.Period(m, freq="M") for m in starts.index])
        constrained = pd.Series(True, index=starts.index)
        if waiting_start is not None:
            w = pd.Series(np.asarray(waiting_start, dtype=float), index=starts.index)
            constrained = w >= self.min_list_factor * starts.clip(lower=1.0)
        used = starts[constrained]
        if len(used) < 3:
            raise ValueError(f"need at least 3 months with children waiting to estimate capacity, "
                             f"got {len(used)}")
        self.unconstrained_months_ = starts.index[~constrained.to_numpy()]
        y = used.to_numpy()
        diffs = np.diff(y)
        self.dispersion_ = max(1.0, float(np.median(np.abs(diffs - np.median(diffs))) * 1.4826) ** 2
                               / (2 * max(y.mean(), 1e-9))) if len(diffs) > 2 else 1.0
        bounds = self._segments(y, 0, len(y))
        rows = []
        for a, b in bounds:
            seg = y[a:b]
            rate = seg.mean()
            low, high = poisson_rate_interval(seg.sum(), len(seg), self.alpha)
            # quasi-Poisson: widen the interval by the dispersion
            s = math.sqrt(self.dispersion_)
            low, high = rate - s * (rate - low), rate + s * (high - rate)
            rows.append({"from": str(used.index[a]), "to": str(used.index[b - 1]), "months": b - a,
                         "assessments_per_month": rate, "ci_low": max(low, 0.0), "ci_high": high})
        self.segments_ = pd.DataFrame(rows)
        self.change_points_ = [pd.Period(r, freq="M") for r in self.segments_["from"].iloc[1:]]
        last = self.segments_.iloc[-1]
        self.assessments_per_month_ = float(last["assessments_per_month"])
        self.assessments_per_month_ci_ = (float(last["ci_low"]), float(last["ci_high"]))
        self.starts_ = starts
        self._fitted = True
        return self

    def _segments(self, y: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
        n = b - a
        if n < 2 * self.min_segment:
            return [(a, b)]
        whole = _segment_cost(y[a:b])
        best, where = 0.0, None
        for k in range(a + self.min_segment, b - self.min_segment + 1):
            gain = whole - _segment_cost(y[a:k]) - _segment_cost(y[k:b])
            if gain > best:
                best, where = gain, k
        if where is None or best <= self.dispersion_ * self.penalty * math.log(len(y)):
            return [(a, b)]
        return self._segments(y, a, where) + self._segments(y, where, b)

    def rate_at(self, month: pd.Period | str) -> float:
        """Assessments per month in the segment holding ``month`` (the nearest one outside)."""
        self._check_fitted()
        month = pd.Period(month, freq="M")
        for _, seg in self.segments_.iterrows():
            if month <= pd.Period(seg["to"], freq="M"):
                return float(seg["assessments_per_month"])
        return self.assessments_per_month_

    def clinical_hours_per_week(self, assessments_per_month: float, hours_per_assessment: float) -> float:
        return assessments_per_month * 12 / WEEKS_PER_YEAR * hours_per_assessment

    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        rows = [_row(f"assessments_per_month {r['from']}..{r['to']}", r["assessments_per_month"],
                     r["ci_low"], r["ci_high"], "assessments started/month")
                for _, r in self.segments_.iterrows()]
        rows.append(_row("throughput_dispersion", self.dispersion_, math.nan, math.nan,
                         "variance / mean"))
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    def to_scenario(self, base: Scenario, assessments_per_month: float | None = None,
                    staffing_from: pd.Period | None = None) -> dict[str, Any]:
        """Professions scaled so the team's clinical hours give the fitted throughput.

        Only the total is identified by throughput: every profession's WTE is scaled by the same
        factor (job plans, leave and hours per assessment stay as in ``base``). With
        ``staffing_from``, the level is the segment's at that month and each later change point
        becomes a staffing change on its date (all professions, no ramp-up), for replaying history.
        """
        self._check_fitted()
        a = base.assessment
        mean_hours = a.hours_per_assessment.mean_value
        rate = (assessments_per_month if assessments_per_month is not None else
                self.rate_at(staffing_from) if staffing_from is not None else
                self.assessments_per_month_)
        target = self.clinical_hours_per_week(rate, mean_hours)
        current = a.clinical_hours_per_week()
        if a.capacity_model == "by_profession":
            # the extract has no profession column (DESIGN.md 4a): keep the recipes and the
            # team's shape, and scale every profession by one factor so that the profession
            # whose hours run out first gives the fitted throughput (in assessments a week)
            from model.staffing import assessments_per_week_by_profession

            allowed = [r for r in assessments_per_week_by_profession(base).values()
                       if math.isfinite(r)]
            mean_hours = 1.0  # below, "hours" are assessments: target and current a week
            target = self.clinical_hours_per_week(rate, mean_hours)
            current = min(allowed) if allowed else 0.0
        if current <= 0:
            raise ValueError("the base scenario's professions have no clinical hours to scale")
        factor = target / current
        professions = [{**p.model_dump(), "wte": round(p.wte * factor, 4)} for p in a.professions]
        out: dict[str, Any] = {"assessment.professions": professions}
        changes = []
        if staffing_from is not None:
            level = rate
            for cp in self.change_points_:
                if cp <= staffing_from:
                    continue
                new = self.rate_at(cp)
                step = (new - level) / current * mean_hours * 12 / WEEKS_PER_YEAR
                for p in a.professions:
                    changes.append({"date": cp.to_timestamp(how="start").date(),
                                    "profession": p.name, "wte_change": round(p.wte * step, 4),
                                    "ramp_weeks": 0.0})
                level = new
        out["assessment.staffing_changes"] = changes
        return out

    def __repr__(self) -> str:
        if not self._fitted:
            return "<CapacityFitter: not fitted>"
        return (f"<CapacityFitter: {len(self.starts_)} months, {len(self.change_points_)} change "
                f"point(s), now {self.assessments_per_month_:.1f} assessments/month>")


__all__ = ["ArrivalsFitter", "ReferralMixFitter", "DurationFitter", "ExitHazardFitter",
           "CapacityFitter", "NotFittedError", "kaplan_meier", "parse_month_ranges", "wilson_interval",
           "poisson_rate_interval", "LEAVING_CAUSES", "MONTH_NAMES"]
