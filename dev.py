#!/usr/bin/env python3
"""Set up ndpath in a local virtual environment and run its main jobs.

Only the standard library is used here, so this runs on a fresh machine that has nothing but
Python 3.11:

    python3.11 dev.py app      # set up, then start the app on the default scenario (port 8501)
    python3.11 dev.py app --server.port 8601   # the same on another port (any streamlit option)
    python3.11 dev.py test     # set up, then run the whole test suite

The environment lives in ``.venv`` beside this file. It is re-installed only when
``pyproject.toml`` changes (a hash of it is kept in ``.venv/.dev-stamp``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".dev-stamp"
DEFAULT_PORT = 8501


def _run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def ensure_environment() -> None:
    """Create ``.venv`` and install ndpath with its test tools, if not already current."""
    if sys.version_info < (3, 11):
        sys.exit(f"ndpath needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        _run([sys.executable, "-m", "venv", str(VENV)])
    _run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", ".[dev]"])
    STAMP.write_text(wanted)


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser test when it is missing and we may install."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        print("note: chromium is not installed; the browser test will say so and fail", flush=True)
        return
    _run([apt, "update", "-qq"])
    _run([apt, "install", "-y", "-qq", "chromium"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in ``args`` (the last one given, as
    streamlit reads it), or ``None``."""
    value = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def app_command(rest: Sequence[str], environ: Mapping[str, str] = os.environ
                ) -> tuple[list[str], str]:
    """The ``streamlit run`` command for the app with the user's extra options, and the address
    it serves: the port and address the user gave (``--server.port``, ``--server.address``, or
    streamlit's ``STREAMLIT_SERVER_PORT`` / ``STREAMLIT_SERVER_ADDRESS``), else port 8501."""
    port = _option(rest, "--server.port") or environ.get("STREAMLIT_SERVER_PORT")
    address = _option(rest, "--server.address") or environ.get("STREAMLIT_SERVER_ADDRESS")
    cmd = [str(PYTHON), "-m", "streamlit", "run", "streamlit_app.py"]
    if port is None:
        cmd += ["--server.port", str(DEFAULT_PORT)]
    cmd += ["--server.headless", "true", "--browser.gatherUsageStats", "false", *rest]
    host = address if address and address not in ("0.0.0.0", "::") else "localhost"
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    return cmd, f"http://{host}:{port or DEFAULT_PORT}"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"app", "test", "setup"}:
        print(__doc__)
        return 2
    ensure_environment()
    job, rest = argv[0], argv[1:]
    if job == "setup":
        return 0
    if job == "app":
        cmd, url = app_command(rest)
        print(f"ndpath app: open {url}", flush=True)
        return subprocess.call(cmd, cwd=ROOT)
    ensure_chromium()
    # The suite runs on every core (pytest-xdist) unless the caller chose a worker count;
    # the statistical tests are independent, so the numbers do not depend on the split.
    if not any(a.startswith(("-n", "--numprocesses")) or a == "no:xdist" for a in rest):
        rest = ["-n", "auto", *rest]
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
