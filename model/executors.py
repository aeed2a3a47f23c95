"""Executors that run replications: in this process, in local worker processes, or on Dask.

An executor maps a picklable function over a list of arguments and returns the results in the
order of the arguments, whatever order they finish in, so results do not depend on the executor.
``on_done`` is called once per finished task (for progress bars).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable, Literal, Protocol, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

ExecutorName = Literal["serial", "local", "dask"]


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]: ...


class SerialExecutor:
    """Runs every task in this process, one after another."""

    name = "serial"

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]:
        out = []
        for item in items:
            out.append(fn(item))
            if on_done:
                on_done()
        return out


class LocalProcessExecutor:
    """Runs tasks in a pool of local worker processes (one per core by default).

    Each ``map`` starts and stops its own pool; used as a context manager, one pool serves every
    ``map`` inside the block (a search that maps many small batches then starts its workers
    once). Entering an executor that is already open is a no-op, so nested blocks are safe.
    """

    name = "local"

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._depth = 0

    def __enter__(self) -> "LocalProcessExecutor":
        if self._depth == 0 and self.max_workers > 1:
            self._pool = ProcessPoolExecutor(max_workers=self.max_workers)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.close()

    def close(self) -> None:
        """Stop the pool of the outermost ``with`` block, if any; safe to call twice."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self._pool = None

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]:
        if len(items) <= 1 or self.max_workers == 1:
            return SerialExecutor().map(fn, items, on_done)
        if self._pool is not None:
            return self._gather(self._pool, fn, items, on_done)
        with ProcessPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            return self._gather(pool, fn, items, on_done)

    @staticmethod
    def _gather(pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Sequence[T],
                on_done: Callable[[], None] | None) -> list[R]:
        results: list[Any] = [None] * len(items)
        futures = {pool.submit(fn, item): k for k, item in enumerate(items)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_done:
                    on_done()
        except BaseException:
            for future in futures:  # a shared pool must not go on running a failed batch
                future.cancel()
            raise
        return results


def get_executor(name: str | Executor = "local", **options: Any) -> Executor:
    """An executor by name: ``serial``, ``local`` (process pool) or ``dask``."""
    if not isinstance(name, str):
        return name
    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return LocalProcessExecutor(options.get("max_workers"))
    if name == "dask":
        from .dask_executor import DaskExecutor  # optional heavy import

        return DaskExecutor(**options)
    raise ValueError(f"unknown executor {name!r}: use serial, local or dask")


def as_list(items: Iterable[T]) -> list[T]:
    return list(items)
