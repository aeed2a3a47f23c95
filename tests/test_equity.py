"""Issue 11: who benefits and who loses out.

Profiling accuracy, re-referral (failure demand), the families' concerns as numbers, the by-group
tables and their disclosure control.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.disclosure import (feasible_ranges, primary_mask, protect_line, protect_table,
                              round_to_base)
from model.equity import equity_comparison, equity_gaps, equity_table, suppression_mask
from model.experiment import run_replications
from model.metrics import (GROUP_COUNT_METRICS, GROUP_VARIABLES, SCALAR_METRICS, _event_counts,
                           child_times, cohort_metrics, group_metrics, replication_metrics)
from model.pathway import PathwayModel, simulate
from model.scenario import Scenario, ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent

# A small service with a profiling front door: about 80 referrals a month for two years
SMALL = {
    "simulation.horizon_months": 24,
    "arrivals.referrals_per_month": 80.0,
    "backlog.count": 300,
    "profiling.enabled": True,
    "profiling.practitioner_wte": 4.0,
}


def small(**extra: object) -> Scenario:
    return Scenario().replace({**SMALL, **extra})


def _events(result, event: str, detail: str | None = None) -> pd.DataFrame:
    ev = result.events
    rows = ev[ev["event"] == event]
    return rows if detail is None else rows[rows["detail"] == detail]


# -------------------------------------------------------------------------------------------------
# Profiling accuracy


def test_perfect_profiling_tool_sends_on_exactly_the_children_who_would_be_diagnosed():
    s = small(**{"profiling_accuracy.enabled": True, "profiling_accuracy.sensitivity": 1.0,
                 "profiling_accuracy.false_positive_rate": 0.0,
                 "profiling_accuracy.keep_routing_share": False})
    r = simulate(s, 0)
    latent = r.children["latent_outcome"].astype(str).to_numpy()
    profiled = _events(r, "profiled")
    assert len(profiled) > 500
    sent_on = profiled["detail"].astype(str).to_numpy() == "diagnostic"
    diagnosable = latent[profiled["child"].to_numpy()] != "none"
    assert np.array_equal(sent_on, diagnosable)
    m = replication_metrics(r)
    assert m["routed_away_would_be_diagnosed"] == 0
    # every assessment that ended found a condition, except families who asked anyway
    ends = _events(r, "assessment_end")
    none_found = ends[ends["detail"] == "none"]["child"].to_numpy()
    asked = set(profiled[profiled["detail"] != "diagnostic"]["child"])
    backlog = set(np.flatnonzero(r.children["backlog"].to_numpy()))
    assert set(none_found) <= asked | backlog
    assert m["assessments_no_condition"] == len(none_found)


def test_assessment_outcome_is_the_latent_outcome():
    # re-referrals too: a child coming back is the same child
    r = simulate(small(**{"profiling_accuracy.enabled": True, "rereferral.enabled": True,
                          "rereferral.after_needs_led_per_year": 2.0}), 1)
    assert r.children["rereferral"].sum() > 50
    ends = _events(r, "assessment_end")
    latent = r.children["latent_outcome"].astype(str).to_numpy()
    assert np.array_equal(ends["detail"].astype(str).to_numpy(), latent[ends["child"].to_numpy()])


def test_sensitivity_and_false_positive_rate_are_the_shares_sent_on():
    s = small(**{"profiling_accuracy.enabled": True, "profiling_accuracy.sensitivity": 0.6,
                 "profiling_accuracy.false_positive_rate": 0.2,
                 "profiling_accuracy.keep_routing_share": False,
                 "simulation.horizon_months": 36, "arrivals.referrals_per_month": 150.0,
                 "profiling.practitioner_wte": 10.0})
    r = simulate(s, 2)
    latent = r.children["latent_outcome"].astype(str).to_numpy()
    profiled = _events(r, "profiled")
    diag = latent[profiled["child"].to_numpy()] != "none"
    sent = profiled["detail"].astype(str).to_numpy() == "diagnostic"
    n_d, n_n = diag.sum(), (~diag).sum()
    # binomial 99.9% bounds
    for share, n, p in ((sent[diag].mean(), n_d, 0.6), (sent[~diag].mean(), n_n, 0.2)):
        assert abs(share - p) < 3.3 * math.sqrt(p * (1 - p) / n)
    # the rest split between needs-led and signposted in the routing's ratio (0.45 : 0.15)
    away = profiled["detail"].astype(str).to_numpy()[~sent]
    share_needs_led = (away == "needs_led").mean()
    assert abs(share_needs_led - 0.75) < 3.3 * math.sqrt(0.75 * 0.25 / len(away))
    m = replication_metrics(r)
    assert m["pct_profiled_to_diagnostic"] == pytest.approx(100 * sent.mean())


@pytest.mark.parametrize("sent_on", [0.25, 0.40, 0.70])
def test_keeping_the_routing_share_scales_sensitivity_and_false_positive_rate(sent_on):
    # the routing lever still sets how many go on; the tool's discrimination (ratio) is kept
    s = small(**{"profiling_accuracy.enabled": True, "profiling_accuracy.sensitivity": 0.6,
                 "profiling_accuracy.false_positive_rate": 0.2,
                 "profiling.routing": {"needs_led": (1 - sent_on) * 0.75, "diagnostic": sent_on,
                                       "signposted": (1 - sent_on) * 0.25},
                 "simulation.horizon_months": 36, "arrivals.referrals_per_month": 150.0,
                 "profiling.practitioner_wte": 10.0})
    r = simulate(s, 4)
    latent = r.children["latent_outcome"].astype(str).to_numpy()
    profiled = _events(r, "profiled")
    diag = latent[profiled["child"].to_numpy()] != "none"
    sent = profiled["detail"].astype(str).to_numpy() == "diagnostic"
    d = 1 - s.assessment.outcome.none
    sens, fpr = s.profiling_accuracy.send_on(sent_on, d)
    assert sens * d + fpr * (1 - d) == pytest.approx(sent_on)
    if sens < 1 and fpr < 1:
        assert sens / fpr == pytest.approx(3.0)
    for share, n, p in ((sent[diag].mean(), diag.sum(), sens), (sent[~diag].mean(), (~diag).sum(), fpr)):
        assert abs(share - p) < 3.3 * math.sqrt(p * (1 - p) / n) + 1e-9
    assert abs(100 * sent.mean() - 100 * sent_on) < 3.3 * 100 * math.sqrt(
        sent_on * (1 - sent_on) / len(sent)) + 1.0  # the mix of who is profiled varies a little


def test_shipped_needs_led_accuracy_keeps_the_routing_share_on_average():
    s = load_scenario(ROOT / "scenarios" / "needs_led_profiling.toml")
    acc, outcome = s.profiling_accuracy, s.assessment.outcome.as_dict()
    d = 1 - outcome["none"]
    expected = acc.sensitivity * d + acc.false_positive_rate * (1 - d)
    assert expected == pytest.approx(s.profiling.routing.diagnostic, abs=0.005)


def test_accuracy_off_routes_exactly_as_before():
    # the switch off is today's random routing: same log as a scenario that never names it
    base = small()
    off = small(**{"profiling_accuracy.sensitivity": 0.9})
    a, b = simulate(base, 0), simulate(off, 0)
    pd.testing.assert_frame_equal(a.events, b.events)


# -------------------------------------------------------------------------------------------------
# Re-referral


@pytest.mark.parametrize("path", ["default.toml", "needs_led_profiling.toml",
                                  "prioritise_vulnerable.toml"])
def test_rereferral_rate_zero_reproduces_todays_numbers(path):
    s = load_scenario(ROOT / "scenarios" / path, ["simulation.horizon_months=18",
                                                  "backlog.count=800",
                                                  "profiling_accuracy.enabled=false"])
    off = s.replace({"rereferral.enabled": False})
    zero = s.replace({"rereferral.enabled": True, "rereferral.after_needs_led_per_year": 0.0,
                      "rereferral.after_signposted_per_year": 0.0,
                      "rereferral.after_withdrawn_per_year": 0.0})
    a, b = simulate(off, 3), simulate(zero, 3)
    pd.testing.assert_frame_equal(a.events, b.events)
    ma, mb = replication_metrics(a), replication_metrics(b)
    assert ma == pytest.approx(mb, nan_ok=True)
    assert mb["re_referrals"] == 0


def test_rereferral_raises_referrals_and_the_list():
    base = small(**{"simulation.horizon_months": 36})
    on = base.replace({"rereferral.enabled": True, "rereferral.after_needs_led_per_year": 0.5,
                       "rereferral.after_signposted_per_year": 0.5})
    b = run_replications(base, 4, executor="serial", groups=False).per_replication
    o = run_replications(on, 4, executor="serial", groups=False).per_replication
    assert (o["re_referrals"] > 100).all() and (b["re_referrals"] == 0).all()
    assert (o["referrals"] - b["referrals"] == o["re_referrals"]).all()
    assert (o["waiting_list_end"] > b["waiting_list_end"]).all()
    assert (o["profiles_completed"] > b["profiles_completed"]).all()


NOBODY_ASSESSED = {f"assessment.professions.{k}.wte": 0.0 for k in range(3)}


@pytest.mark.parametrize("route", ["signposted", "withdrawn"])
def test_rereferral_hazard_is_recovered(route):
    # everyone profiled is signposted (or, with no profiling and nobody assessed, many withdraw)
    # and may come back at 0.5 a year: the rate estimated from the log (returns / time at risk,
    # censored at the horizon or the transfer age) recovers it, so a withdrawal is followed
    # from the day it happens, not from when a clinic reaches the child
    rate = 0.5
    if route == "signposted":
        settings = {"profiling.routing": {"needs_led": 0.0, "diagnostic": 0.0, "signposted": 1.0},
                    "profiling.diagnosis_requested_anyway": 0.0,
                    "profiling.practitioner_wte": 20.0,
                    "rereferral.after_signposted_per_year": rate}
    else:
        settings = {"profiling.enabled": False, "leaving.withdrawal_per_year": 1.0,
                    "support.enabled": False, "rereferral.after_withdrawn_per_year": rate,
                    **NOBODY_ASSESSED}
    s = small(**{"rereferral.enabled": True, "simulation.horizon_months": 48,
                 "backlog.count": 0, **settings})
    r = simulate(s, 0)
    ch = r.children
    exits = _events(r, "exit", route)
    who = exits["child"].to_numpy()
    left = exits["time_days"].to_numpy()
    birthday = (ch["referral_day"] + (18 - ch["age_at_referral"]) * 365.25).to_numpy()[who]
    # the next referral of the same child, if any
    again = ch[ch["rereferral"]]
    previous = {}
    for row in ch.itertuples():
        if row.rereferral:
            previous.setdefault(row.child_id, []).append(row.referral_day)
    back = np.array([min([d for d in previous.get(ch.at[i, "child_id"], []) if d > t],
                         default=np.inf) for i, t in zip(who, left)])
    end = np.minimum.reduce([back, np.full(len(who), r.horizon_days), birthday])
    returned = back <= end
    estimate = returned.sum() / (end - left).clip(min=0).sum() * 365.25
    assert returned.sum() == len(again) > 300
    assert abs(estimate - rate) < 3.3 * rate / math.sqrt(returned.sum())


def test_rereferral_keeps_the_child_and_comes_after_leaving():
    s = small(**{"rereferral.enabled": True, "rereferral.after_needs_led_per_year": 1.0,
                 "rereferral.after_signposted_per_year": 1.0,
                 "rereferral.after_withdrawn_per_year": 2.0, "leaving.withdrawal_per_year": 0.5})
    r = simulate(s, 0)
    ch = r.children
    again = ch[ch["rereferral"]]
    assert len(again) > 50
    first = ch.loc[again["child_id"].to_numpy()]
    for column in ("pathway", "priority", "looked_after_or_cin", "deprivation_quintile",
                   "latent_outcome"):
        assert (again[column].to_numpy() == first[column].to_numpy()).all(), column
    assert (again["age_at_referral"].to_numpy() > first["age_at_referral"].to_numpy()).all()
    assert (again["age_at_referral"] < 18).all()
    # each re-referral follows an exit of the same child (an earlier row) that can come back
    exits = _events(r, "exit")
    exits = exits[exits["detail"].isin(["needs_led", "signposted", "withdrawn"])]
    left = exits.groupby(ch["child_id"].to_numpy()[exits["child"].to_numpy()])["time_days"].min()
    came_back = again.groupby("child_id")["referral_day"].min()
    assert (came_back.to_numpy() > left.reindex(came_back.index).to_numpy()).all()
    assert {"withdrawn"} <= set(exits["detail"].astype(str))
    # in the arrivals series too
    from model.metrics import monthly_metrics

    monthly = monthly_metrics(r)
    series = monthly[monthly["metric"] == "re_referrals"]["value"].sum()
    assert series == replication_metrics(r)["re_referrals"] == len(again)


def test_rereferral_is_reproducible_serial_and_parallel():
    s = small(**{"rereferral.enabled": True, "simulation.horizon_months": 12})
    a = run_replications(s, 2, executor="serial")
    b = run_replications(s, 2, executor="local")
    pd.testing.assert_frame_equal(a.per_replication, b.per_replication)
    pd.testing.assert_frame_equal(a.groups, b.groups)


# -------------------------------------------------------------------------------------------------
# Families' concerns


def test_turning_18_without_an_assessment_counts_the_list_and_needs_led_exits():
    # nobody is assessed: every child who turns 18 in the horizon does so without one
    s = small(**{**NOBODY_ASSESSED, "leaving.withdrawal_per_year": 0.0,
                 "leaving.moved_per_year": 0.0, "leaving.private_per_year": 0.0})
    r = simulate(s, 0)
    m = replication_metrics(r)
    assert m["assessments_started"] == 0
    ch = r.children
    birthday = ch["referral_day"] + (18 - ch["age_at_referral"]) * 365.25
    t = child_times(r)
    reason = t.exit_reason
    seen = np.isfinite(t.referral)
    turns = (birthday <= r.horizon_days).to_numpy() & seen
    expected = turns & np.isin(reason, ["aged_out", "needs_led", "needs_met", "signposted"])
    assert m["turned_18_without_assessment"] == expected.sum() > 20
    assert m["turned_18_after_needs_led_exit"] == (
        turns & np.isin(reason, ["needs_led", "needs_met", "signposted"])).sum()
    assert m["aged_out"] == (reason == "aged_out").sum()
    latent = ch["latent_outcome"].astype(str).to_numpy()
    assert m["would_be_diagnosed_unassessed"] == (latent != "none").sum()


def test_supported_without_diagnosis_counts_support_and_no_diagnosis():
    r = simulate(small(), 0)
    t = child_times(r)
    latent = r.children["latent_outcome"].astype(str).to_numpy()
    diagnosed = (t.assessment_end <= r.horizon_days) & (latent != "none")
    supported = t.first_support <= r.horizon_days
    m = replication_metrics(r)
    assert m["supported_without_diagnosis"] == (supported & ~diagnosed).sum() > 100
    weeks = (t.first_support - t.referral)[supported & ~diagnosed] / 7
    assert m["supported_without_diagnosis_weeks_to_support_p50"] == pytest.approx(np.median(weeks))


# -------------------------------------------------------------------------------------------------
# By group


@pytest.fixture(scope="module")
def grouped():
    s = small(**{"rereferral.enabled": True, "profiling_accuracy.enabled": True,
                 "localities.names": ["North", "South", "East"],
                 "localities.shares": [0.5, 0.3, 0.2]})
    r = simulate(s, 0)
    return r, child_times(r), group_metrics(r)


def test_group_counts_add_up_to_the_totals(grouped):
    r, t, g = grouped
    m = replication_metrics(r, t)
    assert set(g["variable"]) == set(GROUP_VARIABLES)
    n_children = len(r.children)
    for variable, frame in g.groupby("variable"):
        sums = frame.groupby("metric")["value"].sum()
        assert sums["children"] == n_children, variable
        for metric in GROUP_COUNT_METRICS:
            if metric in m:
                assert sums[metric] == m[metric], (variable, metric)


def test_a_group_of_everyone_is_the_whole_run(grouped):
    r, t, _ = grouped
    m = replication_metrics(r, t)
    everyone = cohort_metrics(t, r.horizon_days, _event_counts(r), np.ones(len(r.children), bool))
    for name, value in everyone.items():
        if name in m:
            assert value == pytest.approx(m[name], nan_ok=True), name


def test_group_waits_are_the_waits_of_that_group(grouped):
    r, t, g = grouped
    horizon = r.horizon_days
    q1 = (r.children["deprivation_quintile"] == 1).to_numpy()
    on = (t.list_join <= horizon) & ~(t.list_leave <= horizon) & q1
    expected = np.median(horizon - t.referral[on]) / 7
    value = g[(g["variable"] == "deprivation_quintile") & (g["group"] == "1")
              & (g["metric"] == "list_wait_weeks_p50_end")]["value"].item()
    assert value == pytest.approx(expected)


@pytest.mark.slow
def test_priority_shortens_looked_after_waits_and_lengthens_routine_ones():
    sets = ["simulation.horizon_months=36", "simulation.replications=8"]
    base = load_scenario(ROOT / "scenarios" / "default.toml", sets)
    prio = load_scenario(ROOT / "scenarios" / "prioritise_vulnerable.toml", sets)
    b = run_replications(base, executor="local")
    p = run_replications(prio, executor="local")
    diff = equity_comparison(b.groups, p.groups, control=False).set_index(
        ["variable", "group", "metric"])
    lac = diff.loc[("looked_after_or_cin", "yes", "list_wait_weeks_p50_end")]
    assert lac["ci_high"] < 0 and lac["difference"] < -20  # weeks shorter, paired 95%
    routine = diff.loc[("priority", "routine", "list_wait_weeks_p50_end")]
    assert routine["ci_low"] > 0  # the routine list waits longer
    gap = diff.loc[("looked_after_or_cin", "gap: yes - no", "list_wait_weeks_p50_end")]
    assert gap["ci_high"] < 0


def test_equity_tables_have_intervals_and_gaps():
    s = small(**{"simulation.horizon_months": 12})
    e = run_replications(s, 3, executor="serial")
    table = equity_table(e.groups)
    row = table[(table["variable"] == "deprivation_quintile") & (table["group"] == "1")
                & (table["metric"] == "referrals")].iloc[0]
    assert row["ci_low"] <= row["mean"] <= row["ci_high"] and row["n"] == 3
    gaps = equity_gaps(e.groups, control=False)
    g = gaps[(gaps["variable"] == "deprivation_quintile") & (gaps["metric"] == "referrals")].iloc[0]
    wide = e.groups[(e.groups["variable"] == "deprivation_quintile")
                    & (e.groups["metric"] == "referrals")].pivot(
        index="replication", columns="group", values="value")
    assert g["difference"] == pytest.approx((wide["1"] - wide["5"]).mean())


# -------------------------------------------------------------------------------------------------
# Disclosure control


def test_primary_suppression_hides_every_count_from_1_to_4():
    values = np.array([0, 1, 2, 3, 4, 4.99, 5, 6, np.nan])
    assert primary_mask(values).tolist() == [False, True, True, True, True, True, False, False,
                                             False]


def test_a_back_calculable_cell_gets_a_complement():
    # row total published: 3 would be 25 - 10 - 12 without a second suppression
    line = np.array([3.0, 10.0, 12.0])
    mask = protect_line(line)
    assert mask.tolist() == [True, True, False]
    ranges = feasible_ranges(line[None, :], mask[None, :], row_totals=True, column_totals=False)
    assert (ranges[:, 1] - ranges[:, 0] >= 1).all()


def test_suppression_cannot_be_undone_from_the_margins():
    table = np.array([[2.0, 14.0, 9.0, 30.0],
                      [12.0, 1.0, 25.0, 40.0],
                      [7.0, 11.0, 3.0, 60.0],
                      [20.0, 22.0, 18.0, 4.0]])
    mask, row_hidden, col_hidden = protect_table(table)
    assert mask[primary_mask(table)].all()  # every count under 5 hidden
    # no line with a published total holds exactly one hidden cell
    for r in range(4):
        assert row_hidden[r] or mask[r].sum() != 1
    for c in range(4):
        assert col_hidden[c] or mask[:, c].sum() != 1
    # what an intruder can work out from the published cells and totals (linear programming):
    # every hidden cell can still take a range of values
    ranges = feasible_ranges(table, mask, total_mask=(row_hidden, col_hidden))
    assert (ranges[:, 1] - ranges[:, 0] >= 1).all()
    truth = table[mask]
    assert ((ranges[:, 0] <= truth) & (truth <= ranges[:, 1])).all()


def test_rounding_to_five_as_nhs_practice():
    assert round_to_base(np.array([0, 2.4, 2.5, 7.4, 7.5, 1234])).tolist() == [0, 0, 5, 5, 10, 1235]


def test_equity_export_suppresses_small_groups_and_rounds_counts():
    # a few looked-after children: their counts are small
    s = small(**{"simulation.horizon_months": 6, "referral_mix.looked_after_or_cin": 0.01,
                 "backlog.count": 100})
    e = run_replications(s, 2, executor="serial")
    raw = equity_table(e.groups, control=False)
    published = equity_table(e.groups)
    small_count = (raw["metric"].isin(GROUP_COUNT_METRICS) & (raw["mean"] > 0)
                   & (raw["mean"] < 5))
    assert small_count.any()
    assert published.loc[small_count, "mean"].isna().all()
    assert published.loc[small_count, "suppressed"].all()
    counts = published[published["metric"].isin(GROUP_COUNT_METRICS) & ~published["suppressed"]]
    assert ((counts["mean"] % 5) == 0).all()
    # no variable's counts leave exactly one group hidden (the total would give it away)
    mask = suppression_mask(raw)
    for (variable, metric), frame in raw.assign(hidden=mask).groupby(["variable", "metric"]):
        if metric in GROUP_COUNT_METRICS:
            assert frame["hidden"].sum() != 1, (variable, metric)
    # a wait over fewer than 5 children is not published either
    lac = published[(published["variable"] == "looked_after_or_cin") & (published["group"] == "yes")]
    base = raw[(raw["variable"] == "looked_after_or_cin") & (raw["group"] == "yes")
               & (raw["metric"] == "waiting_list_end")]["mean"].item()
    if base < 5:
        assert lac[lac["metric"] == "list_wait_weeks_p50_end"]["suppressed"].all()


# -------------------------------------------------------------------------------------------------
# Scenario keys and the command line


def test_localities_are_drawn_from_their_shares_and_validated():
    s = small(**{"localities.names": ["North", "South"], "localities.shares": [0.8, 0.2]})
    r = simulate(s, 0)
    share = (r.children["locality"] == "North").mean()
    assert 0.75 < share < 0.85
    with pytest.raises(ScenarioError, match="localities"):
        small(**{"localities.names": ["North"], "localities.shares": [0.5, 0.5]})
    with pytest.raises(ScenarioError, match="sum to 1"):
        small(**{"localities.names": ["North", "South"], "localities.shares": [0.5, 0.6]})


def test_backlog_table_locality_column(tmp_path):
    table = tmp_path / "waiting.csv"
    table.write_text("referral_date,locality\n2025-01-01,North\n2025-02-01,South\n"
                     "2025-03-01,West\n", encoding="utf-8")
    s = Scenario().replace({"backlog.table": str(table), "localities.names": ["North", "South"],
                            "localities.shares": [0.5, 0.5], "simulation.horizon_months": 2})
    with pytest.raises(ScenarioError, match="row 4, column locality"):
        PathwayModel(s, 0)


def test_run_by_group_prints_and_writes_equity(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "model.cli", "run", "scenarios/prioritise_vulnerable.toml",
         "--replications", "2", "--months", "3", "--set", "backlog.count=500",
         "--by", "looked_after", "--by", "quintile",
         "--out", str(out), "--no-figures", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "By looked-after child or child in need" in proc.stdout
    assert "Gap, most minus least deprived" in proc.stdout
    # the diagnostic list's year-or-more count and the any-stage one, each row saying which
    rows = [line.split("  ")[0].strip() for line in proc.stdout.splitlines()]
    for title in ("Waiting a year+, diagnostic list", "Waiting a year+, any stage",
                  "Waited so far on the list, median (wks)", "Waited so far, any stage, median (wks)",
                  "On the diagnostic list at the end", "Waiting at any stage at the end"):
        assert rows.count(title) >= 2, title  # in both tables (the gaps have the medians too)
    equity = pd.read_csv(out / "equity.csv", dtype={"group": str})
    assert {"variable", "group", "metric", "mean", "ci_low", "ci_high", "suppressed"} <= set(equity)
    assert (out / "equity_gaps.csv").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "model.cli", "run", "scenarios/default.toml", "--by", "colour",
         "--out", str(tmp_path / "bad"), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not a group variable" in bad.stderr


def test_every_new_metric_has_a_label():
    from model.labels import LABELS

    for name in SCALAR_METRICS[-10:]:
        assert name in LABELS, name


def test_calibration_recovers_the_rereferral_rate_from_repeated_child_ids():
    from calibration.rereferral import ReReferralFitter

    rate = 0.6
    s = small(**{"profiling.routing": {"needs_led": 0.5, "diagnostic": 0.0, "signposted": 0.5},
                 "profiling.diagnosis_requested_anyway": 0.0, "profiling.practitioner_wte": 20.0,
                 "referral_mix.age_at_referral_years": {"kind": "fixed", "value": 6.0},
                 "rereferral.enabled": True, "rereferral.after_needs_led_per_year": rate,
                 "rereferral.after_signposted_per_year": rate / 2,
                 "simulation.horizon_months": 48, "backlog.count": 0})
    r = simulate(s, 0)
    t = child_times(r)
    start = pd.Timestamp(s.simulation.start_date)
    prof = _events(r, "profiled")
    triage_day = np.full(len(r.children), np.nan)
    triage_day[prof["child"].to_numpy()] = prof["time_days"].to_numpy()
    outcome = np.full(len(r.children), None, dtype=object)
    outcome[prof["child"].to_numpy()] = prof["detail"].astype(str).to_numpy()
    extract = pd.DataFrame({
        "child_id": r.children["child_id"].astype(str),
        "referral_date": start + pd.to_timedelta(t.referral, unit="D"),
        "triage_date": start + pd.to_timedelta(triage_day, unit="D"),
        "triage_outcome": outcome,
    })
    end = start + pd.Timedelta(days=r.horizon_days)
    fit = ReReferralFitter().fit(extract, extract_date=end)
    for route, truth in (("needs_led", rate), ("signposted", rate / 2)):
        low, high = fit.intervals_[route]
        # dates are whole days in an extract: allow a day's rounding on top of the interval
        assert low * 0.98 < truth < high * 1.02, (route, fit.rates_[route], low, high)
    assert fit.overrides()["rereferral.after_needs_led_per_year"] == pytest.approx(
        fit.rates_["needs_led"])
    no_ids = ReReferralFitter().fit(extract.drop(columns="child_id"), extract_date=end)
    assert no_ids.overrides() == {} and "kept" in no_ids.notes_[0]


def test_equity_comparison_has_only_real_groups():
    s = small(**{"simulation.horizon_months": 6})
    a = run_replications(s, 2, executor="serial")
    b = run_replications(s.replace({"assessment.professions.0.wte": 6.0}), 2, executor="serial")
    diff = equity_comparison(a.groups, b.groups)
    lac = diff[diff["variable"] == "looked_after_or_cin"]["group"].unique().tolist()
    assert lac == ["yes", "no", "gap: yes - no"]
