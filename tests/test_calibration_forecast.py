"""The referral forecast (issue 9, item 5): it beats the simple methods, its prediction intervals
cover held-out months at their nominal rate, a reporting break is recovered, and the scenario
expects the forecast's mean.

Planted errors and the test that caught each are listed in the issue 9 forecast note.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration import ENGLAND_MONTHLY
from calibration.fitters import ArrivalsFitter
from calibration.forecast import backtest_referrals, synthetic_referrals
from calibration.monthly import calibrate_monthly, read_monthly
from ndpath.cli import main
from model.pathway import expected_monthly_referrals
from model.scenario import ENGLAND_SEASONALITY

COVID = "2020-03..2020-08"


def seasonal_series(level: float, growth: float, months: int, seed: int, alpha: float = 0.0,
                    start: str = "2020-01", step: tuple[str, float] | None = None) -> pd.Series:
    """Counts from a known process: the model's convention (England profile, continuous trend),
    Poisson (``alpha`` 0) or negative binomial NB2 (variance mean + alpha mean^2), with an
    optional step ``(first month, ratio)``."""
    index = pd.period_range(start, periods=months, freq="M")
    mean = (level * np.asarray(ENGLAND_SEASONALITY)[index.month - 1]
            * (1 + growth) ** ((np.arange(months) + 0.5) / 12))
    if step is not None:
        mean = mean * np.where(index >= pd.Period(step[0], freq="M"), step[1], 1.0)
    rng = np.random.default_rng(seed)
    if alpha == 0:
        return pd.Series(rng.poisson(mean), index=index)
    n = 1 / alpha
    return pd.Series(rng.negative_binomial(n, n / (n + mean)), index=index)


def england(age_band: str | None = "0-17") -> pd.Series:
    return read_monthly(ENGLAND_MONTHLY, age_band=age_band).data["new_referrals"]


@pytest.mark.parametrize("age_band", ["0-17", None])
def test_england_forecast_beats_every_simple_method_on_the_last_six_months(
        age_band: str | None) -> None:
    """Hold out 2021-01..2021-06; fit 2019-04..2020-12 less the COVID months 2020-03..08.

    The history is 21 months, so the forecast says it fell back to a smooth (Fourier)
    seasonality; the counts are far more variable than Poisson, so it is negative binomial.
    Measured: model 15.6% (0-17) / 23.6% (all ages) against seasonal naive 33.1 / 35.3%,
    straight-line 26.5 / 27.5%, 12-month mean 27.3 / 28.5%.
    """
    bt = backtest_referrals(england(age_band), 6, exclude=COVID)
    assert bt.cut == pd.Period("2020-12", freq="M")
    assert list(bt.comparison["month"]) == [str(m) for m in
                                            pd.period_range("2021-01", "2021-06", freq="M")]
    assert bt.fitter.season_mode_ == "fourier" and "short" in bt.fitter.season_note_
    assert bt.fitter.family_ == "negative_binomial"
    for method in ("seasonal_naive", "linear_trend", "flow_balance"):
        assert bt.error("model") < bt.error(method), (method, bt.errors)
    assert bt.error("model") < 0.75 * bt.error("seasonal_naive")
    assert 0 <= bt.coverage <= 1 and bt.verdict().startswith("The referral forecast beat")


def test_synthetic_service_forecast_beats_seasonal_naive() -> None:
    """The shipped services' referrals (the model's own arrival process: 250 a month, +8% a year,
    the England profile; all four services share it), 48 months fitted, 12 held out, 8 seeds.

    Seasonal naive carries one month's Poisson noise twice over (its own and the held-out
    month's) plus a year's growth; the model's error is about one month's noise. Measured mean
    errors 5% against 9%; the model wins on at least 6 of 8 seeds, and on the mean."""
    model, naive, wins = [], [], 0
    for seed in range(8):
        bt = backtest_referrals(synthetic_referrals("status_quo_capacity_limited", 60, seed=seed),
                                12)
        assert bt.fitter.season_mode_ == "months"
        model.append(bt.error("model"))
        naive.append(bt.error("seasonal_naive"))
        wins += bt.error("model") < min(bt.error(m) for m in
                                        ("seasonal_naive", "linear_trend", "flow_balance"))
    assert wins >= 6, (model, naive)
    assert np.mean(model) < 0.8 * np.mean(naive), (model, naive)


@pytest.mark.parametrize("alpha, series", [(0.02, 200), (0.0, 100)],
                         ids=["negative_binomial", "poisson"])
def test_ninety_percent_intervals_cover_about_ninety_percent_of_held_out_months(
        alpha: float, series: int) -> None:
    """Many series from a known seasonal process (300 a month, +8%/yr, England profile), 48
    months fitted, 12 forecast: the share of held-out months inside the 90% interval.

    Tolerance: 3 binomial standard errors counting each *series* as one trial (its 12 months
    share one fit, so they are not independent; this bound is conservative):
    3 sqrt(0.9 x 0.1 / 200) = 6.4 points (9.0 with 100 series). Measured 89.4% (NB, alpha 0.02,
    sd 15% of the mean against Poisson's 6%) and 91.3% (Poisson). Poisson intervals on the
    negative binomial data covered 62% (50 series); alpha from the moment equation without the
    coefficients' degrees of freedom, or the season shifted a month in the forecast, fail too.
    """
    covered, families = [], set()
    for seed in range(series):
        counts = seasonal_series(300, 0.08, 60, seed=5000 + seed, alpha=alpha)
        fitter = ArrivalsFitter().fit(counts.iloc[:48])
        families.add(fitter.family_)
        forecast = fitter.forecast(counts.index[48:], level=0.9)
        y = counts.iloc[48:].to_numpy()
        covered.append(np.mean((forecast["low"].to_numpy() <= y) & (y <= forecast["high"].to_numpy())))
    tolerance = 3 * math.sqrt(0.9 * 0.1 / series)
    assert abs(np.mean(covered) - 0.9) < tolerance, np.mean(covered)
    if alpha > 0:
        assert families == {"negative_binomial"}


def test_overdispersed_counts_are_fitted_negative_binomial_and_poisson_counts_are_not() -> None:
    """The family follows the data: NB2 with alpha near the truth; Poisson stays Poisson."""
    nb = ArrivalsFitter().fit(seasonal_series(300, 0.08, 60, seed=3, alpha=0.02))
    assert nb.family_ == "negative_binomial"
    assert 0.01 < nb.nb_alpha_ < 0.04
    assert "negative_binomial_alpha" in set(nb.summary["parameter"])
    poisson = ArrivalsFitter().fit(seasonal_series(300, 0.08, 60, seed=3))
    assert poisson.family_ == "poisson" and poisson.nb_alpha_ == 0
    # the NB interval is wider: it is the count's spread, not the mean's
    months = pd.period_range("2025-01", periods=12, freq="M")
    width = lambda f: (f.forecast(months)["high"] - f.forecast(months)["low"]).mean()  # noqa: E731
    assert width(nb) > 1.8 * width(poisson)


def test_a_planted_reporting_break_is_recovered_and_carried_into_the_forecast() -> None:
    """A step x1.30 from 2022-12 (more providers submitting) in a 48-month Poisson series.

    With the break named, its ratio is recovered within its 95% interval (about +-5%), growth
    within 3 points of the truth, and the second year ahead within 5% of the true mean.
    Ignoring the break, the trend takes up the step: growth about +17% a year against the true
    8%, and the second year ahead over 8% high.
    """
    truth_ratio, growth = 1.30, 0.08
    counts = seasonal_series(400, growth, 48, seed=11, step=("2022-12", truth_ratio))
    year_two = pd.period_range("2025-01", periods=12, freq="M")
    t = np.arange(60, 72)
    true_mean = (400 * np.asarray(ENGLAND_SEASONALITY)[year_two.month - 1] * truth_ratio
                 * (1 + growth) ** ((t + 0.5) / 12))
    fitter = ArrivalsFitter().fit(counts, break_month="2022-12")
    low, high = fitter.break_ratio_ci_
    assert low <= truth_ratio <= high and high - low < 0.2, fitter.break_ratio_ci_
    assert abs(fitter.annual_growth_ - growth) < 0.03
    error = fitter.predict(year_two).to_numpy() / true_mean - 1
    assert abs(error.mean()) < 0.05, error
    ignored = ArrivalsFitter().fit(counts)
    assert ignored.annual_growth_ > growth + 0.06
    assert ignored.predict(year_two).to_numpy().mean() / true_mean.mean() - 1 > 0.08
    assert "reporting_break (2022-12)" in set(fitter.summary["parameter"])
    with pytest.raises(ValueError, match="at least 3 fitted months on each side"):
        ArrivalsFitter().fit(counts, break_month="2023-11")


def test_the_scenario_expects_the_forecast_mean_after_a_break(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """calibrate --monthly with --break-month: the calibrated scenario's expected referrals are
    the forecast's mean month by month (within 0.01%, the rounding of the written profile),
    at the level after the break; the CLI names a bad break month and exits 2."""
    counts = seasonal_series(400, 0.08, 48, seed=12, step=("2023-06", 1.3))
    frame = pd.DataFrame({"month": counts.index.astype(str), "new_referrals": counts.to_numpy()})
    path = tmp_path / "series.csv"
    frame.to_csv(path, index=False)
    result = calibrate_monthly(read_monthly(path), break_month="2023-06")
    expected = expected_monthly_referrals(result.scenario.replace({"simulation.horizon_months": 24}))
    forecast = result.arrivals.predict(expected.index)
    assert (expected / forecast - 1).abs().max() < 1e-4
    assert any("Reporting break from 2023-06" in n for n in result.notes)
    out = tmp_path / "out"
    assert main(["calibrate", "--monthly", str(path), "--break-month", "2023-06",
                 "--out", str(out)]) == 0
    assert "Reporting break from 2023-06" in capsys.readouterr().out
    fit = json.loads((out / "fit.json").read_text())
    assert fit["parameters"]["reporting_break (2023-06)"]["estimate"] == pytest.approx(
        result.arrivals.break_ratio_, rel=1e-6)
    assert main(["calibrate", "--monthly", str(path), "--break-month", "Dec 2025",
                 "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "--break-month" in err and "YYYY-MM" in err and "Traceback" not in err
    assert main(["calibrate", "--monthly", str(path), "--break-month", "2024-11",
                 "--out", str(tmp_path / "late")]) == 2
    assert "at least 3 fitted months on each side" in capsys.readouterr().err


def test_a_short_history_falls_back_and_says_so() -> None:
    """Under 24 months: a Fourier seasonality (4 parameters) from 12 fitted months, flat below."""
    counts = seasonal_series(300, 0.08, 18, seed=4)
    short = ArrivalsFitter().fit(counts)
    assert short.season_mode_ == "fourier" and "18 months" in short.season_note_
    assert short.trough_month_ == "aug"  # the smooth pattern still finds the summer trough
    assert np.std(short.seasonality_) > 0.05
    flat = ArrivalsFitter().fit(counts.iloc[:10])
    assert flat.season_mode_ == "flat" and np.allclose(flat.seasonality_, 1.0)
    full = ArrivalsFitter().fit(seasonal_series(300, 0.08, 24, seed=4))
    assert full.season_mode_ == "months"
