"""Present page: a facilitator's view for a summit, and the pack to take away."""

from __future__ import annotations

from typing import Mapping, Sequence

import streamlit as st

from app import core, equity, figures, layout, pack
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
from model.experiment import ExperimentResult
from model.labels import HELP
from model.scenario import Scenario

RESULT = "ndpath_present_run"
SLIDE = "present_slide"
SLIDE_WORDS = "present_slide_words"
SLIDE_TEXT = "present_slide_text"
DECK = "ndpath_present_deck"


def chosen() -> tuple[list[str], tuple[int, int, int, bool], list[str]]:
    """The scenarios and the session's projection settings, drawn in the sidebar (hidden in
    presentation mode, where the last choices hold)."""
    choices = scenario_choices()
    keys = list(choices.values())
    persist("present_scenarios")
    start = starting_key()
    defaults = list(dict.fromkeys(k for k in (start, "shipped:combined") if k in keys))
    st.session_state.setdefault("present_scenarios", defaults or keys[:1])
    st.session_state["present_scenarios"] = [k for k in st.session_state["present_scenarios"]
                                             if k in keys]
    with st.sidebar:
        st.markdown("**What to show**")
        selected = st.multiselect("Scenarios (up to 4)", keys, key="present_scenarios",
                                  max_selections=4,
                                  format_func={v: k for k, v in choices.items()}.__getitem__)
    settings = run_settings_widgets()
    problems = settings_problems(selected, settings[0], settings[1])
    with st.sidebar:
        if problems:
            st.error("\n".join(f"- {p}" for p in problems))
        if st.button("Show", type="primary", key="present_run", disabled=bool(problems),
                     width="stretch"):
            st.session_state[RESULT] = (list(selected), *settings)
            st.session_state[SLIDE] = 0
    return selected, settings, problems


def _step(by: int, count: int) -> None:
    """Move ``by`` slides, within the deck of ``count`` (a button's callback: it runs before
    the page is drawn again, so each button is drawn knowing the slide it leads from)."""
    st.session_state[SLIDE] = min(max(int(st.session_state.get(SLIDE, 0)) + by, 0), count - 1)


def one_slide(deck: list[pack.Slide]) -> pack.Slide:
    """Presentation mode: one chart and its sentences per screen, with Previous and Next
    (Previous disabled on the first slide, Next on the last); the sentences' type shrinks as
    they grow (:func:`app.layout.words_style`), so a slide with long sentences fits the
    screen without scrolling."""
    index = min(max(int(st.session_state.get(SLIDE, 0)), 0), len(deck) - 1)
    st.session_state[SLIDE] = index
    left, middle, right = st.columns([1, 3, 1], vertical_alignment="center")
    left.button("◀ Previous", key="present_previous", disabled=index == 0, width="stretch",
                on_click=_step, args=(-1, len(deck)))
    right.button("Next ▶", key="present_next", disabled=index == len(deck) - 1,
                 width="stretch", on_click=_step, args=(1, len(deck)))
    middle.caption(f"Slide {index + 1} of {len(deck)}")
    slide = deck[index]
    st.header(slide.title)
    chart, words = st.columns([3, 2], vertical_alignment="top")
    factor = None
    if slide.text:  # a slide of sentences: words in the chart's place, as the deck has them
        factor = layout.text_slide_factor(slide.text, slide.takeaways)
        layout.words_style(slide.text, key=SLIDE_TEXT, factor=factor)
        with chart.container(key=SLIDE_TEXT):
            st.markdown(text_markdown(slide.text))
    else:
        chart.pyplot(slide.figure, clear_figure=False)
    layout.words_style(slide.takeaways, key=SLIDE_WORDS, factor=factor)
    with words.container(key=SLIDE_WORDS):
        for line in slide.takeaways:
            st.markdown(line)
    return slide


def text_markdown(text: Sequence[str]) -> str:
    """A slide's text (:attr:`app.pack.Slide.text`: a name, then "  • " sentences) as Markdown:
    the name in bold, the sentences a list; the words as the deck has them."""
    lines = []
    for line in text:
        bullet = line.strip().startswith("•")
        words = line.strip().lstrip("•").strip().replace("*", "\\*")
        lines.append(f"- {words}" if bullet else f"\n**{words}**\n")
    return "\n".join(lines).strip()


def slide_deck(results: Mapping[str, ExperimentResult], scenarios: Mapping[str, Scenario],
               today: str) -> list[pack.Slide]:
    """Presentation mode's slides: the pack's (:func:`app.pack.all_slides`), in its order and
    words, the charts drawn for the slide's column (:data:`app.figures.SLIDE_SIZE`); drawn once
    for the scenarios as run (their names and digests), so Previous and Next do not draw every
    chart again."""
    runs = tuple((name, s.digest()) for name, s in scenarios.items())
    kept = st.session_state.get(DECK)
    if kept is None or kept[0] != runs:
        kept = (runs, pack.all_slides(results, today, size=figures.SLIDE_SIZE))
        st.session_state[DECK] = kept
    return kept[1]


def page() -> None:
    layout.page_style()
    cancel_started()  # what the Scenario page started early is not what this page runs
    presenting = bool(st.session_state.get("present_mode", False))
    selected, settings, problems = chosen()
    request = st.session_state.get(RESULT)
    if request is None and not problems:
        request = (list(selected), *settings)  # show something at once
        st.session_state[RESULT] = request
    if request is None:
        st.error("Cannot show the projections yet: " + " ".join(problems))
        return
    # wide enough at 1024 px for the toggle and its label without cutting it
    top_left, top_right = st.columns([2, 1], vertical_alignment="center")
    top_right.toggle("Presentation mode", key="present_mode",
                     help="Hides the sidebar and shows one chart and its sentences per screen "
                          "in large type, for a projector. Switch it off to change what is "
                          "shown.")
    results, scenarios = run_many(*request)
    today = core.month_today(next(iter(scenarios.values())))
    services = core.different_services(results)  # a calibrated service beside the example
    if presenting:
        layout.presentation_style()
        if services:
            st.warning(services, icon="⚠️")
        if one_slide(slide_deck(results, scenarios, today)).name in pack.FAN_SLIDES:  # a bar chart has no shading to explain
            st.caption(pack.AVERAGE_DOT_WORDS + " " + core.band_words(request[4]))
        return

    top_left.title("What the projections show")
    if services:
        st.warning(services, icon="⚠️")
    if any(s.meta.illustrative for s in scenarios.values()):
        st.caption("Illustrative numbers, not a real service's data.")
    st.caption(uncertainty_badge(request[4]))
    st.markdown(core.band_words(request[4]), help=HELP["uncertainty"])
    if request != (list(selected), *settings):
        st.info("The choices changed since these projections: press **Show** to update.")
    for slide in pack.slides(results, today):
        st.header(slide.title)
        st.pyplot(slide.figure, clear_figure=False)
        if slide.name in pack.FAN_SLIDES:
            st.caption(pack.AVERAGE_DOT_WORDS)
        for line in slide.takeaways:
            st.markdown(f"#### {line}")
        st.divider()
    equity.families_panel(results)  # issue 11

    st.subheader("Take it away")
    st.caption("The pack works with no server: a 16:9 PDF for the room, a PowerPoint deck of "
               "the same slides, and PNGs, with the takeaways and provenance.")
    if st.button("Prepare the summit pack", key="pack_build"):
        st.session_state["ndpath_pack"] = (request, pack.build_pack(results, scenarios))
    built = st.session_state.get("ndpath_pack")
    if built is not None and built[0] == request:
        made = built[1]
        c1, c2, c3 = st.columns(3)
        c1.download_button("Summit pack (PDF)", made.pdf, "summit_pack.pdf",
                           mime="application/pdf", key="pack_pdf", on_click="ignore")
        c2.download_button("Slides (PowerPoint)", made.pptx, "summit_pack.pptx",
                           mime="application/vnd.openxmlformats-officedocument."
                                "presentationml.presentation", key="pack_pptx",
                           on_click="ignore")
        c3.download_button("Everything (zip)", made.zip, "summit_pack.zip",
                           mime="application/zip", key="pack_zip", on_click="ignore")


# Streamlit runs a page as __main__; a worker process that imports the main module
# again (as __mp_main__, app/state.py) must not run the page.
if __name__ == "__main__":
    try:
        page()
    except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
        layout.page_failed(error, "Try fewer scenarios or other settings.")
