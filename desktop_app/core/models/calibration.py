"""Calibration images for INT8 exports: real photographs, made once and kept beside the exports.

INT8 quantisation measures the range of every activation on sample inputs. CNN Lens has no dataset to hand and
must work offline, so it uses its built-in sample source: slow pans and zooms over the real photographs that ship
with Ultralytics (people, a bus, a street), 64 views spread over its whole cycle, saved as JPEGs with an
Ultralytics dataset file that points at them.
No labels are needed: calibration only runs the model forward.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

log = logging.getLogger(__name__)

CALIBRATION_IMAGES = 64
TASKS = ("detect", "segment", "pose")
#: Names this calibration set: part of every INT8 export's cache key, so a change of set re-exports.
CALIBRATION_ID = "cycle64"
# The sample's full cycle is 36 s (two photos, three camera moves, 6 s each): frames are taken across all of it, so
# every photo at near and far zooms sets the activation ranges. Odd indices (odd start, even stride), so the
# even-indexed views that benchmarks/compare_runtimes.py holds out are never among them.
_FIRST_INDEX, _STRIDE = 17, 16  # 64 frames, the last at 34 s


def calibration_dir() -> Path:
    from desktop_app.core.models.exports import exports_dir

    return exports_dir() / "calibration"


def calibration_frame_indices(count: int = CALIBRATION_IMAGES) -> tuple[int, ...]:
    """The sample-source frames (30 FPS indices) the calibration images are."""
    return tuple(range(_FIRST_INDEX, _FIRST_INDEX + count * _STRIDE, _STRIDE))


def calibration_images(count: int = CALIBRATION_IMAGES) -> Path:
    """The folder of calibration JPEGs (rendered on first use from the sample source, spread over its cycle)."""
    import cv2

    from desktop_app.core.sources.sample import SampleSource

    folder = calibration_dir() / f"images-{CALIBRATION_ID}"
    if len(list(folder.glob("*.jpg"))) >= count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    source = SampleSource(duration_s=(calibration_frame_indices(count)[-1] + 1) / 30.0, fps=30.0)
    for written, index in enumerate(calibration_frame_indices(count)):
        cv2.imwrite(str(folder / f"sample-{written:03d}.jpg"), source.render(index), [cv2.IMWRITE_JPEG_QUALITY, 92])
    log.info("wrote %d calibration images to %s", count, folder)
    return folder


def calibration_dataset(task: str, names: Mapping[int, str], kpt_shape: Sequence[int] | None = None) -> Path:
    """An Ultralytics dataset file for calibrating a `task` model with these class names."""
    import yaml

    if task not in TASKS:
        raise ValueError(f"INT8 calibration is for {', '.join(TASKS)} models, not {task}")
    images = calibration_images()
    data = {"path": str(images.parent), "train": images.name, "val": images.name,
            "names": {int(k): str(v) for k, v in names.items()}}
    if task == "pose":
        data["kpt_shape"] = [int(v) for v in (kpt_shape or (17, 3))]
    path = calibration_dir() / f"{task}-{len(names)}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
