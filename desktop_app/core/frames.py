"""The frame type every source produces and every consumer reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured image.

    `image` is (H, W, 3) uint8, BGR, C-contiguous. `frame_index` counts from 0 per source; `timestamp_s` is the
    capture time in seconds on the source's clock: the presentation time for files, seconds since the source
    opened for live sources. Consumers use both to drop stale data and to time recordings. Nobody writes into
    `image` once the frame is made: a frame is drawn while the next one is captured and inferred, and its resized
    copy for display is cached (`render.canvas.canvas_at`).
    """

    image: np.ndarray
    frame_index: int
    timestamp_s: float

    def __post_init__(self) -> None:
        image = self.image
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
            shape = getattr(image, "shape", None)
            raise ValueError(f"Frame.image must be an (H, W, 3) array, got shape {shape}")
        if image.dtype != np.uint8:
            raise ValueError(f"Frame.image must be uint8, got {image.dtype}")
        if self.frame_index < 0:
            raise ValueError(f"frame_index must be >= 0, got {self.frame_index}")

    @property
    def resolution_wh(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])
