"""Gradio app: compare face SR / restoration methods side by side, per face and per photo.

    python -m demo.app                         # http://127.0.0.1:7860
    python -m demo.app --host 0.0.0.0 --port 8080
    python app.py                              # the Space's entry point (fetches the peers first)

As a Hugging Face Space the root ``app.py`` imports and launches this module (Spaces set
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, which are the flags' defaults). UI only: the work
is :func:`demo.compare.compare`, which the tests call without a browser. Offline: analytics
are off before gradio is imported, fonts are gradio's bundled ones, nothing is shared.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no phoning home
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's glog lines
# spinning OpenMP threads make torch far slower when the cores are shared (see bench/run.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from demo.compare import (  # noqa: E402
    MAX_FACES,
    MAX_PIXELS,
    TIME_LIMIT_S,
    DemoError,
    compare,
    leaderboard_markdown,
    method_choices,
    yaw_plots,
)
from demo.peers import CODEFORMER_PREFIX, peers_line, peers_markdown, with_fidelity  # noqa: E402
from demo.simulate import metric_columns  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = Path(__file__).resolve().parent / "examples"
# A public Space on 2 vCPUs: requests run one at a time (two at once only share the cores) and
# up to QUEUE_SIZE wait; `python -m demo.latency --concurrent 20` measured both (docs/restore.md)
QUEUE_SIZE = int(os.environ.get("FSR_DEMO_QUEUE_SIZE", 32))  # waiting; more: "queue is full"
CONCURRENCY = int(os.environ.get("FSR_DEMO_CONCURRENCY", 1))  # requests run at once
ZOOM_PX = 384  # the face pair is shown at about this side, enlarged by a whole factor
MAX_UPLOAD = "50mb"
DEFAULT_METHODS = ("bicubic-x4", "realesrgan-x4plus")
TASKS = [("super-resolution", "sr"), ("restoration", "restore")]


def table_columns() -> list[str]:
    return ["mode", "method", "face", "face_px", "status", "yaw", "pitch", "roll", "task",
            "input_px", "output_px", *metric_columns(), "psnr_vs_input", "identity_dist_vs_input",
            "seconds", "note"]


NATIVE_ONLY = ("psnr_vs_input", "identity_dist_vs_input")
# what on_run returns, in order (the Compare button's output components)
RUN_OUTPUTS = ("status", "state", "annotated", "face", "shown", "slider", "grid", "notes",
               "photos", "table", "files")


def mode_choices(task: str) -> list[tuple[str, str]]:
    """The input radio: the benchmark on the visitor's photo, or the photo as it is."""
    if task == "sr":
        return [("Auto (simulate when no method restores the faces at their size)", "auto"),
                ("Simulate a low-resolution capture (benchmark degradation, ground truth)",
                 "simulate"), ("My photo is the low-resolution input", "native")]
    return [("Auto (simulate when no method restores the faces at their size)", "auto"),
            ("Simulate a degraded capture (benchmark blind degradation, ground truth)",
             "simulate"), ("My photo is the degraded input (identity to the input)", "native")]
log = logging.getLogger("fsr.demo")


def image_input(**kwargs) -> gr.Image:
    """A gr.Image that hands over the uploaded file untouched, even when Pillow cannot open
    it, so :func:`fsr.imageio.read_image` (EXIF, 16-bit, alpha, size limits) reads it and
    explains what is wrong instead of the upload failing with a bare 'Error'.

    (Patched on the instance: a gr.Image subclass would make gradio write a .pyi file
    next to this module at import time.)
    """
    component = gr.Image(type="filepath", image_mode=None, **kwargs)
    original = component.preprocess

    def preprocess(payload):
        try:
            return original(payload)
        except Exception:  # noqa: BLE001 - read_image gives the readable message later
            return None if payload is None or payload.path is None else str(payload.path)

    component.preprocess = preprocess
    return component


def _examples() -> list[list]:
    photos = ["multi_face.jpg", "t1.jpg", "obama.jpg", "astronaut.png"]
    crops = ["45-m7-di-ph-0.png", "Justin-Bieber2_crop-0.png"]
    rows = [[str(EXAMPLES / p), False] for p in photos] + [[str(EXAMPLES / c), True] for c in crops]
    return [r for r in rows if Path(r[0]).is_file()]


def _scales() -> list[int]:
    from demo.compare import method_info

    return sorted({method_info(m)[1] for m in method_choices("sr")}) or [4]


def on_task(task: str, scale: int, mode: str = "auto"):
    choices = method_choices(task, scale if task == "sr" else None)
    value = [m for m in DEFAULT_METHODS if m in choices] or choices[:1]
    return (gr.update(visible=task == "sr"), gr.update(choices=choices, value=value),
            gr.update(choices=mode_choices(task), value=mode))


def _nearest(img: np.ndarray, side: int) -> np.ndarray:
    """The input crop at the output's size, nearest-neighbour: its real pixels, just bigger."""
    import cv2

    if img.shape[0] == side:
        return img
    return cv2.resize(img, (side, side), interpolation=cv2.INTER_NEAREST)


def zoom(img: np.ndarray, target: int = ZOOM_PX) -> np.ndarray:
    """``img`` enlarged by the whole factor that brings it nearest ``target`` px (nearest
    neighbour: every pixel a crisp square), so the browser never stretches a small crop."""
    import cv2

    k = max(1, round(target / img.shape[0]))
    return img if k == 1 else cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)


def face_views(state: dict | None, face: int | None, method: str | None):
    """(ImageSlider value, Gallery value) for one face of a finished comparison: simulated,
    ground truth | input | methods (slider: ground truth vs method); native, input | methods
    (slider: input vs method), each caption saying what was done to the face."""
    if not state or not state["faces"]:
        return None, []
    f = state["faces"][min(max(int(face or 1), 1), len(state["faces"])) - 1]
    method = method if method in f["outputs"] else state["methods"][0]
    out = f["outputs"][method]
    if "gt" in f:  # simulated: the benchmark on this face
        side = f["input"].shape[0]
        grid = [(f["gt"], f"ground truth ({f['gt'].shape[0]} px, from the photo)"),
                (_nearest(f["input"], out.shape[0]), f"input ({side} px, benchmark "
                                                     "degradation, nearest-upscaled)")]
        grid += [(f["outputs"][m], m) for m in state["methods"]]
        return (zoom(_nearest(f["gt"], out.shape[0])), zoom(out)), grid
    seen = f.get("inputs", {}).get(method, f["input"])
    side = seen.shape[0]
    grid = [(_nearest(seen, out.shape[0]), f"input ({side} px, nearest-upscaled)")]
    grid += [(f["outputs"][m], f"{m}: {f.get('status', {}).get(m, 'restored')}")
             for m in state["methods"]]
    return (zoom(_nearest(seen, out.shape[0])), zoom(out)), grid


def face_notes(state: dict | None, face: int | None) -> str:
    """What the app knows about one face (size, mode, kept/restored and why, numbers)."""
    if not state or not state["faces"]:
        return ""
    f = state["faces"][min(max(int(face or 1), 1), len(state["faces"])) - 1]
    lines = [f"**{f['label']}**"]
    if "gt" in f:
        lines.append(f"- {f.get('note', '')}")
    for m in state["methods"]:
        note = f.get("notes", {}).get(m)
        row = next((r for r in state.get("rows", []) if r["method"] == m
                    and r["face"] == f["index"]), {})
        nums = ", ".join(f"{k} {row[k]:.4g}" for k in (*metric_columns(), *NATIVE_ONLY)
                         if row.get(k) is not None)
        lines.append(f"- {m}: {note or 'simulated'}" + (f" ({nums})" if nums else ""))
    return "\n".join(lines)


def _slider_label(state, method) -> str:
    shown = method if state and method in state["methods"] else "method"
    first = "Ground truth" if state and state.get("mode") == "simulate" else "Input"
    return f"{first} vs {shown}, enlarged (drag the handle)"


def on_pick(state, face, method):
    slider, grid = face_views(state, face, method)
    return (gr.update(value=slider, label=_slider_label(state, method)), grid,
            face_notes(state, face))


def _status(res: dict) -> str:
    n = len(res["faces"])
    what = "aligned crop" if res["aligned"] else f"{n} face{'s' * (n != 1)}"
    what += (", simulated capture" if res.get("mode") == "simulate" else
             ", your crop as input" if res["aligned"] else ", your photo as input")
    times = ", ".join(f"{m} {s:.1f} s" for m, s in res["seconds"].items())
    mode = next((m for m in res["messages"] if m.startswith("mode: ")), "")
    others = [m for m in res["messages"] if m != mode]
    lines = [f"**Done:** {what}, {len(res['methods'])} method(s) in "
             f"{res['total_seconds']:.1f} s ({times})." + (f" {mode[0].upper()}{mode[1:]}."
                                                            if mode else "")]
    if others:  # collapsed: the result stays in view
        lines += ["", f"<details><summary>{len(others)} note(s)</summary>", ""]
        lines += [f"- {m}" for m in others] + ["", "</details>"]
    return "\n".join(lines)


def _table(rows: list[dict], has_gt: bool, mode: str = "native"):
    import pandas as pd

    all_cols, metrics = table_columns(), metric_columns()
    cols = [c for c in all_cols if (has_gt or c not in metrics)
            and (mode == "native" or c not in NATIVE_ONLY)]
    # the suite's metric columns beyond the fixed ones (e.g. identity-dist), before 'seconds'
    extra = list(dict.fromkeys(k for r in rows for k in r if k not in all_cols
                               and k not in ("x1", "y1", "x2", "y2", "score")))
    cols[cols.index("seconds"):cols.index("seconds")] = extra
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def on_run(image, aligned, methods, gt, fidelity=None, mode="auto"):
    """The Compare button: every output of the page, or a readable error and cleared outputs.

    ``fidelity``: CodeFormer's w (the slider); the chosen CodeFormer methods run at it.
    ``mode``: 'auto', 'simulate' (the benchmark on this photo) or 'native' (the photo itself)."""
    # state, annotated, face, shown, slider, grid, notes, photos, table, files
    empty = (None, None, gr.update(choices=[], value=None), gr.update(choices=[], value=None),
             None, [], "", [], None, None)
    try:
        res = compare(image, with_fidelity(methods or [], fidelity), bool(aligned), gt,
                      mode=mode or "auto")
    except DemoError as err:
        gr.Warning(str(err))
        return (f"**Error:** {err}", *empty)
    except Exception as err:  # noqa: BLE001 - the page gets one line, the log the traceback
        log.exception("compare failed")
        msg = f"internal error ({type(err).__name__}); the server log has the details"
        gr.Warning(msg)
        return (f"**Error:** {msg}", *empty)
    state = {k: res[k] for k in ("faces", "methods", "rows", "mode")}
    faces = [(f["label"], f["index"]) for f in res["faces"]]
    slider, grid = face_views(state, 1, res["methods"][0])
    photos = [(str(p), m) for m, p in res["photos"].items()]
    return (_status(res), state, res["annotated"],
            gr.update(choices=faces, value=1),
            gr.update(choices=res["methods"], value=res["methods"][0]),
            gr.update(value=slider, label=_slider_label(state, res["methods"][0])),
            grid, face_notes(state, 1),
            gr.update(value=photos, visible=bool(photos)),  # simulated mode makes no photos
            _table(res["rows"], res["has_gt"], res["mode"]),
            [str(res["zip"]), str(res["csv"])])


INTRO = f"""# fsr: face super-resolution and restoration, side by side
Upload a photo or an aligned face crop, pick methods, press Compare. **Simulate** runs the
benchmark on your photo (each face is the ground truth, degraded, restored, scored); **my photo
is the input** restores the photo itself, each face by the route measured best for its size.
Limits: {MAX_PIXELS / 1e6:.0f} MP, {MAX_FACES} faces, {TIME_LIMIT_S:.0f} s per request.
"""
YAW_INTRO = """**The point of the project in one picture:** each method's score against the head's
yaw on the benchmark's test faces (dots: faces, lines: 15-degree bucket means). A method that
looks fine on frontal faces can fall apart on turned ones; the tables below give the numbers."""


def _has_codeformer(methods) -> bool:
    return any(m.startswith(CODEFORMER_PREFIX) for m in methods or [])


def build_demo(peers=None) -> gr.Blocks:
    """The page; ``peers``: demo.peers.fetch_peers()'s report (None: look at the cache now)."""
    with gr.Blocks(title="fsr: compare face SR and restoration methods") as demo:
        gr.Markdown(INTRO)
        gr.Markdown(peers_line(peers), elem_id="peers")
        state = gr.State(None)
        with gr.Tab("Compare"):
            with gr.Row():
                with gr.Column(scale=2):
                    image = image_input(label="Photo or face crop", height=300,
                                        sources=["upload", "clipboard"], elem_id="input-image")
                    aligned = gr.Checkbox(label="already-aligned face crop", value=False,
                                          elem_id="aligned")
                    task = gr.Radio(TASKS, value="sr", label="Task", elem_id="task")
                    scales = _scales()
                    scale = gr.Radio(scales, value=scales[0], label="Scale", elem_id="scale")
                    choices = method_choices("sr", scales[0])
                    methods = gr.CheckboxGroup(
                        choices, value=[m for m in DEFAULT_METHODS if m in choices] or choices[:1],
                        label="Methods", elem_id="methods")
                    fidelity = gr.Slider(0, 1, value=0.5, step=0.05, elem_id="fidelity",
                                         label="CodeFormer fidelity w (0: quality, 1: fidelity)",
                                         visible=_has_codeformer(methods.value))
                    mode = gr.Radio(mode_choices("sr"), value="auto", label="Input",
                                    elem_id="mode")
                    with gr.Accordion("Ground truth (optional, aligned crop only)", open=False):
                        gt = image_input(label="Ground-truth face crop", sources=["upload"],
                                         elem_id="gt-image")
                    run = gr.Button("Compare", variant="primary", elem_id="run")
                    gr.Examples(_examples(), inputs=[image, aligned], cache_examples=False,
                                label="Examples (real photos; see demo/examples/PROVENANCE.md)")
                    details = peers_markdown(peers)
                    with gr.Accordion("Missing peers: how to add them", open=False,
                                      visible=bool(details), elem_id="peers-details"):
                        gr.Markdown(details)
                with gr.Column(scale=3):
                    status = gr.Markdown(elem_id="status")
                    # the face pair first, enlarged by a whole factor, short enough for the screen
                    slider = gr.ImageSlider(label="Input vs method, enlarged (drag the handle)",
                                            format="png", interactive=False, elem_id="slider",
                                            max_height=420)
                    with gr.Row():
                        face = gr.Dropdown([], label="Face", elem_id="face")
                        shown = gr.Dropdown([], label="Method in the slider", elem_id="shown")
                    notes = gr.Markdown(elem_id="face-notes")
                    grid = gr.Gallery(label="This face, every method", columns=4, format="png",
                                      object_fit="contain", height=260, elem_id="grid")
                    annotated = gr.Image(label="Detected faces (yaw / pitch / roll, degrees)",
                                         format="jpeg", interactive=False, elem_id="annotated",
                                         height=360)
                    photos = gr.Gallery(label="Whole photo per method (full resolution)",
                                        columns=2, object_fit="contain", height=420, elem_id="photos")
                    table = gr.Dataframe(label="Per face and method", interactive=False,
                                         elem_id="table")
                    files = gr.File(label="Download: images (zip) and numbers (CSV)",
                                    file_count="multiple", interactive=False, elem_id="files")
        with gr.Tab("Benchmark"):
            plots = yaw_plots()
            gr.Markdown(YAW_INTRO)
            metric = gr.Radio(list(plots), value=next(iter(plots), None), label="Metric",
                              elem_id="yaw-metric", visible=bool(plots))
            plot = gr.Image(str(next(iter(plots.values()))) if plots else None,
                            label="Score against |yaw|, per task", interactive=False,
                            elem_id="yaw-plot", visible=bool(plots), format="png")
            metric.change(lambda k: str(plots[k]) if k in plots else None, metric, plot,
                          queue=False)
            board = gr.Markdown(leaderboard_markdown(), elem_id="leaderboard")
            gr.Button("Reload").click(lambda: leaderboard_markdown(), None, board, queue=False)

        task.change(on_task, [task, scale, mode], [scale, methods, mode], queue=False)
        scale.change(on_task, [task, scale, mode], [scale, methods, mode], queue=False)
        outputs = {"status": status, "state": state, "annotated": annotated, "face": face,
                   "shown": shown, "slider": slider, "grid": grid, "notes": notes,
                   "photos": photos, "table": table, "files": files}
        methods.change(lambda ms: gr.update(visible=_has_codeformer(ms)), methods, fidelity,
                       queue=False)
        run.click(on_run, [image, aligned, methods, gt, fidelity, mode],
                  [outputs[k] for k in RUN_OUTPUTS], concurrency_limit=CONCURRENCY)
        for picker in (face, shown):
            picker.input(on_pick, [state, face, shown], [slider, grid, notes], queue=False)
    return demo


def launch_kwargs() -> dict:
    return {"share": False, "show_error": True, "ssr_mode": False, "max_file_size": MAX_UPLOAD,
            "allowed_paths": [str(EXAMPLES), str(ROOT / "leaderboard")]}


def main(argv: list[str] | None = None, demo: gr.Blocks | None = None) -> None:
    """Serve the app. Requests never download weights (FSR_OFFLINE=1 unless set otherwise):
    fetch them beforehand (`python -m fsr assets verify`) or set FSR_OFFLINE=0, e.g. for a
    Space's first start."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    args = parser.parse_args(argv)
    from fsr.device import DeviceError, parse_device, parse_dtype

    try:  # FSR_DEVICE / FSR_DTYPE: where and in which type the methods run; checked at start
        parse_dtype(None, parse_device(None))
    except DeviceError as err:
        raise SystemExit(f"demo: error: {err}") from None
    logging.basicConfig(level=logging.INFO)
    os.environ.setdefault("FSR_OFFLINE", "1")
    try:  # load the detector's weights now, not in the first request
        from demo.compare import get_detector

        log.info("face detector: %s", get_detector("auto").name)
    except DemoError as err:
        log.warning("no face detector yet (%s); photos will fail until its weights are here", err)
    demo = demo or build_demo()
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    demo.launch(server_name=args.host, server_port=args.port, **launch_kwargs())


if __name__ == "__main__":
    main()
