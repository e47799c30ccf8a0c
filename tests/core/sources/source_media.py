"""Small media files made on the fly for the source tests (imported by them as a helper module)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def level_frame(level: int, size_wh: tuple[int, int] = (64, 48)) -> np.ndarray:
    """A uniform BGR frame whose grey level identifies it after lossy compression."""
    return np.full((size_wh[1], size_wh[0], 3), level, dtype=np.uint8)


def write_mjpeg_clip(path: Path, count: int, fps: float = 25.0, size_wh: tuple[int, int] = (64, 48)) -> Path:
    """An AVI whose frame i has grey level 20*i (mod 256), so order survives decoding."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size_wh)
    assert writer.isOpened()
    for index in range(count):
        writer.write(level_frame((20 * index) % 256, size_wh))
    writer.release()
    return path


def decoded_level(image: np.ndarray) -> int:
    """Recover the grey level written by `level_frame` (JPEG moves it by a unit or two at most)."""
    return int(round(float(image.mean())))


def write_image(path: Path, image: np.ndarray) -> Path:
    ok, data = cv2.imencode(path.suffix, image)
    assert ok
    path.write_bytes(data.tobytes())
    return path
