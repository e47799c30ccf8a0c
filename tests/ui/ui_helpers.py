"""Helpers shared by the UI tests: fast pane specs and waits on the real window."""

from __future__ import annotations

import threading

import numpy as np

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import PaneSpec
from desktop_app.core.sources.base import FrameSource

# Small input size keeps CPU inference quick; the models are the real offline ones.
FAST = PredictOptions(imgsz=320)
FAST_PANES = (
    PaneSpec("pose", "yolo11n-pose", FAST),
    PaneSpec("classify", "efficientnet-lite0", FAST),
    PaneSpec("detect", "yolo11n.yaml", FAST),
    PaneSpec("segment", "yolo11n-seg.yaml", FAST),
)
MODEL_TIMEOUT_MS = 90_000


def wait_for_model(qtbot, window, index: int, model: str, timeout_ms: int = MODEL_TIMEOUT_MS) -> None:
    """Wait until pane `index` runs `model` (its label names it)."""
    qtbot.waitUntil(lambda: window.session.pane_info[index] is not None
                    and model in window.session.pane_info[index].label, timeout=timeout_ms)


def wait_for_frames(qtbot, window, count: int, timeout_ms: int = 30_000) -> None:
    """Wait until `count` more processed frames have been put on screen."""
    target = window.frames_shown + count
    qtbot.waitUntil(lambda: window.frames_shown >= target, timeout=timeout_ms)


def last_output(window):
    """The FrameOutput of the frame on screen."""
    item = window.frame_view.current_tag
    assert item is not None, "no frame on screen yet"
    return item.output


class FlakyCamera(FrameSource):
    """A live source that can be unplugged (`gone.set()`) and plugged back in (`gone.clear()`)."""

    is_live = True
    fps = 30.0

    def __init__(self) -> None:
        super().__init__("flaky camera")
        self.gone = threading.Event()
        self._index = 0
        self._clock = threading.Event()

    def _open(self) -> None:
        if self.gone.is_set():
            raise SourceError("flaky camera: no such device")
        self.resolution_wh = (320, 240)

    def _read(self) -> Frame | None:
        self._clock.wait(1 / self.fps)
        if self.gone.is_set():
            raise SourceError("flaky camera: device disconnected")
        self._index += 1
        return Frame(np.full((240, 320, 3), self._index % 255, np.uint8), self._index, self._index / self.fps)

    def _close(self) -> None:
        pass
