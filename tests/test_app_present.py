"""The Present page's presentation mode: Previous and Next, and slides that fit the screen."""

from __future__ import annotations

from app_helpers import start_app

from app import core, figures, layout, pack, state
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
