"""Strict input types shared by every validated model (scenario sections and distributions).

Scenario files are typed by hand. A quoted ``"1e3"`` or a ``true`` where a number belongs is a
mistake to report, not a value to coerce, and ``nan`` or ``inf`` can never be a rate, a cost or a
duration. :class:`StrictInput` is the base that says so once, for every model built on it:

* numbers must be numbers (a TOML string or boolean is refused; an integer is a fine float);
  whole-number keys refuse ``2.5``; booleans refuse ``0`` / ``1``; dates refuse strings;
* every float must be finite (``nan``, ``inf`` refused);
* lists are accepted where the schema holds tuples, and NumPy / pandas scalars from Python
  callers are taken as the plain values they stand for (``numpy.int64(3)`` is 3; a midnight
  timestamp is its date), so code that builds scenarios from fitted values keeps working.

:func:`describe` turns one pydantic error into words a user can act on. A new scenario key gets
all of this by being declared on a model derived from :class:`StrictInput`; a bound with a
physical reason is declared with :func:`why` in the field's ``json_schema_extra``.

>>> from pydantic import Field, ValidationError
>>> class Rate(StrictInput):
...     per_year: float = Field(0.1, ge=0)
>>> try:
...     Rate.model_validate({"per_year": "0.2"})
... except ValidationError as error:
...     print(describe(error.errors()[0]))
'0.2' is text in quotes, not a number: write it without the quotes
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from typing import Annotated, Any, Mapping

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

LARGEST = 1e6
"""The largest parameter of a distribution: no duration (days, weeks), number of hours or age in
a scenario comes near a million; a bigger number is a unit or typing mistake."""


def why(reason: str) -> dict[str, Any]:
    """Field metadata: the physical reason for a field's bounds, shown when a value is outside."""
    return {"why": reason}


def _iso_date(value: Any) -> Any:
    """A date given as ISO text (``"2026-01-01"``, as Python callers and quoted TOML give it) is
    that date; an impossible one says why; anything else is left to the strict date check."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        year, month, day = (int(p) for p in value.strip().split("-"))
        if not 1 <= month <= 12:
            raise ValueError(f"there is no month {month}: write the date as YYYY-MM-DD")
        days = calendar.monthrange(year, month)[1] if year >= 1 else 31
        if not 1 <= day <= days:
            raise ValueError(f"{calendar.month_name[month]} {year} has {days} days, so there is "
                             f"no day {day}")
        return dt.date(year, month, day)
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A calendar date: a TOML date (``2026-01-01`` unquoted), a ``datetime.date`` or its ISO text;
never a number or a date in another order."""


def plain(value: Any) -> Any:
    """``value`` with lists as tuples and NumPy / pandas scalars as plain Python values."""
    if isinstance(value, list):
        return tuple(plain(v) for v in value)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, dt.datetime):
        # a timestamp at midnight is a date (pandas gives dates as timestamps); any other time
        # of day is left for the validator to refuse: the model's calendar is in days
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date()
    return value


class StrictInput(BaseModel):
    """Base of every validated input model: strict types, finite numbers (see the module)."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _plain_values(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: plain(v) for k, v in data.items()}
        return data


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time of day"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bound_words(error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    words = {"greater_than": "more than {gt}", "greater_than_equal": "at least {ge}",
             "less_than": "less than {lt}", "less_than_equal": "at most {le}"}
    template = words[error["type"]]
    return "must be " + template.format(**{k: f"{v:,g}" if isinstance(v, (int, float)) else v
                                           for k, v in ctx.items()})


def describe(error: Mapping[str, Any], reason: str | None = None) -> str:
    """One pydantic error in a user's words, with the fix (``reason``: why the bound exists)."""
    kind, value = error["type"], error.get("input")
    seen = _kind_of(value)
    if kind == "float_type" or kind == "int_type" and not isinstance(value, float):
        if isinstance(value, bool):
            return f"true/false is not a number: write a number{' (whole)' if kind == 'int_type' else ''}"
        if isinstance(value, str) and _looks_numeric(value.strip()):
            return f"{value!r} is text in quotes, not a number: write it without the quotes"
        return f"must be a number, not {seen}"
    if kind in ("int_type", "int_from_float"):
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            # 1000.0 or 1e3, a float in TOML: say the whole number to write
            return f"must be a whole number (no decimal part): write {int(value)}"
        return "must be a whole number (no decimal part)"
    if kind == "finite_number":
        return "must be a finite number (nan and inf are not values)"
    if kind == "bool_type":
        return f"must be true or false (unquoted), not {seen}"
    if kind in ("date_type", "date_parsing", "date_from_datetime_inexact"):
        if isinstance(value, dt.datetime):
            return "must be a date without a time of day: write it as YYYY-MM-DD"
        if isinstance(value, str):
            return "must be a date written as YYYY-MM-DD (year, month, day), e.g. 2026-04-01"
        return f"must be a date written as YYYY-MM-DD, not {seen}"
    if kind in ("string_type", "literal_error") and not isinstance(value, str):
        expected = error.get("ctx", {}).get("expected")
        choice = f" ({expected})" if expected else ""
        return f"must be text in quotes{choice}, not {seen}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list [ ... ], not {seen}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a table ({{ ... }} or a [section]), not {seen}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} cannot be used here" + (f": {reason}" if reason else "")
    if kind in ("string_too_short", "too_short") and not value:
        return "is empty: give a value"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _bound_words(error) + (f" ({reason})" if reason else "")
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return message[:1].lower() + message[1:] if message else kind


def finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


__all__ = ["StrictInput", "IsoDate", "describe", "why", "plain", "LARGEST"]
