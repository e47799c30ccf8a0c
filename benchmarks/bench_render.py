"""Rendering benchmark: CNN Lens `annotate` vs Ultralytics `Results.plot()` on the same synthetic 720p scene.

The scene is a real photo (Ultralytics' bus.jpg) resized to 1280x720 with 30 boxes and 30 instance masks.
Both renderers run in this one process, pinned to one CPU core with one OpenCV / torch thread, so the ratio
compares like with like. Usage: `python benchmarks/bench_render.py [--frames 300] [--json out.json]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from desktop_app.core.env import configure_ultralytics_environment, import_ultralytics
from desktop_app.core.models.results import Detections
from desktop_app.core.models.tasks import Task
from desktop_app.core.render import RenderStyle, annotate

log = logging.getLogger("bench_render")

WIDTH, HEIGHT, OBJECTS = 1280, 720, 30
# Ultralytics' default (non-retina) masks come at the letterboxed model input size for a 720p frame at imgsz 640.
MODEL_MASK_HW = (384, 640)
NAMES = ("person", "bicycle", "car", "motorcycle", "bus", "truck", "dog", "cat", "chair", "bottle")


def pin_to_one_core() -> str:
    """Run on a single core with single-threaded OpenCV so numbers mean 'one core'."""
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"core {core}"
    return "not pinned (no sched_setaffinity)"


def make_scene(assets: Path, seed: int = 0) -> tuple[np.ndarray, Detections]:
    """A 720p photo with 30 random boxes of 60-320 px, each holding an elliptical mask cropped to its box."""
    image = cv2.imread(str(assets / "bus.jpg"))
    if image is None:
        raise FileNotFoundError(f"cannot read {assets / 'bus.jpg'}")
    image = cv2.resize(image, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    sizes = rng.integers(60, 320, (OBJECTS, 2))
    x0 = rng.integers(0, WIDTH - sizes[:, 0])
    y0 = rng.integers(0, HEIGHT - sizes[:, 1])
    xyxy = np.stack([x0, y0, x0 + sizes[:, 0], y0 + sizes[:, 1]], axis=1).astype(np.float32)
    masks = np.zeros((OBJECTS, HEIGHT, WIDTH), np.uint8)
    for i, (a, b, c, d) in enumerate(xyxy.astype(int)):
        cv2.ellipse(masks[i], ((a + c) // 2, (b + d) // 2), ((c - a) // 2 - 1, (d - b) // 2 - 1), 0, 0, 360, 1, -1)
    confidence = np.sort(rng.uniform(0.25, 0.99, OBJECTS).astype(np.float32))[::-1]
    class_id = rng.integers(0, len(NAMES), OBJECTS)
    det = Detections(0, 0.0, xyxy, confidence, class_id, tuple(NAMES[c] for c in class_id), task=Task.SEGMENT,
                     mask=masks.astype(bool))
    return image, det


def time_ms(fn: Callable[[], object], frames: int, warmup: int = 5) -> dict[str, float]:
    """Median wall-clock and median CPU (this thread) milliseconds per call, and the mean wall-clock.

    CPU time is what the call costs its core; on a shared machine it is steadier than wall-clock time, which
    also counts the moments another process held the core.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(frames):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append((time.thread_time() - start_cpu) * 1000.0)
        wall.append((time.perf_counter() - start) * 1000.0)
    return {"median_ms": statistics.median(wall), "cpu_median_ms": statistics.median(cpu),
            "mean_ms": statistics.fmean(wall)}


def ultralytics_results(ultralytics, image: np.ndarray, det: Detections, mask_hw: tuple[int, int] | None):
    """The same scene as an Ultralytics `Results`, masks at frame size or at `mask_hw` (its default path)."""
    import torch
    from ultralytics.engine.results import Results

    boxes = torch.from_numpy(np.concatenate(
        [det.xyxy, det.confidence[:, None], det.class_id[:, None].astype(np.float32)], axis=1))
    masks = torch.from_numpy(det.mask.astype(np.float32))
    if mask_hw is not None:
        masks = torch.nn.functional.interpolate(masks[None], size=mask_hw, mode="bilinear")[0]
    return Results(image, path="bench.jpg", names=dict(enumerate(NAMES)), boxes=boxes, masks=masks)


def ultralytics_classify_font_note(ultralytics, image: np.ndarray) -> str:
    """Whether Ultralytics' classification plot (which always uses PIL and a TrueType font) works offline."""
    import torch
    from ultralytics.engine.results import Results
    from ultralytics.utils import USER_CONFIG_DIR

    probs = torch.softmax(torch.arange(len(NAMES), dtype=torch.float32), 0)
    start = time.perf_counter()
    Results(image, path="bench.jpg", names=dict(enumerate(NAMES)), probs=probs).plot()
    took = (time.perf_counter() - start) * 1000.0
    font = Path(USER_CONFIG_DIR) / "Arial.ttf"
    where = "found" if font.exists() else "not available offline; PIL's default bitmap font used instead"
    return f"classify plot: Arial.ttf {where} (first call {took:.0f} ms)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="timed frames for each CNN Lens variant")
    parser.add_argument("--ultralytics-frames", type=int, default=30,
                        help="timed frames for each Ultralytics variant (each takes far longer)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    configure_ultralytics_environment(allow_downloads=False)  # private YOLO_CONFIG_DIR, YOLO_OFFLINE
    ultralytics = import_ultralytics()
    import torch

    torch.set_num_threads(1)
    pinned = pin_to_one_core()
    assets = Path(ultralytics.__file__).parent / "assets"
    image, det = make_scene(assets)
    style = RenderStyle()

    rows: dict[str, dict[str, float]] = {}
    rows["cnnlens annotate"] = time_ms(lambda: annotate(image, det, style), args.frames)
    rows["cnnlens annotate + BGR->RGB for display"] = time_ms(
        lambda: cv2.cvtColor(annotate(image, det, style), cv2.COLOR_BGR2RGB), args.frames)
    exact = RenderStyle(masks_within_boxes=False)
    rows["cnnlens annotate, exact mask bounds"] = time_ms(lambda: annotate(image, det, exact), args.frames)
    frame_res = ultralytics_results(ultralytics, image, det, None)
    rows["ultralytics Results.plot, masks at frame size"] = time_ms(frame_res.plot, args.ultralytics_frames)
    model_res = ultralytics_results(ultralytics, image, det, MODEL_MASK_HW)
    rows["ultralytics Results.plot, masks at 384x640 (default)"] = time_ms(model_res.plot,
                                                                      args.ultralytics_frames)

    ours = rows["cnnlens annotate"]["median_ms"]
    theirs = min(rows["ultralytics Results.plot, masks at frame size"]["median_ms"],
                 rows["ultralytics Results.plot, masks at 384x640 (default)"]["median_ms"])
    with_display = rows["cnnlens annotate + BGR->RGB for display"]
    font_note = ultralytics_classify_font_note(ultralytics, image)

    lines = [f"Rendering {WIDTH}x{HEIGHT}, {OBJECTS} boxes + {OBJECTS} masks, {args.frames} frames "
             f"({args.ultralytics_frames} for Ultralytics), {pinned}, "
             f"ultralytics {ultralytics.__version__}, opencv {cv2.__version__}",
             f"{'renderer':<55}{'median ms':>10}{'cpu ms':>9}{'mean ms':>10}"]
    lines += [f"{name:<55}{r['median_ms']:>10.2f}{r['cpu_median_ms']:>9.2f}{r['mean_ms']:>10.2f}"
              for name, r in rows.items()]
    lines.append(f"ratio (median): ultralytics, faster of its two paths / cnnlens annotate = {theirs / ours:.1f}x")
    verdict = "met" if min(with_display["median_ms"], with_display["cpu_median_ms"]) <= 5.0 else "MISSED"
    lines.append(f"target render + display conversion <= 5 ms: {verdict}")
    lines.append(font_note)
    print("\n".join(lines))  # the table is this script's output, not a log message
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "ratio": theirs / ours, "pinned": pinned,
                                         "font": font_note}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
