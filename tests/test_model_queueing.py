"""The textbook reductions against queueing theory: M/M/c (Erlang C) and M/M/c+M (Erlang A).

The scenarios in ``scenarios/validation/`` switch every stage off but arrivals and a c-server
queue (``capacity_model = "servers"``). The run starts empty, so referrals in a warm-up year are
dropped, and referrals in the last days are dropped so that every child in the window has been
served (or has left) by the horizon.

To see the measured agreement: ``.venv/bin/pytest tests/test_model_queueing.py -m slow -s``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import (WAIT_THRESHOLDS_DAYS, MMc, control_variate_interval, erlang_a,
                     erlang_a_replication, erlang_c, mean_interval, mmc_replication, within)
from model.executors import get_executor
from model.scenario import load_scenario

VALIDATION = Path(__file__).resolve().parents[1] / "scenarios" / "validation"
WARM_UP_DAYS = 365.0
TAIL_DAYS = 60.0
RELATIVE = 0.02


def _erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B by its textbook recursion B(k) = a B(k-1) / (k + a B(k-1)) (an independent route)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


# -------------------------------------------------------------------------------------------------
# The analytic formulas themselves


def test_erlang_c_matches_textbook_values() -> None:
    # c = 2, a = 1: P0 = 1/3, C = 1/3; c = 3, a = 2: P0 = 1/9, C = 4/9 (hand calculation)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    assert erlang_c(1, 0.9) == pytest.approx(0.9, rel=1e-12)  # M/M/1: P(wait) = rho
    # C = c B / (c - a (1 - B)) links it to the Erlang B recursion, for the validation queue too
    for c, a in ((10, 9.0), (50, 45.0), (200, 190.0)):
        b = _erlang_b(c, a)
        assert erlang_c(c, a) == pytest.approx(c * b / (c - a * (1 - b)), rel=1e-10)
    assert erlang_c(10, 9.0) == pytest.approx(0.6687, abs=1e-4)


def test_erlang_a_limits() -> None:
    # theta -> 0: Erlang C; theta = mu: the count is Poisson(a) as in M/M/infinity;
    # theta -> infinity: whoever would wait leaves at once, so P(abandon) = Erlang B
    c, lam, mu = 10, 9.0, 1.0
    slow = erlang_a(lam, mu, c, 1e-7, states=20_000)
    assert slow["p_wait"] == pytest.approx(erlang_c(c, lam / mu), rel=1e-4)
    assert slow["mean_wait_all"] == pytest.approx(MMc(lam, mu, c).mean_wait, rel=1e-4)
    same = erlang_a(lam, mu, c, mu)
    n = np.arange(200)
    poisson = stats.poisson.pmf(n, lam / mu)
    assert same["p_abandon"] == pytest.approx(
        (poisson * np.maximum(n - c, 0)).sum() * mu / lam, rel=1e-10)
    assert same["p_wait"] == pytest.approx(stats.poisson.sf(c - 1, lam / mu), rel=1e-10)
    fast = erlang_a(lam, mu, c, 1e6)
    assert fast["p_abandon"] == pytest.approx(_erlang_b(c, lam / mu), rel=1e-4)
    # flow balance: served + abandoned = arrivals; served wait <= wait of all who wait
    a = erlang_a(10.0, 1.0, 10, 0.5)
    assert a["p_served"] + a["p_abandon"] == pytest.approx(1.0, abs=1e-12)


def test_fast_single_server_control_is_lindley() -> None:
    from helpers import fast_single_server_waits

    rng = np.random.default_rng(3)
    arrivals = np.cumsum(rng.exponential(1.0, 500))
    work = rng.exponential(1.8, 500)
    waits = fast_single_server_waits(arrivals, work, 2.0)
    w = [0.0]
    for k in range(1, 500):
        w.append(max(0.0, w[-1] + work[k - 1] / 2.0 - (arrivals[k] - arrivals[k - 1])))
    np.testing.assert_allclose(waits, w, atol=1e-9)


# -------------------------------------------------------------------------------------------------
# Simulation against theory


def _report(title: str, rows: dict[str, dict]) -> str:
    lines = [title]
    for name, r in rows.items():
        lines.append(f"  {name:<22} analytic {r['analytic']:.5f}  simulated {r['simulated']:.5f} "
                     f"(95% CI {r['ci'][0]:.5f} to {r['ci'][1]:.5f}), "
                     f"relative error {100 * r['relative_error']:.2f}%")
    return "\n".join(lines)


@pytest.mark.slow
def test_mmc_waits_match_erlang_c() -> None:
    """M/M/10 at load 0.9: mean wait and P(W > t) within the 95% CI and within 2%.

    Load 0.9 makes waits strongly autocorrelated, so a plain average over replications needs
    thousands of simulated years for a 1% interval. The estimate therefore uses a control variate
    (Law & Kelton): the waits of one server c times as fast, driven by the same referrals and
    service times, whose stationary mean is known (M/M/1). Because a control corrects for the luck
    of the inputs, the inputs are tested on their own first (arrival rate, service time mean and
    variance), and the plain average must also cover the analytic value.
    """
    scenario = load_scenario(VALIDATION / "mmc.toml", ["simulation.horizon_months=240"])
    replications = 24
    tasks = [(scenario, k, WARM_UP_DAYS, TAIL_DAYS) for k in range(replications)]
    reps = pd.DataFrame(get_executor("local").map(mmc_replication, tasks))
    lam = scenario.arrivals.referrals_per_month * 12 / 365.25
    mu = 1.0 / scenario.assessment.service_days.mean_value
    c = scenario.assessment.servers
    theory, control = MMc(lam, mu, c), MMc(lam, c * mu, 1)

    # the inputs: Poisson arrivals at lambda, exponential service with mean and variance 1 / mu
    arrivals, days = reps["arrivals"].sum(), reps["window_days"].sum()
    assert abs(arrivals - lam * days) < 4 * math.sqrt(lam * days)
    inputs = {"arrival_rate": within(lam, mean_interval(reps["arrivals"] / reps["window_days"]), 0.01),
              "service_mean": within(1 / mu, mean_interval(reps["service_mean"]), 0.01),
              "service_var": within(1 / mu**2, mean_interval(reps["service_var"]), 0.02)}
    raw = {"wait_mean (plain)": within(theory.mean_wait, mean_interval(reps["wait_mean"]), 0.10)}
    rows = {
        "wait_mean": within(theory.mean_wait, control_variate_interval(
            reps["wait_mean"], reps["control_wait_mean"], control.mean_wait), RELATIVE),
        "p_wait": within(theory.p_wait, control_variate_interval(
            reps["p_wait"], reps["control_p_wait"], control.p_wait), RELATIVE),
    }
    for t in WAIT_THRESHOLDS_DAYS:
        rows[f"p_wait_over_{t:g}_days"] = within(theory.p_wait_over(t), control_variate_interval(
            reps[f"p_wait_over_{t:g}"], reps[f"control_p_wait_over_{t:g}"], control.p_wait_over(t)),
            RELATIVE)
    text = _report(f"M/M/{c}, lambda {lam:g}/day, mu {mu:g}/day, {replications} replications x "
                   f"{(days / replications) / 365.25:.1f} years after warm-up",
                   {**inputs, **raw, **rows})
    print(text)
    bad = [name for name, r in {**inputs, **raw, **rows}.items() if not r["ok"]]
    assert not bad, f"disagree with theory: {bad}\n{text}"


@pytest.mark.slow
def test_mmc_abandonment_matches_erlang_a() -> None:
    """M/M/10+M at load 1, patience rate 0.5/day: abandonment and waits within CI and 2%."""
    scenario = load_scenario(VALIDATION / "mmc_abandonment.toml", ["simulation.horizon_months=240"])
    replications = 30
    tasks = [(scenario, k, WARM_UP_DAYS, TAIL_DAYS) for k in range(replications)]
    reps = pd.DataFrame(get_executor("local").map(erlang_a_replication, tasks))
    lam = scenario.arrivals.referrals_per_month * 12 / 365.25
    mu = 1.0 / scenario.assessment.service_days.mean_value
    theta = scenario.leaving.withdrawal_per_year / 365.25
    c = scenario.assessment.servers
    theory = erlang_a(lam, mu, c, theta)
    rows = {name: within(theory[name], mean_interval(reps[name]), RELATIVE)
            for name in ("p_abandon", "p_wait", "mean_wait_all", "mean_wait_served")}
    text = _report(f"M/M/{c}+M, lambda {lam:g}/day, mu {mu:g}/day, theta {theta:g}/day, "
                   f"{replications} replications x {(240 * 365.25 / 12 - WARM_UP_DAYS - TAIL_DAYS) / 365.25:.1f} "
                   "years after warm-up", rows)
    print(text)
    bad = [name for name, r in rows.items() if not r["ok"]]
    assert not bad, f"disagree with theory: {bad}\n{text}"
