"""Calibrate and back-test each shipped synthetic service (calibration.services) and print the
recovered rates and the back-test table (model and each simple method): the numbers of issue 9.

    python -m benchmarks.calibration_services 1.0 [SERVICE ...]   # scale, then services
"""
import sys
import time

from calibration.services import service, SYNTHETIC_SERVICES
from calibration.synth import synthesise_extract
from calibration.extract import read_extract
from calibration.calibrate import calibrate_extract, CalibrationOptions
from calibration.backtest import run_backtest

def main(argv: list[str]) -> None:
    scale = float(argv[0]) if argv else 1.0
    names = argv[1:] or list(SYNTHETIC_SERVICES)
    for name in names:
        t = time.time()
        truth = service(name, scale)
        table = read_extract(synthesise_extract(truth, "2025-12-31", 48), "2025-12-31")
        cal = calibrate_extract(table, CalibrationOptions())
        p = {q.name: q for q in cal.parameters}
        nm = p.get("support.needs_met_per_year")
        tu = cal.tuning
        assert tu is not None
        print(f"== {name} scale {scale}: {len(table.data)} rows, {time.time()-t:.0f}s")
        if nm: print(f"  needs_met {nm.estimate:.3f} ({nm.ci_low:.3f}-{nm.ci_high:.3f}) events {nm.events} exposure {nm.exposure:.1f}")
        ex = cal.fitters["exits"]
        print("  hazards", {k: (round(ex.hazards_[k],4), tuple(round(x,4) for x in ex.hazards_ci_[k])) for k in ("withdrawn","moved","private")})
        true_cap = truth.assessment.clinical_hours_per_week(); fit_cap = cal.scenario.assessment.clinical_hours_per_week()
        print(f"  multiplier {tu.capacity_multiplier:.3f} capacity hours fitted/true {fit_cap/true_cap:.3f} list err {tu.list_error_pct:.1f}% km gap {tu.km_max_gap:.3f}")
        bt = run_backtest(table, 12, CalibrationOptions(), replications=10)
        bt_tuning = bt.calibration.tuning
        assert bt_tuning is not None
        print(f"  backtest multiplier {bt_tuning.capacity_multiplier:.3f} ({time.time()-t:.0f}s)")
        print(bt.errors.to_string(index=False))
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
