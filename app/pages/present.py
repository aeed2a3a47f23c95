"""Present page: a facilitator's view for a summit, and the pack to take away."""

from __future__ import annotations

import streamlit as st

from app import core, equity, pack
from app.state import persist, run_many, run_settings_widgets, scenario_choices, settings_problems
from model.labels import HELP

RESULT = "ndpath_present_run"


def page() -> None:
    choices = scenario_choices()
    keys = list(choices.values())
    persist("present_scenarios")
    defaults = [k for k in ("shipped:default", "shipped:combined") if k in keys]
    st.session_state.setdefault("present_scenarios", defaults or keys[:1])
    st.session_state["present_scenarios"] = [k for k in st.session_state["present_scenarios"]
                                             if k in keys]
    with st.sidebar:
        st.markdown("**What to show**")
        selected = st.multiselect("Scenarios (up to 4)", keys, key="present_scenarios",
                                  max_selections=4,
                                  format_func={v: k for k, v in choices.items()}.__getitem__)
        # on by default: families and a summit audience should see honest bands
        horizon, reps, seed, include = run_settings_widgets("present", uncertainty=True)
        problems = settings_problems(selected, horizon, reps)
        if problems:
            st.error("\n".join(f"- {p}" for p in problems))
        if st.button("Show", type="primary", key="present_run", disabled=bool(problems),
                     width="stretch"):
            st.session_state[RESULT] = (list(selected), horizon, reps, seed, include)
    request = st.session_state.get(RESULT)
    if request is None and not problems:
        request = (list(selected), horizon, reps, seed, include)  # show something at once
        st.session_state[RESULT] = request
    if request is None:
        st.error("Cannot show the projections yet: " + " ".join(problems))
        return
    results, scenarios = run_many(*request)
    today = core.month_today(next(iter(scenarios.values())))

    st.title("What the projections show")
    if any(s.meta.illustrative for s in scenarios.values()):
        st.caption("Illustrative numbers, not a real service's data.")
    st.markdown(core.band_words(request[4]), help=HELP["uncertainty"])
    if request != (list(selected), horizon, reps, seed, include):
        st.info("The choices changed since these projections: press **Show** to update.")
    for slide in pack.slides(results, today):
        st.header(slide.title)
        st.pyplot(slide.figure, clear_figure=False)
        for line in slide.takeaways:
            st.markdown(f"#### {line}")
        st.divider()
    equity.families_panel(results)  # issue 11

    st.subheader("Take it away")
    st.caption("The pack works with no server: a PDF for the room and PNGs for slides, with the "
               "takeaways and provenance.")
    if st.button("Prepare the summit pack", key="pack_build"):
        st.session_state["ndpath_pack"] = (request, pack.summit_pack(results, scenarios))
    built = st.session_state.get("ndpath_pack")
    if built is not None and built[0] == request:
        document, archive = built[1]
        c1, c2 = st.columns(2)
        c1.download_button("Summit pack (PDF)", document, "summit_pack.pdf",
                           mime="application/pdf", key="pack_pdf", on_click="ignore")
        c2.download_button("Summit pack (PDF + PNGs, zip)", archive, "summit_pack.zip",
                           mime="application/zip", key="pack_zip", on_click="ignore")


try:
    page()
except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
    st.error(f"Something went wrong: {error}. Try fewer scenarios or other settings.")
