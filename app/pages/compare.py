"""Compare page: several scenarios side by side on the same charts and in one table."""

from __future__ import annotations

import streamlit as st

from app import core, equity, figures, layout
from app.state import (
    cancel_started,
    persist,
    run_many,
    run_settings_widgets,
    scenario_choices,
    settings_problems,
    starting_key,
    uncertainty_badge,
)
from model.experiment import compare

RESULT = "ndpath_compare_run"
TABLE_METRICS = core.HEADLINE_METRICS[:3] + (
    "waiting_list_end", "list_wait_weeks_p50_end", "waiting_over_52w_end",
    "profiling_over_52w_end") + core.HEADLINE_METRICS[3:] + (
    "assessments_completed",)
# the numbers table: the cards' measures in the cards' order (waits of every stage), with the
# diagnostic list's own count and waits, the needs-profile queue's long waiters and the
# assessments completed beside the children waiting (a comment: a bare string would be drawn)


def page() -> None:
    layout.page_style()
    cancel_started()  # what the Scenario page started early is not what this page runs
    st.title("Compare scenarios")
    st.markdown("Every scenario runs with the same seed, so each sees the same children: "
                "differences between them are the policies, not luck. The first one chosen is "
                "the reference for the paired differences.")
    choices = scenario_choices()
    persist("compare_scenarios")
    keys = list(choices.values())
    start = starting_key()
    first = [start] + [k for k in keys if k != start]
    st.session_state.setdefault("compare_scenarios", first[:3])
    st.session_state["compare_scenarios"] = [k for k in st.session_state["compare_scenarios"]
                                             if k in keys]
    horizon, reps, seed, include = run_settings_widgets()
    st.caption(uncertainty_badge(include))
    # the button sits beside the list, aligned to its top: when the list shrinks as it loses
    # focus, the button does not move away from under the pointer
    left, right = st.columns([4, 1], vertical_alignment="top")
    selected = left.multiselect("Scenarios", keys, key="compare_scenarios", max_selections=6,
                                format_func={v: k for k, v in choices.items()}.__getitem__)
    problems = settings_problems(selected, horizon, reps)
    pressed = right.button("Compare", type="primary", key="compare_run",
                           disabled=bool(problems), width="stretch")
    if problems:
        st.error("**Cannot run yet:**\n" + "\n".join(f"- {p}" for p in problems))
    if pressed:
        st.session_state[RESULT] = (list(selected), horizon, reps, seed, include)
    request = st.session_state.get(RESULT)
    if request is None:
        st.info("Choose scenarios and press **Compare**.")
        return
    if request != (list(selected), horizon, reps, seed, include):
        st.info("The choices changed since the last comparison: press **Compare** to update.")
    results, scenarios = run_many(*request)
    first_scenario = next(iter(scenarios.values()))
    today = core.month_today(first_scenario)
    services = core.different_services(results)  # a calibrated service beside the example
    if services:
        st.warning(services, icon="⚠️")
    st.caption(core.band_words(request[4]))

    # one chart to a row: readable on a laptop, legends clear of the bars
    st.pyplot(figures.list_chart(results, today), clear_figure=False)
    st.pyplot(figures.wait_chart(results), clear_figure=False)
    st.caption(equity.LIST_WAITS_NOTE)
    st.pyplot(figures.support_chart(results), clear_figure=False)

    st.subheader("The numbers")
    st.caption(core.statistic_note(request[2]))
    layout.table(core.numbers_table(results, TABLE_METRICS))

    names = list(results)
    if len(names) > 1:
        st.subheader(f"Paired differences against “{names[0]}”")
        if services:
            st.warning("These are differences between different services, not the effect of "
                       "a policy (see the warning above).", icon="⚠️")
        st.caption(core.VERDICT_NOTE)
        for name in names[1:]:
            diff = compare(results[names[0]], results[name])
            diff = diff[diff["metric"].isin(core.HEADLINE_METRICS)]
            st.markdown(f"**{name}**")
            layout.table(core.differences_table(diff, names[0], name, results[name].scenario))
    equity.who_benefits(results, key="compare")  # issue 11
    st.download_button("All numbers (CSV)", core.summary_table(results).to_csv(index=False),
                       "comparison.csv", mime="text/csv", key="compare_csv", on_click="ignore")
    st.caption(" · ".join(f"{n}: scenario {s.digest()[:12]}" for n, s in scenarios.items())
               + f" · seed {request[3]} · {request[2]} replications · {request[1]} months · "
               + "uncertainty about the assumptions " + core.uncertainty_note(request[4])
               + " · ndpath " + core.provenance("", first_scenario)["ndpath_version"])


# Streamlit runs a page as __main__; a worker process that imports the main module
# again (as __mp_main__, app/state.py) must not run the page.
if __name__ == "__main__":
    try:
        page()
    except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
        layout.page_failed(error, "Try other values or fewer scenarios.")
