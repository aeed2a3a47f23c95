"""Shared test set-up."""

from __future__ import annotations

import sys
from typing import Iterator

import pytest


@pytest.fixture(autouse=True)
def _main_module_restored() -> Iterator[None]:
    """Streamlit's AppTest runs its script as ``__main__`` and leaves it there; a later test in
    the same worker that starts processes by spawning (a Dask LocalCluster) would have each new
    process run that temporary script again and fail. Every test gets back the ``__main__`` it
    started with."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
