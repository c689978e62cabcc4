"""Turn finished training runs into release files + model cards, measured on the TEST split.

    python tools/release_weights.py experiments/sam3d_x4_samples experiments/sam3d_x4_noprior_samples

For each experiment: ``weights/<name>-<sha256[:8]>.pth`` ({'params', 'params_ema'} of
``models/net_g_latest.pth``), ``weights/<name>.md`` (model card) and
``docs/training_logs/<name>.csv`` (the run's CSV log). Metrics: PSNR/SSIM (BasicSR
conventions), LPIPS (AlexNet and VGG), identity cosine (``fsr.metrics`` 'identity': ArcFace if
its weights resolve, else dlib's ResNet) on the embedded sample set's test split, with the
same inputs the validation used (bicubic x scale, or GFPGAN-blind with ``seed_for(id,
'restore')``); baselines: bicubic (SR) or the degraded input itself (restoration), and
Real-ESRGAN x4plus for x4 when its weights resolve.
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from fsr.assets.resolver import sha256_of

REPO = Path(__file__).resolve().parents[1]
METRICS = ("psnr", "ssim", "lpips", "lpips-vgg", "identity")
YAW_BUCKETS = ((0, 15), (15, 30), (30, 45), (45, 90))


class Scorer:
    """Per-image metrics of (N,3,H,W) [0,1] predictions against the ground truth."""

    def __init__(self) -> None:
        from fsr.metrics import create_metric

        self.fns = {m: create_metric(m) for m in METRICS}
        self.identity_model = self.fns["identity"].model_name

    def __call__(self, pred: torch.Tensor, gt: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            return {m: float(fn(pred.clamp(0, 1), gt).mean()) for m, fn in self.fns.items()}


def method_fns(opt: dict, net: torch.nn.Module, scale: int, task: str) -> dict:
    """name -> function(batch) -> prediction in [0, 1]."""
    from fsr.archs.interp_arch import Bicubic
    from fsr.methods import Method

    # fsr.methods' calling convention, as the benchmark uses it (seeded noise, ranges, prior)
    is_sam3d = opt["model_type"] == "SAM3DModel"
    method = Method(name=opt["name"], task=task if is_sam3d else "restore",
                    scale=scale if is_sam3d else 1, in_size=None, out_size=None,
                    needs_prior=is_sam3d and net.use_prior, weights_sha256=None,
                    input_range=(0.0, 1.0) if is_sam3d else (-1.0, 1.0),
                    needs_coeffs=is_sam3d and net.use_coeff, _net=net)

    def ours(b):
        prior = {"render": b["render"], "coeffs": b.get("coeff")} if method.needs_prior else None
        return method(b["lq"], prior)
    fns = {opt["name"]: ours}
    if task == "sr":
        bicubic = Bicubic(scale)
        fns["bicubic"] = lambda b: bicubic(b["lq"])
        if scale == 4:
            try:
                from fsr.archs.pretrained import create_model

                esrgan = create_model("realesrgan-x4plus")
                fns["realesrgan-x4plus"] = lambda b: esrgan(b["lq"])
            except Exception as err:  # its weights may not resolve on this machine
                print(f"  realesrgan-x4plus skipped: {str(err).splitlines()[0]}")
    else:
        fns["input (degraded)"] = lambda b: b["lq"]
    return fns


def evaluate(opt: dict, net: torch.nn.Module, scorer: Scorer, cache: dict) -> tuple[dict, dict]:
    """Mean metrics per method and mean PSNR per |yaw| bucket, on the test split."""
    from basicsr.data import build_dataset

    from fsr.data.samples import load_samples

    val = dict(opt["datasets"]["val"])
    task, scale = val.get("task", "sr"), int(opt.get("scale", 1))
    val.update(phase="val", split="test", name="samples-test", cache_images=False, scale=scale)
    ds = build_dataset(val)
    yaw = {f"samples/{s.id}": s.yaw for s in load_samples("test")}
    fns = method_fns(opt, net, scale, task)
    per_image: dict[str, list] = {name: [] for name in fns}
    fitted = []
    for i in range(len(ds)):
        item = ds[i]
        batch = {k: (v[None] if isinstance(v, torch.Tensor) else v) for k, v in item.items()}
        if "prior_fitted" in item:
            fitted.append(bool(item["prior_fitted"]))
        for name, fn in fns.items():
            key = (task, scale, name, item["key"])
            if name != opt["name"] and key in cache:  # baselines are shared across runs
                per_image[name].append(cache[key])
                continue
            with torch.no_grad():
                scores = scorer(fn(batch), batch["gt"])
            scores["yaw"] = abs(yaw.get(item["key"], math.nan))
            cache[key] = scores
            per_image[name].append(scores)
    table = {name: {m: float(np.mean([r[m] for r in rows])) for m in METRICS}
             for name, rows in per_image.items()}
    buckets = {}
    for name, rows in per_image.items():
        buckets[name] = {}
        for lo, hi in YAW_BUCKETS:
            sel = [r["psnr"] for r in rows if lo <= r["yaw"] < hi]
            buckets[name][f"{lo}-{hi}"] = (float(np.mean(sel)) if sel else math.nan, len(sel))
    extra = {"n": len(ds), "prior_fitted": (sum(fitted), len(fitted)) if fitted else None}
    return table, {"buckets": buckets, **extra}


def card(name: str, opt: dict, release: Path, digest: str, table: dict, extra: dict,
         log: list[dict], identity_model: str, n_params: int) -> str:
    net = {k: v for k, v in opt["network_g"].items()}
    arch = net.pop("type")
    train = opt["train"]
    tr = opt["datasets"]["train"]
    task = tr.get("task", "sr")
    scale = int(opt.get("scale", 1))
    last = log[-1] if log else {}
    minutes = float(last.get("elapsed_s", "nan")) / 60
    sessions = extra.get("sessions", 1)
    resumed = (f"; {sessions} sessions (killed, then continued with `--auto_resume`)"
               if sessions > 1 else "")
    is_sam3d = opt["model_type"] == "SAM3DModel"
    in_size = 128 // scale if task == "sr" else 128
    rng = "[0, 1]" if is_sam3d else "[-1, 1] (the model maps [0, 1] images with x * 2 - 1)"
    prior = ("3D prior render at LR size, fitted on the degraded input by `fsr.priors` "
             "(`forward(lr, render)`)" if is_sam3d and net.get("use_prior", True) else
             "none (no-prior ablation: the render argument is ignored)" if is_sam3d else "none")
    deg = (f"bicubic x{scale} (antialiased) of the 128x128 ground truth" if task == "sr" else
           f"GFPGAN-style blind degradation at 128 ({tr.get('degradation', {})}), a new draw per "
           "training sample; test inputs fixed by `seed_for(id, 'restore')`")
    lines = [
        f"# {name}", "",
        f"{'SAM3D' if is_sam3d else 'MMRB + StyleGAN2 prior'} trained by fsr on the embedded "
        f"sample set, on a shared 2-core CPU. A small, honest demonstration model: minutes of "
        "training on 164 faces. It is not the authors' model and not a benchmark entry to "
        "compare with published numbers.", "",
        "| field | value |", "|---|---|",
        f"| file | `weights/{release.name}` ({release.stat().st_size / 1e6:.1f} MB) |",
        f"| sha256 | `{digest}` |",
        "| keys | `params`, `params_ema` (use `params_ema`) |",
        f"| architecture | `{arch}` with `{net}` ({n_params:,} parameters) |",
        f"| input | RGB {rng}, {in_size}x{in_size} |",
        "| output | RGB, 128x128, same range as the input |",
        f"| prior | {prior} |",
        f"| task | {f'face SR x{scale}' if task == 'sr' else 'blind face restoration'} |",
        "| data | `samples/` train split: 164 aligned 256-px real-face crops of 11 identities, "
        "resized to 128; test split: 83 crops of 36 other identities (split by identity) |",
        f"| degradation | {deg} |",
        f"| budget | {train['total_iter']} iterations x batch {tr['batch_size_per_gpu']}, "
        f"Adam lr {train['optim_g']['lr']}, EMA {train.get('ema_decay', 0)}; "
        f"{minutes:.0f} min wall on 1 thread of a shared 2-core CPU{resumed} |",
        f"| command | `python -m fsr.train -opt options/{name}.yml` then "
        f"`python tools/release_weights.py experiments/{name}` |", "",
        f"## Test split ({extra['n']} images, 128x128)", "",
        "PSNR/SSIM: RGB, [0, 255], no border crop (BasicSR conventions). LPIPS: v0.1, AlexNet and "
        f"VGG trunks. Identity: cosine similarity of `{identity_model}` embeddings of output and "
        "ground truth (higher is better; not comparable with ArcFace numbers).", "",
        "| method | PSNR | SSIM | LPIPS-alex | LPIPS-vgg | identity |",
        "|---|---|---|---|---|---|",
    ]
    for method, m in table.items():
        lines.append(f"| {method} | {m['psnr']:.2f} | {m['ssim']:.4f} | {m['lpips']:.4f} | "
                     f"{m['lpips-vgg']:.4f} | {m['identity']:.4f} |")
    lines += ["", "PSNR per |yaw| bucket (degrees; images per bucket in brackets):", "",
              "| method | " + " | ".join(f"{b} ({n})" for b, (_, n) in
                                         next(iter(extra["buckets"].values())).items()) + " |",
              "|---|" + "---|" * len(YAW_BUCKETS)]
    for method, b in extra["buckets"].items():
        lines.append(f"| {method} | " + " | ".join(f"{v:.2f}" for v, _ in b.values()) + " |")
    if extra.get("prior_fitted"):
        ok, n = extra["prior_fitted"]
        lines += ["", f"The MediaPipe mesh fit succeeded on {ok} of {n} degraded test inputs "
                  "(the rest get the template face)."]
    lines += ["", "## Training log", "",
              f"`docs/training_logs/{name}.csv` (one row per validation on the test split; "
              "curves in `docs/training_curves.png`).", "",
              "## Load it", "", "```python",
              "from basicsr.utils.registry import ARCH_REGISTRY",
              "import fsr  # registers the architectures",
              "from fsr.archs.checkpoint import load_checkpoint", "",
              f"net = ARCH_REGISTRY.get('{arch}')(**{net}).eval()",
              f"load_checkpoint(net, 'weights/{release.name}')   # picks params_ema",
              "```", ""]
    return "\n".join(lines)


def paired_delta(cache: dict, a: str, b: str, metric: str = "psnr", n: int = 2000,
                 seed: int = 0) -> tuple[float, float, float, int, int] | None:
    """Mean per-image ``metric`` difference a - b on the test split with a 95% bootstrap
    interval that resamples identities (test images of one identity are not independent:
    41 of 83 are frames of one video). Returns (delta, lo, hi, images, identities)."""
    from fsr.data.samples import load_samples

    ident = {f"samples/{s.id}": s.identity for s in load_samples("test")}
    rows_a = {k[3]: v[metric] for k, v in cache.items() if k[2] == a}
    rows_b = {k[3]: v[metric] for k, v in cache.items() if k[2] == b}
    keys = sorted(set(rows_a) & set(rows_b))
    if not keys:
        return None
    groups: dict[str, list[float]] = {}
    for k in keys:
        groups.setdefault(ident.get(k, k), []).append(rows_a[k] - rows_b[k])
    names = sorted(groups)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n):
        pick = rng.integers(0, len(names), len(names))
        vals = [v for i in pick for v in groups[names[i]]]
        boot.append(np.mean(vals))
    delta = float(np.mean([rows_a[k] - rows_b[k] for k in keys]))
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return delta, float(lo), float(hi), len(keys), len(names)


def release(exp: Path, out: Path, scorer: Scorer, cache: dict) -> None:
    from basicsr.archs import build_network
    from basicsr.utils.options import yaml_load

    from fsr.archs.checkpoint import load_checkpoint, read_state_dict, save_checkpoint

    name = exp.name
    opt = yaml_load(str(exp / f"{name}.yml"))
    latest = exp / "models" / "net_g_latest.pth"
    params, _, _ = read_state_dict(latest, key="params")
    ema, _, _ = read_state_dict(latest, key="params_ema")
    for old in out.glob(f"{name}-*.pth"):
        old.unlink()
    path = save_checkpoint(out / f"{name}.pth", params, ema, add_sha256_suffix=True)
    digest = sha256_of(path)
    net = build_network(dict(opt["network_g"]))
    load_checkpoint(net, path)
    net.eval()
    t = time.time()
    table, extra = evaluate(opt, net, scorer, cache)
    extra["sessions"] = len(list(exp.glob(f"train_{name}_*.log")))
    print(f"{name}: evaluated in {time.time() - t:.0f} s")
    log_src = exp / "train_log.csv"
    logs = REPO / "docs" / "training_logs"
    logs.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(log_src))) if log_src.is_file() else []
    if rows:
        shutil.copy(log_src, logs / f"{name}.csv")
    n_params = sum(p.numel() for p in net.parameters())
    text = card(name, opt, path, digest, table, extra, rows, scorer.identity_model, n_params)
    (out / f"{name}.md").write_text(text)
    for method, m in table.items():
        print(f"  {method:22s} " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()))
    print(f"  -> {path} ({path.stat().st_size / 1e6:.1f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=REPO / "weights")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import fsr.models  # noqa: F401  (registers archs, datasets)

    args.out.mkdir(parents=True, exist_ok=True)
    scorer, cache = Scorer(), {}
    for exp in args.experiments:
        if not (exp / "models" / "net_g_latest.pth").is_file():
            print(f"{exp}: no models/net_g_latest.pth (training not finished?)", file=sys.stderr)
            return 1
        release(exp.resolve(), args.out, scorer, cache)
    names = [e.resolve().name for e in args.experiments]
    for name in names:  # the no-prior ablation next to its prior model: a paired comparison
        ablation = name.replace("_samples", "_noprior_samples")
        if ablation == name or ablation not in names:
            continue
        lines = ["", "## 3D prior vs no prior (same network, data, budget and seed)", "",
                 f"Paired per-image difference `{name}` - `{ablation}` on the test split, "
                 "mean with a 95% bootstrap interval over identities (2000 resamples):", "",
                 "| metric | difference | 95% interval |", "|---|---|---|"]
        for metric in ("psnr", "ssim", "lpips", "identity"):
            res = paired_delta(cache, name, ablation, metric)
            if res:
                d, lo, hi, n_img, n_id = res
                lines.append(f"| {metric} | {d:+.4f} | [{lo:+.4f}, {hi:+.4f}] |")
        lines += ["", f"({n_img} images of {n_id} identities; LPIPS: lower is better.)", ""]
        card_path = args.out / f"{name}.md"
        text = card_path.read_text()
        marker = "\n## Training log"
        card_path.write_text(text.replace(marker, "\n".join(lines) + marker, 1))
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
