"""The Present page's presentation mode: Previous and Next, and slides that fit the screen."""

from __future__ import annotations

from app_helpers import start_app

from app import layout, pack

SMALL = {"horizon_months": 12, "replications": 3}


def slide_caption(at) -> str:  # type: ignore[no-untyped-def]
    return next(c.value for c in at.caption if c.value.startswith("Slide "))


def test_previous_is_disabled_on_the_first_slide_and_next_on_the_last():
    """Each button was drawn before the click that moved the slide was counted: after Next on
    the first slide, Previous stayed disabled; on the last slide Next was still enabled, and
    pressing it showed "Something went wrong"."""
    at = start_app(SMALL, "app/pages/present.py")
    at.toggle(key="present_mode").set_value(True).run()
    assert not at.exception and not at.error
    assert slide_caption(at) == "Slide 1 of 3"
    assert at.button(key="present_previous").disabled
    assert not at.button(key="present_next").disabled
    at.button(key="present_next").click().run()
    assert slide_caption(at) == "Slide 2 of 3"
    assert not at.button(key="present_previous").disabled  # at once, not one click later
    assert not at.button(key="present_next").disabled
    at.button(key="present_next").click().run()
    assert slide_caption(at) == "Slide 3 of 3"
    assert at.button(key="present_next").disabled  # the last slide: nowhere to go
    assert not at.button(key="present_previous").disabled
    assert not at.exception and not at.error
    at.button(key="present_previous").click().run()
    at.button(key="present_previous").click().run()
    assert slide_caption(at) == "Slide 1 of 3" and at.button(key="present_previous").disabled
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
    for _ in range(3):
        said.append((slide_caption(at), shading_said(), dot_said()))
        if not at.button(key="present_next").disabled:
            at.button(key="present_next").click().run()
    assert said == [("Slide 1 of 3", True, True), ("Slide 2 of 3", True, True),
                    ("Slide 3 of 3", False, False)]
