"""The sanity panel in the app (app/sanity.py): the expander under a projection and the pack page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app.sanity import TITLE, pack_page, sanity_table
from model.experiment import run_replications
from model.scenario import Scenario


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    s = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 300})
    return run_replications(s, 2, executor="serial")


def test_table_and_pack_page(result) -> None:  # type: ignore[no-untyped-def]
    table = sanity_table(result)
    assert list(table.columns) == ["What", "Formula", "Simulation (95% interval)", "Check",
                                   "Assumptions and notes"]
    load = table[table["What"].str.startswith("Load")].iloc[0]
    assert float(load["Formula"]) > 1  # the default team is far below demand
    assert "agrees" in set(table["Check"])  # referrals a week at least
    page = pack_page(result, "Default")
    assert page.texts[0].get_text().startswith(TITLE)


def _page() -> None:
    from app.sanity import render
    from model.experiment import run_replications
    from model.scenario import Scenario

    s = Scenario().replace({"simulation.horizon_months": 3, "backlog.count": 300})
    render(run_replications(s, 2, executor="serial"))


def test_expander_renders() -> None:
    at = AppTest.from_function(_page, default_timeout=60).run()
    assert not at.exception
    assert at.expander[0].label == TITLE
    assert len(at.dataframe) == 1
