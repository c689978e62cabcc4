"""The benchmark harness behind ``bench/run.py`` (``fsr.bench``): suites, datasets, a resumable cache, reports.

Modules (each imports torch/fsr lazily so ``bench/run.py --help`` stays instant):

- ``suite``    : suite YAML -> :class:`Suite` (datasets, tasks, methods, metrics, pose buckets)
- ``datasets`` : sample set, folders, CelebA, CelebA-Test pairs, real low-quality folders
- ``store``    : the append-only, fsync'ed JSON-lines cache (one batch of lines per image)
- ``engine``   : the per-image loop (degrade once, pose once, prior once, every method, metrics)
- ``stats``    : bootstrap CI and FID/KID from cached features
- ``report``   : results.csv, summary.csv, set_metrics.csv, pipeline.csv (faces whole-photo
                 mode's detector misses), plots, manifest.json, console tables
"""


class BenchError(Exception):
    """A problem the user can fix (unknown suite/method, missing dataset); printed as one line."""
