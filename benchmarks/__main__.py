"""``python -m benchmarks [--quick] [--output PATH]``: every benchmark in one run, a table with
each figure beside its target, and the figures saved as JSON (``benchmarks/results/latest.json``).

See docs/benchmarks.md for what each figure measures and how to read it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import endtoend, runs, textbook

RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE_SIMPY_RATE = 50_000.0  # customers/s of plain SimPy on the machine the target was set on
LINEAR_R2 = 0.98  # "linear growth": a straight line explains at least 98% of the variance
WAIT_Z = 3.0  # a mean wait within 3 batch-means standard errors of Erlang C agrees with it


@dataclass(frozen=True)
class Sizes:
    customers: int
    repeats: int
    default_replications: int
    default_months: int
    horizon_years: list[int]
    horizon_replications: int
    replication_counts: list[int]
    memory_replications: int
    memory_months: int
    default_repeats: int
    pairing_customers: int
    help_repeats: int = 5
    cli_replications: int = 20
    cli_months: int = 60
    cli_repeats: int = 3
    app_clicks: int = 5
    pathway_months: int = 60
    pathway_repeats: int = 3


# timings are the best of ``repeats`` runs (the usual rule on a shared machine: the fastest run is
# the one least disturbed by other work); every run's time is kept in the JSON
FULL = Sizes(200_000, 3, 20, 60, [1, 2, 5, 10], 8, [2, 4, 8, 16], 100, 120, 5, 50_000)
QUICK = Sizes(20_000, 1, 4, 12, [1, 2, 3], 2, [2, 4, 6], 8, 24, 1, 10_000, help_repeats=2,
              cli_replications=4, cli_months=12, cli_repeats=1, app_clicks=0, pathway_months=12,
              pathway_repeats=1)


def _status(ok: bool | None) -> str:
    return "-" if ok is None else ("ok" if ok else "MISSED")


def textbook_queue(sizes: Sizes) -> dict[str, Any]:
    queue = textbook.textbook_queue(sizes.customers)
    erlang = textbook.erlang_c_wait(queue.lam, queue.mu, queue.servers)
    tools = {
        "ndpath": textbook.best_of(textbook.run_ndpath, queue, sizes.repeats),
        "plain_simpy": textbook.best_of(textbook.run_plain_simpy, queue, sizes.repeats),
        "ciw": textbook.best_of(textbook.run_ciw, queue, max(1, sizes.repeats - 1)),
        # for information: the same model through SimPy events, as non-FIFO pathways run
        "ndpath_events": textbook.best_of(textbook.run_ndpath_events, queue, 1),
    }
    rates = {name: run.customers_per_second for name, run in tools.items()}
    return {
        "queue": {"servers": queue.servers, "load": textbook.LOAD, "arrivals_per_day": queue.lam,
                  "mean_service_days": 1.0 / queue.mu, "horizon_months": queue.horizon_months},
        "erlang_c_mean_wait_days": erlang,
        "wait_z_limit": WAIT_Z,
        "runs": {name: {**run.as_dict(), "z": (run.mean_wait_days - erlang) / run.wait_se_days}
                 for name, run in tools.items()},
        "ratio_vs_plain_simpy": rates["ndpath"] / rates["plain_simpy"],
        "ratio_vs_ciw": rates["ndpath"] / rates["ciw"],
        "waits_agree": all(abs(run.mean_wait_days - erlang) <= WAIT_Z * run.wait_se_days
                           for run in tools.values()),
    }


def default_runs(sizes: Sizes) -> dict[str, Any]:
    """Figure b), each timing paired with a plain SimPy rate measured just before it.

    On a machine shared with other work the speed available changes from minute to minute, so
    each wall time is normalised by the plain SimPy rate of the same moment (a short M/M/10 run),
    and the median of the pairs is reported.
    """
    queue = textbook.textbook_queue(sizes.pairing_customers)
    pairs = []
    for _ in range(sizes.default_repeats):
        rate = textbook.run_plain_simpy(queue).customers_per_second
        run = runs.time_replications(sizes.default_replications, sizes.default_months)
        pairs.append((run, rate))
    normalised = [run.seconds * rate / REFERENCE_SIMPY_RATE for run, rate in pairs]
    fastest = min((run for run, _ in pairs), key=lambda r: r.seconds)
    median = float(np.median(normalised))
    middle = int(np.argsort(normalised)[len(normalised) // 2])
    return {"replications": fastest.replications, "months": fastest.months,
            "workers": runs.WORKERS, "children": fastest.children,
            "wall_seconds": fastest.seconds,
            "children_per_second": fastest.children_per_second,
            "all_wall_seconds": [run.seconds for run, _ in pairs],
            "paired_plain_simpy_rates": [rate for _, rate in pairs],
            "all_normalised_seconds": normalised,
            "normalised_seconds": median,
            "normalisation_factor": pairs[middle][1] / REFERENCE_SIMPY_RATE,
            "cpu_seconds": min(run.cpu_seconds for run, _ in pairs),
            "pairing_customers": sizes.pairing_customers}


def end_to_end(sizes: Sizes) -> dict[str, Any]:
    """Figure 0): what people wait for (see :mod:`benchmarks.endtoend`)."""
    out: dict[str, Any] = {
        "help": endtoend.cli_help(sizes.help_repeats, sizes.pairing_customers),
        "cli_run": endtoend.cli_run(sizes.cli_replications, sizes.cli_months, sizes.cli_repeats,
                                    sizes.pairing_customers),
        "pathway": endtoend.pathway_rate(sizes.pathway_months, sizes.pathway_repeats,
                                         sizes.pairing_customers)}
    skipped = {"available": False, "reason": "skipped with --quick"}
    out["app"] = (endtoend.app_run(sizes.app_clicks, sizes.pairing_customers) if sizes.app_clicks
                  else skipped)
    out["app_at_once"] = (endtoend.app_run(sizes.app_clicks, sizes.pairing_customers,
                                           settle=False) if sizes.app_clicks else skipped)
    return out


def end_to_end_rows(z: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The lead rows: each figure beside its target (normalised to plain SimPy at 50,000/s)."""
    rows: list[tuple[str, str, str, str]] = []
    h, c, p, app = z["help"], z["cli_run"], z["pathway"], z["app"]
    rows.append(("0) ndpath --help (subprocess)",
                 f"{h['median_seconds']:.2f} s wall, {h['median_normalised_seconds']:.2f} s "
                 "normalised", "<= 0.3 s", _status(h["median_normalised_seconds"] <= 0.3)))
    rows.append((f"0) ndpath run default {c['replications']}x{c['months']}, figures (subprocess)",
                 f"{c['median_seconds']:.2f} s wall, {c['median_normalised_seconds']:.2f} s "
                 "normalised", "<= 2 s", _status(c["median_normalised_seconds"] <= 2)))
    for run, when in ((app, "a second after the lever"),
                      (z.get("app_at_once", {"reason": "not measured"}), "at once after the lever")):
        what = "0) app: Run click -> first card and chart updated, click " + when
        if run.get("available"):
            rows.append((f"{what} (median of {run['clicks']})",
                         f"{run['median_seconds']:.2f} s wall, "
                         f"{run['median_normalised_seconds']:.2f} s normalised", "<= 2 s wall",
                         _status(run["median_seconds"] <= 2)))
        else:
            rows.append((what, str(run["reason"]), "<= 2 s wall", "-"))
    rows.append((f"0) full default pathway, one core ({p['months']} months, "
                 f"{p['children']:,} children)",
                 f"{p['engine_children_per_second']:,.0f} children/s = "
                 f"{p['ratio_engine_vs_plain_simpy']:.2f}x plain SimPy customers/s",
                 ">= 3x", _status(p["ratio_engine_vs_plain_simpy"] >= 3)))
    rows.append(("0)   the same with the replication's summaries",
                 f"{p['replication_children_per_second']:,.0f} children/s = "
                 f"{p['ratio_replication_vs_plain_simpy']:.2f}x", "", ""))
    return rows


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of (figure, value, target, status) for the printed summary."""
    rows: list[tuple[str, str, str, str]] = []
    if "z_end_to_end" in results:
        rows.extend(end_to_end_rows(results["z_end_to_end"]))
    a = results["a_textbook_queue"]
    erlang = a["erlang_c_mean_wait_days"]
    rows.append(("a) M/M/10 load 0.9: Erlang C mean wait", f"{erlang:.4f} days", "", ""))
    for name, run in a["runs"].items():
        rows.append((f"a)   {run['tool']}: customers/s (mean wait)",
                     f"{run['customers_per_second']:,.0f} ({run['mean_wait_days']:.4f} d, "
                     f"{100 * (run['mean_wait_days'] / erlang - 1):+.1f}%, z {run['z']:+.1f})",
                     f"wait |z| <= {a['wait_z_limit']:.0f}",
                     _status(abs(run["z"]) <= a["wait_z_limit"])))
    events = a["runs"]["ndpath_events"]["customers_per_second"]
    rows.append(("a) ndpath through SimPy events (as pathways run) / plain SimPy",
                 f"{events / a['runs']['plain_simpy']['customers_per_second']:.2f}x", "", ""))
    # the exact FIFO fast path serves the one-queue textbook reduction only: no pathway scenario
    # runs it, so these two ratios say nothing about the pathway's speed (figure 0 does)
    rows.append(("a) ndpath / plain SimPy (FIFO fast path, textbook queue only)",
                 f"{a['ratio_vs_plain_simpy']:.2f}x", ">= 2x",
                 _status(a["ratio_vs_plain_simpy"] >= 2)))
    rows.append(("a) ndpath / Ciw (FIFO fast path, textbook queue only)",
                 f"{a['ratio_vs_ciw']:.2f}x", ">= 4x", _status(a["ratio_vs_ciw"] >= 4)))
    b = results["b_default_scenario"]
    rows.append((f"b) default: {b['replications']} reps x {b['months']} months, {b['workers']} workers",
                 f"{b['wall_seconds']:.2f} s wall, {b['children_per_second']:,.0f} children/s", "", ""))
    rows.append(("b)   normalised to plain SimPy at 50,000/s",
                 f"{b['normalised_seconds']:.2f} s (median of {len(b['all_normalised_seconds'])} "
                 f"paired runs)", "<= 5 s (aim 2 s)", _status(b["normalised_seconds"] <= 5)))
    rows.append(("b)   CPU time, all processes", f"{b['cpu_seconds']:.2f} s", "", ""))
    c = results["c_scaling"]
    h, r = c["horizon"], c["replications"]
    rows.append((f"c) wall vs horizon {h['years']} years ({h['replications']} reps)",
                 " ".join(f"{s:.2f}" for s in h["seconds"]) + f" s; R2 {h['fit']['r2']:.3f}",
                 f"linear (R2 >= {LINEAR_R2})", _status(h["fit"]["r2"] >= LINEAR_R2)))
    rows.append((f"c) wall vs replications {r['replications']} ({r['months']} months)",
                 " ".join(f"{s:.2f}" for s in r["seconds"]) + f" s; R2 {r['fit']['r2']:.3f}",
                 f"linear (R2 >= {LINEAR_R2})", _status(r["fit"]["r2"] >= LINEAR_R2)))
    d = results["d_memory"]
    rows.append((f"d) peak memory {d['replications']} reps x {d['months']} months",
                 f"{d['sampled_peak_mib']:.0f} MiB sampled, {d['rusage_bound_mib']:.0f} MiB bound",
                 "<= 1024 MiB", _status(max(d["sampled_peak_mib"], d["rusage_bound_mib"]) <= 1024)))
    e = results["e_calibration"]
    if e.get("available"):
        referrals = f" ({e['referrals']:,} referrals)" if "referrals" in e else ""
        rows.append(("e) calibration of a 25,000-referral extract",
                     f"{e['wall_seconds']:.1f} s{referrals}", "<= 60 s",
                     _status(e["wall_seconds"] <= 60)))
    else:
        rows.append(("e) calibration of a 25,000-referral extract", str(e["reason"]), "<= 60 s", "-"))
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    header = ("figure", "value", "target", "status")
    widths = [max(w, len(h)) for w, h in zip(widths, header)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def machine() -> dict[str, Any]:
    import ciw
    import numpy
    import simpy

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=runs.ROOT, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "commit": commit, "python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "load_average_at_start": list(os.getloadavg()),
            "simpy": simpy.__version__, "ciw": ciw.__version__, "numpy": numpy.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in seconds")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON file to write (default benchmarks/results/latest.json, "
                             "or quick.json with --quick)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    output = args.output or RESULTS / ("quick.json" if args.quick else "latest.json")
    results: dict[str, Any] = {"mode": "quick" if args.quick else "full", "machine": machine(),
                               "command": "python -m benchmarks" + (" --quick" if args.quick else "")}
    print("0) end to end: help, ndpath run, the pathway, the app ...", file=sys.stderr, flush=True)
    results["z_end_to_end"] = end_to_end(sizes)
    print("a) textbook queue ...", file=sys.stderr, flush=True)
    results["a_textbook_queue"] = textbook_queue(sizes)
    print("b) default scenario ...", file=sys.stderr, flush=True)
    results["b_default_scenario"] = default_runs(sizes)
    print("c) scaling ...", file=sys.stderr, flush=True)
    results["c_scaling"] = runs.scaling(sizes.horizon_years, sizes.replication_counts,
                                        sizes.horizon_replications, sizes.default_months,
                                        sizes.default_repeats)
    print("d) peak memory ...", file=sys.stderr, flush=True)
    results["d_memory"] = runs.peak_memory(sizes.memory_replications, sizes.memory_months)
    if args.quick:
        results["e_calibration"] = {"available": False, "reason": "skipped with --quick"}
    else:
        print("e) calibration ...", file=sys.stderr, flush=True)
        results["e_calibration"] = runs.calibration()
    rows = table(results)
    results["table"] = [dict(zip(("figure", "value", "target", "status"), row)) for row in rows]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(rows)
    print(f"\nsaved {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
