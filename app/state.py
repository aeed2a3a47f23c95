"""The app's Streamlit plumbing: the cached run function, the session's starting scenario and
projection settings, and scenarios kept for this session.

The run function is pure and cached with ``st.cache_data`` keyed on the scenario's digest (the
scenario carries its horizon, replications and seed) and on the model's code, so moving a slider
back to a position already run shows its results at once, two users asking for the same scenario
share them, and an upgraded model never serves results of the old one. What the pages derive
from a result (its summary and bands, the paired differences, the by-group tables) is computed
once with it and cached beside it, so a rerun (a widget moved, a tab's select box changed)
redraws the page without computing any of it again.

Replications run in one pool of worker processes kept for the server's life
(:func:`app_executor`), started from a fork server: a run does not start processes, and no
worker is forked from the threaded server (a child forked while another thread holds a lock can
hang on it).

One source of truth per session, read by every page:

* the **starting scenario** (:data:`START`): shipped, uploaded, calibrated or edited, set with
  :func:`set_start` by whichever page chose it;
* the **projection settings** (:data:`SETTINGS`: months, replications, seed and whether what we
  don't know about the assumptions is included), drawn by :func:`run_settings_widgets` with the
  same keys on every page, so the same scenario gives the same numbers everywhere.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import pandas as pd
import streamlit as st

from model.assumptions import assumptions
from model.executors import Executor, LocalProcessExecutor, get_executor
from model.experiment import (
    ExperimentResult,
    _Task,
    compare,
    replication_tasks,
    run_one,
    run_replications,
)
from model.labels import HELP
from model.questions import Lever, LeverAnswer, Target, least_lever
from model.scenario import Scenario
from model.sensitivity import one_at_a_time

from .core import (
    DEFAULT_REPLICATIONS,
    levers_from,
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

START = "ndpath_start"
"""Session key: the starting scenario (a :func:`scenario_choices` key), for every page."""
DEFAULT_START = "shipped:default"

SETTINGS = ("horizon_months", "replications", "seed", "include_uncertainty")
"""Session keys of the projection settings, shared by every page."""
DEFAULT_UNCERTAINTY = True
"""Bands include what we don't know about the assumptions unless the user switches it off: the
honest default for a commissioner and for a room of families alike."""


def _code_version() -> str:
    """A digest of the model's source files: cached results belong to the code that made them."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent / "model"
    for path in sorted(root.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


CODE_VERSION = _code_version()


WORKER_MODULES = ("model.experiment",)
"""What the fork server imports once, so every worker starts with the model loaded."""


@st.cache_resource(show_spinner=False,
                   validate=lambda executor: not getattr(executor, "broken", False))
def app_executor() -> Executor:
    """The executor every page's runs use: with ``local``, one pool of worker processes (one per
    core) started on first use and kept for the server's life, its workers forked from a fork
    server that has imported the model; a pool whose worker died is replaced on the next call."""
    if EXECUTOR != "local":
        return get_executor(EXECUTOR)
    # import_main=False: Streamlit runs each page script as __main__, which a worker must not
    # import again (it would run the page); the tasks need only model.experiment
    return LocalProcessExecutor(start_method="forkserver", preload=WORKER_MODULES).keep_open(
        import_main=False)


# -- runs started before they are asked for -----------------------------------------------------
#
# When a lever moves, the Scenario page starts the new scenario's replications on the pool at
# once (start_early) while it tells the user to press Run; the click then collects what has
# finished instead of starting from nothing. The tasks are the ones run_replications would hand
# the pool, so the numbers are the same; a newer lever position cancels the older one's tasks
# that have not started, and a run nobody asks for is dropped after a few newer ones.

START_EARLY = os.environ.get("NDPATH_APP_START_EARLY", "1") != "0"
"""Whether a moved lever starts its run before Run is pressed (``NDPATH_APP_START_EARLY=0``
turns it off: a server shared by many sessions may not want work nobody asked for)."""
STARTED_LIMIT = 4
"""Runs started early and not yet asked for, kept at most (the oldest is cancelled)."""
STARTED_KEY = "ndpath_started_early"
"""Session key: the run keys this session last started early."""
_started: OrderedDict[str, tuple[list[_Task], list[Future[Any]]]] = OrderedDict()
_started_lock = threading.Lock()
_finished_keys: set[str] = set()
"""Run keys :func:`_run_cached` has computed (so very likely cached: not started again)."""


def _run_key(scenario: Scenario) -> str:
    return f"{scenario.digest()}:{CODE_VERSION}"


def _task_key(task: _Task) -> tuple[str, int, int, bool, bool]:
    return task.scenario.digest(), task.replication, task.seed, task.keep_log, task.groups


def _drop(key: str) -> None:
    entry = _started.pop(key, None)
    if entry is not None:
        for future in entry[1]:
            future.cancel()  # a task already running finishes; the rest never start


def start_early(scenarios: Sequence[Scenario]) -> None:
    """Start the replications of ``scenarios`` on the app's pool without waiting for them, and
    cancel what this session started early for any other scenario (a lever moved on). Does
    nothing for a scenario already run, or without a local pool."""
    executor = app_executor()
    keys = [_run_key(s) for s in scenarios]
    with _started_lock:
        for key in st.session_state.get(STARTED_KEY, []):
            if key not in keys:
                _drop(key)
        st.session_state[STARTED_KEY] = keys
        if not START_EARLY or not isinstance(executor, LocalProcessExecutor):
            return
        for key, scenario in zip(keys, scenarios):
            if key in _finished_keys or key in _started:
                continue
            tasks = replication_tasks(scenario)
            try:
                _started[key] = (tasks, executor.submit(run_one, tasks))
            except (RuntimeError, BrokenProcessPool):
                return  # no pool to start on: the click runs it as usual
            while len(_started) > STARTED_LIMIT:
                _drop(next(iter(_started)))


def cancel_started(keep: Sequence[Scenario] = ()) -> None:
    """Cancel what this session started early, but for ``keep`` (a page that runs other things
    calls this first, so that its runs do not queue behind a scenario nobody will ask for)."""
    kept = {_run_key(s) for s in keep}
    with _started_lock:
        for key in st.session_state.get(STARTED_KEY, []):
            if key not in kept:
                _drop(key)
        st.session_state[STARTED_KEY] = [k for k in st.session_state.get(STARTED_KEY, [])
                                         if k in kept]


class _StartedExecutor:
    """Hands back the replications started early when asked for exactly those tasks; anything
    else goes to the app's executor."""

    def __init__(self, tasks: list[_Task], futures: list[Future[Any]], inner: Executor) -> None:
        self.tasks, self.futures, self.inner = tasks, futures, inner
        self.name = inner.name

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]:
        if fn is run_one and [_task_key(t) for t in items] == [  # type: ignore[arg-type]
                _task_key(t) for t in self.tasks]:
            return LocalProcessExecutor.collect(self.futures, on_done)
        return self.inner.map(fn, items, on_done)


def _replications(scenario: Scenario) -> ExperimentResult:
    key = _run_key(scenario)
    with _started_lock:
        started = _started.pop(key, None)
    if started is not None:
        try:
            return run_replications(scenario, executor=_StartedExecutor(*started,
                                                                        app_executor()))
        except (CancelledError, BrokenProcessPool):
            pass  # cancelled meanwhile by another session, or a worker died: run it as usual
    try:
        return run_replications(scenario, executor=app_executor())
    except BrokenProcessPool:  # a worker died (killed, out of memory): once more on a new pool
        app_executor.clear()
        return run_replications(scenario, executor=app_executor())


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={Scenario: Scenario.digest})
def _run_cached(scenario: Scenario, code_version: str) -> ExperimentResult:
    result = _replications(scenario)
    result.summary, result.timeseries  # computed here once, and cached with the result
    _finished_keys.add(_run_key(scenario))
    return result


def run_scenario(scenario: Scenario) -> ExperimentResult:
    """Run the scenario's replications (its own horizon, replications and seed), cached on its
    digest and the model's code version (collecting them if :func:`start_early` started them)."""
    return _run_cached(scenario, CODE_VERSION)


def result_key(result: ExperimentResult) -> str:
    """What a result is a pure function of (its scenario, seed and replications, and the
    model's code): the cache key of what is derived from it, instead of hashing its frames."""
    return f"{result.scenario.digest()}:{result.seed}:{result.replications}:{CODE_VERSION}"


def derived(**cache_options: Any) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """``st.cache_data`` for a pure function of results (and small hashable arguments), keyed
    on :func:`result_key`: what a page derives from results is computed once per result."""
    return st.cache_data(show_spinner=False, max_entries=64,
                         hash_funcs={ExperimentResult: result_key}, **cache_options)


@derived()
def paired_differences(baseline: ExperimentResult, other: ExperimentResult) -> pd.DataFrame:
    """:func:`model.experiment.compare` of two results (cached on both)."""
    return compare(baseline, other)


def run_pair(baseline: Scenario, edited: Scenario | None
             ) -> tuple[ExperimentResult, ExperimentResult | None]:
    """Run the baseline and the edit (cached), with a progress bar; the edit's result is
    ``None`` without an edit. Their paired differences are :func:`paired_differences`, asked
    for where they are shown (after the cards and the first chart, which do not need them)."""
    bar = st.progress(0.0, text=f"Running {baseline.simulation.replications} replications of the "
                                "starting scenario…")
    base_result = run_scenario(baseline)
    if edited is None or edited.digest() == baseline.digest():
        bar.empty()
        return base_result, None
    bar.progress(0.5, text=f"Running {edited.simulation.replications} replications of your "
                           "scenario…")
    edit_result = run_scenario(edited)
    bar.empty()
    return base_result, edit_result


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
    executor: Executor = app_executor()
    if _tick is not None:
        executor = _Progress(executor, _tick)
    return one_at_a_time(without_uncertainty(scenario), metric, replications,
                         scenario.simulation.seed, executor)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs={Scenario: Scenario.digest})
def run_least_lever(scenario: Scenario, target: Target, lever: Lever, code_version: str,
                    _tick: Callable[[float, float, float], None] | None = None) -> LeverAnswer:
    """:func:`model.questions.least_lever` (the solver ``ndpath capacity`` uses) on the
    scenario as run, cached on its digest, the target, the lever and the model's code."""
    return least_lever(scenario, target, lever, executor=app_executor(), on_evaluation=_tick)


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
    ``_keep_<key>`` survives and is put back before the widget is drawn again. The value is
    assigned again on every run, even when Streamlit still holds it: only a value assigned in
    this run is sent to the browser, and a widget the browser mounts afresh (after a visit to
    another page) would otherwise show, and send back on the next click, its first option
    instead (which silently undid the Calibrate page's handover of its scenario).
    """
    for key in keys:
        shadow = f"_keep_{key}"
        if key in st.session_state:
            st.session_state[shadow] = st.session_state[key]
        if shadow in st.session_state:
            st.session_state[key] = st.session_state[shadow]


def run_many(keys: list[str], horizon_months: int, replications: int, seed: int,
             include_uncertainty: bool = DEFAULT_UNCERTAINTY
             ) -> tuple[dict[str, ExperimentResult], dict[str, Scenario]]:
    """Run several scenarios with the same horizon, replications, seed and uncertainty setting
    (cached), in order.

    Returns results and the scenarios as run, both by display name.
    """
    names = {v: k for k, v in scenario_choices().items()}
    bar = st.progress(0.0, text="Running…")
    results: dict[str, ExperimentResult] = {}
    scenarios: dict[str, Scenario] = {}
    for k, key in enumerate(keys):
        name = names.get(key, key)
        bar.progress(k / len(keys), text=f"Running {replications} replications of {name}…")
        scenarios[name] = as_run(scenario_by_key(key)[0], horizon_months, replications, seed,
                                 include_uncertainty)
        results[name] = run_scenario(scenarios[name])
    bar.empty()
    return results, scenarios


def as_run(scenario: Scenario, horizon_months: int, replications: int, seed: int,
           include_uncertainty: bool) -> Scenario:
    """``scenario`` with the session's projection settings: the one way every page makes the
    scenario it runs, so the same scenario has the same digest (and numbers) on every page."""
    settings = {"simulation.horizon_months": int(horizon_months),
                "simulation.replications": int(replications), "simulation.seed": int(seed)}
    return with_uncertainty(scenario.replace(settings), bool(include_uncertainty))


UNCERTAINTY_LABEL = "Include what we don't know about the assumptions (wider, more honest bands)"


def starting_key() -> str:
    """The session's starting scenario (a :func:`scenario_choices` key)."""
    key = st.session_state.get(START, DEFAULT_START)
    return key if key in scenario_choices().values() else DEFAULT_START


def ensure_settings() -> None:
    """Give the projection settings their first values (from the starting scenario) if unset."""
    first = levers_from(scenario_by_key(starting_key())[0])
    values = {"horizon_months": first.horizon_months, "replications": DEFAULT_REPLICATIONS,
              "seed": first.seed, "include_uncertainty": DEFAULT_UNCERTAINTY}
    persist(*SETTINGS)
    for key, value in values.items():
        st.session_state.setdefault(key, value)


def session_settings() -> tuple[int, int, int, bool]:
    """(horizon, replications, seed, include uncertainty) as the user last set them."""
    ensure_settings()
    state = st.session_state
    return (int(state["horizon_months"]), int(state["replications"]), int(state["seed"]),
            bool(state["include_uncertainty"]))


def run_settings_widgets(container: Any = None) -> tuple[int, int, int, bool]:
    """The session's projection settings (months, replications, seed, uncertainty), drawn with
    the same keys on every page: a change on one page holds on the others."""
    ensure_settings()
    where = container or st.sidebar.expander("Projection settings (every page)", expanded=True)
    with where:
        horizon = st.number_input("Months to project", 0, 240, step=6, key="horizon_months")
        reps = st.number_input("Replications (more: narrower intervals, slower)", 0, 500, step=5,
                               key="replications")
        seed = st.number_input("Random seed (shared by all scenarios)", 0, 2**31 - 1, step=1,
                               key="seed",
                               help="Same seed, same numbers. Every scenario shares it, so "
                                    "their differences are the policies, not luck.")
        include = st.checkbox(UNCERTAINTY_LABEL, key="include_uncertainty",
                              help=HELP["uncertainty"])
    return int(horizon), int(reps), int(seed), bool(include)


def uncertainty_badge(include: bool) -> str:
    """The session's uncertainty setting in one line, shown at the top of every page."""
    return ("Bands include chance **and what we don't know about the assumptions**"
            if include else "Bands show **chance only** (the assumptions held fixed)") + \
        " · change it in *Projection settings*, for every page."


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


LEVER_PREFIXES = ("wte_", "add_wte_", "profiling_", "pct_", "support_places", "growth_pct",
                  "priority_order", "outsourced_")
"""Scenario page widget keys that are policy levers, set afresh from a new starting scenario."""


def set_start(key: str) -> None:
    """Make ``key`` (a :func:`scenario_choices` key) the session's starting scenario.

    Used by every page that chooses one (Scenario's *Start from*, an uploaded scenario file,
    Calibrate's *Use this calibrated scenario*): the lever positions of the previous starting
    scenario are forgotten, so the Scenario page sets them from the new one instead of reading
    them as changes; the projection settings stay (they belong to the session).
    """
    st.session_state[START] = key
    for name in ("base_scenario", "_keep_base_scenario"):
        st.session_state[name] = key
    for widget in list(st.session_state):
        bare = str(widget).removeprefix("_keep_")
        if bare.startswith(LEVER_PREFIXES):
            del st.session_state[widget]
    st.session_state.pop("ndpath_scenario_run", None)


start_scenario_page_from = set_start
"""The earlier name of :func:`set_start`."""
