"""Benchmark (a): the textbook M/M/c queue in ndpath, in plain SimPy and in Ciw.

All three simulate the same queue (Poisson arrivals at rate ``lam`` per day, ``servers``
exponential servers at load ``load``, first come first served) up to the same horizon, so each
sees about the same number of customers; each run is timed from "scenario in hand" to "run
finished", including drawing its random numbers. The mean wait in queue of each is printed next to
Erlang C, with a batch-means standard error, so that like is compared with like.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

MMC_TOML = Path(__file__).resolve().parents[1] / "scenarios" / "validation" / "mmc.toml"
SERVERS = 10
LOAD = 0.9
MAX_MONTHS = 600  # the scenario schema's longest horizon
FULL_CUSTOMERS = 200_000


@dataclass(frozen=True)
class Queue:
    """An M/M/c queue: arrivals per day, service rate per server per day, servers, horizon."""

    lam: float
    mu: float
    servers: int
    horizon_days: float
    horizon_months: int
    referrals_per_month: float

    @property
    def expected_customers(self) -> float:
        return self.lam * self.horizon_days


@dataclass(frozen=True)
class QueueRun:
    """One timed run: customers who arrived, seconds, and the mean wait in queue (days) with its
    batch-means standard error."""

    tool: str
    customers: int
    seconds: float
    mean_wait_days: float
    wait_se_days: float

    @property
    def customers_per_second(self) -> float:
        return self.customers / self.seconds

    def as_dict(self) -> dict[str, float | int | str]:
        return {**asdict(self), "customers_per_second": self.customers_per_second}


BATCHES = 20


def batch_means(waits: np.ndarray, batches: int = BATCHES) -> tuple[float, float]:
    """Mean wait and its standard error from ``batches`` consecutive batches (waits in order).

    Successive waits are strongly correlated at load 0.9, so the naive standard error would be
    far too small; batch means of long consecutive runs are close to independent.
    """
    waits = np.asarray(waits, dtype=float)
    usable = len(waits) - len(waits) % batches
    means = waits[:usable].reshape(batches, -1).mean(axis=1)
    return float(waits.mean()), float(means.std(ddof=1) / np.sqrt(batches))


def textbook_queue(customers: int) -> Queue:
    """The M/M/10 queue at load 0.9 that sees about ``customers`` arrivals.

    The schema allows at most 600 months, so the time unit is stretched instead: 200,000
    customers arrive in 600 months at about 10.95 a day, with mean service ``servers*load/lam``
    days. Load, servers and hence Erlang C's wait in units of mean service time are unchanged.
    """
    lam = FULL_CUSTOMERS / MAX_MONTHS * 12.0 / 365.25
    months = max(1, round(MAX_MONTHS * customers / FULL_CUSTOMERS))
    per_month = lam * 365.25 / 12.0
    days = months * 365.25 / 12.0  # close to the calendar length; the exact one is set below
    mu = lam / (SERVERS * LOAD)
    return Queue(lam, mu, SERVERS, days, months, per_month)


def erlang_c_wait(lam: float, mu: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C), in the time unit of ``lam``."""
    a = lam / mu
    rho = a / servers
    if rho >= 1:
        return math.inf
    terms = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / (math.factorial(servers) * (1 - rho))
    p_wait = top / (terms + top)
    return p_wait / (servers * mu - lam)


def ndpath_scenario(queue: Queue):  # type: ignore[no-untyped-def]
    from model.scenario import load_scenario

    return load_scenario(MMC_TOML, [
        f"simulation.horizon_months={queue.horizon_months}",
        f"arrivals.referrals_per_month={queue.referrals_per_month!r}",
        f"assessment.servers={queue.servers}",
        f"assessment.service_days.mean={1.0 / queue.mu!r}",
    ])


def run_ndpath(queue: Queue, seed: int = 1, fast_paths: bool = True) -> QueueRun:
    """ndpath's ``servers`` reduction: from the scenario to the event log, as ``simulate`` runs
    it (the exact FIFO fast path), or with ``fast_paths=False`` through SimPy events."""
    from model.metrics import child_times
    from model.pathway import PathwayModel, simulate

    scenario = ndpath_scenario(queue)
    start = time.perf_counter()
    if fast_paths:
        result = simulate(scenario, 0, seed)
    else:
        result = PathwayModel(scenario, 0, seed, fast_paths=False).run()
    seconds = time.perf_counter() - start
    times = child_times(result)  # children are numbered in order of arrival
    started = np.isfinite(times.assessment_start)
    mean, se = batch_means(times.assessment_start[started] - times.referral[started])
    tool = "ndpath" if fast_paths else "ndpath, SimPy events"
    return QueueRun(tool, len(result.children), seconds, mean, se)


def run_ndpath_events(queue: Queue, seed: int = 1) -> QueueRun:
    """ndpath's reduction without the fast path: what every other pathway runs on."""
    return run_ndpath(queue, seed, fast_paths=False)


def calendar_horizon_days(queue: Queue) -> float:
    """The horizon in days exactly as ndpath computes it (calendar months from the start date)."""
    from model.pathway import month_starts

    return float(month_starts("2026-01-01", queue.horizon_months)[-1])


def run_plain_simpy(queue: Queue, seed: int = 1) -> QueueRun:
    """A hand-written SimPy model: a process per customer and a ``simpy.Resource``.

    Random numbers are drawn up front with NumPy (cheaper than drawing inside the processes), so
    this is the strictest fair baseline for a SimPy model written the textbook way.
    """
    import simpy

    horizon = calendar_horizon_days(queue)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = int(queue.lam * horizon * 1.1) + 100
    arrivals = np.cumsum(rng.exponential(1.0 / queue.lam, n))
    arrivals = arrivals[arrivals < horizon]
    gaps = np.diff(arrivals, prepend=0.0).tolist()
    services = rng.exponential(1.0 / queue.mu, len(gaps)).tolist()
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=queue.servers)
    waits: list[float] = []

    def customer(service: float):  # type: ignore[no-untyped-def]
        arrived = env.now
        with servers.request() as request:
            yield request
            waits.append(env.now - arrived)
            yield env.timeout(service)

    def source():  # type: ignore[no-untyped-def]
        for gap, service in zip(gaps, services):
            yield env.timeout(gap)
            env.process(customer(service))

    env.process(source())
    env.run(until=horizon)
    seconds = time.perf_counter() - start
    return QueueRun("plain SimPy", len(gaps), seconds, *batch_means(np.asarray(waits)))


def run_ciw(queue: Queue, seed: int = 1) -> QueueRun:
    """Ciw's M/M/c network simulated to the same horizon."""
    import ciw

    horizon = calendar_horizon_days(queue)
    start = time.perf_counter()
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=queue.lam)],
        service_distributions=[ciw.dists.Exponential(rate=queue.mu)],
        number_of_servers=[queue.servers],
    )
    ciw.seed(seed)  # Ciw seeds globally; the benchmark owns this process
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(horizon)
    seconds = time.perf_counter() - start
    records = sorted(simulation.get_all_records(), key=lambda r: r.arrival_date)
    mean, se = batch_means(np.array([r.waiting_time for r in records]))
    return QueueRun("Ciw", int(simulation.nodes[0].number_of_individuals), seconds, mean, se)


def best_of(runner, queue: Queue, repeats: int) -> QueueRun:  # type: ignore[no-untyped-def]
    """The fastest of ``repeats`` runs (same seed, so the same work): the usual timeit rule."""
    runs = [runner(queue) for _ in range(repeats)]
    return min(runs, key=lambda r: r.seconds)
