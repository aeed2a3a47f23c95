"""One-at-a-time sensitivity over the assumptions' plausible ranges."""

from __future__ import annotations

import pytest

from model.scenario import Scenario
from model.sensitivity import assumptions, one_at_a_time, parse_range, tornado_chart


@pytest.mark.parametrize(("text", "expected"), [
    ("0.02-0.10", (0.02, 0.10)), ("40k-60k", (40_000, 60_000)), ("1,500-3,000", (1500, 3000)),
    ("7-28 days", (7, 28)), ("", None), ("autism 0.4-0.7", None), ("0.9-0.1", None),
])
def test_parse_range(text: str, expected: tuple[float, float] | None) -> None:
    assert parse_range(text) == expected


def test_assumptions_follow_the_switches() -> None:
    keys = {a.key for a in assumptions(Scenario())}
    assert "leaving.withdrawal_per_year" in keys and "escalation.support_risk_ratio" in keys
    assert not any(k.startswith("profiling.") for k in keys)  # profiling is off by default
    with_profiling = {a.key for a in assumptions(Scenario().replace({"profiling.enabled": True}))}
    assert "profiling.diagnosis_requested_anyway" in with_profiling
    assert "support.starts_per_month" not in keys  # a decision to compare, not an unknown
    assert "support.places" not in keys
    for a in assumptions(Scenario()):
        assert a.low <= a.high


def test_one_at_a_time_direction_and_exact_nulls() -> None:
    s = Scenario().replace({"simulation.horizon_months": 12, "backlog.count": 1500})
    table = one_at_a_time(s, "waiting_list_end", replications=4, executor="serial",
                          keys=["leaving.withdrawal_per_year", "support.cost_per_week"])
    row = table.set_index("parameter")
    # more withdrawals -> a shorter list, decisively (paired interval below zero)
    assert row.loc["leaving.withdrawal_per_year", "diff_high_ci_high"] < 0
    assert row.loc["leaving.withdrawal_per_year", "diff_low_ci_low"] > 0
    # a price cannot move the list: with common random numbers the difference is exactly zero
    assert row.loc["support.cost_per_week", "diff_low"] == 0
    assert row.loc["support.cost_per_week", "diff_high"] == 0
    assert table["parameter"].iloc[0] == "leaving.withdrawal_per_year"  # sorted by swing
    fig = tornado_chart(table)
    assert len(fig.axes[0].patches) == 2 * len(table)


def test_unknown_keys_are_named() -> None:
    with pytest.raises(ValueError, match="profiling.practitioner_wte"):
        one_at_a_time(Scenario(), keys=["profiling.practitioner_wte"], executor="serial")


def test_ranges_move_with_the_scenario_and_stay_allowed() -> None:
    from model.assumptions import assumptions as found

    at_default = {a.key: a for a in found(Scenario())}
    w = at_default["leaving.withdrawal_per_year"]
    assert (w.low, w.high) == (w.plausible_low, w.plausible_high) == (0.02, 0.10)
    moved = {a.key: a for a in found(Scenario().replace({"leaving.withdrawal_per_year": 0.3,
                                                         "escalation.support_risk_ratio": 0.95}))}
    assert moved["leaving.withdrawal_per_year"].low == pytest.approx(0.28)
    assert moved["leaving.withdrawal_per_year"].high == pytest.approx(0.36)
    assert moved["escalation.support_risk_ratio"].high == 1.0  # a ratio cannot pass its bound
