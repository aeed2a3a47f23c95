"""``python -m benchmarks.fingerprint OUT.json [--against BEFORE.json]``: a digest of every
shipped scenario's event log, children and capacity tables, for a change that must not move a
number (a speed-up, a refactor).

Run it before the change and after, with ``--against`` the first file: it lists every scenario
whose tables are not the same float for float, and exits 1 if any. The digests are of this
machine's libraries: compare runs made with the same numpy, scipy and SimPy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from model.pathway import PathwayModel
from model.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
VARIANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # the rules the shipped files do not use on their own
    ("default.toml", ("support.offer=longest_waiting",)),
    ("default.toml", ("support.offer=priority",)),
    ("default.toml", ("rereferral.enabled=false",)),
    ("default.toml", ("assessment.capacity_model=clinical_hours",)),
    ("combined.toml", ("support.offer=longest_waiting",)),
)


def digest(scenario: Scenario, replication: int) -> str:
    """The SHA-256 (first 16 hex digits) of one replication's events, children and capacity."""
    result = PathwayModel(scenario, replication).run()
    h = hashlib.sha256()
    for frame in (result.events, result.children, result.capacity):
        h.update(frame.to_csv(index=False).encode())
    return h.hexdigest()[:16]


def fingerprints(months: int = 30, replications: int = 2) -> dict[str, str]:
    """``{"file?overrides#replication": digest}`` for every shipped scenario and the variants."""
    runs = [(path.name, ()) for path in sorted(SCENARIOS.glob("*.toml"))] + list(VARIANTS)
    out = {}
    for name, overrides in runs:
        scenario = load_scenario(SCENARIOS / name,
                                 [f"simulation.horizon_months={months}", *overrides])
        key = name + ("?" + "&".join(overrides) if overrides else "")
        for replication in range(replications):
            out[f"{key}#{replication}"] = digest(scenario, replication)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fingerprint",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where to write the digests (JSON)")
    parser.add_argument("--against", type=Path, help="digests written before the change")
    parser.add_argument("--months", type=int, default=30)
    args = parser.parse_args(argv)
    now = fingerprints(args.months)
    args.out.write_text(json.dumps(now, indent=1) + "\n", encoding="utf-8")
    if args.against is None:
        print(f"{len(now)} digests written to {args.out}")
        return 0
    before = json.loads(args.against.read_text(encoding="utf-8"))
    changed = sorted(k for k in before.keys() & now.keys() if before[k] != now[k])
    unmatched = sorted(before.keys() ^ now.keys())  # a scenario added or removed since
    for key in changed:
        print(f"changed: {key}")
    for key in unmatched:
        print(f"in one file only: {key}")
    same = len(before.keys() & now.keys()) - len(changed)
    print(f"{same} of {len(before.keys() & now.keys())} the same float for float")
    return 1 if changed or unmatched else 0


if __name__ == "__main__":
    sys.exit(main())
