"""Scenario page: start from a scenario, move the levers, run, see the change against it."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import streamlit as st

from app import charts, core, equity, figures, layout, sanity
from app.scenario_files import scenario_from_toml
from app.state import (
    cancel_started,
    CODE_VERSION,
    keep_scenario,
    paired_differences,
    persist,
    run_least_lever,
    run_pair,
    run_sensitivity,
    run_settings_widgets,
    scenario_by_key,
    scenario_choices,
    sensitivity_runs,
    set_start,
    start_early,
    starting_key,
    uncertainty_badge,
)
from model.labels import HELP, label
from model.questions import Lever, Target
from model.scenario import Scenario, ScenarioError
from model.sensitivity import tornado_chart

LEVER_KEYS = ("profiling_enabled", "profiling_wte", "pct_to_diagnosis", "pct_needs_led",
              "support_places", "growth_pct", "priority_order", "outsourced_n", "outsourced_start",
              "outsourced_months", "outsourced_cost", "sens_metric", "sens_replications",
              "wwit_target", "wwit_pct", "wwit_count", "wwit_lever")
# each clinician lever moves by half a post from the starting scenario's own WTE, so "+2 WTE"
# is exactly two more posts whatever the starting WTE (a calibrated 3.17 goes to 5.17)
WTE_STEP = 0.5
RUN_STATE = "ndpath_scenario_run"
UPLOAD_PROBLEMS = "ndpath_scenario_upload_problems"
UPLOADED = "ndpath_scenario_uploaded"
SENSITIVITY = "ndpath_sensitivity"
WWIT = "ndpath_what_would_it_take"
# few: the analysis costs two runs per assumption; paired runs keep the differences sharp
# (a bare string here would be drawn on the page by Streamlit's magic)
SENSITIVITY_REPLICATIONS = 4


def set_levers(base: Scenario, overwrite: bool) -> None:
    """Put the lever widgets at the positions that reproduce ``base`` (every clinician change
    at zero).

    ``overwrite=False`` (first view) keeps values already set, e.g. by a test or a shared link.
    The projection settings belong to the session and are left alone.
    """
    levers = core.levers_from(base)
    if overwrite:
        for key in [k for k in st.session_state
                    if str(k).removeprefix("_keep_").startswith(("wte_", "add_wte_"))]:
            del st.session_state[key]
    values: dict[str, Any] = {f"add_wte_{i}": 0.0 for i in range(len(levers.wte))}
    values |= {
        "profiling_enabled": levers.profiling_enabled, "profiling_wte": levers.profiling_wte,
        "pct_to_diagnosis": levers.pct_to_diagnosis, "pct_needs_led": levers.pct_needs_led,
        "support_places": support_value(base, levers.support_places),
        "growth_pct": levers.annual_growth_pct,
        "priority_order": list(levers.priority_order),
        "outsourced_n": levers.outsourced_assessments,
        "outsourced_start": levers.outsourced_start_month,
        "outsourced_months": levers.outsourced_months, "outsourced_cost": levers.outsourced_cost,
    }
    for key, value in values.items():
        if overwrite or key not in st.session_state:
            st.session_state[key] = value
    st.session_state.pop(RUN_STATE, None)


def support_value(base: Scenario, value: float) -> int | float:
    """The support lever's widget value: whole places for a caseload."""
    return int(round(value)) if base.support.capacity == "caseload" else float(value)


def on_base_change() -> None:
    key = st.session_state["base_scenario"]
    set_start(key)
    set_levers(scenario_by_key(key)[0], overwrite=True)


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
    set_start(f"session:{name}")
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


def lever_widgets(base: Scenario, settings: tuple[int, int, int, bool],
                  side: Any) -> core.Levers:
    """Draw the levers in ``side`` (a sidebar container) and read their positions."""
    a = base.assessment
    with side.expander("Clinicians in the assessment team (MDT)", expanded=True):
        st.caption(HELP["WTE"] + " " + HELP["MDT"])
        wte = []
        if a.capacity_model == "servers":
            st.info("This scenario uses a textbook server model: clinician levers do not apply.")
        for i, profession in enumerate(a.professions):
            now = float(profession.wte)
            fewest = -WTE_STEP * math.floor(now / WTE_STEP + 1e-9)
            change = st.slider(f"{profession.name.replace('_', ' ').capitalize()}: change in WTE "
                               f"(now {now:.1f})", fewest, 20.0, step=WTE_STEP,
                               key=f"add_wte_{i}", format="%+.1f",
                               help=f"Posts added (or taken away) from the starting scenario's "
                                    f"{now:.2f} WTE. {profession.job_plan_share:.0%} of each "
                                    "WTE's week is spent on assessment.")
            wte.append(now + float(change) if change else now)
        if a.staffing_changes:
            total = sum(c.wte_change for c in a.staffing_changes)
            st.caption(f"This scenario also changes staffing by {total:+g} WTE from "
                       f"{min(c.date for c in a.staffing_changes):%B %Y}, on top of these.")
    with side.expander("Profiling front door (needs-led)"):
        st.caption(HELP["profiling"] + " " + HELP["needs_led"])
        profiling = st.toggle("Profile every referral first", key="profiling_enabled")
        profiling_wte = st.number_input("Profiling practitioners (WTE)", 0.0, 200.0, step=0.5,
                                        key="profiling_wte", disabled=not profiling,
                                        format="%.1f")
        to_diagnosis = st.slider("Profiled families sent on to diagnostic assessment (%)", 0.0,
                                 100.0, step=1.0, key="pct_to_diagnosis", disabled=not profiling)
        needs_led = st.slider("Profiled families given needs-led support (%)", 0.0, 100.0,
                              step=1.0, key="pct_needs_led", disabled=not profiling,
                              help="The rest are signposted to other help.")
    with side.expander("Support while waiting"):
        if base.support.capacity == "caseload":
            weeks = base.support.episode_weeks.mean_value
            support: float = st.number_input(
                "Families supported at once (places)", 0, 100_000, step=10,
                key="support_places",
                help=f"Parent programmes and school support: each family is supported for an "
                     f"episode of about {weeks:g} weeks, then the place goes to another family.")
        else:
            support = st.number_input(
                "New support episodes a month", 0.0, 5000.0, step=10.0, key="support_places",
                format="%.0f", help="Parent programmes and school support started each month.")
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
                               key="outsourced_cost", format="%.0f")
    horizon, reps, seed, include = settings
    return core.Levers(
        wte=tuple(float(x) for x in wte), profiling_enabled=bool(profiling),
        profiling_wte=float(profiling_wte), pct_to_diagnosis=float(to_diagnosis),
        pct_needs_led=float(needs_led), support_places=float(support),
        annual_growth_pct=float(growth), priority_order=tuple(order),
        outsourced_assessments=int(outsourced), outsourced_start_month=int(start),
        outsourced_months=int(months), outsourced_cost=float(cost), horizon_months=int(horizon),
        replications=int(reps), seed=int(seed), include_uncertainty=bool(include))


def scenario_figures(names: dict[str, Any], today: str, shown_result: Any,
                     differences: pd.DataFrame | None) -> dict[str, Any]:
    """The page's charts as matplotlib figures, by file name (the PNG download's figures)."""
    out = {"waiting_list": figures.list_chart(names, today),
           "waits": figures.wait_chart(names),
           "list_by_wait_band": figures.bands_chart(shown_result)}
    if differences is not None:
        out["differences"] = figures.differences_chart(differences, shown_result.scenario)
    return out


def headline(base_result, edit_result) -> None:  # type: ignore[no-untyped-def]
    """The headline cards: each the average of the projections, with the change against the
    starting scenario when there is an edit ("no change" without an arrow)."""
    shown = edit_result if edit_result is not None else base_result
    items = []
    for metric in core.HEADLINE_METRICS:
        value = shown.metric(metric)["mean"]
        item: dict[str, Any] = {"label": core.card_label(metric, shown.scenario),
                                "value": core.card_value(shown, metric),
                                "help": core.card_help(shown, metric)}
        if edit_result is not None:
            change = value - base_result.metric(metric)["mean"]
            if core.NOT_REACHED_IN_MOST in (item["value"], core.card_value(base_result, metric)):
                change = math.nan  # averages of a few projections each: no change to say
            if math.isfinite(change) and not core.rounds_to_zero(metric, change):
                item |= {"delta": core.fmt_delta(metric, change),
                         "delta_color": "inverse" if metric in core.LOWER_IS_BETTER else "normal"}
            elif math.isfinite(change):
                item |= {"delta": "no change", "delta_color": "off", "delta_arrow": "off"}
        items.append(item)
    layout.cards(items)
    st.caption(core.statistic_note(shown.replications))


def results(run: dict) -> None:  # type: ignore[type-arg]
    baseline, edited = run["baseline"], run["edited"]
    base_result, edit_result = run_pair(baseline, edited)
    names = {run["base_name"]: base_result}
    if edit_result is not None:
        names["Your scenario"] = edit_result
        st.subheader(f"Your scenario against “{run['base_name']}”")
    else:
        st.subheader(f"Projection: {run['base_name']}")
    headline(base_result, edit_result)
    today = core.month_today(baseline)
    shown_result = edit_result or base_result
    # demand against capacity, from the sanity check's own load: why ~0% are seen in 13 weeks
    load = sanity._load_line(shown_result)
    if load:
        st.markdown(load)
    # by profession: which profession's hours run out, so more of another changes little
    constraint = core.constraint_note(shown_result)
    if constraint:
        st.markdown(constraint)
    # the on-screen charts are drawn by the browser from the bands (app/charts.py); the same
    # charts as matplotlib figures (app/figures.py) are drawn only for the PNG download
    tabs = st.tabs(["Waiting list", "Waits", "Differences", "All numbers",
                    "Provenance and downloads", "Who benefits?"])
    with tabs[0]:
        charts.draw(charts.list_chart(names, today))
        st.caption(core.takeaway_list(shown_result) + " "
                   + core.band_words(baseline.uncertainty.enabled))
    # the cards and the first chart are on the screen: now the rest
    differences = paired_differences(base_result, edit_result) if edit_result is not None else None
    with tabs[1]:
        charts.draw(charts.wait_chart(names))
        st.caption(equity.LIST_WAITS_NOTE + " " + HELP["13_weeks"])
        charts.draw(charts.bands_chart(shown_result, today))
    with tabs[2]:
        if differences is None:
            st.info("Nothing changed from the starting scenario yet: move a lever and press Run.")
        else:
            st.caption("Paired differences: both scenarios ran with the same seed, so each "
                       "replication sees the same children and the difference is the change, "
                       "not luck. An interval that excludes zero is a clear change.")
            charts.draw(charts.differences_chart(differences, core.HEADLINE_METRICS, baseline))
            layout.table(core.differences_table(differences, run["base_name"],
                                                "Your scenario", baseline))
    with tabs[3]:
        metrics = list(dict.fromkeys(base_result.summary["metric"]))
        table = core.numbers_table(names, metrics, notes=True)
        if not table["Note"].any():
            table = table.drop(columns=["Note"])
        st.caption(core.statistic_note(base_result.replications))
        layout.table(table)
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
        # every file is made when its button is clicked, not on every rerun
        c1.download_button("Scenario (TOML)", shown.to_toml, toml_name,
                           mime="application/toml", key="dl_toml", on_click="ignore",
                           help=f"Run it again with: ndpath run {toml_name}")
        edit_name = "Your scenario" if edit_result is not None else None
        c2.download_button("Results (CSV)",
                           lambda: core.results_csv(run["base_name"], base_result, edit_name,
                                                    edit_result, differences),
                           "results.csv", mime="text/csv", key="dl_csv", on_click="ignore")
        c3.download_button("Monthly series (CSV)",
                           lambda: figures.combined_timeseries(names).to_csv(index=False),
                           "timeseries.csv", mime="text/csv", key="dl_timeseries",
                           on_click="ignore")
        extra = {"provenance.json": json.dumps(info, indent=2, default=str).encode()}
        c4.download_button("Figures (PNG, zip)",
                           lambda: figures.pngs_zip(
                               scenario_figures(names, today, shown_result, differences), extra),
                           "figures.zip", mime="application/zip", key="dl_png",
                           on_click="ignore")
    with tabs[5]:
        equity.who_benefits(names, key="scenario")  # issue 11
    sanity.render(edit_result or base_result)  # the NHS waiting-list formulas beside it
    what_would_it_take(edited if edited is not None else baseline)
    sensitivity(edited if edited is not None else baseline)


TARGETS = {
    "list_13w": "Share of the children waiting who have waited under 13 weeks (%)",
    "referrals_13w": "Share of new referrals assessed within 13 weeks (%)",
    "list_below": "Children waiting below a number",
    "nobody_over_52w": "Nobody waiting a year or more",
}
# the targets on offer, the first the default: the list-based 13-week share, the headline (as
# NHS England counts waits), at the share ndpath capacity aims for unless told otherwise
# (comments: a bare string here would be drawn on the page by Streamlit's magic)
DEFAULT_TARGET_PCT = 90.0


def lever_choices(scenario: Scenario) -> dict[str, str]:
    """The levers "What would it take?" can add, by key, in words."""
    out = {"wte:": "Clinician WTE, the whole team in proportion"}
    for p in scenario.assessment.professions:
        out[f"wte:{p.name}"] = f"{p.name.replace('_', ' ').capitalize()} WTE"
    out["outsourced_per_month:"] = "Assessments bought from another provider a month"
    out["support_places:"] = ("Support places" if scenario.support.capacity == "caseload"
                              else "Support starts a month")
    return out


def what_would_it_take(scenario: Scenario) -> None:
    """The least of one lever that meets a target by a month: the solver ``ndpath capacity``
    uses (model/questions.py), on the scenario last run, with its interval and chance."""
    st.subheader("What would it take?")
    st.caption("The least extra capacity (one lever, from the start of the projection) at "
               "which the average of the projections meets a target by a month. Every level "
               "tried sees the same children (same seed), so the search is not misled by luck.")
    sim = scenario.simulation
    months = [str(m) for m in pd.period_range(pd.Period(sim.start_date, freq="M"),
                                              periods=sim.horizon_months, freq="M")]
    st.session_state.setdefault("wwit_target", next(iter(TARGETS)))
    kind = st.selectbox("Target", list(TARGETS), key="wwit_target",
                        format_func=TARGETS.__getitem__)
    left, middle = st.columns(2, vertical_alignment="bottom")
    value = 0.0
    if kind in ("referrals_13w", "list_13w"):
        st.session_state.setdefault("wwit_pct", DEFAULT_TARGET_PCT)
        value = float(left.number_input("At least (%)", 1.0, 100.0, step=5.0, key="wwit_pct"))
    elif kind == "list_below":
        st.session_state.setdefault("wwit_count", 5000)
        value = float(left.number_input("At most this many children waiting", 0, 1_000_000,
                                        step=500, key="wwit_count"))
    else:
        left.markdown("Nobody waiting a year or more, on average over the projections.")
    allowed = months[:-4] if kind == "referrals_13w" else months
    if not allowed:
        st.info("The projection is too short for this target: lengthen it.")
        return
    if st.session_state.get("wwit_by") not in allowed or st.session_state.get(
            "_wwit_by_for") != (kind, tuple(allowed)):
        st.session_state["wwit_by"] = allowed[-1]  # a new target: its last possible month
        st.session_state["_wwit_by_for"] = (kind, tuple(allowed))
    by = middle.selectbox("By the end of", allowed, key="wwit_by",
                          format_func=lambda m: f"{pd.Period(m, freq='M'):%B %Y}",
                          help="Referral months whose children have all been followed for 13 "
                               "weeks by the end of the projection." if kind == "referrals_13w"
                          else None)
    levers = lever_choices(scenario)
    if st.session_state.get("wwit_lever") not in levers:
        st.session_state["wwit_lever"] = "wte:"
    chosen = st.selectbox("By adding", list(levers), key="wwit_lever",
                          format_func=levers.__getitem__)
    lever_kind, _, profession = chosen.partition(":")
    lever = Lever(lever_kind, profession or None)  # type: ignore[arg-type]
    target = Target(kind, value, by)  # type: ignore[arg-type]
    request = (scenario.digest(), target, lever)
    if st.button("Find what it takes", key="wwit_run",
                 help=f"Runs {sim.replications} replications at each level tried (usually 6 "
                      "to 10 levels)."):
        status = st.empty()

        def tick(amount: float, mean: float, met: float) -> None:
            status.caption(f"Tried {lever.unit(amount)}: the target met in {100 * met:.0f}% of "
                           "projections…")

        with st.spinner("Searching…"):
            try:
                answer = run_least_lever(scenario, target, lever, CODE_VERSION, tick)
                st.session_state[WWIT] = (request, answer)
            except ValueError as error:
                st.session_state[WWIT] = (request, str(error))
        status.empty()
    stored = st.session_state.get(WWIT)
    if stored is None or stored[0] != request:
        return
    answer = stored[1]
    if isinstance(answer, str):
        st.error(f"This target cannot be searched: {answer}.")
        return
    st.markdown(f"**{answer.sentence()}**")
    tried = answer.evaluations.assign(
        amount=[lever.unit(a) for a in answer.evaluations["amount"]],
        mean=[core.fmt_metric("pct_" if target.higher_is_better else "count", m)
              for m in answer.evaluations["mean"]],
        probability_met=[f"{100 * p:.0f}%" for p in answer.evaluations["probability_met"]])
    tried.columns = ["Level tried", "Average of the projections", "Projections meeting it"]
    with st.expander("Every level tried"):
        layout.table(tried)


def sensitivity(scenario: Scenario) -> None:
    """Which assumptions matter: one-at-a-time sensitivity on the scenario last run, on demand."""
    st.subheader("Which assumptions matter?")
    st.caption(HELP["sensitivity"])
    st.session_state.setdefault("sens_metric", "waiting_total_end")
    st.session_state.setdefault("sens_replications", SENSITIVITY_REPLICATIONS)
    # the measure on its own row, the run below: nothing is cut on a 1024-wide laptop
    metric = st.selectbox("For which number?", list(core.HEADLINE_METRICS), key="sens_metric",
                          format_func=label)
    left, right = st.columns(2, vertical_alignment="bottom")
    reps = int(left.number_input("Replications for each run", 2, 50, step=1,
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


def edited_scenario(base: Scenario, levers: Any, changes: list[str]) -> Scenario | None:
    """The starting scenario with the levers applied, named as the app names it (``None``
    when no lever has moved)."""
    if not changes:
        return None
    return core.named(core.apply_levers(base, levers), f"{base.meta.name} (edited)",
                      "Edited in the ndpath app: " + "; ".join(changes))


def page() -> None:
    layout.page_style()
    choices = scenario_choices()
    keys = list(choices.values())
    # the widget shows the session's starting scenario, however it was chosen (here, by an
    # uploaded file or on the Calibrate page), assigned on every run so the browser never keeps
    # an older choice
    st.session_state["base_scenario"] = starting_key()
    # the box is too narrow for a long name and cannot wrap it: it shows a shorter one, and the
    # help (as the page's first line) says the full name
    shown = layout.short_names(choices)
    full = {v: k for k, v in choices.items()}
    st.sidebar.selectbox("Start from", keys, key="base_scenario", on_change=on_base_change,
                         format_func=lambda key: shown[full[key]],
                         help=f"Now: **{full[st.session_state['base_scenario']]}**. A long "
                              "name is shortened in this box; the page says it in full.")
    upload_widget()
    base, files = scenario_by_key(st.session_state["base_scenario"])
    base_name = base.meta.name
    persist(*LEVER_KEYS, *[f"add_wte_{i}" for i in range(len(base.assessment.professions))])
    needed = ["profiling_enabled", *(["add_wte_0"] if base.assessment.professions else [])]
    if any(k not in st.session_state for k in needed):
        set_levers(base, overwrite=False)
    levers_box = st.sidebar.container()  # the levers first, the session's settings below them
    settings = run_settings_widgets()
    levers = lever_widgets(base, settings, levers_box)

    st.title("Test a change to the assessment pathway")
    st.markdown(f"**Starting scenario:** {base_name}. {base.meta.description}")
    st.caption(("Illustrative numbers, not a real service's data: calibrate from your own "
                "extract (Calibrate page) before using them for decisions. "
                if base.meta.illustrative else "")
               + uncertainty_badge(levers.include_uncertainty))
    for warning in base.meta.warnings or ():  # what its calibration said of it, kept with it
        st.warning(f"From its calibration: {warning}")

    problems = core.lever_problems(base, levers)
    changes = core.describe_changes(base, levers)
    left, right = st.columns([3, 1])
    with left:
        if problems:
            st.error("**Cannot run yet:**\n" + "\n".join(f"- {p}" for p in problems))
        elif changes:
            st.markdown("**Your changes:** " + "; ".join(changes) + ".")
        else:
            st.markdown("No levers moved yet: the run shows the starting scenario.")
    pressed = right.button("Run", type="primary", key="run", disabled=bool(problems),
                           width="stretch")

    if problems:
        return
    baseline = core.with_run_settings(base, levers)
    if pressed:
        edited = edited_scenario(base, levers, changes)
        if edited is not None:
            keep_scenario("Your scenario (edited)", edited)
        st.session_state[RUN_STATE] = {"baseline": baseline, "edited": edited,
                                       "base_name": base_name, "files": files, "levers": levers}
    run = st.session_state.get(RUN_STATE)
    if run is None:
        # the first view shows the starting scenario's projection without waiting for a click
        run = {"baseline": baseline, "edited": None, "base_name": base_name, "files": files,
               "levers": levers}
        st.session_state[RUN_STATE] = run
    edited = edited_scenario(base, levers, changes)
    wanted = [baseline] + ([edited] if edited is not None else [])  # what Run would run now
    if run["levers"] != levers:
        st.info("You have moved levers since the last run: press **Run** to update the results.")
        start_early(wanted)  # the pool starts on them now: the click finds them done, or nearly
    else:
        cancel_started(keep=wanted)  # what this run collects stays; an older lever's goes
    results(run)


# Streamlit runs a page as __main__; a worker process that imports the main module
# again (as __mp_main__, app/state.py) must not run the page.
if __name__ == "__main__":
    try:
        page()
    except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
        layout.page_failed(error, "Try other values, or report this with the scenario TOML from the downloads.")
