"""The summit pack survives a projector: 16:9 pages, text never over a chart, the same numbers
as the app, a cover that says what the numbers are, and a PowerPoint deck that opens.

Checked on the drawn figures' bounding boxes (matplotlib's renderer) and on the deck read back
with python-pptx, not on estimates.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from app import core, figures, pack
from model.experiment import run_replications

SIXTEEN_NINE = 16 / 9


@pytest.fixture(scope="module")
def runs():
    base = core.load_shipped("default")[0].replace(
        {"simulation.horizon_months": 12, "simulation.replications": 3})
    combined = core.load_shipped("combined")[0].replace(
        {"simulation.horizon_months": 12, "simulation.replications": 3})
    scenarios = {"Status quo (illustrative Leeds-sized service)": core.with_uncertainty(base, True),
                 "Combined package": core.with_uncertainty(combined, True)}
    results = {n: run_replications(s, executor="serial") for n, s in scenarios.items()}
    return results, scenarios


@pytest.fixture(scope="module")
def deck(runs):
    """Every slide of the pack: the three charts and any "Who benefits?" slides."""
    results, scenarios = runs
    return pack.all_slides(results, core.month_today(next(iter(scenarios.values()))))


@pytest.fixture(scope="module")
def made(runs):
    results, scenarios = runs
    return pack.build_pack(results, scenarios)


def drawn_boxes(figure: Figure) -> tuple[list[tuple[str, Bbox]], list[Bbox], Bbox]:
    """(text, box) of every text on the figure, the box of every axes as drawn, and the page."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = [(t.get_text(), t.get_window_extent(renderer)) for t in figure.texts if t.get_text()]
    axes = [ax.get_window_extent(renderer) for ax in figure.axes]
    return texts, axes, figure.bbox


def overlap(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_every_page_is_16_9_in_the_pdf_and_the_pngs(made, deck):
    boxes = re.findall(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", made.pdf)
    assert len(boxes) == 1 + len(deck) >= 4  # the cover, three charts and any others
    for width, height in boxes:
        assert float(width) / float(height) == pytest.approx(SIXTEEN_NINE, rel=0.005)
    from matplotlib import image

    archive = zipfile.ZipFile(io.BytesIO(made.zip))
    pngs = sorted(n for n in archive.namelist() if n.endswith(".png"))
    assert pngs[:3] == ["1_projected_list.png", "2_waits.png", "3_first_support.png"]
    assert len(pngs) == len(deck)
    for name in pngs:
        height, width = image.imread(io.BytesIO(archive.read(name)), format="png").shape[:2]
        assert width / height == pytest.approx(SIXTEEN_NINE, rel=0.01), name
    assert {"summit_pack.pdf", "summit_pack.pptx", "takeaways.txt", "provenance.json"} <= set(
        archive.namelist())


def test_no_text_runs_over_the_chart_or_off_the_page(runs, deck):
    results, scenarios = runs
    for slide in deck:
        page = pack.slide_page(slide, pack.footer_words(scenarios))
        texts, axes, bounds = drawn_boxes(page)
        if slide.text:  # sentences in the chart's place: text beside text, on the page
            (_, title), (_, words), (_, note), (_, footer) = texts
            for box in (title, words, note, footer):
                assert bounds.x0 <= box.x0 and box.x1 <= bounds.x1, slide.name
                assert bounds.y0 <= box.y0 and box.y1 <= bounds.y1, slide.name
            assert words.x1 <= note.x0 and not overlap(title, words), slide.name
            sizes = [t.get_fontsize() for t in page.texts]
            assert sizes[2] <= sizes[1], slide.name  # the note no larger than the sentences
            continue
        assert len(axes) == 1 and len(texts) >= 3, slide.name  # title, takeaways, footer
        for words, box in texts:
            assert not overlap(box, axes[0]), f"{slide.name}: {words[:60]!r} is over the chart"
            assert bounds.x0 <= box.x0 and box.x1 <= bounds.x1, f"{words[:60]!r} runs off the page"
            assert bounds.y0 <= box.y0 and box.y1 <= bounds.y1, f"{words[:60]!r} runs off the page"
        # the takeaways are apart from one another too: one text block, right of the chart
        # the takeaways sit right of the chart
        for words, box in texts[1:-1]:
            assert box.x0 >= axes[0].x1, f"{slide.name}: {words[:60]!r}"
    cover = pack.cover_page(scenarios, "Children's autism and ADHD assessments: what the "
                                       "projections show for a service like ours")
    texts, _, bounds = drawn_boxes(cover)
    for words, box in texts:
        assert bounds.x0 <= box.x0 and box.x1 <= bounds.x1 and box.y0 >= bounds.y0, words[:60]
    (_, title), (_, body) = texts
    assert not overlap(title, body)


def test_inside_each_chart_the_legend_sits_apart_from_the_plot(deck):
    for slide in deck:
        canvas = FigureCanvasAgg(slide.figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        for ax in slide.figure.axes:  # a slide of words alone has no plot to cover
            plot = ax.get_window_extent(renderer)
            legends = [*slide.figure.legends, *([ax.get_legend()] if ax.get_legend() else [])]
            for legend in legends:
                if legend.axes is ax and legend in ax.get_children():
                    continue  # a legend placed inside its own axes (placed clear by matplotlib)
                assert not overlap(legend.get_window_extent(renderer), plot), slide.name


def test_the_cover_says_what_the_bands_are_where_numbers_come_from_and_the_words(runs):
    _, scenarios = runs
    _, lines = pack.cover_lines(scenarios, "t")
    said = " ".join(lines)
    assert "ILLUSTRATIVE" in said  # shipped scenarios are illustrative
    assert "1 in 2 and 9 in 10 projections" in said
    assert "what we don't know about the assumptions" in said  # the uncertainty setting
    assert "WTE (whole-time equivalent)" in said and "MDT (multi-disciplinary team)" in said
    assert "average of the projections" in said
    calibrated = {n: s.replace({"meta.illustrative": False}) for n, s in scenarios.items()}
    said = " ".join(pack.cover_lines(calibrated, "t")[1])
    assert "ILLUSTRATIVE" not in said and "calibrated from a service's own data" in said


def test_the_deck_opens_with_the_same_slides_and_nothing_overlaps(made, runs, deck):
    from pptx import Presentation

    results, scenarios = runs
    shown = deck
    deck = Presentation(io.BytesIO(made.pptx))
    assert deck.slide_width / deck.slide_height == pytest.approx(SIXTEEN_NINE, rel=0.005)
    slides = list(deck.slides)
    assert len(slides) == 1 + len(shown)  # the cover, then the PDF's slides
    titles = [s.shapes[0].text_frame.text for s in slides[1:]]
    assert titles == [s.title for s in shown]
    assert titles[:3] == [title for _, title, _ in pack.TAKEAWAYS]
    for slide, made_from in zip(slides[1:], shown):
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        texts = [s for s in slide.shapes if s.has_text_frame]
        if made_from.text:  # a slide of sentences: editable text where a chart would be
            assert not pictures
            said = [t.text_frame.text for t in texts]
            assert any(all(line in box for line in made_from.text) for box in said)
            continue
        assert len(pictures) == 1
        chart = pictures[0]
        for box in texts:
            apart = (box.left >= chart.left + chart.width or box.top + box.height <= chart.top
                     or box.top >= chart.top + chart.height)
            assert apart, f"{box.text_frame.text[:50]!r} overlaps the chart"
    for slide, (name, _, sentence) in zip(slides[1:], pack.TAKEAWAYS):
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        texts = [s for s in slide.shapes if s.has_text_frame]
        assert len(pictures) == 1
        chart = pictures[0]
        assert chart.left + chart.width <= deck.slide_width
        assert chart.top + chart.height <= deck.slide_height
        for box in texts:
            apart = (box.left >= chart.left + chart.width or box.top + box.height <= chart.top
                     or box.top >= chart.top + chart.height)
            assert apart, f"{name}: {box.text_frame.text[:50]!r} overlaps the chart"
        said = " ".join(t.text_frame.text for t in texts)
        for scenario, result in results.items():
            assert f"{scenario}: {sentence(result)}" in said  # the same sentences as the PDF
    assert "ILLUSTRATIVE" in " ".join(s.text_frame.text for s in slides[0].shapes)


def test_the_pack_quotes_the_numbers_the_cards_show(runs):
    """The cards show the average of the projections; so do the sentences (rounded)."""
    results, _ = runs
    for result in results.values():
        total = result.metric("waiting_total_end")["mean"]
        over_year = result.metric("waiting_over_52w_end")["mean"]
        assert f"about {core.about(total)} children are likely to be waiting" in \
            core.takeaway_list(result)
        said = f"about {core.about(over_year)} children on the diagnostic list have waited a year"
        assert said in core.takeaway_wait(result)


def test_fitted_text_fits_its_box():
    long = ["word " * 60] * 4
    text, size = pack.fit_text(long, 4.0, 5.0)
    page = Figure(figsize=(4.0, 5.0))
    drawn = page.text(0, 1, text, fontsize=size, va="top", linespacing=1.3)
    canvas = FigureCanvasAgg(page)
    canvas.draw()
    box = drawn.get_window_extent(canvas.get_renderer())
    assert size < 16  # it had to shrink, and then fits the box it was given
    assert box.width <= page.bbox.width + 1 and box.height <= page.bbox.height + 1


def test_the_footer_names_the_projections_the_numbers_came_from(runs):
    """The footer counts the replications that were run, not the scenario file's setting (a
    pack of 3 projections from a file that says 20 must not say 20)."""
    results, scenarios = runs
    said = {n: s.replace({"simulation.replications": 20, "simulation.seed": 7})
            for n, s in scenarios.items()}
    words = pack.footer_words(said, results)
    first = next(iter(results.values()))
    assert f"{first.replications} projections, seed {first.seed}," in words
    assert "20 projections" not in words


def test_each_slide_title_asks_about_what_its_chart_shows(deck):
    """The list slide's chart is the diagnostic list (its axis says so); its title asked "How
    many children will be waiting?" while the sentence beside it counted every stage (9,600
    against the chart's 5,400 for Combined)."""
    by_name = {s.name: s for s in deck}
    axis = by_name["projected_list"].figure.axes[0].get_ylabel().lower()
    assert "diagnostic waiting list" in axis
    assert "diagnostic waiting list" in by_name["projected_list"].title


def test_the_footer_says_the_draws_are_centred_on_the_scenarios_own_values(runs, capsys):
    """Each assumption is drawn over its range with the scenario's value as its mean
    (:func:`model.uncertainty.centred_range`), not uniformly over the range: the footer, the
    shading's words, the toggle's help, the provenance and ``ndpath run --help`` say so, and
    the footer still fits on the page."""
    from model.labels import HELP
    from ndpath.cli import main

    results, scenarios = runs
    words = pack.footer_words(scenarios, results)
    assert main(["run", "--help"]) == 0
    run_help = capsys.readouterr().out.split("\n  --uncertainty", 1)[1].split("\n  --")[0]
    first = next(iter(scenarios.values()))
    for said in (words, core.band_words(True), HELP["uncertainty"], run_help,
                 core.provenance("x", first)["parameter_uncertainty"]):
        flat = " ".join(said.split())
        assert "centred on the scenario's value" in flat, flat
        assert "from their plausible ranges" not in flat, flat
    page = pack.slide_page(pack.slides(results, core.month_today(first))[0], words)
    texts, _, bounds = drawn_boxes(page)
    footer = next(box for text, box in texts if text == words)
    assert bounds.x0 <= footer.x0 and footer.x1 <= bounds.x1


@pytest.fixture(scope="module")
def slow_queue():
    """The status quo (no needs profiling) beside a needs-led front door with one half-time
    profiling practitioner: its needs-profile queue holds children a year and more, whom the
    diagnostic list's count misses and the app's any-stage card counts."""
    settings = {"simulation.horizon_months": 24, "simulation.replications": 2}
    scenarios = {"Status quo": core.load_shipped("default")[0].replace(settings),
                 "Slow front door": core.load_shipped("needs_led_profiling")[0].replace(
                     settings | {"profiling.practitioner_wte": 0.5})}
    results = {n: run_replications(s, executor="serial") for n, s in scenarios.items()}
    return results, scenarios


def test_the_waits_slide_counts_a_slow_needs_profile_queue_as_the_apps_card_does(slow_queue):
    """The pack's waits slide said only the diagnostic list's count (4,200) while the app's
    "Waiting a year or more, any stage" card said 6,000: a facilitator could not say why. The
    slide says both, the list's first; the chart, of the list, says so, and marks the card's
    number at the end."""
    from app import figures
    from model import plots

    results, scenarios = slow_queue
    slow, status_quo = results["Slow front door"], results["Status quo"]
    card = slow.metric("waiting_total_over_52w_end")["mean"]  # the app's card
    on_list = slow.metric("waiting_over_52w_end")["mean"]
    assert "waiting_total_over_52w_end" in core.HEADLINE_METRICS
    assert core.about(card) != core.about(on_list)  # the case at issue
    waits = {s.name: s for s in pack.slides(results, core.month_today(scenarios["Status quo"]))
             }["waits"]
    said = {line.split(": ", 1)[0]: line for line in waits.takeaways}
    listed = f"about {core.about(on_list)} children on the diagnostic list have waited a year"
    every = f"including children still waiting for a needs profile, about {core.about(card)} have"
    assert listed in said["Slow front door"] and every in said["Slow front door"]
    assert said["Slow front door"].index(listed) < said["Slow front door"].index(every)
    for count in (on_list, card):  # each count once
        assert said["Slow front door"].count(f"about {core.about(count)} ") == 1
    # no needs profiling: one count, the list's (the same as every stage's)
    assert core.about(status_quo.metric("waiting_total_over_52w_end")["mean"]) == core.about(
        status_quo.metric("waiting_over_52w_end")["mean"])
    assert "including" not in said["Status quo"]
    assert said["Status quo"].count("have waited a year or more") == 1
    # the chart is of the diagnostic list, and its diamond is the card's number, in the slow
    # scenario's colour, for that scenario only
    ax = waits.figure.axes[0]
    assert "diagnostic list" in ax.get_title(loc="left") and "diagnostic list" in ax.get_ylabel()
    diamonds = [line for line in ax.lines if line.get_marker() == "D"]
    assert len(diamonds) == 1
    assert diamonds[0].get_ydata()[0] == card
    assert diamonds[0].get_markeredgecolor() == plots.colour(1)
    assert ax.get_ylim()[1] > card
    legend = [t.get_text() for t in waits.figure.legends[0].get_texts()]
    assert legend == [*results, figures.AVERAGE_MARK, figures.EVERY_STAGE_MARK]
    # nothing runs over the chart or off the page
    texts, axes, bounds = drawn_boxes(pack.slide_page(waits, pack.footer_words(scenarios)))
    for words, box in texts:
        assert not overlap(box, axes[0]), words[:60]
        assert bounds.x0 <= box.x0 and box.x1 <= bounds.x1, words[:60]
        assert bounds.y0 <= box.y0 and box.y1 <= bounds.y1, words[:60]
    # the same words in the pack's takeaways
    archive = zipfile.ZipFile(io.BytesIO(pack.build_pack(results, scenarios).zip))
    assert said["Slow front door"] in archive.read("takeaways.txt").decode()


def test_a_waits_chart_with_no_queue_of_long_waiters_marks_nothing(slow_queue):
    """Where counting every stage changes nothing, the chart is the list's alone (with the dot
    at the average its sentence gives)."""
    results, scenarios = slow_queue
    alone = {"Status quo": results["Status quo"]}
    waits = pack.slides(alone, core.month_today(scenarios["Status quo"]))[1]
    assert waits.name == "waits"
    assert not [line for line in waits.figure.axes[0].lines if line.get_marker() == "D"]
    assert [t.get_text() for t in waits.figure.legends[0].get_texts()] == [
        "Status quo", figures.AVERAGE_MARK]


def test_the_families_sentences_are_text_in_the_deck_and_the_takeaways_file(made, runs, deck):
    """They were drawn only as a picture: takeaways.txt and the deck's slide held nothing but
    the note on rounding, so a facilitator could not edit, search or copy them."""
    from app import equity

    results, _ = runs
    archive = zipfile.ZipFile(io.BytesIO(made.zip))
    takeaways = archive.read("takeaways.txt").decode()
    families = [s for s in deck if s.name == "families"]
    assert [s.text[0] for s in families] == list(results)  # a slide for each scenario
    for slide, result in zip(families, results.values()):
        for line in equity.family_sentences(result):
            assert f"• {line}" in takeaways
            assert f"  • {line}" in slide.text
