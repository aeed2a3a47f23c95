"""Calibration of ndpath from a service's own data.

pathway extract ─► :func:`read_extract` (validate, pseudonymise, quarantine) ─► :class:`PathwayTable`
               ─► fitters (:mod:`calibration.fitters`) ─► :func:`calibrate_extract` (simulation-based
               tuning against censored waits and list size) ─► calibrated scenario folder
               ─► :func:`run_backtest` on held-out months.

Monthly aggregates go through :func:`read_monthly` and :func:`calibrate_monthly`; synthetic
extracts come from :func:`synthesise_extract`. The command line is in :mod:`calibration.cli`.
"""

from pathlib import Path

from .backtest import Backtest, run_backtest
from .calibrate import Calibration, CalibrationError, CalibrationOptions, calibrate_extract
from .extract import ExtractError, PathwayTable, Problem, quality_report, read_extract
from .fitters import (
    ArrivalsFitter,
    CapacityFitter,
    DurationFitter,
    ExitHazardFitter,
    ReferralMixFitter,
)
from .monthly import MonthlySeries, calibrate_monthly, read_monthly
from .report import write_calibration
from .synth import make_messy, synthesise_extract

ENGLAND_MONTHLY = Path(__file__).resolve().parent / "data" / "england_autism_new_referrals_2019-04_2021-06.csv"
"""The public England series of monthly new suspected-autism referrals (see data/README.md)."""

__all__ = [
    "ENGLAND_MONTHLY",
    "read_extract", "PathwayTable", "ExtractError", "Problem", "quality_report",
    "ArrivalsFitter", "ReferralMixFitter", "DurationFitter", "ExitHazardFitter", "CapacityFitter",
    "calibrate_extract", "CalibrationOptions", "Calibration", "CalibrationError",
    "write_calibration", "run_backtest", "Backtest", "read_monthly", "calibrate_monthly",
    "MonthlySeries", "synthesise_extract", "make_messy",
]
