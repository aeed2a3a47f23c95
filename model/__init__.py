"""ndpath: a discrete-event simulator of the children's neurodivergence assessment pathway.

The flow: a scenario file is loaded into a frozen :class:`~model.scenario.Scenario`; one
replication of :class:`~model.pathway.PathwayModel` writes an event log; experiments run
replications through an executor; metrics are pure functions of the log.
"""

from typing import TYPE_CHECKING, Any

# The engine and the scenario schema import numpy, scipy and pydantic: load them when first used,
# so that ``import model.labels`` (the command line's help, its choices) stays cheap.
_LAZY = {"PathwayModel": "pathway", "SimulationResult": "pathway", "simulate": "pathway",
         "Scenario": "scenario", "ScenarioError": "scenario", "build_scenario": "scenario",
         "load_scenario": "scenario"}

if TYPE_CHECKING:  # pragma: no cover
    from .pathway import PathwayModel, SimulationResult, simulate
    from .scenario import Scenario, ScenarioError, build_scenario, load_scenario


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ndpath")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs ~50 ms: only when asked
        globals()["__version__"] = _package_version()
        return globals()["__version__"]
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")


__all__ = ["PathwayModel", "SimulationResult", "simulate", "Scenario", "ScenarioError",
           "build_scenario", "load_scenario", "__version__"]
