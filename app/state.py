"""The app's Streamlit plumbing: the cached run function and scenarios kept for this session.

The run function is pure and cached with ``st.cache_data`` keyed on the scenario's digest (the
scenario carries its horizon, replications and seed), so moving a slider back to a position
already run shows its results at once, and two users asking for the same scenario share them.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from model.experiment import ExperimentResult, compare, run_replications
from model.scenario import Scenario

from .core import load_shipped, shipped_scenarios

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
