"""The summit pack: a few large, plain charts with a one-line takeaway each, as PDF and PNGs.

It is built from results already computed, so it needs no server at the summit: the PDF opens on
any laptop and the PNGs drop into slides.
"""

from __future__ import annotations

import datetime as dt
import json
import io
import textwrap
from dataclasses import dataclass
from typing import Callable, Mapping

from matplotlib import image as plt_image
from matplotlib.figure import Figure

from model.experiment import ExperimentResult
from model.scenario import Scenario

from . import core, equity, figures


@dataclass(frozen=True)
class Slide:
    """One chart and its takeaways (one line per scenario)."""

    name: str
    title: str
    figure: Figure
    takeaways: tuple[str, ...]


TAKEAWAYS: tuple[tuple[str, str, Callable[[ExperimentResult], str]], ...] = (
    ("projected_list", "How many children will be waiting?", core.takeaway_list),
    ("waits", "How many children have waited a year or more?", core.takeaway_wait),
    ("first_support", "How soon do families get support?", core.takeaway_support),
)


def slides(results: Mapping[str, ExperimentResult], today: str) -> list[Slide]:
    """The Present page's charts, in order, with their takeaways."""
    charts = {
        "projected_list": figures.list_chart(results, today),
        "waits": figures.wait_trend_chart(results, today),
        "first_support": figures.support_chart(results),
    }
    return [Slide(name, title, charts[name],
                  tuple(f"{scenario}: {sentence(result)}" for scenario, result in results.items()))
            for name, title, sentence in TAKEAWAYS]


def _captioned(slide: Slide) -> Figure:
    """The slide as an A4 landscape page: its title, the chart, and its takeaways below it.

    The chart is drawn first to an image and placed in its own box, so the takeaways can never
    run into the chart's legend or axis labels, and every page has the same size."""
    page = Figure(figsize=(11.69, 8.27))  # A4 landscape, as the cover
    page.text(0.04, 0.96, slide.title, fontsize=20, fontweight="bold", ha="left", va="top")
    chart = plt_image.imread(io.BytesIO(figures.to_png(slide.figure)), format="png")
    height, width = chart.shape[:2]
    lines = [textwrap.fill(line, 120) for line in slide.takeaways]
    text_rows = sum(line.count("\n") + 1 for line in lines) + len(lines) - 1
    text_height = min(0.45, 0.03 * text_rows + 0.02)
    box = (0.04, text_height + 0.04, 0.92, 0.86 - text_height - 0.04)  # left, bottom, w, h
    ax = page.add_axes(box)
    ax.imshow(chart)
    ax.set_axis_off()
    ax.set_anchor("N")
    ax.set_aspect("equal")
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    page.text(0.04, text_height + 0.01, "\n\n".join(lines), fontsize=12, ha="left", va="top",
              multialignment="left")
    return page


def _cover(scenarios: Mapping[str, Scenario], title: str) -> Figure:
    figure = Figure(figsize=(11.69, 8.27))  # A4 landscape
    lines = [title, "", f"Prepared {dt.date.today():%d %B %Y} with ndpath "
             f"{core.provenance('', next(iter(scenarios.values())))['ndpath_version']}.", ""]
    for name, s in scenarios.items():
        lines.append(f"• {name}: {s.meta.description}")
    first = next(iter(scenarios.values()))
    lines += ["", f"Projection from {first.simulation.start_date:%B %Y} for "
              f"{first.simulation.horizon_months} months; {first.simulation.replications} "
              f"replications with seed {first.simulation.seed}, shared by every scenario.",
              "Lines show the middle projection; shading shows the range in 1 in 2 and "
              "9 in 10 projections.",
              core.band_words(first.uncertainty.enabled)]
    if any(s.meta.illustrative for s in scenarios.values()):
        lines += ["", "These numbers are ILLUSTRATIVE: they are not a real service's data."]
    wrapped = "\n".join(textwrap.fill(line, 95) if line else "" for line in lines)
    figure.text(0.06, 0.92, wrapped, ha="left", va="top", fontsize=15)
    return figure


def summit_pack(results: Mapping[str, ExperimentResult], scenarios: Mapping[str, Scenario],
                title: str = "Children's autism and ADHD assessments: what the projections show"
                ) -> tuple[bytes, bytes]:
    """The pack as (PDF bytes, zip bytes of PNGs with the takeaways and provenance)."""
    today = core.month_today(next(iter(scenarios.values())))
    deck = slides(results, today) + equity.pack_slides(results)  # issue 11
    made = [_captioned(slide) for slide in deck]
    names = [slide.name for slide in deck]
    document = figures.pdf([_cover(scenarios, title), *made], title, tight=False)
    takeaways = "\n\n".join(
        [core.band_words(next(iter(scenarios.values())).uncertainty.enabled)]
        + [f"{slide.title}\n" + "\n".join(slide.takeaways) for slide in deck])
    provenance = {name: core.provenance(name, s) for name, s in scenarios.items()}
    archive = figures.pngs_zip(
        {f"{k + 1}_{name}": fig for k, (name, fig) in enumerate(zip(names, made))},
        {"takeaways.txt": takeaways.encode(), "summit_pack.pdf": document,
         "provenance.json": json.dumps(provenance, indent=2, default=str).encode()})
    return document, archive
