"""Review findings in the pathway: children's event times and priority rules."""

from __future__ import annotations

import numpy as np

from model.metrics import child_times, replication_metrics
from model.pathway import simulate
from model.scenario import Scenario


def test_no_child_leaves_before_being_referred() -> None:
    """A child referred at or after the transfer age (here 16, with referrals up to 18) transfers
    to adult services when the referral is accepted, never at a birthday before the referral:
    an exit logged before the referral would count in the month of the birthday and make the
    child's time on the pathway negative."""
    scenario = Scenario().replace({
        "simulation.horizon_months": 6,
        "backlog.count": 200,
        "leaving.age_out_years": 16.0,
    })
    result = simulate(scenario, 0)
    ev = result.events
    referral = result.children["referral_day"].to_numpy()
    exits = ev[ev["event"] == "exit"]
    early = exits["time_days"].to_numpy() < referral[exits["child"].to_numpy()]
    assert int(early.sum()) == 0, f"{int(early.sum())} exits before the referral"
    aged = exits[exits["detail"] == "aged_out"]
    assert len(aged) > 0  # the scenario does exercise the rule
    t = child_times(result)
    assert not (t.exit < t.referral).any()
    assert replication_metrics(result)["aged_out"] == len(aged)
