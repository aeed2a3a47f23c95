"""Parameter uncertainty: the scenario each replication actually runs.

When ``scenario.uncertainty.enabled``, replication ``k`` first draws its own values of the
uncertain parameters (the scenario's ``uncertainty.parameters``, and with ``from_assumptions``
every assumption over its plausible range, moved to the scenario's own value and drawn so that
its mean is that value: :func:`centred_range`) from streams named after the keys. The draws
depend only on ``(seed, k, key)``: the same across executors, and shared by scenarios compared
with the same seed, so paired differences stay sharp while each scenario's own intervals widen to
include what is not known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .assumptions import assumptions
from .distributions import Distribution, Fixed, Histogram
from .scenario import Scenario
from .streams import stream

if TYPE_CHECKING:  # pragma: no cover
    from .pathway import SimulationResult


def realise(scenario: Scenario, replication: int, seed: int) -> Scenario:
    """The scenario for one replication: uncertain parameters drawn, everything else as given."""
    settings = scenario.uncertainty
    if not settings.enabled:
        return scenario
    dists: dict[str, Any] = {}
    if settings.from_assumptions:
        for item in assumptions(scenario):
            dists[item.key] = centred_range(item.value, item.low, item.high)
    dists.update(settings.parameters)  # explicit distributions win over the plausible ranges
    values = {}
    for key, dist in sorted(dists.items()):
        u = stream(seed, replication, f"uncertainty.{key}").random(1)
        values[key] = float(dist.ppf(u)[0])
    realised = scenario.replace(values)
    return realised


def centred_range(value: float, low: float, high: float) -> Distribution:
    """What we don't know about an assumption: a draw over ``[low, high]`` whose mean is
    ``value`` (held inside the range): uniform on ``[low, value]`` with probability
    ``(high - value) / (high - low)``, otherwise uniform on ``[value, high]`` (a two-bin
    histogram; a fixed value when the range has no width on one side).

    A plain uniform over a range that is not symmetric about the scenario's value (annual growth
    0 to 20% about 8%, going private 2 to 15% a year about 5%) would move the assumption on
    average, and with it the middle of every projection, not only its spread.
    """
    v = min(max(float(value), low), high)
    if not low < v < high:
        return Fixed(kind="fixed", value=v)
    return Histogram(kind="histogram", edges=(low, v, high), weights=(high - v, v - low))


def simulate_replication(scenario: Scenario, replication: int, seed: int | None = None
                         ) -> SimulationResult:
    """One replication as an experiment runs it: draw this replication's parameter values
    (:func:`realise`), then run the engine on that concrete scenario. The result's ``scenario`` is
    the one that ran."""
    from .pathway import simulate

    base = scenario.simulation.seed if seed is None else seed
    return simulate(realise(scenario, replication, base), replication, base)
