"""Parameter uncertainty: the scenario each replication actually runs.

When ``scenario.uncertainty.enabled``, replication ``k`` first draws its own values of the
uncertain parameters (the scenario's ``uncertainty.parameters``, and with ``from_assumptions``
every assumption uniformly over its plausible range, moved to centre on the scenario's own value:
see :class:`model.assumptions.Assumption`) from streams named after the keys. The draws
depend only on ``(seed, k, key)``: the same across executors, and shared by scenarios compared
with the same seed, so paired differences stay sharp while each scenario's own intervals widen to
include what is not known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .assumptions import assumptions
from .distributions import Uniform
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
            dists[item.key] = Uniform(kind="uniform", low=item.low, high=item.high)
    dists.update(settings.parameters)  # explicit distributions win over the plausible ranges
    values = {}
    for key, dist in sorted(dists.items()):
        u = stream(seed, replication, f"uncertainty.{key}").random(1)
        values[key] = float(dist.ppf(u)[0])
    realised = scenario.replace(values)
    return realised


def simulate_replication(scenario: Scenario, replication: int, seed: int | None = None
                         ) -> SimulationResult:
    """One replication as an experiment runs it: draw this replication's parameter values
    (:func:`realise`), then run the engine on that concrete scenario. The result's ``scenario`` is
    the one that ran."""
    from .pathway import simulate

    base = scenario.simulation.seed if seed is None else seed
    return simulate(realise(scenario, replication, base), replication, base)
