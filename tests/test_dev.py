"""``dev.py app``: the address it prints is the one the app serves (the user's port, if any)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dev():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def ports(cmd: list[str]) -> list[str]:
    """Every port the streamlit command line sets."""
    found = [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "--server.port"]
    return found + [a.split("=", 1)[1] for a in cmd if a.startswith("--server.port=")]


def test_the_default_port_is_8501(dev):  # type: ignore[no-untyped-def]
    cmd, url = dev.app_command([], environ={})
    assert url == "http://localhost:8501" and ports(cmd) == ["8501"]
    assert cmd[cmd.index("run") + 1] == "streamlit_app.py"


@pytest.mark.parametrize("rest", [["--server.port", "8601"], ["--server.port=8601"],
                                  ["--server.port", "8501", "--server.port", "8601"]])
def test_the_port_given_is_the_one_printed_and_the_only_one_set(dev, rest):  # type: ignore[no-untyped-def]
    cmd, url = dev.app_command(rest, environ={})
    assert url == "http://localhost:8601"
    assert ports(cmd) == ports(rest)  # the user's, and no default beside them
    assert ports(cmd)[-1] == "8601"  # streamlit takes the last one given


def test_streamlit_settings_from_the_environment_and_an_address(dev):  # type: ignore[no-untyped-def]
    cmd, url = dev.app_command([], environ={"STREAMLIT_SERVER_PORT": "8700"})
    assert url == "http://localhost:8700" and ports(cmd) == []  # streamlit reads the variable
    _, url = dev.app_command(["--server.address", "127.0.0.1", "--server.port", "9000"], environ={})
    assert url == "http://127.0.0.1:9000"
    _, url = dev.app_command(["--server.address=0.0.0.0"], environ={})
    assert url == "http://localhost:8501"  # every interface: this machine is one of them
    _, url = dev.app_command(["--server.address", "::1", "--server.port", "8601"], environ={})
    assert url == "http://[::1]:8601"
