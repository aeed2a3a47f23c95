"""Driving the app under Streamlit's AppTest: shared by the app's test files."""

from __future__ import annotations

from typing import Any, Mapping

from streamlit.testing.v1 import AppTest


def start_app(settings: Mapping[str, Any], page: str | None = None, timeout: float = 180) -> AppTest:
    """The app with widget values preset by key (small horizons for tests), on ``page``."""
    at = AppTest.from_file("../streamlit_app.py", default_timeout=timeout)
    for key, value in settings.items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at: AppTest) -> str:
    """Every error message on the page, joined."""
    return " ".join(str(e.value) for e in at.error)


def tables(at: AppTest) -> list[Any]:
    """Every table on the page as a frame: interactive grids (``st.dataframe``) and the plain
    HTML tables (``st.table``) the pages use for results, whose cells wrap; their text as a
    reader reads it, without the invisible word joiners that keep a sign with its number
    (``raw_tables`` keeps them)."""
    return [d.value for d in at.dataframe] + [t.map(_as_read) for t in raw_tables(at)]


def raw_tables(at: AppTest) -> list[Any]:
    """The plain HTML tables (``st.table``) on the page, their cells as sent to the browser."""
    return [t.value for t in at.table]


def _as_read(value: Any) -> Any:
    return value.replace("\u2060", "") if isinstance(value, str) else value


def table_with(at: AppTest, column: str, index: int = 0) -> Any:
    """The ``index``-th table on the page that has ``column``."""
    return [t for t in tables(at) if column in t.columns][index]
