"""Layout pieces shared by the pages: the page style, headline cards that fit any width, plain
tables, and the presentation mode.

Cards sit in a wrapping row of fixed-width boxes, so at 1440 they run four or five to a row and
at 1024 three, never cutting a word; tables are HTML tables (``st.table``) whose cells wrap,
rather than canvas grids that cut long text with an ellipsis; a multiselect's chosen items wrap
onto more lines instead of scrolling out of sight.
"""

from __future__ import annotations

from typing import Any, Iterable

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
/* plain tables: cells wrap, small type */
[data-testid="stTable"] td, [data-testid="stTable"] th {
  white-space: normal !important; overflow-wrap: anywhere; font-size: 0.85rem;
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
[data-testid="stHeading"] h2 { font-size: 2.4rem !important; }
</style>
"""


def page_style() -> None:
    """The shared style (call once at the top of each page)."""
    st.html(STYLE)


def presentation_style() -> None:
    st.html(PRESENTATION_STYLE)


def cards(items: Iterable[dict[str, Any]]) -> None:
    """Headline cards (``st.metric`` keyword arguments each) in a row that wraps."""
    with st.container(horizontal=True, gap="small"):
        for item in items:
            st.metric(border=True, width=CARD_WIDTH, **item)


def table(frame: pd.DataFrame) -> None:
    """A small table as HTML (cells wrap, nothing is cut), without the index.

    Streamlit draws the cells as Markdown, where a lone "-" becomes a bullet: it is shown as a
    dash ("–") instead."""
    st.table(frame.map(lambda v: "–" if isinstance(v, str) and v.strip() == "-" else v),
             hide_index=True)
