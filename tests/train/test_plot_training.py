"""tools/plot_training.py: one panel row per task family; each loss panel says which run a
colour is and which term a line style is, once each (not runs x terms entries)."""

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def _log(path: Path, terms: list[str]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, ["iter", "dataset", "elapsed_s", *terms, "val_psnr"])
        w.writeheader()
        for i in (100, 200, 300):
            w.writerow({"iter": i, "dataset": "samples-val", "elapsed_s": i,
                        **{t: 0.1 / i for t in terms}, "val_psnr": 27 + i / 100})


def test_legends_and_image(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    spec = importlib.util.spec_from_file_location("plot_training", REPO / "tools" / "plot_training.py")
    plot_training = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plot_training)

    a, b, c = tmp_path / "mmrb_a.csv", tmp_path / "mmrb_b.csv", tmp_path / "sam3d_x4_c.csv"
    _log(a, ["l_pix", "l_percep"])
    _log(b, ["l_pix", "l_percep", "l_identity"])
    _log(c, ["l_pix"])
    figures = []
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt.Figure, "savefig", lambda fig, *a, **k: figures.append(fig))
    monkeypatch.setattr(sys, "argv", ["plot_training.py", str(a), str(b), str(c),
                                      "--baseline", "restoration=input (val)=27.5"])
    plot_training.main()
    (fig,) = figures
    loss_restore = fig.axes[0]
    legends = [child for child in loss_restore.get_children()
               if isinstance(child, matplotlib.legend.Legend)]
    texts = sorted(sorted(t.get_text() for t in lg.get_texts()) for lg in legends)
    assert texts == [["l_identity", "l_percep", "l_pix"], ["mmrb_a", "mmrb_b"]]
    val_texts = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert val_texts == ["mmrb_a", "mmrb_b", "input (val)"]
    assert len(fig.axes) == 4  # restoration and SR x4 rows


def test_writes_a_png(tmp_path):
    _log(tmp_path / "mmrb_a.csv", ["l_pix"])
    out = tmp_path / "curves.png"
    subprocess.run([sys.executable, str(REPO / "tools" / "plot_training.py"),
                    str(tmp_path / "mmrb_a.csv"), "--out", str(out)], check=True)
    assert Image.open(out).size[0] > 500
