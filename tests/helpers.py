"""Shared helpers for the model's correctness tests: analytic queueing results, reading the event
log per child, and confidence intervals (plain and with a control variate).

Kept free of pytest so the replication workers (run in other processes) can import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from scipy import stats

from model.eventlog import EVENTS
from model.pathway import PathwayModel, SimulationResult
from model.scenario import Scenario

# -------------------------------------------------------------------------------------------------
# Analytic queueing results


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C), offered load a = lambda / mu < c.

    C(c, a) = [a^c / c! * c / (c - a)] / [sum_{k<c} a^k / k! + a^c / c! * c / (c - a)],
    summed in log space so that large c does not overflow.
    """
    if not 0 < offered_load < servers:
        raise ValueError(f"need 0 < a < c for a stable M/M/c, got a={offered_load}, c={servers}")
    log_terms = [k * math.log(offered_load) - math.lgamma(k + 1) for k in range(servers)]
    log_top = (servers * math.log(offered_load) - math.lgamma(servers + 1)
               + math.log(servers / (servers - offered_load)))
    peak = max(*log_terms, log_top)
    below = sum(math.exp(t - peak) for t in log_terms)
    top = math.exp(log_top - peak)
    return top / (below + top)


@dataclass(frozen=True)
class MMc:
    """Stationary M/M/c waiting-time results (FIFO): wait in queue W."""

    arrival_rate: float
    service_rate: float
    servers: int

    @property
    def p_wait(self) -> float:
        return erlang_c(self.servers, self.arrival_rate / self.service_rate)

    @property
    def mean_wait(self) -> float:
        return self.p_wait / (self.servers * self.service_rate - self.arrival_rate)

    def p_wait_over(self, t: float) -> float:
        """P(W > t) = C exp(-(c mu - lambda) t)."""
        return self.p_wait * math.exp(-(self.servers * self.service_rate - self.arrival_rate) * t)


def erlang_a(arrival_rate: float, service_rate: float, servers: int, abandon_rate: float,
             states: int = 2000) -> dict[str, float]:
    """Stationary M/M/c+M (Erlang A) results from the birth-death chain truncated at ``states``.

    Birth rate lambda; death rate min(n, c) mu + max(n - c, 0) theta. By PASTA an arrival sees
    the stationary distribution. Returns ``p_wait`` (P(W > 0)), ``p_abandon`` (theta E[Q] /
    lambda), ``mean_wait_all`` (E[Q] / lambda by Little's law: time until service or abandonment),
    ``mean_wait_served`` and ``p_served``.

    For the served wait: an arrival with j customers ahead in the queue moves up at rate
    c mu + i theta (a service completion or an abandonment ahead, i = j, ..., 0 ahead) and abandons
    at rate theta; it is served if it moves up j + 1 times first, and each stage lasts an
    exponential time with the total rate, independent of which event ends it.
    """
    n = np.arange(states + 1)
    deaths = np.minimum(n[1:], servers) * service_rate + np.maximum(n[1:] - servers, 0) * abandon_rate
    log_p = np.concatenate([[0.0], np.cumsum(math.log(arrival_rate) - np.log(deaths))])
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    if p[-1] > 1e-14:
        raise ValueError(f"truncate at more than {states} states (mass at the edge {p[-1]:.3g})")
    queue = np.maximum(n - servers, 0)
    mean_queue = float((p * queue).sum())
    ahead = np.arange(states - servers + 1)  # customers ahead of an arrival who must wait
    move_up = servers * service_rate + ahead * abandon_rate
    stage_rate = move_up + abandon_rate
    p_served_given = np.exp(np.cumsum(np.log(move_up / stage_rate)))
    mean_time_given = np.cumsum(1.0 / stage_rate)
    p_waiting = p[servers:]
    p_served = float(p[:servers].sum() + (p_waiting * p_served_given).sum())
    served_wait = float((p_waiting * p_served_given * mean_time_given).sum())
    return {
        "p_wait": float(p_waiting.sum()),
        "p_abandon": abandon_rate * mean_queue / arrival_rate,
        "mean_wait_all": mean_queue / arrival_rate,
        "mean_wait_served": served_wait / p_served,
        "p_served": p_served,
    }


# -------------------------------------------------------------------------------------------------
# Reading the log per child


def first_time(result: SimulationResult, event: str, detail: str | None = None) -> np.ndarray:
    """First time of ``event`` (optionally with ``detail``) per child; NaN if it never happened."""
    ev = result.events
    mask = ev["event"] == event
    if detail is not None:
        mask &= ev["detail"] == detail
    rows = ev[mask]
    out = np.full(len(result.children), np.nan)
    out[rows["child"].to_numpy()[::-1]] = rows["time_days"].to_numpy()[::-1]
    return out


def event_counts(result: SimulationResult) -> dict[str, np.ndarray]:
    """How many times each child has each event."""
    ev, n = result.events, len(result.children)
    child = ev["child"].to_numpy()
    code = ev["event"].cat.codes.to_numpy()
    return {name: np.bincount(child[code == k], minlength=n) for k, name in enumerate(EVENTS)}


STAGES = ("exited", "assessed", "in_assessment", "on_list", "in_profiling", "in_vetting")


def end_states(result: SimulationResult) -> dict[str, np.ndarray]:
    """Where each child is at the end, derived from the log alone: one mask per stage.

    The masks are built independently so that a child who fits none or two of them shows up.
    """
    k = event_counts(result)
    started, ended, left = k["assessment_start"] > 0, k["assessment_end"] > 0, k["exit"] > 0
    listed, profiling = k["list_join"] > 0, k["profiling_join"] > 0
    return {
        "exited": left & ~started,
        "assessed": started & ended & ~left,
        "in_assessment": started & ~ended & ~left,
        "on_list": listed & ~started & ~left,
        "in_profiling": profiling & (k["profiled"] == 0) & ~listed & ~left,
        "in_vetting": ~profiling & ~listed & ~left & (k["vetted"] == 0),
    }


# -------------------------------------------------------------------------------------------------
# Intervals across replications


def mean_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval across replications."""
    x = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def control_variate_interval(values: np.ndarray, control: np.ndarray, control_mean: float,
                             level: float = 0.95) -> tuple[float, float, float]:
    """Control-variate estimate of E[values] with its t-interval (Law & Kelton, ch. 11).

    Regress ``values`` on ``control - control_mean`` across replications; the intercept is the
    controlled estimate and its OLS standard error gives the interval (n - 2 degrees of freedom).
    """
    y = np.asarray(values, dtype=float)
    x = np.asarray(control, dtype=float) - control_mean
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = len(y) - 2
    cov = (resid @ resid / dof) * np.linalg.inv(design.T @ design)
    half = stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(cov[0, 0])
    return float(coef[0]), float(coef[0] - half), float(coef[0] + half)


# -------------------------------------------------------------------------------------------------
# Replication workers for the queueing reductions (module level: they run in worker processes)


WAIT_THRESHOLDS_DAYS = (0.5, 1.0, 2.0)


def run_event_path(scenario: Scenario, replication: int) -> SimulationResult:
    """One replication through the general SimPy path, the engine every pathway scenario uses.

    ``simulate`` would take the event-free FIFO servers path for the textbook reductions; that
    path gives the same numbers float for float (``tests/test_fast_path.py``), so validating the
    general engine against theory validates both.
    """
    return PathwayModel(scenario, replication, fast_paths=False).run()


def fast_single_server_waits(arrivals: np.ndarray, work: np.ndarray, speed: float) -> np.ndarray:
    """FIFO waits in one server of the given speed fed by the same customers (Lindley recursion).

    W_n = S_n - min(0, min_{k<=n} S_k) with S the random walk of (work / speed - gap): the
    vectorised form of W_{n+1} = max(0, W_n + work_n / speed - gap_{n+1}).
    """
    steps = work[:-1] / speed - np.diff(arrivals)
    walk = np.concatenate([[0.0], np.cumsum(steps)])
    return walk - np.minimum(np.minimum.accumulate(walk), 0.0)


def mmc_replication(task: tuple[Scenario, int, float, float]) -> dict[str, float]:
    """One replication of the M/M/c reduction, summarised over referrals in the window.

    Window: referral in [warm_up, horizon - tail); every child referred before the window's end
    must have been served by the horizon (checked). Besides the M/M/c waits it returns, from the
    same arrivals and service times, the waits of an M/M/1 queue whose server is c times faster
    (the control variate, with known mean), and the inputs themselves (arrival count, service
    time moments) so that the inputs are tested directly.
    """
    scenario, replication, warm_up, tail = task
    result = run_event_path(scenario, replication)
    referral = result.children["referral_day"].to_numpy()
    start = first_time(result, "assessment_start")
    end = first_time(result, "assessment_end")
    upto = referral < result.horizon_days - tail
    service = (end - start)[upto]
    if not np.isfinite(service).all():
        raise AssertionError("a child referred before the window's end was not served in time")
    servers = scenario.assessment.servers
    control = fast_single_server_waits(referral[upto], service, float(servers))
    window = referral[upto] >= warm_up
    wait = (start - referral)[upto][window]
    control = control[window]
    out: dict[str, float] = {
        "arrivals": float(window.sum()),
        "window_days": float(result.horizon_days - tail - warm_up),
        "service_mean": float(service[window].mean()),
        "service_var": float(service[window].var()),
        "wait_mean": float(wait.mean()),
        "control_wait_mean": float(control.mean()),
        "p_wait": float((wait > 1e-9).mean()),
        "control_p_wait": float((control > 1e-9).mean()),
    }
    for t in WAIT_THRESHOLDS_DAYS:
        out[f"p_wait_over_{t:g}"] = float((wait > t).mean())
        out[f"control_p_wait_over_{t:g}"] = float((control > t).mean())
    return out


def erlang_a_replication(task: tuple[Scenario, int, float, float]) -> dict[str, float]:
    """One replication of the M/M/c+M reduction, summarised over referrals in the window."""
    scenario, replication, warm_up, tail = task
    result = run_event_path(scenario, replication)
    referral = result.children["referral_day"].to_numpy()
    start = first_time(result, "assessment_start")
    left = first_time(result, "exit", "withdrawn")
    window = (referral >= warm_up) & (referral < result.horizon_days - tail)
    start, left, referral = start[window], left[window], referral[window]
    resolved = np.isfinite(start) ^ np.isfinite(left)
    if not resolved.all():
        raise AssertionError(f"{(~resolved).sum()} children were neither served nor left exactly once")
    served = np.isfinite(start)
    wait = np.fmin(start, left) - referral
    return {
        "arrivals": float(window.sum()),
        "p_abandon": float((~served).mean()),
        "p_wait": float((wait > 1e-9).mean()),
        "mean_wait_all": float(wait.mean()),
        "mean_wait_served": float(wait[served].mean()),
    }


def within(value: float, interval: tuple[float, float, float], relative: float) -> dict[str, Any]:
    """Agreement of an analytic value with a simulated (estimate, low, high), for messages."""
    estimate, low, high = interval
    return {"analytic": value, "simulated": estimate, "ci": (low, high),
            "inside_ci": low <= value <= high,
            "relative_error": abs(estimate - value) / abs(value),
            "ok": low <= value <= high and abs(estimate - value) <= relative * abs(value)}


def small_scenario(overrides: Mapping[str, Any] | None = None) -> Scenario:
    """The default scenario, short and small enough for fast tests (12 months, 600 waiting)."""
    base = Scenario().replace({"simulation.horizon_months": 12, "backlog.count": 600,
                               "arrivals.referrals_per_month": 60.0,
                               "support.places": 28})  # about 10 starts a month
    return base.replace(dict(overrides or {}))


NO_FLOWS = {
    "arrivals.enabled": False,
    "vetting.enabled": False,
    "profiling.enabled": False,
    "support.enabled": False,
    "escalation.enabled": False,
    "leaving.withdrawal_per_year": 0.0,
    "leaving.moved_per_year": 0.0,
    "leaving.private_per_year": 0.0,
    "leaving.age_out": False,
}
"""No arrivals, vetting, profiling, support, escalation or leaving: the list moves only by
assessment."""

STILL = {
    **NO_FLOWS,
    "assessment.professions.0.wte": 0.0,
    "assessment.professions.1.wte": 0.0,
    "assessment.professions.2.wte": 0.0,
}
"""No arrivals, no leaving, no staff: only what a test adds moves children."""


def still_service(overrides: Mapping[str, Any]) -> Scenario:
    """The default scenario made still (:data:`STILL`), then ``overrides``."""
    return Scenario().replace({**STILL, **overrides})


def hours_queue_replication(task: tuple[Scenario, int, float, float]) -> dict[str, float]:
    """One replication of the clinical-hours reduction (``scenarios/validation/mg1_hours.toml``).

    Runs the general engine, then feeds the same referrals and the same pre-drawn hours per
    assessment (``draw_children`` on the replication's streams) to one continuous FIFO server
    working at the team's clinical hours a day (:func:`fast_single_server_waits`). Returns, over
    referrals in ``[warm_up, horizon - tail)`` (all of whom must have started), the engine's and
    the continuous server's mean waits, the largest and mean pathwise gap between them, and the
    inputs (arrival count, mean and variance of the hours).
    """
    from model.pathway import draw_children
    from model.streams import Streams

    scenario, replication, warm_up, tail = task
    model = PathwayModel(scenario, replication, fast_paths=False)
    result = model.run()
    drawn = draw_children(scenario, Streams(model.seed, replication), result.horizon_days)
    referral = result.children["referral_day"].to_numpy()
    np.testing.assert_array_equal(drawn.referral, referral)
    start = first_time(result, "assessment_start")
    upto = referral < result.horizon_days - tail
    if not np.isfinite(start[upto]).all():
        raise AssertionError("a child referred before the window's end had not started by the horizon")
    per_day = scenario.assessment.clinical_hours_per_week() / 7.0
    hours = drawn.assess_hours[upto]
    continuous = fast_single_server_waits(referral[upto], hours, per_day)
    window = referral[upto] >= warm_up
    wait = (start - referral)[upto][window]
    gap = wait - continuous[window]
    return {
        "arrivals": float(window.sum()),
        "window_days": float(result.horizon_days - tail - warm_up),
        "hours_mean": float(hours[window].mean()),
        "hours_var": float(hours[window].var()),
        "wait_mean": float(wait.mean()),
        "control_wait_mean": float(continuous[window].mean()),
        "gap_mean": float(gap.mean()),
        "gap_max": float(gap.max()),
        "gap_min": float(gap.min()),
    }
