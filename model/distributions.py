"""Probability distributions that scenario files choose by name.

Every distribution is parameterised the way clinicians and analysts quote figures: by its mean and
standard deviation where that applies. Sampling goes through the inverse CDF (``ppf``) of uniform
numbers drawn per child, so two scenarios that differ only in a parameter see the same children
with the same random numbers (common random numbers).

In a scenario file a distribution is an inline table::

    hours_per_assessment = { kind = "lognormal", mean = 11.5, sd = 7.0 }
    elapsed_weeks = { kind = "fixed", value = 6 }
    age_at_referral_years = { kind = "histogram", edges = [2, 5, 11, 16, 18], weights = [3, 4, 3, 1] }
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import ConfigDict, Field, model_validator
from scipy import special

from .strict import LARGEST, StrictInput, why

FloatArray = np.ndarray


_LARGE = why("no duration, number of hours or age in a scenario comes near a million: check "
              "the units")
_SPREAD = 1000.0  # the largest sd / mean: wider than this is a typing mistake, and overflows


def _check_spread(mean: float, sd: float, kind: str) -> None:
    if sd > _SPREAD * mean:
        raise ValueError(
            f"sd ({sd:g}) is more than {_SPREAD:g} times the mean ({mean:g}): a {kind} that "
            "spread puts almost every value near 0 and a few astronomically high; check the "
            "units, or give a histogram of the values seen")


class _Dist(StrictInput):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def ppf(self, u: FloatArray) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values with ``rng`` (through the inverse CDF)."""
        return self.ppf(rng.random(size))

    @property
    def mean_value(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def lowest(self) -> float:
        """The smallest value the distribution can give (0 for the continuous positive kinds)."""
        return 0.0


class Exponential(_Dist):
    """Exponential with the given mean."""

    kind: Literal["exponential"]
    mean: float = Field(gt=0, le=LARGEST, json_schema_extra=_LARGE)

    def ppf(self, u: FloatArray) -> FloatArray:
        return -self.mean * np.log1p(-np.asarray(u, dtype=float))

    @property
    def mean_value(self) -> float:
        return self.mean


class LogNormal(_Dist):
    """Lognormal with the given mean and standard deviation (of the variable, not its log)."""

    kind: Literal["lognormal"]
    mean: float = Field(gt=0, le=LARGEST, json_schema_extra=_LARGE)
    sd: float = Field(gt=0, le=LARGEST, json_schema_extra=_LARGE)

    @model_validator(mode="after")
    def _spread(self) -> "LogNormal":
        _check_spread(self.mean, self.sd, "lognormal")
        return self

    @cached_property
    def _log_params(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def ppf(self, u: FloatArray) -> FloatArray:
        mu, sigma = self._log_params
        return np.exp(mu + sigma * special.ndtri(np.asarray(u, dtype=float)))

    @property
    def mean_value(self) -> float:
        return self.mean


class Gamma(_Dist):
    """Gamma with the given mean and standard deviation."""

    kind: Literal["gamma"]
    mean: float = Field(gt=0, le=LARGEST, json_schema_extra=_LARGE)
    sd: float = Field(gt=0, le=LARGEST, json_schema_extra=_LARGE)

    @model_validator(mode="after")
    def _spread(self) -> "Gamma":
        _check_spread(self.mean, self.sd, "gamma")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        shape = (self.mean / self.sd) ** 2
        return special.gammaincinv(shape, np.asarray(u, dtype=float)) * (self.sd**2 / self.mean)

    @property
    def mean_value(self) -> float:
        return self.mean


_WEIBULL_NARROWEST = 0.003  # sd / mean of a Weibull of shape 500, the solver's upper end


class Weibull(_Dist):
    """Weibull with the given mean and standard deviation (shape solved from the CV)."""

    kind: Literal["weibull"]
    mean: float = Field(gt=0, le=LARGEST, json_schema_extra=_LARGE)
    sd: float = Field(gt=0, le=LARGEST, json_schema_extra=_LARGE)

    @model_validator(mode="after")
    def _spread(self) -> "Weibull":
        _check_spread(self.mean, self.sd, "Weibull")
        if self.sd < _WEIBULL_NARROWEST * self.mean:
            raise ValueError(
                f"sd ({self.sd:g}) is under {_WEIBULL_NARROWEST:g} times the mean ({self.mean:g}): "
                'no Weibull is that narrow; use kind = "fixed" (or a gamma) for a near-constant '
                "value")
        return self

    @cached_property
    def _params(self) -> tuple[float, float]:
        cv2 = (self.sd / self.mean) ** 2

        def gap(k: float) -> float:
            g1 = special.gammaln(1 + 1 / k)
            return math.exp(special.gammaln(1 + 2 / k) - 2 * g1) - 1 - cv2

        from scipy import optimize  # only a Weibull needs it (a third of a second to import)

        shape = optimize.brentq(gap, 0.05, 500.0)
        scale = self.mean / math.exp(special.gammaln(1 + 1 / shape))
        return shape, scale

    def ppf(self, u: FloatArray) -> FloatArray:
        shape, scale = self._params
        return scale * (-np.log1p(-np.asarray(u, dtype=float))) ** (1 / shape)

    @property
    def mean_value(self) -> float:
        return self.mean


class Fixed(_Dist):
    """Always the same value."""

    kind: Literal["fixed"]
    value: float = Field(ge=0, le=LARGEST, json_schema_extra=_LARGE)

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.full(np.shape(u), float(self.value))

    @property
    def lowest(self) -> float:
        return self.value

    @property
    def mean_value(self) -> float:
        return self.value


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    kind: Literal["uniform"]
    low: float = Field(ge=0, le=LARGEST, json_schema_extra=_LARGE)
    high: float = Field(ge=0, le=LARGEST, json_schema_extra=_LARGE)

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be at least low ({self.low})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    @property
    def lowest(self) -> float:
        return self.low

    @property
    def mean_value(self) -> float:
        return (self.low + self.high) / 2


class Empirical(_Dist):
    """Discrete values with weights (equal weights when ``weights`` is omitted)."""

    kind: Literal["empirical"]
    values: tuple[Annotated[float, Field(ge=-LARGEST, le=LARGEST)], ...] = Field(
        min_length=1, json_schema_extra=_LARGE)
    weights: tuple[Annotated[float, Field(ge=0, le=1e12)], ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> "Empirical":
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative with a positive total")
        return self

    @cached_property
    def _table(self) -> tuple[FloatArray, FloatArray]:
        order = np.argsort(self.values, kind="stable")
        values = np.asarray(self.values, dtype=float)[order]
        w = np.ones(len(values)) if self.weights is None else np.asarray(self.weights)[order]
        cdf = np.cumsum(w) / np.sum(w)
        cdf[-1] = 1.0
        return values, cdf

    def ppf(self, u: FloatArray) -> FloatArray:
        values, cdf = self._table
        idx = np.searchsorted(cdf, np.asarray(u, dtype=float), side="right")
        return values[np.minimum(idx, len(values) - 1)]

    @property
    def mean_value(self) -> float:
        values, cdf = self._table
        return float(np.sum(values * np.diff(cdf, prepend=0.0)))

    @property
    def lowest(self) -> float:
        return min(self.values)


class Histogram(_Dist):
    """Piecewise-uniform: ``weights[i]`` of the mass spread evenly over ``[edges[i], edges[i+1])``.

    This is the shape of published wait-band tables (0-13, 13-52, 52-104 weeks, ...).
    """

    kind: Literal["histogram"]
    edges: tuple[Annotated[float, Field(ge=-LARGEST, le=LARGEST)], ...] = Field(
        min_length=2, json_schema_extra=_LARGE)
    weights: tuple[Annotated[float, Field(ge=0, le=1e12)], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> "Histogram":
        if len(self.weights) != len(self.edges) - 1:
            raise ValueError(
                f"a histogram needs one weight per bin: {len(self.edges)} edges make "
                f"{len(self.edges) - 1} bins but weights has {len(self.weights)} entries"
            )
        if any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"edges must increase strictly, got {list(self.edges)}")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("weights must be non-negative with a positive total")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        edges = np.asarray(self.edges, dtype=float)
        w = np.asarray(self.weights, dtype=float)
        cdf = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
        return np.interp(np.asarray(u, dtype=float), cdf, edges)

    @property
    def mean_value(self) -> float:
        edges = np.asarray(self.edges, dtype=float)
        w = np.asarray(self.weights, dtype=float)
        return float(np.sum(w * (edges[:-1] + edges[1:]) / 2) / w.sum())

    @property
    def lowest(self) -> float:
        return self.edges[0]


Distribution = Annotated[
    Union[Exponential, LogNormal, Gamma, Weibull, Fixed, Uniform, Empirical, Histogram],
    Field(discriminator="kind"),
]
"""Any distribution a scenario file may name with ``kind``."""

DISTRIBUTION_KINDS = ("exponential", "lognormal", "gamma", "weibull", "fixed", "uniform",
                      "empirical", "histogram")

__all__ = ["Distribution", "DISTRIBUTION_KINDS", "Exponential", "LogNormal", "Gamma", "Weibull",
           "Fixed", "Uniform", "Empirical", "Histogram"]
