"""Assumptions: scenario keys whose defaults have no good public figure, with plausible ranges.

The schema marks them (``json_schema_extra={"assumption": ..., "plausible_range": "a-b"}``);
sensitivity analysis and parameter uncertainty both read them from here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .scenario import Scenario

_RANGE = re.compile(r"^\s*([0-9][0-9.,]*)(k?)\s*-\s*([0-9][0-9.,]*)(k?)\b")


@dataclass(frozen=True)
class Assumption:
    """A scalar scenario key whose default is an assumption, and the range to explore.

    The schema gives a plausible range around the default. A scenario may set its own value (a
    calibrated withdrawal rate, say), so the range explored is the plausible range moved to
    centre on the scenario's value: ``value - (default - low)`` to ``value + (high - default)``,
    kept within the key's allowed values. At the default it is exactly the plausible range.
    """

    key: str
    value: float
    low: float
    high: float
    note: str
    default: float
    plausible_low: float
    plausible_high: float


def _number(text: str, thousands: str) -> float:
    return float(text.replace(",", "")) * (1000.0 if thousands else 1.0)


def parse_range(text: str) -> tuple[float, float] | None:
    """``"0.02-0.10"`` → (0.02, 0.1); ``"40k-60k"`` → (40000, 60000); anything else → None."""
    match = _RANGE.match(text or "")
    if not match:
        return None
    low, high = _number(match[1], match[2]), _number(match[3], match[4])
    return (low, high) if low <= high else None


def _allowed(info: FieldInfo) -> tuple[float, float]:
    """The key's allowed interval from its schema bounds."""
    low, high = -math.inf, math.inf
    for item in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(item, attr, None) is not None:
                low = max(low, float(getattr(item, attr)))
        for attr in ("le", "lt"):
            if getattr(item, attr, None) is not None:
                high = min(high, float(getattr(item, attr)))
    return low, high


def assumptions(scenario: Scenario) -> list[Assumption]:
    """Every scalar assumption with a numeric plausible range, in the sections that are switched on."""
    found = []
    for section_name in type(scenario).model_fields:
        section: BaseModel = getattr(scenario, section_name)
        if getattr(section, "enabled", True) is False:
            continue
        for key, info in type(section).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            value = getattr(section, key)
            if "assumption" not in extra or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            bounds = parse_range(str(extra.get("plausible_range", "")))
            if bounds is None or not isinstance(info.default, (int, float)):
                continue
            default, (low, high) = float(info.default), bounds
            allowed_low, allowed_high = _allowed(info)
            if low >= 0:
                # a range stated non-negative stays so when moved (a calibrated growth of 7.7%
                # would reach -0.3%): ranges are drawn as uniform distributions, which are
                # non-negative, and a negative draw crashed every run with uncertainty included
                allowed_low = max(allowed_low, 0.0)
            moved_low = max(allowed_low, float(value) - (default - low))
            moved_high = max(moved_low, min(allowed_high, float(value) + (high - default)))
            found.append(Assumption(
                f"{section_name}.{key}", float(value),
                low=moved_low,
                high=moved_high,
                note=str(extra["assumption"]), default=default, plausible_low=low,
                plausible_high=high))
    return found


