"""Hazards as rates over exposure: leaving the list and escalation, estimated from the log alone.

A constant hazard h means events / time at risk estimates h with relative standard error
1 / sqrt(events). In a whole pathway (referrals, vetting, assessment, support, ageing out and
the other exits all competing), tens of thousands of child-years put that error near 1%, so a
hazard set 10% low (issue 8, item 7) is many standard errors out. Hazards are raised above the
defaults so that one replication has thousands of events.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import first_time
from model.pathway import SimulationResult, simulate
from model.scenario import DAYS_PER_YEAR, Scenario

HAZARDS = {"withdrawn": 0.4, "moved": 0.2, "private": 0.3}
ESCALATION_PER_YEAR, SUPPORT_RISK_RATIO = 1.0, 0.6


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    scenario = Scenario().replace({
        "simulation.horizon_months": 24, "backlog.count": 8000,
        "arrivals.referrals_per_month": 400.0,
        # many supported part-way through their wait, for long episodes that end before it does
        "support.capacity": "starts_per_month", "support.starts_per_month": 300.0,
        "support.episode_weeks": {"kind": "gamma", "mean": 40.0, "sd": 15.0},
        "leaving.withdrawal_per_year": HAZARDS["withdrawn"],
        "leaving.moved_per_year": HAZARDS["moved"],
        "leaving.private_per_year": HAZARDS["private"],
        "escalation.unsupported_per_year": ESCALATION_PER_YEAR,
        "escalation.support_risk_ratio": SUPPORT_RISK_RATIO})
    return simulate(scenario, 1)


def _end_of_wait(result: SimulationResult) -> np.ndarray:
    """Per child, when their wait ended: assessment start, exit or the horizon."""
    return np.fmin(np.fmin(first_time(result, "assessment_start"), first_time(result, "exit")),
                   result.horizon_days)


def _within(events: int, exposure_days: float, per_year: float) -> tuple[bool, str]:
    estimate = events / exposure_days * DAYS_PER_YEAR
    z = math.log(estimate / per_year) * math.sqrt(events)
    return abs(z) < 4, f"{estimate:.4f}/yr from {events} events over " \
                       f"{exposure_days / DAYS_PER_YEAR:.0f} child-years vs {per_year} (z = {z:.1f})"


def test_leaving_hazards_are_events_over_time_at_risk(result: SimulationResult) -> None:
    """Each leaving route's exits / time at risk (from vetting, or day 0 for the list at the
    start, to the end of the wait) is its hazard, within 4 standard errors (about 4%)."""
    children = result.children
    clock = np.where(children["backlog"].to_numpy(), 0.0, first_time(result, "vetted"))
    at_risk = np.isfinite(clock)  # rejected at vetting: never on the list
    exposure = float(np.clip(_end_of_wait(result) - clock, 0.0, None)[at_risk].sum())
    assert exposure / DAYS_PER_YEAR > 10_000
    exits = result.events[result.events["event"] == "exit"]["detail"].astype(str).value_counts()
    for reason, per_year in HAZARDS.items():
        ok, text = _within(int(exits[reason]), exposure, per_year)
        print(reason, text)
        assert ok, f"{reason}: {text}"


def test_escalation_hazards_are_events_over_time_at_risk(result: SimulationResult) -> None:
    """Escalations outside an episode of support / unsupported time, and during one / supported
    time, from referral (day 0 for the list at the start) to the end of the wait, within 4
    standard errors. The benefit lasts only while supported: time after an episode is unsupported."""
    start = np.maximum(result.children["referral_day"].to_numpy(), 0.0)
    end = _end_of_wait(result)
    support = first_time(result, "support_start")
    support_end = first_time(result, "support_end")
    on = np.clip(np.where(np.isfinite(support), support, np.inf), start, np.maximum(end, start))
    off = np.clip(np.where(np.isfinite(support_end), support_end, end), on, np.maximum(end, on))
    total = float(np.clip(end - start, 0.0, None).sum())
    supported = float((off - on).sum())
    unsupported = total - supported
    after = float(np.clip(end - off, 0.0, None).sum())
    assert supported / DAYS_PER_YEAR > 3_000 and unsupported / DAYS_PER_YEAR > 6_000
    assert after / DAYS_PER_YEAR > 500, "some children wait on after their episode ends"
    ev = result.events[result.events["event"] == "escalation"]
    child, time = ev["child"].to_numpy(), ev["time_days"].to_numpy()
    during = (time >= on[child]) & (time < off[child])
    before = ~during
    for events, exposure, per_year in ((int(before.sum()), unsupported, ESCALATION_PER_YEAR),
                                       (int((~before).sum()), supported,
                                        ESCALATION_PER_YEAR * SUPPORT_RISK_RATIO)):
        ok, text = _within(events, exposure, per_year)
        print(text)
        assert ok, text


def test_poisson_inverse_cdf_is_scipys_for_every_mean() -> None:
    """The escalation counts' inverse CDF (summed term by term for small means, SciPy's special
    functions for large ones, without importing scipy.stats) is SciPy's Poisson ppf exactly."""
    from scipy import stats

    from model.pathway import poisson_ppf

    rng = np.random.default_rng(3)
    u = np.concatenate([rng.random(20_000), [0.0, 1e-12, 0.5, 1 - 1e-12]])
    for mean in (rng.uniform(0.0, 30.0, len(u)), rng.uniform(30.0, 900.0, len(u))):
        expected = np.maximum(stats.poisson.ppf(u, mean), 0).astype(np.int64)
        np.testing.assert_array_equal(poisson_ppf(u, mean), expected)
