"""The children waiting held in the scenario itself (``backlog.waiting``), for in-memory use."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from model.pathway import simulate
from model.scenario import Scenario, ScenarioError, build_scenario

WAITING = {"referral_date": ["2024-01-01", "2025-06-01", "2023-03-04"],
           "priority": ["routine", "urgent", "routine"], "looked_after_or_cin": [False, True, False],
           "age_at_referral": [6.0, 9.5, 12.0]}


def _scenario(tmp_table: str | None = None) -> Scenario:
    s = Scenario().replace({"simulation.horizon_months": 3, "arrivals.enabled": False})
    if tmp_table is None:
        return s.replace({"backlog.waiting": WAITING})
    return s.replace({"backlog.table": tmp_table})


def test_inline_columns_give_the_same_children_as_the_csv_table(tmp_path) -> None:
    path = tmp_path / "waiting.csv"
    rows = ["referral_date,priority,looked_after_or_cin,age_at_referral"]
    rows += [f"{d},{p},{str(l).lower()},{a}" for d, p, l, a in zip(*WAITING.values())]
    path.write_text("\n".join(rows) + "\n")
    inline, table = simulate(_scenario()), simulate(_scenario(str(path)))
    assert inline.children.equals(table.children)
    assert inline.events.equals(table.events)
    # oldest first, with the time already waited
    assert np.allclose(inline.children["referral_day"], [-1034, -731, -214])


def test_inline_columns_round_trip_through_toml() -> None:
    s = _scenario()
    assert build_scenario(tomllib.loads(s.to_toml())) == s


def test_bad_inline_columns_are_named() -> None:
    with pytest.raises(ScenarioError, match=r"backlog.waiting.pathway\[0\] = 'asd'"):
        Scenario().replace({"backlog.waiting": {"referral_date": ["2025-01-01"], "pathway": ["asd"]}})
    with pytest.raises(ScenarioError, match="column priority has 1 values but referral_date has 2"):
        Scenario().replace({"backlog.waiting": {"referral_date": ["2025-01-01", "2025-02-01"],
                                                "priority": ["urgent"]}})
    with pytest.raises(ScenarioError, match="either as table"):
        Scenario().replace({"backlog.waiting": {"referral_date": ["2025-01-01"]},
                            "backlog.table": "x.csv"})
    with pytest.raises(ScenarioError, match=r"referral_date\[0\] = 2027-01-01 is after the start"):
        simulate(Scenario().replace({"backlog.waiting": {"referral_date": ["2027-01-01"]}}))
