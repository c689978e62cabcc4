"""The ``sweep`` dataset (synthetic pose): near-frontal crops profiled to every target yaw.

``type: sweep`` takes near-frontal crops of the sample set's split (``max_source_yaw``, at most
``per_identity`` per identity, nearest to frontal first) and profiles each to every yaw of
``yaws`` (``fsr.synth.profile``: 3D face + head depth model, rotated and re-rendered). With
``signs: alternate`` (the default) source k gets +yaw when k is even and -yaw when odd, so
each |yaw| has one render per source; ``signs: both`` renders both. The item's pose is the
target yaw (the bucket); MediaPipe's yaw measured on the render rides along on the image
line as ``yaw_measured``. Renders are cached under ``$FSR_HOME/profiles`` by the source's
sha256, size and yaw, so a second run renders nothing.

Validity (:mod:`fsr.synth.validity`) is measured when a render is made and cached with it: does
dlib (HOG, else MMOD) find a face, does MediaPipe, the dlib distance to the source, the filled
share. It rides on the image line (``detector_found``, ``mediapipe_found``,
``identity_distance``, ``filled_fraction``, ``is_face``, ``valid``); the report only reads it.
**Every render is scored, flagged**: a render that is not a face (no detector finds it) stays
in the metrics with ``is_face`` false, and every table below says how many renders were faces
and valid (a face that keeps the person), and gives the valid-only figures beside the others.

Its tables (sweep.csv, robustness.csv) are made by :mod:`fsr.bench.report.sweep`.
"""

from __future__ import annotations

from pathlib import Path

from fsr.bench import BenchError
from fsr.bench.inputs.datasets.base import Dataset, DatasetMissing, Item, _fingerprint


class SweepDataset(Dataset):
    holding = "the embedded sample set (near-frontal crops, profiled to each yaw)"
    synthetic_pose = True

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        try:
            from fsr.data.samples import load_samples
        except ImportError as err:
            raise DatasetMissing(f"dataset {self.name}: fsr.data.samples cannot be imported "
                                 f"({err})") from None
        # the default stops at 45: at 60 MediaPipe finds a face in 44% of the renders of 16
        # unseen crops of 14 people (docs/profiling.md), so a 60 column would measure render
        # artifacts
        yaws = [float(y) for y in cfg.get("yaws", [0, 15, 30, 45])]
        if not yaws or any(y < 0 or y > 90 for y in yaws):
            raise BenchError(f"dataset {self.name}: yaws must be in [0, 90], got {yaws}")
        signs = cfg.get("signs", "alternate")
        if signs not in ("alternate", "both"):
            raise BenchError(f"dataset {self.name}: signs must be alternate or both, got {signs!r}")
        max_yaw = float(cfg.get("max_source_yaw", 12))
        per_id = int(cfg.get("per_identity", 2))
        size = int(cfg.get("size", 256))
        try:
            samples = load_samples(split=cfg.get("split", "test"))
        except FileNotFoundError as err:
            raise DatasetMissing(f"dataset {self.name} not found: {err}") from None
        near = sorted((s for s in samples if getattr(s, "is_photo", True) and s.pose_ok
                       and abs(s.yaw) < max_yaw), key=lambda s: (s.identity, abs(s.yaw), s.id))
        sources, count = [], {}
        for s in near:
            if count.get(s.identity, 0) < per_id:
                count[s.identity] = count.get(s.identity, 0) + 1
                sources.append(s)
        sources.sort(key=lambda s: s.id)
        if not sources:
            raise DatasetMissing(f"dataset {self.name}: no near-frontal (|yaw| < {max_yaw:g}) "
                                 f"crops in the sample set's {cfg.get('split', 'test')} split")
        sources = sources[: int(cfg["limit_sources"])] if cfg.get("limit_sources") else sources
        from fsr.synth.profile_io import PROFILE_VERSION, cached_renders

        items = []
        for k, s in enumerate(sources):
            sign = 1.0 if k % 2 == 0 else -1.0
            targets = []
            for y in yaws:
                targets += [y] if y == 0 else ([sign * y] if signs == "alternate" else [y, -y])
            try:
                renders = cached_renders(s.path, targets, size=size, validity=True)
            except ValueError as err:  # no face / not a crop: one line naming the image
                raise BenchError(f"dataset {self.name}: cannot profile {s.id}: {err}") from None
            for r in renders:
                y = float(r["yaw_target"])
                measured = r["yaw_measured"]
                valid = r["validity"]
                items.append(Item(
                    self.name, f"{s.id}@yaw{y:+03.0f}", self.kind,
                    f"{_fingerprint(Path(s.path))}|{PROFILE_VERSION}|{size}|{y:g}|"
                    f"{float(r['turn']):.3f}",
                    gt_path=Path(r["image"]), identity=str(s.identity), source=str(s.id),
                    pose=(y, float(s.pitch), float(s.roll)),
                    meta={"image_fields": {
                        "yaw_target": y, "yaw_source": float(r["yaw_source"]),
                        "yaw_measured": None if measured is None else float(measured),
                        "synthetic_pose": True, "mask": str(r["mask"]), **valid}}))
        self.items = sorted(items, key=lambda it: it.id)
        self._n_sources = len(sources)

    def describe(self) -> str:
        faces = sum(bool(it.meta["image_fields"]["is_face"]) for it in self.items)
        valid = sum(bool(it.meta["image_fields"]["valid"]) for it in self.items)
        return (f"{self.name} (synthetic pose: {self._n_sources} near-frontal crops profiled, "
                f"{len(self.items)} images; {faces} are faces, {valid} valid, all scored)")
