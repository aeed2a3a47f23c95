"""Display labels for metric names: the one place where words for people live.

Code, files and tests use the stable metric names; the app, figures and reports show these.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Sequence

from .names import SCALAR_METRICS

if TYPE_CHECKING:  # pragma: no cover
    from .scenario import Scenario

LABELS: dict[str, str] = {
    "referrals": "Referrals received",
    "waiting_list_end": "Children on the diagnostic waiting list at the end",
    "waiting_total_end": "Children waiting at any stage (diagnostic list, needs profile, vetting) at the end",
    "list_wait_weeks_p50_end": "Typical time waited so far by the children still waiting on the diagnostic list (weeks, median)",
    "list_wait_weeks_p92_end": "Long time waited so far by the children still waiting on the diagnostic list (weeks, 92nd percentile)",
    "list_wait_weeks_mean_end": "Average time waited so far by the children still waiting on the diagnostic list (weeks, mean)",
    "pct_waiting_over_13w_end": "Of the children on the diagnostic list at the end, waiting 13 weeks or more (%)",
    "pct_waiting_over_52w_end": "Of the children on the diagnostic list at the end, waiting 1 year or more (%)",
    "pct_waiting_over_104w_end": "Of the children on the diagnostic list at the end, waiting 2 years or more (%)",
    "waiting_over_13w_end": "Children on the diagnostic list at the end who have waited 13 weeks or more",
    "waiting_over_52w_end": "Children on the diagnostic list at the end who have waited 1 year or more",
    "waiting_over_104w_end": "Children on the diagnostic list at the end who have waited 2 years or more",
    "pct_referrals_assessed_within_13w": "Of all new referrals, assessment started within 13 weeks (%)",
    "pct_referrals_assessed_within_52w": "Of all new referrals, assessment started within 1 year (%)",
    "pct_referrals_assessed_within_104w": "Of all new referrals, assessment started within 2 years (%)",
    "referral_to_assessment_weeks_p50": "Typical time from referral to assessment, new referrals (weeks, median)",
    "wait_of_those_assessed_weeks_p50": "Wait among children who started assessment (weeks, median)",
    "wait_of_those_assessed_weeks_p90": "Wait among children who started assessment (weeks, 90th percentile)",
    "wait_of_those_assessed_weeks_mean": "Wait among children who started assessment (weeks, average)",
    "pct_of_those_assessed_within_13w": "Among children who started assessment, within 13 weeks (%)",
    "time_to_first_support_weeks_p50": "Typical time from referral to first support (weeks, median)",
    "pct_supported_within_13w": "Of all new referrals, supported within 13 weeks (%)",
    "pct_supported_within_52w": "Of all new referrals, supported within 1 year (%)",
    "assessments_completed": "Assessments completed",
    "needs_led_exits": "Children whose needs were met without a diagnostic assessment",
    "signposted": "Children signposted elsewhere after a needs profile",
    "rejected": "Referrals not accepted at vetting",
    "withdrawals": "Children who left the list (withdrew, moved, went private)",
    "aged_out": "Children who turned 18 while waiting",
    "escalations": "Crises or school breakdowns while waiting (assumption-driven)",
    "clinician_utilisation": ("Share of the team's clinical hours for the service used "
                              "(assessment, and follow-up when it is on)"),
    "list_child_weeks": "Child-weeks spent on the diagnostic list in the projection (list size x weeks)",
    "follow_up_starts": "Children starting post-diagnostic follow-up (ADHD medication, autism)",
    "follow_up_caseload_end": "Children in post-diagnostic follow-up at the end",
    "follow_up_hours": "Clinical hours given to post-diagnostic follow-up",
    "follow_up_hours_unmet": "Follow-up hours due but not given (reviews missed: no hours left)",
    "cost_total": ("Total cost (£): whole staff posts and services delivered; not overheads or "
                   "the cost of crises"),
    "waiting_list_start": "Children on the diagnostic waiting list at the start",
    "vetting_end": "Referrals waiting to be vetted at the end",
    "profiling_queue_end": "Children waiting for a needs profile at the end",
    "total_wait_weeks_p50_end": "Typical time waited so far, from referral, of the children waiting at any stage (diagnostic list, needs profile, vetting) at the end (weeks, median)",
    "waiting_total_over_13w_end": "Children waiting at any stage (diagnostic list, needs profile, vetting) at the end who have waited 13 weeks or more since referral",
    "waiting_total_over_52w_end": "Children waiting at any stage (diagnostic list, needs profile, vetting) at the end who have waited 1 year or more since referral",
    "waiting_total_over_104w_end": "Children waiting at any stage (diagnostic list, needs profile, vetting) at the end who have waited 2 years or more since referral",
    "profiling_wait_weeks_p50_end": "Typical time waited so far, from referral, of the children waiting for a needs profile at the end (weeks, median)",
    "profiling_over_52w_end": "Children waiting for a needs profile at the end who have waited 1 year or more since referral",
    "vetting_over_52w_end": "Children waiting in vetting at the end who have waited 1 year or more since referral",
    "assessments_started": "Assessments started",
    "in_assessment_end": "Children part-way through assessment at the end",
    "outsourced_assessments": "Outsourced assessments",
    "profiles_completed": "Needs profiles completed",
    "support_starts": "Families starting support",
    "cost_per_assessment": "Assessment cost per completed assessment (£): clinical posts and outsourcing",
    "backlog_cleared": "Chance nobody waits over 13 weeks at the end",
    # issue 11: failure demand, the profiling tool's accuracy, what families worry about
    "re_referrals": "Referrals of children coming back after leaving without an assessment",
    "pct_profiled_to_diagnostic": "Of the needs profiles completed, sent on to the diagnostic list (%)",
    "routed_away_would_be_diagnosed": ("Children an assessment would have diagnosed whom the "
                                       "profiling tool routed to needs-led support or signposted"),
    "assessments_no_condition": "Assessments completed that found no condition",
    "supported_without_diagnosis": "Children supported without a diagnosis by the end",
    "supported_without_diagnosis_weeks_to_support_p50": (
        "Typical time from first referral to support, children supported without a diagnosis "
        "(weeks, median)"),
    "would_be_diagnosed_unassessed": ("Children an assessment would diagnose who had no "
                                      "assessment by the end (waiting or left)"),
    "would_be_diagnosed_left_unassessed": ("Children an assessment would diagnose who left the "
                                           "pathway without one (routed away, needs met by "
                                           "support, withdrew, turned 18, not accepted; not "
                                           "those who moved away or went private, who may be "
                                           "assessed there)"),
    "turned_18_without_assessment": ("Children who turned 18 without an assessment: on the list, "
                                     "or after leaving with a needs-led plan, needs met by "
                                     "support, or signposting"),
    "turned_18_after_needs_led_exit": ("Children who turned 18 after leaving with a needs-led "
                                       "plan, needs met by support, or signposting, never "
                                       "assessed"),
    "children": "Children in the group (on the list at the start or referred in the horizon)",
    # monthly series
    "waiting_list": "Children on the diagnostic waiting list",
    "profiling_queue": "Children waiting for a needs profile",
    "vetting_queue": "Referrals waiting to be vetted",
    "waiting_total": "Children waiting at any stage",
    "list_wait_weeks_p50": "Typical time waited so far by the children waiting (weeks, median)",
    "list_wait_weeks_p92": "Long time waited so far by the children waiting (weeks, 92nd percentile)",
    "pct_waiting_over_13w": "Of the children waiting, waiting 13 weeks or more (%)",
    "waiting_over_52w": "Children on the diagnostic list who have waited a year or more",
    "assessments_started_monthly": "Assessments started per month",
    "list_wait_0_13w": "Waiting under 13 weeks",
    "list_wait_13_52w": "Waiting 13 weeks to 1 year",
    "list_wait_52_104w": "Waiting 1 to 2 years",
    "list_wait_104w_plus": "Waiting 2 years or more",
    # assumptions (scenario keys with a plausible range rather than a public figure)
    "arrivals.annual_growth": "Growth in referrals a year",
    "referral_mix.looked_after_or_cin": "Share of referrals who are looked-after or in need",
    "vetting.accept_probability": "Share of referrals accepted",
    "assessment.leave_weeks_per_year": "Clinicians' weeks of leave and training a year",
    "support.starts_per_month": "New support episodes a month",
    "support.uptake": "Families who take up support",
    "support.needs_met_per_year": "Families whose needs are met while supported (a year)",
    "support.cost_per_week": "Cost of a week of support for one family (£)",
    "leaving.withdrawal_per_year": "Families who withdraw from the list (a year)",
    "leaving.moved_per_year": "Families who move away (a year)",
    "leaving.private_per_year": "Families who go private or right-to-choose (a year)",
    "escalation.unsupported_per_year": "Crises a year for a child without support",
    "escalation.support_risk_ratio": "Crisis risk with support, relative to without",
    # costs, the parts of cost_total (model.costs states the rule)
    "cost_assessment_staff": "Cost of the assessment team's posts (£, whole posts)",
    "cost_outsourced": "Cost of outsourced assessments (£)",
    "cost_profiling": "Cost of the profiling practitioners' posts (£, whole posts)",
    "cost_needs_led_plans": "Cost of needs-led support plans (£)",
    "cost_support": "Cost of support while waiting (£, weeks of support given)",
    "profiling_accuracy.sensitivity": "Profiling tool: share of diagnosable children sent on",
    "profiling_accuracy.false_positive_rate": "Profiling tool: share of children with no condition sent on",
    "rereferral.after_needs_led_per_year": "Children referred again after a needs-led plan (a year)",
    "rereferral.after_signposted_per_year": "Children referred again after signposting (a year)",
    "rereferral.after_withdrawn_per_year": "Children referred again after withdrawing (a year)",
    "support.places": "Families supported at once (support places)",
    "support.episode_weeks": "Length of a support episode (weeks)",
    "profiling.cost_per_needs_led_plan": "Cost of a needs-led support plan (£)",
    "profiling.cost_per_wte_year": "Cost of a profiling practitioner a year (£)",
}

SHORT_LABELS: dict[str, str] = {
    "waiting_total_end": "Children waiting",
    "waiting_list_end": "On the diagnostic list",
    "list_wait_weeks_p50_end": "Waited so far on the diagnostic list (median)",
    "waiting_over_52w_end": "Waiting a year or more on the diagnostic list",
    "total_wait_weeks_p50_end": "Waited so far, any stage (median)",
    "waiting_total_over_13w_end": "Waiting 13 weeks+, any stage",
    "waiting_total_over_52w_end": "Waiting a year or more, any stage",
    "waiting_total_over_104w_end": "Waiting 2 years+, any stage",
    "profiling_wait_weeks_p50_end": "Waited so far for a profile (median)",
    "profiling_over_52w_end": "Waiting a year+ for a profile",
    "vetting_over_52w_end": "Waiting a year+ in vetting",
    "pct_waiting_over_52w_end": "Share waiting a year+",
    "pct_referrals_assessed_within_13w": "Assessed within 13 weeks",
    "time_to_first_support_weeks_p50": "Time to first support",
    "escalations": "Crises while waiting",
    "cost_total": "Total cost",
}
"""Card titles for the app's headline numbers (the full label is the card's help text)."""


def short_label(name: str) -> str:
    """A card title for a metric (its full label where it has no short one)."""
    return SHORT_LABELS.get(name, label(name))


HORIZON_TOTALS = {
    "referrals", "re_referrals", "assessments_started", "assessments_completed",
    "needs_led_exits", "signposted", "rejected", "withdrawals", "aged_out", "escalations",
    "outsourced_assessments", "profiles_completed", "support_starts", "follow_up_starts",
    "follow_up_hours", "follow_up_hours_unmet", "list_child_weeks", "routed_away_would_be_diagnosed",
    "assessments_no_condition", "supported_without_diagnosis",
    "would_be_diagnosed_left_unassessed", "turned_18_without_assessment",
    "turned_18_after_needs_led_exit",
    *(m for m in SCALAR_METRICS if m.startswith("cost") and m != "cost_per_assessment"),
}
"""Measures that add up over the whole projection (crises, costs, assessments done), not a
count at its end: each says its period ("Total cost, 60 months"), or a commissioner may read a
five-year cost as a year's."""


# -------------------------------------------------------------------------------------------------
# The period of a total


def period_words(scenario: Scenario) -> str:
    """The projection's period, as a total over it says it: "the 60 months to December 2030"."""
    months = scenario.simulation.horizon_months
    return f"the {months} month{'s' if months != 1 else ''} to {horizon_end_words(scenario)}"


def card_label(metric: str, scenario: Scenario, title: str | None = None) -> str:
    """A headline card's title: its short label (or ``title``, a table's or a chart's own short
    words for it), with the period for a total over the projection ("Total cost, 60 months",
    "Crises while waiting, 60 months"): the one way a short title says its period, so the
    cards, the differences chart and the by-group tables say it alike."""
    words = short_label(metric) if title is None else title
    if metric in HORIZON_TOTALS:
        months = scenario.simulation.horizon_months
        return f"{words}, {months} month{'s' if months != 1 else ''}"
    return words


def period_label(metric: str, scenario: Scenario | None) -> str:
    """A measure's full label for a table, with the period for a total over the projection
    ("Crises or school breakdowns while waiting (assumption-driven), over the 60 months to
    December 2030"); the label alone without a scenario."""
    if scenario is None or metric not in HORIZON_TOTALS:
        return label(metric)
    words = label(metric)
    if ": " in words:  # "Total cost (£) over the 60 months to ...: whole staff posts ..."
        head, rest = words.split(": ", 1)
        return f"{head} over {period_words(scenario)}: {rest}"
    return f"{words}, over {period_words(scenario)}"


def horizon_end_words(scenario: Scenario) -> str:
    """The horizon's last month in words ("December 2030"): the month of the charts' last
    point, which every "by the end of ..." sentence names.

    Not the day after the horizon: a 60-month projection from 1 January 2026 ends at the end
    of December 2030, and "by January 2031" would read as a month later. The months are those
    :func:`model.metrics.month_labels` gives the monthly series.
    """
    start = scenario.simulation.start_date
    month0 = start.year * 12 + start.month - 1 + scenario.simulation.horizon_months - 1
    return f"{dt.date(month0 // 12, month0 % 12 + 1, 1):%B %Y}"



UNDEFINED: dict[str, str] = {
    "time_to_first_support_weeks_p50": "fewer than half of new referrals reached support within "
                                       "the horizon",
    "referral_to_assessment_weeks_p50": "fewer than half of new referrals started assessment "
                                        "within the horizon",
    "list_wait_weeks_p50_end": "nobody was waiting at the end",
    "total_wait_weeks_p50_end": "nobody was waiting at any stage at the end",
    "profiling_wait_weeks_p50_end": "nobody was waiting for a needs profile at the end",
    "list_wait_weeks_p92_end": "nobody was waiting at the end",
    "list_wait_weeks_mean_end": "nobody was waiting at the end",
    "pct_waiting_over_13w_end": "nobody was waiting at the end",
    "pct_waiting_over_52w_end": "nobody was waiting at the end",
    "pct_waiting_over_104w_end": "nobody was waiting at the end",
    "pct_referrals_assessed_within_13w": "no new referrals, or the horizon is shorter than 13 weeks",
    "pct_referrals_assessed_within_52w": "no new referrals, or the horizon is shorter than 1 year",
    "pct_referrals_assessed_within_104w": "no new referrals, or the horizon is shorter than 2 years",
    "pct_supported_within_13w": "no new referrals, or the horizon is shorter than 13 weeks",
    "pct_supported_within_52w": "no new referrals, or the horizon is shorter than 1 year",
    "wait_of_those_assessed_weeks_p50": "no child started assessment",
    "wait_of_those_assessed_weeks_p90": "no child started assessment",
    "wait_of_those_assessed_weeks_mean": "no child started assessment",
    "pct_of_those_assessed_within_13w": "no child started assessment",
    "clinician_utilisation": "no clinical hours were available",
    "cost_per_assessment": "no assessment was completed",
    "pct_profiled_to_diagnostic": "no needs profile was completed (no profiling tool)",
    "supported_without_diagnosis_weeks_to_support_p50": "no child was supported without a diagnosis",
}
"""Why a metric can be undefined (null) in a replication, in words for the reader."""


def undefined_reason(name: str) -> str:
    """Why ``name`` has no value in a run ("not defined" if the reason is not recorded)."""
    return UNDEFINED.get(name, "not defined in this run")


HELP: dict[str, str] = {
    "WTE": "Whole-time equivalent: 1.0 WTE is one full-time post (37.5 hours a week).",
    "MDT": "Multi-disciplinary team: the paediatrician or psychiatrist, psychologist, speech and "
           "language therapist and others who assess a child together.",
    "needs_led": "Needs-led support: help matched to a child's needs, given without waiting for "
                 "or requiring a diagnosis.",
    "13_weeks": "NICE (QS51) says a diagnostic assessment should start within 3 months "
                "(13 weeks) of referral.",
    "profiling": "A profiling tool: a practitioner completes a needs profile with the family "
                 "(45-90 minutes) and decides what help comes next.",
    "uncertainty": "Some numbers in the model have no good public figure: how many families "
                   "withdraw, how often children reach crisis, how much support helps. With this "
                   "on, each projection draws each of them from its plausible range, centred "
                   "on the scenario's value, so the shading and intervals show what we don't "
                   "know as well as chance. Differences between scenarios stay sharp: both draw "
                   "the same values.",
    "sensitivity": "Moves each assumption to the low and then the high end of its plausible "
                   "range, one at a time, and shows how much the chosen number changes. Two "
                   "runs per assumption, so it takes a while.",
}

# Okabe-Ito: distinguishable with the common forms of colour blindness, and on a projector
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


PROFESSION_LABELS: dict[str, str] = {
    "utilisation": "Share of {whose} clinical hours for the service used (assessment and follow-up)",
    "follow_up_hours": "Clinical hours {who} gave to post-diagnostic follow-up",
}
"""Labels of the per-profession metrics ``{metric}_{profession}`` (``{who}``: "the
psychologists", ``{whose}``: "the psychologists'")."""


def profession_label(metric: str, profession: str) -> str:
    """The label of a per-profession metric, e.g. ``("utilisation", "psychologist")``."""
    who = f"the {profession.replace('_', ' ')}s"
    return PROFESSION_LABELS[metric].format(who=who, whose=who + "'")


def label(name: str, professions: tuple[str, ...] = ()) -> str:
    """The display label for a metric name (the name itself if it has none); a per-profession
    metric ``{metric}_{profession}`` is labelled when ``professions`` names its profession."""
    if name not in LABELS:
        for metric in PROFESSION_LABELS:
            for profession in professions:
                if name == f"{metric}_{profession}":
                    return profession_label(metric, profession)
    return LABELS.get(name, name.replace("_", " "))


FRACTION_METRICS = ("clinician_utilisation", "backlog_cleared")
"""Metrics whose values are shares from 0 to 1 (shown as percentages); per-profession
``utilisation_*`` columns are shares too (:func:`is_fraction`)."""


def is_fraction(metric: str) -> bool:
    """Whether ``metric``'s values are shares from 0 to 1 (shown as percentages: 0.85 is 85%)."""
    return metric in FRACTION_METRICS or metric.startswith("utilisation_")


def fmt_number(value: float | None) -> str:
    """A number as people read it, the same in the app, the command line and the checks:
    thousands separated, no decimals from 100, one from 10, two below; exactly nothing as "0"
    (not "0.00", which reads as a rounded small amount); undefined as a dash."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def fmt_signed(value: float | None) -> str:
    """:func:`fmt_number` with its sign (``+`` for a rise), for a difference."""
    text = fmt_number(value)
    return text if text == "-" or value is None or value <= 0 else "+" + text


def change_unit(name: str) -> str:
    """What a change in metric ``name`` is counted in: ``"£"`` (costs), ``"weeks"``,
    ``"points"`` (percentage points: a change in a percentage, ``pct_*``, or in a share from 0
    to 1) or ``""`` (a count of children or events, whose label says what it counts)."""
    if name.startswith("cost"):
        return "£"
    if name.startswith("pct_") or is_fraction(name):
        return "points"
    if "weeks" in name:
        return "weeks"
    return ""


def columns_that_fit(widths: Sequence[float], room: float, gap: float = 0.0,
                     most: int | None = None) -> int:
    """How many columns (up to ``most``) a legend of entries ``widths`` wide takes within
    ``room``, ``gap`` between columns: all in one row when they fit, else fewer, each entry
    whole. Entries fill the rows left to right, so column ``c`` holds entries ``c``,
    ``c + columns``, ... (the app's charts and the figures share this rule)."""
    for columns in range(min(most or len(widths), len(widths)), 1, -1):
        if sum(max(widths[c::columns]) for c in range(columns)) + gap * (columns - 1) <= room:
            return columns
    return 1


def in_points(name: str, value: float) -> float:
    """A change in metric ``name`` in percentage points: a change in a share from 0 to 1 times
    100 (0.031 is 3.1 points), a change in a percentage as it is."""
    return 100 * value if is_fraction(name) else value


POINTS_SHOWN_AS_ZERO = 0.05
"""Percentage points: a change smaller than this shows as zero at one decimal."""


def fmt_points(points: float, bound: bool = False) -> str:
    """A change in percentage points, as every table and chart writes it: signed, one decimal
    below 10 ("+3.1 points"), none from 10 ("-12 points"); one that rounds to zero is
    "no change". As one end of an interval (``bound``), one that rounds to zero keeps two
    decimals ("+0.03 points": "0" would read as an interval that reaches zero) or, if it still
    rounds to zero, is a zero without a sign ("0 points")."""
    if not math.isfinite(points):
        return "-"
    if abs(points) < POINTS_SHOWN_AS_ZERO:
        if not bound:
            return "no change"
        return f"{points:+.2f} points" if round(points, 2) != 0 else "0 points"
    return f"{points:+.1f} points" if abs(points) < 10 else f"{points:+.0f} points"


MONEY_FIGURES = 3
"""Significant figures of a projected sum of money: a projection's average is not known to the
pound, so "£849,912" is written "£850k" and "£1,399,721" "£1.40m"."""

_MONEY_UNITS = ((1e9, 1e9, "bn"), (1e6, 1e6, "m"), (1e4, 1e3, "k"))
"""From £10,000 a sum is written in thousands, from £1m in millions, from £1bn in billions;
below £10,000 in full ("£2,350")."""


def fmt_money(value: float | None, signed: bool = False, exact: bool = False) -> str:
    """Pounds as every table, card, chart and sentence writes them: to :data:`MONEY_FIGURES`
    significant figures ("£600", "£2,350", "£12.3k", "£850k", "£1.40m", "£12.3m"), with its
    sign in front when ``signed`` (a change: "+£850k", "-£1.40m"; zero is "£0", never "+£0").
    ``exact`` writes whole pounds ("£2,345"): for a price someone typed, not a projection.
    Undefined is a dash.

    >>> fmt_money(849_912), fmt_money(1_399_721, signed=True), fmt_money(-2_346)
    ('£850k', '+£1.40m', '-£2,350')
    """
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    size = float(round(abs(value)))
    if not exact and size >= 10 ** MONEY_FIGURES:
        size = float(f"{size:.{MONEY_FIGURES}g}")  # rounded first: £999,600 is "£1.00m"
    text = f"£{size:,.0f}"
    if not exact:
        for start, base, unit in _MONEY_UNITS:
            if size >= start:
                scaled = size / base
                decimals = max(0, MONEY_FIGURES - 1 - int(math.floor(math.log10(scaled))))
                text = f"£{scaled:,.{decimals}f}{unit}"
                break
    if size == 0:
        return text
    return ("-" if value < 0 else "+" if signed else "") + text


def fmt_change(name: str, value: float | None) -> str:
    """A change in metric ``name`` with its sign and unit: "+£1.40m", "-0.38 weeks",
    "+1.2 points" (a percentage or a share, as :func:`fmt_points` writes it for the tables too),
    "-26.2" (a count); undefined as a dash."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    unit = change_unit(name)
    if unit == "£":
        return fmt_money(value, signed=True)
    if unit == "points":
        return fmt_points(in_points(name, value))
    return fmt_signed(value) + (f" {unit}" if unit else "")


def _unitless(text: str, unit: str) -> str:
    return text.removesuffix(f" {unit}")


def fmt_change_interval(name: str, value: float, low: float, high: float) -> str:
    """A change and its 95% interval, the unit said once: "-0.38 weeks (-0.53 to -0.23)",
    "+1.2 points (+0.8 to +1.6)", "+£1.40m (+£1.39m to +£1.41m)"; only the change when the
    interval rounds to it (a cost that is the same in every projection) or is undefined."""
    change = fmt_change(name, value)
    ends = [fmt_change(name, x) for x in (low, high)]
    if "-" in ends or ends == [change, change]:
        return change
    unit = change_unit(name)
    if unit == "points":  # the ends as the tables write an interval's ends, the unit once
        ends = [_unitless(fmt_points(in_points(name, x), bound=True), unit) for x in (low, high)]
    elif unit == "weeks":  # the unit once, after the change; the interval in the same unit
        ends = [fmt_signed(x) for x in (low, high)]
    return f"{change} ({ends[0]} to {ends[1]})"
