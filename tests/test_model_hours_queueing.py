"""The clinical-hours engine against queueing theory: M/M/1 and M/G/1 (Pollaczek-Khinchine).

Every pathway scenario runs the clinical-hours engine, not the ``servers`` reduction that
``test_model_queueing.py`` checks against Erlang C. ``scenarios/validation/mg1_hours.toml``
switches every stage off but Poisson referrals (0.8 a day) and the assessment, gives the team
exactly c = 1 clinical hour a day and each assessment a random number of hours (mean 1), and
holds clinics every ``session_interval_days`` = d days. The wait is referral to assessment start.

How far can sessions move a child's wait from one continuous FIFO server working at c hours a
day (the M/G/1 queue whose mean wait is Pollaczek-Khinchine's lambda E[S^2] / (2 (1 - rho)))?
The engine (``PathwayModel._clinic_sessions``): a session at day k d adds c d hours to a budget;
children are started, in list order, while the budget is positive, the last one overdrawing it;
a deficit is carried to the next session, and hours left with nobody waiting are lost.

Let U be the work started but not yet paid for, worked off at c hours a day. Its value before a
session's grant is exactly the engine's deficit (both follow D' = max(0, D + started - c d)),
so the engine is a single server working continuously at rate c on work *committed* at session
times, with a child committed while U < c d. Call P_n the time the server reaches child n's work
and T_n the child's logged start (its commitment). Then, pathwise, for every child n:

* T_n <= P_n < T_n + d: at commitment U < c d, and P_n = T_n + U / c (the work is pre-paid);
* T*_n <= P_n <= T*_n + d, with T*_n the continuous server's start: P_n = max(commitment,
  P_{n-1} + S_{n-1} / c), and a child is committed at the first session after referral (within
  d) unless the server is busy past the next session anyway, in which case P_n = P_{n-1} +
  S_{n-1} / c; induction on n gives both sides.

So -d < W_n - W*_n <= d for every child, the same for means, and
|mean W_sim - W_theory| <= 3 standard errors + d. The tests check the pathwise bound child by
child (against the continuous server fed the same referrals and hours), the plain mean and a
control-variate mean (the continuous server's waits, whose mean is the formula) within 3 standard
errors plus d, and the inputs themselves. With d much shorter than an assessment the bound is
tight (d = 0.1 day: 2.5% of the 4-day M/M/1 wait); with d = 1 day it is what separates
simulation and theory, far beyond 3 standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers import control_variate_interval, hours_queue_replication, mean_interval
from model.executors import SerialExecutor
from model.scenario import Scenario, load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "validation" / "mg1_hours.toml"
WARM_UP_DAYS = 365.0
TAIL_DAYS = 30.0
REPLICATIONS = 6
ARRIVALS_PER_DAY = 0.8
HOURS_PER_DAY = 1.0


def _run(overrides: dict[str, Any]) -> tuple[Scenario, pd.DataFrame]:
    """Replications in this process: a few seconds each, less than a process pool's start-up."""
    scenario = load_scenario(SCENARIO).replace({"simulation.horizon_months": 120, **overrides})
    tasks = [(scenario, k, WARM_UP_DAYS, TAIL_DAYS) for k in range(REPLICATIONS)]
    return scenario, pd.DataFrame(SerialExecutor().map(hours_queue_replication, tasks))


def _check(scenario: Scenario, reps: pd.DataFrame, hours_sd: float) -> dict[str, Any]:
    """Inputs, the pathwise bound and both means against Pollaczek-Khinchine; returns the numbers."""
    d = scenario.assessment.session_interval_days
    assert scenario.assessment.clinical_hours_per_week() / 7.0 == pytest.approx(HOURS_PER_DAY)
    # the inputs: Poisson referrals at 0.8 a day, hours with mean 1 and the given sd
    arrivals, days = reps["arrivals"].sum(), reps["window_days"].sum()
    assert abs(arrivals - ARRIVALS_PER_DAY * days) < 4 * math.sqrt(ARRIVALS_PER_DAY * days)
    mean_hours = mean_interval(reps["hours_mean"])
    assert mean_hours[1] <= 1.0 <= mean_hours[2] and abs(mean_hours[0] - 1) < 0.02
    var_hours = mean_interval(reps["hours_var"])
    assert var_hours[1] <= hours_sd**2 <= var_hours[2] and abs(var_hours[0] / hours_sd**2 - 1) < 0.06
    service_mean = 1.0 / HOURS_PER_DAY
    second_moment = (hours_sd**2 + 1.0) / HOURS_PER_DAY**2
    rho = ARRIVALS_PER_DAY * service_mean
    theory = ARRIVALS_PER_DAY * second_moment / (2 * (1 - rho))
    # the derived bound, child by child: -d < W - W* <= d
    assert reps["gap_min"].min() > -d - 1e-9 and reps["gap_max"].max() <= d + 1e-9
    plain = mean_interval(reps["wait_mean"])
    plain_se = (plain[2] - plain[1]) / (2 * 1.96)
    controlled = control_variate_interval(reps["wait_mean"], reps["control_wait_mean"], theory)
    controlled_se = (controlled[2] - controlled[1]) / (2 * 1.96)
    control = mean_interval(reps["control_wait_mean"])
    numbers = {"d": d, "theory": theory, "plain": plain, "controlled": controlled,
               "continuous server": control, "mean gap": reps["gap_mean"].mean()}
    print(numbers)
    # the continuous server on the same inputs is the textbook queue: it covers the formula
    assert abs(control[0] - theory) <= 3 * (control[2] - control[1]) / (2 * 1.96), numbers
    assert abs(plain[0] - theory) <= 3 * plain_se + d, numbers
    assert abs(controlled[0] - theory) <= 3 * controlled_se + d, numbers
    numbers["controlled_se"] = controlled_se
    return numbers


def test_short_sessions_match_mm1() -> None:
    """Exponential hours, sessions every 0.1 day (a tenth of an assessment): M/M/1, W = 4 days."""
    scenario, reps = _run({"assessment.session_interval_days": 0.1})
    numbers = _check(scenario, reps, hours_sd=1.0)
    assert numbers["theory"] == pytest.approx(4.0)


def test_short_sessions_match_mg1_pollaczek_khinchine() -> None:
    """Gamma hours (mean 1, sd 0.5), sessions every 0.1 day: M/G/1, W = 0.8 x 1.25 / 0.4 = 2.5."""
    scenario, reps = _run({"assessment.session_interval_days": 0.1,
                                 "assessment.hours_per_assessment":
                                     {"kind": "gamma", "mean": 1.0, "sd": 0.5}})
    numbers = _check(scenario, reps, hours_sd=0.5)
    assert numbers["theory"] == pytest.approx(2.5)


def test_day_long_sessions_need_the_interval_bound() -> None:
    """Sessions every day (as long as an assessment): the wait moves by more than 3 standard
    errors from M/M/1's, and stays within 3 standard errors plus one interval."""
    scenario, reps = _run({"assessment.session_interval_days": 1.0})
    numbers = _check(scenario, reps, hours_sd=1.0)
    assert abs(numbers["controlled"][0] - numbers["theory"]) > 3 * numbers["controlled_se"], numbers
