"""Before/after table for issue 12: every shipped scenario with the pooled clinical hours and
with capacity by profession (the same seed and replications as the scenario file).

    python -m benchmarks.capacity_by_profession [--replications N] [--out FILE.csv]

Each scenario runs twice, with ``assessment.capacity_model`` set to ``clinical_hours`` and to
``by_profession`` (the recipes of the scenario, or the defaults), so the table shows what moving
the shipped scenarios to capacity by profession changed, scenario by scenario.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from model.experiment import run_replications
from model.scenario import load_scenario

METRICS = ("waiting_list_end", "list_wait_weeks_p50_end", "list_wait_weeks_p92_end",
           "pct_referrals_assessed_within_13w", "assessments_completed", "cost_total")
MODELS = ("clinical_hours", "by_profession")


def table(replications: int | None = None) -> pd.DataFrame:
    rows = []
    root = Path(__file__).resolve().parents[1] / "scenarios"
    for path in sorted(root.glob("*.toml")):
        for model in MODELS:
            scenario = load_scenario(path, overrides=[f'assessment.capacity_model="{model}"'])
            began = time.perf_counter()
            result = run_replications(scenario, replications, groups=False)
            summary = result.summary.set_index("metric")["mean"]
            rows.append({"scenario": path.stem, "capacity_model": model,
                         "seconds": round(time.perf_counter() - began, 1),
                         **{m: round(float(summary[m]), 1) for m in METRICS}})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = table(args.replications)
    if args.out:
        out.to_csv(args.out, index=False)
    print(out.to_string(index=False))


if __name__ == "__main__":
    main()
