"""Shared drawing plumbing: input checks, the per-frame copy, and translucent rectangles clipped to the frame."""

from __future__ import annotations

import threading
from collections import deque

import cv2
import numpy as np

from desktop_app.core.render.colors import BGR
from desktop_app.core.render.style import Corner


def check_image(image: np.ndarray, name: str = "image") -> None:
    """Raise ValueError unless `image` is an (H, W, 3) uint8 BGR array."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{name} must be an (H, W, 3) uint8 numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{name} must be an (H, W, 3) uint8 BGR array, got {image.shape} {image.dtype}")


def new_canvas(image: np.ndarray) -> np.ndarray:
    """The one copy per frame that renderers draw on, so the caller's frame is never modified."""
    check_image(image)
    return np.array(image, dtype=np.uint8, order="C", copy=True)


def resize_for_display(image: np.ndarray, size_wh: tuple[int, int], dst: np.ndarray | None = None) -> np.ndarray:
    """`image` resized to `size_wh` (into `dst` when given): linear, or area averaging below half size, where
    linear would alias (area costs ~10x more per pixel)."""
    heavy_shrink = size_wh[0] * 2 < image.shape[1]
    return cv2.resize(image, (int(size_wh[0]), int(size_wh[1])), dst=dst,
                      interpolation=cv2.INTER_AREA if heavy_shrink else cv2.INTER_LINEAR)


class _RecentResizes:
    """The last few frames resized for display, so the panes that show one frame at one size (2 or 4 panes of a
    layout) resize it once. Holding each source frame keeps its identity from being reused while cached."""

    def __init__(self, capacity: int = 4) -> None:
        self._lock = threading.Lock()
        self._entries: deque[tuple[np.ndarray, tuple[int, int], np.ndarray]] = deque(maxlen=capacity)

    def get(self, image: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
        with self._lock:  # panes drawing side by side wait for the one resize instead of each doing it
            for source, size, resized in self._entries:
                if source is image and size == size_wh:
                    return resized
            resized = resize_for_display(image, size_wh)
            resized.setflags(write=False)
            self._entries.append((image, size_wh, resized))
            return resized


_recent_resizes = _RecentResizes()


def shown_frame(image: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """`image` resized to `size_wh` for display, read-only and shared: each frame is resized once per size,
    however many panes draw on it."""
    check_image(image)
    return _recent_resizes.get(image, (int(size_wh[0]), int(size_wh[1])))


def canvas_at(image: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """A new canvas to draw on: `image` resized to `size_wh` (see `shown_frame`), a copy of its own."""
    return np.array(shown_frame(image, size_wh), order="C", copy=True)


def clip_rect(x0: int, y0: int, x1: int, y1: int, width: int, height: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) half-open, clipped to a width x height frame; None when nothing is left."""
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(width, int(x1)), min(height, int(y1))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def fill_into(view: np.ndarray, color: BGR) -> None:
    """Fill a (H, W, 3) view with one colour, in place. cv2 does this ~30x faster than numpy's broadcast."""
    if view.size:
        cv2.rectangle(view, (0, 0), (view.shape[1] - 1, view.shape[0] - 1), tuple(int(c) for c in color), -1)


def blend_rect_into(canvas: np.ndarray, x0: int, y0: int, x1: int, y1: int, color: BGR, alpha: float) -> None:
    """Cover the half-open rectangle with `color` at opacity `alpha`, in place, touching only that region."""
    clipped = clip_rect(x0, y0, x1, y1, canvas.shape[1], canvas.shape[0])
    if clipped is None:
        return
    x0, y0, x1, y1 = clipped
    roi = canvas[y0:y1, x0:x1]
    if alpha >= 1.0:
        fill_into(roi, color)
        return
    solid = np.empty_like(roi)
    fill_into(solid, color)
    cv2.addWeighted(roi, 1.0 - alpha, solid, alpha, 0.0, dst=roi)


def corner_origin(corner: Corner, size_wh: tuple[int, int], frame_wh: tuple[int, int], margin: int) -> tuple[int, int]:
    """Top-left corner of a box of `size_wh` placed `margin` pixels from the given corner of the frame."""
    (w, h), (fw, fh) = size_wh, frame_wh
    x = margin if corner in (Corner.TOP_LEFT, Corner.BOTTOM_LEFT) else fw - margin - w
    y = margin if corner in (Corner.TOP_LEFT, Corner.TOP_RIGHT) else fh - margin - h
    return max(0, x), max(0, y)
