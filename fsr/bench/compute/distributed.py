"""``torchrun --nproc_per_node=N bench/run.py ...``: one shard per process, merged at the end.

torchrun (it comes with torch) starts N copies of ``bench/run.py`` with ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` set. Each process runs shard ``RANK+1/WORLD_SIZE`` of the
images into ``<out>/shards/<k>-of-<n>/`` (the ordinary ``--shard`` run: its own resumable
cache, so a rerun of the same command computes only what is missing), on ``cuda:LOCAL_RANK``
when ``--device cuda`` is asked for. The processes then meet in a gloo all-gather of their
exit codes (gloo works without a GPU); when every shard succeeded, rank 0 merges the shard
folders into ``<out>`` exactly as ``--merge`` does, so the tables equal a single run's.
Without torchrun (no ``WORLD_SIZE`` or ``WORLD_SIZE=1``) nothing here is used.
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from fsr.bench import BenchError

# A shard of a large suite can run for hours; the default 30-minute collective timeout would
# kill the ranks that finish first while they wait for the slowest.
WAIT = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Launch:
    rank: int
    world: int
    local_rank: int

    @property
    def shard(self) -> str:
        return f"{self.rank + 1}/{self.world}"

    def shard_dir(self, out: Path, rank: int | None = None) -> Path:
        r = self.rank if rank is None else rank
        return Path(out) / "shards" / f"{r + 1}-of-{self.world}"


def launch_from_env(env: dict | None = None) -> Launch | None:
    """The torchrun launch this process belongs to, or None when it is a plain run.

    >>> launch_from_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
    Launch(rank=1, world=2, local_rank=1)
    >>> launch_from_env({}) is None
    True
    """
    env = os.environ if env is None else env
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", env.get("RANK", "0")))
    except ValueError:
        raise BenchError("WORLD_SIZE, RANK and LOCAL_RANK must be integers (set by "
                         "torchrun)") from None
    if world <= 1:
        return None
    if not 0 <= rank < world:
        raise BenchError(f"RANK {rank} is outside WORLD_SIZE {world}")
    return Launch(rank, world, local)


def rank_device(device: str, launch: Launch) -> str:
    """'cuda' on rank r of a node -> 'cuda:LOCAL_RANK' (one GPU per process); else unchanged.

    >>> rank_device("cuda", Launch(3, 4, 1)), rank_device("cpu", Launch(3, 4, 1))
    ('cuda:1', 'cpu')
    """
    return f"cuda:{launch.local_rank}" if device == "cuda" else device


def gather_exit_codes(launch: Launch, code: int) -> list[int]:
    """Every rank's exit code (a gloo all-gather: also the barrier before the merge)."""
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo", rank=launch.rank, world_size=launch.world, timeout=WAIT)
    codes = [None] * launch.world
    dist.all_gather_object(codes, int(code))
    dist.destroy_process_group()
    return [int(c) for c in codes]


def run_distributed(args, launch: Launch, run_one, merge_dirs_and_report) -> int:
    """Run this rank's shard, wait for all, merge on rank 0. ``run_one(args) -> exit code``."""
    if args.shard:
        raise BenchError("under torchrun each process picks its shard from RANK/WORLD_SIZE; "
                         "drop --shard (or run without torchrun)")
    out = args.out
    shard_args = type(args)(**{**vars(args), "shard": launch.shard,
                               "out": launch.shard_dir(out),
                               "device": rank_device(args.device, launch),
                               "quiet": args.quiet or launch.rank != 0})
    try:
        code = run_one(shard_args)
    except BenchError as err:
        print(f"bench: error: rank {launch.rank}: {err}", file=sys.stderr)
        code = 2
    codes = gather_exit_codes(launch, code)
    if launch.rank != 0:
        return code
    failed = [r for r, c in enumerate(codes) if c != 0]
    if failed:
        print(f"bench: error: shard(s) of rank {', '.join(map(str, failed))} failed; not "
              f"merging (rerun the same command to resume)", file=sys.stderr)
        return max(codes)
    dirs = [launch.shard_dir(out, r) for r in range(launch.world)]
    print(f"bench: {launch.world} shards done; merging {', '.join(map(str, dirs))} -> {out}",
          file=sys.stderr)
    return merge_dirs_and_report(dirs, out)
