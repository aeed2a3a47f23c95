"""A calibration can be traced to its input and its warnings travel with its scenario.

fit.json (from an extract and from a monthly series) records the data file's SHA-256 and size,
every seed, the ndpath and library versions and the command; calibrated.toml carries the
SHA-256 in ``meta.source_sha256``, and ``ndpath run`` of it records that in provenance.json. A
monthly calibration's warnings go into ``meta.warnings``, are printed whenever the scenario is
run, and keep it illustrative when the team is not the service's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from calibration import ENGLAND_MONTHLY
from calibration.synth import synthesise_extract
from model import __version__
from model.results import library_versions
from model.scenario import Scenario, ScenarioError, load_scenario
from ndpath.cli import main

EXTRACT_DATE = "2025-12-31"
TRUTH = Scenario().replace({"backlog.count": 300, "arrivals.referrals_per_month": 60.0,
                            "assessment.professions.0.wte": 1.0})
RUN = ["--replications", "2", "--months", "2", "--executor", "serial", "--no-figures"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def extract_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extract") / "extract.csv"
    synthesise_extract(TRUTH, EXTRACT_DATE, 36, seed=3).to_csv(path, index=False)
    return path


def _provenance_is_complete(provenance: dict, data: Path, command: str) -> None:
    assert provenance["input_file"] == {"path": str(data), "sha256": sha256(data),
                                        "bytes": data.stat().st_size}
    assert provenance["package"] == {"name": "ndpath", "version": __version__}
    assert provenance["versions"] == library_versions()
    assert provenance["command"].startswith(f"ndpath calibrate {command}")
    assert provenance["created"]


def test_an_extract_calibration_records_its_data_and_seed_and_a_run_of_it_too(
        extract_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "cal"
    assert main(["calibrate", str(extract_file), "--extract-date", EXTRACT_DATE,
                 "--replications", "1", "--replay-months", "12", "--seed", "77",
                 "--out", str(out)]) == 0
    digest = sha256(extract_file)
    fit = json.loads((out / "fit.json").read_text())
    _provenance_is_complete(fit["provenance"], extract_file, str(extract_file))
    assert fit["provenance"]["seeds"] == {"replay": 77, "backlog_imputation": 20240601}
    report = (out / "report.md").read_text()
    assert digest in report and "replay 77" in report
    scenario = load_scenario(out / "calibrated.toml")
    assert scenario.meta.source_sha256 == digest and scenario.meta.source_file == "extract.csv"
    assert "replay seed 77" in (out / "calibrated.toml").read_text()

    run = tmp_path / "run"
    assert main(["run", str(out / "calibrated.toml"), *RUN, "--out", str(run), "--quiet"]) == 0
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["calibrated_from"] == {"path": "extract.csv", "sha256": digest}
    # the scenario written beside the run keeps it too
    assert load_scenario(run / "scenario.toml").meta.source_sha256 == digest


def test_the_replay_seed_recorded_is_the_one_given(extract_file: Path, tmp_path: Path) -> None:
    # --no-tune still replays recent history for the goodness of fit, with --seed
    out = tmp_path / "cal"
    assert main(["calibrate", str(extract_file), "--extract-date", EXTRACT_DATE, "--no-tune",
                 "--seed", "5", "--out", str(out)]) == 0
    assert json.loads((out / "fit.json").read_text())["provenance"]["seeds"]["replay"] == 5


def _service_series(path: Path) -> Path:
    """24 months of a service the size of the default scenario's, with its list and
    throughput: nothing is kept from a base scenario of another size."""
    months = pd.period_range("2023-01", periods=24, freq="M")
    pd.DataFrame({"month": months.astype(str), "new_referrals": 250,
                  "assessments_completed": [240 + (i % 3) for i in range(24)],
                  "open_referrals": [1000 + 10 * i for i in range(24)]}).to_csv(path, index=False)
    return path


def test_a_monthly_calibration_records_its_data_and_version(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    data = _service_series(tmp_path / "series.csv")
    out = tmp_path / "mon"
    assert main(["calibrate", "--monthly", str(data), "--out", str(out)]) == 0
    fit = json.loads((out / "fit.json").read_text())
    assert fit["ndpath_version"] == __version__
    _provenance_is_complete(fit["provenance"], data, f"--monthly {data}")
    assert fit["provenance"]["seeds"] == {}  # a monthly fit draws no random numbers
    assert fit["warnings"] == []
    scenario = load_scenario(out / "calibrated.toml")
    assert scenario.meta.source_sha256 == sha256(data)
    assert scenario.meta.warnings is None and scenario.meta.illustrative is False
    assert sha256(data) in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["run", str(out / "calibrated.toml"), *RUN, "--out", str(tmp_path / "r")]) == 0
    assert "Warning" not in capsys.readouterr().out


def test_the_england_calibrations_warnings_are_said_when_its_scenario_is_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mon"
    assert main(["calibrate", "--monthly", "england", "--out", str(out)]) == 0
    fit = json.loads((out / "fit.json").read_text())
    assert fit["provenance"]["input_file"]["sha256"] == sha256(ENGLAND_MONTHLY)
    scenario = load_scenario(out / "calibrated.toml")
    warnings = scenario.meta.warnings
    assert warnings is not None and list(warnings) == fit["warnings"]
    assert any("times capacity" in w for w in warnings)
    assert any("starts with nobody waiting" in w for w in warnings)
    assert any("providers reporting" in w for w in warnings)  # the data's own caveat
    assert scenario.meta.illustrative is True  # the team is the base scenario's, not England's
    report = (out / "report.md").read_text()
    assert "providers reporting to it rose over the period" in report

    capsys.readouterr()
    run = tmp_path / "run"
    assert main(["run", str(out / "calibrated.toml"), *RUN, "--out", str(run)]) == 0
    said = capsys.readouterr().out
    for warning in warnings:
        assert f"from the calibration of this scenario: {warning}" in said
    assert said.index("times capacity") < said.index("Referrals received")  # before the numbers
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["warnings"] == list(warnings) and provenance["illustrative"] is True


def test_the_england_caveat_is_only_the_england_series(tmp_path: Path) -> None:
    data = tmp_path / "copy.csv"
    data.write_bytes(_service_series(tmp_path / "s.csv").read_bytes())
    out = tmp_path / "mon"
    assert main(["calibrate", "--monthly", str(data), "--out", str(out)]) == 0
    assert "providers reporting" not in (out / "report.md").read_text()


def test_the_source_sha256_must_be_a_sha256() -> None:
    with pytest.raises(ScenarioError, match="meta.source_sha256"):
        Scenario().replace({"meta.source_sha256": "not a digest"})


def test_a_base_scenarios_source_is_not_taken_for_the_new_calibrations() -> None:
    from calibration.monthly import calibrate_monthly, read_monthly
    from calibration.report import calibration_provenance, with_source

    base = Scenario().replace({"meta.source_file": "old.csv", "meta.source_sha256": "a" * 64,
                               "meta.warnings": ["an old warning"]})
    months = [str(m) for m in pd.period_range("2023-01", periods=24, freq="M")]
    result = calibrate_monthly(read_monthly(pd.DataFrame({"month": months,
                                                          "new_referrals": ["250"] * 24})),
                               base=base)
    written = with_source(result.scenario, calibration_provenance(result.series.source, (), {}),
                          result.warnings)
    assert written.meta.source_file is None and written.meta.source_sha256 is None
    assert "an old warning" not in (written.meta.warnings or ())
