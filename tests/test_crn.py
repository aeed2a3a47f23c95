"""Common random numbers, verified: two scenarios run with the same seed see the same children with
the same luck, so their paired difference varies far less than the difference of independent runs.

Scenarios: the default status quo and ``extra_clinicians`` (5 WTE recruited from April 2026),
compared on the list at the end and the mean wait, over two years.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from model.executors import LocalProcessExecutor
from model.experiment import ExperimentResult, compare, run_replications
from model.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
REPLICATIONS = 12
OVERRIDES = ["simulation.horizon_months=24"]
METRICS = ("waiting_list_end", "wait_of_those_assessed_weeks_mean")


@pytest.fixture(scope="module")
def runs() -> dict[str, ExperimentResult]:
    base = load_scenario(SCENARIOS / "default.toml", OVERRIDES)
    extra = load_scenario(SCENARIOS / "extra_clinicians.toml", OVERRIDES)
    seed = base.simulation.seed
    pool = LocalProcessExecutor(2)
    return {
        "base": run_replications(base, REPLICATIONS, seed=seed, executor=pool),
        "extra": run_replications(extra, REPLICATIONS, seed=seed, executor=pool),
        # the same scenario with its own seed: what an analyst gets without common random numbers
        "extra_independent": run_replications(extra, REPLICATIONS, seed=seed + 1, executor=pool),
    }


def _differences(runs: dict[str, ExperimentResult], other: str, metric: str) -> np.ndarray:
    base = runs["base"].per_replication.set_index("replication")[metric]
    return (runs[other].per_replication.set_index("replication")[metric] - base).to_numpy(float)


@pytest.mark.slow
def test_same_seed_means_same_children(runs: dict[str, ExperimentResult]) -> None:
    # staffing does not change demand: with shared streams the referrals match replication by
    # replication, and with another seed they do not
    # (new referrals: children who withdrew and came back differ with the waits)
    def new(name: str) -> np.ndarray:
        frame = runs[name].per_replication
        return (frame["referrals"] - frame["re_referrals"]).to_numpy()

    base = new("base")
    assert (new("extra") == base).all()
    assert (new("extra_independent") != base).any()


@pytest.mark.slow
@pytest.mark.parametrize("metric", METRICS)
def test_paired_difference_varies_far_less_than_unpaired(runs: dict[str, ExperimentResult],
                                                         metric: str) -> None:
    paired = _differences(runs, "extra", metric)
    unpaired = _differences(runs, "extra_independent", metric)
    ratio = unpaired.var(ddof=1) / paired.var(ddof=1)
    # the upper 0.01% point of F(n-1, n-1): a variance ratio this large is no accident
    threshold = stats.f.ppf(0.9999, REPLICATIONS - 1, REPLICATIONS - 1)
    assert ratio > threshold, f"{metric}: variance ratio {ratio:.1f} <= {threshold:.1f}"
    # both estimate the same effect (more clinicians shorten the list and the wait)
    assert paired.mean() < 0 and unpaired.mean() < 0


@pytest.mark.slow
def test_paired_interval_is_narrower_than_unpaired(runs: dict[str, ExperimentResult]) -> None:
    table = compare(runs["base"], runs["extra"]).set_index("metric")
    for metric in METRICS:
        paired_width = table.loc[metric, "ci_high"] - table.loc[metric, "ci_low"]
        unpaired = _differences(runs, "extra_independent", metric)
        half = stats.t.ppf(0.975, REPLICATIONS - 1) * unpaired.std(ddof=1) / np.sqrt(REPLICATIONS)
        assert paired_width < 2 * half / 3, metric
    with pytest.raises(ValueError, match="same seed"):
        compare(runs["base"], runs["extra_independent"])
