"""Benchmarks of ndpath against plain SimPy and Ciw: ``python -m benchmarks`` (docs/benchmarks.md)."""
