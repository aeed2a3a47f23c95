"""Display labels for metric names: the one place where words for people live.

Code, files and tests use the stable metric names; the app, figures and reports show these.
"""

from __future__ import annotations

LABELS: dict[str, str] = {
    "referrals": "Referrals received",
    "waiting_list_end": "Children waiting for assessment at the end",
    "wait_to_assessment_weeks_p50": "Typical wait to assessment (weeks, median)",
    "wait_to_assessment_weeks_p90": "Long wait to assessment (weeks, 9 in 10 seen within)",
    "wait_to_assessment_weeks_mean": "Average wait to assessment (weeks)",
    "pct_assessed_within_13w": "Assessments started within 13 weeks (%)",
    "pct_waiting_over_52w_end": "Children waiting over 1 year at the end (%)",
    "pct_waiting_over_104w_end": "Children waiting over 2 years at the end (%)",
    "time_to_first_support_weeks_p50": "Typical time from referral to first support (weeks)",
    "assessments_completed": "Assessments completed",
    "needs_led_exits": "Children whose needs were met without a diagnostic assessment",
    "withdrawals": "Children who left the list (withdrew, moved, went private)",
    "aged_out": "Children who turned 18 while waiting",
    "escalations": "Crises or school breakdowns while waiting (assumption-driven)",
    "clinician_utilisation": "Share of clinical assessment hours used",
    "cost_total": "Total cost over the period (£)",
    "waiting_list_start": "Children waiting at the start",
    "assessments_started": "Assessments started",
    "outsourced_assessments": "Outsourced assessments",
    "profiles_completed": "Needs profiles completed",
    "support_starts": "Families starting support",
    "pct_supported_within_13w": "Families supported within 13 weeks of referral (%)",
    "cost_per_assessment": "Cost per completed assessment (£)",
    "backlog_cleared": "Chance nobody waits over 13 weeks at the end",
    # monthly series
    "waiting_list": "Children waiting for assessment",
    "profiling_queue": "Children waiting for a needs profile",
    "assessments_started_monthly": "Assessments started per month",
    "list_wait_0_13w": "Waiting under 13 weeks",
    "list_wait_13_52w": "Waiting 13 weeks to 1 year",
    "list_wait_52_104w": "Waiting 1 to 2 years",
    "list_wait_104w_plus": "Waiting over 2 years",
}

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
}

# Okabe-Ito: distinguishable with the common forms of colour blindness, and on a projector
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def label(name: str) -> str:
    """The display label for a metric name (the name itself if it has none)."""
    return LABELS.get(name, name.replace("_", " "))
