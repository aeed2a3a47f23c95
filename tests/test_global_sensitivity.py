"""Global sensitivity (model.global_sensitivity): the rank statistics on known structures, the
Latin-hypercube design, a planted dominant assumption ranked first and a null one near zero,
common random numbers, and the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ndpath.cli import main
from model.global_sensitivity import latin_hypercube, prcc, prcc_chart
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["leaving.withdrawal_per_year", "support.cost_per_week", "vetting.accept_probability",
        "escalation.unsupported_per_year"]


def _small() -> Scenario:
    return Scenario().replace({"simulation.horizon_months": 6, "backlog.count": 400})


def test_prcc_on_known_structures() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((200, 3))
    # y depends on x0 strongly, x1 weakly and decreasingly, x2 not at all
    y = 10 * x[:, 0] - 1.0 * x[:, 1] + rng.normal(0, 0.3, 200)
    r = prcc(x, y)
    assert r[0] > 0.95 and -0.9 < r[1] < -0.5 and abs(r[2]) < 0.2
    # rank-based: a monotone transform of the output leaves it unchanged
    assert np.allclose(prcc(x, np.exp(y)), r)
    # an output that is a monotone function of one input alone: PRCC exactly 1 for it
    assert prcc(x, np.log(x[:, 2]))[2] == pytest.approx(1.0)
    # undefined, not zero, when the output does not vary or there are too few points
    assert np.isnan(prcc(x, np.ones(200))).all()
    assert np.isnan(prcc(x[:4], y[:4])).all()


@pytest.mark.slow
def test_planted_dominant_assumption_ranks_first_and_a_null_one_near_zero() -> None:
    """Withdrawal given a huge range (0 to 3 a year: most of the list leaves within months) must
    rank first for the list size; the price of support cannot change the list (with common random
    numbers it is exactly inert) and escalation does not move children on the list, so their
    PRCC intervals hold zero and they rank below the two assumptions that act on the list."""
    result = latin_hypercube(_small(), "waiting_list_end", samples=20, replications=1,
                             executor="serial", keys=KEYS,
                             ranges={"leaving.withdrawal_per_year": (0.0, 3.0)})
    table = result.table.set_index("parameter")
    assert result.table["parameter"].iloc[0] == "leaving.withdrawal_per_year"
    top = table.loc["leaving.withdrawal_per_year"]
    assert top["prcc"] < -0.9 and top["prcc_ci_high"] < 0 and top["prcc_p_value"] < 1e-6
    assert (top["low"], top["high"]) == (0.0, 3.0)
    # more referrals accepted, a longer list: a real effect, in its direction
    accept = table.loc["vetting.accept_probability"]
    assert accept["prcc"] > 0 and accept["prcc_ci_low"] > 0 and accept["rank"] == 2
    for null in ("support.cost_per_week", "escalation.unsupported_per_year"):
        row = table.loc[null]
        assert row["prcc_ci_low"] < 0 < row["prcc_ci_high"], null
        assert abs(row["prcc"]) < 0.6 and row["rank"] > 2, null
    # the design is a Latin hypercube: each range cut in 20 strata, each sampled once
    for key in KEYS:
        low, high = table.loc[key, ["low", "high"]]
        strata = np.floor(20 * (result.design[key] - low) / (high - low)).astype(int)
        assert sorted(strata) == list(range(20)), key
    assert len(prcc_chart(result).axes[0].patches) == len(KEYS)


def test_common_random_numbers_and_reproducibility() -> None:
    """Every design point runs the same children: referrals (which none of these assumptions
    touch) are identical at every point, so their ranking is undefined rather than noise; the
    same arguments give the same design and numbers."""
    tiny = Scenario().replace({"simulation.horizon_months": 2, "backlog.count": 50})
    keys = ["leaving.withdrawal_per_year", "support.cost_per_week"]
    first = latin_hypercube(tiny, "referrals", samples=6, replications=2, executor="serial",
                            keys=keys)
    per_rep = first.per_replication
    by_rep = per_rep.groupby("replication")["referrals"].nunique()
    assert (by_rep == 1).all()  # the same referrals at every point in each replication
    assert per_rep.groupby("replication")["referrals"].first().nunique() == 2  # replications differ
    assert first.table["prcc"].isna().all()
    again = latin_hypercube(tiny, "referrals", samples=6, replications=2, executor="serial",
                            keys=keys)
    pd.testing.assert_frame_equal(first.per_replication, again.per_replication)


def test_bad_requests_are_named() -> None:
    with pytest.raises(ValueError, match="profiling.practitioner_wte"):
        latin_hypercube(Scenario(), keys=["profiling.practitioner_wte"], executor="serial")
    with pytest.raises(ValueError, match="need at least"):
        latin_hypercube(Scenario(), samples=5, executor="serial")
    with pytest.raises(ValueError, match="low < high"):
        latin_hypercube(Scenario(), ranges={"leaving.withdrawal_per_year": (0.2, 0.1)},
                        executor="serial")


def test_cli_global_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gs"
    code = main(["sensitivity", str(ROOT / "scenarios" / "default.toml"), "--method", "global",
                 "--months", "2", "--set", "backlog.count=100", "--samples", "6",
                 "--replications", "1", "--only", "leaving.withdrawal_per_year",
                 "--only", "vetting.accept_probability",
                 "--range", "leaving.withdrawal_per_year=0:3", "--executor", "serial",
                 "--no-figures", "--out", str(out), "--quiet"])
    assert code == 0
    table = pd.read_csv(out / "global_sensitivity.csv")
    assert list(table["rank"]) == [1, 2]
    assert set(table["parameter"]) == {"leaving.withdrawal_per_year", "vetting.accept_probability"}
    assert len(pd.read_csv(out / "global_design.csv")) == 6
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["method"] == "latin_hypercube_prcc"
    assert provenance["ranges"]["leaving.withdrawal_per_year"] == [0.0, 3.0]
    assert "PRCC" in capsys.readouterr().out
    # user mistakes: exit 2 with the option named
    assert main(["sensitivity", str(ROOT / "scenarios" / "default.toml"), "--method", "global",
                 "--range", "leaving.withdrawal_per_year=0-3", "--out", str(tmp_path / "x")]) == 2
    assert "KEY=LOW:HIGH" in capsys.readouterr().err
    assert main(["sensitivity", str(ROOT / "scenarios" / "default.toml"), "--samples", "9",
                 "--out", str(tmp_path / "y")]) == 2
    assert "--method global only" in capsys.readouterr().err
    assert math.isfinite(table["prcc"].iloc[0])
