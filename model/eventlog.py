"""The event log: the contract between the simulation and everything that reads it.

The model appends flat records ``(time_days, child, event, detail)``; metrics, plots and
calibration are pure functions of the log (plus the children table and the capacity ledger).
Times are days from the scenario's ``start_date``; backlog children's referrals have negative
times.

Events and their ``detail``:

================== ============================================================================
event              detail
================== ============================================================================
referral           ``new``, ``backlog`` or ``rereferral`` (a child who left without an assessment
                   and was referred again: a new row in the children table, its ``child_id`` the
                   first referral's)
vetted             ``accepted`` (a rejection is an ``exit`` with detail ``rejected``)
profiling_join     ``-``: joins the profiling-tool queue
profiled           route: ``needs_led``, ``diagnostic`` or ``signposted``
list_join          ``-``: joins the diagnostic waiting list
support_start      ``needs_led_plan`` or ``support_while_waiting`` (a child is supported once)
assessment_start   ``nhs`` or ``outsourced``
assessment_end     outcome: ``autism``, ``adhd``, ``other_nd``, ``none``
exit               reason: ``rejected``, ``needs_led``, ``signposted``, ``withdrawn``, ``moved``,
                   ``private``, ``aged_out``, ``needs_met``
escalation         ``-``: a crisis or school breakdown while waiting
support_end        why the support the model follows ended: ``episode_end`` (it ran its length),
                   ``assessed`` (assessment started) or ``left`` (the child left the pathway,
                   needs met, withdrawn, a needs-led exit, ...); none while it runs at the horizon
follow_up_start    after a diagnosis (``follow_up`` on): ``adhd`` (starts medication: titration,
                   then reviews) or ``autism`` (follow-up appointments)
follow_up_end      ``discharged`` (medication stopped or discharged), ``aged_out`` (reached the
                   transfer age) or ``completed`` (the autism appointments are done); none while
                   it runs at the horizon
================== ============================================================================

A child is supported (its benefit applies) from ``support_start`` until ``support_end``, or the
horizon if there is none. Event and detail codes only ever grow at the end of ``EVENTS`` and
``DETAILS``, so a code keeps its meaning.
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

EVENTS = ("referral", "vetted", "profiling_join", "profiled", "list_join", "support_start",
          "assessment_start", "assessment_end", "exit", "escalation", "support_end",
          "follow_up_start", "follow_up_end")
DETAILS = ("-", "new", "backlog", "accepted", "needs_led", "diagnostic", "signposted",
           "needs_led_plan", "support_while_waiting", "nhs", "outsourced", "autism", "adhd",
           "other_nd", "none", "rejected", "withdrawn", "moved", "private", "aged_out", "needs_met",
           "episode_end", "assessed", "left", "rereferral", "discharged", "completed")
EXIT_REASONS = ("rejected", "needs_led", "signposted", "withdrawn", "moved", "private", "aged_out",
                "needs_met")

EVENT = {name: i for i, name in enumerate(EVENTS)}
DETAIL = {name: i for i, name in enumerate(DETAILS)}


class EventLog:
    """Append-only columnar log (compact typed arrays; a DataFrame only at the end).

    Rows come one at a time (:meth:`add`) or as blocks of numpy arrays (:meth:`add_block`, kept
    as they are rather than converted row by row); the order of appending is kept.
    """

    __slots__ = ("time", "child", "event", "detail", "_blocks")

    def __init__(self) -> None:
        self.time = array("d")
        self.child = array("q")
        self.event = array("b")
        self.detail = array("b")
        # blocks of numpy rows: (single rows before it, the four columns, first row, end row)
        self._blocks: list[tuple[int, tuple[np.ndarray, ...], int, int]] = []

    def add(self, time: float, child: int, event: int, detail: int = 0) -> None:
        self.time.append(time)
        self.child.append(child)
        self.event.append(event)
        self.detail.append(detail)

    def extend(self, time: np.ndarray, child: np.ndarray, event: int, detail: np.ndarray | int) -> None:
        n = len(time)
        self.time.extend(np.asarray(time, dtype=float).tolist())
        self.child.extend(np.asarray(child, dtype=np.int64).tolist())
        self.event.extend([event] * n)
        if isinstance(detail, (int, np.integer)):
            self.detail.extend([int(detail)] * n)
        else:
            self.detail.extend(np.asarray(detail, dtype=np.int64).tolist())

    def add_columns(self, time: list[float], child: list[int], event: list[int],
                    detail: list[int]) -> None:
        """Append rows given as four equally long columns, in order."""
        self.time.extend(time)
        self.child.extend(child)
        self.event.extend(event)
        self.detail.extend(detail)

    def add_block(self, time: np.ndarray, child: np.ndarray, event: np.ndarray,
                  detail: np.ndarray) -> None:
        """Append rows given as four equally long numpy arrays (float64, int64, int8, int8),
        in order; the arrays are kept, not copied, so the caller must not change them."""
        if len(time):
            self._blocks.append((len(self.time), (time, child, event, detail), 0, len(time)))

    def add_rows(self, columns: tuple[np.ndarray, ...], first: int, end: int) -> None:
        """Append rows ``first`` to ``end - 1`` of ``columns`` (the four arrays of
        :meth:`add_block`, kept and not copied). Rows taken from one set of columns in runs that
        follow on are joined as one slice at the end, not one piece per run."""
        if end > first:
            self._blocks.append((len(self.time), columns, first, end))

    def __len__(self) -> int:
        return len(self.time) + sum(end - first for _, _, first, end in self._blocks)

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Time, child, event code and detail code of every row, in the order appended."""
        # copies, not views: a view held on (a sampling profiler such as Dask's keeps frames
        # alive) would stop the log from growing ("cannot resize an array that is exporting
        # buffers")
        single = (np.array(self.time, dtype=np.float64), np.array(self.child, dtype=np.int64),
                  np.array(self.event, dtype=np.int8), np.array(self.detail, dtype=np.int8))
        if not self._blocks:
            return single
        # the block rows in the order appended, as few slices as possible: runs that follow on
        # from the same columns are one slice
        pieces: list[tuple[tuple[np.ndarray, ...], int, int]] = []
        for _, source, first, end in self._blocks:
            if pieces and pieces[-1][0] is source and pieces[-1][2] == first:
                pieces[-1] = (source, pieces[-1][1], end)
            else:
                pieces.append((source, first, end))
        # a block goes in after the single rows appended before it (``at`` of them): single row
        # s moves down by the rows of the blocks appended before it, and block row g (counted
        # over all blocks) lands at g plus its block's ``at``; one scatter per column
        at = np.array([b[0] for b in self._blocks], dtype=np.int64)
        sizes = np.array([b[3] - b[2] for b in self._blocks], dtype=np.int64)
        before = np.concatenate([[0], np.cumsum(sizes)])  # block rows before each block
        n_single = len(single[0])
        shift = before[np.searchsorted(at, np.arange(n_single), side="right")]
        single_at = np.arange(n_single) + shift
        block_at = np.repeat(at, sizes) + np.arange(before[-1])
        out_columns = []
        for k, dtype in enumerate((np.float64, np.int64, np.int8, np.int8)):
            out = np.empty(n_single + before[-1], dtype=dtype)
            out[single_at] = single[k]
            out[block_at] = np.concatenate([source[k][first:end] for source, first, end in pieces])
            out_columns.append(out)
        time, child, event, detail = out_columns
        # kept as one block, so that asking again after more rows joins two pieces, not all
        self._blocks = [(0, (time, child, event, detail), 0, len(time))]
        self.time, self.child, self.event, self.detail = (array("d"), array("q"), array("b"),
                                                          array("b"))
        return time, child, event, detail

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame sorted by time (stable), with categorical event and detail."""
        time, child, event, detail = self.columns()
        order = np.argsort(time, kind="stable")
        return pd.DataFrame({
            "time_days": time[order],
            "child": child[order],
            "event": pd.Categorical.from_codes(event[order], categories=EVENTS),
            "detail": pd.Categorical.from_codes(detail[order], categories=DETAILS),
        })
