"""Webcams through OpenCV: enumeration and capture at a requested resolution and frame rate."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2

from desktop_app.core.errors import SourceError
from desktop_app.core.sources.opencv_capture import OpenCVLiveSource, plausible_fps, quiet_opencv

log = logging.getLogger(__name__)

#: Resolutions offered in a camera's settings; the driver picks the nearest one it supports.
COMMON_RESOLUTIONS_WH = ((640, 480), (1280, 720), (1920, 1080), (3840, 2160))
#: Frame rates offered in a camera's settings.
COMMON_FPS = (15.0, 30.0, 60.0)


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """A camera found by `list_cameras`: its index, a readable name and its default mode."""

    index: int
    name: str
    resolution_wh: tuple[int, int]
    fps: float | None
    backend: str

    @property
    def spec(self) -> str:
        """The `open_source` spec that opens this camera."""
        return f"camera:{self.index}"


def default_camera_api() -> int:
    """The OpenCV capture backend that opens cameras fastest on this OS."""
    if sys.platform.startswith("linux"):
        return cv2.CAP_V4L2
    if sys.platform == "win32":
        # DirectShow opens in a fraction of Media Foundation's time and reports resolutions reliably.
        return cv2.CAP_DSHOW
    if sys.platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


class CameraSource(OpenCVLiveSource):
    """A camera by index. `resolution_wh`, `fps` and `fourcc` are requests: the driver may pick the nearest
    supported mode, and `resolution_wh` / `fps` hold what was actually granted after `open()`."""

    def __init__(
        self,
        index: int = 0,
        *,
        resolution_wh: tuple[int, int] | None = None,
        fps: float | None = None,
        fourcc: str | None = None,
        api_preference: int | None = None,
    ) -> None:
        if index < 0:
            raise ValueError(f"camera index must be >= 0, got {index}")
        super().__init__(f"camera {index}")
        self.index = index
        self.requested_resolution_wh = resolution_wh
        self.requested_fps = fps
        self.fourcc = fourcc
        self.api_preference = default_camera_api() if api_preference is None else api_preference

    def _create_capture(self) -> cv2.VideoCapture:
        if sys.platform.startswith("linux") and not Path(f"/dev/video{self.index}").exists():
            raise SourceError(f"No camera at index {self.index}: /dev/video{self.index} does not exist")
        capture = cv2.VideoCapture(self.index, self.api_preference)
        if not capture.isOpened():
            capture.release()
            raise SourceError(
                f"No camera at index {self.index}: it does not exist or another application is using it"
            )
        return capture

    def _configure(self, capture: cv2.VideoCapture) -> None:
        # MJPG must be chosen before the resolution: many USB cameras only reach 720p30+ compressed.
        if self.fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self.fourcc[:4].ljust(4)))
        if self.requested_resolution_wh:
            width, height = self.requested_resolution_wh
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, float(width))
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, float(height))
        if self.requested_fps:
            capture.set(cv2.CAP_PROP_FPS, float(self.requested_fps))

    def _open(self) -> None:
        super()._open()
        if self.requested_resolution_wh and self.resolution_wh != tuple(self.requested_resolution_wh):
            log.info("%s: asked for %s, the driver gave %s", self.name, self.requested_resolution_wh,
                     self.resolution_wh)


def list_cameras(max_index: int = 8) -> list[CameraInfo]:
    """Probe camera indices 0..max_index-1 and describe those that open. Quiet and fast when none exist."""
    api = default_camera_api()
    indices = range(max(0, max_index))
    if sys.platform.startswith("linux"):
        # Opening a missing index still costs a syscall dance per backend; the device node tells us for free.
        indices = [i for i in indices if Path(f"/dev/video{i}").exists()]
    found: list[CameraInfo] = []
    with quiet_opencv():
        for index in indices:
            capture = cv2.VideoCapture(index, api)
            try:
                if not capture.isOpened():
                    continue
                width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
                height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
                if width <= 0 or height <= 0:
                    continue
                found.append(
                    CameraInfo(
                        index=index,
                        name=_camera_name(index),
                        resolution_wh=(width, height),
                        fps=plausible_fps(capture.get(cv2.CAP_PROP_FPS)),
                        backend=capture.getBackendName(),
                    )
                )
            except cv2.error as error:
                log.debug("camera %d: probe failed (%s)", index, error)
            finally:
                capture.release()
    return found


def _camera_name(index: int) -> str:
    """The device's own name where the OS exposes it cheaply (Linux sysfs), else 'Camera N'."""
    if sys.platform.startswith("linux"):
        try:
            name = Path(f"/sys/class/video4linux/video{index}/name").read_text().strip()
        except OSError:
            name = ""
        if name:
            return f"{name} ({index})"
    return f"Camera {index}"
