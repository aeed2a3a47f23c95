"""Parameter uncertainty: each replication draws its own values of the uncertain parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.assumptions import assumptions
from model.experiment import run_replications
from model.scenario import Scenario, ScenarioError
from model.uncertainty import centred_range, realise

SMALL = {"simulation.horizon_months": 12, "backlog.count": 1500}


def _uncertain(**extra: object) -> Scenario:
    return Scenario().replace({**SMALL, "uncertainty.enabled": True,
                               "uncertainty.from_assumptions": True, **extra})


def test_switched_off_nothing_changes() -> None:
    s = Scenario().replace(SMALL)
    assert realise(s, 3, 42) is s


def test_draws_stay_in_range_vary_by_replication_and_are_shared_across_scenarios() -> None:
    s = _uncertain()
    ranges = {a.key: (a.low, a.high) for a in assumptions(s)}
    draws = [realise(s, k, 7) for k in range(6)]
    for d in draws:
        for key, (low, high) in ranges.items():
            section, name = key.split(".")
            assert low <= getattr(getattr(d, section), name) <= high
    assert len({d.leaving.withdrawal_per_year for d in draws}) == 6
    # a scenario that differs only in staffing draws the same uncertain values (paired runs)
    other = s.replace({"assessment.professions.0.wte": 9.0})
    assert realise(other, 2, 7).leaving == draws[2].leaving
    assert realise(s, 2, 7) == draws[2]  # stateless: the same draw again


def test_each_assumption_is_drawn_over_its_range_with_the_scenario_value_as_its_mean() -> None:
    """What we don't know widens the bands; it must not move the assumption itself. Growth's
    range is 0 to 20% about 8%, going private 2 to 15% about 5%: a plain uniform over those
    ranges averaged 10% and 8.5%, moving the middle of every projection (the median wait fell
    from about 100 to 81 weeks on the default when uncertainty was switched on)."""
    s = _uncertain()
    items = assumptions(s)
    n = 1500
    draws = [realise(s, k, 11) for k in range(n)]
    for item in items:
        section, name = item.key.split(".")
        x = np.array([float(getattr(getattr(d, section), name)) for d in draws])
        spread = (item.high - item.low) / math.sqrt(12)  # at most a uniform's sd over the range
        assert abs(x.mean() - item.value) < 4 * spread / math.sqrt(n), item.key
        assert x.min() < item.value < x.max(), item.key  # both sides of the value are drawn
        assert item.low <= x.min() and x.max() <= item.high, item.key
        width = item.high - item.low  # and most of the range is reached
        assert x.min() - item.low < 0.05 * width and item.high - x.max() < 0.05 * width, item.key


def test_a_centred_range_is_increasing_in_its_uniform_and_exact_at_the_ends() -> None:
    dist = centred_range(0.08, 0.0, 0.2)
    x = dist.ppf(np.linspace(0.0, 1.0, 401))
    assert np.all(np.diff(x) > 0) and x[0] == 0.0 and x[-1] == pytest.approx(0.2)
    assert dist.ppf(np.array([0.6]))[0] == pytest.approx(0.08)  # P(below 8%) = 0.12 / 0.2
    assert dist.mean_value == pytest.approx(0.08)
    assert centred_range(0.5, 0.5, 0.5).ppf(np.array([0.3]))[0] == 0.5  # no range: the value


def test_explicit_distribution_wins_over_the_plausible_range() -> None:
    s = _uncertain(**{"uncertainty.parameters": {
        "leaving.withdrawal_per_year": {"kind": "fixed", "value": 0.5}}})
    assert realise(s, 0, 1).leaving.withdrawal_per_year == 0.5


def test_intervals_widen_to_include_what_is_not_known() -> None:
    known = run_replications(Scenario().replace(SMALL), 6, 11, "serial").summary.set_index("metric")
    unknown = run_replications(_uncertain(), 6, 11, "serial").summary.set_index("metric")
    width = lambda t: t.loc["waiting_list_end", "ci_high"] - t.loc["waiting_list_end", "ci_low"]  # noqa: E731
    assert width(unknown) > 3 * width(known)


def test_an_unknown_key_is_named() -> None:
    with pytest.raises(ScenarioError, match="leaving.withdrawl"):
        Scenario().replace({"uncertainty.parameters": {
            "leaving.withdrawl": {"kind": "uniform", "low": 0.0, "high": 1.0}}})


def test_the_engine_runs_the_scenario_it_is_given_and_the_draws_happen_above_it() -> None:
    """Issue 13: the engine imports nothing from the experiment layer; a replication's parameter
    values are drawn before its engine runs, and give the same numbers as the engine on the
    realised scenario."""
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np

    from model.metrics import replication_metrics
    from model.pathway import simulate
    from model.uncertainty import simulate_replication

    code = ("import sys, model.pathway; print(sorted(m for m in sys.modules if m in "
            "('model.uncertainty', 'model.experiment', 'model.assumptions', 'model.sensitivity')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr

    s = _uncertain(**{"simulation.horizon_months": 6, "backlog.count": 300})
    drawn = simulate_replication(s, 3, 11)
    direct = simulate(realise(s, 3, 11), 3, 11)
    assert drawn.scenario == realise(s, 3, 11) != s
    a, b = replication_metrics(drawn), replication_metrics(direct)
    assert a.keys() == b.keys()
    assert all(np.isclose(a[k], b[k], equal_nan=True) for k in a)
    # the engine itself does not draw: given the uncertain scenario, it runs its central values
    assert simulate(s, 3, 11).scenario is s
