"""The summit pack: a few large, plain charts with a one-line takeaway each, as a 16:9 PDF, a
PowerPoint deck of the same slides, and PNGs.

It is built from results already computed (the same results, and so the same numbers, as the
app's pages), so it needs no server at the summit: the PDF opens on any laptop, facilitators
present from the deck, and the PNGs drop into other slides.

Every page is 16:9 (13.33 x 7.5 inches, a projector's shape). The chart sits in its own box on
the left and the sentences in a column on the right, sized so they fit: text never runs over a
chart (``tests/test_app_pack.py`` checks the bounding boxes of every text and the chart).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import textwrap
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from matplotlib import image as plt_image
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from model.experiment import ExperimentResult
from model.labels import HELP
from model.scenario import Scenario

from . import core, equity, figures

PAGE_INCHES = (40 / 3, 7.5)
"""16:9, as PowerPoint's widescreen slide."""
CHART_BOX = (0.03, 0.08, 0.60, 0.78)
"""Where a slide's chart goes (left, bottom, width, height, as fractions of the page)."""
TEXT_LEFT, TEXT_RIGHT, TEXT_TOP, TEXT_BOTTOM = 0.655, 0.97, 0.86, 0.08
"""The column the sentences go in, right of the chart."""
TITLE_Y = 0.955
FOOTER_Y = 0.025
_TEXT_TO_PATH = TextToPath()


@dataclass(frozen=True)
class Slide:
    """One chart and its takeaways (one line per scenario)."""

    name: str
    title: str
    figure: Figure
    takeaways: tuple[str, ...]
    text: tuple[str, ...] = ()
    """Words the figure draws as its picture (a slide of sentences, not a chart): the deck
    writes them as editable text in the chart's place, and takeaways.txt holds them."""


TAKEAWAYS: tuple[tuple[str, str, Callable[[ExperimentResult], str]], ...] = (
    ("projected_list", "How many children will be on the diagnostic waiting list?", core.takeaway_list),
    ("waits", "How many children have waited a year or more?", core.takeaway_wait),
    ("first_support", "How soon do families get support?", core.takeaway_support),
)


AVERAGE_DOT_WORDS = ("The line is the middle projection; the dot at its end is the average of "
                     "the projections, the number in the sentence.")
"""Said under a fan slide: a facilitator reading the line's end quoted another number than the
sentence's (5,000 against 5,400)."""

FAN_SLIDES = frozenset({"projected_list", "waits"})
"""The slides whose charts are fans (shaded ranges of projections); the others are bars with
an interval of the average, which the shading words do not describe."""


def slides(results: Mapping[str, ExperimentResult], today: str,
           size: figures.Size = None) -> list[Slide]:
    """The Present page's charts, in order, with their takeaways; the charts drawn at ``size``
    (:data:`app.figures.SLIDE_SIZE` for presentation mode), by default their own."""
    charts = {
        "projected_list": figures.list_chart(results, today, mark_average=True, size=size),
        "waits": figures.wait_trend_chart(results, today, mark_average=True, size=size),
        "first_support": figures.support_chart(results, size=size),
    }
    return [Slide(name, title, charts[name],
                  tuple(f"{scenario}: {sentence(result)}" for scenario, result in results.items()))
            for name, title, sentence in TAKEAWAYS]


def all_slides(results: Mapping[str, ExperimentResult], today: str,
               size: figures.Size = None) -> list[Slide]:
    """Every slide of the pack, in order: the three charts, then the "Who benefits?" slide and
    a "What families worry about" slide for each scenario (issue 11) where the results carry
    groups. Presentation mode shows these same slides, their charts drawn at ``size``."""
    return slides(results, today, size) + equity.pack_slides(results, size)


# -------------------------------------------------------------------------------------------------
# Text that fits its box


@functools.lru_cache(maxsize=20_000)
def _width_at_10(text: str, bold: bool) -> float:
    """How wide ``text`` is drawn at 10 points in matplotlib's default font (widths scale with
    the size, so one measurement per word serves every size tried)."""
    prop = FontProperties(size=10, weight="bold" if bold else "normal")
    return float(_TEXT_TO_PATH.get_text_width_height_descent(text, prop, ismath=False)[0])


def _wrap(paragraph: str, width_pt: float, size: float, bold: bool) -> str:
    """Greedy word wrap by the drawn width of each word."""
    scale = size / 10
    space = _width_at_10("a a", bold) - 2 * _width_at_10("a", bold)
    lines: list[str] = []
    for part in paragraph.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in part.split(" "):
            width = _width_at_10(word, bold)
            extra = width + (space if line else 0.0)
            if line and (used + extra) * scale > width_pt:
                lines.append(" ".join(line))
                line, used = [word], width
            else:
                line.append(word)
                used += extra
        lines.append(" ".join(line))
    return "\n".join(lines)


def fit_text(paragraphs: Sequence[str], width_in: float, height_in: float,
             largest: float = 16.0, smallest: float = 8.0, bold: bool = False,
             linespacing: float = 1.3) -> tuple[str, float]:
    """``paragraphs`` wrapped to fit a ``width_in`` x ``height_in`` box (a blank line between
    them): the wrapped text and the largest font size (points, from ``largest`` down in half
    points) at which it fits, measured in the font it is drawn in. At ``smallest`` it is
    returned even if it does not fit (the tests check the drawn boxes)."""
    size = largest
    while True:
        # 4% spare: the drawn (hinted) text is a little wider than its outline
        wrapped = [_wrap(p, 0.96 * width_in * 72, size, bold) if p else "" for p in paragraphs]
        text = "\n\n".join(wrapped)
        lines = text.count("\n") + 1
        if lines * linespacing * size * 1.2 / 72 <= height_in or size <= smallest:
            return text, size
        size -= 0.5


def _page() -> Figure:
    page = Figure(figsize=PAGE_INCHES)
    page.set_facecolor("white")
    return page


def _footer(page: Figure, words: str) -> None:
    page.text(0.03, FOOTER_Y, words, fontsize=8, color="#555555", ha="left", va="bottom")


def chart_image(figure: Figure) -> np.ndarray:
    """The chart drawn to pixels (as the app shows it), to be placed in its own box."""
    return plt_image.imread(io.BytesIO(figures.to_png(figure)), format="png")


def slide_page(slide: Slide, footer: str = "") -> Figure:
    """One slide as a 16:9 page: the title on top, the chart in its box on the left, the
    takeaways in the column on the right, sized to fit it. A slide of sentences
    (:attr:`Slide.text`) has them in the chart's box, as text sized to fit it, and the note
    beside them no larger (drawn as a picture, they were 8 points beside a 16-point note)."""
    page = _page()
    page.text(0.03, TITLE_Y, slide.title, fontsize=24, fontweight="bold", ha="left", va="top")
    w_in = (TEXT_RIGHT - TEXT_LEFT) * PAGE_INCHES[0]
    h_in = (TEXT_TOP - TEXT_BOTTOM) * PAGE_INCHES[1]
    if slide.text:  # sentences, not a chart: text in the chart's box, as the deck has them
        left, bottom, width, height = CHART_BOX
        words, words_size = fit_text(slide.text, width * PAGE_INCHES[0],
                                     height * PAGE_INCHES[1])
        page.text(left, bottom + height, words, fontsize=words_size, ha="left", va="top",
                  multialignment="left", linespacing=1.3)
        text, size = fit_text(slide.takeaways, w_in, h_in, largest=words_size)
        page.text(TEXT_LEFT, TEXT_TOP, text, fontsize=size, ha="left", va="top",
                  multialignment="left", linespacing=1.3)
        if footer:
            _footer(page, footer)
        return page
    chart = chart_image(slide.figure)
    height, width = chart.shape[:2]
    ax = page.add_axes(CHART_BOX)
    ax.imshow(chart)
    ax.set_axis_off()
    ax.set_anchor("N")
    ax.set_aspect("equal")
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    text, size = fit_text(slide.takeaways, w_in, h_in)
    page.text(TEXT_LEFT, TEXT_TOP, text, fontsize=size, ha="left", va="top",
              multialignment="left", linespacing=1.3)
    if footer:
        _footer(page, footer)
    return page


# -------------------------------------------------------------------------------------------------
# The cover: what the numbers are and where they come from


def where_from(scenarios: Mapping[str, Scenario]) -> str:
    """Where the numbers come from: illustrative (ndpath's shipped, made-up service) or
    calibrated from a service's own data, for each scenario."""
    illustrative = [n for n, s in scenarios.items() if s.meta.illustrative]
    calibrated = [n for n, s in scenarios.items() if not s.meta.illustrative]
    parts = []
    if illustrative:
        parts.append("ILLUSTRATIVE numbers, not a real service's data (" + "; ".join(illustrative)
                     + "): an example service of Leeds's size, from public figures and "
                       "stated assumptions.")
    if calibrated:
        parts.append("Numbers calibrated from a service's own data (" + "; ".join(calibrated)
                     + "), as the scenario descriptions below say.")
    return " ".join(parts)


def cover_lines(scenarios: Mapping[str, Scenario], title: str,
                results: Mapping[str, ExperimentResult] | None = None) -> tuple[str, list[str]]:
    """The cover's title and its paragraphs (also the first slide of the deck); with the
    results, a warning first when the scenarios start from different services."""
    first = next(iter(scenarios.values()))
    sim = first.simulation
    services = core.different_services(results) if results else ""
    lines = [
        *([f"WARNING: {services}"] if services else []),
        f"Prepared {dt.date.today():%d %B %Y} with ndpath "
        f"{core.provenance('', first)['ndpath_version']}.",
        "Where the numbers come from: " + where_from(scenarios),
        *[f"• {name}: {s.meta.description}" for name, s in scenarios.items()],
        f"Projection from {core.start_words(first)} to the end of "
        f"{core.horizon_end_words(first)} ({sim.horizon_months} months), "
        f"{sim.replications} projections (replications) with seed {sim.seed}, shared by every "
        "scenario, so "
        + ("each sees the same chance events (but see the warning above)." if services else
           "differences between them are the policies, not luck."),
        "What the bands are: lines show the middle projection; shading shows the range that "
        "1 in 2 and 9 in 10 projections fall in. " + core.band_words(first.uncertainty.enabled),
        "Numbers in the sentences are the average of the projections, rounded; a dot at the "
        "end of each line marks that average, which can differ from where the line (the "
        "middle projection) ends.",
        "Words: WTE (whole-time equivalent): 1.0 WTE is one full-time post, 37.5 hours a week. "
        "MDT (multi-disciplinary team): " + HELP["MDT"].split(":", 1)[-1].strip(),
    ]
    return title, lines


def cover_page(scenarios: Mapping[str, Scenario], title: str,
               results: Mapping[str, ExperimentResult] | None = None) -> Figure:
    page = _page()
    heading, lines = cover_lines(scenarios, title, results)
    heading_text, heading_size = fit_text([heading], 0.90 * PAGE_INCHES[0], 1.0, largest=26,
                                          smallest=16, bold=True, linespacing=1.0)
    page.text(0.05, 0.95, heading_text, fontsize=heading_size, fontweight="bold", ha="left",
              va="top", linespacing=1.0)
    text, size = fit_text(lines, 0.90 * PAGE_INCHES[0], 0.72 * PAGE_INCHES[1], largest=15)
    page.text(0.05, 0.79, text, fontsize=size, ha="left", va="top", linespacing=1.3)
    return page


_cover = cover_page  # the earlier name


# -------------------------------------------------------------------------------------------------
# The PowerPoint deck


def pptx_deck(scenarios: Mapping[str, Scenario], deck: Sequence[Slide], title: str,
              footer: str = "", results: Mapping[str, ExperimentResult] | None = None) -> bytes:
    """The same slides as a 16:9 PowerPoint deck (python-pptx): a cover, then each chart on
    the left with its sentences in a text box on the right, never overlapping."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck_file = Presentation()
    deck_file.slide_width, deck_file.slide_height = Inches(PAGE_INCHES[0]), Inches(PAGE_INCHES[1])
    blank = deck_file.slide_layouts[6]

    def text_box(slide, left, top, width, height, paragraphs, size, bold=False):  # type: ignore[no-untyped-def]
        box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for k, words in enumerate(paragraphs):
            paragraph = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
            paragraph.text = words
            paragraph.font.size = Pt(size)
            paragraph.font.bold = bold
            paragraph.space_after = Pt(size * 0.5)
        return box

    W, H = PAGE_INCHES
    heading, lines = cover_lines(scenarios, title, results)
    cover = deck_file.slides.add_slide(blank)
    text_box(cover, 0.6, 0.4, W - 1.2, 1.2, [heading], 28, bold=True)
    _, size = fit_text(lines, W - 1.2, H - 2.0, largest=16)
    text_box(cover, 0.6, 1.7, W - 1.2, H - 2.0, lines, size)
    for slide in deck:
        page = deck_file.slides.add_slide(blank)
        text_box(page, 0.4, 0.25, W - 0.8, 0.8, [slide.title], 28, bold=True)
        left, bottom, width, height = CHART_BOX
        largest = 16.0
        if slide.text:  # sentences, not a chart: editable and searchable text in its place
            _, largest = fit_text(slide.text, width * W, height * H, largest=16)
            text_box(page, left * W, (1 - bottom - height) * H, width * W, height * H,
                     list(slide.text), largest)
        else:
            png = io.BytesIO(figures.to_png(slide.figure))
            picture = page.shapes.add_picture(png, Inches(left * W),
                                              Inches((1 - bottom - height) * H),
                                              width=Inches(width * W))
            if picture.height > Inches(height * H):  # a tall chart: fit its height instead
                ratio = Inches(height * H) / picture.height
                picture.height = int(picture.height * ratio)
                picture.width = int(picture.width * ratio)
        w_in, h_in = (TEXT_RIGHT - TEXT_LEFT) * W, (TEXT_TOP - TEXT_BOTTOM) * H
        # beside sentences, the note no larger than they are
        _, size = fit_text(slide.takeaways, w_in, h_in, largest=largest)
        text_box(page, TEXT_LEFT * W, (1 - TEXT_TOP) * H, w_in, h_in, list(slide.takeaways),
                 size)
        if footer:
            text_box(page, 0.4, H - 0.45, W - 0.8, 0.35, [footer], 9)
    buffer = io.BytesIO()
    deck_file.save(buffer)
    return buffer.getvalue()


# -------------------------------------------------------------------------------------------------
# The pack


@dataclass(frozen=True)
class Pack:
    """The summit pack's files."""

    pdf: bytes
    pptx: bytes
    zip: bytes


def footer_words(scenarios: Mapping[str, Scenario],
                 results: Mapping[str, ExperimentResult] | None = None) -> str:
    """The slides' footer; the projections and seed are those the results were run with."""
    first = next(iter(scenarios.values()))
    sim = first.simulation
    run = next(iter(results.values())) if results else None
    projections, seed = (run.replications, run.seed) if run else (sim.replications, sim.seed)
    kind = ("illustrative" if any(s.meta.illustrative for s in scenarios.values())
            else "calibrated")
    return (f"ndpath {core.provenance('', first)['ndpath_version']} · {kind} numbers · "
            f"{projections} projections, seed {seed}, from {core.start_words(first)} · "
            f"uncertainty {core.uncertainty_note(first.uncertainty.enabled)}")


def build_pack(results: Mapping[str, ExperimentResult], scenarios: Mapping[str, Scenario],
               title: str = "Children's autism and ADHD assessments: what the projections show"
               ) -> Pack:
    """The pack as a 16:9 PDF, a PowerPoint deck of the same slides, and a zip of both with
    the pages as PNGs, the takeaways and provenance."""
    today = core.month_today(next(iter(scenarios.values())))
    deck = all_slides(results, today)
    footer = footer_words(scenarios, results)
    pages = [cover_page(scenarios, title, results), *[slide_page(s, footer) for s in deck]]
    document = figures.pdf(pages, title, tight=False)
    deck_bytes = pptx_deck(scenarios, deck, title, footer, results)
    services = core.different_services(results)
    takeaways = "\n\n".join(
        ([f"WARNING: {services}"] if services else [])
        + [core.band_words(next(iter(scenarios.values())).uncertainty.enabled)]
        + [f"{slide.title}\n" + "\n".join((*slide.text, *slide.takeaways)) for slide in deck])
    provenance = {name: core.provenance(name, s) for name, s in scenarios.items()}
    archive = figures.pngs_zip(
        {f"{k + 1}_{slide.name}": page for k, (slide, page) in enumerate(zip(deck, pages[1:]))},
        {"takeaways.txt": takeaways.encode(), "summit_pack.pdf": document,
         "summit_pack.pptx": deck_bytes,
         "provenance.json": json.dumps(provenance, indent=2, default=str).encode()},
        tight=False)
    return Pack(document, deck_bytes, archive)


def summit_pack(results: Mapping[str, ExperimentResult], scenarios: Mapping[str, Scenario],
                title: str = "Children's autism and ADHD assessments: what the projections show"
                ) -> tuple[bytes, bytes]:
    """The pack as (PDF bytes, zip bytes); :func:`build_pack` also gives the PowerPoint deck."""
    made = build_pack(results, scenarios, title)
    return made.pdf, made.zip
