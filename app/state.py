"""The app's Streamlit plumbing: the cached run function and scenarios kept for this session.

The run function is pure and cached with ``st.cache_data`` keyed on the scenario's digest (the
scenario carries its horizon, replications and seed), so moving a slider back to a position
already run shows its results at once, and two users asking for the same scenario share them.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence, TypeVar

import pandas as pd
import streamlit as st

from model.assumptions import assumptions
from model.executors import Executor, get_executor
from model.experiment import ExperimentResult, compare, run_replications
from model.labels import HELP
from model.scenario import Scenario
from model.sensitivity import one_at_a_time

from .core import (
    DEFAULT_REPLICATIONS,
    load_shipped,
    shipped_scenarios,
    with_uncertainty,
    without_uncertainty,
)

T = TypeVar("T")
R = TypeVar("R")

EXECUTOR = os.environ.get("NDPATH_APP_EXECUTOR", "local")
"""Replications run in local worker processes; ``serial`` keeps them in the app's process."""

SESSION_SCENARIOS = "ndpath_session_scenarios"
"""Session key: scenarios made in this session (edited, calibrated), by display name."""


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={Scenario: Scenario.digest})
def run_scenario(scenario: Scenario) -> ExperimentResult:
    """Run the scenario's replications (its own horizon, replications and seed)."""
    return run_replications(scenario, executor=EXECUTOR)


def run_pair(baseline: Scenario, edited: Scenario | None
             ) -> tuple[ExperimentResult, ExperimentResult | None, Any]:
    """Run the baseline and the edit (cached), with a progress bar, and their paired differences."""
    bar = st.progress(0.0, text=f"Running {baseline.simulation.replications} replications of the "
                                "starting scenario…")
    base_result = run_scenario(baseline)
    if edited is None or edited.digest() == baseline.digest():
        bar.empty()
        return base_result, None, None
    bar.progress(0.5, text=f"Running {edited.simulation.replications} replications of your "
                           "scenario…")
    edit_result = run_scenario(edited)
    bar.empty()
    return base_result, edit_result, compare(base_result, edit_result)


class _Progress:
    """An executor that reports each finished replication to a callback (for a progress bar)."""

    def __init__(self, inner: Executor, tick: Callable[[], None]) -> None:
        self.inner, self.tick = inner, tick
        self.name = inner.name

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]:
        def done() -> None:
            self.tick()
            if on_done:
                on_done()
        return self.inner.map(fn, items, done)


def sensitivity_runs(scenario: Scenario, replications: int) -> int:
    """Replications one-at-a-time sensitivity costs: the scenario, then both ends of each range."""
    return replications * (1 + 2 * len(assumptions(without_uncertainty(scenario))))


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs={Scenario: Scenario.digest})
def run_sensitivity(scenario: Scenario, metric: str, replications: int,
                    _tick: Callable[[], None] | None = None) -> pd.DataFrame:
    """:func:`model.sensitivity.one_at_a_time` on ``scenario`` with its assumptions held fixed
    (drawn assumptions would hide the one being moved), cached on digest, metric, replications."""
    executor: Executor = get_executor(EXECUTOR)
    if _tick is not None:
        executor = _Progress(executor, _tick)
    return one_at_a_time(without_uncertainty(scenario), metric, replications,
                         scenario.simulation.seed, executor)


@st.cache_data(show_spinner=False)
def shipped(name: str) -> tuple[Scenario, dict[str, str]]:
    """A shipped scenario and its file hashes (cached: files do not change while the app runs)."""
    return load_shipped(name)


def scenario_choices() -> dict[str, str]:
    """Display name -> key for every scenario on offer: shipped ones, then this session's."""
    out = {shipped(stem)[0].meta.name: f"shipped:{stem}" for stem in shipped_scenarios()}
    for name in st.session_state.get(SESSION_SCENARIOS, {}):
        out[name] = f"session:{name}"
    return out


def scenario_by_key(key: str) -> tuple[Scenario, dict[str, str]]:
    """The scenario behind a :func:`scenario_choices` key, with its file hashes if shipped."""
    kind, _, name = key.partition(":")
    if kind == "shipped":
        return shipped(name)
    return st.session_state[SESSION_SCENARIOS][name], {}


def keep_scenario(name: str, scenario: Scenario) -> None:
    """Offer ``scenario`` on every page for the rest of this session (kept in memory only)."""
    st.session_state.setdefault(SESSION_SCENARIOS, {})[name] = scenario


def persist(*keys: str) -> None:
    """Keep widget values when the user visits another page and comes back.

    Streamlit forgets a widget's value when a page without it runs; a shadow copy under
    ``_keep_<key>`` survives and is put back before the widget is drawn again.
    """
    for key in keys:
        shadow = f"_keep_{key}"
        if key in st.session_state:
            st.session_state[shadow] = st.session_state[key]
        elif shadow in st.session_state:
            st.session_state[key] = st.session_state[shadow]


def run_many(keys: list[str], horizon_months: int, replications: int, seed: int,
             include_uncertainty: bool = False
             ) -> tuple[dict[str, ExperimentResult], dict[str, Scenario]]:
    """Run several scenarios with the same horizon, replications, seed and uncertainty setting
    (cached), in order.

    Returns results and the scenarios as run, both by display name.
    """
    names = {v: k for k, v in scenario_choices().items()}
    settings = {"simulation.horizon_months": horizon_months,
                "simulation.replications": replications, "simulation.seed": seed}
    bar = st.progress(0.0, text="Running…")
    results: dict[str, ExperimentResult] = {}
    scenarios: dict[str, Scenario] = {}
    for k, key in enumerate(keys):
        name = names.get(key, key)
        bar.progress(k / len(keys), text=f"Running {replications} replications of {name}…")
        scenarios[name] = with_uncertainty(scenario_by_key(key)[0].replace(settings),
                                           include_uncertainty)
        results[name] = run_scenario(scenarios[name])
    bar.empty()
    return results, scenarios


UNCERTAINTY_LABEL = "Include what we don't know about the assumptions (wider, more honest bands)"


def run_settings_widgets(prefix: str, container: Any = None, uncertainty: bool = False
                         ) -> tuple[int, int, int, bool]:
    """Horizon, replications, seed and uncertainty inputs (keys ``<prefix>_horizon`` ...,
    ``<prefix>_uncertainty``) for a page; ``uncertainty`` is the checkbox's first value."""
    where = container or st.sidebar
    persist(f"{prefix}_horizon", f"{prefix}_replications", f"{prefix}_seed",
            f"{prefix}_uncertainty")
    for key, value in (("horizon", 60), ("replications", DEFAULT_REPLICATIONS), ("seed", 20261122),
                       ("uncertainty", uncertainty)):
        st.session_state.setdefault(f"{prefix}_{key}", value)
    horizon = where.number_input("Months to project", 0, 240, step=6, key=f"{prefix}_horizon")
    reps = where.number_input("Replications", 0, 500, step=5, key=f"{prefix}_replications")
    seed = where.number_input("Random seed (shared by all scenarios)", 0, 2**31 - 1, step=1,
                              key=f"{prefix}_seed")
    include = where.checkbox(UNCERTAINTY_LABEL, key=f"{prefix}_uncertainty",
                             help=HELP["uncertainty"])
    return int(horizon), int(reps), int(seed), bool(include)


def settings_problems(selected: list[str], horizon: int, replications: int) -> list[str]:
    """Why a Compare/Present run cannot start, in plain words."""
    problems = []
    if not selected:
        problems.append("Choose at least one scenario.")
    if horizon < 1:
        problems.append(f"The horizon is {horizon} months: choose at least 1 month to project.")
    if replications < 2:
        problems.append(f"{replications} replication(s) cannot show uncertainty: choose at least "
                        "2 (10 or more for decisions).")
    return problems


SCENARIO_PAGE_RUN_SETTINGS = ("horizon_months", "replications", "seed")
"""Scenario page inputs that are run settings, kept when its starting scenario changes."""


def start_scenario_page_from(key: str) -> None:
    """Make ``key`` (a :func:`scenario_choices` key) the Scenario page's starting scenario.

    Used by another page (Calibrate's *Use this calibrated scenario*): the lever positions of
    the previous starting scenario are forgotten, so the Scenario page sets them from the new
    one instead of reading them as changes; the run settings (months, replications, seed) stay.
    """
    st.session_state["base_scenario"] = key
    st.session_state["_keep_base_scenario"] = key
    lever_keys = ("wte_", "profiling_", "pct_", "support_places", "growth_pct", "priority_order",
                  "outsourced_")
    for name in list(st.session_state):
        bare = str(name).removeprefix("_keep_")
        if bare.startswith(lever_keys) and bare not in SCENARIO_PAGE_RUN_SETTINGS:
            del st.session_state[name]
    st.session_state.pop("ndpath_scenario_run", None)
