"""Run replications on Dask: a local cluster of worker processes, or an existing cluster.

>>> from model.executors import get_executor
>>> executor = get_executor("dask", n_workers=2)                 # a LocalCluster per run
>>> remote = get_executor("dask", scheduler="tcp://10.0.0.5:8786")  # an existing cluster

Results come back in the order of the tasks whatever order they finish in, and each replication
draws its random numbers from ``(seed, replication)`` alone, so a Dask run gives the same numbers
as the local process pool or a serial run. Workers need ndpath installed (the same version), since
they import ``model`` to run the tasks; see docs/cluster.md.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
CONNECT_TIMEOUT_S = 20
_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")


class DaskConnectionError(ConnectionError):
    """The scheduler at the given address could not be reached."""


class DaskExecutor:
    """Maps tasks over a Dask cluster.

    With no ``scheduler`` a ``distributed.LocalCluster`` of ``n_workers`` processes (one thread
    each, no dashboard) is started for the run and closed afterwards; with ``scheduler`` (an
    address ``tcp://HOST:PORT``) a client connects to that cluster, and ``n_workers`` is ignored.
    Used as a context manager, one cluster (or connection) serves every ``map`` inside the block;
    entering an executor that is already open is a no-op, so a function that enters the executor
    it is given (a calibration does) reuses the caller's cluster. ``connect_timeout_s`` bounds
    the wait for a scheduler (default ``CONNECT_TIMEOUT_S``).

    Raises ``ValueError`` for a malformed address or a worker count below 1, and
    :class:`DaskConnectionError` when the scheduler cannot be reached.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None,
                 connect_timeout_s: float | None = None) -> None:
        if scheduler is not None and not _ADDRESS.match(scheduler):
            raise ValueError(f"Dask scheduler address {scheduler!r} is not of the form "
                             "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)")
        workers = DEFAULT_WORKERS if n_workers is None else n_workers
        if workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers}")
        self.scheduler = scheduler
        self.n_workers = workers
        self.connect_timeout_s = connect_timeout_s
        self._client: Any = None
        self._cluster: Any = None
        self._depth = 0

    def __repr__(self) -> str:
        where = self.scheduler or f"LocalCluster({self.n_workers} workers)"
        return f"DaskExecutor({where})"

    # -- connection --------------------------------------------------------------------------

    def _open(self) -> None:
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            logger.info("starting a Dask LocalCluster with %d workers", self.n_workers)
            # no dashboard; the scheduler's small HTTP server (health checks) on a free loopback
            # port rather than 8787, which may be taken; Dask's INFO chatter kept out of the log
            self._quiet_dask_logs()
            self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None,
                                         silence_logs=logging.WARNING,
                                         scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            self._client = Client(self._cluster)
            return
        logger.info("connecting to the Dask scheduler at %s", self.scheduler)
        # read at call time, so a test (or a caller) can shorten the module's default
        timeout = self.connect_timeout_s or CONNECT_TIMEOUT_S
        try:
            self._client = Client(self.scheduler, timeout=timeout)
        except (OSError, TimeoutError) as error:
            raise DaskConnectionError(
                f"cannot reach the Dask scheduler at {self.scheduler} within {timeout:g} s "
                f"({error}); start one with `dask scheduler` and workers with "
                f"`dask worker {self.scheduler}` (docs/cluster.md)") from None

    @staticmethod
    def _quiet_dask_logs() -> None:
        for name in ("distributed", "distributed.scheduler", "distributed.nanny",
                     "distributed.core", "distributed.http.proxy", "distributed.worker"):
            log = logging.getLogger(name)
            if log.getEffectiveLevel() < logging.WARNING:
                log.setLevel(logging.WARNING)

    def close(self) -> None:
        """Close the client (and the LocalCluster this executor started); safe to call twice."""
        self._depth = 0
        self._close()

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def __enter__(self) -> "DaskExecutor":
        if self._depth == 0:
            self._open()
        self._depth += 1
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0:
            self._close()

    # -- the Executor protocol ---------------------------------------------------------------

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            on_done: Callable[[], None] | None = None) -> list[R]:
        """``[fn(item) for item in items]`` on the cluster, in the order of ``items``.

        A task's exception is raised here after the other tasks are cancelled.
        """
        if not items:
            return []
        owned = self._client is None
        if owned:
            self._open()
        try:
            return self._gather(fn, items, on_done)
        finally:
            if owned:
                self._close()

    def _gather(self, fn: Callable[[T], R], items: Sequence[T],
                on_done: Callable[[], None] | None) -> list[R]:
        from distributed import as_completed

        client = self._client
        # pure=False: tasks are not deduplicated by hashing their (large) arguments
        futures = client.map(fn, list(items), pure=False)
        position = {future.key: k for k, future in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        try:
            for future in as_completed(futures):
                results[position[future.key]] = future.result()
                future.release()  # the worker may drop its copy now
                if on_done:
                    on_done()
        except BaseException:
            client.cancel(futures)
            raise
        return results
