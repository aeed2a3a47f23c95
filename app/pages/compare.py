"""Compare page: several scenarios side by side on the same charts and in one table."""

from __future__ import annotations

import streamlit as st

from app import core, equity, figures
from app.state import persist, run_many, run_settings_widgets, scenario_choices, settings_problems
from model.experiment import compare

RESULT = "ndpath_compare_run"


def page() -> None:
    st.title("Compare scenarios")
    st.markdown("Every scenario runs with the same seed, so each sees the same children: "
                "differences between them are the policies, not luck. The first one chosen is "
                "the reference for the paired differences.")
    choices = scenario_choices()
    persist("compare_scenarios")
    keys = list(choices.values())
    st.session_state.setdefault("compare_scenarios", keys[:3])
    st.session_state["compare_scenarios"] = [k for k in st.session_state["compare_scenarios"]
                                             if k in keys]
    selected = st.multiselect("Scenarios", keys, key="compare_scenarios", max_selections=6,
                              format_func={v: k for k, v in choices.items()}.__getitem__)
    horizon, reps, seed, include = run_settings_widgets("compare")
    problems = settings_problems(selected, horizon, reps)
    if problems:
        st.error("**Cannot run yet:**\n" + "\n".join(f"- {p}" for p in problems))
    if st.button("Compare", type="primary", key="compare_run", disabled=bool(problems)):
        st.session_state[RESULT] = (list(selected), horizon, reps, seed, include)
    request = st.session_state.get(RESULT)
    if request is None:
        st.info("Choose scenarios and press **Compare**.")
        return
    if request != (list(selected), horizon, reps, seed, include):
        st.info("The choices changed since the last comparison: press **Compare** to update.")
    results, scenarios = run_many(*request)
    first = next(iter(scenarios.values()))
    today = core.month_today(first)
    st.caption(core.band_words(request[4]))

    st.pyplot(figures.list_chart(results, today), clear_figure=False)
    left, right = st.columns(2)
    left.pyplot(figures.wait_chart(results), clear_figure=False)
    right.pyplot(figures.support_chart(results), clear_figure=False)

    st.subheader("The numbers")
    table = core.summary_table(results)
    table = table[table["metric"].isin(core.HEADLINE_METRICS + ("waiting_list_end",
                                                                 "assessments_completed"))]
    table["value"] = [f"{core.fmt_metric(m, v)} ({core.fmt_number(lo)} to {core.fmt_number(hi)})"
                      for m, v, lo, hi in zip(table["metric"], table["mean"], table["ci_low"],
                                              table["ci_high"])]
    wide = table.pivot(index="label", columns="scenario", values="value")[list(results)]
    st.dataframe(wide, key="compare_table", width="stretch")
    st.caption("Average over replications, with the 95% interval in brackets.")

    names = list(results)
    if len(names) > 1:
        st.subheader(f"Paired differences against “{names[0]}”")
        for name in names[1:]:
            diff = compare(results[names[0]], results[name])
            diff = diff[diff["metric"].isin(core.HEADLINE_METRICS)]
            st.markdown(f"**{name}**")
            st.dataframe(core.differences_table(diff), hide_index=True, width="stretch",
                         key=f"compare_diff_{names.index(name)}")
    equity.who_benefits(results, key="compare")  # issue 11
    st.download_button("All numbers (CSV)", core.summary_table(results).to_csv(index=False),
                       "comparison.csv", mime="text/csv", key="compare_csv", on_click="ignore")
    st.caption(" · ".join(f"{n}: scenario {s.digest()[:12]}" for n, s in scenarios.items())
               + f" · seed {request[3]} · {request[2]} replications · {request[1]} months · "
               + "uncertainty about the assumptions " + core.uncertainty_note(request[4])
               + " · ndpath " + core.provenance("", first)["ndpath_version"])


try:
    page()
except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
    st.error(f"Something went wrong: {error}. Try other values or fewer scenarios.")
