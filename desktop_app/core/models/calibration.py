"""Calibration images for INT8 exports: real photographs, made once and kept beside the exports.

INT8 quantisation measures the range of every activation on sample inputs. CNN Lens has no dataset to hand and
must work offline, so it uses its built-in sample source: slow pans and zooms over the real photographs that ship
with Ultralytics (people, a bus, a street), saved as JPEGs with an Ultralytics dataset file that points at them.
No labels are needed: calibration only runs the model forward.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

log = logging.getLogger(__name__)

CALIBRATION_IMAGES = 32
TASKS = ("detect", "segment", "pose")


def calibration_dir() -> Path:
    from desktop_app.core.models.exports import exports_dir

    return exports_dir() / "calibration"


def calibration_images(count: int = CALIBRATION_IMAGES) -> Path:
    """The folder of calibration JPEGs (written on first use, every third frame of the sample source)."""
    import cv2

    from desktop_app.core.sources import open_source

    folder = calibration_dir() / "images"
    if len(list(folder.glob("*.jpg"))) >= count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with open_source("sample", duration_s=3 * count / 30.0 + 1.0) as source:
        index = 0
        while written < count and (frame := source.read()) is not None:
            if index % 3 == 0:
                cv2.imwrite(str(folder / f"sample-{written:03d}.jpg"), frame.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
                written += 1
            index += 1
    log.info("wrote %d calibration images to %s", written, folder)
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
