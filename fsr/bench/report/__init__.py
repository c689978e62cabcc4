"""The benchmark's third floor: tables, plots and the manifest, read from the cache only.

Imports :mod:`fsr.bench.inputs` and the cache reader :mod:`fsr.bench.compute.store`; runs no network.
"""
