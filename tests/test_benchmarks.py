"""The benchmark command runs end to end in its quick mode and reports every figure.

Speed itself is measured by ``python -m benchmarks``, never asserted in tests; this checks that the
command works, that the three queue models agree with Erlang C, and that the JSON is complete.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.textbook import erlang_c_wait, textbook_queue


def test_textbook_queue_is_m_m_10_at_load_0_9_with_the_customers_asked_for() -> None:
    queue = textbook_queue(200_000)
    assert queue.servers == 10
    assert queue.lam / (queue.servers * queue.mu) == pytest.approx(0.9)
    assert queue.expected_customers == pytest.approx(200_000, rel=0.001)
    # Erlang C for c = 10, a = 9: P(wait) = 0.6687, mean wait P(wait) / (c mu - lambda)
    assert erlang_c_wait(9.0, 1.0, 10) == pytest.approx(0.6687, abs=1e-4)


@pytest.mark.slow
def test_quick_benchmark_reports_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "quick.json"
    assert main(["--quick", "--output", str(output)]) == 0
    results = json.loads(output.read_text())
    printed = capsys.readouterr().out
    for figure in ("0) ndpath --help", "0) ndpath run default", "0) app:", "0) full default pathway",
                   "a) ndpath / plain SimPy", "a) ndpath / Ciw", "b)   normalised", "c) wall vs horizon",
                   "c) wall vs replications", "d) peak memory", "e) calibration"):
        assert figure in printed
    a = results["a_textbook_queue"]
    erlang = a["erlang_c_mean_wait_days"]
    for tool in ("ndpath", "plain_simpy", "ciw"):
        run = a["runs"][tool]
        assert run["customers"] == pytest.approx(20_000, rel=0.05)
        assert run["customers_per_second"] > 0
    # all three simulate the same queue: each mean wait within 4 batch-means standard errors of
    # Erlang C (the benchmark's own check uses 3 and prints the z-scores)
    for tool in ("ndpath", "plain_simpy", "ciw"):
        run = a["runs"][tool]
        assert 0 < run["wait_se_days"] < 0.2 * erlang
        assert abs(run["mean_wait_days"] - erlang) <= 4 * run["wait_se_days"], tool
    z = results["z_end_to_end"]
    assert z["pathway"]["children"] > 0 and z["pathway"]["engine_children_per_second"] > 0
    assert len(z["help"]["seconds"]) == 2 and z["cli_run"]["median_seconds"] > 0
    b = results["b_default_scenario"]
    assert b["children"] > 0 and b["normalised_seconds"] > 0
    for scan in ("horizon", "replications"):
        fit = results["c_scaling"][scan]["fit"]
        assert math.isfinite(fit["slope"])  # its sign is a timing: measured by the benchmark, not asserted
    d = results["d_memory"]
    assert 0 < d["sampled_peak_mib"] <= d["rusage_bound_mib"] * 1.5
    assert "available" in results["e_calibration"]


def test_the_fingerprint_is_the_same_on_a_rerun_and_moves_with_a_rate_10_percent_off(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The digests a refactor is checked with: the same run twice gives the same digest, a
    referral rate 10% off another, and ``--against`` lists what changed and exits 1."""
    from benchmarks import fingerprint
    from model.scenario import load_scenario

    scenario = load_scenario(fingerprint.SCENARIOS / "default.toml",
                             ["simulation.horizon_months=6"])
    rate = scenario.arrivals.referrals_per_month
    assert fingerprint.digest(scenario, 0) == fingerprint.digest(scenario, 0)
    assert fingerprint.digest(scenario, 0) != fingerprint.digest(
        scenario.replace({"arrivals.referrals_per_month": rate * 1.1}), 0)
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    assert fingerprint.main([str(before), "--months", "3"]) == 0
    assert fingerprint.main([str(after), "--months", "3", "--against", str(before)]) == 0
    same = re.search(r"(\d+) of (\d+) the same float for float", capsys.readouterr().out)
    assert same and same[1] == same[2] == str(2 * len(fingerprint.VARIANTS) + 2 * len(
        list(fingerprint.SCENARIOS.glob("*.toml"))))
    moved = json.loads(before.read_text())
    moved["default.toml#0"] = "0" * 16
    before.write_text(json.dumps(moved))
    assert fingerprint.main([str(after), "--months", "3", "--against", str(before)]) == 1
    assert "changed: default.toml#0" in capsys.readouterr().out
