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
    """Runs tasks in a pool of local worker processes (one per core by default)."""

    name = "local"

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]:
        if len(items) <= 1 or self.max_workers == 1:
            return SerialExecutor().map(fn, items, on_done)
        results: list[Any] = [None] * len(items)
        with ProcessPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            futures = {pool.submit(fn, item): k for k, item in enumerate(items)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_done:
                    on_done()
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
