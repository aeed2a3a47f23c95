"""Who benefits and what families worry about: the app's views and the pack's two slides.

Self-contained (issue 11): the pages call :func:`who_benefits` (Scenario and Compare) and
:func:`families_panel` (Present) with one line each, and the pack adds :func:`pack_slides`. Every
number shown is from :mod:`model.equity` under disclosure control: counts under 5 suppressed
(with complementary suppression), counts rounded to the nearest 5.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model.disclosure import round_to_base
from model.equity import GAPS, SHORT_LABELS, VARIABLE_LABELS, equity_comparison, equity_table
from model.experiment import ExperimentResult
from model.labels import PALETTE, label
from model import plots
from model.metrics import GROUP_COUNT_METRICS
from model.scenario import Scenario

from . import charts, core, layout
from .state import derived

VIEW_METRICS = (
    "total_wait_weeks_p50_end",
    "waiting_total_over_52w_end",
    "list_wait_weeks_p50_end",
    "pct_waiting_over_52w_end",
    "pct_referrals_assessed_within_52w",
    "time_to_first_support_weeks_p50",
    "pct_supported_within_52w",
    "escalations",
    "turned_18_without_assessment",
    "would_be_diagnosed_unassessed",
    "routed_away_would_be_diagnosed",
)
"""What the "Who benefits?" view offers, the first its default: the any-stage wait and count
(diagnostic list, needs profile, vetting, from referral), which a front door moving children off
the list cannot flatter or blacken, then the diagnostic list's own. A front door that supports
children off the list leaves an older list behind, so the list's own median wait lengthens
while children wait less: shown first, it made the combined package look harmful."""

PACK_WAIT_METRIC = "total_wait_weeks_p50_end"
"""The wait the pack's "Who benefits?" slide shows by group: of every stage, as the view's
default (:data:`VIEW_METRICS`)."""

LIST_WAITS_NOTE = ("Waits on the diagnostic list alone: where a front door gives children "
                   "needs-led support instead, they leave the list, so the children left on it "
                   "have waited longer and its waits lengthen even when children wait less "
                   "overall; the waits of every stage (the cards, and “Who benefits?”) count them.")
"""One sentence under a chart of the diagnostic list's own waits."""

SUPPRESSION_NOTE = ("Counts are rounded to the nearest 5; fewer than 5 children are not shown "
                    "(nor a number that would give them away), as NHS statistics do.")

FAMILY_COUNTS_NOTE = ("Counts are rounded: to the nearest 5 under 100, and above that to no more "
                      "figures than an average of projections can give (about 1,200; about "
                      "21,400); fewer than 5 children are not shown, as NHS statistics do.")
"""What the families' sentences do to their counts (:func:`_count`), said beside them."""


@derived()
def _table(result: ExperimentResult) -> pd.DataFrame:
    """:func:`model.equity.equity_table` of one result (cached on it)."""
    return equity_table(result.groups)


@derived()
def _comparison(baseline: ExperimentResult, other: ExperimentResult) -> pd.DataFrame:
    """:func:`model.equity.equity_comparison` of two results (cached on both)."""
    return equity_comparison(baseline.groups, other.groups)


def _tables(results: Mapping[str, ExperimentResult]) -> dict[str, pd.DataFrame]:
    return {name: _table(r) for name, r in results.items() if r.groups is not None}


BARS_NOTE = ("Bars: average over replications; lines: 95% interval; n/s: not shown (fewer than "
             "5 children).")
"""What the "Who benefits?" bars, whiskers and "n/s" marks are, said under the chart."""


def who_benefits_chart(results: Mapping[str, ExperimentResult], variable: str,
                       metric: str, size: tuple[float, float] | None = None) -> Figure:
    """Bars by group for each scenario with 95% intervals (suppressed groups marked); a total
    over the projection says its period in the title and axis, as the browser's chart does. In
    the type sizes of the other charts (:data:`model.plots.FONT`), the scenarios and
    :data:`BARS_NOTE` in a legend under the plot. ``size`` is the figure's (width, height) in
    inches, by default 9 x 5.2; presentation mode passes :data:`app.figures.SLIDE_SIZE`."""
    tables = _tables(results)
    figure = plots.new_figure(*(size or (9, 5.2)))
    ax = figure.add_subplot()
    names = list(tables)
    groups: list[str] = []
    for table in tables.values():
        for g in table[table["variable"] == variable]["group"]:
            if g not in groups:
                groups.append(g)
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(groups))
    for k, name in enumerate(names):
        rows = tables[name][(tables[name]["variable"] == variable)
                            & (tables[name]["metric"] == metric)].set_index("group")
        means = np.array([rows["mean"].get(g, math.nan) for g in groups], dtype=float)
        low = np.array([rows["ci_low"].get(g, math.nan) for g in groups], dtype=float)
        high = np.array([rows["ci_high"].get(g, math.nan) for g in groups], dtype=float)
        pos = x - 0.4 + width * (k + 0.5)
        shown = np.isfinite(means)
        error = np.vstack([np.where(np.isfinite(low), means - low, 0),
                           np.where(np.isfinite(high), high - means, 0)])
        ax.bar(pos[shown], means[shown], width * 0.95, color=PALETTE[k % len(PALETTE)],
               label=plots.legend_words(name, figure), yerr=error[:, shown], capsize=3,
               ecolor="#333333")
        for p, hidden in zip(pos, ~shown):
            if hidden:
                ax.text(p, 0, "n/s", ha="center", va="bottom", fontsize=plots.FONT - 2,
                        color="#555555", rotation=90)
    ax.set_xticks(x, groups)
    ax.tick_params(labelsize=plots.FONT - 1)
    ax.set_xlabel(VARIABLE_LABELS.get(variable, variable), fontsize=plots.FONT)
    period = _period_of(results) if results else None
    ax.set_ylabel(textwrap.fill(measure_title(metric, period) if period is not None else
                                SHORT_LABELS.get(metric, label(metric)), 30),
                  fontsize=plots.FONT)
    # wrapped to the figure: one line as long as the label made the figure, and so the bars,
    # narrower
    ax.set_title(plots.wrap_to(core.period_label(metric, period),
                               figure.get_figwidth() - plots.TITLE_INDENT, plots.FONT),
                 fontsize=plots.FONT, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, fontsize=plots.FONT - 1, frameon=False,
                  loc="outside lower center", ncols=plots.legend_columns(labels, figure),
                  title=plots.legend_words(BARS_NOTE, figure, plots.FONT - 2),
                  title_fontsize=plots.FONT - 2)
    return figure


def _shown(metric: str, value: float) -> float:
    """A by-group number as the tables show it: a count of children rounded to the nearest 5
    (as :data:`SUPPRESSION_NOTE` says), a wait or a share to one decimal under 100 and whole
    from 100; a value shown as zero is 0.0 (never -0.0)."""
    if metric in GROUP_COUNT_METRICS:
        value = float(round_to_base(value))
    else:
        value = float(round(value, 1 if abs(value) < 100 else 0))
    return value + 0.0 if value != 0 else 0.0


def _number(metric: str, value: float, signed: bool = False) -> str:
    """One number of a by-group table, as :func:`_shown` rounds it; signed with ``signed`` (a
    change), a zero never "+0" or "-0"."""
    if not np.isfinite(value):
        return "-"
    value = _shown(metric, value)
    shown = f"{abs(value):,.0f}" if metric in GROUP_COUNT_METRICS or abs(value) >= 100 else \
        f"{abs(value):,.1f}"
    if value == 0:
        return shown
    return ("-" if value < 0 else "+" if signed else "") + shown


def interval_words(metric: str, mean: float, low: float, high: float,
                   signed: bool = False) -> str:
    """A by-group value and its 95% interval in words, "1,855 (1,240 to 2,470)", as the other
    tables write an interval ("-" where undefined; the interval left off where it is); counts
    rounded to the nearest 5, signed with ``signed`` (a change)."""
    if not np.isfinite(mean):
        return "-"
    shown = _number(metric, mean, signed)
    if not (np.isfinite(low) and np.isfinite(high)):
        return shown
    return f"{shown} ({_number(metric, low, signed)} to {_number(metric, high, signed)})"


def measure_title(metric: str, scenario: Scenario) -> str:
    """A by-group row's title: its short words, with the period of the ``scenario`` run for a
    total over the projection, as its card says it ("Crises while waiting, 60 months":
    :func:`app.core.card_label`); a count at the end or a wait has none."""
    return core.card_label(metric, scenario, SHORT_LABELS.get(metric, label(metric)))


def _period_of(results: Mapping[str, ExperimentResult]) -> Scenario:
    """The scenario whose period the by-group rows say: the first's (the scenarios compared
    are run over the same months, as the numbers table assumes)."""
    return next(iter(results.values())).scenario


def group_table(results: Mapping[str, ExperimentResult], variable: str,
                metrics: tuple[str, ...] = VIEW_METRICS) -> pd.DataFrame:
    """Rows: metric and group; columns: one per scenario, ``mean (low to high)`` (counts to the
    nearest 5) or suppressed. A total's rows say their period (:func:`measure_title`)."""
    out = {}
    period = _period_of(results) if results else Scenario()
    for name, table in _tables(results).items():
        sub = table[(table["variable"] == variable) & table["metric"].isin(metrics)]
        out[name] = [("not shown (fewer than 5)" if r.suppressed else
                      interval_words(r.metric, r.mean, r.ci_low, r.ci_high))
                     for r in sub.itertuples()]
        index = pd.MultiIndex.from_arrays(
            [[measure_title(m, period) for m in sub["metric"]], list(sub["group"])],
            names=["measure", "group"])
    frame = pd.DataFrame(out, index=index) if out else pd.DataFrame()
    order = {measure_title(m, period): k for k, m in enumerate(metrics)}
    return frame.sort_index(level=0, key=lambda level: level.map(order), sort_remaining=False)


GROUP_VERDICT_NOTE = ("Clear change? says “better” or “worse” for families, as the other tables "
                      "do, and “higher” or “lower” for a gap row (a change in the gap between "
                      "two groups is better or worse depending on which group was ahead); “not "
                      "clear” when the 95% interval as shown here (counts rounded to the nearest "
                      "5) includes zero, so the difference could be chance: “0 (0 to +5)” is "
                      "not clear; “cannot tell” when there is no difference to compute or too "
                      "few projections for an interval.")
"""What the by-group differences' "Clear change?" column says, for a caption under it."""


def group_clear_change(metric: str, low: float, high: float, difference: float | None = None,
                       gap: bool = False) -> str:
    """Whether a by-group change is clear, in the words of the app's other tables
    (:func:`app.core.change_words`: "better"/"worse" for families, "higher"/"lower" for a gap or
    a measure that is neither), decided on the interval **as shown** (:func:`_shown`): the
    counts are rounded to the nearest 5 for disclosure control, so more figures cannot be
    shown, and an interval shown as reaching zero ("0 (0 to +5)") is "not clear" even where
    the unrounded one just misses zero. Without a difference (``difference`` undefined) or an
    interval, "cannot tell", as :func:`app.core.clear_change` says it."""
    if difference is not None and not np.isfinite(difference):
        return core.CANNOT_TELL
    if not (np.isfinite(low) and np.isfinite(high)):
        return core.CANNOT_TELL
    low, high = _shown(metric, low), _shown(metric, high)
    if low == 0 and high == 0:
        return "no change"
    if low <= 0 <= high:
        return core.NOT_CLEAR
    up = low > 0
    return ("higher" if up else "lower") if gap else core.change_words(metric, up)


def differences_by_group(results: Mapping[str, ExperimentResult], variable: str,
                         metrics: tuple[str, ...] = VIEW_METRICS) -> pd.DataFrame:
    """Paired differences by group against the first scenario, and the change in the gap:
    ``+430 (+295 to +565)``, a change in a count of children rounded to the nearest 5."""
    names = list(results)
    frames = []
    for name in names[1:]:
        diff = _comparison(results[names[0]], results[name])
        diff = diff[(diff["variable"] == variable) & diff["metric"].isin(metrics)]
        frames.append(pd.DataFrame({
            "scenario": name,
            "measure": [measure_title(m, results[name].scenario) for m in diff["metric"]],
            "group": diff["group"],
            "change (95% interval)": [
                "not shown (fewer than 5)" if r.suppressed else
                interval_words(r.metric, r.difference, r.ci_low, r.ci_high, signed=True)
                for r in diff.itertuples()],
            "Clear change?": ["" if r.suppressed else
                              group_clear_change(r.metric, r.ci_low, r.ci_high, r.difference,
                                                 gap=str(r.group).startswith("gap"))
                              for r in diff.itertuples()],
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def differences_by_scenario(results: Mapping[str, ExperimentResult], variable: str,
                            metrics: tuple[str, ...] = VIEW_METRICS) -> dict[str, pd.DataFrame]:
    """:func:`differences_by_group` as one table per scenario compared, without the scenario
    column: a long scenario name repeated on every row pushed the change and its verdict off a
    1024-wide screen."""
    table = differences_by_group(results, variable, metrics)
    if table.empty:
        return {}
    return {str(name): frame.drop(columns="scenario").reset_index(drop=True)
            for name, frame in table.groupby("scenario", sort=False)}


def who_benefits(results: Mapping[str, ExperimentResult], key: str) -> None:
    """The "Who benefits?" view: choose a group and a measure; bars, table and differences."""
    import streamlit as st

    results = {n: r for n, r in results.items() if r.groups is not None}
    if not results:
        st.info("These results have no by-group numbers: run the scenario again.")
        return
    st.subheader("Who benefits?")
    first = next(iter(results.values())).groups
    assert first is not None  # kept above
    variables = [v for v in VARIABLE_LABELS if v in set(first["variable"])]
    c1, c2 = st.columns(2)
    variable = c1.selectbox("Group children by", variables, key=f"{key}_equity_by",
                            format_func=VARIABLE_LABELS.__getitem__)
    period = _period_of(results)
    metric = c2.selectbox("Measure", VIEW_METRICS, key=f"{key}_equity_metric",
                          format_func=lambda m: measure_title(m, period))
    # drawn by the browser; the pack draws the same bars with who_benefits_chart
    charts.draw(charts.who_benefits_chart(_tables(results), variable, metric, period))
    st.caption(SUPPRESSION_NOTE)
    # each scenario's column headed by its short name (the full one on hover): a long name
    # made its column as wide as it, and the columns ran off a 1024-wide screen
    short = layout.short_names(results)
    st.dataframe(group_table(results, variable), width="stretch", key=f"{key}_equity_table",
                 column_config={name: st.column_config.Column(short[name], help=name)
                                for name in results})
    if len(results) > 1:
        names = list(results)
        st.markdown(f"**Change against “{names[0]}”, by group** (paired: the same children in "
                    "both; a gap row is the change in the difference between the two groups "
                    "named)")
        st.caption(GROUP_VERDICT_NOTE)
        for k, (name, frame) in enumerate(differences_by_scenario(results, variable).items()):
            if len(names) > 2:
                st.markdown(f"**{name}**")
            st.dataframe(frame, hide_index=True, width="stretch",
                         key=f"{key}_equity_diff" + (f"_{k}" if k else ""))


# -------------------------------------------------------------------------------------------------
# What families worry about


def _mean(result: ExperimentResult, metric: str) -> float:
    values = result.per_replication[metric].to_numpy(dtype=float) if metric in \
        result.per_replication else np.array([])
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else math.nan


def _count(value: float) -> str:
    """A count for people: 'fewer than 5' when small, rounded to the nearest 5 below 100
    (disclosure control) and from 100 as :func:`app.core.about` says a count ("about 21,400",
    no more precise than an average of projections is)."""
    if not np.isfinite(value):
        return "no"
    if 0 < value < 5:
        return "fewer than 5"
    if abs(value) < 100:
        return f"about {round(value / 5) * 5:,.0f}"
    return f"about {core.about(value)}"  # a multiple of 10 from 100: rounded to 5 too


def family_sentences(result: ExperimentResult) -> list[str]:
    """The families' concerns in plain words, each a number over the whole projection."""
    end = _end_words(result)
    s = result.scenario
    lines = []
    supported = _mean(result, "supported_without_diagnosis")
    weeks_metric = "supported_without_diagnosis_weeks_to_support_p50"
    weeks = _mean(result, weeks_metric)  # over the projections where any child was
    line = f"{_count(supported).capitalize()} children were supported without a diagnosis"
    if np.isfinite(weeks):
        some = core.in_the_projections(result, weeks_metric, "where any were")
        line += (f";{some}{',' if some else ''} half of them had waited {weeks:.0f} weeks or "
                 "less for that support")
    lines.append(line + ".")
    unassessed = _mean(result, "would_be_diagnosed_unassessed")
    left = _mean(result, "would_be_diagnosed_left_unassessed")
    lines.append(f"By the end of {end}, {_count(unassessed)} children whom an assessment would diagnose had "
                 f"not had one; {_count(left)} of them had left without one (not accepted, routed "
                 "away, needs met by support, withdrew or turned 18; children who moved away or went private, who may "
                 "be assessed there, are not among them).")
    if s.profiling.enabled:
        routed = _mean(result, "routed_away_would_be_diagnosed")
        lines.append(f"The profiling tool routed {_count(routed)} children to needs-led support "
                     "or signposting whom an assessment would have diagnosed "
                     + ("(it routes by what an assessment would find, with the accuracy "
                        "assumed)." if s.profiling_accuracy.enabled else
                        "(it routes at random here, whatever the child)."))
    # every scenario's: said for one scenario of a pair only, it read as none in the other
    no_condition = _mean(result, "assessments_no_condition")
    lines.append(f"{_count(no_condition).capitalize()} assessments found no condition.")
    turned = _mean(result, "turned_18_without_assessment")
    lines.append(f"{_count(turned).capitalize()} children turned 18 without an assessment, on "
                 "the list or after leaving with a needs-led plan, needs met or signposting: "
                 "they move to adult "
                 "services without a diagnosis.")
    again = _mean(result, "re_referrals")
    if s.rereferral.enabled:
        lines.append(f"{_count(again).capitalize()} referrals were children coming back after "
                     "leaving without an assessment (failure demand, assumed rates).")
    return lines


def _end_words(result: ExperimentResult) -> str:
    """The horizon's last month, as every takeaway names it (not the day after the horizon)."""
    return core.horizon_end_words(result.scenario)


def families_period(results: Mapping[str, ExperimentResult]) -> str:
    """The period the families' counts add up over, in words ("Counts are over the 60 months
    to December 2030, unless they say “by the end”."): a commissioner may read a total over
    five years as a year's."""
    first = next(iter(results.values())).scenario
    return f"Counts are over {core.period_words(first)}, unless they say “by the end”."


def families_panel(results: Mapping[str, ExperimentResult]) -> None:
    """Present's "What families worry about" panel: plain sentences per scenario."""
    import streamlit as st

    st.header("What families worry about")
    st.caption("Losing support without a diagnosis, children who would be diagnosed never being "
               "assessed, and turning 18 without one. Averages over the projections. "
               + families_period(results) + " " + FAMILY_COUNTS_NOTE)
    for name, result in results.items():
        st.markdown(f"**{name}**")
        st.markdown("\n".join(f"- {line}" for line in family_sentences(result)))


# -------------------------------------------------------------------------------------------------
# The pack


def _gap_sentence(result: ExperimentResult, variable: str, metric: str) -> str:
    """The median wait of the two groups :data:`model.equity.GAPS` names for ``variable``
    ("looked-after children and children in need 60 weeks, others 80"), a group whose number
    is suppressed said so ("looked-after children and children in need: too few to show"),
    never left out of the sentence in silence; '' when neither group has a number."""
    table = equity_table(result.groups).set_index(["variable", "group", "metric"])
    focus, reference, _ = GAPS[variable]
    names = {"looked_after_or_cin": ("looked-after children and children in need", "others"),
             "deprivation_quintile": ("the most deprived fifth", "the least deprived fifth")}
    who_a, who_b = names.get(variable, (focus, reference))
    total = result.replications

    def words(group: str, who: str) -> tuple[str, float] | None:
        row = table.loc[(variable, group, metric)] if (variable, group, metric) in table.index \
            else None
        if row is None:
            return None  # no such group in these results
        if row["suppressed"]:
            return f"{who}: {TOO_FEW}", math.nan
        if not np.isfinite(row["mean"]):
            return f"{who}: nobody still waiting", math.nan
        n = int(row["n"])  # a group's median is over the projections it has a list in
        some = (f" (in the {n} of {total} projections where any are still waiting)"
                if n < total else "")
        return f"{who} {{weeks}}{some}", float(row["mean"])

    said, unit = [], " weeks"  # the unit after the first number only: "60 weeks, others 80"
    for found in (words(focus, who_a), words(reference, who_b)):
        if found is None:
            continue
        text, weeks = found
        if np.isfinite(weeks):
            text, unit = text.replace("{weeks}", f"{weeks:.0f}{unit}"), ""
        said.append(text)
    return ", ".join(said)


TOO_FEW = "too few to show"
"""A group's number withheld for disclosure control (fewer than 5 children), as a sentence
says it."""


FAMILIES_TITLE = "What families worry about"


def pack_slides(results: Mapping[str, ExperimentResult],
                size: tuple[float, float] | None = None) -> list[Any]:
    """The pack's "Who benefits?" slide (its chart at ``size``, as :func:`who_benefits_chart`)
    and a "What families worry about" slide for each scenario (``pack.Slide``): the sentences
    of three scenarios on one slide were 8 points in the deck, too small to read in a room."""
    from .pack import Slide

    results = {n: r for n, r in results.items() if r.groups is not None}
    if not results:
        return []
    metric = PACK_WAIT_METRIC
    chart = who_benefits_chart(results, "looked_after_or_cin", metric, size=size)
    lines = []
    for name, result in results.items():
        parts = [p for p in (_gap_sentence(result, "looked_after_or_cin", metric),
                             _gap_sentence(result, "deprivation_quintile", metric)) if p]
        if parts:
            lines.append(f"{name}: median time waited so far, from referral, by the children "
                         "still waiting at any stage (diagnostic list, needs profile, vetting) "
                         "at the end: " + "; ".join(parts) + ".")
    benefit = Slide("who_benefits", "Who benefits? Waits by group", chart, tuple(lines))
    return [benefit, *(families_slide(name, result, results)
                       for name, result in results.items())]


def families_slide(name: str, result: ExperimentResult,
                   results: Mapping[str, ExperimentResult]) -> Any:
    """One scenario's "What families worry about" slide: its name and sentences as the slide's
    text (drawn as the picture in the PDF, editable text in the deck, Markdown in presentation
    mode), the period and the rounding rule (:data:`FAMILY_COUNTS_NOTE`) beside them."""
    from .pack import Slide

    text = (name, *(f"  • {line}" for line in family_sentences(result)))
    words = Figure(figsize=(9, 4.6))
    words.text(0.02, 0.98, "\n".join(textwrap.fill(t, 90, subsequent_indent="    ")
                                     for t in text), ha="left", va="top", fontsize=12,
               linespacing=1.4)
    return Slide("families", FAMILIES_TITLE, words,
                 (families_period(results), FAMILY_COUNTS_NOTE), text)


__all__ = ["who_benefits", "who_benefits_chart", "group_table", "differences_by_group",
           "group_clear_change", "GROUP_VERDICT_NOTE",
           "families_panel", "family_sentences", "pack_slides", "families_slide"]
