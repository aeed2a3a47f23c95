"""The any-stage waits: every child waiting at the end (diagnostic list, needs profile, vetting),
measured from referral, so moving children off the list into a queue does not hide them."""

from __future__ import annotations

import math

import pytest

from model.metrics import replication_metrics
from model.pathway import simulate
from model.scenario import load_scenario


@pytest.fixture(scope="module", params=["default.toml", "needs_led_profiling.toml"])
def metrics(request):
    sc = load_scenario(f"scenarios/{request.param}").replace({"simulation.horizon_months": 36})
    return request.param, replication_metrics(simulate(sc, 0))


def test_counts_add_up_by_stage(metrics):
    _, m = metrics
    assert m["waiting_total_over_52w_end"] == (m["waiting_over_52w_end"] + m["profiling_over_52w_end"]
                                               + m["vetting_over_52w_end"])
    assert m["waiting_total_over_13w_end"] >= m["waiting_over_13w_end"]
    assert m["waiting_total_over_104w_end"] >= m["waiting_over_104w_end"]
    assert m["waiting_total_over_13w_end"] <= m["waiting_total_end"]


def test_profiling_stage_counted(metrics):
    name, m = metrics
    assert m["waiting_total_over_52w_end"] >= m["waiting_over_52w_end"]
    if name == "needs_led_profiling.toml":
        assert m["profiling_queue_end"] > 0
        assert not math.isnan(m["profiling_wait_weeks_p50_end"])
    if m["profiling_queue_end"] == 0 and m["vetting_end"] == 0:
        assert m["waiting_total_over_52w_end"] == m["waiting_over_52w_end"]
        assert m["total_wait_weeks_p50_end"] == m["list_wait_weeks_p50_end"]


def test_hand_built_list_gives_the_exact_median() -> None:
    from test_honest_waits import _still_list
    m = replication_metrics(simulate(_still_list([85, 90, 91, 97, 400]), 0))
    assert m["total_wait_weeks_p50_end"] == pytest.approx(91 / 7)
    assert m["waiting_total_over_52w_end"] == 1 == m["waiting_over_52w_end"]
    assert m["waiting_total_over_13w_end"] == 3


def test_a_slow_profiling_queue_holds_long_waiters_the_list_count_misses() -> None:
    # one practitioner profiles far fewer children than are referred: the queue grows old
    sc = load_scenario("scenarios/needs_led_profiling.toml").replace(
        {"simulation.horizon_months": 30, "profiling.practitioner_wte": 0.5})
    m = replication_metrics(simulate(sc, 0))
    assert m["profiling_over_52w_end"] > 0
    assert m["waiting_total_over_52w_end"] > m["waiting_over_52w_end"]
    assert m["waiting_total_over_52w_end"] == (m["waiting_over_52w_end"] + m["profiling_over_52w_end"]
                                               + m["vetting_over_52w_end"])
    assert m["profiling_wait_weeks_p50_end"] > 26


def test_the_year_or_more_card_says_how_many_wait_at_each_stage() -> None:
    from app import core
    from model.experiment import run_replications

    sc = load_scenario("scenarios/needs_led_profiling.toml").replace(
        {"simulation.horizon_months": 30, "profiling.practitioner_wte": 0.5})
    result = run_replications(sc, 2, seed=0, executor="serial")
    helped = core.card_help(result, "waiting_total_over_52w_end")
    listed = result.metric("waiting_over_52w_end")["mean"]
    profiled = result.metric("profiling_over_52w_end")["mean"]
    assert profiled > 0
    assert (f"about {core.about(listed)} on the diagnostic list for an assessment" in helped
            and f"{core.about(profiled)} waiting for a needs profile" in helped), helped
