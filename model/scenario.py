"""Scenario files: the schema, its defaults with their evidence, and the one loader.

A scenario is a frozen, validated :class:`Scenario`. Files are TOML; a variant names a base file
with ``extends = "default.toml"`` and changes only what differs. Every default below carries
either its public source (``source``) or is marked as an assumption with a plausible range
(``assumption``); ``docs/scenario-reference.md`` is generated from this module
(``python -m model.reference``).

>>> from model.scenario import load_scenario
>>> s = load_scenario("scenarios/default.toml", overrides=["simulation.horizon_months=24"])
>>> s.simulation.horizon_months
24
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import re
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Mapping, Sequence

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    import pandas as pd

from .distributions import Distribution, Fixed, Gamma, Histogram, LogNormal, _Dist
from .strict import IsoDate, StrictInput, describe, why

DAYS_PER_YEAR = 365.25
DAYS_PER_WEEK = 7.0
WEEKS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_WEEK
WEEKS_PER_MONTH = WEEKS_PER_YEAR / 12


# -------------------------------------------------------------------------------------------------
# Evidence tags (rendered in the scenario reference)


def source(text: str) -> dict[str, Any]:
    """Field metadata: the public source of a default (DESIGN.md section 5)."""
    return {"source": text}


def assumption(plausible_range: str, note: str = "") -> dict[str, Any]:
    """Field metadata: a default with no good public figure, and its plausible range."""
    return {"assumption": note or "no good public figure", "plausible_range": plausible_range}


def model_default(note: str) -> dict[str, Any]:
    """Field metadata: a switch or structural setting, not an empirical quantity."""
    return {"setting": note}


class _Frozen(StrictInput):
    """A scenario section: frozen, unknown keys refused, strict types (:mod:`model.strict`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @model_validator(mode="after")
    def _distributions_not_negative(self) -> "_Frozen":
        # every distribution of a section is a duration, a number of hours or an age
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, _Dist) and value.lowest < 0:
                raise ValueError(
                    f"{name} can give values below 0 (lowest {value.lowest:g}); it is a "
                    "duration, number of hours or age, so start it at 0 or above")
        return self


def _check_probabilities(values: Mapping[str, float], what: str) -> None:
    total = sum(values.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        listed = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise ValueError(f"{what} must sum to 1 (they sum to {total:.6g}: {listed})")


class _Probabilities(_Frozen):
    """A set of named probabilities that must sum to 1; given in a file, every share is given."""

    @model_validator(mode="before")
    @classmethod
    def _every_share(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            names = list(cls.model_fields)
            missing = [n for n in names if n not in data]
            if missing:
                have = ", ".join(f"{k} = {v!r}" for k, v in data.items()) or "an empty table"
                raise ValueError(
                    f"gives {have} but not {', '.join(missing)}: give every share "
                    f"({', '.join(names)}), summing to 1")
        return data

    @model_validator(mode="after")
    def _sums_to_one(self) -> "_Probabilities":
        _check_probabilities(self.model_dump(), "probabilities")
        return self

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.model_dump().items()}

    @classmethod
    def defaults(cls) -> Any:
        """The mix with every share at its default (``Mix()`` is refused like an empty table)."""
        return cls.model_validate({n: f.default for n, f in cls.model_fields.items()})


Probability = Field(ge=0.0, le=1.0)

_COST_WTE = why("pounds per whole-time equivalent a year: no salary with on-costs comes near £10m")
_LEAVE = why("weeks a year away from work, from 0 to 30 (of 52)")
_WEEK = why("hours in one whole-time week, more than 0 and at most 60")
_COST_ONE = why("pounds for one plan, assessment or week: over £1m is a unit or typing mistake")

PROFESSION_NAME = r"[A-Za-z][A-Za-z0-9_\- ]*"
"""A profession's name: a letter, then letters, digits, spaces, ``_`` or ``-`` (it is named in
``staffing_changes``, ``--set`` and the outputs)."""


# -------------------------------------------------------------------------------------------------
# Sections


class Meta(_Frozen):
    """What the scenario is, in words a commissioner reads."""

    name: str = Field("unnamed scenario", json_schema_extra=model_default("shown in outputs"))
    description: str = Field("", json_schema_extra=model_default("shown in outputs"))
    illustrative: bool = Field(
        True,
        json_schema_extra=model_default(
            "true when the numbers are illustrative rather than a service's own data"),
    )
    source_file: str | None = Field(
        None, max_length=500,
        json_schema_extra=model_default(
            "the data file ndpath calibrate fitted this scenario to (its name as given)"))
    source_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$",
        json_schema_extra=model_default(
            "SHA-256 of that data file, so a run of the scenario can be traced to the data")
        | why("64 hexadecimal digits (0-9, a-f), as sha256sum prints them"))
    warnings: tuple[str, ...] | None = Field(
        None, json_schema_extra=model_default(
            "what makes the numbers a poor picture of the service (written by ndpath "
            "calibrate); printed whenever the scenario is run"))


class Simulation(_Frozen):
    """Calendar, horizon and replications."""

    start_date: IsoDate = Field(
        dt.date(2026, 1, 1), json_schema_extra=model_default("day 0 of the simulation clock"))
    horizon_months: int = Field(
        60, ge=1, le=600,
        json_schema_extra=model_default("calendar months simulated")
        | why("whole calendar months, from 1 to 600 (50 years)"))
    replications: int = Field(
        20, ge=1, le=100_000,
        json_schema_extra=model_default("independent replications; more narrows the intervals")
        | why("a whole number of runs, at least 1"))
    seed: int = Field(
        20261122, ge=0, json_schema_extra=model_default("base seed; same seed, same numbers"))


ENGLAND_SEASONALITY = (0.934, 0.979, 1.174, 0.987, 1.157, 1.004, 1.174, 0.714, 0.766, 1.203, 1.0,
                       0.909)


class Arrivals(_Frozen):
    """Referrals: a non-homogeneous Poisson process with trend and month-of-year seasonality.
    The expected referrals in calendar month m are
    `referrals_per_month x seasonality[m] x (1 + annual_growth) ^ (years since the start)`:
    `seasonality` holds ratios of monthly counts (mean 1, as NHS England's monthly series give
    them), so a 28-day February gets its ratio in full and the model spreads that count evenly
    over its days (a daily rate of the month's count / its days). `referrals_per_month` is the
    count of a month with multiplier 1 at the start date; the trend grows continuously.
    `calibrate --monthly` fits the same form (no days-in-month offset). A flat profile means
    equal monthly counts; a constant daily rate is a profile in proportion to the month lengths.

    ``model.pathway.expected_monthly_referrals(scenario)`` gives the expected count of each month.
    """

    enabled: bool = Field(True, json_schema_extra=model_default("switch referrals off"))
    referrals_per_month: float = Field(
        250.0, ge=0, le=1e6,
        json_schema_extra=source(
            "Bristol, N Somerset & S Glos ND programme 2024: 252 referrals/month (a similar area); "
            "a month with seasonality 1, at the start date"),
    )
    annual_growth: float = Field(
        0.08, ge=-0.9, le=5.0,
        json_schema_extra=assumption(
            "0.00-0.20",
            "England grew ~16%/yr 2019-21 (NHS England ASD12, partly more providers reporting)")
        # a growth of 8 meant as 8% would be 800% a year: the error says how to write it
        | why("a fraction a year, not a percentage: 0.08 for 8% growth, -0.05 for a 5% fall"),
    )
    seasonality: tuple[float, ...] = Field(
        ENGLAND_SEASONALITY,
        json_schema_extra=source(
            "NHS England Autism Statistics ASD12 (ages 0-17, 2019-21, COVID months excluded): "
            "ratios of monthly counts for Jan..Dec, averaging 1"),
    )

    @field_validator("seasonality")
    @classmethod
    def _twelve_averaging_one(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 12:
            raise ValueError(f"seasonality needs 12 monthly multipliers (Jan..Dec), got {len(v)}")
        if any(x < 0 for x in v):
            raise ValueError(f"seasonality multipliers must be >= 0, got {list(v)}")
        mean = sum(v) / 12
        if not math.isclose(mean, 1.0, abs_tol=0.01):
            raise ValueError(
                f"seasonality multipliers must average 1 (they average {mean:.4g}); "
                f"divide each by {mean:.4g}")
        return v


class PathwayMix(_Probabilities):
    autism: float = Field(0.55, ge=0, le=1)
    adhd: float = Field(0.30, ge=0, le=1)
    both: float = Field(0.15, ge=0, le=1)


class PriorityMix(_Probabilities):
    routine: float = Field(0.92, ge=0, le=1)
    urgent: float = Field(0.08, ge=0, le=1)


class ReferralMix(_Frozen):
    """Who is referred: pathway, priority, age and equity attributes."""

    pathway: PathwayMix = Field(
        default_factory=PathwayMix.defaults,
        json_schema_extra=assumption("autism 0.4-0.7", "local mixes vary widely"))
    priority: PriorityMix = Field(
        default_factory=PriorityMix.defaults, json_schema_extra=assumption("urgent 0.03-0.15"))
    looked_after_or_cin: float = Field(
        0.06, ge=0, le=1,
        json_schema_extra=assumption(
            "0.03-0.10", "share of referrals who are looked-after or a child in need"))
    deprivation_quintile: tuple[float, ...] = Field(
        (0.26, 0.22, 0.19, 0.17, 0.16),
        json_schema_extra=assumption("", "share by IMD quintile, 1 = most deprived"))
    age_at_referral_years: Distribution = Field(
        Histogram(kind="histogram", edges=(2, 5, 8, 11, 14, 17, 18),
                  weights=(0.18, 0.22, 0.22, 0.2, 0.15, 0.03)),
        json_schema_extra=assumption("", "children's services accept referrals to age 17"))

    @field_validator("deprivation_quintile")
    @classmethod
    def _five_summing_one(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 5 or any(x < 0 for x in v):
            raise ValueError(f"deprivation_quintile needs 5 non-negative shares, got {list(v)}")
        _check_probabilities({f"q{i + 1}": x for i, x in enumerate(v)}, "deprivation_quintile")
        return v


_COLUMN = model_default("optional column; drawn from the referral mix when absent")


class WaitingChildren(_Frozen):
    """The children waiting at the start, held in the scenario itself as columns of equal length.

    The same columns as a ``backlog.table`` CSV; used where the list must not touch the disk
    (the app keeps an uploaded extract in memory). Only ``referral_date`` is required.
    """

    referral_date: tuple[IsoDate, ...]
    pathway: tuple[Literal["autism", "adhd", "both"], ...] | None = Field(None, json_schema_extra=_COLUMN)
    age_at_referral: tuple[Annotated[float, Field(ge=0, le=18)], ...] | None = Field(
        None, json_schema_extra=_COLUMN)
    priority: tuple[Literal["routine", "urgent"], ...] | None = Field(None, json_schema_extra=_COLUMN)
    looked_after_or_cin: tuple[bool, ...] | None = Field(None, json_schema_extra=_COLUMN)
    deprivation_quintile: tuple[Annotated[int, Field(ge=1, le=5)], ...] | None = Field(
        None, json_schema_extra=_COLUMN)
    locality: tuple[str, ...] | None = Field(None, json_schema_extra=model_default(
        "optional column, each one of localities.names; drawn from localities.shares when absent"))

    @model_validator(mode="after")
    def _same_length(self) -> "WaitingChildren":
        n = len(self.referral_date)
        for name in type(self).model_fields:
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ValueError(f"column {name} has {len(column)} values but referral_date has {n}")
        return self

    def to_frame(self) -> "pd.DataFrame":
        """The columns as a table shaped like a read ``backlog.table``."""
        import pandas as pd

        data: dict[str, Any] = {"referral_date": pd.to_datetime(list(self.referral_date))}
        for name in type(self).model_fields:
            column = getattr(self, name)
            if name != "referral_date" and column is not None:
                data[name] = list(column)
        if "looked_after_or_cin" in data:
            data["looked_after_or_cin"] = ["true" if v else "false" for v in data["looked_after_or_cin"]]
        return pd.DataFrame(data)


class Backlog(_Frozen):
    """Children already on the diagnostic list at the start, with the time they have waited.

    Either ``count`` children with waits drawn from ``waited_weeks`` (attributes from the referral
    mix), or ``table``: a CSV of the children actually waiting (columns ``referral_date`` and,
    optionally, ``pathway``, ``age_at_referral``, ``priority``, ``looked_after_or_cin``,
    ``deprivation_quintile``), path relative to the scenario file.
    """

    enabled: bool = Field(True, json_schema_extra=model_default("start from an existing list"))
    count: int = Field(
        0, ge=0, le=10_000_000,
        json_schema_extra=source(
            "West Yorkshire ICB: 7,460 open referrals Sep 2024 (NHS England); scale to the service"))
    waited_weeks: Distribution = Field(
        Histogram(kind="histogram", edges=(0, 13, 52, 104, 156, 208),
                  weights=(0.16, 0.34, 0.28, 0.14, 0.08)),
        json_schema_extra=source(
            "West Yorkshire: 84% open >= 13 weeks (NHS England Autism Statistics); "
            "longer bands are an assumption"))
    table: str | None = Field(
        None, json_schema_extra=model_default("CSV of the children waiting; replaces count"))
    waiting: WaitingChildren | None = Field(
        None, json_schema_extra=model_default(
            "the children waiting as columns in the file itself; replaces count"))

    @model_validator(mode="after")
    def _one_source(self) -> "Backlog":
        if self.table is not None and self.waiting is not None:
            raise ValueError("give the children waiting either as table (a CSV) or as waiting "
                             "(columns in the file), not both")
        return self


class Vetting(_Frozen):
    """Referral vetting: accept or reject, after a short delay (no capacity limit)."""

    enabled: bool = Field(True, json_schema_extra=model_default("switch vetting off"))
    accept_probability: float = Field(
        0.9, ge=0, le=1, json_schema_extra=assumption("0.8-0.98"))
    duration_days: Distribution = Field(
        Gamma(kind="gamma", mean=14.0, sd=7.0), json_schema_extra=assumption("7-28 days"))


class ProfilingRouting(_Probabilities):
    needs_led: float = Field(0.45, ge=0, le=1)
    diagnostic: float = Field(0.40, ge=0, le=1)
    signposted: float = Field(0.15, ge=0, le=1)


class Profiling(_Frozen):
    """The profiling-tool front door: a practitioner completes a needs profile with the family."""

    enabled: bool = Field(
        False, json_schema_extra=model_default("today's pathway has no profiling tool"))
    practitioner_wte: float = Field(
        6.0, ge=0, le=10_000,
        json_schema_extra=model_default("a commissioning decision: practitioners funded (2-15 is typical)"))
    hours_per_wte_week: float = Field(
        37.5, gt=0, le=60,
        json_schema_extra=source("NHS Agenda for Change full-time week") | _WEEK)
    job_plan_share: float = Field(
        0.6, ge=0, le=1,
        json_schema_extra=assumption("0.4-0.8", "share of a practitioner's week spent profiling"))
    leave_weeks_per_year: float = Field(
        7.0, ge=0, le=30, json_schema_extra=assumption("6-9", "annual leave, bank holidays, training")
        | _LEAVE)
    hours_per_profile: Distribution = Field(
        Gamma(kind="gamma", mean=1.75, sd=0.5),
        json_schema_extra=source(
            "Cornwall referral guidance: 45-90 minutes with the family; plus write-up (assumption)"))
    routing: ProfilingRouting = Field(
        default_factory=ProfilingRouting.defaults,
        json_schema_extra=source(
            "Cornwall via NHS Cheshire & Merseyside: ~60% fewer go on to diagnostic assessment"))
    diagnosis_requested_anyway: float = Field(
        0.10, ge=0, le=1,
        json_schema_extra=assumption(
            "0.05-0.30", "of families routed to needs-led support or signposted"))
    cost_per_wte_year: float = Field(
        48_000.0, ge=0, le=1e7,
        json_schema_extra={**assumption("40k-60k", "Band 6 with on-costs"), **_COST_WTE})
    needs_led_plan_weeks: Distribution = Field(
        Gamma(kind="gamma", mean=26.0, sd=10.0),
        json_schema_extra=assumption(
            "12-52 weeks", "how long a needs-led support plan runs; for a family who asks for "
                           "diagnosis anyway it is their support while waiting (no place used)"))
    cost_per_needs_led_plan: float = Field(
        400.0, ge=0, le=1e6,
        json_schema_extra=assumption(
            "200-1,000", "partner time to agree and deliver one needs-led plan") | _COST_ONE)


class Profession(_Frozen):
    """One profession in the diagnostic multi-disciplinary team (MDT)."""

    name: str = Field(pattern=PROFESSION_NAME, max_length=80, json_schema_extra=why(
        "a name starting with a letter, of letters, digits, spaces, _ or -, "
        "e.g. paediatrician"))
    wte: float = Field(ge=0, le=10_000)
    job_plan_share: float = Field(
        0.5, ge=0, le=1,
        json_schema_extra=assumption("0.3-0.7", "share of the week on ND assessment"))
    cost_per_wte_year: float = Field(
        90_000.0, ge=0, le=1e7,
        json_schema_extra={**assumption("", "salary with on-costs"), **_COST_WTE})


class StaffingChange(_Frozen):
    """A change of WTE on a date (recruitment or loss), reaching full effect after a ramp-up."""

    date: IsoDate
    profession: str
    wte_change: float = Field(ge=-10_000, le=10_000)
    ramp_weeks: float = Field(
        12.0, ge=0, le=520, json_schema_extra=assumption("4-26", "induction to full job plan"))


class OutsourcedBlock(_Frozen):
    """A one-off block of assessments bought from another provider, spread evenly over its dates."""

    start_date: IsoDate
    end_date: IsoDate
    assessments: int = Field(ge=0, le=10_000_000)
    cost_per_assessment: float = Field(
        2_000.0, ge=0, le=1e6,
        json_schema_extra=assumption("1,500-3,000", "independent-sector price per assessment")
        | _COST_ONE)

    @model_validator(mode="after")
    def _ordered(self) -> "OutsourcedBlock":
        if self.end_date <= self.start_date:
            raise ValueError(
                f"end_date ({self.end_date}) must be after start_date ({self.start_date})")
        return self


class OutcomeMix(_Probabilities):
    autism: float = Field(0.45, ge=0, le=1)
    adhd: float = Field(0.25, ge=0, le=1)
    other_nd: float = Field(0.19, ge=0, le=1)
    none: float = Field(0.11, ge=0, le=1)


PriorityRule = Literal["urgent", "looked_after", "near_18"]


def _hours(mean: float, sd: float) -> LogNormal:
    return LogNormal(kind="lognormal", mean=mean, sd=sd)


RecipeMode = Literal["joint", "sequence"]


class Recipe(_Frozen):
    """What one pathway's assessment needs from each profession (``capacity_model =
    "by_profession"``): hours per child by profession, drawn for each child, and whether the
    professions are needed together (``joint``: one appointment, it starts when every profession
    in it has hours) or one after the other (``sequence``, in the order given: the assessment
    starts with the first profession's part and each later part waits for its own profession's
    hours, work in progress before new starts)."""

    mode: RecipeMode = Field(
        "joint", json_schema_extra=model_default("joint appointment or one part after another"))
    hours: dict[str, Distribution] = Field(
        json_schema_extra=assumption(
            "", "hours per child by profession; no public split by profession"))

    @model_validator(mode="after")
    def _hours_given(self) -> "Recipe":
        if not self.hours:
            raise ValueError("hours is empty: give each profession's hours per child, e.g. "
                             'hours = { psychologist = { kind = "fixed", value = 5 } }')
        for name, dist in self.hours.items():
            if dist.lowest < 0:
                raise ValueError(f"hours.{name} can give values below 0 (lowest "
                                 f"{dist.lowest:g}); hours start at 0")
        return self

    def mean_hours(self) -> dict[str, float]:
        """Mean hours per child by profession."""
        return {name: float(dist.mean_value) for name, dist in self.hours.items()}


def _autism_recipe() -> Recipe:
    return Recipe(hours={"paediatrician": _hours(2.5, 1.5), "psychologist": _hours(5.0, 3.0),
                         "speech_and_language_therapist": _hours(3.5, 2.0)})


def _adhd_recipe() -> Recipe:
    return Recipe(hours={"paediatrician": _hours(4.5, 2.5), "psychologist": _hours(4.0, 2.5)})


BothAssessed = Literal["together", "one_after_the_other"]


class Recipes(_Frozen):
    """Assessment recipes by pathway. A child on the ``both`` pathway is assessed for both: with
    ``both_assessed = "together"`` one joint appointment with the autism and ADHD hours added
    profession by profession; with ``"one_after_the_other"`` the autism assessment, then the
    ADHD one (each as its own recipe says). A ``both`` recipe, when given, is used instead."""

    autism: Recipe = Field(
        default_factory=_autism_recipe,
        json_schema_extra=assumption(
            "total 9-13 h", "paediatrician 2.5 h (1.5-4), psychologist 5 h (3-7), speech and "
            "language therapist 3.5 h (2-5), lognormal; the total, 11 h, is near Male et al. "
            "2023's 11.5 h (SD 7.0) and Galliver et al. 2017's median 13 h"))
    adhd: Recipe = Field(
        default_factory=_adhd_recipe,
        json_schema_extra=assumption(
            "total 6-11 h", "paediatrician 4.5 h (3-6), psychologist 4 h (2-6), lognormal; no "
            "speech and language therapy"))
    both: Recipe | None = Field(
        None, json_schema_extra=model_default("built from the autism and ADHD recipes"))
    both_assessed: BothAssessed = Field(
        "together", json_schema_extra=model_default(
            "the both pathway: one joint assessment, or autism then ADHD"))

    def professions(self) -> list[str]:
        names: list[str] = []
        for recipe in (self.autism, self.adhd, self.both):
            for name in (recipe.hours if recipe is not None else ()):
                if name not in names:
                    names.append(name)
        return names


def _default_professions() -> tuple[Profession, ...]:
    return (
        Profession(name="paediatrician", wte=3.0, job_plan_share=0.5, cost_per_wte_year=140_000),
        Profession(name="psychologist", wte=3.0, job_plan_share=0.6, cost_per_wte_year=85_000),
        Profession(name="speech_and_language_therapist", wte=2.0, job_plan_share=0.6,
                   cost_per_wte_year=60_000),
    )


class Assessment(_Frozen):
    """The diagnostic waiting list and the MDT assessment capacity.

    ``capacity_model = "clinical_hours"`` (the pathway): each session adds the team's clinical
    hours for that interval, and children are pulled from the list while hours remain; each
    assessment uses ``hours_per_assessment`` of professional time and ends ``elapsed_weeks`` later.
    ``capacity_model = "servers"`` (textbook reductions): ``servers`` parallel servers, each busy
    for ``service_days`` per child.
    """

    capacity_model: Literal["clinical_hours", "by_profession", "servers"] = Field(
        "clinical_hours", json_schema_extra=model_default(
            "clinical_hours pools the team's hours; by_profession needs each profession's hours "
            "(recipes); servers is for validation reductions"))
    discipline: Literal["fifo", "priority"] = Field(
        "fifo", json_schema_extra=model_default("order children are taken from the list"))
    priority_order: tuple[PriorityRule, ...] = Field(
        ("urgent", "looked_after", "near_18"),
        json_schema_extra=model_default("with discipline = priority: who goes first, in order"))
    near_18_months: float = Field(
        12.0, ge=0, le=216,
        json_schema_extra=model_default("near_18 means turning 18 within this many months")
        | why("months before the 18th birthday, from 0 to 216 (18 years)"))
    session_interval_days: float = Field(
        7.0, gt=0, le=91, json_schema_extra=model_default("how often clinics pull from the list"))
    hours_per_wte_week: float = Field(
        37.5, gt=0, le=60, json_schema_extra=source("NHS full-time week") | _WEEK)
    leave_weeks_per_year: float = Field(
        7.0, ge=0, le=30, json_schema_extra=assumption("6-9", "annual leave, bank holidays, CPD")
        | _LEAVE)
    professions: tuple[Profession, ...] = Field(
        default_factory=_default_professions,
        json_schema_extra=assumption("", "illustrative MDT for a Leeds-sized service"))
    hours_per_assessment: Distribution = Field(
        LogNormal(kind="lognormal", mean=11.5, sd=7.0),
        json_schema_extra=source(
            "Male et al. 2023 Front. Rehabil. Sci.: mean 11.5 h (SD 7.0); Galliver et al. 2017: "
            "median 13 h"))
    elapsed_weeks: Distribution = Field(
        Gamma(kind="gamma", mean=8.0, sd=4.0),
        json_schema_extra=assumption("4-16", "first appointment to outcome"))
    servers: int = Field(
        1, ge=1, le=100_000, json_schema_extra=model_default("capacity_model = servers only"))
    service_days: Distribution = Field(
        Fixed(kind="fixed", value=1.0),
        json_schema_extra=model_default("capacity_model = servers only"))
    outcome: OutcomeMix = Field(
        default_factory=OutcomeMix.defaults,
        json_schema_extra=source(
            "Male et al. 2023: 70% autism, 19% other ND, 11% none (autism pathway); ADHD split "
            "of the diagnosed share is an assumption"))
    staffing_changes: tuple[StaffingChange, ...] = Field(
        (), json_schema_extra=model_default("recruitment or losses on dates"))
    outsourced: tuple[OutsourcedBlock, ...] = Field(
        (), json_schema_extra=model_default("one-off blocks bought in"))
    recipes: Recipes = Field(
        default_factory=Recipes,
        json_schema_extra=model_default("capacity_model = by_profession: hours by profession"))

    @model_validator(mode="after")
    def _consistent(self) -> "Assessment":
        names = [p.name for p in self.professions]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"professions must have distinct names; repeated: {dupes}")
        for i, change in enumerate(self.staffing_changes):
            if change.profession not in names:
                raise ValueError(
                    f"staffing_changes[{i}].profession = {change.profession!r} is not one of the "
                    f"professions {names}")
        if len(set(self.priority_order)) != len(self.priority_order):
            raise ValueError(f"priority_order repeats a rule: {list(self.priority_order)}")
        if self.capacity_model == "by_profession":
            unknown = [n for n in self.recipes.professions() if n not in names]
            if unknown:
                raise ValueError(
                    f"recipes name {unknown}, not among the professions {names}: add them to "
                    "[[assessment.professions]] or correct the recipe")
        return self

    def profession_hours_per_week(self, name: str, wte: float = 1.0) -> float:
        """Clinical hours per week that ``wte`` of profession ``name`` gives (leave taken out)."""
        return self.clinical_hours_per_week(
            {p.name: (wte if p.name == name else 0.0) for p in self.professions})

    def clinical_hours_per_week(self, wte_by_profession: Mapping[str, float] | None = None) -> float:
        """Clinical hours per week the MDT gives to assessment (leave taken out)."""
        wte = wte_by_profession or {p.name: p.wte for p in self.professions}
        share = {p.name: p.job_plan_share for p in self.professions}
        working = 1 - self.leave_weeks_per_year / WEEKS_PER_YEAR
        return sum(wte[n] * share[n] for n in wte) * self.hours_per_wte_week * working


SupportCapacity = Literal["caseload", "starts_per_month"]
SupportOffer = Literal["on_joining", "longest_waiting", "priority"]


class Support(_Frozen):
    """Support while waiting (parent programmes, school support): an offer with its own
    capacity. Each family who takes up the offer (`uptake`) gets one episode of support lasting
    `episode_weeks`, never a second (re-offering after an episode is not modelled: with a list
    far longer than the places, a second episode would move a place between families, not add
    one). Capacity is a caseload of `places` families supported at once (a place is freed when
    the episode ends, the child starts assessment or leaves the list), or, with `capacity =
    "starts_per_month"`, new episodes a month. Free places are given at a weekly intake, after
    every other event of that moment (a child taken for assessment then is not offered), by the
    `offer` rule: `on_joining` (families are offered a place as they join the list and wait for
    one first come first served while the offer stands, `offer_window_weeks` from joining; a
    place nobody within that window is waiting for goes to the family who joined most recently:
    support early in the wait; children already waiting at the start count from their
    referral), `longest_waiting` (those referred longest ago first), `priority` (urgent, then
    looked-after or child in need, then the rest, each first come first served by joining). The
    benefit, escalation at `escalation.support_risk_ratio` times the unsupported rate and the
    `needs_met_per_year` hazard of leaving the list, applies only while the episode runs; none
    of it lasts after. Needs-led plans from profiling are support too but are the profiling
    team's plans: they use no place here (see `profiling.needs_led_plan_weeks`). Cost:
    `cost_per_week` for every week of support delivered in the horizon, so an episode costs its
    length (places nobody uses cost nothing: places are bought per family).
    """

    enabled: bool = Field(True, json_schema_extra=model_default("switch support off"))
    capacity: SupportCapacity = Field(
        "caseload",
        json_schema_extra=model_default(
            "caseload: at most `places` families supported at once; starts_per_month: "
            "`starts_per_month` new episodes a month, however many are running"))
    places: int = Field(
        110, ge=0, le=10_000_000,
        json_schema_extra=model_default(
            "a commissioning decision: families supported at once (capacity = caseload); 110 "
            "places of 12-week episodes start about 40 families a month"))
    starts_per_month: float | None = Field(
        None, ge=0, le=1e6,
        json_schema_extra=model_default(
            "capacity = starts_per_month only (required there): new episodes a month"))
    episode_weeks: Distribution = Field(
        Gamma(kind="gamma", mean=12.0, sd=4.0),
        json_schema_extra=assumption(
            "6-26 weeks", "length of one episode, e.g. an 8-12 week parent programme with "
                          "follow-up; drawn per family"))
    offer: SupportOffer = Field(
        "on_joining",
        json_schema_extra=model_default(
            "who is offered a free place: on_joining, longest_waiting or priority"))
    offer_window_weeks: float = Field(
        6.0, ge=0, le=10_000,
        json_schema_extra=model_default(
            "offer = on_joining: weeks after joining the list that a family waits for a place "
            "first come first served; later they are offered only places nobody newer needs"))
    uptake: float = Field(
        0.7, ge=0, le=1, json_schema_extra=assumption("0.5-0.9", "families who take the offer"))
    needs_met_per_year: float = Field(
        0.10, ge=0, le=50,
        json_schema_extra=assumption(
            "0.0-0.3", "hazard of leaving the list because needs are met, while supported "
                       "(during the episode only)"))
    cost_per_week: float = Field(
        50.0, ge=0, le=1e6,
        json_schema_extra=assumption(
            "25-125", "one family's support for a week: a 12-week parent programme place at "
                      "about £600") | _COST_ONE)

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "cost_per_episode" in data:
            raise ValueError(
                f"cost_per_episode = {data['cost_per_episode']!r} is no longer a key: support "
                "is costed by its length; give cost_per_week (the old price divided by the mean "
                "episode weeks, e.g. 600 / 12 = 50)")
        return data

    @model_validator(mode="after")
    def _capacity_keys(self) -> "Support":
        if self.capacity == "starts_per_month" and self.starts_per_month is None:
            raise ValueError('capacity = "starts_per_month" needs starts_per_month (new '
                             "episodes a month)")
        if self.capacity == "caseload" and self.starts_per_month is not None:
            mean_weeks = self.episode_weeks.mean_value
            raise ValueError(
                f"starts_per_month = {self.starts_per_month:g} applies only with capacity = "
                '"starts_per_month"; set capacity = "starts_per_month" to keep it, or give the '
                f"caseload as places (about starts x mean episode weeks / {WEEKS_PER_MONTH:.2f}"
                f" = {round(self.starts_per_month * mean_weeks / WEEKS_PER_MONTH)} here)")
        return self


class Leaving(_Frozen):
    """Leaving the diagnostic list without assessment (competing risks, per year)."""

    withdrawal_per_year: float = Field(
        0.04, ge=0, le=365, json_schema_extra=assumption("0.02-0.10"))
    moved_per_year: float = Field(0.03, ge=0, le=365, json_schema_extra=assumption("0.02-0.06"))
    private_per_year: float = Field(
        0.05, ge=0, le=365,
        json_schema_extra=assumption("0.02-0.15", "private or right-to-choose provider"))
    age_out: bool = Field(
        True, json_schema_extra=model_default("children turning 18 transfer to adult services"))
    age_out_years: float = Field(18.0, gt=0, le=30, json_schema_extra=model_default("transfer age"))


class Escalation(_Frozen):
    """Crisis or school breakdown while waiting (assumption-driven, clearly labelled)."""

    enabled: bool = Field(True, json_schema_extra=model_default("count escalations"))
    unsupported_per_year: float = Field(
        0.15, ge=0, le=50, json_schema_extra=assumption("0.05-0.30", "events per child-year"))
    support_risk_ratio: float = Field(
        0.6, ge=0, le=1,
        json_schema_extra=assumption(
            "0.4-0.9", "escalation rate while supported / unsupported; during a support episode "
                       "or needs-led plan only, none after"))


# -------------------------------------------------------------------------------------------------
# Profiling accuracy, re-referral and localities (issue 11: who benefits and who loses out).
# A self-contained block: each section is off by default, so a scenario that does not name it
# runs exactly as before.


class ProfilingAccuracy(_Frozen):
    """How the profiling tool's routing depends on the child (on only with the profiling tool).

    Every child carries a latent outcome: the result a diagnostic assessment would give them
    (``assessment.outcome``, drawn up front). Off, the tool routes at random by
    ``profiling.routing`` whatever the child. On, it sends a child on to the diagnostic list with
    probability ``sensitivity`` if an assessment would diagnose them (autism, ADHD or another ND
    condition) and ``false_positive_rate`` if it would find no condition; the rest are split
    between a needs-led plan and signposting in the ratio of ``profiling.routing``. As given,
    the share sent on would be ``sensitivity x d + false_positive_rate x (1 - d)``, with d the
    diagnosable share of the outcome mix. With ``keep_routing_share`` (the default) both
    probabilities are scaled by one factor so that the share sent on is
    ``profiling.routing.diagnostic`` on average (the tool's discrimination, their ratio, is
    kept; a probability that would pass 1 is held at 1 and the other takes up the rest), so the
    routing lever still sets how many go on; they are exactly as given when
    ``sensitivity = (diagnostic - false_positive_rate x (1 - d)) / d``. Without it they are used
    as given. Either way ``pct_profiled_to_diagnostic`` reports the share sent on.
    """

    enabled: bool = Field(
        False, json_schema_extra=model_default("off: the tool routes at random, whatever the child"))
    sensitivity: float = Field(
        0.45, ge=0, le=1,
        json_schema_extra=assumption(
            "0.30-0.70", "of the children an assessment would diagnose, the share the tool "
                         "sends on to the diagnostic list; with ~40% sent on and ~89% of "
                         "children diagnosable it cannot exceed ~0.45 at that share"))
    false_positive_rate: float = Field(
        0.10, ge=0, le=1,
        json_schema_extra=assumption(
            "0.05-0.30", "of the children an assessment would find no condition in, the share "
                         "sent on to the diagnostic list"))
    keep_routing_share: bool = Field(
        True, json_schema_extra=model_default(
            "scale both so that profiling.routing.diagnostic are sent on on average"))

    def send_on(self, routed_share: float, diagnosable: float) -> tuple[float, float]:
        """The probabilities of being sent on (diagnosable child, child with no condition)
        for a routing share and a diagnosable share of children."""
        s, f, p, d = self.sensitivity, self.false_positive_rate, routed_share, diagnosable
        if not self.keep_routing_share:
            return s, f
        expected = s * d + f * (1 - d)
        if expected <= 0:
            return p, p  # a tool that sends nobody on cannot be scaled: route at random
        s, f = s * p / expected, f * p / expected
        if s > 1:
            s, f = 1.0, (p - d) / (1 - d)
        elif f > 1:
            s, f = (p - (1 - d)) / d, 1.0
        return min(max(s, 0.0), 1.0), min(max(f, 0.0), 1.0)


class AtRisk(_Frozen):
    """Children who left before the start date by each route and have not been referred again.

    Each may come back during the projection at its route's hazard; the hazards are constant,
    so how long ago a child left does not matter. Their attributes come from the referral mix.
    """

    needs_led: int = Field(0, ge=0, le=10_000_000, json_schema_extra=model_default(
        "children given a needs-led plan before the start, not referred again since"))
    signposted: int = Field(0, ge=0, le=10_000_000, json_schema_extra=model_default(
        "children signposted before the start, not referred again since"))
    withdrawn: int = Field(0, ge=0, le=10_000_000, json_schema_extra=model_default(
        "children who withdrew from the list before the start, not referred again since"))

    def as_dict(self) -> dict[str, int]:
        return {"needs_led": self.needs_led, "signposted": self.signposted,
                "withdrawn": self.withdrawn}


class ReReferral(_Frozen):
    """Failure demand: children who leave without an assessment may come back as a new referral.

    After a needs-led exit (a needs-led plan from profiling), signposting or withdrawing from the
    list, a child is referred again after a time drawn from a constant hazard (per year since
    they left), if that falls before the horizon and before they reach the transfer age. The
    new referral keeps the child's attributes and latent outcome and goes through vetting and
    the pathway again; it counts in ``referrals`` and in ``re_referrals``.
    """

    enabled: bool = Field(False, json_schema_extra=model_default("nobody comes back"))
    after_needs_led_per_year: float = Field(
        0.15, ge=0, le=50,
        json_schema_extra=assumption(
            "0.05-0.30", "hazard of a new referral a year after a needs-led plan from "
                         "profiling (0.15: about 14% within a year, 53% within five)"))
    after_signposted_per_year: float = Field(
        0.25, ge=0, le=50,
        json_schema_extra=assumption(
            "0.10-0.50", "hazard of a new referral a year after being signposted"))
    after_withdrawn_per_year: float = Field(
        0.20, ge=0, le=50,
        json_schema_extra=assumption(
            "0.05-0.40", "hazard of a new referral a year after withdrawing from the list"))

    at_risk_at_start: "AtRisk" = Field(
        default_factory=lambda: AtRisk(),
        json_schema_extra=model_default(
            "nobody who left before the start comes back (a calibration from an extract with "
            "child_id fills it)"))

    def rates_per_day(self) -> dict[str, float]:
        """Exit reason -> hazard of coming back per day (only the reasons that can)."""
        return {"needs_led": self.after_needs_led_per_year / DAYS_PER_YEAR,
                "signposted": self.after_signposted_per_year / DAYS_PER_YEAR,
                "withdrawn": self.after_withdrawn_per_year / DAYS_PER_YEAR}


FollowUpPriority = Literal["follow_up_first", "assessments_first"]


class FollowUp(_Frozen):
    """Post-diagnostic follow-up on the same clinicians (BACCH submission 2025: community
    paediatric follow-up after an ADHD / autism diagnosis continues to 18 on the same doctors).

    After an ADHD diagnosis (an assessment ending ``adhd``), a share of children start
    medication: ``titration_appointments`` appointments ``titration_interval_weeks`` apart, then
    a review every ``review_interval_months`` until the transfer age (``leaving.age_out_years``)
    or discharge (a constant hazard, per year). After an autism diagnosis a share have
    ``autism_appointments`` follow-up appointments. Each appointment takes hours from named
    professions in the session it falls in: before new assessments (``follow_up_first``), or
    from what new assessments leave (``assessments_first``; reviews that find no hours are
    missed and counted as unmet hours). ``initial_caseload`` children already on medication
    reviews at the start have reviews on the same schedule and leave at the discharge rate plus
    ``initial_caseload_years_to_18`` (an expected-value workload, not children in the tables).
    """

    enabled: bool = Field(
        False, json_schema_extra=model_default(
            "off: the job-plan share is the share for new assessments; follow-up sits in the "
            "rest of the job plan"))
    priority: FollowUpPriority = Field(
        "follow_up_first", json_schema_extra=model_default(
            "follow-up appointments take their hours before new assessments"))
    medication_share: float = Field(
        0.5, ge=0, le=1,
        json_schema_extra=assumption(
            "0.3-0.8", "of children diagnosed with ADHD, the share starting medication "
                       "(the ADHD Taskforce 2025: 25% of all children with ADHD get medication)"))
    titration_appointments: int = Field(
        4, ge=0, le=52, json_schema_extra=model_default("dose-finding appointments (3-6 usual)"))
    titration_interval_weeks: float = Field(
        4.0, gt=0, le=52, json_schema_extra=model_default("weeks between titration appointments"))
    titration_hours: dict[str, float] = Field(
        default_factory=lambda: {"paediatrician": 1.0},
        json_schema_extra=assumption("0.75-1.5", "hours per titration appointment, by profession"))
    review_interval_months: float = Field(
        6.0, ge=1, le=24,
        json_schema_extra=assumption("3-12", "NICE NG87: review at least once a year"))
    review_hours: dict[str, float] = Field(
        default_factory=lambda: {"paediatrician": 0.75},
        json_schema_extra=assumption("0.5-1.0", "hours per medication review, by profession"))
    discharge_per_year: float = Field(
        0.10, ge=0, le=10,
        json_schema_extra=assumption("0.05-0.25", "stopping medication or discharge, per year"))
    autism_share: float = Field(
        0.0, ge=0, le=1,
        json_schema_extra=assumption("0.0-0.5", "of children diagnosed autistic, the share with "
                                                "follow-up appointments"))
    autism_appointments: int = Field(
        1, ge=0, le=52, json_schema_extra=model_default("follow-up appointments after autism"))
    autism_interval_weeks: float = Field(
        8.0, gt=0, le=52, json_schema_extra=model_default("weeks between them"))
    autism_hours: dict[str, float] = Field(
        default_factory=lambda: {"paediatrician": 1.0},
        json_schema_extra=model_default("hours per autism follow-up appointment, by profession"))
    initial_caseload: int = Field(
        0, ge=0, le=1_000_000,
        json_schema_extra=model_default("children already on medication reviews at the start"))
    initial_caseload_years_to_18: float = Field(
        4.0, gt=0, le=18,
        json_schema_extra=assumption("2-6", "average years left to 18 for the starting caseload"))

    @field_validator("titration_hours", "review_hours", "autism_hours")
    @classmethod
    def _hours_not_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not math.isfinite(v) or v < 0 or v > 100}
        if bad:
            raise ValueError(f"hours per appointment must be from 0 to 100, got {bad}")
        return value

    def professions(self) -> list[str]:
        names: list[str] = []
        for table in (self.titration_hours, self.review_hours, self.autism_hours):
            names.extend(n for n in table if n not in names)
        return names


class Localities(_Frozen):
    """Localities (areas of the service) as a referral attribute for equity breakdowns.

    Empty by default (no locality). A backlog table may carry a ``locality`` column with these
    names; new referrals are drawn from ``shares``.
    """

    names: tuple[str, ...] = Field(
        (), json_schema_extra=model_default("locality names, e.g. [\"North\", \"South\"]"))
    shares: tuple[float, ...] = Field(
        (), json_schema_extra=model_default("share of referrals from each locality (sum 1)"))

    @model_validator(mode="after")
    def _names_and_shares(self) -> "Localities":
        if len(self.names) != len(self.shares):
            raise ValueError(f"localities: {len(self.names)} names but {len(self.shares)} "
                             "shares; give one share per name")
        if len(set(self.names)) != len(self.names) or any(not n.strip() for n in self.names):
            raise ValueError(f"localities.names must be distinct and non-empty, got {list(self.names)}")
        if self.shares:
            if any(not math.isfinite(x) or x < 0 for x in self.shares):
                raise ValueError(f"localities.shares must be >= 0, got {list(self.shares)}")
            _check_probabilities(dict(zip(self.names, self.shares)), "localities.shares")
        return self


class Uncertainty(_Frozen):
    """Parameter uncertainty: draw uncertain parameters afresh for each replication.

    Without it, intervals show only the chance variation of a service whose parameters are known
    exactly. With it, each replication first draws its own values (from ``parameters``, and with
    ``from_assumptions`` every assumption over its plausible range with the scenario's value as
    its mean: :func:`model.uncertainty.centred_range`), so fans and
    intervals also carry what we do not know. Draws depend only on (seed, replication, key), so
    two scenarios compared with the same seed share them (common random numbers).
    """

    enabled: bool = Field(False, json_schema_extra=model_default("draw parameters per replication"))
    from_assumptions: bool = Field(
        False, json_schema_extra=model_default(
            "draw every assumption over its plausible range, moved with the scenario's own "
            "value and drawn with that value as its mean"))
    parameters: dict[str, Distribution] = Field(
        default_factory=dict,
        json_schema_extra=model_default(
            'key path -> distribution, e.g. "leaving.withdrawal_per_year" = '
            '{ kind = "uniform", low = 0.02, high = 0.10 }'))


class Scenario(_Frozen):
    """A complete, validated scenario. Build variants with :meth:`replace`, never by mutation."""

    meta: Meta = Field(default_factory=Meta)
    simulation: Simulation = Field(default_factory=Simulation)
    arrivals: Arrivals = Field(default_factory=Arrivals)
    referral_mix: ReferralMix = Field(default_factory=ReferralMix)
    backlog: Backlog = Field(default_factory=Backlog)
    vetting: Vetting = Field(default_factory=Vetting)
    profiling: Profiling = Field(default_factory=Profiling)
    assessment: Assessment = Field(default_factory=Assessment)
    support: Support = Field(default_factory=Support)
    leaving: Leaving = Field(default_factory=Leaving)
    escalation: Escalation = Field(default_factory=Escalation)
    # issue 11 (equity): off or empty by default
    profiling_accuracy: ProfilingAccuracy = Field(default_factory=ProfilingAccuracy)
    rereferral: ReReferral = Field(default_factory=ReReferral)
    localities: Localities = Field(default_factory=Localities)
    # issue 12: post-diagnostic follow-up on the assessment clinicians (off by default)
    follow_up: FollowUp = Field(default_factory=FollowUp)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)

    @model_validator(mode="after")
    def _follow_up_professions_exist(self) -> "Scenario":
        if self.follow_up.enabled:
            names = [p.name for p in self.assessment.professions]
            unknown = [n for n in self.follow_up.professions() if n not in names]
            if unknown:
                raise ValueError(
                    f"follow_up names {unknown}, not among assessment.professions {names}: "
                    "add them to [[assessment.professions]] or correct follow_up's hours")
            if self.assessment.capacity_model == "servers":
                raise ValueError("follow_up needs clinical hours: use capacity_model = "
                                 "\"by_profession\" or \"clinical_hours\", not \"servers\"")
        return self

    @model_validator(mode="after")
    def _waiting_localities_are_named(self) -> "Scenario":
        waiting = self.backlog.waiting
        if waiting is None or waiting.locality is None:
            return self
        names = set(self.localities.names)
        unknown = sorted({v for v in waiting.locality if v not in names})
        if unknown:
            raise ValueError(f"backlog.waiting.locality has {unknown[:5]} not in localities.names "
                             f"{list(self.localities.names)}; name every locality there")
        return self

    @model_validator(mode="after")
    def _uncertain_keys_exist(self) -> "Scenario":
        problems = []
        for key in self.uncertainty.parameters:
            node: Any = self
            for part in key.split("."):
                if isinstance(node, BaseModel) and part in type(node).model_fields:
                    node = getattr(node, part)
                elif isinstance(node, tuple) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                else:
                    node = None
                    break
            if isinstance(node, bool) or not isinstance(node, (int, float)):
                problems.append(f"uncertainty.parameters: {key!r} is not a numeric key of the "
                                "scenario (see docs/scenario-reference.md)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def replace(self, overrides: Mapping[str, Any] | Sequence[str]) -> "Scenario":
        """A new scenario with ``key.path`` overrides applied (``{"a.b": 1}`` or ``["a.b=1"]``)."""
        data = self.to_dict()
        _apply_overrides(data, _parse_overrides(overrides))
        return build_scenario(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (TOML-ready: no ``None``), the inverse of :func:`build_scenario`."""
        return _drop_none(self.model_dump(mode="python"))

    def to_toml(self) -> str:
        """The scenario as a TOML file that ``ndpath run`` reads back to an equal scenario."""
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """A SHA-256 of the resolved scenario (stable across runs and machines)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


# -------------------------------------------------------------------------------------------------
# Loading


class ScenarioError(ValueError):
    """A scenario file or override is wrong. ``problems`` lists each, naming its key path."""

    def __init__(self, problems: Sequence[str], origin: str = "scenario") -> None:
        self.problems = list(problems)
        self.origin = origin
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{origin} has {len(self.problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario with where it came from: files read and their hashes."""

    scenario: Scenario
    files: tuple[str, ...]
    file_hashes: dict[str, str]


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value


def deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """The ``extends`` rule: tables merge key by key; distributions (tables with ``kind``),
    numbers and arrays (arrays of tables too) are replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and "kind" not in value:
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _parse_overrides(overrides: Mapping[str, Any] | Sequence[str]) -> dict[str, Any]:
    if isinstance(overrides, Mapping):
        # a copy: later overrides reach into these values, and the caller's must not change
        return copy.deepcopy(dict(overrides))
    parsed: dict[str, Any] = {}
    problems = []
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"--set {item!r}: write it as key.path=value, e.g. "
                            "assessment.professions.0.wte=4")
            continue
        if any(not part.strip() for part in key.split(".")):
            problems.append(f"--set {item!r}: the key {key!r} has an empty part between dots; "
                            "write it as section.key, e.g. support.places=200")
            continue
        new = _parse_value(value.strip())
        if key in parsed and parsed[key] != new:
            problems.append(f"--set {key}: given twice ({parsed[key]!r} and {new!r}); give it "
                            "once (an option such as --months also sets a simulation key)")
            continue
        parsed[key] = new
    if problems:
        raise ScenarioError(problems, "--set")
    return parsed


def _override_texts(overrides: Mapping[str, Any] | Sequence[str]) -> dict[str, str]:
    """Each ``--set`` key's value as typed (none for overrides given as a mapping)."""
    if isinstance(overrides, Mapping):
        return {}
    return {key.strip(): value.strip() for key, sep, value in
            (str(item).partition("=") for item in overrides) if sep}


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    problems = []
    for path, value in overrides.items():
        parts = path.split(".")
        node: Any = data
        if any(p.strip().startswith("-") for p in parts):
            problems.append(f"{path}: list items are numbered from 0 (no negative positions)")
            continue
        reached: list[str] = []  # the parts of the path found so far
        listed: list[Any] | None = None  # the last list on the way, for an index out of range
        try:
            for part in parts[:-1]:
                if isinstance(node, list):
                    listed = node
                    node = node[int(part)]
                else:
                    node = node.setdefault(part, {})
                reached.append(part)
            last = parts[-1]
            if isinstance(node, list):
                listed = node
                node[int(last)] = value
            elif isinstance(node, dict):
                node[last] = value
            else:
                raise KeyError(last)
        except (IndexError, ValueError) as error:
            where = ".".join(reached) or "the scenario"
            if listed is not None and isinstance(error, IndexError):
                problems.append(f"{path}: {where} has {len(listed)} item(s), numbered 0 to "
                                f"{len(listed) - 1} (--set {where}.0.KEY=VALUE sets the first)"
                                if listed else f"{path}: {where} is empty: no item to set")
            else:
                problems.append(f"{path}: no such key to set (check the scenario reference)")
        except (KeyError, TypeError):
            problems.append(f"{path}: no such key to set (check the scenario reference)")
    if problems:
        raise ScenarioError(problems, "--set")


def _format_loc(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in {"exponential", "lognormal", "gamma", "weibull", "fixed", "uniform",
                      "empirical", "histogram"} and parts:
            continue  # the union branch pydantic tried; the kind is already in the message
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _lookup(data: Any, loc: Sequence[Any]) -> Any:
    node = data
    for item in loc:
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found, stack = [], [annotation]
    while stack:
        item = stack.pop(0)
        if isinstance(item, type) and issubclass(item, BaseModel):
            found.append(item)
        else:
            stack.extend(typing.get_args(item))
    return found


def _follow(loc: Sequence[Any]) -> tuple[Any, list[type[BaseModel]]] | None:
    """The pydantic ``FieldInfo`` of the key at ``loc`` and the models its value can be
    (``None`` when it cannot be followed)."""
    from .distributions import DISTRIBUTION_KINDS

    kinds = {m.__name__.lower(): m for m in _models_in(Distribution)}
    candidates: list[type[BaseModel]] = [Scenario]
    info = None
    for item in loc:
        if isinstance(item, int):
            continue
        if item in DISTRIBUTION_KINDS and kinds.get(item) in candidates:
            candidates = [kinds[item]]  # the union branch pydantic tried
            continue
        owners = [m for m in candidates if item in m.model_fields]
        if not owners:
            return None
        info = owners[0].model_fields[item]
        candidates = _models_in(info.annotation)
    return info, candidates


def _field_info(loc: Sequence[Any]) -> Any:
    """The pydantic ``FieldInfo`` of the key at ``loc`` (``None`` when it cannot be followed)."""
    followed = _follow(loc)
    return None if followed is None else followed[0]


def _did_you_mean(loc: Sequence[Any]) -> str:
    """"did you mean 'arrivals'?" for a misspelt key at ``loc``: the closest key its section
    has, or "" when none is close."""
    import difflib

    followed = _follow(loc[:-1])
    if followed is None or not isinstance(loc[-1], str):
        return ""
    keys = sorted({k for m in followed[1] for k in m.model_fields})
    close = difflib.get_close_matches(loc[-1], keys, n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}?" if close else ""


def _reason(loc: Sequence[Any]) -> str | None:
    info = _field_info(loc)
    extra = getattr(info, "json_schema_extra", None)
    return extra.get("why") if isinstance(extra, dict) else None


def _problems_from(error: ValidationError, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for e in error.errors():
        loc = _format_loc(e["loc"])
        msg = describe(e, _reason(e["loc"]))
        if e["type"] == "extra_forbidden":
            close = _did_you_mean(e["loc"])
            problems.append(f"{loc}: unknown key; {close} (or remove it)" if close else
                            f"{loc}: unknown key (remove it or check its spelling against "
                            "docs/scenario-reference.md)")
        elif e["type"] == "union_tag_invalid":
            problems.append(f"{loc}: kind = {e['input'].get('kind')!r} is not a distribution; "
                            "use one of exponential, lognormal, gamma, weibull, fixed, uniform, "
                            "empirical, histogram")
        elif e["type"] == "union_tag_not_found":
            given = e.get("input")
            others = (f" (it has {', '.join(repr(k) for k in given)}; is one of them a "
                      "misspelt 'kind'?)") if isinstance(given, dict) and given else ""
            problems.append(f"{loc}: no 'kind' says which distribution this is{others}; add "
                            "kind = one of exponential, lognormal, gamma, weibull, fixed, "
                            "uniform, empirical, histogram")
        elif e["type"] == "missing":
            problems.append(f"{loc}: required key is missing")
        else:
            value = _lookup(data, e["loc"])
            shown = e.get("input", value)
            if isinstance(shown, dict):
                problems.append(f"{loc}: {msg}")
            else:
                problems.append(f"{loc} = {shown!r}: {msg}")
    return problems


def build_scenario(data: Mapping[str, Any], origin: str = "scenario") -> Scenario:
    """Validate plain data (as read from TOML) into a :class:`Scenario`.

    Raises :class:`ScenarioError` listing every problem with its key path and value.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_problems_from(error, data), origin) from None


def _empty_keys(data: Any, where: str = "") -> list[str]:
    """Key paths of keys that are empty or only spaces (``"" = 1``): never a scenario key."""
    found = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            if not str(key).strip():
                found.append(f"{where or '(top level)'}: a key with an empty name ({key!r} = "
                             f"{value!r}); remove it or write the key's name")
            found += _empty_keys(value, path)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _empty_keys(value, f"{where}[{i}]")
    return found


def _empty_tables(data: Mapping[str, Any], where: str = "", depth: int = 0) -> list[str]:
    """Key paths of empty tables inside a section (``outcome = {}``): they would silently keep
    the base's or the built-in values. An empty section such as ``[profiling]`` is allowed."""
    found = []
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if isinstance(value, Mapping):
            info = _field_info(tuple(path.split("."))) if not value and depth >= 1 else None
            if info is not None and typing.get_origin(info.annotation) is not dict:
                found.append(f"{path} = {{}}: an empty table changes nothing; give its keys "
                             "(see docs/scenario-reference.md) or remove it")
            found += _empty_tables(value, path, depth + 1)
    return found


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ScenarioError([
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line} is not UTF-8): a "
            "TOML scenario file must be saved as UTF-8; in your editor choose 'Save with "
            "encoding: UTF-8' (a £ or é typed in another encoding causes this)"], str(path)
        ) from None


def _extended(path: Path, base_name: Any) -> Path:
    """The file ``extends = base_name`` in ``path`` names: beside ``path``, else a shipped one."""
    if not isinstance(base_name, str) or not base_name.strip():
        raise ScenarioError([f"extends = {base_name!r}: must name a scenario file, e.g. "
                             'extends = "default.toml" (or remove the line)'], str(path))
    candidate = (path.parent / base_name).resolve()
    if not candidate.exists():
        shipped = shipped_scenario(base_name)
        if shipped is not None:
            return shipped
    if candidate.is_dir():
        raise ScenarioError([f"extends = {base_name!r}: {candidate} is a folder; name a "
                             "scenario file in it, e.g. extends = \"default.toml\""], str(path))
    return candidate


def _closest_file(path: Path) -> str:
    """"; did you mean scenarios/default.toml?" for a misspelt scenario file: the closest .toml
    in its folder, or "" when none is close (or the folder does not exist)."""
    import difflib

    try:
        names = sorted(p.name for p in path.parent.glob("*.toml"))
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.75)
    return f"; did you mean {path.parent / close[0]}?" if close else ""


def _read_toml(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], list[Path]]:
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError([f"extends makes a cycle: {cycle}"], str(chain[0]))
    where = f" (named by extends in {chain[-1]})" if chain else ""
    if path.is_dir():
        raise ScenarioError([f"{path} is a folder, not a scenario file{where}; name a .toml "
                             "file (ndpath scenarios lists the shipped ones)"], str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        hint = "" if chain else "; ndpath scenarios lists the shipped scenarios, runnable by name"
        raise ScenarioError([f"file not found: {path}{where}{_closest_file(path)}{hint}"],
                            str(path)) from None
    except OSError as error:
        raise ScenarioError([f"cannot be read: {error.strerror}{where}"], str(path)) from None
    text = _decode(path, raw)
    if not text.strip():
        raise ScenarioError([
            "the file is empty: a scenario file holds at least the keys it changes, e.g. "
            'extends = "default.toml" and a [meta] name (to run the defaults, run '
            "default.toml itself)"], str(path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError([f"not valid TOML: {error} (strings need quotes, e.g. name = "
                             '"My scenario"; each key once per table)'], str(path)) from None
    if not data:
        raise ScenarioError([
            "holds only comments: a scenario file needs at least one key, e.g. extends = "
            '"default.toml" and the keys it changes'], str(path))
    empty = _empty_keys(data) + _empty_tables(data)
    if empty:
        raise ScenarioError(empty, str(path))
    # a backlog table is relative to the file that names it
    backlog = data.get("backlog")
    if isinstance(backlog, dict) and isinstance(backlog.get("table"), str) and backlog["table"]:
        if not Path(backlog["table"]).is_absolute():
            backlog["table"] = str((path.parent / backlog["table"]).resolve())
    files = [path]
    if "extends" in data:
        base_path = _extended(path, data.pop("extends"))
        base, base_files = _read_toml(base_path, (*chain, path))
        data = deep_merge(base, data)
        files = base_files + files
    return data, files


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_scenario_with_sources(
    path: str | Path, overrides: Mapping[str, Any] | Sequence[str] = ()
) -> LoadedScenario:
    """Load a scenario file (following ``extends``), apply overrides, validate.

    Returns the scenario and the files it was built from, with their SHA-256 hashes (the backlog
    table among them) for provenance.
    """
    path = Path(path)
    if not path.exists() and shipped_scenario(path) is not None:
        path = shipped_scenario(path)  # type: ignore[assignment]
    path = path.resolve()
    data, files = _read_toml(path, ())
    parsed = _parse_overrides(overrides)
    _apply_overrides(data, parsed)
    try:
        scenario = build_scenario(data, str(path))
    except ScenarioError as error:
        # say which problems come from an override rather than from the file
        problems = []
        texts = _override_texts(overrides)
        for problem in error.problems:
            key = re.sub(r"\[(\d+)\]", r".\1", problem.split(" ", 1)[0].rstrip(":"))
            from_set = any(key == k or key.startswith(k + ".") for k in parsed)
            value = parsed.get(key)
            if from_set and isinstance(value, float) and texts.get(key, repr(value)) != repr(value):
                # "1e3" is a float in TOML: the problem shows 1000.0, which the user did not type
                problems.append(f"{problem} (given with --set: {texts[key]} is read as {value!r})")
            else:
                problems.append(f"{problem} (given with --set)" if from_set else problem)
        raise ScenarioError(problems, str(path)) from None
    table = scenario.backlog.table
    if scenario.backlog.enabled and table is not None:
        if not Path(table).is_file():
            why_not = "is a folder" if Path(table).is_dir() else "file not found"
            raise ScenarioError([f"backlog.table = {table!r}: {why_not}; name the CSV of the "
                                 "children waiting, relative to the scenario file"], str(path))
        files.append(Path(table))
    hashes = {str(f): file_sha256(f) for f in files}
    return LoadedScenario(scenario, tuple(str(f) for f in files), hashes)


def shipped_scenarios_dir() -> Path:
    """The folder of the scenarios shipped with ndpath: ``scenarios/`` in a clone of the
    repository, or the copy installed with the package (``model/scenarios`` in a wheel)."""
    installed = Path(__file__).resolve().parent / "scenarios"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "scenarios"


def shipped_scenario(name: str | Path) -> Path | None:
    """The shipped scenario called ``name`` (``default``, ``default.toml`` or
    ``validation/mmc``), or ``None`` when there is none by that name."""
    text = str(name).strip()
    if not text or Path(text).is_absolute() or ".." in Path(text).parts:
        return None
    folder = shipped_scenarios_dir()
    for candidate in (folder / text, folder / f"{text}.toml"):
        if candidate.is_file() and candidate.suffix == ".toml":
            return candidate.resolve()
    return None


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Sequence[str] = ()) -> Scenario:
    """Load and validate a scenario file; see :func:`load_scenario_with_sources`."""
    return load_scenario_with_sources(path, overrides).scenario


__all__ = [
    "Scenario", "ScenarioError", "LoadedScenario", "load_scenario", "load_scenario_with_sources",
    "build_scenario", "deep_merge", "shipped_scenario", "shipped_scenarios_dir", "Profession", "StaffingChange", "OutsourcedBlock", "DAYS_PER_YEAR",
    "DAYS_PER_WEEK", "WEEKS_PER_YEAR",
]
