"""The app in a real browser: start `streamlit run`, move the clinician slider, run, look.

Drives Debian's Chromium through Playwright (never `playwright install`, which downloads a
browser). Screenshots go to ``$NDPATH_ARTIFACTS`` (default: a temporary folder), named in the
test output so a person can look at what a commissioner sees.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from model.labels import short_label

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LIST_LABEL = short_label("waiting_total_end")


@pytest.fixture(scope="module")
def app_url():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (python3.11 dev.py test "
                    "installs it when it may)")
    from app.server import AppDidNotStart, running_app

    try:
        # NDPATH_APP_PORT: a port set aside for these tests on a shared machine (else a free one)
        port = int(os.environ["NDPATH_APP_PORT"]) if os.environ.get("NDPATH_APP_PORT") else None
        with running_app(port=port) as app:
            SERVERS.append(app)
            yield app.url
    except AppDidNotStart as error:
        pytest.fail("the app did not start:\n" + error.log)


SERVERS: list = []  # type: ignore[type-arg]
"""The running server of this module, so that a failing test can show what it printed."""


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("NDPATH_ARTIFACTS", Path(tempfile.gettempdir()) / "ndpath-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def metric(page, label: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(value, delta) of the metric card whose label is ``label``."""
    card = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    value = card.locator('[data-testid="stMetricValue"]').inner_text()
    delta = card.locator('[data-testid="stMetricDelta"]')
    return value, delta.inner_text() if delta.count() else ""


CHART = ('[data-testid="stVegaLiteChart"], [data-testid="stImage"] img, '
         '[data-testid="stFullScreenFrame"] img')
"""A chart: one the browser draws (Vega-Lite, the Scenario page's) or a picture (matplotlib)."""


def chart_bytes(page) -> bytes:  # type: ignore[no-untyped-def]
    """The first chart as the browser shows it (a PNG of the chart's element)."""
    chart = page.locator(CHART).first
    chart.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(500)  # a chart drawn in the browser: its drawing is done
    return chart.screenshot()


def launch(p):  # type: ignore[no-untyped-def]
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def number(text: str) -> int:
    return int(text.replace(",", "").replace("£", "").split()[0])


def set_number(page, label: str, value: int) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(500)


IDLE = """() => !document.querySelector('[data-stale="true"]')
              && !document.querySelector('[data-testid="stStatusWidget"]')"""


def wait_idle(page, timeout_ms: int = 300_000) -> None:  # type: ignore[no-untyped-def]
    """Until Streamlit has finished its run: no stale element and no "running" status, twice
    half a second apart (a rerun can start just after the last one ended)."""
    for _ in range(2):
        page.wait_for_timeout(500)
        page.wait_for_function(IDLE, timeout=timeout_ms)


def said_about(sentence: str, words: str) -> int:
    """The number in "about N <words>" of a sentence."""
    import re

    found = re.search(r"about ([\d,]+) " + re.escape(words), sentence)
    assert found, sentence
    return number(found[1])


def short_projections(page) -> None:  # type: ignore[no-untyped-def]
    """The session's projections at 24 months and 4 replications (for every page), run."""
    set_number(page, "Months to project", 24)
    set_number(page, "Replications (more: narrower intervals, slower)", 4)
    wait_idle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    wait_idle(page)


def choose(page, box: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Pick ``option`` in the select box ``box`` by typing it, as a keyboard user would."""
    wait_idle(page)
    combobox = page.get_by_role("combobox", name=box)
    combobox.click()
    combobox.fill(option)
    page.get_by_role("option", name=option, exact=True).wait_for(timeout=30_000)
    combobox.press("Enter")
    wait_idle(page)
    assert combobox.input_value() == option


CUT_TEXT = """() => {
  const cut = [];
  const cells = document.querySelectorAll(
    '[data-testid="stMetric"] [data-testid="stMetricLabel"] *, [data-testid="stMetricValue"], ' +
    '[data-testid="stMetricValue"] *, [data-testid="stMetricDelta"] *, ' +
    '[data-testid="stTable"] td, [data-testid="stTable"] th, [data-testid="stTable"] td *, ' +
    '[data-testid="stTable"] th *');
  for (const el of cells) {
    if (!el.offsetParent || !el.textContent.trim()) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 2 &&
        getComputedStyle(el).overflowY === 'hidden') cut.push(el.textContent.trim().slice(0, 60));
    const box = el.getBoundingClientRect(), card = el.closest('[data-testid="stMetric"]');
    if (card) {
      const outer = card.getBoundingClientRect();
      if (box.right > outer.right + 1) cut.push('outside its card: ' + el.textContent.trim().slice(0, 60));
    }
  }
  return cut;
}"""
"""Every card and table text that does not fit its box (wider or taller than shown)."""


def cut_text(page) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.evaluate(CUT_TEXT))


LEGEND_CUT = """() => {
  const cut = [];
  for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    const svg = chart.querySelector('svg');
    if (!svg || !chart.offsetParent) continue;
    const box = chart.getBoundingClientRect();
    for (const t of svg.querySelectorAll('g.role-legend text')) {
      const r = t.getBoundingClientRect();
      if (r.right > box.right + 0.5 || r.left < box.left - 0.5 || t.textContent.includes('…'))
        cut.push(t.textContent);
    }
  }
  return cut;
}"""
"""The legend words of every chart the browser draws that run past the chart's edge or are
shortened with an ellipsis."""

START_FROM_FITS = """(input, names) => {
  const style = getComputedStyle(input), pen = document.createElement('canvas').getContext('2d');
  pen.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return names.filter(name => pen.measureText(name).width > room);
}"""
"""Which of the names given would not show whole in the sidebar's Start from box (its input,
the argument; a select box cannot wrap its choice)."""


def test_the_calibrated_scenario_holds_through_a_slider_change_and_is_what_runs(app_url,
                                                                                artifacts):
    """Calibrate -> Fit -> Use -> Scenario page -> move a slider -> Run: the calibrated numbers,
    never a silent fall back to the status quo (a failure shows the server's last output)."""
    try:
        _calibrated_flow(app_url, artifacts)
    except AssertionError as error:
        log = SERVERS[-1].log(6000) if SERVERS else "(no server)"
        raise AssertionError(f"{error}\n--- app server output ---\n{log}") from None


def _calibrated_flow(app_url, artifacts):  # type: ignore[no-untyped-def]
    """The steps of the test above (the browser used to send the old choice back)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(app_url)  # the Scenario page first, as a commissioner would
            expect(page.get_by_text("Projection: Status quo")).to_be_visible(timeout=120_000)
            short_projections(page)
            status_quo = number(metric(page, LIST_LABEL)[0])

            page.get_by_role("link", name="Calibrate").click()
            expect(page.get_by_text("usable,")).to_be_visible(timeout=120_000)
            page.get_by_text("Fitting options").click()
            set_number(page, "Months replayed when tuning", 12)
            set_number(page, "Replications per tried capacity (more: steadier, slower)", 2)
            page.get_by_role("button", name="Fit", exact=True).click()
            expect(page.get_by_text("Fitted.")).to_be_visible(timeout=600_000)
            page.get_by_role("button", name="Use this calibrated scenario").click()
            page.get_by_text("Go to the Scenario page").click()
            expect(page.get_by_text("Projection: Calibrated")).to_be_visible(timeout=180_000)
            start_box = page.get_by_role("combobox", name="Start from")
            assert "Calibrated" in start_box.input_value()
            calibrated = number(metric(page, LIST_LABEL)[0])
            assert calibrated != status_quo

            slider = page.get_by_role("slider").first
            slider.focus()
            slider.press("ArrowRight")  # +0.5 WTE of the first profession
            expect(page.get_by_text("You have moved levers since the last run")).to_be_visible(
                timeout=60_000)
            starting = page.locator('[data-testid="stMarkdown"]').filter(
                has_text="Starting scenario:").first
            assert "Calibrated" in starting.inner_text()
            assert "Calibrated" in start_box.input_value()
            page.get_by_role("button", name="Run", exact=True).click()
            expect(page.get_by_text("Your scenario against “Calibrated")).to_be_visible(
                timeout=180_000)
            wait_idle(page)
            edited, delta = metric(page, LIST_LABEL)
            page.screenshot(path=str(artifacts / "app_calibrated_run.png"), full_page=True)
            print(f"\nchildren waiting: status quo {status_quo:,}, calibrated {calibrated:,}, "
                  f"calibrated +0.5 WTE {edited} ({delta})")
            # the change is against the calibrated projection, not the status quo
            assert abs(number(edited) - calibrated) < abs(number(edited) - status_quo)
            assert delta.replace("−", "-").lstrip().startswith("-")
        finally:
            browser.close()


def test_same_numbers_on_every_page_in_the_pack_and_nothing_cut_at_1024(app_url, artifacts):
    """The starting scenario shows the same numbers on Scenario, Compare, Present and in the
    PowerPoint deck (which python-pptx reads back); "What would it take?" answers a target;
    at 1024x768 no card or table text is cut."""
    import io

    from playwright.sync_api import expect, sync_playwright
    from pptx import Presentation

    from app import core

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            started = time.monotonic()
            page.goto(app_url)
            expect(page.get_by_text("Projection: Status quo")).to_be_visible(timeout=120_000)
            print(f"\nScenario page at 1024x768, first result: {time.monotonic() - started:.1f} s")
            short_projections(page)
            waiting_text, first_delta = metric(page, LIST_LABEL)
            waiting = number(waiting_text)
            # the card counts a year or more at any stage; the families' sentence, the diagnostic
            # list only (as NHS England publishes waits), which is part of it
            over_year = number(metric(page, short_label("waiting_total_over_52w_end"))[0])
            assert first_delta == ""  # the starting projection: nothing to compare yet
            before_chart = chart_bytes(page)

            # a commissioner adds a psychologist (the profession that binds in the default
            # team) and runs: the list at the end falls, shown as a fall, and the chart is redrawn
            slider = page.get_by_role("slider", name="Psychologist: change in WTE (now 3.0)")
            for step in ("+0.5 psychologist WTE (3.0 → 3.5)", "+1.0 psychologist WTE (3.0 → 4.0)"):
                # one step of 0.5 at a time, each waited for: a key press during the rerun that
                # the last one started can be lost
                wait_idle(page)
                slider.focus()
                slider.press("ArrowRight")
                expect(page.get_by_text(step)).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="Run", exact=True).click()
            expect(page.get_by_text("Your scenario against")).to_be_visible(timeout=120_000)
            wait_idle(page)
            after_text, after_delta = metric(page, LIST_LABEL)
            print(f"list at the end: {waiting_text} -> {after_text} ({after_delta})")
            assert number(after_text) < waiting
            assert after_delta.replace("−", "-").lstrip().startswith("-")
            assert chart_bytes(page) != before_chart
            assert page.get_by_text("Traceback").count() == 0
            page.get_by_role("tab", name="Differences").click()
            page.wait_for_timeout(500)
            assert cut_text(page) == []
            page.get_by_role("tab", name="All numbers").click()
            page.wait_for_timeout(500)
            assert cut_text(page) == []
            page.screenshot(path=str(artifacts / "scenario_1024.png"))

            # What would it take? no more than 6,000 waiting by the end, by outsourcing
            choose(page, "Target", "Children waiting below a number")
            set_number(page, "At most this many children waiting", 6000)
            choose(page, "By adding", "Assessments bought from another provider a month")
            started = time.monotonic()
            page.get_by_role("button", name="Find what it takes").click()
            answer = page.get_by_text("assessments a month bought from another provider from "
                                      "the start reaches")
            expect(answer).to_be_visible(timeout=600_000)
            print(f"What would it take? answered in {time.monotonic() - started:.1f} s: "
                  f"{answer.inner_text()}")
            assert "projections" in answer.inner_text()

            page.get_by_role("link", name="Compare").click()
            expect(page.get_by_role("button", name="Compare", exact=True)).to_be_visible(
                timeout=60_000)
            started = time.monotonic()
            page.get_by_role("button", name="Compare", exact=True).click()  # the first click
            expect(page.get_by_text("Paired differences against")).to_be_visible(timeout=240_000)
            wait_idle(page)
            print(f"Compare, first result: {time.monotonic() - started:.1f} s")
            table = page.locator('[data-testid="stTable"]').first
            row = table.locator("tr").filter(has_text=core.label("waiting_total_end")).first
            assert row.locator("td").nth(1).inner_text().startswith(f"{waiting:,}")
            assert cut_text(page) == [], cut_text(page)
            assert page.evaluate(LEGEND_CUT) == []  # "Combined package" was cut at 1024
            page.screenshot(path=str(artifacts / "compare_1024.png"), full_page=True)

            page.get_by_role("link", name="Present").click()
            started = time.monotonic()
            sentence = page.get_by_text("children are likely to be waiting").first
            expect(sentence).to_be_visible(timeout=240_000)
            print(f"Present, first result: {time.monotonic() - started:.1f} s")
            said = sentence.inner_text()
            # the sentence rounds the same average the card shows (to 100 above 1,000)
            assert said_about(said, "children are likely to be waiting") == pytest.approx(
                waiting, abs=51)
            over = page.get_by_text("children on the diagnostic list have waited a year"
                                    ).first.inner_text()
            on_list = said_about(over, "children on the diagnostic list have waited")
            assert 0 < on_list <= over_year + 50
            page.get_by_role("button", name="Prepare the summit pack").click()
            expect(page.get_by_role("button", name="Slides (PowerPoint)")).to_be_visible(
                timeout=300_000)
            with page.expect_download(timeout=120_000) as download:
                page.get_by_role("button", name="Slides (PowerPoint)").click()
            deck = Presentation(io.BytesIO(Path(download.value.path()).read_bytes()))
            slides = list(deck.slides)
            assert len(slides) >= 4  # the cover, the three charts, and any "Who benefits?"
            assert deck.slide_width * 9 == deck.slide_height * 16
            text = " ".join(shape.text_frame.text for slide in slides for shape in slide.shapes
                            if shape.has_text_frame)
            assert said in text  # the pack says what the page says
            page.get_by_text("Presentation mode").click()
            expect(page.get_by_role("button", name="Next ▶")).to_be_visible(timeout=60_000)
            wait_idle(page)  # the rerun into presentation mode has removed the full page
            assert not page.locator('[data-testid="stSidebar"]').is_visible()
            # one slide: its title once, and no page title
            assert page.get_by_text("What the projections show").count() == 0
            page.screenshot(path=str(artifacts / "present_mode_1024.png"))
        finally:
            browser.close()


SLIDE_FITS = """() => {
  const words = document.querySelector('.st-key-present_slide_words');
  const captions = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')];
  const last = captions[captions.length - 1];
  return {words: words ? words.getBoundingClientRect().bottom : null,
          caption: last ? last.getBoundingClientRect().bottom : null,
          title: document.querySelector('[data-testid="stHeading"] h2').getBoundingClientRect().height,
          heading: document.querySelector('[data-testid="stHeading"] h2').textContent,
          screen: innerHeight};
}"""
"""Where a presentation-mode slide's sentences and the caption under it end, and the screen's
height (a slide that runs past it is cut on a projector: nobody scrolls)."""

SLIDE_TYPE = """() => {
  const chart = [...document.querySelectorAll('[data-testid="stImage"] img, ' +
                 '[data-testid="stFullScreenFrame"] img')].find(i => i.offsetParent);
  const size = sel => { const p = document.querySelector(sel);
                        return p ? parseFloat(getComputedStyle(p).fontSize) : null; };
  const text = document.querySelector('.st-key-present_slide_text');
  return {shown: chart ? chart.getBoundingClientRect().width : null,
          bottom: chart ? chart.getBoundingClientRect().bottom : null,
          natural: chart ? chart.naturalWidth : null,
          text: size('.st-key-present_slide_text li'),
          note: size('.st-key-present_slide_words p'),
          text_bottom: text ? text.getBoundingClientRect().bottom : null};
}"""
"""A presentation-mode slide's chart as shown (its width on screen and the picture's own) or,
on a slide of sentences, their type's size and the note's beside them (pixels)."""


@pytest.mark.parametrize("width, height", [(1440, 900), (1024, 768)])
def test_present_mode_fits_each_slide_on_the_screen_and_its_buttons_stop_at_the_ends(
        app_url, artifacts, width, height):
    """Slide 1's two long takeaways ran past the bottom of a 1024x768 screen, and past the
    caption at 1440x900; Previous stayed disabled after the first Next, and Next was enabled on
    the last slide (pressing it showed an error). The slides are the pack's, in its order; a
    chart's type is at least 14 px on screen (it was 7-9: the pack's figure scaled down), and
    the families' sentences no smaller than the note beside them."""
    from playwright.sync_api import expect, sync_playwright

    from app import equity, figures, layout, pack

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{app_url}/present")
            page.get_by_text("Presentation mode").wait_for(timeout=240_000)
            wait_idle(page)
            set_number(page, "Months to project", 24)
            set_number(page, "Replications (more: narrower intervals, slower)", 4)
            wait_idle(page)
            page.get_by_role("button", name="Show").click()
            wait_idle(page)
            page.get_by_text("Presentation mode").click()
            previous = page.get_by_role("button", name="◀ Previous")
            following = page.get_by_role("button", name="Next ▶")
            expect(following).to_be_visible(timeout=120_000)
            wait_idle(page)
            count = int(page.get_by_text("Slide 1 of ").inner_text().split()[-1])
            titles = []
            for slide in range(1, count + 1):
                expect(page.get_by_text(f"Slide {slide} of {count}")).to_be_visible()
                page.screenshot(path=str(artifacts / f"present_slide_{slide}_{width}.png"))
                fits = page.evaluate(SLIDE_FITS)
                print(f"slide {slide} at {width}x{height}: {fits}")
                assert fits["words"] is not None and fits["caption"] <= height, fits
                assert fits["words"] <= height, fits
                assert fits["title"] < 100, fits  # one line (two were 131 px at 1024)
                titles.append(fits["heading"])
                drawn = page.evaluate(SLIDE_TYPE)
                print(f"  type: {drawn}")
                if drawn["shown"] is not None:  # a chart: the column the rule was set for
                    assert abs(drawn["shown"] - layout.SLIDE_CHART_PX[(width, height)]) <= 3
                    assert drawn["natural"] < 1460  # Streamlit's PNG as drawn, not resized
                    assert drawn["bottom"] <= height, drawn
                    least = figures.on_screen_px(figures.SLIDE_LEAST_POINTS, 200,
                                                 drawn["natural"], drawn["shown"])
                    assert least >= layout.SLIDE_TYPE_PX, drawn
                else:  # sentences: on the screen, no smaller than the note beside them
                    assert drawn["text_bottom"] <= height, drawn
                    assert layout.SLIDE_TYPE_PX <= drawn["note"] <= drawn["text"], drawn
                assert previous.is_enabled() == (slide > 1)
                assert following.is_enabled() == (slide < count)
                if slide < count:
                    following.click()
                    wait_idle(page)
            assert page.get_by_text("Something went wrong").count() == 0
            # the pack's slides (the page shows two scenarios: a families slide for each)
            assert titles == [*(title for _, title, _ in pack.TAKEAWAYS),
                              "Who benefits? Waits by group", *[equity.FAMILIES_TITLE] * 2]
        finally:
            browser.close()


DIFFERENCES_FIT = """() => {
  const svg = [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg')].find(
    s => s.getBoundingClientRect().width > 0 && s.textContent.includes('What changes against'));
  if (!svg) return {words: [], problems: ['no differences chart on screen']};
  const box = svg.getBoundingClientRect();
  const of = sel => [...svg.querySelectorAll(sel)].map(
    el => ({text: el.textContent || sel, r: el.getBoundingClientRect()}));
  const words = of('g.mark-text.role-mark text'), labels = of('g.role-axis-label text');
  const marks = of('g.mark-symbol.role-mark path').concat(of('g.mark-rule.role-mark line'),
                                                          of('g.mark-rule.role-mark path'));
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                         a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const problems = [];
  // the plot: from the names' right edge to the words' left (the words start 10 px after it)
  const plot = Math.min(...words.map(w => w.r.left)) - Math.max(...labels.filter(
    l => l.r.bottom <= Math.max(...marks.map(m => m.r.bottom)) + 1).map(l => l.r.right));
  if (plot < 0.35 * box.width) problems.push('plot squeezed to ' + Math.round(plot) + ' of ' +
                                             Math.round(box.width) + ' px');
  for (const w of words) {
    if (w.r.right > box.right + 0.5 || w.r.left < box.left - 0.5) problems.push('cut: ' + w.text);
    for (const o of labels.concat(marks, words))
      if (o !== w && meet(w.r, o.r)) problems.push(w.text + ' over ' + o.text);
  }
  return {words: words.map(w => w.text), problems};
}"""
"""The differences chart's words (the change in each measure's unit) as drawn: any cut by the
chart's edge or drawn over an axis label, a dot, a bar or other words, and a plot squeezed to
less than a third of the chart's width by the names and the words beside it."""

CHOSEN_CUT = """() => {
  const cut = [];
  for (const select of document.querySelectorAll('[data-testid="stMultiSelect"]')) {
    if (!select.offsetParent) continue;
    const field = select.querySelector('[role="group"]').getBoundingClientRect();
    for (const tag of select.querySelectorAll('[data-tag]')) {
      const r = tag.getBoundingClientRect(), name = tag.firstElementChild;
      if (name.scrollWidth > name.clientWidth + 1 || r.right > field.right + 1 ||
          r.left < field.left - 1 || r.bottom > field.bottom + 1 || r.top < field.top - 1)
        cut.push(tag.getAttribute('aria-label'));
    }
    for (const button of select.querySelectorAll('[role="group"] > button')) {
      const r = button.getBoundingClientRect();
      if (r.right > field.right + 1 || r.left < field.left - 1)
        cut.push('outside its box: ' + button.getAttribute('aria-label'));
    }
  }
  return cut;
}"""
"""The chosen items of every multiselect on the page that are not shown whole inside its box,
and its own buttons (clear, open) pushed out of it."""


@pytest.mark.parametrize("width, height", [(1440, 900), (1024, 768)])
def test_differences_say_their_units_clear_of_the_plot_and_compare_shows_every_choice(
        app_url, artifacts, width, height):  # type: ignore[no-untyped-def]
    """+2 paediatrician WTE: the differences chart writes the cost in £ (and waits in weeks)
    where nothing covers it; on Compare the three scenarios chosen at first are each readable
    whole, the third too."""
    from playwright.sync_api import expect, sync_playwright

    from app import core, layout

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(app_url)
            expect(page.get_by_text("Projection: Status quo")).to_be_visible(timeout=120_000)
            # every shipped scenario's name shows whole in the sidebar's Start from box
            shown = layout.short_names(core.load_shipped(stem)[0].meta.name
                                       for stem in core.shipped_scenarios())
            start_box = page.locator('[data-testid="stSidebar"]').get_by_role(
                "combobox", name="Start from")
            start_box.wait_for(timeout=60_000)
            assert start_box.evaluate(START_FROM_FITS, list(shown.values())) == []
            set_number(page, "Months to project", 24)
            set_number(page, "Replications (more: narrower intervals, slower)", 4)
            slider = page.get_by_role("slider", name="Paediatrician: change in WTE (now 3.0)")
            for step in ("+0.5", "+1.0", "+1.5", "+2.0"):
                wait_idle(page)
                slider.focus()
                slider.press("ArrowRight")
                expect(page.get_by_text(f"{step} paediatrician WTE")).to_be_visible(
                    timeout=60_000)
            page.get_by_role("button", name="Run", exact=True).click()
            expect(page.get_by_text("Your scenario against")).to_be_visible(timeout=180_000)
            wait_idle(page)
            expect(page.get_by_text("Psychologists' hours are the constraint")).to_be_visible()
            page.get_by_role("tab", name="Differences").click()
            page.wait_for_timeout(1500)  # drawn by the browser
            drawn = page.evaluate(DIFFERENCES_FIT)
            page.screenshot(path=str(artifacts / f"differences_{width}.png"), full_page=True)
            assert drawn["problems"] == [], drawn
            assert any(w.startswith("+£") for w in drawn["words"]), drawn["words"]
            assert any(" weeks" in w for w in drawn["words"]), drawn["words"]
            # a long choice in the sidebar's narrow multiselect wraps inside its box too
            page.get_by_text("Demand and priority").click()
            page.wait_for_timeout(500)  # the expander opens
            page.get_by_role("combobox", name="Seen first, in this order (empty: first come, "
                                              "first served)").click()
            page.get_by_role("option", name=core.PRIORITY_GROUPS["looked_after"]).click()
            page.keyboard.press("Escape")
            wait_idle(page)
            assert page.evaluate(CHOSEN_CUT) == []

            page.get_by_role("link", name="Compare").click()
            expect(page.get_by_role("button", name="Compare", exact=True)).to_be_visible(
                timeout=60_000)
            wait_idle(page)
            chosen = page.locator('[data-testid="stMultiSelect"] [data-tag]')
            assert chosen.count() == 3
            page.screenshot(path=str(artifacts / f"compare_choices_{width}.png"))
            assert page.evaluate(CHOSEN_CUT) == []
            # nothing below the box is drawn over the last choice
            last = chosen.nth(2).bounding_box()
            below = page.get_by_text("Choose scenarios and press").bounding_box()
            assert last is not None and below is not None
            assert last["y"] + last["height"] <= below["y"]
        finally:
            browser.close()
