"""The Present page's presentation mode: Previous and Next, and slides that fit the screen."""

from __future__ import annotations

import io

import pytest
from app_helpers import start_app
from matplotlib.text import Text

from model.experiment import run_replications

from app import core, equity, figures, layout, pack, state
from app.pages import present

SMALL = {"horizon_months": 12, "replications": 3}


def slide_caption(at) -> str:  # type: ignore[no-untyped-def]
    return next(c.value for c in at.caption if c.value.startswith("Slide "))


def pack_deck(at) -> list[pack.Slide]:  # type: ignore[no-untyped-def]
    """The pack's slides for the projections the page shows (its request, run again here: the
    same scenarios and settings give the same numbers)."""
    keys, horizon, replications, seed, uncertainty = at.session_state[present.RESULT]
    results = {}
    for key in keys:
        scenario = state.as_run(state.scenario_by_key(key)[0], horizon, replications, seed,
                                uncertainty)
        results[scenario.meta.name] = state.run_scenario(scenario)
    first = next(iter(results.values())).scenario
    return pack.all_slides(results, core.month_today(first), size=figures.SLIDE_SIZE)


def shown_words(at) -> str:  # type: ignore[no-untyped-def]
    return " ".join(m.value for m in at.markdown)


def test_presentation_mode_shows_the_packs_slides_in_its_order_and_words():
    """The pack had five slides and presentation mode three: "Who benefits?" and "What
    families worry about" were missing from the screen. Each slide shows the pack's title and
    words, in the pack's order (the deck of the page's own projections)."""
    at = start_app(SMALL, "app/pages/present.py")
    at.toggle(key="present_mode").set_value(True).run()
    assert not at.exception and not at.error
    deck = pack_deck(at)
    names = [s.name for s in deck]
    assert names == ["projected_list", "waits", "first_support", "who_benefits",
                     "families", "families"]  # a families slide for each of the 2 scenarios
    for k, slide in enumerate(deck):
        assert slide_caption(at) == f"Slide {k + 1} of {len(deck)}"
        assert [h.value for h in at.header] == [slide.title]
        said = shown_words(at)
        for words in (*slide.takeaways, *slide.text):
            assert words.strip().lstrip("•").strip() in said, (slide.name, words[:60])
        assert len(at.get("image")) == (0 if slide.text else 1)  # words in a chart's place
        if k < len(deck) - 1:
            at.button(key="present_next").click().run()
    assert not at.exception and not at.error


def test_previous_is_disabled_on_the_first_slide_and_next_on_the_last():
    """Each button was drawn before the click that moved the slide was counted: after Next on
    the first slide, Previous stayed disabled; on the last slide Next was still enabled, and
    pressing it showed "Something went wrong"."""
    at = start_app(SMALL, "app/pages/present.py")
    at.toggle(key="present_mode").set_value(True).run()
    assert not at.exception and not at.error
    count = len(pack_deck(at))
    assert slide_caption(at) == f"Slide 1 of {count}"
    assert at.button(key="present_previous").disabled
    assert not at.button(key="present_next").disabled
    at.button(key="present_next").click().run()
    assert slide_caption(at) == f"Slide 2 of {count}"
    assert not at.button(key="present_previous").disabled  # at once, not one click later
    assert not at.button(key="present_next").disabled
    for _ in range(count - 2):
        at.button(key="present_next").click().run()
    assert slide_caption(at) == f"Slide {count} of {count}"
    assert at.button(key="present_next").disabled  # the last slide: nowhere to go
    assert not at.button(key="present_previous").disabled
    assert not at.exception and not at.error
    for _ in range(count - 1):
        at.button(key="present_previous").click().run()
    assert slide_caption(at) == f"Slide 1 of {count}" and at.button(key="present_previous").disabled
    assert not at.button(key="present_next").disabled


def test_longer_sentences_get_smaller_type_that_still_fills_the_screen():
    short, long = ["Status quo: about 9,100 children."], ["x" * 430, "y" * 430]
    assert layout.words_factor(long) < layout.words_factor(short)
    # the area the words take (characters times the size squared) stays the same
    area = [layout.words_factor(t) ** 2 * (sum(map(len, t)) + 60 * len(t))
            for t in (short, long)]
    assert abs(area[0] - area[1]) < 1e-9


def test_the_shading_words_show_only_under_a_chart_with_shading():
    """The support slide is bars with a 95% interval of the average: "Shading shows the range
    of projections" under it described nothing on the screen."""
    at = start_app(SMALL, "app/pages/present.py")
    at.toggle(key="present_mode").set_value(True).run()

    def shading_said() -> bool:
        return any("Shading shows" in c.value for c in at.caption)

    def dot_said() -> bool:  # the line is the median, the sentence (and the dot) the average
        return any(pack.AVERAGE_DOT_WORDS in c.value for c in at.caption)

    said = []
    for _ in range(6):
        said.append((slide_caption(at), shading_said(), dot_said()))
        if not at.button(key="present_next").disabled:
            at.button(key="present_next").click().run()
    fans = [True, True, False, False, False, False]  # the list and the waits
    assert said == [(f"Slide {k + 1} of 6", fan, fan) for k, fan in enumerate(fans)]


# -------------------------------------------------------------------------------------------------
# Type a room can read: the rule that sizes presentation mode's charts and words


@pytest.fixture(scope="module")
def three():
    """Three scenarios, as a summit often compares: results and the day the projection starts."""
    settings = {"simulation.horizon_months": 12, "simulation.replications": 3}
    scenarios = [core.load_shipped(stem)[0].replace(settings)
                 for stem in ("default", "needs_led_profiling", "combined")]
    results = {s.meta.name: run_replications(s, executor="serial") for s in scenarios}
    return results, core.month_today(scenarios[0])


def as_streamlit_draws(figure) -> bytes:  # type: ignore[no-untyped-def]
    """The PNG ``st.pyplot`` sends the browser (its defaults: 200 dpi, cropped to what is
    drawn), which the browser scales to the chart's column."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=STREAMLIT_DPI, bbox_inches="tight")
    return buffer.getvalue()


STREAMLIT_DPI = 200


def drawn_points(figure) -> list[float]:  # type: ignore[no-untyped-def]
    """The size of every text the figure shows (titles, ticks, legend, labels, notes)."""
    return [t.get_fontsize() for t in figure.findobj(Text)
            if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("screen", sorted(layout.SLIDE_CHART_PX))
def test_presentation_charts_type_is_at_least_14_px_on_a_projector(three, screen):
    """Drawn at the pack's 11 inches and scaled down to the slide's chart column, the charts'
    ticks and legend were 8-9 px at 1024x768, unreadable from the back of a room. On screen a
    point is (dpi / 72) * (shown width / picture width) pixels; every chart of presentation
    mode's slides is at least 14 px at 1024x768 and 1440x900, and the pack's own are not (so
    the check can fail)."""
    from matplotlib import image

    results, today = three
    shown = layout.SLIDE_CHART_PX[screen]
    charts = [s for s in pack.all_slides(results, today, size=figures.SLIDE_SIZE) if not s.text]
    assert [s.name for s in charts] == ["projected_list", "waits", "first_support", "who_benefits"]
    for slide in charts:
        png = as_streamlit_draws(slide.figure)
        width = image.imread(io.BytesIO(png), format="png").shape[1]
        # every word inside the figure: nothing runs past it and widens (so shrinks) the picture
        assert width <= (figures.SLIDE_SIZE[0] + 0.25) * STREAMLIT_DPI, slide.name
        least = min(drawn_points(slide.figure))
        assert least >= figures.SLIDE_LEAST_POINTS, slide.name
        px = figures.on_screen_px(least, STREAMLIT_DPI, width, shown)
        assert px >= layout.SLIDE_TYPE_PX, (slide.name, screen, round(px, 1))
    for slide in pack.slides(results, today):  # the pack's size, shown in the same column
        width = image.imread(io.BytesIO(as_streamlit_draws(slide.figure)), format="png").shape[1]
        if screen == (1024, 768):
            assert figures.on_screen_px(min(drawn_points(slide.figure)), STREAMLIT_DPI, width,
                                        shown) < layout.SLIDE_TYPE_PX, slide.name


def test_each_scenario_has_its_own_families_slide_in_type_no_smaller_than_its_note(three):
    """Three scenarios' sentences on one "What families worry about" slide were 8 points in the
    deck beside a 16-point note on rounding; on screen they could not fit above 12 px. A slide
    for each scenario: its sentences at least 16 px at 1024x768, and the note beside them the
    same size, never larger."""
    results, today = three
    families = [s for s in pack.all_slides(results, today, size=figures.SLIDE_SIZE)
                if s.text]
    assert [s.title for s in families] == [equity.FAMILIES_TITLE] * 3
    assert [s.text[0] for s in families] == list(results)
    for slide in families:
        factor = layout.text_slide_factor(slide.text, slide.takeaways)
        assert factor <= layout.words_factor(slide.takeaways)  # the note no larger
        for height in (768, 900):
            px = layout.words_px(factor, height)
            assert px >= 16 if height == 768 else px >= 20, (slide.text[0], height, px)
    # all three on one slide would not have fitted in legible type
    together = [line for s in families for line in s.text]
    assert layout.words_px(layout.text_slide_factor(together, families[0].takeaways), 768) < 14


def test_a_slide_of_sentences_shows_them_as_the_deck_has_them():
    text = ("Status quo", "  • About 45 children *were* supported.", "  • Fewer than 5 turned 18.")
    assert present.text_markdown(text) == ("**Status quo**\n\n- About 45 children \\*were\\* "
                                          "supported.\n- Fewer than 5 turned 18.")
