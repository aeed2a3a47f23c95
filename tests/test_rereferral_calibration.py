"""Failure demand in calibration: re-referral hazards fitted from a repeated ``child_id``, the
children who left before the start brought into the projection, and an extract without
``child_id`` switching re-referral off (its re-referrals are inside the fitted referral rate)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.calibrate import CalibrationOptions, calibrate_extract, later_referrals
from calibration.extract import read_extract
from calibration.rereferral import ReReferralFitter, at_risk_at, leavers
from calibration.synth import synthesise_extract
from model.experiment import run_replications
from model.scenario import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]

EXTRACT_DATE = "2025-12-31"
TRUE_RATES = {"needs_led": 0.15, "signposted": 0.25, "withdrawn": 0.20}


@pytest.fixture(scope="module")
def needs_led() -> Scenario:
    s = load_scenario(REPO / "scenarios" / "needs_led_profiling.toml")
    assert {r: getattr(s.rereferral, f"after_{r}_per_year") for r in TRUE_RATES} == TRUE_RATES
    return s


@pytest.fixture(scope="module")
def raw_extract(needs_led: Scenario) -> pd.DataFrame:
    """Three years of the needs-led service as an extract with child_id (the model's truth)."""
    return synthesise_extract(needs_led, EXTRACT_DATE, history_months=36)


@pytest.fixture(scope="module")
def extract(raw_extract: pd.DataFrame) -> pd.DataFrame:
    return read_extract(raw_extract, EXTRACT_DATE).data


def test_the_reader_pseudonymises_child_id_and_keeps_repeats_equal():
    raw = pd.DataFrame({"referral_id": ["a", "b", "c"], "child_id": ["K1", " K1", "N/A"],
                        "referral_date": ["2024-01-02", "2024-06-01", "2024-03-01"]})
    table = read_extract(raw, "2024-12-31")
    ids = table.data["child_id"].tolist()
    assert ids[0] == ids[1] and ids[0].startswith("p") and "K1" not in ids[0]
    assert ids[2] is None  # a blank id stays missing, not one shared child
    assert later_referrals(table.data).tolist() == [False, True, False]


def test_hazards_are_recovered_from_a_synthetic_extract(extract):
    # events over time at risk, censored at the extract date and the 18th birthday, and a
    # needs-led plan that also joined the list is not a departure: each true hazard is inside
    # its 95% interval (without the birthday censoring or that rule the needs-led one is not)
    fit = ReReferralFitter().fit(extract, EXTRACT_DATE)
    assert set(fit.rates_) == set(TRUE_RATES)
    for route, truth in TRUE_RATES.items():
        low, high = fit.intervals_[route]
        assert fit.events_[route] > 150
        assert low < truth < high, (route, fit.rates_[route], (low, high))


def test_children_at_risk_are_those_left_not_back_and_not_adult():
    rows = pd.DataFrame({
        "child_id": ["a", "a", "b", "c", "d", "e"],
        "referral_date": pd.to_datetime(["2023-01-01", "2024-03-01", "2023-02-01", "2023-03-01",
                                         "2023-04-01", "2023-05-01"]),
        "discharge_date": pd.to_datetime(["2023-06-01", None, "2023-08-01", "2024-02-01",
                                          "2023-09-01", "2024-05-01"]),
        "discharge_reason": ["signposted", None, "withdrawn", "needs_led", "moved", "withdrawn"],
        "age_at_referral": [10.0, 11.2, 17.5, 9.0, 8.0, 12.0],
    })
    # a came back before the moment; b turned 18 (Aug 2023); c is at risk; d moved (no route
    # back); e left after the moment
    assert at_risk_at(rows, "2024-04-30") == {"needs_led": 1, "signposted": 0, "withdrawn": 0}
    # before a came back, and before c left
    assert at_risk_at(rows, "2024-01-31") == {"needs_led": 0, "signposted": 1, "withdrawn": 0}
    assert len(leavers(rows)) == 4


def test_time_at_risk_ends_at_the_next_referral_the_extract_date_or_18():
    rows = pd.DataFrame({
        "child_id": ["a", "a", "b", "c"],
        "referral_date": ["2023-01-01", "2023-07-01", "2023-01-01", "2023-01-01"],
        "discharge_date": ["2023-03-01", None, "2023-03-01", "2023-03-01"],
        "discharge_reason": ["withdrawn", None, "withdrawn", "withdrawn"],
        "age_at_referral": [10.0, 10.5, 17.5, 9.0],
    })
    fit = ReReferralFitter().fit(rows, "2024-03-01")
    # a: 2023-03-01 to its return on 2023-07-01 (122 days, an event); b: to 18 on 2023-07-02
    # (half a year after referral: 123 days); c: to the extract date (366 days)
    assert fit.events_["withdrawn"] == 1
    assert fit.exposure_years_["withdrawn"] * 365.25 == pytest.approx(122 + 123 + 366, abs=1)
    ages_unknown = ReReferralFitter(transfer_age=None).fit(rows, "2024-03-01")
    assert ages_unknown.exposure_years_["withdrawn"] * 365.25 == pytest.approx(122 + 366 + 366,
                                                                                abs=1)


def test_children_at_risk_at_the_start_come_back_at_their_hazard():
    # nobody else in the run: every referral is one of the 4,000 signposted children coming
    # back, each within the year with probability 1 - exp(-rate x one year)
    rate, n = 0.25, 4000
    s = Scenario().replace({"simulation.horizon_months": 12, "simulation.start_date": "2026-01-01",
                            "arrivals.enabled": False, "backlog.enabled": False,
                            "rereferral.enabled": True,
                            "rereferral.after_signposted_per_year": rate,
                            "rereferral.at_risk_at_start.signposted": n})
    result = run_replications(s, replications=4, executor="serial", groups=False)
    per_rep = result.per_replication["re_referrals"].to_numpy()
    days = 365.0  # 2026 has 365 days
    p = 1 - math.exp(-rate * days / 365.25)
    assert (result.per_replication["referrals"].to_numpy() == per_rep).all()
    assert abs(per_rep.mean() - n * p) < 4 * math.sqrt(n * p * (1 - p) / len(per_rep))
    off = run_replications(s.replace({"rereferral.enabled": False}), replications=1,
                           executor="serial", groups=False)
    assert off.per_replication["referrals"].iloc[0] == 0


def test_an_empty_pool_leaves_every_number_as_it_was():
    s = Scenario().replace({"simulation.horizon_months": 12, "rereferral.enabled": True})
    pooled = s.replace({"rereferral.at_risk_at_start.withdrawn": 0})
    a = run_replications(s, replications=1, executor="serial", groups=False)
    b = run_replications(pooled, replications=1, executor="serial", groups=False)
    pd.testing.assert_frame_equal(a.per_replication, b.per_replication)


@pytest.mark.slow
def test_calibration_fits_failure_demand_with_child_id_and_switches_it_off_without(needs_led):
    # a service of half the size (fits of the waits dominate the time), two years of history
    needs_led = needs_led.replace({"arrivals.referrals_per_month": 125.0, "backlog.count": 3500,
                                   "profiling.practitioner_wte": 3.0})
    raw_extract = synthesise_extract(needs_led, EXTRACT_DATE, history_months=36)
    extract = read_extract(raw_extract, EXTRACT_DATE).data
    options = CalibrationOptions(tune=False, history_months=24, replay_months=12)
    table = read_extract(raw_extract, EXTRACT_DATE)
    with_ids = calibrate_extract(table, options, base=needs_led)
    rr = with_ids.scenario.rereferral
    assert rr.enabled
    for route, truth in TRUE_RATES.items():
        parameter = next(p for p in with_ids.parameters
                         if p.name == f"rereferral.after_{route}_per_year")
        assert parameter.ci_low < truth < parameter.ci_high
        assert getattr(rr, f"after_{route}_per_year") == pytest.approx(parameter.estimate)
    assert rr.at_risk_at_start.as_dict() == at_risk_at(extract, "2025-12-31")
    assert rr.at_risk_at_start.needs_led > 500
    # the arrivals are first referrals: the fitted level is the scenario's new referrals
    # (125 a month growing 8% a year from the history's start, so about 157 at its end)
    fresh = with_ids.scenario.arrivals.referrals_per_month

    without = calibrate_extract(read_extract(raw_extract.drop(columns="child_id"), EXTRACT_DATE),
                                options, base=needs_led)
    assert not without.scenario.rereferral.enabled  # the base had it on: not added twice
    assert any("child_id" in k and k.startswith("re-referral") for k in without.kept_defaults)
    total = without.scenario.arrivals.referrals_per_month
    assert 125 * 1.08 ** 2.5 < fresh < 125 * 1.08 ** 3.5 < total
    # and both projections expect about the same referrals in their first year: the one with
    # child_id through first referrals plus the returns of those at risk and those who leave
    first_year = {}
    for name, cal in (("ids", with_ids), ("no ids", without)):
        s = cal.scenario.replace({"simulation.horizon_months": 12})
        first_year[name] = run_replications(s, replications=3, executor="serial",
                                            groups=False).per_replication["referrals"].mean()
    assert first_year["ids"] == pytest.approx(first_year["no ids"], rel=0.06)
    assert np.isfinite(list(first_year.values())).all()


@pytest.mark.slow
def test_localities_are_read_fitted_and_carried_by_the_children_waiting():
    truth = {"North": 0.5, "South": 0.3, "East": 0.2}
    s = Scenario().replace({"localities.names": list(truth), "localities.shares": list(truth.values()),
                            "arrivals.referrals_per_month": 120.0, "backlog.count": 2000})
    raw = synthesise_extract(s, EXTRACT_DATE, history_months=24)
    raw["locality"] = raw["locality"].where(raw.index % 40 != 7, "  ")  # some blanks
    table = read_extract(raw, EXTRACT_DATE)
    assert table.data["locality"].isna().sum() == (raw.index % 40 == 7).sum()
    cal = calibrate_extract(table, CalibrationOptions(tune=False, history_months=18, replay_months=6),
                            base=Scenario())
    fitted = dict(zip(cal.scenario.localities.names, cal.scenario.localities.shares))
    assert set(fitted) == set(truth)
    for place, share in truth.items():
        p = next(p for p in cal.parameters if p.name == f"locality.{place}")
        assert p.ci_low < share < p.ci_high and fitted[place] == pytest.approx(p.estimate, abs=1e-6)
    waiting = cal.scenario.backlog.waiting
    assert waiting is not None and waiting.locality is not None
    assert set(waiting.locality) <= set(truth) and len(waiting.locality) == len(waiting.referral_date)
    # the calibrated scenario runs, and by locality
    out = run_replications(cal.scenario.replace({"simulation.horizon_months": 3}), replications=1,
                           executor="serial")
    assert set(out.groups.loc[out.groups["variable"] == "locality", "group"]) == set(truth)
