"""Shared machinery for live sources read through `cv2.VideoCapture` (cameras and network streams)."""

from __future__ import annotations

import contextlib
import threading
import time
from abc import abstractmethod
from typing import Iterator

import cv2
import numpy as np

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.sources.base import FrameSource
from desktop_app.core.sources.images import to_bgr_uint8

_LOG_LEVEL_LOCK = threading.Lock()
_quiet_depth = 0
_saved_log_level: int | None = None

# Some streams report their clock rate (90000) as a frame rate; anything above this is not a real rate.
_MAX_PLAUSIBLE_FPS = 1000.0


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own stderr warnings (failed probes print several lines each) for the block."""
    global _quiet_depth, _saved_log_level
    with _LOG_LEVEL_LOCK:
        if _quiet_depth == 0:
            _saved_log_level = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _LOG_LEVEL_LOCK:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _saved_log_level is not None:
                cv2.utils.logging.setLogLevel(_saved_log_level)


def plausible_fps(value: float) -> float | None:
    """A capture's reported frame rate, or None when it reports nothing useful."""
    return float(value) if 0 < value <= _MAX_PLAUSIBLE_FPS and value == value else None


class OpenCVLiveSource(FrameSource):
    """A live source over `cv2.VideoCapture`. Timestamps are `time.monotonic()` seconds since `open()`.

    The first frame is read during `open()`, so a device that opens but never delivers is reported there.
    A failed read later raises `SourceError` (the device went away) so a `CaptureThread` can reconnect.
    """

    is_live = True
    drain_when_paused = True

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._capture: cv2.VideoCapture | None = None
        self._pending: np.ndarray | None = None
        self._next_index = 0
        self._clock_origin = 0.0

    @abstractmethod
    def _create_capture(self) -> cv2.VideoCapture:
        """Open the device; return a capture that `isOpened()` or raise `SourceError`."""

    def _configure(self, capture: cv2.VideoCapture) -> None:
        """Apply requested settings after opening (resolution, rate); default: nothing."""

    def _open(self) -> None:
        with quiet_opencv():
            capture = self._create_capture()
            try:
                self._configure(capture)
                ok, image = capture.read()
            except cv2.error as error:
                capture.release()
                raise SourceError(f"{self.name}: the device failed while starting ({error.err or error})") from error
        if not ok or image is None:
            capture.release()
            raise SourceError(f"{self.name} opened but delivered no frame (in use by another application?)")
        self._capture = capture
        self._pending = image
        self._next_index = 0
        self._clock_origin = time.monotonic()
        height, width = image.shape[:2]
        self.resolution_wh = (width, height)
        self.fps = plausible_fps(capture.get(cv2.CAP_PROP_FPS))

    def _read(self) -> Frame | None:
        assert self._capture is not None
        if self._pending is not None:
            image, self._pending = self._pending, None
        else:
            try:
                ok, image = self._capture.read()
            except cv2.error as error:
                raise SourceError(f"{self.name} failed while reading ({error.err or error})") from error
            if not ok or image is None:
                raise SourceError(f"{self.name} stopped delivering frames (disconnected or in use)")
        index = self._next_index
        self._next_index += 1
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            image = to_bgr_uint8(image)
        return Frame(np.ascontiguousarray(image), index, time.monotonic() - self._clock_origin)

    def _close(self) -> None:
        self._pending = None
        if self._capture is not None:
            self._capture.release()
            self._capture = None
