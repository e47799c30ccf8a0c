"""What a faster runtime costs in accuracy: each export of a model against the PyTorch model, frame by frame.

Frames: 20 views of the built-in sample source from 4 s on, every tenth frame (INT8 calibration takes odd frames
across the sample's cycle, so none of these, though the same two photos at nearby zooms), Ultralytics' bus.jpg and
zidane.jpg at full size, and a photo nothing in CNN Lens shows the model (matplotlib's Grace Hopper portrait, where
matplotlib is installed). On every frame each runtime's detections are matched to PyTorch's (greedy, best IoU
first, IoU >= 0.5) and the script reports, per runtime and per group of frames: objects found, missed and extra;
box IoU; keypoint error in pixels (keypoints both models see); confidence difference; and the median inference
time. Usage:

    python benchmarks/compare_runtimes.py [--model yolo11n-pose] [--runtimes openvino openvino-int8 onnx]
                                          [--views 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import statistics
from pathlib import Path

import cv2
import numpy as np
import torch
from torchvision.ops import box_iou

from desktop_app.core.frames import Frame
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.calibration import calibration_frame_indices
from desktop_app.core.models.loader import load_model

log = logging.getLogger("compare_runtimes")

FIRST_VIEW_S = 4.0


def frames(views: int) -> tuple[list[Frame], list[str]]:
    """Held-out sample views, the two bundled photos and, where matplotlib is installed, a photo that no part of
    CNN Lens ever showed the model (its Grace Hopper portrait); with a group name per frame."""
    from desktop_app.core.sources import open_source

    out: list[Frame] = []
    step = 10
    with open_source("sample", duration_s=FIRST_VIEW_S + views * step / 30.0 + 1.0) as source:
        index = 0
        while len(out) < views and (frame := source.read()) is not None:
            if frame.timestamp_s >= FIRST_VIEW_S and index % step == 0 and index not in calibration_frame_indices():
                out.append(frame)
            index += 1
    groups = ["sample views"] * len(out)
    assets = Path(importlib.util.find_spec("ultralytics").submodule_search_locations[0]) / "assets"
    photos = [(assets / name, "bundled photos") for name in ("bus.jpg", "zidane.jpg")]
    if importlib.util.find_spec("matplotlib") is not None:
        data = Path(importlib.util.find_spec("matplotlib").submodule_search_locations[0]) / "mpl-data/sample_data"
        photos.append((data / "grace_hopper.jpg", "unseen photo"))
    for path, group in photos:
        image = cv2.imread(str(path))
        if image is not None:
            out.append(Frame(image=image, frame_index=len(out), timestamp_s=0.0))
            groups.append(group)
    return out, groups


def match(reference, other, min_iou: float = 0.5) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matches (reference index, other index, IoU), best IoU first."""
    if len(reference) == 0 or len(other) == 0:
        return []
    # degenerate (zero-area) boxes give 0/0: no overlap, not NaN (which argmax would pick)
    ious = np.nan_to_num(box_iou(torch.tensor(reference.xyxy), torch.tensor(other.xyxy)).numpy())
    pairs = []
    while True:
        i, j = np.unravel_index(np.argmax(ious), ious.shape)
        if ious[i, j] < min_iou:
            return pairs
        pairs.append((int(i), int(j), float(ious[i, j])))
        ious[i, :], ious[:, j] = -1.0, -1.0


def compare(reference_results, results) -> dict:
    found = missed = extra = 0
    ious, keypoint_px, confidence = [], [], []
    for ref, got in zip(reference_results, results):
        pairs = match(ref, got)
        found += len(pairs)
        missed += len(ref) - len(pairs)
        extra += len(got) - len(pairs)
        for i, j, iou in pairs:
            ious.append(iou)
            confidence.append(abs(float(ref.confidence[i]) - float(got.confidence[j])))
            if ref.keypoints is not None and got.keypoints is not None:
                a, b = ref.keypoints[i], got.keypoints[j]
                seen = (a[:, 2] > 0.5) & (b[:, 2] > 0.5)
                keypoint_px.extend(np.hypot(*(a[seen, :2] - b[seen, :2]).T).tolist())
    summary = {"found": found, "missed": missed, "extra": extra,
               "iou_mean": statistics.fmean(ious) if ious else None, "iou_min": min(ious) if ious else None,
               "confidence_diff_mean": statistics.fmean(confidence) if confidence else None,
               "confidence_diff_max": max(confidence) if confidence else None}
    if keypoint_px:
        summary.update(keypoint_px_mean=statistics.fmean(keypoint_px),
                       keypoint_px_median=statistics.median(keypoint_px),
                       keypoint_px_p95=float(np.percentile(keypoint_px, 95)), keypoint_px_max=max(keypoint_px))
    return summary


def run(model: str, backend: str, views: list[Frame], options: PredictOptions) -> tuple[list, dict]:
    adapter = load_model(model, device="cpu", backend=backend)
    try:
        adapter.predict(views[0], options)  # settle the predictor (and start per-shape compiles)
        shapes = getattr(adapter, "static_shapes", None)
        for frame in views:
            adapter.predict(frame, options)
            if shapes is not None:
                shapes.wait()
        results = [adapter.predict(frame, options) for frame in views]
        info = adapter.info
        meta = {"precision": info.precision, "backend": info.backend,
                "inference_ms_median": statistics.median(r.timings.inference_ms for r in results)}
        return results, meta
    finally:
        adapter.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="yolo11n-pose")
    parser.add_argument("--runtimes", nargs="+", default=["openvino", "openvino-int8"])
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    views, groups = frames(args.views)
    options = PredictOptions(conf=args.conf)
    reference, reference_meta = run(args.model, "torch", views, options)
    report = {"model": args.model, "frames": len(views), "conf": args.conf,
              "reference": {**reference_meta, "objects": sum(len(r) for r in reference)}, "runtimes": {}}
    print(f"{args.model}: {len(views)} frames, PyTorch ({reference_meta['precision']}) finds "
          f"{report['reference']['objects']} objects, inference {reference_meta['inference_ms_median']:.1f} ms")
    for backend in args.runtimes:
        results, meta = run(args.model, backend, views, options)
        summary = {**meta, **compare(reference, results), "groups": {}}
        for group in dict.fromkeys(groups):
            chosen = [i for i, g in enumerate(groups) if g == group]
            summary["groups"][group] = {"frames": len(chosen), **compare([reference[i] for i in chosen],
                                                                         [results[i] for i in chosen])}
        report["runtimes"][backend] = summary
        keypoints = (f", keypoints {summary['keypoint_px_median']:.1f} px median, {summary['keypoint_px_mean']:.1f} "
                     f"mean, {summary['keypoint_px_p95']:.1f} p95"
                     if "keypoint_px_mean" in summary else "")
        print(f"{backend:>14} ({meta['precision']}): found {summary['found']}, missed {summary['missed']}, "
              f"extra {summary['extra']}; IoU {summary['iou_mean']:.3f} mean ({summary['iou_min']:.2f} min)"
              f"{keypoints}; confidence ±{summary['confidence_diff_mean']:.3f}; "
              f"inference {meta['inference_ms_median']:.1f} ms")
        for group, part in summary["groups"].items():
            if "keypoint_px_mean" in part:
                print(f"{'':>16}{group} ({part['frames']} frames): found {part['found']}, missed {part['missed']}, "
                      f"extra {part['extra']}; keypoints {part['keypoint_px_median']:.1f} px median, "
                      f"{part['keypoint_px_mean']:.1f} mean, {part['keypoint_px_p95']:.1f} p95")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
