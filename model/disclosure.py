"""Disclosure control for published tables of counts, as NHS statistical disclosure practice does.

Three steps, in this order (:func:`protect_table` does the first two, :func:`round_to_base` the
third):

1. **Primary suppression**: a count of at least 1 and fewer than :data:`THRESHOLD` (5) children
   is not published (zero is: it identifies nobody). A total (a margin) under the threshold is
   suppressed too.
2. **Secondary (complementary) suppression**: a suppressed cell must not be recoverable from the
   totals. Wherever a row or column with a published total holds exactly one suppressed cell, the
   smallest other cell in it is suppressed too; this repeats until no line has a lone suppressed
   cell. Then every suppressed cell is audited by linear programming (the smallest and largest
   value it can take given every published cell and total, counts non-negative): a cell pinned to
   less than :data:`MIN_RANGE` children gets another complement, and the audit runs again.
3. **Rounding**: published counts (totals too, each from its unrounded value) are rounded to the
   nearest :data:`ROUNDING_BASE` (5), halves up.

Means over replications of simulated counts are treated as counts: a group whose mean is under 5
children is a group of a few children, and the tables are read beside real services' numbers.
A table built from a calibrated scenario or a table of the children actually waiting derives from
patient-level data, so every equity export goes through these steps.

>>> import numpy as np
>>> mask, _, _ = protect_table(np.array([[3.0, 10.0, 12.0]]), column_totals=False)
>>> mask.tolist()  # the 3 is suppressed, and the 10 with it (total - 12 would give 13 = 3 + 10)
[[True, True, False]]
"""

from __future__ import annotations

import math

import numpy as np

THRESHOLD = 5
"""Counts from 1 to THRESHOLD - 1 are suppressed."""
ROUNDING_BASE = 5
"""Published counts are rounded to the nearest multiple of this."""
MIN_RANGE = 1.0
"""A suppressed cell must be able to take values at least this far apart, given the margins."""


def primary_mask(values: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Cells holding a count of at least one child and under ``threshold`` (NaN: not a count)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values > 0) & (values < threshold)


def round_to_base(values: np.ndarray | float, base: int = ROUNDING_BASE) -> np.ndarray:
    """Round to the nearest multiple of ``base`` (halves up); NaN stays NaN."""
    x = np.asarray(values, dtype=float)
    return np.floor(x / base + 0.5) * base


def _lines(shape: tuple[int, int], row_totals: bool, column_totals: bool) -> list[np.ndarray]:
    """Index arrays (flat) of the lines whose totals are published."""
    rows, cols = shape
    index = np.arange(rows * cols).reshape(shape)
    lines: list[np.ndarray] = []
    if row_totals:
        lines.extend(index[r, :] for r in range(rows))
    if column_totals:
        lines.extend(index[:, c] for c in range(cols))
    return lines


def _complement(values: np.ndarray, mask: np.ndarray, line: np.ndarray) -> int | None:
    """The cell to suppress beside a lone suppressed one: the smallest other count in the line
    (a non-zero one first: a suppressed zero hides less)."""
    free = line[~mask[line]]
    if not len(free):
        return None
    nonzero = free[values[free] > 0]
    pool = nonzero if len(nonzero) else free
    return int(pool[np.argmin(values[pool])])


def feasible_ranges(values: np.ndarray, mask: np.ndarray, row_totals: bool = True,
                    column_totals: bool = True, total_mask: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> np.ndarray:
    """For each suppressed cell, the (smallest, largest) value consistent with the published
    cells and totals and non-negative counts: what an intruder can work out. Shape
    ``(n_suppressed, 2)`` in flat (row-major) order of the suppressed cells; the largest is
    ``inf`` where nothing bounds it.
    """
    values = np.asarray(values, dtype=float)
    shape = values.shape
    flat, m = values.ravel(), np.asarray(mask).ravel()
    hidden = np.flatnonzero(m)
    if not len(hidden):
        return np.zeros((0, 2))
    if shape[0] == 1 and row_totals and not column_totals and (
            total_mask is None or not total_mask[0][0]):
        # one line with its total: each hidden cell is anywhere from 0 to their sum (no LP)
        return np.tile([0.0, float(flat[hidden].sum())], (len(hidden), 1))
    from scipy.optimize import linprog  # a costly import, needed only for a table of lines

    position = {int(cell): k for k, cell in enumerate(hidden)}
    row_hidden = np.zeros(shape[0], bool) if total_mask is None else total_mask[0]
    col_hidden = np.zeros(shape[1], bool) if total_mask is None else total_mask[1]
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []
    lines: list[tuple[np.ndarray, bool]] = []
    if row_totals:
        lines.extend((line, row_hidden[r]) for r, line in
                     enumerate(_lines(shape, True, False)))
    if column_totals:
        lines.extend((line, col_hidden[c]) for c, line in
                     enumerate(_lines(shape, False, True)))
    for line, total_hidden in lines:
        if total_hidden:
            continue  # an unpublished total constrains nothing
        row = np.zeros(len(hidden))
        for cell in line:
            if m[cell]:
                row[position[int(cell)]] = 1.0
        if row.any():
            a_eq.append(row)
            b_eq.append(flat[line].sum() - flat[line][~m[line]].sum())
    out = np.zeros((len(hidden), 2))
    for k in range(len(hidden)):
        c = np.zeros(len(hidden))
        for sign, col in ((1.0, 0), (-1.0, 1)):
            c[k] = sign
            res = linprog(c, A_eq=np.array(a_eq) if a_eq else None,
                          b_eq=np.array(b_eq) if b_eq else None,
                          bounds=[(0, None)] * len(hidden), method="highs")
            if res.status == 3:  # unbounded above
                out[k, col] = math.inf
            else:
                out[k, col] = sign * res.fun
    return out


def protect_table(values: np.ndarray, threshold: float = THRESHOLD, row_totals: bool = True,
                  column_totals: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary and secondary suppression for a 2-D table of counts whose row and/or column
    totals are published.

    Returns ``(cell_mask, row_total_mask, column_total_mask)``: True where a value must not be
    published. Raises ``ValueError`` for a table that is not 2-D.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"protect_table needs a 2-D table, got {values.ndim} dimension(s)")
    flat = np.nan_to_num(values.ravel(), nan=0.0)
    mask = primary_mask(values, threshold).ravel()
    row_mask = primary_mask(values.sum(axis=1), threshold) if row_totals else np.ones(values.shape[0], bool)
    col_mask = primary_mask(values.sum(axis=0), threshold) if column_totals else np.ones(values.shape[1], bool)
    lines = _lines(values.shape, row_totals, column_totals)
    for _ in range(values.size + 1):  # each pass suppresses a cell or ends
        changed = False
        for line in lines:
            if mask[line].sum() == 1:
                cell = _complement(flat, mask, line)
                if cell is None:
                    continue
                mask[cell] = True
                changed = True
        if not changed:
            ranges = feasible_ranges(flat.reshape(values.shape), mask.reshape(values.shape),
                                     row_totals, column_totals, (row_mask, col_mask))
            pinned = np.flatnonzero(mask)[(ranges[:, 1] - ranges[:, 0]) < MIN_RANGE]
            if not len(pinned):
                break
            cell = int(pinned[0])
            r, c = divmod(cell, values.shape[1])
            for line in (np.arange(values.shape[1]) + r * values.shape[1],
                         np.arange(values.shape[0]) * values.shape[1] + c):
                extra = _complement(flat, mask, line)
                if extra is not None:
                    mask[extra] = True
                    break
            else:  # nothing left to hide it behind: hide the totals that pin it
                row_mask[r] = col_mask[c] = True
    return mask.reshape(values.shape), row_mask, col_mask


def protect_line(values: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Suppression for a row of counts whose total is published (groups of one variable)."""
    mask, total_hidden, _ = protect_table(np.asarray(values, dtype=float)[None, :], threshold,
                                          row_totals=True, column_totals=False)
    return mask[0]


__all__ = ["THRESHOLD", "ROUNDING_BASE", "primary_mask", "round_to_base", "protect_table",
           "protect_line", "feasible_ranges"]
