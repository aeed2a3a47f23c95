"""The scenario notebook executes from top to bottom (the calibration one is tested with calibration)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.slow
def test_scenarios_notebook_runs() -> None:
    import nbformat
    from nbclient import NotebookClient

    path = NOTEBOOKS / "00_scenarios.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                   for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "most influential:" in text and "parameters uncertain" in text
    images = sum("image/png" in o.get("data", {}) for c in notebook.cells if c.cell_type == "code"
                 for o in c.get("outputs", []))
    assert images >= 3  # fan chart, differences, tornado
