"""Framework-free output post-processing shared by the adapters: top-k classification with a class filter, and
instance masks mapped from the network's letterboxed input back onto the frame.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import cv2
import numpy as np

from desktop_app.core.frames import Frame
from desktop_app.core.models.results import Classification, StageTimes


def top_k_classification(probability: np.ndarray, names: Mapping[int, str], frame: Frame, top_k: int,
                         classes: Sequence[int] | None = None,
                         timings: StageTimes | None = None) -> Classification:
    """The `top_k` most probable classes of a (C,) probability vector, restricted to `classes` when given.

    Probabilities are not renormalised after filtering: a filtered class keeps the probability the model gave it.
    """
    probability = np.asarray(probability, dtype=np.float32).ravel()
    candidates = np.arange(len(probability))
    if classes is not None:
        wanted = np.asarray(sorted(set(classes)), dtype=np.int64)
        candidates = wanted[(wanted >= 0) & (wanted < len(probability))]
    k = min(top_k, len(candidates))
    if k == 0:
        class_id = np.zeros(0, np.int64)
    else:
        scores = probability[candidates]
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        class_id = candidates[best]
    return Classification(
        frame_index=frame.frame_index, timestamp_s=frame.timestamp_s, class_id=class_id,
        probability=probability[class_id], class_name=tuple(names.get(int(c), str(int(c))) for c in class_id),
        timings=timings or StageTimes(),
    )


def letterbox_geometry(input_hw: tuple[int, int], frame_hw: tuple[int, int]) -> tuple[float, float, int, int]:
    """(scale_x, scale_y, pad_left, pad_top) of the Ultralytics letterbox that turned a frame of `frame_hw`
    into a network input of `input_hw` (same rounding as Ultralytics, so masks land on the right pixels)."""
    h, w = input_hw
    frame_h, frame_w = frame_hw
    ratio = min(h / frame_h, w / frame_w)
    unpad_w, unpad_h = max(round(frame_w * ratio), 1), max(round(frame_h * ratio), 1)
    pad_left = round((w - unpad_w) / 2 - 0.1)
    pad_top = round((h - unpad_h) / 2 - 0.1)
    return unpad_w / frame_w, unpad_h / frame_h, pad_left, pad_top


def masks_to_frame(masks: np.ndarray, xyxy: np.ndarray, frame_hw: tuple[int, int]) -> np.ndarray:
    """Map (n, h, w) instance masks at letterboxed input resolution to (n, H, W) bool masks on the frame.

    Only each object's box is resampled (bilinear, so edges are smooth rather than blocky): the masks are zero
    outside their boxes anyway, and small objects then cost almost nothing. `masks` is uint8 0/255 or bool.
    """
    frame_h, frame_w = frame_hw
    n = len(masks)
    out = np.zeros((n, frame_h, frame_w), dtype=bool)
    if n == 0:
        return out
    if masks.dtype != np.uint8:
        masks = masks.astype(np.uint8) * 255
    scale_x, scale_y, pad_left, pad_top = letterbox_geometry(masks.shape[1:], frame_hw)
    boxes = np.asarray(xyxy, dtype=np.float64)
    x1s = np.clip(np.floor(boxes[:, 0]), 0, frame_w).astype(int)
    y1s = np.clip(np.floor(boxes[:, 1]), 0, frame_h).astype(int)
    x2s = np.clip(np.ceil(boxes[:, 2]), 0, frame_w).astype(int)
    y2s = np.clip(np.ceil(boxes[:, 3]), 0, frame_h).astype(int)
    for i in range(n):
        x1, y1, x2, y2 = x1s[i], y1s[i], x2s[i], y2s[i]
        if x2 <= x1 or y2 <= y1:
            continue
        # Inverse map, frame pixel (x1 + u, y1 + v) -> input pixel, with pixel centres aligned as cv2.resize does.
        inverse = np.array([
            [scale_x, 0.0, scale_x * (x1 + 0.5) + pad_left - 0.5],
            [0.0, scale_y, scale_y * (y1 + 0.5) + pad_top - 0.5],
        ])
        region = cv2.warpAffine(masks[i], inverse, (int(x2 - x1), int(y2 - y1)),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
        np.greater(region, 127, out=out[i, y1:y2, x1:x2])
    return out
