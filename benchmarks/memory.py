"""Benchmark (d): peak memory of many long replications, measured in a fresh interpreter.

``python -m benchmarks.memory REPLICATIONS MONTHS WORKERS`` runs the default scenario through the
local process pool and prints one JSON line with two measures:

* ``sampled_peak_mib``: the largest sum of the resident set sizes of this process and all its
  worker processes, sampled every 20 ms (pages shared between parent and forked workers are
  counted in each, so this overstates the true footprint);
* ``rusage_bound_mib``: this process's peak RSS plus ``WORKERS`` times the largest worker's peak
  RSS, an upper bound that cannot miss a short spike between samples. This process's peak is read
  from ``VmHWM`` in ``/proc/self/status``: Linux carries ``getrusage``'s maximum over ``exec`` from
  the process that started this one (the benchmark runner, after Ciw's 200,000 records), which
  would charge the runner's memory to this run. The workers' peak is ``getrusage(RUSAGE_CHILDREN)``.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time

import psutil

MIB = 1024.0 * 1024.0


class RssSampler:
    """Samples the summed RSS of this process and its descendants in a background thread."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _total(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:  # a worker that exited between listing and reading
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._total())
            time.sleep(self.interval_s)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def own_peak_bytes() -> float:
    """This process's peak RSS since it started (VmHWM), or getrusage's where /proc is missing."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def measure(replications: int, months: int, workers: int) -> dict[str, float]:
    from model.executors import LocalProcessExecutor
    from model.experiment import run_replications

    from .runs import default_scenario

    scenario = default_scenario(months)
    start = time.perf_counter()
    with RssSampler() as sampler:
        result = run_replications(scenario, replications, executor=LocalProcessExecutor(workers))
    seconds = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux
    self_peak = own_peak_bytes()
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024.0
    return {
        "replications": replications,
        "months": months,
        "workers": workers,
        "seconds": seconds,
        "rows_returned": len(result.monthly),
        "sampled_peak_mib": sampler.peak_bytes / MIB,
        "parent_peak_mib": self_peak / MIB,
        "worker_peak_mib": child_peak / MIB,
        "rusage_bound_mib": (self_peak + workers * child_peak) / MIB,
    }


if __name__ == "__main__":
    n, months, workers = (int(a) for a in sys.argv[1:4])
    print(json.dumps(measure(n, months, workers)))
