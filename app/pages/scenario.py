"""Scenario page: start from a scenario, move the levers, run, see the change against it."""

from __future__ import annotations

import json
import math
from typing import Any

import streamlit as st

from app import core, equity, figures, sanity
from app.scenario_files import scenario_from_toml
from app.state import (
    UNCERTAINTY_LABEL,
    keep_scenario,
    persist,
    run_pair,
    run_sensitivity,
    scenario_by_key,
    scenario_choices,
    sensitivity_runs,
    start_scenario_page_from,
)
from model.labels import HELP, label, short_label
from model.scenario import Scenario, ScenarioError
from model.sensitivity import tornado_chart

LEVER_KEYS = ("profiling_enabled", "profiling_wte", "pct_to_diagnosis", "pct_needs_led",
              "support_places", "growth_pct", "priority_order", "outsourced_n", "outsourced_start",
              "outsourced_months", "outsourced_cost", "horizon_months", "replications", "seed",
              "include_uncertainty", "sens_metric", "sens_replications")
RUN_STATE = "ndpath_scenario_run"
UPLOAD_PROBLEMS = "ndpath_scenario_upload_problems"
UPLOADED = "ndpath_scenario_uploaded"
SENSITIVITY = "ndpath_sensitivity"
# few: the analysis costs two runs per assumption; paired runs keep the differences sharp
# (a bare string here would be drawn on the page by Streamlit's magic)
SENSITIVITY_REPLICATIONS = 4


def set_levers(base: Scenario, overwrite: bool) -> None:
    """Put the lever widgets at the positions that reproduce ``base``.

    ``overwrite=False`` (first view) keeps values already set, e.g. by a test or a shared link.
    """
    reps = st.session_state.get("replications", core.DEFAULT_REPLICATIONS)
    levers = core.levers_from(base, reps)
    if overwrite:
        for key in [k for k in st.session_state if str(k).startswith(("wte_", "_keep_wte_"))]:
            del st.session_state[key]
    values: dict[str, Any] = {f"wte_{i}": wte for i, wte in enumerate(levers.wte)}
    values |= {
        "profiling_enabled": levers.profiling_enabled, "profiling_wte": levers.profiling_wte,
        "pct_to_diagnosis": levers.pct_to_diagnosis, "pct_needs_led": levers.pct_needs_led,
        "support_places": levers.support_places, "growth_pct": levers.annual_growth_pct,
        "priority_order": list(levers.priority_order),
        "outsourced_n": levers.outsourced_assessments,
        "outsourced_start": levers.outsourced_start_month,
        "outsourced_months": levers.outsourced_months, "outsourced_cost": levers.outsourced_cost,
        "horizon_months": levers.horizon_months, "replications": reps, "seed": levers.seed,
        # a projection setting, like replications: kept when the starting scenario changes
        "include_uncertainty": st.session_state.get("include_uncertainty",
                                                    levers.include_uncertainty),
    }
    for key, value in values.items():
        if overwrite or key not in st.session_state:
            st.session_state[key] = value
    st.session_state.pop(RUN_STATE, None)


def on_base_change() -> None:
    set_levers(scenario_by_key(st.session_state["base_scenario"])[0], overwrite=True)


def on_scenario_upload() -> None:
    """Read an uploaded scenario file and make it the starting scenario (kept in memory)."""
    upload = st.session_state.get("scenario_upload")
    st.session_state.pop(UPLOAD_PROBLEMS, None)
    if upload is None:
        return
    try:
        scenario = scenario_from_toml(upload.name, upload.getvalue())
    except ScenarioError as error:
        st.session_state[UPLOAD_PROBLEMS] = (upload.name, error.problems)
        return
    name = f"{scenario.meta.name} (from {upload.name})"
    keep_scenario(name, scenario)
    start_scenario_page_from(f"session:{name}")
    st.session_state[UPLOADED] = name


def upload_widget() -> None:
    """A scenario TOML as a starting point: one downloaded from the app or from ndpath calibrate."""
    with st.sidebar.expander("Start from a scenario file (TOML)"):
        st.file_uploader("Scenario file", type=["toml"], key="scenario_upload",
                         on_change=on_scenario_upload,
                         help="A scenario downloaded from this app, or any scenario file that "
                              "ndpath run accepts. It stays in this session's memory.")
        uploaded = st.session_state.get(UPLOADED)
        if uploaded and UPLOAD_PROBLEMS not in st.session_state:
            st.caption(f"Added “{uploaded}” to the starting scenarios.")
    problems = st.session_state.get(UPLOAD_PROBLEMS)
    if problems:
        name, items = problems
        st.error(f"**The scenario file {name} cannot be used: {len(items)} problem(s).**\n"
                 + "\n".join(f"- {p}" for p in items))


def lever_widgets(base: Scenario) -> core.Levers:
    """Draw the levers in the sidebar and read their positions."""
    side = st.sidebar
    a = base.assessment
    with side.expander("Clinicians in the assessment team (MDT)", expanded=True):
        st.caption(HELP["WTE"] + " " + HELP["MDT"])
        wte = []
        if a.capacity_model != "clinical_hours":
            st.info("This scenario uses a textbook server model: clinician levers do not apply.")
        for i, profession in enumerate(a.professions):
            top = max(20.0, 3 * profession.wte)
            wte.append(st.slider(f"{profession.name.replace('_', ' ').capitalize()} (WTE)", 0.0,
                                 top, step=0.5, key=f"wte_{i}",
                                 help=f"{profession.job_plan_share:.0%} of each WTE's week is "
                                      "spent on assessment."))
        if a.staffing_changes:
            total = sum(c.wte_change for c in a.staffing_changes)
            st.caption(f"This scenario also changes staffing by {total:+g} WTE from "
                       f"{min(c.date for c in a.staffing_changes):%B %Y}, on top of these.")
    with side.expander("Profiling front door (needs-led)"):
        st.caption(HELP["profiling"] + " " + HELP["needs_led"])
        profiling = st.toggle("Profile every referral first", key="profiling_enabled")
        profiling_wte = st.number_input("Profiling practitioners (WTE)", 0.0, 200.0, step=0.5,
                                        key="profiling_wte", disabled=not profiling)
        to_diagnosis = st.slider("Profiled families sent on to diagnostic assessment (%)", 0.0,
                                 100.0, step=1.0, key="pct_to_diagnosis", disabled=not profiling)
        needs_led = st.slider("Profiled families given needs-led support (%)", 0.0, 100.0,
                              step=1.0, key="pct_needs_led", disabled=not profiling,
                              help="The rest are signposted to other help.")
    with side.expander("Support while waiting"):
        if base.support.capacity == "caseload":
            weeks = base.support.episode_weeks.mean_value
            support = st.number_input(
                "Families supported at once (places)", 0.0, 100_000.0, step=10.0,
                key="support_places",
                help=f"Parent programmes and school support: each family is supported for an "
                     f"episode of about {weeks:g} weeks, then the place goes to another family.")
        else:
            support = st.number_input(
                "New support episodes a month", 0.0, 5000.0, step=10.0, key="support_places",
                help="Parent programmes and school support started each month.")
    with side.expander("Demand and priority"):
        growth = st.slider("Growth in referrals a year (%)", -20.0, 40.0, step=1.0,
                           key="growth_pct")
        order = st.multiselect("Seen first, in this order (empty: first come, first served)",
                               list(core.PRIORITY_GROUPS), key="priority_order",
                               format_func=core.PRIORITY_GROUPS.__getitem__)
    with side.expander("Outsourced assessments"):
        outsourced = st.number_input("Assessments bought from another provider", 0, 100_000,
                                     step=100, key="outsourced_n")
        start = st.number_input("Starting this many months in", 0, 600, step=1,
                                key="outsourced_start")
        months = st.number_input("Spread over (months)", 0, 120, step=1, key="outsourced_months")
        cost = st.number_input("Price per assessment (£)", 0.0, 20_000.0, step=100.0,
                               key="outsourced_cost")
    with side.expander("Projection settings", expanded=True):
        horizon = st.number_input("Months to project", 0, 240, step=6, key="horizon_months")
        reps = st.number_input("Replications (more: narrower intervals, slower)", 0, 500, step=5,
                               key="replications")
        seed = st.number_input("Random seed", 0, 2**31 - 1, step=1, key="seed",
                               help="Same seed, same numbers. Your scenario and the starting "
                                    "one share it, so their difference is not luck.")
        include = st.checkbox(UNCERTAINTY_LABEL, key="include_uncertainty",
                              help=HELP["uncertainty"])
    return core.Levers(
        wte=tuple(float(x) for x in wte), profiling_enabled=bool(profiling),
        profiling_wte=float(profiling_wte), pct_to_diagnosis=float(to_diagnosis),
        pct_needs_led=float(needs_led), support_places=float(support),
        annual_growth_pct=float(growth), priority_order=tuple(order),
        outsourced_assessments=int(outsourced), outsourced_start_month=int(start),
        outsourced_months=int(months), outsourced_cost=float(cost), horizon_months=int(horizon),
        replications=int(reps), seed=int(seed), include_uncertainty=bool(include))


def headline(base_result, edit_result) -> None:  # type: ignore[no-untyped-def]
    shown = edit_result if edit_result is not None else base_result
    # four then three to a row, with short titles: readable on a projector
    columns = st.columns(4) + st.columns(3)
    for column, metric in zip(columns, core.HEADLINE_METRICS):
        value = shown.metric(metric)["mean"]
        delta, change = None, 0.0
        if edit_result is not None:
            change = value - base_result.metric(metric)["mean"]
            delta = core.fmt_delta(metric, change) if math.isfinite(change) else None
        colour: Any = "inverse" if metric in core.LOWER_IS_BETTER else "normal"
        if edit_result is not None and delta is not None and change == 0:
            delta, colour = "no change", "off"
        column.metric(short_label(metric), core.fmt_metric(metric, value), delta=delta,
                      delta_color=colour, border=True, help=core.card_help(shown, metric))


def results(run: dict) -> None:  # type: ignore[type-arg]
    baseline, edited = run["baseline"], run["edited"]
    base_result, edit_result, differences = run_pair(baseline, edited)
    names = {run["base_name"]: base_result}
    if edit_result is not None:
        names["Your scenario"] = edit_result
        st.subheader(f"Your scenario against “{run['base_name']}”")
    else:
        st.subheader(f"Projection: {run['base_name']}")
        st.caption("Move a lever in the sidebar and press Run to compare a change with this.")
    st.caption(core.band_words(baseline.uncertainty.enabled))
    headline(base_result, edit_result)
    today = core.month_today(baseline)
    charts = {"waiting_list": figures.list_chart(names, today),
              "waits": figures.wait_chart(names),
              "list_by_wait_band": figures.bands_chart(edit_result or base_result)}
    if differences is not None:
        charts["differences"] = figures.differences_chart(differences)
    tabs = st.tabs(["Waiting list", "Waits", "Differences", "All numbers",
                    "Provenance and downloads", "Who benefits?"])
    with tabs[5]:
        equity.who_benefits(names, key="scenario")  # issue 11
    with tabs[0]:
        st.pyplot(charts["waiting_list"], clear_figure=False)
        st.caption(core.takeaway_list(edit_result or base_result))
    with tabs[1]:
        st.pyplot(charts["waits"], clear_figure=False)
        st.caption(HELP["13_weeks"])
        st.pyplot(charts["list_by_wait_band"], clear_figure=False)
    with tabs[2]:
        if differences is None:
            st.info("Nothing changed from the starting scenario yet: move a lever and press Run.")
        else:
            st.caption("Paired differences: both scenarios ran with the same seed, so each "
                       "replication sees the same children and the difference is the change, "
                       "not luck. An interval that excludes zero is a clear change.")
            st.pyplot(charts["differences"], clear_figure=False)
            st.dataframe(core.differences_table(differences), hide_index=True,
                         width="stretch", key="differences_table")
    with tabs[3]:
        table = core.summary_table(names)
        table["mean"] = table["mean"].map(core.fmt_number)
        table["95% interval"] = [f"{core.fmt_number(lo)} to {core.fmt_number(hi)}"
                                 for lo, hi in zip(table.pop("ci_low"), table.pop("ci_high"))]
        runs = {n: r.replications for n, r in names.items()}
        table["note"] = [core.undefined_note(m, int(k), runs[n])
                         for m, k, n in zip(table["metric"], table.pop("n"), table["scenario"])]
        st.dataframe(table.drop(columns=["metric"]), hide_index=True, width="stretch",
                     key="summary_table")
    with tabs[4]:
        shown = edited if edited is not None else baseline
        info = core.provenance(run["base_name"], shown, run["files"])
        info["baseline_digest"] = baseline.digest()
        st.json(info, expanded=False)
        st.caption(f"ndpath {info['ndpath_version']} · seed {info['seed']} · "
                   f"{info['replications']} replications · scenario {info['scenario_digest'][:12]}"
                   f" · uncertainty about the assumptions {info['parameter_uncertainty']}")
        c1, c2, c3, c4 = st.columns(4)
        toml_name = core.scenario_filename(shown.meta.name)
        c1.download_button("Scenario (TOML)", shown.to_toml(), toml_name,
                           mime="application/toml", key="dl_toml", on_click="ignore",
                           help=f"Run it again with: ndpath run {toml_name}")
        csv = core.results_csv(run["base_name"], base_result,
                               "Your scenario" if edit_result is not None else None, edit_result,
                               differences)
        c2.download_button("Results (CSV)", csv, "results.csv", mime="text/csv", key="dl_csv", on_click="ignore")
        series = figures.combined_timeseries(names).to_csv(index=False)
        c3.download_button("Monthly series (CSV)", series, "timeseries.csv", mime="text/csv",
                           key="dl_timeseries", on_click="ignore")
        extra = {"provenance.json": json.dumps(info, indent=2, default=str).encode()}
        # drawn only when asked for: rendering every figure again costs a second or two
        c4.download_button("Figures (PNG, zip)", lambda: figures.pngs_zip(charts, extra),
                           "figures.zip", mime="application/zip", key="dl_png",
                           on_click="ignore")
    sanity.render(edit_result or base_result)  # the NHS waiting-list formulas beside it
    sensitivity(edited if edited is not None else baseline)


def sensitivity(scenario: Scenario) -> None:
    """Which assumptions matter: one-at-a-time sensitivity on the scenario last run, on demand."""
    st.subheader("Which assumptions matter?")
    st.caption(HELP["sensitivity"])
    st.session_state.setdefault("sens_metric", "waiting_total_end")
    st.session_state.setdefault("sens_replications", SENSITIVITY_REPLICATIONS)
    left, middle, right = st.columns([3, 2, 2], vertical_alignment="bottom")
    metric = left.selectbox("For which number?", list(core.HEADLINE_METRICS), key="sens_metric",
                            format_func=label)
    reps = int(middle.number_input("Replications for each run", 2, 50, step=1,
                                   key="sens_replications"))
    runs = sensitivity_runs(scenario, reps)
    pressed = right.button("Find which assumptions matter", key="sens_run", width="stretch",
                           help=f"{runs} replications in all, on the scenario last run.")
    request = (scenario.digest(), metric, reps)
    if pressed:
        bar = st.progress(0.0, text=f"Running {runs} replications…")
        done = [0]

        def tick() -> None:
            done[0] += 1
            bar.progress(min(1.0, done[0] / runs), text=f"Ran {done[0]} of {runs} replications…")

        table = run_sensitivity(scenario, metric, reps, tick)
        bar.empty()
        st.session_state[SENSITIVITY] = (request, table)
    stored = st.session_state.get(SENSITIVITY)
    if stored is None or stored[0] != request:
        return
    table = stored[1]
    st.markdown(core.sensitivity_sentence(table, metric))
    if not table.empty:
        st.pyplot(tornado_chart(core.sensitivity_for_chart(table), metric), clear_figure=False)
    st.caption(f"Each assumption moved alone, the others as in the scenario last run (held "
               f"fixed); {reps} replications per run with seed {scenario.simulation.seed}, so "
               "every bar is a paired difference with its 95% interval.")


def page() -> None:
    choices = scenario_choices()
    keys = list(choices.values())
    if st.session_state.get("base_scenario") not in keys:
        st.session_state.pop("base_scenario", None)
    persist("base_scenario")
    st.sidebar.selectbox("Start from", keys, key="base_scenario", on_change=on_base_change,
                         format_func={v: k for k, v in choices.items()}.__getitem__)
    upload_widget()
    base, files = scenario_by_key(st.session_state["base_scenario"])
    base_name = base.meta.name
    persist(*LEVER_KEYS, *[f"wte_{i}" for i in range(len(base.assessment.professions))])
    needed = ["horizon_months", *(["wte_0"] if base.assessment.professions else [])]
    if any(k not in st.session_state for k in needed):
        set_levers(base, overwrite=False)
    levers = lever_widgets(base)

    st.title("Test a change to the assessment pathway")
    st.markdown(f"**Starting scenario:** {base_name}. {base.meta.description}")
    if base.meta.illustrative:
        st.caption("The numbers are illustrative, not a real service's data: calibrate from your "
                   "own extract (Calibrate page) before using them for decisions.")

    problems = core.lever_problems(base, levers)
    changes = core.describe_changes(base, levers)
    left, right = st.columns([3, 1])
    with left:
        if problems:
            st.error("**Cannot run yet:**\n" + "\n".join(f"- {p}" for p in problems))
        elif changes:
            st.markdown("**Your changes:** " + "; ".join(changes))
        else:
            st.markdown("No levers moved yet: the run shows the starting scenario.")
    pressed = right.button("Run", type="primary", key="run", disabled=bool(problems),
                           width="stretch")

    if problems:
        return
    baseline = core.with_run_settings(base, levers)
    if pressed:
        edited = None
        if changes:
            edited = core.named(core.apply_levers(base, levers), f"{base_name} (edited)",
                                "Edited in the ndpath app: " + "; ".join(changes))
            keep_scenario("Your scenario (edited)", edited)
        st.session_state[RUN_STATE] = {"baseline": baseline, "edited": edited,
                                       "base_name": base_name, "files": files, "levers": levers}
    run = st.session_state.get(RUN_STATE)
    if run is None:
        # the first view shows the starting scenario's projection without waiting for a click
        run = {"baseline": baseline, "edited": None, "base_name": base_name, "files": files,
               "levers": levers}
        st.session_state[RUN_STATE] = run
    if run["levers"] != levers:
        st.info("You have moved levers since the last run: press **Run** to update the results.")
    results(run)


try:
    page()
except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
    st.error(f"Something went wrong: {error}. Try other values, or report this with the "
             "scenario TOML from the downloads.")
