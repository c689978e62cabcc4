"""The benchmark's first floor: what is scored (suites, datasets, the protocol fingerprint).

Imports nothing from :mod:`fsr.bench.compute` or :mod:`fsr.bench.report`.
"""
