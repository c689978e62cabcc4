"""The leaderboard's rendering library (``fsr.bench.leaderboard``): Markdown from a bench output
folder (summary.csv, paired.csv, set_metrics.csv, pipeline.csv, manifest.json), so every number
in LEADERBOARD.md, the README's blocks and the model cards is rendered from one run.
``leaderboard/make.py`` is its command line.

Modules, each importing only the ones above it:

- ``tables``        : a run's files (``load``), number formatting, the per-method table
                      and one task's overview (all poses, PSNR per |yaw| bucket)
- ``identity_floor``, ``sweep_tables``, ``ablations`` : the page's identity-floor rows,
                      synthetic-pose section and ablation section
- ``paired``        : paired.csv's per-image differences, as cells and verdicts
- ``page``          : the whole leaderboard page (``make``)
- ``cards``         : the model cards' benchmark block
- ``readme``        : the README's results block and notes
"""


class LeaderboardError(Exception):
    """A run folder or file the leaderboard cannot render from; printed as one line."""
