"""The wheel works outside the repository (issue 14).

Built from a copy of the source tree (app/ and benchmarks/ included, to show they are left out),
installed without dependencies into a fresh virtual environment that borrows this environment's
packages through a ``.pth`` file (nothing is downloaded), and run from an empty folder: the
shipped scenarios and the bundled England series come with the package.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "model", "calibration", "ndpath", "scenarios", "app", "benchmarks")


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the ndpath wheel installed; returns its bin folder."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "results", "*.egg-info"))
        else:
            shutil.copy2(item, source / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "--quiet", "-w", str(base / "dist"), str(source)], base)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((base / "dist").glob("ndpath-*.whl"))
    env = base / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    site_packages = next(env.glob("lib/python3*/site-packages"))
    # the dependencies (numpy, simpy, ...) from this environment, after the wheel's own files
    (site_packages / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    done = _run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install",
                 "--no-deps", "--no-index", "--quiet", str(wheel)], base)
    assert done.returncode == 0, done.stderr[-3000:]
    return env / "bin"


@pytest.mark.slow
def test_wheel_installs_the_library_only(installed: Path, tmp_path: Path) -> None:
    site_packages = next(installed.parent.glob("lib/python3*/site-packages"))
    assert (site_packages / "model" / "scenarios" / "default.toml").is_file()
    assert (site_packages / "model" / "scenarios" / "validation" / "mmc.toml").is_file()
    assert next((site_packages / "calibration" / "data").glob("england_*.csv")).is_file()
    assert not (site_packages / "app").exists() and not (site_packages / "benchmarks").exists()
    top = next(site_packages.glob("ndpath-*.dist-info")) / "top_level.txt"
    assert sorted(top.read_text().split()) == ["calibration", "model", "ndpath"]
    assert (site_packages / "ndpath" / "cli.py").is_file()
    where = _run([str(installed / "python"), "-c",
                  "import importlib.util as u, model; print(model.__file__); "
                  "print(u.find_spec('app'), u.find_spec('benchmarks'))"], tmp_path)
    assert where.stdout.splitlines() == [str(site_packages / "model" / "__init__.py"),
                                         "None None"], where.stderr


@pytest.mark.slow
def test_installed_commands_find_the_shipped_scenarios_from_any_folder(installed: Path,
                                                                       tmp_path: Path) -> None:
    ndpath = str(installed / "ndpath")
    listed = _run([ndpath, "scenarios"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "default.toml" in listed.stdout and "combined.toml" in listed.stdout

    ran = _run([ndpath, "run", "default", "--months", "2", "--replications", "1", "--no-figures",
                "--executor", "serial", "--quiet", "--out", "out"], tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["metrics"]["waiting_list_end"]["mean"] > 0
    # a scenario written elsewhere extends a shipped one by name
    (tmp_path / "mine.toml").write_text('extends = "combined.toml"\n[support]\nplaces = 100\n')
    checked = _run([ndpath, "check", "mine.toml", "default"], tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count(": valid:") == 2

    synth = _run([ndpath, "synth", "default", "--extract-date", "2025-12-31",
                  "--history-months", "2", "--out", "extract.csv"], tmp_path)
    assert synth.returncode == 0, synth.stderr[-3000:]
    valid = _run([ndpath, "validate", "extract.csv", "--extract-date", "2025-12-31"], tmp_path)
    assert valid.returncode == 0 and "No problems found" in valid.stdout, valid.stderr[-3000:]

    england = _run([ndpath, "calibrate", "--monthly", "england", "--age-band", "0-17", "--out",
                    "cal"], tmp_path)
    assert england.returncode == 0, england.stderr[-3000:]
    assert (tmp_path / "cal" / "calibrated.toml").is_file()

    missing = _run([ndpath, "run", "no_such_scenario"], tmp_path)
    assert missing.returncode == 2 and "ndpath scenarios lists" in missing.stderr
