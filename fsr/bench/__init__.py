"""The benchmark behind ``bench/run.py`` (``fsr.bench``), in three floors that import downwards:

- :mod:`fsr.bench.inputs`  : what is scored. Suites (YAML -> :class:`~fsr.bench.inputs.suite.Suite`),
  the datasets registry and readers (sample set, folders, CelebA, CelebA-Test pairs, real
  low-quality photos, pose-labelled sets, the synthetic pose sweep) and the protocol fingerprint.
- :mod:`fsr.bench.compute` : computing it into the run's cache. The engine and its per-chunk
  batching (degrade once, pose once, prior once, every method, metrics, set-metric features,
  ground-truth identity embeddings), the store (the cache and every key into it), methods read
  from outputs folders, exports, timing, sharding.
- :mod:`fsr.bench.report`  : tables from the cache only (results, summary, paired, set metrics,
  pipeline, sweep, pose error, NTIRE score, identity floor), plots, manifest, merging shard
  caches and run folders.

:mod:`fsr.bench.leaderboard` renders Markdown from a run's tables. Modules import torch and the
networks lazily so ``bench/run.py --help`` stays instant.
"""


class BenchError(Exception):
    """A problem the user can fix (unknown suite/method, missing dataset); printed as one line."""


def first_line(err: BaseException, fallback: str | None = None) -> str:
    """An exception's first line, or ``fallback`` (default: its type's name) when it has no
    text (the one-line messages a run prints instead of a traceback).

    >>> first_line(ValueError("bad\\nmore")), first_line(KeyError()), first_line(OSError(), "gone")
    ('bad', 'KeyError', 'gone')
    """
    lines = str(err).strip().splitlines()
    return lines[0] if lines and lines[0] else fallback or type(err).__name__
