"""Benchmark (0): what people wait for, each paired with a plain-SimPy run of the same moment.

* ``ndpath --help`` (a subprocess: interpreter start and every import the parser needs);
* ``ndpath run scenarios/default.toml --replications 20 --months 60`` with figures, as a
  subprocess: imports, scenario, the local pool, summaries, files and PNGs;
* the app: from a click on Run to the first metric card and chart updated, in Chromium driven by
  Playwright against a running ``streamlit run`` server (median of several clicks);
* the full default pathway on one core: children per second through the engine (and through a
  whole replication with its summaries) against plain SimPy's customers per second.

On a machine shared with other work the speed available changes from minute to minute, so every
timing is paired with a short plain-SimPy M/M/10 run just before it and normalised to a machine
where plain SimPy runs 50,000 customers/s: ``seconds * rate / 50,000``.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from . import textbook

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOML = ROOT / "scenarios" / "default.toml"
REFERENCE_SIMPY_RATE = 50_000.0
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def plain_simpy_rate(customers: int) -> float:
    """Customers per second of the hand-written SimPy M/M/10 model, now."""
    return textbook.run_plain_simpy(textbook.textbook_queue(customers)).customers_per_second


def paired(measure: Callable[[], float], repeats: int, pairing_customers: int) -> dict[str, Any]:
    """``repeats`` timings of ``measure`` (seconds), each after a plain-SimPy rate; the median
    normalised time and every raw pair."""
    pairs = []
    for _ in range(repeats):
        rate = plain_simpy_rate(pairing_customers)
        pairs.append((measure(), rate))
    normalised = [seconds * rate / REFERENCE_SIMPY_RATE for seconds, rate in pairs]
    return {"seconds": [s for s, _ in pairs], "paired_plain_simpy_rates": [r for _, r in pairs],
            "normalised_seconds": normalised,
            "median_seconds": float(statistics.median(s for s, _ in pairs)),
            "median_normalised_seconds": float(statistics.median(normalised))}


def _timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds


def cli_help(repeats: int, pairing_customers: int) -> dict[str, Any]:
    """``python -m ndpath --help`` in a fresh interpreter."""
    return {"command": "python -m ndpath --help",
            **paired(lambda: _timed([sys.executable, "-m", "ndpath", "--help"], ROOT), repeats,
                     pairing_customers)}


def cli_run(replications: int, months: int, repeats: int, pairing_customers: int
            ) -> dict[str, Any]:
    """``ndpath run`` of the default scenario with figures, end to end in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "ndpath", "run", str(DEFAULT_TOML), "--replications",
                   str(replications), "--months", str(months), "--out", str(Path(tmp) / "run"),
                   "--overwrite", "--quiet"]
        result = paired(lambda: _timed(command, ROOT), repeats, pairing_customers)
    return {"command": f"ndpath run scenarios/default.toml --replications {replications} "
                       f"--months {months} (figures on, local pool)",
            "replications": replications, "months": months, **result}


def pathway_rate(months: int, repeats: int, pairing_customers: int) -> dict[str, Any]:
    """The full default pathway on one core: children per second (the starting list plus the
    horizon's referrals) through the engine alone and through a whole replication (engine and
    its summaries), each against plain SimPy's customers per second measured just before."""
    from model.experiment import _Task, run_one
    from model.scenario import load_scenario
    from model.uncertainty import simulate_replication

    scenario = load_scenario(DEFAULT_TOML, [f"simulation.horizon_months={months}"])
    seed = scenario.simulation.seed
    simulate_replication(scenario, 0, seed)  # warm: imports and first-call costs
    engine, whole, rates, children = [], [], [], 0
    for k in range(repeats):
        rates.append(plain_simpy_rate(pairing_customers))
        start = time.perf_counter()
        result = simulate_replication(scenario, k + 1, seed)
        engine.append(time.perf_counter() - start)
        children = len(result.children)  # the starting list and every referral of the horizon
        start = time.perf_counter()
        run_one(_Task(scenario, k + 1, seed, False))
        whole.append(time.perf_counter() - start)
    engine_rates = [children / s for s in engine]
    whole_rates = [children / s for s in whole]
    ratio_engine = [e / r for e, r in zip(engine_rates, rates)]
    ratio_whole = [w / r for w, r in zip(whole_rates, rates)]
    return {"months": months, "children": children, "engine_seconds": engine,
            "replication_seconds": whole, "paired_plain_simpy_rates": rates,
            "engine_children_per_second": float(statistics.median(engine_rates)),
            "replication_children_per_second": float(statistics.median(whole_rates)),
            "ratio_engine_vs_plain_simpy": float(statistics.median(ratio_engine)),
            "ratio_replication_vs_plain_simpy": float(statistics.median(ratio_whole))}


# -------------------------------------------------------------------------------------------------
# the app in a browser


LIST_CARD = '[data-testid="stMetric"]'
CHART = ('[data-testid="stImage"] img, [data-testid="stFullScreenFrame"] img, '
         '[data-testid="stVegaLiteChart"] svg.marks, [data-testid="stVegaLiteChart"] canvas, '
         '[data-testid="stArrowVegaLiteChart"] canvas')
"""The first chart: a picture (matplotlib), or one the browser draws (Vega-Lite, as SVG or on a
canvas)."""
SIGNATURE = """(el) => {
  if (!el) return '';
  if (el.src) return el.src;
  if (el.toDataURL) return el.toDataURL().slice(-200);
  let out = '';
  for (const mark of el.querySelectorAll('.mark-line path, .mark-area path, .mark-rect path'))
    out += (mark.getAttribute('d') || '').slice(-60);
  return out;
}"""
"""What a chart shows, in a short string that changes when its picture does: a picture's
address, or the outlines of an SVG chart's lines, areas and bars (read, not serialised: it is
asked for on every frame while the benchmark waits)."""
SNAPSHOT = f"""() => {{
  const signature = {SIGNATURE};
  const card = document.querySelector('{LIST_CARD} [data-testid="stMetricValue"]');
  return [card ? card.textContent : '', signature(document.querySelector('{CHART}'))];
}}"""
CHANGED = f"""(before) => {{
  const signature = {SIGNATURE};
  const card = document.querySelector('{LIST_CARD} [data-testid="stMetricValue"]');
  const now = [card ? card.textContent : '', signature(document.querySelector('{CHART}'))];
  return now[0] !== '' && now[0] !== before[0] && now[1] !== '' && now[1] !== before[1];
}}"""


def app_run(clicks: int, pairing_customers: int, settle: bool = True) -> dict[str, Any]:
    """Seconds from a click on Run to the first card and the first chart changed, in Chromium,
    for ``clicks`` runs each with the psychologist slider one step further (a new scenario each
    time, so no cached result is shown).

    With ``settle`` the click comes once the page has finished the slider's rerun (and the
    pairing run, about a second later), as a user who moves a lever and then reaches for Run:
    by then the page has started the new scenario's replications, so part of the work is done.
    Without it the click follows the key press at once: the whole run after the click."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        return {"available": False, "reason": f"playwright not installed ({error})"}
    if not CHROMIUM.exists():
        return {"available": False, "reason": f"{CHROMIUM} missing (apt-get install chromium)"}
    from app.server import AppDidNotStart, running_app

    timings: list[float] = []
    rates: list[float] = []
    first_page = math.nan
    try:
        with running_app(timeout_seconds=90) as app:
            url = app.url
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1600, "height": 1100})
                    page.on("pageerror", lambda error: print(f"app page error: {error}",
                                                             file=sys.stderr))
                    started = time.perf_counter()
                    page.goto(url)
                    page.get_by_text("Projection: Status quo").wait_for(timeout=180_000)
                    page.wait_for_function(f"() => !!document.querySelector('{CHART}')",
                                           timeout=180_000)
                    first_page = time.perf_counter() - started
                    _wait_idle(page)
                    # the psychologists' WTE: their hours bind in the default, so every step
                    # changes the numbers (a paediatrician step past the first few changes
                    # nothing, and no card would change to time)
                    slider = page.get_by_role("slider").nth(1)
                    for _ in range(clicks):
                        if not settle:
                            rates.append(plain_simpy_rate(pairing_customers))
                            before = page.evaluate(SNAPSHOT)
                        slider.focus()
                        slider.press("ArrowRight")
                        if settle:
                            _wait_idle(page)
                            rates.append(plain_simpy_rate(pairing_customers))
                            before = page.evaluate(SNAPSHOT)
                        start = time.perf_counter()
                        page.get_by_role("button", name="Run", exact=True).click()
                        page.wait_for_function(CHANGED, arg=before, timeout=300_000)
                        timings.append(time.perf_counter() - start)
                        _wait_idle(page)
                except Exception as error:  # a timeout: what the page and the server said
                    page.screenshot(path=str(Path(tempfile.gettempdir()) / "ndpath-app-bench.png"))
                    tail = app.log(3000)
                    return {"available": False, "reason": f"{type(error).__name__}: {error}"[:300],
                            "server_log_tail": tail, "seconds": timings}
                finally:
                    browser.close()
    except AppDidNotStart:
        return {"available": False, "reason": "the app did not start"}
    normalised = [s * r / REFERENCE_SIMPY_RATE for s, r in zip(timings, rates)]
    return {"available": True, "clicks": clicks, "seconds": timings,
            "paired_plain_simpy_rates": rates, "normalised_seconds": normalised,
            "median_seconds": float(statistics.median(timings)),
            "median_normalised_seconds": float(statistics.median(normalised)),
            "first_page_seconds": first_page,
            "settle": settle,
            "what": "click on Run -> first metric card and first chart changed (Chromium, "
                    "default scenario at the app's default months and replications; "
                    + ("the click once the slider's rerun is done)" if settle else
                       "the click straight after the key press)")}


IDLE = """() => !document.querySelector('[data-stale="true"]')
              && !document.querySelector('[data-testid="stStatusWidget"]')"""


def _wait_idle(page: Any) -> None:
    for _ in range(2):
        page.wait_for_timeout(300)
        page.wait_for_function(IDLE, timeout=300_000)
