"""The queueing sanity panel in the app and the summit pack (no model logic: model.waitinglist).

``render(result)`` draws a closed expander under a projection: the NHS waiting-list formulas
for the scenario (load, target list size, relief and target capacity, pressure) and, where their
assumptions hold, whether the simulation agrees. ``pack_page(result)`` is the same table as an
A4 landscape page for the summit pack.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd
from matplotlib.figure import Figure

from model.experiment import ExperimentResult
from model.scenario import Scenario
from model.waitinglist import SOURCE, format_value, list_load, sanity_panel, scenario_queue, verdict

from .state import derived

TITLE = "Sanity check: what the NHS waiting-list formulas say"
INTRO = ("The queueing formulas NHS teams use to size waiting lists (Fong et al. 2022; the "
         "NHS-R Community's NHSRwaitinglist), applied to this scenario's demand and capacity, "
         "against a 13-week target. Where a formula's assumptions hold (a stable list, first "
         "come first served, nobody leaving untreated) the last column says whether the "
         "simulation agrees within its replication error; elsewhere the simulation is the "
         "better guide, and the formula is a rough scale.")


def sanity_table(result: ExperimentResult) -> pd.DataFrame:
    """The panel as display rows: what, formula, simulation (95% interval), check, note."""
    panel = sanity_panel(result.scenario, result.per_replication, result.monthly)
    simulated = ["" if not math.isfinite(s) else
                 f"{format_value(s)} ({format_value(lo)} to {format_value(hi)})"
                 for s, lo, hi in zip(panel["simulated"], panel["sim_ci_low"], panel["sim_ci_high"])]
    return pd.DataFrame({
        "What": panel["quantity"], "Formula": [format_value(v) for v in panel["value"]],
        "Simulation (95% interval)": simulated,
        "Check": [verdict(row) for _, row in panel.iterrows()],
        "Assumptions and notes": [" ".join(p for p in (a, n) if p)
                                  for a, n in zip(panel["assumptions"], panel["note"])],
    })


@derived()
def _sanity_table(result: ExperimentResult) -> pd.DataFrame:
    """:func:`sanity_table`, once per result (not on every rerun of the page)."""
    return sanity_table(result)


def load_line(scenario: Scenario) -> str:
    """One plain line on demand against capacity, for the top of a projection: the sanity
    panel's load (:func:`model.waitinglist.list_load`, the "Load: demand / capacity" row),
    rounded as people say it. Above 1 the list grows whatever the queue order, which is why
    almost no new referral is assessed within 13 weeks; below 1 the team can keep up; ``""``
    when nobody reaches the list. The shipped default: "Referrals reaching the diagnostic list
    are about 4.9 times the assessments the team can start a week: the list grows whatever the
    queue order (first year's referrals against the team at the start; see the sanity check
    below)."
    """
    queue = scenario_queue(scenario)
    load = list_load(queue)
    outsourced = queue.outsourced_horizon > 0
    who = "the team and the outsourced provider" if outsourced else "the team"
    months = min(12, scenario.simulation.horizon_months)  # the panel's demand: the first year's
    first = ("first year's" if months == 12 else
             f"first {months} months'" if months > 1 else "first month's")
    counted = (f" ({first} referrals against the team at the start"
               + (" and the outsourced assessments spread over the projection" if outsourced
                  else "") + "; see the sanity check below)")
    if not math.isfinite(load):
        return (f"{who.capitalize()} can start no assessments a week: every referral reaching "
                f"the diagnostic list adds to it{counted}.")
    if load <= 0:
        return ""
    if load > 1:
        times = f"about {load:.1f} times" if round(load, 1) > 1 else "a little more than"
        return (f"Referrals reaching the diagnostic list are {times} the assessments {who} can "
                f"start a week: the list grows whatever the queue order{counted}.")
    times = f"about {load:.1f} times" if round(load, 1) < 1 else "a little fewer than"
    return (f"Referrals reaching the diagnostic list are {times} the assessments {who} can "
            f"start a week: the team can keep up, so the list can come down{counted}.")


@derived()
def _load_line(result: ExperimentResult) -> str:
    """:func:`load_line` of a result's scenario, once per result."""
    return load_line(result.scenario)


def render(result: ExperimentResult) -> None:
    """A closed expander with the sanity panel of ``result`` (call under the projection)."""
    import streamlit as st

    with st.expander(TITLE, expanded=False):
        st.caption(INTRO)
        st.dataframe(_sanity_table(result), hide_index=True, width="stretch", key="sanity_table")
        st.caption(f"Sources: {SOURCE}.")


def pack_page(result: ExperimentResult, name: str = "") -> Figure:
    """The panel as an A4 landscape page (formula, simulation, check) for the summit pack."""
    table = sanity_table(result)[["What", "Formula", "Simulation (95% interval)", "Check"]]
    table["Check"] = table["Check"].replace({"assumptions do not hold": "not comparable"})
    page = Figure(figsize=(11.69, 8.27))
    page.text(0.04, 0.96, TITLE + (f": {name}" if name else ""), fontsize=18,
              fontweight="bold", ha="left", va="top")
    ax = page.add_axes((0.04, 0.1, 0.92, 0.8))
    ax.set_axis_off()
    cells = ax.table(cellText=table.to_numpy(), colLabels=list(table.columns), loc="upper left",
                     cellLoc="left", colWidths=[0.56, 0.08, 0.22, 0.14])
    cells.auto_set_font_size(False)
    cells.set_fontsize(9.5)
    cells.scale(1, 1.6)
    notes = (f"Sources: {SOURCE}. 13-week target (NICE QS51). 'Not comparable': the formula's "
             "assumptions (a stable list, first come first served, nobody leaving untreated) do "
             "not hold here, so the simulation is the better guide.")
    page.text(0.04, 0.04, textwrap.fill(notes, 150), fontsize=9, ha="left", va="bottom")
    return page


__all__ = ["render", "sanity_table", "pack_page", "load_line", "TITLE"]
