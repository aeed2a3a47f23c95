"""Executors that run replications: in this process, in local worker processes, or on Dask.

An executor maps a picklable function over a list of arguments and returns the results in the
order of the arguments, whatever order they finish in, so results do not depend on the executor.
``on_done`` is called once per finished task (for progress bars).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import sys
import types
from concurrent.futures import Future, ProcessPoolExecutor, as_completed, wait
from typing import Any, Callable, Iterable, Iterator, Literal, Protocol, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

ExecutorName = Literal["serial", "local", "dask"]
StartMethod = Literal["fork", "spawn", "forkserver"]


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


def _import_modules(names: Sequence[str]) -> None:
    """A worker's first act: import what its tasks need, before the first task arrives."""
    for name in names:
        importlib.import_module(name)


def _nothing() -> None:
    """A task that does nothing: sent once to each new worker to start it."""


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While worker processes start: a blank ``__main__``, so that ``spawn`` and
    ``forkserver`` workers do not import the parent's main module again."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class LocalProcessExecutor:
    """Runs tasks in a pool of local worker processes (one per core by default).

    Each ``map`` starts and stops its own pool; used as a context manager, one pool serves every
    ``map`` inside the block (a search that maps many small batches then starts its workers
    once). Entering an executor that is already open is a no-op, so nested blocks are safe.
    :meth:`keep_open` starts a pool that serves every later ``map`` until :meth:`close` (a
    server's pool, started once for all its runs).

    ``start_method`` is the ``multiprocessing`` start method (the platform's default if
    ``None``); ``preload`` names modules each worker imports when it starts (with
    ``"forkserver"``, the fork server imports them once and every worker starts with them).
    A server with threads should not ``fork``: a child forked while another thread holds a lock
    can hang on it; ``"forkserver"`` forks from a fresh single-threaded process instead.
    """

    name = "local"

    def __init__(self, max_workers: int | None = None, start_method: StartMethod | None = None,
                 preload: Sequence[str] = ()) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self.start_method = start_method
        self.preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None
        self._depth = 0
        self._held = False

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        context = None
        if self.start_method is not None:
            context = multiprocessing.get_context(self.start_method)
            if self.start_method == "forkserver" and self.preload:
                context.set_forkserver_preload(list(self.preload))
        return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                   initializer=_import_modules, initargs=(self.preload,))

    def __enter__(self) -> "LocalProcessExecutor":
        if self._depth == 0 and self._pool is None and self.max_workers > 1:
            self._pool = self._new_pool(self.max_workers)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and not self._held:
            self.close()

    def keep_open(self, wait_for_workers: bool = False, import_main: bool = True
                  ) -> "LocalProcessExecutor":
        """Start the pool now, with every worker, and keep it for every later ``map`` (``with``
        blocks leave it open) until :meth:`close`.

        The workers start in the background; ``wait_for_workers`` waits until each has started
        and imported ``preload``. With ``spawn`` and ``forkserver`` a new worker imports the
        parent's main module again (as ``__mp_main__``); ``import_main=False`` starts them
        without it, for a parent whose main module is not a program's entry point (Streamlit
        runs each page script as ``__main__``) and tasks that need nothing from it. Returns the
        executor.
        """
        if self.max_workers > 1 and self._pool is None:
            self._pool = self._new_pool(self.max_workers)
            # one task per worker, submitted at once: each submit starts a worker (none is
            # idle yet), so every worker starts here, inside the block below
            with contextlib.nullcontext() if import_main else _main_module_hidden():
                started = [self._pool.submit(_nothing) for _ in range(self.max_workers)]
            if wait_for_workers:
                wait(started)
        self._held = True
        return self

    @property
    def is_open(self) -> bool:
        """Whether a pool is running now (a ``with`` block or :meth:`keep_open`), so that
        :meth:`submit` can start tasks on it."""
        return self._pool is not None

    @property
    def broken(self) -> bool:
        """Whether a worker of the open pool died (the pool then runs nothing more)."""
        return bool(self._pool is not None and getattr(self._pool, "_broken", False))

    def close(self) -> None:
        """Stop the pool of the outermost ``with`` block, or the one kept open, if any; safe to
        call twice."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self._pool = None
        self._held = False

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]:
        if len(items) <= 1 or self.max_workers == 1:
            return SerialExecutor().map(fn, items, on_done)
        if self._pool is not None:
            return self._gather(self._pool, fn, items, on_done)
        with self._new_pool(min(self.max_workers, len(items))) as pool:
            return self._gather(pool, fn, items, on_done)

    def submit(self, fn: Callable[[T], R], items: Sequence[T]) -> list["Future[R]"]:
        """Start ``fn`` on every item in the open pool and return at once (a server starting a
        run it expects to be asked for); :meth:`collect` gathers the results in order. Raises
        ``RuntimeError`` without an open pool (:meth:`keep_open` or a ``with`` block)."""
        if self._pool is None:
            raise RuntimeError("submit needs an open pool: use keep_open() or a with block")
        return [self._pool.submit(fn, item) for item in items]

    @staticmethod
    def collect(futures: Sequence["Future[R]"], on_done: Callable[[], None] | None = None
                ) -> list[R]:
        """The results of ``futures`` in their order, whatever order they finish in; on an
        error (or an interruption) the ones not started are cancelled and it is raised."""
        results: list[Any] = [None] * len(futures)
        index = {future: k for k, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                results[index[future]] = future.result()
                if on_done:
                    on_done()
        except BaseException:
            for future in futures:  # a shared pool must not go on running a failed batch
                future.cancel()
            raise
        return results

    @staticmethod
    def _gather(pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Sequence[T],
                on_done: Callable[[], None] | None) -> list[R]:
        return LocalProcessExecutor.collect([pool.submit(fn, item) for item in items], on_done)


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
