"""Random number streams: one ``numpy.random.Generator`` per random element per replication.

Each stream is derived statelessly from ``(base seed, replication, stream name)`` through
``SeedSequence(seed, spawn_key=...)``, so

* a replication's numbers do not depend on which worker runs it or in what order (serial and
  parallel runs agree exactly), and
* two scenarios run with the same seed see the same children with the same random numbers
  (common random numbers), which makes paired differences between scenarios sharp.

``SeedSequence.spawn()`` is deliberately not used: it mutates its parent, so the streams would
depend on how many had been spawned before.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_id(name: str) -> int:
    """A stable integer for a stream name (the same on every machine and Python version)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for one random element of one replication.

    >>> a = stream(42, 0, "arrivals.times").random(3)
    >>> b = stream(42, 0, "arrivals.times").random(3)
    >>> bool((a == b).all())
    True
    """
    if seed < 0 or replication < 0:
        raise ValueError(f"seed and replication must be >= 0, got {seed} and {replication}")
    sequence = np.random.SeedSequence(seed, spawn_key=(replication, stream_id(name)))
    return np.random.Generator(np.random.PCG64(sequence))


class Streams:
    """The named streams of one replication, created on first use."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication
        self._cache: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        rng = self._cache.get(name)
        if rng is None:
            rng = self._cache[name] = stream(self.seed, self.replication, name)
        return rng

    def uniforms(self, name: str, size: int) -> np.ndarray:
        """``size`` uniforms on [0, 1) from stream ``name`` (prefix-stable: more children, same first ones)."""
        return self[name].random(size)

    def exponentials(self, name: str, size: int) -> np.ndarray:
        """``size`` unit-mean exponentials from stream ``name`` via the inverse CDF (prefix-stable)."""
        return -np.log1p(-self[name].random(size))
