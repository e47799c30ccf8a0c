"""GPU path benchmark: what each of CNN Lens's CUDA choices buys, measured side by side on the same frames.

Variants of one YOLO model, interleaved round by round so a slow spell hits them all alike:
- `fp32, CPU letterbox, eager`: Ultralytics' defaults (OpenCV resize and pad on the CPU, pageable copy, float32,
  one Python launch per kernel);
- fp16; then the letterbox on the device (pinned buffer, non-blocking copy, resize on the GPU); then the forward
  pass replayed from a CUDA graph, alone and with the device letterbox (CNN Lens's default on CUDA);
- the default with `cudnn.benchmark` off, to show what autotuning adds.
For each: wall ms per frame, the adapter's stage times, and host CPU ms per frame (what is left for capture,
rendering, encoding and the UI). Then the insight views on the device: feature maps (reduced on the GPU, small
result copied back) and Grad-CAM/EigenCAM, per frame. TensorRT is measured when `tensorrt` is installed.

Usage: `python benchmarks/bench_gpu_paths.py [--device cuda] [--model yolo11n-pose] [--frames 200]
[--json out.json]`. It also runs on the CPU (`--device cpu`), where only the letterbox comparison means much.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from desktop_app.core.frames import Frame
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.loader import resolve_ultralytics_weights
from desktop_app.core.models.ultralytics_adapter import UltralyticsAdapter

log = logging.getLogger("bench_gpu_paths")
ROUNDS = 5
WARMUP = 10


def sample_frames(count: int, size_wh: tuple[int, int]) -> list[Frame]:
    """Distinct frames of the built-in sample scene (real photos, panned), at the asked size."""
    import cv2

    from desktop_app.core.sources import open_source

    frames: list[Frame] = []
    with open_source("sample", duration_s=count / 30.0 + 1.0) as source:
        while len(frames) < count and (frame := source.read()) is not None:
            image = frame.image if frame.resolution_wh == size_wh else cv2.resize(frame.image, size_wh)
            frames.append(Frame(image, len(frames), len(frames) / 30.0))
    return frames


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_variant(step: Callable[[Frame], object], frames: list[Frame], device: str) -> dict[str, float]:
    """Wall and host-CPU milliseconds per frame over `frames` (after the warm-up that the caller ran)."""
    _sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    stages = {"preprocess": 0.0, "inference": 0.0, "postprocess": 0.0}
    for frame in frames:
        result = step(frame)
        timings = getattr(result, "timings", None)
        if timings is not None:
            stages["preprocess"] += timings.preprocess_ms
            stages["inference"] += timings.inference_ms
            stages["postprocess"] += timings.postprocess_ms
    _sync(device)
    n = len(frames)
    out = {"ms": 1e3 * (time.perf_counter() - wall) / n, "cpu_ms": 1e3 * (time.process_time() - cpu) / n}
    out.update({k: v / n for k, v in stages.items()})
    return out


def run(args: argparse.Namespace) -> dict:
    device = args.device
    weights = resolve_ultralytics_weights(args.model) or args.model
    frames = sample_frames(args.frames // ROUNDS, (args.width, args.height))
    options = PredictOptions(imgsz=args.imgsz)
    variants: dict[str, tuple[Callable[[Frame], object], Callable[[], None], bool]] = {}

    def model_variant(name: str, half: bool, on_device: bool, graphs: bool, cudnn_benchmark: bool = True) -> None:
        adapter = UltralyticsAdapter(weights, device=device, model_id=args.model, half=half,
                                     device_preprocess=on_device, cuda_graphs=graphs)
        variants[name] = (lambda f: adapter.predict(f, options), adapter.close, cudnn_benchmark)

    cuda = device.startswith("cuda")
    model_variant("fp32, CPU letterbox, eager", False, False, False)
    model_variant("fp16, CPU letterbox, eager", cuda, False, False)
    model_variant("fp16, device letterbox, eager", cuda, True, False)
    model_variant("fp16, CPU letterbox, CUDA graph", cuda, False, cuda)
    model_variant("fp16, device letterbox, CUDA graph (default)", cuda, True, cuda)
    model_variant("  same, cudnn.benchmark off", cuda, True, cuda, cudnn_benchmark=False)
    notes: list[str] = []
    try:
        from desktop_app.core.panes import build_runner
        from desktop_app.core.pipeline import PaneSpec

        for kind in ("features", "gradcam"):
            runner = build_runner(PaneSpec(kind, args.model, options), device)
            variants[f"insight: {kind}"] = (lambda f, r=runner: r.run(f, 0), runner.close, True)
    except Exception as exc:  # an insight view missing its optional package: measure the rest
        notes.append(f"insight views not measured: {exc}")
    if args.tensorrt:
        try:
            from desktop_app.core.models.exports import export_tensorrt

            engine = export_tensorrt(weights, imgsz=args.imgsz, device=device)
            trt = UltralyticsAdapter(engine, device=device, model_id=f"{args.model}@tensorrt")
            variants["TensorRT fp16 engine"] = (lambda f: trt.predict(f, options), trt.close, True)
        except Exception as exc:
            notes.append(f"TensorRT not measured: {exc}")

    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    try:
        for name, (step, _, bench_on) in variants.items():  # warm-up (and cuDNN autotuning) per variant
            torch.backends.cudnn.benchmark = bench_on
            for frame in frames[:WARMUP]:
                step(frame)
        for _ in range(ROUNDS):
            for name, (step, _, bench_on) in variants.items():
                torch.backends.cudnn.benchmark = bench_on
                rounds[name].append(time_variant(step, frames, device))
    finally:
        for _, close, _ in variants.values():
            close()
    table = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
             for name, runs in rounds.items()}
    hardware = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    return {"model": args.model, "device": device, "hardware": hardware, "torch": torch.__version__,
            "frame_wh": [args.width, args.height], "imgsz": args.imgsz, "frames_per_round": len(frames),
            "rounds": ROUNDS, "variants": table, "per_round": rounds, "notes": notes}


def format_table(report: dict) -> str:
    lines = [f"{report['model']} on {report['hardware']} (torch {report['torch']}), "
             f"{report['frame_wh'][0]}x{report['frame_wh'][1]} frames, imgsz {report['imgsz']}, "
             f"median of {report['rounds']} rounds x {report['frames_per_round']} frames", "",
             f"{'variant':<46}{'ms/frame':>9}{'CPU ms':>8}{'pre':>7}{'infer':>7}{'post':>7}"]
    base = report["variants"].get("fp32, CPU letterbox, eager", {}).get("ms")
    for name, v in report["variants"].items():
        speedup = f"  x{base / v['ms']:.2f}" if base and not name.startswith("insight") else ""
        lines.append(f"{name:<46}{v['ms']:>9.2f}{v['cpu_ms']:>8.2f}{v['preprocess']:>7.2f}{v['inference']:>7.2f}"
                     f"{v['postprocess']:>7.2f}{speedup}")
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", default="yolo11n-pose")
    parser.add_argument("--frames", type=int, default=200, help="timed frames per variant, over all rounds")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--tensorrt", action="store_true", help="also export and time a TensorRT engine")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report = run(args)
    print(format_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
