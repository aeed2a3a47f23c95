"""Reading and validating patient-level pathway extracts (DESIGN.md section 4a).

One row per referral, from CSV, Excel or Parquet. Reading accepts the common forms real extracts
arrive in, and never guesses silently:

* dates as ISO (``2024-03-01``), UK day-first (``01/03/2024``, ``1-3-2024``, ``01.03.2024``) or
  Excel serial numbers (``45352``); anything else (two-digit years, month-first dates such as
  ``03/25/2024``) is a reported problem. The order is decided per column (:func:`date_order`):
  a column whose cells can only be month-first (and none only day-first), or that mixes the
  two, is a whole-column problem, since its ambiguous cells (``03/04/2024``) cannot be read
  safely; how many cells were read day-first is counted (:attr:`PathwayTable.read_day_first`);
* codes in any case, with stray spaces, and local synonyms mapped through :data:`SYNONYMS`
  (``"ASD"`` → ``autism``); an unknown code is a reported problem;
* blanks as ``""``, ``"N/A"``, ``"NA"``, ``"NULL"``, ``"nan"`` or ``"-"`` (never ``"none"``, which
  is an outcome).

:func:`validate_extract` collects every problem (row, column, value, what is wrong, how to fix it)
in one pass. :func:`read_extract` then either stops with all of them (:class:`ExtractError`) or,
with ``on_error="quarantine"``, sets the bad rows aside (:attr:`PathwayTable.quarantine`) and
keeps the rest: ``len(table.data) + len(table.quarantine) == table.input_rows`` always.

Referral ids are replaced by keyed pseudonyms as the file is read; the original ids are dropped
and never reach any output.

>>> import pandas as pd
>>> raw = pd.DataFrame({"referral_id": ["a1", "a2"], "referral_date": ["01/03/2024", "2024-03-05"],
...                     "pathway": [" ASD", "adhd"]})
>>> table = read_extract(raw, extract_date="2024-06-30")
>>> list(table.data["pathway"])
['autism', 'adhd']
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import difflib
import hashlib
import hmac
import io
import logging
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

OnError = Literal["stop", "quarantine"]

REQUIRED_COLUMNS = ("referral_id", "referral_date")
DATE_COLUMNS = ("referral_date", "triage_date", "support_start_date", "support_end_date",
                "assessment_start_date", "assessment_end_date", "discharge_date")
CODES: dict[str, tuple[str, ...]] = {
    "pathway": ("autism", "adhd", "both"),
    "priority": ("routine", "urgent"),
    "triage_outcome": ("assessment", "needs_led", "signposted"),
    "outcome": ("autism", "adhd", "other_nd", "none"),
    # ``rejected`` (declined at vetting) is an ndpath addition to DESIGN.md 4a's list. Three
    # different ways of leaving without a diagnosis are kept apart, because each has its own
    # rate and its own time at risk: ``needs_met`` (needs met while supported), ``needs_led``
    # (a needs-led plan from profiling instead of the list) and ``signposted`` (at profiling)
    "discharge_reason": ("withdrawn", "moved", "private", "aged_out", "needs_met", "needs_led",
                         "signposted", "rejected"),
    "looked_after_or_cin": ("yes", "no"),
}
NUMERIC_COLUMNS: dict[str, tuple[float, float]] = {
    "age_at_referral": (0.0, 18.0),
    "deprivation_quintile": (1.0, 5.0),
}
TEXT_COLUMNS = ("locality",)
"""Optional free-text attributes (stripped; a blank is missing)."""
ID_COLUMNS = ("child_id",)
"""Optional ids, pseudonymised on reading like ``referral_id`` (the same child on a later row
is a re-referral, DESIGN.md 4a)."""
KNOWN_COLUMNS = (REQUIRED_COLUMNS + DATE_COLUMNS[1:] + tuple(CODES) + tuple(NUMERIC_COLUMNS)
                 + TEXT_COLUMNS + ID_COLUMNS)
ATTRIBUTE_COLUMNS = ("pathway", "age_at_referral", "priority", "looked_after_or_cin",
                     "deprivation_quintile", "locality")
"""Optional attributes of the child: with ``on_error="quarantine"`` a bad value in one of these
becomes missing (and is listed) instead of setting the whole referral aside, since the referral,
its dates and its place on the list are sound (dropping it would bias demand and the list down)."""

ABSENT_MEANS = {
    "assessment_start_date": "no child counts as assessed: all without a discharge are still "
                             "waiting",
    "discharge_date": "no child counts as having left the list without assessment",
    "pathway": "every referral is taken as autism",
    "age_at_referral": "ages come from the base scenario's referral mix",
    "locality": "no breakdown by locality (the base scenario's localities, if any, are kept)",
    "child_id": "re-referrals cannot be seen: the fitted referrals include any children "
                "coming back, and re-referral is not modelled separately",
}
"""What the absence of an optional column means for the fit (said, never silently assumed)."""

BLANKS = frozenset({"", "n/a", "na", "null", "nan", "nat", "-", "<na>"})

SYNONYMS: dict[str, dict[str, str]] = {
    "pathway": {
        "asd": "autism", "asc": "autism", "autistic spectrum disorder": "autism",
        "autism spectrum disorder": "autism", "autism spectrum condition": "autism",
        "add": "adhd", "attention deficit hyperactivity disorder": "adhd",
        "asd+adhd": "both", "asd/adhd": "both", "asd & adhd": "both", "autism and adhd": "both",
        "adhd and autism": "both", "dual": "both", "combined": "both", "nd": "both",
    },
    "priority": {
        "normal": "routine", "standard": "routine", "non-urgent": "routine", "non urgent": "routine",
        "expedited": "urgent", "high": "urgent", "priority": "urgent", "urgent": "urgent",
    },
    "triage_outcome": {
        "diagnostic": "assessment", "diagnostic assessment": "assessment", "mdt": "assessment",
        "needs led": "needs_led", "needs-led": "needs_led", "support plan": "needs_led",
        "signpost": "signposted", "signposting": "signposted", "discharged": "signposted",
    },
    "outcome": {
        "asd": "autism", "asc": "autism", "autistic": "autism", "autism diagnosed": "autism",
        "adhd diagnosed": "adhd", "other": "other_nd", "other nd": "other_nd",
        "other neurodevelopmental": "other_nd", "no diagnosis": "none", "not autistic": "none",
        "no nd diagnosis": "none", "not diagnosed": "none",
    },
    "discharge_reason": {
        "withdrew": "withdrawn", "parent withdrew": "withdrawn", "dna": "withdrawn",
        "did not attend": "withdrawn", "moved away": "moved", "moved out of area": "moved",
        "out of area": "moved", "private provider": "private", "right to choose": "private",
        "rtc": "private", "independent provider": "private", "aged out": "aged_out",
        "turned 18": "aged_out", "transferred to adult services": "aged_out",
        "transition to adult services": "aged_out", "needs met": "needs_met",
        "needs met while supported": "needs_met", "needs met by support": "needs_met",
        "needs led": "needs_led", "needs-led": "needs_led", "needs-led plan": "needs_led",
        "needs led plan": "needs_led", "needs-led support": "needs_led", "support plan": "needs_led",
        "signpost": "signposted", "signposting": "signposted", "signposted elsewhere": "signposted",
        "declined": "rejected", "not accepted": "rejected", "referral rejected": "rejected",
    },
    "looked_after_or_cin": {
        "y": "yes", "true": "yes", "1": "yes", "lac": "yes", "cin": "yes",
        "n": "no", "false": "no", "0": "no",
    },
}
"""Local codes accepted for each coded column (matched after lower-casing and trimming)."""

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
EXCEL_SERIAL_RANGE = (18_264, 73_051)  # 1950-01-01 .. 2099-12-31: anything else is not a date here


# -------------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an extract.

    ``row`` is the spreadsheet row (the header is row 1, so the first record is row 2), or
    ``None`` for a problem with the whole file (a missing column).
    """

    row: int | None
    column: str | None
    value: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        value = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        shown = f" {value!r}" if value else ""
        return f"{', '.join(where) or 'file'}:{shown} {self.message} ({self.fix})"

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "value": self.value,
                "problem": self.message, "fix": self.fix}


class ExtractError(ValueError):
    """An extract cannot be used as it is; ``problems`` lists every problem found."""

    SHOWN = 100

    def __init__(self, problems: Sequence[Problem], origin: str = "extract",
                 quarantine_hint: bool = True, marks: Sequence[str | None] | None = None,
                 monthly: bool = False) -> None:
        """``marks``: beside each problem, what ``on_error="quarantine"`` does with it (see
        :func:`problem_handling`), said as such in the first line.

        ``monthly``: the problems of a monthly series, which ``ndpath validate`` cannot read:
        many alike (one column, one message, one fix) are said in one line with their count
        and rows (:func:`alike_lines`), and every line is shown, none left to another command.
        """
        self.problems = list(problems)
        self.origin = origin
        if monthly:
            lines = [f"  - {line}" for line in alike_lines(self.problems)]
        else:
            shown = list(marks) if marks is not None else [None] * len(self.problems)
            lines = [f"  - {p}" + (f" [{mark}]" if mark else "")
                     for p, mark in zip(self.problems[: self.SHOWN], shown)]
            more = len(self.problems) - self.SHOWN
            if more > 0:
                lines.append(f"  ... and {more} more (ndpath validate --problems FILE writes "
                             "them all)")
        whole = any(p.row is None for p in self.problems)
        hint = ("\nA problem without a row (with the whole file or a whole column) stops the "
                "reading even with --on-error quarantine: fix it in the extract."
                if whole and any(p.row is not None for p in self.problems) else
                "\nFix these in the extract, or pass --on-error quarantine to set the bad rows "
                "aside and use the rest." if quarantine_hint
                and any(p.row is not None for p in self.problems) else "")
        marked = (", each marked with what --on-error quarantine does with it"
                  if marks is not None and any(shown) else "")
        super().__init__(f"{origin} has {len(self.problems)} problem(s){marked}:\n"
                         + "\n".join(lines) + hint)


ALIKE = 3
"""This many problems alike or more (one column, message and fix) are said in one line."""


def consecutive_runs(items: Iterable[Any]) -> list[list[Any]]:
    """Sorted distinct ``items`` (rows, months) in runs that follow on by one:
    ``[[2, 3, 4], [9]]``."""
    runs: list[list[Any]] = []
    for item in sorted(set(items)):
        if runs and item == runs[-1][-1] + 1:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def row_ranges(rows: Sequence[int], most: int = 6) -> str:
    """Rows as runs: ``rows 2-88, 95``; past ``most`` runs, how many more rows."""
    runs = consecutive_runs(rows)
    text = ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs[:most])
    rest = sum(len(r) for r in runs[most:])
    return ("rows " if len(rows) > 1 else "row ") + text + (f" and {rest:,} more" if rest else "")


def alike_lines(problems: Sequence[Problem]) -> list[str]:
    """Every problem as a line, those alike (:data:`ALIKE` or more with one column, message
    and fix) as one: ``column month: 87 rows like '04/2019' (rows 2-88): each is written
    MM/YYYY, not YYYY-MM (write ...)``, in the order each kind first appears."""
    groups: dict[tuple[str | None, str, str], list[Problem]] = {}
    for p in problems:
        if p.row is not None:
            groups.setdefault((p.column, p.message, p.fix), []).append(p)
    lines, said = [], set()
    for p in problems:
        key = (p.column, p.message, p.fix)
        alike = groups.get(key, []) if p.row is not None else []
        if len(alike) < ALIKE:
            lines.append(str(p))
        elif key not in said:
            said.add(key)
            values = list(dict.fromkeys(a.value for a in alike))
            like = ", ".join(repr(v) for v in values[:3]) + (", ..." if len(values) > 3 else "")
            lines.append(f"column {p.column}: {len(alike):,} rows like {like} "
                         f"({row_ranges([a.row for a in alike])}): each {p.message} "  # type: ignore[misc]
                         f"({p.fix})")
    return lines


def problems_frame(problems: Sequence[Problem], table: "PathwayTable | None" = None
                   ) -> pd.DataFrame:
    """Problems as a table (``row, column, value, problem, fix``) for files and the app; with
    the ``table`` read with ``on_error="quarantine"``, a ``handling`` column says what was done
    with each (:func:`problem_handling`)."""
    frame = pd.DataFrame([p.as_dict() for p in problems],
                         columns=["row", "column", "value", "problem", "fix"])
    if table is not None:
        frame["handling"] = [h or "" for h in problem_handling(table, problems)]
    return frame


SET_ASIDE = "row set aside"
"""What ``on_error="quarantine"`` does with a row that has a problem other than a bad optional
attribute: the whole referral is left out (into quarantine.csv)."""
KEPT_AS_MISSING = "row kept; value read as missing"
"""... and with a bad optional attribute (:data:`ATTRIBUTE_COLUMNS`) on an otherwise sound row."""


def problem_handling(table: "PathwayTable", problems: Sequence[Problem]) -> list[str | None]:
    """For each of ``problems``, :data:`SET_ASIDE` or :data:`KEPT_AS_MISSING`: what reading
    ``table`` with ``on_error="quarantine"`` did with its row (``None`` for a whole-file
    problem). A bad optional value on a row set aside for another problem goes with its row."""
    aside = {int(r) for r in table.quarantine.get("row", [])}
    missing = set(table.set_missing)
    return [None if p.row is None else SET_ASIDE if p.row in aside
            else KEPT_AS_MISSING if p in missing else SET_ASIDE for p in problems]


# -------------------------------------------------------------------------------------------------
# Reading raw files


SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
            ".parquet": "parquet", ".pq": "parquet"}
DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars (|)"}


def _whole_file(value: str, message: str, fix: str, column: str | None = None) -> Problem:
    return Problem(None, column, value, message, fix)


def _decode_csv(data: bytes, origin: str) -> str:
    """The CSV's text; a file that is not UTF-8 is a problem naming the byte and the fix."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ExtractError([_whole_file(
            "", f"is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}; Excel's "
                "plain 'CSV' saves in the Windows encoding, which breaks on £, é or curly quotes)",
            "save it as 'CSV UTF-8 (Comma delimited)' in Excel, or re-save it with UTF-8 "
            "encoding")], origin) from None


def _header_cells(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)), [])


def _delimiter_problem(header: list[str]) -> Problem | None:
    """A header read as one column that holds another separator: the file is not comma-separated."""
    if len(header) != 1:
        return None
    for delimiter, name in DELIMITERS.items():
        if delimiter in header[0]:
            columns = ", ".join(c.strip() for c in header[0].split(delimiter))
            return _whole_file(header[0], f"the columns are separated by {name}, not commas "
                                          f"(columns {columns} read as one)",
                               "save it as comma-separated CSV (in Excel: 'CSV UTF-8 (Comma "
                               "delimited)')")
    return None


def _duplicate_columns(names: Sequence[object]) -> list[Problem]:
    """Columns whose names are the same once case and spaces are set aside: which copy is
    meant cannot be known, so neither is used."""
    seen: dict[str, list[str]] = {}
    for name in names:
        seen.setdefault(_column_name(name), []).append(str(name))
    return [_whole_file("", f"appears {len(raw)} times (headers {', '.join(repr(r) for r in raw)}; "
                            "names are compared ignoring case and spaces), so which copy to use "
                            "is unknown", "keep one column of that name: rename or delete the "
                                          "others", column=key)
            for key, raw in seen.items() if len(raw) > 1]


def _read_bytes(data: bytes, kind: str, origin: str) -> pd.DataFrame:
    """One file's bytes as a frame, every whole-file problem an :class:`ExtractError`."""
    if not data.strip():
        raise ExtractError([_whole_file("", "the file is empty",
                                        "export the data again: a header row of column names "
                                        "and one row per record")], origin)
    header: list[object]
    if kind == "csv":
        text = _decode_csv(data, origin)
        header = list(_header_cells(text))
        delimiter = _delimiter_problem([str(h) for h in header])
        if delimiter is not None:
            raise ExtractError([delimiter], origin)
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    elif kind == "excel":
        frame = pd.read_excel(io.BytesIO(data), dtype=object, header=None)
        if frame.empty:
            raise ExtractError([_whole_file("", "the first sheet is empty",
                                            "put the data on the first sheet, with a header "
                                            "row")], origin)
        header = [f"unnamed_{i}" if pd.isna(h) else h for i, h in enumerate(frame.iloc[0])]
        frame = frame.iloc[1:].reset_index(drop=True)
        frame.columns = [str(h) for h in header]
    else:
        frame = pd.read_parquet(io.BytesIO(data))
        header = list(frame.columns)
    problems = _duplicate_columns(header)
    if problems:
        raise ExtractError(problems, origin)
    return frame


def read_raw(source: str | Path | pd.DataFrame | bytes, name: str | None = None) -> pd.DataFrame:
    """Read an extract file (CSV, Excel or Parquet, by extension) as text cells.

    ``source`` is a path, a frame, or the bytes of an uploaded file with its ``name``.
    Every cell becomes a string (dates from Excel/Parquet as ISO, whole numbers without ``.0``),
    so that one validator sees every format alike. Column names are trimmed, lower-cased and
    spaces become underscores. Raises :class:`ExtractError` if the file cannot be used as a
    table: unreadable, empty, not UTF-8, not comma-separated, a column name twice, or a header
    with no rows.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        origin = name or "extract"
        problems = _duplicate_columns(list(frame.columns))
        if problems:
            raise ExtractError(problems, origin)
    else:
        if isinstance(source, (bytes, bytearray)):
            origin = name or "upload"
            suffix, data = Path(origin).suffix.lower(), bytes(source)
        else:
            path = Path(source)
            origin, suffix = str(path), path.suffix.lower()
            if path.is_dir():
                raise ExtractError([_whole_file(str(path), "is a folder, not a file",
                                                "give the extract file itself")], origin)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise ExtractError([_whole_file(str(path), "file not found", "check the path")],
                                   origin) from None
            except OSError as error:
                raise ExtractError([_whole_file(str(path), f"cannot be read ({error.strerror})",
                                                "check the file's permissions")], origin) from None
        if suffix not in SUFFIXES:
            raise ExtractError([_whole_file(suffix, "is not a supported file type",
                                            "save the extract as .csv, .xlsx or .parquet")], origin)
        try:
            frame = _read_bytes(data, SUFFIXES[suffix], origin)
        except ExtractError:
            raise
        except Exception as error:  # the readers raise many types; all mean "cannot read"
            raise ExtractError([_whole_file(origin, f"cannot be read as {suffix}: {error}",
                                            "check that it is a valid CSV, Excel or Parquet file "
                                            "with a header row")], origin) from None
    if len(frame) == 0:
        raise ExtractError([_whole_file("", "has column names but no rows",
                                        "export the rows too: one row per record under the "
                                        "header")], origin)
    frame.columns = [_column_name(c) for c in frame.columns]
    return frame.apply(_as_text).reset_index(drop=True)


def _column_name(name: object) -> str:
    return re.sub(r"\s+", "_", str(name).strip().lower())


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (np.floating,)):
        return _cell_text(float(value))
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


def _as_text(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.strftime("%Y-%m-%d").fillna("").astype(object)
    return column.map(_cell_text).astype(object)


# -------------------------------------------------------------------------------------------------
# Cell parsers (vectorised; each returns parsed values and a mask of unreadable cells)


def blank_mask(text: pd.Series) -> pd.Series:
    """True where a cell is a blank in any of the forms extracts use."""
    return text.str.strip().str.lower().isin(BLANKS)


def parse_dates(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates from ISO, UK day-first or Excel serial cells; returns (dates, unreadable mask).

    Blank cells give NaT and are not unreadable.
    """
    stripped = text.str.strip()
    blank = blank_mask(stripped)
    iso = stripped.str.replace(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", regex=True)
    out = pd.to_datetime(iso.where(iso.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}"), None),
                         format="%Y-%m-%d", errors="coerce")
    uk = iso.str.replace(r"[.\-]", "/", regex=True)
    uk_ok = uk.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}")
    out = out.fillna(pd.to_datetime(uk.where(uk_ok, None), format="%d/%m/%Y", errors="coerce"))
    serial = pd.to_numeric(stripped.where(stripped.str.fullmatch(r"\d{5}(\.0+)?"), None),
                           errors="coerce")
    serial = serial.where((serial >= EXCEL_SERIAL_RANGE[0]) & (serial <= EXCEL_SERIAL_RANGE[1]))
    out = out.fillna(EXCEL_EPOCH + pd.to_timedelta(serial, unit="D"))
    out = pd.to_datetime(out).dt.normalize()
    return out, out.isna() & ~blank


@dataclass(frozen=True)
class DateOrder:
    """Which order a column's ``NN/NN/YYYY`` cells (also with ``-`` or ``.``) can be read in.

    Masks over the column: ``day_first_only`` reads only as DD/MM (``25/03/2024``),
    ``month_first_only`` only as MM/DD (``03/25/2024``), ``ambiguous`` both ways as two
    different days (``03/04/2024``: 3 April or 4 March); ``day_first`` is every cell read as
    DD/MM (the ambiguous ones, ones like ``05/05/2024`` that read the same either way, and
    ``day_first_only``).
    """

    day_first_only: pd.Series
    month_first_only: pd.Series
    ambiguous: pd.Series
    day_first: pd.Series

    @property
    def mixed(self) -> bool:
        """Some cells can only be day-first and others only month-first."""
        return bool(self.day_first_only.any() and self.month_first_only.any())

    @property
    def month_first(self) -> bool:
        """Cells that can only be month-first, none that can only be day-first, and ambiguous
        cells that would be misread as day-first."""
        return bool(self.month_first_only.any() and not self.day_first_only.any()
                    and self.ambiguous.any())


def date_order(text: pd.Series) -> DateOrder:
    """The orders a column's day/month cells can be read in (see :class:`DateOrder`)."""
    stripped = text.astype("string").fillna("").str.strip()
    stripped = stripped.str.replace(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", regex=True)
    slashed = stripped.str.replace(r"[.\-]", "/", regex=True)
    form = slashed.where(slashed.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").fillna(False), None)
    as_day = pd.to_datetime(form, format="%d/%m/%Y", errors="coerce")
    as_month = pd.to_datetime(form, format="%m/%d/%Y", errors="coerce")
    day_ok, month_ok = as_day.notna(), as_month.notna()
    return DateOrder(day_first_only=day_ok & ~month_ok, month_first_only=month_ok & ~day_ok,
                     ambiguous=day_ok & month_ok & (as_day != as_month), day_first=day_ok)


def _examples(raw: pd.Series, mask: pd.Series, n: int = 2) -> str:
    """A few of the cells in ``mask``, with their rows: ``'03/24/2024' on row 5``."""
    shown: dict[str, int] = {}
    for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
        shown.setdefault(str(raw.iloc[i]).strip(), _row(i))
        if len(shown) == n:
            break
    return ", ".join(f"{value!r} on row {row}" for value, row in shown.items())


DATE_ORDER_FIX = "write dates as YYYY-MM-DD, or DD/MM/YYYY throughout"


def date_order_problem(raw: pd.Series, column: str) -> Problem | None:
    """A whole-column problem when a date column's day/month order cannot be known: written
    month-first (US order), its ambiguous cells (``03/04/2024``) would be misread as day-first;
    mixing both orders, no ambiguous cell can be trusted. ``None`` when every cell can be read
    day-first (the UK order the reader assumes)."""
    order = date_order(raw)
    only_month, only_day = int(order.month_first_only.sum()), int(order.day_first_only.sum())
    ambiguous = int(order.ambiguous.sum())
    month_said = (f"{only_month:,} cell(s) can only be MM/DD (the second number is over 12, "
                  f"e.g. {_examples(raw, order.month_first_only)})")
    ambiguous_said = (f"{ambiguous:,} ambiguous cell(s) (both numbers 12 or under, e.g. "
                      f"{_examples(raw, order.ambiguous)})")
    if order.month_first:
        return Problem(None, column, "", (
            f"looks written month-first (US order, MM/DD/YYYY): {month_said} and none can only "
            f"be DD/MM, so the {ambiguous_said} cannot be read safely (read day-first they "
            "would be wrong)"), DATE_ORDER_FIX)
    if order.mixed:
        return Problem(None, column, "", (
            f"mixes day-first and month-first dates: {only_day:,} cell(s) can only be DD/MM "
            f"(the first number is over 12, e.g. {_examples(raw, order.day_first_only)}), "
            f"{month_said}, and there are {ambiguous_said if ambiguous else 'no ambiguous cells'}"
            ", so which order any cell was written in cannot be known"), DATE_ORDER_FIX)
    return None


def _no_such_day(year: int, month: int, day: int) -> str | None:
    """Why a date written in an accepted form is not on the calendar (``None`` if it is)."""
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    days = calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 31
    if not 1 <= day <= days:
        return f"{calendar.month_name[month]} {year} has {days} days, so there is no day {day}"
    return None


def _date_fix(value: str) -> str:
    parts = re.split(r"[/.\-]", value.strip().split(" ")[0].split("T")[0])
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        if len(parts[0]) == 4:  # ISO order
            reason = _no_such_day(int(parts[0]), int(parts[1]), int(parts[2]))
            if reason:
                return f"{reason}: check the date (written year-month-day)"
        elif len(parts[2]) == 4:  # UK day-first order
            reason = _no_such_day(int(parts[2]), int(parts[1]), int(parts[0]))
            if reason and not (int(parts[1]) > 12 and int(parts[0]) <= 12):
                return f"{reason}: check the date (read day first, as DD/MM/YYYY)"
        if len(parts[2]) == 2:
            return "two-digit years are ambiguous: write the year in full, e.g. 01/03/2024"
        if len(parts[0]) <= 2 and int(parts[1]) > 12 and int(parts[0]) <= 12:
            return ("this looks month-first (US order); write it as YYYY-MM-DD or "
                    "DD/MM/YYYY (UK day-first)")
    return "write dates as YYYY-MM-DD, DD/MM/YYYY or an Excel date"


def parse_codes(text: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
    """Codes lower-cased, trimmed and mapped through :data:`SYNONYMS`; (codes, unknown mask)."""
    key = text.str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    blank = key.isin(BLANKS)
    codes = key.replace(SYNONYMS.get(column, {}))
    codes = codes.str.replace(" ", "_")
    known = codes.isin(CODES[column])
    return codes.where(known & ~blank, None), ~known & ~blank


def parse_numbers(text: pd.Series, low: float, high: float) -> tuple[pd.Series, pd.Series]:
    """Numbers in ``[low, high]``; (numbers, bad mask) where bad = unreadable or out of range."""
    blank = blank_mask(text)
    values = pd.to_numeric(text.str.strip().where(~blank, None), errors="coerce")
    bad = ~blank & (values.isna() | (values < low) | (values > high))
    return values.where(~bad), bad


# -------------------------------------------------------------------------------------------------
# The validator


@dataclass
class _Checked:
    """The parsed columns and every problem found while parsing and checking them."""

    values: dict[str, pd.Series]
    problems: list[Problem] = field(default_factory=list)


def _row(i: int | np.integer) -> int:
    return int(i) + 2  # header is spreadsheet row 1


def _add(checked: _Checked, mask: pd.Series | np.ndarray, raw: pd.Series | None, column: str,
         message: str, fix: str) -> None:
    for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
        value = "" if raw is None else str(raw.iloc[i])
        checked.problems.append(Problem(_row(i), column, value, message, fix))


def check_required_columns(raw: pd.DataFrame) -> list[Problem]:
    """Every required column is present, and no column looks like a misspelt one ndpath reads
    (whole-file problems: rows cannot be quarantined)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    problems = [Problem(None, c, "", "required column is missing",
                        f"add a column named {c} (columns found: "
                        f"{', '.join(map(str, raw.columns))})")
                for c in missing]
    return problems + misspelt_columns(raw.columns, KNOWN_COLUMNS)


def misspelt_columns(columns: Sequence[str], known: Sequence[str]) -> list[Problem]:
    """Columns not read by ndpath whose names are close to a column it reads that is absent
    (``assesment_start_date``, ``ReferralDate``): used as they are, the data in them would be
    dropped without a word and the children would look as if that step never happened."""
    absent = [k for k in known if k not in columns]
    problems = []
    for column in columns:
        if column in known:
            continue
        squeezed = column.replace("_", "")
        close = [k for k in absent if k.replace("_", "") == squeezed] or difflib.get_close_matches(
            column, absent, n=1, cutoff=0.8)
        if close:
            problems.append(Problem(
                None, column, "", f"is not a column ndpath reads, and looks like {close[0]}, "
                                  "which is missing",
                f"rename the column to {close[0]} if that is what it holds (or rename it to "
                "something clearly different to have it ignored)"))
    return problems


def check_ids(raw: pd.DataFrame, checked: _Checked) -> None:
    """Every referral has an id, and no id appears twice.

    Rows with the same id that agree in every column ndpath reads are one referral written
    twice: the first is not a problem (so quarantine keeps it, if it has no other), each later
    copy is. Copies that differ are each a problem, naming the columns they differ in, since
    which is right cannot be known.
    """
    ids = raw["referral_id"].astype("string").fillna("").str.strip()
    blank = blank_mask(ids)
    _add(checked, blank, None, "referral_id", "referral id is blank",
         "give every referral its (pseudonymised) id")
    duplicated = (ids.duplicated(keep=False) & ~blank).to_numpy()
    if not duplicated.any():
        return
    groups: dict[str, list[int]] = {}
    for position in np.flatnonzero(duplicated):
        groups.setdefault(ids.iloc[position], []).append(int(position))
    compared = [c for c in KNOWN_COLUMNS if c in raw.columns and c != "referral_id"]
    cells = {c: raw[c].astype("string").fillna("").str.strip().to_numpy() for c in compared}
    for members in groups.values():
        rows = [_row(i) for i in members]
        differ = [c for c in compared if len({cells[c][i] for i in members}) > 1]
        if not differ:
            for i in members[1:]:
                checked.problems.append(Problem(
                    _row(i), "referral_id", "",
                    f"duplicate referral id: a copy of row {rows[0]} (every column ndpath reads "
                    "is the same): the first is kept (if it has no other problem), the copy "
                    "is not used", "remove the copies: keep one row per referral"))
            continue
        for i in members:
            others = [r for r in rows if r != _row(i)]
            checked.problems.append(Problem(
                _row(i), "referral_id", "",
                f"duplicate referral id (the same id is on row {', '.join(map(str, others))}); "
                f"the copies differ in {', '.join(differ)}, so which is right is unknown and "
                "none is used", "keep one row per referral: merge or remove the copies"))


def check_dates_readable(raw: pd.DataFrame, checked: _Checked) -> None:
    """Every date cell is a date in a form we accept; the referral date is present."""
    for column in DATE_COLUMNS:
        if column not in raw.columns:
            continue
        dates, bad = parse_dates(raw[column])
        for i in np.flatnonzero(bad.to_numpy()):
            value = str(raw[column].iloc[i])
            checked.problems.append(Problem(_row(i), column, value, "is not a date we can read",
                                            _date_fix(value)))
        order = date_order_problem(raw[column], column)
        if order is not None:  # the day/month order of the whole column is unknown
            checked.problems.append(order)
        checked.values[column] = dates
    referral = checked.values["referral_date"]
    blank = blank_mask(raw["referral_date"])
    _add(checked, blank.to_numpy() & referral.isna().to_numpy(), None, "referral_date",
         "referral date is blank", "every referral needs the date it was received")


def check_dates_in_order(raw: pd.DataFrame, checked: _Checked) -> None:
    """Later steps do not come before earlier ones (referral ≤ triage, support, start ≤ end)."""
    v = checked.values
    referral = v["referral_date"]
    for column in ("triage_date", "support_start_date", "support_end_date", "assessment_start_date",
                   "discharge_date"):
        if column in v:
            before = (v[column] < referral).fillna(False)
            _add(checked, before, raw[column], column,
                 f"is before the referral date", "check both dates; a later step cannot come "
                 "before the referral")
    if "assessment_end_date" in v:
        start = v.get("assessment_start_date", pd.Series(pd.NaT, index=referral.index))
        before = (v["assessment_end_date"] < start).fillna(False)
        _add(checked, before, raw["assessment_end_date"], "assessment_end_date",
             "is before the assessment start date", "check both dates")
        orphan = v["assessment_end_date"].notna() & start.isna()
        _add(checked, orphan, raw["assessment_end_date"], "assessment_end_date",
             "assessment ended but has no assessment_start_date",
             "add the date of the first diagnostic appointment")
    if "support_end_date" in v:
        support = v.get("support_start_date", pd.Series(pd.NaT, index=referral.index))
        _add(checked, (v["support_end_date"] < support).fillna(False), raw["support_end_date"],
             "support_end_date", "is before the support start date", "check both dates")
        _add(checked, v["support_end_date"].notna() & support.isna(), raw["support_end_date"],
             "support_end_date", "support ended but has no support_start_date",
             "add the date support started, or blank the end")
    if "discharge_date" in v and "assessment_start_date" in v:
        early = (v["discharge_date"] < v["assessment_start_date"]).fillna(False)
        _add(checked, early, raw["discharge_date"], "discharge_date",
             "is before the assessment start date (a discharge is leaving without assessment)",
             "check both dates, or blank the discharge if the child was assessed")


def check_not_after_extract(raw: pd.DataFrame, checked: _Checked, extract_date: pd.Timestamp) -> None:
    """No date is after the extract date (it closes the data)."""
    for column in DATE_COLUMNS:
        if column in checked.values:
            late = (checked.values[column] > extract_date).fillna(False)
            _add(checked, late, raw[column], column,
                 f"is after the extract date {extract_date.date()}",
                 "check the date, or give the extract date the data was pulled on")


def check_codes(raw: pd.DataFrame, checked: _Checked) -> None:
    """Coded columns hold known codes or documented synonyms."""
    for column, codes in CODES.items():
        if column not in raw.columns:
            continue
        values, unknown = parse_codes(raw[column], column)
        synonyms = sorted(SYNONYMS.get(column, {}))[:6]
        fix = (f"use one of {', '.join(codes)}"
               + (f" (synonyms such as {', '.join(repr(s) for s in synonyms)} are accepted)"
                  if synonyms else ""))
        _add(checked, unknown, raw[column], column, "is not a known code", fix)
        checked.values[column] = values


def check_numbers(raw: pd.DataFrame, checked: _Checked) -> None:
    """Numeric columns are numbers in their range."""
    for column, (low, high) in NUMERIC_COLUMNS.items():
        if column not in raw.columns:
            continue
        values, bad = parse_numbers(raw[column], low, high)
        _add(checked, bad, raw[column], column, f"is not a number from {low:g} to {high:g}",
             "give the number, or leave the cell blank if unknown")
        checked.values[column] = values


def check_pairs(raw: pd.DataFrame, checked: _Checked) -> None:
    """A discharge has its reason and the reason its date; an outcome has its end date."""
    v = checked.values
    for date_col, code_col in (("discharge_date", "discharge_reason"),
                               ("assessment_end_date", "outcome")):
        if date_col in v and code_col in v:
            # an unknown code is already reported: count it as given, not blank
            code_given = ~blank_mask(raw[code_col])
            date_given = ~blank_mask(raw[date_col])
            # the blank cell is the problem, so no value is quoted as its own; the other
            # column's value is said in the message
            for blank, given in ((code_col, date_col), (date_col, code_col)):
                fix = (f"give the {code_col.replace('_', ' ')} (one of "
                       f"{', '.join(CODES[code_col])})" if blank == code_col else
                       f"give the {date_col.replace('_', ' ')}, or blank the {code_col}")
                missing = (date_given & ~code_given) if blank == code_col else (code_given & ~date_given)
                for i in np.flatnonzero(np.asarray(missing, dtype=bool)):
                    checked.problems.append(Problem(
                        _row(i), blank, "",
                        f"is blank but {given} is given ({str(raw[given].iloc[i])!r})", fix))


def validate_extract(raw: pd.DataFrame, extract_date: str | dt.date | pd.Timestamp
                     ) -> tuple[dict[str, pd.Series], list[Problem]]:
    """Parse and check every cell of a raw extract; returns (parsed columns, every problem).

    A missing required column is returned alone (nothing else can be checked without it).
    """
    missing = check_required_columns(raw)
    if missing:
        return {}, missing
    checked = _Checked(values={})
    when = pd.Timestamp(extract_date)
    check_ids(raw, checked)
    check_dates_readable(raw, checked)
    check_dates_in_order(raw, checked)
    check_not_after_extract(raw, checked, when)
    check_codes(raw, checked)
    check_numbers(raw, checked)
    for column in TEXT_COLUMNS:
        if column in raw.columns:
            text = raw[column].astype("string").fillna("").str.strip()
            checked.values[column] = text.where(~blank_mask(text), None).astype(object)
    check_pairs(raw, checked)
    checked.problems.sort(key=lambda p: (p.row or 0, KNOWN_COLUMNS.index(p.column)
                                         if p.column in KNOWN_COLUMNS else 99))
    return checked.values, checked.problems


# -------------------------------------------------------------------------------------------------
# Pseudonyms and the validated table


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Keyed pseudonyms (HMAC-SHA256, 12 hex digits): equal ids stay equal within one reading."""
    def one(value: str) -> str:
        return "p" + hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()[:12]

    return ids.map(one)


def _pseudonymised_or_blank(ids: pd.Series, key: bytes) -> pd.Series:
    """Pseudonyms of an optional id column; a blank cell stays missing (``None``)."""
    text = ids.astype("string").fillna("")
    blank = np.asarray(blank_mask(text), dtype=bool)
    out = pseudonymise(text, key).astype(object)
    out[blank] = None
    return out


@dataclass(frozen=True)
class PathwayTable:
    """A validated extract: one row per referral, ids pseudonymised, dates as timestamps.

    ``data`` has ``child`` (pseudonym), the date columns (``datetime64``, NaT when blank), the
    coded columns (strings or ``None``) and the numeric columns, for every column the extract
    had. ``quarantine`` holds the rows set aside (original cells, id pseudonymised, with the
    ``row`` number and ``problems``); ``input_rows = len(data) + len(quarantine)``.
    """

    data: pd.DataFrame
    extract_date: pd.Timestamp
    input_rows: int
    quarantine: pd.DataFrame
    problems: tuple[Problem, ...]
    columns_present: tuple[str, ...]
    ignored_columns: tuple[str, ...] = ()
    source: str = "extract"
    set_missing: tuple[Problem, ...] = ()
    """With quarantine: the bad optional attributes (:data:`ATTRIBUTE_COLUMNS`) read as
    missing, the row kept (each also in ``problems``)."""
    read_day_first: tuple[tuple[str, int, int, int], ...] = ()
    """``(column, cells, ambiguous, day_first_only)`` for each date column with cells written
    ``NN/NN/YYYY`` read day-first (DD/MM, the UK order), in the rows used: how many, how many of
    those could also have been month-first (``03/04/2024`` read as 3 April) and how many can
    only be day-first (``25/03/2024``), so the assumption and its evidence are said."""

    def has(self, column: str) -> bool:
        return column in self.columns_present

    def censored_at(self, date: str | dt.date | pd.Timestamp) -> "PathwayTable":
        """The extract as it would have been pulled on ``date``: later referrals dropped, later
        dates blanked (with their codes), so children then still waiting are censored there."""
        when = pd.Timestamp(date)
        data = self.data[self.data["referral_date"] <= when].copy()
        pairs = {"assessment_end_date": "outcome", "discharge_date": "discharge_reason",
                 "triage_date": "triage_outcome"}
        for column in DATE_COLUMNS:
            if column in data:
                late = data[column] > when
                data.loc[late, column] = pd.NaT
                if pairs.get(column) in data:
                    data.loc[late, pairs[column]] = None
        return PathwayTable(data.reset_index(drop=True), when, len(data),
                            self.quarantine.iloc[0:0], (), self.columns_present,
                            self.ignored_columns, f"{self.source} as at {when.date()}")

    @property
    def changes(self) -> list[dict[str, object]]:
        """What reading changed: rows set aside and attributes read as missing
        (``what, rows, effect``), for the data-quality and calibration reports."""
        out: list[dict[str, object]] = []
        if len(self.quarantine):
            columns = sorted({p.column or "file" for p in self.problems
                              if p.row is not None and p not in self.set_missing})
            out.append({"what": "rows quarantined (set aside) for problems in "
                        + ", ".join(columns), "rows": len(self.quarantine),
                        "effect": "not used; listed in quarantine.csv"})
        by_column: dict[str, int] = {}
        for p in self.set_missing:
            by_column[p.column or ""] = by_column.get(p.column or "", 0) + 1
        for column, n in by_column.items():
            out.append({"what": f"{column}: unreadable or unknown value read as missing (the "
                        "referral is kept)", "rows": n,
                        "effect": "left out of that attribute's share; imputed from the mix "
                        "where a child waiting needs it"})
        return out

    def __repr__(self) -> str:
        waiting = int(still_waiting(self.data).sum())
        return (f"<PathwayTable: {len(self.data)} referrals to {self.extract_date.date()}, "
                f"{waiting} still waiting (censored), {len(self.quarantine)} quarantined>")


def still_waiting(data: pd.DataFrame) -> pd.Series:
    """Children with neither an assessment start nor a discharge: their wait is censored."""
    start = data["assessment_start_date"] if "assessment_start_date" in data else pd.Series(
        pd.NaT, index=data.index)
    gone = data["discharge_date"] if "discharge_date" in data else pd.Series(pd.NaT, index=data.index)
    return start.isna() & gone.isna()


def read_extract(
    source: str | Path | pd.DataFrame,
    extract_date: str | dt.date | pd.Timestamp,
    on_error: OnError = "stop",
    key: bytes | None = None,
    quiet: bool = False,
) -> PathwayTable:
    """Read, validate and pseudonymise a patient-level extract.

    ``on_error="stop"`` (default) raises :class:`ExtractError` listing every problem;
    ``"quarantine"`` sets aside every row with a problem (reported in the table's
    ``quarantine``, never dropped silently) and keeps the rest. Problems with the whole file (a
    missing column, an unreadable file) always stop. ``key`` fixes the pseudonym key (a random
    key per reading by default, so pseudonyms cannot be linked across readings). ``quiet``: log
    nothing about rows set aside or values read as missing, for a caller that reads with
    quarantine only to report what it would do (``ndpath validate`` in its default stop mode).
    """
    if on_error not in ("stop", "quarantine"):
        raise ValueError(f"on_error must be 'stop' or 'quarantine', got {on_error!r}")
    origin = source if isinstance(source, (str, Path)) else "extract"
    raw = read_raw(source)
    when = pd.Timestamp(extract_date).normalize()
    values, problems = validate_extract(raw, when)
    whole_file = [p for p in problems if p.row is None]
    if whole_file or (problems and on_error == "stop"):
        raise ExtractError(problems, str(origin))
    key_bytes = key or secrets.token_bytes(32)
    pseudo = pseudonymise(raw["referral_id"], key_bytes)
    # a bad optional attribute is read as missing (the parsers already give None/NaN there)
    # and the referral kept; every other problem sets its row aside
    set_missing = tuple(p for p in problems if p.column in ATTRIBUTE_COLUMNS and p.row is not None)
    bad_rows = sorted({p.row for p in problems if p.row is not None and p not in set_missing})
    bad_index = np.asarray(bad_rows, dtype=int) - 2
    bad = np.zeros(len(raw), dtype=bool)
    bad[bad_index] = True

    present = tuple(c for c in KNOWN_COLUMNS if c in raw.columns)
    data = pd.DataFrame({"child": pseudo})
    for column in present:
        if column == "referral_id":
            continue
        if column in ID_COLUMNS:
            data[column] = _pseudonymised_or_blank(raw[column], key_bytes)
            continue
        data[column] = values[column]
    data = data[~bad].reset_index(drop=True)

    by_row: dict[int, list[str]] = {}
    for p in problems:
        if p.row is not None:
            by_row.setdefault(p.row, []).append(f"{p.column}: {p.message}")
    quarantine = raw[bad].drop(columns=["referral_id"]).copy()
    quarantine.insert(0, "referral_id", pseudo[bad])  # pseudonym only: ids never leave
    for column in ID_COLUMNS:
        if column in quarantine:
            quarantine[column] = _pseudonymised_or_blank(raw[column], key_bytes)[bad].to_numpy()
    quarantine.insert(0, "problems", ["; ".join(by_row[_row(i)]) for i in bad_index])
    quarantine.insert(0, "row", bad_index + 2)
    day_first = []
    for column in DATE_COLUMNS:
        if column in raw.columns:
            order = date_order(raw[column][~bad])
            if order.day_first.any():
                day_first.append((column, int(order.day_first.sum()), int(order.ambiguous.sum()),
                                  int(order.day_first_only.sum())))
    ignored = tuple(c for c in raw.columns if c not in KNOWN_COLUMNS)
    if ignored:
        log.info("columns not used by ndpath: %s", ", ".join(ignored))
    if bad.any() and not quiet:
        log.warning("%d of %d rows quarantined (%d problems)", int(bad.sum()), len(raw),
                    len(problems))
    aside = set(bad_rows)
    kept_missing = [p for p in set_missing if p.row not in aside]  # not on a row set aside
    if kept_missing and not quiet:
        log.warning("%d bad optional attribute value(s) read as missing, their rows kept",
                    len(kept_missing))
    return PathwayTable(data, when, len(raw), quarantine.reset_index(drop=True), tuple(problems),
                        present, ignored, str(origin), set_missing, tuple(day_first))


def quality_report(table: PathwayTable) -> dict[str, object]:
    """Counts, date ranges and completeness by column (share of non-blank cells)."""
    d = table.data
    dates = {c: {"first": _iso(d[c].min()), "last": _iso(d[c].max()), "count": int(d[c].notna().sum())}
             for c in DATE_COLUMNS if c in d}
    completeness = {c: round(float(d[c].notna().mean()), 4) if len(d) else 0.0
                    for c in d.columns if c != "child"}
    codes = {c: {str(k): int(v) for k, v in d[c].value_counts(dropna=False).items()}
             for c in CODES if c in d}
    return {
        "extract_date": table.extract_date.date().isoformat(),
        "input_rows": table.input_rows,
        "valid_rows": len(d),
        "quarantined_rows": len(table.quarantine),
        "problems": len(table.problems),
        # rows with any problem: those set aside, and those kept with a bad optional value read
        # as missing (so rows with problems = quarantined + kept_with_missing)
        "rows_with_problems": len({p.row for p in table.problems if p.row is not None}),
        "kept_with_missing": len({p.row for p in table.set_missing}
                                 - {int(r) for r in table.quarantine.get("row", [])}),
        "still_waiting": int(still_waiting(d).sum()),
        "assessed": int(d["assessment_start_date"].notna().sum()) if "assessment_start_date" in d else 0,
        "discharged": int(d["discharge_date"].notna().sum()) if "discharge_date" in d else 0,
        "dates": dates,
        "completeness": completeness,
        "codes": codes,
        "ignored_columns": list(table.ignored_columns),
        "set_missing": len(table.set_missing),
        # dates written NN/NN/YYYY were read day-first (DD/MM), by column (the rows used): how
        # many, how many of them could have been MM/DD, how many can only be DD/MM
        "read_day_first": {c: {"cells": n, "ambiguous": a, "day_first_only": only}
                           for c, n, a, only in table.read_day_first},
        "changes": table.changes,
        "absent_columns": {c: ABSENT_MEANS.get(c, "taken as unknown") for c in KNOWN_COLUMNS
                           if c not in table.columns_present},
    }


def _iso(value: object) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]


def write_quarantine(table: PathwayTable, path: str | Path) -> Path:
    """Write the quarantined rows (pseudonymised) to CSV; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.quarantine.to_csv(path, index=False)
    return path


__all__ = ["Problem", "ExtractError", "PathwayTable", "read_extract", "read_raw",
           "validate_extract", "quality_report", "write_quarantine", "still_waiting",
           "problems_frame", "problem_handling", "SET_ASIDE", "KEPT_AS_MISSING", "parse_dates",
           "date_order", "date_order_problem", "DateOrder",
           "parse_codes", "SYNONYMS", "CODES", "DATE_COLUMNS",
           "ATTRIBUTE_COLUMNS",
           "BLANKS"]

