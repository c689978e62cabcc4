"""Golden FIDs between two folders of real faces from torch-fidelity's and clean-fid's own
pipelines, with fsr's Inception plugged into each (not from fsr's FID code).

Writes ``fid_golden.json``. The two folders are the committed sample crops split in two
(:func:`make_folders`). Their Inception weights (torch-fidelity's ``weights-inception-2015-
12-05-6726825d.pth``, NVIDIA's ``inception-2015-12-05.pt``) cannot be fetched here, so each
library runs with a feature extractor that calls fsr's TF-FID Inception on its batches
(``fsr.metrics.inception.FIDInception``, asset ``fid-inception``): what is compared is
everything around the network, i.e. reading and ordering the folder's files, 8-bit decoding,
the mean/covariance and the Frechet distance. fsr's side, ``load_reference(folder)`` twice
and ``fid_from_stats``, must give the same number (tests/metrics/test_fid_reference.py).

Run with the two libraries on the path but not installed in the project (they are not fsr
dependencies)::

    .venv/bin/python -m pip install --no-deps --target /tmp/fidref torch-fidelity==0.3.0 \\
        clean-fid==0.1.35
    PYTHONPATH=/tmp/fidref .venv/bin/python tests/metrics/data/make_fid_fixtures.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch

OUT = Path(__file__).parent / "fid_golden.json"
REPO = Path(__file__).resolve().parents[3]
N_PER_SET = 48


def make_folders(root: Path) -> tuple[Path, Path]:
    """``a/`` and ``b/``: the first 2 x N_PER_SET sample crops (sorted by name), split in two."""
    crops = sorted((REPO / "samples" / "crops").glob("*.png"))[: 2 * N_PER_SET]
    folders = (root / "a", root / "b")
    for folder, part in zip(folders, (crops[:N_PER_SET], crops[N_PER_SET:]), strict=True):
        folder.mkdir(parents=True, exist_ok=True)
        for src in part:
            shutil.copyfile(src, folder / src.name)
    return folders


def _fsr_extractor():
    from fsr.metrics.inception import FIDInception

    net = FIDInception()

    def features(x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if x.max() > 1.5:  # the libraries hand over 0..255 values
            x = x / 255.0
        return net(x)

    return features


def torch_fidelity_fid(a: Path, b: Path) -> float:
    import torch_fidelity
    from torch_fidelity.feature_extractor_base import FeatureExtractorBase

    features = _fsr_extractor()

    class FsrInception(FeatureExtractorBase):
        def __init__(self, name, features_list, **kwargs):
            super().__init__(name, features_list)

        @staticmethod
        def get_provided_features_list():
            return ("2048",)

        @staticmethod
        def get_default_feature_layer_for_metric(metric):
            return "2048"

        @staticmethod
        def can_be_compiled():
            return False

        @staticmethod
        def get_dummy_input_for_compile():
            return None

        def forward(self, x):
            return (features(x).double(),)

    torch_fidelity.register_feature_extractor("fsr-inception", FsrInception)
    out = torch_fidelity.calculate_metrics(input1=str(a), input2=str(b), fid=True, cuda=False,
                                           feature_extractor="fsr-inception",
                                           feature_layer_fid="2048", batch_size=16,
                                           cache=False, verbose=False)
    return float(out["frechet_inception_distance"])


def clean_fid_fid(a: Path, b: Path) -> float:
    from cleanfid import fid

    features = _fsr_extractor()
    return float(fid.compute_fid(str(a), str(b), mode="legacy_tensorflow",
                                 custom_feat_extractor=features, num_workers=0, batch_size=16,
                                 device=torch.device("cpu"), verbose=False))


def main() -> None:
    torch.set_num_threads(2)
    import cleanfid
    import torch_fidelity

    with tempfile.TemporaryDirectory() as tmp:
        a, b = make_folders(Path(tmp))
        files = {f"{d.name}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
                 for d in (a, b) for p in sorted(d.iterdir())}
        tf = torch_fidelity_fid(a, b)
        cf = clean_fid_fid(a, b)
    golden = {"n_per_set": N_PER_SET, "files_sha256": files,
              "torch_fidelity": {"version": torch_fidelity.__version__, "fid": tf},
              "clean_fid": {"version": getattr(cleanfid, "__version__", "0.1.35"), "fid": cf},
              "extractor": "fsr fid-inception (TF-FID Inception, TorchScript), both libraries"}
    OUT.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {OUT}: torch-fidelity FID {tf:.6f}, clean-fid FID {cf:.6f} "
          f"({N_PER_SET} vs {N_PER_SET} images)")


if __name__ == "__main__":
    sys.exit(main())
