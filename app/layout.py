"""Layout pieces shared by the pages: the page style, headline cards that fit any width, plain
tables, and the presentation mode.

Cards sit in a wrapping row of fixed-width boxes, so at 1440 they run four or five to a row and
at 1024 three, never cutting a word; tables are HTML tables (``st.table``) whose cells wrap
between words, rather than canvas grids that cut long text with an ellipsis, and a sign stays
with its number ("+£5.4m" never ends a line on its "+"); a multiselect's chosen items wrap onto
more lines instead of scrolling out of sight.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Iterable, Sequence

import pandas as pd
import streamlit as st

CARD_WIDTH = 114
"""Pixels: the seven headline cards fit one row at 1280x800 (a chart in sight without
scrolling) and wrap to two rows at 1024x768, with the sidebar open."""

STYLE = """
<style>
/* card titles and values wrap instead of being cut with an ellipsis */
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere;
}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {
  font-size: 1.3rem !important; line-height: 1.25 !important; white-space: normal !important;
  overflow: visible !important;
  text-overflow: clip !important;
}
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
/* plain tables: cells wrap between words, small type. Not overflow-wrap: anywhere, which lets
   the table squeeze a column below its longest word and break inside a number ("+3" / ".1") */
[data-testid="stTable"] td, [data-testid="stTable"] th {
  white-space: normal !important; overflow-wrap: break-word; font-size: 0.85rem;
}
/* a multiselect's chosen items wrap onto more lines, each name whole, rather than scrolling
   out of sight on one line (Compare's scenarios at 1024 wide: the third was hidden) */
[data-testid="stMultiSelect"] [role="group"] { height: auto !important; max-height: none !important; }
[data-testid="stMultiSelectTagsContainer"] {
  flex-wrap: wrap !important; overflow: visible !important; height: auto !important; min-width: 0;
  max-height: none !important; mask-image: none !important; -webkit-mask-image: none !important;
}
[data-testid="stMultiSelectTagsContainer"] [data-tag] { max-width: 100% !important; height: auto !important; }
[data-testid="stMultiSelectTagsContainer"] [data-tag] > span {
  white-space: normal !important; overflow-wrap: anywhere; text-overflow: clip !important;
}
/* a chart in sight on a 1280x800 laptop: less space above the title, a smaller title */
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
[data-testid="stHeading"] h1 { font-size: 2.1rem; padding-bottom: 0.4rem; }
[data-testid="stMetricLabel"] p { font-size: 0.8rem !important; line-height: 1.25; }
[data-testid="stMetric"] > div { padding: 0.55rem 0.5rem 0.55rem 0.65rem !important; }
[data-testid="stMetricDelta"] { font-size: 0.8rem; }
/* a laptop or a projector at 1024 wide: less padding around the page */
@media (max-width: 1300px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; }
}
</style>
"""

PRESENTATION_STYLE = """
<style>
/* presentation mode: no sidebar, large type, one chart and its sentence per screen */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; max-width: 100%; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
  font-size: 1.45rem !important; line-height: 1.4;
}
/* a slide's title on one line at 1024 px: its type shrinks with the screen's width */
[data-testid="stHeading"] h2 { font-size: min(2.4rem, 3.1vw) !important; }
</style>
"""

SLIDE_CHROME_PX = 300
"""Pixels of a presentation-mode screen that are not a slide's sentences: the toggle, the
buttons, the slide's title above them and the caption under the slide (measured at 1440x900
and 1024x768)."""

WORDS_AREA = 1.3
"""A slide's sentences fill about ``chars * size**2 / WORDS_AREA`` square pixels of their
column at ``size`` pixels (Source Sans at line height 1.4, the column two fifths of the width):
the constant that makes them fit the screen's height left by :data:`SLIDE_CHROME_PX`, with room
to spare, on a 16:10 or a 4:3 screen."""


WORDS_SHARE = 0.4
"""The share of a presentation-mode screen's width a slide's sentences take (the column right
of the chart); a slide of words alone puts its words in the chart's three fifths."""

SLIDE_CHART_PX = {(1440, 900): 753, (1024, 768): 575}
"""Pixels: how wide presentation mode shows a slide's chart (its column, three fifths of the
screen less the page's padding), measured in Chromium at each screen size (width, height);
``tests/test_browser.py`` measures them again. :data:`app.figures.SLIDE_SIZE` is chosen so
that the charts' type is at least :data:`SLIDE_TYPE_PX` on the narrower."""

SLIDE_TYPE_PX = 14
"""Pixels: the least height of type on a presentation-mode chart, legible from the back of a
room on a projector (the sentences beside it are 17 to 23)."""


def words_factor(takeaways: Sequence[str], share: float = WORDS_SHARE) -> float:
    """The sentences' type size as a share of the screen's height left to them: smaller for
    longer sentences (the area they take grows with the square of the size), each paragraph's
    margin and last line counted as 60 characters; in a column ``share`` of the screen wide
    (the area grows with the width)."""
    chars = sum(len(t) for t in takeaways) + 60 * len(takeaways)
    return math.sqrt(WORDS_AREA * share / WORDS_SHARE / max(chars, 1))


WORDS_REM = (0.75, 1.45)
"""The least and the most a presentation-mode slide's sentences are (rem, 16 px)."""


def text_slide_factor(text: Sequence[str], note: Sequence[str]) -> float:
    """A slide of sentences (:attr:`app.pack.Slide.text`, in the chart's three fifths) and its
    note (in the column beside): one size for both, the smaller of the two that fit, so the
    note is never larger than the sentences it is about."""
    return min(words_factor(text, share=0.6), words_factor(note))


def words_px(factor: float, screen_height: float) -> float:
    """Pixels: the sentences' type on a screen ``screen_height`` tall, as
    :func:`words_style` sizes it with ``factor``."""
    low, high = (16 * rem for rem in WORDS_REM)
    return min(max(factor * (screen_height - SLIDE_CHROME_PX), low), high)


def words_style(takeaways: Sequence[str], key: str, factor: float | None = None) -> None:
    """Presentation mode: the type of the sentences in the container ``key`` sized so that they
    fit the screen below the title without scrolling (as large as the page's 1.45rem when they
    are short, never below 0.75rem: :func:`words_px`); ``factor`` instead of
    :func:`words_factor`'s, to give two columns the same size."""
    factor = words_factor(takeaways) if factor is None else factor
    low, high = WORDS_REM
    st.html(f"<style>.st-key-{key} [data-testid=\"stMarkdownContainer\"] :is(p, li) {{ "
            f"font-size: clamp({low}rem, calc({factor:.4f} * (100vh - {SLIDE_CHROME_PX}px)),"
            f" {high}rem) !important; }}</style>")


WORD_JOINER = "\u2060"
"""Unicode's word joiner: invisible, it forbids a line break on either side of it."""

_SIGN = re.compile(r"(?<![^\s(])([+\-\u2212])(?=[£\d.])")
"""A sign (+, - or the minus sign) starting a word, before a number or a pound sign."""


def keep_signs(text: str) -> str:
    """``text`` with each sign joined to the number after it by a :data:`WORD_JOINER`, so that
    a line never ends on the sign: a browser may break between "+" and "£" ("+£2.8m to +" then
    "£5.4m"), as Unicode's line breaking allows. The text reads the same; hyphens inside words
    ("assumption-driven") and a lone dash are left alone."""
    return _SIGN.sub(lambda sign: sign.group(1) + WORD_JOINER, text)


def cell(value: Any) -> Any:
    """A table cell as the page shows it: a lone "-" as a dash ("–": Streamlit draws cells as
    Markdown, where "-" becomes a bullet), and each sign kept with its number
    (:func:`keep_signs`)."""
    if not isinstance(value, str):
        return value
    return "–" if value.strip() == "-" else keep_signs(value)


SELECT_CHARS = 30
"""Characters the sidebar's select box shows whole: its text is about 200 px wide at any
screen width (the sidebar keeps its width), and 30 characters of Source Sans take about 185
("Needs-led profiling front door"); a select box cannot wrap its choice onto a second line."""


def short_names(names: Iterable[str], chars: int = SELECT_CHARS) -> dict[str, str]:
    """Each name as a narrow select box shows it whole: as it is when it fits in ``chars``;
    else without its closing bracket ("Status quo (illustrative Leeds-sized service)" ->
    "Status quo"); else cut after a whole word, with "…" ("ADHD follow-up on the same…"), or
    inside a long one.
    Two names that would read alike keep their full names (the box then cuts them, but never
    offers two choices that look the same); the page says each full name elsewhere."""
    def shorter(name: str) -> str:
        if len(name) <= chars:
            return name
        bare = re.sub(r"\s*\([^()]*\)$", "", name)
        if bare and len(bare) <= chars:
            return bare
        cut = ""
        for word in bare.split():
            if len(cut) + len(word) + 1 > chars - 1:
                break
            cut = f"{cut} {word}" if cut else word
        if len(cut) < chars // 2:  # a long first word ("Calibrated: leeds_extract_2025.csv")
            cut = bare[:chars - 1].rstrip()
        return cut + "…"

    short = {name: shorter(name) for name in names}
    times = Counter(short.values())
    return {name: s if times[s] == 1 else name for name, s in short.items()}


def page_style() -> None:
    """The shared style (call once at the top of each page)."""
    st.html(STYLE)


def presentation_style() -> None:
    st.html(PRESENTATION_STYLE)


def cards(items: Iterable[dict[str, Any]]) -> None:
    """Headline cards (``st.metric`` keyword arguments each) in a row that wraps; a change's
    sign stays with its number ("+£169,797" in a narrow card)."""
    with st.container(horizontal=True, gap="small"):
        for item in items:
            if isinstance(item.get("delta"), str):
                item = item | {"delta": keep_signs(item["delta"])}
            st.metric(border=True, width=CARD_WIDTH, **item)


def table(frame: pd.DataFrame) -> None:
    """A small table as HTML (cells wrap, nothing is cut), without the index, each cell as
    :func:`cell` shows it."""
    st.table(frame.map(cell), hide_index=True)


CODE_FAULTS = (AttributeError, ImportError, NameError)
"""Failures that no choice on the page causes (a fault in ndpath, or its code upgraded under a
running app): advice to change the values would send the user in circles."""


def failure_words(error: Exception, advice: str) -> str:
    """What a page says when it fails: the error and ``advice`` about the user's choices, or, for
    a fault in the code itself (:data:`CODE_FAULTS`), to restart the app and report it."""
    if isinstance(error, CODE_FAULTS):
        return (f"ndpath itself failed, not your choices ({type(error).__name__}: {error}). If "
                "ndpath was just upgraded, restart the app (stop it and run `python3.11 dev.py "
                "app` again); if it happens again, report it with the scenario TOML from the "
                "downloads.")
    return f"Something went wrong: {error}. {advice}"


def page_failed(error: Exception, advice: str) -> None:
    """Show :func:`failure_words` (never a traceback) and log the traceback for whoever runs
    the app."""
    import logging

    logging.getLogger("ndpath.app").error("page failed", exc_info=error)
    st.error(failure_words(error, advice))
