"""Frozen, framework-free result types: one per kind of output.

Adapters build these from Ultralytics or torchvision output; everything downstream (render, pipeline, recorder,
CLI, GUI) sees only these. Arrays are made read-only on construction, so a result can cross threads safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Union

import numpy as np

from desktop_app.core.models.tasks import Task


@dataclass(frozen=True, slots=True)
class StageTimes:
    """Milliseconds spent in one model call, split the way Ultralytics reports it."""

    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms


def _frozen(array: np.ndarray, dtype, name: str, shape_hint: str) -> np.ndarray:
    try:
        out = np.ascontiguousarray(array, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be {shape_hint}, got {type(array).__name__}") from exc
    if out is array:
        out = out.copy()
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True)
class Classification:
    """Top-k classes of one frame, most probable first.

    `class_id` (k,) int64, `probability` (k,) float32 in [0, 1] sorted descending, `class_name` k strings.
    """

    frame_index: int
    timestamp_s: float
    class_id: np.ndarray
    probability: np.ndarray
    class_name: tuple[str, ...]
    timings: StageTimes = field(default_factory=StageTimes)
    task: ClassVar[Task] = Task.CLASSIFY

    def __post_init__(self) -> None:
        class_id = _frozen(self.class_id, np.int64, "class_id", "(k,)")
        probability = _frozen(self.probability, np.float32, "probability", "(k,)")
        if class_id.ndim != 1:
            raise ValueError(f"class_id must be (k,), got {class_id.shape}")
        if probability.shape != class_id.shape:
            raise ValueError(f"probability must be {class_id.shape}, got {probability.shape}")
        if len(self.class_name) != len(class_id):
            raise ValueError(f"class_name must have {len(class_id)} names, got {len(self.class_name)}")
        if len(probability) > 1 and np.any(np.diff(probability) > 1e-6):
            raise ValueError("probability must be sorted in descending order")
        object.__setattr__(self, "class_id", class_id)
        object.__setattr__(self, "probability", probability)
        object.__setattr__(self, "class_name", tuple(str(n) for n in self.class_name))

    def __len__(self) -> int:
        return len(self.class_id)

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return {
            "task": self.task.value,
            "frame_index": self.frame_index,
            "timestamp_s": self.timestamp_s,
            "top": [
                {"class_id": int(c), "class_name": n, "probability": float(p)}
                for c, n, p in zip(self.class_id, self.class_name, self.probability)
            ],
        }


@dataclass(frozen=True, slots=True)
class Detections:
    """Objects found in one frame: boxes, and optionally instance masks, keypoints and track ids.

    Coordinates are pixels of the original frame. `xyxy` (n, 4) float32; `confidence` (n,) float32;
    `class_id` (n,) int64; `class_name` n strings; `mask` (n, H, W) bool at frame resolution or None;
    `keypoints` (n, K, 3) float32 as (x, y, confidence) or None; `track_id` (n,) int64 or None.
    `task` says which head produced them (detect, segment or pose).
    """

    frame_index: int
    timestamp_s: float
    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    class_name: tuple[str, ...]
    task: Task = Task.DETECT
    mask: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    track_id: np.ndarray | None = None
    timings: StageTimes = field(default_factory=StageTimes)

    def __post_init__(self) -> None:
        xyxy = _frozen(self.xyxy, np.float32, "xyxy", "(n, 4)")
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise ValueError(f"xyxy must be (n, 4), got {xyxy.shape}")
        n = len(xyxy)
        confidence = _frozen(self.confidence, np.float32, "confidence", "(n,)")
        class_id = _frozen(self.class_id, np.int64, "class_id", "(n,)")
        for name, arr in (("confidence", confidence), ("class_id", class_id)):
            if arr.shape != (n,):
                raise ValueError(f"{name} must be ({n},), got {arr.shape}")
        if len(self.class_name) != n:
            raise ValueError(f"class_name must have {n} names, got {len(self.class_name)}")
        if self.task not in (Task.DETECT, Task.SEGMENT, Task.POSE):
            raise ValueError(f"Detections cannot carry task {self.task.value!r}")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", confidence)
        object.__setattr__(self, "class_id", class_id)
        object.__setattr__(self, "class_name", tuple(str(c) for c in self.class_name))
        if self.mask is not None:
            mask = _frozen(self.mask, np.bool_, "mask", "(n, H, W)")
            if mask.ndim != 3 or len(mask) != n:
                raise ValueError(f"mask must be ({n}, H, W), got {mask.shape}")
            object.__setattr__(self, "mask", mask)
        if self.keypoints is not None:
            keypoints = _frozen(self.keypoints, np.float32, "keypoints", "(n, K, 3)")
            if keypoints.ndim != 3 or len(keypoints) != n or keypoints.shape[2] not in (2, 3):
                raise ValueError(f"keypoints must be ({n}, K, 3), got {keypoints.shape}")
            object.__setattr__(self, "keypoints", keypoints)
        if self.track_id is not None:
            track_id = _frozen(self.track_id, np.int64, "track_id", "(n,)")
            if track_id.shape != (n,):
                raise ValueError(f"track_id must be ({n},), got {track_id.shape}")
            object.__setattr__(self, "track_id", track_id)

    def __len__(self) -> int:
        return len(self.xyxy)

    @classmethod
    def empty(cls, frame_index: int, timestamp_s: float, task: Task = Task.DETECT) -> "Detections":
        """No objects."""
        return cls(frame_index, timestamp_s, np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                   np.zeros(0, np.int64), (), task=task)

    def to_dict(self) -> dict:
        """Plain JSON-ready form (masks as pixel areas, not bitmaps)."""
        objects = []
        for i in range(len(self)):
            item = {
                "class_id": int(self.class_id[i]),
                "class_name": self.class_name[i],
                "confidence": float(self.confidence[i]),
                "xyxy": [float(v) for v in self.xyxy[i]],
            }
            if self.track_id is not None:
                item["track_id"] = int(self.track_id[i])
            if self.mask is not None:
                item["mask_area_px"] = int(self.mask[i].sum())
            if self.keypoints is not None:
                item["keypoints"] = self.keypoints[i].tolist()
            objects.append(item)
        return {"task": self.task.value, "frame_index": self.frame_index, "timestamp_s": self.timestamp_s,
                "objects": objects}


TaskResult = Union[Classification, Detections]
