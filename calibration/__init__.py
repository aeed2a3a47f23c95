"""Calibration of ndpath from a service's own data.

pathway extract ─► :func:`read_extract` (validate, pseudonymise, quarantine) ─► :class:`PathwayTable`
               ─► fitters (:mod:`calibration.fitters`) ─► :func:`calibrate_extract` (simulation-based
               tuning against censored waits and list size) ─► calibrated scenario folder
               ─► :func:`run_backtest` on held-out months.

Monthly aggregates go through :func:`read_monthly` and :func:`calibrate_monthly`; synthetic
extracts come from :func:`synthesise_extract`. The command line is in :mod:`ndpath.calibration_commands`.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

# Loaded when first used (pandas, scipy, statsmodels behind them), so the command line's help
# does not pay for the calibration.
_LAZY = {
    "Backtest": "backtest", "run_backtest": "backtest",
    "Calibration": "calibrate", "CalibrationError": "calibrate",
    "CalibrationOptions": "calibrate", "calibrate_extract": "calibrate",
    "ExtractError": "extract", "PathwayTable": "extract", "Problem": "extract",
    "quality_report": "extract", "read_extract": "extract",
    "ArrivalsFitter": "fitters", "CapacityFitter": "fitters", "DurationFitter": "fitters",
    "ExitHazardFitter": "fitters", "ReferralMixFitter": "fitters",
    "MonthlySeries": "monthly", "calibrate_monthly": "monthly", "read_monthly": "monthly",
    "write_calibration": "report", "make_messy": "synth", "synthesise_extract": "synth",
}

if TYPE_CHECKING:  # pragma: no cover
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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'calibration' has no attribute {name!r}")


ENGLAND_MONTHLY = Path(__file__).resolve().parent / "data" / "england_autism_new_referrals_2019-04_2021-06.csv"
"""The public England series of monthly new suspected-autism referrals (see data/README.md)."""
ENGLAND_MONTHLY_AGE_BAND = "0-17"
"""The age band of :data:`ENGLAND_MONTHLY` fitted unless another is chosen: the series counts
referrals of every age (0-17 to 65andOver) and ndpath models a children's pathway. The command
line (``ndpath calibrate --monthly england``) and the app's Calibrate page both default to it."""
ENGLAND_MONTHLY_EXCLUDE = "2020-03..2020-08"
"""Months of :data:`ENGLAND_MONTHLY` left out of the arrivals fit unless others are chosen: the
COVID-19 trough of spring and summer 2020 (the command line's and the app's default)."""
ENGLAND_MONTHLY_CAVEAT = (
    "The England series' own caveat (data/README.md): the number of mental-health providers "
    "reporting to it rose over the period (63 in 2019/20 Q1, 91 in 2021/22 Q1), so part of "
    "the rise in referrals, and of the fitted growth, is more providers reporting rather than "
    "more demand; it also leaves out community paediatric assessments (most young children).")
"""Said with every calibration from :data:`ENGLAND_MONTHLY` (a warning, carried into the
calibrated scenario), since the fitted growth rests on it."""

__all__ = [
    "ENGLAND_MONTHLY", "ENGLAND_MONTHLY_AGE_BAND", "ENGLAND_MONTHLY_EXCLUDE",
    "ENGLAND_MONTHLY_CAVEAT",
    "read_extract", "PathwayTable", "ExtractError", "Problem", "quality_report",
    "ArrivalsFitter", "ReferralMixFitter", "DurationFitter", "ExitHazardFitter", "CapacityFitter",
    "calibrate_extract", "CalibrationOptions", "Calibration", "CalibrationError",
    "write_calibration", "run_backtest", "Backtest", "read_monthly", "calibrate_monthly",
    "MonthlySeries", "synthesise_extract", "make_messy",
]
