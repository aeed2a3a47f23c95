"""Calibrate page: check a pathway extract or a monthly series, fit it, back-test it, use it.

Everything stays in this session's memory: an upload is validated and pseudonymised on reading,
the calibration holds the children waiting inside the scenario (``backlog.waiting``), and
nothing is written to disk. Tables exported from uploaded data suppress counts below 5.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any, Iterator, cast

import pandas as pd
import streamlit as st

from app import calibrating as cal
from app import layout
from app.state import (
    cancel_started,
    keep_scenario,
    persist,
    scenario_by_key,
    scenario_choices,
    set_start,
    shipped,
)
from app.upload import code_counts, frame_from_upload, suppress_small
from calibration.backtest import run_backtest
from calibration.calibrate import CalibrationError, calibrate_extract
from calibration.extract import ExtractError, problems_frame, quality_report, read_extract
from calibration.fitters import parse_month_ranges
from calibration.monthly import calibrate_monthly, read_monthly
from calibration.observed import month_range, monthly_flows
from calibration.report import arrivals_figure, capacity_figure, list_figure, waits_figure
from model.scenario import Scenario, ScenarioError

EXAMPLE_DATE = dt.date(2025, 12, 31)
FIT = "ndpath_calibration_fit"
BACKTEST = "ndpath_calibration_backtest"
MONTHLY = "ndpath_calibration_monthly"
# (comments, not docstrings: a bare string in a page script is drawn on the page by Streamlit)
# the base-scenario choice meaning ndpath's built-in defaults (as `ndpath calibrate` uses)
DEFAULTS = "defaults"


@st.cache_data(show_spinner="Making the synthetic example extract…")
def example_extract(extract_date: dt.date) -> pd.DataFrame:
    """A synthetic extract from the default scenario: 36 months to the extract date, so it holds
    every referral of the 36 months the fit uses by default."""
    from calibration.synth import synthesise_extract

    return synthesise_extract(shipped("default")[0], extract_date, history_months=36)


@contextlib.contextmanager
def calibration_warnings() -> Iterator[list[str]]:
    """Collect the calibration's logged warnings (e.g. capacity at the edge of its range)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("calibration")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def show_problems(error: ExtractError, what: str = "extract", quarantine: bool = True) -> None:
    """Every problem, in words: problems with the whole file (a missing column, an unreadable
    file) once each, above the rows' problems; setting rows aside is offered only when some
    problems are in rows (a missing column cannot be set aside)."""
    whole = [p for p in error.problems if p.row is None]
    rows = [p for p in error.problems if p.row is not None]
    if whole:
        st.error(f"**This {what} cannot be used as it is.** "
                 + " ".join(f"{cal.file_problem_words(p)}." for p in whole))
    if not rows:
        return
    rest = (" Fix them and upload it again, or choose *set the bad rows aside* to use the rest."
            if quarantine and not whole else " Fix them and upload it again.")
    st.error(f"**This {what} cannot be used as it is: {len(rows)} problem(s) in its rows.** "
             f"Each row below says where the problem is and how to fix it.{rest}")
    table = problems_frame(rows).head(500)
    table["row"] = table["row"].astype(int)
    st.dataframe(table, hide_index=True, width="stretch", key=f"problems_{what}")
    if len(rows) > 500:
        st.caption(f"The first 500 of {len(rows)} problems are shown.")


def show_figure(figure: Any) -> None:
    st.pyplot(figure, clear_figure=False)


def base_widget(prefix: str) -> tuple[str, Scenario]:
    """Where the values the data cannot identify come from: ndpath's defaults or a scenario."""
    choices = {"ndpath's built-in defaults": DEFAULTS, **scenario_choices()}
    key = f"{prefix}_base"
    persist(key)
    if st.session_state.get(key) not in choices.values():
        st.session_state[key] = DEFAULTS
    names = {v: k for k, v in choices.items()}
    chosen = st.selectbox("Keep what the data cannot tell from", list(choices.values()), key=key,
                          format_func=names.__getitem__,
                          help="Hours per assessment, job plans, vetting, support uptake and "
                               "escalation are not identified by the data; they stay as in this "
                               "scenario. The page lists them after fitting.")
    return chosen, Scenario() if chosen == DEFAULTS else scenario_by_key(chosen)[0]


def use_section(prefix: str, scenario: Scenario, default_name: str) -> None:
    """Name the calibrated scenario and offer it on the other pages."""
    name_key = f"{prefix}_use_name"
    if st.session_state.get(f"_{name_key}_for") != default_name:
        st.session_state[name_key] = default_name  # a new fit: propose its own name
        st.session_state[f"_{name_key}_for"] = default_name
    name = st.text_input("Name on the other pages", key=name_key).strip()
    warning = cal.large_run_warning(scenario)
    if warning:
        st.warning(warning)
    if st.button("Use this calibrated scenario", key=f"{prefix}_use", type="primary",
                 disabled=not name):
        kept = cal.renamed(scenario, name)
        keep_scenario(name, kept)
        set_start(f"session:{name}")
        st.session_state[f"{prefix}_used"] = name
    used = st.session_state.get(f"{prefix}_used")
    if used:
        st.success(f"**{used}** is offered under *Start from* on the Scenario page (now its "
                   "starting scenario) and on the Compare and Present pages, for this session.")
        st.page_link("app/pages/scenario.py", label="Go to the Scenario page",
                     icon=":material/tune:")
    if not name:
        st.error("Give the calibrated scenario a name.")
    toml_name = "calibrated.toml"
    named = cal.renamed(scenario, name) if name else scenario
    st.download_button("Calibrated scenario (TOML)", lambda: named.to_toml(), toml_name,
                       mime="application/toml", key=f"{prefix}_dl_toml", on_click="ignore",
                       help=f"Run it with: ndpath run {toml_name}")
    if scenario.backlog.waiting is not None:
        st.caption("The TOML holds the children waiting at the start (referral dates and "
                   "attributes, no ids) as `backlog.waiting` columns: treat it with the same care "
                   "as the extract.")


# -------------------------------------------------------------------------------------------------
# Patient-level extract


def show_table(table) -> None:  # type: ignore[no-untyped-def]
    report = quality_report(table)
    st.success(f"Read {report['input_rows']:,} referrals to {report['extract_date']}: "
               f"{report['valid_rows']:,} usable, {report['quarantined_rows']:,} set aside.")
    c = st.columns(4)
    c[0].metric("Usable referrals", f"{report['valid_rows']:,}")
    c[1].metric("Still waiting (wait censored at the extract date)",
                f"{report['still_waiting']:,}")
    c[2].metric("Assessment started", f"{report['assessed']:,}")
    c[3].metric("Left without assessment", f"{report['discharged']:,}")
    if len(table.quarantine):
        st.warning(f"{len(table.quarantine)} row(s) were set aside, never dropped silently; "
                   "their problems are listed below (ids are pseudonyms).")
        st.dataframe(table.quarantine[["row", "problems"]], hide_index=True, width="stretch")
    months = month_range(table.data["referral_date"].min(), table.extract_date)
    flows = suppress_small(monthly_flows(table.data, months))
    with st.expander("Month by month, completeness and codes (counts below 5 suppressed)"):
        st.dataframe(flows, hide_index=True, width="stretch")
        filled = cast(dict[str, float], report["completeness"])
        completeness = pd.DataFrame({"column": list(filled),
                                     "filled (%)": [round(100 * v, 1) for v in filled.values()]})
        codes = suppress_small(code_counts(report), ["children"])
        left, right = st.columns(2)
        left.dataframe(completeness, hide_index=True, width="stretch")
        right.dataframe(codes, hide_index=True, width="stretch")
        st.download_button("Monthly counts (CSV, small counts suppressed)",
                           flows.to_csv(index=False), "monthly_counts.csv", mime="text/csv",
                           key="cal_dl_monthly", on_click="ignore")
        st.download_button("Codes (CSV, small counts suppressed)", codes.to_csv(index=False),
                           "codes.csv", mime="text/csv", key="cal_dl_codes", on_click="ignore")


def fit_options() -> tuple[Any, list[str]]:
    """The fitting options (an expander) and why they cannot be used, if so."""
    defaults = {"cal_history": 36, "cal_exclude": "", "cal_replay": 24, "cal_tune_reps": 3,
                "cal_tune": True}
    persist(*defaults)
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    with st.expander("Fitting options"):
        history = st.number_input("Months of history to fit", 6, 240, step=6, key="cal_history",
                                  help="The last complete months before the extract date. The "
                                       "extract must hold every referral from their start.")
        exclude = st.text_input("Months to leave out of the referrals fit", key="cal_exclude",
                                placeholder="e.g. 2020-03..2020-08",
                                help="Unusual months (the spring 2020 trough): YYYY-MM, ranges "
                                     "YYYY-MM..YYYY-MM, separated by commas.")
        tune = st.toggle("Tune capacity by simulation (recommended)", key="cal_tune",
                         help="Replays recent months from the children waiting then, and scales "
                              "capacity so the model reproduces the list and the waits.")
        replay = st.number_input("Months replayed when tuning", 3, 120, step=3, key="cal_replay",
                                 disabled=not tune)
        reps = st.number_input("Replications per tried capacity (more: steadier, slower)", 1, 20,
                               step=1, key="cal_tune_reps", disabled=not tune)
    problems = []
    try:
        parse_month_ranges(exclude)
    except ValueError as error:
        problems.append(f"Months to leave out: {error}.")
    return cal.app_options(history, exclude, replay, reps, tune), problems


def show_fit(calibration: Any, warnings: list[str]) -> None:
    tuning = calibration.tuning
    st.success("**Fitted.** " + cal.tuning_summary(tuning))
    for message in warnings:
        st.warning(f"The calibration warns: {message.rstrip('.')}.")
    tabs = st.tabs(["Fitted values", "Goodness of fit", "Fitted and kept"])
    with tabs[0]:
        table = cal.parameters_table(calibration.parameters)
        st.dataframe(table, hide_index=True, width="stretch", key="cal_parameters")
        st.download_button("Fitted values (CSV)", table.to_csv(index=False), "fit.csv",
                           mime="text/csv", key="cal_dl_fit", on_click="ignore")
    with tabs[1]:
        left, right = st.columns(2)
        with left:
            show_figure(list_figure(calibration))
            show_figure(arrivals_figure(calibration))
        with right:
            show_figure(waits_figure(calibration))
            show_figure(capacity_figure(calibration))
        if tuning is not None:
            fit_table = cal.list_fit_table(tuning)
            left.dataframe(fit_table, hide_index=True, width="stretch", key="cal_list_fit")
            right.dataframe(cal.km_table(tuning), hide_index=True, width="stretch",
                            key="cal_km_fit")
            st.download_button("List size, observed and simulated (CSV, small counts "
                               "suppressed)", fit_table.to_csv(index=False), "list_fit.csv",
                               mime="text/csv", key="cal_dl_list_fit", on_click="ignore")
    with tabs[2]:
        st.markdown("**What was fitted**")
        st.markdown("\n".join(f"- {n}" for n in calibration.notes) or "-")
        st.markdown("**Kept from the base scenario (the data does not identify them)**")
        st.markdown("\n".join(f"- {k}" for k in calibration.kept_defaults))


def backtest_section(table: Any, options: Any, base: Scenario, fit_key: str,
                     blocked: bool) -> None:
    st.header("2. Back-test")
    st.markdown("Would this have worked a year ago? The extract is cut some months before its "
                "date (later referrals dropped, later dates blanked: the extract you would have "
                "pulled then), calibrated with the same options, projected over the held-out "
                "months and compared with what happened, beside three simple methods.")
    persist("cal_holdout", "cal_bt_reps")
    st.session_state.setdefault("cal_holdout", 12)
    st.session_state.setdefault("cal_bt_reps", 10)
    left, right = st.columns(2)
    holdout = int(left.number_input("Months held out", 3, 36, step=3, key="cal_holdout"))
    reps = int(right.number_input("Replications of the projection", 2, 100, step=2,
                                  key="cal_bt_reps"))
    key = cal.fingerprint(fit_key, holdout, reps)
    if st.button("Back-test", key="cal_backtest", disabled=blocked):
        with st.spinner(f"Calibrating on the data known {holdout} months ago and projecting "
                        f"{reps} replications…"), calibration_warnings() as warnings:
            try:
                result = run_backtest(table, holdout, options, base, replications=reps)
                st.session_state[BACKTEST] = {"key": key, "result": result,
                                              "warnings": warnings}
            except (CalibrationError, ScenarioError, ValueError) as error:
                st.session_state[BACKTEST] = {"key": key, "error": str(error)}
    done = st.session_state.get(BACKTEST)
    if done is None or done["key"] != key:
        if done is not None:
            st.info("The data or options changed since the last back-test: press **Back-test** "
                    "to update it.")
        return
    if "error" in done:
        st.error(f"The back-test cannot run on this data: {done['error']}. Hold out fewer "
                 "months, or use an extract with a longer history.")
        return
    result = done["result"]
    st.markdown("**" + cal.backtest_sentence(result) + "**")
    for message in done["warnings"]:
        st.warning(f"The calibration on the cut extract warns: {message.rstrip('.')}.")
    st.dataframe(cal.backtest_errors_table(result), hide_index=True, width="stretch",
                 key="cal_backtest_errors")
    show_figure(cal.backtest_figure(result))
    w = result.waits.iloc[0]
    st.caption(f"Median wait of assessments started in the held-out months: "
               f"{w['actual']:.1f} weeks in fact, {w['model']:.1f} in the model, "
               f"{w['last_year_before_cut']:.1f} in the year before the cut.")
    comparison = cal.backtest_comparison_table(result)
    with st.expander("Month by month (counts below 5 suppressed)"):
        st.dataframe(comparison, hide_index=True, width="stretch", key="cal_backtest_table")
    st.download_button("Back-test, month by month (CSV, small counts suppressed)",
                       comparison.to_csv(index=False), "backtest.csv", mime="text/csv",
                       key="cal_dl_backtest", on_click="ignore")


def extract_path() -> None:
    st.markdown("Upload a patient-level pathway extract (one row per referral: `referral_id`, "
                "`referral_date`, and where you have them the assessment, discharge, triage and "
                "support dates; see docs/DESIGN.md section 4a), or try the synthetic example. The file stays "
                "in this session's memory; ids are replaced by pseudonyms as it is read.")
    persist("cal_source", "cal_extract_date", "cal_on_error")
    st.session_state.setdefault("cal_source", "example")
    st.session_state.setdefault("cal_extract_date", EXAMPLE_DATE)
    st.session_state.setdefault("cal_on_error", "stop")
    source = st.radio("Data", ["example", "upload"], key="cal_source", horizontal=True,
                      format_func={"example": "The synthetic example",
                                   "upload": "Upload an extract"}.__getitem__)
    upload = None
    raw_upload: pd.DataFrame | None = None
    latest: dt.date | None = None
    if source == "upload":
        upload = st.file_uploader("Extract (CSV, Excel or Parquet)",
                                  type=["csv", "txt", "xlsx", "xlsm", "xls", "parquet", "pq"],
                                  key="cal_upload")
        if upload is not None:
            try:
                raw_upload = frame_from_upload(upload.name, upload.getvalue())
            except ExtractError as error:
                show_problems(error, quarantine=False)
                return
            latest = cal.latest_date(raw_upload)
            seen = cal.fingerprint(upload.name, upload.getvalue())
            if latest is not None and st.session_state.get("_cal_date_for") != seen:
                # a new file: propose its latest date as the day it was pulled (asked below)
                st.session_state["cal_extract_date"] = latest
                st.session_state["_keep_cal_extract_date"] = latest
                st.session_state["_cal_date_for"] = seen
    extract_date = st.date_input("Extract date (the day the data was pulled)",
                                 key="cal_extract_date", format="DD/MM/YYYY",
                                 help="Waits of children still waiting are counted to this day, "
                                      "and the calibrated projection starts from it.")
    if latest is not None:
        st.caption(f"The latest date in the file is {latest:%d %B %Y}, proposed as the extract "
                   "date: change it if the data was pulled on another day.")
    on_error = st.radio("When rows have problems", ["stop", "quarantine"], key="cal_on_error",
                        horizontal=True,
                        format_func={"stop": "stop and list them",
                                     "quarantine": "set the bad rows aside"}.__getitem__)
    if source == "upload" and upload is None:
        st.info("Choose a file to check it.")
        return
    try:
        if upload is not None and raw_upload is not None:
            raw = raw_upload
            source_name, data_id = upload.name, cal.fingerprint(upload.name, upload.getvalue())
        else:
            raw = example_extract(extract_date)
            source_name, data_id = "synthetic example", "example"
        table = read_extract(raw, cast(Any, extract_date), on_error=cast(Any, on_error))
    except ExtractError as error:
        show_problems(error)
        return
    show_table(table)

    st.header("1. Fit")
    st.markdown("Fits referrals (trend and seasonality), the referral mix, waits with the "
                "children still waiting counted as censored, leaving the list and capacity with "
                "its change points; then replays recent months to tune capacity so the model "
                "reproduces the list and the waits. The result starts on the extract date from "
                "the children waiting then.")
    base_key, base = base_widget("cal")
    options, problems = fit_options()
    fit_key = cal.fingerprint(data_id, extract_date, on_error, options, base_key)
    if problems:
        st.error("**Cannot fit yet:**\n" + "\n".join(f"- {p}" for p in problems))
    if st.button("Fit", key="cal_fit", type="primary", disabled=bool(problems)):
        with st.spinner("Fitting, then tuning capacity by simulation (a few seconds to a "
                        "minute)…"), calibration_warnings() as warnings:
            try:
                result = calibrate_extract(table, options, base)
                st.session_state[FIT] = {"key": fit_key, "result": result, "warnings": warnings,
                                         "source": source_name}
            except (CalibrationError, ScenarioError) as error:
                st.session_state[FIT] = {"key": fit_key, "error": str(error)}
    done = st.session_state.get(FIT)
    if done is None or done["key"] != fit_key:
        st.info("Press **Fit** to calibrate a scenario from this data." if done is None else
                "The data or options changed since the last fit: press **Fit** to update it.")
        return
    if "error" in done:
        st.error(f"This data cannot be calibrated: {done['error']}.")
        return
    calibration = done["result"]
    show_fit(calibration, done["warnings"])
    backtest_section(table, options, base, fit_key, bool(problems))
    st.header("3. Use this calibrated scenario")
    use_section("cal", calibration.scenario, cal.calibrated_name(done["source"], calibration))


# -------------------------------------------------------------------------------------------------
# Monthly series


def _age_bands_widget(values: list[str]) -> str | list[str] | None:
    """The age bands to fit, summed month by month (as ``--age-band`` given once for each on
    the command line): one band, several, or none chosen for every band summed."""
    key = "cal_monthly_age_bands"
    chosen = st.session_state.get(key)
    if not isinstance(chosen, list) or not set(chosen) <= set(values):
        st.session_state[key] = ([cal.EXAMPLE_MONTHLY_AGE_BAND]
                                 if cal.EXAMPLE_MONTHLY_AGE_BAND in values else [])
    chosen = st.multiselect("Which age bands (summed month by month)", values, key=key,
                            placeholder="Every band, summed",
                            help="Choose the children's bands of your service, e.g. 0-4, 5-11 "
                                 "and 12-17. None chosen sums every band, adults' too.")
    return None if not chosen else chosen[0] if len(chosen) == 1 else list(chosen)


def monthly_path() -> None:
    st.markdown("Upload a monthly series (`month`, `new_referrals`, and where you have them "
                "`closed_referrals`, `open_referrals`, `open_over_13_weeks`, "
                "`assessments_completed`, with optional `age_band` / `pathway` columns; "
                "docs/DESIGN.md section 4b), or use NHS England's national series of new autism referrals. "
                "Aggregates identify fewer things than an extract: the page says what was fitted "
                "and what stayed as the base scenario.")
    persist("cal_monthly_source", "cal_monthly_exclude", "cal_monthly_group",
            "cal_monthly_age_bands")
    st.session_state.setdefault("cal_monthly_source", "example")
    st.session_state.setdefault("cal_monthly_exclude", cal.EXAMPLE_MONTHLY_EXCLUDE)
    source = st.radio("Series", ["example", "upload"], key="cal_monthly_source", horizontal=True,
                      format_func={"example": "England, new autism referrals 2019-2021 (NHS "
                                              "England, OGL v3.0)",
                                   "upload": "Upload a series"}.__getitem__)
    try:
        if source == "upload":
            upload = st.file_uploader("Monthly series (CSV, Excel or Parquet)",
                                      type=["csv", "txt", "xlsx", "xlsm", "xls", "parquet", "pq"],
                                      key="cal_monthly_upload")
            if upload is None:
                st.info("Choose a file to check it.")
                return
            raw = frame_from_upload(upload.name, upload.getvalue())
            source_name = upload.name
            data_id = cal.fingerprint(upload.name, upload.getvalue())
        else:
            raw = cal.example_monthly()
            source_name, data_id = "England new autism referrals", "example"
            st.caption("Mental-health providers only, and more providers reported over time, "
                       "so part of the rise is coverage. It is national: it shows the monthly "
                       "path, it is not a service to plan with.")
        columns = raw.columns.astype(str).str.strip().str.lower().str.replace(" ", "_")
        groups: dict[str, str | list[str] | None] = {}
        for column in ("age_band", "pathway"):
            if column in columns:
                values = sorted(raw[raw.columns[list(columns).index(column)]].astype(str)
                                .str.strip().unique())
                if column == "age_band":
                    groups[column] = _age_bands_widget(values)
                    continue
                options = ["(all, summed)", *values]
                key = f"cal_monthly_{column}"
                if st.session_state.get(key) not in options:
                    st.session_state[key] = (cal.EXAMPLE_MONTHLY_AGE_BAND
                                             if cal.EXAMPLE_MONTHLY_AGE_BAND in values
                                             and column == "age_band" else options[0])
                chosen = st.selectbox(f"Which {column.replace('_', ' ')}", options, key=key)
                groups[column] = None if chosen == options[0] else chosen
        pathway = groups.get("pathway")
        # the bundled series read from its file, so that its own caveats (providers reporting
        # rose over the period) go with the fit and the scenario, as on the command line
        series = read_monthly(cal.EXAMPLE_MONTHLY if source == "example" else raw,
                              age_band=groups.get("age_band"),
                              pathway=pathway if isinstance(pathway, str) else None)
    except ExtractError as error:
        show_problems(error, "series", quarantine=False)
        return
    months = series.data.index
    st.success(f"Read {len(months)} months, {months[0]} to {months[-1]}, with "
               f"{', '.join(c.replace('_', ' ') for c in series.data.columns)}.")
    table = cal.monthly_table(series)
    with st.expander("The series (counts below 5 suppressed)"):
        st.dataframe(table, hide_index=True, width="stretch", key="cal_monthly_table")
        st.download_button("Series (CSV, small counts suppressed)", table.to_csv(index=False),
                           "series.csv", mime="text/csv", key="cal_dl_series", on_click="ignore")

    st.header("1. Fit")
    base_key, base = base_widget("cal_monthly")
    exclude = st.text_input("Months to leave out of the referrals fit", key="cal_monthly_exclude",
                            help="Unusual months, e.g. the spring 2020 trough: YYYY-MM, ranges "
                                 "YYYY-MM..YYYY-MM, separated by commas. Blank: none.")
    problems = []
    try:
        parse_month_ranges(exclude)
    except ValueError as error:
        problems.append(f"Months to leave out: {error}.")
    if problems:
        st.error("**Cannot fit yet:**\n" + "\n".join(f"- {p}" for p in problems))
    key = cal.fingerprint(data_id, groups, exclude, base_key)
    if st.button("Fit the series", key="cal_monthly_fit", type="primary",
                 disabled=bool(problems)):
        with st.spinner("Fitting the series…"):
            try:
                result = calibrate_monthly(series, exclude.strip() or None, base)
                st.session_state[MONTHLY] = {"key": key, "result": result,
                                             "source": source_name}
            except (CalibrationError, ScenarioError, ValueError) as error:
                st.session_state[MONTHLY] = {"key": key, "error": str(error)}
    done = st.session_state.get(MONTHLY)
    if done is None or done["key"] != key:
        st.info("Press **Fit the series** to calibrate from it." if done is None else
                "The series or options changed since the last fit: press **Fit the series**.")
        return
    if "error" in done:
        st.error(f"This series cannot be calibrated: {done['error']}.")
        return
    result = done["result"]
    start = result.scenario.simulation.start_date
    st.success(f"**Fitted.** Referrals grow by {result.arrivals.annual_growth_:+.1%} a year; the "
               f"scenario starts on {start:%d %B %Y}, the month after the data.")
    for warning in result.warnings:
        st.warning(warning)
    show_figure(cal.monthly_arrivals_figure(result))
    parameters = cal.parameters_table(result.parameters)
    st.dataframe(parameters, hide_index=True, width="stretch", key="cal_monthly_parameters")
    st.download_button("Fitted values (CSV)", parameters.to_csv(index=False), "fit.csv",
                       mime="text/csv", key="cal_dl_monthly_fit", on_click="ignore")
    left, right = st.columns(2)
    left.markdown("**What was fitted**\n\n" + ("\n".join(f"- {n}" for n in result.notes)
                                               or "- referrals (trend and seasonality)"))
    right.markdown("**Kept from the base scenario (aggregates do not identify them)**\n\n"
                   + "\n".join(f"- {k}" for k in result.kept_defaults))
    st.header("2. Use this calibrated scenario")
    use_section("cal_monthly", result.scenario, cal.calibrated_name(done["source"], result))


def page() -> None:
    layout.page_style()
    cancel_started()  # what the Scenario page started early is not what this page runs
    st.title("Calibrate from your service's data")
    persist("cal_kind")
    st.session_state.setdefault("cal_kind", "extract")
    kind = st.radio("What data do you have?", ["extract", "monthly"], key="cal_kind",
                    horizontal=True,
                    format_func={"extract": "A patient-level extract (one row per referral)",
                                 "monthly": "Monthly counts (an aggregate series)"}.__getitem__)
    if kind == "extract":
        extract_path()
    else:
        monthly_path()


# Streamlit runs a page as __main__; a worker process that imports the main module
# again (as __mp_main__, app/state.py) must not run the page.
if __name__ == "__main__":
    try:
        page()
    except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
        layout.page_failed(error, "Check the data and options and try again.")
