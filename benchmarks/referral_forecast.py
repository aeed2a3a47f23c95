"""The referral forecast's back-test table (issue 9, item 5): model against each simple method.

``PYTHONPATH=. python -m benchmarks.referral_forecast`` prints, as Markdown, the mean absolute %
error a month of the model (``calibration.fitters.ArrivalsFitter``), seasonal naive (same month
last year), the straight-line trend (last 24 months) and the 12-month mean ("flow balance"), and
how many held-out months fell inside the model's 90% prediction interval:

* the England series (0-17 and all ages), last 6, 9 and 12 months held out, the COVID months
  2020-03..2020-08 left out of the fit and of the scoring;
* the synthetic services' referrals (one arrival process shared by all four), 48 months fitted and
  12 held out, over 40 seeds (errors averaged, coverage pooled).
"""

from __future__ import annotations

import numpy as np

from calibration import ENGLAND_MONTHLY
from calibration.forecast import backtest_referrals, synthetic_referrals
from calibration.monthly import read_monthly

COVID = "2020-03..2020-08"
METHODS = ("model", "seasonal_naive", "linear_trend", "flow_balance")


def rows() -> list[tuple[str, ...]]:
    out = []
    for band in ("0-17", None):
        series = read_monthly(ENGLAND_MONTHLY, age_band=band).data["new_referrals"]
        for holdout in (6, 9, 12):
            bt = backtest_referrals(series, holdout, exclude=COVID)
            c = bt.comparison
            out.append((f"England {band or 'all ages'}", f"{bt.cut + 1}..{c['month'].iloc[-1]}"
                        + (f" (not scored: {', '.join(bt.left_out)})" if bt.left_out else ""),
                        f"{bt.fitter.n_months_} ({bt.fitter.season_mode_}, {bt.fitter.family_})",
                        *(f"{bt.error(m):.1f}%" for m in METHODS),
                        f"{int(c['covered'].sum())}/{len(c)}"))
    errors: dict[str, list[float]] = {m: [] for m in METHODS}
    covered = total = 0
    for seed in range(40):
        bt = backtest_referrals(synthetic_referrals("status_quo_capacity_limited", 60, seed=seed), 12)
        for m in METHODS:
            errors[m].append(bt.error(m))
        covered += int(bt.comparison["covered"].sum())
        total += len(bt.comparison)
    out.append(("synthetic services (40 seeds)", "last 12 of 60 months",
                f"48 ({bt.fitter.season_mode_}, {bt.fitter.family_})",
                *(f"{np.mean(errors[m]):.1f}%" for m in METHODS), f"{covered}/{total}"))
    return out


def main() -> None:
    header = ("series", "held out", "months fitted", "model", "same month last year",
              "straight-line trend", "12-month mean", "in 90% interval")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows():
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
