"""The benchmark's second floor: running methods and metrics on the inputs, into the cache.

Imports :mod:`fsr.bench.inputs`; never :mod:`fsr.bench.report`.
"""
