"""Issue 13: the faster paths give the same numbers as the ones they replace.

No timings here (speed lives in ``python -m benchmarks``): only equality and invariants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.executors import get_executor
from model.experiment import run_replications
from model.metrics import _percentile_bands_by_group, percentile_bands
from model.scenario import Scenario


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    scenario = Scenario().replace({"simulation.horizon_months": 6, "backlog.count": 300})
    return run_replications(scenario, 4, 5, get_executor("serial")).monthly


def test_percentile_bands_equal_the_per_group_reference_exactly(monthly: pd.DataFrame) -> None:
    holes = monthly.copy()
    holes.loc[holes.index[::7], "value"] = np.nan  # metrics undefined in some replications
    holes.loc[holes.index[3::11], "value"] = np.inf
    ragged = pd.concat([monthly[monthly["replication"] != 3],
                        monthly[(monthly["replication"] == 3)
                                & (monthly["month"] < monthly["month"].max())]])
    for frame in (monthly, holes, ragged, monthly.sample(frac=1.0, random_state=1)):
        pd.testing.assert_frame_equal(percentile_bands(frame), _percentile_bands_by_group(frame),
                                      check_exact=True)
    empty = holes[holes["metric"] == "waiting_list"].assign(value=np.nan)
    assert percentile_bands(empty)[["p5", "p95"]].isna().all().all()


def test_summary_and_bands_are_computed_once_and_callers_get_their_own_copy() -> None:
    scenario = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 100})
    result = run_replications(scenario, 2, 1, get_executor("serial"))
    first = result.timeseries
    first["p50"] = -1.0  # a caller changing its copy does not change the result
    assert not (result.timeseries["p50"] == -1.0).any()
    pd.testing.assert_frame_equal(result.timeseries, percentile_bands(result.monthly))
    summary = result.summary
    summary.loc[:, "mean"] = np.nan
    assert result.summary["mean"].notna().any()
