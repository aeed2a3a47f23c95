"""Uploaded extracts, read in memory, and small-count suppression for anything exported.

An upload never touches the disk: its bytes are read into a frame here and handed to
:func:`calibration.extract.read_extract`, which validates and pseudonymises it.
"""

from __future__ import annotations

from pathlib import PurePath

import pandas as pd

from calibration.extract import ExtractError, read_raw

SMALL_COUNT = 5
"""Counts from 1 to 4 are suppressed in tables exported from uploaded data (NHS practice)."""


def frame_from_upload(name: str, data: bytes) -> pd.DataFrame:
    """The uploaded file as a frame of text cells (CSV, Excel or Parquet, by extension), read in
    memory by the same reader as the command line (:func:`calibration.extract.read_raw`).

    Raises :class:`ExtractError` when the file cannot be used as a table: unreadable, empty,
    not UTF-8, not comma-separated, a column twice, or a header with no rows.
    """
    return read_raw(bytes(data), name=PurePath(name).name)


def suppress_small(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """``frame`` with counts from 1 to 4 shown as ``"<5"`` (zero and 5+ kept, as text).

    ``columns`` defaults to every numeric column. The counted columns become text so that a
    suppressed cell and a number can share a column in a table or a CSV.
    """
    out = frame.copy()
    numeric = [c for c in out.columns if pd.api.types.is_numeric_dtype(out[c])]
    for column in columns or numeric:
        values = pd.to_numeric(out[column])
        small = (values > 0) & (values < SMALL_COUNT)
        text = values.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
        out[column] = text.where(~small, f"<{SMALL_COUNT}")
    return out


def code_counts(report: dict[str, object]) -> pd.DataFrame:
    """The quality report's code counts as a table ``column, code, children``."""
    codes = report.get("codes", {})
    rows = [{"column": column, "code": code, "children": int(count)}
            for column, counts in dict(codes).items()  # type: ignore[call-overload]
            for code, count in counts.items()]
    return pd.DataFrame(rows, columns=["column", "code", "children"])
