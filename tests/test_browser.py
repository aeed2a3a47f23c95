"""The app in a real browser: start `streamlit run`, move the clinician slider, run, look.

Drives Debian's Chromium through Playwright (never `playwright install`, which downloads a
browser). Screenshots go to ``$NDPATH_ARTIFACTS`` (default: a temporary folder), named in the
test output so a person can look at what a commissioner sees.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from model.labels import short_label

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LIST_LABEL = short_label("waiting_total_end")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (python3.11 dev.py test "
                    "installs it when it may)")
    port = free_port()
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("the app did not start:\n" + log.read().decode(errors="replace"))
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


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


def chart_bytes(page) -> bytes:  # type: ignore[no-untyped-def]
    """The first chart as the browser shows it (a PNG of the image element)."""
    image = page.locator('[data-testid="stImage"] img, [data-testid="stFullScreenFrame"] img').first
    image.wait_for(state="visible", timeout=60_000)
    return image.screenshot()


def test_commissioner_moves_the_clinician_slider_and_sees_the_projection_change(app_url, artifacts):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.goto(app_url)
            # the landing page shows the default projection without a click
            expect(page.get_by_text("Projection: Status quo")).to_be_visible(timeout=120_000)
            before_value, before_delta = metric(page, LIST_LABEL)
            before_chart = chart_bytes(page)
            assert before_delta == ""
            page.screenshot(path=str(artifacts / "app_landing.png"), full_page=True)

            slider = page.locator('input[type="range"][aria-label="Paediatrician (WTE)"]')
            slider.focus()
            for _ in range(6):  # 3.0 -> 6.0 WTE in steps of 0.5
                slider.press("ArrowRight")
            expect(page.get_by_text("paediatrician 3 → 6 WTE")).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="Run", exact=True).click()
            expect(page.get_by_text("Your scenario against")).to_be_visible(timeout=120_000)
            page.wait_for_timeout(1000)  # let the charts finish drawing

            after_value, after_delta = metric(page, LIST_LABEL)
            after_chart = chart_bytes(page)
            page.screenshot(path=str(artifacts / "app_after_run.png"), full_page=True)
            print(f"\nscreenshots: {artifacts / 'app_landing.png'}, {artifacts / 'app_after_run.png'}")
            print(f"list at the end: {before_value} -> {after_value} ({after_delta})")

            assert after_value != before_value
            # more paediatricians: fewer children waiting at the end, shown as a fall
            assert int(after_value.replace(",", "")) < int(before_value.replace(",", ""))
            assert after_delta.replace("−", "-").lstrip().startswith("-")
            assert after_chart != before_chart
            assert page.get_by_text("Traceback").count() == 0
        finally:
            browser.close()
