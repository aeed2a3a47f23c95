"""ndpath: a discrete-event simulator of the children's neurodivergence assessment pathway.

The flow: a scenario file is loaded into a frozen :class:`~model.scenario.Scenario`; one
replication of :class:`~model.pathway.PathwayModel` writes an event log; experiments run
replications through an executor; metrics are pure functions of the log.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ndpath")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

from .pathway import PathwayModel, SimulationResult, simulate
from .scenario import Scenario, ScenarioError, build_scenario, load_scenario

__all__ = ["PathwayModel", "SimulationResult", "simulate", "Scenario", "ScenarioError",
           "build_scenario", "load_scenario", "__version__"]
