"""``--overwrite`` replaces a whole output folder's worth of results: after ``compare`` or
``calibrate`` (from an extract or a monthly series) with ``--overwrite``, no file or scenario
subfolder of the earlier command is left to contradict the new one, and files ndpath did not
write are kept."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calibration.synth import synthesise_extract
from model.scenario import Scenario
from ndpath.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
EXTRACT_DATE = "2025-12-31"
# small and quick to calibrate (as tests/test_calibration_executors.py's)
TRUTH = Scenario().replace({"backlog.count": 300, "arrivals.referrals_per_month": 60.0,
                            "assessment.professions.0.wte": 1.0})
QUICK = ["--months", "2", "--replications", "2", "--set", "backlog.count=50", "--quiet"]


@pytest.fixture(scope="module")
def extract_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extract") / "extract.csv"
    synthesise_extract(TRUTH, EXTRACT_DATE, 36, seed=3).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def bad_extract_file(extract_file: Path) -> Path:
    frame = pd.read_csv(extract_file, dtype=str)
    frame.loc[5, "referral_date"] = "31/02/2024"  # not a date: the row is set aside
    path = extract_file.with_name("bad.csv")
    frame.to_csv(path, index=False)
    return path


def _compare(out: Path, *names: str, extra: tuple[str, ...] = ()) -> None:
    assert main(["compare", *(str(SCENARIOS / f"{n}.toml") for n in names), *QUICK,
                 "--out", str(out), *extra]) == 0


def test_compare_overwrite_leaves_no_scenario_or_figure_of_the_earlier_comparison(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    _compare(out, "default", "extra_clinicians", "combined")
    assert (out / "combined" / "summary.json").is_file() and (out / "differences.png").is_file()
    (out / "my_notes.txt").write_text("mine")  # not ndpath's: kept
    (out / "mine").mkdir()  # a folder of the user's, not a results folder: kept
    (out / "mine" / "a.csv").write_text("x")

    _compare(out, "default", "extra_clinicians", extra=("--overwrite", "--no-figures"))
    assert not (out / "combined").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["clearance.csv", "comparison.csv", "default", "equity_comparison.csv",
         "extra_clinicians", "mine", "my_notes.txt", "provenance.json"])
    assert not list(out.rglob("*.png"))  # no figure of the earlier run, at the top or below
    assert (out / "mine" / "a.csv").read_text() == "x"
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["comparison"]) == {"extra_clinicians"}
    provenance = json.loads((out / "provenance.json").read_text())
    assert set(provenance["scenarios"]) == {"default", "extra_clinicians"}
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and (p / "summary.json").exists()
                  ) == ["default", "extra_clinicians"]


def test_compare_overwrite_keeps_a_file_of_the_users_in_an_old_scenario_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    _compare(out, "default", "combined", extra=("--no-figures",))
    (out / "combined" / "my_notes.txt").write_text("mine")
    capsys.readouterr()
    _compare(out, "default", "extra_clinicians", extra=("--overwrite", "--no-figures"))
    assert [p.name for p in (out / "combined").iterdir()] == ["my_notes.txt"]
    assert "combined holds files ndpath did not write" in capsys.readouterr().err


def _calibrate(extract: Path, out: Path, *extra: str) -> list[str]:
    return ["calibrate", str(extract), "--extract-date", EXTRACT_DATE, "--no-tune",
            "--out", str(out), *extra]


def test_calibrate_overwrite_removes_the_earlier_quarantine(
        extract_file: Path, bad_extract_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "cal"
    assert main(_calibrate(bad_extract_file, out, "--on-error", "quarantine")) == 0
    assert len(pd.read_csv(out / "quarantine.csv")) == 1
    (out / "my_notes.txt").write_text("mine")
    assert main(_calibrate(extract_file, out, "--overwrite")) == 0
    assert not (out / "quarantine.csv").exists()
    assert "**0 quarantined**" in (out / "report.md").read_text()
    assert (out / "my_notes.txt").read_text() == "mine"
    # and the other way: a quarantine written by the new calibration is kept
    assert main(_calibrate(bad_extract_file, out, "--on-error", "quarantine", "--overwrite")) == 0
    assert len(pd.read_csv(out / "quarantine.csv")) == 1


def test_monthly_overwrite_removes_the_extract_calibrations_files(
        extract_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "cal"
    assert main(_calibrate(extract_file, out)) == 0
    for name in ("backlog.csv", "waits_km.png", "list_size.png", "capacity.png"):
        assert (out / name).is_file(), name
    (out / "my_notes.txt").write_text("mine")
    assert main(["calibrate", "--monthly", "england", "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "arrivals.png", "calibrated.toml", "fit.json", "my_notes.txt", "report.md"]
