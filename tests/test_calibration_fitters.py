"""Fitters on data drawn from known distributions: recovery within tolerances derived from
their standard errors, censoring handled (and shown to matter), the real England series."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calibration import ENGLAND_MONTHLY
from calibration.fitters import (
    ArrivalsFitter,
    CapacityFitter,
    DurationFitter,
    ExitHazardFitter,
    NotFittedError,
    kaplan_meier,
    parse_month_ranges,
)
from calibration.monthly import calibrate_monthly, read_monthly
from model.scenario import ENGLAND_SEASONALITY

ENGLAND = ENGLAND_MONTHLY


def se_from(ci: tuple[float, float]) -> float:
    return (ci[1] - ci[0]) / (2 * 1.96)


def poisson_series(level: float, growth: float, months: int, seed: int) -> pd.Series:
    index = pd.period_range("2020-01", periods=months, freq="M")
    years = (np.arange(months) + 0.5) / 12
    season = np.asarray(ENGLAND_SEASONALITY)[index.month - 1]
    # the model's convention: seasonality is a ratio of monthly counts (no days-in-month factor)
    mean = level * season * (1 + growth) ** years
    return pd.Series(np.random.default_rng(seed).poisson(mean), index=index)


def test_arrivals_recover_growth_and_seasonality_within_three_standard_errors() -> None:
    fitter = ArrivalsFitter().fit(poisson_series(400, 0.12, 48, seed=1))
    se = se_from(fitter.annual_growth_ci_)
    assert se < 0.03  # 48 months at ~400 a month pin growth to a few points
    assert abs(fitter.annual_growth_ - 0.12) < 3 * se
    truth = np.asarray(ENGLAND_SEASONALITY)
    se_season = (fitter.seasonality_ci_[:, 1] - fitter.seasonality_ci_[:, 0]) / (2 * 1.96)
    assert np.all(se_season < 0.06)
    assert np.all(np.abs(fitter.seasonality_ - truth) < 3.5 * se_season)
    assert fitter.trough_month_ == "aug"
    assert fitter.dispersion_ < 1.6  # Poisson data is not flagged overdispersed


def test_arrivals_intervals_cover_the_truth_at_about_their_level() -> None:
    covered = 0
    for seed in range(40):
        f = ArrivalsFitter().fit(poisson_series(150, 0.08, 36, seed=100 + seed))
        low, high = f.annual_growth_ci_
        covered += low <= 0.08 <= high
    assert covered >= 34  # 95% nominal: 34+ of 40 has probability ~0.97


def test_excluded_months_do_not_move_the_fit() -> None:
    counts = poisson_series(300, 0.1, 36, seed=4)
    spoiled = counts.copy()
    covid = parse_month_ranges("2021-03..2021-08")
    spoiled.loc[covid] = (spoiled.loc[covid] * 0.3).round()
    clean = ArrivalsFitter().fit(counts, exclude=covid)
    fitted = ArrivalsFitter().fit(spoiled, exclude="2021-03..2021-08")
    assert list(fitted.excluded_months_.astype(str)) == [str(m) for m in covid]
    assert fitted.annual_growth_ == pytest.approx(clean.annual_growth_, abs=1e-9)
    naive = ArrivalsFitter().fit(spoiled)
    truth = np.asarray(ENGLAND_SEASONALITY)
    spring = slice(2, 8)  # March..August, the months the trough spoils
    assert (np.abs(naive.seasonality_ - truth)[spring].mean()
            > 3 * np.abs(fitted.seasonality_ - truth)[spring].mean())
    assert naive.dispersion_ > 5 * fitted.dispersion_


def test_fitters_follow_the_lifelines_shape() -> None:
    fitter = ArrivalsFitter()
    with pytest.raises(NotFittedError, match="call fit"):
        _ = fitter.summary
    assert fitter.fit(poisson_series(100, 0.0, 24, seed=2)) is fitter
    assert list(fitter.summary.columns) == ["parameter", "estimate", "ci_low", "ci_high", "unit"]
    assert "fitted to 24 months" in repr(fitter)
    scenario_input = fitter.to_scenario("2022-01")
    assert sum(scenario_input["arrivals.seasonality"]) == pytest.approx(12.0, abs=1e-9)
    with pytest.raises(ValueError, match="YYYY-MM..YYYY-MM"):
        parse_month_ranges("March 2020")


def test_kaplan_meier_matches_scipy_ecdf() -> None:
    rng = np.random.default_rng(0)
    x, c = rng.gamma(2, 50, 400).round(), rng.uniform(0, 300, 400).round()
    d, e = np.minimum(x, c), x <= c
    ours = kaplan_meier(d, e)
    sf = stats.ecdf(stats.CensoredData.right_censored(d, ~e)).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy notes the interval is undefined where S = 1
        ci = sf.confidence_interval(0.95, method="log-log")
    t = ours["days"].to_numpy()
    np.testing.assert_allclose(ours["survival"], sf.evaluate(t), atol=1e-12)
    with np.errstate(invalid="ignore"):
        low, high = ci.low.evaluate(t), ci.high.evaluate(t)
    ok = np.isfinite(low)
    np.testing.assert_allclose(ours["ci_low"].to_numpy()[ok], low[ok], atol=1e-9)
    np.testing.assert_allclose(ours["ci_high"].to_numpy()[ok], high[ok], atol=1e-9)


def test_censored_durations_are_recovered_and_ignoring_censoring_is_worse() -> None:
    rng = np.random.default_rng(7)
    n, true_mean = 3000, 100.0
    x = rng.gamma(2.0, true_mean / 2.0, n)
    censor = rng.uniform(0, 250, n)  # about 40% still under way at the extract date
    d, e = np.minimum(x, censor), x <= censor
    assert 0.3 < 1 - e.mean() < 0.5
    fit = DurationFitter().fit(d, e)
    se = se_from(fit.mean_ci_)
    assert fit.family_ == "gamma"
    assert abs(fit.mean_ - true_mean) < 3 * se and se < 4
    true_median = stats.gamma(2.0, scale=true_mean / 2).median()
    assert abs(fit.km_median_ - true_median) < 0.08 * true_median
    # completed-only and "time so far as the wait" both bias low, by far more than the error
    biased_completed = abs(fit.naive_mean_ - true_mean)
    biased_so_far = abs(d.mean() - true_mean)
    assert biased_completed > 5 * abs(fit.mean_ - true_mean) and biased_completed > 20
    assert biased_so_far > 20


def test_delayed_entry_is_needed_for_children_referred_before_the_window() -> None:
    rng = np.random.default_rng(5)
    x = rng.lognormal(5, 0.6, 6000)
    entry = rng.uniform(0, 300, 6000)
    keep = x > entry  # only those still waiting when the window opened are in the data
    x, entry = x[keep], entry[keep]
    censor = entry + rng.uniform(0, 400, len(x))
    d, e = np.minimum(x, censor), x <= censor
    with_entry = DurationFitter().fit(d, e, entry)
    without = DurationFitter().fit(d, e)
    truth = math.exp(5)
    assert abs(with_entry.median_ - truth) < 3 * se_from(with_entry.median_ci_)
    assert abs(without.median_ - truth) > 0.2 * truth
    # the Kaplan-Meier curve too: a child is at risk only from their entry (ignoring it moves
    # the median from about 150 to about 210 days here)
    low, high = with_entry.km_median_ci_
    assert low <= truth <= high and high - low < 0.2 * truth
    assert abs(without.km_median_ - truth) > 0.2 * truth


def test_exit_hazards_with_censoring_and_delayed_entry() -> None:
    rng = np.random.default_rng(11)
    n = 5000
    rates = {"withdrawn": 0.10, "moved": 0.04, "private": 0.08}
    assess = rng.exponential(365.25 / 1.2, n)  # assessment competes
    times = {k: rng.exponential(365.25 / r, n) for k, r in rates.items()}
    entry = rng.uniform(0, 200, n)
    end_of_data = entry + rng.uniform(100, 900, n)
    all_times = np.column_stack([assess, *times.values()])
    first = all_times.argmin(axis=1)
    t = all_times.min(axis=1)
    keep = t > entry
    ended = t <= end_of_data
    causes = np.array(["", *rates])[first]
    cause = np.where(ended, causes, "")
    exit_ = np.minimum(t, end_of_data)
    fit = ExitHazardFitter().fit(entry[keep], exit_[keep], cause[keep], ~ended[keep])
    for k, r in rates.items():
        se = se_from(fit.hazards_ci_[k])
        assert abs(fit.hazards_[k] - r) < 3 * se, (k, fit.hazards_[k])
        assert fit.naive_hazards_[k] > fit.hazards_[k] * 1.05  # dropping the waiting overstates
    cif = fit.cumulative_incidence()
    assert np.all(np.diff(cif["withdrawn"]) >= 0) and cif.iloc[-1, 1:].sum() < 1


def test_capacity_change_points_found_and_not_invented() -> None:
    months = pd.period_range("2022-01", periods=36, freq="M")
    found = extra = false_alarms = covered = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        step = pd.Series(rng.poisson(np.where(np.arange(36) < 20, 80, 110)), index=months)
        fit = CapacityFitter().fit(step)
        at = [(c - months[0]).n for c in fit.change_points_]
        found += any(abs(c - 20) <= 1 for c in at)
        extra += sum(abs(c - 20) > 1 for c in at)
        covered += fit.segments_["ci_low"].iloc[0] <= 80 <= fit.segments_["ci_high"].iloc[0]
        flat = pd.Series(np.random.default_rng(1000 + seed).poisson(90, 36), index=months)
        false_alarms += len(CapacityFitter().fit(flat).change_points_)
    assert found == 20  # a 35% step is always found, within a month
    assert extra <= 2 and false_alarms <= 1  # ordinary noise rarely makes a change
    assert covered >= 17  # the level before the change is inside its 95% interval


def test_capacity_ignores_months_when_the_list_was_short() -> None:
    months = pd.period_range("2023-01", periods=12, freq="M")
    starts = pd.Series([50.0] * 12, index=months)
    starts.iloc[:3] = 10  # nobody to assess: throughput is demand, not capacity
    waiting = pd.Series([5, 8, 9] + [400] * 9, index=months)
    fit = CapacityFitter().fit(starts, waiting)
    assert len(fit.unconstrained_months_) == 3
    assert fit.assessments_per_month_ == pytest.approx(50.0)


def test_england_series_growth_august_trough_and_exclusions() -> None:
    series = read_monthly(ENGLAND, age_band="0-17")
    assert len(series.data) == 27
    result = calibrate_monthly(series, "2020-03..2020-08")
    a = result.arrivals
    excluded = [str(m) for m in a.excluded_months_]
    assert excluded == ["2020-03", "2020-04", "2020-05", "2020-06", "2020-07", "2020-08"]
    assert not set(excluded) & set(a.used_months_.astype(str))
    assert a.n_months_ == 21
    assert a.annual_growth_ci_[0] > 0  # growth is positive with 95% confidence
    assert a.trough_month_ == "aug"
    assert a.seasonality_ci_[7, 1] < 1.0  # August is below average with 95% confidence
    assert a.dispersion_ > 5  # real series are overdispersed; intervals are widened for it
    assert result.scenario.simulation.start_date.isoformat() == "2021-07-01"
    assert "backlog (no open_referrals)" in result.kept_defaults
    # the COVID months would drag growth and seasonality if kept
    kept = calibrate_monthly(series, None).arrivals
    assert kept.annual_growth_ != pytest.approx(a.annual_growth_, rel=0.05)
