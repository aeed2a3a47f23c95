"""Benchmark: calibrating a 25,000-referral extract (target: 60 s or less on 2 cores).

Times each step of ``ndpath calibrate`` on a synthetic extract from a service of the size the
issue names: reading and validating the file, the direct fits and the simulation-based tuning.

    python -m benchmarks.calibration
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from calibration.calibrate import CalibrationOptions, calibrate_extract
from calibration.extract import read_extract
from calibration.report import write_calibration
from calibration.synth import synthesise_extract
from model.scenario import Scenario

TARGET_SECONDS = 60.0
EXTRACT_DATE = "2025-12-31"

# about 25,000 referrals: 430 a month for four years plus the 3,000 waiting at the start
SERVICE = Scenario().replace({
    "arrivals.referrals_per_month": 430.0, "arrivals.annual_growth": 0.08,
    "backlog.count": 3000,
    "assessment.professions": [{"name": "mdt", "wte": 30.0, "job_plan_share": 1.0}],
})


def run(referrals_target: int = 25_000) -> dict[str, Any]:
    """Time calibrating a synthetic extract of about ``referrals_target`` rows."""
    scale = referrals_target / 25_000
    service = SERVICE.replace({
        "arrivals.referrals_per_month": 430.0 * scale, "backlog.count": int(3000 * scale),
        "assessment.professions.0.wte": 30.0 * scale})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        synthesise_extract(service, EXTRACT_DATE, 48).to_csv(path, index=False)
        t0 = time.perf_counter()
        table = read_extract(path, EXTRACT_DATE)
        t1 = time.perf_counter()
        calibration = calibrate_extract(table, CalibrationOptions())
        t2 = time.perf_counter()
        write_calibration(calibration, Path(tmp) / "out")
        t3 = time.perf_counter()
    total = t3 - t0
    return {
        "referrals": len(table.data),
        "read_validate_seconds": round(t1 - t0, 2),
        "fit_and_tune_seconds": round(t2 - t1, 2),
        "write_seconds": round(t3 - t2, 2),
        "total_seconds": round(total, 2),
        "target_seconds": TARGET_SECONDS,
        "within_target": total <= TARGET_SECONDS,
        "tuning_evaluations": len(calibration.tuning.evaluations) if calibration.tuning else 0,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
