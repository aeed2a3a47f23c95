"""The app as a real server for a real browser: the browser tests and the app benchmark start it
the same way (``streamlit run`` on a free port, ready when its health check answers).

>>> with running_app() as app:  # doctest: +SKIP
...     page.goto(app.url)
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

ROOT = Path(__file__).resolve().parents[1]


class AppDidNotStart(RuntimeError):
    """The server exited, or did not answer its health check in time; ``log`` is its output."""

    def __init__(self, log: str) -> None:
        super().__init__("the app did not start")
        self.log = log


@dataclass
class RunningApp:
    url: str
    log_file: IO[bytes]

    def log(self, last_chars: int | None = None) -> str:
        """What the server has printed so far (its last ``last_chars`` characters)."""
        self.log_file.seek(0)
        text = self.log_file.read().decode(errors="replace")
        return text if last_chars is None else text[-last_chars:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_app(timeout_seconds: float = 60.0, port: int | None = None) -> Iterator[RunningApp]:
    """``streamlit run streamlit_app.py`` on a free local port (or on ``port``, where a shared
    machine sets aside ports for each person), until the block ends.

    Raises :class:`AppDidNotStart` (with the server's output) if it exits or does not answer
    its health check within ``timeout_seconds``.
    """
    port = port or free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        app = RunningApp(f"http://127.0.0.1:{port}", log)
        try:
            deadline = time.monotonic() + timeout_seconds
            while True:
                try:
                    with urllib.request.urlopen(f"{app.url}/_stcore/health", timeout=2) as reply:
                        if reply.read() == b"ok":
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AppDidNotStart(app.log())
                time.sleep(0.5)
            yield app
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


__all__ = ["AppDidNotStart", "RunningApp", "free_port", "running_app"]
