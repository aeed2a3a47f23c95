"""Intervals nobody can be in, and a median that few projections reach, are not shown as if they
were the service's: an interval is cut to the values its metric can take, and a median wait
reached in fewer than half of the projections is "not reached in most" on its card."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from app import core
from model.equity import equity_table
from model.experiment import ExperimentResult
from model.metrics import mean_ci, summarise
from model.scenario import Scenario

NAN = math.nan
SUPPORT = "time_to_first_support_weeks_p50"


def result_of(values: dict[str, list[float]]) -> ExperimentResult:
    per_rep = pd.DataFrame({"replication": range(len(next(iter(values.values())))), **values})
    return ExperimentResult(Scenario(), 1, per_rep,
                            pd.DataFrame(columns=["replication", "month", "metric", "value"]))


def test_an_interval_is_cut_to_the_values_its_metric_can_take() -> None:
    # what a new user saw: "-55 to 117 weeks", "97% to 101%", "624 (-18 to 1,266)" children
    per_rep = pd.DataFrame({SUPPORT: [10.7, 69.7, 10.6] + [NAN] * 7,
                            "pct_waiting_over_13w_end": [100.0, 96.0, 100.0, 100.0, 99.5, 100.0,
                                                         100.0, 97.0, 100.0, 100.0],
                            "profiling_over_52w_end": [0.0, 1400.0, 0.0, 1200.0, 0.0, 1500.0,
                                                       0.0, 1300.0, 0.0, 840.0],
                            "clinician_utilisation": [1.0, 0.99, 1.0]  + [1.0] * 7})
    table = summarise(per_rep, tuple(per_rep.columns)).set_index("metric")
    for metric, (lowest, highest) in {SUPPORT: (0, math.inf), "pct_waiting_over_13w_end": (0, 100),
                                      "profiling_over_52w_end": (0, math.inf),
                                      "clinician_utilisation": (0, 1)}.items():
        mean, low, high, n = mean_ci(per_rep[metric].to_numpy())
        row = table.loc[metric]
        assert row["mean"] == mean and row["n"] == n  # the average itself is untouched
        assert row["ci_low"] == max(low, lowest) and row["ci_high"] == min(high, highest)
        assert lowest <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= highest
    assert mean_ci(per_rep[SUPPORT].to_numpy())[1] < 0  # the t-interval itself ran below zero
    assert table.at[SUPPORT, "ci_low"] == 0.0
    assert mean_ci(per_rep["pct_waiting_over_13w_end"].to_numpy())[2] > 100
    assert table.at["pct_waiting_over_13w_end", "ci_high"] == 100.0


def test_a_small_group_count_has_no_negative_lower_end() -> None:
    rows = [{"replication": k, "variable": "priority", "group": "urgent",
             "metric": "waiting_total_over_52w_end", "value": v}
            for k, v in enumerate([0.0, 40.0, 0.0, 35.0, 0.0])]
    rows += [{"replication": k, "variable": "priority", "group": "routine",
              "metric": "waiting_total_over_52w_end", "value": 500.0 + k} for k in range(5)]
    table = equity_table(pd.DataFrame(rows), control=False).set_index("group")
    assert mean_ci(np.array([0.0, 40.0, 0.0, 35.0, 0.0]))[1] < 0
    assert table.at["urgent", "ci_low"] == 0.0
    assert table.at["urgent", "ci_high"] > table.at["urgent", "mean"] > 0


def test_a_median_few_projections_reach_is_not_reached_in_most_on_its_card() -> None:
    few = result_of({SUPPORT: [10.7, 69.7, 10.6] + [NAN] * 7})
    assert core.card_value(few, SUPPORT) == "not reached in most"
    help_words = core.card_help(few, SUPPORT)
    assert "the average of the 3 of 10 projections where it is defined, 30 weeks" in help_words
    assert "the average of 10 projections" not in help_words  # it is not
    assert "Not defined in 7 of 10 projections" in help_words
    most = result_of({SUPPORT: [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, NAN, NAN, 40.0, 50.0]})
    assert core.card_value(most, SUPPORT) == core.fmt_metric(SUPPORT, 37.5)
    every = result_of({SUPPORT: [10.0, 20.0]})
    assert core.card_value(every, SUPPORT) == core.fmt_metric(SUPPORT, 15.0)
    assert core.card_help(every, SUPPORT).startswith(f"{core.label(SUPPORT)}: the average of 2 ")
    never = result_of({SUPPORT: [NAN, NAN]})
    assert core.card_value(never, SUPPORT) == "not reached"


def test_children_who_moved_away_are_not_among_those_said_to_have_left_without_an_assessment():
    """The families' sentence and the label say who "left without one" counts; a child who
    moved away or went private may be assessed there and is not among them."""
    from app import equity
    from model.experiment import run_replications
    from model.labels import label

    moving = Scenario().replace({"simulation.horizon_months": 12, "backlog.count": 400,
                                 "leaving.withdrawal_per_year": 0.0, "leaving.moved_per_year": 2.0,
                                 "leaving.private_per_year": 0.0, "vetting.enabled": False,
                                 "rereferral.enabled": False})
    result = run_replications(moving, 2, 3, "serial")
    per_rep = result.per_replication
    assert (per_rep["withdrawals"] > 100).all()  # plenty left the list: they moved away
    assert (per_rep["would_be_diagnosed_unassessed"] > 100).all()
    # left without one: only those who turned 18 or whose needs support met (nobody withdrew,
    # was not accepted or was routed away), not the 1,700 who moved
    left = per_rep["would_be_diagnosed_left_unassessed"]
    assert (left <= per_rep["aged_out"] + per_rep["needs_led_exits"]).all()
    assert (left > 0).all() and (left < 0.1 * per_rep["withdrawals"]).all()
    assert "moved away or went private" in label("would_be_diagnosed_left_unassessed")
    assert any("moved away or went private" in line for line in equity.family_sentences(result))
